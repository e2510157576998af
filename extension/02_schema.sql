-- The schema belongs to the extension: DROP EXTENSION pgque CASCADE removes
-- it with every queue's tables. Installing into a schema someone created
-- beforehand would let its owner plant objects that pgque's SECURITY
-- DEFINER functions might resolve, so an existing schema is refused.
do $schema$
begin
    if exists (select from pg_catalog.pg_namespace where nspname = 'pgque') then
        raise exception 'schema "pgque" already exists'
            using errcode = 'duplicate_schema',
                  detail = 'pgque creates its schema itself and does not install into an existing one.',
                  hint = 'Drop or rename the schema "pgque", then run CREATE EXTENSION pgque again.';
    end if;
end
$schema$;
create schema pgque;

-- Metadata tables. Names and columns follow PgQ so that monitoring queries
-- written for PgQ and PgQue keep working. Per-message work never updates a
-- metadata row: events are appended to the rotating event tables, ticks are
-- appended to pgque.tick, and a consumer's progress is appended to
-- pgque.batch (one row per batch, updated once when it closes). That keeps
-- lookups O(1) even while another session holds an old snapshot.

create table pgque.queue (
    queue_id                    serial      primary key,
    queue_name                  text        not null unique,

    queue_ntables               integer     not null default 3,
    queue_cur_table             integer     not null default 0,
    queue_rotation_period       interval    not null default '2 hours',
    -- Rotation bookkeeping, see extension/70_maint.sql for the invariant.
    queue_switch_step1          xid8        not null default pg_catalog.pg_current_xact_id(),
    queue_switch_step2          xid8                 default pg_catalog.pg_current_xact_id(),
    queue_switch_time           timestamptz not null default pg_catalog.now(),

    queue_external_ticker       boolean     not null default false,
    queue_disable_insert        boolean     not null default false,
    queue_ticker_paused         boolean     not null default false,

    queue_ticker_max_count      integer     not null default 500,
    queue_ticker_max_lag        interval    not null default '3 seconds',
    queue_ticker_idle_period    interval    not null default '1 minute',
    queue_per_tx_limit          integer,

    queue_data_pfx              text        not null,
    queue_event_seq             text        not null,
    queue_tick_seq              text        not null,

    queue_max_retries           integer     not null default 5,
    -- set by force_tick(): the next ticker pass ticks regardless of thresholds
    queue_tick_forced           boolean     not null default false,
    -- only roles granted access with pgque.grant_queue() may produce to or
    -- consume from the queue (extension/15_access.sql)
    queue_restricted            boolean     not null default false,

    -- Time (extension/55_delay.sql, 50_retry.sql): how long a plain send
    -- waits before delivery (null: none); the retry policy of nack without
    -- retry_after; how old an event may get before it is expired instead of
    -- delivered (null: never) and what happens to it then; and whether
    -- consumers are paused.
    queue_delivery_delay        interval,
    queue_retry_delay           interval    not null default '60 seconds',
    queue_retry_backoff         text        not null default 'fixed',
    queue_retry_max_delay       interval    not null default '1 hour',
    queue_retry_jitter          float8      not null default 0,
    queue_message_ttl           interval,
    queue_expired_action        text        not null default 'dead_letter',
    queue_paused                boolean     not null default false,
    -- how long a send's dedup_key is remembered (extension/25_dedup.sql)
    queue_dedup_window          interval    not null default '1 hour',

    -- Priorities (extension/22_lanes.sql): a lane is a hidden queue that
    -- holds one priority's events of its parent queue (queue_lane_of);
    -- queue_priority is 1..9 on lanes, null on queues.
    queue_lane_of               int4        references pgque.queue (queue_id) on delete cascade,
    queue_priority              int2,

    -- how long a leased message waits for its ack before it is delivered
    -- again (extension/47_lease.sql)
    queue_ack_deadline          interval    not null default '30 seconds',

    -- the ranges set_queue_config() accepts (see there)
    constraint queue_ntables_check check (queue_ntables = 3),
    constraint queue_cur_table_check check (queue_cur_table between 0 and queue_ntables - 1),
    constraint queue_max_retries_check check (queue_max_retries between 0 and 10000),
    constraint queue_ticker_max_count_check check (queue_ticker_max_count between 1 and 1000000000),
    constraint queue_ticker_max_lag_check check (queue_ticker_max_lag between '0' and '1 day'),
    constraint queue_ticker_idle_period_check
        check (queue_ticker_idle_period > '0' and queue_ticker_idle_period <= '1 day'),
    constraint queue_rotation_period_check check (queue_rotation_period between '0' and '365 days'),
    constraint queue_delivery_delay_check check (queue_delivery_delay between '0' and '365 days'),
    constraint queue_retry_delay_check check (queue_retry_delay between '0' and '365 days'),
    constraint queue_retry_backoff_check check (queue_retry_backoff in ('fixed', 'exponential')),
    constraint queue_retry_max_delay_check check (queue_retry_max_delay between '0' and '365 days'),
    constraint queue_retry_jitter_check check (queue_retry_jitter between 0 and 1),
    constraint queue_message_ttl_check check (queue_message_ttl > '0' and queue_message_ttl <= '3650 days'),
    constraint queue_expired_action_check check (queue_expired_action in ('dead_letter', 'drop')),
    constraint queue_dedup_window_check
        check (queue_dedup_window between '1 second' and '365 days'),
    constraint queue_ack_deadline_check
        check (queue_ack_deadline between '1 millisecond' and '12 hours'),
    constraint queue_lane_check
        check ((queue_lane_of is null) = (queue_priority is null) and queue_priority between 1 and 9),
    -- one lane per priority: two first senders cannot both create it
    constraint queue_lane_uq unique (queue_lane_of, queue_priority)
);

create table pgque.consumer (
    co_id       serial  primary key,
    co_name     text    not null unique
);

-- One row per (queue, consumer) pair, written on subscribe only.
create table pgque.subscriber (
    sub_id          serial      primary key,
    sub_queue       int4        not null references pgque.queue (queue_id),
    sub_consumer    int4        not null references pgque.consumer (co_id),
    sub_created     timestamptz not null default pg_catalog.now(),
    -- the role that subscribed: on a restricted queue only its members (and
    -- pgque_admin) may use the subscription
    sub_owner       regrole,
    -- 'coop_main': a cooperative consumer, read by its subconsumers
    sub_role        text        not null default 'normal',
    -- pause_consumer(): receive hands it nothing until resume_consumer()
    sub_paused      boolean     not null default false,
    -- set_filter(): reads hand out only events whose ev_type is in
    -- sub_types and whose label (ev_extra1) is in sub_labels; NULL: any
    sub_types       text[],
    sub_labels      text[],
    unique (sub_queue, sub_consumer),
    constraint subscriber_sub_role_check check (sub_role in ('normal', 'coop_main'))
);

-- The members (subconsumers) of a cooperative consumer. They share its
-- subscription and take its tick windows in turn; sc_active is the last
-- sign of life (receive_coop, touch_subconsumer) that takeover checks.
create table pgque.subconsumer (
    sc_sub      int4        not null references pgque.subscriber (sub_id) on delete cascade,
    sc_name     text        not null,
    sc_created  timestamptz not null default pg_catalog.now(),
    sc_active   timestamptz not null default pg_catalog.now(),
    primary key (sc_sub, sc_name)
);

-- A tick is a snapshot of the producers' transactions. The events of a
-- batch are those whose transaction is visible in the newer tick's snapshot
-- and not in the older one. Appended by the ticker, deleted by rotation.
-- tick_heap and tick_since say where in the event tables those events lie
-- (src/heap_range.c): tick_heap is, per event table 0..2, its file
-- (relfilenode) and length in blocks right after the snapshot was taken;
-- tick_since holds steps of seven values (first xid, then file and length
-- per table): where the transactions from that xid on started writing.
-- Both are null on ticks written before 0.2.0.
create table pgque.tick (
    tick_queue      int4            not null,
    tick_id         bigint          not null,
    tick_time       timestamptz     not null,
    tick_snapshot   pg_snapshot     not null,
    tick_event_seq  bigint          not null,
    tick_heap       bigint[],
    tick_since      bigint[],
    primary key (tick_queue, tick_id)
);

create sequence pgque.batch_id_seq;

-- Consumer progress, append-mostly. The newest row of a subscriber is its
-- state: 'o' = batch open (cursor at batch_prev_tick), 'd' = cursor at
-- batch_next_tick. Older rows are history: 'd' closed, 's' split (a partial
-- receive was acked; a newer row continues the same tick window after
-- batch_start_pos), 'r' re-delivered under a newer row's id, 'c' cancelled
-- by register_consumer_at. See src/consume.c. Positions (table, block, line
-- pointer packed into a bigint, src/batch.h) order a window's events the
-- way they are read; the _ev columns are what 0.1.0 recorded instead.
create table pgque.batch (
    batch_id        bigint      primary key,
    batch_sub       int4        not null,
    batch_prev_tick bigint,
    batch_next_tick bigint      not null,
    -- 0.1.0: events with ev_id <= batch_start_ev were acked under an earlier
    -- batch id
    batch_start_ev  bigint,
    -- 0.1.0: last ev_id handed out by receive (int8 max: all of it)
    batch_end_ev    bigint,
    batch_state     "char"      not null,
    batch_opened    timestamptz not null,
    batch_closed    timestamptz,
    -- events at or before this position were acked under an earlier batch id
    batch_start_pos bigint,
    -- position of the last event handed out by receive (int8 max: all of
    -- it); null = not handed out by receive
    batch_end_pos   bigint,
    -- the subconsumer that holds the batch; '' for the subscriber's own
    -- rows (for a cooperative consumer: its cursor, one 'd' row per window
    -- handed to a member). Not null, so that "the newest row of ''" is a
    -- backward index scan.
    batch_member    text        not null default '',
    constraint batch_state_check check (batch_state in ('o', 'd', 's', 'r', 'c'))
);
create index batch_sub_idx on pgque.batch (batch_sub, batch_member, batch_id);

-- PgQ-compatible view of the consumer cursors, with PgQue's sub_role
-- (a cooperative consumer's members are in pgque.subconsumer).
create view pgque.subscription as
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

-- Column layout of every event table (pgque.event_<queue_id>_<n>).
create table pgque.event_template (
    ev_id       bigint      not null,
    ev_time     timestamptz not null,
    ev_txid     xid8        not null,
    ev_owner    int4,
    ev_retry    int4,
    ev_type     text,
    ev_data     text,
    ev_extra1   text,
    ev_extra2   text,
    ev_extra3   text,
    ev_extra4   text
);

-- Events scheduled for redelivery to one subscriber (ev_owner = sub_id).
create table pgque.retry_queue (
    ev_retry_after  timestamptz not null,
    ev_queue        int4        not null,
    ev_id           bigint      not null,
    ev_time         timestamptz not null,
    ev_txid         xid8,
    ev_owner        int4        not null,
    ev_retry        int4,
    ev_type         text,
    ev_data         text,
    ev_extra1       text,
    ev_extra2       text,
    ev_extra3       text,
    ev_extra4       text,
    -- a lease (extension/47_lease.sql): the batch that handed the event
    -- out; the row is its redelivery at the deadline unless acked first
    ev_lease        bigint,
    constraint rq_pkey primary key (ev_owner, ev_id)
);
create index rq_retry_idx on pgque.retry_queue (ev_retry_after);

-- Delayed events (send_at, delivery_delay) wait in bucket tables
-- pgque.delay_<db_table>, one per span of delivery times [db_from,
-- db_until), until extension/55_delay.sql moves them into their queue. A
-- bucket is never deleted from row by row: rows are marked moved by the
-- bucket's watermark (due at or before db_moved_until and committed in
-- db_moved_snap), and once the span is over the table is TRUNCATEd and
-- kept for a later span (db_from null: free). Producers hold FOR KEY SHARE
-- on the row they insert under; freeing takes it FOR UPDATE, moves only
-- FOR NO KEY UPDATE. Two producers may open a bucket each for one span.
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

-- Column layout of every delay bucket table: an event and where and when
-- it goes (ev_owner and ev_retry stay null).
create table pgque.delay_template (
    ev_queue        int4        not null,
    ev_deliver_at   timestamptz not null,
    like pgque.event_template
);

-- Dedup keys of sends (extension/25_dedup.sql, src/dedup.c). A key is
-- written to pgque.dedup_<k>, k = the epoch of its time modulo 3, epochs
-- being dr_period long (the longest dedup_window of any queue). The table
-- of the epoch after the current one holds only keys two epochs old or
-- older, so maint() TRUNCATEs it; nothing is deleted row by row. After
-- dr_period changes, epochs shift: no table is emptied before
-- dr_frozen_until.
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

-- Events a subscriber gave up on after max_retries.
create table pgque.dead_letter (
    dl_id           bigserial   primary key,
    dl_queue_id     int4        not null references pgque.queue (queue_id) on delete cascade,
    dl_consumer_id  int4        not null references pgque.consumer (co_id) on delete cascade,
    dl_time         timestamptz not null default pg_catalog.now(),
    dl_reason       text,
    ev_id           bigint      not null,
    ev_time         timestamptz not null,
    ev_txid         xid8,
    ev_retry        int4,
    ev_type         text,
    ev_data         text,
    ev_extra1       text,
    ev_extra2       text,
    ev_extra3       text,
    ev_extra4       text,
    constraint dl_queue_consumer_ev_uq unique (dl_queue_id, dl_consumer_id, ev_id)
);
create index dl_queue_time_idx on pgque.dead_letter (dl_queue_id, dl_time);

-- Who may produce to / consume from a restricted queue (15_access.sql).
-- Roles are stored as regrole: pg_dump writes their names, pg_upgrade keeps
-- their OIDs.
create table pgque.queue_grant (
    qg_queue        int4        not null references pgque.queue (queue_id) on delete cascade,
    qg_role         regrole     not null,
    qg_privilege    text        not null,
    primary key (qg_queue, qg_role, qg_privilege),
    constraint qg_privilege_check check (qg_privilege in ('consume', 'produce'))
);

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

-- Per-database settings of the extension (one row).
create table pgque.config (
    singleton       boolean     primary key default true check (singleton),
    -- false after pgque.stop(): the launcher leaves this database alone
    worker_enabled  boolean     not null default true,
    installed_at    timestamptz not null default pg_catalog.now()
);
insert into pgque.config default values;

create type pgque.message as (
    msg_id      bigint,
    batch_id    bigint,
    type        text,
    payload     text,
    retry_count int4,
    created_at  timestamptz,
    extra1      text,
    extra2      text,
    extra3      text,
    extra4      text
);

select pg_catalog.pg_extension_config_dump('pgque.queue', '');
select pg_catalog.pg_extension_config_dump('pgque.consumer', '');
select pg_catalog.pg_extension_config_dump('pgque.subscriber', '');
select pg_catalog.pg_extension_config_dump('pgque.subconsumer', '');
select pg_catalog.pg_extension_config_dump('pgque.tick', '');
select pg_catalog.pg_extension_config_dump('pgque.batch', '');
select pg_catalog.pg_extension_config_dump('pgque.retry_queue', '');
select pg_catalog.pg_extension_config_dump('pgque.dead_letter', '');
select pg_catalog.pg_extension_config_dump('pgque.queue_grant', '');
select pg_catalog.pg_extension_config_dump('pgque.delay_bucket', '');
select pg_catalog.pg_extension_config_dump('pgque.delay_bucket_seq', '');
select pg_catalog.pg_extension_config_dump('pgque.dedup_ring', '');
select pg_catalog.pg_extension_config_dump('pgque.dedup_0', '');
select pg_catalog.pg_extension_config_dump('pgque.dedup_1', '');
select pg_catalog.pg_extension_config_dump('pgque.dedup_2', '');
select pg_catalog.pg_extension_config_dump('pgque.schedule', '');
select pg_catalog.pg_extension_config_dump('pgque.queue_queue_id_seq', '');
select pg_catalog.pg_extension_config_dump('pgque.consumer_co_id_seq', '');
select pg_catalog.pg_extension_config_dump('pgque.subscriber_sub_id_seq', '');
select pg_catalog.pg_extension_config_dump('pgque.batch_id_seq', '');
select pg_catalog.pg_extension_config_dump('pgque.dead_letter_dl_id_seq', '');
