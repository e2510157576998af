#!/usr/bin/env bash
# pgque serve (client/serve/, docs/http.md) against a real server process and
# database: bearer tokens mapped to database roles (the login role is not a
# superuser, only a member of the roles it switches to), queues created with
# settings, messages published as they were sent, errors as JSON with their
# SQLSTATE and HTTP status, the pool healing after a database restart, and a
# SIGTERM that lets the request in flight finish.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/lib/cluster.sh
source test/lib/check.sh

C=http_api
cluster_init $C 54374 "fsync = off" || exit 1
cluster_start $C || exit 1
DIR=$(cluster_dir $C)
PGQUE=client/build/pgque
U=http://127.0.0.1:54375
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; cluster_stop $C' EXIT
q() { cluster_psql $C -X -q -At -d app -c "$1"; }

cluster_psql $C -q -c "create database app" >/dev/null
q "create extension pgque"
q "create role pgque_http login; grant pgque_reader, pgque_writer, pgque_admin to pgque_http"
q "create role app_reader; grant pgque_reader to app_reader; grant app_reader to pgque_http"
cat >"$DIR/tokens" <<'EOF'
# token                    role
admin-token-0123456789     pgque_admin
writer-token-0123456789    pgque_writer
reader-token-0123456789    app_reader
EOF
ADMIN='Authorization: Bearer admin-token-0123456789'
WRITER='Authorization: Bearer writer-token-0123456789'
READER='Authorization: Bearer reader-token-0123456789'
DSN="$(cluster_dsn $C app) user=pgque_http"

serve() {
    "$PGQUE" serve --dsn "$DSN" --listen 127.0.0.1:54375 --tokens "$DIR/tokens" --pool 3 >>"$DIR/serve.log" 2>&1 &
    pids+=($!)
    server_pid=$!
    wait_until "pgque serve answers /healthz" 20 bash -c "curl -sf $U/healthz | grep -q '\"status\":\"ok\"'"
}
# call METHOD PATH [HEADER] [BODY]: sets $status and $body
call() {
    local args=(-s -o "$DIR/body" -w '%{http_code}' -X "$1" "$U$2")
    [ -n "${3:-}" ] && args+=(-H "$3")
    [ -n "${4:-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
    # a POST without a body still says so (Content-Length: 0), as HTTP clients do
    [ -z "${4:-}" ] && [ "$1" = POST ] && args+=(--data-binary '')
    status=$(curl "${args[@]}")
    body=$(cat "$DIR/body")
}
# a value of $body: js 'd["error"]'
js() { python3 -c 'import json, sys; d = json.loads(sys.argv[2]); print(eval(sys.argv[1]))' "$1" "$body"; }
# collect PATH FILE N LINE: one GET of PATH as the reader; a line per message
# (LINE: a python expression of x) appended to FILE; true once it has N lines
collect() {
    call GET "$1" "$READER"
    js "\"\\n\".join($4 for x in d[\"messages\"])" | grep . >>"$2"
    [ "$(wc -l <"$2")" -ge "$3" ]
}

serve

# the OpenAPI document: JSON, with the endpoints
call GET /v1/openapi.json
check_eq "/v1/openapi.json is an OpenAPI 3 document" "3.0.3 True True" \
    "$(js 'd["openapi"] + " " + str("/v1/queues/{queue}/messages" in d["paths"]) + " " + str("/healthz" in d["paths"])')"

# authentication
call GET /v1/queues
check_eq "no token: 401" 401 "$status"
check_eq "with the error as JSON and SQLSTATE 28000" "no bearer token 28000" "$(js 'd["error"] + " " + d["sqlstate"]')"
check "and a WWW-Authenticate: Bearer header" bash -c "curl -si $U/v1/queues | grep -qi '^WWW-Authenticate: Bearer'"
call GET /v1/queues 'Authorization: Bearer admin-token-012345678X'
check_eq "an unknown token: 401" "401 unknown bearer token" "$status $(js 'd["error"]')"

# queues
call POST /v1/queues "$ADMIN" '{"name": "orders", "config": {"max_retries": 3, "retry_delay": "5 seconds", "message_ttl": "1 hour"}}'
check_eq "admin creates a queue with settings: 201" 201 "$status"
check_eq "the reply has the settings" "3 00:00:05 01:00:00" \
    "$(js 'd["config"]["max_retries"] + " " + d["config"]["retry_delay"] + " " + d["config"]["message_ttl"]')"
check_eq "and the database has them" "3|00:00:05" \
    "$(q "select (select value from pgque.get_queue_config('orders') where param = 'max_retries') || '|' || (select value from pgque.get_queue_config('orders') where param = 'retry_delay')")"
call POST /v1/queues "$ADMIN" '{"name": "orders"}'
check_eq "creating it again: 409 with 42710" "409 42710" "$status $(js 'd["sqlstate"]')"
call POST /v1/queues "$ADMIN" '{"name": "half", "config": {"max_retries": 3, "no_such_setting": 1}}'
check_eq "an unknown setting: 422 with 22023 and pgque's hint" "422 22023 True" \
    "$status $(js 'd["sqlstate"] + " " + str("Valid parameters" in d["hint"])')"
check_eq "and nothing of it was created (one transaction)" 0 "$(q "select count(*) from pgque.queue where queue_name = 'half'")"
call POST /v1/queues "$ADMIN" '{"config": {}}'
check_eq "no name: 422" 422 "$status"
call POST /v1/queues "$WRITER" '{"name": "w"}'
check_eq "a writer may not create queues: 403 with 42501" "403 42501" "$status $(js 'd["sqlstate"]')"
call GET /v1/queues "$READER"
check_eq "a reader lists the queues" "200 ['orders']" "$status $(js '[x["queue_name"] for x in d["queues"]]')"
call GET /v1/queues/orders "$READER"
check_eq "and reads one" "200 orders" "$status $(js 'd["queue"]["queue_name"]')"
call GET /v1/queues/nope "$READER"
check_eq "a queue that does not exist: 404 with 42704 and a hint" "404 42704 True" \
    "$status $(js 'd["sqlstate"] + " " + str(bool(d["hint"]))')"

# publishing
q "select pgque.subscribe('orders', 'audit')" >/dev/null
call POST /v1/queues/orders/messages "$WRITER" '{"body": {"order": 1, "items": ["a", "b"]}, "type": "order.created"}'
check_eq "a writer publishes a message: 201 with its id" "201 1" "$status $(js 'len(d["ids"])')"
call POST /v1/queues/orders/messages "$WRITER" \
    '{"messages": [{"body": "plain text"}, {"body": "quotes \" and \\ backslash, {braces}, comma"}, {"body": "k", "dedup_key": "key-1"}, {"body": "k again", "dedup_key": "key-1"}, {"body": "last"}]}'
check_eq "five in one request: 201 with five ids" "201 5" "$status $(js 'len(d["ids"])')"
check_eq "the same dedup key gives the first one's id" True "$(js 'd["ids"][2] == d["ids"][3]')"
call POST /v1/queues/orders/messages "$WRITER" '{"body": "urgent", "priority": 5}'
check_eq "a writer publishes with a priority: 201" 201 "$status"
check_eq "it went to the queue's lane for priority 5" 1 \
    "$(q "select count(*) from pgque.queue l join pgque.queue o on l.queue_lane_of = o.queue_id
           where o.queue_name = 'orders' and l.queue_priority = 5")"
# what the consumer gets (the worker ticks; a receive with nothing to give is empty)
: >"$DIR/got"
receive_all() {
    q "with r as (select * from pgque.receive('orders', 'audit', 100)),
            a as (select pgque.ack(batch_id) from r limit 1)
       select msg_id || ' ' || type || '|' || payload from r, (select count(*) from a) x order by msg_id" >>"$DIR/got"
    [ "$(wc -l <"$DIR/got")" -ge 6 ]
}
wait_until "the consumer receives the six distinct messages" 20 receive_all
check_eq "exactly as they were sent" \
    'order.created|{"items":["a","b"],"order":1}
default|plain text
default|quotes " and \ backslash, {braces}, comma
default|k
default|last
default|urgent' \
    "$(grep -v urgent "$DIR/got" | sort -n | cut -d' ' -f2-; grep urgent "$DIR/got" | cut -d' ' -f2-)"
call POST /v1/queues/orders/messages "$WRITER" '{"body": "later", "delay": 3600}'
check_eq "a delayed message: 201" 201 "$status"
check_eq "waits in the delay tables" 1 "$(q "select delayed from pgque.get_delayed_info('orders')")"
call POST /v1/queues/orders/messages "$READER" '{"body": "no"}'
check_eq "a reader may not publish: 403 with 42501" "403 42501" "$status $(js 'd["sqlstate"]')"
call POST /v1/queues/orders/messages "$WRITER" '{"body": "x", "label": ""}'
check_eq "an empty label: 422 with pgque's 22023" "422 22023" "$status $(js 'd["sqlstate"]')"
call POST /v1/queues/orders/messages "$WRITER" '{"body": "x", "label": 7}'
check_eq "a label that is not a string: 422" 422 "$status"
call POST /v1/queues/orders/messages "$WRITER" '{"body": "x", "attributes": [1]}'
check_eq "attributes that are not an object: 422" 422 "$status"
call POST /v1/queues/orders/messages "$WRITER" '{"payload": "x"}'
check_eq "no body: 422" 422 "$status"
call POST /v1/queues/orders/messages "$WRITER" '{"body": "x", "delay": "whenever"}'
check_eq "a delay the database cannot read: 422 with 22007" "422 22007" "$status $(js 'd["sqlstate"]')"
call POST /v1/queues/orders/messages "$WRITER" 'not json'
check_eq "a body that is not JSON: 400" 400 "$status"
call POST /v1/queues/nope/messages "$WRITER" '{"body": "x"}'
check_eq "publishing to a queue that does not exist: 404" 404 "$status"
q "select pgque.force_tick('orders')" >/dev/null
check_eq "none of the refused messages reached the consumer" "" "$(q "select payload from pgque.receive('orders', 'audit', 100)")"

# metrics as a reader, and the unknown
call GET /metrics "$READER"
check "/metrics serves pgque.metrics() to a reader" grep -q '^pgque_up{version=' "$DIR/body"
call GET /v2/anything "$READER"
check_eq "an unknown endpoint: 404 as JSON" "404 no such endpoint" "$status $(js 'd["error"]')"

# dropping
call DELETE /v1/queues/orders "$WRITER"
check_eq "a writer may not drop a queue: 403" 403 "$status"
call DELETE /v1/queues/orders "$ADMIN"
check_eq "one with a consumer needs force: 409 with 55006" "409 55006" "$status $(js 'd["sqlstate"]')"
call DELETE '/v1/queues/orders?force=true' "$ADMIN"
check_eq "admin drops it with force=true: 204" 204 "$status"
call GET /v1/queues/orders "$ADMIN"
check_eq "then it is gone: 404" 404 "$status"

# consuming: leases. Eight jobs in one receive; four acked (two one by one,
# two in one request), two nacked, two left to time out: exactly the
# unsettled four come again, once, and nothing acked ever comes back.
call POST /v1/queues "$ADMIN" '{"name": "jobs", "config": {"ack_deadline": "4 seconds", "retry_delay": "0"}}'
check_eq "a queue with an ack deadline" "201 00:00:04" "$status $(js 'd["config"]["ack_deadline"]')"
call GET '/v1/queues/jobs/messages?consumer=workers' "$READER"
check_eq "the first receive makes the consumer (nothing yet)" "200 0" "$status $(js 'len(d["messages"])')"
call POST /v1/queues/jobs/messages "$WRITER" \
    '{"messages": [{"body": "j1"}, {"body": "j2"}, {"body": "j3"}, {"body": "j4"}, {"body": "j5"}, {"body": "j6"}, {"body": "j7"}, {"body": "j8"}]}'
call GET '/v1/queues/jobs/messages?consumer=workers&limit=8&wait=10s' "$READER"
check_eq "a reader receives the eight jobs" "200 8" "$status $(js 'len(d["messages"])')"
echo "$body" >"$DIR/first.json"
first() { python3 -c 'import json, sys; m = json.load(open(sys.argv[1]))["messages"]; print({x["body"]: x for x in m}[sys.argv[2]][sys.argv[3]])' "$DIR/first.json" "$1" "$2"; }
check_eq "each with its lease, a deadline and retry_count 0" "True True 0" \
    "$(js 'str(all(x["lease"] > 0 for x in d["messages"])) + " " + str(all(x["lease_expires_at"] for x in d["messages"])) + " " + str(max(x["retry_count"] for x in d["messages"]))')"
call POST "/v1/queues/jobs/messages/$(first j1 id)/ack" "$READER" "{\"consumer\": \"workers\", \"lease\": $(first j1 lease)}"
check_eq "ack j1: 204" 204 "$status"
call POST "/v1/queues/jobs/messages/$(first j2 id)/ack" "$READER" "{\"consumer\": \"workers\", \"lease\": $(first j2 lease)}"
check_eq "ack j2: 204" 204 "$status"
call POST /v1/queues/jobs/messages/ack "$READER" \
    "{\"consumer\": \"workers\", \"messages\": [{\"id\": $(first j3 id), \"lease\": $(first j3 lease)}, {\"id\": $(first j4 id), \"lease\": $(first j4 lease)}, {\"id\": $(first j1 id), \"lease\": $(first j1 lease)}]}"
check_eq "ack j3 and j4 in one request (j1 again: gone)" "200 [$(first j3 id), $(first j4 id)] [$(first j1 id)]" \
    "$status $(js 'd["acked"]') $(js 'd["gone"]')"
call POST "/v1/queues/jobs/messages/$(first j5 id)/nack" "$READER" "{\"consumer\": \"workers\", \"lease\": $(first j5 lease), \"delay\": 0}"
check_eq "nack j5: retry" "200 retry" "$status $(js 'd["outcome"]')"
call POST "/v1/queues/jobs/messages/$(first j6 id)/nack" "$READER" "{\"consumer\": \"workers\", \"lease\": $(first j6 lease), \"delay\": \"100ms\", \"reason\": \"busy\"}"
check_eq "nack j6: retry" "200 retry" "$status $(js 'd["outcome"]')"
call POST "/v1/queues/jobs/messages/$(first j1 id)/ack" "$READER" "{\"consumer\": \"workers\", \"lease\": $(first j1 lease)}"
check_eq "an ack of an acked message: 409" 409 "$status"
# the rest: what comes again within 20 s (j7 and j8 after their 4 s)
: >"$DIR/again"
wait_until "the four unsettled jobs come again" 20 collect '/v1/queues/jobs/messages?consumer=workers&limit=10&wait=2s' \
    "$DIR/again" 4 '"%s %s %s %s" % (x["body"], x["id"], x["lease"], x["retry_count"])'
check_eq "exactly j5 j6 j7 j8, each once, retry_count 1" "j5 1,j6 1,j7 1,j8 1" \
    "$(awk '{print $1, $4}' "$DIR/again" | sort | paste -sd,)"
call POST "/v1/queues/jobs/messages/$(first j7 id)/ack" "$READER" "{\"consumer\": \"workers\", \"lease\": $(first j7 lease)}"
check_eq "j7's first lease settles nothing now: 409" 409 "$status"
acks=$(awk '{printf "%s{\"id\": %s, \"lease\": %s}", (NR > 1 ? ", " : ""), $2, $3}' "$DIR/again")
call POST /v1/queues/jobs/messages/ack "$READER" "{\"consumer\": \"workers\", \"messages\": [$acks]}"
check_eq "their new leases ack all four" "200 4" "$status $(js 'len(d["acked"])')"
call GET '/v1/queues/jobs/messages?consumer=workers&limit=10&wait=5s' "$READER"
check_eq "then nothing comes again, not even after the old deadlines" "200 0" "$status $(js 'len(d["messages"])')"
check_eq "and no lease is left" 0 "$(q "select count(*) from pgque.retry_queue r join pgque.queue q on q.queue_id = r.ev_queue where q.queue_name = 'jobs'")"
call POST "/v1/queues/jobs/messages/1/extend" "$READER" '{"consumer": "workers", "lease": 1, "extend": "1m"}'
check_eq "extending a lease that is gone: 409" 409 "$status"

# labels and filters: a consumer made with ?label= takes only those
call POST /v1/queues "$ADMIN" '{"name": "regions"}'
call GET '/v1/queues/regions/messages?consumer=eu&label=eu' "$READER"
check_eq "a first receive with a label makes a filtered consumer" "200 0 {eu}" \
    "$status $(js 'len(d["messages"])') $(q "select s.sub_labels from pgque.subscriber s join pgque.consumer c on c.co_id = s.sub_consumer join pgque.queue q on q.queue_id = s.sub_queue where q.queue_name = 'regions' and c.co_name = 'eu'")"
call POST /v1/queues/regions/messages "$WRITER" \
    '{"messages": [{"body": "m-us", "label": "us"}, {"body": "m-eu", "label": "eu", "attributes": {"tenant": "acme", "n": 2}}, {"body": "m-none"}, {"body": "m-eu2", "type": "refund", "label": "eu"}]}'
check_eq "messages with labels and attributes: 201" "201 4" "$status $(js 'len(d["ids"])')"
: >"$DIR/eu_got"
wait_until "the eu consumer receives" 20 collect '/v1/queues/regions/messages?consumer=eu&label=eu&limit=10&wait=2s' \
    "$DIR/eu_got" 2 '"%s %s %s" % (x["body"], x["label"], json.dumps(x["attributes"], sort_keys=True))'
check_eq "only the two eu messages, with label and attributes" \
    'm-eu eu {"n": 2, "tenant": "acme"}|m-eu2 eu null' "$(sort "$DIR/eu_got" | paste -sd'|')"
call GET '/v1/queues/regions/messages?consumer=eu&label=us' "$READER"
check_eq "another label for the same consumer: 409 with 42710" "409 42710" "$status $(js 'd["sqlstate"]')"
call GET '/v1/queues/regions/messages?consumer=eu_refunds&label=eu&type=refund&wait=2s' "$READER"
call POST /v1/queues/regions/messages "$WRITER" '{"messages": [{"body": "r1", "type": "refund", "label": "eu"}, {"body": "r2", "type": "refund", "label": "us"}, {"body": "o3", "label": "eu"}]}'
: >"$DIR/refunds"
wait_until "a consumer filtered by type and label receives" 20 collect \
    '/v1/queues/regions/messages?consumer=eu_refunds&label=eu&type=refund&wait=2s' "$DIR/refunds" 1 'x["body"]'
call GET '/v1/queues/regions/messages?consumer=eu_refunds&label=eu&type=refund&wait=1s' "$READER"
check_eq "only the eu refund" "r1" "$(cat "$DIR/refunds"; js '"\n".join(x["body"] for x in d["messages"])' | grep .)"
# behind more windows of what it does not take than a receive tries empty
# ones (16): one GET reads on to the match, without a new tick
call GET '/v1/queues/regions/messages?consumer=far&label=far' "$READER"
q "select pgque.set_queue_config('regions', 'ticker_max_lag', '0')" >/dev/null
q "do \$\$
   begin
       for i in 1..20 loop
           perform pgque.insert_event('regions', 'order', 'x', 'us', null, null, null) from generate_series(1, 10000);
           commit;
           perform pgque.ticker('regions');
           commit;
       end loop;
       perform pgque.send('regions', 'order', 'the far one', label => 'far');
       commit;
       perform pgque.ticker('regions');
   end \$\$" >/dev/null
call GET '/v1/queues/regions/messages?consumer=far&label=far' "$READER"
check_eq "one GET passes over 200,000 and returns the match" "200 the far one" "$status $(js '",".join(x["body"] for x in d["messages"])')"

# a window larger than limit: the next requests go on with its rest, all as
# member "http" (whatever pooled connection they run on)
call POST /v1/queues "$ADMIN" '{"name": "window"}'
call GET '/v1/queues/window/messages?consumer=w' "$READER"
call POST /v1/queues/window/messages "$WRITER" \
    "{\"messages\": [$(seq -s, -f '{"body": "w%g"}' 1 25)]}"
: >"$DIR/window"
wait_until "the first part of the window comes" 20 collect '/v1/queues/window/messages?consumer=w&limit=10&wait=2s' \
    "$DIR/window" 1 'x["body"]'
for i in 1 2 3 4; do collect '/v1/queues/window/messages?consumer=w&limit=10' "$DIR/window" 25 'x["body"]'; done
check_eq "requests one after another take all 25, each once" "25 25" "$(wc -l <"$DIR/window") $(sort -u "$DIR/window" | wc -l)"
check_eq "as the one member http" "http" \
    "$(q "select string_agg(distinct sc.sc_name, ',') from pgque.subconsumer sc join pgque.subscriber s on s.sub_id = sc.sc_sub
           join pgque.queue q on q.queue_id = s.sub_queue where q.queue_name in ('window', 'jobs', 'regions')")"

call GET '/v1/queues/jobs/messages?consumer=workers' "$WRITER"
check_eq "a writer may not consume: 403 with 42501" "403 42501" "$status $(js 'd["sqlstate"]')"
call GET '/v1/queues/jobs/messages?limit=5' "$READER"
check_eq "no consumer: 422" 422 "$status"
call GET '/v1/queues/jobs/messages?consumer=workers&wait=forever' "$READER"
check_eq "a wait that is not a duration: 422" 422 "$status"

# a long poll is woken by the tick of the next message, not by its timeout
curl -s -o "$DIR/poll.json" -w '%{time_total}' -H "$READER" \
    'http://127.0.0.1:54375/v1/queues/jobs/messages?consumer=workers&wait=30s&lease=10s' >"$DIR/poll_time" &
poller=$!
sleep 1
call POST /v1/queues/jobs/messages "$WRITER" '{"body": "wake up"}'
wait "$poller"
body=$(cat "$DIR/poll.json")
check_eq "the waiting GET returns the message" "wake up" "$(js 'd["messages"][0]["body"]')"
check "well before its 30 s are over" awk -v t="$(cat "$DIR/poll_time")" 'BEGIN { exit !(t < 10) }'
call POST "/v1/queues/jobs/messages/$(js 'd["messages"][0]["id"]')/extend" "$READER" \
    "{\"consumer\": \"workers\", \"lease\": $(js 'd["messages"][0]["lease"]'), \"extend\": \"1h\"}"
check_eq "a live lease is extended" 200 "$status"

# dead letters: list, replay, purge
call POST /v1/queues "$ADMIN" '{"name": "once", "config": {"max_retries": 0}}'
wait_until_poison() {
    call GET '/v1/queues/once/messages?consumer=c&wait=2s' "$READER"
    [ "$(js 'len(d["messages"])')" = 1 ]
}
call GET '/v1/queues/once/messages?consumer=c' "$READER"   # the consumer starts here
call POST /v1/queues/once/messages "$WRITER" '{"body": "poison"}'
wait_until "the poison message is received" 10 wait_until_poison
call POST "/v1/queues/once/messages/$(js 'd["messages"][0]["id"]')/nack" "$READER" \
    "{\"consumer\": \"c\", \"lease\": $(js 'd["messages"][0]["lease"]'), \"reason\": \"cannot parse\"}"
check_eq "a nack on the last try: dead" "200 dead" "$status $(js 'd["outcome"]')"
call GET /v1/queues/once/dead-letters "$READER"
check_eq "the dead letter is listed with its reason" "200 poison cannot parse c" \
    "$status $(js 'd["dead_letters"][0]["body"] + " " + d["dead_letters"][0]["reason"] + " " + d["dead_letters"][0]["consumer"]')"
dl=$(js 'd["dead_letters"][0]["id"]')
call POST "/v1/dead-letters/$dl/replay" "$READER"
check_eq "a reader may not replay: 403" 403 "$status"
call POST "/v1/dead-letters/$dl/replay" "$WRITER"
check_eq "a writer replays it" 200 "$status"
wait_until "and the consumer gets it again" 10 wait_until_poison
again_id=$(js 'd["messages"][0]["id"]')
again_lease=$(js 'd["messages"][0]["lease"]')
call DELETE '/v1/queues/once/dead-letters?older_than=0s' "$WRITER"
check_eq "a writer may not purge: 403" 403 "$status"
call POST "/v1/queues/once/messages/$again_id/nack" "$READER" "{\"consumer\": \"c\", \"lease\": $again_lease}"
check_eq "its nack dead-letters it again" "200 dead" "$status $(js 'd["outcome"]')"
call DELETE '/v1/queues/once/dead-letters?older_than=0s' "$ADMIN"
check_eq "an admin purges the dead letters" "200 1" "$status $(js 'd["purged"]')"

# the database goes away and comes back: 503, then the pool reconnects
cluster_stop $C >/dev/null
call GET /v1/queues "$READER"
check_eq "while the database is down: 503" 503 "$status"
call GET /healthz
check_eq "/healthz says so: 503 unavailable" "503 unavailable" "$status $(js 'd["status"]')"
cluster_start $C >/dev/null
wait_until "served again once the database is back" 30 \
    bash -c "curl -sf -H '$READER' $U/v1/queues | grep -q queues"

# every pooled connection busy for 5 s: 503 (53300), not an endless wait
"$PGQUE" serve --dsn "$DSN" --listen 127.0.0.1:54373 --tokens "$DIR/tokens" --pool 1 >>"$DIR/serve1.log" 2>&1 &
pids+=($!)
wait_until "a second server with one connection answers" 20 bash -c "curl -sf http://127.0.0.1:54373/healthz"
cluster_psql $C -d app -c "begin; lock table pgque.queue in access exclusive mode; select pg_sleep(7); commit" \
    >/dev/null 2>&1 &
locker=$!
sleep 0.5
curl -s -o /dev/null -H "$READER" http://127.0.0.1:54373/v1/queues >/dev/null &
holder=$!
sleep 0.5
busy=$(curl -s -o "$DIR/busy" -w '%{http_code} %{time_total}' -H "$READER" http://127.0.0.1:54373/v1/queues/orders)
body=$(cat "$DIR/busy")
check_eq "a request finding the only connection busy for 5 s: 503 with 53300" "503 53300" \
    "${busy% *} $(js 'd["sqlstate"]')"
check "after about 5 s" awk -v t="${busy#* }" 'BEGIN { exit !(t >= 4.5 && t < 7) }'
wait "$holder" "$locker"

# SIGTERM: the request in flight finishes, then the server leaves (exit 0)
q "select pgque.create_queue('slow')" >/dev/null
cluster_psql $C -d app -c "begin; lock table pgque.queue in access exclusive mode; select pg_sleep(2); commit" \
    >/dev/null 2>&1 &
locker=$!
sleep 0.5
curl -s -o "$DIR/slow" -w '%{http_code}' -H "$READER" "$U/v1/queues/slow" >"$DIR/slow_status" &
inflight=$!
curl -s -o /dev/null -w '%{http_code} %{time_total}' -H "$READER" \
    "$U/v1/queues/jobs/messages?consumer=workers&wait=60s" >"$DIR/poll_status" &
polling=$!
sleep 0.5
kill -TERM "$server_pid"
wait "$inflight"
wait "$polling"
check_eq "a long poll waiting at SIGTERM is answered (200, nothing) at once" "200 True" \
    "$(awk '{ print $1, ($2 < 10 ? "True" : "False") }' "$DIR/poll_status")"
wait "$locker"
check_eq "a request waiting for the database when SIGTERM came still gets its answer" 200 "$(cat "$DIR/slow_status")"
wait "$server_pid"
check_eq "and the server exits 0" 0 "$?"
check "and says it stopped" grep -q "stopped serving" "$DIR/serve.log"
check_eq "nothing listens any more" 000 "$(curl -s -o /dev/null -w '%{http_code}' "$U/healthz")"
finish
