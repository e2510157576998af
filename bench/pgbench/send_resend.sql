-- pgque: a re-send of one of 1,000 keys sent before: a lookup, no event
\set k random(1, 1000)
select pgque.send('bench_q', :payload::text, dedup_key => 'key-' || :k);
