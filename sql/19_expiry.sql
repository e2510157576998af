-- message_ttl: an event older than its queue's TTL is not handed to
-- consumers; it goes to the dead-letter table with the reason 'expired'
-- (expired_action 'dead_letter', the default) or nowhere ('drop'). Retries
-- stop at the TTL. Age counts from the event's time (send, or send_at's call).
\set SHOW_CONTEXT never
select pgque.create_queue('q_ttl');
select pgque.set_queue_config('q_ttl', 'ticker_max_lag', '0');
select pgque.subscribe('q_ttl', 'c');
select pgque.subscribe('q_ttl', 'd');
select pgque.set_queue_config('q_ttl', 'message_ttl', '200 milliseconds');

-- five events grow old, two are fresh: all in one tick window
select cardinality(pgque.send_batch('q_ttl', 'old', array['o1', 'o2', 'o3', 'o4', 'o5']));
select pg_sleep(0.3);
select cardinality(pgque.send_batch('q_ttl', 'fresh', array['f1', 'f2']));
select pgque.ticker('q_ttl') is not null;

-- receive(…, 2) skips the expired ones and returns the two fresh ones
select type, payload from pgque.receive('q_ttl', 'c', 2) order by msg_id;
select pgque.ack(batch_id) from pgque.receive('q_ttl', 'c', 2) limit 1;
select count(*) as nothing_left from pgque.receive('q_ttl', 'c');
select c.co_name, d.dl_reason, d.ev_data from pgque.dead_letter d
  join pgque.consumer c on c.co_id = d.dl_consumer_id order by d.ev_id;

-- the PgQ calls see the same: get_batch_events leaves them out
select pgque.next_batch('q_ttl', 'd') as bd \gset
select ev_type, ev_data from pgque.get_batch_events(:bd) order by ev_id;
select pgque.finish_batch(:bd);
select c.co_name, count(*) as expired from pgque.dead_letter d
  join pgque.consumer c on c.co_id = d.dl_consumer_id group by 1 order by 1;

-- a window with only expired events closes: the next receive goes on
select cardinality(pgque.send_batch('q_ttl', 'old', array['x1', 'x2', 'x3']));
select pg_sleep(0.3);
select pgque.ticker('q_ttl') is not null;
select count(*) as all_expired from pgque.receive('q_ttl', 'c', 1);
select pgque.send('q_ttl', 'next', 'n1');
select pgque.ticker('q_ttl') is not null;
select type, payload from pgque.receive('q_ttl', 'c', 1);
select pgque.ack(batch_id) from pgque.receive('q_ttl', 'c', 1) limit 1;

-- an open batch whose remaining events expired: nothing is handed out, the
-- next receive moves past them
select cardinality(pgque.send_batch('q_ttl', 'mix', array['m1', 'm2', 'm3', 'm4']));
select pgque.ticker('q_ttl') is not null;
create temp table first_part as select * from pgque.receive('q_ttl', 'c', 1);
select payload from first_part;
select pgque.ack(batch_id) from first_part;
select pg_sleep(0.3);
select count(*) as rest_expired from pgque.receive('q_ttl', 'c', 1);
select count(*) as rest_expired_again from pgque.receive('q_ttl', 'c', 1);
select pgque.send('q_ttl', 'next', 'n2');
select pgque.ticker('q_ttl') is not null;
select type, payload from pgque.receive('q_ttl', 'c', 1);
select pgque.ack(batch_id) from pgque.receive('q_ttl', 'c', 1) limit 1;
select d.ev_data from pgque.dead_letter d join pgque.consumer c on c.co_id = d.dl_consumer_id
 where c.co_name = 'c' and d.ev_data like 'm%' order by d.ev_id;

-- retries stop at the TTL: a retry due after it dead-letters now
select pgque.set_queue_config('q_ttl', 'message_ttl', '30 seconds');
select pgque.send('q_ttl', 'job', 'r1');
select pgque.ticker('q_ttl') is not null;
select pgque.nack(batch_id, m, '1 minute') from pgque.receive('q_ttl', 'c') m;
select pgque.ack(batch_id) from pgque.receive('q_ttl', 'c') limit 1;
select count(*) as retries from pgque.retry_queue;
select dl_reason, ev_data from pgque.dead_letter where ev_data = 'r1';
select pgque.send('q_ttl', 'job', 'r2');
select pgque.ticker('q_ttl') is not null;
select pgque.nack(batch_id, m, '1 second') from pgque.receive('q_ttl', 'c') m;
select pgque.ack(batch_id) from pgque.receive('q_ttl', 'c') limit 1;
select count(*) as retry_within_ttl from pgque.retry_queue;
delete from pgque.retry_queue;

-- expired_action 'drop': expired events vanish
select pgque.set_queue_config('q_ttl', 'expired_action', 'drop');
select pgque.set_queue_config('q_ttl', 'message_ttl', '200 milliseconds');
select pgque.send('q_ttl', 'old', 'dropped');
select pg_sleep(0.3);
select pgque.ticker('q_ttl') is not null;
select count(*) as dropped from pgque.receive('q_ttl', 'c');
select count(*) as no_dead_letter from pgque.dead_letter where ev_data = 'dropped';

-- NULL: events never expire again
select pgque.set_queue_config('q_ttl', 'message_ttl', null);
select pgque.set_queue_config('q_ttl', 'expired_action', null);
select pgque.send('q_ttl', 'old', 'kept');
select pg_sleep(0.3);
select pgque.ticker('q_ttl') is not null;
select payload from pgque.receive('q_ttl', 'c');

select pgque.drop_queue('q_ttl', force => true);
