-- status(): one row per component, meant for humans and health checks.

create or replace function pgque.status() returns table (component text, status text, detail text)
    language plpgsql stable security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    w record;
begin
    select * into w from pgque._worker_status();

    return query select 'pgque'::text, 'ok'::text, pgque.version();
    return query select 'postgresql'::text,
        case when pg_is_in_recovery() then 'standby' else 'ok' end,
        current_setting('server_version')
            || case when pg_is_in_recovery() then ' (in recovery: ticks are taken on the primary)' else '' end;

    if w.mode = 'launcher' then
        return query select 'launcher'::text,
            case when w.launcher_pid is null then 'not running' else 'running' end,
            coalesce('pid ' || w.launcher_pid,
                     'not running: pgque.enabled is off, the server is in recovery, or it failed (see the server log)');
    end if;

    return query select 'worker'::text,
        case when w.state = 'running' then 'running'
             when w.mode = 'manual' then 'manual'
             else 'stopped' end,
        concat_ws('; ',
            case w.mode
                when 'launcher' then 'mode: launcher (pgque is in shared_preload_libraries)'
                when 'dynamic' then 'mode: dynamic, started by pgque.start(); it does not survive a server restart unless pgque is in shared_preload_libraries'
                else 'no worker: ticking is manual. Run pgque.start(), or add pgque to shared_preload_libraries; until then call pgque.ticker() and pgque.maint_retry_events() every few milliseconds to seconds and pgque.maint() every minute'
            end,
            case when w.mode = 'launcher' and w.state <> 'running' then w.state end,
            'pid ' || w.pid,
            'last tick ' || date_trunc('millisecond', now() - w.last_tick) || ' ago',
            case when w.ticks > 0 then w.ticks || ' ticks' end,
            'last error ' || date_trunc('second', now() - w.last_error_at) || ' ago: ' || w.last_error);

    return query
        select 'queue ' || q.queue_name,
               case when q.queue_ticker_paused or q.queue_paused then 'paused'
                    when top.tick_time is null then 'no ticks'
                    when now() - top.tick_time > greatest(q.queue_ticker_idle_period * 2, interval '10 seconds')
                         and not q.queue_external_ticker then 'stale'
                    when pgque._rotation_blocker(q.queue_id) is not null then 'rotation blocked'
                    else 'ok' end,
               concat_ws(', ',
                   format('last tick %s ago', coalesce(date_trunc('second', now() - top.tick_time)::text, 'never')),
                   format('%s subscriber(s)', (select count(*) from pgque.subscriber s where s.sub_queue = q.queue_id)),
                   case when q.queue_paused then 'consumers paused (pgque.resume_queue)' end,
                   case when q.queue_ticker_paused then 'ticker paused' end,
                   (select 'paused consumer(s): ' || string_agg(c.co_name, ', ' order by c.co_name)
                      from pgque.subscriber s join pgque.consumer c on c.co_id = s.sub_consumer
                     where s.sub_queue = q.queue_id and s.sub_paused),
                   format('%s pending retries', (select count(*) from pgque.retry_queue r where r.ev_queue = q.queue_id)),
                   dp.delayed || ' delayed',
                   format('%s dead letters', (select count(*) from pgque.dead_letter d where d.dl_queue_id = q.queue_id)),
                   (select format('oldest pending event waiting %s (consumer "%s")',
                                  date_trunc('second', ci.pending_age), ci.consumer_name)
                      from pgque.get_consumer_info(q.queue_name) ci
                     where ci.pending_age is not null
                     order by ci.pending_age desc limit 1),
                   'rotation blocked by ' || pgque._rotation_blocker(q.queue_id))
          from pgque.queue q
          left join lateral (select t.tick_time from pgque.tick t where t.tick_queue = q.queue_id
                              order by t.tick_id desc limit 1) top on true
          -- once for all queues: it reads every delay bucket
          left join (select p.queue_id, sum(p.delayed) as delayed from pgque._delay_pending() p
                      group by p.queue_id) dp on dp.queue_id = q.queue_id
         where q.queue_lane_of is null
         order by q.queue_name;
end
$$;
