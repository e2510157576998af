#!/usr/bin/env bash
# How often the worker wakes while producers commit as fast as they can:
# 4 pgbench clients send one event per transaction for SECONDS (default 15);
# prints commits/s, the worker's wakeups/s (voluntary context switches, from
# /proc), its CPU time and ticks/s. Uses the installed build; own cluster on port 54361.
#
#   bench/wakeups.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh

secs=${1:-15}
C=bench-wakeups
cluster_init $C 54361
cluster_start $C
trap 'cluster_stop $C' EXIT
host=$(cluster_dir $C)
q() { as_postgres "$PGBIN/psql" -X -q -At -h "$host" -p 54361 -U postgres "$@"; }

q -d postgres -c "create database wk"
q -d wk -c "create extension pgque" -c "select pgque.create_queue('bench_q')" >/dev/null
worker=
for _ in $(seq 100); do
    worker=$(q -d postgres -c "select pid from pg_stat_activity where backend_type = 'pgque worker' and datname = 'wk'")
    [ -n "$worker" ] && break
    sleep 0.1
done
[ -n "$worker" ] || { echo "wakeups: the pgque worker did not start" >&2; exit 1; }

switches() { awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$worker/status"; }
ticks() { q -d wk -c "select count(*) from pgque.tick"; }
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$worker/stat"; }

s0=$(switches); t0=$(ticks); c0=$(cpu_ms)
tx=$(as_postgres "$PGBIN/pgbench" -n -h "$host" -p 54361 -U postgres -c 4 -j 2 -T "$secs" -M prepared \
        -D payload=01234567890123456789012345678901234567890123456789 \
        -f bench/pgbench/send.sql wk 2>/dev/null |
     awk -F': ' '/number of transactions actually processed/ { print $2 }')
s1=$(switches); t1=$(ticks); c1=$(cpu_ms)
echo "commits/s $((tx / secs)), worker wakeups/s $(((s1 - s0) / secs)), ticks/s $(((t1 - t0) / secs)), worker CPU $(((c1 - c0) / secs)) ms/s"
