-- Idempotent sends: send(..., dedup_key => k). A second send of a key to a
-- queue within its dedup_window returns the first send's id and sends
-- nothing; other keys, other queues and expired keys send. Keys live in a
-- ring of three tables emptied by TRUNCATE (extension/25_dedup.sql).
\set SHOW_CONTEXT never
select pgque.create_queue('q_dd');
select pgque.create_queue('q_dd2');
select pgque.set_queue_config('q_dd', 'ticker_max_lag', '0');
select pgque.set_queue_config('q_dd2', 'ticker_max_lag', '0');
select pgque.subscribe('q_dd', 'c');
select pgque.subscribe('q_dd2', 'c');

select pgque.send('q_dd', 'first', dedup_key => 'order-1') as id1 \gset
select pgque.send('q_dd', 'again', dedup_key => 'order-1') = :id1 as same_id;
select pgque.send('q_dd', 'job', 'typed again', dedup_key => 'order-1') = :id1 as same_id_with_type;
select pgque.send('q_dd', '{"a": 1}'::jsonb, dedup_key => 'order-1') = :id1 as same_id_jsonb;
select pgque.send('q_dd', 'job', 'other key', dedup_key => 'order-2') <> :id1 as new_id;
select pgque.send('q_dd2', 'other queue', dedup_key => 'order-1') > 0 as sent_to_other_queue;
select pgque.send('q_dd', 'no key') <> :id1 as new_id_no_key;
select pgque.send('q_dd', 'null key', dedup_key => null) <> :id1 as new_id_null_key;
select pgque.send('q_dd', 'empty key', dedup_key => '') as id_empty \gset
select pgque.send('q_dd', 'empty key again', dedup_key => '') = :id_empty as same_id_empty_key;
select pgque.ticker('q_dd') is not null, pgque.ticker('q_dd2') is not null;
-- one event per key: the repeats sent nothing
select msg_id = :id1 as is_first, type, payload from pgque.receive('q_dd', 'c') order by msg_id;
select pgque.ack(batch_id) from pgque.receive('q_dd', 'c') limit 1;
select payload from pgque.receive('q_dd2', 'c');

-- a send that was rolled back did not send, so its key is free again
begin;
select pgque.send('q_dd', 'rolled back', dedup_key => 'order-3') as id_rb \gset
rollback;
select pgque.send('q_dd', 'after rollback', dedup_key => 'order-3') <> :id_rb as new_id_after_rollback;

-- the same key twice in one transaction: one event
begin;
select pgque.send('q_dd', 'in tx', dedup_key => 'order-4') as id_tx \gset
select pgque.send('q_dd', 'in tx again', dedup_key => 'order-4') = :id_tx as same_id_in_tx;
commit;
select pgque.ticker('q_dd') is not null;
select payload from pgque.receive('q_dd', 'c') order by msg_id;
select pgque.ack(batch_id) from pgque.receive('q_dd', 'c') limit 1;

-- the window: a key is forgotten after dedup_window
select value from pgque.get_queue_config('q_dd') where param = 'dedup_window';
select pgque.set_queue_config('q_dd', 'dedup_window', '1 second');
select value from pgque.get_queue_config('q_dd') where param = 'dedup_window';
select pgque.send('q_dd', 'short window', dedup_key => 'order-5') as id5 \gset
select pgque.send('q_dd', 'within', dedup_key => 'order-5') = :id5 as same_id_within_window;
select pg_sleep(1.1);
select pgque.send('q_dd', 'after', dedup_key => 'order-5') <> :id5 as new_id_after_window;

-- bad settings and arguments change nothing
select pgque.set_queue_config('q_dd', 'dedup_window', '0');
select pgque.set_queue_config('q_dd', 'dedup_window', '366 days');
select pgque.set_queue_config('q_dd', 'dedup_window', 'soon');
select pgque.send('q_dd', 'long key', dedup_key => repeat('k', 1025));
select pgque.send('q_dd', 'bad priority', priority => 10);
select pgque.send('q_dd', 'bad priority', priority => -1);
select pgque.send('q_dd', 'null priority', priority => null);
select pgque.send_batch('q_dd', array['x'], priority => 10);
select pgque.send('q_dd', 'longest key', dedup_key => repeat('k', 1024)) > 0 as longest_key_sent;
select pgque.set_queue_config('q_dd', 'dedup_window', null);
select value from pgque.get_queue_config('q_dd') where param = 'dedup_window';

-- a queue with a delivery_delay: the key covers the delayed event
select pgque.set_queue_config('q_dd2', 'delivery_delay', '1 hour');
select pgque.send('q_dd2', 'later', dedup_key => 'd-1') as id_d \gset
select pgque.send('q_dd2', 'later again', dedup_key => 'd-1') = :id_d as same_id_delayed;
select delayed from pgque.get_delayed_info('q_dd2');

-- a writer that may not read the key tables can send with a key
create role dd_writer in role pgque_writer;
set role dd_writer;
select pgque.send('q_dd', 'from writer', dedup_key => 'w-1') as id_w \gset
select pgque.send('q_dd', 'from writer', dedup_key => 'w-1') = :id_w as same_id_writer;
select count(*) from pgque.dedup_0;
reset role;

-- a keyed send at a priority: the key is the queue's, whatever the priority
-- (the event waits in the queue's lane for it), and message_state finds it
select pgque.send('q_dd', 'urgent', priority => 5, dedup_key => 'p-1') as id_p \gset
select pgque.send('q_dd', 'urgent again', dedup_key => 'p-1') = :id_p as same_id_any_priority;
select pgque.send('q_dd', 'urgent', 'again', priority => 9, dedup_key => 'p-1') = :id_p as same_id_other_priority;
select consumer, state from pgque.message_state('q_dd', :id_p);
select pgque.ticker('q_dd') is not null;
select msg_id = :id_p as is_keyed, payload from pgque.receive('q_dd', 'c');
select consumer, state, batch_id is not null as has_batch from pgque.message_state('q_dd', :id_p);
select pgque.ack(batch_id) from pgque.receive('q_dd', 'c') limit 1;
select consumer, state from pgque.message_state('q_dd', :id_p);

-- The ring follows the longest window; a change freezes emptying for two
-- periods (epoch borders move).
select dr_period, dr_frozen_until is null as never_frozen from pgque.dedup_ring;
select pgque.set_queue_config('q_dd2', 'dedup_window', '2 hours');
select dr_period, dr_frozen_until > now() + interval '4 hours' as frozen from pgque.dedup_ring;
select pgque.maint_dedup() as emptied_while_frozen;
select pgque.set_queue_config('q_dd2', 'dedup_window', null);
select dr_period from pgque.dedup_ring;

-- Emptying: with 1-second epochs, a key's table is emptied two epochs
-- later (maint_dedup, called as the worker's maint() does), never in the
-- epoch of the key or the next one.
update pgque.dedup_ring set dr_period = '1 second', dr_frozen_until = null;
create temp view dd_keys as
    select dk_key, dk_time from pgque.dedup_0 union all select dk_key, dk_time from pgque.dedup_1
    union all select dk_key, dk_time from pgque.dedup_2;
select pgque.send('q_dd', 'ring', dedup_key => 'r-1') > 0 as sent;
select pgque._dedup_epoch(dk_time, '1 second') as r1_epoch from dd_keys where dk_key = 'r-1' \gset
create temp table dd_emptied (epoch bigint);
do $$
declare
    v_epoch bigint;
begin
    for i in 1..200 loop
        v_epoch := pgque._dedup_epoch(clock_timestamp(), '1 second');
        perform pgque.maint_dedup();
        if not exists (select from dd_keys where dk_key = 'r-1') then
            insert into dd_emptied values (v_epoch);
            exit;
        end if;
        perform pg_sleep(0.05);
    end loop;
end
$$;
select epoch - :r1_epoch >= 2 as emptied_two_epochs_later from dd_emptied;
update pgque.dedup_ring set dr_period = '1 hour';

select pgque.drop_queue('q_dd', true);
select pgque.drop_queue('q_dd2', true);
drop role dd_writer;
