#!/usr/bin/env bash
# Metrics scraped by a real Prometheus server (Debian's prometheus): the CLI
# serves pgque.metrics() at /metrics (pgque metrics --listen), Prometheus
# scrapes it every second, and its query API returns the backlog a queue
# has; while the database is down the endpoint answers 503, and it serves
# again once the database is back.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/lib/cluster.sh
source test/lib/check.sh

C=prometheus
cluster_init $C 54370 "fsync = off" || exit 1
cluster_start $C || exit 1
DIR=$(cluster_dir $C)
PGQUE=client/build/pgque
M=127.0.0.1:54371      # the CLI's endpoint
P=127.0.0.1:54372      # Prometheus
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; cluster_stop $C' EXIT
q() { cluster_psql $C -X -q -At -d app -c "$1"; }

cluster_psql $C -q -c "create database app" >/dev/null
q "create extension pgque"
q "select pgque.create_queue('promq'), pgque.subscribe('promq', 'c')" >/dev/null
q "select count(pgque.send('promq', 'e' || i)) from generate_series(1, 37) i" >/dev/null
q "select pgque.force_tick('promq')" >/dev/null

"$PGQUE" metrics --dsn "$(cluster_dsn $C app)" --listen "$M" 2>"$DIR/metrics.err" &
pids+=($!)
wait_until "pgque metrics --listen serves /metrics" 20 \
    bash -c "curl -sf http://$M/metrics | grep -q '^pgque_up{version='"
check_eq "the endpoint reports the backlog" 'pgque_pending_events{queue="promq",consumer="c"} 37' \
    "$(curl -sf "http://$M/metrics" | grep '^pgque_pending_events{queue="promq"')"

mkdir -p "$DIR/prom"
cat >"$DIR/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: pgque
    static_configs:
      - targets: ['$M']
YML
prometheus --config.file="$DIR/prometheus.yml" --storage.tsdb.path="$DIR/prom" \
    --web.listen-address="$P" >"$DIR/prometheus.log" 2>&1 &
pids+=($!)
query() {   # PromQL -> the first result's value, or nothing
    curl -sf --get "http://$P/api/v1/query" --data-urlencode "query=$1" |
        sed -n 's/.*"value":\[[0-9.]*,"\([^"]*\)"\].*/\1/p'
}
prom_sees() { [ "$(query "$1")" = "$2" ]; }
wait_until "Prometheus scrapes the endpoint (up == 1)" 60 prom_sees 'up{job="pgque"}' 1
wait_until "Prometheus has the queue's backlog: pgque_pending_events 37" 30 \
    prom_sees 'pgque_pending_events{queue="promq",consumer="c"}' 37

# the consumer reads everything: the backlog falls to 0 in Prometheus too
q "select pgque.ack(batch_id) from pgque.receive('promq', 'c', 100) limit 1" >/dev/null
wait_until "and sees it drained (0)" 30 prom_sees 'pgque_pending_events{queue="promq",consumer="c"}' 0

# the database goes away: 503 with the reason; back: served again
cluster_stop $C >/dev/null
check_eq "a scrape while the database is down gets 503" 503 \
    "$(curl -s -o "$DIR/down.txt" -w '%{http_code}' "http://$M/metrics")"
check "with the reason" grep -q "pgque metrics:" "$DIR/down.txt"
cluster_start $C >/dev/null
wait_until "served again once the database is back" 30 \
    bash -c "curl -sf http://$M/metrics | grep -q '^pgque_up{version='"
finish
