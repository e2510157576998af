-- Pausing: a paused queue, or a paused consumer, is handed nothing by
-- receive, receive_coop and next_batch (src/consume.c); producers keep
-- sending, the ticker keeps ticking, and ack/nack of batches already handed
-- out still work. A paused consumer's cursor stays where it is, so rotation
-- waits for it like for any consumer that lags (status() says so).

-- Pause (true) or resume (false) a queue: 1 when that changed it, 0 when
-- it already was so.
create or replace function pgque._pause_queue(queue text, paused boolean) returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_id int4;
begin
    v_id := pgque._queue_id(queue);
    -- its lanes (22_lanes.sql) with it
    update pgque.queue q set queue_paused = _pause_queue.paused
     where q.queue_lane_of = v_id and q.queue_paused <> _pause_queue.paused;
    update pgque.queue q set queue_paused = _pause_queue.paused
     where q.queue_id = v_id and q.queue_paused <> _pause_queue.paused;
    return case when found then 1 else 0 end;
end
$$;

create or replace function pgque.pause_queue(queue text) returns integer
    language sql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$ select pgque._pause_queue(queue, true) $$;

create or replace function pgque.resume_queue(queue text) returns integer
    language sql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$ select pgque._pause_queue(queue, false) $$;

-- The subscription of consumer on queue, checked for the caller's access.
create or replace function pgque._subscriber(queue text, consumer text) returns int4
    language plpgsql stable security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_queue int4 := pgque._queue_id(queue);
    v_sub   int4;
begin
    perform pgque._check_consumer_name(consumer);
    select s.sub_id into v_sub from pgque.subscriber s
      join pgque.consumer c on c.co_id = s.sub_consumer
     where s.sub_queue = v_queue and c.co_name = consumer;
    if not found then
        raise exception 'consumer not found: "%" is not subscribed to queue "%"', consumer, queue
            using errcode = 'undefined_object', schema = 'pgque', table = 'consumer',
                  hint = 'Subscribe it with pgque.subscribe().';
    end if;
    perform pgque._check_access(v_queue, 'consume', v_sub);
    return v_sub;
end
$$;

-- Pause (true) or resume (false) a consumer: 1 when that changed it, 0
-- when it already was so.
create or replace function pgque._pause_consumer(queue text, consumer text, paused boolean)
returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_sub int4 := pgque._subscriber(queue, consumer);
begin
    -- its subscriptions of the queue's lanes (22_lanes.sql) with it
    update pgque.subscriber s set sub_paused = _pause_consumer.paused
      from pgque.subscriber p, pgque.queue l
     where p.sub_id = v_sub and l.queue_lane_of = p.sub_queue
       and s.sub_queue = l.queue_id and s.sub_consumer = p.sub_consumer
       and s.sub_paused <> _pause_consumer.paused;
    update pgque.subscriber s set sub_paused = _pause_consumer.paused
     where s.sub_id = v_sub and s.sub_paused <> _pause_consumer.paused;
    return case when found then 1 else 0 end;
end
$$;

create or replace function pgque.pause_consumer(queue text, consumer text) returns integer
    language sql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$ select pgque._pause_consumer(queue, consumer, true) $$;

create or replace function pgque.resume_consumer(queue text, consumer text) returns integer
    language sql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$ select pgque._pause_consumer(queue, consumer, false) $$;
