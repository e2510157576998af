-- Periodic messages: a schedule sends one event into its queue per slot of
-- its spec (a cron expression or "every N seconds"; src/schedule.c parses
-- them and finds the slots). The worker calls _schedule_run() when the
-- earliest next_run has come (src/worker.c).
--
-- Exactly once per slot: _schedule_run() sends a schedule's event and moves
-- its next_run past it in one transaction, on rows taken FOR UPDATE SKIP
-- LOCKED. A crash before the commit sends nothing and leaves next_run where
-- it was; a second caller (by hand, or a worker that restarted) skips the
-- rows the first holds and, once it commits, no longer finds them due.
--
-- After downtime a schedule sends one event, not one per missed slot: it
-- stands for the latest slot that has come, and says how many slots before
-- it were missed (ev_extra3) and since when (ev_extra4). next_run is then
-- the first slot after now. A send that fails (the queue takes no events)
-- is tried again after _schedule_due_at()'s pause; the slots meanwhile are
-- counted as missed by the event that gets through.
--
-- The event: ev_type and ev_data from the schedule, ev_extra1 the schedule's
-- name, ev_extra2 the slot (ISO 8601, UTC), ev_extra3 the number of missed
-- slots, ev_extra4 the first missed slot (NULL when none). It is written by
-- insert_event, so a queue's delivery_delay does not apply (as for send_at:
-- the schedule says when), and a paused queue receives it like any other.

-- Raise 22023 for a name that is not 1..57 bytes (as queue names).
create or replace function pgque._check_schedule_name(name text) returns void
    language plpgsql immutable
    set search_path = pg_catalog, pgque, pg_temp
as $$
begin
    if name is null then
        raise exception 'schedule name must not be null' using errcode = 'invalid_parameter_value';
    elsif name = '' then
        raise exception 'schedule name must not be empty' using errcode = 'invalid_parameter_value';
    elsif octet_length(name) > 57 then
        raise exception 'schedule name "%..." is too long (% bytes, max 57)', left(name, 32), octet_length(name)
            using errcode = 'invalid_parameter_value';
    end if;
end
$$;

-- Raise 42704 for a schedule that does not exist.
create or replace function pgque._schedule_not_found(name text) returns void
    language plpgsql volatile
    set search_path = pg_catalog, pgque, pg_temp
as $$
begin
    raise exception 'schedule not found: %', name
        using errcode = 'undefined_object', schema = 'pgque', table = 'schedule',
              hint = 'pgque.get_schedule_info() lists the schedules.';
end
$$;

create or replace function pgque._schedule_next(spec text, after timestamptz) returns timestamptz
    language c stable strict as 'MODULE_PATHNAME', 'pgque_schedule_next';
create or replace function pgque._schedule_catch_up(spec text, due timestamptz, now_ timestamptz,
    out latest timestamptz, out missed bigint, out next_run timestamptz)
    language c stable strict as 'MODULE_PATHNAME', 'pgque_schedule_catch_up';
create or replace function pgque._schedule_zone(spec text) returns text
    language c stable strict as 'MODULE_PATHNAME', 'pgque_schedule_zone';
-- wake the worker when the calling transaction commits: re-plan schedules
create or replace function pgque._note_schedules() returns void
    language c volatile as 'MODULE_PATHNAME', 'pgque_note_schedules_sql';

-- When a schedule is due: at its next_run, or 10 seconds after a failed
-- send (so that a queue refusing events is not tried on every pass).
create or replace function pgque._schedule_due_at(next_run timestamptz, error_at timestamptz)
returns timestamptz
    language sql immutable
    set search_path = pg_catalog, pgque, pg_temp
as $$ select greatest(next_run, error_at + interval '10 seconds') $$;

-- How a slot is written into ev_extra2 / ev_extra4.
create or replace function pgque._schedule_time(t timestamptz) returns text
    language sql immutable
    set search_path = pg_catalog, pgque, pg_temp
as $$ select to_char(t at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') $$;

-- Check a spec; raise 22023 unless it parses and its time zone is one of
-- pg_timezone_names (the parser also takes POSIX zone strings).
create or replace function pgque._check_schedule_spec(spec text) returns void
    language plpgsql stable
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_zone text;
begin
    if spec is null then
        raise exception 'schedule spec must not be null' using errcode = 'invalid_parameter_value',
            hint = 'Use a cron expression such as ''*/5 * * * *'' or ''every 30 seconds''.';
    end if;
    v_zone := pgque._schedule_zone(spec);
    if v_zone is not null and not exists (select from pg_timezone_names z where z.name = v_zone) then
        raise exception 'time zone "%" not recognized', v_zone
            using errcode = 'invalid_parameter_value',
                  detail = format('In schedule "%s".', spec),
                  hint = 'Use a name from pg_timezone_names, such as "Europe/Berlin".';
    end if;
end
$$;

-- Create (1) or replace (0) a schedule. Replacing keeps its history and
-- pause state, and its next run when the spec stays the same (so running
-- the same schedule() at every deploy does not move an interval's slots).
create or replace function pgque._schedule(name text, queue text, spec text, ev_type text, payload text)
returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_queue     int4;
    v_inserted  boolean;
begin
    perform pgque._check_schedule_name(name);
    v_queue := pgque._queue_id(queue);
    perform pgque._check_schedule_spec(spec);
    if ev_type is null then
        raise exception 'type must not be null' using errcode = 'invalid_parameter_value';
    end if;
    insert into pgque.schedule as s (sched_name, sched_queue, sched_spec, sched_type, sched_payload,
                                     sched_next_run)
    values (name, v_queue, spec, ev_type, payload,
            -- whole seconds: "every" slots fall on them
            pgque._schedule_next(spec, date_trunc('second', clock_timestamp())))
    on conflict (sched_name) do update
       set sched_queue = excluded.sched_queue, sched_spec = excluded.sched_spec,
           sched_type = excluded.sched_type, sched_payload = excluded.sched_payload,
           sched_next_run = case when s.sched_spec = excluded.sched_spec then s.sched_next_run
                                 else excluded.sched_next_run end,
           sched_error = null, sched_error_at = null
    returning s.xmax = 0 into v_inserted;
    perform pgque._note_schedules();
    return case when v_inserted then 1 else 0 end;
end
$$;

create or replace function pgque.schedule(name text, queue text, spec text,
                                          type text default 'schedule', payload text default null)
returns integer
    language sql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$ select pgque._schedule(name, queue, spec, type, payload) $$;

create or replace function pgque.schedule(name text, queue text, spec text, type text, payload jsonb)
returns integer
    language sql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$ select pgque._schedule(name, queue, spec, type, payload::text) $$;

-- Remove a schedule: 1, or 0 when there was none.
create or replace function pgque.unschedule(name text) returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
begin
    perform pgque._check_schedule_name(name);
    delete from pgque.schedule s where s.sched_name = unschedule.name;
    return case when found then 1 else 0 end;
end
$$;

-- Pause (true) or resume (false) a schedule: 1 when that changed it, 0 when
-- it already was so. Slots that come while it is paused are skipped, not
-- caught up: it resumes with the first slot after now.
create or replace function pgque._pause_schedule(name text, paused boolean) returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    s       record;
    v_now   timestamptz := clock_timestamp();
begin
    perform pgque._check_schedule_name(name);
    select * into s from pgque.schedule sc where sc.sched_name = _pause_schedule.name for update;
    if not found then
        perform pgque._schedule_not_found(name);
    end if;
    if s.sched_paused = _pause_schedule.paused then
        return 0;
    end if;
    update pgque.schedule sc
       set sched_paused = _pause_schedule.paused,
           sched_next_run = case when not _pause_schedule.paused and sc.sched_next_run <= v_now
                                 then (pgque._schedule_catch_up(sc.sched_spec, sc.sched_next_run, v_now)).next_run
                                 else sc.sched_next_run end,
           sched_error = null, sched_error_at = null
     where sc.sched_name = _pause_schedule.name;
    perform pgque._note_schedules();
    return 1;
end
$$;

create or replace function pgque.pause_schedule(name text) returns integer
    language sql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$ select pgque._pause_schedule(name, true) $$;

create or replace function pgque.resume_schedule(name text) returns integer
    language sql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$ select pgque._pause_schedule(name, false) $$;

-- Send the event of every schedule due at now_ (default: the clock) and
-- move it to its next slot; returns how many were sent. See the top of
-- this file. Each schedule's send runs in a subtransaction: one whose
-- queue refuses events keeps its next_run and records the error, the
-- others go on.
create or replace function pgque._schedule_run(now_ timestamptz default null) returns integer
    language plpgsql volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_now   timestamptz := coalesce(now_, clock_timestamp());
    s       record;
    c       record;
    v_id    bigint;
    v_sent  integer := 0;
    v_state text;
    v_msg   text;
begin
    for s in select sc.sched_name, sc.sched_spec, sc.sched_type, sc.sched_payload, sc.sched_next_run,
                    q.queue_name
               from pgque.schedule sc
               join pgque.queue q on q.queue_id = sc.sched_queue
              where not sc.sched_paused
                and pgque._schedule_due_at(sc.sched_next_run, sc.sched_error_at) <= v_now
              order by sc.sched_next_run, sc.sched_name
                -- the queue's row too: skip a queue that drop_queue holds
                for no key update of sc skip locked
                for key share of q skip locked
    loop
        begin
            c := pgque._schedule_catch_up(s.sched_spec, s.sched_next_run, v_now);
            v_id := pgque.insert_event(s.queue_name, s.sched_type, s.sched_payload, s.sched_name,
                                       pgque._schedule_time(c.latest), c.missed::text,
                                       case when c.missed > 0 then pgque._schedule_time(s.sched_next_run) end);
        exception when others then
            get stacked diagnostics v_state = returned_sqlstate, v_msg = message_text;
            update pgque.schedule sc set sched_error = v_state || ': ' || v_msg, sched_error_at = v_now
             where sc.sched_name = s.sched_name;
            raise warning 'schedule "%" could not send to queue "%": %', s.sched_name, s.queue_name, v_msg
                using detail = format('SQLSTATE %s. It is tried again in 10 seconds.', v_state);
            continue;
        end;
        update pgque.schedule sc
           set sched_last_run = c.latest, sched_last_msg_id = v_id, sched_runs = sc.sched_runs + 1,
               sched_missed = sc.sched_missed + c.missed, sched_next_run = c.next_run,
               sched_error = null, sched_error_at = null
         where sc.sched_name = s.sched_name;
        v_sent := v_sent + 1;
    end loop;
    return v_sent;
end
$$;

-- When the worker has to run _schedule_run() next, or NULL.
create or replace function pgque._schedule_next_due() returns timestamptz
    language sql stable security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
    select min(pgque._schedule_due_at(s.sched_next_run, s.sched_error_at))
      from pgque.schedule s where not s.sched_paused
$$;

-- The schedules (one, or all when name is null). next_run is null while
-- paused; payload is shown only to roles that may consume from the queue.
create or replace function pgque.get_schedule_info(name text default null,
    out schedule_name text, out queue_name text, out spec text, out type text, out payload text,
    out next_run timestamptz, out last_run timestamptz, out last_msg_id bigint, out runs bigint,
    out missed bigint, out paused boolean, out last_error text)
returns setof record
    language plpgsql stable security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_caller    oid := pgque._caller();
    v_admin     boolean := pg_has_role(pgque._caller(), 'pgque_admin', 'USAGE');
begin
    if get_schedule_info.name is not null then
        perform pgque._check_schedule_name(get_schedule_info.name);
        if not exists (select from pgque.schedule s where s.sched_name = get_schedule_info.name) then
            perform pgque._schedule_not_found(get_schedule_info.name);
        end if;
    end if;
    return query
    select s.sched_name, q.queue_name, s.sched_spec, s.sched_type,
           case when v_admin or not q.queue_restricted
                  or exists (select from pgque.queue_grant g
                              where g.qg_queue = q.queue_id and g.qg_privilege = 'consume'
                                and pg_has_role(v_caller, g.qg_role, 'USAGE'))
                then s.sched_payload end,
           case when not s.sched_paused then s.sched_next_run end,
           s.sched_last_run, s.sched_last_msg_id, s.sched_runs, s.sched_missed, s.sched_paused,
           s.sched_error
      from pgque.schedule s
      join pgque.queue q on q.queue_id = s.sched_queue
     where get_schedule_info.name is null or s.sched_name = get_schedule_info.name
     order by s.sched_name;
end
$$;
