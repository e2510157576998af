#!/usr/bin/env bash
# The producers' shared cache of pgque.queue (src/queue_cache.c): a warm
# backend takes the current table from it; a committed change of the queue
# row invalidates it; rotation step 2 waits while a stale copy is valid.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/lib/cluster.sh
source test/lib/check.sh

C=qcache
cluster_init $C 54359 || exit 1
cluster_start $C || exit 1
trap 'cluster_stop $C' EXIT
HOST=$(cluster_dir $C)
PORT=$(cluster_port $C)
# one session for all statements, so that its backend cache stays warm
s() { psql -X -q -At -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U postgres -d app "$@" 2>&1; }
rows_in() { s -c "select count(*) from pgque.event_1_$1"; }

psql -X -q -h "$HOST" -p "$PORT" -U postgres -d postgres -c "create database app" >/dev/null
s -c "create extension pgque" -c "select pgque.stop()" -c "select pgque.create_queue('cq')" >/dev/null

# table 0 is current. A warm session keeps using its cached copy when the
# row changes without the trigger telling anyone (session_replication_role =
# replica skips triggers; DDL would reset the backend caches).
out=$(s -c "select pgque.send('cq', 'w1'), pgque.send('cq', 'w2'), pgque.send('cq', 'w3')" \
        -c "set session_replication_role = replica" \
        -c "update pgque.queue set queue_cur_table = 2, queue_switch_step1 = '3', queue_switch_step2 = null where queue_name = 'cq'" \
        -c "select pgque.send('cq', 'cached') > 0" \
        -c "select pgque._cache_current(1, 2)" \
        -c "select pgque.maint_rotate_tables_step2()")
echo "# $(echo "$out" | tr '\n' ' ')"
check_eq "a warm producer takes the current table from the shared cache" 4 "$(rows_in 0)"
check_eq "so the silently changed row is not read" 0 "$(rows_in 2)"
check_eq "the cache is known to be stale" "f" "$(echo "$out" | sed -n 3p)"
check_eq "rotation step 2 refuses while a stale copy is valid" 0 "$(echo "$out" | sed -n 4p)"

# a committed change through the trigger invalidates it for everyone
s -c "update pgque.queue set queue_cur_table = 2 where queue_name = 'cq'" >/dev/null
check_eq "after a committed change step 2 proceeds" 1 "$(s -c "select pgque.maint_rotate_tables_step2()")"
s -c "select pgque.send('cq', 'after change') > 0" >/dev/null
check_eq "and the new current table is used" 1 "$(rows_in 2)"
check_eq "the cache agrees with the row again" "t" "$(s -c "select pgque.send('cq', 'x') > 0" -c "select pgque._cache_current(1, 2)" | tail -1)"

# drop and re-create a queue of the same name: no stale table OIDs
s -c "select pgque.drop_queue('cq', true)" -c "select pgque.create_queue('cq')" >/dev/null
check_eq "a re-created queue is written through fresh OIDs" "t" \
    "$(s -c "select pgque.send('cq', 'new') > 0" -c "select pgque.send('cq', 'new2') > 0" -c "select count(*) = 2 from pgque.event_2_0" | tail -1)"

# DROP and CREATE EXTENSION in the same session: the cache starts over
check_eq "after DROP and CREATE EXTENSION the same session still sends" "t" \
    "$(s -c "select pgque.send('cq', 'a') > 0" -c "drop extension pgque cascade" -c "create extension pgque" \
         -c "select pgque.stop() is not null" -c "select pgque.create_queue('cq')" \
         -c "select pgque.send('cq', 'b') > 0" -c "select pgque.send('cq', 'c') > 0" \
         -c "select count(*) = 2 from pgque.event_1_0" | tail -1)"
finish
