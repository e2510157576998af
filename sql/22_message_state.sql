-- message_state: where is my message? Per consumer, from the cursors,
-- batches, retries, dead letters, delay buckets and event tables, with no
-- write per message: pending (not ticked, ticked, or not handed out by a
-- partial receive), in_batch, done, retry, dead, delayed, unknown, gone.
\set SHOW_CONTEXT never
select pgque.create_queue('q_ms');
select pgque.set_queue_config('q_ms', 'ticker_max_lag', '0');
select pgque.set_queue_config('q_ms', 'rotation_period', '0');
select pgque.set_queue_config('q_ms', 'max_retries', '1');
select pgque.subscribe('q_ms', 'a');
select pgque.subscribe('q_ms', 'b');
select pgque.register_subconsumer('q_ms', 'workers', 'w1');
select pgque.register_subconsumer('q_ms', 'workers', 'w2');

-- what message_state says, without what differs from run to run: times
-- as booleans or past/future, batch ids and xids masked in the detail
create function pg_temp.ms(id bigint) returns table (consumer text, state text, member text,
    batch boolean, since boolean, due text, attempt int, reason text, dl boolean, detail text)
language sql as $$
    select m.consumer, m.state, m.member, m.batch_id is not null, m.since is not null,
           case when m.due_at > now() then 'future' when m.due_at <= now() then 'past' end,
           m.attempt, m.reason, m.dead_letter_id is not null,
           regexp_replace(replace(m.detail, coalesce(m.due_at::text, ''), 'T'),
                          '(batch |transaction |dlq_replay\()[0-9]+', '\1N', 'g')
      from pgque.message_state('q_ms', id) m
$$;
-- receive everything a consumer (or each member) has, and ack it
create function pg_temp.drain(consumer text) returns int language plpgsql as $$
declare n int := 0; b bigint; c int; w text;
begin
    for w in select unnest(case when consumer = 'workers' then array['w1', 'w2'] else array[null] end) loop
        loop
            if w is null then
                select max(m.batch_id), count(*) into b, c from pgque.receive('q_ms', consumer, 1000) m;
            else
                select max(m.batch_id), count(*) into b, c from pgque.receive_coop('q_ms', consumer, w, 1000) m;
            end if;
            exit when b is null;
            n := n + c;
            perform pgque.ack(b);
        end loop;
    end loop;
    return n;
end $$;

-- e1, e2, e3 in one tick; not ticked yet: pending for all, since no tick
select pgque.send('q_ms', 'job', 'e1') as e1 \gset
select pgque.send('q_ms', 'job', 'e2') as e2 \gset
select pgque.send('q_ms', 'job', 'e3') as e3 \gset
select * from pg_temp.ms(:e1);
select pgque.ticker('q_ms') is not null as t1;
-- ticked: pending since that tick
select * from pg_temp.ms(:e1);
select count(*) = 1 as since_is_the_tick from pgque.message_state('q_ms', :e1) m
  join pgque.tick t on t.tick_time = m.since
  join pgque.queue q on q.queue_id = t.tick_queue and q.queue_name = 'q_ms'
 where m.consumer = 'a' and t.tick_id = (select max(tick_id) from pgque.tick where tick_queue = q.queue_id);

-- a receives them: in_batch, with its batch id and open time
create temp table a1 as select * from pgque.receive('q_ms', 'a');
select * from pg_temp.ms(:e1);
select m.batch_id = a1.batch_id as a_batch, m.since = b.batch_opened as since_opened
  from pgque.message_state('q_ms', :e1) m, a1, pgque.batch b
 where m.consumer = 'a' and a1.msg_id = :e1 and b.batch_id = a1.batch_id;
-- a nacks e2 for an hour and e3 for now, and acks
select pgque.nack(batch_id, row(a1.*)::pgque.message, '1 hour', 'later') from a1 where msg_id = :e2;
select pgque.nack(batch_id, row(a1.*)::pgque.message, '0', 'soon') from a1 where msg_id = :e3;
select pgque.ack(batch_id) from a1 limit 1;
select * from pg_temp.ms(:e2);
select m.due_at = r.ev_retry_after as due_is_the_retry from pgque.message_state('q_ms', :e2) m
  join pgque.retry_queue r on r.ev_id = :e2 where m.consumer = 'a';
-- e3's retry is moved into the queue: a's copy is pending again (not ticked)
select pgque.maint_retry_events() as moved;
select * from pg_temp.ms(:e3);
select pgque.ticker('q_ms') is not null as t2;
create temp table a2 as select * from pgque.receive('q_ms', 'a');
select msg_id = :e3 as the_copy, retry_count from a2;
select * from pg_temp.ms(:e3) where consumer = 'a';
-- out of retries: a dead letter, with the reason
select pgque.nack(batch_id, row(a2.*)::pgque.message, '0', 'broken') from a2;
select pgque.ack(batch_id) from a2 limit 1;
select pg_temp.drain('b') as b_read, pg_temp.drain('workers') as workers_read;
select * from pg_temp.ms(:e1);
select * from pg_temp.ms(:e2);
select * from pg_temp.ms(:e3);
select m.dead_letter_id = d.dl_id as dl_id, m.since = d.dl_time as since_dead
  from pgque.message_state('q_ms', :e3) m join pgque.dead_letter d on d.ev_id = :e3
 where m.consumer = 'a';

-- e4: a holds it, member w2 of workers holds it, b has not received it
select pgque.send('q_ms', 'job', 'e4') as e4 \gset
select pgque.ticker('q_ms') is not null as t3;
create temp table a3 as select * from pgque.receive('q_ms', 'a');
create temp table w3 as select * from pgque.receive_coop('q_ms', 'workers', 'w2');
select * from pg_temp.ms(:e4);
select m.consumer, m.batch_id = coalesce(a3.batch_id, w3.batch_id) as holder_batch
  from pgque.message_state('q_ms', :e4) m
  left join a3 on m.consumer = 'a' left join w3 on m.consumer = 'workers'
 where m.state = 'in_batch' order by 1;

-- a partial receive: b takes p1 and p2 of p1..p3; p3 is not handed out
select count(*) as b_gets_e4 from pgque.receive('q_ms', 'b');
select pgque.ack(batch_id) from pgque.receive('q_ms', 'b') limit 1;
select pgque.send_batch('q_ms', 'job', array['p1', 'p2', 'p3']) as p \gset
select (:'p'::bigint[])[1] as p1, (:'p'::bigint[])[3] as p3 \gset
select pgque.ticker('q_ms') is not null as t4;
create temp table b4 as select * from pgque.receive('q_ms', 'b', 2);
select array_agg(payload order by msg_id) as b_got from b4;
select * from pg_temp.ms(:p1) where consumer = 'b';
select * from pg_temp.ms(:p3) where consumer = 'b';
-- ack: p1 done, p3 waits in the rest of the split batch
select pgque.ack(batch_id) from b4 limit 1;
select * from pg_temp.ms(:p1) where consumer = 'b';
select * from pg_temp.ms(:p3) where consumer = 'b';
create temp table b5 as select * from pgque.receive('q_ms', 'b', 1);
select * from pg_temp.ms(:p3) where consumer = 'b';
select pgque.ack(batch_id) from b5 limit 1;

-- delayed: all consumers, until its time; due_at is when it enters the queue
select date_trunc('minute', now()) + interval '2 hours' as at1 \gset
select pgque.send_at('q_ms', 'job', 'later', :'at1') as d1 \gset
select * from pg_temp.ms(:d1);
select bool_and(due_at = :'at1') as due_is_deliver_at from pgque.message_state('q_ms', :d1);
-- once moved it is an ordinary pending event
select pgque.send_at('q_ms', 'job', 'soon', clock_timestamp() + interval '100 milliseconds') as d2 \gset
select state from pgque.message_state('q_ms', :d2) where consumer = 'a';
select pg_sleep(0.15);
select pgque.maint_retry_events() as moved;
select * from pg_temp.ms(:d2) where consumer = 'a';

-- not sent: an id the queue has not handed out; a send that rolled back
select * from pg_temp.ms(:d2 + 1000);
begin;
select pgque.send('q_ms', 'job', 'undone') as rb \gset
select * from pg_temp.ms(:rb) where consumer = 'a';
rollback;
select * from pg_temp.ms(:rb) where consumer = 'a';

-- rotation: three switches recycle e1's table; the consumers have read
-- past it. a's retry and dead letter stay what they were.
\set rotate 'select pgque.send(''q_ms'', ''job'', ''filler'') is not null as sent; select pgque.ticker(''q_ms'') is not null as ticked; select pg_temp.drain(''a'') + pg_temp.drain(''b'') + pg_temp.drain(''workers'') > 0 as drained; select pgque.maint_rotate_tables_step1(''q_ms'') as rotated; select pgque.maint_rotate_tables_step2() as step2;'
:rotate
:rotate
select * from pg_temp.ms(:e1);
:rotate
select queue_cur_table as e1_table_recycled from pgque.queue where queue_name = 'q_ms';
select * from pg_temp.ms(:e1);
select * from pg_temp.ms(:e2);
select * from pg_temp.ms(:e3);
select * from pg_temp.ms(:e4);

-- a queue without consumers
select pgque.create_queue('q_ms_none');
select pgque.set_queue_config('q_ms_none', 'ticker_max_lag', '0');
select pgque.send('q_ms_none', 'x') as n1 \gset
select consumer, state, detail from pgque.message_state('q_ms_none', :n1);
select pgque.ticker('q_ms_none') is not null;
select consumer, state, detail from pgque.message_state('q_ms_none', :n1);

-- readers may ask; on a restricted queue the dead letter's reason is
-- shown only to those who may use the subscription
create role regress_ms_reader in role pgque_reader;
set role regress_ms_reader;
select consumer, state, reason from pgque.message_state('q_ms', :e3) where consumer = 'a';
reset role;
select pgque.grant_queue('q_ms', 'regress_ms_reader', 'consume');
set role regress_ms_reader;
select consumer, state, reason from pgque.message_state('q_ms', :e3) where consumer = 'a';
reset role;
-- a replayed dead letter is back in the stream for a, as a new first delivery
select pgque.dlq_replay(dead_letter_id) > 0 as replayed
  from pgque.message_state('q_ms', :e3) where consumer = 'a';
select * from pg_temp.ms(:e3) where consumer = 'a';

-- bad input
select try($$select * from pgque.message_state('q_nope', 1)$$);
select try($$select * from pgque.message_state(null, 1)$$);
select try($$select * from pgque.message_state('q_ms', 0)$$);
select try($$select * from pgque.message_state('q_ms', null)$$);

select pgque.drop_queue('q_ms', true);
select pgque.drop_queue('q_ms_none', true);
drop owned by regress_ms_reader;
drop role regress_ms_reader;
