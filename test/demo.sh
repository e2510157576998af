#!/usr/bin/env bash
# make demo: build and install pgque, start a throwaway cluster with the
# extension preloaded, and show messages flowing: send -> tick -> receive -> ack.
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh

test/deps.sh
make -s >/dev/null
make -s install >/dev/null

echo "== starting a throwaway cluster in $(cluster_dir demo)"
cluster_init demo 54330
cluster_start demo
trap 'cluster_stop demo; echo "== cluster stopped"' EXIT

sql() { cluster_psql demo -d postgres "$@"; }
sql -c "create extension pgque" \
    -c "select pgque.create_queue('orders')" \
    -c "select pgque.subscribe('orders', 'billing')" \
    -c "select pgque.set_queue_config('orders', 'ticker_max_lag', '0')" >/dev/null

echo "== producer: sending 5 orders"
for i in 1 2 3 4 5; do
    sql -At -c "select 'sent order $i as event ' || pgque.send('orders', 'order.created', '{\"order\": $i}')"
done

echo "== ticker: cutting a batch"
sql -At -c "select 'tick ' || pgque.ticker('orders')"

echo "== consumer 'billing': receive, process, ack"
sql -c "select msg_id, type, payload from pgque.receive('orders', 'billing', 100)"
sql -At -c "select 'acked batch ' || batch_id || ': ' || pgque.ack(batch_id) from pgque.receive('orders', 'billing', 100) limit 1"
sql -At -c "select 'left for billing: ' || count(*) from pgque.receive('orders', 'billing')"

echo "== pgque status"
sql -c "select * from pgque.status()"
