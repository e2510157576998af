-- Installing into a schema someone else prepared, dropping the extension,
-- and tables a superuser altered (docs/security.md).
\set SHOW_CONTEXT never
\set VERBOSITY default
create role regress_mallory login createdb;
create database regress_pgque_install owner regress_mallory;
\c regress_pgque_install regress_mallory
-- a database owner plants a schema pgque with a nextval(text) that the
-- extension's functions would prefer to pg_catalog.nextval(regclass)
create schema pgque;
create function pgque.nextval(text) returns bigint language sql as 'select 1::bigint';
\c regress_pgque_install postgres
create extension pgque;
select count(*) as installed from pg_extension where extname = 'pgque';
\c regress_pgque_install regress_mallory
drop schema pgque cascade;
\c regress_pgque_install postgres
create extension pgque;
select pgque.stop() is not null as worker_stopped;
-- the schema is the extension's, and its owner is the installer
select n.nspowner::regrole as schema_owner,
       exists (select from pg_depend d
                where d.classid = 'pg_namespace'::regclass and d.objid = n.oid
                  and d.refclassid = 'pg_extension'::regclass and d.deptype = 'e') as schema_is_member
  from pg_namespace n where n.nspname = 'pgque';

-- DROP EXTENSION refuses while queues exist, and CASCADE removes them all
select pgque.create_queue('q_install');
select pgque.send('q_install', 'payload') > 0 as sent;
\set VERBOSITY terse
drop extension pgque;
\set VERBOSITY default
drop extension pgque cascade;
select count(*) as objects_left from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = 'pgque';
select count(*) as schema_left from pg_namespace where nspname = 'pgque';
create extension pgque;
select pgque.stop() is not null as worker_stopped;
select pgque.create_queue('q_install') as created_again;

-- altered tables are refused, not misread
select count(*) as explain_null_rows from pgque._explain(null);
select format('pgque.%I', 'event_' || queue_id || '_' || queue_cur_table) as cur_table
  from pgque.queue where queue_name = 'q_install' \gset
alter table :cur_table alter column ev_data type int using 0;
select pgque.send('q_install', 'payload');
alter table :cur_table alter column ev_data type text;
alter table :cur_table add column extra int;
select pgque.send('q_install', 'payload');
alter table :cur_table drop column extra;
select pgque.send('q_install', 'payload');
alter table pgque.queue alter column queue_max_retries type bigint;
select pgque.send('q_install', 'payload');
alter table pgque.queue alter column queue_max_retries type int;
-- the queue's tables stay refused; the queue can be dropped and made again
select pgque.drop_queue('q_install', true);
select pgque.create_queue('q_install') as created;
select pgque.send('q_install', 'payload') > 0 as sends_again;

\c pgque_regression postgres
drop database regress_pgque_install;
drop role regress_mallory;
