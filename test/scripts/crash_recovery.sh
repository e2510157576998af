#!/usr/bin/env bash
# Crash test: two producers and two consumers run while the postmaster, the
# pgque worker and a consumer backend are each killed with -9, three rounds
# each, with table rotation going on. Producers record each event after its
# commit returned; consumers insert what they receive into a table in the
# same transaction as the ack. Afterwards every recorded event must have
# been processed by each consumer exactly once.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/lib/cluster.sh
source test/lib/check.sh

C=crash
ROUNDS=${CRASH_ROUNDS:-3}
cluster_init $C 54356 "pgque.maint_period = 1" || exit 1
cluster_start $C || exit 1
work=$(cluster_dir $C)/work
rm -rf "$work"
mkdir -p "$work"
chmod 777 "$work"
trap 'touch "$work/stop"; wait; cluster_stop $C' EXIT

HOST=$(cluster_dir $C)
PORT=$(cluster_port $C)
q() { psql -X -q -At -h "$HOST" -p "$PORT" -U postgres -d app -c "$1" 2>/dev/null; }
up() { q "select 1" | grep -q 1; }

psql -X -q -h "$HOST" -p "$PORT" -U postgres -d postgres -c "create database app" >/dev/null
q "create extension pgque"
q "select pgque.create_queue('crashq')" >/dev/null
q "select pgque.set_queue_config('crashq', 'rotation_period', '2 seconds')" >/dev/null
for c in cons1 cons2; do
    q "select pgque.subscribe('crashq', '$c')" >/dev/null
    q "create table processed_$c (msg_id bigint, payload text)"
done

producer() {   # name
    local i=0 out
    while [ ! -f "$work/stop" ]; do
        out=$(psql -X -q -At -h "$HOST" -p "$PORT" -U postgres -d app -c \
            "select count(*) from unnest(pgque.send_batch('crashq', array['$1-$i-a', '$1-$i-b', '$1-$i-c']))" 2>/dev/null)
        if [ "$out" = 3 ]; then
            printf '%s\n' "$1-$i-a" "$1-$i-b" "$1-$i-c" >>"$work/sent"
            i=$((i + 1))
        else
            sleep 0.2
        fi
    done
}

consume_once() {   # consumer; prints how many it processed
    psql -X -q -At -h "$HOST" -p "$PORT" -U postgres -d app -c \
        "with m as (select * from pgque.receive('crashq', '$1', 300)),
              ins as (insert into processed_$1 select msg_id, payload from m)
         select count(*) from m, lateral (select pgque.ack(max(m2.batch_id)) from m m2) a" 2>/dev/null
}

consumer() {   # consumer
    while [ ! -f "$work/stop" ]; do
        consume_once "$1" >/dev/null || sleep 0.2
        sleep 0.01
    done
}

restart_when_down() {
    for _ in $(seq 50); do
        up && return 0
        if [ ! -f "$HOST/data/postmaster.pid" ] || ! kill -0 "$(head -1 "$HOST/data/postmaster.pid" 2>/dev/null)" 2>/dev/null; then
            cluster_start $C >/dev/null 2>&1
        fi
        sleep 0.3
    done
    up
}

switch0=$(q "select queue_switch_time from pgque.queue where queue_name = 'crashq'")
producer p1 &
producer p2 &
consumer cons1 &
consumer cons2 &
sleep 3

kills=0
for round in $(seq "$ROUNDS"); do
    # the postmaster
    sleep 2
    cluster_kill $C
    kills=$((kills + 1))
    wait_until "round $round: back after kill -9 of the postmaster" 30 restart_when_down

    # the worker
    sleep 2
    wpid=$(q "select pid from pg_stat_activity where backend_type = 'pgque worker' and datname = 'app'")
    if [ -n "$wpid" ] && kill -9 "$wpid" 2>/dev/null; then kills=$((kills + 1)); fi
    sleep 1
    wait_until "round $round: back after kill -9 of the worker" 30 restart_when_down

    # a consumer backend, preferably in the middle of receive/ack
    sleep 2
    cpid=""
    for _ in $(seq 50); do
        cpid=$(q "select pid from pg_stat_activity where datname = 'app' and query like '%pgque.receive(''crashq''%' and state = 'active' and pid <> pg_backend_pid() limit 1")
        [ -n "$cpid" ] && break
        sleep 0.02
    done
    [ -z "$cpid" ] && cpid=$(q "select pid from pg_stat_activity where datname = 'app' and backend_type = 'client backend' and pid <> pg_backend_pid() limit 1")
    if [ -n "$cpid" ] && kill -9 "$cpid" 2>/dev/null; then kills=$((kills + 1)); fi
    sleep 1
    wait_until "round $round: back after kill -9 of a consumer backend" 30 restart_when_down
done

touch "$work/stop"
wait
echo "# $kills kills; producers recorded $(wc -l <"$work/sent") events"

# drain what is left: the worker ticks and rotates on its own
for c in cons1 cons2; do
    idle=0
    while [ $idle -lt 20 ]; do
        n=$(consume_once $c)
        if [ -z "$n" ] || [ "$n" = 0 ]; then idle=$((idle + 1)); sleep 0.1; else idle=0; fi
    done
done

q "create table sent (payload text)"
psql -X -q -h "$HOST" -p "$PORT" -U postgres -d app -c "\\copy sent from '$work/sent'" >/dev/null
total=$(q "select count(*) from sent")
check "producers sent events" test "$total" -gt 100
for c in cons1 cons2; do
    missing=$(q "select count(*) from sent s where not exists (select from processed_$c p where p.payload = s.payload)")
    dup=$(q "select count(*) - count(distinct payload) from processed_$c")
    extra=$(q "select count(*) from processed_$c p where not exists (select from sent s where s.payload = p.payload)")
    echo "# $c: sent $total, processed $(q "select count(*) from processed_$c"), missing $missing, duplicated $dup, committed but unconfirmed to the producer $extra"
    check_eq "$c: no event missing" 0 "$missing"
    check_eq "$c: no event processed twice" 0 "$dup"
done
check_eq "the worker rotated tables during the run" "t" \
    "$(q "select queue_switch_time > '$switch0' from pgque.queue where queue_name = 'crashq'")"
check "at least 6 kills hit a process" test "$kills" -ge 6
check_eq "event tables have no dead tuples" 0 "$(q "select pg_stat_force_next_flush(); select coalesce(sum(n_dead_tup), 0) from pg_stat_user_tables where schemaname = 'pgque' and relname like 'event\\_%'" | tail -1)"
finish
