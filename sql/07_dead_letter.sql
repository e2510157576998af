-- Dead letters: after max_retries retries nack moves the event to the
-- dead-letter table; inspect, replay, purge.
\set SHOW_CONTEXT never
select pgque.create_queue('q_dlq');
select pgque.set_queue_config('q_dlq', 'ticker_max_lag', '0');
select pgque.set_queue_config('q_dlq', 'max_retries', '2');
select pgque.subscribe('q_dlq', 'd');
select pgque.subscribe('q_dlq', 'healthy');
select pgque.send('q_dlq', 'poison', '{"bad": true}') as poison_id \gset

-- a consumer that always fails: delivered 1 + max_retries times
create temp table deliveries (n int, retry_count int, msg_id bigint);
do $$
declare m pgque.message; i int;
begin
    for i in 1..4 loop
        perform pgque.ticker('q_dlq');
        for m in select * from pgque.receive('q_dlq', 'd') loop
            insert into deliveries values (i, m.retry_count, m.msg_id);
            perform pgque.nack(m.batch_id, m, '0', 'boom ' || i);
            perform pgque.ack(m.batch_id);
        end loop;
        commit;
        perform pgque.maint_retry_events();
        commit;
    end loop;
end $$;
select n, retry_count, msg_id = :poison_id as same_msg from deliveries order by n;
select count(*) as retries_left from pgque.retry_queue where ev_queue = (select queue_id from pgque.queue where queue_name = 'q_dlq');
select dl_reason, ev_id = :poison_id as same_msg, ev_retry, ev_type, ev_data, ev_txid is not null as has_txid
  from pgque.dlq_inspect('q_dlq');
select co_name from pgque.dead_letter join pgque.consumer on co_id = dl_consumer_id;
-- the other consumer was not affected
select count(*) as healthy_got from pgque.receive('q_dlq', 'healthy');
select pgque.ack(batch_id) from pgque.receive('q_dlq', 'healthy') limit 1;

-- replay hands the event back to that consumer only, as a first delivery
select dl_id as dead_id from pgque.dead_letter \gset
select pgque.dlq_replay(:dead_id) = :poison_id as replayed_same_id;
select count(*) as dead_left from pgque.dead_letter;
select pgque.ticker('q_dlq') is not null;
select type, payload, retry_count from pgque.receive('q_dlq', 'd');
select pgque.ack(batch_id) from pgque.receive('q_dlq', 'd') limit 1;
select count(*) as healthy_not_again from pgque.receive('q_dlq', 'healthy');
select try(format('select pgque.dlq_replay(%s)', :dead_id));

-- max_retries 0: the first nack dead-letters; one row per event even if nacked twice
select pgque.set_queue_config('q_dlq', 'max_retries', '0');
select pgque.send_batch('q_dlq', array['x1', 'x2', 'x3']) is not null;
select pgque.ticker('q_dlq') is not null;
select sum(pgque.nack(batch_id, m, '0', 'no retries')) from pgque.receive('q_dlq', 'd') m;
select sum(pgque.nack(batch_id, m, '0', 'no retries')) from pgque.receive('q_dlq', 'd') m;
select pgque.ack(batch_id) from pgque.receive('q_dlq', 'd') limit 1;
select ev_data, dl_reason from pgque.dlq_inspect('q_dlq', 2);
select count(*) from pgque.dlq_inspect('q_dlq');

select * from pgque.dlq_replay_all('q_dlq');
select pgque.ticker('q_dlq') is not null;
select array_agg(payload order by msg_id) as replayed from pgque.receive('q_dlq', 'd');
select pgque.ack(batch_id) from pgque.receive('q_dlq', 'd') limit 1;

-- replay needs the consumer to still be subscribed; failures are counted
select pgque.send('q_dlq', 'y');
select pgque.ticker('q_dlq') is not null;
select pgque.nack(batch_id, m, '0') from pgque.receive('q_dlq', 'healthy') m;
select pgque.ack(batch_id) from pgque.receive('q_dlq', 'healthy') limit 1;
-- point the dead letters at a consumer that exists but is not subscribed here
select pgque.create_queue('q_dlq_other');
select pgque.subscribe('q_dlq_other', 'elsewhere');
update pgque.dead_letter set dl_consumer_id = (select co_id from pgque.consumer where co_name = 'elsewhere');
select replayed, failed, first_error from pgque.dlq_replay_all('q_dlq');
select count(*) as still_there from pgque.dead_letter;

-- purge
select pgque.dlq_purge('q_dlq', '1 hour') as too_young;
select pgque.dlq_purge('q_dlq', '0') as purged;
select pgque.dlq_purge('q_dlq') as nothing_left;
select count(*) as after_purge from pgque.dead_letter;

select try($$select * from pgque.dlq_inspect('q_dlq', -1)$$);
select try($$select * from pgque.dlq_inspect('nope')$$);
select try($$select pgque.dlq_replay(null)$$);
select try($$select pgque.dlq_replay(-1)$$);
select try($$select pgque.dlq_purge('q_dlq', null)$$);
select try($$select pgque.dlq_purge('q_dlq', '-1 day')$$);
select try($$select * from pgque.dlq_replay_all('nope')$$);
