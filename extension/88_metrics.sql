-- Prometheus text exposition of what get_queue_info(), get_consumer_info(),
-- the retry and dead-letter tables, the schedules and the worker say, in
-- one call (docs/operations.md#metrics). Names are stable; counters end in
-- _total. A queue's lanes (priorities) count with the queue.

-- A label value escaped as the format requires (\, " and newline), and a
-- sample value. Plain SQL without a SET clause, so that both are inlined
-- into metrics() (12,000 samples at 1,000 queues: a function call each
-- would be most of its cost); every name in them is pg_catalog's.
create or replace function pgque._metric_label(value text) returns text
    language sql immutable parallel safe
as $$
    select pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(value, '\', '\\'), '"', '\"'),
                              E'\n', '\n')
$$;

create or replace function pgque._metric_value(value float8) returns text
    language sql immutable parallel safe
as $$
    select case when value is null then 'NaN'
                when value = 'Infinity' then '+Inf'
                when value = '-Infinity' then '-Inf'
                when value = pg_catalog.trunc(value) and pg_catalog.abs(value) < 1e15
                    then pg_catalog.trunc(value)::bigint::text
                else value::text end
$$;

create or replace function pgque.metrics() returns text
    language plpgsql stable security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    w       record;
    v_out   text[] := '{}';
begin
    -- each family: HELP and TYPE, then its samples (a family without
    -- samples is still described)
    select * into w from pgque._worker_status();

    v_out := v_out || array[
        '# HELP pgque_up 1: the pgque extension answered.',
        '# TYPE pgque_up gauge',
        ('pgque_up{version="' || pgque._metric_label(pgque.version()) || '"} ' || pgque._metric_value(1))];

    v_out := v_out || array[
        '# HELP pgque_worker_running 1 if the pgque worker of this database runs.',
        '# TYPE pgque_worker_running gauge',
        ('pgque_worker_running ' || pgque._metric_value((w.state = 'running')::int)),
        '# HELP pgque_worker_last_tick_age_seconds Seconds since the worker last ticked any queue.',
        '# TYPE pgque_worker_last_tick_age_seconds gauge',
        ('pgque_worker_last_tick_age_seconds ' || pgque._metric_value(extract(epoch from clock_timestamp() - w.last_tick))),
        '# HELP pgque_worker_ticks_total Ticks taken by the worker (resets when it restarts).',
        '# TYPE pgque_worker_ticks_total counter',
        ('pgque_worker_ticks_total ' || pgque._metric_value(coalesce(w.ticks, 0))),
        '# HELP pgque_worker_errors_total Worker steps that failed (the last error is in pgque.status()).',
        '# TYPE pgque_worker_errors_total counter',
        ('pgque_worker_errors_total ' || pgque._metric_value(coalesce(w.errors, 0)))];

    return array_to_string(v_out || (
        with q as (select * from pgque.get_queue_info()),
             ids as (select qq.queue_id, coalesce(p.queue_name, qq.queue_name) as queue_name
                       from pgque.queue qq left join pgque.queue p on p.queue_id = qq.queue_lane_of),
             c as (select * from pgque.get_consumer_info() ci where strpos(ci.consumer_name, '.') = 0),
             samples(ord, family, line) as (
                select 1, 'events_sent', ('pgque_events_sent_total{queue="' || pgque._metric_label(q.queue_name) || '"} ' || pgque._metric_value(coalesce(pgque._event_seq_value((select queue_id from pgque.queue x where x.queue_name = q.queue_name)), 0)))
                  from q
                union all
                select 2, 'ticks', ('pgque_ticks_total{queue="' || pgque._metric_label(q.queue_name) || '"} ' || pgque._metric_value(coalesce(q.last_tick_id, 0)))
                  from q
                union all
                select 3, 'tick_age', ('pgque_last_tick_age_seconds{queue="' || pgque._metric_label(q.queue_name) || '"} ' || pgque._metric_value(extract(epoch from q.ticker_lag)))
                  from q
                union all
                select 4, 'new_events', ('pgque_new_events{queue="' || pgque._metric_label(q.queue_name) || '"} ' || pgque._metric_value(q.ev_new))
                  from q
                union all
                select 5, 'rotation_blocked', ('pgque_rotation_blocked{queue="' || pgque._metric_label(q.queue_name) || '"} ' || pgque._metric_value((q.rotation_blocked_by is not null)::int))
                  from q
                union all
                select 6, 'rotation_blocked_by', ('pgque_rotation_blocked_by{queue="' || pgque._metric_label(q.queue_name) || '",by="' || pgque._metric_label(q.rotation_blocked_by) || '"} ' || pgque._metric_value(1))
                  from q where q.rotation_blocked_by is not null
                union all
                select 7, 'pending', ('pgque_pending_events{queue="' || pgque._metric_label(c.queue_name) || '",consumer="' || pgque._metric_label(c.consumer_name) || '"} ' || pgque._metric_value(coalesce(c.pending_events, 0)))
                  from c
                union all
                select 8, 'pending_age', ('pgque_oldest_pending_age_seconds{queue="' || pgque._metric_label(c.queue_name) || '",consumer="' || pgque._metric_label(c.consumer_name) || '"} ' || pgque._metric_value(coalesce(extract(epoch from c.pending_age), 0)))
                  from c
                union all
                select 9, 'consumer_lag', ('pgque_consumer_lag_seconds{queue="' || pgque._metric_label(c.queue_name) || '",consumer="' || pgque._metric_label(c.consumer_name) || '"} ' || pgque._metric_value(extract(epoch from c.lag)))
                  from c
                union all
                select 10, 'paused', ('pgque_consumer_paused{queue="' || pgque._metric_label(c.queue_name) || '",consumer="' || pgque._metric_label(c.consumer_name) || '"} ' || pgque._metric_value(c.paused::int))
                  from c
                union all
                select 11, 'batches_open', ('pgque_batches_open{queue="' || pgque._metric_label(q.queue_name) || '"} ' || pgque._metric_value(coalesce(b.n, 0)))
                  from q left join (select i.queue_name, count(*) as n from pgque.batch bb
                                      join pgque.subscriber s on s.sub_id = bb.batch_sub
                                      join ids i on i.queue_id = s.sub_queue
                                     where bb.batch_state = 'o' group by i.queue_name) b using (queue_name)
                union all
                select 12, 'retries', ('pgque_retries_waiting{queue="' || pgque._metric_label(q.queue_name) || '"} ' || pgque._metric_value(coalesce(r.n, 0)))
                  from q left join (select i.queue_name, count(*) as n from pgque.retry_queue rq
                                      join ids i on i.queue_id = rq.ev_queue group by i.queue_name) r using (queue_name)
                union all
                select 13, 'dead_letters', ('pgque_dead_letters{queue="' || pgque._metric_label(q.queue_name) || '"} ' || pgque._metric_value(coalesce(d.n, 0)))
                  from q left join (select i.queue_name, count(*) as n from pgque.dead_letter dl
                                      join ids i on i.queue_id = dl.dl_queue_id group by i.queue_name) d using (queue_name)
                union all
                select 14, 'schedule_runs', ('pgque_schedule_runs_total{schedule="' || pgque._metric_label(si.schedule_name) || '",queue="' || pgque._metric_label(si.queue_name) || '"} ' || pgque._metric_value(si.runs))
                  from pgque.get_schedule_info() si
                union all
                select 15, 'schedule_missed', ('pgque_schedule_missed_total{schedule="' || pgque._metric_label(si.schedule_name) || '",queue="' || pgque._metric_label(si.queue_name) || '"} ' || pgque._metric_value(si.missed))
                  from pgque.get_schedule_info() si
                union all
                select 16, 'schedule_failing', ('pgque_schedule_failing{schedule="' || pgque._metric_label(si.schedule_name) || '",queue="' || pgque._metric_label(si.queue_name) || '"} ' || pgque._metric_value((si.last_error is not null)::int))
                  from pgque.get_schedule_info() si),
             help(ord, lines) as (values
                (1, array['# HELP pgque_events_sent_total Event ids drawn by the queue (sends, retries and moves of delayed events each draw one).',
                          '# TYPE pgque_events_sent_total counter']),
                (2, array['# HELP pgque_ticks_total Ticks of the queue (its last tick id).', '# TYPE pgque_ticks_total counter']),
                (3, array['# HELP pgque_last_tick_age_seconds Seconds since the queue''s last tick.', '# TYPE pgque_last_tick_age_seconds gauge']),
                (4, array['# HELP pgque_new_events Events sent since the queue''s last tick (not visible to consumers yet).', '# TYPE pgque_new_events gauge']),
                (5, array['# HELP pgque_rotation_blocked 1 if the queue''s table rotation is due but held back.', '# TYPE pgque_rotation_blocked gauge']),
                (6, array['# HELP pgque_rotation_blocked_by What holds the rotation back (label by), 1 while it does.', '# TYPE pgque_rotation_blocked_by gauge']),
                (7, array['# HELP pgque_pending_events Events ticked after the consumer''s last acknowledged batch (counted by the queue''s id sequence: an upper bound while priority or delayed events are in flight).', '# TYPE pgque_pending_events gauge']),
                (8, array['# HELP pgque_oldest_pending_age_seconds How long the consumer''s oldest unread event has been readable.', '# TYPE pgque_oldest_pending_age_seconds gauge']),
                (9, array['# HELP pgque_consumer_lag_seconds Age of the tick the consumer''s cursor stands at.', '# TYPE pgque_consumer_lag_seconds gauge']),
                (10, array['# HELP pgque_consumer_paused 1 if the consumer or its queue is paused.', '# TYPE pgque_consumer_paused gauge']),
                (11, array['# HELP pgque_batches_open Batches handed out and not acknowledged yet.', '# TYPE pgque_batches_open gauge']),
                (12, array['# HELP pgque_retries_waiting Nacked events waiting for their retry time.', '# TYPE pgque_retries_waiting gauge']),
                (13, array['# HELP pgque_dead_letters Events in the dead letter table.', '# TYPE pgque_dead_letters gauge']),
                (14, array['# HELP pgque_schedule_runs_total Events sent by the schedule.', '# TYPE pgque_schedule_runs_total counter']),
                (15, array['# HELP pgque_schedule_missed_total Slots of the schedule covered by catch-up events.', '# TYPE pgque_schedule_missed_total counter']),
                (16, array['# HELP pgque_schedule_failing 1 if the schedule''s last send failed.', '# TYPE pgque_schedule_failing gauge']))
        select coalesce(array_agg(x.line order by x.ord, x.sub, x.line), '{}')
          from (select h.ord, 0 as sub, l as line from help h, unnest(h.lines) with ordinality u(l, k)
                union all
                select s.ord, 1, s.line from samples s) x), E'\n') || E'\n';
end
$$;
