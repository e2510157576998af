-- Observability: get_queue_info, get_consumer_info, get_batch_info, status.
\set SHOW_CONTEXT never
select pgque.create_queue('q_info');
select pgque.set_queue_config('q_info', 'ticker_max_lag', '0');
select pgque.subscribe('q_info', 'i1');
select pgque.subscribe('q_info', 'i2');
select pgque.send_batch('q_info', array['a', 'b', 'c']) is not null;

select queue_name, queue_ntables, queue_cur_table, queue_rotation_period,
       queue_switch_time <= now() as switch_time, queue_external_ticker, queue_ticker_paused,
       queue_ticker_max_count, queue_ticker_max_lag, queue_ticker_idle_period,
       ticker_lag >= '0' as ticker_lag, ev_new, last_tick_id is not null as has_tick
  from pgque.get_queue_info('q_info');
select pgque.ticker('q_info') is not null;
select ev_new as after_tick, ev_per_sec >= 0 as rate from pgque.get_queue_info('q_info');
select count(*) >= 1 as lists_all from pgque.get_queue_info() where queue_name = 'q_info';

select queue_name, consumer_name, lag >= '0' as lag, last_seen >= '0' as last_seen,
       last_tick is not null as last_tick, current_batch, next_tick, pending_events
  from pgque.get_consumer_info('q_info') order by consumer_name;
select pgque.next_batch('q_info', 'i1') as b \gset
select consumer_name, current_batch = :b as open_batch, next_tick > last_tick as window, pending_events
  from pgque.get_consumer_info('q_info', 'i1');
select count(*) as two from pgque.get_consumer_info() where queue_name = 'q_info';
select queue_name, consumer_name, batch_start <= batch_end as times, tick_id > prev_tick_id as ticks,
       lag >= '0' as lag, seq_end - seq_start as events
  from pgque.get_batch_info(:b);
select pgque.finish_batch(:b);
select pending_events as caught_up, pending_age is null as nothing_waits
  from pgque.get_consumer_info('q_info', 'i1');
-- pending_age: how long the oldest unread event has been available
select pgque.send('q_info', 'waiting') > 0 as sent;
select pgque.force_tick('q_info') is not null, pgque.ticker('q_info') is not null;
select pending_events as one_pending, pending_age >= '0' and pending_age < '1 minute' as waiting_since_the_tick
  from pgque.get_consumer_info('q_info', 'i1');
select detail like '%oldest pending event waiting%(consumer "i_")%' as status_names_it
  from pgque.status() where component = 'queue q_info';
-- ev_per_sec counts up to now: an idle queue's rate falls off
select ev_per_sec < 1000 as rate_over_time from pgque.get_queue_info('q_info');

-- the PgQ view of the cursors
select c.co_name, s.sub_batch is null as idle, s.sub_last_tick is not null as positioned
  from pgque.subscription s join pgque.consumer c on c.co_id = s.sub_consumer
  join pgque.queue q on q.queue_id = s.sub_queue
 where q.queue_name = 'q_info' order by 1;

-- status: truthful about ticking
select component, status from pgque.status() where component in ('pgque', 'postgresql', 'launcher', 'worker', 'queue q_info');
select detail = pgque.version() as detail_is_version from pgque.status() where component = 'pgque';

select try($$select * from pgque.get_queue_info('nope')$$);
select try($$select * from pgque.get_consumer_info('nope')$$);
select try($$select * from pgque.get_consumer_info('q_info', 'nobody')$$);
select try($$select * from pgque.get_consumer_info(null, 'nobody')$$);
select try($$select * from pgque.get_batch_info(-1)$$);
select try($$select * from pgque.get_batch_info(null)$$);
