-- PgQ batch primitives: next_batch*, get_batch_events, finish_batch,
-- fan-out, register_consumer_at.
\set SHOW_CONTEXT never
select pgque.create_queue('q_batch');
select pgque.set_queue_config('q_batch', 'ticker_max_lag', '0');
select pgque.register_consumer('q_batch', 'c1');
select pgque.subscribe('q_batch', 'c2');
select pgque.subscribe('q_batch', 'c2') as again;

-- no tick after the subscription point yet
select pgque.next_batch('q_batch', 'c1') as no_batch;
select * from pgque.next_batch_info('q_batch', 'c1');

select pgque.send('q_batch', 'e1'), pgque.send('q_batch', 'e2'), pgque.send('q_batch', 'e3');
select pgque.ticker('q_batch') is not null as ticked;

select batch_id is not null as has_batch, cur_tick_id > prev_tick_id as forward,
       cur_tick_event_seq - prev_tick_event_seq as seq_span,
       cur_tick_time >= prev_tick_time as times
  from pgque.next_batch_info('q_batch', 'c1');
select pgque.next_batch('q_batch', 'c1') as b1 \gset
select pgque.next_batch('q_batch', 'c1') = :b1 as same_batch_until_finished;
select ev_id, ev_type, ev_data, ev_retry, ev_extra1, ev_txid is not null as has_txid
  from pgque.get_batch_events(:b1);
select sub_batch = :b1 as open, sub_next_tick > sub_last_tick as window
  from pgque.subscription s join pgque.consumer c on c.co_id = s.sub_consumer
 where c.co_name = 'c1';
select queue_name, consumer_name, prev_tick_id < tick_id as window, seq_end - seq_start as events
  from pgque.get_batch_info(:b1);
select pgque.finish_batch(:b1);
select pgque.finish_batch(:b1) as twice;
select try(format('select * from pgque.get_batch_events(%s)', :b1));
select pgque.next_batch('q_batch', 'c1') as nothing_more;

-- fan-out: c2 has its own cursor and sees the same events
select pgque.next_batch('q_batch', 'c2') as b2 \gset
select array_agg(ev_data order by ev_id) from pgque.get_batch_events(:b2);
select pgque.finish_batch(:b2);

-- next_batch_custom: min_count spans several ticks, min_lag holds back
select pgque.send('q_batch', 'e4');
select pgque.ticker('q_batch') is not null;
select pgque.send('q_batch', 'e5');
select pgque.ticker('q_batch') is not null;
select batch_id is null as held_back from pgque.next_batch_custom('q_batch', 'c1', '1 hour', null, null);
select batch_id as b3, cur_tick_event_seq - prev_tick_event_seq as seq_span
  from pgque.next_batch_custom('q_batch', 'c1', null, 2, null) \gset
select :seq_span as seq_span, array_agg(ev_data order by ev_id) from pgque.get_batch_events(:b3);
select pgque.finish_batch(:b3);
select batch_id is null as nothing_left from pgque.next_batch_custom('q_batch', 'c1', null, 1, '1 second');

-- register_consumer_at: rewind c1 to an earlier tick and read again
select min(tick_id) as first_tick from pgque.tick t join pgque.queue q on q.queue_id = t.tick_queue
 where q.queue_name = 'q_batch' \gset
select pgque.next_batch('q_batch', 'c2') as c2_open \gset
select pgque.register_consumer_at('q_batch', 'c1', :first_tick) as existed;
select array_agg(ev_data order by ev_id) from pgque.get_batch_events(pgque.next_batch('q_batch', 'c1'));
-- an open batch is cancelled when the cursor moves
select pgque.register_consumer_at('q_batch', 'c2', :first_tick);
select try(format('select * from pgque.get_batch_events(%s)', :c2_open));
select try($$select pgque.register_consumer_at('q_batch', 'c1', 999999)$$);
-- a new consumer starts at the newest tick, not at the beginning
select pgque.register_consumer_at('q_batch', 'c3', null);
select pgque.next_batch('q_batch', 'c3') as c3_nothing;

-- unsubscribe: gone with its state, idempotent
select pgque.unregister_consumer('q_batch', 'c3');
select pgque.unsubscribe('q_batch', 'c3') as again;
select count(*) from pgque.consumer where co_name = 'c3';
select try($$select pgque.next_batch('q_batch', 'c3')$$);

-- get_batch_events gives ev_txid as bigint, as PgQ and PgQue do
select pgque.subscribe('q_batch', 'c_typed');
select pgque.send('q_batch', 'typed') > 0 as sent;
select pgque.force_tick('q_batch') is not null, pgque.ticker('q_batch') is not null;
select pg_typeof(ev_txid) as ev_txid_type, ev_txid > 0 as positive
  from pgque.get_batch_events(pgque.next_batch('q_batch', 'c_typed')) where ev_data = 'typed';
