-- pgque: one event per transaction with a dedup_key never used before
\set k random(1, 9000000000000000000)
select pgque.send('bench_q', :payload::text, dedup_key => 'key-' || :k);
