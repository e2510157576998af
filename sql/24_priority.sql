-- Priorities: send(..., priority => 0..9); receive hands out the highest
-- priority pending first. Each priority above 0 lives in a hidden lane of
-- the queue (extension/22_lanes.sql) that follows it everywhere.
\set SHOW_CONTEXT never
select pgque.create_queue('q_prio');
select pgque.set_queue_config('q_prio', 'ticker_max_lag', '0');
select pgque.subscribe('q_prio', 'c1'), pgque.subscribe('q_prio', 'c2');

-- out of range, or null: refused, nothing written
select state_digest() as before \gset
select try($$select pgque.send('q_prio', 'x', priority => 10)$$);
select try($$select pgque.send('q_prio', 'x', priority => -1)$$);
select try($$select pgque.send('q_prio', 't', 'x', priority => null)$$);
select try($$select pgque.send('q_prio', '{}'::jsonb, priority => 100)$$);
select try($$select pgque.send_batch('q_prio', array['x'], priority => 10)$$);
select try($$select pgque.send_batch('q_prio', 't', array['{}'::jsonb], priority => -5)$$);
select state_digest() = :'before' as nothing_changed;
-- priority 0 creates no lane
select pgque.send('q_prio', 'zero', priority => 0) > 0 as sent;
select count(*) as lanes from pgque.queue l join pgque.queue q on q.queue_id = l.queue_lane_of
 where q.queue_name = 'q_prio';
select pgque.ticker('q_prio') is not null as ticked;
select payload from pgque.receive('q_prio', 'c1');
select pgque.ack(batch_id) from pgque.receive('q_prio', 'c1') limit 1;
select payload from pgque.receive('q_prio', 'c2');
select pgque.ack(batch_id) from pgque.receive('q_prio', 'c2') limit 1;

-- five at priority 0, then one at 9 and one at 5 (every form of send):
-- after the tick, 9 comes first, then 5, then the 0s in id order
create temp table sent as
select unnest(pgque.send_batch('q_prio', array['p0-1', 'p0-2', 'p0-3', 'p0-4', 'p0-5'])) as id, 0 as prio;
insert into sent select pgque.send('q_prio', 'urgent', 'p9', priority => 9), 9;
insert into sent select unnest(pgque.send_batch('q_prio', 'mid', array['{"p": 5}'::jsonb], 5)), 5;
select count(*) as lanes, array_agg(l.queue_priority order by l.queue_priority) as priorities,
       bool_and(length(l.queue_name) > 57) as names_unusable
  from pgque.queue l join pgque.queue q on q.queue_id = l.queue_lane_of
 where q.queue_name = 'q_prio';
-- ids are unique across the queue and its lanes
select count(distinct id) = count(*) as ids_unique from sent;
select pgque.ticker('q_prio') is not null as ticked;
create temp table got (consumer text, n int, msg_id bigint, type text, payload text);
create procedure pg_temp.drain(consumer text) language plpgsql as $$
declare
    i int := 0;
    b bigint;
begin
    loop
        i := i + 1;
        insert into got select consumer, i, m.msg_id, m.type, m.payload
          from pgque.receive('q_prio', consumer) m;
        select max(m.batch_id) into b from pgque.receive('q_prio', consumer) m;
        exit when b is null;
        perform pgque.ack(b);
    end loop;
end $$;
call pg_temp.drain('c1');
select n as receive_call, type, payload, s.prio from got g join sent s on s.id = g.msg_id
 where consumer = 'c1' order by n, msg_id;
-- the 0s in id order, and fan-out: c2 gets the very same
select array_agg(msg_id order by n, msg_id) = (select array_agg(id order by prio desc, id) from sent)
       as c1_in_priority_then_id_order
  from got where consumer = 'c1';
call pg_temp.drain('c2');
select (select array_agg(msg_id order by n, msg_id) from got where consumer = 'c1') =
       (select array_agg(msg_id order by n, msg_id) from got where consumer = 'c2') as c2_same;

-- at-least-once in a lane: unacked, the batch comes back under a new id
select pgque.send('q_prio', 'again', 9) > 0 as sent;
select pgque.ticker('q_prio') is not null as ticked;
create temp table r1 as select * from pgque.receive('q_prio', 'c1');
create temp table r2 as select * from pgque.receive('q_prio', 'c1');
select r1.payload, r1.msg_id = r2.msg_id as same_event, r1.batch_id <> r2.batch_id as new_batch_id
  from r1, r2;
select pgque.ack(batch_id) from r2;
select count(*) as after_ack from pgque.receive('q_prio', 'c1');
select pgque.ack(batch_id) from pgque.receive('q_prio', 'c2');

-- nack of a lane event: retried in its lane, ahead of priority 0 events
select pgque.send('q_prio', 'late p0') > 0 as sent;
select pgque.send('q_prio', 'retry me', priority => 9) > 0 as sent;
select pgque.ticker('q_prio') is not null as ticked;
select pgque.nack(batch_id, m, retry_after => '0') from pgque.receive('q_prio', 'c1') m;
select l.queue_priority as retry_in_lane from pgque.retry_queue r join pgque.queue l on l.queue_id = r.ev_queue;
select pgque.ack(max(batch_id)) from (select batch_id from pgque.batch where batch_state = 'o') b;
select pgque.maint_retry_events() as moved;
-- (the retry is new to the lane only: the queue itself has nothing to tick)
select pgque.ticker('q_prio') is null as only_the_lane_ticked;
select payload, retry_count from pgque.receive('q_prio', 'c1');
select pgque.ack(batch_id) from pgque.receive('q_prio', 'c1') limit 1;
select payload from pgque.receive('q_prio', 'c1');
select pgque.ack(batch_id) from pgque.receive('q_prio', 'c1') limit 1;
select count(*) as c2_gets_both_once from pgque.receive('q_prio', 'c2');
select pgque.ack(batch_id) from pgque.receive('q_prio', 'c2') limit 1;
select count(*) as c2_then_p0 from pgque.receive('q_prio', 'c2');
select pgque.ack(batch_id) from pgque.receive('q_prio', 'c2') limit 1;

-- a dead letter of a lane event is recorded under the queue
select pgque.set_queue_config('q_prio', 'max_retries', '0');
select pgque.send('q_prio', 'doomed', priority => 5) > 0 as sent;
select pgque.ticker('q_prio') is not null as ticked;
select pgque.nack(batch_id, m, reason => 'bad input') from pgque.receive('q_prio', 'c1') m;
select pgque.ack(batch_id) from pgque.receive('q_prio', 'c1') limit 1;
select ev_data, dl_reason from pgque.dlq_inspect('q_prio');
select pgque.set_queue_config('q_prio', 'max_retries', null);
select pgque.ack(batch_id) from pgque.receive('q_prio', 'c2') limit 1;

-- lanes are hidden from the listings
select queue_name from pgque.get_queue_info() where queue_name like '%lane%' or queue_name = 'q_prio';
select queue_name, consumer_name from pgque.get_consumer_info('q_prio') order by 2;
select count(*) as lane_rows from pgque.get_consumer_info() where length(queue_name) > 57;
select count(*) as lane_rows from pgque.status() where length(component) > 60;
select count(*) as lane_rows from pgque.get_queue_config() where length(queue_name) > 57;
-- and unusable by name
select regexp_replace(try(format('select * from pgque.receive(%L, %L)',
                  (select l.queue_name from pgque.queue l join pgque.queue q on q.queue_id = l.queue_lane_of
                    where q.queue_name = 'q_prio' and l.queue_priority = 9), 'c1')),
                      'queue [0-9]+ [.]+', 'queue N ...') as try;
-- the batch of a lane is reported as the queue's
select pgque.send('q_prio', 'info', priority => 9) > 0 as sent;
select pgque.ticker('q_prio') is not null as ticked;
create temp table r3 as select * from pgque.receive('q_prio', 'c1');
select i.queue_name, i.consumer_name from r3 m, pgque.get_batch_info(m.batch_id) i;
select pgque.ack(batch_id) from pgque.receive('q_prio', 'c1') limit 1;
select pgque.ack(batch_id) from pgque.receive('q_prio', 'c2') limit 1;

-- settings follow the queue into its lanes
select pgque.set_queue_config('q_prio', 'retry_delay', '7 seconds');
select l.queue_priority, l.queue_retry_delay, l.queue_ticker_max_lag from pgque.queue l
  join pgque.queue q on q.queue_id = l.queue_lane_of where q.queue_name = 'q_prio' order by 1;

-- pausing the queue, or a consumer, pauses its lanes
select pgque.send('q_prio', 'paused', priority => 9) > 0 as sent;
select pgque.ticker('q_prio') is not null as ticked;
select pgque.pause_queue('q_prio');
select count(*) as queue_paused from pgque.receive('q_prio', 'c1');
select pgque.next_batch('q_prio', 'c1') is null as next_batch_paused;
select pgque.resume_queue('q_prio');
select pgque.pause_consumer('q_prio', 'c1');
select count(*) as consumer_paused from pgque.receive('q_prio', 'c1');
select count(*) as other_not_paused from pgque.receive('q_prio', 'c2');
select pgque.ack(batch_id) from pgque.receive('q_prio', 'c2') limit 1;
select pgque.resume_consumer('q_prio', 'c1');
select payload as resumed from pgque.receive('q_prio', 'c1');
select pgque.ack(batch_id) from pgque.receive('q_prio', 'c1') limit 1;

-- unsubscribe leaves the lanes too; a new subscriber is subscribed to them
create temp view lane_subs as
select c.co_name, count(*) as lanes from pgque.subscriber s
  join pgque.consumer c on c.co_id = s.sub_consumer
  join pgque.queue l on l.queue_id = s.sub_queue
  join pgque.queue q on q.queue_id = l.queue_lane_of
 where q.queue_name = 'q_prio' group by 1 order by 1;
select * from lane_subs;
select pgque.unsubscribe('q_prio', 'c2');
select pgque.subscribe('q_prio', 'c3');
select * from lane_subs;
-- c3 starts at the lanes' newest ticks: only what comes after
select pgque.send('q_prio', 'for c3', priority => 9) > 0 as sent;
select pgque.ticker('q_prio') is not null as ticked;
select payload from pgque.receive('q_prio', 'c3');
select pgque.ack(batch_id) from pgque.receive('q_prio', 'c3') limit 1;

-- PgQ's next_batch reads the lanes too: their batches first
select pgque.subscribe('q_prio', 'pgq');
select pgque.send('q_prio', 'p0 for pgq') > 0, pgque.send('q_prio', 'p5 for pgq', 5) > 0;
select pgque.ticker('q_prio') is not null as ticked;
create temp table nb (n serial, batch_id bigint);
-- (lane 9 ticked once more, empty: next_batch hands out empty batches, as
-- PgQ's does)
insert into nb (batch_id) select pgque.next_batch('q_prio', 'pgq');
select pgque.next_batch('q_prio', 'pgq') = (select batch_id from nb where n = 1) as same_until_finished;
select ev_data from pgque.get_batch_events((select batch_id from nb where n = 1));
select pgque.finish_batch((select batch_id from nb where n = 1));
insert into nb (batch_id) select pgque.next_batch('q_prio', 'pgq');
select ev_data from pgque.get_batch_events((select batch_id from nb where n = 2));
select pgque.finish_batch((select batch_id from nb where n = 2));
insert into nb (batch_id) select pgque.next_batch('q_prio', 'pgq');
select ev_data from pgque.get_batch_events((select batch_id from nb where n = 3));
select pgque.finish_batch((select batch_id from nb where n = 3));

-- a lane rotates like any queue, read through receive and next_batch only
select pgque.set_queue_config('q_prio', 'rotation_period', '0');
create temp view lane9 as
select l.queue_cur_table from pgque.queue l join pgque.queue q on q.queue_id = l.queue_lane_of
 where q.queue_name = 'q_prio' and l.queue_priority = 9;
select queue_cur_table as lane_table_before from lane9;
select pgque.maint() > 0 as rotated;
select pgque.maint_rotate_tables_step2() > 0 as step2;
select pgque.send('q_prio', 'after switch', priority => 9) > 0 as sent;
select pgque.ticker('q_prio') is not null as ticked;
select payload from pgque.receive('q_prio', 'c1');
select pgque.ack(batch_id) from pgque.receive('q_prio', 'c1') limit 1;
select payload from pgque.receive('q_prio', 'c3');
select pgque.ack(batch_id) from pgque.receive('q_prio', 'c3') limit 1;
select pgque.finish_batch(pgque.next_batch('q_prio', 'pgq')) as pgq_read_lane9;
select pgque.maint() > 0 as rotated_again;
select queue_cur_table as lane_table_after from lane9;

-- cooperative consumers: members read the lanes first too, and a silent
-- member's lane batch is taken over
select pgque.register_subconsumer('q_prio', 'workers', 'w1'), pgque.register_subconsumer('q_prio', 'workers', 'w2');
select pgque.send('q_prio', 'p0 for workers') > 0, pgque.send('q_prio', 'p9 for workers', 9) > 0;
select pgque.ticker('q_prio') is not null as ticked;
create temp table w1 as select * from pgque.receive_coop('q_prio', 'workers', 'w1');
select payload as w1_got from w1;
select payload as w2_got from pgque.receive_coop('q_prio', 'workers', 'w2');
select payload as w2_takes_over, batch_id <> (select batch_id from w1) as new_id
  from pgque.receive_coop('q_prio', 'workers', 'w2', i_dead_interval => '0');
select try(format('select pgque.unregister_subconsumer(%L, %L, %L)', 'q_prio', 'workers', 'w2'));
select pgque.unregister_subconsumer('q_prio', 'workers', 'w2', 1), pgque.unregister_subconsumer('q_prio', 'workers', 'w1', 1);
select try($$select * from pgque.receive('q_prio', 'workers')$$) as read_as_normal_again;

-- a queue that delays delivery takes no priorities
select pgque.create_queue('q_prio_delay');
select pgque.set_queue_config('q_prio_delay', 'delivery_delay', '1 minute');
select try($$select pgque.send('q_prio_delay', 'x', priority => 3)$$);
select pgque.drop_queue('q_prio_delay');

-- drop_queue drops the lanes with their tables
select q.queue_id as prio_id from pgque.queue q where q.queue_name = 'q_prio' \gset
select array_agg(l.queue_id) as lane_ids from pgque.queue l where l.queue_lane_of = :prio_id \gset
select pgque.drop_queue('q_prio', true);
select count(*) as lanes_left from pgque.queue where queue_lane_of = :prio_id or queue_id = any (:'lane_ids');
select count(*) as tables_left from pg_class
 where relnamespace = 'pgque'::regnamespace
   and relname ~ ('^event_(' || array_to_string(:'lane_ids'::int[], '|') || ')_');
select count(*) as subscriptions_left from pgque.subscriber where sub_queue = any (:'lane_ids');

-- 100,000 events of priority 0 waiting: the next receive after the tick
-- of a priority 9 event returns it
select pgque.create_queue('q_prio_big');
select pgque.set_queue_config('q_prio_big', 'ticker_max_lag', '0');
select pgque.subscribe('q_prio_big', 'c');
select pgque.send('q_prio_big', 'warm up', priority => 9) > 0 as lane_exists;
select pgque.ticker('q_prio_big') is not null as ticked;
select pgque.ack(batch_id) from pgque.receive('q_prio_big', 'c') limit 1;
select cardinality(pgque.send_batch('q_prio_big', array_fill('bulk'::text, array[100000]))) as backlog;
select pgque.ticker('q_prio_big') is not null as ticked;
select pgque.send('q_prio_big', 'urgent', priority => 9) > 0 as sent;
select pgque.ticker('q_prio_big') is not null as ticked;
select payload from pgque.receive('q_prio_big', 'c', 10);
select pgque.ack(batch_id) from pgque.receive('q_prio_big', 'c', 10) limit 1;
-- a producer that holds only pgque_writer sends with a priority: its lane
-- is found (and made) although it cannot read pgque.queue itself
create role prio_writer;
grant pgque_writer to prio_writer;
set role prio_writer;
select pgque.send('q_prio_big', 'from a writer', 4) > 0 as writer_sent_new_lane,
       pgque.send('q_prio_big', 'again', 4) > 0 as writer_sent_same_lane,
       pgque.send_batch('q_prio_big', 'default', array['b1', 'b2'], 9) is not null as writer_batch;
select try($$select 1 from pgque.queue$$) as writer_cannot_read_queue;
reset role;
select pgque.ticker('q_prio_big') is not null as ticked;
create temp table got_writer as select payload from pgque.receive('q_prio_big', 'c', 10);
select pgque.ack(batch_id) from pgque.receive('q_prio_big', 'c', 10) limit 1;
insert into got_writer select payload from pgque.receive('q_prio_big', 'c', 10);
select array_agg(payload order by payload) as writer_events_received from got_writer;
drop role prio_writer;
select pgque.drop_queue('q_prio_big', true);
