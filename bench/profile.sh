#!/usr/bin/env bash
# Where the time goes: callgrind profiles of one backend running a fixed
# workload per path, written to bench/results/profile.md (raw callgrind
# files under build/bench/profile/).
#
#   bench/profile.sh [--small] [--report] [--only PATH[,PATH...]]
#     --report: only rewrite profile.md; --only: profile only those paths
#     (keeping the others' raw files) and print their figures; profile.md
#     is rewritten only when every path has its raw files.
#
# Why callgrind: this machine is a VM without hardware counters
# (`perf stat -e instructions true` says <not supported>), so instruction
# counts come from valgrind instead. They measure CPU work only: time spent
# waiting for a WAL flush (the commit-bound part of a single send) does not
# appear, which is why the cluster here runs with fsync = off.
#
# How: the workload runs in single-user mode (`postgres --single`), one
# backend, no client protocol; each statement of the profiled file is
# collected (--toggle-collect=exec_simple_query), setup is done in an
# earlier, unprofiled single-user session. Each path runs twice, with N and
# with N/10 operations; Ir per operation = (Ir(N) - Ir(N/10)) / (N - N/10),
# which cancels the backend's start and exit. (The binary is stripped, so
# callgrind cannot toggle collection on the static exec_simple_query.) The
# function tables are those of the N run. Paths:
#   raw / send / pgq_insert          N single-row transactions (prepared)
#   raw_batch / send_batch / pgq_batch   N/10 transactions of 100 rows
#   small_batches   2000 batches of 10 events (one tick each) through receive(…, 10) + ack,
#       one DO block each: the fixed cost of a batch (what a consumer that
#       keeps up pays, e.g. in the held-snapshot runs of bench/run.sh)
#   small_prepared  the same batches read by a second consumer with one prepared
#       statement each, select pgque.ack(max(batch_id)), … from pgque.receive(…, 10):
#       without the DO block's parsing and PL/pgSQL, which small_batches pays
#   drain_pgq / drain_batch / drain_receive  20 batches of 10,000 events,
#       each batch read in full and converted to text (record_out, octet_length), in one
#       DO block per batch: next_batch/get_batch_events/finish_batch, or
#       receive(…, 10000)/ack.
#   drain_plain  the floor of the three: the same columns of 10,000 rows of a
#       plain table of the event columns (a TID range scan), converted the
#       same way, in the same DO block, without a queue.
# The cluster lives in build/clusters/bench-profile (port 54369, never
# started as a server).
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh

N=5000
DRAIN_TICKS=20
report_only=0
while [ $# -gt 0 ]; do
    case $1 in
        --small) N=500; DRAIN_TICKS=10; SMALL=200 ;;
        --report) report_only=1 ;;
        --only) shift; PROFILE_PATHS=${1//,/ } ;;
        *) echo "usage: $0 [--small] [--report] [--only PATH[,PATH...]]" >&2; exit 2 ;;
    esac
    shift
done
DRAIN_SMALL=$((DRAIN_TICKS / 10))

OUT=build/bench/profile
paths="raw send pgq_insert raw_batch send_batch pgq_batch drain_pgq drain_batch drain_receive drain_plain small_batches small_prepared"
SMALL=${SMALL:-2000}    # small_batches: ticks of 10 events, one receive(…, 10) + ack each
# PROFILE_PATHS=… re-runs only those paths and keeps the others' results
run_paths=${PROFILE_PATHS:-$paths}
if [ $report_only = 0 ]; then
[ -z "${PROFILE_PATHS:-}" ] && rm -rf "$OUT"
mkdir -p "$OUT"; chmod 777 "$OUT"
test/deps.sh --bench
command -v valgrind >/dev/null || apt-get install -y -qq --no-install-recommends valgrind >/dev/null

C=bench-profile
cluster_init $C 54369 "fsync = off" "synchronous_commit = off" "shared_buffers = 512MB" \
    "max_wal_size = 8GB" "autovacuum = off"
DATA=$(cluster_dir $C)/data
PAYLOAD="bench-payload-0123456789-abcdefghijklmnopqrstuvwx"
ARR=$(a=""; for ((i = 0; i < 100; i++)); do a+="${a:+,}$PAYLOAD"; done; echo "{$a}")

# Statements end with ";" and an empty line (-j).
single() {   # file [valgrind args...]
    local f=$1
    shift
    as_postgres "$@" "$PGBIN/postgres" --single -j -D "$DATA" postgres <"$f" >"$f.out" 2>&1 ||
        { tail -20 "$f.out"; return 1; }
    if grep -q "ERROR" "$f.out"; then grep -m3 -A3 ERROR "$f.out"; return 1; fi
}

cat >"$OUT/setup0.sql" <<SQL
create extension pgque;

create extension pgq;

create sequence bench_raw_id_seq;

create table bench_raw (ev_id bigint not null default nextval('bench_raw_id_seq'), ev_time timestamptz not null default now(), ev_txid xid8 not null default pg_current_xact_id(), ev_owner int4, ev_retry int4, ev_type text, ev_data text, ev_extra1 text, ev_extra2 text, ev_extra3 text, ev_extra4 text) with (fillfactor = 100, autovacuum_enabled = false);

create index on bench_raw (ev_txid);

create table drain_plain (like bench_raw including defaults) with (fillfactor = 100, autovacuum_enabled = false);

insert into drain_plain (ev_type, ev_data) select 'default', '$PAYLOAD' from generate_series(1, $(((DRAIN_TICKS + DRAIN_SMALL) * 10000)));

select count(*) from drain_plain;

create sequence drain_plain_k minvalue 0 start 0;

select pgque.create_queue('prof_q');

select pgq.create_queue('prof_q');

select pgque.create_queue('dq');

select pgque.set_queue_config('dq', 'ticker_max_count', '5000');

select pgque.subscribe('dq', 'c_batch');

select pgque.subscribe('dq', 'c_receive');

select pgq.create_queue('dq');

select pgq.set_queue_config('dq', 'ticker_max_count', '5000');

select pgq.register_consumer('dq', 'c');

select pgque.create_queue('sq');

select pgque.set_queue_config('sq', 'ticker_max_count', '5');

select pgque.subscribe('sq', 'c');

select pgque.subscribe('sq', 'c2');

do \$\$
declare arr text[] := array(select '$PAYLOAD' from generate_series(1, 10));
begin
    for i in 1..$((SMALL + SMALL / 10)) loop
        perform pgque.send_batch('sq', arr);
        commit;
        if pgque.ticker('sq') is null then raise 'no tick'; end if;
        commit;
    end loop;
end \$\$;

do \$\$
declare arr text[] := '$ARR';
begin
    for i in 1..$((DRAIN_TICKS + DRAIN_SMALL)) loop
        for j in 1..100 loop
            perform pgque.send_batch('dq', arr);
            perform pgq.insert_event('dq', 'default', p) from unnest(arr) p;
        end loop;
        commit;
        if pgque.ticker('dq') is null or pgq.ticker('dq') is null then raise 'no tick'; end if;
        commit;
    end loop;
end \$\$;

checkpoint;

SQL
chown postgres: "$OUT"/*
echo "profile: setup" >&2
single "$OUT/setup0.sql"

# name.sql runs count operations, name.small.sql count/10 of them.
workload() {   # name prepare-sql execute-sql count
    local name=$1 prep=$2 exec=$3 n=$4 i
    {
        printf '%s;\n\n' "$prep"
        for ((i = 0; i < n; i++)); do printf '%s;\n\n' "$exec"; done
    } >"$OUT/$name.sql"
    {
        printf '%s;\n\n' "$prep"
        for ((i = 0; i < n / 10; i++)); do printf '%s;\n\n' "$exec"; done
    } >"$OUT/$name.small.sql"
}
workload raw "prepare w(text) as insert into bench_raw (ev_type, ev_data) values ('default', \$1)" "execute w('$PAYLOAD')" $N
workload send "prepare w(text) as select pgque.send('prof_q', \$1)" "execute w('$PAYLOAD')" $N
workload pgq_insert "prepare w(text) as select pgq.insert_event('prof_q', 'default', \$1)" "execute w('$PAYLOAD')" $N
workload raw_batch "prepare w(text[]) as insert into bench_raw (ev_type, ev_data) select 'default', p from unnest(\$1) p" "execute w('$ARR')" $((N / 10))
workload send_batch "prepare w(text[]) as select pgque.send_batch('prof_q', \$1)" "execute w('$ARR')" $((N / 10))
workload pgq_batch "prepare w(text[]) as select pgq.insert_event('prof_q', 'default', p) from unnest(\$1) p" "execute w('$ARR')" $((N / 10))
drain_sql() {   # next-batch get-events finish
    printf 'do $$ declare b bigint; n bigint; begin b := %s; select sum(octet_length(t::text)) into n from %s(b) t; perform %s(b); end $$' "$1" "$2" "$3"
}
workload drain_pgq "select 1" "$(drain_sql "pgq.next_batch('dq', 'c')" pgq.get_batch_events pgq.finish_batch)" $DRAIN_TICKS
workload drain_batch "select 1" "$(drain_sql "pgque.next_batch('dq', 'c_batch')" pgque.get_batch_events pgque.finish_batch)" $DRAIN_TICKS
workload drain_receive "select 1" "do \$\$ declare b bigint; n bigint; begin select max(m.batch_id), sum(octet_length(m::text)) into b, n from pgque.receive('dq', 'c_receive', 10000) m; perform pgque.ack(b); end \$\$" $DRAIN_TICKS
# row j of drain_plain is at (j / r, j % r + 1), r rows per page; each
# block reads the next 10,000 rows
workload drain_plain "select 1" "do \$\$ declare r int; k bigint; n bigint; lo tid; hi tid; begin r := (select count(*) from drain_plain where ctid < '(1,0)'); k := nextval('drain_plain_k'); lo := format('(%s,%s)', k * 10000 / r, k * 10000 % r + 1); hi := format('(%s,%s)', (k + 1) * 10000 / r, (k + 1) * 10000 % r + 1); select sum(octet_length(t::text)) into n from (select ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4 from drain_plain where ctid >= lo and ctid < hi) t; end \$\$" $DRAIN_TICKS
workload small_prepared "prepare w as select pgque.ack(max(m.batch_id)), sum(octet_length(m::text)) from pgque.receive('sq', 'c2', 10) m" "execute w" $SMALL
workload small_batches "select 1" "do \$\$ declare b bigint; n bigint; begin select max(m.batch_id), sum(octet_length(m::text)) into b, n from pgque.receive('sq', 'c', 10) m; perform pgque.ack(b); end \$\$" $SMALL
chown postgres: "$OUT"/*

for p in $run_paths; do
    echo "profile: $p" >&2
    # the small run first: the drains read the first batches
    single "$OUT/$p.small.sql" valgrind --tool=callgrind --callgrind-out-file="$OUT/$p.small.callgrind"
    single "$OUT/$p.sql" valgrind --tool=callgrind --callgrind-out-file="$OUT/$p.callgrind"
done

fi

ops() {   # path, divisor (1: the N run, 10: the N/10 run) -> operations and their name
    case $1 in
        raw | send | pgq_insert) echo "$((N / $2)) transaction" ;;
        raw_batch | send_batch | pgq_batch) echo "$((N / 10 / $2 * 100)) row" ;;
        drain_*) echo "$((DRAIN_TICKS / $2 * 10000)) event" ;;
        small_batches | small_prepared) echo "$((SMALL / $2)) batch" ;;
    esac
}

units() {   # path -> how many operations the difference divides by, and their name
    local big small unit
    read -r big unit <<<"$(ops "$1" 1)"
    read -r small _ <<<"$(ops "$1" 10)"
    echo "$((big - small)) $unit"
}
total_ir() { awk '/^summary:|^totals:/ { print $2; exit }' "$1"; }
op_ir() {   # path -> Ir per operation
    local n unit
    read -r n unit <<<"$(units "$1")"
    awk -v a="$(total_ir "$OUT/$1.callgrind")" -v b="$(total_ir "$OUT/$1.small.callgrind")" -v n="$n" \
        'BEGIN { printf "%.0f", (a - b) / n }'
}

# Per-function Ir of the N run minus the N/10 run, per operation.
per_function() {   # path inclusive|self n
    local p=$1 kind=$2 n=$3 inc=no
    [ "$kind" = inclusive ] && inc=yes
    ann() { callgrind_annotate --auto=no --inclusive=$inc --threshold=100 "$1" 2>/dev/null | sed -n '/file:function/,$p' | tail -n +3; }
    { ann "$OUT/$p.small.callgrind" | sed 's/^/S /'; ann "$OUT/$p.callgrind" | sed 's/^/B /'; } |
        awk -v n="$n" -v tb="$(total_ir "$OUT/$p.callgrind")" -v ts="$(total_ir "$OUT/$p.small.callgrind")" '
            match($0, /^[SB] +[0-9,]+ +\([^)]*\) +/) {
                side = substr($0, 1, 1)
                ir = $2; gsub(",", "", ir)
                key = substr($0, RLENGTH + 1)
                obj = ""
                if (key ~ /\[/) { obj = key; sub(/^.*\[/, "", obj); sub(/\].*$/, "", obj); sub(/^.*\//, "", obj) }
                fn = key; sub(/ \[.*$/, "", fn); sub(/^.*\//, "", fn); sub(/^\?\?\?:/, "", fn)
                if (obj == "") next
                if (fn ~ /^(main|\(below main\)|.*__libc_start_main.*|.*libc_start_call_main.*|PostgresSingleUserMain|PostgresMain)$/ || obj ~ /^ld-linux/) next
                key = fn " [" obj "]"
                if (side == "B") big[key] += ir; else small[key] += ir
            }
            END {
                per = (tb - ts) / n
                for (k in big) {
                    d = (big[k] - small[k]) / n
                    if (d > 0) printf "%10.0f %6.1f%%  %s\n", d, 100 * d / per, k
                }
            }' | sort -rn | head -25 || true
}

total_ir() { awk '/^summary:|^totals:/ { print $2; exit }' "$1"; }

# The direct callees of one function of the N run, Ir per operation.
calltree() {   # path function n
    local p=$1 f=$2 n=$3
    callgrind_annotate --auto=no --inclusive=yes --tree=calling --threshold=100 "$OUT/$p.callgrind" 2>/dev/null |
        awk -v f="$f" -v n="$n" '
            index($0, f " [") && $0 !~ />/ { p = 1 }
            p && /^ *$/ { exit }
            p && match($0, /^ *[0-9,]+ +\([^)]*\) +/) {
                ir = $1; gsub(",", "", ir)
                rest = substr($0, RLENGTH + 1)
                sub(/ \[[^]]*\]$/, "", rest); gsub(/[^ ]*\//, "", rest); gsub(/\?\?\?:/, "", rest)
                if (ir / n >= 1) printf "%10.0f  %s\n", ir / n, rest
            }' | head -16 || true
}
big_ops() {   # path -> operations in the N run
    local n _
    read -r n _ <<<"$(ops "$1" 1)"
    echo "$n"
}
res=bench/results/profile.md
trees_of() {
    case $1 in
        send) echo "send.c:send_common send.c:event_writer_begin catalog.c:pgque_queue_fetch send.c:event_writer_insert" ;;
        send_batch) echo "send.c:send_batch_common send.c:event_writer_insert" ;;
        drain_batch) echo "consume.c:pgque_get_batch_events batch.c:window_scan event_row.c:event_row_put consume.c:pgque_next_batch_custom consume.c:pgque_ack" ;;
        drain_receive) echo "consume.c:consume_receive_rows batch.c:window_scan event_row.c:event_row_put consume.c:pgque_ack" ;;
        small_batches | small_prepared) echo "fmgr_security_definer consume.c:pgque_receive consume.c:consume_receive_rows consume.c:consume_sub_lookup batch.c:batch_window_load batch.c:batch_window_read consume.c:consume_batch_insert consume.c:pgque_ack consume.c:consume_batch_fetch consume.c:consume_batch_close" ;;
    esac
}

# --only: the figures of the paths run, unless every path has its files
for p in $paths; do
    if [ ! -f "$OUT/$p.callgrind" ] || [ ! -f "$OUT/$p.small.callgrind" ]; then
        for q in $run_paths; do
            read -r n unit <<<"$(units "$q")"
            echo "$q: $(op_ir "$q") Ir per $unit"
            for f in $(trees_of "$q"); do
                echo "  $f:"
                calltree "$q" "$f" "$(big_ops "$q")" | sed 's/^/  /'
            done
        done
        echo "profile: not all paths have raw files under $OUT; $res left as it is" >&2
        exit 0
    fi
done

{
    echo "# pgque profiles (callgrind)"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), \`bench/profile.sh\`, pgque at $(git rev-parse --short HEAD)$([ -n "$(git status --porcelain src extension)" ] && echo ' (with uncommitted changes in src/ or extension/; the installed build was profiled)'). One backend in single-user mode, fsync off, $N single transactions / $((N / 10)) 100-row transactions / $((DRAIN_TICKS * 10000)) drained events / $SMALL 10-event batches per path (the function tables; per-operation counts are differences against a run with a tenth of that, so startup cancels out). Instruction counts (Ir) are CPU work only; WAL-flush waits do not show. The PostgreSQL binary is stripped: functions are named from its dynamic symbol table, static functions show as addresses or under their caller."
    echo
    echo "## Instructions per operation"
    echo
    echo "| path | Ir per operation | relative |"
    echo "|---|---|---|"
    for pair in "raw send pgq_insert" "raw_batch send_batch pgq_batch" "drain_pgq drain_batch drain_receive drain_plain" "small_batches small_prepared"; do
        set -- $pair
        base=$(op_ir "$1")
        for p in "$@"; do
            read -r n unit <<<"$(units "$p")"
            ir=$(op_ir "$p")
            echo "| $p | $ir per $unit | $(awk -v a="$ir" -v b="$base" 'BEGIN { printf "%.2f", a / b }') |"
        done
    done
    for p in $paths; do
        read -r n unit <<<"$(units "$p")"
        echo
        echo "## $p"
        for kind in inclusive self; do
            echo
            echo "Top 25 by $kind Ir per $unit (N run minus N/10 run, divided by the $unit difference):"
            echo
            echo '```'
            per_function "$p" "$kind" "$n"
            echo '```'
        done
        for f in $(trees_of "$p"); do
            echo
            echo "\`$f\` and its direct callees, Ir per $unit (* = the function itself, inclusive; > = callee, with call count):"
            echo
            echo '```'
            calltree "$p" "$f" "$(big_ops "$p")"
            echo '```'
        done
    done
} >"$res"
echo "profile: wrote $res" >&2
