#!/usr/bin/env bash
# make bench: measure pgque on a throwaway cluster (fsync and
# synchronous_commit on unless --fsync-off) and write bench/results/latest.md.
#   bench/run.sh [--fsync-off] [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh

fsync=on
quick=0
for a in "$@"; do
    case $a in
        --fsync-off) fsync=off ;;
        --quick) quick=1 ;;
        *) echo "usage: $0 [--fsync-off] [--quick]" >&2; exit 2 ;;
    esac
done
secs=$([ $quick = 1 ] && echo 5 || echo 20)

test/deps.sh --bench
make -s >/dev/null
make -s install >/dev/null
mkdir -p build/bench bench/results
cc -O2 -Wall -o build/bench/latency bench/latency.c -I"$(pg_config --includedir)" -lpq -lpthread

B=bench
cluster_init $B 54360 "fsync = $fsync" "synchronous_commit = $fsync" "shared_buffers = 512MB" \
    "max_wal_size = 4GB" "checkpoint_timeout = 30min"
cluster_start $B
trap 'cluster_stop $B' EXIT
cluster_psql $B -d postgres -c "create database bench" >/dev/null
cluster_psql $B -d bench -c "create extension pgque" >/dev/null
DSN=$(cluster_dsn $B bench)
out=bench/results/latest.md
reload() { cluster_psql $B -d postgres -c "alter system set $1" -c "select pg_reload_conf()" >/dev/null; sleep 1; }

worker_cpu_ms() {   # CPU time (ms) used so far by the bench database's worker
    local pid
    pid=$(cluster_psql $B -d postgres -At -c "select pid from pg_stat_activity where backend_type = 'pgque worker' and datname = 'bench'")
    awk '{print ($14 + $15) * 10}' "/proc/$pid/stat"
}

{
    echo "# pgque benchmark results"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, PostgreSQL $(cluster_psql $B -d postgres -At -c 'show server_version'), fsync = $fsync, synchronous_commit = $fsync."
    echo
    echo "## End-to-end latency (send commit -> LISTENing consumer holds the message)"
    echo
    echo "1,000 events/s for $secs s, one transaction per event; default settings unless noted."
    echo
    echo "| mode | p50 ms | p95 ms | p99 ms | max ms | missing | idle ticks/s | worker CPU while idle |"
    echo "|---|---|---|---|---|---|---|---|"
} >"$out"

latency_row() {   # label, extra latency args
    local label=$1 res cpu0 cpu1
    shift
    res=$(build/bench/latency --dsn "$DSN" --rate 1000 --seconds "$secs" --idle 10 "$@")
    echo "$res" >&2
    cpu0=$(worker_cpu_ms)
    sleep 10
    cpu1=$(worker_cpu_ms)
    echo "$res" | awk -v label="$label" -v cpu="$(( (cpu1 - cpu0) / 10 ))" '
        /^latency_ms/ {p50=$3; p95=$5; p99=$7; max=$9}
        /missing/ {miss=$NF}
        /^idle_ticks/ {idle=$2}
        END {printf "| %s | %s | %s | %s | %s | %s | %s | %s ms/s |\n", label, p50, p95, p99, max, miss, idle/10, cpu}' >>"$out"
}

latency_row "wake on commit (default)"
reload "pgque.wake_on_commit = off"
reload "pgque.naptime = '10ms'"
latency_row "polling every 10 ms, ticker_max_lag 0" --max-lag 0
reload "pgque.wake_on_commit = on"
reload "pgque.naptime = '250ms'"

{
    echo
    echo "Targets (SPEC §6): p50 <= 3 ms, p99 <= 15 ms at 1,000 events/s with default settings."
} >>"$out"
cat "$out"
