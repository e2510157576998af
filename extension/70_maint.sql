-- Rotation and housekeeping.
--
-- Each queue has three event tables; producers append to the current one.
-- Rotation TRUNCATEs the oldest table and makes it current, so events never
-- leave a table one by one and the tables never bloat. It must never empty
-- a table a consumer still has to read, and no producer may write into a
-- table that no batch will read again. The argument, in three parts:
--
-- 1. Producers (src/send.c) get their transaction id *first* and only then
--    read queue_cur_table, with a fresh snapshot. So a producer that still
--    writes into the previous table after a switch got its xid before step 1
--    committed. Step 2 runs later, in a statement whose snapshot sees step 1
--    as committed, and records queue_switch_step2 = the next xid to be
--    assigned, read during that statement. (Not the snapshot's xmax: that is
--    latestCompletedXid + 1, and a producer still running with a newer xid
--    would be above it.) Hence every event in the previous table has
--    ev_txid < switch_step2, and every event in the current table is from a
--    transaction that committed after step 1 (whose xid is switch_step1).
-- 2. A batch (prev tick, cur tick) holds transactions with prev.xmin <= xid
--    < cur.xmax. It reads the previous table unless prev.xmin > step2, and
--    the current table unless cur.xmax < step1 (src/batch.c). By 1. no
--    event of the batch is elsewhere.
-- 3. Step 1 truncates the oldest table only when every subscriber's cursor
--    tick has xmin > the last switch's step2: all transactions that wrote
--    that table ended before the cursor tick, so every consumer has read
--    them. Registering a consumer at a given tick takes a share lock on the
--    queue row, which step 1 takes for update.
--
-- PgQ read queue_cur_table through the producer's transaction snapshot, so a
-- REPEATABLE READ producer (or a READ COMMITTED one between reading the table
-- and getting its xid) could write into the previous table with an xid above
-- step 2 -- an event no batch would read. test/isolation/specs/
-- rotation_old_snapshot.spec shows that pgque delivers it.

-- Step 1: if the rotation period has passed and every subscriber's cursor
-- is past the previous switch, TRUNCATE the oldest event table and make it
-- current. Returns 1 if the queue rotated.
create or replace function pgque.maint_rotate_tables_step1(queue text) returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
begin
    return pgque._rotate_step1(pgque._queue_id(queue));
end
$$;

-- Step 1 by queue id: maint() rotates lanes (22_lanes.sql) too, whose
-- names no function taking a queue name accepts.
create or replace function pgque._rotate_step1(rotate_queue_id int4) returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    q           record;
    v_lowest    xid8;
    v_next      int;
    v_tbl       text;
begin
    -- skip locked: a caller holding the row (subscribe, set_queue_config in
    -- an open transaction) delays this queue's rotation, never the caller of
    -- maint() -- the worker must not wait for users
    select * into q from pgque.queue qq where qq.queue_id = _rotate_step1.rotate_queue_id
       for update skip locked;
    if not found then
        return 0;
    end if;

    if q.queue_switch_step2 is null                  -- step 2 of the last switch pending
       or q.queue_switch_time + q.queue_rotation_period > now() then
        return 0;
    end if;

    -- The oldest table holds only events of transactions below the last
    -- switch's step 2 xid. A cursor whose tick xmin is above it has read
    -- all of them (they finished before that tick).
    -- (and every batch a subconsumer holds open)
    select min(pg_snapshot_xmin(t.tick_snapshot)) into v_lowest
      from (select s.sub_last_tick as tick_id from pgque.subscription s
             where s.sub_queue = q.queue_id
            union all
            select b.batch_prev_tick from pgque.subscriber s
              join pgque.batch b on b.batch_sub = s.sub_id
             -- (on a lane, 22_lanes.sql, the subscription is not marked
             -- coop_main: its queue's is)
             where s.sub_queue = q.queue_id
               -- (> '', not <> '': a range of batch_sub_idx, so that the
               -- closed history of the subscriber is not read on every run)
               and b.batch_member > '' and b.batch_state = 'o') c
      join pgque.tick t on t.tick_queue = q.queue_id and t.tick_id = c.tick_id;
    if v_lowest is not null and v_lowest <= q.queue_switch_step2 then
        return 0;
    end if;

    v_next := (q.queue_cur_table + 1) % q.queue_ntables;
    v_tbl := format('pgque.%I', 'event_' || q.queue_id || '_' || v_next);
    begin
        -- a long lock (pg_dump, a stuck writer) must not block maintenance
        execute 'lock table ' || v_tbl || ' in access exclusive mode nowait';
    exception when lock_not_available then
        return 0;
    end;
    execute 'truncate ' || v_tbl;

    update pgque.queue
       set queue_cur_table = v_next,
           queue_switch_time = now(),
           queue_switch_step1 = pg_current_xact_id(),
           queue_switch_step2 = null
     where queue_id = q.queue_id;

    -- ticks of windows that lay wholly in the truncated table
    delete from pgque.tick t
     where t.tick_queue = q.queue_id
       and pg_snapshot_xmin(t.tick_snapshot) < q.queue_switch_step2;
    return 1;
end
$$;

-- Step 2: record, for every queue whose step 1 has committed, an xid bound
-- above every transaction that could still write to the previous table: the
-- next xid, read in a statement whose snapshot sees step 1 as committed (the
-- visibility test keeps a row that step 1 committed during our statement
-- from being taken). Not in step 1's own transaction. Returns how many
-- queues it completed.
create or replace function pgque.maint_rotate_tables_step2() returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_cnt integer;
begin
    update pgque.queue
       set queue_switch_step2 = pgque._next_xid()
     where queue_id in (
            select q.queue_id from pgque.queue q
             where q.queue_switch_step2 is null
               and q.queue_switch_step1 is distinct from pg_current_xact_id_if_assigned()
               and pg_visible_in_snapshot(q.queue_switch_step1, pg_current_snapshot())
               -- no producer may still take the old table from the shared cache
               and pgque._cache_current(q.queue_id, q.queue_cur_table)
               for no key update skip locked);
    get diagnostics v_cnt = row_count;
    return v_cnt;
end
$$;

-- Step 1 for every queue and lane that is due; returns how many rotated.
create or replace function pgque._rotate_all() returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_cnt   integer := 0;
    q       record;
begin
    for q in select queue_id from pgque.queue order by queue_name loop
        v_cnt := v_cnt + pgque._rotate_step1(q.queue_id);
    end loop;
    return v_cnt;
end
$$;

-- Batch history: a closed batch row is history once a newer row of its
-- subscriber (and member) exists and it closed more than 10 minutes ago.
-- It is trimmed by a sweep in batch_id order, a chunk at a time: this looks
-- at up to max_rows rows from from_id on (by primary key), stopping at the
-- first one opened after the cutoff, deletes those that are history, and
-- says where the next chunk starts (next_id) and whether the sweep reached
-- the recent rows (done). The worker keeps next_id between runs, so a run
-- reads only the rows that aged out since the last one, and ticks between
-- chunks (src/worker.c). A full pass reads every row: while a long-open
-- transaction keeps vacuum from removing the deleted and updated versions,
-- they pile up and each full pass reads them all again
-- (bench/results/nodecay.md). A row the sweep passed without deleting it
-- (it closed later, was locked, or was the newest of an idle subscriber)
-- waits for a sweep from 0, which maint() does every call and the worker
-- now and then (when no transaction is old enough to make it costly).
create or replace function pgque._trim_batch_history(from_id bigint, max_rows int,
    out next_id bigint, out done boolean)
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_cutoff    timestamptz := now() - interval '10 minutes';
    v_edge      bigint;
    v_last      bigint;
begin
    if from_id is null or max_rows is null or max_rows < 1 then
        raise exception 'from_id and max_rows (at least 1) are needed'
            using errcode = 'invalid_parameter_value';
    end if;
    with look as materialized (
            select h.batch_id, h.batch_opened from pgque.batch h
             where h.batch_id >= from_id order by h.batch_id limit max_rows
         ), bounds as (
            select min(l.batch_id) filter (where l.batch_opened >= v_cutoff) as edge,
                   max(l.batch_id) as last
              from look l
         ), gone as (
            delete from pgque.batch b
             where b.batch_id in (
                    select h.batch_id from pgque.batch h, bounds
                     where h.batch_id in (select l.batch_id from look l)
                       and h.batch_id < coalesce(bounds.edge, 9223372036854775807)
                       and h.batch_state <> 'o'
                       and h.batch_closed < v_cutoff
                       and exists (select from pgque.batch n
                                    where n.batch_sub = h.batch_sub
                                      and n.batch_member = h.batch_member
                                      and n.batch_id > h.batch_id)
                       for update of h skip locked)
            returning 1
         )
    select bounds.edge, bounds.last into v_edge, v_last
      from bounds, (select count(*) from gone) g;
    if v_edge is not null then
        next_id := v_edge;          -- the recent rows: later
        done := true;
    elsif v_last is null then
        next_id := from_id;         -- nothing from here on yet
        done := true;
    else
        next_id := v_last + 1;      -- more to look at
        done := false;
    end if;
end
$$;

-- Housekeeping in one call: finish earlier rotations (step 2), rotate the
-- queues that are due (step 1), and trim consumer history. A rotation
-- started here is completed by the next call. Returns the number of
-- rotation steps taken. (The worker runs these parts one by one, each in
-- its own transaction with ticks between them: src/worker.c.)
create or replace function pgque.maint() returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_cnt   integer;
    v_next  bigint := 0;
    v_done  boolean;
begin
    v_cnt := pgque.maint_rotate_tables_step2();
    v_cnt := v_cnt + pgque._rotate_all();
    v_cnt := v_cnt + pgque.maint_dedup();
    -- the whole batch history, from its start
    loop
        select t.next_id, t.done into v_next, v_done from pgque._trim_batch_history(v_next, 10000) t;
        exit when v_done;
    end loop;
    return v_cnt;
end
$$;
