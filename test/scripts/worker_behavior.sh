#!/usr/bin/env bash
# What the worker does: survives errors, coexists with manual ticker()
# calls without losing or duplicating events, delivers retries and delayed
# events within a second of their time, keeps idle queues cheap, rotates on its own, and
# takes its settings from a reload.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/lib/cluster.sh
source test/lib/check.sh

C=wbeh
cluster_init $C 54355 || exit 1
cluster_start $C || exit 1
trap 'cluster_stop $C' EXIT

q() { cluster_psql $C -d app -At -c "$1" 2>/dev/null; }
cluster_psql $C -d postgres -c "create database app" >/dev/null
q "create extension pgque" >/dev/null
sleep 1

# --- errors are logged, rolled back, and the worker goes on
q "select pgque.create_queue('good'); select pgque.subscribe('good', 'c')" >/dev/null
q "select pgque.create_queue('bad'); select pgque.subscribe('bad', 'c')" >/dev/null
bad_id=$(q "select queue_id from pgque.queue where queue_name = 'bad'")
wpid=$(q "select pid from pg_stat_activity where backend_type = 'pgque worker' and datname = 'app'")
q "alter table pgque.tick add constraint no_bad_ticks check (tick_queue <> $bad_id) not valid" >/dev/null
q "select pgque.send('bad', 'stuck')" >/dev/null
q "select pgque.send('good', 'fine')" >/dev/null
wait_until "a queue the worker cannot tick does not stop the others" 5 bash -c "psql -X -At -h '$(cluster_dir $C)' -p $(cluster_port $C) -U postgres -d app -c \"select payload from pgque.receive('good', 'c')\" | grep -q fine"
check_eq "the worker did not restart" "$wpid" "$(q "select pid from pg_stat_activity where backend_type = 'pgque worker' and datname = 'app'")"
check "status() shows the last error" bash -c "[[ \"$(q "select detail from pgque.status() where component = 'worker'")\" == *'last error'*'no_bad_ticks'* ]]"
q "alter table pgque.tick drop constraint no_bad_ticks" >/dev/null
wait_until "the failing queue recovers once the cause is gone" 5 bash -c "psql -X -At -h '$(cluster_dir $C)' -p $(cluster_port $C) -U postgres -d app -c \"select payload from pgque.receive('bad', 'c')\" | grep -q stuck"

# --- manual ticker() calls while the worker ticks: nothing lost or doubled
q "select pgque.create_queue('busy'); select pgque.subscribe('busy', 'c'); select pgque.set_queue_config('busy', 'ticker_max_lag', '0')" >/dev/null
(
    for _ in $(seq 300); do
        q "select pgque.ticker('busy'); select pgque.force_tick('busy'); select pgque.ticker()" >/dev/null
    done
) &
ticker_loop=$!
(
    for i in $(seq 100); do
        q "select pgque.send_batch('busy', array(select '$i-' || g from generate_series(1, 30) g))" >/dev/null
    done
) &
producer=$!
q "create table got (payload text)" >/dev/null
consume() {
    q "with m as (select * from pgque.receive('busy', 'c', 500)),
            ins as (insert into got select payload from m)
       select pgque.ack(batch_id) from m limit 1" >/dev/null
}
while kill -0 $producer 2>/dev/null; do consume; done
wait $producer
for _ in $(seq 50); do consume; sleep 0.05; done
wait $ticker_loop
check_eq "every event arrived" 3000 "$(q "select count(distinct payload) from got")"
check_eq "no event arrived twice" 3000 "$(q "select count(*) from got")"

# --- retries are delivered within a second of their time, also 500 at once
q "select pgque.create_queue('retry'); select pgque.subscribe('retry', 'c')" >/dev/null
q "select pgque.send_batch('retry', array(select 'r' || g from generate_series(1, 500) g))" >/dev/null
wait_until "500 events ticked" 5 bash -c "[ \"\$(psql -X -At -h '$(cluster_dir $C)' -p $(cluster_port $C) -U postgres -d app -c \"select count(*) from pgque.receive('retry', 'c', 1000)\")\" = 500 ]"
due=$(q "select extract(epoch from now() + interval '2 seconds')
          from (select count(pgque.nack(batch_id, m, '2 seconds', 'later'))
                  from pgque.receive('retry', 'c', 1000) m) n")
q "select pgque.ack(batch_id) from pgque.receive('retry', 'c', 1000) limit 1" >/dev/null
q "create table redelivered (payload text, retry_count int, at float8)" >/dev/null
for _ in $(seq 60); do
    q "with m as (select * from pgque.receive('retry', 'c', 1000)),
            ins as (insert into redelivered select payload, retry_count, extract(epoch from clock_timestamp()) from m)
       select pgque.ack(batch_id) from m limit 1" >/dev/null
    [ "$(q "select count(*) from redelivered")" = 500 ] && break
    sleep 0.05
done
check_eq "all 500 retries were redelivered" 500 "$(q "select count(*) from redelivered where retry_count = 1")"
late=$(q "select round((max(at) - $due)::numeric, 3) from redelivered")
early=$(q "select count(*) from redelivered where at < $due - 0.05")
echo "# last retry arrived ${late}s after it was due"
check_eq "none before its time" 0 "$early"
check_eq "the last one within 1 s of its time" "t" "$(q "select $late < 1.0")"

# --- delayed events: 20,000 due in the same second arrive within a second
# of it, none before, each once (bench/delay.sh measures 100,000)
q "select pgque.create_queue('later'); select pgque.subscribe('later', 'c')" >/dev/null
due=$(q "select extract(epoch from date_trunc('second', clock_timestamp()) + interval '3 seconds')")
q "select sum(cardinality(pgque.send_batch_at('later', 'job', array(select b || '-' || g from generate_series(1, 1000) g),
                                            to_timestamp($due)))) from generate_series(1, 20) b" >/dev/null
q "create table delayed_got (msg_id bigint, payload text, at float8)" >/dev/null
check_eq "nothing is delivered before its time" 0 "$(q "select count(*) from pgque.receive('later', 'c', 1000)")"
check_eq "get_delayed_info counts them" 20000 "$(q "select delayed from pgque.get_delayed_info('later')")"
for _ in $(seq 400); do
    q "with m as (select * from pgque.receive('later', 'c', 30000)),
            ins as (insert into delayed_got select msg_id, payload, extract(epoch from clock_timestamp()) from m)
       select pgque.ack(batch_id) from m limit 1" >/dev/null
    [ "$(q "select count(*) from delayed_got")" -ge 20000 ] && break
    sleep 0.02
done
check_eq "all 20,000 delayed events arrived" 20000 "$(q "select count(distinct payload) from delayed_got")"
check_eq "none twice" 20000 "$(q "select count(*) from delayed_got")"
check_eq "none before its time" 0 "$(q "select count(*) from delayed_got where at < $due")"
late=$(q "select round((max(at) - $due)::numeric, 3) from delayed_got")
# (the sequence counts each event twice: its id, then the move)
echo "# delayed events: in the stream $(q "select round(extract(epoch from min(t.tick_time))::numeric - $due, 3) from pgque.tick t join pgque.queue q on q.queue_id = t.tick_queue where q.queue_name = 'later' and t.tick_event_seq >= 40000")s after they were due"
echo "# delayed events: first arrived $(q "select round((min(at) - $due)::numeric, 3) from delayed_got")s, last ${late}s after they were due"
check_eq "the last one within 1 s of its time" "t" "$(q "select $late < 1.0")"
check_eq "the ids are those send_batch_at returned" 20000 "$(q "select count(*) from delayed_got where msg_id between 1 and 20000")"

# --- a producer that commits after its event was due (and after the worker
# moved others past that time) is delivered within a second of its commit
# Delay buckets span whole minutes, and freeing one whose minute ended moves
# everything due in every bucket: start early in a minute, so that only the
# late commit itself can make the worker move the event in time.
while [ "$(date +%-S)" -gt 50 ] || [ "$(date +%-S)" -lt 1 ]; do sleep 0.5; done
q "select pgque.create_queue('tardy'); select pgque.subscribe('tardy', 'c')" >/dev/null
q "select pgque.send_at('tardy', 'warm', 'w', clock_timestamp() + interval '100 milliseconds')" >/dev/null
sleep 0.5
q "select count(*) from pgque.receive('tardy', 'c')" >/dev/null
q "select pgque.ack(batch_id) from pgque.receive('tardy', 'c') limit 1" >/dev/null
q "begin; select pgque.send_at('tardy', 'late', 'slow producer', clock_timestamp() + interval '100 milliseconds');
   select pg_sleep(1.5); commit" >/dev/null &
slow=$!
sleep 0.4
q "select pgque.send_at('tardy', 'on time', 'quick producer', clock_timestamp() + interval '100 milliseconds')" >/dev/null
wait $slow
committed=$(q "select extract(epoch from clock_timestamp())")
q "create table tardy_got (payload text, at float8)" >/dev/null
for _ in $(seq 100); do
    q "with m as (select * from pgque.receive('tardy', 'c', 10)),
            ins as (insert into tardy_got select payload, extract(epoch from clock_timestamp()) from m)
       select pgque.ack(batch_id) from m limit 1" >/dev/null
    [ "$(q "select count(*) from tardy_got where payload = 'slow producer'")" = 1 ] && break
    sleep 0.05
done
check_eq "both arrived, once each" "quick producer,slow producer" "$(q "select string_agg(payload, ',' order by payload) from tardy_got")"
after=$(q "select round((at - $committed)::numeric, 3) from tardy_got where payload = 'slow producer'")
echo "# the late producer's event arrived ${after}s after its commit"
check_eq "the late producer's event within 1 s of its commit" "t" "$(q "select $after < 1.0")"

# --- idle queues cost almost nothing; idle_period is honoured
q "select pgque.create_queue('idle'); select pgque.create_queue('idle1s')" >/dev/null
q "select pgque.set_queue_config('idle1s', 'ticker_idle_period', '1 second')" >/dev/null
ticks() { q "select count(*) from pgque.tick t join pgque.queue q on q.queue_id = t.tick_queue where q.queue_name = '$1'"; }
# the creating transaction may have sent events: one tick covers it
# (ticker_max_lag, 3 s, after creation); idleness is measured after that
sleep 4
a0=$(ticks idle)
b0=$(ticks idle1s)
sleep 5
a1=$(ticks idle)
b1=$(ticks idle1s)
echo "# idle ticks in 5 s: default idle period $((a1 - a0)), 1 s idle period $((b1 - b0))"
check_eq "a queue with the default idle period (1 min) does not tick in 5 s" 0 $((a1 - a0))
check "a queue with a 1 s idle period ticks about once a second" bash -c "[ $((b1 - b0)) -ge 3 ] && [ $((b1 - b0)) -le 6 ]"

# --- the worker rotates on its own; settings come from a reload
cluster_psql $C -d postgres -c "alter system set pgque.maint_period = 1" -c "select pg_reload_conf()" >/dev/null
sleep 0.5
check_eq "pgque.maint_period reloaded" "1s" "$(q "show pgque.maint_period")"
q "select pgque.create_queue('rot'); select pgque.subscribe('rot', 'c'); select pgque.set_queue_config('rot', 'rotation_period', '0')" >/dev/null
q "create table rot_got (payload text)" >/dev/null
q "create table rot_tables (cur int)" >/dev/null
for i in $(seq 40); do
    q "insert into rot_tables select queue_cur_table from pgque.queue where queue_name = 'rot'" >/dev/null
    q "select pgque.send('rot', 'x$i')" >/dev/null
    q "with m as (select * from pgque.receive('rot', 'c', 100)),
            ins as (insert into rot_got select payload from m)
       select pgque.ack(batch_id) from m limit 1" >/dev/null
    sleep 0.1
done
for _ in $(seq 20); do
    q "with m as (select * from pgque.receive('rot', 'c', 100)),
            ins as (insert into rot_got select payload from m)
       select pgque.ack(batch_id) from m limit 1" >/dev/null
    sleep 0.1
done
switches=$(q "select count(*) from (select cur, lag(cur) over (order by ctid) as prev from rot_tables) t where cur <> prev")
echo "# the worker switched tables $switches times in 4 s"
check "the worker rotated the tables on its own, several times" test "$switches" -ge 2
check_eq "no event lost across the worker's rotations" 40 "$(q "select count(distinct payload) from rot_got")"
check_eq "none delivered twice" 40 "$(q "select count(*) from rot_got")"
finish
