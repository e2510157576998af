-- Prometheus text exposition of the queues, consumers, schedules and the
-- worker, in one call (docs/operations.md#metrics). Names are stable;
-- counters end in _total. A queue's lanes (priorities) count with the
-- queue. Written in C (src/metrics.c): a scraper calls it every few
-- seconds, also with thousands of queues.
create or replace function pgque.metrics() returns text
    language c stable security definer
    set search_path = pg_catalog, pgque, pg_temp
    -- its statements read every queue, so the planner's estimates (scaled
    -- up for pgque's tables, src/plans.c) would compile them with JIT on
    -- every call (a second of compiling for a few milliseconds of reading), and
    -- plan parallel scans of tables that hold a few rows
    set jit = off
    set max_parallel_workers_per_gather = 0
    as 'MODULE_PATHNAME', 'pgque_metrics';
