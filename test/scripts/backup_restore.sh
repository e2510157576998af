#!/usr/bin/env bash
# Backup and restore: pg_dump -Fc of a filled database, pg_restore into a new
# one, and check that
#   - pg_restore reports no error;
#   - the restored database says what the dumped one said (queue and
#     consumer info, configuration, delayed events, schedules, retries, dead
#     letters, grants), compared query by query between the two databases;
#   - consumers go on where they were: the same receive/ack sequence run in
#     both databases hands out the same events with the same ids (the open
#     batch again, nothing acknowledged, priority 5 first), a keyed send
#     returns the first id, sequences go on without reusing an id;
#   - the worker serves the restored database, and rotation goes on;
#   - nothing in pgque's tables would break pg_upgrade (no column of a reg*
#     type that names an object by OID, except regrole).
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/lib/cluster.sh
source test/lib/check.sh

C=backup_restore
# The worker is off while the two databases are compared (it would tick and
# move events in between), and turned on for the last part.
cluster_init $C 54365 "fsync = off" "pgque.enabled = off" || exit 1
cluster_start $C || exit 1
trap 'cluster_stop $C' EXIT
HOST=$(cluster_dir $C)
PORT=$(cluster_port $C)
q() { psql -X -q -At -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U postgres -d "$1" -c "$2"; }
s() { q src "$1"; }
d() { q dst "$1"; }
# same query in both databases: "ok" when the outputs are equal and not empty
same() {   # what query
    local a b
    a=$(s "$2" 2>&1)
    b=$(d "$2" 2>&1)
    if [ -n "$a" ] && [ "$a" = "$b" ]; then
        check "$1" true
    else
        check "$1" false
        diff <(echo "$a") <(echo "$b") | head -20
    fi
}

q postgres "create database src" >/dev/null
s "create extension pgque"
# roles are the cluster's, not the database's: both databases see them
s "create role bk_consumer; create role bk_other; grant pgque_reader to bk_consumer, bk_other"

# --- fill src through the API --------------------------------------------------
s "select pgque.create_queue('q_a'), pgque.create_queue('q_b')" >/dev/null
s "select pgque.subscribe('q_a', 'c1'), pgque.subscribe('q_a', 'c2'),
          pgque.subscribe('q_b', 'c1'), pgque.subscribe('q_b', 'c2')" >/dev/null
s "select pgque.set_queue_config('q_a', 'rotation_period', '0'),
          pgque.set_queue_config('q_a', 'ticker_idle_period', '7 seconds'),
          pgque.set_queue_config('q_a', 'retry_backoff', 'exponential'),
          pgque.set_queue_config('q_b', 'max_retries', '0'),
          pgque.set_queue_config('q_b', 'dedup_window', '2 hours')" >/dev/null
s "select pgque.set_queue_config('q_b', 'restricted', 'true'),
          pgque.grant_queue('q_b', 'bk_consumer', 'consume')" >/dev/null
# drain(queue, consumer, max, nacks): receive and ack until nothing comes,
# nacking the payloads named in nacks (payload -> retry_after); returns
# what it received as "msg_id:payload:retry_count", batches separated by |
s "create function drain(q text, c text, n int default 100, nacks jsonb default '{}') returns text
   language plpgsql as \$\$
declare m pgque.message; b bigint; r text := '';
begin
    loop
        b := null;
        for m in select * from pgque.receive(q, c, n) loop
            b := m.batch_id;
            r := r || m.msg_id || ':' || m.payload || ':' || coalesce(m.retry_count, 0) || ' ';
            if nacks ? m.payload then
                perform pgque.nack(m.batch_id, m, (nacks ->> m.payload)::interval, 'backup test');
            end if;
        end loop;
        exit when b is null;
        perform pgque.ack(b);
        r := r || '| ';
    end loop;
    return r;
end \$\$"
tick() { s "select pgque.force_tick('q_a'), pgque.force_tick('q_b'); select pgque.ticker()" >/dev/null; }

s "select pgque.send('q_a', 'a' || i) from generate_series(1, 10) i" >/dev/null
tick
check "c1 and c2 take a1..a10 and ack them" \
    test "$(s "select drain('q_a', 'c1') <> '' and drain('q_a', 'c2') <> ''")" = t

# a rotation, with both consumers caught up
cur_before=$(s "select queue_cur_table from pgque.queue where queue_name = 'q_a'")
s "select pgque.maint_rotate_tables_step1('q_a')" >/dev/null
s "select pgque.maint_rotate_tables_step2()" >/dev/null
check "q_a rotated in src" test "$(s "select queue_cur_table from pgque.queue where queue_name = 'q_a'")" != "$cur_before"
check_eq "and step 2 is done" t "$(s "select queue_switch_step2 is not null from pgque.queue where queue_name = 'q_a'")"

s "select pgque.send('q_a', 'a' || i) from generate_series(11, 20) i" >/dev/null
tick
check_eq "c1 takes a11..a15" "a11 a12 a13 a14 a15" \
    "$(s "select string_agg(payload, ' ' order by msg_id) from pgque.receive('q_a', 'c1', 5)")"
check_eq "and acks them (a split batch)" 1 \
    "$(s "select pgque.ack(current_batch) from pgque.get_consumer_info('q_a', 'c1')")"
check_eq "c1 takes a16..a18 and does not ack (an open batch)" "a16 a17 a18" \
    "$(s "select string_agg(payload, ' ' order by msg_id) from pgque.receive('q_a', 'c1', 3)")"
check "c2 takes a11..a20, nacking a12 (retry in an hour)" \
    test -n "$(s "select drain('q_a', 'c2', 100, '{\"a12\": \"1 hour\"}')")"
s "select pgque.send('q_b', 'b' || i) from generate_series(1, 3) i" >/dev/null
tick
check "c1 takes b1..b3 from q_b, nacking b2 into the dead letters (max_retries 0)" \
    test -n "$(s "select drain('q_b', 'c1', 100, '{\"b2\": \"0\"}')")"

# pending: sent and ticked, not received by anyone yet
s "select pgque.send('q_a', 'a' || i) from generate_series(21, 23) i" >/dev/null
s "select pgque.send('q_a', 'p5', priority => 5)" >/dev/null
s "select pgque.send('q_b', 'bk', dedup_key => 'k')" >/dev/null
s "select pgque.send('q_b', 'b4')" >/dev/null
tick
s "select pgque.send_at('q_b', 'later', 'b-delayed', now() + interval '1 hour')" >/dev/null
s "select pgque.schedule('s_yearly', 'q_a', '@yearly', 'scheduled', 's-payload')" >/dev/null

check_eq "a retry waits" 1 "$(s "select count(*) from pgque.retry_queue")"
check_eq "a dead letter" 1 "$(s "select count(*) from pgque.dead_letter")"
check_eq "a delayed event" 1 "$(s "select sum(delayed) from pgque.get_delayed_info()")"
check_eq "a priority lane" 1 "$(s "select count(*) from pgque.queue where queue_lane_of is not null")"
check_eq "a dedup key" 1 "$(s "select (select count(*) from pgque.dedup_0) + (select count(*) from pgque.dedup_1)
                                     + (select count(*) from pgque.dedup_2)")"

# Nothing moves while dumping (the worker is off cluster-wide here; stop()
# is what an operator does, and it is per database).
s "select pgque.stop()" >/dev/null

# --- dump and restore ----------------------------------------------------------
# pg_dump warns about "circular foreign-key constraints" on pgque.queue: a
# lane references its queue in the same table (queue_lane_of). That matters
# only to a --data-only restore; the rows come back in one COPY, and the
# constraint is checked at its end.
as_postgres "$PGBIN/pg_dump" -h "$HOST" -p "$PORT" -U postgres -Fc -f "$HOST/src.dump" src \
    2>"$HOST/dump.err"
check_eq "pg_dump succeeds" 0 $?
check_eq "pg_dump warns only about the lanes' self-reference" "" \
    "$(grep -v -e 'circular foreign-key constraints' -e '^pg_dump: detail: queue$' \
                -e 'might not be able to restore the dump without using --disable-triggers' \
                -e 'Consider using a full dump instead of a --data-only dump' "$HOST/dump.err")"
q postgres "create database dst" >/dev/null
as_postgres "$PGBIN/pg_restore" -h "$HOST" -p "$PORT" -U postgres -d dst "$HOST/src.dump" \
    2>"$HOST/restore.err"
check_eq "pg_restore succeeds" 0 $?
check_eq "pg_restore says nothing" "" "$(cat "$HOST/restore.err")"

# What docs/operations.md recommends while workers run: one transaction, so
# that no worker sees a half-restored database.
q postgres "create database dst1" >/dev/null
as_postgres "$PGBIN/pg_restore" -h "$HOST" -p "$PORT" -U postgres -d dst1 --single-transaction \
    "$HOST/src.dump" 2>"$HOST/restore1.err"
check_eq "pg_restore --single-transaction succeeds" "0 " "$? $(cat "$HOST/restore1.err")"
check_eq "and restores the same consumer positions" \
    "$(s "select * from pgque.subscription order by sub_id")" \
    "$(q dst1 "select * from pgque.subscription order by sub_id")"

# --- the restored database says what the dumped one said ---------------------------
same "get_queue_info" \
    "select queue_name, queue_ntables, queue_cur_table, queue_rotation_period, queue_switch_time,
            queue_external_ticker, queue_ticker_paused, queue_ticker_max_count, queue_ticker_max_lag,
            queue_ticker_idle_period, ev_new, last_tick_id, last_tick_time
       from pgque.get_queue_info() order by 1"
same "get_consumer_info" \
    "select queue_name, consumer_name, last_tick, current_batch, next_tick, pending_events, paused
       from pgque.get_consumer_info() order by 1, 2"
same "get_queue_config" "select * from pgque.get_queue_config() order by 1, 2"
same "get_delayed_info" "select * from pgque.get_delayed_info() order by 1"
same "get_schedule_info" "select * from pgque.get_schedule_info() order by 1"
same "dlq_inspect" "select * from pgque.dlq_inspect('q_b')"
same "retry queue" "select * from pgque.retry_queue order by ev_owner, ev_id"
same "queue grants" "select qg_queue, qg_role::text, qg_privilege from pgque.queue_grant order by 1, 2, 3"
same "subscriptions" "select * from pgque.subscription order by sub_id"
same "the dedup ring" "select * from pgque.dedup_ring"
same "sequences: events, ticks, batches, ids" \
    "select c.relname, pg_sequence_last_value(c.oid) from pg_class c
      where c.relkind = 'S' and c.relnamespace = 'pgque'::regnamespace order by 1"

# --- consumers go on where they were ---------------------------------------------
run_c1_a="select drain('q_a', 'c1')"
a_src=$(s "$run_c1_a")
a_dst=$(d "$run_c1_a")
echo "# c1 on q_a in src: $a_src"
echo "# c1 on q_a in dst: $a_dst"
# The part of the split batch that c1 acknowledged (a11..a15) comes again in
# dst: it is recorded as a position in the event table, and the restored
# table is a new file (src/batch.c, position_valid: a WARNING says so).
# Everything else comes as in src, with the same ids and in the same order.
check_eq "c1 gets from q_a in dst what it gets in src, plus the acked part of its split batch" \
    "$(echo "$a_src" | sed -E 's/ ([0-9]+:a16:0)/ ACKED \1/')" \
    "$(echo "$a_dst" | sed -E 's/[0-9]+:a11:0 [0-9]+:a12:0 [0-9]+:a13:0 [0-9]+:a14:0 [0-9]+:a15:0/ACKED/')"
check "p5 first, then the open batch again (a16..a20), then the pending a21..a23" \
    bash -c "[[ '$a_src' =~ ^[0-9]+:p5:0\ \|\ [0-9]+:a16:0\ [0-9]+:a17:0\ [0-9]+:a18:0\ [0-9]+:a19:0\ [0-9]+:a20:0\ \|\ [0-9]+:a21:0\ [0-9]+:a22:0\ [0-9]+:a23:0\ \|\ \$ ]]"
check "no fully acknowledged batch comes again (a1..a10)" bash -c "! [[ '$a_dst' =~ :a([1-9]|10): ]]"
same "c2 gets the same from q_a (the pending ones, not the retry)" "select drain('q_a', 'c2')"
same "c1 gets the same from q_b (the keyed event and b4)" "select drain('q_b', 'c1')"
same "c2 gets the same from q_b (everything)" "select drain('q_b', 'c2')"
k1=$(s "select pgque.send('q_b', 'bk', dedup_key => 'k')")
check_eq "a keyed send in dst returns the first id" "$k1" "$(d "select pgque.send('q_b', 'bk', dedup_key => 'k')")"
check_eq "the first id is the keyed event's" "$k1" \
    "$(d "select dk_id from pgque.dedup_0 union all select dk_id from pgque.dedup_1
           union all select dk_id from pgque.dedup_2")"
same "new sends get the same fresh ids (no id reused)" \
    "select pgque.send('q_a', 'new1'), pgque.send('q_b', 'new2'), pgque.send('q_a', 'new-p5', priority => 5)"
same "and the next ticks the same fresh tick ids" \
    "select pgque.force_tick('q_a'), pgque.force_tick('q_b'); select pgque.ticker('q_a'), pgque.ticker('q_b')"
check_eq "no event id of q_a (and its lane) is used twice in dst" t \
    "$(d "select count(*) = count(distinct ev_id) from (
            select ev_id from pgque.event_1_0 union all select ev_id from pgque.event_1_1
            union all select ev_id from pgque.event_1_2 union all select ev_id from pgque.event_3_0
            union all select ev_id from pgque.event_3_1 union all select ev_id from pgque.event_3_2) e")"
same "those are received alike" "select drain('q_a', 'c1') || drain('q_b', 'c1')"
check_eq "the delayed event still waits in dst" 1 "$(d "select sum(delayed) from pgque.get_delayed_info()")"
check_eq "the retry still waits in dst" 1 \
    "$(d "select count(*) from pgque.retry_queue where ev_data = 'a12' and ev_retry_after > now() + interval '50 minutes'")"
check_eq "the grant holds in dst: bk_consumer may subscribe to q_b" 1 \
    "$(d "set role bk_consumer; select pgque.subscribe('q_b', 'c3')")"
check "a role without a grant may not" \
    bash -c "! psql -X -q -h '$HOST' -p '$PORT' -U postgres -d dst \
               -c \"set role bk_other; select pgque.subscribe('q_b', 'c4')\" 2>/dev/null"

# --- the worker serves the restored database ---------------------------------------
for f in "$HOST"/data/postgresql.conf; do
    as_postgres sed -i 's/^pgque.enabled = off$/pgque.enabled = on/' "$f"
done
q postgres "select pg_reload_conf()" >/dev/null
# pgque.stop() in src is not dumped (pgque.config is per installation)
worker_running() { [ "$(d "select status from pgque.status() where component = 'worker'")" = running ]; }
wait_until "the launcher starts a worker for dst" 30 worker_running
d "select pgque.send('q_a', 'w' || i) from generate_series(1, 3) i" >/dev/null
got_w() { [ "$(d "select drain('q_a', 'c2')" | grep -o ':w[0-9]:' | wc -l)" -ge 1 ]; }
wait_until "the worker ticks dst: c2 gets a new event" 30 got_w
check_eq "the delayed event still waits under the worker" 1 "$(d "select sum(delayed) from pgque.get_delayed_info()")"
check_eq "the retry still waits under the worker" 1 "$(d "select count(*) from pgque.retry_queue")"
cur_dst=$(d "select queue_cur_table from pgque.queue where queue_name = 'q_a'")
rotated() {
    d "select drain('q_a', 'c1'), drain('q_a', 'c2'), pgque.maint()" >/dev/null
    [ "$(d "select queue_cur_table from pgque.queue where queue_name = 'q_a'")" != "$cur_dst" ]
}
wait_until "q_a rotates in dst" 60 rotated
d "select pgque.send('q_a', 'after-rotation')" >/dev/null
got_after() { d "select drain('q_a', 'c1')" | grep -q ':after-rotation:'; }
wait_until "c1 gets an event sent after the rotation" 30 got_after

# --- pg_upgrade ----------------------------------------------------------------------
# pg_upgrade keeps relfilenodes, role and type OIDs, but not the OIDs of
# relations, functions, operators and text search objects; a column of such
# a reg* type (or a plain oid) would name the wrong object afterwards, and
# pg_upgrade refuses some of them outright. regrole is fine: pg_upgrade
# creates roles with their old OIDs, and pg_dump writes role names.
check_eq "no pgque column holds an OID that pg_upgrade does not keep" "" \
    "$(d "select string_agg(c.relname || '.' || a.attname || ' ' || a.atttypid::regtype::text, ', ')
            from pg_class c join pg_attribute a on a.attrelid = c.oid
           where c.relnamespace = 'pgque'::regnamespace and c.relkind in ('r', 'p')
             and a.attnum > 0 and not a.attisdropped
             and a.atttypid in ('oid'::regtype, 'regclass'::regtype, 'regproc'::regtype,
                                'regprocedure'::regtype, 'regtype'::regtype, 'regoper'::regtype,
                                'regoperator'::regtype, 'regconfig'::regtype,
                                'regdictionary'::regtype, 'regnamespace'::regtype,
                                'regcollation'::regtype)")"
# Relations are named, never referenced by OID: the queue row holds the
# names of its tables and sequences (checked here), the code finds them by
# name. tick_heap/tick_since hold relfilenodes (see docs/operations.md).
check_eq "queue rows name their tables and sequences" 0 \
    "$(d "select count(*) from pgque.queue
           where queue_data_pfx !~ '^pgque\\.event_[0-9]+\$' or queue_event_seq !~ '^pgque\\.event_[0-9]+_id_seq\$'
              or queue_tick_seq !~ '^pgque\\.event_[0-9]+_tick_seq\$'")"
finish
