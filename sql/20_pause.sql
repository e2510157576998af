-- pause_queue / resume_queue and pause_consumer / resume_consumer: a paused
-- queue or consumer is handed nothing new; producers keep sending and
-- nothing is lost. A paused consumer keeps its place, so rotation waits for
-- it; get_consumer_info and status() say it is paused.
\set SHOW_CONTEXT never
select pgque.create_queue('q_pause');
select pgque.set_queue_config('q_pause', 'ticker_max_lag', '0');
select pgque.subscribe('q_pause', 'a');
select pgque.subscribe('q_pause', 'b');

select pgque.pause_queue('q_pause') as paused;
select pgque.pause_queue('q_pause') as already;
select cardinality(pgque.send_batch('q_pause', array['e1', 'e2']));
select pgque.ticker('q_pause') is not null;
select count(*) as a_gets_nothing from pgque.receive('q_pause', 'a');
select pgque.next_batch('q_pause', 'b') as b_batch;
select status, detail like '%consumers paused%' as says_so from pgque.status() where component = 'queue q_pause';
select consumer_name, paused from pgque.get_consumer_info('q_pause');
select pgque.resume_queue('q_pause') as resumed;
select pgque.resume_queue('q_pause') as already;
select payload from pgque.receive('q_pause', 'a') order by msg_id;
select pgque.ack(batch_id) from pgque.receive('q_pause', 'a') limit 1;

-- one consumer paused, the other goes on; an open batch can still be acked
select pgque.next_batch('q_pause', 'b') is not null as b_has_batch;
select pgque.pause_consumer('q_pause', 'b') as paused;
select pgque.send('q_pause', 'e3');
select pgque.ticker('q_pause') is not null;
select payload from pgque.receive('q_pause', 'a');
select pgque.ack(batch_id) from pgque.receive('q_pause', 'a') limit 1;
select pgque.finish_batch(current_batch) from pgque.get_consumer_info('q_pause', 'b');
select pgque.next_batch('q_pause', 'b') as b_paused_batch;
select count(*) as b_receives_nothing from pgque.receive('q_pause', 'b');
select consumer_name, paused, pending_events from pgque.get_consumer_info('q_pause');
select detail like '%paused consumer(s): b%' as says_so from pgque.status() where component = 'queue q_pause';

-- rotation waits for the paused consumer
select pgque.set_queue_config('q_pause', 'rotation_period', '0');
select pgque.maint() >= 0, pgque.maint_rotate_tables_step2() >= 0;
select pgque.send('q_pause', 'e4');
select pgque.ticker('q_pause') is not null;
select pgque.ack(batch_id) from pgque.receive('q_pause', 'a') limit 1;
select pgque.maint() >= 0 as finished_step2;
select pgque.maint_rotate_tables_step1('q_pause') as rotated_with_b_behind;
select pgque._rotation_blocker(queue_id) is not null as blocked from pgque.queue where queue_name = 'q_pause';

select pgque.resume_consumer('q_pause', 'b') as resumed;
select pgque.resume_consumer('q_pause', 'b') as already;
select payload from pgque.receive('q_pause', 'b') order by msg_id;

-- errors
select try($$select pgque.pause_queue('nope')$$);
select try($$select pgque.pause_consumer('q_pause', 'nobody')$$);
select try($$select pgque.resume_consumer('nope', 'b')$$);
-- readers may pause their consumers, only admins the queue
set role pgque_reader;
select pgque.pause_consumer('q_pause', 'a');
select pgque.resume_consumer('q_pause', 'a');
select try($$select pgque.pause_queue('q_pause')$$);
reset role;

select pgque.drop_queue('q_pause', force => true);
