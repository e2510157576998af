-- Cooperative consumers (PgQue's subconsumers): the members of one consumer
-- share its subscription and take its tick windows in turn, so that several
-- processes divide one consumer's work. Names, arguments and results follow
-- PgQue (docs/compatibility.md); batches are taken in C (src/consume.c).

create or replace function pgque._check_subconsumer_name(subconsumer text) returns void
    language plpgsql immutable
    set search_path = pg_catalog, pgque, pg_temp
as $$
begin
    if subconsumer is null or subconsumer = '' then
        raise exception 'subconsumer name must not be empty'
            using errcode = 'invalid_parameter_value';
    end if;
    if strpos(subconsumer, '.') > 0 then
        raise exception 'subconsumer name "%" must not contain "."', subconsumer
            using errcode = 'invalid_parameter_value';
    end if;
end
$$;

-- Registers subconsumer i_subconsumer of cooperative consumer i_consumer,
-- subscribing i_consumer first if needed (at the newest tick). Returns 1
-- when something was created, 0 when both existed (its heartbeat is
-- refreshed). A normal consumer becomes cooperative only with
-- i_convert_normal, and only while it has no open batch.
create or replace function pgque.register_subconsumer(i_queue text, i_consumer text,
    i_subconsumer text, i_convert_normal boolean default false) returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_queue     int4;
    v_sub       int4;
    v_role      text;
    v_created   integer := 0;
    v_open      bigint;
    v_inserted  boolean;
begin
    perform pgque._check_consumer_name(i_consumer);
    perform pgque._check_subconsumer_name(i_subconsumer);
    v_queue := pgque._queue_id(i_queue);

    select s.sub_id, s.sub_role into v_sub, v_role
      from pgque.subscriber s join pgque.consumer c on c.co_id = s.sub_consumer
     where s.sub_queue = v_queue and c.co_name = i_consumer;
    if not found then
        v_created := pgque.register_consumer_at(i_queue, i_consumer, null);
        select s.sub_id, s.sub_role into v_sub, v_role
          from pgque.subscriber s join pgque.consumer c on c.co_id = s.sub_consumer
         where s.sub_queue = v_queue and c.co_name = i_consumer;
        v_role := 'new';
    else
        perform pgque._check_access(v_queue, 'consume', v_sub);
    end if;
    perform pgque._lock_subscriber(v_sub);

    if v_role = 'normal' then
        if not coalesce(i_convert_normal, false) then
            raise exception 'consumer "%" on queue "%" is already a normal consumer', i_consumer, i_queue
                using errcode = 'object_not_in_prerequisite_state',
                      hint = 'Pass i_convert_normal => true to make it cooperative.';
        end if;
        -- its own, or one on a lane of the queue (22_lanes.sql)
        select min(ss.sub_batch) into v_open from pgque.subscription ss
         where ss.sub_id = v_sub
            or ss.sub_id in (select ls.sub_id from pgque.subscriber ls
                               join pgque.queue l on l.queue_id = ls.sub_queue
                               join pgque.subscriber ps on ps.sub_id = v_sub
                              where l.queue_lane_of = ps.sub_queue
                                and ls.sub_consumer = ps.sub_consumer);
        if v_open is not null then
            raise exception 'cannot convert consumer "%" on queue "%" while it has open batch %',
                    i_consumer, i_queue, v_open
                using errcode = 'object_not_in_prerequisite_state',
                      hint = 'Ack the batch first.';
        end if;
    end if;
    if v_role <> 'coop_main' then
        update pgque.subscriber set sub_role = 'coop_main' where sub_id = v_sub;
    end if;

    insert into pgque.subconsumer as sc (sc_sub, sc_name) values (v_sub, i_subconsumer)
    on conflict (sc_sub, sc_name) do update set sc_active = now()
    returning (sc.xmax = 0) into v_inserted;
    return case when v_inserted then 1 else v_created end;
end
$$;

create or replace function pgque.subscribe_subconsumer(i_queue text, i_consumer text,
    i_subconsumer text, i_convert_normal boolean default false) returns integer
    language sql security definer
    set search_path = pg_catalog, pgque, pg_temp
    return pgque.register_subconsumer(i_queue, i_consumer, i_subconsumer, i_convert_normal);

-- Removes a subconsumer; 1 if it was there, 0 if not. If it holds an open
-- batch: i_batch_handling 0 refuses, 1 schedules the batch's unacked events
-- for retry (or dead-letters those out of retries) and closes it. The last
-- member's removal makes the consumer normal again.
create or replace function pgque.unregister_subconsumer(i_queue text, i_consumer text,
    i_subconsumer text, i_batch_handling integer default 0) returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_queue int4;
    v_sub   int4;
    v_subs  int4[];
    v_one   int4;
    v_batch record;
begin
    perform pgque._check_consumer_name(i_consumer);
    perform pgque._check_subconsumer_name(i_subconsumer);
    if i_batch_handling is null or i_batch_handling not in (0, 1) then
        raise exception 'unsupported batch_handling value: %', i_batch_handling
            using errcode = 'invalid_parameter_value',
                  hint = '0 refuses while the subconsumer holds a batch, 1 retries its events.';
    end if;
    v_queue := pgque._queue_id(i_queue);
    select s.sub_id into v_sub
      from pgque.subscriber s join pgque.consumer c on c.co_id = s.sub_consumer
     where s.sub_queue = v_queue and c.co_name = i_consumer and s.sub_role = 'coop_main';
    if not found then
        return 0;
    end if;
    perform pgque._check_access(v_queue, 'consume', v_sub);
    -- the consumer's subscriptions of the queue's lanes (22_lanes.sql),
    -- highest first, then its own: the order receive_coop locks them in
    select coalesce(array_agg(ls.sub_id order by l.queue_priority desc), '{}') || v_sub into v_subs
      from pgque.subscriber ls
      join pgque.queue l on l.queue_id = ls.sub_queue
      join pgque.subscriber ps on ps.sub_id = v_sub
     where l.queue_lane_of = ps.sub_queue and ls.sub_consumer = ps.sub_consumer;
    foreach v_one in array v_subs loop
        perform pgque._lock_subscriber(v_one);
    end loop;
    if not exists (select from pgque.subconsumer where sc_sub = v_sub and sc_name = i_subconsumer) then
        return 0;
    end if;

    foreach v_one in array v_subs loop
        select b.batch_id, b.batch_state into v_batch from pgque.batch b
         where b.batch_sub = v_one and b.batch_member = i_subconsumer
         order by b.batch_id desc limit 1;
        if found and v_batch.batch_state = 'o' then
            if i_batch_handling = 0 then
                raise exception 'subconsumer "%" of consumer "%" on queue "%" holds open batch %',
                        i_subconsumer, i_consumer, i_queue, v_batch.batch_id
                    using errcode = 'object_not_in_prerequisite_state',
                          hint = 'Ack the batch first, or pass i_batch_handling => 1 to retry its events.';
            end if;
            perform pgque.batch_retry(v_batch.batch_id, 60);
            update pgque.batch set batch_state = 'd', batch_closed = now()
             where batch_id = v_batch.batch_id;
        end if;
    end loop;

    delete from pgque.subconsumer where sc_sub = v_sub and sc_name = i_subconsumer;
    if not exists (select from pgque.subconsumer where sc_sub = v_sub) then
        update pgque.subscriber set sub_role = 'normal' where sub_id = v_sub;
    end if;
    return 1;
end
$$;

create or replace function pgque.unsubscribe_subconsumer(i_queue text, i_consumer text,
    i_subconsumer text, i_batch_handling integer default 0) returns integer
    language sql security definer
    set search_path = pg_catalog, pgque, pg_temp
    return pgque.unregister_subconsumer(i_queue, i_consumer, i_subconsumer, i_batch_handling);

-- Heartbeat without taking a batch: 1 if the subconsumer is registered.
create or replace function pgque.touch_subconsumer(i_queue text, i_consumer text,
    i_subconsumer text) returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    n integer;
begin
    perform pgque._check_consumer_name(i_consumer);
    perform pgque._check_subconsumer_name(i_subconsumer);
    update pgque.subconsumer sc set sc_active = clock_timestamp()
      from pgque.subscriber s
      join pgque.consumer c on c.co_id = s.sub_consumer
      join pgque.queue q on q.queue_id = s.sub_queue
     where sc.sc_sub = s.sub_id and q.queue_name = i_queue and c.co_name = i_consumer
       and sc.sc_name = i_subconsumer;
    get diagnostics n = row_count;
    return n;
end
$$;

create or replace function pgque._receive_coop(queue text, consumer text, subconsumer text,
    max_return int, dead_interval interval)
returns setof pgque.message
    language c volatile
    as 'MODULE_PATHNAME', 'pgque_receive_coop';

create or replace function pgque._next_batch_coop(queue text, consumer text, subconsumer text,
    dead_interval interval, out batch_id bigint, out prev_tick_id bigint, out next_tick_id bigint)
    language c volatile
    as 'MODULE_PATHNAME', 'pgque_next_batch_coop';

-- The subconsumer's events: its open batch, else (with i_dead_interval) the
-- batch of a member silent for longer, else the consumer's next window.
-- Registers the subconsumer if needed and counts as its heartbeat.
create or replace function pgque.receive_coop(i_queue text, i_consumer text, i_subconsumer text,
    i_max_return int default 100, i_dead_interval interval default null)
returns setof pgque.message
    language plpgsql volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
    rows 100
as $$
begin
    perform pgque.register_subconsumer(i_queue, i_consumer, i_subconsumer);
    return query select * from pgque._receive_coop(i_queue, i_consumer, i_subconsumer,
                                                   i_max_return, i_dead_interval);
end
$$;

create or replace function pgque.next_batch_custom(i_queue text, i_consumer text,
    i_subconsumer text, i_min_lag interval, i_min_count int4, i_min_interval interval,
    i_dead_interval interval default null,
    out batch_id bigint, out prev_tick_id bigint, out next_tick_id bigint)
    language plpgsql volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
begin
    if i_min_lag is not null or i_min_count is not null or i_min_interval is not null then
        raise exception 'min_lag, min_count and min_interval are not supported for subconsumers'
            using errcode = 'feature_not_supported',
                  hint = 'Pass null; a subconsumer takes one tick per batch.';
    end if;
    perform pgque.register_subconsumer(i_queue, i_consumer, i_subconsumer);
    select n.batch_id, n.prev_tick_id, n.next_tick_id into batch_id, prev_tick_id, next_tick_id
      from pgque._next_batch_coop(i_queue, i_consumer, i_subconsumer, i_dead_interval) n;
end
$$;

create or replace function pgque.next_batch(i_queue text, i_consumer text, i_subconsumer text,
    i_dead_interval interval default null) returns bigint
    language sql volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
    select batch_id from pgque.next_batch_custom(i_queue, i_consumer, i_subconsumer,
                                                 null, null, null, i_dead_interval)
$$;
