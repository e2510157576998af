#!/usr/bin/env bash
# make curves: how pgque's cost grows with the work it is given. Four
# curves, each measured on one throwaway cluster and written as a CSV plus
# a PNG (gnuplot, bench/plot/curves_<curve>.gp) into bench/results/:
#
#   queues     1, 100, 1,000, 10,000 queues, min(10, N) of them busy at
#              100 events/s each (bench/latency.c: one producer and one
#              LISTENing consumer per busy queue), the rest idle with one
#              subscription each: worker CPU, ticks/s, end-to-end p99,
#              pgque's shared memory and the worker's memory, loaded and idle
#   consumers  1, 10, 100 subscriptions on one queue: producer throughput
#              (pgbench, send_batch of 100, full speed) alone and while
#              every subscription's consumer runs (bench/consume.c), and
#              the consumers' total events/s
#   backlog    1M, 10M, 50M events pending: drain rate with receive/ack and
#              with next_batch/get_batch_events, and disk use of the event
#              tables; the backlog grows in place from one size to the next
#   batch      events/s vs receive's max_return 1 ... 10,000 (receive + ack
#              draining a 1M backlog), synchronous_commit on and off
#
#   bench/curves.sh [--only queues,consumers,backlog,batch] [--quick]
#                   [--backlog 1000000,10000000,25000000] [--plot-only]
#
#   --quick      short windows and small sizes, to try the script out
#   --backlog    backlog sizes (events, ascending); the default stops at 25M
#                so that the whole run ends in about 30 minutes on 2 cores;
#                --backlog 1000000,10000000,50000000 adds ~5 minutes
#   --plot-only  only redraw the PNGs from the CSVs in bench/results
# Environment: CURVES_PORT (54386), PGBIN (test/lib/cluster.sh; when it
# points into a copy of the server tree, e.g. /opt/pgpriv/NAME/usr/lib/
# postgresql/15/bin, pgque is installed into that copy with DESTDIR, not
# into the system's tree), CURVES_LOAD_SECS, CURVES_IDLE_SECS,
# CURVES_ROUNDS, CURVES_T.
#
# Each CSV starts with '#' lines that say where its figures come from
# (commit, date, machine load, run time). The machine has 2 cores and is
# shared: absolute numbers move between runs; compare points of one curve,
# measured in one run. Raw tool output goes to build/bench/curves.log.
set -euo pipefail
cmdline="bench/curves.sh $*"
cd "$(dirname "$0")/.."
source test/lib/cluster.sh
source bench/lib/install.sh

only="queues,consumers,backlog,batch"
quick=0
plot_only=0
backlog_sizes="1000000,10000000,25000000"
while [ $# -gt 0 ]; do
    case $1 in
        --only) only=$2; shift ;;
        --quick) quick=1 ;;
        --backlog) backlog_sizes=$2; shift ;;
        --plot-only) plot_only=1 ;;
        *) echo "usage: $0 [--only queues,consumers,backlog,batch] [--quick] [--backlog N,N,...] [--plot-only]" >&2; exit 2 ;;
    esac
    shift
done
want() { [[ ",$only," == *",$1,"* ]]; }

OUT=bench/results
QUEUE_COUNTS="1 100 1000 10000"
LOAD_SECS=30       # each loaded window of the queues curve
IDLE_SECS=60       # the idle window: one whole ticker_idle_period (1 minute)
ROUNDS=2
T=15               # pgbench -T of the consumers curve
CONSUMER_COUNTS="1 10 100"
BATCH_EVENTS=1000000
MAX_RETURNS="1 10 100 1000 10000"
if [ $quick = 1 ]; then
    QUEUE_COUNTS="1 100 1000"; LOAD_SECS=8; IDLE_SECS=8; ROUNDS=1; T=5
    CONSUMER_COUNTS="1 10"; BATCH_EVENTS=100000; backlog_sizes="100000,300000"
fi
LOAD_SECS=${CURVES_LOAD_SECS:-$LOAD_SECS}; IDLE_SECS=${CURVES_IDLE_SECS:-$IDLE_SECS}
ROUNDS=${CURVES_ROUNDS:-$ROUNDS}; T=${CURVES_T:-$T}

plot() {   # curve
    gnuplot -e "dir='$OUT'" "bench/plot/curves_$1.gp"
    echo "curves: wrote $OUT/curves_$1.png" >&2
}

test/deps.sh --bench
if [ $plot_only = 1 ]; then
    for c in queues consumers backlog batch; do
        want $c && [ -f "$OUT/curves_$c.csv" ] && plot $c
    done
    exit 0
fi

bench_install curves
mkdir -p build/bench "$OUT"
CFLAGS_PQ="-O2 -Wall -I$(pg_config --includedir)"
cc $CFLAGS_PQ -o build/bench/latency bench/latency.c -lpq -lpthread
cc $CFLAGS_PQ -o build/bench/consume bench/consume.c -lpq

C=curves
PORT=${CURVES_PORT:-54386}
cluster_init $C "$PORT" "fsync = on" "synchronous_commit = on" "shared_buffers = 512MB" \
    "max_wal_size = 8GB" "checkpoint_timeout = 30min" "max_connections = 250"
cluster_start $C
bg_pids=()
cleanup() {
    local p
    for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null || true; done
    cluster_stop $C
}
trap cleanup EXIT
H=$(cluster_dir $C)
log=build/bench/curves.log
: >"$log"
q() { cluster_psql $C -At "$@"; }
qb() { q -d bench "$@"; }
q -d postgres -c "create database bench"
qb -c "create extension pgque"
DSN=$(cluster_dsn $C bench)

PAYLOAD="bench-payload-0123456789-abcdefghijklmnopqrstuvwx"
PAYLOAD="${PAYLOAD:0:50}"
arr_of() { local n=$1 a="" i; for ((i = 0; i < n; i++)); do a+="${a:+,}$PAYLOAD"; done; echo "{$a}"; }
ARR100=$(arr_of 100)

worker_pid() { qb -c "select pid from pg_stat_activity where backend_type = 'pgque worker' and datname = 'bench'"; }
worker_stop() {
    qb -c "select pgque.stop()" >/dev/null
    for _ in $(seq 100); do [ -z "$(worker_pid)" ] && return 0; sleep 0.1; done
}
worker_start() {
    qb -c "select pgque.start()" >/dev/null
    for _ in $(seq 100); do [ -n "$(worker_pid)" ] && return 0; sleep 0.1; done
    echo "curves: the pgque worker did not start" >&2; return 1
}
worker_start
cpu_jiffies() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat; }
median() { tr ' ' '\n' | awk 'NF' | sort -g | awk '{ v[NR] = $1 } END { if (NR) printf "%.3f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
drop_queue() { qb -c "set client_min_messages = warning" -c "select pgque.drop_queue(queue_name, true) from pgque.queue where queue_name = '$1'" >/dev/null; }
fresh_queue() { drop_queue "$1"; qb -c "select pgque.create_queue('$1')" >/dev/null; }
# events tables of a queue: total size in bytes
event_bytes() {
    qb -c "select coalesce(sum(pg_total_relation_size(c.oid)), 0) from pg_class c, pgque.queue q
            where q.queue_name = '$1' and c.relnamespace = 'pgque'::regnamespace
              and c.relname ~ ('^event_' || q.queue_id || '_[0-9]+\$')"
}

# '#' lines at the top of each CSV: where its numbers come from
csv_header() {   # file curve-description
    {
        echo "# $2"
        echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores (shared with other work: absolute numbers are noisy, compare points of this file), PostgreSQL $(q -d postgres -c 'show server_version'), fsync and synchronous_commit on, shared_buffers 512MB"
        echo "# pgque: $build_note (pgque.so md5 $(md5sum "$so" | cut -c1-12)); tree at $(git rev-parse --short HEAD)"
        echo "# command: $cmdline; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    } >"$1"
}
csv_footer() {   # file started
    local s=$(( $(date +%s) - $2 ))
    echo "# run time: $((s / 60)) min $((s % 60)) s; load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$1"
}

# ---------------------------------------------------------------- queues
# The worker's cost with many queues. Per N: the busy queues busy_0.. and
# idle queues idle_0.. (one subscription each) add up to N. An idle window
# first (nothing sent), then ROUNDS loaded windows in which every busy
# queue gets 100 events/s from its own bench/latency process.
worker_sample() {   # -> "cpu_jiffies ticks"
    local pid
    pid=$(worker_pid)
    echo "$(awk '{ print $14 + $15 }' "/proc/$pid/stat") $(qb -c "select ticks from pgque._worker_status()")"
}
worker_mem() {   # -> "rss_kb pss_kb private_kb"
    awk '/^Rss:/ { r = $2 } /^Pss:/ { p = $2 } /^Private_(Clean|Dirty):/ { v += $2 } END { print r, p, v }' \
        "/proc/$(worker_pid)/smaps_rollup"
}
pgque_shmem() { q -d postgres -c "select sum(allocated_size) from pg_shmem_allocations where name like 'pgque%'"; }
n_idle=0
add_idle_queues() {   # target count of idle queues
    local target=$1
    [ "$target" -le "$n_idle" ] && return 0
    qb <<SQL >/dev/null
set client_min_messages = warning;
do \$\$
begin
    for i in $n_idle..$((target - 1)) loop
        perform pgque.create_queue('idle_' || i);
        perform pgque.subscribe('idle_' || i, 'c');
        if i % 100 = 99 then commit; end if;
    end loop;
end \$\$;
SQL
    n_idle=$target
}
if want queues; then
    started=$(date +%s)
    csv=$OUT/curves_queues.csv
    csv_header "$csv" "queues curve: N queues, min(10, N) busy at 100 events/s each (bench/latency.c, one send per transaction, one LISTENing receive/ack consumer each), the rest idle with one subscription; idle window ${IDLE_SECS} s, loaded windows ${LOAD_SECS} s x $ROUNDS rounds; worker CPU = utime+stime of the pgque worker (/proc/PID/stat); ticks = pgque._worker_status().ticks; memory of the worker from /proc/PID/smaps_rollup at the end of the window; shmem = pg_shmem_allocations named pgque%"
    echo "queues,busy,idle,phase,round,secs,worker_cpu_ms_per_s,ticks_per_s,p50_ms_median,p99_ms_median,p99_ms_max,missing,shmem_bytes,rss_kb,pss_kb,private_kb" >>"$csv"
    for n in $QUEUE_COUNTS; do
        busy=$((n < 10 ? n : 10))
        t0=$(date +%s)
        add_idle_queues $((n - busy))
        echo "curves: queues $n ($busy busy, $((n - busy)) idle; $(( $(date +%s) - t0 )) s to create)" >&2
        for ((i = 0; i < busy; i++)); do
            qb -c "set client_min_messages = warning" -c "select pgque.create_queue('busy_$i')" -c "select pgque.subscribe('busy_$i', 'bench')" >/dev/null
        done
        q -d postgres -c "checkpoint" >/dev/null
        sleep 2
        # idle: nothing is sent
        read -r c0 k0 < <(worker_sample)
        sleep "$IDLE_SECS"
        read -r c1 k1 < <(worker_sample)
        read -r rss pss priv < <(worker_mem)
        echo "$n,$busy,$((n - busy)),idle,1,$IDLE_SECS,$(awk -v c=$((c1 - c0)) -v s="$IDLE_SECS" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", c * 1000 / hz / s }'),$(awk -v k=$((k1 - k0)) -v s="$IDLE_SECS" 'BEGIN { printf "%.1f", k / s }'),,,,,$(pgque_shmem),$rss,$pss,$priv" >>"$csv"
        for ((r = 1; r <= ROUNDS; r++)); do
            lat_pids=()
            for ((i = 0; i < busy; i++)); do
                build/bench/latency --dsn "$DSN" --queue "busy_$i" --rate 100 --seconds $((LOAD_SECS + 6)) --idle 1 \
                    >"build/bench/curves_lat_$i.out" 2>&1 &
                lat_pids+=($!); bg_pids+=($!)
            done
            sleep 3   # the queues are recreated and the producers start
            read -r c0 k0 < <(worker_sample)
            sleep "$LOAD_SECS"
            read -r c1 k1 < <(worker_sample)
            read -r rss pss priv < <(worker_mem)
            for p in "${lat_pids[@]}"; do wait "$p" || true; done
            bg_pids=()
            p50s=""; p99s=""; miss=0
            for ((i = 0; i < busy; i++)); do
                echo "== queues $n round $r busy_$i: $(tr '\n' ' ' <"build/bench/curves_lat_$i.out")" >>"$log"
                p50s+=" $(awk '/^latency_ms/ { print $3 }' "build/bench/curves_lat_$i.out")"
                p99s+=" $(awk '/^latency_ms/ { print $7 }' "build/bench/curves_lat_$i.out")"
                miss=$((miss + $(awk '/missing/ { print $NF + 0 }' "build/bench/curves_lat_$i.out")))
            done
            p99max=$(echo $p99s | tr ' ' '\n' | sort -g | tail -1)
            row="$n,$busy,$((n - busy)),load,$r,$LOAD_SECS,$(awk -v c=$((c1 - c0)) -v s="$LOAD_SECS" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", c * 1000 / hz / s }'),$(awk -v k=$((k1 - k0)) -v s="$LOAD_SECS" 'BEGIN { printf "%.1f", k / s }'),$(echo $p50s | median),$(echo $p99s | median),$p99max,$miss,$(pgque_shmem),$rss,$pss,$priv"
            echo "$row" >>"$csv"
            echo "  $row" >&2
            # latency drops its queue at the end: put it back for the next window
            for ((i = 0; i < busy; i++)); do
                qb -c "set client_min_messages = warning" -c "select pgque.create_queue('busy_$i')" -c "select pgque.subscribe('busy_$i', 'bench')" >/dev/null
            done
        done
    done
    csv_footer "$csv" "$started"
    for ((i = 0; i < 10; i++)); do drop_queue "busy_$i"; done
    plot queues
fi

# ---------------------------------------------------------------- consumers
# N subscriptions on one queue. "alone": the producer runs with N
# subscriptions and no consumer running; "with": N bench/consume processes
# follow the queue (receive 1,000 + ack, waiting for the NOTIFY when there
# is nothing) while the producer runs. The queue is new for every run.
if want consumers; then
    started=$(date +%s)
    csv=$OUT/curves_consumers.csv
    csv_header "$csv" "consumers curve: one queue with N subscriptions; producer = pgbench, 4 clients (-j 2), -M prepared, send_batch of 100 x 50-byte payloads per transaction, ${T} s; phase alone = no consumer running, with = N bench/consume processes (receive max_return 1000 + ack per transaction, LISTEN when empty) for the same ${T} s; $ROUNDS rounds interleaved"
    echo "consumers,phase,round,producer_ev_per_s,consumer_total_ev_per_s,consumer_min_ev_per_s,consumer_max_ev_per_s,pending_max_at_end,machine_busy_pct" >>"$csv"
    cons_run() {   # n phase round
        local n=$1 phase=$2 r=$3 i res tps b0 t0j b1 t1j pids=() total min max pend
        fresh_queue bench_q
        qb -c "select count(pgque.subscribe('bench_q', 'c' || i)) from generate_series(1, $n) i" >/dev/null
        q -d postgres -c "checkpoint" >/dev/null
        if [ "$phase" = with ]; then
            for ((i = 1; i <= n; i++)); do
                build/bench/consume --dsn "$DSN" --mode pgque-receive --queue bench_q --consumer "c$i" --max 1000 \
                    --seconds "$T" --report 1000 >"build/bench/curves_cons_$i.out" 2>&1 &
                pids+=($!); bg_pids+=($!)
            done
            sleep 1
        fi
        read -r b0 t0j < <(cpu_jiffies)
        res=$(pgbench -n -M prepared -c 4 -j 2 -T "$T" -h "$H" -p "$PORT" -U postgres \
            -D "arr=$ARR100" -f bench/pgbench/send_batch.sql bench 2>&1) ||
            { echo "$res" >&2; echo "curves: pgbench failed" >&2; exit 1; }
        read -r b1 t1j < <(cpu_jiffies)
        echo "== consumers $n $phase $r pgbench" >>"$log"; echo "$res" >>"$log"
        tps=$(echo "$res" | awk '/^tps = / { printf "%.0f", $3 * 100; exit }')
        total=""; min=""; max=""
        if [ "$phase" = with ]; then
            for p in "${pids[@]}"; do wait "$p" || true; done
            bg_pids=()
            read -r total min max < <(for ((i = 1; i <= n; i++)); do awk '/^events/ { print $8 }' "build/bench/curves_cons_$i.out"; done |
                awk 'NR == 1 { mn = $1; mx = $1 } { s += $1; if ($1 < mn) mn = $1; if ($1 > mx) mx = $1 } END { printf "%.0f %.0f %.0f\n", s, mn, mx }')
            cat build/bench/curves_cons_1.out >>"$log"
        fi
        pend=$(qb -c "select coalesce(max(pending_events), 0) from pgque.get_consumer_info('bench_q')")
        echo "$n,$phase,$r,$tps,$total,$min,$max,$pend,$(( (b1 - b0) * 100 / (t1j - t0j) ))" >>"$csv"
        echo "  consumers $n $phase: producer $tps ev/s, consumers total ${total:-} ev/s (min ${min:-}), pending $pend" >&2
    }
    for ((r = 1; r <= ROUNDS; r++)); do
        for n in $CONSUMER_COUNTS; do
            cons_run "$n" alone "$r"
            cons_run "$n" with "$r"
        done
    done
    drop_queue bench_q
    csv_footer "$csv" "$started"
    plot consumers
fi

# ---------------------------------------------------------------- backlog
# Fill: send_batch of 1,000 events, 10 per transaction, then a manual tick:
# one tick per 10,000 events (worker stopped, so no idle ticks or rotation
# interfere). Both consumers are rewound to the first tick before each
# drain. The first drain at each size (receive) also sets the hint bits of
# the rows it reads (unmeasured warm pass for the others; its rate is
# recorded as phase "first").
fill() {   # queue events
    local n=$(( $2 / 10000 ))
    qb <<SQL >/dev/null
do \$\$
declare arr text[] := array(select '$PAYLOAD'::text from generate_series(1, 1000));
begin
    for i in 1..$n loop
        for j in 1..10 loop perform pgque.send_batch('$1', arr); end loop;
        commit;
        if pgque.ticker('$1') is null then raise 'no tick'; end if;
        commit;
    end loop;
end \$\$;
SQL
}
sub_tick() { qb -c "select sub_last_tick from pgque.subscription s join pgque.consumer c on c.co_id = s.sub_consumer join pgque.queue q on q.queue_id = s.sub_queue where c.co_name = '$2' and q.queue_name = '$1'"; }
drain() {   # queue consumer tick0 mode max expect -> "events events_per_s backend_cpu_s"
    local res
    qb -c "select pgque.register_consumer_at('$1', '$2', $3)" >/dev/null
    res=$(build/bench/consume --dsn "$DSN" --mode "$4" --queue "$1" --consumer "$2" --max "$5" ${6:+--expect "$6"})
    echo "== drain $*: $(echo "$res" | tr '\n' ' ')" >>"$log"
    echo "$res" | awk '/^events/ { e = $2; r = $8 } /^backend_cpu_s/ { c = $2 } END { print e, r, c }'
}
if want backlog; then
    started=$(date +%s)
    csv=$OUT/curves_backlog.csv
    csv_header "$csv" "backlog curve: one queue filled to N pending events (50-byte payload; send_batch of 1,000, one tick per 10,000 events, worker stopped; the backlog grows in place from one size to the next), then drained by one libpq client (bench/consume.c, every column of every row read in text format): receive(q, c, 10000) + ack, or next_batch / get_batch_events / finish_batch; method first = the first receive drain at this size (sets hint bits), then $ROUNDS rounds interleaved; disk = pg_total_relation_size summed over the queue's event tables"
    echo "events,method,round,events_per_s,backend_cpu_s,event_table_bytes,fill_events_per_s" >>"$csv"
    worker_stop
    fresh_queue backlog_q
    qb -c "select pgque.set_queue_config('backlog_q', 'ticker_max_count', '5000')" \
       -c "select pgque.subscribe('backlog_q', 'c_receive')" -c "select pgque.subscribe('backlog_q', 'c_batch')" >/dev/null
    tr0=$(sub_tick backlog_q c_receive); tb0=$(sub_tick backlog_q c_batch)
    have=0
    for size in ${backlog_sizes//,/ }; do
        t0=$(date +%s.%N)
        fill backlog_q $((size - have))
        t1=$(date +%s.%N)
        frate=$(awk -v a="$t0" -v b="$t1" -v n=$((size - have)) 'BEGIN { printf "%.0f", n / (b - a) }')
        have=$size
        q -d postgres -c "checkpoint" >/dev/null
        bytes=$(event_bytes backlog_q)
        echo "curves: backlog $size events ($bytes bytes of event tables, filled at $frate ev/s)" >&2
        read -r ev v c < <(drain backlog_q c_receive "$tr0" pgque-receive 10000 "")
        [ "$ev" = "$size" ] || { echo "curves: drain read $ev events, expected $size" >&2; exit 1; }
        echo "$size,first,1,$v,$c,$bytes,$frate" >>"$csv"
        echo "  first pass (receive): $v ev/s" >&2
        for ((r = 1; r <= ROUNDS; r++)); do
            read -r ev v c < <(drain backlog_q c_receive "$tr0" pgque-receive 10000 "")
            [ "$ev" = "$size" ] || { echo "curves: drain read $ev events, expected $size" >&2; exit 1; }
            echo "$size,receive,$r,$v,$c,$bytes,$frate" >>"$csv"
            echo "  receive/ack: $v ev/s" >&2
            read -r ev v c < <(drain backlog_q c_batch "$tb0" pgque-batch 10000 "")
            [ "$ev" = "$size" ] || { echo "curves: drain read $ev events, expected $size" >&2; exit 1; }
            echo "$size,next_batch,$r,$v,$c,$bytes,$frate" >>"$csv"
            echo "  next_batch/get_batch_events: $v ev/s" >&2
        done
    done
    drop_queue backlog_q
    worker_start
    csv_footer "$csv" "$started"
    plot backlog
fi

# ---------------------------------------------------------------- batch
# receive + ack with max_return 1 .. 10,000 over a 1M backlog in ticks of
# 10,000; small max_returns read a prefix of it (--expect) so that each
# point takes seconds, not hours. synchronous_commit off (for the
# consumer's session only) shows the CPU cost without the WAL flush of
# every ack.
if want batch; then
    started=$(date +%s)
    csv=$OUT/curves_batch.csv
    csv_header "$csv" "batch-size curve: receive(q, c, max_return) + ack in one transaction per call, one libpq client (bench/consume.c), draining a $BATCH_EVENTS-event backlog in ticks of 10,000 (worker stopped); max_return 1 reads the first 20,000 events, 10 the first 100,000, larger ones all; synchronous_commit of the consumer's session on (default) or off; after one unmeasured warm pass; $ROUNDS rounds interleaved"
    echo "max_return,synchronous_commit,round,events,events_per_s,backend_us_per_event" >>"$csv"
    worker_stop
    fresh_queue batch_q
    qb -c "select pgque.set_queue_config('batch_q', 'ticker_max_count', '5000')" -c "select pgque.subscribe('batch_q', 'c')" >/dev/null
    tk0=$(sub_tick batch_q c)
    fill batch_q "$BATCH_EVENTS"
    q -d postgres -c "checkpoint" >/dev/null
    drain batch_q c "$tk0" pgque-receive 10000 "" >/dev/null
    for ((r = 1; r <= ROUNDS; r++)); do
        for m in $MAX_RETURNS; do
            case $m in 1) e=20000 ;; 10) e=100000 ;; *) e=$BATCH_EVENTS ;; esac
            [ "$e" -gt "$BATCH_EVENTS" ] && e=$BATCH_EVENTS
            for sc in on off; do
                read -r ev v c < <(PGOPTIONS="-c synchronous_commit=$sc" drain batch_q c "$tk0" pgque-receive "$m" "$e")
                [ "$ev" -ge "$e" ] || { echo "curves: drain read $ev events, expected $e" >&2; exit 1; }
                us=$(awk -v c="$c" -v e="$ev" 'BEGIN { printf "%.2f", c * 1e6 / e }')
                echo "$m,$sc,$r,$ev,$v,$us" >>"$csv"
                echo "  max_return $m, synchronous_commit $sc: $v ev/s, backend $us us/event" >&2
            done
        done
    done
    drop_queue batch_q
    worker_start
    csv_footer "$csv" "$started"
    plot batch
fi
