-- Producing events: the hot path, in C (src/send.c). These functions are
-- SECURITY INVOKER: they resolve nothing through search_path and write the
-- event tables directly, so EXECUTE (granted to pgque_writer) is the only
-- permission they need.

-- (The symbols without "2" serve databases still on the 0.1.0 SQL.)
-- priority: 0 (default) to 9, higher first; an event with a priority above
-- 0 goes to the queue's lane for it (22_lanes.sql, src/lanes.c). dedup_key: a second send of
-- the same key to the same queue within its dedup_window returns the first
-- send's id and sends nothing (extension/25_dedup.sql). label: stored in
-- ev_extra1, what a subscription's filter may select (pgque.set_filter);
-- attributes: a JSON object stored as text in ev_extra2.
create or replace function pgque.send(queue_name text, payload text,
    priority int default 0, dedup_key text default null,
    label text default null, attributes jsonb default null) returns bigint
    language c volatile as 'MODULE_PATHNAME', 'pgque_send_text2';
create or replace function pgque.send(queue_name text, payload jsonb,
    priority int default 0, dedup_key text default null,
    label text default null, attributes jsonb default null) returns bigint
    language c volatile as 'MODULE_PATHNAME', 'pgque_send_jsonb2';
create or replace function pgque.send(queue_name text, type_name text, payload text,
    priority int default 0, dedup_key text default null,
    label text default null, attributes jsonb default null) returns bigint
    language c volatile as 'MODULE_PATHNAME', 'pgque_send_text2';
create or replace function pgque.send(queue_name text, type_name text, payload jsonb,
    priority int default 0, dedup_key text default null,
    label text default null, attributes jsonb default null) returns bigint
    language c volatile as 'MODULE_PATHNAME', 'pgque_send_jsonb2';

create or replace function pgque.send_batch(queue_name text, payloads text[],
    priority int default 0) returns bigint[]
    language c volatile as 'MODULE_PATHNAME', 'pgque_send_batch_text2';
create or replace function pgque.send_batch(queue_name text, payloads jsonb[],
    priority int default 0) returns bigint[]
    language c volatile as 'MODULE_PATHNAME', 'pgque_send_batch_jsonb2';
create or replace function pgque.send_batch(queue_name text, type_name text, payloads text[],
    priority int default 0) returns bigint[]
    language c volatile as 'MODULE_PATHNAME', 'pgque_send_batch_text2';
create or replace function pgque.send_batch(queue_name text, type_name text, payloads jsonb[],
    priority int default 0) returns bigint[]
    language c volatile as 'MODULE_PATHNAME', 'pgque_send_batch_jsonb2';

create or replace function pgque.insert_event(queue_name text, ev_type text, ev_data text) returns bigint
    language c volatile as 'MODULE_PATHNAME', 'pgque_insert_event';
create or replace function pgque.insert_event(queue_name text, ev_type text, ev_data text,
                                   ev_extra1 text, ev_extra2 text, ev_extra3 text, ev_extra4 text)
returns bigint
    language c volatile as 'MODULE_PATHNAME', 'pgque_insert_event';

-- send's checks of a label and attributes, for the senders in SQL (send_at)
create or replace function pgque._check_label(label text, attributes jsonb) returns void
    language c immutable as 'MODULE_PATHNAME', 'pgque_check_label';
