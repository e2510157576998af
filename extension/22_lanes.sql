-- Priorities (docs/design.md, "Priority lanes"). A lane is a hidden queue
-- that holds the events sent to its parent queue with one priority 1..9:
-- its own event tables, ticks, rotation and sequence, so that the priority
-- 0 path (the queue itself) stays exactly as it was. Lanes are created on
-- the first send with their priority (src/lanes.c), subscribed by every
-- subscriber of the parent, and read before the parent by receive,
-- receive_coop and next_batch, highest priority first. A lane's name is
-- longer than a queue name may be, so no function taking a queue name
-- accepts it. Event ids come from the parent's sequence: they stay unique
-- per queue.

-- Create the lane of parent for priority. The caller (src/lanes.c) holds
-- the parent's row lock and found no lane. Returns the lane's id.
create or replace function pgque._create_lane(parent int4, priority int4) returns int4
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_id int4;
begin
    v_id := pgque._create_queue(rpad(format('pgque lane %s of queue %s ', priority, parent), 60, '.'),
                                parent, priority::int2);
    if v_id is null then
        raise exception 'lane % of queue % exists already', priority, parent
            using errcode = 'duplicate_object', schema = 'pgque', table = 'queue';
    end if;
    perform pgque._lanes_sync(parent);
    return v_id;
end
$$;

-- Subscribe every subscriber of queue parent to each of its lanes it is not
-- subscribed to yet, at the lane's newest tick (src/lanes.c: it reads with
-- a fresh snapshot, whatever the caller's isolation level).
create or replace function pgque._lanes_sync(parent int4) returns integer
    language c volatile as 'MODULE_PATHNAME', 'pgque_lanes_sync';
