#!/usr/bin/env bash
# The launcher and its workers on a cluster with shared_preload_libraries =
# 'pgque': one worker per database with pgque, picked up within seconds,
# back after crashes and restarts, never two per database, never blocking
# DROP DATABASE, switched by pgque.enabled, no relaunch storm.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/lib/cluster.sh
source test/lib/check.sh

C=wlife
cluster_init $C 54351 || exit 1
cluster_start $C || exit 1
trap 'cluster_stop $C' EXIT
LOG="$(cluster_dir $C)/server.log"

q() { cluster_psql $C -d "$1" -At -c "$2" 2>/dev/null; }
workers() { q postgres "select count(*) from pg_stat_activity where backend_type = 'pgque worker' and datname = '$1'"; }
worker_pid() { q postgres "select pid from pg_stat_activity where backend_type = 'pgque worker' and datname = '$1'"; }
launcher_pid() { q postgres "select pid from pg_stat_activity where backend_type = 'pgque launcher'"; }
has_workers() { [ "$(workers "$1")" = "${2:-1}" ]; }
up() { q postgres "select 1" | grep -q 1; }
# an event sent now is received within the wait, without calling ticker()
flows() {
    local db=$1 tag=$2
    q "$db" "select pgque.send('q', '$tag')" >/dev/null
    for _ in $(seq 30); do
        if q "$db" "select count(*) from pgque.receive('q', 'c') where payload = '$tag'" | grep -q '^1$'; then
            q "$db" "select pgque.ack(batch_id) from pgque.receive('q', 'c') limit 1" >/dev/null
            return 0
        fi
        sleep 0.1
    done
    return 1
}

for db in a b c; do q postgres "create database $db" >/dev/null; done
check_eq "launcher runs" 1 "$(q postgres "select count(*) from pg_stat_activity where backend_type = 'pgque launcher'")"

t0=$(date +%s%N)
q a "create extension pgque" >/dev/null
q b "create extension pgque" >/dev/null
wait_until "CREATE EXTENSION is picked up: worker for a" 5 has_workers a
echo "# worker for a after $((($(date +%s%N) - t0) / 1000000)) ms"
wait_until "worker for b" 5 has_workers b
sleep 2
check_eq "no worker for c, which has no pgque" 0 "$(workers c)"
check_eq "no worker for template1" 0 "$(workers template1)"

for db in a b; do
    q $db "select pgque.create_queue('q'); select pgque.subscribe('q', 'c')" >/dev/null
done
check "events flow in a without manual ticks" flows a first
check "events flow in b without manual ticks" flows b first
check_eq "status() says the worker runs" "running" "$(q a "select status from pgque.status() where component = 'worker'")"
check "status() says launcher mode" bash -c "[[ \"$(q a "select detail from pgque.status() where component = 'worker'")\" == 'mode: launcher'* ]]"
check_eq "get_queue_info() says the worker ticks" "worker" "$(q a "select ticker from pgque.get_queue_info('q')")"

q c "create extension pgque" >/dev/null
wait_until "CREATE EXTENSION in a third database is picked up" 5 has_workers c

# kill -9 of a worker: crash restart, everything comes back
pid=$(worker_pid a)
kill -9 "$pid"
sleep 1
wait_until "server back after kill -9 of the worker" 30 up
wait_until "worker for a back after kill -9" 15 has_workers a
wait_until "worker for b back too" 15 has_workers b
check "events flow after kill -9 of the worker" flows a after_worker_kill

# kill -9 of an ordinary backend: crash restart
cluster_psql $C -d postgres -c "select pg_sleep(60)" >/dev/null 2>&1 &
sleep 0.5
bpid=$(q postgres "select pid from pg_stat_activity where query like 'select pg_sleep(60)%' and pid <> pg_backend_pid() limit 1")
kill -9 "$bpid"
wait "$!" 2>/dev/null
sleep 1
wait_until "server back after kill -9 of a backend" 30 up
wait_until "worker for a back after a backend crash" 15 has_workers a
check "events flow after a backend crash" flows a after_backend_kill

# clean restart
cluster_restart $C
wait_until "worker for a back after a restart" 15 has_workers a
wait_until "worker for b back after a restart" 15 has_workers b
check "events flow after a restart" flows b after_restart

# the launcher is terminated: it comes back and starts no duplicates
lpid=$(launcher_pid)
q postgres "select pg_terminate_backend($lpid)" >/dev/null
wait_until "launcher back after pg_terminate_backend" 15 bash -c "[ -n \"\$(psql -X -At -h '$(cluster_dir $C)' -p $(cluster_port $C) -U postgres -d postgres -c \"select pid from pg_stat_activity where backend_type = 'pgque launcher' and pid <> $lpid\")\" ]"
sleep 6
for db in a b c; do check_eq "one worker for $db after the launcher restarted" 1 "$(workers $db)"; done

# kill -9 of the launcher: crash restart, still one worker each
kill -9 "$(launcher_pid)"
sleep 1
wait_until "server back after kill -9 of the launcher" 30 up
wait_until "worker for c back after the launcher crashed" 15 has_workers c
sleep 3
for db in a b c; do check_eq "one worker for $db after the launcher crashed" 1 "$(workers $db)"; done

# a terminated worker is restarted by the launcher
wpid=$(worker_pid a)
q postgres "select pg_terminate_backend($wpid)" >/dev/null
wait_until "worker for a restarted after pg_terminate_backend" 10 bash -c "p=\$(psql -X -At -h '$(cluster_dir $C)' -p $(cluster_port $C) -U postgres -d postgres -c \"select pid from pg_stat_activity where backend_type = 'pgque worker' and datname = 'a'\"); [ -n \"\$p\" ] && [ \"\$p\" != $wpid ]"
check_eq "still one worker for a" 1 "$(workers a)"

# a second worker for the same database leaves at once (the guard lock):
# _launch_worker() registers one without looking whether one runs
dups=$(grep -c 'is leaving: another pgque worker serves this database' "$LOG")
check "a second worker is launched" q a "select pgque._launch_worker() > 0"
dup_left() { [ "$(grep -c 'is leaving: another pgque worker serves this database' "$LOG")" -gt "$dups" ]; }
wait_until "the second worker left because one serves the database" 10 dup_left
check_eq "still one worker for a" 1 "$(workers a)"

# DROP DATABASE is not blocked by the worker
t0=$(date +%s%N)
check "DROP DATABASE with a running worker" q postgres "drop database b"
ms=$((($(date +%s%N) - t0) / 1000000))
echo "# drop database took $ms ms"
check "DROP DATABASE took less than 5 s" test "$ms" -lt 5000
check "DROP DATABASE ... WITH (FORCE) with a running worker" q postgres "drop database c with (force)"
check_eq "database c is gone" 0 "$(q postgres "select count(*) from pg_database where datname = 'c'")"

# CREATE DATABASE ... TEMPLATE a: the worker steps aside, the copy gets its own
check "CREATE DATABASE ... TEMPLATE a database with a worker" q postgres "create database d template a"
wait_until "the copy gets its own worker" 15 has_workers d
wait_until "the template's worker comes back" 15 has_workers a
check "events flow in the copy" flows d in_copy

# pgque.enabled switches all workers off and on
q postgres "alter system set pgque.enabled = off" >/dev/null
q postgres "select pg_reload_conf()" >/dev/null
wait_until "pgque.enabled = off stops the workers" 5 has_workers a 0
check_eq "and keeps them stopped" 0 "$(sleep 2; workers d)"
q postgres "alter system reset pgque.enabled" >/dev/null
q postgres "select pg_reload_conf()" >/dev/null
wait_until "pgque.enabled = on starts them again" 10 has_workers a
wait_until "also for d" 10 has_workers d

# pgque.stop() / pgque.start() in launcher mode
check_eq "pgque.stop() stops the worker" "t" "$(q a "select pgque.stop() like 'worker stopped%'")"
sleep 3
check_eq "the launcher does not restart a stopped worker" 0 "$(workers a)"
check_eq "status() shows it stopped" "stopped" "$(q a "select status from pgque.status() where component = 'worker'")"
cluster_restart $C
sleep 3
check_eq "a stopped worker stays stopped across a restart" 0 "$(workers a)"
q a "select pgque.start()" >/dev/null
wait_until "pgque.start() brings it back" 5 has_workers a

# no relaunch storm: a worker that fails at every start is retried with backoff
q d "select pgque.stop()" >/dev/null
q d "alter table pgque.config rename to config_gone" >/dev/null
before=$(grep -c 'relation "pgque.config" does not exist' "$LOG")
q d "select pgque._start()" >/dev/null
sleep 10
after=$(grep -c 'relation "pgque.config" does not exist' "$LOG")
echo "# failed starts in 10 s: $((after - before))"
check "a failing worker is retried with backoff (at most 6 starts in 10 s)" test $((after - before)) -le 6
check "and it is retried" test $((after - before)) -ge 2
q d "alter table pgque.config_gone rename to config" >/dev/null

finish
