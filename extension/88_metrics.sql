-- Prometheus text exposition of what get_queue_info(), get_consumer_info(),
-- the retry and dead-letter tables, the schedules and the worker say, in
-- one call (docs/operations.md#metrics). Names are stable; counters end in
-- _total. A queue's lanes (priorities) count with the queue.

-- One sample line: name{labels} value. Label values are escaped as the
-- format requires (\, " and newline).
create or replace function pgque._metric(name text, labels text[], value float8) returns text
    language sql immutable parallel safe
    set search_path = pg_catalog, pgque, pg_temp
as $$
    select name
           || case when cardinality(labels) > 0 then
                  '{' || (select string_agg(labels[i] || '="'
                                            || replace(replace(replace(labels[i + 1], '\', '\\'), '"', '\"'),
                                                       E'\n', '\n') || '"', ',' order by i)
                            from generate_series(1, cardinality(labels), 2) i) || '}'
              else '' end
           || ' '
           || case when value is null then 'NaN'
                   when value = 'Infinity' then '+Inf'
                   when value = '-Infinity' then '-Inf'
                   when value = trunc(value) and abs(value) < 1e15 then trunc(value)::bigint::text
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
        pgque._metric('pgque_up', array['version', pgque.version()], 1)];

    v_out := v_out || array[
        '# HELP pgque_worker_running 1 if the pgque worker of this database runs.',
        '# TYPE pgque_worker_running gauge',
        pgque._metric('pgque_worker_running', '{}', (w.state = 'running')::int),
        '# HELP pgque_worker_last_tick_age_seconds Seconds since the worker last ticked any queue.',
        '# TYPE pgque_worker_last_tick_age_seconds gauge',
        pgque._metric('pgque_worker_last_tick_age_seconds', '{}',
                      extract(epoch from clock_timestamp() - w.last_tick)),
        '# HELP pgque_worker_ticks_total Ticks taken by the worker (resets when it restarts).',
        '# TYPE pgque_worker_ticks_total counter',
        pgque._metric('pgque_worker_ticks_total', '{}', coalesce(w.ticks, 0)),
        '# HELP pgque_worker_errors_total Worker steps that failed (the last error is in pgque.status()).',
        '# TYPE pgque_worker_errors_total counter',
        pgque._metric('pgque_worker_errors_total', '{}', coalesce(w.errors, 0))];

    return array_to_string(v_out || (
        with q as (select * from pgque.get_queue_info()),
             ids as (select qq.queue_id, coalesce(p.queue_name, qq.queue_name) as queue_name
                       from pgque.queue qq left join pgque.queue p on p.queue_id = qq.queue_lane_of),
             c as (select * from pgque.get_consumer_info() ci where strpos(ci.consumer_name, '.') = 0),
             samples(ord, family, line) as (
                select 1, 'events_sent', pgque._metric('pgque_events_sent_total', array['queue', q.queue_name],
                        coalesce(pgque._event_seq_value((select queue_id from pgque.queue x where x.queue_name = q.queue_name)), 0))
                  from q
                union all
                select 2, 'ticks', pgque._metric('pgque_ticks_total', array['queue', q.queue_name], coalesce(q.last_tick_id, 0))
                  from q
                union all
                select 3, 'tick_age', pgque._metric('pgque_last_tick_age_seconds', array['queue', q.queue_name],
                                                    extract(epoch from q.ticker_lag))
                  from q
                union all
                select 4, 'new_events', pgque._metric('pgque_new_events', array['queue', q.queue_name], q.ev_new)
                  from q
                union all
                select 5, 'rotation_blocked', pgque._metric('pgque_rotation_blocked', array['queue', q.queue_name],
                                                            (q.rotation_blocked_by is not null)::int)
                  from q
                union all
                select 6, 'rotation_blocked_by', pgque._metric('pgque_rotation_blocked_by',
                                                               array['queue', q.queue_name, 'by', q.rotation_blocked_by], 1)
                  from q where q.rotation_blocked_by is not null
                union all
                select 7, 'pending', pgque._metric('pgque_pending_events',
                                                   array['queue', c.queue_name, 'consumer', c.consumer_name],
                                                   coalesce(c.pending_events, 0))
                  from c
                union all
                select 8, 'pending_age', pgque._metric('pgque_oldest_pending_age_seconds',
                                                       array['queue', c.queue_name, 'consumer', c.consumer_name],
                                                       coalesce(extract(epoch from c.pending_age), 0))
                  from c
                union all
                select 9, 'consumer_lag', pgque._metric('pgque_consumer_lag_seconds',
                                                        array['queue', c.queue_name, 'consumer', c.consumer_name],
                                                        extract(epoch from c.lag))
                  from c
                union all
                select 10, 'paused', pgque._metric('pgque_consumer_paused',
                                                   array['queue', c.queue_name, 'consumer', c.consumer_name],
                                                   c.paused::int)
                  from c
                union all
                select 11, 'batches_open', pgque._metric('pgque_batches_open', array['queue', q.queue_name],
                                                         coalesce(b.n, 0))
                  from q left join (select i.queue_name, count(*) as n from pgque.batch bb
                                      join pgque.subscriber s on s.sub_id = bb.batch_sub
                                      join ids i on i.queue_id = s.sub_queue
                                     where bb.batch_state = 'o' group by i.queue_name) b using (queue_name)
                union all
                select 12, 'retries', pgque._metric('pgque_retries_waiting', array['queue', q.queue_name],
                                                    coalesce(r.n, 0))
                  from q left join (select i.queue_name, count(*) as n from pgque.retry_queue rq
                                      join ids i on i.queue_id = rq.ev_queue group by i.queue_name) r using (queue_name)
                union all
                select 13, 'dead_letters', pgque._metric('pgque_dead_letters', array['queue', q.queue_name],
                                                         coalesce(d.n, 0))
                  from q left join (select i.queue_name, count(*) as n from pgque.dead_letter dl
                                      join ids i on i.queue_id = dl.dl_queue_id group by i.queue_name) d using (queue_name)
                union all
                select 14, 'schedule_runs', pgque._metric('pgque_schedule_runs_total',
                                                          array['schedule', si.schedule_name, 'queue', si.queue_name], si.runs)
                  from pgque.get_schedule_info() si
                union all
                select 15, 'schedule_missed', pgque._metric('pgque_schedule_missed_total',
                                                            array['schedule', si.schedule_name, 'queue', si.queue_name], si.missed)
                  from pgque.get_schedule_info() si
                union all
                select 16, 'schedule_failing', pgque._metric('pgque_schedule_failing',
                                                             array['schedule', si.schedule_name, 'queue', si.queue_name],
                                                             (si.last_error is not null)::int)
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
