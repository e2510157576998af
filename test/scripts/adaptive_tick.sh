#!/usr/bin/env bash
# Adaptive ticking (src/worker.c, "Adaptive ticking"): the worker holds back
# a queue's tick while no consumer has read up to its newest tick, and ticks
# at once when one has. Everything here is counted (ticks in pgque.tick,
# events received).
#
# The cluster runs with pgque.tick_defer = 60 s, pgque.naptime = 60 s and a
# long maint_period, and the queues with ticker_max_lag = 1 min: a held tick
# comes only after a minute and the worker wakes on its own only that
# rarely, so whatever is ticked within 2 s was ticked because a consumer or
# a sender told the worker.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/lib/cluster.sh
source test/lib/check.sh

C=adaptive
cluster_init $C "${ADAPTIVE_TICK_PORT:-54383}" "fsync = off" "pgque.naptime = 60000" \
    "pgque.tick_defer = 60000" "pgque.maint_period = 3600" || exit 1
cluster_start $C || exit 1
trap 'cluster_stop $C' EXIT

q() { cluster_psql $C -d app -At -c "$1" 2>/dev/null; }
reload() { q "alter system set $1" >/dev/null; q "select pg_reload_conf()" >/dev/null; sleep 0.5; }
ticks() { q "select count(*) from pgque.tick t join pgque.queue q on q.queue_id = t.tick_queue where q.queue_name = '$1'"; }
ticks_above() { [ "$(ticks "$1")" -gt "$2" ]; }
worker_pid() { q "select pid from pg_stat_activity where backend_type = 'pgque worker' and datname = 'app'"; }
worker_other_than() { local p; p=$(worker_pid); [ -n "$p" ] && [ "$p" != "$1" ]; }
# receive QUEUE as consumer c (or MEMBER of cooperative consumer cc), ack,
# and log what came; prints how many events came
recv() {
    local call="pgque.receive('$1', 'c', 1000)"
    [ -n "${2:-}" ] && call="pgque.receive_coop('$1', 'cc', '$2', 1000)"
    q "with m as materialized (select * from $call),
            a as (select pgque.ack(batch_id) from m limit 1),
            l as (insert into got select '$1', payload from m)
       select count(*) from m left join a on true"
}
# receive until PAYLOAD has come, for at most 2 s
got() {
    local i
    for ((i = 0; i < 20; i++)); do
        recv "$1" "${3:-}" >/dev/null
        [ "$(q "select count(*) from got where queue = '$1' and payload = '$2'")" = 1 ] && return 0
        sleep 0.1
    done
    return 1
}
# receive until nothing is left: the consumer waits at the newest tick
drain() {
    local i
    for ((i = 0; i < 50; i++)); do
        [ "$(recv "$1")" = 0 ] && return 0
    done
    return 1
}
# A queue ticked only when the worker is asked to: no idle ticks, no
# max_lag ticks within the test. Two sends in one session make its entry in
# the shared queue cache valid (queue_cache.c); without one the worker
# ticks as it always did. The first is ticked at once (the worker does not
# know the queue yet), the second is held: nobody read the first tick.
new_queue() {
    q "select pgque.create_queue('$1');
       select pgque.set_queue_config('$1', 'ticker_max_lag', '1 min');
       select pgque.set_queue_config('$1', 'ticker_idle_period', '1 hour');
       select pgque.subscribe('$1', 'c')" >/dev/null
    local t
    t=$(ticks "$1")
    q "select pgque.send('$1', 'warm 1'); select pgque.send('$1', 'warm 2')" >/dev/null
    wait_until "$1: the worker ticks a new queue's first events" 2 ticks_above "$1" "$t"
}

cluster_psql $C -d postgres -c "create database app" >/dev/null
q "create extension pgque" >/dev/null
q "create table got (queue text, payload text)" >/dev/null
wait_until "the worker runs" 10 worker_other_than 0

# --- a subscriber that has not read the newest tick: the queue's tick waits
new_queue held
sleep 0.5
t0=$(ticks held)
q "select pgque.send('held', 'e1'); select pgque.send('held', 'e2')" >/dev/null
sleep 2
check_eq "nobody waits: new events are not ticked within 2 s" "$t0" "$(ticks held)"

# --- the consumer catches up: its receive wakes the worker, which ticks
check "the consumer reads up to the newest tick" got held "warm 1"
check "a consumer that caught up gets the held events within 2 s" got held e2
check_eq "one tick for all three held events" $((t0 + 1)) "$(ticks held)"

# --- a consumer that waits (read everything) gets each send ticked at once
drain held
t1=$(ticks held)
q "select pgque.send('held', 'e3')" >/dev/null
wait_until "a waiting consumer: its queue ticks within 2 s of a send" 2 ticks_above held "$t1"
check_eq "with one tick" $((t1 + 1)) "$(ticks held)"
check "the consumer gets the event" got held e3

# --- ticker_max_count still ticks a held queue
new_queue counted
q "select pgque.set_queue_config('counted', 'ticker_max_count', '50')" >/dev/null
q "select pgque.send('counted', 'warm 3'); select pgque.send('counted', 'warm 4')" >/dev/null   # the entry is valid again
sleep 0.5
t2=$(ticks counted)
q "select pgque.send_batch('counted', array(select 'b' || g from generate_series(1, 10) g))" >/dev/null
sleep 1
check_eq "10 events (fewer than ticker_max_count) stay held" "$t2" "$(ticks counted)"
q "select pgque.send_batch('counted', array(select 'c' || g from generate_series(1, 60) g))" >/dev/null
wait_until "ticker_max_count events tick a held queue within 2 s" 2 ticks_above counted "$t2"

# --- a new worker drops its predecessor's holds: senders wake it again
t3=$(ticks held)
q "select pgque.send('held', 'x1')" >/dev/null   # ticked at once: c read everything
wait_until "the consumer waited: x1 is ticked" 2 ticks_above held "$t3"
q "select pgque.send('held', 'e4'); select pgque.send('held', 'e5')" >/dev/null
sleep 0.5
t3=$(ticks held)
q "select pgque.send('held', 'e4b')" >/dev/null
sleep 1
check_eq "e4, e5 are held: nobody read x1's tick" "$t3" "$(ticks held)"
old=$(worker_pid)
q "select pg_terminate_backend($old)" >/dev/null
wait_until "a new worker starts" 20 worker_other_than "$old"
wait_until "its first pass ticks what the old one held" 2 ticks_above held "$t3"
drain held
t4=$(ticks held)
q "select pgque.send('held', 'e6')" >/dev/null
wait_until "a waiting consumer's queue ticks within 2 s under the new worker" 2 ticks_above held "$t4"

# --- the tick rate follows the consumer: 50 sends, 20 ms apart
spread() {
    q "do \$\$ begin for i in 1..50 loop perform pgque.send('$1', 's' || i); commit; perform pg_sleep(0.02); end loop; end \$\$" >/dev/null
}
new_queue rate
reload "pgque.tick_defer = '100ms'"
r0=$(ticks rate); spread rate; sleep 0.2; r1=$(ticks rate)
reload "pgque.tick_defer = 0"
spread rate; sleep 0.2; r2=$(ticks rate)
echo "# 50 sends 20 ms apart, a subscriber that does not read: $((r1 - r0)) ticks with tick_defer 100 ms, $((r2 - r1)) with tick_defer 0"
check "unread ticks: 50 sends 20 ms apart make at most 25 ticks (tick_defer 100 ms)" test $((r1 - r0)) -le 25
check "tick_defer 0: they make at least 40 (about one per send, as before)" test $((r2 - r1)) -ge 40
reload "pgque.tick_defer = '60s'"

# --- cooperative consumers: a member that catches up wakes the worker too
new_queue coop
q "select pgque.register_subconsumer('coop', 'cc', 'm1')" >/dev/null
q "select pgque.send('coop', 'k1'); select pgque.send('coop', 'k2')" >/dev/null
sleep 0.5
t5=$(ticks coop)
check_eq "k1, k2 held: cc subscribed after the last tick, c did not read it" "$t5" "$(ticks coop)"
check_eq "cc is cooperative" 1 "$(q "select count(*) from pgque.get_consumer_info('coop', 'cc')")"
check "a cooperative member that catches up gets them within 2 s" got coop k2 m1

finish
