-- pgque: send_batch of the same 100-element array parameter
select pgque.send_batch('bench_q', :arr::text[]);
