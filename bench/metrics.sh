#!/usr/bin/env bash
# The cost of one pgque.metrics() call as the number of queues grows
# (1, 100, 1,000; 10 of them busy, each with one consumer), on a cluster of
# its own (port 54368). Writes bench/results/metrics.md (BENCH_OUT).
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh
out=${BENCH_OUT:-bench/results/metrics.md}
C=bench-metrics
cluster_init $C 54368 "fsync = off" >/dev/null
cluster_start $C >/dev/null
trap 'cluster_stop $C' EXIT
q() { cluster_psql $C -X -q -At -d bm "$@"; }
cluster_psql $C -q -c "create database bm" >/dev/null
q -c "create extension pgque" >/dev/null

timings() {   # statement: min / median / max ms of 15 calls after a first one
    local calls=(-c "\\timing on") r
    for r in $(seq 16); do calls+=(-c "$1"); done
    q -o /dev/null "${calls[@]}" |
        sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n +2 |
        sort -n | awk '{ v[NR] = $1 } END { print v[1] " / " v[int((NR + 1) / 2)] " / " v[NR] }'
}
measure() {   # label: a table row for the queues as they are now
    local ms server_ms lines
    # one session, as a scraper keeps: the first call plans, the rest reuse;
    # the text comes to the client as to a scraper (psql writes it to
    # /dev/null, its timings to stdout)
    ms=$(timings "select pgque.metrics()")
    # the same calls with only the text's size sent back: the server's part
    server_ms=$(timings "select octet_length(pgque.metrics())")
    lines=$(q -c "select count(*) from regexp_split_to_table(pgque.metrics(), E'\\n') l where l like 'pgque_%'")
    ir=$(instructions)
    rows+="| $1 | $lines | $ms | $server_ms | $ir |"$'\n'
    echo "bench metrics: $1: $ms ms, server $server_ms ms, $ir instructions" >&2
}

# Instructions per call (callgrind, deterministic where the times are not):
# the server stopped, one backend in single-user mode calls metrics() 11
# times and once; the difference over 10 cancels its start and exit.
command -v valgrind >/dev/null || apt-get install -y -qq --no-install-recommends valgrind >/dev/null
instructions() {
    local dir f n
    dir=$(cluster_dir $C)
    cluster_stop $C >/dev/null
    for n in 11 1; do
        f=$dir/metrics_cg_$n
        printf 'select count(pgque.metrics()) from generate_series(1, %d);\n' $n >"$f.sql"
        chmod a+r "$f.sql"
        as_postgres valgrind --tool=callgrind --callgrind-out-file="$f.cg" \
            "$PGBIN/postgres" --single -j -D "$dir/data" bm <"$f.sql" >"$f.out" 2>&1
    done
    awk '/^(summary|totals):/ { t[FILENAME] = $2 } END { printf "%.1f M", (t[ARGV[1]] - t[ARGV[2]]) / 10 / 1e6 }' \
        "$dir/metrics_cg_11.cg" "$dir/metrics_cg_1.cg"
    cluster_start $C >/dev/null
}
rows=""
have=0
for n in 1 100 1000; do
    q -c "select count(pgque.create_queue('mq' || i)) from generate_series($((have + 1)), $n) i" \
      -c "select count(pgque.subscribe('mq' || i, 'c')) from generate_series($((have + 1)), $n) i" >/dev/null
    have=$n
    q -c "select count(pgque.send('mq' || i, 'x')) from generate_series(1, least(10, $n)) i, generate_series(1, 100)" >/dev/null
    sleep 1   # the worker ticks them
    measure "$n"
done
# a consumer at its queue's newest tick costs one probe less than one
# behind it: tick every queue once more, so that every consumer is behind
q -c "select count(pgque.force_tick('mq' || i)) from generate_series(1, 1000) i" -c "select pgque.ticker()" >/dev/null
measure "1000, every consumer behind the newest tick"
{
    echo "# pgque.metrics(): cost by number of queues"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, \`bench/metrics.sh\` at $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src extension || echo ' with changes'). One cluster (fsync off, worker running); each queue has one consumer, the first 10 got 100 events each. Sixteen calls per size in one session (as a scraper keeps one), the first left out (it plans); psql's client-side time of fetching the text (about 1 MB at 1,000 queues), one round trip on a unix socket; "server only": the same calls returning only the text's length (\`octet_length\`), so without the transfer and psql's handling of the text. Instructions: callgrind, the server stopped, one single-user backend calling metrics() 11 times and once (the difference over 10)."
    echo
    echo "| queues | sample lines | ms per call with the text fetched, min / median / max | ms per call, server only | instructions per call |"
    echo "|---|---|---|---|---|"
    printf '%s' "$rows"
    echo
    echo "Target (issue 14): ≤ 10 ms with 1,000 queues."
} >"$out"
cat "$out"
