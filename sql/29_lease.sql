-- Leases (extension/47_lease.sql): receive_leased hands messages out with a
-- deadline and acknowledges the batch; each message is then acked, nacked,
-- extended or, at the deadline, delivered again -- or dead-lettered when it
-- was on its last allowed try. A stale lease (the message was delivered
-- again since) settles nothing.
\set SHOW_CONTEXT never
select pgque.create_queue('q_lease');
select pgque.set_queue_config('q_lease', 'max_retries', '1');
select pgque.set_queue_config('q_lease', 'retry_delay', '0');
select pgque.set_queue_config('q_lease', 'ticker_max_lag', '0');
select pgque.subscribe('q_lease', 'c');
select count(pgque.send('q_lease', 'e' || i)) from generate_series(1, 4) i;
select pgque.ticker('q_lease') is not null as ticked;

-- round 1: four messages leased for an hour, the batch acknowledged
create temp table l1 as select * from pgque.receive_leased('q_lease', 'c', null, 10, '1 hour');
select msg_id, payload, retry_count from l1 order by msg_id;
select count(*) as leases, bool_and(r.ev_lease = l.batch_id) as lease_is_batch,
       bool_and(r.ev_retry_after between now() + interval '59 minutes' and now() + interval '61 minutes') as due_in_an_hour
  from pgque.retry_queue r join l1 l on l.msg_id = r.ev_id;
select batch_state from pgque.batch where batch_id = (select distinct batch_id from l1);
select count(*) as nothing_more from pgque.receive('q_lease', 'c', 10);

-- ack: once
select pgque.ack_message('q_lease', 'c', 1, (select batch_id from l1 where msg_id = 1)) as acked,
       pgque.ack_message('q_lease', 'c', 1, (select batch_id from l1 where msg_id = 1)) as acked_again;
-- nack: retried (retry_delay 0), the lease gone
select pgque.nack_message('q_lease', 'c', 2, (select batch_id from l1 where msg_id = 2)) as nacked;
select ev_lease is null as no_lease, ev_retry from pgque.retry_queue where ev_id = 2;
select pgque.ack_message('q_lease', 'c', 2, (select batch_id from l1 where msg_id = 2)) as ack_after_nack;
-- extend: a new deadline
select pgque.extend_lease('q_lease', 'c', 3, (select batch_id from l1 where msg_id = 3), '2 hours')
       between now() + interval '119 minutes' and now() + interval '121 minutes' as extended;
-- message 4's deadline passes
update pgque.retry_queue set ev_retry_after = now() - interval '1 second' where ev_id = 4;
select pgque.maint_retry_events() as moved;
select pgque.ticker('q_lease') is not null as ticked;

-- round 2: 2 and 4 come again, one try later, under a new lease
create temp table l2 as select * from pgque.receive_leased('q_lease', 'c', null, 10, '1 hour');
select msg_id, payload, retry_count from l2 order by msg_id;
select pgque.ack_message('q_lease', 'c', 4, (select batch_id from l1 where msg_id = 4)) as stale_lease,
       pgque.ack_message('q_lease', 'c', 4, (select batch_id from l2 where msg_id = 4)) as current_lease;
-- 2 has had its one retry: a nack dead-letters it, with the reason given
select pgque.nack_message('q_lease', 'c', 2, (select batch_id from l2 where msg_id = 2), null, 'bad payload') as nacked;
select ev_id, dl_reason, ev_retry from pgque.dead_letter where ev_id = 2;

-- round 3: 3's deadline passes twice; the second time it was on its last
-- try, so it goes to the dead letters instead of the queue
update pgque.retry_queue set ev_retry_after = now() - interval '1 second' where ev_id = 3;
select pgque.maint_retry_events() as moved;
select pgque.ticker('q_lease') is not null as ticked;
select msg_id, retry_count from pgque.receive_leased('q_lease', 'c', null, 10, '1 hour');
update pgque.retry_queue set ev_retry_after = now() - interval '1 second' where ev_id = 3;
select pgque.maint_retry_events() as moved;
select ev_id, dl_reason, ev_retry from pgque.dead_letter where ev_id = 3;
select count(*) as left_in_retry_queue from pgque.retry_queue r join pgque.queue q on q.queue_id = r.ev_queue
 where q.queue_name = 'q_lease';
select pgque.ticker('q_lease') is not null as ticked;
select count(*) as nothing_comes_again from pgque.receive_leased('q_lease', 'c');

-- the queue's ack_deadline is the default lease
select pgque.set_queue_config('q_lease', 'ack_deadline', '5 minutes');
select value from pgque.get_queue_config('q_lease') where param = 'ack_deadline';
select pgque.send('q_lease', 'e5') as e5;
select pgque.ticker('q_lease') is not null as ticked;
create temp table l3 as select * from pgque.receive_leased('q_lease', 'c');
select payload from l3;
select ev_retry_after between now() + interval '299 seconds' and now() + interval '301 seconds' as default_deadline
  from pgque.retry_queue where ev_lease = (select batch_id from l3);

-- a priority lane: the lease returns the message into its lane
select pgque.send('q_lease', 'urgent', 5) as urgent;
select pgque.ticker() >= 0 as ticked;
create temp table l4 as select * from pgque.receive_leased('q_lease', 'c', null, 10, '1 hour');
select payload from l4;
select q.queue_priority from pgque.retry_queue r join pgque.queue q on q.queue_id = r.ev_queue
 where r.ev_lease = (select batch_id from l4);
select pgque.ack_message('q_lease', 'c', (select msg_id from l4), (select batch_id from l4)) as lane_acked;

-- cooperative members share the consumer's windows (receive_coop
-- registers them; the consumer starts at the queue's newest tick)
select pgque.register_subconsumer('q_lease', 'w', 'm1');
select count(pgque.send('q_lease', 'w' || i)) from generate_series(1, 3) i;
select pgque.ticker('q_lease') is not null as ticked;
create temp table m1 as select * from pgque.receive_leased('q_lease', 'w', 'm1', 10, '1 hour');
select pgque.send('q_lease', 'w4') > 0 as sent;
select pgque.ticker('q_lease') is not null as ticked;
create temp table m2 as select * from pgque.receive_leased('q_lease', 'w', 'm2', 10, '1 hour');
select (select array_agg(payload order by msg_id) from m1) as m1_got,
       (select array_agg(payload order by msg_id) from m2) as m2_got;

-- bad input, unknown names, and access
select try($$select pgque.receive_leased('q_lease', 'c', null, 10, '0')$$);
select try($$select pgque.receive_leased('q_lease', 'c', null, 10, '13 hours')$$);
select try($$select pgque.ack_message('q_lease', 'nobody', 1, 1)$$);
select try($$select pgque.ack_message('nope', 'c', 1, 1)$$);
select try($$select pgque.nack_message('q_lease', 'c', 5, 1, '-1 second')$$);
select try($$select pgque.extend_lease('q_lease', 'c', 5, 1, null)$$);
select try($$select pgque.set_queue_config('q_lease', 'ack_deadline', '1 day')$$);
create role lease_stranger;
grant pgque_reader to lease_stranger;
create role lease_friend;
grant pgque_reader to lease_friend;
select pgque.grant_queue('q_lease', 'lease_friend', 'consume');
set role lease_stranger;
select try($$select pgque.ack_message('q_lease', 'c', 5, 1)$$);
reset role;
drop role lease_stranger;
select pgque.revoke_queue('q_lease', 'lease_friend', 'consume');
drop role lease_friend;
select pgque.drop_queue('q_lease', true);
