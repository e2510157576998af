-- PgQ 3.5 (postgresql-15-pgq3): one event per transaction
select pgq.insert_event('bench_q', 'default', :payload::text);
