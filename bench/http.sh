#!/usr/bin/env bash
# make bench-http: pgque serve under load beside the SQL it runs, on one
# throwaway cluster (fsync and synchronous_commit on, pgque preloaded) and
# one `pgque serve --pool 8` (client/build/pgque), in one run:
#   - publish: 4 keep-alive HTTP clients POSTing 1 and 100 messages per
#     request, against 4 libpq connections calling send / send_batch(100);
#   - consume: 4 HTTP consumers (GET limit=100 + one bulk ack per batch)
#     draining 200,000 messages, against 4 libpq connections running
#     receive_leased + ack_message in one transaction (the SQL the HTTP
#     consumer runs, as the same member); each side counts what was acked;
#   - latency: 100 messages/s for 20 s, one long-polling consumer (wait=2s):
#     publish request sent -> GET returned, p50/p99/max.
# Load: bench/http_load.cpp. Results: bench/results/http.md (raw lines in
# build/bench/http.out). Environment: HTTP_SECONDS (10), PGBIN (as in
# bench/nodecay.sh: a private server copy is installed into with DESTDIR).
set -euo pipefail
cmdline="bench/http.sh $*"
cd "$(dirname "$0")/.."
source test/lib/cluster.sh
source bench/lib/install.sh
SECS=${HTTP_SECONDS:-10}
C=bench_http
PORT=54391
HTTP=127.0.0.1:54392
OUT=bench/results/http.md
RAW=build/bench/http.out

test/deps.sh --bench
bench_install http
mkdir -p build/bench
cmake -S client -B client/build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build client/build -j2 --target pgque_cli >/dev/null
g++ -O2 -std=c++17 -Wall -I"$(pg_config --includedir)" -o build/bench/http_load bench/http_load.cpp \
    $(pkg-config --cflags --libs cpp-httplib) -lpq -lpthread

cluster_init $C $PORT "fsync = on" "synchronous_commit = on" "max_connections = 100"
cluster_start $C
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; cluster_stop $C' EXIT
q() { cluster_psql $C -d bench -At -c "$1"; }
cluster_psql $C -d postgres -c "create database bench" >/dev/null
q "create extension pgque"
for queue in q_pub_http q_pub_sql q_con_http q_con_sql q_lat; do
    q "select pgque.create_queue('$queue')" >/dev/null
done
DSN=$(cluster_dsn $C bench)
TOKEN=bench-http-token-0123456789
DIR=$(cluster_dir $C)
echo "$TOKEN pgque_admin" >"$DIR/tokens"
client/build/pgque serve --dsn "$DSN" --listen $HTTP --tokens "$DIR/tokens" --pool 8 >"$DIR/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf "http://$HTTP/healthz" >/dev/null && break; sleep 0.1; done

load() { build/bench/http_load --dsn "$DSN" --url "http://$HTTP" --token "$TOKEN" "$@"; }
: >"$RAW"
for b in 1 100; do
    load --mode publish_http --threads 4 --seconds "$SECS" --batch $b | sed "s/^/batch $b /" | tee -a "$RAW"
    load --mode publish_sql --threads 4 --seconds "$SECS" --batch $b | sed "s/^/batch $b /" | tee -a "$RAW"
done
# the consumers: made first (a consumer starts at the newest tick), then the fill
curl -sf -H "Authorization: Bearer $TOKEN" "http://$HTTP/v1/queues/q_con_http/messages?consumer=bench" >/dev/null
q "select count(*) from pgque.receive_leased('q_con_sql', 'bench', 'http')" >/dev/null
for queue in q_con_http q_con_sql; do
    q "select count(pgque.send_batch('$queue', 'default', array(select 'event ' || i from generate_series(s, s + 999) i)))
         from generate_series(1, 200000, 1000) s" >/dev/null
    q "select pgque.force_tick('$queue')" >/dev/null
done
sleep 1
load --mode consume_http --threads 4 --batch 100 | sed "s/^/batch 100 /" | tee -a "$RAW"
load --mode consume_sql --threads 4 --batch 100 | sed "s/^/batch 100 /" | tee -a "$RAW"
curl -sf -H "Authorization: Bearer $TOKEN" "http://$HTTP/v1/queues/q_lat/messages?consumer=bench" >/dev/null
load --mode latency --seconds 20 | tee -a "$RAW"
# what the drains left: leases not settled, and what a receive still gets
left() {
    q "select (select count(*) from pgque.retry_queue r join pgque.queue x on x.queue_id = r.ev_queue
                where x.queue_name = '$1') || ' leases, '
           || (select count(*) from pgque.receive_leased('$1', 'bench', 'http', 1000000)) || ' messages'"
}
left_http=$(left q_con_http)
left_sql=$(left q_con_sql)

rate() { awk -v b="$1" -v m="$2" '$1 == "batch" && $2 == b && $3 == m { print $9 }' "$RAW"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
lat() { awk -v k="$1" '$1 == "latency" { for (i = 2; i < NF; i++) if ($i == k) print $(i + 1) }' "$RAW"; }
{
    echo "# pgque serve under load"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores (shared), PostgreSQL 15, fsync and synchronous_commit on; pgque: $build_note; \`pgque serve --pool 8\` from the same tree. Command: \`$cmdline\` (HTTP_SECONDS=$SECS). Load: bench/http_load.cpp; raw lines: $RAW. Client, server and database on one machine."
    echo
    echo "| | HTTP (pgque serve) messages/s | SQL (libpq) messages/s | HTTP / SQL |"
    echo "|---|---|---|---|"
    for b in 1 100; do
        h=$(rate $b publish_http); s=$(rate $b publish_sql)
        echo "| publish, $b per request, 4 clients | $h | $s | $(ratio "$h" "$s") |"
    done
    h=$(rate 100 consume_http); s=$(rate 100 consume_sql)
    echo "| consume 200,000, 100 per receive + one ack request per batch, 4 clients | $h | $s | $(ratio "$h" "$s") |"
    echo
    echo "Acked by the drains: HTTP $(awk '$3 == "consume_http" { print $5 }' "$RAW"), SQL $(awk '$3 == "consume_sql" { print $5 }' "$RAW") of 200,000; left after them: HTTP $left_http, SQL $left_sql."
    echo
    echo "Long-polling consumer (wait=2s, one bulk ack per batch), 100 messages/s for 20 s: $(lat sent) sent, $(lat received) received; latency (publish request sent → GET returned) p50 $(lat p50_ms) ms, p99 $(lat p99_ms) ms, max $(lat max_ms) ms."
} >"$OUT"
cat "$OUT"
