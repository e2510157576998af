#!/usr/bin/env bash
# Delayed delivery (send_at): how late due events arrive, and what waiting
# events cost in storage. Uses the installed pgque (builds only the client
# bench/delay.c); its own cluster, fsync and synchronous_commit on.
#
#   bench/delay.sh [--quick]
#
# A. precision: BENCH_DELAY_EVENTS (100,000) events sent with send_batch_at,
#    1,000 per transaction, all due at the same second T; a consumer
#    receives them (receive 10,000 + ack). Lateness = arrival - T. Rounds:
#    BENCH_DELAY_ROUNDS (3).
# B. storage: for BENCH_DELAY_SECS (600) a producer sends BENCH_DELAY_RATE
#    (1,000) events/s, one per transaction, due 1-120 s later (1% 1-3 h
#    later), and a consumer takes them as they come due; then
#    BENCH_DELAY_TAIL (180) s without the producer. Every 10 s: the storage
#    of waiting events, its dead tuples (pg_stat_user_tables and
#    pgstattuple), what waits, and how late deliveries were. Once with
#    pgque's delay buckets and once with a delete-based baseline (one table
#    with an index on the due time; a mover deletes what is due every 50 ms
#    and inserts it into a plain table), one after the other on the same
#    cluster.
#
# --quick: 60 s + 60 s, 20,000 events, one round (trying the script out).
# Results: $BENCH_OUT (a directory, default bench/results) gets delay.md,
# delay_precision.csv, delay_bloat_pgque.csv, delay_bloat_delete.csv and
# delay_bloat.png. The cluster (BENCH_DELAY_CLUSTER, default bench-delay, on
# port BENCH_DELAY_PORT, default 54362) is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh

quick=0
while [ $# -gt 0 ]; do
    case $1 in
        --quick) quick=1 ;;
        *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
    esac
    shift
done
EVENTS=100000; ROUNDS=3; SECS=600; TAIL=180
if [ $quick = 1 ]; then EVENTS=20000; ROUNDS=1; SECS=60; TAIL=60; fi
EVENTS=${BENCH_DELAY_EVENTS:-$EVENTS}
ROUNDS=${BENCH_DELAY_ROUNDS:-$ROUNDS}
SECS=${BENCH_DELAY_SECS:-$SECS}
TAIL=${BENCH_DELAY_TAIL:-$TAIL}
RATE=${BENCH_DELAY_RATE:-1000}
LONG_PCT=1          # percent of events due 1-3 hours later
INTERVAL=10         # seconds between samples
C=${BENCH_DELAY_CLUSTER:-bench-delay}
PORT=${BENCH_DELAY_PORT:-54362}
OUT=${BENCH_OUT:-bench/results}
case $OUT in *.md) OUT=$(dirname "$OUT") ;; esac
started=$(date +%s)

test/deps.sh --bench
mkdir -p build/bench "$OUT"
cc -O2 -Wall -I"$(pg_config --includedir)" -o build/bench/delay bench/delay.c -lpq -lpthread -lm

# track_commit_timestamp: when the moved events committed (section A)
cluster_init "$C" "$PORT" "fsync = on" "synchronous_commit = on" "shared_buffers = 512MB" \
    "max_wal_size = 8GB" "checkpoint_timeout = 30min" "track_commit_timestamp = on"
cluster_start "$C"
trap 'cluster_stop "$C"' EXIT
H=$(cluster_dir "$C")
log=build/bench/delay.log
: >"$log"
q() { cluster_psql "$C" -d bench -At "$@"; }
q -d postgres -c "create database bench"
q -c "create extension pgque" -c "create extension pgstattuple"
for _ in $(seq 100); do
    [ "$(q -c "select count(*) from pg_stat_activity where backend_type = 'pgque worker' and datname = 'bench'")" = 1 ] && break
    sleep 0.1
done
DSN=$(cluster_dsn "$C" bench)
so=$(pg_config --pkglibdir)/pgque.so
script=$(pg_config --sharedir)/extension/pgque--$(q -c "select extversion from pg_extension where extname = 'pgque'").sql
build_note="pgque $(q -c "select extversion from pg_extension where extname = 'pgque'") as installed (pgque.so md5 $(md5sum "$so" | cut -c1-12), installed $(date -u -r "$so" '+%H:%M UTC'); install script md5 $(md5sum "$script" | cut -c1-12)); working tree at $(git rev-parse --short HEAD)"
load_at() { cut -d' ' -f1-3 /proc/loadavg; }
load_start=$(load_at)

reset_queue() {   # queue
    q -c "set client_min_messages = warning" \
      -c "select pgque.drop_queue(queue_name, true) from pgque.queue where queue_name = '$1'" \
      -c "select pgque.create_queue('$1')" -c "select pgque.subscribe('$1', 'c')" -c "checkpoint" >/dev/null
}
median() { tr ' ' '\n' | awk 'NF' | sort -g | awk '{ v[NR] = $1 } END { if (NR) printf "%.0f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
fmt() {   # 1234567.8 -> 1,234,568
    awk -v v="$1" 'BEGIN { if (v == "") { print ""; exit } s = sprintf("%.0f", v); r = ""; neg = s ~ /^-/; if (neg) s = substr(s, 2)
        while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
        print (neg ? "-" : "") s r }'
}
kv() { echo "$1" | awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'; }

# ---------------------------------------------------------------- A
echo "delay: precision, $EVENTS events due in one second, $ROUNDS rounds" >&2
pcsv=$OUT/delay_precision.csv
echo "round,t_due,send_s,send_done_before_t_s,move_start_ms,moved_commit_ms,move_ms,move_xacts,in_stream_ms,first_ms,p50_ms,p99_ms,max_ms,received,dups,early" >"$pcsv"
declare -A A
fails=0
for ((r = 1; r <= ROUNDS; r++)); do
    reset_queue prec_q
    rc=0
    res=$(build/bench/delay precision --dsn "$DSN" --queue prec_q --consumer c --events "$EVENTS" --chunk 1000 --ahead 10) ||
        rc=$?
    [ $rc = 0 ] || { echo "$res" >&2; echo "delay: precision round $r failed (exit $rc)" >&2; fails=1; }
    echo "== precision $r" >>"$log"; echo "$res" >>"$log"
    t_due=$(kv "$res" due)
    # when the moved events committed (one transaction?) and the first tick
    # that shows them to consumers committed
    read -r n xacts c_min c_max xid_max < <(q -F ' ' <<SQL
select string_agg(format('select xmin from pgque.%I', c.relname), ' union all ') as evq
  from pg_class c join pg_namespace n on n.oid = c.relnamespace, pgque.queue qq
 where n.nspname = 'pgque' and qq.queue_name = 'prec_q' and c.relkind = 'r'
   and c.relname ~ ('^event_' || qq.queue_id || '_[0-9]+\$') \gset
select count(*), count(distinct xmin::text),
       round(extract(epoch from min(pg_xact_commit_timestamp(xmin))) * 1000 - $t_due * 1000.0, 1),
       round(extract(epoch from max(pg_xact_commit_timestamp(xmin))) * 1000 - $t_due * 1000.0, 1),
       max(xmin::text::bigint)
  from (:evq) e;
SQL
)
    in_stream=$(q -c "select round(extract(epoch from min(pg_xact_commit_timestamp(t.xmin))) * 1000 - $t_due * 1000.0, 1)
                        from pgque.tick t join pgque.queue qq on qq.queue_id = t.tick_queue
                       where qq.queue_name = 'prec_q' and pg_visible_in_snapshot('$xid_max'::xid8, t.tick_snapshot)")
    move_start=$(kv "$res" move_start_ms)
    move_ms=$(awk -v a="$move_start" -v b="$c_max" 'BEGIN { if (a == "nan" || b == "") print ""; else printf "%.1f", b - a }')
    send_s=$(echo "$res" | awk '/^sent/ { print $4 }')
    before=$(echo "$res" | awk '/^sent/ { print $7 }')
    late=$(echo "$res" | grep '^late_ms')
    recv=$(echo "$res" | grep '^received')
    row="$r,$(date -u -d "@$t_due" '+%H:%M:%S'),$send_s,$before,$move_start,$c_max,$move_ms,$xacts,$in_stream,$(kv "$res" first_ms),$(kv "$late" p50),$(kv "$late" p99),$(kv "$late" max),$(kv "$recv" received),$(kv "$recv" dups),$(kv "$recv" early)"
    echo "$row" >>"$pcsv"
    [ "$n" = "$EVENTS" ] || { echo "delay: round $r: the queue's event tables hold $n events, expected $EVENTS" >&2; fails=1; }
    echo "  round $r: move began +$move_start ms, committed +$c_max ms ($xacts transaction(s)), in stream +$in_stream ms; lateness p50 $(kv "$late" p50) p99 $(kv "$late" p99) max $(kv "$late" max) ms" >&2
    for k in move_start c_max move_ms in_stream; do A[$k]="${A[$k]:-} ${!k}"; done
    A[first]="${A[first]:-} $(kv "$res" first_ms)"
    A[p50]="${A[p50]:-} $(kv "$late" p50)"; A[p99]="${A[p99]:-} $(kv "$late" p99)"; A[max]="${A[max]:-} $(kv "$late" max)"
done
q -c "set client_min_messages = warning" -c "select pgque.drop_queue('prec_q', true)" >/dev/null

# ---------------------------------------------------------------- B
q <<'SQL'
create sequence bench_delay_seq;
-- the rows of a pgque delay bucket, in one table with an index on the due
-- time; default autovacuum
create table bench_delay (like pgque.delay_template);
create index on bench_delay (ev_deliver_at);
create table bench_delivered (like pgque.delay_template, moved_at timestamptz not null);
SQL
declare -A B
bloat_run() {   # design producer-script
    local design=$1 script=$2 csv=$OUT/delay_bloat_$1.csv prod fol
    echo "delay: storage, $design: ${SECS}s at $RATE events/s, then ${TAIL}s" >&2
    if [ "$design" = pgque ]; then
        # start from no bucket in use: the last precision round's bucket is
        # freed once its minute is over
        for _ in $(seq 150); do
            [ "$(q -c "select count(*) from pgque.delay_bucket where db_from is not null")" = 0 ] && break
            sleep 1
        done
        reset_queue delay_q
    else
        q -c "checkpoint" >/dev/null
    fi
    build/bench/delay follow --dsn "$DSN" --design "$design" --queue delay_q --consumer c \
        --seconds $((SECS + TAIL)) --interval $INTERVAL --csv "$csv" >build/bench/delay_follow.out &
    fol=$!
    prod=$(pgbench -n -M prepared -c 4 -j 2 -R "$RATE" -T "$SECS" -h "$H" -p "$PORT" -U postgres \
        -D long_pct=$LONG_PCT -f "bench/pgbench/$script" bench 2>&1) || { echo "$prod" >&2; return 1; }
    wait $fol || { cat build/bench/delay_follow.out >&2; echo "delay: the $design consumer failed" >&2; fails=1; }
    echo "== storage $design producer" >>"$log"; echo "$prod" >>"$log"
    echo "== storage $design consumer" >>"$log"; cat build/bench/delay_follow.out >>"$log"
    B[sent_$design]=$(echo "$prod" | awk '/actually processed/ { print $NF }')
    B[rate_$design]=$(echo "$prod" | awk '/^tps = / { printf "%.0f", $3 }')
    B[lag_$design]=$(echo "$prod" | awk '/schedule lag/ { print $6 " / " $8 }' | tr -d ')')
    B[held_$design]=$(awk '/^held/ { print $2 }' build/bench/delay_follow.out)
    B[early_$design]=$(awk '/^held/ { print $4 }' build/bench/delay_follow.out)
    B[dups_$design]=$(awk '/^held/ { print $6 }' build/bench/delay_follow.out)
    B[late_$design]=$(awk '/^late_ms/ { print $3 " / " $5 " / " $7 }' build/bench/delay_follow.out)
    B[pending_$design]=$(awk '/^pending/ { print $2 }' build/bench/delay_follow.out)
    printf '  %s: sent %s (%s/s), held %s, pending %s, early %s, dups %s, lateness p50/p99/max %s ms\n' "$design" \
        "${B[sent_$design]}" "${B[rate_$design]}" "${B[held_$design]}" "${B[pending_$design]}" \
        "${B[early_$design]}" "${B[dups_$design]}" "${B[late_$design]}" >&2
    if [ "${B[held_$design]}" != "" ] && [ $((B[held_$design] + B[pending_$design])) != "${B[sent_$design]}" ]; then
        echo "delay: $design: held ${B[held_$design]} + pending ${B[pending_$design]} != sent ${B[sent_$design]}" >&2
        fails=1
    fi
}
bloat_run pgque delay_send_at.sql
bloat_run delete delay_insert.sql
# pgque.stop() at the end of the pgque run ends the worker with a FATAL
server_errors() {
    grep -E '(ERROR|FATAL|PANIC):' "$H/server.log" |
        grep -v 'terminating background worker "pgque worker" due to administrator command' || true
}
errors=$(server_errors | grep -c . || true)
load_end=$(load_at)

# ---------------------------------------------------------------- plot
png=$OUT/delay_bloat.png
gnuplot <<GP
set terminal pngcairo size 1000,1150 font ",10" noenhanced
set output "$png"
set linetype 1 lc rgb "#7b2cbf" lw 2
set linetype 2 lc rgb "#c77dff" lw 1
set linetype 3 lc rgb "#2a9d8f" lw 2
set linetype 4 lc rgb "#52796f" lw 1.5 dt 2
set datafile separator ","
set key top left opaque box
set grid
set xlabel "minutes (producer stops at the dashed line)"
set xrange [0:$((SECS + TAIL))/60.0]
set arrow 1 from $SECS/60.0, graph 0 to $SECS/60.0, graph 1 nohead dt 2
set multiplot layout 3,1 title "Delayed events at $RATE/s, due 1-120 s later ($LONG_PCT% 1-3 h): pgque delay buckets vs a delete-based table"
set title "Storage of waiting events (tables + indexes)"
set ylabel "MB"
plot "$OUT/delay_bloat_pgque.csv" using (\$1/60):(\$5/1048576) skip 1 with lines lt 1 title "pgque: delay_<n> tables", \
     "$OUT/delay_bloat_delete.csv" using (\$1/60):(\$5/1048576) skip 1 with lines lt 3 title "delete-based table"
set title "Dead tuples in the storage of waiting events"
set ylabel "dead tuples"
plot "$OUT/delay_bloat_pgque.csv" using (\$1/60):8 skip 1 with lines lt 1 title "pgque: delay_<n> tables (pgstattuple)", \
     "$OUT/delay_bloat_pgque.csv" using (\$1/60):11 skip 1 with lines lt 2 title "pgque: delay_bucket (pgstattuple)", \
     "$OUT/delay_bloat_delete.csv" using (\$1/60):8 skip 1 with lines lt 3 title "delete-based table (pgstattuple)", \
     "$OUT/delay_bloat_delete.csv" using (\$1/60):7 skip 1 with lines lt 4 title "delete-based table (n_dead_tup)"
set title "Lateness of deliveries in each 10 s (arrival - deliver_at)"
set ylabel "ms"
plot "$OUT/delay_bloat_pgque.csv" using (\$1/60):18 skip 1 with lines lt 1 title "pgque p99 (the consumer holds it)", \
     "$OUT/delay_bloat_pgque.csv" using (\$1/60):19 skip 1 with lines lt 2 title "pgque max", \
     "$OUT/delay_bloat_delete.csv" using (\$1/60):18 skip 1 with lines lt 3 title "delete-based p99 (the move committed)", \
     "$OUT/delay_bloat_delete.csv" using (\$1/60):19 skip 1 with lines lt 4 title "delete-based max"
unset multiplot
GP

# ---------------------------------------------------------------- report
md=$OUT/delay.md
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
row_at() {   # csv t -> the sample at t seconds
    awk -F, -v t="$2" 'NR > 1 && $1 + 0 == t' "$1"
}
colmax() { awk -F, -v c="$2" 'NR > 1 && $c != "" { if ($c + 0 > m) m = $c + 0 } END { printf "%.0f", m }' "$1"; }
colmean() { awk -F, -v c="$2" 'NR > 2 && $c != "" { s += $c; n++ } END { printf "%.0f", n ? s / n : 0 }' "$1"; }
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v != "" && v + 0 <= t) ? "PASS" : "MISS" }'; }
{
    echo "# Delayed delivery: precision and storage"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, PostgreSQL $(q -c 'show server_version'), fsync = on, synchronous_commit = on, shared_buffers 512MB, track_commit_timestamp = on; $build_note. Load average (1/5/15 min) at the start $load_start, at the end $load_end: the machine is shared, other builds and tests ran meanwhile. Command: \`bench/delay.sh$([ $quick = 1 ] && echo ' --quick')\`$([ -n "${BENCH_DELAY_SECS:-}${BENCH_DELAY_EVENTS:-}${BENCH_DELAY_ROUNDS:-}${BENCH_DELAY_RATE:-}${BENCH_DELAY_TAIL:-}" ] && echo " with BENCH_DELAY_SECS=$SECS BENCH_DELAY_EVENTS=$EVENTS BENCH_DELAY_ROUNDS=$ROUNDS BENCH_DELAY_RATE=$RATE BENCH_DELAY_TAIL=$TAIL")."
    [ $quick = 1 ] && printf '\n**--quick: short runs, the numbers are not meaningful.**\n'
    echo
    echo "## A. $(fmt "$EVENTS") events due in the same second"
    echo
    echo "bench/delay.c: one connection sends $(fmt "$EVENTS") events with \`send_batch_at(queue, 'default', payloads, T)\`, 1,000 per transaction (50-byte payloads), all due at the same whole second T about 10 s ahead; the sends end before T. A consumer (a second connection) loops \`receive(queue, c, 10000)\` + \`ack\` in one transaction, waiting for the queue's NOTIFY when there is nothing, and notes the time each result arrived. Lateness = arrival - T, per event. *Move began*: the query_start of the worker's step \"moving due retries and delayed events\" (pg_stat_activity, polled every 10 ms). *Moved*: the commit time (track_commit_timestamp) of the moved rows in the queue's event tables. *In the stream*: the commit time of the first tick whose snapshot shows them. $ROUNDS rounds, a new queue each; the last row is the median of the rounds. Target: every event within 1 s after T."
    echo
    echo "| round | T (UTC) | sends took (s) | move began (ms after T) | moved, committed (ms after T) | move took (ms) | transactions | in the stream (ms after T) | first received (ms) | lateness p50 (ms) | p99 (ms) | max = last received (ms) | received / dups / early | target max <= 1000 ms |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    tail -n +2 "$pcsv" | while IFS=, read -r rr td ss _ ms cm mt xa is fi p5 p9 mx rc du ea; do
        echo "| $rr | $td | $ss | $ms | $cm | $mt | $xa | $is | $fi | $p5 | $p9 | $mx | $(fmt "$rc") / $du / $ea | $(verdict "$mx" 1000) |"
    done
    mmax=$(echo ${A[max]} | median)
    echo "| **median** | | | $(echo ${A[move_start]} | median) | $(echo ${A[c_max]} | median) | $(echo ${A[move_ms]} | median) | | $(echo ${A[in_stream]} | median) | $(echo ${A[first]} | median) | $(echo ${A[p50]} | median) | $(echo ${A[p99]} | median) | $mmax | | $(verdict "$mmax" 1000) |"
    echo
    echo "## B. $((SECS / 60)) minutes at $(fmt "$RATE") delayed events/s: storage and dead tuples"
    echo
    echo "Producer: pgbench, 4 clients (-j 2), \`-R $RATE\`, one event per transaction for $SECS s, each due a uniformly random 1-120 s later ($LONG_PCT% of them 1-3 hours later); payload = its due time. Then $TAIL s without the producer. Run once with pgque (\`send_at(queue, 'default', payload, t)\`; consumer bench/delay.c: \`receive(queue, c, 1000)\` + \`ack\`, NOTIFY-driven) and once with a **delete-based baseline** on the same cluster right after: table \`bench_delay\` with the columns of a pgque delay bucket and one index (ev_deliver_at), default autovacuum; the producer INSERTs the same rows; a mover (bench/delay.c, one connection) runs every 50 ms \`WITH due AS (DELETE FROM bench_delay WHERE ev_deliver_at <= clock_timestamp() RETURNING *) INSERT INTO bench_delivered SELECT due.*, clock_timestamp() FROM due\` — the design of PgQ's delayed events. Lateness: pgque = the consumer holds the event (moved + ticked + received); baseline = the mover's commit returned (no consumer after it). Every $INTERVAL s: size of the tables holding waiting events and their indexes (pgque: every \`pgque.delay_<n>\`; baseline: \`bench_delay\`), \`n_dead_tup\` (pg_stat_user_tables, up to ~1 s behind), dead tuples counted by \`pgstattuple\` (exact), the same for \`pgque.delay_bucket\` (one row per bucket), events still waiting (pgque: \`get_delayed_info\`; baseline: rows of bench_delay). CSV: delay_bloat_pgque.csv, delay_bloat_delete.csv (columns: see the header)."
    echo
    echo "![storage, dead tuples and lateness over time](delay_bloat.png)"
    echo
    echo "| design | at | tables (buckets in use) | storage MB (heap MB) | n_dead_tup | dead tuples (pgstattuple) | live tuples | delay_bucket dead (pgstattuple) | waiting | delivered so far | lateness in the last 10 s p50 / p99 / max ms | (auto)vacuums so far |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    mid=$(( (SECS / 2) / INTERVAL * INTERVAL ))
    for d in pgque delete; do
        for t in 0 $mid $SECS $((SECS + TAIL)); do
            label="${t} s"
            [ "$t" = 0 ] && label="start"; [ "$t" = "$mid" ] && label="middle ($t s)"
            [ "$t" = "$SECS" ] && label="producer stops ($t s)"; [ "$t" = $((SECS + TAIL)) ] && label="end ($t s)"
            row_at "$OUT/delay_bloat_$d.csv" "$t" | while IFS=, read -r _ _ tb bu tot heap nd dead live _ mdead _ vac pend deltot _ p50 p99 pmax _; do
                bcol="$tb ($bu)"; mcol="$mdead"
                [ "$d" = delete ] && { bcol="1"; mcol="—"; }
                echo "| $([ "$d" = pgque ] && echo pgque || echo delete-based) | $label | $bcol | $(mb "$tot") ($(mb "$heap")) | $(fmt "$nd") | $(fmt "$dead") | $(fmt "$live") | $mcol | $(fmt "$pend") | $(fmt "$deltot") | ${p50:-–} / ${p99:-–} / ${pmax:-–} | $vac |"
            done
        done
        f=$OUT/delay_bloat_$d.csv
        echo "| $([ "$d" = pgque ] && echo pgque || echo delete-based) | **maximum over the run** | $(colmax "$f" 3) | $(mb "$(colmax "$f" 5)") | $(fmt "$(colmax "$f" 7)") | $(fmt "$(colmax "$f" 8)") | $(fmt "$(colmax "$f" 9)") | $([ "$d" = pgque ] && fmt "$(colmax "$f" 11)" || echo —) | $(fmt "$(colmax "$f" 14)") | | max p99 $(colmax "$f" 18) / max $(colmax "$f" 19) | |"
    done
    echo
    echo "| design | events sent (producer events/s) | pgbench schedule lag avg / max ms | delivered | still waiting at the end | delivered + waiting = sent | early | twice | lateness over all deliveries p50 / p99 / max ms | mover CPU (pgque worker / baseline mover backend), mean % of a core | whole machine CPU busy, mean % |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
    for d in pgque delete; do
        ok=$([ $((${B[held_$d]:-0} + ${B[pending_$d]:-0})) = "${B[sent_$d]:-x}" ] && echo yes || echo NO)
        echo "| $([ "$d" = pgque ] && echo pgque || echo delete-based) | $(fmt "${B[sent_$d]}") ($(fmt "${B[rate_$d]}")) | ${B[lag_$d]} | $(fmt "${B[held_$d]}") | $(fmt "${B[pending_$d]}") | $ok | ${B[early_$d]} | ${B[dups_$d]} | ${B[late_$d]} | $(colmean "$OUT/delay_bloat_$d.csv" 22) | $(colmean "$OUT/delay_bloat_$d.csv" 23) |"
    done
    echo
    echo "Server log: $errors ERROR/FATAL/PANIC lines."
    elapsed=$(( $(date +%s) - started ))
    printf '\nWall time of this run: %d min %02d s.\n' $((elapsed / 60)) $((elapsed % 60))
} >"$md"
cat "$md"
[ "$errors" = 0 ] || { echo "delay: the server log has errors:" >&2; server_errors | head -20 >&2; fails=1; }
exit $fails
