-- nack and retries: a retried event goes back to the nacking consumer only,
-- with retry_count + 1; maint_retry_events moves every due retry.
\set SHOW_CONTEXT never
select pgque.create_queue('q_retry');
select pgque.set_queue_config('q_retry', 'ticker_max_lag', '0');
select pgque.subscribe('q_retry', 'a');
select pgque.subscribe('q_retry', 'b');
select pgque.send('q_retry', 'job', 'work 1');
select pgque.ticker('q_retry') is not null;

create temp table a1 as select * from pgque.receive('q_retry', 'a');
select pgque.nack(batch_id, row(a1.*)::pgque.message, '0 seconds', 'transient') from a1;
select pgque.nack(batch_id, row(a1.*)::pgque.message, '0 seconds', 'twice is fine') from a1;
select pgque.ack(batch_id) from a1;
select ev_id, ev_retry, ev_type, ev_data, ev_retry_after <= now() as due
  from pgque.retry_queue;
select count(*) as b_unaffected from pgque.receive('q_retry', 'b');
select pgque.ack(batch_id) from pgque.receive('q_retry', 'b');

select pgque.maint_retry_events() as moved;
select count(*) as retry_queue_left from pgque.retry_queue;
select pgque.ticker('q_retry') is not null;
create temp table a2 as select * from pgque.receive('q_retry', 'a');
select msg_id = (select msg_id from a1) as same_id, type, payload, retry_count,
       created_at = (select created_at from a1) as original_time
  from a2;
select pgque.ack(batch_id) from a2;
select count(*) as b_gets_nothing from pgque.receive('q_retry', 'b');

-- not yet due stays put
select pgque.send('q_retry', 'later');
select pgque.ticker('q_retry') is not null;
select pgque.nack(batch_id, m, '1 hour') from pgque.receive('q_retry', 'a') m;
select pgque.ack(batch_id) from pgque.receive('q_retry', 'a') limit 1;
select pgque.maint_retry_events() as not_due;
select count(*) as waiting from pgque.retry_queue;
delete from pgque.retry_queue;

-- all due retries move in one call (PgQ moved 10 per call)
select cardinality(pgque.send_batch('q_retry', array(select 'n' || g from generate_series(1, 25) g)));
select pgque.ticker('q_retry') is not null;
select sum(pgque.nack(batch_id, m, '0')) as nacked from pgque.receive('q_retry', 'a') m;
select pgque.ack(batch_id) from pgque.receive('q_retry', 'a') limit 1;
select pgque.ack(batch_id) from pgque.receive('q_retry', 'b') limit 1;
select pgque.maint_retry_events() as moved_all;
select pgque.ticker('q_retry') is not null;
select count(*), min(retry_count), max(retry_count) from pgque.receive('q_retry', 'a');
select pgque.ack(batch_id) from pgque.receive('q_retry', 'a') limit 1;

-- PgQ forms: event_retry with seconds or a time, batch_retry
select count(*) as b_sees_no_retries_of_a from pgque.receive('q_retry', 'b');
select pgque.send_batch('q_retry', array['x', 'y', 'z']) is not null;
select pgque.ticker('q_retry') is not null;
select pgque.next_batch('q_retry', 'b') as bb \gset
select min(ev_id) as ex from pgque.get_batch_events(:bb) \gset
select pgque.event_retry(:bb, :ex, 0) as by_seconds;
select pgque.event_retry(:bb, :ex, now()) as already_scheduled;
select pgque.event_retry(:bb, :ex + 1, now() + interval '1 minute') as by_time;
select pgque.batch_retry(:bb, 30) as rest_of_batch;
select ev_data, ev_retry from pgque.retry_queue order by ev_id;
select pgque.finish_batch(:bb);

-- errors
select pgque.send('q_retry', 'e');
select pgque.ticker('q_retry') is not null;
create temp table a3 as select * from pgque.receive('q_retry', 'a') where payload = 'e';
select count(*) as one_message from a3;
select batch_id as b3 from a3 \gset
select try(format($$select pgque.nack(%s, row(999999, %s, 't', 'p', null, now(), null, null, null, null)::pgque.message)$$,
                  :b3, :b3));
select try(format($$select pgque.nack(%s, null::pgque.message)$$, :b3));
select try(format($$select pgque.nack(%s, row(m.*)::pgque.message, '-1 second') from a3 m$$, :b3));
select try(format($$select pgque.nack(%s, row(m.*)::pgque.message, null) from a3 m$$, :b3));
select try($$select pgque.nack(-5, row(m.*)::pgque.message) from a3 m$$);
select try($$select pgque.nack(null, row(m.*)::pgque.message) from a3 m$$);
select pgque.ack(:b3);
select try($$select pgque.nack(batch_id, row(m.*)::pgque.message) from a3 m$$);
select try($$select pgque.event_retry(-5, 1, 10)$$);
select try($$select pgque.event_retry(1, 1, -10)$$);
select try($$select pgque.batch_retry(1, null)$$);
