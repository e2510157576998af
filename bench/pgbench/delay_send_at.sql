-- producer of bench/delay.sh (pgque): one send_at per transaction, due
-- :d ms from now; the payload is the due time in epoch seconds
\set r random(1, 100)
\if :r <= :long_pct
\set d random(3600000, 10800000)
\else
\set d random(1000, 120000)
\endif
select pgque.send_at('delay_q', 'default', extract(epoch from t)::text, t)
  from (select now() + make_interval(secs => :d / 1000.0) as t) s;
