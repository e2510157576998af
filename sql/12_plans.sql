-- pgque's own statements use the indexes of its metadata tables whatever
-- the statistics say: a plan cached while a table looked empty must not
-- become a sequential scan of pgque.tick or pgque.batch on every batch.
select pgque.create_queue('q_plans');
select pgque.set_queue_config('q_plans', 'ticker_max_lag', '0');
select pgque.subscribe('q_plans', 'plans_c');
select pgque.send('q_plans', 'one') > 0 as sent;
select pgque.ticker('q_plans') is not null as ticked;
-- the tables are tiny: after this ANALYZE any planner would scan them
vacuum analyze pgque.tick, pgque.batch, pgque.subscriber, pgque.queue, pgque.consumer;
-- a new session: nothing planned yet
\c
create temp table got (msg_id bigint, batch_id bigint, payload text);
begin;
insert into got select msg_id, batch_id, payload from pgque.receive('q_plans', 'plans_c');
select pgque.ack((select distinct batch_id from got));
select pgque.send('q_plans', 'two') > 0 as sent;
commit;
begin;
select pgque.ticker('q_plans') is not null as ticked;
create temp table b as select pgque.next_batch('q_plans', 'plans_c') as id;
insert into got select ev_id, (select id from b), ev_data from pgque.get_batch_events((select id from b));
select pgque.finish_batch((select id from b));
select payload from got order by msg_id;
-- what pgque's functions scanned in this transaction
select relname, seq_scan from pg_stat_xact_user_tables
 where schemaname = 'pgque' and relname in ('tick', 'batch', 'subscriber') and seq_scan > 0;
commit;

-- the same while pgque.batch is changed (a column of someone's): receive
-- and ack then run their SQL statements instead of the direct reads
-- (src/meta_rows.c), and those must be planned for their keys too
alter table pgque.batch add column plans_note text;
select pgque.send('q_plans', 'three') > 0 as sent;
select pgque.ticker('q_plans') is not null as ticked;
vacuum analyze pgque.tick, pgque.batch, pgque.subscriber, pgque.queue, pgque.consumer;
\c
begin;
create temp table got2 as select msg_id, batch_id, payload from pgque.receive('q_plans', 'plans_c');
select pgque.ack((select distinct batch_id from got2));
select payload from got2;
select relname, seq_scan from pg_stat_xact_user_tables
 where schemaname = 'pgque' and relname in ('tick', 'batch', 'subscriber') and seq_scan > 0;
commit;
alter table pgque.batch drop column plans_note;
select pgque.drop_queue('q_plans', true);

-- a receive reads the ticks of its window by key, however many ticks the
-- queue has (a lookup planned as "tick_id = any(array)" filtered all of them)
select pgque.create_queue('q_many_ticks');
select pgque.set_queue_config('q_many_ticks', 'ticker_max_lag', '0');
do $$ begin
    for i in 1..300 loop
        perform pgque.send('q_many_ticks', 'old');
        commit;
        perform pgque.force_tick('q_many_ticks');
        perform pgque.ticker('q_many_ticks');
        commit;
    end loop;
end $$;
select pgque.subscribe('q_many_ticks', 'late');
select pgque.send('q_many_ticks', 'new') > 0 as sent;
select pgque.ticker('q_many_ticks') is not null as ticked;
\c
begin;
select payload from pgque.receive('q_many_ticks', 'late');
select idx_tup_fetch < 30 as few_ticks_read from pg_stat_xact_user_tables
 where schemaname = 'pgque' and relname = 'tick';
commit;
-- the same by SQL (the batch comes again: it was not acknowledged)
alter table pgque.batch add column plans_note text;
\c
begin;
select payload from pgque.receive('q_many_ticks', 'late');
select idx_tup_fetch < 30 as few_ticks_read from pg_stat_xact_user_tables
 where schemaname = 'pgque' and relname = 'tick';
commit;
alter table pgque.batch drop column plans_note;
select pgque.drop_queue('q_many_ticks', true);

-- the rule behind it: pgque plans its statements as if its tables were
-- large, so each lookup takes the index made for its key (after the
-- ANALYZE above saw the tables nearly empty)
select * from pgque._explain('select * from pgque.batch where batch_id = 42');
select * from pgque._explain('select batch_id from pgque.batch where batch_sub = 1 and batch_member = '''' order by batch_id desc limit 1');
select * from pgque._explain('select tick_snapshot from pgque.tick where tick_queue = 1 and tick_id = 42');
select * from pgque._explain('update pgque.batch set batch_state = ''d'' where batch_id = 42');
-- the same statement planned as a user's query is left alone
explain (costs off) select * from pgque.batch where batch_id = 42;
select try($$select * from pgque._explain('select 1 from pgque.nothing')$$);
