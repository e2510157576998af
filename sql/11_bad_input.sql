-- Bad input: every public function, called wrongly, fails with a clear
-- SQLSTATE (or the documented result) and leaves all state unchanged.
\set SHOW_CONTEXT never
select pgque.create_queue('q_bad');
select pgque.set_queue_config('q_bad', 'ticker_max_lag', '0');
select pgque.subscribe('q_bad', 'c');
select pgque.send('q_bad', 'x') is not null;
select pgque.ticker('q_bad') is not null;
create temp table open_batch as select * from pgque.receive('q_bad', 'c');
select batch_id as open_id from open_batch \gset
select state_digest() as before \gset

create temp table cases (n serial, sql text);
insert into cases (sql) values
-- names: NULL, empty, too long, dot in consumer names
    ($$select pgque.create_queue(null)$$),
    ($$select pgque.create_queue('')$$),
    ($$select pgque.create_queue(repeat('n', 58))$$),
    ($$select pgque.create_queue(repeat('é', 29))$$),
    ($$select pgque.subscribe('q_bad', null)$$),
    ($$select pgque.subscribe('q_bad', '')$$),
    ($$select pgque.subscribe('q_bad', 'a.b')$$),
    ($$select pgque.subscribe('q_bad', repeat('c', 58))$$),
    ($$select pgque.subscribe(null, 'c')$$),
    ($$select pgque.unsubscribe('q_bad', null)$$),
    ($$select pgque.register_consumer_at('q_bad', 'c', -1)$$),
    ($$select pgque.drop_queue(null)$$),
    ($$select pgque.drop_queue('q_bad', null)$$),
    ($$select pgque.set_queue_config(null, 'max_retries', '1')$$),
    ($$select pgque.set_queue_config('q_bad', 'max_retries', '1; drop table pgque.queue')$$),
    ($$select pgque.set_queue_config('q_bad', 'max_retries', '99999999999')$$),
    ($$select pgque.set_queue_config('q_bad', 'rotation_period', 'soon')$$),
-- unknown objects
    ($$select pgque.drop_queue('nope')$$),
    ($$select pgque.subscribe('nope', 'c')$$),
    ($$select pgque.unsubscribe('nope', 'c')$$),
    ($$select pgque.send('nope', 'x')$$),
    ($$select pgque.send('nope', 't', '"x"'::jsonb)$$),
    ($$select pgque.send_batch('nope', 't', array['x'])$$),
    ($$select pgque.insert_event('nope', 't', 'x', 'a', 'b', 'c', 'd')$$),
    ($$select * from pgque.receive('nope', 'c')$$),
    ($$select * from pgque.receive('q_bad', 'nobody')$$),
    ($$select pgque.next_batch('q_bad', 'nobody')$$),
    ($$select * from pgque.next_batch_info('nope', 'c')$$),
    ($$select * from pgque.next_batch_custom('q_bad', 'c', null, -1, null)$$),
    ($$select pgque.ticker('nope')$$),
    ($$select pgque.force_tick(null)$$),
    ($$select pgque.maint_rotate_tables_step1(null)$$),
    ($$select * from pgque.get_queue_info('nope')$$),
    ($$select * from pgque.get_consumer_info('q_bad', 'nobody')$$),
    ($$select * from pgque.dlq_inspect(null)$$),
    ($$select * from pgque.dlq_replay_all(null)$$),
    ($$select pgque.dlq_purge('nope')$$),
-- batch ids: unknown, NULL, finished
    ($$select * from pgque.get_batch_events(-1)$$),
    ($$select * from pgque.get_batch_events(null)$$),
    ($$select * from pgque.get_batch_info(-1)$$),
    ($$select pgque.finish_batch(null)$$),
    ($$select pgque.event_retry(-1, 1, 0)$$),
    ($$select pgque.event_retry(null, 1, now())$$),
    ($$select pgque.batch_retry(-1, 0)$$),
    ($$select pgque.nack(-1, row(1, -1, 't', 'p', null, now(), null, null, null, null)::pgque.message)$$),
-- intervals, counts, arrays
    ($$select * from pgque.receive('q_bad', 'c', -5)$$),
    ($$select pgque.send_batch('q_bad', null::text[])$$),
    ($$select pgque.send_batch('q_bad', 't', null::jsonb[])$$),
    ($$select pgque.dlq_purge('q_bad', '-1 day')$$),
    ($$select * from pgque.dlq_inspect('q_bad', null)$$),
    ($$select pgque.event_retry(1, 1, null::int)$$),
    ($$select pgque.event_retry(1, 1, null::timestamptz)$$),
    ($$select pgque.batch_retry(1, -1)$$),
-- the jsonb overloads (invalid JSON never reaches them: the cast rejects it)
    ($$select pgque.send('nope', '{}'::jsonb)$$),
    ($$select pgque.send(null, 't', '{}'::jsonb)$$),
    ($$select pgque.send_batch('', array['[1]'::jsonb])$$),
-- the rest of the API, once each
    ($$select pgque.register_consumer(null, 'c')$$),
    ($$select pgque.unregister_consumer('nope', 'c')$$),
    ($$select pgque.force_next_tick('nope')$$),
    ($$select pgque.insert_event('nope', 't', 'd')$$),
    ($$select pgque.insert_event(repeat('x', 100), 't', 'd')$$),
    ($$select pgque.send('', '{}'::jsonb)$$),
    ($$select pgque.send(null, 't', 'x')$$),
    ($$select pgque.send_batch('nope', array['{}']::jsonb[])$$),
    ($$select pgque.send_batch('', 't', array['x'])$$),
    ($$select * from pgque.get_consumer_info('nope')$$),
    ($$select * from pgque.get_consumer_info(null, 'a.b')$$),
    ($$select pgque.dlq_replay(null)$$),
    ($$select pgque.dlq_replay(-1)$$),
    ($$select pgque.ticker('')$$),
    ($$select pgque.drop_queue('', true)$$),
    ($$select * from pgque.receive('q_bad', '')$$);
insert into cases (sql) values
    (format($$select pgque.nack(%s, row(123456, %s, 't', 'p', null, now(), null, null, null, null)::pgque.message)$$,
            :open_id, :open_id)),
    (format($$select pgque.nack(%s, row(m.*)::pgque.message, '-1 s') from open_batch m$$, :open_id)),
    (format($$select pgque.event_retry(%s, 123456, 0)$$, :open_id));
-- time: delayed sends, policy settings, pausing
insert into cases (sql) values
    ($$select pgque.send_at(null, 't', 'p', now() + interval '1 hour')$$),
    ($$select pgque.send_at('q_bad', 't', 'p', null)$$),
    ($$select pgque.send_at('q_bad', null, 'p', now() + interval '1 hour')$$),
    ($$select pgque.send_at('nope', '{"a": 1}'::jsonb, now() + interval '1 hour')$$),
    ($$select pgque.send_batch_at('q_bad', 't', null::text[], now() + interval '1 hour')$$),
    ($$select pgque.send_batch_at('q_bad', array['x'], '-infinity')$$),
    ($$select pgque.set_queue_config('q_bad', 'retry_backoff', 'linear')$$),
    ($$select pgque.set_queue_config('q_bad', 'message_ttl', '0')$$),
    ($$select pgque.pause_queue(null)$$),
    ($$select pgque.pause_queue('nope')$$),
    ($$select pgque.resume_queue('')$$),
    ($$select pgque.pause_consumer('q_bad', null)$$),
    ($$select pgque.pause_consumer('q_bad', 'a.b')$$),
    ($$select pgque.resume_consumer('q_bad', 'nobody')$$),
    ($$select * from pgque.get_delayed_info('nope')$$),
    ($$select * from pgque.get_queue_config('nope')$$);

select n, try(sql) from cases order by n;
select state_digest() = :'before' as unchanged;

-- documented non-errors
select pgque.ack(-1) as ack_unknown;                  -- 0 with a WARNING
select pgque.unsubscribe('q_bad', 'nobody') as not_subscribed;
select pgque.send_batch('q_bad', array[]::text[]) as empty;
select pgque.create_queue('q_bad') as exists_already;
select pgque.subscribe('q_bad', 'c') as subscribed_already;
select state_digest() = :'before' as still_unchanged;

-- payloads are PostgreSQL text, up to its 1 GB limit; 100 MiB round-trips
select pgque.send('q_bad', 'big', repeat('x', 100 * 1024 * 1024)) is not null as sent_big;
select pgque.ack(:open_id);
select pgque.ticker('q_bad') is not null;
select type, length(payload) from pgque.receive('q_bad', 'c') where type = 'big';
-- a payload over 1 GB cannot even be built as a text value
select try($$select pgque.send('q_bad', repeat('x', 1100 * 1024 * 1024))$$);
