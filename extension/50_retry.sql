-- Retries: nack / event_retry / batch_retry schedule a copy of an event for
-- the nacking subscriber only; maint_retry_events() moves every due copy back
-- into the queue, owned by that subscriber, with ev_retry + 1.

-- Schedule one event of an open batch for redelivery at retry_time.
-- 1 when scheduled, 0 when it already was.
create or replace function pgque.event_retry(batch_id bigint, event_id bigint, retry_time timestamptz)
returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    b   record;
    ev  record;
begin
    if retry_time is null then
        raise exception 'retry_time must not be null' using errcode = 'invalid_parameter_value';
    end if;
    b := pgque._open_batch(batch_id);
    select * into ev from pgque._batch_event(batch_id, event_id);
    if not found then
        raise exception 'event % is not in batch %', event_id, batch_id
            using errcode = 'undefined_object', schema = 'pgque', table = 'event';
    end if;
    insert into pgque.retry_queue (ev_retry_after, ev_queue, ev_id, ev_time, ev_txid, ev_owner,
                                   ev_retry, ev_type, ev_data,
                                   ev_extra1, ev_extra2, ev_extra3, ev_extra4)
    values (retry_time, b.queue_id, ev.ev_id, ev.ev_time, null, b.sub_id,
            coalesce(ev.ev_retry, 0) + 1, ev.ev_type, ev.ev_data,
            ev.ev_extra1, ev.ev_extra2, ev.ev_extra3, ev.ev_extra4)
    on conflict do nothing;
    if found then
        perform pgque._note_retries();
        return 1;
    end if;
    return 0;
end
$$;

create or replace function pgque.event_retry(batch_id bigint, event_id bigint, retry_seconds integer)
returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
begin
    if retry_seconds is null or retry_seconds < 0 then
        raise exception 'retry_seconds must be a non-negative number, got %',
                        coalesce(retry_seconds::text, 'null')
            using errcode = 'invalid_parameter_value';
    end if;
    return pgque.event_retry(batch_id, event_id, now() + make_interval(secs => retry_seconds));
end
$$;

-- Schedule every remaining event of an open batch for redelivery.
-- Returns how many were newly scheduled.
create or replace function pgque.batch_retry(batch_id bigint, retry_seconds integer) returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    b       record;
    v_cnt   integer;
begin
    if retry_seconds is null or retry_seconds < 0 then
        raise exception 'retry_seconds must be a non-negative number, got %',
                        coalesce(retry_seconds::text, 'null')
            using errcode = 'invalid_parameter_value';
    end if;
    b := pgque._open_batch(batch_id);
    insert into pgque.retry_queue (ev_retry_after, ev_queue, ev_id, ev_time, ev_txid, ev_owner,
                                   ev_retry, ev_type, ev_data,
                                   ev_extra1, ev_extra2, ev_extra3, ev_extra4)
    select now() + make_interval(secs => retry_seconds), b.queue_id, e.ev_id, e.ev_time, null,
           b.sub_id, coalesce(e.ev_retry, 0) + 1, e.ev_type, e.ev_data,
           e.ev_extra1, e.ev_extra2, e.ev_extra3, e.ev_extra4
      from pgque.get_batch_events(batch_id) e
    on conflict do nothing;
    get diagnostics v_cnt = row_count;
    perform pgque._note_retries();
    return v_cnt;
end
$$;

-- The queue's retry policy: how long the retry_count-th retry (0 = the
-- first) of an event waits. fixed: retry_delay; exponential: retry_delay x
-- 2^retry_count, at most retry_max_delay (or retry_delay, if larger); then
-- minus up to retry_jitter of it, at random.
create or replace function pgque._retry_delay(queue_id int4, retry_count int4) returns interval
    language sql volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
    select make_interval(secs =>
               case when q.queue_retry_backoff = 'exponential'
                    then least(extract(epoch from q.queue_retry_delay)
                                   * power(2::float8, least(greatest(coalesce(retry_count, 0), 0), 60)),
                               extract(epoch from greatest(q.queue_retry_max_delay, q.queue_retry_delay)))
                    else extract(epoch from q.queue_retry_delay) end
               * (1 - q.queue_retry_jitter * random()))
      from pgque.queue q
     where q.queue_id = _retry_delay.queue_id
$$;

-- What a negative acknowledgement does to an event of queue_id (a queue or
-- a lane) that has had retry_count retries: 'retry' at retry_at (now() +
-- retry_after, NULL: the queue's retry policy); 'dead' once it has had
-- max_retries retries (dead_reason: the given reason, or 'max retries
-- exceeded') or when the retry would come after its message_ttl ('expired');
-- 'dropped' for the latter with expired_action drop. nack and nack_message
-- (47_lease.sql) decide by it.
create or replace function pgque._retry_verdict(queue_id int4, retry_count int4, ev_time timestamptz,
    retry_after interval, reason text,
    out outcome text, out retry_at timestamptz, out dead_reason text)
    language plpgsql stable security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    q   record;
begin
    select qq.queue_max_retries, qq.queue_message_ttl, qq.queue_expired_action into q
      from pgque.queue qq where qq.queue_id = _retry_verdict.queue_id;
    retry_at := now() + coalesce(retry_after, pgque._retry_delay(_retry_verdict.queue_id, retry_count));
    outcome := 'retry';
    if coalesce(retry_count, 0) >= q.queue_max_retries then
        outcome := 'dead';
        dead_reason := coalesce(reason, 'max retries exceeded');
    elsif retry_at >= ev_time + q.queue_message_ttl then
        outcome := case when q.queue_expired_action = 'drop' then 'dropped' else 'dead' end;
        dead_reason := 'expired';
    end if;
end
$$;

-- An event into the dead letters of its queue (a lane's under its queue,
-- 22_lanes.sql) for consumer_id; nothing if it is there already.
create or replace function pgque._to_dead_letter(queue_id int4, consumer_id int4, reason text,
    ev_id bigint, ev_time timestamptz, ev_txid xid8, ev_retry int4, ev_type text, ev_data text,
    ev_extra1 text, ev_extra2 text, ev_extra3 text, ev_extra4 text)
returns void
    language sql volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
    insert into pgque.dead_letter (dl_queue_id, dl_consumer_id, dl_reason,
                                   ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data,
                                   ev_extra1, ev_extra2, ev_extra3, ev_extra4)
    select coalesce(q.queue_lane_of, q.queue_id), consumer_id, reason,
           ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data,
           ev_extra1, ev_extra2, ev_extra3, ev_extra4
      from pgque.queue q where q.queue_id = _to_dead_letter.queue_id
    on conflict do nothing
$$;

-- Negative acknowledgement of one message of an open batch: retry it after
-- retry_after (NULL: as the queue's retry policy says), or, once it has
-- been retried max_retries times, move it to the dead-letter table with the
-- reason. A retry that would come after the event's message_ttl is not
-- scheduled: the event expires now (dead letter 'expired', or dropped).
-- Only msg.msg_id is trusted; the event is re-read from the batch. Does
-- not finish the batch.
create or replace function pgque.nack(batch_id bigint, msg pgque.message,
                           retry_after interval default null, reason text default null)
returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    b           record;
    ev          record;
    v           record;
begin
    if msg is null or msg.msg_id is null then
        raise exception 'msg must be a message with a msg_id' using errcode = 'invalid_parameter_value';
    end if;
    if retry_after < interval '0' then
        raise exception 'retry_after must be a non-negative interval, got %', retry_after
            using errcode = 'invalid_parameter_value',
                  hint = 'Pass NULL to use the queue''s retry policy.';
    end if;
    b := pgque._open_batch(batch_id);
    select * into ev from pgque._batch_event(batch_id, msg.msg_id);
    if not found then
        raise exception 'message % is not in batch %', msg.msg_id, batch_id
            using errcode = 'undefined_object', schema = 'pgque', table = 'event';
    end if;
    v := pgque._retry_verdict(b.queue_id, ev.ev_retry, ev.ev_time, retry_after, reason);
    if v.outcome = 'dead' then
        perform pgque._to_dead_letter(b.queue_id, b.consumer_id, v.dead_reason,
                                      ev.ev_id, ev.ev_time, ev.ev_txid, ev.ev_retry, ev.ev_type, ev.ev_data,
                                      ev.ev_extra1, ev.ev_extra2, ev.ev_extra3, ev.ev_extra4);
    elsif v.outcome = 'retry' then
        insert into pgque.retry_queue (ev_retry_after, ev_queue, ev_id, ev_time, ev_txid, ev_owner,
                                       ev_retry, ev_type, ev_data,
                                       ev_extra1, ev_extra2, ev_extra3, ev_extra4)
        values (v.retry_at, b.queue_id, ev.ev_id, ev.ev_time, null, b.sub_id,
                coalesce(ev.ev_retry, 0) + 1, ev.ev_type, ev.ev_data,
                ev.ev_extra1, ev.ev_extra2, ev.ev_extra3, ev.ev_extra4)
        on conflict do nothing;
        perform pgque._note_retries();
    end if;
    return 1;
end
$$;

-- Move every due retry back into its queue, and every due delayed event
-- into its queue (55_delay.sql). Returns how many moved. Concurrent
-- callers do not duplicate: each retry row is deleted exactly once, each
-- delayed event moved under its bucket's lock. A lease (47_lease.sql)
-- whose deadline passed on the message's last allowed try goes to the dead
-- letters instead ('lease expired').
create or replace function pgque.maint_retry_events() returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_cnt integer;
begin
    -- skip locked: rows a caller's open transaction holds (unsubscribe)
    -- wait for the next call
    with due as (
        delete from pgque.retry_queue r
         where (r.ev_owner, r.ev_id) in (
                select d.ev_owner, d.ev_id from pgque.retry_queue d
                 where d.ev_retry_after <= clock_timestamp()
                   for update skip locked)
        returning r.*
    ), judged as (
        select d.*, p.queue_id as parent_id, s.sub_consumer,
               d.ev_lease is not null and d.ev_retry > p.queue_max_retries as last_try
          from due d
          left join pgque.queue l on l.queue_id = d.ev_queue
          left join pgque.queue p on p.queue_id = coalesce(l.queue_lane_of, l.queue_id)
          left join pgque.subscriber s on s.sub_id = d.ev_owner
    ), dead as (
        insert into pgque.dead_letter (dl_queue_id, dl_consumer_id, dl_reason,
                                       ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data,
                                       ev_extra1, ev_extra2, ev_extra3, ev_extra4)
        select j.parent_id, j.sub_consumer, 'lease expired',
               j.ev_id, j.ev_time, j.ev_txid, j.ev_retry - 1, j.ev_type, j.ev_data,
               j.ev_extra1, j.ev_extra2, j.ev_extra3, j.ev_extra4
          from judged j where j.last_try
        on conflict do nothing
        returning 1
    )
    select count(pgque._insert_event_raw(ev_queue, ev_id, ev_time, ev_owner, ev_retry,
                                         ev_type, ev_data,
                                         ev_extra1, ev_extra2, ev_extra3, ev_extra4))
           + (select count(*) from dead)
      into v_cnt
      from judged where not coalesce(last_try, false);
    return v_cnt + pgque._delay_move_all();
end
$$;
