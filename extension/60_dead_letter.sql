-- Dead letters: events a subscriber gave up on. Replay hands an event back
-- to that subscriber only (ev_owner), with its original id and a fresh
-- retry count, so other subscribers do not see it twice.

create or replace function pgque.dlq_inspect(queue text, limit_count int default 100)
returns setof pgque.dead_letter
    language plpgsql stable security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_queue int4 := pgque._queue_id(queue);
begin
    if limit_count is null or limit_count < 0 then
        raise exception 'limit_count must be a non-negative number, got %',
                        coalesce(limit_count::text, 'null')
            using errcode = 'invalid_parameter_value';
    end if;
    perform pgque._check_access(v_queue, 'consume');
    -- on a restricted queue, only the dead letters of subscriptions the
    -- caller may use (all of them for pgque_admin)
    return query
        select dl.* from pgque.dead_letter dl
         where dl.dl_queue_id = v_queue
           and (not exists (select from pgque.queue q where q.queue_id = v_queue and q.queue_restricted)
                or pg_has_role(pgque._caller(), 'pgque_admin', 'USAGE')
                or exists (select from pgque.subscriber s
                            where s.sub_queue = v_queue and s.sub_consumer = dl.dl_consumer_id
                              and (s.sub_owner is null or pg_has_role(pgque._caller(), s.sub_owner, 'USAGE'))))
         order by dl.dl_time desc, dl.dl_id desc
         limit limit_count;
end
$$;

create or replace function pgque.dlq_replay(dead_letter_id bigint) returns bigint
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    dl      record;
    v_sub   int4;
    v_ev    bigint;
begin
    if dead_letter_id is null then
        raise exception 'dead_letter_id must not be null' using errcode = 'invalid_parameter_value';
    end if;
    select d.* into dl from pgque.dead_letter d where d.dl_id = dead_letter_id for update;
    if not found then
        raise exception 'dead letter % does not exist', dead_letter_id
            using errcode = 'undefined_object', schema = 'pgque', table = 'dead_letter';
    end if;
    select s.sub_id into v_sub from pgque.subscriber s
     where s.sub_queue = dl.dl_queue_id and s.sub_consumer = dl.dl_consumer_id;
    if not found then
        raise exception 'consumer "%" of dead letter % is not subscribed to queue "%"',
                        (select co_name from pgque.consumer where co_id = dl.dl_consumer_id),
                        dead_letter_id,
                        (select queue_name from pgque.queue where queue_id = dl.dl_queue_id)
            using errcode = 'object_not_in_prerequisite_state', schema = 'pgque', table = 'consumer',
                  hint = 'Subscribe the consumer again, or remove the entry with pgque.dlq_purge().';
    end if;
    perform pgque._check_access(dl.dl_queue_id, 'consume', v_sub);
    v_ev := pgque._insert_event_raw(dl.dl_queue_id, dl.ev_id, dl.ev_time, v_sub, null,
                                    dl.ev_type, dl.ev_data,
                                    dl.ev_extra1, dl.ev_extra2, dl.ev_extra3, dl.ev_extra4);
    delete from pgque.dead_letter d where d.dl_id = dead_letter_id;
    return v_ev;
end
$$;

create or replace function pgque.dlq_replay_all(queue text,
    out replayed bigint, out failed bigint, out first_error text)
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_queue int4 := pgque._queue_id(queue);
    v_id    bigint;
begin
    replayed := 0;
    failed := 0;
    for v_id in select dl.dl_id from pgque.dead_letter dl
                 where dl.dl_queue_id = v_queue order by dl.dl_id
    loop
        begin
            perform pgque.dlq_replay(v_id);
            replayed := replayed + 1;
        exception when others then
            failed := failed + 1;
            if first_error is null then
                first_error := format('dead letter %s: %s', v_id, sqlerrm);
            end if;
        end;
    end loop;
end
$$;

create or replace function pgque.dlq_purge(queue text, older_than interval default '30 days')
returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_queue int4 := pgque._queue_id(queue);
    v_cnt   integer;
begin
    if older_than is null or older_than < interval '0' then
        raise exception 'older_than must be a non-negative interval, got %',
                        coalesce(older_than::text, 'null')
            using errcode = 'invalid_parameter_value';
    end if;
    delete from pgque.dead_letter dl
     where dl.dl_queue_id = v_queue and dl.dl_time <= now() - older_than;
    get diagnostics v_cnt = row_count;
    return v_cnt;
end
$$;
