-- Cooperative consumers: subconsumers share one consumer's stream, each
-- window to one member; a silent member's batch is taken over; fan-out to
-- other consumers is unchanged.
\set SHOW_CONTEXT never
select pgque.create_queue('q_coop');
select pgque.set_queue_config('q_coop', 'ticker_max_lag', '0');
select pgque.subscribe('q_coop', 'plain');

-- registering creates the consumer (1), again: nothing new (0)
select pgque.subscribe_subconsumer('q_coop', 'workers', 'w1') as w1_new,
       pgque.register_subconsumer('q_coop', 'workers', 'w2') as w2_new,
       pgque.register_subconsumer('q_coop', 'workers', 'w1') as w1_again;
select c.co_name, s.sub_role from pgque.subscriber s join pgque.consumer c on c.co_id = s.sub_consumer
 join pgque.queue q on q.queue_id = s.sub_queue where q.queue_name = 'q_coop' order by 1;
-- a normal consumer is converted only when asked
select try($$select pgque.register_subconsumer('q_coop', 'plain', 'x')$$);
select try($$select pgque.register_subconsumer('q_coop', 'workers', 'a.b')$$);
select try($$select pgque.register_subconsumer('q_coop', 'workers', '')$$);
-- the cooperative consumer is read through its members only
select try($$select * from pgque.receive('q_coop', 'workers')$$);
select try($$select pgque.next_batch('q_coop', 'workers')$$);
select try($$select pgque.unsubscribe('q_coop', 'workers')$$);

-- three ticks of two events; members take two at a time, so one tick each
select pgque.send_batch('q_coop', array['a1', 'a2']);
select pgque.ticker('q_coop') is not null as t1;
select pgque.send_batch('q_coop', array['b1', 'b2']);
select pgque.ticker('q_coop') is not null as t2;
select pgque.send_batch('q_coop', array['c1', 'c2']);
select pgque.ticker('q_coop') is not null as t3;

create temp table got1 as select * from pgque.receive_coop('q_coop', 'workers', 'w1', 2);
create temp table got2 as select * from pgque.receive_coop('q_coop', 'workers', 'w2', 2);
select 'w1' as member, array_agg(payload order by msg_id) from got1
union all
select 'w2', array_agg(payload order by msg_id) from got2;
-- get_consumer_info shows each member and the batch it holds
select consumer_name, current_batch is not null as holds_batch, last_seen < '1 minute' as alive
  from pgque.get_consumer_info('q_coop') where consumer_name like 'workers%';
-- by name, as PgQue names them
select consumer_name, current_batch = (select distinct batch_id from got2) as w2_batch
  from pgque.get_consumer_info('q_coop', 'workers.w2');
select try($$select * from pgque.get_consumer_info('q_coop', 'workers.nobody')$$);
select pgque.ack((select distinct batch_id from got1)) as w1_ack,
       pgque.ack((select distinct batch_id from got2)) as w2_ack;
select array_agg(payload order by msg_id) as w1_next
  from pgque.receive_coop('q_coop', 'workers', 'w1', 2);
select count(*) as w2_nothing_left from pgque.receive_coop('q_coop', 'workers', 'w2', 2);
-- the plain consumer still gets everything
create temp table plain_got as select * from pgque.receive('q_coop', 'plain');
select array_agg(payload order by msg_id) as plain from plain_got;
select pgque.ack((select distinct batch_id from plain_got)) as plain_ack;

-- takeover: w1 holds c1, c2 and falls silent; w2 asks with a dead_interval
update pgque.subconsumer set sc_active = now() - interval '1 hour' where sc_name = 'w1';
select count(*) as not_silent_enough
  from pgque.receive_coop('q_coop', 'workers', 'w2', 2, '2 hours');
create temp table taken as select * from pgque.receive_coop('q_coop', 'workers', 'w2', 2, '10 minutes');
select array_agg(payload order by msg_id) as taken_over from taken;
select (select distinct batch_id from taken) <> b.batch_id as new_batch_id
  from pgque.batch b where b.batch_member = 'w1' and b.batch_state = 'r';
-- w1 comes back: its ack changes nothing (a WARNING says why); w2's counts
set client_min_messages = error;
select pgque.ack(b.batch_id) as late_ack from pgque.batch b where b.batch_member = 'w1' and b.batch_state = 'r';
reset client_min_messages;
select pgque.ack((select distinct batch_id from taken)) as w2_ack;

select try(format('select pgque.nack(%s, row(m.*)::pgque.message) from taken m',
                  (select b.batch_id from pgque.batch b where b.batch_member = 'w1' and b.batch_state = 'r')));

-- heartbeats
select pgque.touch_subconsumer('q_coop', 'workers', 'w1') as touched,
       pgque.touch_subconsumer('q_coop', 'workers', 'nobody') as not_registered;
select sc_active > now() - interval '1 minute' as fresh from pgque.subconsumer where sc_name = 'w1';

-- unsubscribing a member that holds a batch: refused, or its events retried
select pgque.send_batch('q_coop', array['d1', 'd2']);
select pgque.ticker('q_coop') is not null as t4;
select count(*) as w1_holds from pgque.receive_coop('q_coop', 'workers', 'w1', 10);
select try($$select pgque.unsubscribe_subconsumer('q_coop', 'workers', 'w1')$$);
select try($$select pgque.unsubscribe_subconsumer('q_coop', 'workers', 'w1', 2)$$);
select pgque.unsubscribe_subconsumer('q_coop', 'workers', 'w1', 1) as removed;
select ev_data, ev_retry from pgque.retry_queue r join pgque.queue q on q.queue_id = r.ev_queue
 where q.queue_name = 'q_coop' order by ev_id;
select pgque.unsubscribe_subconsumer('q_coop', 'workers', 'w1') as again;
-- the last member's removal makes the consumer normal again
select pgque.unsubscribe_subconsumer('q_coop', 'workers', 'w2') as removed;
select s.sub_role from pgque.subscriber s join pgque.consumer c on c.co_id = s.sub_consumer
 where c.co_name = 'workers';

-- next_batch for a member: PgQue's form, one tick per batch
select pgque.register_subconsumer('q_coop', 'workers', 'w3', true) as converted;
select pgque.send_batch('q_coop', array['e1']);
select pgque.ticker('q_coop') is not null as t5;
select pgque.next_batch('q_coop', 'workers', 'w3') = pgque.next_batch('q_coop', 'workers', 'w3') as same_batch;
-- the window after w1's (its events went to retry with it)
select ev_data from pgque.get_batch_events(pgque.next_batch('q_coop', 'workers', 'w3'));
select pgque.finish_batch(pgque.next_batch('q_coop', 'workers', 'w3')) as finished;

-- rotation waits for the slowest member: a table is not recycled while a
-- subconsumer holds a batch whose events may lie in it
select pgque.set_queue_config('q_coop', 'rotation_period', '0');
select pgque.send('q_coop', 'f1');
select pgque.ticker('q_coop') is not null as t6;
select array_agg(payload) as w3_holds from pgque.receive_coop('q_coop', 'workers', 'w3');
create function pg_temp.drain_plain() returns text[] language plpgsql as $$
declare m pgque.message; b bigint; got text[] := array[]::text[];
begin
    loop
        b := null;
        for m in select * from pgque.receive('q_coop', 'plain', 1000) loop
            got := got || m.payload;
            b := m.batch_id;
        end loop;
        exit when b is null;
        perform pgque.ack(b);
    end loop;
    return got;
end $$;
select pg_temp.drain_plain() as plain_drained;
select pgque.maint_rotate_tables_step1('q_coop') as rotated;
select pgque.maint_rotate_tables_step2() > 0 as step2;
-- everyone but w3 moves past a tick after step 2: plain, and the
-- consumer's cursor (w4 takes the empty windows)
-- (two ticks: the first lists its own transaction, which may be step 2's bound)
select pgque.force_tick('q_coop') is not null and pgque.ticker('q_coop') is not null as t7;
select pgque.force_tick('q_coop') is not null and pgque.ticker('q_coop') is not null as t8;
select pg_temp.drain_plain() as plain_empty;
select count(*) as w4_empty from pgque.receive_coop('q_coop', 'workers', 'w4');
select pgque.maint_rotate_tables_step1('q_coop') as refused_member_holds_batch;
select pgque.ack(b.batch_id) as w3_ack from pgque.batch b
 where b.batch_member = 'w3' and b.batch_state = 'o';
select pgque.maint_rotate_tables_step1('q_coop') as rotated_after_ack;

select pgque.drop_queue('q_coop', true);
select count(*) as members_left from pgque.subconsumer;
