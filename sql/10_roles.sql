-- Roles and privileges: nothing for PUBLIC, readers consume, writers
-- produce, admins administer; SECURITY DEFINER functions pin search_path.
\set SHOW_CONTEXT never
select rolname from pg_roles where rolname like 'pgque\_%' order by 1;
select pg_has_role('pgque_admin', 'pgque_reader', 'member') as admin_reads,
       pg_has_role('pgque_admin', 'pgque_writer', 'member') as admin_writes,
       pg_has_role('pgque_writer', 'pgque_reader', 'member') as writer_reads;

-- no function of the extension is executable by PUBLIC
select count(*) as public_executable
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
 where n.nspname = 'pgque'
   and has_function_privilege('public', p.oid, 'execute');
-- every SECURITY DEFINER function pins search_path
select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
 where n.nspname = 'pgque' and p.prosecdef
   and not exists (select from unnest(p.proconfig) c where c like 'search_path=pg_catalog%')
 order by 1;

create role regress_pgque_nobody;
create role regress_pgque_reader in role pgque_reader;
create role regress_pgque_writer in role pgque_writer;
create role regress_pgque_admin in role pgque_admin;
grant usage, create on schema public to regress_pgque_nobody, regress_pgque_reader,
    regress_pgque_writer, regress_pgque_admin;

select pgque.create_queue('q_roles');
select pgque.set_queue_config('q_roles', 'ticker_max_lag', '0');
select pgque.subscribe('q_roles', 'reader');

set role regress_pgque_nobody;
select try($$select pgque.send('q_roles', 'x')$$);
select try($$select * from pgque.receive('q_roles', 'reader')$$);
select try($$select * from pgque.get_queue_info()$$);
select try($$select pgque.version()$$);
select try($$select count(*) from pgque.queue$$);
reset role;

select format('pgque.%I', 'event_' || queue_id || '_0') as event_table
  from pgque.queue where queue_name = 'q_roles' \gset
set role regress_pgque_writer;
select try($$select pgque.send('q_roles', 'from writer')$$);
select try($$select pgque.send_batch('q_roles', array['w1', 'w2'])$$);
select try($$select pgque.insert_event('q_roles', 't', 'd')$$);
select try($$select * from pgque.receive('q_roles', 'reader')$$);
select try($$select pgque.ack(1)$$);
select try($$select pgque.subscribe('q_roles', 'writer')$$);
select try($$select pgque.create_queue('q_writer')$$);
select try($$select pgque.ticker()$$);
-- direct table access is not possible: only the functions write (the queue
-- id in the table's name depends on the tests before: shown as N)
select regexp_replace(try(format('insert into %s (ev_id, ev_time, ev_txid) values (1, now(), pg_current_xact_id())',
                                 :'event_table')), 'event_[0-9]+_', 'event_N_') as try;
select regexp_replace(try(format('select count(*) from %s', :'event_table')), 'event_[0-9]+_', 'event_N_') as try;
select try($$delete from pgque.tick$$);
reset role;

select pgque.ticker('q_roles') is not null;

set role regress_pgque_reader;
select try($$select pgque.send('q_roles', 'x')$$);
select try($$select pgque.dlq_replay(1)$$);
select try($$select pgque.create_queue('q_reader')$$);
select try($$select pgque.drop_queue('q_roles', true)$$);
select try($$select pgque.maint()$$);
select try($$select pgque.set_queue_config('q_roles', 'max_retries', '1')$$);
select try($$select pgque.dlq_purge('q_roles')$$);
select array_agg(payload order by msg_id) from pgque.receive('q_roles', 'reader');
select pgque.ack(batch_id) from pgque.receive('q_roles', 'reader') limit 1;
select pgque.subscribe('q_roles', 'reader2');
select count(*) > 0 as can_observe from pgque.get_consumer_info('q_roles');
select count(*) as monitoring_query from pgque.queue where queue_name = 'q_roles';
select try($$update pgque.queue set queue_max_retries = 0$$);
reset role;

set role regress_pgque_admin;
select pgque.create_queue('q_admin');
select pgque.set_queue_config('q_admin', 'max_retries', '1');
select pgque.ticker('q_admin') is null as nothing_to_tick;
select pgque.maint() >= 0 as maint;
select pgque.send('q_admin', 'admin can write') > 0;
select pgque.drop_queue('q_admin');
reset role;

-- search_path hijacking: an evil schema first on the path changes nothing,
-- because every function resolves names in pg_catalog and pgque only
create schema evil;
grant usage on schema evil to public;
create function evil.now() returns timestamptz language sql as $$ select '2000-01-01'::timestamptz $$;
create table evil.queue (queue_id int, queue_name text);
create function evil.nextval(regclass) returns bigint language sql as $$ select 424242::bigint $$;
create operator evil.= (leftarg = text, rightarg = text, function = texteq);
grant execute on all functions in schema evil to public;
set search_path = evil, public, pg_catalog;
set role regress_pgque_writer;
select pgque.send('q_roles', 'hijack?') <> 424242 as real_sequence;
reset role;
select pgque.subscribe('q_roles', 'hijack') as subscribed_for_real;
select pgque.ticker('q_roles') is not null;
select extract(year from created_at) > 2000 as real_clock, payload
  from pgque.receive('q_roles', 'hijack') where payload = 'hijack?';
select extract(year from s.sub_active) > 2000 as real_clock_in_plpgsql
  from pgque.subscription s join pgque.consumer c on c.co_id = s.sub_consumer
 where c.co_name = 'hijack';
reset search_path;
drop schema evil cascade;

-- nor do the caller's temporary tables, which PostgreSQL searches first
-- for relation names unless pg_temp is named in search_path
set role regress_pgque_writer;
create temp table queue (queue_id int, queue_name text, queue_cur_table int);
insert into queue values (1, 'q_roles', 2);
create temp table tick (tick_queue int, tick_id bigint);
select pgque.send('q_roles', 'temp tables?') > 0 as sent;
reset role;
set role regress_pgque_reader;
create temp table subscriber (sub_id int);
create temp table batch (batch_id bigint);
select count(*) as finished_earlier_batch
  from (select pgque.ack(batch_id) from pgque.receive('q_roles', 'hijack') limit 1) a;
reset role;
select pgque.ticker('q_roles') is not null;
set role regress_pgque_reader;
select payload from pgque.receive('q_roles', 'hijack') where payload = 'temp tables?';
reset role;

-- a queue name cannot inject SQL
select pgque.create_queue($q$x'); drop table pgque.queue; --$q$);
select pgque.send($q$x'); drop table pgque.queue; --$q$, 'still here');
select count(*) > 0 as queue_table_intact from pgque.queue;

drop owned by regress_pgque_nobody, regress_pgque_reader, regress_pgque_writer, regress_pgque_admin;
drop role regress_pgque_nobody, regress_pgque_reader, regress_pgque_writer, regress_pgque_admin;
