-- producer of the held-snapshot runs: send_batch of :arr (see run.sh for its size)
select pgque.send_batch('bloat_q', :arr::text[]);
