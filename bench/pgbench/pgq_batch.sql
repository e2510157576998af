-- PgQ 3.5: insert_event once per element of the same array, one statement
select pgq.insert_event('bench_q', 'default', p) from unnest(:arr::text[]) p;
