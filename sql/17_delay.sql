-- Delayed delivery: send_at, send_batch_at and a queue's delivery_delay.
-- The event enters the stream when it is due, with the id send_at
-- returned; maint_retry_events() (the worker's call) moves it. Waiting
-- events sit in delay buckets that are emptied by TRUNCATE, never row by row.
\set SHOW_CONTEXT never
select pgque.create_queue('q_delay');
select pgque.set_queue_config('q_delay', 'ticker_max_lag', '0');
select pgque.subscribe('q_delay', 'c');

-- not due: not in the stream; the id is the one consumers will see
select pgque.send_at('q_delay', 'job', 'later', clock_timestamp() + interval '300 milliseconds') as id_later \gset
select pgque.send_at('q_delay', 'job', 'much later', now() + interval '1 hour') as id_hour \gset
select pgque.maint_retry_events() as moved_too_early;
select pgque.ticker('q_delay') is not null;
select count(*) as nothing_yet from pgque.receive('q_delay', 'c');
select delayed, next_delivery > now() as in_future, retries from pgque.get_delayed_info('q_delay');

-- due: one call moves it, a second finds nothing
select pg_sleep(0.35);
select pgque.maint_retry_events() as moved;
select pgque.maint_retry_events() as moved_again;
select pgque.ticker('q_delay') is not null;
create temp table r1 as select * from pgque.receive('q_delay', 'c');
select msg_id = :id_later as same_id, type, payload, retry_count from r1;
select pgque.ack(batch_id) from r1 limit 1;
select delayed, retries from pgque.get_delayed_info('q_delay');

-- already due: sent at once (ids in order), in every payload form
select pgque.send_at('q_delay', 'past', 'p1', now() - interval '1 second') > :id_hour as new_id;
select pgque.send_at('q_delay', '{"a": 1}'::jsonb, now() - interval '1 second') is not null;
select pgque.send_at('q_delay', 'text payload', now() - interval '1 second') is not null;
select pgque.send_at('q_delay', 'j', '{"b": 2}'::jsonb, now() - interval '1 second') is not null;
select cardinality(pgque.send_batch_at('q_delay', array['x', 'y'], now())) as batch_now;
select pgque.ticker('q_delay') is not null;
select type, payload from pgque.receive('q_delay', 'c') order by msg_id;
select pgque.ack(batch_id) from pgque.receive('q_delay', 'c') limit 1;

-- send_batch_at: one id per payload, all due together
select cardinality(pgque.send_batch_at('q_delay', 'b', array['b1', 'b2', 'b3'],
                                       clock_timestamp() + interval '200 milliseconds')) as batch_later;
select cardinality(pgque.send_batch_at('q_delay', array['{"n": 1}', '{"n": 2}']::jsonb[],
                                       clock_timestamp() + interval '200 milliseconds')) as batch_jsonb;
select cardinality(pgque.send_batch_at('q_delay', 'b', array[]::text[], now() + interval '1 minute')) as empty;
select delayed from pgque.get_delayed_info('q_delay');
select pg_sleep(0.25);
select pgque.maint_retry_events() as moved;
select pgque.ticker('q_delay') is not null;
select type, payload from pgque.receive('q_delay', 'c') order by msg_id;
select pgque.ack(batch_id) from pgque.receive('q_delay', 'c') limit 1;

-- delivery_delay: send and send_batch wait that long; insert_event (PgQ's
-- primitive) and send_at do not add it
select pgque.set_queue_config('q_delay', 'delivery_delay', '200 milliseconds');
select value from pgque.get_queue_config('q_delay') where param = 'delivery_delay';
select pgque.send('q_delay', 'd1') as id_d1 \gset
select cardinality(pgque.send_batch('q_delay', 'dd', array['"d2"', '"d3"']::jsonb[])) as batch_delayed;
select pgque.insert_event('q_delay', 'now', 'i1') is not null;
select delayed from pgque.get_delayed_info('q_delay');
select pgque.ticker('q_delay') is not null;
select type, payload from pgque.receive('q_delay', 'c');
select pgque.ack(batch_id) from pgque.receive('q_delay', 'c') limit 1;
select pg_sleep(0.25);
select pgque.maint_retry_events() as moved;
select pgque.ticker('q_delay') is not null;
select msg_id = :id_d1 as first_is_d1, type, payload from pgque.receive('q_delay', 'c') order by msg_id;
select pgque.ack(batch_id) from pgque.receive('q_delay', 'c') limit 1;
-- NULL resets it
select pgque.set_queue_config('q_delay', 'delivery_delay', null);
select value is null as no_delay from pgque.get_queue_config('q_delay') where param = 'delivery_delay';
select pgque.send('q_delay', 'not delayed') is not null;
select delayed from pgque.get_delayed_info('q_delay');

-- bad input: 22023 / 42704, nothing stored
select try($$select pgque.send_at('q_delay', 't', 'p', null)$$);
select try($$select pgque.send_at('q_delay', 't', 'p', 'infinity')$$);
select try($$select pgque.send_at('q_delay', null, 'p', now() + interval '1 minute')$$);
select try($$select pgque.send_at('nope', 't', 'p', now() + interval '1 minute')$$);
select try($$select pgque.send_at('nope', 't', 'p', now() - interval '1 minute')$$);
select try($$select pgque.send_batch_at('q_delay', 't', array['a'], null)$$);
select try($$select pgque.set_queue_config('q_delay', 'delivery_delay', '-1 second')$$);
select try($$select pgque.set_queue_config('q_delay', 'delivery_delay', '400 days')$$);
select try($$select pgque.set_queue_config('q_delay', 'delivery_delay', 'soon')$$);
select delayed from pgque.get_delayed_info('q_delay');

-- a disabled queue refuses delayed events too
update pgque.queue set queue_disable_insert = true where queue_name = 'q_delay';
select try($$select pgque.send_at('q_delay', 't', 'p', now() + interval '1 minute')$$);
update pgque.queue set queue_disable_insert = false where queue_name = 'q_delay';

-- a bucket whose span is over is emptied by TRUNCATE and reused; nothing in
-- it is lost or moved twice
select pgque.send_at('q_delay', 'span', 's' || g, now() + interval '2 hours') from generate_series(1, 3) g;
select db_table as span_table from pgque.delay_bucket
 where db_from is not null and db_until - db_from = interval '1 hour' \gset
select pg_relation_size(format('pgque.delay_%s', :span_table)) > 0 as has_rows;
-- (pretend the two hours have passed: move the span into the past)
update pgque.delay_bucket set db_from = db_from - interval '1 day', db_until = db_until - interval '1 day'
 where db_table = :span_table;
select pgque.maint_retry_events() as moved;
select db_from is null as freed, pg_relation_size(format('pgque.delay_%s', :span_table)) as bytes
  from pgque.delay_bucket where db_table = :span_table;
select pgque.ticker('q_delay') is not null;
select type, payload from pgque.receive('q_delay', 'c') order by msg_id;
select pgque.ack(batch_id) from pgque.receive('q_delay', 'c') limit 1;
select pgque.send_at('q_delay', 'reuse', 'r', now() + interval '3 hours') is not null;
select db_table = :span_table as reused from pgque.delay_bucket
 where db_from is not null and db_until - db_from = interval '1 hour';
select count(*) as buckets_made from pgque.delay_bucket;

-- wider spans further away
select extract(epoch from span_until - span_from) as span_seconds
  from (values (interval '10 seconds'), (interval '5 hours'), (interval '10 days'), (interval '100 days')) v(d),
       pgque._delay_span(now() + v.d, now());

-- a dropped queue's delayed events go nowhere
select pgque.create_queue('q_delay_drop');
select pgque.send_at('q_delay_drop', 'gone', 'g', clock_timestamp() + interval '100 milliseconds');
select pgque.drop_queue('q_delay_drop');
select pg_sleep(0.15);
select pgque.maint_retry_events() as moved_nowhere;

-- the worker's planning: the next due time
select pgque._delay_next_due() between now() + interval '59 minutes' and now() + interval '1 hour'
           as next_is_much_later;

-- writers may send delayed events, readers may not
set role pgque_writer;
select pgque.send_at('q_delay', 'w', 'by writer', now() + interval '1 hour') is not null;
reset role;
set role pgque_reader;
select try($$select pgque.send_at('q_delay', 'w', 'by reader', now() + interval '1 hour')$$);
select delayed from pgque.get_delayed_info('q_delay');
reset role;
select pgque.unsubscribe('q_delay', 'c');
select pgque.drop_queue('q_delay');
