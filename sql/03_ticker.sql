-- Ticks: thresholds, force, pause, external ticker, ordering.
\set SHOW_CONTEXT never
select pgque.create_queue('q_tick');
select pgque.set_queue_config('q_tick', 'ticker_max_count', '3');
select pgque.set_queue_config('q_tick', 'ticker_max_lag', '1 hour');
select pgque.set_queue_config('q_tick', 'ticker_idle_period', '1 hour');
create temp view q_tick_ticks as
    select t.* from pgque.tick t join pgque.queue q on q.queue_id = t.tick_queue
     where q.queue_name = 'q_tick';
-- past its creation tick (a queue with only that one ticks as soon as it
-- has events: see manual mode below), the thresholds decide
select pgque.force_tick('q_tick') is not null as forced;
select pgque.ticker('q_tick') is not null as second_tick;

-- nothing new, idle period not reached: no tick
select pgque.ticker('q_tick') as idle;
-- below ticker_max_count and max_lag: no tick
select pgque.send('q_tick', 'a'), pgque.send('q_tick', 'b');
select pgque.ticker('q_tick') as below_max_count;
-- max_count reached
select pgque.send('q_tick', 'c');
select pgque.ticker('q_tick') is not null as max_count_reached;
select tick_event_seq from q_tick_ticks order by tick_id desc limit 1;

-- max_lag: any new event ticks once the last tick is older than max_lag
select pgque.set_queue_config('q_tick', 'ticker_max_lag', '0');
select pgque.ticker('q_tick') as no_new_events;
select pgque.send('q_tick', 'd');
select pgque.ticker('q_tick') is not null as max_lag_reached;

-- idle period: ticks without events once it has passed
select pgque.set_queue_config('q_tick', 'ticker_idle_period', '1 millisecond');
select pg_sleep(0.01);
select pgque.ticker('q_tick') is not null as idle_period_reached;
select pgque.set_queue_config('q_tick', 'ticker_idle_period', '1 hour');

-- force_tick: returns the last tick id; the next ticker pass ticks once
select pgque.force_tick('q_tick') = (select max(tick_id) from q_tick_ticks) as returns_last_tick;
select queue_tick_forced from pgque.queue where queue_name = 'q_tick';
select pgque.ticker('q_tick') is not null as forced;
select queue_tick_forced from pgque.queue where queue_name = 'q_tick';
select pgque.ticker('q_tick') as not_forced_again;
-- (first let ticker() tick whatever earlier tests left due, so that the
-- counts below are this test's own)
select pgque.ticker() >= 0 as earlier_tests_flushed;
select pgque.force_next_tick('q_tick') is not null as force_next_tick;
select pgque.ticker() as queues_ticked;
select pgque.ticker() as queues_ticked_again;

-- ticker() ticks every due queue and counts them
select pgque.create_queue('q_tick2');
select pgque.force_tick('q_tick') is not null, pgque.force_tick('q_tick2') is not null;
select pgque.ticker() as queues_ticked;

-- paused queues do not tick; ticker(queue) and force_tick() say why (55000)
select pgque.force_tick('q_tick') is not null as forced_before_the_pause;
select pgque.set_queue_config('q_tick', 'ticker_paused', 'true');
select try($$select pgque.force_tick('q_tick')$$);
select try($$select pgque.ticker('q_tick')$$);
select pgque.ticker() as paused_skipped;
select pgque.set_queue_config('q_tick', 'ticker_paused', 'false');
select pgque.ticker() as resumed;

-- externally ticked queues are left alone
select pgque.set_queue_config('q_tick2', 'external_ticker', 'true');
select try($$select pgque.force_next_tick('q_tick2')$$);
select try($$select pgque.ticker('q_tick2')$$);
select pgque.ticker() as external_skipped;

-- tick ids grow, times do not go back, snapshots only move forward
select bool_and(t.tick_id > p.tick_id and t.tick_time >= p.tick_time
                and pg_snapshot_xmin(t.tick_snapshot) >= pg_snapshot_xmin(p.tick_snapshot)
                and pg_snapshot_xmax(t.tick_snapshot) >= pg_snapshot_xmax(p.tick_snapshot)
                and t.tick_event_seq >= p.tick_event_seq) as ordered,
       count(*) as pairs
  from q_tick_ticks t
  join q_tick_ticks p on p.tick_id = (select max(x.tick_id) from q_tick_ticks x where x.tick_id < t.tick_id);

-- a tick taken inside the sending transaction does not cover its events
select pgque.subscribe('q_tick', 'c');
begin;
select pgque.send('q_tick', 'same transaction');
select pgque.force_tick('q_tick') is not null;
select pgque.ticker('q_tick') is not null as ticked_inside;
commit;
select count(*) as before_next_tick from pgque.receive('q_tick', 'c');
select pgque.force_tick('q_tick') is not null;
select pgque.ticker('q_tick') is not null as ticked_after;
select payload from pgque.receive('q_tick', 'c');

-- an event whose transaction was open at a tick is ticked by the next
-- ticker() call after max_lag, without waiting for the idle period: the tick
-- recorded the transaction as running
select pgque.ack(batch_id) from pgque.receive('q_tick', 'c') limit 1;
select pgque.set_queue_config('q_tick', 'ticker_max_lag', '10 ms');
select pg_sleep(0.02);
select pgque.ticker('q_tick') is null as nothing_new_yet;
begin;
select pgque.send('q_tick', 'open across a tick');
select pgque.force_tick('q_tick') is not null;
select pgque.ticker('q_tick') is not null as tick_sees_it_running;
commit;
select pg_sleep(0.02);
select pgque.ticker('q_tick') is not null as ticked_after_max_lag;
select payload from pgque.receive('q_tick', 'c');
select pgque.set_queue_config('q_tick', 'ticker_max_lag', '0');

select try($$select pgque.ticker('nope')$$);
select try($$select pgque.ticker(null)$$);
select try($$select pgque.force_tick('nope')$$);

-- manual mode: a new queue ticks as soon as it has events (PgQ and PgQue
-- tick a queue that has only its creation tick), so send, ticker, receive
-- works at once
select pgque.create_queue('q_manual');
select pgque.subscribe('q_manual', 'c');
select pgque.send('q_manual', 'right away') > 0 as sent;
select pgque.ticker() >= 1 as ticked;
select payload from pgque.receive('q_manual', 'c');
select pgque.send('q_manual', 'later') > 0 as sent;
select pgque.ticker('q_manual') is null as not_due_after_the_first_tick;
select try($$select pgque.ticker('no_such_queue')$$);

-- the external ticker (PgQ's 4-argument ticker): ids up, sequence not back
select pgque.set_queue_config('q_manual', 'external_ticker', 'true');
select tick_id as ext_last, tick_event_seq as ext_seq from pgque.tick t
  join pgque.queue q on q.queue_id = t.tick_queue
 where q.queue_name = 'q_manual' order by tick_id desc limit 1 \gset
select pgque.ticker('q_manual', :ext_last + 10, '2026-01-01 00:00:00+00', :ext_seq + 5) = :ext_last + 10 as external_tick;
select tick_time = '2026-01-01 00:00:00+00' as time_as_given, tick_event_seq = :ext_seq + 5 as seq_as_given
  from pgque.tick t join pgque.queue q on q.queue_id = t.tick_queue
 where q.queue_name = 'q_manual' order by tick_id desc limit 1;
select try(format($$select pgque.ticker('q_manual', %s, now(), %s)$$, :ext_last + 10, :ext_seq + 5));
select try(format($$select pgque.ticker('q_manual', %s, now(), %s)$$, :ext_last + 11, :ext_seq + 4));
select try($$select pgque.ticker('nope', 1, now(), 1)$$);
select try($$select pgque.ticker('q_manual', null, now(), 1)$$);
select pgque.set_queue_config('q_manual', 'external_ticker', 'false');
select try($$select pgque.ticker('q_manual', 100000, now(), 1000000)$$);
select pgque.drop_queue('q_manual', true);

-- A tick taken right after a checkpoint: drawing its tick id WAL-logs the
-- sequence, which gives the ticking transaction an xid. Drawn after the
-- snapshot, that xid is not listed as running in the tick, so the next
-- ticker() has nothing to do.
select pgque.create_queue('q_cp');
select pgque.set_queue_config('q_cp', 'ticker_max_lag', '0');
select pgque.send('q_cp', 'cp') > 0 as sent;
checkpoint;
select pgque.ticker('q_cp') is not null as ticked;
select pg_snapshot_xmin(tick_snapshot) = pg_snapshot_xmax(tick_snapshot) as nothing_running
  from pgque.tick t join pgque.queue q on q.queue_id = t.tick_queue
 where q.queue_name = 'q_cp' order by tick_id desc limit 1;
select pgque.ticker('q_cp') is null as nothing_new;
select pgque.drop_queue('q_cp');
