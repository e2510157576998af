-- Internal helpers implemented in C. None is granted to any role: they are
-- called from SECURITY DEFINER functions of this extension only.

create or replace function pgque._check_queue_name(queue_name text) returns void
    language c stable parallel safe as 'MODULE_PATHNAME', 'pgque_check_queue_name_sql';

create or replace function pgque._check_consumer_name(consumer_name text) returns void
    language c stable parallel safe as 'MODULE_PATHNAME', 'pgque_check_consumer_name_sql';

-- Serializes every change of one subscriber's state (see src/consume.c).
create or replace function pgque._lock_subscriber(sub_id int4) returns void
    language c volatile as 'MODULE_PATHNAME', 'pgque_lock_subscriber';

-- The open batch with this id, its subscriber locked against concurrent
-- receive/ack; raises the standard errors otherwise.
create or replace function pgque._open_batch(batch_id bigint,
    out sub_id int4, out queue_id int4, out consumer_id int4, out max_retries int4)
    language c volatile as 'MODULE_PATHNAME', 'pgque_open_batch';

-- Re-inserts an event into its queue with its original id, for retries and
-- dead-letter replay. Goes through the same path as send (src/send.c).
create or replace function pgque._insert_event_raw(
    queue_id int4, ev_id bigint, ev_time timestamptz, ev_owner int4, ev_retry int4,
    ev_type text, ev_data text,
    ev_extra1 text, ev_extra2 text, ev_extra3 text, ev_extra4 text)
returns bigint
    language c volatile as 'MODULE_PATHNAME', 'pgque_insert_event_raw';

-- _insert_event_raw for many events of one queue (parallel arrays), with
-- one writer: how delayed events enter their queue (55_delay.sql).
create or replace function pgque._insert_events_raw(
    queue_id int4, ev_ids bigint[], ev_times timestamptz[], ev_types text[], ev_datas text[],
    ev_extra1 text[], ev_extra2 text[], ev_extra3 text[], ev_extra4 text[])
returns bigint
    language c volatile as 'MODULE_PATHNAME', 'pgque_insert_events_raw';

-- What send checks before it writes (the queue exists and accepts events,
-- the caller may produce to it), and n ids from the queue's sequence: for
-- send_at, whose events enter the queue later (55_delay.sql).
create or replace function pgque._produce_ids(queue text, n int4, out queue_id int4, out ev_ids bigint[])
    language c volatile as 'MODULE_PATHNAME', 'pgque_produce_ids';

-- The one event of an open batch with the given id, or no row.
create or replace function pgque._batch_event(batch_id bigint, ev_id bigint,
    out ev_id bigint, out ev_time timestamptz, out ev_txid xid8, out ev_retry int4,
    out ev_type text, out ev_data text,
    out ev_extra1 text, out ev_extra2 text, out ev_extra3 text, out ev_extra4 text)
returns setof record
    language c volatile as 'MODULE_PATHNAME', 'pgque_batch_event';

-- The xid the next transaction will get (rotation step 2's bound).
create or replace function pgque._next_xid() returns xid8
    language c volatile as 'MODULE_PATHNAME', 'pgque_next_xid';

-- EXPLAIN (COSTS OFF) of a statement as pgque plans its own (src/plans.c):
-- metadata tables planned as if large. For tests; superuser only.
create or replace function pgque._explain(sql text) returns setof text
    language c volatile strict as 'MODULE_PATHNAME', 'pgque_explain';

-- The producers' shared cache of pgque.queue (src/queue_cache.c): every
-- committed change of a queue row invalidates it; step 2 of a rotation waits
-- until no backend can still read the old current table from it.
create or replace function pgque._queue_changed() returns trigger
    language c as 'MODULE_PATHNAME', 'pgque_queue_changed';
create or replace trigger queue_changed after update or delete on pgque.queue
    for each row execute function pgque._queue_changed();
create or replace function pgque._cache_current(queue_id int4, cur_table int4) returns bool
    language c volatile as 'MODULE_PATHNAME', 'pgque_cache_current';

-- Raises the standard missing-queue error (42704, "queue not found: <name>",
-- the text PgQue's clients match).
create or replace function pgque._queue_id(queue text) returns int4
    language plpgsql stable
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_id int4;
begin
    perform pgque._check_queue_name(queue);
    select q.queue_id into v_id from pgque.queue q where q.queue_name = _queue_id.queue;
    if not found then
        raise exception 'queue not found: %', queue
            using errcode = 'undefined_object', schema = 'pgque', table = 'queue',
                  hint = 'Create it with pgque.create_queue().';
    end if;
    return v_id;
end
$$;

-- The last event id of a queue; NULL when a concurrent drop_queue removed it.
create or replace function pgque._event_seq_value(queue_id int4) returns bigint
    language c volatile strict as 'MODULE_PATHNAME', 'pgque_event_seq_value';
