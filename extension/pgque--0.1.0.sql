\echo Use "CREATE EXTENSION pgque" to load this file. \quit
-- pgque install script, built by concatenating extension/[0-9]*.sql in order.
-- Do not edit the generated pgque--<version>.sql; edit the parts.
-- Roles: pgque_reader (consume + observe) and pgque_writer (produce + replay)
-- are siblings; pgque_admin is a member of both and owns the admin functions.
-- Roles are cluster-wide, so they survive DROP EXTENSION and are shared by
-- every database that installs pgque.
do $roles$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = 'pgque_reader') then
        create role pgque_reader nologin;
    end if;
    if not exists (select from pg_catalog.pg_roles where rolname = 'pgque_writer') then
        create role pgque_writer nologin;
    end if;
    if not exists (select from pg_catalog.pg_roles where rolname = 'pgque_admin') then
        create role pgque_admin nologin;
    end if;
    if not pg_catalog.pg_has_role('pgque_admin', 'pgque_reader', 'member') then
        grant pgque_reader to pgque_admin;
    end if;
    if not pg_catalog.pg_has_role('pgque_admin', 'pgque_writer', 'member') then
        grant pgque_writer to pgque_admin;
    end if;
end
$roles$;

grant usage on schema pgque to pgque_reader, pgque_writer, pgque_admin;
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

    constraint queue_ntables_check check (queue_ntables = 3),
    constraint queue_cur_table_check check (queue_cur_table between 0 and queue_ntables - 1),
    constraint queue_max_retries_check check (queue_max_retries >= 0),
    constraint queue_ticker_max_count_check check (queue_ticker_max_count > 0),
    constraint queue_ticker_max_lag_check check (queue_ticker_max_lag >= '0'),
    constraint queue_ticker_idle_period_check check (queue_ticker_idle_period > '0'),
    constraint queue_rotation_period_check check (queue_rotation_period >= '0')
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
    unique (sub_queue, sub_consumer)
);

-- A tick is a snapshot of the producers' transactions. The events of a
-- batch are those whose transaction is visible in the newer tick's snapshot
-- and not in the older one. Appended by the ticker, deleted by rotation.
create table pgque.tick (
    tick_queue      int4            not null,
    tick_id         bigint          not null,
    tick_time       timestamptz     not null,
    tick_snapshot   pg_snapshot     not null,
    tick_event_seq  bigint          not null,
    primary key (tick_queue, tick_id)
);

create sequence pgque.batch_id_seq;

-- Consumer progress, append-mostly. The newest row of a subscriber is its
-- state: 'o' = batch open (cursor at batch_prev_tick), 'd' = cursor at
-- batch_next_tick. Older rows are history: 'd' closed, 's' split (a partial
-- receive was acked; a newer row continues the same tick window after
-- batch_start_ev), 'r' re-delivered under a newer row's id, 'c' cancelled by
-- register_consumer_at. See src/consume.c.
create table pgque.batch (
    batch_id        bigint      primary key,
    batch_sub       int4        not null,
    batch_prev_tick bigint,
    batch_next_tick bigint      not null,
    -- events with ev_id <= batch_start_ev were acked under an earlier batch id
    batch_start_ev  bigint,
    -- last ev_id handed out by receive (int8 max: all of it); null = not
    -- handed out by receive
    batch_end_ev    bigint,
    batch_state     "char"      not null,
    batch_opened    timestamptz not null,
    batch_closed    timestamptz,
    constraint batch_state_check check (batch_state in ('o', 'd', 's', 'r', 'c'))
);
create index batch_sub_idx on pgque.batch (batch_sub, batch_id);

-- PgQ-compatible view of the consumer cursors.
create view pgque.subscription as
select s.sub_id,
       s.sub_queue,
       s.sub_consumer,
       case when b.batch_state = 'o' then b.batch_prev_tick else b.batch_next_tick end
           as sub_last_tick,
       coalesce(b.batch_closed, b.batch_opened) as sub_active,
       case when b.batch_state = 'o' then b.batch_id end as sub_batch,
       case when b.batch_state = 'o' then b.batch_next_tick end as sub_next_tick
  from pgque.subscriber s
  left join lateral (
        select bb.batch_id, bb.batch_prev_tick, bb.batch_next_tick, bb.batch_state,
               bb.batch_opened, bb.batch_closed
          from pgque.batch bb
         where bb.batch_sub = s.sub_id
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
    constraint rq_pkey primary key (ev_owner, ev_id)
);
create index rq_retry_idx on pgque.retry_queue (ev_retry_after);

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
select pg_catalog.pg_extension_config_dump('pgque.tick', '');
select pg_catalog.pg_extension_config_dump('pgque.batch', '');
select pg_catalog.pg_extension_config_dump('pgque.retry_queue', '');
select pg_catalog.pg_extension_config_dump('pgque.dead_letter', '');
select pg_catalog.pg_extension_config_dump('pgque.queue_queue_id_seq', '');
select pg_catalog.pg_extension_config_dump('pgque.consumer_co_id_seq', '');
select pg_catalog.pg_extension_config_dump('pgque.subscriber_sub_id_seq', '');
select pg_catalog.pg_extension_config_dump('pgque.batch_id_seq', '');
select pg_catalog.pg_extension_config_dump('pgque.dead_letter_dl_id_seq', '');
-- Internal helpers implemented in C. None is granted to any role: they are
-- called from SECURITY DEFINER functions of this extension only.

create function pgque._check_queue_name(queue_name text) returns void
    language c stable parallel safe as 'MODULE_PATHNAME', 'pgque_check_queue_name_sql';

create function pgque._check_consumer_name(consumer_name text) returns void
    language c stable parallel safe as 'MODULE_PATHNAME', 'pgque_check_consumer_name_sql';

-- Serializes every change of one subscriber's state (see src/consume.c).
create function pgque._lock_subscriber(sub_id int4) returns void
    language c volatile as 'MODULE_PATHNAME', 'pgque_lock_subscriber';

-- The open batch with this id, its subscriber locked against concurrent
-- receive/ack; raises the standard errors otherwise.
create function pgque._open_batch(batch_id bigint,
    out sub_id int4, out queue_id int4, out consumer_id int4, out max_retries int4)
    language c volatile as 'MODULE_PATHNAME', 'pgque_open_batch';

-- Re-inserts an event into its queue with its original id, for retries and
-- dead-letter replay. Goes through the same path as send (src/send.c).
create function pgque._insert_event_raw(
    queue_id int4, ev_id bigint, ev_time timestamptz, ev_owner int4, ev_retry int4,
    ev_type text, ev_data text,
    ev_extra1 text, ev_extra2 text, ev_extra3 text, ev_extra4 text)
returns bigint
    language c volatile as 'MODULE_PATHNAME', 'pgque_insert_event_raw';

-- The one event of an open batch with the given id, or no row.
create function pgque._batch_event(batch_id bigint, ev_id bigint,
    out ev_id bigint, out ev_time timestamptz, out ev_txid xid8, out ev_retry int4,
    out ev_type text, out ev_data text,
    out ev_extra1 text, out ev_extra2 text, out ev_extra3 text, out ev_extra4 text)
returns setof record
    language c volatile as 'MODULE_PATHNAME', 'pgque_batch_event';

-- The xid the next transaction will get (rotation step 2's bound).
create function pgque._next_xid() returns xid8
    language c volatile as 'MODULE_PATHNAME', 'pgque_next_xid';

-- EXPLAIN (COSTS OFF) of a statement as pgque plans its own (src/plans.c):
-- metadata tables planned as if large. For tests; superuser only.
create function pgque._explain(sql text) returns setof text
    language c volatile as 'MODULE_PATHNAME', 'pgque_explain';

-- The producers' shared cache of pgque.queue (src/queue_cache.c): every
-- committed change of a queue row invalidates it; step 2 of a rotation waits
-- until no backend can still read the old current table from it.
create function pgque._queue_changed() returns trigger
    language c as 'MODULE_PATHNAME', 'pgque_queue_changed';
create trigger queue_changed after update or delete on pgque.queue
    for each row execute function pgque._queue_changed();
create function pgque._cache_current(queue_id int4, cur_table int4) returns bool
    language c volatile as 'MODULE_PATHNAME', 'pgque_cache_current';

-- Raises the standard "queue does not exist" error (42704).
create function pgque._queue_id(queue text) returns int4
    language plpgsql stable
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_id int4;
begin
    perform pgque._check_queue_name(queue);
    select q.queue_id into v_id from pgque.queue q where q.queue_name = _queue_id.queue;
    if not found then
        raise exception 'queue "%" does not exist', queue
            using errcode = 'undefined_object', schema = 'pgque', table = 'queue',
                  hint = 'Create it with pgque.create_queue().';
    end if;
    return v_id;
end
$$;
-- Queues: create, drop, configure.

create function pgque.create_queue(queue text) returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_id    int4;
    v_pfx   text;
    i       int;
begin
    perform pgque._check_queue_name(queue);

    v_id := nextval('pgque.queue_queue_id_seq');
    v_pfx := 'event_' || v_id;
    insert into pgque.queue (queue_id, queue_name, queue_data_pfx, queue_event_seq, queue_tick_seq)
    values (v_id, queue, 'pgque.' || v_pfx, 'pgque.' || v_pfx || '_id_seq',
            'pgque.' || v_pfx || '_tick_seq')
    on conflict (queue_name) do nothing;
    if not found then
        return 0;
    end if;

    execute format('create sequence pgque.%I', v_pfx || '_id_seq');
    execute format('create sequence pgque.%I', v_pfx || '_tick_seq');
    for i in 0 .. 2 loop
        -- insert-only tables emptied by TRUNCATE: nothing for autovacuum to do
        execute format('create table pgque.%I (like pgque.event_template)'
                       ' with (fillfactor = 100, autovacuum_enabled = false,'
                       ' toast.autovacuum_enabled = false)', v_pfx || '_' || i);
        execute format('create index %I on pgque.%I (ev_txid)',
                       v_pfx || '_' || i || '_txid_idx', v_pfx || '_' || i);
    end loop;

    -- the first tick: subscribers start from it
    perform pgque.ticker(queue);
    return 1;
end
$$;

create function pgque.drop_queue(queue text, force boolean default false) returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    q       record;
    v_subs  int;
    s       record;
    i       int;
begin
    perform pgque._check_queue_name(queue);
    if force is null then
        raise exception 'force must not be null' using errcode = 'invalid_parameter_value';
    end if;

    select * into q from pgque.queue where queue_name = drop_queue.queue for update;
    if not found then
        raise exception 'queue "%" does not exist', queue
            using errcode = 'undefined_object', schema = 'pgque', table = 'queue';
    end if;

    select count(*) into v_subs from pgque.subscriber where sub_queue = q.queue_id;
    if v_subs > 0 and not force then
        raise exception 'queue "%" has % consumer(s)', queue, v_subs
            using errcode = 'object_in_use',
                  hint = 'Unsubscribe them first, or call pgque.drop_queue(queue, force => true).';
    end if;

    for s in select c.co_name from pgque.subscriber sb
               join pgque.consumer c on c.co_id = sb.sub_consumer
              where sb.sub_queue = q.queue_id
              order by c.co_name
    loop
        perform pgque.unsubscribe(queue, s.co_name);
    end loop;

    for i in 0 .. q.queue_ntables - 1 loop
        execute format('drop table pgque.%I', 'event_' || q.queue_id || '_' || i);
    end loop;
    execute format('drop sequence pgque.%I', 'event_' || q.queue_id || '_id_seq');
    execute format('drop sequence pgque.%I', 'event_' || q.queue_id || '_tick_seq');
    delete from pgque.tick where tick_queue = q.queue_id;
    delete from pgque.retry_queue where ev_queue = q.queue_id;
    delete from pgque.queue where queue_id = q.queue_id;
    return 1;
end
$$;

create function pgque.set_queue_config(queue text, param text, value text) returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_id    int4;
    v_param text;
    v_type  text;
    v_check text;
begin
    v_id := pgque._queue_id(queue);
    if param is null then
        raise exception 'parameter name must not be null' using errcode = 'invalid_parameter_value';
    end if;

    -- PgQ accepts the names with or without the queue_ prefix
    v_param := regexp_replace(lower(param), '^queue_', '');
    case v_param
        when 'ticker_max_count' then v_type := 'int4'; v_check := '$1 > 0';
        when 'max_retries' then v_type := 'int4'; v_check := '$1 >= 0';
        when 'ticker_max_lag' then v_type := 'interval'; v_check := '$1 >= interval ''0''';
        when 'ticker_idle_period' then v_type := 'interval'; v_check := '$1 > interval ''0''';
        when 'rotation_period' then v_type := 'interval'; v_check := '$1 >= interval ''0''';
        when 'ticker_paused' then v_type := 'bool'; v_check := '$1 is not null';
        when 'external_ticker' then v_type := 'bool'; v_check := '$1 is not null';
        else
            raise exception 'unknown queue parameter "%"', param
                using errcode = 'invalid_parameter_value',
                      hint = 'Valid parameters: ticker_max_count, ticker_max_lag, ticker_idle_period, '
                             'ticker_paused, rotation_period, external_ticker, max_retries.';
    end case;

    if value is null then
        execute format('update pgque.queue set %I = default where queue_id = $1',
                       'queue_' || v_param) using v_id;
        return 1;
    end if;

    begin
        execute format('select (%s) from (select $1::%s) v(x)',
                       replace(v_check, '$1', 'x'), v_type)
            using value into strict v_check;
    exception when data_exception then
        v_check := null;
    end;
    if v_check is distinct from 'true' then
        raise exception 'invalid value "%" for queue parameter "%"', value, v_param
            using errcode = 'invalid_parameter_value',
                  hint = case v_type
                      when 'int4' then 'Expected an integer' ||
                          case when v_param = 'max_retries' then ' >= 0.' else ' > 0.' end
                      when 'interval' then
                          case when v_param = 'ticker_idle_period'
                               then 'Expected an interval greater than zero, such as ''1 minute''.'
                               else 'Expected a non-negative interval, such as ''3 seconds''.' end
                      else 'Expected true or false.' end;
    end if;

    execute format('update pgque.queue set %I = $1::%s where queue_id = $2',
                   'queue_' || v_param, v_type) using value, v_id;
    return 1;
end
$$;
-- Producing events: the hot path, in C (src/send.c). These functions are
-- SECURITY INVOKER: they resolve nothing through search_path and write the
-- event tables directly, so EXECUTE (granted to pgque_writer) is the only
-- permission they need.

create function pgque.send(queue_name text, payload text) returns bigint
    language c volatile as 'MODULE_PATHNAME', 'pgque_send_text';
create function pgque.send(queue_name text, payload jsonb) returns bigint
    language c volatile as 'MODULE_PATHNAME', 'pgque_send_jsonb';
create function pgque.send(queue_name text, type_name text, payload text) returns bigint
    language c volatile as 'MODULE_PATHNAME', 'pgque_send_text';
create function pgque.send(queue_name text, type_name text, payload jsonb) returns bigint
    language c volatile as 'MODULE_PATHNAME', 'pgque_send_jsonb';

create function pgque.send_batch(queue_name text, payloads text[]) returns bigint[]
    language c volatile as 'MODULE_PATHNAME', 'pgque_send_batch_text';
create function pgque.send_batch(queue_name text, payloads jsonb[]) returns bigint[]
    language c volatile as 'MODULE_PATHNAME', 'pgque_send_batch_jsonb';
create function pgque.send_batch(queue_name text, type_name text, payloads text[]) returns bigint[]
    language c volatile as 'MODULE_PATHNAME', 'pgque_send_batch_text';
create function pgque.send_batch(queue_name text, type_name text, payloads jsonb[]) returns bigint[]
    language c volatile as 'MODULE_PATHNAME', 'pgque_send_batch_jsonb';

create function pgque.insert_event(queue_name text, ev_type text, ev_data text) returns bigint
    language c volatile as 'MODULE_PATHNAME', 'pgque_insert_event';
create function pgque.insert_event(queue_name text, ev_type text, ev_data text,
                                   ev_extra1 text, ev_extra2 text, ev_extra3 text, ev_extra4 text)
returns bigint
    language c volatile as 'MODULE_PATHNAME', 'pgque_insert_event';
-- Ticks (src/ticker.c). Manual calls are safe while the worker runs: tickers
-- of one queue serialize on a lock and take their snapshot after it.

create function pgque.ticker(queue text) returns bigint
    language c volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
    as 'MODULE_PATHNAME', 'pgque_ticker_queue';

create function pgque.ticker() returns bigint
    language c volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
    as 'MODULE_PATHNAME', 'pgque_ticker_all';

-- Make the next ticker pass tick this queue even below its thresholds.
-- Returns the queue's current last tick id (PgQ's force_tick contract).
create function pgque.force_next_tick(queue text) returns bigint
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_id    int4 := pgque._queue_id(queue);
    v_tick  bigint;
begin
    update pgque.queue set queue_tick_forced = true
     where queue_id = v_id and not queue_tick_forced;
    perform pgque._wake_ticker(v_id);
    select t.tick_id into v_tick from pgque.tick t
     where t.tick_queue = v_id order by t.tick_id desc limit 1;
    return v_tick;
end
$$;

create function pgque.force_tick(queue text) returns bigint
    language sql security definer
    set search_path = pg_catalog, pgque, pg_temp
    return pgque.force_next_tick(queue);
-- Consuming: subscriptions, batches, receive/ack. The batch state machine is
-- in C (src/consume.c); subscription management is here.

-- Register consumer on queue with its cursor at tick_id (NULL = newest tick).
-- Returns 1 for a new subscription, 0 if it existed (then, with a tick_id,
-- the cursor is moved there and any open batch is cancelled).
create function pgque.register_consumer_at(queue text, consumer text, tick_id bigint)
returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_queue     int4;
    v_co        int4;
    v_sub       int4;
    v_tick      bigint;
begin
    perform pgque._check_queue_name(queue);
    perform pgque._check_consumer_name(consumer);

    -- share lock: rotation (which takes it for update) cannot delete the
    -- tick we position at while we do it
    select q.queue_id into v_queue from pgque.queue q
     where q.queue_name = register_consumer_at.queue for share;
    if not found then
        raise exception 'queue "%" does not exist', queue
            using errcode = 'undefined_object', schema = 'pgque', table = 'queue',
                  hint = 'Create it with pgque.create_queue().';
    end if;

    if tick_id is null then
        select t.tick_id into v_tick from pgque.tick t
         where t.tick_queue = v_queue order by t.tick_id desc limit 1;
    else
        select t.tick_id into v_tick from pgque.tick t
         where t.tick_queue = v_queue and t.tick_id = register_consumer_at.tick_id;
        if not found then
            raise exception 'tick % of queue "%" does not exist', tick_id, queue
                using errcode = 'undefined_object', schema = 'pgque', table = 'tick',
                      hint = 'Ticks older than the last rotation are removed.';
        end if;
    end if;
    if v_tick is null then
        raise exception 'queue "%" has no tick yet', queue
            using errcode = 'object_not_in_prerequisite_state',
                  hint = 'Run pgque.ticker() once.';
    end if;

    -- Hold the consumer row (key share) until commit, so that an unsubscribe
    -- of its last other subscription cannot delete it under us; if such an
    -- unsubscribe deleted it first, make a new one.
    loop
        select c.co_id into v_co from pgque.consumer c where c.co_name = consumer
           for key share;
        exit when found;
        insert into pgque.consumer (co_name) values (consumer)
        on conflict (co_name) do nothing
        returning co_id into v_co;
        exit when v_co is not null;
    end loop;

    insert into pgque.subscriber (sub_queue, sub_consumer) values (v_queue, v_co)
    on conflict (sub_queue, sub_consumer) do nothing
    returning sub_id into v_sub;
    if v_sub is not null then
        insert into pgque.batch (batch_id, batch_sub, batch_next_tick, batch_state,
                                 batch_opened, batch_closed)
        values (nextval('pgque.batch_id_seq'), v_sub, v_tick, 'd', now(), now());
        return 1;
    end if;

    if tick_id is not null then
        select s.sub_id into v_sub from pgque.subscriber s
         where s.sub_queue = v_queue and s.sub_consumer = v_co;
        perform pgque._lock_subscriber(v_sub);
        update pgque.batch set batch_state = 'c', batch_closed = now()
         where batch_sub = v_sub and batch_state = 'o';
        insert into pgque.batch (batch_id, batch_sub, batch_next_tick, batch_state,
                                 batch_opened, batch_closed)
        values (nextval('pgque.batch_id_seq'), v_sub, v_tick, 'd', now(), now());
    end if;
    return 0;
end
$$;

create function pgque.register_consumer(queue text, consumer text) returns integer
    language sql security definer
    set search_path = pg_catalog, pgque, pg_temp
    return pgque.register_consumer_at(queue, consumer, null);

create function pgque.subscribe(queue text, consumer text) returns integer
    language sql security definer
    set search_path = pg_catalog, pgque, pg_temp
    return pgque.register_consumer_at(queue, consumer, null);

-- Returns 1 if the subscription was removed, 0 if there was none. Pending
-- retries of the subscription go with it; so does the consumer, and its
-- dead letters, once it has no subscription left.
create function pgque.unsubscribe(queue text, consumer text) returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_queue int4;
    v_sub   int4;
    v_co    int4;
begin
    perform pgque._check_consumer_name(consumer);
    v_queue := pgque._queue_id(queue);

    select s.sub_id, s.sub_consumer into v_sub, v_co
      from pgque.subscriber s join pgque.consumer c on c.co_id = s.sub_consumer
     where s.sub_queue = v_queue and c.co_name = consumer;
    if not found then
        return 0;
    end if;

    perform pgque._lock_subscriber(v_sub);
    delete from pgque.retry_queue where ev_owner = v_sub;
    delete from pgque.batch where batch_sub = v_sub;
    delete from pgque.subscriber where sub_id = v_sub;
    if not found then
        return 0;   -- a concurrent unsubscribe won
    end if;
    delete from pgque.dead_letter where dl_queue_id = v_queue and dl_consumer_id = v_co;
    begin
        delete from pgque.consumer c
         where c.co_id = v_co
           and not exists (select from pgque.subscriber s where s.sub_consumer = v_co);
    exception when foreign_key_violation then
        null;   -- a concurrent subscribe to another queue committed: keep it
    end;
    return 1;
end
$$;

create function pgque.unregister_consumer(queue text, consumer text) returns integer
    language sql security definer
    set search_path = pg_catalog, pgque, pg_temp
    return pgque.unsubscribe(queue, consumer);

create function pgque.next_batch_custom(queue text, consumer text,
    min_lag interval, min_count int4, min_interval interval,
    out batch_id bigint, out cur_tick_id bigint, out prev_tick_id bigint,
    out cur_tick_time timestamptz, out prev_tick_time timestamptz,
    out cur_tick_event_seq bigint, out prev_tick_event_seq bigint)
    language c volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
    as 'MODULE_PATHNAME', 'pgque_next_batch_custom';

create function pgque.next_batch_info(queue text, consumer text,
    out batch_id bigint, out cur_tick_id bigint, out prev_tick_id bigint,
    out cur_tick_time timestamptz, out prev_tick_time timestamptz,
    out cur_tick_event_seq bigint, out prev_tick_event_seq bigint)
    language sql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
    select * from pgque.next_batch_custom(queue, consumer, null, null, null)
$$;

create function pgque.next_batch(queue text, consumer text) returns bigint
    language sql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
    select batch_id from pgque.next_batch_custom(queue, consumer, null, null, null)
$$;

create function pgque.get_batch_events(batch_id bigint,
    out ev_id bigint, out ev_time timestamptz, out ev_txid xid8, out ev_retry int4,
    out ev_type text, out ev_data text,
    out ev_extra1 text, out ev_extra2 text, out ev_extra3 text, out ev_extra4 text)
returns setof record
    language c volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
    as 'MODULE_PATHNAME', 'pgque_get_batch_events';

create function pgque.finish_batch(batch_id bigint) returns integer
    language c volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
    as 'MODULE_PATHNAME', 'pgque_ack';

create function pgque.ack(batch_id bigint) returns integer
    language c volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
    as 'MODULE_PATHNAME', 'pgque_ack';

create function pgque.receive(queue text, consumer text, max_return int default 100)
returns setof pgque.message
    language c volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
    rows 100
    as 'MODULE_PATHNAME', 'pgque_receive';
-- Retries: nack / event_retry / batch_retry schedule a copy of an event for
-- the nacking subscriber only; maint_retry_events() moves every due copy back
-- into the queue, owned by that subscriber, with ev_retry + 1.

-- Schedule one event of an open batch for redelivery at retry_time.
-- 1 when scheduled, 0 when it already was.
create function pgque.event_retry(batch_id bigint, event_id bigint, retry_time timestamptz)
returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    b   record;
    ev  record;
begin
    if retry_time is null then
        raise exception 'retry_time must not be null' using errcode = 'invalid_parameter_value';
    end if;
    b := pgque._open_batch(batch_id);
    select * into ev from pgque._batch_event(batch_id, event_id);
    if not found then
        raise exception 'event % is not in batch %', event_id, batch_id
            using errcode = 'undefined_object', schema = 'pgque', table = 'event';
    end if;
    insert into pgque.retry_queue (ev_retry_after, ev_queue, ev_id, ev_time, ev_txid, ev_owner,
                                   ev_retry, ev_type, ev_data,
                                   ev_extra1, ev_extra2, ev_extra3, ev_extra4)
    values (retry_time, b.queue_id, ev.ev_id, ev.ev_time, null, b.sub_id,
            coalesce(ev.ev_retry, 0) + 1, ev.ev_type, ev.ev_data,
            ev.ev_extra1, ev.ev_extra2, ev.ev_extra3, ev.ev_extra4)
    on conflict do nothing;
    if found then
        perform pgque._note_retries();
        return 1;
    end if;
    return 0;
end
$$;

create function pgque.event_retry(batch_id bigint, event_id bigint, retry_seconds integer)
returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
begin
    if retry_seconds is null or retry_seconds < 0 then
        raise exception 'retry_seconds must be a non-negative number, got %',
                        coalesce(retry_seconds::text, 'null')
            using errcode = 'invalid_parameter_value';
    end if;
    return pgque.event_retry(batch_id, event_id, now() + make_interval(secs => retry_seconds));
end
$$;

-- Schedule every remaining event of an open batch for redelivery.
-- Returns how many were newly scheduled.
create function pgque.batch_retry(batch_id bigint, retry_seconds integer) returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    b       record;
    v_cnt   integer;
begin
    if retry_seconds is null or retry_seconds < 0 then
        raise exception 'retry_seconds must be a non-negative number, got %',
                        coalesce(retry_seconds::text, 'null')
            using errcode = 'invalid_parameter_value';
    end if;
    b := pgque._open_batch(batch_id);
    insert into pgque.retry_queue (ev_retry_after, ev_queue, ev_id, ev_time, ev_txid, ev_owner,
                                   ev_retry, ev_type, ev_data,
                                   ev_extra1, ev_extra2, ev_extra3, ev_extra4)
    select now() + make_interval(secs => retry_seconds), b.queue_id, e.ev_id, e.ev_time, null,
           b.sub_id, coalesce(e.ev_retry, 0) + 1, e.ev_type, e.ev_data,
           e.ev_extra1, e.ev_extra2, e.ev_extra3, e.ev_extra4
      from pgque.get_batch_events(batch_id) e
    on conflict do nothing;
    get diagnostics v_cnt = row_count;
    perform pgque._note_retries();
    return v_cnt;
end
$$;

-- Negative acknowledgement of one message of an open batch: retry it after
-- retry_after, or, once it has been retried max_retries times, move it to
-- the dead-letter table with the reason. Only msg.msg_id is trusted; the
-- event is re-read from the batch. Does not finish the batch.
create function pgque.nack(batch_id bigint, msg pgque.message,
                           retry_after interval default '60 seconds', reason text default null)
returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    b   record;
    ev  record;
begin
    if msg is null or msg.msg_id is null then
        raise exception 'msg must be a message with a msg_id' using errcode = 'invalid_parameter_value';
    end if;
    if retry_after is null or retry_after < interval '0' then
        raise exception 'retry_after must be a non-negative interval, got %',
                        coalesce(retry_after::text, 'null')
            using errcode = 'invalid_parameter_value';
    end if;
    b := pgque._open_batch(batch_id);
    select * into ev from pgque._batch_event(batch_id, msg.msg_id);
    if not found then
        raise exception 'message % is not in batch %', msg.msg_id, batch_id
            using errcode = 'undefined_object', schema = 'pgque', table = 'event';
    end if;

    if coalesce(ev.ev_retry, 0) >= b.max_retries then
        insert into pgque.dead_letter (dl_queue_id, dl_consumer_id, dl_reason,
                                       ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data,
                                       ev_extra1, ev_extra2, ev_extra3, ev_extra4)
        values (b.queue_id, b.consumer_id, coalesce(reason, 'max retries exceeded'),
                ev.ev_id, ev.ev_time, ev.ev_txid, ev.ev_retry, ev.ev_type, ev.ev_data,
                ev.ev_extra1, ev.ev_extra2, ev.ev_extra3, ev.ev_extra4)
        on conflict do nothing;
    else
        insert into pgque.retry_queue (ev_retry_after, ev_queue, ev_id, ev_time, ev_txid, ev_owner,
                                       ev_retry, ev_type, ev_data,
                                       ev_extra1, ev_extra2, ev_extra3, ev_extra4)
        values (now() + retry_after, b.queue_id, ev.ev_id, ev.ev_time, null, b.sub_id,
                coalesce(ev.ev_retry, 0) + 1, ev.ev_type, ev.ev_data,
                ev.ev_extra1, ev.ev_extra2, ev.ev_extra3, ev.ev_extra4)
        on conflict do nothing;
        perform pgque._note_retries();
    end if;
    return 1;
end
$$;

-- Move every due retry back into its queue. Returns how many moved.
-- Concurrent callers do not duplicate: each row is deleted exactly once.
create function pgque.maint_retry_events() returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_cnt integer;
begin
    with due as (
        delete from pgque.retry_queue
         where ev_retry_after <= clock_timestamp()
        returning *
    )
    select count(pgque._insert_event_raw(ev_queue, ev_id, ev_time, ev_owner, ev_retry,
                                         ev_type, ev_data,
                                         ev_extra1, ev_extra2, ev_extra3, ev_extra4))
      into v_cnt
      from due;
    return v_cnt;
end
$$;
-- Dead letters: events a subscriber gave up on. Replay hands an event back
-- to that subscriber only (ev_owner), with its original id and a fresh
-- retry count, so other subscribers do not see it twice.

create function pgque.dlq_inspect(queue text, limit_count int default 100)
returns setof pgque.dead_letter
    language plpgsql stable security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_queue int4 := pgque._queue_id(queue);
begin
    if limit_count is null or limit_count < 0 then
        raise exception 'limit_count must be a non-negative number, got %',
                        coalesce(limit_count::text, 'null')
            using errcode = 'invalid_parameter_value';
    end if;
    return query
        select dl.* from pgque.dead_letter dl
         where dl.dl_queue_id = v_queue
         order by dl.dl_time desc, dl.dl_id desc
         limit limit_count;
end
$$;

create function pgque.dlq_replay(dead_letter_id bigint) returns bigint
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    dl      record;
    v_sub   int4;
    v_ev    bigint;
begin
    if dead_letter_id is null then
        raise exception 'dead_letter_id must not be null' using errcode = 'invalid_parameter_value';
    end if;
    select d.* into dl from pgque.dead_letter d where d.dl_id = dead_letter_id for update;
    if not found then
        raise exception 'dead letter % does not exist', dead_letter_id
            using errcode = 'undefined_object', schema = 'pgque', table = 'dead_letter';
    end if;
    select s.sub_id into v_sub from pgque.subscriber s
     where s.sub_queue = dl.dl_queue_id and s.sub_consumer = dl.dl_consumer_id;
    if not found then
        raise exception 'consumer "%" of dead letter % is not subscribed to queue "%"',
                        (select co_name from pgque.consumer where co_id = dl.dl_consumer_id),
                        dead_letter_id,
                        (select queue_name from pgque.queue where queue_id = dl.dl_queue_id)
            using errcode = 'object_not_in_prerequisite_state', schema = 'pgque', table = 'consumer',
                  hint = 'Subscribe the consumer again, or remove the entry with pgque.dlq_purge().';
    end if;
    v_ev := pgque._insert_event_raw(dl.dl_queue_id, dl.ev_id, dl.ev_time, v_sub, null,
                                    dl.ev_type, dl.ev_data,
                                    dl.ev_extra1, dl.ev_extra2, dl.ev_extra3, dl.ev_extra4);
    delete from pgque.dead_letter d where d.dl_id = dead_letter_id;
    return v_ev;
end
$$;

create function pgque.dlq_replay_all(queue text,
    out replayed bigint, out failed bigint, out first_error text)
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_queue int4 := pgque._queue_id(queue);
    v_id    bigint;
begin
    replayed := 0;
    failed := 0;
    for v_id in select dl.dl_id from pgque.dead_letter dl
                 where dl.dl_queue_id = v_queue order by dl.dl_id
    loop
        begin
            perform pgque.dlq_replay(v_id);
            replayed := replayed + 1;
        exception when others then
            failed := failed + 1;
            if first_error is null then
                first_error := format('dead letter %s: %s', v_id, sqlerrm);
            end if;
        end;
    end loop;
end
$$;

create function pgque.dlq_purge(queue text, older_than interval default '30 days')
returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_queue int4 := pgque._queue_id(queue);
    v_cnt   integer;
begin
    if older_than is null or older_than < interval '0' then
        raise exception 'older_than must be a non-negative interval, got %',
                        coalesce(older_than::text, 'null')
            using errcode = 'invalid_parameter_value';
    end if;
    delete from pgque.dead_letter dl
     where dl.dl_queue_id = v_queue and dl.dl_time <= now() - older_than;
    get diagnostics v_cnt = row_count;
    return v_cnt;
end
$$;
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
create function pgque.maint_rotate_tables_step1(queue text) returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    q           record;
    v_lowest    xid8;
    v_next      int;
    v_tbl       text;
begin
    perform pgque._queue_id(queue);
    select * into q from pgque.queue where queue_name = maint_rotate_tables_step1.queue for update;

    if q.queue_switch_step2 is null                  -- step 2 of the last switch pending
       or q.queue_switch_time + q.queue_rotation_period > now() then
        return 0;
    end if;

    -- The oldest table holds only events of transactions below the last
    -- switch's step 2 xid. A cursor whose tick xmin is above it has read
    -- all of them (they finished before that tick).
    select min(pg_snapshot_xmin(t.tick_snapshot)) into v_lowest
      from pgque.subscription s
      join pgque.tick t on t.tick_queue = s.sub_queue and t.tick_id = s.sub_last_tick
     where s.sub_queue = q.queue_id;
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
create function pgque.maint_rotate_tables_step2() returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_cnt integer;
begin
    update pgque.queue
       set queue_switch_step2 = pgque._next_xid()
     where queue_switch_step2 is null
       and queue_switch_step1 is distinct from pg_current_xact_id_if_assigned()
       and pg_visible_in_snapshot(queue_switch_step1, pg_current_snapshot())
       -- no producer may still take the old table from the shared cache
       and pgque._cache_current(queue_id, queue_cur_table);
    get diagnostics v_cnt = row_count;
    return v_cnt;
end
$$;

-- Housekeeping in one call: finish earlier rotations (step 2), rotate the
-- queues that are due (step 1), and trim consumer history. A rotation
-- started here is completed by the next call. Returns the number of
-- rotation steps taken.
create function pgque.maint() returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_cnt   integer;
    q       record;
begin
    v_cnt := pgque.maint_rotate_tables_step2();
    for q in select queue_name from pgque.queue order by queue_name loop
        v_cnt := v_cnt + pgque.maint_rotate_tables_step1(q.queue_name);
    end loop;

    -- closed batches are history once a newer row of the subscriber exists
    delete from pgque.batch b
     where b.batch_state <> 'o'
       and b.batch_closed < now() - interval '10 minutes'
       and exists (select from pgque.batch n
                    where n.batch_sub = b.batch_sub and n.batch_id > b.batch_id);
    return v_cnt;
end
$$;
-- Observability. Column names follow PgQ/PgQue so existing dashboards work.

create function pgque.get_queue_info(queue text,
    out queue_name text, out queue_ntables integer, out queue_cur_table integer,
    out queue_rotation_period interval, out queue_switch_time timestamptz,
    out queue_external_ticker boolean, out queue_ticker_paused boolean,
    out queue_ticker_max_count integer, out queue_ticker_max_lag interval,
    out queue_ticker_idle_period interval, out ticker_lag interval,
    out ev_per_sec float8, out ev_new bigint, out last_tick_id bigint,
    out last_tick_time timestamptz, out ticker text, out rotation_blocked_by text)
returns setof record
    language plpgsql stable security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
begin
    if queue is not null then
        perform pgque._queue_id(queue);
    end if;
    return query
    select q.queue_name, q.queue_ntables, q.queue_cur_table, q.queue_rotation_period,
           q.queue_switch_time, q.queue_external_ticker, q.queue_ticker_paused,
           q.queue_ticker_max_count, q.queue_ticker_max_lag, q.queue_ticker_idle_period,
           now() - top.tick_time,
           case when top.tick_time > old.tick_time
                then (top.tick_event_seq - old.tick_event_seq)
                     / extract(epoch from top.tick_time - old.tick_time)::float8 end,
           greatest(coalesce(pg_sequence_last_value(format('pgque.%I', 'event_' || q.queue_id || '_id_seq')::regclass), 0)
                    - top.tick_event_seq, 0),
           top.tick_id,
           top.tick_time,
           case when q.queue_ticker_paused then 'paused'
                when q.queue_external_ticker then 'external'
                when w.state = 'running' then 'worker'
                else 'manual' end,
           pgque._rotation_blocker(q.queue_id)
      from pgque.queue q
      cross join pgque._worker_status() w
      left join lateral (select t.tick_id, t.tick_time, t.tick_event_seq from pgque.tick t
                          where t.tick_queue = q.queue_id
                          order by t.tick_id desc limit 1) top on true
      left join lateral (select t.tick_time, t.tick_event_seq from pgque.tick t
                          where t.tick_queue = q.queue_id and t.tick_id >= top.tick_id - 20
                          order by t.tick_id limit 1) old on true
     where get_queue_info.queue is null or q.queue_name = get_queue_info.queue
     order by q.queue_name;
end
$$;

create function pgque.get_queue_info(
    out queue_name text, out queue_ntables integer, out queue_cur_table integer,
    out queue_rotation_period interval, out queue_switch_time timestamptz,
    out queue_external_ticker boolean, out queue_ticker_paused boolean,
    out queue_ticker_max_count integer, out queue_ticker_max_lag interval,
    out queue_ticker_idle_period interval, out ticker_lag interval,
    out ev_per_sec float8, out ev_new bigint, out last_tick_id bigint,
    out last_tick_time timestamptz, out ticker text, out rotation_blocked_by text)
returns setof record
    language sql stable security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$ select * from pgque.get_queue_info(null::text) $$;

create function pgque.get_consumer_info(queue text, consumer text,
    out queue_name text, out consumer_name text, out lag interval, out last_seen interval,
    out last_tick bigint, out current_batch bigint, out next_tick bigint,
    out pending_events bigint)
returns setof record
    language plpgsql stable security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
begin
    if queue is not null then
        perform pgque._queue_id(queue);
    end if;
    if consumer is not null then
        perform pgque._check_consumer_name(consumer);
        if not exists (select from pgque.subscriber s
                         join pgque.consumer c on c.co_id = s.sub_consumer
                         join pgque.queue q on q.queue_id = s.sub_queue
                        where c.co_name = consumer
                          and (get_consumer_info.queue is null or q.queue_name = get_consumer_info.queue)) then
            if queue is null then
                raise exception 'consumer "%" is not subscribed to any queue', consumer
                    using errcode = 'undefined_object', schema = 'pgque', table = 'consumer';
            end if;
            raise exception 'consumer "%" is not subscribed to queue "%"', consumer, queue
                using errcode = 'undefined_object', schema = 'pgque', table = 'consumer';
        end if;
    end if;
    return query
    select q.queue_name, c.co_name,
           now() - t.tick_time,
           now() - s.sub_active,
           s.sub_last_tick, s.sub_batch, s.sub_next_tick,
           greatest(top.tick_event_seq - t.tick_event_seq, 0)
      from pgque.subscription s
      join pgque.queue q on q.queue_id = s.sub_queue
      join pgque.consumer c on c.co_id = s.sub_consumer
      left join pgque.tick t on t.tick_queue = s.sub_queue and t.tick_id = s.sub_last_tick
      left join lateral (select tt.tick_event_seq from pgque.tick tt
                          where tt.tick_queue = q.queue_id
                          order by tt.tick_id desc limit 1) top on true
     where (get_consumer_info.queue is null or q.queue_name = get_consumer_info.queue)
       and (get_consumer_info.consumer is null or c.co_name = get_consumer_info.consumer)
     order by q.queue_name, c.co_name;
end
$$;

create function pgque.get_consumer_info(queue text,
    out queue_name text, out consumer_name text, out lag interval, out last_seen interval,
    out last_tick bigint, out current_batch bigint, out next_tick bigint,
    out pending_events bigint)
returns setof record
    language sql stable security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$ select * from pgque.get_consumer_info(queue, null::text) $$;

create function pgque.get_consumer_info(
    out queue_name text, out consumer_name text, out lag interval, out last_seen interval,
    out last_tick bigint, out current_batch bigint, out next_tick bigint,
    out pending_events bigint)
returns setof record
    language sql stable security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$ select * from pgque.get_consumer_info(null::text, null::text) $$;

create function pgque.get_batch_info(batch_id bigint,
    out queue_name text, out consumer_name text, out batch_start timestamptz,
    out batch_end timestamptz, out prev_tick_id bigint, out tick_id bigint,
    out lag interval, out seq_start bigint, out seq_end bigint)
    language plpgsql stable security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
begin
    if batch_id is null then
        raise exception 'batch id must not be null' using errcode = 'invalid_parameter_value';
    end if;
    select q.queue_name, c.co_name, prev.tick_time, cur.tick_time,
           b.batch_prev_tick, b.batch_next_tick, now() - cur.tick_time,
           prev.tick_event_seq, cur.tick_event_seq
      into queue_name, consumer_name, batch_start, batch_end,
           prev_tick_id, tick_id, lag, seq_start, seq_end
      from pgque.batch b
      join pgque.subscriber s on s.sub_id = b.batch_sub
      join pgque.queue q on q.queue_id = s.sub_queue
      join pgque.consumer c on c.co_id = s.sub_consumer
      left join pgque.tick prev on prev.tick_queue = s.sub_queue and prev.tick_id = b.batch_prev_tick
      left join pgque.tick cur on cur.tick_queue = s.sub_queue and cur.tick_id = b.batch_next_tick
     where b.batch_id = get_batch_info.batch_id and b.batch_prev_tick is not null;
    if not found then
        raise exception 'batch % does not exist', batch_id
            using errcode = 'undefined_object', schema = 'pgque', table = 'batch';
    end if;
end
$$;

create function pgque.version() returns text
    language sql stable security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$ select extversion from pg_catalog.pg_extension where extname = 'pgque' $$;
-- The background worker (src/worker.c, src/launcher.c): start, stop, state.

create function pgque._start() returns text
    language c volatile as 'MODULE_PATHNAME', 'pgque_start';
create function pgque._stop() returns text
    language c volatile as 'MODULE_PATHNAME', 'pgque_stop';
create function pgque._worker_status(
    out mode text, out state text, out pid int4, out started_at timestamptz,
    out last_tick timestamptz, out last_pass timestamptz, out ticks int8,
    out last_error text, out last_error_at timestamptz, out launcher_pid int4)
    language c volatile as 'MODULE_PATHNAME', 'pgque_worker_status';
-- wake the launcher / the worker when the calling transaction commits
create function pgque._note_launcher() returns void
    language c volatile as 'MODULE_PATHNAME', 'pgque_note_launcher_sql';
create function pgque._note_retries() returns void
    language c volatile as 'MODULE_PATHNAME', 'pgque_note_retries_sql';
create function pgque._wake_ticker(queue_id int4) returns void
    language c volatile as 'MODULE_PATHNAME', 'pgque_wake_ticker';

-- Start the worker for this database. With pgque in shared_preload_libraries
-- the launcher starts it when this transaction commits, and it survives
-- restarts; otherwise a worker starts right away and lasts until the next
-- server restart.
create function pgque.start() returns text
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
create function pgque.stop() returns text
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
create function pgque._rotation_blocker(queue_id int4) returns text
    language plpgsql stable
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    q       record;
    c       record;
    t       record;
begin
    select * into q from pgque.queue where queue.queue_id = _rotation_blocker.queue_id;
    if not found or q.queue_switch_time + q.queue_rotation_period > now() then
        return null;
    end if;
    if q.queue_switch_step2 is null then
        return 'rotation step 2 is pending';
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
        return null;
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
-- status(): one row per component, meant for humans and health checks.

create function pgque.status() returns table (component text, status text, detail text)
    language plpgsql stable security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    w record;
begin
    select * into w from pgque._worker_status();

    return query select 'pgque'::text, 'ok'::text, 'version ' || pgque.version();
    return query select 'postgresql'::text,
        case when pg_is_in_recovery() then 'standby' else 'ok' end,
        current_setting('server_version')
            || case when pg_is_in_recovery() then ' (in recovery: ticks are taken on the primary)' else '' end;

    if w.mode = 'launcher' then
        return query select 'launcher'::text,
            case when w.launcher_pid is null then 'not running' else 'running' end,
            coalesce('pid ' || w.launcher_pid,
                     'not running: pgque.enabled is off, the server is in recovery, or it failed (see the server log)');
    end if;

    return query select 'worker'::text,
        case when w.state = 'running' then 'running'
             when w.mode = 'manual' then 'manual'
             else 'stopped' end,
        concat_ws('; ',
            case w.mode
                when 'launcher' then 'mode: launcher (pgque is in shared_preload_libraries)'
                when 'dynamic' then 'mode: dynamic, started by pgque.start(); it does not survive a server restart unless pgque is in shared_preload_libraries'
                else 'no worker: ticking is manual. Run pgque.start(), or add pgque to shared_preload_libraries; until then call pgque.ticker() and pgque.maint_retry_events() every few milliseconds to seconds and pgque.maint() every minute'
            end,
            case when w.mode = 'launcher' and w.state <> 'running' then w.state end,
            'pid ' || w.pid,
            'last tick ' || date_trunc('millisecond', now() - w.last_tick) || ' ago',
            case when w.ticks > 0 then w.ticks || ' ticks' end,
            'last error ' || date_trunc('second', now() - w.last_error_at) || ' ago: ' || w.last_error);

    return query
        select 'queue ' || q.queue_name,
               case when q.queue_ticker_paused then 'paused'
                    when top.tick_time is null then 'no ticks'
                    when now() - top.tick_time > greatest(q.queue_ticker_idle_period * 2, interval '10 seconds')
                         and not q.queue_external_ticker then 'stale'
                    when pgque._rotation_blocker(q.queue_id) is not null then 'rotation blocked'
                    else 'ok' end,
               concat_ws(', ',
                   format('last tick %s ago', coalesce(date_trunc('second', now() - top.tick_time)::text, 'never')),
                   format('%s subscriber(s)', (select count(*) from pgque.subscriber s where s.sub_queue = q.queue_id)),
                   format('%s pending retries', (select count(*) from pgque.retry_queue r where r.ev_queue = q.queue_id)),
                   format('%s dead letters', (select count(*) from pgque.dead_letter d where d.dl_queue_id = q.queue_id)),
                   'rotation blocked by ' || pgque._rotation_blocker(q.queue_id))
          from pgque.queue q
          left join lateral (select t.tick_time from pgque.tick t where t.tick_queue = q.queue_id
                              order by t.tick_id desc limit 1) top on true
         order by q.queue_name;
end
$$;
-- Privileges. Nothing is executable by PUBLIC; every function is granted to
-- the role whose job it is. pgque_admin inherits reader and writer.

revoke all on all functions in schema pgque from public;
revoke all on all tables in schema pgque from public;
revoke all on all sequences in schema pgque from public;

-- consume + observe
grant execute on function
    pgque.subscribe(text, text),
    pgque.unsubscribe(text, text),
    pgque.register_consumer(text, text),
    pgque.register_consumer_at(text, text, bigint),
    pgque.unregister_consumer(text, text),
    pgque.receive(text, text, int),
    pgque.ack(bigint),
    pgque.nack(bigint, pgque.message, interval, text),
    pgque.next_batch(text, text),
    pgque.next_batch_info(text, text),
    pgque.next_batch_custom(text, text, interval, int4, interval),
    pgque.get_batch_events(bigint),
    pgque.finish_batch(bigint),
    pgque.event_retry(bigint, bigint, timestamptz),
    pgque.event_retry(bigint, bigint, integer),
    pgque.batch_retry(bigint, integer),
    pgque.get_queue_info(),
    pgque.get_queue_info(text),
    pgque.get_consumer_info(),
    pgque.get_consumer_info(text),
    pgque.get_consumer_info(text, text),
    pgque.get_batch_info(bigint),
    pgque.dlq_inspect(text, int),
    pgque.status(),
    pgque.version()
to pgque_reader;

grant select on pgque.queue, pgque.consumer, pgque.subscriber, pgque.subscription,
                pgque.tick, pgque.batch, pgque.retry_queue, pgque.dead_letter, pgque.config
to pgque_reader;

-- produce + replay
grant execute on function
    pgque.send(text, text),
    pgque.send(text, jsonb),
    pgque.send(text, text, text),
    pgque.send(text, text, jsonb),
    pgque.send_batch(text, text[]),
    pgque.send_batch(text, jsonb[]),
    pgque.send_batch(text, text, text[]),
    pgque.send_batch(text, text, jsonb[]),
    pgque.insert_event(text, text, text),
    pgque.insert_event(text, text, text, text, text, text, text),
    pgque.dlq_replay(bigint),
    pgque.dlq_replay_all(text),
    pgque.version()
to pgque_writer;

-- administration
grant execute on function
    pgque.create_queue(text),
    pgque.drop_queue(text, boolean),
    pgque.set_queue_config(text, text, text),
    pgque.ticker(),
    pgque.ticker(text),
    pgque.force_tick(text),
    pgque.force_next_tick(text),
    pgque.maint(),
    pgque.maint_retry_events(),
    pgque.maint_rotate_tables_step1(text),
    pgque.maint_rotate_tables_step2(),
    pgque.dlq_purge(text, interval),
    pgque.start(),
    pgque.stop()
to pgque_admin;

-- a database that installs pgque gets a worker (when the launcher runs)
select pgque._note_launcher();
