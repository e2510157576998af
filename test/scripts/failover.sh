#!/usr/bin/env bash
# Failover under load (docs/operations.md#failover). A primary with a
# synchronous streaming standby (pg_basebackup); three producers (the CLI's
# `pgque send`, one process per call, one event or ten in one transaction)
# and two Consumers (`pgque tail`, the C++ consumer) all use one multi-host
# conninfo with target_session_attrs=read-write. While they run, with one
# consumer in the middle of a batch and the standby's WAL stream stalled,
# the primary is stopped with `pg_ctl stop -m immediate` (its loss) and the
# standby is promoted.
#
# Checked: nothing ticks on the standby, not even while the primary is gone;
# the worker ticks on the promoted server; producers and both consumers go
# on against it; after the producers stop and the consumers drain, every
# send that was acknowledged (the CLI printed its id, so the commit and the
# standby's confirmation were done) was processed by each consumer, under
# the id its send returned, and nothing was processed that no producer
# tried to send. A send that failed is "unknown": it may have committed on
# the old primary and been lost with it, or be on the standby; either is
# right. Events processed twice (at-least-once) are counted and printed;
# each must be explained by the failover: processed once before the
# consumer lost its connection to the old primary (a batch whose ack did not
# reach the standby) and once after.
#
# fsync = off on both servers: stopping a server with -m immediate is not a
# crash of its operating system, so everything written stays in the page
# cache and nothing a synchronous commit waited for can be lost by it; the
# claim checked here (the standby has every acknowledged commit) does not
# depend on fsync. Timing is measured and printed, never assumed: every
# wait is a generous wait_until (or wait_within).
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/lib/cluster.sh
source test/lib/check.sh

P=foprim
S=fostby
PPORT=54373
SPORT=54374
PRODUCERS="p1 p2 p3"
CONSUMERS="c1 c2"
BUILD=client/build
CLI=$BUILD/pgque
if [ ! -x $CLI ]; then
    { cmake -S client -B $BUILD -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build $BUILD -j2; } >/dev/null ||
        { echo "RESULT passed=0 failed=1"; exit 1; }
fi

work=$PGQUE_ROOT/build/failover
rm -rf "$work"
mkdir -p "$work"
declare -A consumer_pid producer_pid
PDIR=$(cluster_dir $P)
SDIR=$(cluster_dir $S)

# Servers first: then no client can wait for anything, the producers see
# their stop file, and the consumers (which would reconnect for ever) get
# SIGTERM.
cleanup() {
    local c
    touch "$work/stop_producers"
    [ -n "${walreceiver:-}" ] && kill -CONT "$walreceiver" 2>/dev/null
    for c in "${consumer_pid[@]}"; do kill -CONT "$c" 2>/dev/null; done
    as_postgres "$PGBIN/pg_ctl" -D "$PDIR/data" -m immediate stop >/dev/null 2>&1
    as_postgres "$PGBIN/pg_ctl" -D "$SDIR/data" -m immediate stop >/dev/null 2>&1
    for c in "${consumer_pid[@]}"; do kill -TERM "$c" 2>/dev/null; done
    wait
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Both servers fsync = off (see above).
cluster_init $P $PPORT "fsync = off" "synchronous_commit = on" || exit 1
cluster_start $P || exit 1

qp() { psql -X -q -At -h "$PDIR" -p $PPORT -U postgres -d "${2:-app}" -c "$1" 2>/dev/null; }
qs() { psql -X -q -At -h "$SDIR" -p $SPORT -U postgres -d "${2:-app}" -c "$1" 2>/dev/null; }
now() { echo "$EPOCHREALTIME"; }
lines() { cat "$@" 2>/dev/null | wc -l; }
# wait_until bounded by the wall clock as well, for conditions that read the
# consumers' logs: when something is broken they grow without bound, and
# each look takes longer
wait_within() {   # what seconds command...
    local what=$1 secs=$2 end=$((EPOCHSECONDS + $2))
    shift 2
    until "$@" >/dev/null 2>&1; do
        if [ "$EPOCHSECONDS" -ge "$end" ]; then
            _not_ok "$what" "not within ${secs}s"
            return 1
        fi
        sleep 0.1
    done
    _ok "$what"
}

qp "create database app" postgres
qp "create extension pgque"
qp "select pgque.create_queue('fq')" >/dev/null
for c in $CONSUMERS; do qp "select pgque.subscribe('fq', '$c')" >/dev/null; done

rm -rf "$SDIR"
mkdir -p "$SDIR"
[ "$(id -u)" = 0 ] && chown postgres: "$SDIR"
# -c fast: do not wait for a spread checkpoint
as_postgres "$PGBIN/pg_basebackup" -D "$SDIR/data" -R -c fast -h "$PDIR" -p $PPORT -U postgres \
    >"$SDIR/basebackup.log" 2>&1
check "standby created with pg_basebackup" test -f "$SDIR/data/standby.signal"
# the standby will have no standby of its own after its promotion, so it
# must not wait for one
{
    echo "port = $SPORT"
    echo "unix_socket_directories = '$SDIR'"
    echo "synchronous_standby_names = ''"
} | as_postgres tee -a "$SDIR/data/postgresql.conf" >/dev/null
echo $SPORT >"$SDIR/port"
as_postgres "$PGBIN/pg_ctl" -D "$SDIR/data" -l "$SDIR/server.log" -w -t 60 start >/dev/null ||
    { tail -n 30 "$SDIR/server.log"; finish; exit 1; }
# from now on the primary waits for the standby at every commit
# (FAILOVER_ASYNC=1: it does not; the test must then fail)
[ -z "${FAILOVER_ASYNC:-}" ] && qp "alter system set synchronous_standby_names = '*'" postgres
qp "select pg_reload_conf()" postgres >/dev/null
want_state=sync
[ -n "${FAILOVER_ASYNC:-}" ] && want_state=async
wait_until "the standby streams ($want_state)" 60 \
    bash -c "[ \"\$(psql -X -At -h '$PDIR' -p $PPORT -U postgres -d postgres -c \"select sync_state from pg_stat_replication\")\" = $want_state ]"

# what clients use: both servers, the one that takes writes
MULTI="host=$PDIR,$SDIR port=$PPORT,$SPORT user=postgres dbname=app target_session_attrs=read-write connect_timeout=10"

# A producer sends "<name>-<n>" for n = 1, 2, ..., one CLI process per
# call: p1 one event per call with the payload as its dedup_key, p2 and p3
# ten per call (send --lines: one transaction). Payloads go to
# tried_<name> before their first call and to acked_<name> (with the
# event's id and the time) once the CLI printed every id. When a call
# fails its outcome is unknown: p2 and p3 write its payloads to
# unknown_<name> and go on; p1 sends the same payload with the same key
# again until it is told the id (the way to make an unknown outcome known:
# if the first try committed, the second returns its id and sends nothing),
# and notes the payload in resent_p1.
producer() {   # name events-per-call
    local n=0 k payloads out ids tries
    while [ ! -f "$work/stop_producers" ]; do
        payloads=()
        for ((k = 0; k < $2; k++)); do
            n=$((n + 1))
            payloads+=("$1-$n")
        done
        printf '%s\n' "${payloads[@]}" >>"$work/tried_$1"
        tries=0
        while :; do
            tries=$((tries + 1))
            if [ "$2" = 1 ]; then
                out=$(PGAPPNAME=fo_producer timeout 60 $CLI --dsn "$MULTI" send fq "${payloads[0]}" \
                    --key "${payloads[0]}" 2>>"$work/producer_$1.err")
            else
                out=$(printf '%s\n' "${payloads[@]}" |
                    PGAPPNAME=fo_producer timeout 60 $CLI --dsn "$MULTI" send fq --lines 2>>"$work/producer_$1.err")
            fi
            # shellcheck disable=SC2181
            if [ $? = 0 ] && mapfile -t ids <<<"$out" && [ ${#ids[@]} = "$2" ] && [[ "${ids[*]}" =~ ^[0-9\ ]+$ ]]; then
                for ((k = 0; k < $2; k++)); do
                    echo "${payloads[k]} ${ids[k]} $EPOCHREALTIME"
                done >>"$work/acked_$1"
                [ $tries -gt 1 ] && echo "${payloads[0]}" >>"$work/resent_$1"
                break
            fi
            sleep 0.1
            if [ "$2" != 1 ] || [ -f "$work/stop_producers" ]; then
                printf '%s\n' "${payloads[@]}" >>"$work/unknown_$1"
                break
            fi
        done
    done
}

# A consumer is `pgque tail`: it prints "<id> <type> <payload>" for each
# message before its batch is acked, and its warnings (a lost connection)
# in the same file, so the order of the two is kept.
for c in $CONSUMERS; do
    PGAPPNAME=fo_$c $CLI --dsn "$MULTI" tail fq $c --batch-size 50 >"$work/consumer_$c.log" 2>&1 &
    consumer_pid[$c]=$!
done
for p in $PRODUCERS; do
    if [ $p = p1 ]; then producer $p 1 & else producer $p 10 & fi
    producer_pid[$p]=$!
done

processed() { grep -c '^[0-9]' "$work/consumer_$1.log" 2>/dev/null; }
all_going() {   # each producer has N acked sends, each consumer N messages
    local p c
    for p in $PRODUCERS; do [ "$(lines "$work/acked_$p")" -ge "$1" ] || return 1; done
    for c in $CONSUMERS; do [ "$(processed $c)" -ge "$1" ] || return 1; done
}
wait_within "producers and consumers run against the primary" 60 all_going 50
check_eq "no pgque process on the standby" 0 \
    "$(qs "select count(*) from pg_stat_activity where backend_type like 'pgque%'" postgres)"

# --- c1 in the middle of a batch --------------------------------------------
# c1 is frozen (SIGSTOP) at a moment when its batch is open and none of its
# sessions runs a statement: it holds the messages of a batch whose receive
# the standby confirmed, not yet acked. It goes on once the primary is gone:
# it processes them, its ack fails, and after reconnecting it must get them
# again from the promoted server (duplicates, as at-least-once allows).
held_mid_batch() {   # consumer
    kill -STOP "${consumer_pid[$1]}"
    [ "$(qp "select (select current_batch is not null from pgque.get_consumer_info('fq', '$1'))
                    and not exists (select from pg_stat_activity
                                     where application_name = 'fo_$1' and state <> 'idle')")" = t ] && return 0
    kill -CONT "${consumer_pid[$1]}"
    return 1
}
wait_until "c1 is held in the middle of a batch" 60 held_mid_batch c1
held_batch=$(qp "select current_batch from pgque.get_consumer_info('fq', 'c1')")

# --- the standby falls behind, then the primary is lost ----------------------
# The standby's walreceiver stops reading (SIGSTOP), as over a network that
# stalls. With synchronous replication no commit is acknowledged from then
# on, nor seen by other sessions: each producer's send and each consumer's
# receive or ack waits (SyncRep). Then the primary is lost, the walreceiver
# reads what was already on its socket (commits whose senders were never
# told), and the standby is promoted. With an asynchronous standby the
# producers would go on here, and what they were told was sent would be
# lost: FAILOVER_ASYNC=1 shows the checks below catching it.
walreceiver=$(qs "select pid from pg_stat_wal_receiver" postgres)
check "the standby has a walreceiver" test -n "$walreceiver"
kill -STOP "$walreceiver"
producers_wait() {
    [ "$(qp "select count(*) from pg_stat_activity
              where application_name = 'fo_producer' and wait_event = 'SyncRep'" postgres)" -ge 3 ]
}
wait_until "every producer waits for the stalled standby" 30 producers_wait
declare -A acked_at_stall acked_at_kill
for p in $PRODUCERS; do acked_at_stall[$p]=$(lines "$work/acked_$p"); done

as_postgres "$PGBIN/pg_ctl" -D "$PDIR/data" -m immediate -w stop >/dev/null
t_kill=$(now)
kill -CONT "$walreceiver"
kill -CONT "${consumer_pid[c1]}"
check "the primary is down" bash -c "! psql -X -At -h '$PDIR' -p $PPORT -U postgres -d postgres -c 'select 1'"
for p in $PRODUCERS; do acked_at_kill[$p]=$(lines "$work/acked_$p"); done
check_eq "no send was acknowledged while the standby could not confirm it" "${acked_at_stall[*]}" "${acked_at_kill[*]}"
# a failover takes its time: detection, a decision; clients see the outage
sleep 1
check_eq "no pgque process on the standby while the primary is down" 0 \
    "$(qs "select count(*) from pg_stat_activity where backend_type like 'pgque%'" postgres)"
check_eq "... and no tick taken there" 0 "$(qs "select count(*) from pgque.tick where tick_time > to_timestamp($t_kill)")"

t_promote=$(now)
as_postgres "$PGBIN/pg_ctl" -D "$SDIR/data" -w -t 60 promote >/dev/null
t_promoted=$(now)
check_eq "the standby is promoted" f "$(qs "select pg_is_in_recovery()")"
ticks_on_new() { [ "$(qs "select count(*) from pgque.tick where tick_time >= to_timestamp($t_promote)")" -gt 0 ]; }
wait_until "the worker ticks on the promoted server" 30 ticks_on_new
tick_delay=$(qs "select round((extract(epoch from min(tick_time)) - $t_promote)::numeric, 2)
                   from pgque.tick where tick_time >= to_timestamp($t_promote)")
worker_start=$(qs "select round((extract(epoch from backend_start) - $t_promote)::numeric, 2)
                     from pg_stat_activity where backend_type = 'pgque worker' and datname = 'app'")
check "pgque.status(): the worker runs and has ticked" bash -c \
    "psql -X -At -h '$SDIR' -p $SPORT -U postgres -d app -c \"select status, detail from pgque.status() where component = 'worker'\" | grep -E '^running\|.* [0-9]+ ticks'"

went_on() {   # each producer has 20 sends acknowledged since the primary went down
    local p
    for p in $PRODUCERS; do
        [ "$(lines "$work/acked_$p")" -ge $((acked_at_kill[$p] + 20)) ] || return 1
    done
}
wait_until "producers go on against the promoted server" 60 went_on
# a payload acknowledged after the primary was down: only the new primary has it
probe=$(tail -n 1 "$work/acked_p1" | cut -d' ' -f1)
for c in $CONSUMERS; do
    wait_within "$c processes events sent to the promoted server" 60 \
        grep -q " $probe\$" "$work/consumer_$c.log"
    check "$c said it lost its connection" grep -q '^pgque: warning: connection lost' "$work/consumer_$c.log"
done
check_eq "both consumers are connected to the promoted server" 2 \
    "$(qs "select count(*) from pg_stat_activity where application_name in ('fo_c1', 'fo_c2') and datname = 'app'")"

# --- stop, drain, compare ----------------------------------------------------
touch "$work/stop_producers"
for p in $PRODUCERS; do wait "${producer_pid[$p]}"; done
cat "$work"/acked_p* >"$work/acked"
cat "$work"/tried_p* >"$work/tried"
drained() {   # every acknowledged payload is in the consumer's log
    [ "$(awk '/^[0-9]/ {print $3}' "$work/consumer_$1.log" | sort -u | comm -23 <(cut -d' ' -f1 "$work/acked" | sort -u) - | wc -l)" = 0 ]
}
for c in $CONSUMERS; do
    wait_within "$c drained (every acknowledged send seen)" 60 drained $c
done
for c in $CONSUMERS; do
    check "$c still runs" kill -0 "${consumer_pid[$c]}"
    kill -TERM "${consumer_pid[$c]}"
    wait "${consumer_pid[$c]}"
    check_eq "$c ended cleanly on SIGTERM" 0 "$?"
done

# The bookkeeping goes into the promoted server for the comparison:
# seen(consumer, line, msg_id, payload) and each consumer's first "connection
# lost" line (the failover, as that consumer saw it).
for c in $CONSUMERS; do
    awk -v c=$c '/^[0-9]/ {print c, NR, $1, $3}' "$work/consumer_$c.log"
done >"$work/seen"
for c in $CONSUMERS; do
    echo "$c $(grep -n -m1 '^pgque: warning: connection lost' "$work/consumer_$c.log" | cut -d: -f1)"
done >"$work/lost"
qs "create table fo_acked (payload text, id bigint, at float8);
    create table fo_tried (payload text);
    create table fo_seen (consumer text, line int, msg_id bigint, payload text);
    create table fo_lost (consumer text, line int)"
cp "$work/resent_p1" "$work/resent" 2>/dev/null || : >"$work/resent"
qs "create table fo_resent (payload text)"
for t in acked tried seen lost resent; do
    psql -X -q -h "$SDIR" -p $SPORT -U postgres -d app \
        -c "\\copy fo_$t from '$work/$t' (delimiter ' ', null '')" >/dev/null
done

tried=$(lines "$work/tried")
acked=$(lines "$work/acked")
unknown=$(lines "$work"/unknown_p*)
acked_after=$(qs "select count(*) from fo_acked where at > $t_kill")
outage=$(qs "select round((min(at) - $t_kill)::numeric, 2) from fo_acked where at > $t_kill")
echo "# sends tried $tried, acknowledged $acked ($acked_after after the primary went down), unknown $unknown"
echo "# pg_ctl promote took $(awk "BEGIN {printf \"%.2f\", $t_promoted - $t_promote}") s; the worker started ${worker_start} s and first ticked ${tick_delay} s after the promote began"
echo "# first acknowledged send on the new primary ${outage} s after the old one stopped," \
     "$(awk "BEGIN {printf \"%.2f\", $outage - ($t_promote - $t_kill)}") s after the promotion began"
check "the producers sent events before and after the failover" test "$acked_after" -ge 60 -a "$acked" -gt "$acked_after"
check_eq "every acknowledged send was tried, once" "$acked" \
    "$(qs "select count(distinct a.payload) from fo_acked a join fo_tried t using (payload)")"
check_eq "tried = acknowledged + unknown" "$tried" "$((acked + unknown))"
# A re-sent key whose first try committed on the old primary and reached the
# standby: the key's dedup entry (pgque.dedup_*, written by that first try)
# is older than the failover.
resent=$(lines "$work/resent")
resent_old=$(qs "select count(*) from fo_resent r
                   join (select dk_key, dk_time from pgque.dedup_0 union all select dk_key, dk_time from pgque.dedup_1
                         union all select dk_key, dk_time from pgque.dedup_2) d on d.dk_key = r.payload
                  where d.dk_time < to_timestamp($t_kill)")
echo "# p1 sent $resent key(s) again after an unknown outcome; for $resent_old of them the first try had reached the standby"
check "a key was sent again whose first try had committed and reached the standby" test "$resent_old" -ge 1

for c in $CONSUMERS; do
    missing=$(qs "select count(*) from fo_acked a where not exists
                    (select from fo_seen s where s.consumer = '$c' and s.payload = a.payload)")
    wrong_id=$(qs "select count(*) from fo_acked a join fo_seen s using (payload)
                    where s.consumer = '$c' and s.msg_id <> a.id")
    not_sent=$(qs "select count(*) from fo_seen s where s.consumer = '$c'
                     and not exists (select from fo_tried t where t.payload = s.payload)")
    unknown_seen=$(qs "select count(distinct payload) from fo_seen s where s.consumer = '$c'
                         and not exists (select from fo_acked a where a.payload = s.payload)")
    # processed more than once; explained when once before the consumer lost
    # the old primary and once after
    dups=$(qs "select count(*) from (select payload from fo_seen where consumer = '$c'
                                      group by payload having count(*) > 1) d")
    dup_rows=$(qs "select coalesce(sum(n - 1), 0) from (select count(*) n from fo_seen where consumer = '$c'
                                                          group by payload having count(*) > 1) d")
    unexplained=$(qs "select count(*) from (
                        select s.payload from fo_seen s join fo_lost l using (consumer)
                         where s.consumer = '$c'
                         group by s.payload
                        having count(*) > 1
                           and (count(*) <> 2 or count(*) filter (where s.line < l.line) <> 1)) d")
    two_ids=$(qs "select count(*) from (select payload from fo_seen where consumer = '$c'
                                         group by payload having count(distinct msg_id) > 1) d")
    two_payloads=$(qs "select count(*) from (select msg_id from fo_seen where consumer = '$c'
                                              group by msg_id having count(distinct payload) > 1) d")
    echo "# $c: processed $(qs "select count(*) from fo_seen where consumer = '$c'") messages;" \
         "missing acknowledged $missing; duplicates $dups payloads ($dup_rows extra deliveries);" \
         "of unknown sends $unknown_seen processed; ids seen with two payloads $two_payloads"
    [ "$dups" -gt 0 ] && echo "#   duplicates: $(qs "select string_agg(payload, ' ' order by payload) from (
                          select payload from fo_seen where consumer = '$c' group by payload having count(*) > 1) d")"
    check_eq "$c: every acknowledged send processed" 0 "$missing"
    check_eq "$c: ... under the id its send returned" 0 "$wrong_id"
    check_eq "$c: nothing processed that no producer tried to send" 0 "$not_sent"
    check_eq "$c: each payload processed under one id (a key sent again sent nothing)" 0 "$two_ids"
    check_eq "$c: every duplicate straddles the failover (once before, once after)" 0 "$unexplained"
    [ $c = c1 ] && check "c1 processed the batch it held ($held_batch) again after the failover" test "$dups" -ge 1
done
finish
