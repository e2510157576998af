-- The retry policy of a queue: nack without retry_after waits retry_delay
-- (fixed) or retry_delay x 2^retry_count up to retry_max_delay
-- (exponential), minus up to retry_jitter of it; an explicit retry_after
-- wins. Every setting is validated; NULL resets it.
\set SHOW_CONTEXT never
select pgque.create_queue('q_policy');
select pgque.set_queue_config('q_policy', 'ticker_max_lag', '0');
select pgque.subscribe('q_policy', 'c');
select queue_id as qid from pgque.queue where queue_name = 'q_policy' \gset

-- defaults: 60 s fixed (what nack did before), cap 1 hour, no jitter
select param, value from pgque.get_queue_config('q_policy')
 where param like 'retry%' or param in ('max_retries', 'message_ttl', 'expired_action') order by param;
select pgque.send('q_policy', 'j1');
select pgque.ticker('q_policy') is not null;
begin;
select pgque.nack(batch_id, m) from pgque.receive('q_policy', 'c') m;
select ev_retry_after - now() as waits from pgque.retry_queue where ev_queue = :qid;
commit;
select pgque.ack(batch_id) from pgque.receive('q_policy', 'c') limit 1;
delete from pgque.retry_queue;

-- exponential: 10 s, 20 s, 40 s, capped at 45 s
select pgque.set_queue_config('q_policy', 'retry_delay', '10 seconds');
select pgque.set_queue_config('q_policy', 'retry_backoff', 'exponential');
select pgque.set_queue_config('q_policy', 'retry_max_delay', '45 seconds');
select n as retry_count, pgque._retry_delay(:qid, n) as waits from generate_series(0, 5) n;
-- a cap below retry_delay does not shorten retry_delay itself
select pgque.set_queue_config('q_policy', 'retry_max_delay', '5 seconds');
select pgque._retry_delay(:qid, 3) as capped_at_base;
select pgque.set_queue_config('q_policy', 'retry_max_delay', null);
select pgque._retry_delay(:qid, 20) as default_cap;

-- nack uses the event's retry_count: the second nack of an event waits twice as long
select pgque.set_queue_config('q_policy', 'retry_max_delay', '45 seconds');
select pgque.send('q_policy', 'j2');
select pgque.ticker('q_policy') is not null;
begin;
select pgque.nack(batch_id, m) from pgque.receive('q_policy', 'c') m;
select ev_retry, ev_retry_after - now() as waits from pgque.retry_queue where ev_queue = :qid;
commit;
select pgque.ack(batch_id) from pgque.receive('q_policy', 'c') limit 1;
update pgque.retry_queue set ev_retry_after = now() where ev_queue = :qid;
select pgque.maint_retry_events() as moved;
select pgque.ticker('q_policy') is not null;
begin;
select payload, retry_count, pgque.nack(batch_id, m) from pgque.receive('q_policy', 'c') m;
select ev_retry, ev_retry_after - now() as waits from pgque.retry_queue where ev_queue = :qid;
commit;
select pgque.ack(batch_id) from pgque.receive('q_policy', 'c') limit 1;
delete from pgque.retry_queue;

-- an explicit retry_after wins over the policy
select pgque.send('q_policy', 'j3');
select pgque.ticker('q_policy') is not null;
begin;
select pgque.nack(batch_id, m, '7 seconds') from pgque.receive('q_policy', 'c') m;
select ev_retry_after - now() as waits from pgque.retry_queue where ev_queue = :qid;
commit;
select pgque.ack(batch_id) from pgque.receive('q_policy', 'c') limit 1;
delete from pgque.retry_queue;

-- jitter takes off up to that fraction, at random
select pgque.set_queue_config('q_policy', 'retry_backoff', 'fixed');
select pgque.set_queue_config('q_policy', 'retry_jitter', '0.5');
select min(d) >= interval '5 seconds' as at_least_half, max(d) <= interval '10 seconds' as at_most_base,
       count(distinct d) > 100 as spread
  from (select pgque._retry_delay(:qid, 0) d from generate_series(1, 500)) s;

-- NULL resets every setting to its default
select pgque.set_queue_config('q_policy', p, null)
  from unnest(array['retry_delay', 'retry_backoff', 'retry_max_delay', 'retry_jitter']) p;
select param, value from pgque.get_queue_config('q_policy') where param like 'retry%' order by param;

-- validation: 22023 with a hint, nothing changed
select try(format($$select pgque.set_queue_config('q_policy', %L, %L)$$, p, v))
  from (values ('retry_delay', '-1 second'), ('retry_delay', '400 days'), ('retry_delay', 'x'),
               ('retry_backoff', 'linear'), ('retry_backoff', 'Exponential'),
               ('retry_max_delay', '-5 minutes'), ('retry_jitter', '1.5'), ('retry_jitter', '-0.1'),
               ('retry_jitter', 'some'), ('message_ttl', '0'), ('message_ttl', '-1 day'),
               ('message_ttl', '4000 days'), ('expired_action', 'keep')) v(p, v);
select param, value from pgque.get_queue_config('q_policy') where param like 'retry%' order by param;
select try($$select * from pgque.get_queue_config('nope')$$);

select pgque.unsubscribe('q_policy', 'c');
select pgque.drop_queue('q_policy');
