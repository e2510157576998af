-- Reading a batch scans the block range its two ticks bound
-- (src/heap_range.c), resuming where the last partial receive stopped.
-- Each case would lose or re-read events if a bound or position were wrong.
\set SHOW_CONTEXT never
select pgque.create_queue('q_heap');
select pgque.set_queue_config('q_heap', 'ticker_max_lag', '0');
select pgque.subscribe('q_heap', 'c');
create function pg_temp.tick() returns boolean language sql as
    $$ select pgque.force_tick('q_heap') is not null and pgque.ticker('q_heap') is not null $$;
create function pg_temp.tbl(n int) returns regclass language sql as
    $$ select format('pgque.event_%s_%s', queue_id, n)::regclass from pgque.queue
        where queue_name = 'q_heap' $$;
-- receive and ack until nothing is left: events, distinct payloads
create function pg_temp.drain(max_return int default 1000) returns table (events bigint, payloads bigint)
language plpgsql as $$
declare m pgque.message; b bigint; n bigint := 0; seen text[] := '{}';
begin
    loop
        b := null;
        for m in select * from pgque.receive('q_heap', 'c', max_return) loop
            n := n + 1;
            seen := seen || m.payload;
            b := m.batch_id;
        end loop;
        exit when b is null;
        perform pgque.ack(b);
    end loop;
    return query select n, (select count(distinct p) from unnest(seen) p);
end $$;

-- Every tick records the tables' ends and the steps for running transactions.
select array_length(tick_heap, 1) as heap_values, array_length(tick_since, 1) % 7 as since_rest
  from pgque.tick t join pgque.queue q on q.queue_id = t.tick_queue
 where q.queue_name = 'q_heap' order by tick_id desc limit 1;
-- Event tables have no index.
select count(*) as indexes from pg_index where indrelid = pg_temp.tbl(0);

-- 1. A receive reads what it returns and one row more, however large the
-- tick: 2,000 events in one tick, 200 receives of 10, each reading 11 rows
-- (pg_stat_xact_user_tables counts the rows a scan returned).
select count(*) from unnest(pgque.send_batch('q_heap',
    array(select 'e' || g from generate_series(1, 2000) g)));
select pg_temp.tick();
create function pg_temp.rows_read() returns bigint language sql as
    $$ select coalesce(sum(seq_tup_read), 0) from pg_stat_xact_user_tables
        where schemaname = 'pgque' and relname like 'event\_%' $$;
create function pg_temp.receive_costs() returns table (receives int, rows_returned bigint, min_read bigint, max_read bigint)
language plpgsql as $$
declare m pgque.message; b bigint; k int; before bigint; r int := 0; got bigint := 0;
        lo bigint := null; hi bigint := null; used bigint;
begin
    loop
        before := pg_temp.rows_read();
        k := 0; b := null;
        for m in select * from pgque.receive('q_heap', 'c', 10) loop
            k := k + 1; b := m.batch_id;
        end loop;
        exit when b is null;
        used := pg_temp.rows_read() - before;
        r := r + 1; got := got + k;
        lo := least(lo, used); hi := greatest(hi, used);
        perform pgque.ack(b);
    end loop;
    return query select r, got, lo, hi;
end $$;
select * from pg_temp.receive_costs();

-- 2. A VACUUM never shortens an event table: a rolled-back transaction's
-- rows at its end are dead, a tick measured the table with them, and a
-- shorter table would take the next events below that tick's bound.
begin;
select count(*) from unnest(pgque.send_batch('q_heap',
    array(select repeat('x', 500) || g from generate_series(1, 300) g)));
rollback;
select pg_temp.tick();
select pg_relation_size(pg_temp.tbl(0)) as size_before \gset
\set ECHO none
select format('vacuum %s', pg_temp.tbl(0)) \gexec
\set ECHO all
select pg_relation_size(pg_temp.tbl(0)) = :size_before as vacuum_kept_length;
select pgque.send('q_heap', 'after vacuum') > 0 as sent;
select pg_temp.tick();
select * from pg_temp.drain();

-- 3. A table rewritten under a split batch (VACUUM FULL, a restore from a
-- dump) has new positions: the batch is read again from its start, with a
-- warning -- its first part is delivered twice, nothing is lost.
select count(*) from unnest(pgque.send_batch('q_heap',
    array(select 'f' || g from generate_series(1, 30) g)));
select pg_temp.tick();
select count(*) as first_part, pgque.ack(min(batch_id)) as acked
  from pgque.receive('q_heap', 'c', 10);
\set ECHO none
select format('vacuum full %s', pg_temp.tbl(0)) \gexec
\set ECHO all
\set VERBOSITY terse
select * from pg_temp.drain();
\set VERBOSITY default

select pgque.unsubscribe('q_heap', 'c');
select pgque.drop_queue('q_heap');
