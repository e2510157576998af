#!/usr/bin/env bash
# pgque serve's web dashboard in a real headless browser (Debian's Chromium,
# driven through chromedriver by test/lib/dashboard_ui.py): the page loads
# from the server, shows a queue the test created and the worker's status,
# and a click on a dead letter's replay button moves it back into its queue
# -- checked in the database, and by a consumer that receives it again.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/lib/cluster.sh
source test/lib/check.sh

C=http_dashboard
cluster_init $C 54376 "fsync = off" || exit 1
cluster_start $C || exit 1
DIR=$(cluster_dir $C)
PGQUE=client/build/pgque
U=http://127.0.0.1:54377
WD=http://127.0.0.1:54378
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; cluster_stop $C' EXIT
q() { cluster_psql $C -X -q -At -d app -c "$1"; }

cluster_psql $C -q -c "create database app" >/dev/null
q "create extension pgque"
q "select pgque.create_queue('uiq'), pgque.set_queue_config('uiq', 'max_retries', '0')" >/dev/null
q "select pgque.subscribe('uiq', 'billing')" >/dev/null
q "select pgque.send('uiq', 'order.created', 'broken order 17')" >/dev/null
q "select pgque.force_tick('uiq')" >/dev/null
# the consumer gives up on it: a dead letter
q "select pgque.nack(m.batch_id, m, null, 'cannot parse') from pgque.receive('uiq', 'billing', 10) m" >/dev/null
q "select pgque.ack(batch_id) from pgque.receive('uiq', 'billing', 10) limit 1" >/dev/null
dead_id=$(q "select dl_id from pgque.dead_letter")
check_eq "the test made one dead letter" 1 "$(q "select count(*) from pgque.dead_letter")"

echo "dashboard-admin-token-0123 pgque_admin" >"$DIR/tokens"
"$PGQUE" serve --dsn "$(cluster_dsn $C app)" --listen 127.0.0.1:54377 --tokens "$DIR/tokens" \
    >"$DIR/serve.log" 2>&1 &
pids+=($!)
wait_until "pgque serve answers" 20 bash -c "curl -sf $U/healthz"
check "/ serves the dashboard page" bash -c "curl -sf $U/ | grep -q '<title>pgque</title>'"
check_eq "/v1/overview needs a token" 401 "$(curl -s -o /dev/null -w '%{http_code}' "$U/v1/overview")"

chromedriver --port=54378 >"$DIR/chromedriver.log" 2>&1 &
pids+=($!)
wait_until "chromedriver is up" 20 bash -c "curl -sf $WD/status | grep -q '\"ready\": *true'"

python3 test/lib/dashboard_ui.py "$WD" "$U/#token=dashboard-admin-token-0123" uiq "$dead_id" \
    >"$DIR/ui.txt" 2>"$DIR/ui.err"
check "the browser session ran to the end" grep -q '^error_shown:' "$DIR/ui.txt"
cat "$DIR/ui.txt" "$DIR/ui.err"
ui() { sed -n "s/^$1: //p" "$DIR/ui.txt"; }
check_eq "the page's title" pgque "$(ui title)"
check "the page shows the queue the test created" bash -c "[[ '$(ui queue_row)' == uiq* ]]"
check "and the worker's status" bash -c "[[ '$(ui status_row)' == pgque\ ok* ]]"
check "the queue's dead letters list the one the test made, with its reason" \
    bash -c "[[ '$(ui dead_row)' == '$dead_id billing cannot parse '* ]]"
check_eq "after the replay click its row goes" True "$(ui dead_row_gone)"
check_eq "and the page shows no error" - "$(ui error_shown)"
check_eq "the dead letter is gone from the database" 0 "$(q "select count(*) from pgque.dead_letter")"
q "select pgque.force_tick('uiq')" >/dev/null
check_eq "and the consumer receives the event again" "broken order 17" \
    "$(q "select payload from pgque.receive('uiq', 'billing', 10)")"
finish
