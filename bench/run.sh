#!/usr/bin/env bash
# make bench: measure pgque against raw INSERTs and PgQ on a throwaway
# cluster (fsync and synchronous_commit on unless --fsync-off) and write
# bench/results/latest.md. See docs/performance.md for what each section does.
#
#   bench/run.sh [--fsync-off] [--full] [--quick] [--only SECTIONS]
#
#   --fsync-off  fsync = off, synchronous_commit = off
#   --full       the held-snapshot runs last 10 minutes each (default 3)
#   --quick      short runs for trying the script out; numbers are not meaningful
#   --only LIST  comma-separated subset of: single,batch,dedup,drain,bigtick,coop,latency,bloat,delay
#                (delay -- bench/delay.sh, ~30 min on a cluster of its own, writing
#                delay.md beside the result file -- runs only when named)
#   --perf       also sample the consumer backend of each held-snapshot run
#                with perf (cpu-clock) into build/bench/perf_<run>.txt
# Durations can be overridden from the environment: BENCH_T (pgbench -T),
# BENCH_ROUNDS, BENCH_BLOAT_SECS; BENCH_OUT names the result file;
# BENCH_PORT the cluster's port (54360). PGBIN (test/lib/cluster.sh) picks
# the server; when it points into a copy of the server tree, e.g.
# /opt/pgpriv/NAME/usr/lib/postgresql/15/bin, pgque is installed into that
# copy with DESTDIR, not into the system's tree (the copy must hold PgQ
# too: copy the tree after installing postgresql-15-pgq3).
#
# Every comparison is made within this run, baseline and candidate back to
# back (pgbench runs interleaved over two rounds), because this 2-core
# machine is shared and noisy: compare ratios, not absolute numbers across
# runs. The cluster runs on port 54360 (BENCH_PORT) and is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh
source bench/lib/install.sh

fsync=on
quick=0
full=0
perf=0
only="single,batch,dedup,drain,bigtick,coop,latency,bloat"
while [ $# -gt 0 ]; do
    case $1 in
        --fsync-off) fsync=off ;;
        --quick) quick=1 ;;
        --full) full=1 ;;
        --perf) perf=1 ;;
        --only) only=$2; shift ;;
        *) echo "usage: $0 [--fsync-off] [--full] [--quick] [--perf] [--only single,batch,dedup,drain,bigtick,coop,latency,bloat,delay]" >&2; exit 2 ;;
    esac
    shift
done
want() { [[ ",$only," == *",$1,"* ]]; }

T=20              # pgbench -T per throughput run
ROUNDS=2          # interleaved rounds of every pgbench variant (section 2)
ROUNDS1=3         # the same for section 1 (its ratio is the tightest target)
LAT_SECS=20       # latency: seconds at 1,000 events/s
BLOAT_SECS=180    # each held-snapshot run
BLOAT_TPS=1000    # producer transactions/s (send_batch of 10) in those runs
DRAIN_EVENTS=1000000
DRAIN_ROUNDS=3
if [ $full = 1 ]; then BLOAT_SECS=600; fi
if [ $quick = 1 ]; then T=5; ROUNDS=1; ROUNDS1=1; LAT_SECS=5; BLOAT_SECS=30; DRAIN_EVENTS=200000; DRAIN_ROUNDS=1; fi
T=${BENCH_T:-$T}; ROUNDS=${BENCH_ROUNDS:-$ROUNDS}; ROUNDS1=${BENCH_ROUNDS:-$ROUNDS1}; BLOAT_SECS=${BENCH_BLOAT_SECS:-$BLOAT_SECS}
started=$(date +%s)

test/deps.sh --bench
bench_install bench
mkdir -p build/bench bench/results
CFLAGS_PQ="-O2 -Wall -I$(pg_config --includedir)"
cc $CFLAGS_PQ -o build/bench/latency bench/latency.c -lpq -lpthread
cc $CFLAGS_PQ -o build/bench/consume bench/consume.c -lpq
if want coop; then
    # the C++ client (worker_pool) for the cooperative-consumer section
    make -s client >/dev/null
    g++ -std=c++17 -O2 -Iclient/include -Iclient/build/include bench/coop.cpp -Lclient/build -lpgque \
        -Wl,-rpath,"$PWD/client/build" -lpthread -o build/bench/coop
fi

B=bench
cluster_init $B "${BENCH_PORT:-54360}" "fsync = $fsync" "synchronous_commit = $fsync" "shared_buffers = 512MB" \
    "max_wal_size = 8GB" "checkpoint_timeout = 30min"
cluster_start $B
holder_pid=
cleanup() {
    [ -n "$holder_pid" ] && kill "$holder_pid" 2>/dev/null
    cluster_stop $B
}
trap cleanup EXIT
H=$(cluster_dir $B)
P=$(cluster_port $B)
log=build/bench/run.log
: >"$log"

q() { cluster_psql $B -At "$@"; }             # q DB -c SQL ...
qb() { q -d bench "$@"; }
qq() { q -d pgqdb "$@"; }
q -d postgres -c "create database bench" -c "create database pgqdb"
qb -c "create extension pgque" -c "create extension pgstattuple"
qq -c "create extension pgq"
DSN=$(cluster_dsn $B bench)
DSN_PGQ=$(cluster_dsn $B pgqdb)

# The data shape: a 50-byte payload, type 'default'.
PAYLOAD="bench-payload-0123456789-abcdefghijklmnopqrstuvwx"
PAYLOAD="${PAYLOAD:0:50}"
arr_of() { local n=$1 a="" i; for ((i = 0; i < n; i++)); do a+="${a:+,}$PAYLOAD"; done; echo "{$a}"; }
ARR100=$(arr_of 100)
ARR10=$(arr_of 10)

# The baseline table: the columns of pgque.event_template with the defaults
# a plain INSERT needs, no index (the physical limit of appending a row),
# and the storage options of pgque's event tables (fillfactor 100, no
# autovacuum). pgque's event tables have no index either since 0.2.0.
qb <<'SQL'
create sequence bench_raw_id_seq;
create table bench_raw (
    ev_id       bigint      not null default nextval('bench_raw_id_seq'),
    ev_time     timestamptz not null default now(),
    ev_txid     xid8        not null default pg_current_xact_id(),
    ev_owner    int4,
    ev_retry    int4,
    ev_type     text,
    ev_data     text,
    ev_extra1   text,
    ev_extra2   text,
    ev_extra3   text,
    ev_extra4   text
) with (fillfactor = 100, autovacuum_enabled = false, toast.autovacuum_enabled = false);
SQL

out=${BENCH_OUT:-bench/results/latest.md}
{
    echo "# pgque benchmark results"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, PostgreSQL $(q -d postgres -c 'show server_version'), fsync = $fsync, synchronous_commit = $fsync; pgque: $build_note, pgque.so md5 $(md5sum "$so" | cut -c1-12); PgQ $(qq -c 'select pgq.version()')."
    echo "Command: \`bench/run.sh$([ $fsync = off ] && echo ' --fsync-off')$([ $full = 1 ] && echo ' --full')$([ $quick = 1 ] && echo ' --quick')\`. Ratios compare runs made back to back in this run; absolute numbers vary between runs on this shared machine."
} >"$out"
[ $quick = 1 ] && printf '\n**--quick: short runs, the numbers are not meaningful.**\n' >>"$out"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r != "n/a" && r + 0 >= t) ? "PASS" : "MISS" }'; }
mean() { tr ' ' '\n' | awk 'NF { s += $1; n++ } END { printf "%.0f", n ? s / n : 0 }'; }
median() { tr ' ' '\n' | awk 'NF' | sort -n | awk '{ v[NR] = $1 } END { printf "%.0f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
fmt() {   # 1234567.8 -> 1,234,568
    awk -v v="$1" 'BEGIN { s = sprintf("%.0f", v); r = ""
        while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
        print s r }'
}
fmtl() { local r="" v; for v in "$@"; do r+="${r:+ / }$(fmt "$v")"; done; echo "$r"; }

worker_running() { qb -c "select count(*) from pg_stat_activity where backend_type = 'pgque worker' and datname = 'bench'"; }
worker_stop() { qb -c "select pgque.stop()" >/dev/null; }
worker_start() {
    qb -c "select pgque.start()" >/dev/null
    for _ in $(seq 100); do [ "$(worker_running)" = 1 ] && return 0; sleep 0.1; done
    echo "bench: the pgque worker did not start" >&2; return 1
}

# Fresh, empty targets for each run, then a checkpoint so that no run
# inherits another's dirty buffers.
reset_raw() { qb -c "truncate bench_raw" -c "checkpoint" >/dev/null; }
reset_pgque() {
    qb -c "set client_min_messages = warning" -c "select pgque.drop_queue(queue_name, true) from pgque.queue where queue_name = '$1'" \
       -c "select pgque.create_queue('$1')" -c "checkpoint" >/dev/null
}
reset_pgq() {
    qq -c "set client_min_messages = warning" -c "select pgq.drop_queue(queue_name, true) from pgq.queue where queue_name = '$1'" \
       -c "select pgq.create_queue('$1')" -c "checkpoint" >/dev/null
}

# busy and total jiffies of the whole machine so far
cpu_jiffies() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat; }

# pgbench DB SCRIPT [CLIENTS] -> "tps busy%" (4 clients, prepared statements);
# busy% = share of the machine's CPU time that was busy during the run
pgb() {
    local db=$1 script=$2 clients=${3:-4} res tps b0 t0 b1 t1
    read -r b0 t0 < <(cpu_jiffies)
    res=$(pgbench -n -M prepared -c "$clients" -j 2 -T "$T" -h "$H" -p "$P" -U postgres \
        -D "payload=$PAYLOAD" -D "arr=$ARR100" -f "bench/pgbench/$script" "$db" 2>&1) ||
        { echo "$res" >&2; echo "bench: pgbench $script failed" >&2; return 1; }
    echo "== pgbench $db $script" >>"$log"
    echo "$res" >>"$log"
    read -r b1 t1 < <(cpu_jiffies)
    tps=$(echo "$res" | awk '/^tps = / { print $3; exit }')
    echo "${tps:-0} $(( (b1 - b0) * 100 / (t1 - t0) ))"
}

declare -A R   # results: variant -> space-separated values, one per round
run_variant() {   # key db script reset-cmd...
    local key=$1 db=$2 script=$3 v busy
    shift 3
    "$@"
    read -r v busy < <(pgb "$db" "$script") || true
    [ -n "$v" ] || { echo "bench: pgbench $script failed" >&2; exit 1; }
    R[$key]="${R[$key]:-} $v"
    R[cpu_$key]="${R[cpu_$key]:-} $busy"
    printf '  %-22s %s tx/s, machine CPU %s%% busy\n' "$key" "$v" "$busy" >&2
}
busy() { echo ${R[cpu_$1]} | tr ' ' '\n' | awk 'NF { s = s sep $1 "%"; sep = " / " } END { print s }'; }

# ---------------------------------------------------------------- single
if want single; then
    echo "bench: single-event sends, $ROUNDS1 x ${T}s per variant" >&2
    # unmeasured warm-up: connections, caches, the first checkpoint
    reset_raw; T_saved=$T; T=5; pgb bench raw_single.sql >/dev/null; T=$T_saved
    for ((r = 1; r <= ROUNDS1; r++)); do
        run_variant raw bench raw_single.sql reset_raw
        run_variant send bench send.sql reset_pgque bench_q
        run_variant pgq pgqdb pgq_insert.sql reset_pgq bench_q
        if [ $r = 1 ]; then   # the diagnostic, once
            worker_stop
            run_variant send_noworker bench send.sql reset_pgque bench_q
            worker_start
        fi
    done
    raw=$(echo ${R[raw]} | mean); send=$(echo ${R[send]} | mean)
    pgq=$(echo ${R[pgq]} | mean); now=$(echo ${R[send_noworker]} | mean)
    r_send=$(ratio "$send" "$raw")
    {
        echo
        echo "## 1. Single-event send vs a raw single-row INSERT"
        echo
        echo "pgbench, 4 clients (-j 2), prepared statements, one event per transaction, ${T} s per run, $ROUNDS1 rounds interleaved (raw, send, PgQ; the first round also runs send without the worker); tx/s is the mean of the rounds (each round in brackets). Machine CPU busy: the share of both cores busy during the run, all processes (other users of the machine included)."
        echo
        echo "| path | tx/s (rounds) | ratio to raw INSERT | machine CPU busy (rounds) | target | result |"
        echo "|---|---|---|---|---|---|"
        echo "| raw \`INSERT INTO bench_raw (ev_type, ev_data) VALUES ('default', \$1)\` (baseline) | $(fmt "$raw") ($(fmtl ${R[raw]})) | 1.00 | $(busy raw) | | |"
        echo "| \`pgque.send(queue, \$1)\`, worker running (default) | $(fmt "$send") ($(fmtl ${R[send]})) | $r_send | $(busy send) | >= 0.95 | $(verdict "$r_send" 0.95) |"
        echo "| \`pgque.send\`, worker stopped (diagnostic: no ticks) | $(fmt "$now") ($(fmtl ${R[send_noworker]})) | $(ratio "$now" "$raw") | $(busy send_noworker) | | |"
        echo "| \`pgq.insert_event(queue, 'default', \$1)\` (PgQ 3.5, reference) | $(fmt "$pgq") ($(fmtl ${R[pgq]})) | $(ratio "$pgq" "$raw") | $(busy pgq) | | |"
        echo
        echo "Baseline table \`bench_raw\`: the columns of pgque.event_template (ev_id bigint default nextval of its own sequence, ev_time timestamptz default now(), ev_txid xid8 default pg_current_xact_id(), ev_owner, ev_retry, ev_type, ev_data, ev_extra1..4), no index, fillfactor 100, autovacuum off — like a pgque event table since 0.2.0 (no ev_txid index: a tick bounds each batch's block range). No RETURNING. Payload: 50 bytes of text."
    } >>"$out"
fi

# ---------------------------------------------------------------- batch
if want batch; then
    echo "bench: 100-event batches, $ROUNDS x ${T}s per variant" >&2
    for ((r = 1; r <= ROUNDS; r++)); do
        run_variant braw bench raw_batch.sql reset_raw
        run_variant bsend bench send_batch.sql reset_pgque bench_q
        run_variant bpgq pgqdb pgq_batch.sql reset_pgq bench_q
    done
    raw=$(echo ${R[braw]} | mean); send=$(echo ${R[bsend]} | mean); pgq=$(echo ${R[bpgq]} | mean)
    rows() { local v r=""; for v in $1; do r+=" $((${v%.*} * 100))"; done; echo $r; }
    r_send=$(ratio "$send" "$raw")
    {
        echo
        echo "## 2. send_batch of 100 vs a raw 100-row INSERT … SELECT"
        echo
        echo "pgbench, 4 clients (-j 2), prepared statements, one 100-element text[] parameter per transaction, ${T} s per run, $ROUNDS rounds interleaved; rows/s = tx/s x 100, mean of the rounds."
        echo
        echo "| path | rows/s (rounds) | ratio to raw | machine CPU busy (rounds) | target | result |"
        echo "|---|---|---|---|---|---|"
        echo "| raw \`INSERT INTO bench_raw (ev_type, ev_data) SELECT 'default', p FROM unnest(\$1::text[]) p\` (baseline) | $(fmt $((${raw} * 100))) ($(fmtl $(rows "${R[braw]}"))) | 1.00 | $(busy braw) | | |"
        echo "| \`pgque.send_batch(queue, \$1::text[])\`, worker running | $(fmt $((${send} * 100))) ($(fmtl $(rows "${R[bsend]}"))) | $r_send | $(busy bsend) | >= 0.90 | $(verdict "$r_send" 0.90) |"
        echo "| \`SELECT pgq.insert_event(queue, 'default', p) FROM unnest(\$1::text[]) p\` (PgQ, reference) | $(fmt $((${pgq} * 100))) ($(fmtl $(rows "${R[bpgq]}"))) | $(ratio "$pgq" "$raw") | $(busy bpgq) | | |"
    } >>"$out"
fi
if want single || want batch; then
    reset_raw
    qb -c "set client_min_messages = warning" -c "select pgque.drop_queue('bench_q', true)" >/dev/null
    qq -c "set client_min_messages = warning" -c "select pgq.drop_queue('bench_q', true)" >/dev/null
fi

# ---------------------------------------------------------------- dedup
if want dedup; then
    echo "bench: sends with a dedup_key, $ROUNDS x ${T}s per variant" >&2
    # the re-send variant finds its 1,000 keys sent before
    resend_setup() {
        reset_pgque bench_q
        qb -c "select count(pgque.send('bench_q', 'first', dedup_key => 'key-' || i)) from generate_series(1, 1000) i" >/dev/null
    }
    for ((r = 1; r <= ROUNDS; r++)); do
        run_variant dplain bench send.sql reset_pgque bench_q
        run_variant dkeyed bench send_keyed.sql reset_pgque bench_q
        run_variant dresend bench send_resend.sql resend_setup
    done
    plain=$(echo ${R[dplain]} | mean); keyed=$(echo ${R[dkeyed]} | mean); resend=$(echo ${R[dresend]} | mean)
    # Server CPU per send, not bound by commits: 50,000 sends in one DO
    # block, three interleaved rounds, worker stopped.
    do_ms() {   # send-expression (i: 1..50000)
        qb -c "set client_min_messages = notice" -c "do \$\$ declare t0 timestamptz := clock_timestamp(); begin
                   perform $1 from generate_series(1, 50000) i;
                   raise notice 'ms=%', round(extract(epoch from clock_timestamp() - t0) * 1000); end \$\$" 2>&1 |
            sed -n 's/.*ms=//p'
    }
    worker_stop
    reset_pgque bench_q
    for ((r = 1; r <= 3; r++)); do
        R[cplain]+=" $(do_ms "pgque.send('bench_q', 'payload-payload-payload')")"
        R[ckeyed]+=" $(do_ms "pgque.send('bench_q', 'payload-payload-payload', dedup_key => 'k$r-' || i)")"
        R[cresend]+=" $(do_ms "pgque.send('bench_q', 'payload-payload-payload', dedup_key => 'k$r-' || i)")"
    done
    worker_start
    cplain=$(echo ${R[cplain]} | median); ckeyed=$(echo ${R[ckeyed]} | median); cresend=$(echo ${R[cresend]} | median)
    us() { awk -v m="$1" 'BEGIN { printf "%.1f", m * 1000 / 50000 }'; }
    {
        echo
        echo "## 2b. Sends with a dedup_key vs plain sends"
        echo
        echo "pgbench, 4 clients (-j 2), prepared statements, one send per transaction, ${T} s per run, $ROUNDS rounds interleaved; tx/s is the mean of the rounds. A keyed send locks its key, looks it up in the key tables of this epoch and the last with a dirty snapshot, sends, writes the key and unlocks it (src/dedup.c)."
        echo
        echo "| path | tx/s (rounds) | ratio to plain send | machine CPU busy (rounds) |"
        echo "|---|---|---|---|"
        echo "| \`pgque.send(queue, \$1)\` (baseline) | $(fmt "$plain") ($(fmtl ${R[dplain]})) | 1.00 | $(busy dplain) |"
        echo "| \`pgque.send(queue, \$1, dedup_key => k)\`, a new key each time | $(fmt "$keyed") ($(fmtl ${R[dkeyed]})) | $(ratio "$keyed" "$plain") | $(busy dkeyed) |"
        echo "| the same, a key sent before (re-send: lookup, no event) | $(fmt "$resend") ($(fmtl ${R[dresend]})) | $(ratio "$resend" "$plain") | $(busy dresend) |"
        echo
        echo "These runs are bound by commits (fsync); a re-send writes nothing and commits without a WAL flush. Server CPU per send, 50,000 sends in one DO block, worker stopped, 3 interleaved rounds (ms, median):"
        echo
        echo "| path | runs (ms) | µs per send | plain / this |"
        echo "|---|---|---|---|"
        echo "| plain send | $(echo ${R[cplain]} | sed 's/ /, /g') | $(us "$cplain") | 1.00 |"
        echo "| keyed send, new keys | $(echo ${R[ckeyed]} | sed 's/ /, /g') | $(us "$ckeyed") | $(ratio "$cplain" "$ckeyed") |"
        echo "| re-send of those keys | $(echo ${R[cresend]} | sed 's/ /, /g') | $(us "$cresend") | $(ratio "$cplain" "$cresend") |"
    } >>"$out"
fi

# ---------------------------------------------------------------- drain
if want drain; then
    ticks=$((DRAIN_EVENTS / 10000))
    echo "bench: draining a backlog of $DRAIN_EVENTS events ($ticks ticks of 10,000)" >&2
    worker_stop    # we tick by hand: one tick per 10,000 events
    reset_pgque drain_q
    qb -c "select pgque.set_queue_config('drain_q', 'ticker_max_count', '5000')" \
       -c "select pgque.subscribe('drain_q', 'c_receive')" -c "select pgque.subscribe('drain_q', 'c_batch')" >/dev/null
    tick0_pgque=$(qb -c "select sub_last_tick from pgque.subscription s join pgque.consumer c on c.co_id = s.sub_consumer where c.co_name = 'c_receive'")
    reset_pgq drain_q
    qq -c "select pgq.set_queue_config('drain_q', 'ticker_max_count', '5000')" \
       -c "select pgq.register_consumer('drain_q', 'c')" >/dev/null
    tick0_pgq=$(qq -c "select last_tick from pgq.get_consumer_info('drain_q', 'c')")
    t0=$(date +%s.%N)
    qb <<SQL >/dev/null
do \$\$
declare arr text[] := '$ARR100';
begin
    for i in 1..$ticks loop
        for j in 1..100 loop perform pgque.send_batch('drain_q', arr); end loop;
        commit;
        if pgque.ticker('drain_q') is null then raise 'no tick'; end if;
        commit;
    end loop;
end \$\$;
SQL
    t1=$(date +%s.%N)
    qq <<SQL >/dev/null
do \$\$
declare arr text[] := '$ARR100';
begin
    for i in 1..$ticks loop
        for j in 1..100 loop perform pgq.insert_event('drain_q', 'default', p) from unnest(arr) p; end loop;
        commit;
        if pgq.ticker('drain_q') is null then raise 'no tick'; end if;
        commit;
    end loop;
end \$\$;
SQL
    t2=$(date +%s.%N)
    # the floor: the same rows returned from a plain table of the event
    # columns (TID range scans of ~10,000 rows), what any consumer pays
    qb <<SQL >/dev/null
drop table if exists drain_plain;
create table drain_plain (like bench_raw including defaults) with (fillfactor = 100, autovacuum_enabled = false);
insert into drain_plain (ev_type, ev_data) select 'default', '$PAYLOAD' from generate_series(1, $DRAIN_EVENTS);
SQL
    fill_pgque=$(awk -v a="$t0" -v b="$t1" -v n="$DRAIN_EVENTS" 'BEGIN { printf "%.0f", n / (b - a) }')
    fill_pgq=$(awk -v a="$t1" -v b="$t2" -v n="$DRAIN_EVENTS" 'BEGIN { printf "%.0f", n / (b - a) }')
    nt_pgque=$(qb -c "select count(*) from pgque.tick t join pgque.queue q on q.queue_id = t.tick_queue where q.queue_name = 'drain_q' and t.tick_id > $tick0_pgque")
    nt_pgq=$(qq -c "select count(*) from pgq.tick t join pgq.queue q on q.queue_id = t.tick_queue where q.queue_name = 'drain_q' and t.tick_id > $tick0_pgq")
    echo "  filled: pgque $fill_pgque ev/s ($nt_pgque ticks), PgQ $fill_pgq ev/s ($nt_pgq ticks)" >&2
    q -d postgres -c "checkpoint" >/dev/null

    drain_one() {   # mode -> events/s; rewinds the consumer first
        local mode=$1 res ev
        case $mode in
            pgq) qq -c "select pgq.register_consumer_at('drain_q', 'c', $tick0_pgq)" >/dev/null
                 res=$(build/bench/consume --dsn "$DSN_PGQ" --mode pgq --queue drain_q --consumer c) ;;
            pgque-batch) qb -c "select pgque.register_consumer_at('drain_q', 'c_batch', $tick0_pgque)" >/dev/null
                 res=$(build/bench/consume --dsn "$DSN" --mode pgque-batch --queue drain_q --consumer c_batch) ;;
            pgque-receive) qb -c "select pgque.register_consumer_at('drain_q', 'c_receive', $tick0_pgque)" >/dev/null
                 res=$(build/bench/consume --dsn "$DSN" --mode pgque-receive --queue drain_q --consumer c_receive --max 10000) ;;
            table) res=$(build/bench/consume --dsn "$DSN" --mode table --queue drain_plain --consumer - --blocks 150) ;;
        esac
        echo "== drain $mode: $res" >>"$log"
        ev=$(echo "$res" | awk '/^events/ { print $2 }')
        if [ "$ev" != "$DRAIN_EVENTS" ]; then
            echo "bench: drain $mode read $ev events, expected $DRAIN_EVENTS" >&2; return 1
        fi
        # events/s and the server backend's CPU seconds
        echo "$res" | awk '/^events/ { r = $8 } /^backend_cpu_s/ { c = $2 } END { print r, c }'
    }
    # one unmeasured pass each: the first reader of a row sets its hint bits
    for m in pgq pgque-batch pgque-receive table; do drain_one $m >/dev/null; done
    for ((r = 1; r <= DRAIN_ROUNDS; r++)); do
        for m in pgq pgque-batch pgque-receive table; do
            read -r v c < <(drain_one $m) || true
            [ -n "$v" ] || { echo "bench: drain $m failed" >&2; exit 1; }
            R[d_$m]="${R[d_$m]:-} $v"
            R[dc_$m]="${R[dc_$m]:-} $c"
            printf '  %-22s %s events/s, backend CPU %s s\n' "$m" "$v" "$c" >&2
        done
    done
    pgq=$(echo ${R[d_pgq]} | median); bat=$(echo ${R[d_pgque-batch]} | median); rec=$(echo ${R[d_pgque-receive]} | median)
    cpu_of() { echo ${R[dc_$1]} | tr ' ' '\n' | awk 'NF' | sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] }'; }
    tab=$(echo ${R[d_table]} | median)
    r_bat=$(ratio "$bat" "$pgq"); r_rec=$(ratio "$rec" "$pgq"); r_tab=$(ratio "$tab" "$pgq")
    {
        echo
        echo "## 3. Draining a $(fmt $DRAIN_EVENTS)-event backlog"
        echo
        echo "Backlog: $ticks ticks of 10,000 events (50-byte payload), filled with send_batch / insert_event and a manual ticker() after every 10,000 (worker stopped, ticker_max_count 5000 so that each call ticks; fill rate pgque $(fmt $fill_pgque), PgQ $(fmt $fill_pgq) events/s). One libpq client (bench/consume.c) reads every batch in one transaction and every column of every row in text format. Each consumer is rewound to the first tick and drains the backlog $DRAIN_ROUNDS times, interleaved, after one unmeasured pass (hint bits); events/s is the median (runs in brackets)."
        echo
        echo "| path | events/s (runs) | ratio to PgQ | server backend CPU s per drain (median) | target | result |"
        echo "|---|---|---|---|---|---|"
        echo "| PgQ 3.5: \`pgq.next_batch\` / \`pgq.get_batch_events\` / \`pgq.finish_batch\` (baseline) | $(fmt "$pgq") ($(fmtl ${R[d_pgq]})) | 1.00 | $(cpu_of pgq) | | |"
        echo "| pgque: \`next_batch\` / \`get_batch_events\` / \`finish_batch\` | $(fmt "$bat") ($(fmtl ${R[d_pgque-batch]})) | $r_bat | $(cpu_of pgque-batch) | >= 2.0 | $(verdict "$r_bat" 2.0) |"
        echo "| pgque: \`receive(queue, consumer, 10000)\` / \`ack\` | $(fmt "$rec") ($(fmtl ${R[d_pgque-receive]})) | $r_rec | $(cpu_of pgque-receive) | >= 2.0 | $(verdict "$r_rec" 2.0) |"
        echo "| reference, no queue: the same columns of $(fmt $DRAIN_EVENTS) rows of a plain table, \`select … where ctid >= … and ctid < …\` 150 blocks (~10,000 rows) at a time | $(fmt "$tab") ($(fmtl ${R[d_table]})) | $r_tab | $(cpu_of table) | | |"
    } >>"$out"
    qb -c "set client_min_messages = warning" -c "select pgque.drop_queue('drain_q', true)" >/dev/null
    qq -c "set client_min_messages = warning" -c "select pgq.drop_queue('drain_q', true)" >/dev/null
    qb -c "drop table drain_plain" >/dev/null
    worker_start
fi

# ---------------------------------------------------------------- bigtick
# One tick of 1,000,000 events read back in small and large pieces: the cost
# of a receive must follow what it returns, not the size of the tick.
if want bigtick; then
    echo "bench: one tick of $DRAIN_EVENTS events" >&2
    worker_stop
    reset_pgque big_q
    qb -c "select pgque.subscribe('big_q', 'c100')" -c "select pgque.subscribe('big_q', 'c10000')" \
       -c "select pgque.subscribe('big_q', 'cbatch')" >/dev/null
    tick0_big=$(qb -c "select sub_last_tick from pgque.subscription s join pgque.consumer c on c.co_id = s.sub_consumer where c.co_name = 'c100'")
    reset_pgq big_q
    qq -c "select pgq.register_consumer('big_q', 'c')" >/dev/null
    tick0_bigq=$(qq -c "select last_tick from pgq.get_consumer_info('big_q', 'c')")
    qb <<SQL >/dev/null
do \$\$
declare arr text[] := '$ARR100';
begin
    for j in 1..$((DRAIN_EVENTS / 100)) loop perform pgque.send_batch('big_q', arr); end loop;
    commit;
    if pgque.force_tick('big_q') is null or pgque.ticker('big_q') is null then raise 'no tick'; end if;
end \$\$;
SQL
    qq <<SQL >/dev/null
do \$\$
declare arr text[] := '$ARR100';
begin
    for j in 1..$((DRAIN_EVENTS / 100)) loop perform pgq.insert_event('big_q', 'default', p) from unnest(arr) p; end loop;
    commit;
    perform pgq.force_tick('big_q');
    if pgq.ticker('big_q') is null then raise 'no tick'; end if;
end \$\$;
SQL
    q -d postgres -c "checkpoint" >/dev/null
    big_one() {   # mode -> events/s and backend CPU s; rewinds the consumer first
        local mode=$1 res ev
        case $mode in
            pgq) qq -c "select pgq.register_consumer_at('big_q', 'c', $tick0_bigq)" >/dev/null
                 res=$(build/bench/consume --dsn "$DSN_PGQ" --mode pgq --queue big_q --consumer c) ;;
            batch) qb -c "select pgque.register_consumer_at('big_q', 'cbatch', $tick0_big)" >/dev/null
                 res=$(build/bench/consume --dsn "$DSN" --mode pgque-batch --queue big_q --consumer cbatch) ;;
            r100|r10000) qb -c "select pgque.register_consumer_at('big_q', 'c${mode#r}', $tick0_big)" >/dev/null
                 res=$(build/bench/consume --dsn "$DSN" --mode pgque-receive --queue big_q --consumer "c${mode#r}" --max "${mode#r}") ;;
        esac
        echo "== bigtick $mode: $res" >>"$log"
        ev=$(echo "$res" | awk '/^events/ { print $2 }')
        if [ "$ev" != "$DRAIN_EVENTS" ]; then
            echo "bench: bigtick $mode read $ev events, expected $DRAIN_EVENTS" >&2; return 1
        fi
        echo "$res" | awk '/^events/ { r = $8 } /^backend_cpu_s/ { c = $2 } END { print r, c }'
    }
    for m in pgq batch r100 r10000; do big_one $m >/dev/null; done
    for ((r = 1; r <= DRAIN_ROUNDS; r++)); do
        for m in pgq batch r100 r10000; do
            read -r v c < <(big_one $m) || true
            [ -n "$v" ] || { echo "bench: bigtick $m failed" >&2; exit 1; }
            R[g_$m]="${R[g_$m]:-} $v"
            R[gc_$m]="${R[gc_$m]:-} $c"
            printf '  %-10s %s events/s, backend CPU %s s\n' "$m" "$v" "$c" >&2
        done
    done
    gcpu() { echo ${R[gc_$1]} | tr ' ' '\n' | awk 'NF' | sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] }'; }
    g_pgq=$(echo ${R[g_pgq]} | median)
    {
        echo
        echo "## 3b. One tick of $(fmt $DRAIN_EVENTS) events"
        echo
        echo "One send_batch loop in one transaction (insert_event for PgQ), then one tick: the whole backlog is one tick window. The same client as in section 3 drains it $DRAIN_ROUNDS times per path, interleaved, after one unmeasured pass. receive(…, 100) returns the window 100 events at a time; its cost per call must follow what it returns, not the 1M-event window (0.1.0 re-read the whole window on every call: ~220 ms per receive). events/s is the median (runs in brackets)."
        echo
        echo "| path | events/s (runs) | ratio to PgQ | server backend CPU s per drain (median) |"
        echo "|---|---|---|---|"
        echo "| PgQ 3.5: \`pgq.next_batch\` / \`pgq.get_batch_events\` (one 1M-row batch, baseline) | $(fmt "$g_pgq") ($(fmtl ${R[g_pgq]})) | 1.00 | $(gcpu pgq) |"
        for m in batch r10000 r100; do
            case $m in
                batch) label="pgque: \`next_batch\` / \`get_batch_events\` (one 1M-row batch)" ;;
                r10000) label="pgque: \`receive(queue, consumer, 10000)\` / \`ack\` (100 calls)" ;;
                r100) label="pgque: \`receive(queue, consumer, 100)\` / \`ack\` (10,000 calls)" ;;
            esac
            v=$(echo ${R[g_$m]} | median)
            echo "| $label | $(fmt "$v") ($(fmtl ${R[g_$m]})) | $(ratio "$v" "$g_pgq") | $(gcpu $m) |"
        done
    } >>"$out"
    qb -c "set client_min_messages = warning" -c "select pgque.drop_queue('big_q', true)" >/dev/null
    qq -c "set client_min_messages = warning" -c "select pgq.drop_queue('big_q', true)" >/dev/null
    worker_start
fi

# ---------------------------------------------------------------- coop
# One cooperative consumer with 1, 2, 4, 8 members (a worker_pool), each
# handler waiting 1 ms per message (I/O-bound jobs): does the rate grow with
# the members?
if want coop; then
    echo "bench: cooperative consumer, 1/2/4/8 members, 1 ms per message" >&2
    COOP_PER_MEMBER=1500
    [ $quick = 1 ] && COOP_PER_MEMBER=300
    for n in 1 2 4 8; do
        reset_pgque coop_q$n
        res=$(build/bench/coop "$DSN" coop_q$n $n $((COOP_PER_MEMBER * n)) 1 10)
        echo "== coop $n: $res" >>"$log"
        R[coop_$n]=$(echo "$res" | awk '{ print $8 }')
        printf '  %s members: %s messages/s\n' "$n" "${R[coop_$n]}" >&2
        qb -c "set client_min_messages = warning" -c "select pgque.drop_queue('coop_q$n', true)" >/dev/null
    done
    {
        echo
        echo "## 6. One cooperative consumer, 1 to 8 members"
        echo
        echo "bench/coop.cpp: a backlog of $(fmt $COOP_PER_MEMBER) messages per member, sent 10 per tick, drained by a \`pgque::worker_pool\` of N members (each its own connection and thread, \`receive_coop\` with max_return 10, ack per batch); every handler sleeps 1 ms per message, as an I/O-bound job would. Rate = messages / time until all were handled. Target: N members ≥ 0.8 × N × one member's rate."
        echo
        echo "| members | messages/s | ratio to N × one member | target | result |"
        echo "|---|---|---|---|---|"
        for n in 1 2 4 8; do
            r=$(awk -v a="${R[coop_$n]}" -v b="${R[coop_1]}" -v n=$n 'BEGIN { printf "%.2f", a / (b * n) }')
            if [ $n = 1 ]; then echo "| 1 | $(fmt ${R[coop_1]}) | 1.00 | | |"
            else echo "| $n | $(fmt ${R[coop_$n]}) | $r | >= 0.80 | $(verdict "$r" 0.80) |"; fi
        done
    } >>"$out"
fi

# ---------------------------------------------------------------- latency
if want latency; then
    echo "bench: end-to-end latency, 1,000 events/s for ${LAT_SECS}s per mode" >&2
    reload() { q -d postgres -c "alter system set $1" -c "select pg_reload_conf()" >/dev/null; sleep 1; }
    worker_cpu_ms() {   # CPU time (ms) used so far by the bench database's worker
        local pid
        pid=$(q -d postgres -c "select pid from pg_stat_activity where backend_type = 'pgque worker' and datname = 'bench'")
        awk '{print ($14 + $15) * 10}' "/proc/$pid/stat"
    }
    {
        echo
        echo "## 4. End-to-end latency (send commit -> LISTENing consumer holds the message)"
        echo
        echo "bench/latency.c: 1,000 events/s for $LAT_SECS s, one transaction per event; default settings unless noted."
        echo
        echo "| mode | p50 ms | p95 ms | p99 ms | max ms | missing | ticks/s under load | worker CPU under load | idle ticks/s | worker CPU while idle | target | result |"
        echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    } >>"$out"
    latency_row() {   # label, target?, extra latency args
        local label=$1 target=$2 res cpu0 cpu1 cpu2
        shift 2
        # the load's CPU: the run (LAT_SECS + 10 s idle) minus the idle rate
        cpu0=$(worker_cpu_ms)
        res=$(build/bench/latency --dsn "$DSN" --rate 1000 --seconds "$LAT_SECS" --idle 10 "$@")
        echo "$res" >&2
        echo "== latency $label: $res" >>"$log"
        cpu1=$(worker_cpu_ms)
        sleep 10
        cpu2=$(worker_cpu_ms)
        echo "$res" | awk -v label="$label" -v cpu="$(( (cpu2 - cpu1) / 10 ))" \
            -v loadcpu="$(( (cpu1 - cpu0 - (cpu2 - cpu1)) / LAT_SECS ))" -v secs="$LAT_SECS" -v target="$target" '
            /^latency_ms/ {p50=$3; p95=$5; p99=$7; max=$9}
            /missing/ {miss=$NF}
            /^load_ticks/ {load=$2}
            /^idle_ticks/ {idle=$2}
            END {
                v = ""
                if (target) v = (p50 <= 3 && p99 <= 15 && miss == 0) ? "PASS" : "MISS"
                printf "| %s | %s | %s | %s | %s | %s | %.0f | %s ms/s | %s | %s ms/s | %s | %s |\n", label, p50, p95, p99, max, miss,
                    load/secs, loadcpu, idle/10, cpu, target ? "p50 <= 3, p99 <= 15" : "", v
            }' >>"$out"
    }
    latency_row "wake on commit (default)" 1
    reload "pgque.wake_on_commit = off"
    reload "pgque.naptime = '10ms'"
    latency_row "polling every 10 ms, ticker_max_lag 0 (comparison)" "" --max-lag 0
    reload "pgque.wake_on_commit = on"
    reload "pgque.naptime = '250ms'"
fi

# ---------------------------------------------------------------- bloat
if want bloat; then
    echo "bench: producer + consumer for ${BLOAT_SECS}s, without and with a held snapshot" >&2
    fifo=build/bench/holder.fifo
    hold_start() {   # snapshot | xid
        rm -f "$fifo"; mkfifo "$fifo"
        PGAPPNAME=bench_holder cluster_psql $B -d bench -At <"$fifo" >build/bench/holder.out 2>&1 &
        holder_pid=$!
        exec 7>"$fifo"
        echo "begin isolation level repeatable read;" >&7
        echo "select count(*) from pgque.queue;" >&7        # takes the snapshot
        [ "$1" = xid ] && echo "select pg_current_xact_id();" >&7
        for _ in $(seq 100); do
            [ "$(q -d postgres -c "select count(*) from pg_stat_activity where application_name = 'bench_holder' and state = 'idle in transaction' and backend_xmin is not null$([ "$1" = xid ] && echo ' and backend_xid is not null')")" = 1 ] && return 0
            sleep 0.1
        done
        echo "bench: the snapshot holder did not start" >&2; return 1
    }
    hold_stop() {
        echo "commit;" >&7
        exec 7>&-
        wait "$holder_pid" || true
        holder_pid=
        rm -f "$fifo"
    }
    META="'queue','tick','batch','subscriber','consumer','retry_queue','dead_letter','config'"
    bloat_run() {   # key hold(none|snapshot|xid)
        local key=$1 hold=$2 cons prod ev_prod held_age
        reset_pgque bloat_q
        qb -c "select pgque.subscribe('bloat_q', 'c')" \
           -c "select pgque.set_queue_config('bloat_q', 'rotation_period', '1 minute')" >/dev/null
        qb -c "vacuum analyze pgque.queue, pgque.tick, pgque.batch, pgque.subscriber, pgque.consumer, pgque.retry_queue, pgque.dead_letter, pgque.config" \
           -c "select pg_stat_reset()" >/dev/null
        [ "$hold" != none ] && hold_start "$hold"
        build/bench/consume --dsn "$DSN" --mode pgque-receive --queue bloat_q --consumer c --max 100 \
            --seconds "$BLOAT_SECS" --report 30 >build/bench/bloat_consumer.out &
        cons=$!
        perf_pid=
        if [ $perf = 1 ]; then
            sleep 1
            bpid=$(awk '/^backend_pid/ { print $2 }' build/bench/bloat_consumer.out)
            perf record -e cpu-clock -F 999 -g -p "$bpid" -o "build/bench/perf_$key.data" -- sleep "$((BLOAT_SECS - 5))" \
                >/dev/null 2>&1 &
            perf_pid=$!
        fi
        prod=$(pgbench -n -M prepared -c 2 -j 2 -R "$BLOAT_TPS" -T "$BLOAT_SECS" -h "$H" -p "$P" -U postgres \
            -D "arr=$ARR10" -f bench/pgbench/bloat_producer.sql bench 2>&1) || { echo "$prod" >&2; return 1; }
        wait $cons
        if [ -n "$perf_pid" ]; then
            wait "$perf_pid" || true
            perf report -i "build/bench/perf_$key.data" --stdio --no-children --sort symbol 2>/dev/null |
                grep -v '^#' | grep '%' | head -40 >"build/bench/perf_$key.txt" || true
        fi
        echo "== bloat $key producer" >>"$log"; echo "$prod" >>"$log"
        echo "== bloat $key consumer" >>"$log"; cat build/bench/bloat_consumer.out >>"$log"
        ev_prod=$(echo "$prod" | awk '/^tps = / { printf "%.0f", $3 * 10; exit }')
        R[b_prod_$key]=$ev_prod
        R[b_cons_$key]=$(awk '/^events/ { print $8 }' build/bench/bloat_consumer.out)
        R[b_batches_$key]=$(awk '/^events/ { printf "%.0f", $4 / $6 }' build/bench/bloat_consumer.out)
        R[b_cpu_$key]=$(awk '/^events/ { e = $2 } /^backend_cpu_s/ { c = $2 } END { printf "%.1f", (e > 0 && c >= 0) ? c * 1e6 / e : -1 }' build/bench/bloat_consumer.out)
        R[b_slices_$key]=$(awk '/^slice/ { printf "%s%s", sep, $4; sep = " / " }' build/bench/bloat_consumer.out)
        R[b_slcpu_$key]=$(awk '/^slice/ { printf "%s%s", sep, $9; sep = " / " }' build/bench/bloat_consumer.out)
        sleep 2    # let every backend's statistics reach pg_stat_user_tables
        held_age=""
        [ "$hold" != none ] && held_age=$(q -d postgres -c "select age(backend_xmin) from pg_stat_activity where application_name = 'bench_holder'")
        R[b_age_$key]=$held_age
        # measured while the snapshot is still held; the event tables of bloat_q
        qb -F ' ' -c "select pg_stat_force_next_flush()" -c "
            with e as (select s.* from pg_stat_user_tables s, pgque.queue q
                        where q.queue_name = 'bloat_q' and s.schemaname = 'pgque'
                          and s.relname ~ ('^event_' || q.queue_id || '_[0-9]+\$'))
            select (select count(*) from e), coalesce(sum(n_dead_tup), 0),
                   coalesce(sum((pgstattuple(relid)).dead_tuple_count), 0),
                   coalesce(sum(pg_total_relation_size(relid)), 0),
                   (select count(*) from pgque.batch), (select count(*) from pgque.tick)
              from e" >build/bench/bloat_ev.out
        R[b_ev_$key]=$(tail -1 build/bench/bloat_ev.out)
        qb -F '|' -c "
            select s.relname, s.n_live_tup, s.n_dead_tup, (pgstattuple(s.relid)).dead_tuple_count,
                   pg_size_pretty(pg_total_relation_size(s.relid))
              from pg_stat_user_tables s
             where s.schemaname = 'pgque' and s.relname in ($META)
             order by s.relname collate \"C\"" >build/bench/bloat_meta_$key.out
        R[b_rot_$key]=$(qb -c "select queue_cur_table, to_char(now() - queue_switch_time, 'MI:SS') from pgque.queue where queue_name = 'bloat_q'" | tr '|' ' ')
        R[b_backlog_$key]=$(qb -c "select pending_events from pgque.get_consumer_info('bloat_q', 'c')")
        [ "$hold" != none ] && hold_stop
        printf '  %-10s producer %s ev/s, consumer %s ev/s (%s), %s batches/s, backend CPU %s us/event\n' "$key" "$ev_prod" \
            "${R[b_cons_$key]}" "${R[b_slices_$key]}" "${R[b_batches_$key]}" "${R[b_cpu_$key]}" >&2
    }
    bloat_run none none
    bloat_run snapshot snapshot
    bloat_run xid xid
    base=${R[b_cons_none]}
    {
        echo
        echo "## 5. Producer + consumer while another session holds an old snapshot"
        echo
        echo "$((BLOAT_SECS / 60)) min $((BLOAT_SECS % 60)) s per run$([ $full = 0 ] && echo ' (the target is stated for 10 minutes: `bench/run.sh --full` runs 10 min each; the default is shorter so that `make bench` ends within 20 minutes)'). Producer: pgbench, 2 clients, \`send_batch\` of 10 events per transaction at a fixed $BLOAT_TPS transactions/s ($(fmt $((BLOAT_TPS * 10))) events/s). Consumer: one libpq client (bench/consume.c) looping \`receive(queue, consumer, 100)\` (the default max_return) + \`ack\` in one transaction, waiting for the NOTIFY when there is nothing. Worker running (it ticks within ~2 ms of each commit, so batches are small and many: the metadata churn is the point), queue rotation_period 1 minute. Held snapshot: a session that ran \`BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM pgque.queue;\` and stays idle in transaction for the whole run — it holds a snapshot but no xid; the *xid* run also calls \`pg_current_xact_id()\` in it, so it holds an xid as well. While the consumer keeps up, its throughput equals the producer's; its backend CPU per event shows whether each batch got more expensive. Dead tuples are read at the end while the snapshot is still held: \`n_dead_tup\` from pg_stat_user_tables and \`dead_tuple_count\` from pgstattuple (exact). Each run starts the same way: a new queue, VACUUM ANALYZE of the metadata tables, pg_stat_reset()."
        echo
        echo "| run | consumer events/s | ratio to no snapshot | per 30 s | producer events/s | backlog at end | consumer batches/s | consumer backend CPU µs/event | the same per 30 s | holder xmin age (xids) | event tables: n_dead_tup / pgstattuple dead / size | pgque.batch rows / pgque.tick rows | rotation (cur table, time since switch) | target | result |"
        echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
        for k in none snapshot xid; do
            label=$k; [ $k = none ] && label="no held snapshot (baseline)"; [ $k = snapshot ] && label="RR snapshot held (no xid)"; [ $k = xid ] && label="RR snapshot + xid held"
            set -- ${R[b_ev_$k]}
            [ "$1" = 3 ] || { echo "bench: expected 3 event tables of bloat_q, found $1" >&2; exit 1; }
            shift
            r=$(ratio "${R[b_cons_$k]}" "$base")
            tgt=""; v=""
            if [ $k != none ]; then
                tgt=">= 0.90 and 0 dead in event tables"
                v=$(awk -v r="$r" -v d1="$1" -v d2="$2" 'BEGIN { print (r + 0 >= 0.9 && d1 == 0 && d2 == 0) ? "PASS" : "MISS" }')
            fi
            echo "| $label | $(fmt "${R[b_cons_$k]}") | $r | ${R[b_slices_$k]} | $(fmt "${R[b_prod_$k]}") | $(fmt "${R[b_backlog_$k]:-0}") | ${R[b_batches_$k]} | ${R[b_cpu_$k]} | ${R[b_slcpu_$k]} | ${R[b_age_$k]:-} | $1 / $2 / $(awk -v b="$3" 'BEGIN { printf "%.0f MB", b / 1048576 }') | $4 / $5 | ${R[b_rot_$k]} | $tgt | $v |"
        done
        echo
        echo "Metadata tables at the end of each run (n_live_tup, n_dead_tup, pgstattuple dead_tuple_count, total size):"
        echo
        echo "| table | no snapshot | RR snapshot held | RR snapshot + xid held |"
        echo "|---|---|---|---|"
        LC_ALL=C join -t '|' -j 1 build/bench/bloat_meta_none.out build/bench/bloat_meta_snapshot.out |
            LC_ALL=C join -t '|' -j 1 - build/bench/bloat_meta_xid.out |
            awk -F '|' '{ printf "| pgque.%s | %s / %s / %s / %s | %s / %s / %s / %s | %s / %s / %s / %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 }'
    } >>"$out"
    qb -c "set client_min_messages = warning" -c "select pgque.drop_queue('bloat_q', true)" >/dev/null
fi

# ---------------------------------------------------------------- delay
# Delayed delivery: bench/delay.sh uses the pgque installed above, its own
# cluster (fsync always on) and writes delay.md, CSVs and a PNG beside $out.
if want delay; then
    echo "bench: delayed delivery (bench/delay.sh)" >&2
    delay_note=""
    BENCH_OUT=$(dirname "$out") bench/delay.sh $([ $quick = 1 ] && echo --quick) >/dev/null ||
        delay_note=" **bench/delay.sh reported a failure (lost, early or duplicate events, or server errors): see its output.**"
    {
        echo
        echo "## 7. Delayed delivery"
        echo
        echo "bench/delay.sh, on a cluster of its own with fsync on: [delay.md](delay.md) (100,000 events due in one second; 10 minutes of delayed sends against a delete-based table).$delay_note"
    } >>"$out"
fi

elapsed=$(( $(date +%s) - started ))
printf '\nWall time of this run: %d min %02d s.\n' $((elapsed / 60)) $((elapsed % 60)) >>"$out"
cat "$out"
