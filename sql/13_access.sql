-- Access per queue and per subscription (extension/15_access.sql,
-- docs/security.md): payload tables are not open to every reader; a queue
-- restricted with grant_queue() admits only the roles granted on it, and a
-- subscription only the role that created it.
\set SHOW_CONTEXT never
create role regress_acl_app in role pgque_reader, pgque_writer;      -- granted all
create role regress_acl_peer in role pgque_reader, pgque_writer;     -- granted consume
create role regress_acl_stranger in role pgque_reader, pgque_writer; -- granted nothing
create role regress_acl_admin in role pgque_admin;

-- dead letters and retries hold payloads: readers do not read them directly
select pgque.create_queue('q_open');
select pgque.subscribe('q_open', 'c_open');
set role regress_acl_stranger;
select try($$select count(*) from pgque.dead_letter$$);
select try($$select count(*) from pgque.retry_queue$$);
select try($$select count(*) from pgque.queue_grant$$);
reset role;
set role regress_acl_admin;
select count(*) as admin_reads_dead_letters from pgque.dead_letter;
reset role;

-- an open queue: every reader may use every consumer (PgQ's model)
set role regress_acl_stranger;
select pgque.send('q_open', 'open') > 0 as stranger_sends_to_open_queue;
reset role;
select pgque.force_tick('q_open') is not null, pgque.ticker('q_open') is not null;
set role regress_acl_stranger;
select payload as stranger_reads_open_consumer from pgque.receive('q_open', 'c_open');
reset role;

-- restrict a queue
select pgque.create_queue('q_acl');
select pgque.set_queue_config('q_acl', 'ticker_max_lag', '0');
select pgque.set_queue_config('q_acl', 'max_retries', '0');
select pgque.grant_queue('q_acl', 'regress_acl_app', 'all') as granted;
select pgque.grant_queue('q_acl', 'regress_acl_app', 'consume') as again;
select pgque.grant_queue('q_acl', 'regress_acl_peer', 'consume') as granted;
select * from pgque.get_queue_grants('q_acl');
select try($$select pgque.grant_queue('q_acl', 'regress_acl_nobody', 'all')$$);
select try($$select pgque.grant_queue('q_acl', 'regress_acl_app', 'read')$$);
select try($$select pgque.grant_queue('q_nope', 'regress_acl_app', 'all')$$);
set role regress_acl_app;
select try($$select pgque.grant_queue('q_acl', 'regress_acl_stranger', 'all')$$);
reset role;

-- producing needs 'produce'
set role regress_acl_stranger;
select try($$select pgque.send('q_acl', 'from stranger')$$);
select try($$select pgque.send_batch('q_acl', array['a', 'b'])$$);
select try($$select pgque.insert_event('q_acl', 't', 'd')$$);
reset role;
set role regress_acl_peer;
select try($$select pgque.send('q_acl', 'from peer')$$);
reset role;

-- consuming needs 'consume'; a subscription belongs to who made it
set role regress_acl_stranger;
select try($$select pgque.subscribe('q_acl', 'c_stranger')$$);
reset role;
set role regress_acl_app;
select pgque.subscribe('q_acl', 'c_app') as subscribed;
select pgque.send('q_acl', 'for app ' || i) > 0 as sent from generate_series(1, 3) i;
reset role;
select sub_owner from pgque.subscriber s join pgque.consumer c on c.co_id = s.sub_consumer
 where c.co_name = 'c_app';
select pgque.ticker('q_acl') is not null;

set role regress_acl_peer;
select pgque.subscribe('q_acl', 'c_peer') as peer_subscribes;
-- but it may not use the app's subscription in any way
select try($$select * from pgque.receive('q_acl', 'c_app')$$);
select try($$select pgque.next_batch('q_acl', 'c_app')$$);
select try($$select pgque.register_consumer_at('q_acl', 'c_app', 1)$$);
select try($$select pgque.unsubscribe('q_acl', 'c_app')$$);
reset role;

set role regress_acl_app;
select min(batch_id) as app_batch, array_agg(payload order by msg_id) as app_payloads
  from pgque.receive('q_acl', 'c_app') \gset
select :'app_payloads' as app_receives;
reset role;
set role regress_acl_peer;
select try(format('select pgque.ack(%s)', :app_batch));
select try(format('select * from pgque.get_batch_events(%s)', :app_batch));
select try(format($$select pgque.nack(%s, row(1, %s, 't', 'p', null, now(), null, null, null, null)::pgque.message)$$,
                  :app_batch, :app_batch));
select try(format('select pgque.event_retry(%s, 1::bigint, 0)', :app_batch));
select try(format('select pgque.batch_retry(%s, 0)', :app_batch));
reset role;

-- the app nacks one message into the dead letters (max_retries 0)
set role regress_acl_app;
do $$
declare m pgque.message;
begin
    for m in select * from pgque.receive('q_acl', 'c_app') loop
        if m.payload = 'for app 2' then
            perform pgque.nack(m.batch_id, m, '0', 'poison');
        end if;
    end loop;
    perform pgque.ack(m.batch_id);
end $$;
select count(*) as app_sees_its_dead_letter from pgque.dlq_inspect('q_acl');
reset role;
set role regress_acl_peer;
select count(*) as peer_sees_none from pgque.dlq_inspect('q_acl');
reset role;
set role regress_acl_stranger;
select try($$select * from pgque.dlq_inspect('q_acl')$$);
reset role;
select dl_id as app_dead_letter from pgque.dead_letter where ev_data = 'for app 2' \gset
set role regress_acl_peer;
select try(format('select pgque.dlq_replay(%s)', :app_dead_letter));
reset role;

-- an administrator may do everything
set role regress_acl_admin;
select pgque.send('q_acl', 'from admin') > 0 as admin_sends;
select count(*) as admin_sees_all from pgque.dlq_inspect('q_acl');
select pgque.dlq_replay(:app_dead_letter) > 0 as admin_replays;
reset role;

-- revoking: the queue stays restricted
select pgque.revoke_queue('q_acl', 'regress_acl_app', 'produce') as revoked;
set role regress_acl_app;
select try($$select pgque.send('q_acl', 'after revoke')$$);
reset role;
select pgque.revoke_queue('q_acl', 'regress_acl_app') as revoked_rest;
select pgque.revoke_queue('q_acl', 'regress_acl_peer') as revoked_peer;
select * from pgque.get_queue_grants('q_acl');
set role regress_acl_peer;
select try($$select pgque.send('q_acl', 'no grants left')$$);
reset role;
-- and opening it makes it a queue for everyone again
select pgque.set_queue_config('q_acl', 'restricted', 'false');
set role regress_acl_stranger;
select pgque.send('q_acl', 'open again') > 0 as sent;
reset role;

select pgque.drop_queue('q_acl', true);
select pgque.drop_queue('q_open', true);
select count(*) as grants_left from pgque.queue_grant;
drop owned by regress_acl_app, regress_acl_peer, regress_acl_stranger, regress_acl_admin;
drop role regress_acl_app, regress_acl_peer, regress_acl_stranger, regress_acl_admin;
