-- Privileges. Nothing is executable by PUBLIC; every function is granted to
-- the role whose job it is. pgque_admin inherits reader and writer.

grant usage on schema pgque to pgque_reader, pgque_writer, pgque_admin;

revoke all on all functions in schema pgque from public;
revoke all on all tables in schema pgque from public;
revoke all on all sequences in schema pgque from public;

-- consume + observe
grant execute on function
    pgque.subscribe(text, text, text[], text[]),
    pgque.set_filter(text, text, text[], text[]),
    pgque.unsubscribe(text, text),
    pgque.register_consumer(text, text),
    pgque.register_consumer_at(text, text, bigint),
    pgque.unregister_consumer(text, text),
    pgque.receive(text, text, int),
    pgque.register_subconsumer(text, text, text, boolean),
    pgque.subscribe_subconsumer(text, text, text, boolean),
    pgque.unregister_subconsumer(text, text, text, integer),
    pgque.unsubscribe_subconsumer(text, text, text, integer),
    pgque.touch_subconsumer(text, text, text),
    pgque.receive_coop(text, text, text, int, interval),
    pgque.receive_leased(text, text, text, int, interval),
    pgque.ack_message(text, text, bigint, bigint),
    pgque.nack_message(text, text, bigint, bigint, interval, text),
    pgque.extend_lease(text, text, bigint, bigint, interval),
    pgque.next_batch(text, text, text, interval),
    pgque.next_batch_custom(text, text, text, interval, int4, interval, interval),
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
    pgque.get_queue_grants(text),
    pgque.get_queue_config(text),
    pgque.get_delayed_info(text),
    pgque.metrics(),
    pgque.message_state(text, bigint),
    pgque.get_schedule_info(text),
    pgque.pause_consumer(text, text),
    pgque.resume_consumer(text, text),
    pgque.dlq_inspect(text, int),
    pgque.status(),
    pgque.version()
to pgque_reader;

-- metadata for monitoring; payloads (dead_letter, retry_queue) only through
-- the functions, which check access to the queue (docs/security.md)
grant select on pgque.queue, pgque.consumer, pgque.subscriber, pgque.subconsumer, pgque.subscription,
                pgque.tick, pgque.batch, pgque.config, pgque.queue_grant
to pgque_reader;
grant select on pgque.retry_queue, pgque.dead_letter to pgque_admin;

-- produce + replay
grant execute on function
    pgque.send(text, text, int, text, text, jsonb),
    pgque.send(text, jsonb, int, text, text, jsonb),
    pgque.send(text, text, text, int, text, text, jsonb),
    pgque.send(text, text, jsonb, int, text, text, jsonb),
    pgque.send_batch(text, text[], int),
    pgque.send_batch(text, jsonb[], int),
    pgque.send_batch(text, text, text[], int),
    pgque.send_batch(text, text, jsonb[], int),
    pgque.insert_event(text, text, text),
    pgque.insert_event(text, text, text, text, text, text, text),
    pgque.send_at(text, text, text, timestamptz, text, jsonb),
    pgque.send_at(text, text, jsonb, timestamptz, text, jsonb),
    pgque.send_at(text, text, timestamptz),
    pgque.send_at(text, jsonb, timestamptz),
    pgque.send_batch_at(text, text, text[], timestamptz),
    pgque.send_batch_at(text, text, jsonb[], timestamptz),
    pgque.send_batch_at(text, text[], timestamptz),
    pgque.send_batch_at(text, jsonb[], timestamptz),
    pgque.dlq_replay(bigint),
    pgque.dlq_replay_all(text),
    pgque.version()
to pgque_writer;

-- administration
grant execute on function
    pgque.create_queue(text),
    pgque.drop_queue(text, boolean),
    pgque.set_queue_config(text, text, text),
    pgque.pause_queue(text),
    pgque.resume_queue(text),
    pgque.schedule(text, text, text, text, text),
    pgque.schedule(text, text, text, text, jsonb),
    pgque.unschedule(text),
    pgque.pause_schedule(text),
    pgque.resume_schedule(text),
    pgque.grant_queue(text, text, text),
    pgque.revoke_queue(text, text, text),
    pgque.ticker(),
    pgque.ticker(text),
    pgque.ticker(text, bigint, timestamptz, bigint),
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
