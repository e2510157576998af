-- baseline: a raw 100-row INSERT ... SELECT from unnest of a 100-element array parameter
insert into bench_raw (ev_type, ev_data) select 'default', p from unnest(:arr::text[]) p;
