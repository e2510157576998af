-- status(): one row per component, meant for humans and health checks.

create function pgque.status() returns table (component text, status text, detail text)
    language plpgsql stable security definer
    set search_path = pg_catalog, pgque
as $$
begin
    return query select 'pgque'::text, 'ok'::text, 'version ' || pgque.version();
    return query select 'postgresql'::text, 'ok'::text, current_setting('server_version');
    return query select 'ticker'::text, 'manual'::text,
        'no background worker is running: call pgque.ticker() and'
        ' pgque.maint_retry_events() every few milliseconds to seconds,'
        ' and pgque.maint() every minute'::text;
    return query
        select 'queue ' || q.queue_name,
               case when q.queue_ticker_paused then 'paused'
                    when top.tick_time is null then 'no ticks'
                    when now() - top.tick_time > greatest(q.queue_ticker_idle_period * 2, interval '10 seconds')
                         then 'stale' else 'ok' end,
               format('last tick %s ago, %s subscriber(s), %s pending retries, %s dead letters',
                      coalesce(date_trunc('second', now() - top.tick_time)::text, 'never'),
                      (select count(*) from pgque.subscriber s where s.sub_queue = q.queue_id),
                      (select count(*) from pgque.retry_queue r where r.ev_queue = q.queue_id),
                      (select count(*) from pgque.dead_letter d where d.dl_queue_id = q.queue_id))
          from pgque.queue q
          left join lateral (select t.tick_time from pgque.tick t where t.tick_queue = q.queue_id
                              order by t.tick_id desc limit 1) top on true
         order by q.queue_name;
end
$$;
