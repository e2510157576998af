-- Observability. Column names follow PgQ/PgQue so existing dashboards work.

create or replace function pgque.get_queue_info(queue text,
    out queue_name text, out queue_ntables integer, out queue_cur_table integer,
    out queue_rotation_period interval, out queue_switch_time timestamptz,
    out queue_external_ticker boolean, out queue_ticker_paused boolean,
    out queue_ticker_max_count integer, out queue_ticker_max_lag interval,
    out queue_ticker_idle_period interval, out ticker_lag interval,
    out ev_per_sec float8, out ev_new bigint, out last_tick_id bigint,
    out last_tick_time timestamptz, out ticker text, out rotation_blocked_by text)
returns setof record
    language plpgsql stable security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
begin
    if queue is not null then
        perform pgque._queue_id(queue);
    end if;
    return query
    select q.queue_name, q.queue_ntables, q.queue_cur_table, q.queue_rotation_period,
           q.queue_switch_time, q.queue_external_ticker, q.queue_ticker_paused,
           q.queue_ticker_max_count, q.queue_ticker_max_lag, q.queue_ticker_idle_period,
           now() - top.tick_time,
           -- events sent since the 20th-newest tick, over the time since then
           -- (up to now: the rate of a queue that went idle falls off)
           case when now() > old.tick_time
                then (seq.last_value - old.tick_event_seq)
                     / extract(epoch from now() - old.tick_time)::float8 end,
           greatest(seq.last_value - top.tick_event_seq, 0),
           top.tick_id,
           top.tick_time,
           case when q.queue_ticker_paused then 'paused'
                when q.queue_external_ticker then 'external'
                when w.state = 'running' then 'worker'
                else 'manual' end,
           -- the check only for a queue whose rotation is due (a PL/pgSQL
           -- call per queue is most of this function's cost otherwise)
           case when q.queue_switch_time + q.queue_rotation_period <= now()
                then pgque._rotation_blocker(q.queue_id) end
      from pgque.queue q
      cross join pgque._worker_status() w
      left join lateral (select t.tick_id, t.tick_time, t.tick_event_seq from pgque.tick t
                          where t.tick_queue = q.queue_id
                          order by t.tick_id desc limit 1) top on true
      left join lateral (select t.tick_time, t.tick_event_seq from pgque.tick t
                          where t.tick_queue = q.queue_id and t.tick_id >= top.tick_id - 20
                          order by t.tick_id limit 1) old on true
      -- a queue dropped while this runs is not an error
      cross join lateral (select coalesce(pgque._event_seq_value(q.queue_id), 0) as last_value) seq
     where (get_queue_info.queue is null or q.queue_name = get_queue_info.queue)
       and q.queue_lane_of is null
     order by q.queue_name;
end
$$;

create or replace function pgque.get_queue_info(
    out queue_name text, out queue_ntables integer, out queue_cur_table integer,
    out queue_rotation_period interval, out queue_switch_time timestamptz,
    out queue_external_ticker boolean, out queue_ticker_paused boolean,
    out queue_ticker_max_count integer, out queue_ticker_max_lag interval,
    out queue_ticker_idle_period interval, out ticker_lag interval,
    out ev_per_sec float8, out ev_new bigint, out last_tick_id bigint,
    out last_tick_time timestamptz, out ticker text, out rotation_blocked_by text)
returns setof record
    language sql stable security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$ select * from pgque.get_queue_info(null::text) $$;

create or replace function pgque.get_consumer_info(queue text, consumer text,
    out queue_name text, out consumer_name text, out lag interval, out last_seen interval,
    out last_tick bigint, out current_batch bigint, out next_tick bigint,
    out pending_events bigint, out pending_age interval, out paused boolean)
returns setof record
    language plpgsql stable security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
begin
    if queue is not null then
        perform pgque._queue_id(queue);
    end if;
    if consumer is not null and strpos(consumer, '.') > 0 then
        -- a subconsumer, named "consumer.subconsumer"
        if not exists (select from pgque.subconsumer sc
                         join pgque.subscriber s on s.sub_id = sc.sc_sub
                         join pgque.consumer c on c.co_id = s.sub_consumer
                         join pgque.queue q on q.queue_id = s.sub_queue
                        where c.co_name || '.' || sc.sc_name = consumer
                          and (get_consumer_info.queue is null or q.queue_name = get_consumer_info.queue)) then
            if queue is null then
                raise exception 'consumer not found: "%" is not a subconsumer on any queue', consumer
                    using errcode = 'undefined_object', schema = 'pgque', table = 'consumer';
            end if;
            raise exception 'consumer not found: "%" is not a subconsumer on queue "%"', consumer, queue
                using errcode = 'undefined_object', schema = 'pgque', table = 'consumer';
        end if;
    elsif consumer is not null then
        perform pgque._check_consumer_name(consumer);
        if not exists (select from pgque.subscriber s
                         join pgque.consumer c on c.co_id = s.sub_consumer
                         join pgque.queue q on q.queue_id = s.sub_queue
                        where c.co_name = consumer
                          and (get_consumer_info.queue is null or q.queue_name = get_consumer_info.queue)) then
            if queue is null then
                raise exception 'consumer not found: "%" is not subscribed to any queue', consumer
                    using errcode = 'undefined_object', schema = 'pgque', table = 'consumer';
            end if;
            raise exception 'consumer not found: "%" is not subscribed to queue "%"', consumer, queue
                using errcode = 'undefined_object', schema = 'pgque', table = 'consumer';
        end if;
    end if;
    return query
    select q.queue_name, c.co_name,
           now() - t.tick_time,
           now() - s.sub_active,
           s.sub_last_tick, s.sub_batch, s.sub_next_tick,
           greatest(top.tick_event_seq - t.tick_event_seq, 0),
           now() - first_pending.tick_time,
           sb.sub_paused or q.queue_paused
      from pgque.subscription s
      join pgque.subscriber sb on sb.sub_id = s.sub_id
      join pgque.queue q on q.queue_id = s.sub_queue
      join pgque.consumer c on c.co_id = s.sub_consumer
      left join pgque.tick t on t.tick_queue = s.sub_queue and t.tick_id = s.sub_last_tick
      left join lateral (select tt.tick_event_seq from pgque.tick tt
                          where tt.tick_queue = q.queue_id
                          order by tt.tick_id desc limit 1) top on true
      -- the first tick after the cursor that brought events: the oldest
      -- pending event has waited to be read since then
      left join lateral (select tt.tick_time from pgque.tick tt
                          where tt.tick_queue = s.sub_queue and tt.tick_id > s.sub_last_tick
                            and tt.tick_event_seq > t.tick_event_seq
                          order by tt.tick_id limit 1) first_pending on true
     where (get_consumer_info.queue is null or q.queue_name = get_consumer_info.queue)
       and q.queue_lane_of is null
       and (get_consumer_info.consumer is null or c.co_name = get_consumer_info.consumer)
    union all
    -- the subconsumers of a cooperative consumer, as "consumer.subconsumer":
    -- the batch each holds (lag from its start) and its last heartbeat
    select q.queue_name, c.co_name || '.' || sc.sc_name,
           now() - t.tick_time,
           now() - sc.sc_active,
           case when mb.batch_state = 'o' then mb.batch_prev_tick end,
           case when mb.batch_state = 'o' then mb.batch_id end,
           case when mb.batch_state = 'o' then mb.batch_next_tick end,
           null::bigint, null::interval,
           s.sub_paused or q.queue_paused
      from pgque.subconsumer sc
      join pgque.subscriber s on s.sub_id = sc.sc_sub
      join pgque.queue q on q.queue_id = s.sub_queue
      join pgque.consumer c on c.co_id = s.sub_consumer
      left join lateral (select b.batch_id, b.batch_state, b.batch_prev_tick, b.batch_next_tick
                           from pgque.batch b
                          where b.batch_sub = sc.sc_sub and b.batch_member = sc.sc_name
                          order by b.batch_id desc limit 1) mb on true
      left join pgque.tick t on t.tick_queue = s.sub_queue and t.tick_id = mb.batch_prev_tick
                            and mb.batch_state = 'o'
     where (get_consumer_info.queue is null or q.queue_name = get_consumer_info.queue)
       and q.queue_lane_of is null
       and (get_consumer_info.consumer is null
            or c.co_name || '.' || sc.sc_name = get_consumer_info.consumer)
     order by 1, 2;
end
$$;

create or replace function pgque.get_consumer_info(queue text,
    out queue_name text, out consumer_name text, out lag interval, out last_seen interval,
    out last_tick bigint, out current_batch bigint, out next_tick bigint,
    out pending_events bigint, out pending_age interval, out paused boolean)
returns setof record
    language sql stable security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$ select * from pgque.get_consumer_info(queue, null::text) $$;

create or replace function pgque.get_consumer_info(
    out queue_name text, out consumer_name text, out lag interval, out last_seen interval,
    out last_tick bigint, out current_batch bigint, out next_tick bigint,
    out pending_events bigint, out pending_age interval, out paused boolean)
returns setof record
    language sql stable security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$ select * from pgque.get_consumer_info(null::text, null::text) $$;

create or replace function pgque.get_batch_info(batch_id bigint,
    out queue_name text, out consumer_name text, out batch_start timestamptz,
    out batch_end timestamptz, out prev_tick_id bigint, out tick_id bigint,
    out lag interval, out seq_start bigint, out seq_end bigint)
    language plpgsql stable security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
begin
    if batch_id is null then
        raise exception 'batch id must not be null' using errcode = 'invalid_parameter_value';
    end if;
    select coalesce(p.queue_name, q.queue_name), c.co_name, prev.tick_time, cur.tick_time,
           b.batch_prev_tick, b.batch_next_tick, now() - cur.tick_time,
           prev.tick_event_seq, cur.tick_event_seq
      into queue_name, consumer_name, batch_start, batch_end,
           prev_tick_id, tick_id, lag, seq_start, seq_end
      from pgque.batch b
      join pgque.subscriber s on s.sub_id = b.batch_sub
      join pgque.queue q on q.queue_id = s.sub_queue
      left join pgque.queue p on p.queue_id = q.queue_lane_of  -- a lane's batch: its queue
      join pgque.consumer c on c.co_id = s.sub_consumer
      left join pgque.tick prev on prev.tick_queue = s.sub_queue and prev.tick_id = b.batch_prev_tick
      left join pgque.tick cur on cur.tick_queue = s.sub_queue and cur.tick_id = b.batch_next_tick
     where b.batch_id = get_batch_info.batch_id and b.batch_prev_tick is not null;
    if not found then
        raise exception 'batch not found: %', batch_id
            using errcode = 'undefined_object', schema = 'pgque', table = 'batch';
    end if;
end
$$;

create or replace function pgque.version() returns text
    language sql stable security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$ select extversion from pg_catalog.pg_extension where extname = 'pgque' $$;
