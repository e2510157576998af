#!/usr/bin/env bash
# The C++ client, its Consumer and the CLI through pgbouncer in transaction
# pooling mode (docs/operations.md#pgbouncer): server connections change
# between transactions, so named prepared statements and LISTEN do not
# work there. The CLI sends again and again (with named statements forced,
# the second send fails: "prepared statement ... already exists"); then four
# producers send 10,000 events through pgbouncer while a transactional
# Consumer, also through pgbouncer, records each message in a table in the
# batch's transaction, and says once that it polls instead of listening.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/lib/cluster.sh
source test/lib/check.sh

C=pgbouncer
BOUNCER_PORT=54367
PGBOUNCER=${PGBOUNCER:-$(command -v pgbouncer || echo /usr/sbin/pgbouncer)}
BUILD=client/build
if [ ! -x "$PGBOUNCER" ]; then
    echo "pgbouncer is not installed (test/deps.sh installs it)"
    echo "RESULT passed=0 failed=1"
    exit 1
fi
if [ ! -x $BUILD/pgque ] || [ ! -x $BUILD/tests/pgque_test_pgbouncer_consumer ]; then
    { cmake -S client -B $BUILD -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build $BUILD -j2; } >/dev/null ||
        { echo "RESULT passed=0 failed=1"; exit 1; }
fi

cluster_init $C 54366 "fsync = off" "max_connections = 50" || exit 1
cluster_start $C || exit 1
DIR=$(cluster_dir $C)
HOST=$DIR
PORT=$(cluster_port $C)
stop_all() {
    [ -f "$DIR/pgbouncer.pid" ] && kill "$(cat "$DIR/pgbouncer.pid")" 2>/dev/null
    jobs -p | xargs -r kill 2>/dev/null
    cluster_stop $C
}
trap stop_all EXIT
q() { psql -X -q -At -h "$HOST" -p "$PORT" -U postgres -d app -c "$1"; }

psql -X -q -h "$HOST" -p "$PORT" -U postgres -d postgres -c "create database app" >/dev/null
q "create extension pgque"
q "select pgque.create_queue('bq')" >/dev/null
q "select pgque.set_queue_config('bq', 'ticker_max_lag', '200 milliseconds')" >/dev/null
q "select pgque.create_queue('cq')" >/dev/null
q "select pgque.subscribe('cq', 'peek')" >/dev/null
q "create table got (msg_id bigint, payload text)"

# a small pool, so that clients share server connections all the time
cat >"$DIR/pgbouncer.ini" <<EOF
[databases]
app = host=$DIR port=$PORT dbname=app user=postgres
[pgbouncer]
pool_mode = transaction
listen_addr =
listen_port = $BOUNCER_PORT
unix_socket_dir = $DIR
auth_type = trust
auth_file = $DIR/userlist.txt
default_pool_size = 3
max_client_conn = 100
pidfile = $DIR/pgbouncer.pid
logfile = $DIR/pgbouncer.log
EOF
echo '"postgres" ""' >"$DIR/userlist.txt"
[ "$(id -u)" = 0 ] && chown postgres: "$DIR/pgbouncer.ini" "$DIR/userlist.txt"
as_postgres "$PGBOUNCER" -d "$DIR/pgbouncer.ini" || { echo "RESULT passed=0 failed=1"; exit 1; }
BOUNCER="host=$DIR port=$BOUNCER_PORT user=postgres dbname=app"
wait_until "pgbouncer accepts connections" 30 psql -X -At -d "$BOUNCER" -c "select 1"

# --- the CLI, one process per send ------------------------------------------
ok=0
for i in $(seq 20); do
    $BUILD/pgque --dsn "$BOUNCER" send cq "cli $i" >/dev/null 2>>"$DIR/cli.err" && ok=$((ok + 1))
done
check_eq "20 CLI sends through pgbouncer succeed" 20 "$ok"
check_eq "no error output" "" "$(cat "$DIR/cli.err")"
# with named statements forced, as every send did before: the pool's three
# server connections each keep the statement of the first send they served
failed=0
for i in $(seq 10); do
    PGQUE_PREPARED=on $BUILD/pgque --dsn "$BOUNCER" send cq "forced $i" >/dev/null 2>>"$DIR/forced.err" ||
        failed=$((failed + 1))
done
check "PGQUE_PREPARED=on: sends fail" test "$failed" -ge 7
check "... with prepared statement \"pgque_1_send\" already exists" \
    grep -q 'prepared statement "pgque_1_send" already exists' "$DIR/forced.err"
PGQUE_PREPARED=bogus $BUILD/pgque --dsn "$BOUNCER" send cq bogus >/dev/null 2>"$DIR/bogus.err"
check_eq "PGQUE_PREPARED=bogus: a usage error (exit 1)" 1 "$?"
check "... that names the variable" grep -q PGQUE_PREPARED "$DIR/bogus.err"
q "select pgque.force_tick('cq')" >/dev/null
check_eq "the CLI's 20 events arrived" 20 \
    "$(q "select count(*) from pgque.receive('cq', 'peek', 1000) where payload like 'cli %'")"

# --- 4 producers and a Consumer, all through pgbouncer ------------------------
q "select pgque.subscribe('bq', 'c')" >/dev/null
N=10000
$BUILD/tests/pgque_test_pgbouncer_consumer "$BOUNCER" bq c $N 240 >"$DIR/consumer.out" 2>"$DIR/consumer.log" &
consumer=$!
wait_until "the consumer is up" 60 grep -q "polling every" "$DIR/consumer.log"
for p in 1 2 3 4; do
    $BUILD/pgque-example-producer --dsn "$BOUNCER" --queue bq --count $((N / 4)) --type "p$p" \
        >"$DIR/producer_$p.out" 2>"$DIR/producer_$p.err" &
done
prod_ok=0
for pid in $(jobs -p); do
    [ "$pid" = "$consumer" ] && continue
    wait "$pid" && prod_ok=$((prod_ok + 1))
done
check_eq "4 producers finished" 4 "$prod_ok"
awk '{print $2}' "$DIR"/producer_*.out | sort -n >"$DIR/sent.txt"
check_eq "they printed 10,000 event ids" $N "$(sort -u "$DIR/sent.txt" | wc -l)"
wait "$consumer"
check_eq "the consumer ended after 10,000 messages" 0 "$?"
check_eq "each message recorded once" "$N|$N" \
    "$(q "select count(*), count(distinct msg_id) from got")"
check_eq "... and they are the producers' events" 0 \
    "$(q "select msg_id from got order by 1" | diff - "$DIR/sent.txt" | wc -l)"
check_eq "the consumer said once that it polls" 1 "$(grep -c "LISTEN is not available through a transaction pooler; polling every" "$DIR/consumer.log")"
check_eq "it found the pooler once" 1 "$(grep -c "unnamed statements" "$DIR/consumer.log")"
check_eq "no errors in the consumer's log" "" "$(grep -E '^\[(error|warning)\]' "$DIR/consumer.log")"
finish
