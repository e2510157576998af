#!/usr/bin/env bash
# Upgrade from the released 0.1.0: install it exactly as released
# (extension/pgque--0.1.0.sql, frozen), fill it while the current library
# and its worker run -- queues with pending events, a split batch, an open
# batch, retries due soon and due in an hour, dead letters, configured
# queues -- then ALTER EXTENSION pgque UPDATE and check that
#   - the upgraded database has exactly the shape of a fresh install
#     (test/lib/schema_shape.sql: tables, columns in order, indexes,
#     functions with their definitions and grants, extension membership);
#   - nothing was lost: positions, configuration, retries and dead letters
#     are as before, and every consumer gets exactly the events it had not
#     acknowledged, once;
#   - the worker ticks the upgraded database.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/lib/cluster.sh
source test/lib/check.sh

C=upgrade
OLD=0.1.0
cluster_init $C 54340 || exit 1
cluster_start $C || exit 1
trap 'cluster_stop $C' EXIT
HOST=$(cluster_dir $C)
PORT=$(cluster_port $C)
q() { psql -X -q -At -h "$HOST" -p "$PORT" -U postgres -d "$1" -c "$2"; }
u() { q upg "$1"; }
NEW=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" pgque.control)

q postgres "create database upg" >/dev/null
q postgres "create database fresh" >/dev/null
u "create extension pgque version '$OLD'"
q fresh "create extension pgque; select pgque.create_queue('q_shape')" >/dev/null
check_eq "the old version is installed" "$OLD" "$(u "select pgque.version()")"

# --- fill the old version (its API) ------------------------------------------
u "select pgque.create_queue('q_a'), pgque.create_queue('q_b'), pgque.create_queue('q_idle')" >/dev/null
u "select pgque.set_queue_config('q_a', 'rotation_period', '1 day')" >/dev/null
u "select pgque.set_queue_config('q_b', 'max_retries', '0')" >/dev/null
u "select pgque.set_queue_config('q_idle', 'ticker_idle_period', '7 seconds')" >/dev/null
u "select pgque.subscribe('q_a', 'c1'), pgque.subscribe('q_a', 'c2'), pgque.subscribe('q_b', 'c1')" >/dev/null
u "create table got (consumer text, payload text, retry_count int)"
# take(queue, consumer, max, nacks): receive, nack the payloads named in
# nacks (payload -> retry_after), record the others in "got", ack; all in
# one transaction. Returns how many it received.
u "create function take(q text, c text, n int, nacks jsonb default '{}') returns int
   language plpgsql as \$\$
declare m pgque.message; b bigint; k int := 0;
begin
    for m in select * from pgque.receive(q, c, n) loop
        b := m.batch_id;
        k := k + 1;
        if nacks ? m.payload then
            perform pgque.nack(m.batch_id, m, (nacks ->> m.payload)::interval, 'upgrade test');
        else
            insert into got values (c, m.payload, m.retry_count);
        end if;
    end loop;
    if b is not null then perform pgque.ack(b); end if;
    return k;
end \$\$"
u "select pgque.send('q_a', 'a' || i) from generate_series(1, 20) i" >/dev/null
u "select pgque.send_batch('q_a', 'batch', array(select 'a' || i from generate_series(21, 45) i))" >/dev/null
u "select pgque.insert_event('q_a', 'extra', 'a' || i, 'x1', 'x2', 'x3', 'x4') from generate_series(46, 50) i" >/dev/null
u "select pgque.send('q_b', 'b' || i) from generate_series(1, 5) i" >/dev/null
u "select pgque.force_tick('q_a'), pgque.force_tick('q_b')" >/dev/null
u "select pgque.ticker()" >/dev/null

check_eq "c1 takes 10 of q_a and acks them (a split batch)" 10 "$(u "select take('q_a', 'c1', 10)")"
check_eq "c1 takes 10 more and does not ack (an open batch)" 10 "$(u "select count(*) from pgque.receive('q_a', 'c1', 10)")"
check_eq "c2 processes q_a, nacking a5 (retry in an hour) and a6 (in 2 s)" 50 \
    "$(u "select take('q_a', 'c2', 100, '{\"a5\": \"1 hour\", \"a6\": \"2 seconds\"}')")"
check_eq "c1 processes q_b, nacking b2 and b3 into the dead letters" 5 \
    "$(u "select take('q_b', 'c1', 100, '{\"b2\": \"0\", \"b3\": \"0\"}')")"
u "select pgque.send('q_a', 'after' || i) from generate_series(1, 3) i" >/dev/null

# The worker stays away while "before" and "after" are compared (a tick of
# q_idle or the move of a6's retry in between would be the worker's doing,
# not the upgrade's, and on a loaded machine the upgrade can take seconds).
u "select pgque.stop()" >/dev/null
positions="select queue_name, consumer_name, last_tick, current_batch is not null, next_tick
             from pgque.get_consumer_info() order by 1, 2"
config="select queue_name, queue_rotation_period, queue_ticker_idle_period, queue_ticker_max_count,
               last_tick_id from pgque.get_queue_info() order by 1"
retries="select ev_queue, ev_id, ev_owner, ev_retry, ev_data, ev_retry_after from pgque.retry_queue order by ev_id"
dead="select dl_queue_id, dl_consumer_id, dl_reason, ev_id, ev_data, ev_retry from pgque.dead_letter order by ev_id"
before_positions=$(u "$positions")
before_config=$(u "$config")
before_retries=$(u "$retries")
before_dead=$(u "$dead")
before_limits=$(u "select queue_name, queue_max_retries from pgque.queue order by 1")
check_eq "a retry waits an hour, another is due in seconds" 2 "$(u "select count(*) from pgque.retry_queue")"
check_eq "two dead letters" 2 "$(u "select count(*) from pgque.dead_letter")"

# --- upgrade ------------------------------------------------------------------
check "ALTER EXTENSION pgque UPDATE" u "alter extension pgque update"
check_eq "the new version is installed" "$NEW" "$(u "select pgque.version()")"

q fresh "\\i test/lib/schema_shape.sql" >"$HOST/shape_fresh.txt"
u "\\i test/lib/schema_shape.sql" >"$HOST/shape_upgraded.txt"
check "the schema description is not empty" test "$(wc -l <"$HOST/shape_fresh.txt")" -gt 100
if diff -u "$HOST/shape_fresh.txt" "$HOST/shape_upgraded.txt" >"$HOST/shape.diff"; then
    check "the upgraded database has the shape of a fresh install" true
else
    check "the upgraded database has the shape of a fresh install" false
    head -40 "$HOST/shape.diff"
fi

check_eq "consumer positions unchanged" "$before_positions" "$(u "$positions")"
check_eq "queue configuration unchanged" "$before_config" "$(u "$config")"
check_eq "max_retries unchanged" "$before_limits" "$(u "select queue_name, queue_max_retries from pgque.queue order by 1")"
check_eq "retries unchanged" "$before_retries" "$(u "$retries")"
check_eq "dead letters unchanged" "$before_dead" "$(u "$dead")"
u "select pgque.start()" >/dev/null

# --- everything goes on ----------------------------------------------------------
# the worker ticks the upgraded database: the open batch and the rest arrive
# take everything there is for a consumer; true once it has n events in all
took() {   # queue consumer n
    u "select take('$1', '$2', 1000)" >/dev/null
    [ "$(u "select count(*) from got where consumer = '$2' and payload like '${1#q_}%'")" = "$3" ]
}
# the worker ticks the upgraded database: the open batch and the rest arrive
wait_until "c1 gets its open batch again, the rest of q_a and the 3 sent last" 15 took q_a c1 53
check_eq "c1 got each of a1..a50 exactly once" "50|50" \
    "$(u "select count(*), count(distinct payload) from got where consumer = 'c1' and payload ~ '^a[0-9]+\$'")"
wait_until "c2 gets the retry due in 2 s (a6, retry 1) and the 3 sent last" 15 took q_a c2 52
check_eq "c2: a6 came back as retry 1" "1" "$(u "select retry_count from got where consumer = 'c2' and payload = 'a6'")"
check_eq "c2: a5 still waits for its retry in an hour" "1" \
    "$(u "select count(*) from pgque.retry_queue where ev_data = 'a5' and ev_retry_after > now() + interval '50 minutes'")"
check_eq "c2: nothing twice" "$(u "select count(*) from got where consumer = 'c2'")" \
    "$(u "select count(distinct payload) from got where consumer = 'c2'")"
replayed=$(u "select pgque.dlq_replay(dl_id) from pgque.dead_letter where ev_data = 'b2'")
check "a dead letter can be replayed" test -n "$replayed"
wait_until "c1 gets the replayed dead letter on q_b" 15 took q_b c1 4
# 0.2.0's time features on the upgraded queues
u "select pgque.send_at('q_b', 'later', 'b-delayed', clock_timestamp() + interval '1 second')" >/dev/null
check_eq "a delayed send waits on an upgraded queue" 1 "$(u "select delayed from pgque.get_delayed_info('q_b')")"
wait_until "c1 gets the delayed event once it is due" 15 took q_b c1 5
k1=$(u "select pgque.send('q_b', 'b-keyed', dedup_key => 'k-1')")
check_eq "a keyed send on an upgraded queue sends once" "$k1" "$(u "select pgque.send('q_b', 'b-keyed', dedup_key => 'k-1')")"
wait_until "c1 gets the keyed event once" 15 took q_b c1 6
check_eq "pause_queue works on an upgraded queue" 1 "$(u "select pgque.pause_queue('q_b')")"
check_eq "and resume_queue" 1 "$(u "select pgque.resume_queue('q_b')")"
# a schedule on an upgraded queue: due a minute ago, the worker sends it once
u "select pgque.schedule('upg_sched', 'q_b', '@yearly', 'scheduled', 'b-scheduled')" >/dev/null
u "update pgque.schedule set sched_next_run = now() - interval '1 minute' where sched_name = 'upg_sched'"
wait_until "c1 gets the event of a schedule on an upgraded queue" 15 took q_b c1 7
check_eq "the schedule sent it once and moved on to the next new year" "1|t" \
    "$(u "select runs, next_run = date_trunc('year', now() at time zone 'UTC' + interval '1 year') at time zone 'UTC'
            from pgque.get_schedule_info('upg_sched')")"
check "drop_queue refuses a queue a schedule sends into" \
    bash -c "! psql -X -q -h '$HOST' -p '$PORT' -U postgres -d upg -c \"select pgque.drop_queue('q_b')\" 2>/dev/null"
check_eq "unschedule" 1 "$(u "select pgque.unschedule('upg_sched')")"
check_eq "the worker serves the upgraded database" "running" \
    "$(u "select status from pgque.status() where component = 'worker'")"
check "create_queue, send and drop_queue work after the upgrade" \
    u "select pgque.create_queue('q_new'); select pgque.send('q_new', 'x'); select pgque.drop_queue('q_new')"

# --- dropping removes everything -------------------------------------------------
check "DROP EXTENSION without CASCADE refuses while queues exist" \
    bash -c "! psql -X -q -h '$HOST' -p '$PORT' -U postgres -d upg -c 'drop extension pgque' 2>/dev/null"
u "drop extension pgque cascade" 2>/dev/null
check_eq "DROP EXTENSION pgque CASCADE leaves no schema, table or sequence behind" 0 \
    "$(u "select count(*) from pg_namespace where nspname = 'pgque'")"
check "the extension can be installed again" u "create extension pgque; select pgque.create_queue('q_a')"
finish
