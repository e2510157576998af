#!/usr/bin/env bash
# Four producers send the same 2,000 keys at the same time, each key in its
# own transaction, in the same order, so that first sends of one key meet
# (extension/25_dedup.sql, src/dedup.c): every key is sent once, and every
# producer got that one event's id for it. Then one producer sends 20,000
# keys in a single transaction: a transaction holds no lock per key.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/lib/cluster.sh
source test/lib/check.sh

C=dedup_race
cluster_init $C 54364 "fsync = off" || exit 1
cluster_start $C || exit 1
trap 'cluster_stop $C' EXIT
HOST=$(cluster_dir $C)
PORT=$(cluster_port $C)
q() { psql -X -q -At -h "$HOST" -p "$PORT" -U postgres -d app -c "$1"; }

psql -X -q -h "$HOST" -p "$PORT" -U postgres -d postgres -c "create database app" >/dev/null
q "create extension pgque"
q "select pgque.create_queue('dq')" >/dev/null
q "select pgque.subscribe('dq', 'c')" >/dev/null
q "create table got (producer int, key text, id bigint)"

KEYS=2000
for p in 1 2 3 4; do
    psql -X -q -h "$HOST" -p "$PORT" -U postgres -d app -c "
        do \$\$
        begin
            for i in 1..$KEYS loop
                insert into got values ($p, 'k' || i, pgque.send('dq', 'k' || i, dedup_key => 'k' || i));
                commit;
            end loop;
        end \$\$" >/dev/null 2>"$(cluster_dir $C)/producer_$p.err" &
done
wait
check_eq "every producer recorded every key" $((KEYS * 4)) "$(q "select count(*) from got")"
check_eq "all producers got one id per key" 0 \
    "$(q "select count(*) from (select key from got group by key having count(distinct id) > 1) x")"

q "select pgque.force_tick('dq')" >/dev/null
q "create table events as select msg_id as id, payload, batch_id from pgque.receive('dq', 'c', 100000)"
q "select pgque.ack(max(batch_id)) from events" >/dev/null
check_eq "one event per key" "$KEYS|$KEYS" "$(q "select count(*), count(distinct payload) from events")"
check_eq "each event under the id the producers got" 0 \
    "$(q "select count(*) from got g where not exists (select from events e where e.id = g.id and e.payload = g.key)")"

# many keys in one transaction, and all of them again: nothing twice
check "20,000 keyed sends in one transaction" \
    q "create table bulk as select i, pgque.send('dq', 'bulk', dedup_key => 'b' || i) as id from generate_series(1, 20000) i"
check_eq "20,000 ids" "20000|20000" "$(q "select count(*), count(distinct id) from bulk")"
check_eq "sent again: the same ids" 0 \
    "$(q "select count(*) from bulk where pgque.send('dq', 'bulk again', dedup_key => 'b' || i) <> id")"
q "select pgque.force_tick('dq')" >/dev/null
check_eq "and nothing new" "20000|0" \
    "$(q "select count(*), count(*) filter (where payload <> 'bulk') from pgque.receive('dq', 'c', 100000)")"
finish
