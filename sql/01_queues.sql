-- Queues: create, drop, configure.
\set SHOW_CONTEXT never

select pgque.create_queue('q_basic');
select pgque.create_queue('q_basic');   -- exists: 0

-- three event tables with an ev_txid index, two sequences, a first tick
select c.relname, c.relkind
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = 'pgque' and c.relname like 'event_' || (select queue_id from pgque.queue where queue_name = 'q_basic') || '_%'
 order by 1;
select count(*) as first_ticks from pgque.tick t join pgque.queue q on q.queue_id = t.tick_queue
 where q.queue_name = 'q_basic';
select queue_ntables, queue_cur_table, queue_max_retries, queue_ticker_max_count,
       queue_ticker_max_lag, queue_ticker_idle_period, queue_rotation_period
  from pgque.queue where queue_name = 'q_basic';

-- any characters are allowed in names, and are never spliced into SQL
select pgque.create_queue('it''s; drop table pgque.queue; --');
select pgque.create_queue('with space');
select pgque.create_queue('Ünïcødé ✓');
select pgque.create_queue(repeat('x', 57));
select queue_name from pgque.queue order by queue_id;
select pgque.send('it''s; drop table pgque.queue; --', 'payload') > 0 as sent;

-- configuration: valid values, PgQ-style prefixed names, NULL resets
select pgque.set_queue_config('q_basic', 'ticker_max_count', '10');
select pgque.set_queue_config('q_basic', 'queue_ticker_max_lag', '250 ms');
select pgque.set_queue_config('q_basic', 'ticker_idle_period', '2 minutes');
select pgque.set_queue_config('q_basic', 'ticker_paused', 'true');
select pgque.set_queue_config('q_basic', 'rotation_period', '1 hour');
select pgque.set_queue_config('q_basic', 'external_ticker', 'false');
select pgque.set_queue_config('q_basic', 'max_retries', '0');
select queue_ticker_max_count, queue_ticker_max_lag, queue_ticker_idle_period,
       queue_ticker_paused, queue_rotation_period, queue_external_ticker, queue_max_retries
  from pgque.queue where queue_name = 'q_basic';
select pgque.set_queue_config('q_basic', 'ticker_max_count', null);
select pgque.set_queue_config('q_basic', 'ticker_paused', null);
select pgque.set_queue_config('q_basic', 'max_retries', null);
select queue_ticker_max_count, queue_ticker_paused, queue_max_retries
  from pgque.queue where queue_name = 'q_basic';

-- invalid configuration is rejected and changes nothing
select pgque.set_queue_config('q_basic', 'ticker_max_count', '0');
select pgque.set_queue_config('q_basic', 'ticker_max_count', 'many');
select pgque.set_queue_config('q_basic', 'ticker_max_lag', '-1 second');
select pgque.set_queue_config('q_basic', 'ticker_idle_period', '0');
select pgque.set_queue_config('q_basic', 'ticker_paused', 'maybe');
select pgque.set_queue_config('q_basic', 'max_retries', '-1');
-- ranges: values that would overflow time arithmetic are refused
select pgque.set_queue_config('q_basic', 'rotation_period', '100000000 years');
select pgque.set_queue_config('q_basic', 'rotation_period', '366 days');
select pgque.set_queue_config('q_basic', 'ticker_idle_period', '1000 years');
select pgque.set_queue_config('q_basic', 'ticker_max_lag', '2 days');
select pgque.set_queue_config('q_basic', 'max_retries', '10001');
select pgque.set_queue_config('q_basic', 'ticker_max_count', '1000000001');
select pgque.set_queue_config('q_basic', 'rotation_period', '365 days');
select pgque.set_queue_config('q_basic', 'ticker_idle_period', '1 day');
select pgque.maint() >= 0 as maint_works, count(*) > 0 as status_works from pgque.status();
select pgque.set_queue_config('q_basic', 'rotation_period', null);
select pgque.set_queue_config('q_basic', 'ticker_idle_period', null);
select pgque.set_queue_config('q_basic', 'queue_name', 'other');
select pgque.set_queue_config('q_basic', null, '1');
select pgque.set_queue_config('nope', 'max_retries', '1');
select queue_name, queue_ticker_max_count, queue_max_retries, queue_ticker_max_lag
  from pgque.queue where queue_name = 'q_basic';

-- drop: refused while consumers exist, forced drop removes them
select pgque.subscribe('q_basic', 'c1');
select pgque.drop_queue('q_basic');
select pgque.drop_queue('q_basic', force => true);
select count(*) as left_over_subscribers from pgque.subscriber;
select count(*) as left_over_ticks from pgque.tick t
 where not exists (select from pgque.queue q where q.queue_id = t.tick_queue);
select count(*) as left_over_tables
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = 'pgque' and c.relname ~ '^event_[0-9]+_'
   and substring(c.relname from '^event_([0-9]+)_')::int not in (select queue_id from pgque.queue);
select pgque.drop_queue('q_basic');
select pgque.drop_queue('with space');
select pgque.drop_queue('Ünïcødé ✓');
select pgque.drop_queue(repeat('x', 57));
select pgque.drop_queue('it''s; drop table pgque.queue; --', true);
select count(*) as queues_left from pgque.queue;
