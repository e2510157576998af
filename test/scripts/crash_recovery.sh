#!/usr/bin/env bash
# Crash test: four producers and three consumers run while the postmaster, the
# pgque worker and a consumer backend are each killed with -9, three rounds
# each, with table rotation going on. One producer sends delayed events
# (send_batch_at, due a second later); one consumer nacks every event the
# first time it sees it and processes its retry, so delayed events and
# retries cross the crashes too. One producer sends with a dedup_key and
# sends a key again whenever it cannot know whether the first try committed
# (and, half of the time, after a success, as if the reply had been lost):
# each of its events must be processed once, under one id.
#
# Bookkeeping that a crash cannot fool:
#   - every send attempt has its own tag (producer-attempt) and payloads
#     tag-a/b/c; a producer never sends a tag twice, so two events with the
#     same payload would be pgque's doing, not a re-send;
#   - the producer inserts its tag into the table "attempts" in the same
#     transaction as the send, so "attempts" is exactly the set of sends that
#     committed -- also those whose reply the crash swallowed ("committed but
#     unconfirmed"); the tags whose reply did arrive go to a file;
#   - consumers insert what they receive into processed_<consumer> in the
#     same transaction as the ack.
# Afterwards: every confirmed attempt committed; every event of a committed
# attempt was processed by each consumer exactly once (one msg_id, processed
# once); nothing else was processed. A kill counts only if it hit the kind of
# process it was meant for, and each kind must have been hit.
#
# CRASH_ROUNDS=N changes the number of rounds; CRASH_SKIP_KILL=worker (or
# postmaster, consumer) leaves one kind out, to see the test notice.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/lib/cluster.sh
source test/lib/check.sh

C=crash
ROUNDS=${CRASH_ROUNDS:-3}
SKIP=${CRASH_SKIP_KILL:-}
cluster_init $C 54356 "pgque.maint_period = 1" || exit 1
cluster_start $C || exit 1
work=$(cluster_dir $C)/work
rm -rf "$work"
mkdir -p "$work"
chmod 777 "$work"
trap 'touch "$work/stop"; wait; cluster_stop $C' EXIT

HOST=$(cluster_dir $C)
PORT=$(cluster_port $C)
q() { psql -X -q -At -h "$HOST" -p "$PORT" -U postgres -d app -c "$1" 2>/dev/null; }
up() { q "select 1" | grep -q 1; }

psql -X -q -h "$HOST" -p "$PORT" -U postgres -d postgres -c "create database app" >/dev/null
q "create extension pgque"
q "create extension pgstattuple"
q "select pgque.create_queue('crashq')" >/dev/null
q "select pgque.set_queue_config('crashq', 'rotation_period', '2 seconds')" >/dev/null
q "create table attempts (tag text primary key)"
q "create table keyed_attempts (tag text not null)"   # one row per committed try
q "create table control (stop boolean not null)"
q "insert into control values (false)"
q "select pgque.set_queue_config('crashq', 'retry_delay', '1 second')" >/dev/null
for c in cons1 cons2 cons3; do
    q "select pgque.subscribe('crashq', '$c')" >/dev/null
    q "create table processed_$c (msg_id bigint, payload text)"
done

q "create procedure consume_loop(consumer text) language plpgsql as \$\$
begin
    while not (select stop from control) loop
        execute format('with m as (select * from pgque.receive(''crashq'', %L, 300)),
                             ins as (insert into %I select msg_id, payload from m)
                        select pgque.ack(b) from (select max(batch_id) b from m) x where b is not null', consumer, 'processed_' || consumer);
        commit;
        perform pg_sleep(0.01);
    end loop;
end \$\$"

# cons3: nack what comes the first time (the queue's retry policy: 1 s),
# process retries; nack, insert and ack in one transaction
q "create procedure retry_loop(consumer text) language plpgsql as \$\$
begin
    while not (select stop from control) loop
        execute format('with m as (select * from pgque.receive(''crashq'', %L, 300)),
                             nacked as (select pgque.nack(batch_id, m) from m where retry_count is null),
                             ins as (insert into %I select msg_id, payload from m where retry_count is not null)
                        select count(*) from nacked
                        union all
                        select pgque.ack(b) from (select max(batch_id) b from m) x where b is not null',
                       consumer, 'processed_' || consumer);
        commit;
        perform pg_sleep(0.01);
    end loop;
end \$\$"

producer() {   # name [seconds to stay in the transaction after the send] [delay]
    local i=0 tag out send
    : >"$work/confirmed_$1"
    while [ ! -f "$work/stop" ]; do
        tag="$1-$i"
        i=$((i + 1))   # never reused, whatever the outcome
        echo "$tag" >>"$work/started_$1"
        if [ -n "${3:-}" ]; then
            send="pgque.send_batch_at('crashq', 'default', array['$tag-a', '$tag-b', '$tag-c'],
                                      clock_timestamp() + interval '$3')"
        else
            send="pgque.send_batch('crashq', array['$tag-a', '$tag-b', '$tag-c'])"
        fi
        # success = psql's exit status and the count (the reply to the commit)
        if out=$(PGAPPNAME=producer psql -X -q -At -h "$HOST" -p "$PORT" -U postgres -d app -c \
            "insert into attempts values ('$tag');
             select count(*) from unnest($send);
             select pg_sleep(${2:-0})" 2>/dev/null) && [ "$out" = 3 ]; then
            echo "$tag" >>"$work/confirmed_$1"
        else
            sleep 0.2
        fi
    done
}

# p5: one event per tag, sent with the tag as its dedup_key; a failed or
# (every other tag) successful try is followed by a re-send of the same key.
# The ids the tries returned go to a file: all must be the same per tag.
keyed_producer() {   # name
    local i=0 tag out tries
    : >"$work/keyed_ids"
    while [ ! -f "$work/stop" ]; do
        tag="$1-$i"
        tries=0
        i=$((i + 1))
        while [ ! -f "$work/stop" ] && [ "$tries" -lt 20 ]; do
            tries=$((tries + 1))
            echo "$tag" >>"$work/started_$1"
            if out=$(PGAPPNAME=producer psql -X -q -At -h "$HOST" -p "$PORT" -U postgres -d app -c \
                "insert into keyed_attempts values ('$tag');
                 select pgque.send('crashq', '$tag-k', dedup_key => '$tag')" 2>/dev/null) && [ -n "$out" ]; then
                echo "$tag $out" >>"$work/keyed_ids"
                [ $((i % 2)) = 0 ] && [ "$tries" = 1 ] && continue   # the reply "was lost": again
                break
            fi
            sleep 0.2
        done
    done
}

# one receive + insert + ack; prints how many it processed (an empty receive
# still moves the cursor over empty ticks, and must not fail)
consume_once() {   # consumer
    local nack="false"
    [ "$1" = cons3 ] && nack="m.retry_count is null"
    PGAPPNAME="consumer_$1" psql -X -q -At -F ' ' -h "$HOST" -p "$PORT" -U postgres -d app -c \
        "with m as (select * from pgque.receive('crashq', '$1', 300)),
              nacked as (select pgque.nack(m.batch_id, m) from m where $nack),
              ins as (insert into processed_$1 select msg_id, payload from m where not ($nack))
         select count(*), (select count(*) from nacked),
                case when max(batch_id) is not null then pgque.ack(max(batch_id)) end from m" \
        2>/dev/null | cut -d' ' -f1
}

# A consumer is one long session (as real consumers are), committing each
# receive + insert + ack; when a kill ends it, it connects again.
consumer() {   # consumer [procedure]
    while [ ! -f "$work/stop" ]; do
        PGAPPNAME="consumer_$1" psql -X -q -h "$HOST" -p "$PORT" -U postgres -d app \
            -c "call ${2:-consume_loop}('$1')" >/dev/null 2>&1 || sleep 0.2
    done
}

restart_when_down() {
    for _ in $(seq 50); do
        up && return 0
        if [ ! -f "$HOST/data/postmaster.pid" ] || ! kill -0 "$(head -1 "$HOST/data/postmaster.pid" 2>/dev/null)" 2>/dev/null; then
            cluster_start $C >/dev/null 2>&1
        fi
        sleep 0.3
    done
    up
}

# The pid of a backend of the given kind (SQL condition), waiting up to
# 15 s for one to appear; empty if none did.
find_backend() {
    local cond=$1 pid=""
    for _ in $(seq 150); do
        pid=$(q "select pid from pg_stat_activity where datname = 'app' and $cond limit 1")
        [ -n "$pid" ] && break
        sleep 0.1
    done
    echo "$pid"
}

# kill -9 pid if it is still the kind of backend we looked for; 0 if it was hit
kill_backend() {   # pid condition
    local pid=$1 cond=$2
    [ -n "$pid" ] || return 1
    # re-check right before the kill: the pid must still be that backend
    [ "$(q "select count(*) from pg_stat_activity where pid = $pid and $cond")" = 1 ] || return 1
    kill -9 "$pid" 2>/dev/null
}

# running, and not a zombie (nobody may reap the killed postmaster here)
alive() { [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status"; }

WORKER="backend_type = 'pgque worker'"
CONSUMER="application_name like 'consumer\\_%'"

switch0=$(q "select queue_switch_time from pgque.queue where queue_name = 'crashq'")
producer p1 &
producer p2 &
producer p3 0.5 &   # mostly inside its transaction when a crash comes
producer p4 0 '1 second' &   # delayed events
keyed_producer p5 &
consumer cons1 &
consumer cons2 &
consumer cons3 retry_loop &
sleep 3

# Dead tuples (pgstattuple: exact, unlike pg_stat's counters, which a crash
# resets). pgque itself never updates or deletes an event row; only a send
# whose transaction aborted -- here, every one a crash cut off -- leaves dead
# rows, until rotation TRUNCATEs their table.
dead_tuples() {
    q "select coalesce(sum((pgstattuple(c.oid)).dead_tuple_count), 0) from pg_class c
        where c.relnamespace = 'pgque'::regnamespace and c.relname ~ '^event_[0-9]+_[0-9]+\$'"
}
# every dead tuple must be a row of an aborted send: at most 3 per attempt
# started but not committed (so far)
check_dead_bound() {   # when
    local started committed dead
    started=$(cat "$work"/started_p* | wc -l)
    committed=$(q "select (select count(*) from attempts) + (select count(*) from keyed_attempts)")
    dead=$(dead_tuples)
    echo "# $1: dead tuples in the event tables $dead; send attempts started $started, committed $committed"
    check "$1: every dead tuple is a row of an aborted send" test "$dead" -le $(((started - committed) * 3))
}

kills_postmaster=0
kills_worker=0
kills_consumer=0
for round in $(seq "$ROUNDS"); do
    # the postmaster
    sleep 2
    if [ "$SKIP" != postmaster ]; then
        pm=$(head -1 "$HOST/data/postmaster.pid" 2>/dev/null)
        if [ -n "$pm" ] && alive "$pm"; then
            cluster_kill $C
            alive "$pm" || kills_postmaster=$((kills_postmaster + 1))
        fi
    fi
    wait_until "round $round: back after kill -9 of the postmaster" 30 restart_when_down
    check_dead_bound "round $round, right after the restart"

    # the worker
    sleep 2
    if [ "$SKIP" != worker ]; then
        wpid=$(find_backend "$WORKER")
        kill_backend "$wpid" "$WORKER" && kills_worker=$((kills_worker + 1))
    fi
    sleep 1
    wait_until "round $round: back after kill -9 of the worker" 30 restart_when_down

    # a consumer backend, at whatever point of its receive/insert/ack loop
    sleep 2
    if [ "$SKIP" != consumer ]; then
        cpid=$(find_backend "$CONSUMER")
        kill_backend "$cpid" "$CONSUMER" && kills_consumer=$((kills_consumer + 1))
    fi
    sleep 1
    wait_until "round $round: back after kill -9 of a consumer backend" 30 restart_when_down
done

touch "$work/stop"
q "update control set stop = true"
wait
cat "$work"/confirmed_p* >"$work/confirmed"
echo "# kills that hit: postmaster $kills_postmaster, worker $kills_worker, consumer backend $kills_consumer"

q "create table confirmed (tag text)"
psql -X -q -h "$HOST" -p "$PORT" -U postgres -d app -c "\\copy confirmed from '$work/confirmed'" >/dev/null
q "create view expected as select a.tag || s as payload from attempts a, unnest(array['-a', '-b', '-c']) s
                          union all select distinct tag || '-k' from keyed_attempts"
# Drain: each consumer until it has processed as many events as were
# committed (after crashes in a row the launcher holds the worker back for
# a few seconds, so "idle for a while" would stop too early). A consumer
# that cannot get there within 90 s shows up as missing events below.
drained() {   # consumer
    consume_once "$1" >/dev/null
    [ "$(q "select count(distinct p.payload) from processed_$1 p join expected e using (payload)")" -ge "$committed_events" ]
}
committed_events=$(q "select count(*) from expected")
for c in cons1 cons2 cons3; do
    wait_until "$c drained what was committed" 90 drained "$c"
done

committed=$(q "select count(*) from attempts")
confirmed=$(q "select count(*) from confirmed")
unconfirmed=$(q "select count(*) from attempts a where not exists (select from confirmed c where c.tag = a.tag)")
echo "# send attempts committed $committed, confirmed to the producer $confirmed, committed but unconfirmed $unconfirmed"
check "producers sent events" test "$committed" -gt 30
check_eq "every confirmed send committed" 0 \
    "$(q "select count(*) from confirmed c where not exists (select from attempts a where a.tag = c.tag)")"
for c in cons1 cons2 cons3; do
    missing=$(q "select count(*) from expected e where not exists (select from processed_$c p where p.payload = e.payload)")
    dup=$(q "select count(*) - count(distinct msg_id) from processed_$c")
    ids=$(q "select count(*) from (select payload from processed_$c group by payload having count(distinct msg_id) > 1) x")
    extra=$(q "select count(*) from processed_$c p where not exists (select from expected e where e.payload = p.payload)")
    unconf_done=$(q "select count(*) from processed_$c p join expected e using (payload)
                      where p.payload !~ '-k\$' and regexp_replace(p.payload, '-[abc]\$', '') not in (select tag from confirmed)")
    echo "# $c: processed $(q "select count(*) from processed_$c") events, missing $missing, processed twice $dup, payloads under two ids $ids, not sent $extra; of committed-but-unconfirmed sends: $unconf_done events processed"
    check_eq "$c: every committed event processed" 0 "$missing"
    check_eq "$c: no event (msg_id) processed twice" 0 "$dup"
    check_eq "$c: each event has one msg_id" 0 "$ids"
    check_eq "$c: nothing processed that was not sent" 0 "$extra"
    check_eq "$c: committed-but-unconfirmed sends processed exactly once" "$((unconfirmed * 3))" "$unconf_done"
done
q "create table keyed_ids (tag text, id bigint)"
psql -X -q -h "$HOST" -p "$PORT" -U postgres -d app -c "\\copy keyed_ids from '$work/keyed_ids' (delimiter ' ')" >/dev/null
echo "# keyed sends: $(q "select count(distinct tag) from keyed_attempts") keys committed, $(q "select count(*) from keyed_attempts") tries committed, $(q "select count(*) from (select tag from keyed_attempts group by tag having count(*) > 1) x") keys committed more than once"
check "keys were sent again after their send committed" test \
    "$(q "select count(*) from (select tag from keyed_attempts group by tag having count(*) > 1) x")" -gt 5
check_eq "every try of a key returned the first send's id" 0 \
    "$(q "select count(*) from (select tag from keyed_ids group by tag having count(distinct id) > 1) x")"
for c in cons1 cons2 cons3; do
    check_eq "$c: each keyed event processed once however often it was sent" 0 \
        "$(q "select count(*) from (select payload from processed_$c where payload like 'p5-%'
                                      group by payload having count(*) > 1) x")"
done
check "delayed events were sent and committed" test "$(q "select count(*) from attempts where tag like 'p4-%'")" -gt 5
check_eq "cons3: each retried event processed once (by payload)" 0 \
    "$(q "select count(*) from (select payload from processed_cons3 group by payload having count(*) > 1) x")"
check_eq "the worker rotated tables during the run" "t" \
    "$(q "select queue_switch_time > '$switch0' from pgque.queue where queue_name = 'crashq'")"
check "the postmaster was killed" test "$kills_postmaster" -ge 1
check "the worker was killed" test "$kills_worker" -ge 1
check "a consumer backend was killed" test "$kills_consumer" -ge 1

check_dead_bound "after the run"
# consumers keep reading, so rotation goes on and empties every table once
no_dead_left() {
    q "select pgque.force_tick('crashq')" >/dev/null   # keep ticks coming without events
    consume_once cons1 >/dev/null
    consume_once cons2 >/dev/null
    consume_once cons3 >/dev/null
    [ "$(dead_tuples)" = 0 ]
}
wait_until "no dead tuple left once rotation emptied their tables" 60 no_dead_left ||
    echo "# $(q "select queue_cur_table || ' ' || queue_switch_time || ' ' || coalesce(queue_switch_step2::text, 'step2 pending') || ', blocked by: ' || coalesce(pgque._rotation_blocker(queue_id), '-') from pgque.queue")"
finish
