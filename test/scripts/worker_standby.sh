#!/usr/bin/env bash
# Nothing ticks on a standby; after promotion the launcher starts and the
# promoted server's queues flow.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/lib/cluster.sh
source test/lib/check.sh

P=wprim
S=wstby
cluster_init $P 54353 || exit 1
cluster_start $P || exit 1
sdir=$(cluster_dir $S)
trap 'cluster_stop $P; as_postgres "$PGBIN/pg_ctl" -D "$sdir/data" -m immediate stop >/dev/null 2>&1' EXIT

qp() { cluster_psql $P -d "$1" -At -c "$2" 2>/dev/null; }
qs() { psql -X -At -h "$sdir" -p 54354 -U postgres -d "$1" -c "$2" 2>/dev/null; }
pgque_procs() { qs postgres "select count(*) from pg_stat_activity where backend_type like 'pgque%'"; }

qp postgres "create database app" >/dev/null
qp app "create extension pgque; select pgque.create_queue('q'); select pgque.subscribe('q', 'c')" >/dev/null

rm -rf "$sdir"
mkdir -p "$sdir"
chown postgres: "$sdir" 2>/dev/null || true
as_postgres "$PGBIN/pg_basebackup" -D "$sdir/data" -R -h "$(cluster_dir $P)" -p 54353 -U postgres >/dev/null 2>&1
check "standby created with pg_basebackup" test -f "$sdir/data/standby.signal"
{
    echo "port = 54354"
    echo "unix_socket_directories = '$sdir'"
} | as_postgres tee -a "$sdir/data/postgresql.conf" >/dev/null
as_postgres "$PGBIN/pg_ctl" -D "$sdir/data" -l "$sdir/server.log" -w -t 60 start >/dev/null
check_eq "standby is in recovery" "t" "$(qs postgres "select pg_is_in_recovery()")"

qp app "select pgque.send('q', 'on primary')" >/dev/null
sleep 3
check_eq "no pgque launcher or worker on the standby" 0 "$(pgque_procs)"
tick_before=$(qs app "select count(*) from pgque.tick")
check_eq "status() on the standby says so" "standby" "$(qs app "select status from pgque.status() where component = 'postgresql'")"
check "pgque.start() refuses on a standby (25006)" bash -c "psql -X -At -v VERBOSITY=verbose -h '$sdir' -p 54354 -U postgres -d app -c 'select pgque._start()' 2>&1 | grep -q '25006: cannot start the pgque worker during recovery'"

as_postgres "$PGBIN/pg_ctl" -D "$sdir/data" -w promote >/dev/null
check_eq "promoted" "f" "$(qs postgres "select pg_is_in_recovery()")"
wait_until "launcher and worker start after promotion" 15 bash -c "[ \"\$(psql -X -At -h '$sdir' -p 54354 -U postgres -d postgres -c \"select count(*) from pg_stat_activity where backend_type = 'pgque worker' and datname = 'app'\")\" = 1 ]"
wait_until "the promoted server ticks: the event sent on the primary arrives" 10 bash -c "psql -X -At -h '$sdir' -p 54354 -U postgres -d app -c \"select payload from pgque.receive('q', 'c')\" | grep -q 'on primary'"
check "ticks were added after promotion" test "$(qs app "select count(*) from pgque.tick")" -gt "$tick_before"
finish
