#!/usr/bin/env bash
# How often the worker wakes and ticks while producers commit as fast as
# they can: 4 pgbench clients send one event per transaction for SECONDS
# (default 15); prints commits/s, the worker's wakeups/s (voluntary context
# switches, from /proc), its CPU time and ticks/s. Uses the installed build
# (PGBIN: a private server tree); own cluster on port 54361 (WAKEUPS_PORT).
#
#   bench/wakeups.sh [SECONDS [CONSUMER]]
#
# CONSUMER: none (default: the queue has no subscriber), keepup (one
# consumer receives and acks in a loop) or slow (the same, sleeping 50 ms
# after each batch, as a consumer busy with its work would).
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh

secs=${1:-15}
consumer=${2:-none}
port=${WAKEUPS_PORT:-54361}
case $consumer in none|keepup|slow) ;; *) echo "usage: $0 [SECONDS [none|keepup|slow]]" >&2; exit 2 ;; esac
C=bench-wakeups
cluster_init $C "$port"
cluster_start $C
trap 'cluster_stop $C' EXIT
host=$(cluster_dir $C)
q() { as_postgres "$PGBIN/psql" -X -q -At -h "$host" -p "$port" -U postgres "$@"; }

q -d postgres -c "create database wk"
q -d wk -c "create extension pgque" -c "select pgque.create_queue('bench_q')" >/dev/null
[ "$consumer" != none ] && q -d wk -c "select pgque.subscribe('bench_q', 'c')" >/dev/null
worker=
for _ in $(seq 100); do
    worker=$(q -d postgres -c "select pid from pg_stat_activity where backend_type = 'pgque worker' and datname = 'wk'")
    [ -n "$worker" ] && break
    sleep 0.1
done
[ -n "$worker" ] || { echo "wakeups: the pgque worker did not start" >&2; exit 1; }

switches() { awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$worker/status"; }
ticks() { q -d wk -c "select coalesce(max(tick_id), 0) from pgque.tick"; }
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$worker/stat"; }

recv=$(mktemp)
{
    echo "with m as materialized (select * from pgque.receive('bench_q', 'c', 100000))"
    echo "select pgque.ack(batch_id), count(*) over () from m limit 1;"
    [ "$consumer" = slow ] && echo '\sleep 50 ms'
} >"$recv"
chmod a+r "$recv"
cpid=
if [ "$consumer" != none ]; then
    as_postgres "$PGBIN/pgbench" -n -h "$host" -p "$port" -U postgres -c 1 -T "$((secs + 1))" \
        -f "$recv" wk >"$recv.out" 2>&1 &
    cpid=$!
fi

s0=$(switches); t0=$(ticks); c0=$(cpu_ms)
tx=$(as_postgres "$PGBIN/pgbench" -n -h "$host" -p "$port" -U postgres -c 4 -j 2 -T "$secs" -M prepared \
        -D payload=01234567890123456789012345678901234567890123456789 \
        -f bench/pgbench/send.sql wk 2>/dev/null |
     awk -F': ' '/number of transactions actually processed/ { print $2 }')
s1=$(switches); t1=$(ticks); c1=$(cpu_ms)
batches=
if [ -n "$cpid" ]; then
    wait "$cpid" || true
    batches=", consumer batches/s $(awk -F': ' '/number of transactions actually processed/ { print $2 }' "$recv.out" | awk -v s="$((secs + 1))" '{ printf "%d", $1 / s }')"
fi
rm -f "$recv" "$recv.out"
echo "consumer $consumer: commits/s $((tx / secs)), worker wakeups/s $(((s1 - s0) / secs)), ticks/s $(((t1 - t0) / secs)), worker CPU $(((c1 - c0) / secs)) ms/s$batches"
