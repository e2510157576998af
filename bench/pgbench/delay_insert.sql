-- producer of bench/delay.sh (the delete-based baseline): the same events
-- as delay_send_at.sql, one INSERT per transaction
\set r random(1, 100)
\if :r <= :long_pct
\set d random(3600000, 10800000)
\else
\set d random(1000, 120000)
\endif
insert into bench_delay (ev_queue, ev_deliver_at, ev_id, ev_time, ev_txid, ev_type, ev_data)
select 1, t, nextval('bench_delay_seq'), now(), pg_current_xact_id(), 'default', extract(epoch from t)::text
  from (select now() + make_interval(secs => :d / 1000.0) as t) s;
