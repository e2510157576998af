#!/usr/bin/env bash
# Attacks on the worker by users who are not superusers (docs/security.md):
#   - a database owner plants operators and functions on the database's
#     search_path, hoping the worker (a superuser) runs them: no privilege
#     is gained, and a function that makes the worker read NULLs where it
#     expects values does not crash it (nor the cluster);
#   - anyone who can connect takes the worker's guard lock: it starts anyway;
#   - a reader holds a transaction open after subscribe / unsubscribe: the
#     worker goes on ticking every other queue, and the queue itself;
#   - a worker that keeps crashing the server is held back, longer each time;
#   - more databases than pgque.max_databases: those without pgque do not
#     keep the one with pgque from being served; one left out says so.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/lib/cluster.sh
source test/lib/check.sh

C=secw
cluster_init $C 54341 "pgque.max_databases = 3" "pgque.maint_period = 1" || exit 1
cluster_start $C || exit 1
trap 'kill $(jobs -p) 2>/dev/null; cluster_stop $C' EXIT
HOST=$(cluster_dir $C)
PORT=$(cluster_port $C)
LOG=$HOST/server.log
sq() { psql -X -q -At -h "$HOST" -p "$PORT" -U postgres -d "$1" -c "$2"; }       # superuser
oq() { psql -X -q -At -h "$HOST" -p "$PORT" -U mallory -d app -c "$1"; }         # database owner
rq() { psql -X -q -At -h "$HOST" -p "$PORT" -U reader -d app -c "$1"; }          # pgque_reader
worker_pid() { sq postgres "select pid from pg_stat_activity where backend_type = 'pgque worker' and datname = '${1:-app}'"; }
has_worker() { [ -n "$(worker_pid "${1:-app}")" ]; }
postmaster_pid() { head -1 "$HOST/data/postmaster.pid"; }
# an event sent now is received (and acked) within the wait, without calling ticker()
flows() {   # queue tag [consumer]
    sq app "select pgque.send('$1', '$2')" >/dev/null
    for _ in $(seq 50); do
        sq app "select bool_or(payload = '$2'), case when max(batch_id) is not null then pgque.ack(max(batch_id)) end
                  from pgque.receive('$1', '${3:-c}', 1000)" | grep -q '^t' && return 0
        sleep 0.1
    done
    return 1
}

sq postgres "create role mallory login createdb" >/dev/null
sq postgres "create database app owner mallory" >/dev/null
sq app "create extension pgque"
sq postgres "create role reader login in role pgque_reader" >/dev/null
for qn in q1 q2; do sq app "select pgque.create_queue('$qn'), pgque.subscribe('$qn', 'c')" >/dev/null; done
# d reads q2 only (subscribed to q1 and never reading it, d would fall
# behind a rotation the worker manages before the readers' locks in section
# 4, and status() would name d instead of the reader's row lock)
sq app "select pgque.subscribe('q2', 'd')" >/dev/null
wait_until "the worker serves app" 10 has_worker

# --- 1. the database owner's traps on the search_path ------------------------------
oq "create schema evil"
# an = on int4 that grants its caller's role superuser when a superuser runs it
oq "create function evil.eq(int4, int4) returns boolean language plpgsql as \$\$
    begin
        if (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
            execute 'alter role mallory superuser';
        end if;
        return \$1 operator(pg_catalog.=) \$2;
    end \$\$"
oq "create operator evil.= (leftarg = int4, rightarg = int4, function = evil.eq)"
oq "create function evil.lt(xid8, xid8) returns boolean language plpgsql as \$\$
    begin
        if (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
            execute 'alter role mallory superuser';
        end if;
        return \$1 operator(pg_catalog.<) \$2;
    end \$\$"
oq "create operator evil.< (leftarg = xid8, rightarg = xid8, function = evil.lt)"
# a min() that is not an aggregate: one row per input row, or none, all NULL
oq "create function evil.min(timestamptz) returns timestamptz language sql as 'select null::timestamptz'"
oq "alter database app set search_path = evil, pg_catalog, public"
check_eq "mallory is not a superuser yet" f "$(sq postgres "select rolsuper from pg_roles where rolname = 'mallory'")"

pm=$(postmaster_pid)
cluster_restart $C
pm=$(postmaster_pid)
wait_until "the worker starts again after the restart" 10 has_worker
sq app "select pgque.send('q1', 'x')" >/dev/null
sq app "select pgque.force_tick('q1')" >/dev/null
wait_until "the worker ticks q1 under the planted search_path" 10 flows q1 planted
# let it run a few passes: retries, rotation, idle ticks
sq app "select pgque.set_queue_config('q2', 'rotation_period', '0')" >/dev/null
sleep 3
check_eq "the worker ran none of mallory's functions: mallory is no superuser" f \
    "$(sq postgres "select rolsuper from pg_roles where rolname = 'mallory'")"
check_eq "no crash: the postmaster is the same process" "$pm" "$(postmaster_pid)"
check "no backend died of a signal" bash -c "! grep -q 'terminated by signal' '$LOG'"
check_eq "the worker reports no error" none "$(sq app "select coalesce(last_error, 'none') from pgque._worker_status()")"
oq "alter database app reset search_path"

# --- 3. the guard lock cannot be taken from SQL ------------------------------------
(psql -X -q -h "$HOST" -p "$PORT" -U mallory -d app -c \
    "select pg_advisory_lock_shared(1885827445, 1), pg_advisory_lock(1885827445, 1), pg_sleep(30)" >/dev/null 2>&1 &)
sleep 1
sq app "select pg_terminate_backend(pid) from pg_stat_activity where backend_type = 'pgque worker' and datname = 'app'" >/dev/null
wait_until "the worker starts although a user holds the old guard lock" 15 has_worker
wait_until "and ticks" 10 flows q1 guard
sq app "select pg_terminate_backend(pid) from pg_stat_activity where usename = 'mallory'" >/dev/null

# --- 4. a reader's open transaction does not stall the worker ----------------------
hold() {   # sql: run it in a transaction that stays open for 20 s
    (psql -X -q -h "$HOST" -p "$PORT" -U reader -d app -c "begin" -c "$1" -c "select pg_sleep(20)" \
        >/dev/null 2>&1 &)
    sleep 0.5
}
sq app "select pgque.set_queue_config(q, 'rotation_period', '0') from unnest(array['q1', 'q2']) q" >/dev/null
# the newcomer first: once it holds q1's row the worker cannot switch q1, so
# every later transaction (the other holds, and the tick c reads below) is
# newer than the last switch and only the row lock holds rotation back
hold "select pgque.subscribe('q1', 'newcomer')"   # a new one: holds q1 back from rotation
hold "select pgque.subscribe('q1', 'c')"          # existing subscription
hold "select pgque.unsubscribe('q2', 'c')"        # its rows stay locked until it ends
check "q2 still flows to its other consumer (the unsubscribe has not committed)" flows q2 held d
t0=$(date +%s%N)
check "q1 flows while readers hold transactions open" flows q1 held
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "... within a second (took ${ms} ms)" test "$ms" -lt 1000
# rotation (every second here) is held back by the readers' transactions, as
# any open transaction with an xid holds it back; the worker does not wait
pass0=$(sq app "select last_pass from pgque._worker_status()")
sleep 2.5
check "the worker keeps completing passes, maintenance included" \
    test "$(sq app "select last_pass > '$pass0'::timestamptz + interval '2 seconds' from pgque._worker_status()")" = t
blockers=$(sq app "select string_agg(queue_name || ': ' || coalesce(rotation_blocked_by, '-'), '; ') from pgque.get_queue_info()")
echo "# rotation: $blockers"
check "status() names the reader's row lock that holds q1's rotation back" bash -c "[[ '$blockers' == *'q1: '*'a row lock of pid'* ]]"
check_eq "the worker reports no error" none "$(sq app "select coalesce(last_error, 'none') from pgque._worker_status()")"
sq app "select pg_terminate_backend(pid) from pg_stat_activity where usename = 'reader'" >/dev/null

# --- a worker that keeps crashing the server is held back ---------------------------
# (kill -9 stands in for a crash; each one makes the postmaster restart all)
up() { sq postgres "select 1" | grep -qx 1; }
for i in 1 2 3; do
    wait_until "crash $i: the worker is back" 60 has_worker
    pid=$(worker_pid)
    [ -n "$pid" ] && kill -9 "$pid"
    sleep 1
    wait_until "crash $i: the server accepts connections again" 30 up
done
t0=$(date +%s%N)
state=$(sq app "select state from pgque._worker_status()")
echo "# after 3 crashes in a row: $state"
check "status() says the workers wait after crashes in a row" bash -c "[[ '$state' == 'waiting: the server restarted 3 times in a row'* ]]"
check_eq "the server serves queries meanwhile" 1 "$(sq app "select 1")"
wait_until "the worker starts after the hold" 30 has_worker
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "... not before ~8 s (took ${ms} ms)" test "$ms" -ge 6000

# --- 5. databases without pgque do not use up the slots ----------------------------
for db in d1 d2 d3 d4 d5; do sq postgres "create database $db" >/dev/null; done
sleep 6   # a launcher rescan: it probes each new database
sq postgres "create database late" >/dev/null
sq late "create extension pgque; select pgque.create_queue('q'), pgque.subscribe('q', 'c')" >/dev/null
wait_until "a database with pgque is served although 5 without it came first" 15 has_worker late
sq postgres "create database late2" >/dev/null
sq late2 "create extension pgque" >/dev/null
sq postgres "create database late3" >/dev/null
sq late3 "create extension pgque" >/dev/null
# the launcher probes databases it has not seen, each for a moment, so
# wait for the steady state: three of the four databases with pgque served
# by a worker, the fourth saying why in status()
served_three() {
    local served left
    served=$(sq postgres "select count(distinct datname) from pg_stat_activity
                           where backend_type = 'pgque worker' and datname in ('app', 'late', 'late2', 'late3')")
    left=$(for db in app late late2 late3; do sq $db "select detail from pgque.status() where component = 'worker'"; done |
           grep -c 'pgque.max_databases')
    [ "$served" = 3 ] && [ "$left" = 1 ]
}
wait_until "pgque.max_databases = 3 databases are served, the one left out says why in status()" 30 served_three ||
    for db in app late late2 late3; do echo "# $db: $(sq $db "select status || ': ' || detail from pgque.status() where component = 'worker'")"; done
finish
