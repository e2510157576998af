-- Labels and filters (extension/40_consume.sql, src/filter.c): send puts a
-- label in ev_extra1 and attributes (a JSON object) in ev_extra2; a
-- subscription with types or labels is handed only the events that match,
-- on every read path, and passes the others over without holding its
-- cursor or rotation back.
\set SHOW_CONTEXT never
select pgque.create_queue('q_filt');
select pgque.set_queue_config('q_filt', 'ticker_max_lag', '0');
select pgque.set_queue_config('q_filt', 'retry_delay', '0');
select pgque.subscribe('q_filt', 'all');
select pgque.subscribe('q_filt', 'eu', labels => array['eu']);
select pgque.subscribe('q_filt', 'orders', types => array['order']);
select pgque.subscribe('q_filt', 'eu_us_orders', array['order'], array['us', 'eu', 'us']);
select pgque.subscribe('q_filt', 'pgq', labels => array['eu']);
select pgque.subscribe('q_filt', 'nobody', labels => array['mars']);
-- a second subscribe without a filter leaves the filter as it is
select pgque.subscribe('q_filt', 'eu') as existed;
select c.co_name, s.sub_types, s.sub_labels
  from pgque.subscriber s join pgque.consumer c on c.co_id = s.sub_consumer
  join pgque.queue q on q.queue_id = s.sub_queue
 where q.queue_name = 'q_filt' order by c.co_name;

select pgque.send('q_filt', 'order', 'o1', label => 'eu') is not null as sent;
select pgque.send('q_filt', 'order', 'o2', label => 'us', attributes => '{"total": 12, "vip": true}') is not null as sent;
select pgque.send('q_filt', 'refund', 'r1'::text, 0, null, 'eu') is not null as sent;
select pgque.send('q_filt', 'order', '{"n": 3}'::jsonb) is not null as sent;
select pgque.send('q_filt', '"plain"'::jsonb, label => 'asia') is not null as sent;
select pgque.ticker('q_filt') is not null as ticked;

-- receive: each consumer gets what it takes, with label and attributes
\set ack_all 'select count(pgque.ack(b.batch_id)) as acked from pgque.batch b join pgque.subscriber s on s.sub_id = b.batch_sub join pgque.queue q on q.queue_id = s.sub_queue where ''q_filt'' in (q.queue_name, (select p.queue_name from pgque.queue p where p.queue_id = q.queue_lane_of)) and b.batch_state = ''o'''
select type, payload, extra1 as label, extra2::jsonb as attributes
  from pgque.receive('q_filt', 'all', 100) order by msg_id;
select type, payload from pgque.receive('q_filt', 'eu', 100) order by msg_id;
select type, payload from pgque.receive('q_filt', 'orders', 100) order by msg_id;
select type, payload from pgque.receive('q_filt', 'eu_us_orders', 100) order by msg_id;
select count(*) as nothing from pgque.receive('q_filt', 'nobody', 100);

-- the PgQ path: next_batch + get_batch_events
select pgque.next_batch('q_filt', 'pgq') as pgq_batch \gset
select ev_type, ev_data, ev_extra1 from pgque.get_batch_events(:pgq_batch) order by ev_id;
select pgque.finish_batch(:pgq_batch);
:ack_all;

-- the consumer that took nothing stands at the newest tick: no open batch,
-- nothing pending
select count(*) filter (where b.batch_state = 'o') as open_batches
  from pgque.batch b join pgque.subscriber s on s.sub_id = b.batch_sub
  join pgque.consumer c on c.co_id = s.sub_consumer where c.co_name = 'nobody';
select pending_events from pgque.get_consumer_info('q_filt', 'nobody');

-- max_return counts what is handed out, not what is passed over
select count(pgque.send('q_filt', 'order', 'us' || i, label => 'us')) from generate_series(1, 1500) i;
select pgque.send('q_filt', 'order', 'the eu one', label => 'eu') is not null as sent;
select pgque.ticker('q_filt') is not null as ticked;
select payload from pgque.receive('q_filt', 'eu', 1);
:ack_all;

-- a new filter applies to the next read; NULL for both clears it
select pgque.set_filter('q_filt', 'eu', null, array['us']);
select count(pgque.send('q_filt', 'order', 'x' || i, label => case when i % 2 = 0 then 'us' end))
  from generate_series(1, 6) i;
select pgque.ticker('q_filt') is not null as ticked;
select payload from pgque.receive('q_filt', 'eu', 100) order by msg_id;
:ack_all;
select pgque.set_filter('q_filt', 'eu', null, null);
select sub_types is null and sub_labels is null as cleared
  from pgque.subscriber s join pgque.consumer c on c.co_id = s.sub_consumer where c.co_name = 'eu';
select count(pgque.send('q_filt', 'y' || i)) from generate_series(1, 2) i;
select pgque.ticker('q_filt') is not null as ticked;
select payload from pgque.receive('q_filt', 'eu', 100) order by msg_id;
:ack_all;

-- a retried event comes back to its consumer
select pgque.subscribe('q_filt', 'retrier', array['order'], array['us']);
select pgque.send('q_filt', 'order', 'retry me', label => 'us') is not null as sent;
select pgque.send('q_filt', 'refund', 'not me', label => 'us') is not null as sent;
select pgque.ticker('q_filt') is not null as ticked;
select pgque.nack(batch_id, r, '0') from pgque.receive('q_filt', 'retrier', 10) r;
:ack_all;
-- (it was taken once: a narrower filter now does not lose it)
select pgque.set_filter('q_filt', 'retrier', array['order'], array['eu']);
select pgque.maint_retry_events() as moved;
select pgque.ticker('q_filt') is not null as ticked;
select payload, retry_count from pgque.receive('q_filt', 'retrier', 10);
:ack_all;

-- a sparse filter and a small max_return: every receive hands out the
-- next match, also from the rest of a batch an ack split
select pgque.subscribe('q_filt', 'sparse', labels => array['eu']);
select count(pgque.send('q_filt', 'order', 's' || i, label => case when i % 50 = 0 then 'eu' else 'us' end))
  from generate_series(1, 200) i;
select pgque.ticker('q_filt') is not null as ticked;
select payload from pgque.receive_leased('q_filt', 'sparse', null, 1, '1 hour');
select payload from pgque.receive_leased('q_filt', 'sparse', null, 1, '1 hour');
select payload from pgque.receive_leased('q_filt', 'sparse', null, 1, '1 hour');
select payload from pgque.receive_leased('q_filt', 'sparse', null, 1, '1 hour');
select count(*) as no_more from pgque.receive_leased('q_filt', 'sparse', null, 1, '1 hour');
-- and a match behind more ticks than a receive tries windows
select pgque.subscribe('q_filt', 'far', labels => array['eu']);
do $$
begin
    for i in 1..20 loop
        perform pgque.send('q_filt', 'order', 'far-us', label => 'us');
        commit;
        perform pgque.ticker('q_filt');
        commit;
    end loop;
end
$$;
select pgque.send('q_filt', 'order', 'far-eu', label => 'eu') is not null as sent;
select pgque.ticker('q_filt') is not null as ticked;
-- (windows of one tick each: 21 windows, more than the 16 empty ones a
-- receive tries; windows the filter passed over do not count)
set pgque.max_batch_events = 1;
select payload from pgque.receive('q_filt', 'far', 1);
reset pgque.max_batch_events;
:ack_all;

-- delayed sends keep the label: through the delay buckets, and due already
select pgque.subscribe('q_filt', 'delayed_eu', labels => array['eu']);
select pgque.send_at('q_filt', 'order', 'later', now() + interval '200 milliseconds', 'eu', '{"k": "v"}') is not null as sent;
select pgque.send_at('q_filt', 'order', 'due', now() - interval '1 second', 'mars') is not null as sent;
select pg_sleep(0.3);
select pgque.maint_retry_events() as moved;
select pgque.ticker('q_filt') is not null as ticked;
select payload, extra1, extra2::jsonb from pgque.receive('q_filt', 'delayed_eu', 10);
select payload, extra1 from pgque.receive('q_filt', 'nobody', 10);
:ack_all;

-- priority lanes take the consumer's filter: a lane made after the filter
-- was set, and a filter set after the lane exists
select pgque.subscribe('q_filt', 'lane_eu', labels => array['eu']);
select pgque.subscribe('q_filt', 'lane_late');
select pgque.send('q_filt', 'order', 'p-us', 5, label => 'us') is not null as sent;
select pgque.send('q_filt', 'order', 'p-eu', 5, label => 'eu') is not null as sent;
select pgque.send('q_filt', 'order', 'p-asia', 5, label => 'asia') is not null as sent;
select pgque.set_filter('q_filt', 'lane_late', null, array['asia']);
select pgque.ticker('q_filt') is not null as ticked;
select payload from pgque.receive('q_filt', 'lane_eu', 10);
select payload from pgque.receive('q_filt', 'lane_late', 10);
select c.co_name, s.sub_labels from pgque.subscriber s join pgque.queue l on l.queue_id = s.sub_queue
  join pgque.consumer c on c.co_id = s.sub_consumer
 where l.queue_lane_of = (select queue_id from pgque.queue where queue_name = 'q_filt')
   and c.co_name in ('lane_eu', 'lane_late') order by 1;
:ack_all;

-- passing over never holds rotation back: a consumer that takes none of
-- the events is handed nothing, and its cursor moves past them
select pgque.create_queue('q_filt_rot');
select pgque.set_queue_config('q_filt_rot', 'ticker_max_lag', '0');
select pgque.set_queue_config('q_filt_rot', 'rotation_period', '0');
select pgque.subscribe('q_filt_rot', 'picky', labels => array['mars']);
select count(pgque.send('q_filt_rot', 'r' || i)) from generate_series(1, 3) i;
select pgque.ticker('q_filt_rot') is not null as ticked;
select pgque.maint_rotate_tables_step1('q_filt_rot') as rotated;
select pgque.maint_rotate_tables_step2() as completed;
select count(pgque.send('q_filt_rot', 's' || i)) from generate_series(1, 3) i;
select pgque.ticker('q_filt_rot') is not null as ticked;
select pgque.maint_rotate_tables_step1('q_filt_rot') as refused_while_picky_lags;
select count(*) as handed_out from pgque.receive('q_filt_rot', 'picky', 100);
select pgque.maint_rotate_tables_step1('q_filt_rot') as rotated_after_passing_over;

-- bad input
select pgque.send('q_filt', 'x', label => '');
select pgque.send('q_filt', 'x', attributes => '[1, 2]');
select pgque.send_at('q_filt', 'x', 'p'::text, now() + interval '1 hour', i_attributes => '"s"');
select pgque.set_filter('q_filt', 'eu', array[]::text[], null);
select pgque.set_filter('q_filt', 'eu', null, array['a', null]);
select pgque.set_filter('q_filt', 'stranger', null, array['a']);
select pgque.set_filter('no_such_queue', 'eu', null, array['a']);
select pgque.subscribe('q_filt', 'eu', types => array[]::text[]);
