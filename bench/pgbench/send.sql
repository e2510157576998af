-- pgque: one event per transaction
select pgque.send('bench_q', :payload::text);
