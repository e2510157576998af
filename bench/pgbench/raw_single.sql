-- baseline: one raw single-row INSERT per transaction into bench_raw (see run.sh)
insert into bench_raw (ev_type, ev_data) values ('default', :payload::text);
