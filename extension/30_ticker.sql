-- Ticks (src/ticker.c). Manual calls are safe while the worker runs: tickers
-- of one queue serialize on a lock and take their snapshot after it.

create or replace function pgque.ticker(queue text) returns bigint
    language c volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
    as 'MODULE_PATHNAME', 'pgque_ticker_queue';

create or replace function pgque.ticker() returns bigint
    language c volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
    as 'MODULE_PATHNAME', 'pgque_ticker_all';

-- PgQ's external ticker, for queues with external_ticker = true: insert a
-- tick with the given id, time and event sequence value (src/ticker.c).
create or replace function pgque.ticker(queue text, tick_id bigint, tick_time timestamptz,
                                        event_seq bigint) returns bigint
    language c volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
    as 'MODULE_PATHNAME', 'pgque_ticker_external';

-- Make the next ticker pass tick this queue even below its thresholds.
-- Returns the queue's current last tick id (PgQ's force_tick contract).
create or replace function pgque.force_next_tick(queue text) returns bigint
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_id    int4 := pgque._queue_id(queue);
    v_tick  bigint;
    q       record;
begin
    select queue_ticker_paused, queue_external_ticker into q from pgque.queue where queue_id = v_id;
    if q.queue_ticker_paused then
        raise exception 'queue "%" is paused', queue
            using errcode = 'object_not_in_prerequisite_state', schema = 'pgque', table = 'queue',
                  hint = 'Set ticker_paused to false with pgque.set_queue_config().';
    end if;
    if q.queue_external_ticker then
        raise exception 'queue "%" is ticked externally', queue
            using errcode = 'object_not_in_prerequisite_state', schema = 'pgque', table = 'queue',
                  hint = 'Push its ticks with pgque.ticker(queue, tick_id, tick_time, event_seq).';
    end if;
    update pgque.queue set queue_tick_forced = true
     where (queue_id = v_id or queue_lane_of = v_id) and not queue_tick_forced;
    perform pgque._wake_ticker(v_id);
    select t.tick_id into v_tick from pgque.tick t
     where t.tick_queue = v_id order by t.tick_id desc limit 1;
    return v_tick;
end
$$;

create or replace function pgque.force_tick(queue text) returns bigint
    language sql security definer
    set search_path = pg_catalog, pgque, pg_temp
    return pgque.force_next_tick(queue);

-- Tick a queue by id if due (create_queue's first tick, lanes).
create or replace function pgque._ticker_id(queue_id int4) returns bigint
    language c volatile strict as 'MODULE_PATHNAME', 'pgque_ticker_id';
