-- Shared setup for the regression suite: the extension and test helpers.
create extension pgque;
-- the background worker would tick behind our back: the tests tick by hand
select pgque.stop() is not null as worker_stopped;
select status from pgque.status() where component = 'worker';
select pgque.version() = (select default_version from pg_available_extensions
                           where name = 'pgque') as version_matches;

-- Run a statement; report 'ok' or its SQLSTATE, message, hint and the kind
-- of pgque object the error is about.
create function try(sql text) returns text language plpgsql as $$
declare
    st text; msg text; hint text; kind text;
begin
    execute sql;
    return 'ok';
exception when others then
    get stacked diagnostics st = returned_sqlstate, msg = message_text,
                            hint = pg_exception_hint, kind = table_name;
    -- batch ids depend on everything that ran before: mask them
    return st || ' ' || regexp_replace(msg, 'batch -?[0-9]+', 'batch N', 'g')
           || coalesce(' [' || nullif(kind, '') || ']', '')
           || coalesce(' hint: ' || nullif(hint, ''), '');
end $$;

-- A digest of all queue state, to show that failed calls change nothing:
-- the metadata tables, every event table's rows and every sequence of the
-- schema (a failed call must not even consume an id).
create function state_digest() returns text language plpgsql as $$
declare
    rec record;
    part text;
    parts text[] := array[]::text[];
begin
    parts := parts || array[
        (select string_agg(format('%s', q), ',' order by queue_id) from pgque.queue q),
        (select string_agg(format('%s', c), ',' order by co_id) from pgque.consumer c),
        (select string_agg(format('%s', s), ',' order by sub_id) from pgque.subscriber s),
        (select string_agg(format('%s', b), ',' order by batch_id) from pgque.batch b),
        (select string_agg(format('%s', t), ',' order by tick_queue, tick_id) from pgque.tick t),
        (select string_agg(format('%s', r), ',' order by ev_owner, ev_id) from pgque.retry_queue r),
        (select string_agg(format('%s', d), ',' order by dl_id) from pgque.dead_letter d),
        (select string_agg(format('%s', g), ',' order by qg_queue, qg_role::text, qg_privilege)
           from pgque.queue_grant g)];
    for rec in select c.oid::regclass as rel, c.relkind from pg_class c
              where c.relnamespace = 'pgque'::regnamespace and c.relkind in ('r', 'S')
                and (c.relkind = 'S' or c.relname ~ '^event_[0-9]+_[0-9]+$')
              order by c.relname loop
        if rec.relkind = 'S' then
            part := rec.rel || '=' || coalesce(pg_sequence_last_value(rec.rel)::text, 'unused');
        else
            execute format('select string_agg(format(''%%s'', e), '','' order by ev_id, ctid) from %s e', rec.rel)
               into part;
            part := rec.rel || ':' || coalesce(part, '');
        end if;
        parts := parts || part;
    end loop;
    return md5(array_to_string(parts, '|', '-'));
end $$;

-- Events waiting in a queue's tables, whatever their state.
create function event_count(queue_name text, table_no int default null)
returns bigint language plpgsql as $$
declare
    n bigint := 0; c bigint; i int;
    id int := (select q.queue_id from pgque.queue q where q.queue_name = event_count.queue_name);
begin
    for i in 0..2 loop
        continue when table_no is not null and i <> table_no;
        execute format('select count(*) from pgque.%I', 'event_' || id || '_' || i) into c;
        n := n + c;
    end loop;
    return n;
end $$;
