-- Queues: create, drop, configure.

create or replace function pgque.create_queue(queue text) returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
begin
    perform pgque._check_queue_name(queue);
    -- an existing queue changes nothing, not even the id sequence
    if exists (select from pgque.queue q where q.queue_name = create_queue.queue) then
        return 0;
    end if;
    return case when pgque._create_queue(queue, null, null) is null then 0 else 1 end;
end
$$;

-- A queue's row, sequences, event tables and first tick; for a lane
-- (lane_of: its parent's id) with the parent's settings. Returns its id,
-- or null when a queue of that name exists.
create or replace function pgque._create_queue(queue text, lane_of int4, priority int2) returns int4
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_id    int4;
    v_pfx   text;
    i       int;
begin
    v_id := pg_catalog.nextval('pgque.queue_queue_id_seq'::pg_catalog.regclass);
    v_pfx := 'event_' || v_id;
    -- queue_switch_step2: no switch has happened, the other two tables are
    -- empty, so the first rotation need wait for no cursor (the creating
    -- transaction's own xid would otherwise hold it: the first tick lists
    -- it as running, see src/snapshot.c)
    insert into pgque.queue (queue_id, queue_name, queue_data_pfx, queue_event_seq, queue_tick_seq,
                             queue_switch_step2, queue_lane_of, queue_priority)
    values (v_id, queue, 'pgque.' || v_pfx, 'pgque.' || v_pfx || '_id_seq',
            'pgque.' || v_pfx || '_tick_seq', '3'::pg_catalog.xid8, lane_of, priority)
    on conflict (queue_name) do nothing;
    if not found then
        return null;
    end if;
    -- a queue has the column defaults; a lane its parent's settings (its
    -- ticker stays on until the first tick, below)
    update pgque.queue l
       set queue_rotation_period = p.queue_rotation_period,
           queue_ticker_max_count = p.queue_ticker_max_count,
           queue_ticker_max_lag = p.queue_ticker_max_lag,
           queue_ticker_idle_period = p.queue_ticker_idle_period,
           queue_max_retries = p.queue_max_retries,
           queue_restricted = p.queue_restricted,
           queue_delivery_delay = p.queue_delivery_delay,
           queue_retry_delay = p.queue_retry_delay,
           queue_retry_backoff = p.queue_retry_backoff,
           queue_retry_max_delay = p.queue_retry_max_delay,
           queue_retry_jitter = p.queue_retry_jitter,
           queue_message_ttl = p.queue_message_ttl,
           queue_expired_action = p.queue_expired_action,
           queue_paused = p.queue_paused
      from pgque.queue p
     where l.queue_id = v_id and p.queue_id = _create_queue.lane_of;

    execute format('create sequence pgque.%I', v_pfx || '_id_seq');
    execute format('create sequence pgque.%I', v_pfx || '_tick_seq');
    for i in 0 .. 2 loop
        -- insert-only tables emptied by TRUNCATE: nothing for autovacuum to
        -- do. No index: ticks bound where a batch's rows lie, and a VACUUM
        -- must not shorten a table for those bounds to hold
        -- (src/heap_range.c).
        execute format('create table pgque.%I (like pgque.event_template)'
                       ' with (fillfactor = 100, autovacuum_enabled = false,'
                       ' toast.autovacuum_enabled = false, vacuum_truncate = false)',
                       v_pfx || '_' || i);
    end loop;

    -- the first tick: subscribers start from it
    perform pgque._ticker_id(v_id);
    update pgque.queue l set queue_ticker_paused = true
      from pgque.queue p
     where l.queue_id = v_id and p.queue_id = _create_queue.lane_of and p.queue_ticker_paused;
    return v_id;
end
$$;

create or replace function pgque.drop_queue(queue text, force boolean default false) returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    q       record;
    v_subs  int;
    v_scheds int;
    s       record;
    l       record;
begin
    perform pgque._check_queue_name(queue);
    if force is null then
        raise exception 'force must not be null' using errcode = 'invalid_parameter_value';
    end if;

    select * into q from pgque.queue where queue_name = drop_queue.queue for update;
    if not found then
        raise exception 'queue not found: %', queue
            using errcode = 'undefined_object', schema = 'pgque', table = 'queue';
    end if;

    select count(*) into v_subs from pgque.subscriber where sub_queue = q.queue_id;
    if v_subs > 0 and not force then
        raise exception 'queue "%" has % consumer(s)', queue, v_subs
            using errcode = 'object_in_use',
                  hint = 'Unsubscribe them first, or call pgque.drop_queue(queue, force => true).';
    end if;
    -- a schedule sending into the queue is dropped only when asked to
    select count(*) into v_scheds from pgque.schedule where sched_queue = q.queue_id;
    if v_scheds > 0 and not force then
        raise exception 'queue "%" has % schedule(s)', queue, v_scheds
            using errcode = 'object_in_use',
                  hint = 'Remove them with pgque.unschedule() first, or call pgque.drop_queue(queue, force => true).';
    end if;
    delete from pgque.schedule where sched_queue = q.queue_id;

    -- subconsumers go first: unsubscribe refuses a consumer that has them
    delete from pgque.subconsumer sc using pgque.subscriber sb
     where sc.sc_sub = sb.sub_id and sb.sub_queue = q.queue_id;
    -- (unsubscribe removes the consumer's lane subscriptions too)
    for s in select c.co_name from pgque.subscriber sb
               join pgque.consumer c on c.co_id = sb.sub_consumer
              where sb.sub_queue = q.queue_id
              order by c.co_name
    loop
        perform pgque.unsubscribe(queue, s.co_name);
    end loop;

    -- its lanes (22_lanes.sql), then the queue
    for l in select ql.queue_id from pgque.queue ql where ql.queue_lane_of = q.queue_id
              order by ql.queue_priority for update
    loop
        perform pgque._drop_queue_objects(l.queue_id);
    end loop;
    perform pgque._drop_queue_objects(q.queue_id);
    return 1;
end
$$;

-- Drop a queue's tables, sequences, ticks, retries, subscriptions and row
-- (no subscriber left but, for a lane, those unsubscribe left).
create or replace function pgque._drop_queue_objects(queue_id int4) returns void
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    i int;
begin
    delete from pgque.retry_queue r using pgque.subscriber s
     where r.ev_owner = s.sub_id and s.sub_queue = _drop_queue_objects.queue_id;
    delete from pgque.batch b using pgque.subscriber s
     where b.batch_sub = s.sub_id and s.sub_queue = _drop_queue_objects.queue_id;
    delete from pgque.subscriber s where s.sub_queue = _drop_queue_objects.queue_id;
    for i in 0 .. 2 loop
        execute format('drop table pgque.%I', 'event_' || queue_id || '_' || i);
    end loop;
    execute format('drop sequence pgque.%I', 'event_' || queue_id || '_id_seq');
    execute format('drop sequence pgque.%I', 'event_' || queue_id || '_tick_seq');
    delete from pgque.tick t where t.tick_queue = _drop_queue_objects.queue_id;
    delete from pgque.retry_queue r where r.ev_queue = _drop_queue_objects.queue_id;
    delete from pgque.queue q where q.queue_id = _drop_queue_objects.queue_id;
end
$$;

create or replace function pgque.set_queue_config(queue text, param text, value text) returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_id    int4;
    v_param text;
    v_type  text;
    v_check text;
    v_hint  text;
begin
    v_id := pgque._queue_id(queue);
    if param is null then
        raise exception 'parameter name must not be null' using errcode = 'invalid_parameter_value';
    end if;

    -- PgQ accepts the names with or without the queue_ prefix
    v_param := regexp_replace(lower(param), '^queue_', '');
    -- the ranges are also the table's check constraints (02_schema.sql)
    case v_param
        when 'ticker_max_count' then
            v_type := 'int4'; v_check := '$1 between 1 and 1000000000';
            v_hint := 'Expected an integer from 1 to 1000000000.';
        when 'max_retries' then
            v_type := 'int4'; v_check := '$1 between 0 and 10000';
            v_hint := 'Expected an integer from 0 to 10000.';
        when 'ticker_max_lag' then
            v_type := 'interval'; v_check := '$1 between interval ''0'' and interval ''1 day''';
            v_hint := 'Expected an interval from 0 to 1 day, such as ''3 seconds''.';
        when 'ticker_idle_period' then
            v_type := 'interval'; v_check := '$1 > interval ''0'' and $1 <= interval ''1 day''';
            v_hint := 'Expected an interval greater than 0 and at most 1 day, such as ''1 minute''.';
        when 'rotation_period' then
            v_type := 'interval'; v_check := '$1 between interval ''0'' and interval ''365 days''';
            v_hint := 'Expected an interval from 0 to 365 days, such as ''2 hours''.';
        when 'delivery_delay', 'retry_delay', 'retry_max_delay' then
            v_type := 'interval'; v_check := '$1 between interval ''0'' and interval ''365 days''';
            v_hint := 'Expected an interval from 0 to 365 days, such as ''30 seconds''.';
        when 'message_ttl' then
            v_type := 'interval'; v_check := '$1 > interval ''0'' and $1 <= interval ''3650 days''';
            v_hint := 'Expected an interval greater than 0 and at most 3650 days, such as ''1 day''; NULL: never expire.';
        when 'retry_backoff' then
            v_type := 'text'; v_check := '$1 in (''fixed'', ''exponential'')';
            v_hint := 'Expected fixed or exponential.';
        when 'retry_jitter' then
            v_type := 'float8'; v_check := '$1 between 0 and 1';
            v_hint := 'Expected a fraction from 0 to 1, such as 0.2.';
        when 'expired_action' then
            v_type := 'text'; v_check := '$1 in (''dead_letter'', ''drop'')';
            v_hint := 'Expected dead_letter or drop.';
        when 'dedup_window' then
            v_type := 'interval'; v_check := '$1 between interval ''1 second'' and interval ''365 days''';
            v_hint := 'Expected an interval from 1 second to 365 days, such as ''1 hour''.';
        when 'ack_deadline' then
            v_type := 'interval'; v_check := '$1 between interval ''1 millisecond'' and interval ''12 hours''';
            v_hint := 'Expected an interval from 1 millisecond to 12 hours, such as ''30 seconds''.';
        when 'ticker_paused', 'external_ticker', 'restricted' then
            v_type := 'bool'; v_check := '$1 is not null';
            v_hint := 'Expected true or false.';
        else
            raise exception 'unknown queue parameter "%"', param
                using errcode = 'invalid_parameter_value',
                      hint = 'Valid parameters: ticker_max_count, ticker_max_lag, ticker_idle_period, '
                             'ticker_paused, rotation_period, external_ticker, max_retries, restricted, '
                             'delivery_delay, retry_delay, retry_backoff, retry_max_delay, retry_jitter, '
                             'message_ttl, expired_action, dedup_window, ack_deadline.';
    end case;

    -- a queue's lanes (22_lanes.sql) follow its settings; they are always
    -- ticked here, even when the queue is ticked externally
    if value is null then
        execute format('update pgque.queue set %I = default'
                       ' where queue_id = $1 or (queue_lane_of = $1 and $2)',
                       'queue_' || v_param) using v_id, v_param <> 'external_ticker';
        if v_param = 'dedup_window' then
            perform pgque._dedup_period_update();
        end if;
        return 1;
    end if;

    begin
        execute format('select (%s) from (select $1::%s) v(x)',
                       replace(v_check, '$1', 'x'), v_type)
            using value into strict v_check;
    exception when data_exception then
        v_check := null;
    end;
    if v_check is distinct from 'true' then
        raise exception 'invalid value "%" for queue parameter "%"', value, v_param
            using errcode = 'invalid_parameter_value', hint = v_hint;
    end if;

    execute format('update pgque.queue set %I = $1::%s'
                   ' where queue_id = $2 or (queue_lane_of = $2 and $3)',
                   'queue_' || v_param, v_type) using value, v_id, v_param <> 'external_ticker';
    if v_param = 'dedup_window' then
        perform pgque._dedup_period_update();
    end if;
    return 1;
end
$$;

-- Every setting set_queue_config() takes, with its value (NULL: none), and
-- whether the queue is paused; one row per queue and setting.
create or replace function pgque.get_queue_config(queue text default null)
returns table (queue_name text, param text, value text)
    language plpgsql stable security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
begin
    if queue is not null then
        perform pgque._queue_id(queue);
    end if;
    return query
    select q.queue_name, v.param, v.value
      from pgque.queue q
     cross join lateral (values
            ('ticker_max_count', q.queue_ticker_max_count::text),
            ('ticker_max_lag', q.queue_ticker_max_lag::text),
            ('ticker_idle_period', q.queue_ticker_idle_period::text),
            ('ticker_paused', q.queue_ticker_paused::text),
            ('rotation_period', q.queue_rotation_period::text),
            ('external_ticker', q.queue_external_ticker::text),
            ('max_retries', q.queue_max_retries::text),
            ('restricted', q.queue_restricted::text),
            ('delivery_delay', q.queue_delivery_delay::text),
            ('retry_delay', q.queue_retry_delay::text),
            ('retry_backoff', q.queue_retry_backoff),
            ('retry_max_delay', q.queue_retry_max_delay::text),
            ('retry_jitter', q.queue_retry_jitter::text),
            ('message_ttl', q.queue_message_ttl::text),
            ('expired_action', q.queue_expired_action),
            ('dedup_window', q.queue_dedup_window::text),
            ('ack_deadline', q.queue_ack_deadline::text),
            ('paused', q.queue_paused::text)) v(param, value)
     where (get_queue_config.queue is null or q.queue_name = get_queue_config.queue)
       and q.queue_lane_of is null
     order by q.queue_name;
end
$$;
