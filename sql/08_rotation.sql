-- Rotation: tables are TRUNCATEd in turn, never while a consumer still
-- needs them; events written across rotations are all delivered.
\set SHOW_CONTEXT never
select pgque.create_queue('q_rot');
select pgque.set_queue_config('q_rot', 'ticker_max_lag', '0');
select pgque.set_queue_config('q_rot', 'rotation_period', '0');
select pgque.subscribe('q_rot', 'fast');
select pgque.subscribe('q_rot', 'slow');
create temp table fast_got (payload text);
create temp table slow_got (payload text);
create function pg_temp.cur_table() returns int language sql as
    $$ select queue_cur_table from pgque.queue where queue_name = 'q_rot' $$;
create function pg_temp.drain(consumer text) returns int language plpgsql as $$
declare n int := 0; m pgque.message; b bigint;
begin
    loop
        b := null;
        for m in select * from pgque.receive('q_rot', consumer, 1000) loop
            execute format('insert into %I values ($1)', consumer || '_got') using m.payload;
            n := n + 1;
            b := m.batch_id;
        end loop;
        exit when b is null;
        perform pgque.ack(b);
    end loop;
    return n;
end $$;

select pgque.send('q_rot', 'r1');
select pgque.ticker('q_rot') is not null;
select pg_temp.drain('fast');
-- rotation recycles the oldest table, never the one r1 is in: it may go on
-- although slow has not read r1 yet, and slow still gets it afterwards
select pgque.maint_rotate_tables_step1('q_rot') as rotated;
select pg_temp.cur_table() as now_current;
select event_count('q_rot', 0) as r1_in_old_table, event_count('q_rot', 1) as new_table_empty;
select pg_temp.drain('slow');
-- until step 2 has run in a later transaction, no further rotation
select queue_switch_step2 is null as step2_pending from pgque.queue where queue_name = 'q_rot';
select pgque.maint_rotate_tables_step1('q_rot') as refused_step2_pending;
select pgque.maint_rotate_tables_step2() as completed;
select queue_switch_step2 > queue_switch_step1 as step2_above_step1 from pgque.queue where queue_name = 'q_rot';
select pgque.maint_rotate_tables_step2() as nothing_pending;
-- step 2 in step 1's own transaction does nothing
begin;
select pgque.send('q_rot', 'r2');
select pgque.ticker('q_rot') is not null;
commit;
-- that tick was taken before r2 committed; the next one covers it
select pg_temp.drain('fast'), pg_temp.drain('slow');
select pgque.force_tick('q_rot') is not null;
select pgque.ticker('q_rot') is not null;
select pg_temp.drain('fast'), pg_temp.drain('slow');
select pgque.ticker('q_rot') is null as no_new_events;
begin;
select pgque.maint_rotate_tables_step1('q_rot') as rotated;
select pgque.maint_rotate_tables_step2() as not_in_same_transaction;
commit;
select pgque.maint_rotate_tables_step2() as completed;
select pg_temp.cur_table() as now_current;

-- slow lags: rotation waits for it, and it still gets everything
select pgque.send('q_rot', 'r3');
select pgque.ticker('q_rot') is not null;
select pg_temp.drain('fast');
select pgque.maint_rotate_tables_step1('q_rot') as refused_slow_consumer;
select pg_temp.drain('slow');
select array_agg(payload order by payload) as slow_has from slow_got;

-- many rotations with events in every table, in separate transactions:
-- both consumers get every event exactly once. Rotations are counted: each
-- step 1 that switched tables.
create temp table rotations (n int);
insert into rotations values (0);
do $$
declare i int;
begin
    for i in 1..9 loop
        perform pgque.send_batch('q_rot', array['c' || i || 'a', 'c' || i || 'b']);
        commit;
        perform pgque.ticker('q_rot');
        commit;
        perform pg_temp.drain('fast');
        if i % 3 = 0 then
            perform pg_temp.drain('slow');
        end if;
        perform pgque.send('q_rot', 'd' || i);
        commit;
        perform pgque.ticker('q_rot');
        commit;
        perform pgque.maint_rotate_tables_step2();
        commit;
        update rotations set n = n + pgque.maint_rotate_tables_step1('q_rot');
        commit;
        perform pgque.maint_rotate_tables_step2();
        commit;
    end loop;
end $$;
-- slow reads only every third round, and a table is recycled only once
-- both have read past the switch before: 9 rounds, this many rotations
select n as rotations from rotations;
select pg_temp.drain('fast') as fast_rest, pg_temp.drain('slow') as slow_rest;
select count(*) as fast_total, count(distinct payload) as distinct_payloads from fast_got;
select count(*) as slow_total, count(distinct payload) as distinct_payloads from slow_got;
select (select array_agg(payload order by payload) from fast_got) =
       (select array_agg(payload order by payload) from slow_got) as same_events;
select (select count(*) from pgque.batch b join pgque.subscriber s on s.sub_id = b.batch_sub
         join pgque.queue q on q.queue_id = s.sub_queue where q.queue_name = 'q_rot') > 0 as has_history;
-- truncated tables keep the queue small, ticks of old windows are gone
select event_count('q_rot') < 30 as old_tables_truncated,
       event_count('q_rot', (select queue_cur_table from pgque.queue where queue_name = 'q_rot')) = 0 as current_empty;
select count(*) < 20 as ticks_trimmed from pgque.tick t join pgque.queue q on q.queue_id = t.tick_queue
 where q.queue_name = 'q_rot';

-- rotation_period is respected: with both consumers caught up and step 2
-- done, only the period keeps the queue from rotating
select pgque.send('q_rot', 'e1');
select pgque.ticker('q_rot') is not null;
select pg_temp.drain('fast') as fast_e1, pg_temp.drain('slow') as slow_e1;
select pgque.maint_rotate_tables_step2() >= 0 as step2;
select queue_switch_step2 is not null as step2_done from pgque.queue where queue_name = 'q_rot';
select pgque.set_queue_config('q_rot', 'rotation_period', '1 hour');
select pgque.maint_rotate_tables_step1('q_rot') as too_soon;
select pgque.set_queue_config('q_rot', 'rotation_period', '0');
select pgque.maint_rotate_tables_step1('q_rot') as rotates_when_due;
select try($$select pgque.maint_rotate_tables_step1('nope')$$);
