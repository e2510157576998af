\echo Use "ALTER EXTENSION pgque UPDATE" to load this file. \quit
-- pgque 0.1.0 -> 0.2.0. This part changes what 0.1.0 created (tables,
-- types, the schema); the build appends every code part of extension/
-- (functions, views, grants), which replace their 0.1.0 versions.
-- test/scripts/upgrade.sh checks that the result equals a fresh install.

-- 0.1.0 was installed into the schema pgque, which PostgreSQL created for
-- it, outside the extension. A fresh 0.2.0 install creates the schema as a
-- member of the extension, whose nominal schema is pg_catalog (see
-- pgque.control). Give an upgraded database the same shape, so that
-- DROP EXTENSION, pg_dump and later upgrades treat both alike. PostgreSQL
-- cannot add the schema that holds an extension to it, hence the catalog
-- update; it runs as the superuser that runs ALTER EXTENSION.
do $schema$
declare
    v_ext oid := (select e.oid from pg_catalog.pg_extension e where e.extname = 'pgque');
begin
    delete from pg_catalog.pg_depend d
     where d.classid = 'pg_catalog.pg_extension'::pg_catalog.regclass and d.objid = v_ext
       and d.refclassid = 'pg_catalog.pg_namespace'::pg_catalog.regclass
       and d.refobjid = 'pgque'::pg_catalog.regnamespace;
    update pg_catalog.pg_extension set extnamespace = 'pg_catalog'::pg_catalog.regnamespace
     where oid = v_ext;
    insert into pg_catalog.pg_depend (classid, objid, objsubid, refclassid, refobjid, refobjsubid, deptype)
    values ('pg_catalog.pg_namespace'::pg_catalog.regclass, 'pgque'::pg_catalog.regnamespace, 0,
            'pg_catalog.pg_extension'::pg_catalog.regclass, v_ext, 0, 'e');
end
$schema$;

-- Settings are range-checked now (an out-of-range rotation_period broke
-- maint(), status() and get_queue_info() for every queue): bring values set
-- before into range, then check them as a fresh install does.
update pgque.queue set
    queue_max_retries = least(queue_max_retries, 10000),
    queue_ticker_max_count = least(queue_ticker_max_count, 1000000000),
    queue_ticker_max_lag = least(queue_ticker_max_lag, interval '1 day'),
    queue_ticker_idle_period = least(queue_ticker_idle_period, interval '1 day'),
    queue_rotation_period = least(queue_rotation_period, interval '365 days')
 where queue_max_retries > 10000 or queue_ticker_max_count > 1000000000
    or queue_ticker_max_lag > interval '1 day' or queue_ticker_idle_period > interval '1 day'
    or queue_rotation_period > interval '365 days';
alter table pgque.queue
    drop constraint queue_max_retries_check,
    drop constraint queue_ticker_max_count_check,
    drop constraint queue_ticker_max_lag_check,
    drop constraint queue_ticker_idle_period_check,
    drop constraint queue_rotation_period_check,
    add constraint queue_max_retries_check check (queue_max_retries between 0 and 10000),
    add constraint queue_ticker_max_count_check check (queue_ticker_max_count between 1 and 1000000000),
    add constraint queue_ticker_max_lag_check check (queue_ticker_max_lag between '0' and '1 day'),
    add constraint queue_ticker_idle_period_check
        check (queue_ticker_idle_period > '0' and queue_ticker_idle_period <= '1 day'),
    add constraint queue_rotation_period_check check (queue_rotation_period between '0' and '365 days');

-- Access per queue and per subscription (extension/15_access.sql).
alter table pgque.queue add column queue_restricted boolean not null default false;
alter table pgque.subscriber add column sub_owner regrole;
create table pgque.queue_grant (
    qg_queue        int4        not null references pgque.queue (queue_id) on delete cascade,
    qg_role         regrole     not null,
    qg_privilege    text        not null,
    primary key (qg_queue, qg_role, qg_privilege),
    constraint qg_privilege_check check (qg_privilege in ('consume', 'produce'))
);
select pg_catalog.pg_extension_config_dump('pgque.queue_grant', '');
-- payloads are no longer readable by every pgque_reader (docs/security.md)
revoke select on pgque.dead_letter, pgque.retry_queue from pgque_reader;

-- Functions whose result type changed (created again by the code parts).
drop function pgque.get_batch_events(bigint);
drop function pgque.get_consumer_info();
drop function pgque.get_consumer_info(text);
drop function pgque.get_consumer_info(text, text);

-- Reading a batch scans the block range its ticks bound (src/heap_range.c)
-- instead of an ev_txid index: ticks record the bounds, batches the
-- position a partial receive got to. Ticks and batches from 0.1.0 keep
-- nulls there and are read as before, whole.
alter table pgque.tick add column tick_heap bigint[], add column tick_since bigint[];
alter table pgque.batch add column batch_start_pos bigint, add column batch_end_pos bigint;
-- Event tables lose the index every producer paid for, and VACUUM may no
-- longer shorten them (the bounds rely on it).
do $event_tables$
declare
    r record;
begin
    for r in select c.oid::pg_catalog.regclass as tbl, i.indexrelid::pg_catalog.regclass as idx
               from pgque.queue q
               cross join pg_catalog.generate_series(0, q.queue_ntables - 1) as t(n)
               join pg_catalog.pg_class c
                 on c.relnamespace = 'pgque'::pg_catalog.regnamespace
                and c.relname = 'event_' || q.queue_id || '_' || t.n
               left join pg_catalog.pg_index i
                 on i.indrelid = c.oid
                and pg_catalog.pg_get_indexdef(i.indexrelid) like '% (ev_txid)'
    loop
        if r.idx is not null then
            execute pg_catalog.format('drop index %s', r.idx);
        end if;
        execute pg_catalog.format('alter table %s set (vacuum_truncate = false)', r.tbl);
    end loop;
end
$event_tables$;

-- Cooperative consumers (PgQue's subconsumers): members share their
-- consumer's subscription and hold batches of its stream (src/coop.c).
alter table pgque.subscriber add column sub_role text not null default 'normal',
    add constraint subscriber_sub_role_check check (sub_role in ('normal', 'coop_main'));
create table pgque.subconsumer (
    sc_sub      int4        not null references pgque.subscriber (sub_id) on delete cascade,
    sc_name     text        not null,
    sc_created  timestamptz not null default pg_catalog.now(),
    sc_active   timestamptz not null default pg_catalog.now(),
    primary key (sc_sub, sc_name)
);
select pg_catalog.pg_extension_config_dump('pgque.subconsumer', '');
alter table pgque.batch add column batch_member text not null default '';
drop index pgque.batch_sub_idx;
create index batch_sub_idx on pgque.batch (batch_sub, batch_member, batch_id);
create or replace view pgque.subscription as
select s.sub_id,
       s.sub_queue,
       s.sub_consumer,
       case when b.batch_state = 'o' then b.batch_prev_tick else b.batch_next_tick end
           as sub_last_tick,
       coalesce(b.batch_closed, b.batch_opened) as sub_active,
       case when b.batch_state = 'o' then b.batch_id end as sub_batch,
       case when b.batch_state = 'o' then b.batch_next_tick end as sub_next_tick,
       s.sub_role
  from pgque.subscriber s
  left join lateral (
        select bb.batch_id, bb.batch_prev_tick, bb.batch_next_tick, bb.batch_state,
               bb.batch_opened, bb.batch_closed
          from pgque.batch bb
         where bb.batch_sub = s.sub_id and bb.batch_member = ''
         order by bb.batch_id desc
         limit 1) b on true;

-- Time: delayed delivery, the retry policy, expiry, pause and resume
-- (extension/55_delay.sql, 50_retry.sql).
alter table pgque.queue
    add column queue_delivery_delay interval,
    add column queue_retry_delay interval not null default '60 seconds',
    add column queue_retry_backoff text not null default 'fixed',
    add column queue_retry_max_delay interval not null default '1 hour',
    add column queue_retry_jitter float8 not null default 0,
    add column queue_message_ttl interval,
    add column queue_expired_action text not null default 'dead_letter',
    add column queue_paused boolean not null default false,
    add constraint queue_delivery_delay_check check (queue_delivery_delay between '0' and '365 days'),
    add constraint queue_retry_delay_check check (queue_retry_delay between '0' and '365 days'),
    add constraint queue_retry_backoff_check check (queue_retry_backoff in ('fixed', 'exponential')),
    add constraint queue_retry_max_delay_check check (queue_retry_max_delay between '0' and '365 days'),
    add constraint queue_retry_jitter_check check (queue_retry_jitter between 0 and 1),
    add constraint queue_message_ttl_check
        check (queue_message_ttl > '0' and queue_message_ttl <= '3650 days'),
    add constraint queue_expired_action_check check (queue_expired_action in ('dead_letter', 'drop'));
alter table pgque.subscriber add column sub_paused boolean not null default false;
create table pgque.delay_bucket (
    db_table        int4        primary key,
    db_from         timestamptz,
    db_until        timestamptz,
    db_moved_until  timestamptz,
    db_moved_snap   pg_snapshot,
    constraint delay_bucket_span_check check ((db_from is null) = (db_until is null) and db_from < db_until)
);
create index delay_bucket_span_idx on pgque.delay_bucket (db_from, db_until);
create sequence pgque.delay_bucket_seq;
create table pgque.delay_template (
    ev_queue        int4        not null,
    ev_deliver_at   timestamptz not null,
    like pgque.event_template
);
select pg_catalog.pg_extension_config_dump('pgque.delay_bucket', '');
select pg_catalog.pg_extension_config_dump('pgque.delay_bucket_seq', '');

-- Sends with a dedup_key (extension/25_dedup.sql); send and send_batch take
-- a priority and a dedup_key now (created again by the code parts).
alter table pgque.queue
    add column queue_dedup_window interval not null default '1 hour',
    add constraint queue_dedup_window_check
        check (queue_dedup_window between '1 second' and '365 days');
create table pgque.dedup_ring (
    singleton       boolean     primary key default true check (singleton),
    dr_period       interval    not null default '1 hour',
    dr_frozen_until timestamptz,
    constraint dedup_ring_period_check check (dr_period between '1 second' and '365 days')
);
insert into pgque.dedup_ring default values;
create table pgque.dedup_0 (
    dk_queue        int4        not null,
    dk_key          text        not null,
    dk_id           bigint      not null,
    dk_time         timestamptz not null
);
create index dedup_0_key_idx on pgque.dedup_0 (dk_queue, dk_key);
create table pgque.dedup_1 (like pgque.dedup_0);
create index dedup_1_key_idx on pgque.dedup_1 (dk_queue, dk_key);
create table pgque.dedup_2 (like pgque.dedup_0);
create index dedup_2_key_idx on pgque.dedup_2 (dk_queue, dk_key);
select pg_catalog.pg_extension_config_dump('pgque.dedup_ring', '');
select pg_catalog.pg_extension_config_dump('pgque.dedup_0', '');
select pg_catalog.pg_extension_config_dump('pgque.dedup_1', '');
select pg_catalog.pg_extension_config_dump('pgque.dedup_2', '');

-- Priorities: lanes, hidden queues of a queue that hold one priority's
-- events each (extension/22_lanes.sql). send and send_batch take a
-- priority (created again by the code parts with it).
alter table pgque.queue
    add column queue_lane_of int4 references pgque.queue (queue_id) on delete cascade,
    add column queue_priority int2,
    add constraint queue_lane_check
        check ((queue_lane_of is null) = (queue_priority is null) and queue_priority between 1 and 9),
    add constraint queue_lane_uq unique (queue_lane_of, queue_priority);
drop function pgque.send(text, text);
drop function pgque.send(text, jsonb);
drop function pgque.send(text, text, text);
drop function pgque.send(text, text, jsonb);
drop function pgque.send_batch(text, text[]);
drop function pgque.send_batch(text, jsonb[]);
drop function pgque.send_batch(text, text, text[]);
drop function pgque.send_batch(text, text, jsonb[]);

-- Periodic messages (extension/58_schedule.sql). A handful of rows, each
-- updated once per run: the columns a run changes have no index and pages
-- keep room (fillfactor), so those updates are HOT. Not an event table.
create table pgque.schedule (
    sched_name          text        primary key,
    sched_queue         int4        not null references pgque.queue (queue_id),
    sched_spec          text        not null,
    sched_type          text        not null,
    sched_payload       text,
    sched_paused        boolean     not null default false,
    -- the first slot not sent yet (while paused: not looked at)
    sched_next_run      timestamptz not null,
    -- the slot the last event stood for, and its id
    sched_last_run      timestamptz,
    sched_last_msg_id   bigint,
    -- events sent, and slots they caught up for
    sched_runs          bigint      not null default 0,
    sched_missed        bigint      not null default 0,
    -- the last send that failed, until one succeeds
    sched_error         text,
    sched_error_at      timestamptz,
    sched_created       timestamptz not null default pg_catalog.now()
) with (fillfactor = 50);
select pg_catalog.pg_extension_config_dump('pgque.schedule', '');

-- The worker's status gains its error count (created again by the code parts).
drop function pgque._worker_status();

-- Leases: per-message ack with a deadline (extension/47_lease.sql).
alter table pgque.queue
    add column queue_ack_deadline interval not null default '30 seconds',
    add constraint queue_ack_deadline_check
        check (queue_ack_deadline between '1 millisecond' and '12 hours');
alter table pgque.retry_queue add column ev_lease bigint;

-- Filters: a subscription may take only some types and labels
-- (extension/40_consume.sql). subscribe() gains the optional filter
-- arguments; the two-argument function would make its calls ambiguous.
alter table pgque.subscriber add column sub_types text[], add column sub_labels text[];
drop function pgque.subscribe(text, text);
