#!/usr/bin/env bash
# Without shared_preload_libraries: ticking is manual until pgque.start()
# starts a dynamic worker for the database; pgque.stop() stops it; it does
# not survive a restart, and status() says so.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/lib/cluster.sh
source test/lib/check.sh

C=wdyn
cluster_init $C 54352 "shared_preload_libraries = ''" || exit 1
cluster_start $C || exit 1
trap 'cluster_stop $C' EXIT

q() { cluster_psql $C -d "$1" -At -c "$2" 2>/dev/null; }
workers() { q postgres "select count(*) from pg_stat_activity where backend_type = 'pgque worker' and datname = '$1'"; }
flows() {
    local tag=$1
    q dyn "select pgque.send('q', '$tag')" >/dev/null
    for _ in $(seq 30); do
        if q dyn "select count(*) from pgque.receive('q', 'c') where payload = '$tag'" | grep -q '^1$'; then
            q dyn "select pgque.ack(batch_id) from pgque.receive('q', 'c') limit 1" >/dev/null
            return 0
        fi
        sleep 0.1
    done
    return 1
}

q postgres "create database dyn" >/dev/null
q dyn "create extension pgque" >/dev/null
q dyn "select pgque.create_queue('q'); select pgque.subscribe('q', 'c')" >/dev/null
check_eq "no launcher without preload" 0 "$(q postgres "select count(*) from pg_stat_activity where backend_type = 'pgque launcher'")"
check_eq "status() says ticking is manual" "manual" "$(q dyn "select status from pgque.status() where component = 'worker'")"
check_eq "get_queue_info() says manual" "manual" "$(q dyn "select ticker from pgque.get_queue_info('q')")"
no_flow() { ! flows "$1"; }
check "nothing flows without a worker" no_flow idle_no_worker

out=$(q dyn "select pgque.start()")
echo "# $out"
check "pgque.start() starts a worker" bash -c "[[ '$out' == 'worker started (pid '* ]]"
check "and warns that it does not survive a restart" bash -c "[[ '$out' == *'will not survive a server restart'* ]]"
check_eq "one worker" 1 "$(workers dyn)"
check_eq "status() says running" "running" "$(q dyn "select status from pgque.status() where component = 'worker'")"
check "status() says dynamic and warns" bash -c "[[ \"$(q dyn "select detail from pgque.status() where component = 'worker'")\" == 'mode: dynamic'*'does not survive a server restart'* ]]"
check "events flow with the dynamic worker" flows first
check "events keep flowing" flows second
check "pgque.start() again says it already runs" bash -c "[[ \"$(q dyn "select pgque.start()")\" == 'worker already running'* ]]"
check_eq "still one worker" 1 "$(workers dyn)"

# commits wake the dynamic worker too: a burst arrives quickly
t0=$(date +%s%N)
check "an event arrives well within a second" flows quick
echo "# took $((($(date +%s%N) - t0) / 1000000)) ms including psql round trips"

check "pgque.stop() stops it" bash -c "[[ \"$(q dyn "select pgque.stop()")\" == 'worker stopped'* ]]"
check_eq "no worker after stop()" 0 "$(workers dyn)"
check_eq "status() says manual again" "manual" "$(q dyn "select status from pgque.status() where component = 'worker'")"

q dyn "select pgque.start()" >/dev/null
check_eq "started again" 1 "$(workers dyn)"
cluster_restart $C
sleep 2
check_eq "a dynamic worker does not survive a restart" 0 "$(workers dyn)"

q dyn "select pgque.start()" >/dev/null
check "DROP DATABASE with a dynamic worker" q postgres "drop database dyn"
finish
