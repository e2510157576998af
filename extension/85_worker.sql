-- The background worker (src/worker.c, src/launcher.c): start, stop, state.

create or replace function pgque._start() returns text
    language c volatile as 'MODULE_PATHNAME', 'pgque_start';
create or replace function pgque._stop() returns text
    language c volatile as 'MODULE_PATHNAME', 'pgque_stop';
create or replace function pgque._worker_status(
    out mode text, out state text, out pid int4, out started_at timestamptz,
    out last_tick timestamptz, out last_pass timestamptz, out ticks int8,
    out last_error text, out last_error_at timestamptz, out launcher_pid int4,
    out errors int8)
    language c volatile as 'MODULE_PATHNAME', 'pgque_worker_status';
-- wake the launcher / the worker when the calling transaction commits
create or replace function pgque._note_launcher() returns void
    language c volatile as 'MODULE_PATHNAME', 'pgque_note_launcher_sql';
create or replace function pgque._note_retries() returns void
    language c volatile as 'MODULE_PATHNAME', 'pgque_note_retries_sql';
create or replace function pgque._wake_ticker(queue_id int4) returns void
    language c volatile as 'MODULE_PATHNAME', 'pgque_wake_ticker';
-- For tests: start a dynamic worker for this database without looking
-- whether one runs already (it must then leave on its own). Returns its pid.
create or replace function pgque._launch_worker() returns int4
    language c volatile as 'MODULE_PATHNAME', 'pgque_launch_worker';

-- Start the worker for this database. With pgque in shared_preload_libraries
-- the launcher starts it when this transaction commits, and it survives
-- restarts; otherwise a worker starts right away and lasts until the next
-- server restart.
create or replace function pgque.start() returns text
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
begin
    update pgque.config set worker_enabled = true;
    return pgque._start();
end
$$;

-- Stop the worker for this database and wait until it is gone. With the
-- launcher, it stays stopped (also across restarts) until pgque.start().
create or replace function pgque.stop() returns text
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
begin
    update pgque.config set worker_enabled = false;
    return pgque._stop();
end
$$;

-- Why the queue cannot rotate although its rotation period has passed, or
-- NULL. Rotation waits until every consumer has read past the last switch.
-- A transaction that was open at the switch holds every later tick back (its
-- events may still be in the old table), so it is named first; otherwise a
-- consumer behind the newest tick. A consumer at the newest tick is only
-- waiting for the next tick, which is no problem.
create or replace function pgque._rotation_blocker(queue_id int4) returns text
    language plpgsql stable
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    q       record;
    c       record;
    t       record;
    v_lock  text;
begin
    select * into q from pgque.queue where queue.queue_id = _rotation_blocker.queue_id;
    if not found or q.queue_switch_time + q.queue_rotation_period > now() then
        return null;
    end if;
    -- rotation takes the queue's row, skipping it while a transaction holds
    -- a row lock on pgque.queue (subscribe, set_queue_config) -- maybe that one
    select format('a row lock of pid %s on pgque.queue (transaction open for %s)',
                  a.pid, date_trunc('second', now() - a.xact_start))
      into v_lock
      from pg_locks l join pg_stat_activity a on a.pid = l.pid
     where l.locktype = 'relation' and l.relation = 'pgque.queue'::regclass
       and l.mode in ('RowShareLock', 'RowExclusiveLock') and l.granted
       and l.pid <> pg_backend_pid()
     order by a.xact_start limit 1;
    if q.queue_switch_step2 is null then
        return 'rotation step 2 is pending' || coalesce(', maybe for ' || v_lock, '');
    end if;
    select co.co_name, now() - tk.tick_time as lag,
           tk.tick_id = (select max(t2.tick_id) from pgque.tick t2 where t2.tick_queue = q.queue_id)
               as at_newest
      into c
      from pgque.subscription s
      join pgque.consumer co on co.co_id = s.sub_consumer
      join pgque.tick tk on tk.tick_queue = s.sub_queue and tk.tick_id = s.sub_last_tick
     where s.sub_queue = q.queue_id
       and pg_snapshot_xmin(tk.tick_snapshot) <= q.queue_switch_step2
     order by tk.tick_id limit 1;
    if not found then
        return v_lock;   -- every cursor is past the switch
    end if;
    select a.pid, now() - a.xact_start as running into t
      from pg_stat_activity a
     where a.backend_xid is not null
       and age(a.backend_xid) >= age(xid(q.queue_switch_step2))
     order by age(a.backend_xid) desc limit 1;
    if found then
        return format('transaction of pid %s (open for %s)', t.pid, date_trunc('second', t.running));
    end if;
    if c.at_newest then
        return null;
    end if;
    return format('consumer "%s" (lag %s)', c.co_name, date_trunc('second', c.lag));
end
$$;
