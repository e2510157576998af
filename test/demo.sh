#!/usr/bin/env bash
# make demo: build and install pgque and its C++ client, start a throwaway
# cluster with pgque preloaded, and show messages flowing from a C++
# producer to a C++ consumer -- ticked by the in-database worker -- then
# `pgque status`.
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh

test/deps.sh
echo "== building and installing the extension"
make -s >/dev/null
make -s install >/dev/null
echo "== building and installing the C++ client and the pgque CLI"
cmake -S client -B client/build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build client/build -j2 >/dev/null
cmake --install client/build >/dev/null
bin=client/build

echo "== starting a throwaway cluster in $(cluster_dir demo) (shared_preload_libraries = 'pgque')"
cluster_init demo 54330
cluster_start demo
trap 'cluster_stop demo; echo "== cluster stopped"' EXIT
export PGHOST=$(cluster_dir demo) PGPORT=$(cluster_port demo) PGUSER=postgres PGDATABASE=postgres
DSN=$(cluster_dsn demo)

psql -X -q -c "create extension pgque"
pgque create orders
pgque subscribe orders billing

echo "== consumer 'billing' (C++, LISTENs on pgque_orders) waits for 5 messages"
"$bin/pgque-example-consumer" --dsn "$DSN" --queue orders --consumer billing --count 5 --timeout 30 &
consumer=$!
sleep 1
echo "== producer (C++) sends 5 orders; the worker ticks them within milliseconds"
"$bin/pgque-example-producer" --dsn "$DSN" --queue orders --count 5
wait $consumer

echo "== pgque status"
pgque status
echo "== pgque queues"
pgque queues
