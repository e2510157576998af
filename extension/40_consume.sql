-- Consuming: subscriptions, batches, receive/ack. The batch state machine is
-- in C (src/consume.c); subscription management is here.

-- Register consumer on queue with its cursor at tick_id (NULL = newest tick).
-- Returns 1 for a new subscription, 0 if it existed (then, with a tick_id,
-- the cursor is moved there and any open batch is cancelled).
create or replace function pgque.register_consumer_at(queue text, consumer text, tick_id bigint)
returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_queue     int4;
    v_co        int4;
    v_sub       int4;
    v_tick      bigint;
begin
    perform pgque._check_queue_name(queue);
    perform pgque._check_consumer_name(consumer);

    -- an existing subscription stays as it is: nothing to write, no lock to
    -- hold (a caller's open transaction must not hold rotation back)
    if tick_id is null and exists (
            select from pgque.subscriber s
              join pgque.queue q on q.queue_id = s.sub_queue
              join pgque.consumer c on c.co_id = s.sub_consumer
             where q.queue_name = register_consumer_at.queue
               and c.co_name = register_consumer_at.consumer) then
        return 0;
    end if;

    -- share lock: rotation (which takes it for update) cannot delete the
    -- tick we position at while we do it
    select q.queue_id into v_queue from pgque.queue q
     where q.queue_name = register_consumer_at.queue for share;
    if not found then
        raise exception 'queue not found: %', queue
            using errcode = 'undefined_object', schema = 'pgque', table = 'queue',
                  hint = 'Create it with pgque.create_queue().';
    end if;

    if tick_id is null then
        select t.tick_id into v_tick from pgque.tick t
         where t.tick_queue = v_queue order by t.tick_id desc limit 1;
    else
        select t.tick_id into v_tick from pgque.tick t
         where t.tick_queue = v_queue and t.tick_id = register_consumer_at.tick_id;
        if not found then
            raise exception 'tick % of queue "%" does not exist', tick_id, queue
                using errcode = 'undefined_object', schema = 'pgque', table = 'tick',
                      hint = 'Ticks older than the last rotation are removed.';
        end if;
    end if;
    if v_tick is null then
        raise exception 'queue "%" has no tick yet', queue
            using errcode = 'object_not_in_prerequisite_state',
                  hint = 'Run pgque.ticker() once.';
    end if;
    perform pgque._check_access(v_queue, 'consume');

    -- Hold the consumer row (key share) until commit, so that an unsubscribe
    -- of its last other subscription cannot delete it under us; if such an
    -- unsubscribe deleted it first, make a new one.
    loop
        select c.co_id into v_co from pgque.consumer c where c.co_name = consumer
           for key share;
        exit when found;
        insert into pgque.consumer (co_name) values (consumer)
        on conflict (co_name) do nothing
        returning co_id into v_co;
        exit when v_co is not null;
    end loop;

    insert into pgque.subscriber (sub_queue, sub_consumer, sub_owner)
    values (v_queue, v_co, pgque._caller())
    on conflict (sub_queue, sub_consumer) do nothing
    returning sub_id into v_sub;
    if v_sub is not null then
        insert into pgque.batch (batch_id, batch_sub, batch_next_tick, batch_state,
                                 batch_opened, batch_closed)
        values (pg_catalog.nextval('pgque.batch_id_seq'::pg_catalog.regclass), v_sub, v_tick, 'd', now(), now());
        -- and to the queue's priority lanes (22_lanes.sql); the row lock
        -- taken above keeps a lane from being created meanwhile
        perform pgque._lanes_sync(v_queue);
        return 1;
    end if;

    if tick_id is not null then
        select s.sub_id into v_sub from pgque.subscriber s
         where s.sub_queue = v_queue and s.sub_consumer = v_co;
        perform pgque._check_access(v_queue, 'consume', v_sub);
        perform pgque._lock_subscriber(v_sub);
        update pgque.batch set batch_state = 'c', batch_closed = now()
         where batch_sub = v_sub and batch_state = 'o';
        insert into pgque.batch (batch_id, batch_sub, batch_next_tick, batch_state,
                                 batch_opened, batch_closed)
        values (pg_catalog.nextval('pgque.batch_id_seq'::pg_catalog.regclass), v_sub, v_tick, 'd', now(), now());
    end if;
    return 0;
end
$$;

create or replace function pgque.register_consumer(queue text, consumer text) returns integer
    language sql security definer
    set search_path = pg_catalog, pgque, pg_temp
    return pgque.register_consumer_at(queue, consumer, null);

-- With types or labels, the subscription's filter becomes exactly those
-- (set_filter below: the one not given takes any); without either, an
-- existing subscription stays as it is.
create or replace function pgque.subscribe(queue text, consumer text,
    types text[] default null, labels text[] default null) returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_new integer;
begin
    v_new := pgque.register_consumer_at(queue, consumer, null);
    if types is not null or labels is not null then
        perform pgque.set_filter(queue, consumer, types, labels);
    end if;
    return v_new;
end
$$;

-- A subscription's filter: reads (receive, receive_coop, receive_leased,
-- get_batch_events) hand out only events whose type is one of types and
-- whose label (ev_extra1) is one of labels; NULL for either: any. The
-- other events are passed over as if they had been acked, so a filter
-- never holds a batch, the cursor or rotation back. Applies from the next
-- read on; the subscription's priority lanes take the same filter.
create or replace function pgque.set_filter(queue text, consumer text, types text[], labels text[])
returns void
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_sub   int4 := pgque._subscriber(queue, consumer);  -- 57_pause.sql
begin
    if cardinality(types) = 0 or cardinality(labels) = 0 then
        raise exception 'a filter of consumer "%" must not be an empty list', consumer
            using errcode = 'invalid_parameter_value',
                  hint = 'Pass NULL to take any type or label.';
    end if;
    if array_position(types, null) is not null or array_position(labels, null) is not null then
        raise exception 'a filter of consumer "%" must not hold NULL', consumer
            using errcode = 'null_value_not_allowed';
    end if;
    -- share lock on the queue row: no lane is made meanwhile (it would copy
    -- the old filter; see register_consumer_at)
    perform from pgque.queue q join pgque.subscriber s on s.sub_queue = q.queue_id
     where s.sub_id = v_sub for share of q;
    types := (select array_agg(distinct t order by t) from unnest(types) t);
    labels := (select array_agg(distinct l order by l) from unnest(labels) l);
    -- its subscriptions of the queue's lanes first, then its own (the row
    -- order of _pause_consumer); a receive reads the filter with its snapshot
    update pgque.subscriber s set sub_types = types, sub_labels = labels
      from pgque.subscriber p, pgque.queue l
     where p.sub_id = v_sub and l.queue_lane_of = p.sub_queue
       and s.sub_queue = l.queue_id and s.sub_consumer = p.sub_consumer;
    update pgque.subscriber set sub_types = types, sub_labels = labels where sub_id = v_sub;
end
$$;

-- Returns 1 if the subscription was removed, 0 if there was none. Pending
-- retries of the subscription go with it, and its subscriptions of the
-- queue's lanes; so does the consumer, and its dead letters, once it has
-- no subscription left.
create or replace function pgque.unsubscribe(queue text, consumer text) returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_queue int4;
    v_sub   int4;
    v_co    int4;
    v_lanes int4[];
    v_lane  int4;
begin
    perform pgque._check_consumer_name(consumer);
    v_queue := pgque._queue_id(queue);

    select s.sub_id, s.sub_consumer into v_sub, v_co
      from pgque.subscriber s join pgque.consumer c on c.co_id = s.sub_consumer
     where s.sub_queue = v_queue and c.co_name = consumer;
    if not found then
        return 0;
    end if;

    perform pgque._check_access(v_queue, 'consume', v_sub);
    -- lanes first, highest priority first, then the queue: the order in
    -- which receive takes these locks (src/lanes.c)
    select coalesce(array_agg(s.sub_id order by l.queue_priority desc), '{}') into v_lanes
      from pgque.subscriber s join pgque.queue l on l.queue_id = s.sub_queue
     where l.queue_lane_of = v_queue and s.sub_consumer = v_co;
    foreach v_lane in array v_lanes loop
        perform pgque._lock_subscriber(v_lane);
    end loop;
    perform pgque._lock_subscriber(v_sub);
    if exists (select from pgque.subconsumer where sc_sub = v_sub) then
        raise exception 'consumer "%" on queue "%" has subconsumers', consumer, queue
            using errcode = 'object_not_in_prerequisite_state',
                  hint = 'Unsubscribe them first with pgque.unsubscribe_subconsumer().';
    end if;
    delete from pgque.retry_queue where ev_owner = any (v_lanes);
    delete from pgque.batch where batch_sub = any (v_lanes);
    delete from pgque.subscriber where sub_id = any (v_lanes);
    delete from pgque.retry_queue where ev_owner = v_sub;
    delete from pgque.batch where batch_sub = v_sub;
    delete from pgque.subscriber where sub_id = v_sub;
    if not found then
        return 0;   -- a concurrent unsubscribe won
    end if;
    delete from pgque.dead_letter where dl_queue_id = v_queue and dl_consumer_id = v_co;
    begin
        delete from pgque.consumer c
         where c.co_id = v_co
           and not exists (select from pgque.subscriber s where s.sub_consumer = v_co);
    exception when foreign_key_violation then
        null;   -- a concurrent subscribe to another queue committed: keep it
    end;
    return 1;
end
$$;

create or replace function pgque.unregister_consumer(queue text, consumer text) returns integer
    language sql security definer
    set search_path = pg_catalog, pgque, pg_temp
    return pgque.unsubscribe(queue, consumer);

create or replace function pgque.next_batch_custom(queue text, consumer text,
    min_lag interval, min_count int4, min_interval interval,
    out batch_id bigint, out cur_tick_id bigint, out prev_tick_id bigint,
    out cur_tick_time timestamptz, out prev_tick_time timestamptz,
    out cur_tick_event_seq bigint, out prev_tick_event_seq bigint)
    language c volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
    as 'MODULE_PATHNAME', 'pgque_next_batch_custom';

create or replace function pgque.next_batch_info(queue text, consumer text,
    out batch_id bigint, out cur_tick_id bigint, out prev_tick_id bigint,
    out cur_tick_time timestamptz, out prev_tick_time timestamptz,
    out cur_tick_event_seq bigint, out prev_tick_event_seq bigint)
    language sql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
    select * from pgque.next_batch_custom(queue, consumer, null, null, null)
$$;

create or replace function pgque.next_batch(queue text, consumer text) returns bigint
    language sql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
    select batch_id from pgque.next_batch_custom(queue, consumer, null, null, null)
$$;

-- ev_txid is bigint, as in PgQ and PgQue (the event tables store xid8).
create or replace function pgque.get_batch_events(batch_id bigint,
    out ev_id bigint, out ev_time timestamptz, out ev_txid bigint, out ev_retry int4,
    out ev_type text, out ev_data text,
    out ev_extra1 text, out ev_extra2 text, out ev_extra3 text, out ev_extra4 text)
returns setof record
    language c volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
    as 'MODULE_PATHNAME', 'pgque_get_batch_events';

create or replace function pgque.finish_batch(batch_id bigint) returns integer
    language c volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
    as 'MODULE_PATHNAME', 'pgque_ack';

create or replace function pgque.ack(batch_id bigint) returns integer
    language c volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
    as 'MODULE_PATHNAME', 'pgque_ack';

create or replace function pgque.receive(queue text, consumer text, max_return int default 100)
returns setof pgque.message
    language c volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
    rows 100
    as 'MODULE_PATHNAME', 'pgque_receive';
