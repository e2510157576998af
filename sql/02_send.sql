-- Producing: send, send_batch, insert_event.
\set SHOW_CONTEXT never
select pgque.create_queue('q_send');
select pgque.set_queue_config('q_send', 'ticker_max_lag', '0');
select pgque.subscribe('q_send', 'reader');

-- text and jsonb overloads, with and without a type; ids increase
select pgque.send('q_send', '{"b": 1,  "a": 2}');             -- untyped literal: text, kept verbatim
select pgque.send('q_send', '{"b": 1,  "a": 2}'::jsonb);      -- jsonb: validated, canonical text
select pgque.send('q_send', 'greeting', 'hello');
select pgque.send('q_send', 'order', '{"id": 7}'::jsonb);
select pgque.send(queue_name => 'q_send', type_name => 'named', payload => 'by name');
select pgque.send('q_send', null::text);                       -- a NULL payload is stored as NULL

-- batches: ids in input order, one per element, also for jsonb
select pgque.send_batch('q_send', array['b1', 'b2', 'b3']);
select pgque.send_batch('q_send', 'bt', array['{"n":1}', '{"n":2}']::jsonb[]);
select pgque.send_batch('q_send', array[]::text[]);
select pgque.send_batch('q_send', 'bt', array[]::jsonb[]);
select cardinality(pgque.send_batch('q_send', 'bulk', array(select 'p' || g from generate_series(1, 1000) g))) as bulk_ids;

-- PgQ primitive, 3 and 7 arguments
select pgque.insert_event('q_send', 'pgq', 'data');
select pgque.insert_event('q_send', 'pgq', 'data', 'e1', 'e2', 'e3', 'e4');

-- a rolled back send is never delivered
begin;
select pgque.send('q_send', 'rolled back');
rollback;
-- nor is one whose subtransaction was rolled back
begin;
savepoint s;
select pgque.send('q_send', 'sub rolled back');
rollback to savepoint s;
select pgque.send('q_send', 'kept after savepoint');
commit;

select pgque.ticker('q_send') is not null as ticked;
create temp table got as select * from pgque.receive('q_send', 'reader', 5000);
select msg_id, type, payload, retry_count, extra1, extra2, extra3, extra4
  from got where type <> 'bulk' order by msg_id;
select count(*) as bulk_received, min(payload) as first, max(msg_id) - min(msg_id) + 1 as id_span
  from got where type = 'bulk';
select pgque.ack((select distinct batch_id from got));

-- bad input changes nothing
select state_digest() as before \gset
select pgque.send('no_such_queue', '{"ok": 1}'::jsonb);
select pgque.send_batch('no_such_queue', 't', array['{"ok": 1}']::jsonb[]);
select pgque.send_batch('q_send', null::text[]);
select pgque.send_batch('q_send', 't', null::jsonb[]);
select pgque.send('no_such_queue', 'x');
select pgque.send_batch('no_such_queue', array['x']);
select pgque.send_batch('no_such_queue', array[]::text[]);
select pgque.insert_event('no_such_queue', 't', 'x');
select pgque.send(null, 'x');
select pgque.send('', 'x');
select pgque.send(repeat('q', 58), 'x');
select state_digest() = :'before' as unchanged;
select pgque.ticker('q_send') is null as nothing_new;

-- send() needs a type; only insert_event(), PgQ's primitive, takes NULL
select try($$select pgque.send('q_send', null::text, 'x')$$);
select try($$select pgque.send_batch('q_send', null::text, array['x'])$$);
select pgque.insert_event('q_send', null, 'untyped') > 0 as insert_event_takes_null;

-- a transaction sees its own changes to pgque.queue, also when the
-- producers' shared cache of the queue is warm
select pgque.send('q_send', 'warm 1') > 0, pgque.send('q_send', 'warm 2') > 0;
begin;
update pgque.queue set queue_disable_insert = true where queue_name = 'q_send';
select try($$select pgque.send('q_send', 'refused')$$);
rollback;
select pgque.send('q_send', 'accepted again') > 0 as sent;
