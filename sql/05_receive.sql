-- receive / ack: at-least-once delivery, partial receives, empty batches,
-- exactly-once with the consumer's own writes.
\set SHOW_CONTEXT never
select pgque.create_queue('q_recv');
select pgque.set_queue_config('q_recv', 'ticker_max_lag', '0');
select pgque.subscribe('q_recv', 'r');

select count(*) as nothing_yet from pgque.receive('q_recv', 'r');
select pgque.send_batch('q_recv', array['m1', 'm2', 'm3', 'm4', 'm5']);
select pgque.ticker('q_recv') is not null;

-- two at a time; without ack the same messages come back (at-least-once),
-- under a new batch id: the old id can no longer be acked or nacked
create temp table r0 as select * from pgque.receive('q_recv', 'r', 2);
select msg_id, payload from r0;
create temp table r1 as select * from pgque.receive('q_recv', 'r', 2);
select (select array_agg(msg_id) from r0) = (select array_agg(msg_id) from r1) as redelivered,
       (select distinct batch_id from r0) <> (select distinct batch_id from r1) as new_id;
select pgque.ack((select distinct batch_id from r0)) as old_id;
select try(format('select pgque.nack(%s, row(m.*)::pgque.message) from r0 m', (select distinct batch_id from r0)));
-- next_batch keeps PgQ's contract: the open batch's id, until it is finished
select pgque.next_batch('q_recv', 'r') = (select distinct batch_id from r1) as next_batch_same_id;

-- ack covers only what was handed out: the rest comes next, under a new id
select pgque.ack((select distinct batch_id from r1));
create temp table r2 as select * from pgque.receive('q_recv', 'r', 2);
select msg_id, payload, batch_id <> (select distinct batch_id from r1) as new_batch_id from r2;
-- acking the old id again does nothing (and cannot skip m3, m4)
select pgque.ack((select distinct batch_id from r1)) as double_ack;
select pgque.ack((select distinct batch_id from r2));
select msg_id, payload from pgque.receive('q_recv', 'r', 10);
select pgque.ack((select batch_id from pgque.receive('q_recv', 'r', 10) limit 1));

-- ticks are read in chunks: 45 one-event ticks (each send and tick its own
-- transaction) span several chunks and still come as one batch; a smaller
-- max_return takes only the ticks that fit it
create procedure pg_temp.send_ticked(n int) language plpgsql as $$ begin
    for i in 1..n loop
        perform pgque.send('q_recv', 'k' || i);
        commit;
        perform pgque.ticker('q_recv');
        commit;
    end loop;
end $$;
call pg_temp.send_ticked(45);
select count(distinct batch_id) as batches, count(*) as events,
       min(substr(payload, 2)::int), max(substr(payload, 2)::int)
  from pgque.receive('q_recv', 'r', 100);
select pgque.ack((select batch_id from pgque.receive('q_recv', 'r', 100) limit 1));
call pg_temp.send_ticked(45);
create temp table small as select * from pgque.receive('q_recv', 'r', 5);
select count(*) as events, min(substr(payload, 2)::int), max(substr(payload, 2)::int) from small;
select pgque.ack((select distinct batch_id from small));
select count(*) as rest, min(substr(payload, 2)::int), max(substr(payload, 2)::int)
  from pgque.receive('q_recv', 'r', 100);
select pgque.ack((select batch_id from pgque.receive('q_recv', 'r', 100) limit 1));
select count(*) as drained from pgque.receive('q_recv', 'r');

-- PgQue's footgun: 150 events, default max_return 100, ack -> nothing lost
select cardinality(pgque.send_batch('q_recv', array(select 'f' || g from generate_series(1, 150) g)));
select pgque.ticker('q_recv') is not null;
create temp table f1 as select * from pgque.receive('q_recv', 'r');
select count(*), min(payload), max(payload) from f1;
select pgque.ack((select distinct batch_id from f1));
create temp table f2 as select * from pgque.receive('q_recv', 'r');
select count(*) as rest, min(substr(payload, 2)::int), max(substr(payload, 2)::int) from f2;
select pgque.ack((select distinct batch_id from f2));
select count(*) as drained from pgque.receive('q_recv', 'r');

-- an empty tick window is finished by receive itself
select pgque.force_tick('q_recv') is not null;
select pgque.ticker('q_recv') is not null as empty_tick;
select count(*) as empty from pgque.receive('q_recv', 'r');
select sub_batch is null as no_open_batch,
       sub_last_tick = (select max(tick_id) from pgque.tick where tick_queue = s.sub_queue) as at_newest
  from pgque.subscription s join pgque.consumer c on c.co_id = s.sub_consumer where c.co_name = 'r';

-- a lagging consumer gets several small ticks in one batch
select pgque.send('q_recv', 't1');
select pgque.ticker('q_recv') is not null;
select pgque.send('q_recv', 't2');
select pgque.ticker('q_recv') is not null;
select pgque.send('q_recv', 't3');
select pgque.ticker('q_recv') is not null;
select count(distinct batch_id) as batches, array_agg(payload order by msg_id) as one_batch
  from pgque.receive('q_recv', 'r', 10);
select pgque.ack((select batch_id from pgque.receive('q_recv', 'r', 10) limit 1));

-- exactly-once: the consumer's writes and the ack commit or roll back together
create table processed (msg_id bigint primary key, payload text);
select pgque.send('q_recv', 'once');
select pgque.ticker('q_recv') is not null;
begin;
insert into processed select msg_id, payload from pgque.receive('q_recv', 'r');
select pgque.ack((select s.sub_batch from pgque.subscription s
                   join pgque.consumer c on c.co_id = s.sub_consumer where c.co_name = 'r'));
rollback;
select count(*) as after_rollback from processed;
begin;
create temp table once as select * from pgque.receive('q_recv', 'r');
insert into processed select msg_id, payload from once;
select pgque.ack((select distinct batch_id from once));
commit;
select payload from processed;
select count(*) as not_again from pgque.receive('q_recv', 'r');

-- receive and ack in one transaction, in a loop, drain everything
select cardinality(pgque.send_batch('q_recv', array(select 'l' || g from generate_series(1, 35) g)));
select pgque.ticker('q_recv') is not null;
do $$
declare n int; b bigint; total int := 0;
begin
    loop
        select count(*), max(batch_id) into n, b from pgque.receive('q_recv', 'r', 10);
        exit when n = 0;
        total := total + n;
        perform pgque.ack(b);
    end loop;
    raise notice 'drained % messages', total;
end $$;

select try($$select * from pgque.receive('q_recv', 'r', 0)$$);
select try($$select * from pgque.receive('q_recv', 'r', null)$$);
select try($$select * from pgque.receive('q_recv', 'nobody')$$);
select try($$select * from pgque.receive('nope', 'r')$$);
select try($$select pgque.ack(null)$$);
select pgque.ack(-1) as unknown_batch;

-- a lagging consumer with max_return = 2147483647 (clients' default) gets
-- at most about pgque.max_batch_events per batch, merged from whole ticks
select pgque.create_queue('q_merge');
select pgque.subscribe('q_merge', 'm');
select pgque.set_queue_config('q_merge', 'ticker_max_lag', '0');
do $$
declare i int;
begin
    for i in 1..5 loop
        perform pgque.send_batch('q_merge', array(select 't' || i || '-' || g from generate_series(1, 4) g));
        commit;
        perform pgque.ticker('q_merge');
        commit;
    end loop;
end $$;
set pgque.max_batch_events = 10;
select count(*) as merged, count(distinct batch_id) as batches, min(batch_id) as merged_batch
  from pgque.receive('q_merge', 'm', 2147483647) \gset
select :merged as merged, :batches as batches;
select pgque.ack(:merged_batch);
reset pgque.max_batch_events;
select count(*) as rest from pgque.receive('q_merge', 'm', 2147483647);
select pgque.drop_queue('q_merge', true);
