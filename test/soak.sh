#!/usr/bin/env bash
# Soak: SECONDS of mixed load with frequent rotation, then check that every
# consumer processed every event exactly once, that the event tables stayed
# bounded, and that they hold no dead tuples.
#   test/soak.sh [SECONDS]          (make soak: 600; make test: 60)
#
# Producers (pgbench) record every payload in the same transaction as its
# send, so soak_sent is exactly the set of committed events. Another
# producer sends batches and rolls them back, counting the rows with a
# sequence (which a rollback does not undo). One producer
# sends from REPEATABLE READ transactions that sleep across rotations. Three
# consumers process and ack transactionally; each fails 5% of first
# deliveries with nack (retried after 1 s); c3 sleeps 8 s between catch-ups,
# so it lags by several rotation periods (3 s) all the time.
set -uo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh
source test/lib/check.sh

DURATION=${1:-600}
C=soak
cluster_init $C 54357 "pgque.maint_period = 1" "max_connections = 50" || exit 1
cluster_start $C || exit 1
trap 'cluster_stop $C' EXIT
HOST=$(cluster_dir $C)
PORT=$(cluster_port $C)
work=$HOST/work
mkdir -p "$work"
q() { psql -X -q -At -h "$HOST" -p "$PORT" -U postgres -d app -c "$1"; }

psql -X -q -h "$HOST" -p "$PORT" -U postgres -d postgres -c "create database app" >/dev/null
q "create extension pgque"
q "select pgque.create_queue('soak')" >/dev/null
q "select pgque.set_queue_config('soak', 'rotation_period', '3 seconds')" >/dev/null
q "create sequence soak_seq; create table soak_sent (payload text not null)"
q "create sequence soak_aborted"
q "create extension pgstattuple"
for c in c1 c2 c3; do
    q "select pgque.subscribe('soak', '$c')" >/dev/null
    q "create table soak_got_$c (payload text, retry_count int)"
done
q "create function soak_consume(consumer text, max_return int) returns int language plpgsql as \$\$
declare
    m pgque.message;
    b bigint;
    n int := 0;
begin
    for m in select * from pgque.receive('soak', consumer, max_return) loop
        b := m.batch_id;
        n := n + 1;
        if m.retry_count is null and random() < 0.05 then
            perform pgque.nack(m.batch_id, m, '1 second', 'soak failure');
        else
            execute format('insert into %I values (\$1, \$2)', 'soak_got_' || consumer)
                using m.payload, m.retry_count;
        end if;
    end loop;
    if b is not null then
        perform pgque.ack(b);
    end if;
    return n;
end \$\$"
# rows in the event tables (pg_stat's n_live_tup is not reset by TRUNCATE)
q "create function soak_event_rows() returns bigint language plpgsql as \$\$
declare t regclass; n bigint := 0; c bigint;
begin
    for t in select oid from pg_class where relnamespace = 'pgque'::regnamespace
                                        and relname ~ '^event_[0-9]+_[0-9]+\$' loop
        execute 'select count(*) from ' || t into c;
        n := n + c;
    end loop;
    return n;
end \$\$"
q "create function soak_drain(consumer text) returns int language plpgsql as \$\$
declare n int; total int := 0;
begin
    loop
        n := soak_consume(consumer, 5000);
        exit when n = 0;
        total := total + n;
    end loop;
    return total;
end \$\$"

cat >"$work/produce_batch.sql" <<'EOF'
\set n random(1, 50)
with p as (insert into soak_sent select 'b' || nextval('soak_seq') from generate_series(1, :n) returning payload)
select pgque.send_batch('soak', 'batch', array_agg(payload)) from p;
EOF
cat >"$work/produce_single.sql" <<'EOF'
with p as (insert into soak_sent select 's' || nextval('soak_seq') returning payload)
select pgque.send('soak', 'single', payload) from p;
EOF
cat >"$work/produce_old_snapshot.sql" <<'EOF'
begin isolation level repeatable read;
select count(*) from pgque.queue;
\sleep 1500 ms
with p as (insert into soak_sent select 'r' || nextval('soak_seq') from generate_series(1, 5) returning payload)
select pgque.send_batch('soak', 'old snapshot', array_agg(payload)) from p;
commit;
EOF
cat >"$work/produce_aborted.sql" <<'EOF'
\set n random(1, 20)
begin;
select count(nextval('soak_aborted')) from generate_series(1, :n);
select pgque.send_batch('soak', 'aborted', array(select 'x' || g from generate_series(1, :n) g));
rollback;
EOF
for c in c1 c2; do echo "select soak_consume('$c', 500);" >"$work/consume_$c.sql"; done
# c3 lags: it sleeps for several rotation periods, then catches up at once
cat >"$work/consume_c3.sql" <<'EOF2'
\sleep 8 s
select soak_drain('c3');
EOF2

pg() {   # pgbench args...
    pgbench -n -h "$HOST" -p "$PORT" -U postgres -T "$DURATION" "$@" app >"$work/pgbench_$RANDOM.log" 2>&1
}
pg -c 2 -R 100 -f "$work/produce_batch.sql" &
pg -c 2 -R 200 -f "$work/produce_single.sql" &
pg -c 2 -f "$work/produce_old_snapshot.sql" &
pg -c 1 -R 20 -f "$work/produce_aborted.sql" &
pg -c 1 -f "$work/consume_c1.sql" &
pg -c 1 -R 20 -f "$work/consume_c2.sql" &
pg -c 1 -f "$work/consume_c3.sql" &

# watch the size of the event tables while the load runs
max_rows=0
max_tables_mb=0
for _ in $(seq $((DURATION / 5))); do
    sleep 5
    rows=$(q "select soak_event_rows()")
    mb=$(q "select (sum(pg_total_relation_size(oid)) / 1048576)::int from pg_class where relnamespace = 'pgque'::regnamespace and relname ~ '^event_[0-9]+_[0-9]+\$'")
    [ "${rows:-0}" -gt "$max_rows" ] && max_rows=$rows
    [ "${mb:-0}" -gt "$max_tables_mb" ] && max_tables_mb=$mb
done
wait
echo "# load done: $(q "select count(*) from soak_sent") events sent"

# drain, including the retries that become due
for c in c1 c2 c3; do
    idle=0
    while [ $idle -lt 30 ]; do
        n=$(q "select soak_consume('$c', 5000)")
        if [ "$n" = 0 ]; then idle=$((idle + 1)); sleep 0.1; else idle=0; fi
    done
done
sleep 4   # a few rotation passes over the drained queue

total=$(q "select count(*) from soak_sent")
check "the load sent events" test "$total" -gt 0
for c in c1 c2 c3; do
    missing=$(q "select count(*) from soak_sent s where not exists (select from soak_got_$c g where g.payload = s.payload)")
    dup=$(q "select count(*) - count(distinct payload) from soak_got_$c")
    retried=$(q "select count(*) from soak_got_$c where retry_count > 0")
    echo "# $c: processed $(q "select count(*) from soak_got_$c") of $total, missing $missing, duplicated $dup, after a retry $retried"
    check_eq "$c got every event" 0 "$missing"
    check_eq "$c got no event twice" 0 "$dup"
    check "$c processed retried events" test "$retried" -gt 0
done
check_eq "no dead letters" 0 "$(q "select count(*) from pgque.dead_letter")"
check_eq "no retries left" 0 "$(q "select count(*) from pgque.retry_queue")"
old=$(q "select count(*) from soak_sent where payload like 'r%'")
check "REPEATABLE READ producers with old snapshots sent events" test "$old" -gt 0

echo "# event tables at most $max_rows live rows / $max_tables_mb MB during the run ($total events in all)"
# Rotation can happen only when the laggard has caught up (every ~9 s), so
# the three tables hold about three of its cycles: ~30 s of production,
# however long the run. Allow 45 s.
check "the event tables stayed bounded (45 s of events at most)" \
    test "$max_rows" -lt $((total * 45 / DURATION))
left=$(q "select soak_event_rows()")
echo "# event tables after the drain: $left live rows"

# Dead tuples, counted exactly (pgstattuple). pgque never updates or deletes
# an event row: the only dead rows in event tables are those of sends that
# rolled back, and rotation's TRUNCATE removes them with their table.
dead_tuples() {
    q "select coalesce(sum((pgstattuple(c.oid)).dead_tuple_count), 0) from pg_class c
        where c.relnamespace = 'pgque'::regnamespace and c.relname ~ '^event_[0-9]+_[0-9]+\$'"
}
aborted=$(q "select last_value from soak_aborted")
dead=$(dead_tuples)
echo "# rows of rolled-back sends: $aborted; dead tuples in the event tables now: $dead"
check "rolled-back sends happened" test "$aborted" -gt 0
check "every dead tuple in the event tables is a row of a rolled-back send" test "$dead" -le "$aborted"
check_eq "nothing of a rolled-back send was delivered" 0 \
    "$(q "select (select count(*) from soak_got_c1 where payload like 'x%') + (select count(*) from soak_got_c2 where payload like 'x%') + (select count(*) from soak_got_c3 where payload like 'x%')")"
# once every table has been truncated since the last rollback, none is left
gone() {
    q "select pgque.force_tick('soak')" >/dev/null   # keep ticking without events
    for c in c1 c2 c3; do q "select soak_consume('$c', 5000)" >/dev/null; done
    [ "$(dead_tuples)" = 0 ]
}
wait_until "no dead tuples left in the event tables after rotation" 60 gone
echo "# dead tuples in metadata tables: $(q "select string_agg(relname || ' ' || n_dead_tup, ', ' order by relname) from pg_stat_user_tables where schemaname = 'pgque' and relname not like 'event\_%'")"
finish
