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

-- Make the next ticker pass tick this queue even below its thresholds.
-- Returns the queue's current last tick id (PgQ's force_tick contract).
create or replace function pgque.force_next_tick(queue text) returns bigint
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_id    int4 := pgque._queue_id(queue);
    v_tick  bigint;
begin
    update pgque.queue set queue_tick_forced = true
     where queue_id = v_id and not queue_tick_forced;
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
