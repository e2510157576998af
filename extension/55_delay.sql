-- Delayed delivery: send_at(), send_batch_at() and a queue's
-- delivery_delay put an event into a delay bucket (pgque.delay_bucket,
-- 02_schema.sql) with the id consumers will see; maint_retry_events() --
-- the worker calls it when something is due -- moves it into its queue.
--
-- A bucket holds the events due in one span of time. Spans are aligned and
-- wider the further away they are when the first event arrives: a minute
-- for the next hour, an hour for the next two days, a day for the next 60
-- days, 30 days beyond. Nothing is deleted row by row: a move marks rows
-- with the bucket's watermark, and a bucket whose span is over and whose
-- rows have all moved is TRUNCATEd and kept for the next span. So waiting
-- events leave no dead tuples, and storage holds at most about one span of
-- events past their time.
--
-- Which rows have moved: the watermark is (db_moved_until, db_moved_snap),
-- the time and the snapshot of the last move. A row moved iff it was due
-- at that time and its transaction is visible in that snapshot. A move
-- therefore takes the rows due since the watermark, plus the rows due
-- before it whose transaction committed after it (a producer that took
-- longer than the delay, found through the ev_txid index: xid >= the
-- snapshot's xmin). Moves of one bucket are serialized by its row lock,
-- so each row is moved exactly once, in the transaction that advances the
-- watermark. test/isolation/specs/delay_*.spec.
--
-- Freeing a bucket takes its row FOR UPDATE NOWAIT (producers hold FOR KEY
-- SHARE until they commit) and its table ACCESS EXCLUSIVE NOWAIT, moves
-- what is left, and truncates; when a producer is still inside, the next
-- call tries again.

-- The span [from, until) a delivery time at the given distance goes to.
create or replace function pgque._delay_span(deliver_at timestamptz, now_ timestamptz,
                                             out span_from timestamptz, out span_until timestamptz)
    language plpgsql immutable
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_ahead float8 := extract(epoch from deliver_at - now_);
    v_width float8;
    v_at    float8 := extract(epoch from deliver_at);
begin
    v_width := case when v_ahead < 3600 then 60
                    when v_ahead < 2 * 86400 then 3600
                    when v_ahead < 60 * 86400 then 86400
                    else 30 * 86400 end;
    span_from := to_timestamp(floor(v_at / v_width) * v_width);
    span_until := span_from + make_interval(secs => v_width);
end
$$;

-- The bucket table for a delivery time, its row locked FOR KEY SHARE until
-- the caller's transaction ends (so it is not freed under the caller). A
-- span without a bucket gets a free table, or a new one; a producer that
-- opens one does not make others wait for its commit (they open their own).
create or replace function pgque._delay_bucket(deliver_at timestamptz) returns text
    language plpgsql volatile
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    sp      record;
    v_table int4;
begin
    sp := pgque._delay_span(deliver_at, clock_timestamp());
    select b.db_table into v_table from pgque.delay_bucket b
     where b.db_from = sp.span_from and b.db_until = sp.span_until
     order by b.db_table limit 1
       for key share;
    if not found then
        update pgque.delay_bucket b
           set db_from = sp.span_from, db_until = sp.span_until,
               db_moved_until = null, db_moved_snap = null
         where b.db_table = (select f.db_table from pgque.delay_bucket f
                              where f.db_from is null
                              order by f.db_table limit 1
                                for update skip locked)
        returning b.db_table into v_table;
    end if;
    if v_table is null then
        v_table := nextval('pgque.delay_bucket_seq');
        execute format('create table pgque.%I (like pgque.delay_template)'
                       ' with (fillfactor = 100, autovacuum_enabled = false,'
                       ' toast.autovacuum_enabled = false)', 'delay_' || v_table);
        execute format('create index on pgque.%I (ev_deliver_at)', 'delay_' || v_table);
        execute format('create index on pgque.%I (ev_txid)', 'delay_' || v_table);
        insert into pgque.delay_bucket (db_table, db_from, db_until)
        values (v_table, sp.span_from, sp.span_until);
    end if;
    return format('pgque.%I', 'delay_' || v_table);
end
$$;

-- send_at / send_batch_at for all payload forms: a time that has passed
-- sends now; otherwise the events go into the delay bucket of deliver_at,
-- with ids from the queue's sequence. label and attributes (send_at with a
-- type only: on the untyped form a fourth argument would make calls with
-- four literals ambiguous) go into ev_extra1 and ev_extra2, as send() puts
-- them.
create or replace function pgque._send_at(queue text, ev_type text, payloads text[],
                                          deliver_at timestamptz,
                                          label text default null, attributes jsonb default null)
returns bigint[]
    language plpgsql volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    p   record;
begin
    if ev_type is null then
        raise exception 'type_name must not be null' using errcode = 'invalid_parameter_value';
    end if;
    if payloads is null then
        raise exception 'payloads must not be null' using errcode = 'null_value_not_allowed',
            hint = 'Pass an empty array to send nothing.';
    end if;
    if deliver_at is null then
        raise exception 'deliver_at must not be null' using errcode = 'invalid_parameter_value',
            hint = 'Use pgque.send() to send now.';
    end if;
    if deliver_at = 'infinity' or deliver_at = '-infinity' then
        raise exception 'deliver_at must be a finite time, got %', deliver_at
            using errcode = 'invalid_parameter_value';
    end if;
    perform pgque._check_label(label, attributes);
    if deliver_at <= clock_timestamp() then
        -- due already: an ordinary send (which does not add delivery_delay)
        return array(select pgque.insert_event(queue, ev_type, d, label, attributes::text, null, null)
                       from unnest(payloads) d);
    end if;
    -- send's checks, in C (src/send.c)
    p := pgque._produce_ids(queue, cardinality(payloads));
    if cardinality(payloads) > 0 then
        execute format('insert into %s (ev_queue, ev_deliver_at, ev_id, ev_time, ev_txid, ev_type, ev_data,'
                       '                ev_extra1, ev_extra2)'
                       ' select $1, $2, i.id, now(), pg_current_xact_id(), $3, i.data, $6, $7'
                       '   from unnest($4, $5) as i(id, data)', pgque._delay_bucket(deliver_at))
            using p.queue_id, deliver_at, ev_type, p.ev_ids, payloads, label, attributes::text;
        perform pgque._note_retries();
    end if;
    return p.ev_ids;
end
$$;

create or replace function pgque.send_at(i_queue text, i_type text, i_payload text, i_deliver_at timestamptz,
    i_label text default null, i_attributes jsonb default null)
returns bigint
    language sql volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$ select (pgque._send_at(i_queue, i_type, array[i_payload], i_deliver_at, i_label, i_attributes))[1] $$;

create or replace function pgque.send_at(i_queue text, i_type text, i_payload jsonb, i_deliver_at timestamptz,
    i_label text default null, i_attributes jsonb default null)
returns bigint
    language sql volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$ select (pgque._send_at(i_queue, i_type, array[i_payload::text], i_deliver_at, i_label, i_attributes))[1] $$;

create or replace function pgque.send_at(i_queue text, i_payload text, i_deliver_at timestamptz)
returns bigint
    language sql volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$ select (pgque._send_at(i_queue, 'default', array[i_payload], i_deliver_at))[1] $$;

create or replace function pgque.send_at(i_queue text, i_payload jsonb, i_deliver_at timestamptz)
returns bigint
    language sql volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$ select (pgque._send_at(i_queue, 'default', array[i_payload::text], i_deliver_at))[1] $$;

create or replace function pgque.send_batch_at(i_queue text, i_type text, i_payloads text[],
                                               i_deliver_at timestamptz)
returns bigint[]
    language sql volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$ select pgque._send_at(i_queue, i_type, i_payloads, i_deliver_at) $$;

create or replace function pgque.send_batch_at(i_queue text, i_type text, i_payloads jsonb[],
                                               i_deliver_at timestamptz)
returns bigint[]
    language sql volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$ select pgque._send_at(i_queue, i_type, i_payloads::text[], i_deliver_at) $$;

create or replace function pgque.send_batch_at(i_queue text, i_payloads text[], i_deliver_at timestamptz)
returns bigint[]
    language sql volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$ select pgque._send_at(i_queue, 'default', i_payloads, i_deliver_at) $$;

create or replace function pgque.send_batch_at(i_queue text, i_payloads jsonb[], i_deliver_at timestamptz)
returns bigint[]
    language sql volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$ select pgque._send_at(i_queue, 'default', i_payloads::text[], i_deliver_at) $$;

-- Move what is due in one bucket into its queues (see the top of this
-- file). Returns how many events entered a queue. A bucket another caller
-- is moving is skipped.
create or replace function pgque._delay_move(bucket int4) returns integer
    language plpgsql volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    b       record;
    v_now   timestamptz := clock_timestamp();
    v_free  boolean;
    v_tbl   text := format('pgque.%I', 'delay_' || bucket);
    v_due   bigint;
    v_moved bigint;
    v_snap  pg_snapshot;
begin
    select * into b from pgque.delay_bucket where db_table = bucket and db_from is not null
       for no key update skip locked;
    if not found then
        return 0;
    end if;
    v_free := b.db_until <= v_now;
    if v_free then
        begin
            perform from pgque.delay_bucket where db_table = bucket for update nowait;
            execute 'lock table ' || v_tbl || ' in access exclusive mode nowait';
        exception when lock_not_available then
            v_free := false;
        end;
    end if;

    execute format($move$
        with due as (
            select d.* from %s d
             where (d.ev_deliver_at <= $4 and d.ev_deliver_at > coalesce($2, '-infinity'))
                or (d.ev_deliver_at <= $2 and d.ev_txid >= pg_snapshot_xmin($3)
                    and not pg_visible_in_snapshot(d.ev_txid, $3))
        ), moved as (
            -- per queue, with one writer, in id order (one sort)
            select pgque._insert_events_raw(d.ev_queue, array_agg(d.ev_id), array_agg(d.ev_time),
                       array_agg(d.ev_type), array_agg(d.ev_data), array_agg(d.ev_extra1),
                       array_agg(d.ev_extra2), array_agg(d.ev_extra3), array_agg(d.ev_extra4)) as n
              from (select * from due order by due.ev_id) d
             group by d.ev_queue
             -- events of a dropped queue go nowhere; a drop in progress
             -- is waited for (it holds the queue's row FOR UPDATE)
            having exists (select from pgque.queue q where q.queue_id = d.ev_queue for key share)
        )
        select (select count(*) from due), coalesce((select sum(moved.n) from moved), 0),
               pg_current_snapshot()
        $move$, v_tbl)
        -- freeing: everything not moved yet goes (all of it is due by then)
        using v_now, b.db_moved_until, b.db_moved_snap,
              case when v_free then 'infinity'::timestamptz else v_now end
        into v_due, v_moved, v_snap;

    if v_free then
        execute 'truncate ' || v_tbl;
        update pgque.delay_bucket
           set db_from = null, db_until = null, db_moved_until = null, db_moved_snap = null
         where db_table = bucket;
    elsif v_due > 0 then
        update pgque.delay_bucket set db_moved_until = v_now, db_moved_snap = v_snap
         where db_table = bucket;
    end if;
    return v_moved;
end
$$;

-- Move every due delayed event into its queue. Returns how many moved.
create or replace function pgque._delay_move_all() returns integer
    language plpgsql volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    b       record;
    v_cnt   integer := 0;
begin
    for b in select db_table from pgque.delay_bucket
              where db_from is not null and db_from <= clock_timestamp()
              order by db_from, db_table
    loop
        v_cnt := v_cnt + pgque._delay_move(b.db_table);
    end loop;
    return v_cnt;
end
$$;

-- When the next delayed event is due, or NULL: a time in the past when a
-- producer committed one after its time, or a bucket's span is over.
create or replace function pgque._delay_next_due() returns timestamptz
    language plpgsql volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    b       record;
    v_next  timestamptz;
    v_at    timestamptz;
begin
    for b in select * from pgque.delay_bucket where db_from is not null order by db_from loop
        if b.db_until <= clock_timestamp() then
            -- its span is over: free it (the move takes what is left)
            return b.db_until;
        end if;
        -- two index range scans, each from where the watermark stands (a
        -- min() over both would walk the rows that have moved); any late
        -- row is due already
        execute format('select least((select min(d.ev_deliver_at) from %1$I.%2$I d'
                       '               where d.ev_deliver_at > coalesce($1, ''-infinity'')),'
                       '              (select d.ev_deliver_at from %1$I.%2$I d'
                       '               where d.ev_txid >= pg_snapshot_xmin($2) and d.ev_deliver_at <= $1'
                       '                 and not pg_visible_in_snapshot(d.ev_txid, $2)'
                       '               order by d.ev_txid limit 1))',
                       'pgque', 'delay_' || b.db_table)
            using b.db_moved_until, b.db_moved_snap into v_at;
        v_next := least(v_next, v_at);
    end loop;
    return v_next;
end
$$;

-- Delayed events not yet moved, per queue and bucket (callers sum them up).
create or replace function pgque._delay_pending(out queue_id int4, out delayed bigint,
                                                out next_delivery timestamptz)
returns setof record
    language plpgsql stable security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    b record;
begin
    for b in select * from pgque.delay_bucket where db_from is not null loop
        return query execute format(
            'select d.ev_queue, count(*), min(d.ev_deliver_at) from %I.%I d'
            ' where d.ev_deliver_at > coalesce($1, ''-infinity'')'
            '    or not pg_visible_in_snapshot(d.ev_txid, $2)'
            ' group by d.ev_queue', 'pgque', 'delay_' || b.db_table)
            using b.db_moved_until, b.db_moved_snap;
    end loop;
end
$$;

-- What waits per queue: delayed events not yet moved into it, and retries
-- not yet due (all subscribers).
create or replace function pgque.get_delayed_info(queue text default null,
    out queue_name text, out delayed bigint, out next_delivery timestamptz,
    out retries bigint, out next_retry timestamptz)
returns setof record
    language plpgsql stable security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
begin
    if queue is not null then
        perform pgque._queue_id(queue);
    end if;
    return query
    with d as (select p.queue_id, sum(p.delayed)::bigint as n, min(p.next_delivery) as next
                 from pgque._delay_pending() p group by p.queue_id),
         r as (select rq.ev_queue as queue_id, count(*) as n, min(rq.ev_retry_after) as next
                 from pgque.retry_queue rq group by rq.ev_queue)
    select q.queue_name, coalesce(d.n, 0), d.next, coalesce(r.n, 0), r.next
      from pgque.queue q
      left join d on d.queue_id = q.queue_id
      left join r on r.queue_id = q.queue_id
     where get_delayed_info.queue is null or q.queue_name = get_delayed_info.queue
     order by q.queue_name;
end
$$;
