#!/usr/bin/env bash
# status() and get_queue_info() say what keeps a due rotation from
# happening: a consumer that has not read past the last switch, or an old
# transaction that holds the ticks back.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/lib/cluster.sh
source test/lib/check.sh

C=rotblk
cluster_init $C 54358 "pgque.maint_period = 1" || exit 1
cluster_start $C || exit 1
trap 'cluster_stop $C' EXIT
HOST=$(cluster_dir $C)
PORT=$(cluster_port $C)
q() { psql -X -q -At -h "$HOST" -p "$PORT" -U postgres -d app -c "$1" 2>/dev/null; }
blocker() { q "select coalesce(rotation_blocked_by, '-') from pgque.get_queue_info('rq')"; }
rotations_since() { q "select queue_switch_time > '$1' from pgque.queue where queue_name = 'rq'"; }

psql -X -q -h "$HOST" -p "$PORT" -U postgres -d postgres -c "create database app" >/dev/null
q "create extension pgque"
q "select pgque.create_queue('rq'); select pgque.set_queue_config('rq', 'rotation_period', '1 second')" >/dev/null
q "select pgque.subscribe('rq', 'fast'); select pgque.subscribe('rq', 'slow')" >/dev/null
drain() { q "select pgque.ack(batch_id) from pgque.receive('rq', '$1', 10000) limit 1" >/dev/null; }
contains() { [[ "$1" == *"$2"* ]]; }

check_eq "nothing blocks a fresh queue" "-" "$(blocker)"

# a consumer that does not read holds rotation back after one switch
for i in $(seq 30); do q "select pgque.send('rq', 'e$i')" >/dev/null; drain fast; sleep 0.1; done
wait_until "a lagging consumer is named as the blocker" 10 bash -c "[[ \"\$(psql -X -At -h '$HOST' -p $PORT -U postgres -d app -c \"select rotation_blocked_by from pgque.get_queue_info('rq')\")\" == 'consumer \"slow\"'* ]]"
check_eq "status() flags the queue" "rotation blocked" "$(q "select status from pgque.status() where component = 'queue rq'")"
check "status() names the consumer" contains "$(q "select detail from pgque.status() where component = 'queue rq'")" 'rotation blocked by consumer "slow"'
drain slow
t0=$(q "select now()")
q "select pgque.send('rq', 'after')" >/dev/null
sleep 0.2
drain fast
drain slow
wait_until "once it has caught up, rotation goes on" 10 bash -c "[ \"\$(psql -X -At -h '$HOST' -p $PORT -U postgres -d app -c \"select queue_switch_time > '$t0' from pgque.queue where queue_name = 'rq'\")\" = t ]"

# an old transaction with an xid holds every tick's xmin, and with it rotation
psql -X -q -h "$HOST" -p "$PORT" -U postgres -d app \
    -c "begin; select pg_current_xact_id(); select pg_sleep(20); commit;" >/dev/null 2>&1 &
holder=$!
sleep 2
for i in $(seq 30); do q "select pgque.send('rq', 'h$i')" >/dev/null; drain fast; drain slow; sleep 0.1; done
wait_until "an old open transaction is named as the blocker" 10 bash -c "[[ \"\$(psql -X -At -h '$HOST' -p $PORT -U postgres -d app -c \"select rotation_blocked_by from pgque.get_queue_info('rq')\")\" == 'transaction of pid '* ]]"
check "status() names the transaction" contains "$(q "select detail from pgque.status() where component = 'queue rq'")" 'rotation blocked by transaction of pid'
kill $holder 2>/dev/null
q "select pg_terminate_backend(pid) from pg_stat_activity where query like '%pg_sleep(20)%' and pid <> pg_backend_pid()" >/dev/null
wait $holder 2>/dev/null
t1=$(q "select now()")
for i in $(seq 20); do q "select pgque.send('rq', 'z$i')" >/dev/null; drain fast; drain slow; sleep 0.1; done
wait_until "when it ends, rotation goes on" 10 bash -c "[ \"\$(psql -X -At -h '$HOST' -p $PORT -U postgres -d app -c \"select queue_switch_time > '$t1' from pgque.queue where queue_name = 'rq'\")\" = t ]"
check_eq "and nothing is named any more: caught-up consumers only wait for a tick" "-" "$(sleep 1.5; blocker)"
finish
