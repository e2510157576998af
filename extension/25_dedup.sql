-- Idempotent sends: send(..., dedup_key => k). The keyed path is in C
-- (src/dedup.c); this part keeps the ring of key tables
-- (pgque.dedup_0..2, 02_schema.sql) in shape.
--
-- A key written at time t goes to table floor(t / P) mod 3, P being
-- dr_period. During epoch e the table of epoch e + 1 holds keys of epoch
-- e - 2 or older, all older than P >= every queue's dedup_window, so it
-- may be emptied; lookups read only the tables of epochs e and e - 1.
-- TRUNCATE takes it only while no transaction still holds it (NOWAIT), and
-- a table that could not be emptied in time just keeps its old keys a round
-- longer (lookups ignore keys older than the window).

-- P follows the longest dedup_window. Changing it moves epoch borders:
-- tables are then left alone until every key written under the old P is
-- older than both periods (twice the longer, plus a minute for senders
-- that read the old P just before the change).
create or replace function pgque._dedup_period_update() returns void
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_period interval;
begin
    select coalesce(max(q.queue_dedup_window), interval '1 hour') into v_period from pgque.queue q;
    update pgque.dedup_ring r
       set dr_period = v_period,
           dr_frozen_until = greatest(r.dr_frozen_until,
                                      clock_timestamp() + 2 * greatest(r.dr_period, v_period)
                                      + interval '1 minute')
     where r.dr_period <> v_period;
end
$$;

-- pgque.dedup_ring is an extension configuration table (02_schema.sql):
-- pg_dump writes its one row, and pg_restore copies it in after CREATE
-- EXTENSION has inserted the default row. That second row becomes an
-- update of the first, so a restored database keeps the period its keys
-- were written under (a fresh default would look for them in the wrong
-- tables).
create or replace function pgque._dedup_ring_one_row() returns trigger
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
begin
    update pgque.dedup_ring r
       set dr_period = new.dr_period, dr_frozen_until = new.dr_frozen_until
     where r.singleton = new.singleton;
    if found then
        return null;
    end if;
    return new;
end
$$;

create or replace trigger dedup_ring_one_row before insert on pgque.dedup_ring
    for each row execute function pgque._dedup_ring_one_row();

-- Empties the table no key within its window can be in; called by maint().
-- Returns 1 when it emptied one.
create or replace function pgque.maint_dedup() returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_ring  pgque.dedup_ring;
    v_next  int;
    v_table text;
begin
    select * into v_ring from pgque.dedup_ring;
    if v_ring.dr_frozen_until > clock_timestamp() then
        return 0;
    end if;
    v_next := (pgque._dedup_epoch(clock_timestamp(), v_ring.dr_period) + 1) % 3;
    v_table := 'pgque.dedup_' || v_next;
    execute 'select exists (select from ' || v_table || ')' into strict v_ring.singleton;
    if not v_ring.singleton then
        return 0;
    end if;
    begin
        execute 'lock table ' || v_table || ' in access exclusive mode nowait';
    exception when lock_not_available then
        return 0;   -- a sender of that epoch has not finished: next time
    end;
    -- Senders pick their table by their clock before they lock it, so any
    -- that wrote here did so before our lock; if the epoch has turned since
    -- the first look, this table may be current now.
    if (pgque._dedup_epoch(clock_timestamp(), v_ring.dr_period) + 1) % 3 <> v_next then
        return 0;
    end if;
    execute 'truncate ' || v_table;
    return 1;
end
$$;

create or replace function pgque._dedup_epoch(t timestamptz, period interval) returns bigint
    language sql immutable parallel safe
as $$
    select floor(extract(epoch from t) / extract(epoch from period))::bigint
$$;

-- The keyed send's two steps (src/dedup.c), called from send through fmgr.
create or replace function pgque._dedup_find(queue_id int4, key text) returns bigint
    language c volatile strict security definer
    set search_path = pg_catalog, pgque, pg_temp
    as 'MODULE_PATHNAME', 'pgque_dedup_find';
create or replace function pgque._dedup_remember(queue_id int4, key text, ev_id bigint) returns void
    language c volatile strict security definer
    set search_path = pg_catalog, pgque, pg_temp
    as 'MODULE_PATHNAME', 'pgque_dedup_remember';
