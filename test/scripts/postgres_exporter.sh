#!/usr/bin/env bash
# contrib/postgres_exporter/pgque.yaml in Debian's prometheus-postgres-exporter:
# connected as a role that may only run pgque.metrics(), the exporter serves
# every sample of pgque.metrics() under the same name, labels (plus datname
# and server) and value, without a scrape error; a backlog shows and drains;
# while the database is down the exporter says pg_up 0 and serves no pgque_
# sample.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/lib/cluster.sh
source test/lib/check.sh
source test/lib/metrics_fixture.sh

C=postgres_exporter
cluster_init $C 54377 "fsync = off" "pgque.maint_period = 1" || exit 1
cluster_start $C || exit 1
DIR=$(cluster_dir $C)
E=127.0.0.1:54378      # the exporter
QUERIES=$PWD/contrib/postgres_exporter/pgque.yaml
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; cluster_stop $C' EXIT
q() { cluster_psql $C -X -q -At -d app -c "$1"; }

metrics_fixture $C app || { finish; exit 1; }

# the least a scraper needs: the schema and pgque.metrics(), not pgque_reader
q "create role exporter login; grant usage on schema pgque to exporter;
   grant execute on function pgque.metrics() to exporter" || exit 1
as_exporter() { cluster_psql $C -X -q -At -U exporter -d app -c "$1"; }
check "the exporter's role runs pgque.metrics()" as_exporter "select pgque.metrics()"
refused() { ! as_exporter "$1"; }
check "and cannot consume" refused "select pgque.receive('expq', 'c')"
check "nor read the queue tables" refused "select count(*) from pgque.queue"

DATA_SOURCE_NAME="host=$DIR port=54377 user=exporter dbname=app sslmode=disable" \
    prometheus-postgres-exporter --extend.query-path="$QUERIES" --web.listen-address="$E" \
    >"$DIR/exporter.log" 2>&1 &
pids+=($!)
# one series of the exporter's /metrics by name and labels in its (sorted)
# order, without the server label; prints its value
scrape() { curl -sf --max-time 10 "http://$E/metrics" >"$DIR/scrape.txt" 2>/dev/null; }
value() { S="$1 " awk 'index($0, ENVIRON["S"]) == 1 { print $NF; exit }' "$DIR/scrape.txt"; }
shows() { scrape && sed -i 's/,server="[^"]*"//; s/{server="[^"]*"}//' "$DIR/scrape.txt" && [ "$(value "$1")" = "$2" ]; }

wait_until "the exporter serves the backlog: 37 pending for c" 30 \
    shows 'pgque_pending_events{consumer="c",datname="app",queue="expq"}' 37
check_eq "pg_up" 1 "$(value pg_up)"
check_eq "no scrape error (every query of the file ran)" 0 "$(value pg_exporter_last_scrape_error)"
check_eq "the queries file loaded" 0 \
    "$(grep '^pg_exporter_user_queries_load_error{' "$DIR/scrape.txt" | sed 's/.* //')"
check_eq "0 pending for d, which read and acknowledged" 0 \
    "$(value 'pgque_pending_events{consumer="d",datname="app",queue="expq"}')"
check_eq "37 pending for e, whose batch is open" 37 \
    "$(value 'pgque_pending_events{consumer="e",datname="app",queue="expq"}')"
check_eq "1 batch open" 1 "$(value 'pgque_batches_open{datname="app",queue="expq"}')"
check_eq "1 retry waiting" 1 "$(value 'pgque_retries_waiting{datname="app",queue="expq"}')"
check_eq "1 dead letter" 1 "$(value 'pgque_dead_letters{datname="app",queue="expq"}')"
check_eq "37 events sent" 37 "$(value 'pgque_events_sent_total{datname="app",queue="expq"}')"
check_eq "rotation blocked" 1 "$(value 'pgque_rotation_blocked{datname="app",queue="expq"}')"
check "by a consumer" grep -q '^pgque_rotation_blocked_by{by="consumer \\"[ce]\\"",datname="app",queue="expq"} 1$' \
    "$DIR/scrape.txt"
check_eq "the schedule, not failing" 0 \
    "$(value 'pgque_schedule_failing{datname="app",queue="expsched",schedule="yearly"}')"
check_eq "the worker runs" 1 "$(value 'pgque_worker_running{datname="app"}')"
check_eq "a queue name with every escaped character comes out as pgque.metrics() writes it" 0 \
    "$(value 'pgque_pending_events{consumer="c\"2",datname="app",queue="odd \"q\" \\ x\ny"}')"
check "the types are kept: counters" grep -qx '# TYPE pgque_events_sent_total counter' "$DIR/scrape.txt"
check "and gauges" grep -qx '# TYPE pgque_pending_events gauge' "$DIR/scrape.txt"

# with the worker stopped nothing changes between two reads but the clock:
# every sample of pgque.metrics() is served, with the same value
q "select pgque.stop()" >/dev/null
wait_until "the exporter sees the worker stopped" 20 shows 'pgque_worker_running{datname="app"}' 0
q "select pgque.metrics()" >"$DIR/metrics.txt"
scrape
check "the exporter serves exactly pgque.metrics()'s samples (test/lib/promtext.py compare)" \
    python3 test/lib/promtext.py compare "$DIR/metrics.txt" "$DIR/scrape.txt" app
python3 test/lib/promtext.py compare "$DIR/metrics.txt" "$DIR/scrape.txt" app | tail -n 20
q "select pgque.start()" >/dev/null
wait_until "and running again" 20 shows 'pgque_worker_running{datname="app"}' 1

# the consumer reads everything: the backlog falls to 0
q "select pgque.ack(batch_id) from pgque.receive('expq', 'c', 100) limit 1" >/dev/null
wait_until "c drained its backlog: 0 pending" 20 \
    shows 'pgque_pending_events{consumer="c",datname="app",queue="expq"}' 0
check_eq "still no scrape error" 0 "$(value pg_exporter_last_scrape_error)"

# the database goes away: the exporter still answers, with pg_up 0 and no
# pgque_ sample (alert on absent(pgque_worker_running), see docs/operations.md)
cluster_stop $C >/dev/null
wait_until "database down: pg_up 0" 30 shows pg_up 0
no_pgque() { ! grep -q '^pgque_' "$DIR/scrape.txt"; }
check "and no pgque_ sample" no_pgque
finish
