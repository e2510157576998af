#!/usr/bin/env bash
# make nodecay: does consumption decay while another session holds an old
# snapshot? Two runs of NODECAY_SECS (1800) each, one after the other, each
# on its own new throwaway cluster (fsync and synchronous_commit on, other
# settings default; pgque's worker preloaded), with the same load:
#
#   producers  2 connections, 5,000 events/s in total (NODECAY_RATE), 10
#              events per transaction (one statement each, autocommit),
#              paced on a fixed schedule
#   holder     one session: BEGIN ISOLATION LEVEL REPEATABLE READ, takes an
#              xid (pg_current_xact_id()) and reads a table, then stays idle
#              in transaction for the whole run
#   consumers  pgque: one LISTENing consumer, receive(q, c, 1000) + ack
#              (autovacuum and the rest default; the queue's rotation_period
#              is set to 1 minute so that rotation has a chance to run)
#              job:   a minimal job table, job(id bigserial primary key,
#              payload text, created timestamptz), two LISTENing consumers
#              taking DELETE ... WHERE id IN (SELECT id ... ORDER BY id FOR
#              UPDATE SKIP LOCKED LIMIT 100) RETURNING payload; producers
#              insert with a pg_notify in the same statement
#
# The load is bench/nodecay.c (one process: producer, consumer, holder and
# sampler threads; latency = send statement returned -> consumer's call
# returned, CLOCK_MONOTONIC). Every 10 s it writes a CSV row: consumed
# events/s, p50/p99 latency, backlog, consumer backend CPU, machine CPU,
# the holder's xmin age, size and dead tuples of the tables involved.
#
#   bench/nodecay.sh [--plot-only | --report-only]
#
# Results in bench/results/: nodecay_pgque.csv, nodecay_job.csv,
# nodecay.md (first vs last 5 minutes, PASS/MISS against "within 10 %",
# counts, storage at the end) and nodecay.png, nodecay_storage.png
# (bench/plot/nodecay.gp; --plot-only redraws them from the CSVs;
# --report-only rewrites nodecay.md and the PNGs from the last run's
# CSVs and build/bench/nodecay_*.out).
# Environment: NODECAY_SECS (1800), NODECAY_RATE (5000), NODECAY_PORT
# (54381), PGBIN (test/lib/cluster.sh; when it points into a copy of the
# server tree, e.g. /opt/pgpriv/NAME/usr/lib/postgresql/15/bin, pgque is
# installed into that copy with DESTDIR, not into the system's tree).
# Raw output: build/bench/nodecay_*.out.
set -euo pipefail
cmdline="bench/nodecay.sh $*"
cd "$(dirname "$0")/.."
source test/lib/cluster.sh
source bench/lib/install.sh

plot_only=0
report_only=0
while [ $# -gt 0 ]; do
    case $1 in
        --plot-only) plot_only=1 ;;
        --report-only) report_only=1 ;;
        *) echo "usage: $0 [--plot-only | --report-only]" >&2; exit 2 ;;
    esac
    shift
done
SECS=${NODECAY_SECS:-1800}
RATE=${NODECAY_RATE:-5000}
PORT=${NODECAY_PORT:-54381}
INTERVAL=10
OUT=bench/results
C=nodecay

plot() {
    gnuplot -e "dir='$OUT'" bench/plot/nodecay.gp
    echo "nodecay: wrote $OUT/nodecay.png and $OUT/nodecay_storage.png" >&2
}

test/deps.sh --bench
if [ $plot_only = 1 ]; then plot; exit 0; fi
if [ $report_only = 0 ]; then

bench_install nodecay
mkdir -p build/bench "$OUT"
cc -O2 -Wall -I"$(pg_config --includedir)" -o build/bench/nodecay bench/nodecay.c -lpq -lpthread

trap 'cluster_stop $C' EXIT
q() { cluster_psql $C -d bench -At "$@"; }

fresh_cluster() {
    cluster_init $C "$PORT" "fsync = on" "synchronous_commit = on"
    cluster_start $C
    cluster_psql $C -d postgres -c "create database bench"
}

csv_header() {   # file system description
    {
        echo "# nodecay, $2: $3"
        echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores (shared with other work), PostgreSQL $(q -c 'show server_version'), fsync and synchronous_commit on, other settings default"
        echo "# pgque: $build_note (pgque.so md5 $(md5sum "$so" | cut -c1-12)); tree at $(git rev-parse --short HEAD)"
        echo "# command: $cmdline (NODECAY_SECS=$SECS NODECAY_RATE=$RATE); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
        echo "# columns: per ${INTERVAL} s interval ending at t_s; latency = send statement returned -> consumer call returned (ms); consumer_cpu = utime+stime of the consumers' backends; table_bytes/live_tup/dead_tup = pgque: the queue's event tables, job: table job (pg_stat_user_tables); other_bytes = pgque: batch+tick+subscriber, job: indexes of job; meta_dead_tup = n_dead_tup of pgque.batch+tick+subscriber; rotation_blocked_by = pgque.get_queue_info() (commas as ;)"
    } >"$1"
}

run_one() {   # system
    local sys=$1 csv=$OUT/nodecay_$1.csv out=build/bench/nodecay_$1.out t0 rc=0
    t0=$(date +%s)
    fresh_cluster
    if [ "$sys" = pgque ]; then
        q -c "create extension pgque"
        q -c "select pgque.create_queue('nodecay')" -c "select pgque.subscribe('nodecay', 'bench')" \
          -c "select pgque.set_queue_config('nodecay', 'rotation_period', '1 minute')" >/dev/null
        for _ in $(seq 100); do
            [ "$(q -c "select count(*) from pg_stat_activity where backend_type = 'pgque worker' and datname = 'bench'")" = 1 ] && break
            sleep 0.1
        done
        csv_header "$csv" pgque "2 producers x send_batch of 10 at $RATE events/s in total; 1 consumer receive(q, c, 1000) + ack, LISTEN pgque_nodecay; queue rotation_period 1 minute; holder: RR transaction with an xid, idle in transaction all run"
        build/bench/nodecay --dsn "$(cluster_dsn $C bench)" --mode pgque --csv "$csv" --rate "$RATE" \
            --seconds "$SECS" --interval $INTERVAL --consumers 1 --max 1000 >"$out" 2>&1 || rc=$?
    else
        q -c "create table job(id bigserial primary key, payload text, created timestamptz default clock_timestamp())"
        csv_header "$csv" job "2 producers x insert of 10 rows (+ pg_notify) at $RATE events/s in total; 2 consumers DELETE ... WHERE id IN (SELECT id FROM job ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 100) RETURNING payload, LISTEN; holder: RR transaction with an xid, idle in transaction all run"
        build/bench/nodecay --dsn "$(cluster_dsn $C bench)" --mode job --csv "$csv" --rate "$RATE" \
            --seconds "$SECS" --interval $INTERVAL --consumers 2 --max 100 >"$out" 2>&1 || rc=$?
    fi
    echo "exit $rc" >>"$out"
    # storage at the end (the holder is gone now; autovacuum has not run yet)
    if [ "$sys" = pgque ]; then
        q -F' ' -c "select 'end_queue', queue_cur_table, queue_switch_time, coalesce(rotation_blocked_by, '-') from pgque.get_queue_info('nodecay')" >>"$out"
        q -F' ' -c "select 'end_pending', coalesce(pending_events, 0) from pgque.get_consumer_info('nodecay', 'bench')" >>"$out"
        q -F' ' -c "select 'end_table', relname, n_live_tup, n_dead_tup, pg_total_relation_size(relid) from pg_stat_user_tables where schemaname = 'pgque' and (relname ~ '^event_' or relname in ('batch', 'tick', 'subscriber')) order by relname" >>"$out"
    else
        q -F' ' -c "select 'end_table', relname, n_live_tup, n_dead_tup, pg_total_relation_size(relid) from pg_stat_user_tables where relname = 'job'" >>"$out"
        q -F' ' -c "select 'end_rows', count(*) from job" >>"$out"
    fi
    echo "# run time: $(( ($(date +%s) - t0) / 60 )) min $(( ($(date +%s) - t0) % 60 )) s; load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$csv"
    cluster_stop $C
    cat "$out" >&2
}

started=$(date +%s)
run_one pgque
run_one job
# what the report needs, so that --report-only can write it again
declare -p cmdline build_note so SECS RATE started >build/bench/nodecay.env
echo "ended=$(date +%s)" >>build/bench/nodecay.env
fi
source build/bench/nodecay.env

# ---------------------------------------------------------------- summary
# 1234567 -> 1,234,567
fmt() { awk -v v="$1" 'BEGIN { if (v == "") { print ""; exit } s = sprintf("%.0f", v); o = ""
                               while (length(s) > 3) { o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3) }
                               print s o }'; }
win() { awk -v w="$2" -v k="$3" '$1 == "window" && $2 == w { for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' "build/bench/nodecay_$1.out"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "n/a" }'; }
within() { awk -v a="$1" -v b="$2" 'BEGIN { print (a > 0 && b / a >= 0.9 && b / a <= 1.1) ? "PASS" : "MISS" }'; }
# mean of a CSV column over the rows with t_s in (from, to]
colmean() { awk -F, -v c="$2" -v a="$3" -v b="$4" '!/^#/ && NR > 1 && $1 + 0 > a && $1 + 0 <= b && $c != "" { s += $c; n++ } END { if (n) printf "%.2f", s / n }' "$OUT/nodecay_$1.csv"; }
lastrow() { awk -F, -v c="$2" -v end="$SECS" '!/^#/ && $1 ~ /^[0-9]+$/ && $1 + 0 <= end { v = $c } END { print v }' "$OUT/nodecay_$1.csv"; }
colmax() { awk -F, -v c="$2" '!/^#/ && $1 ~ /^[0-9]+$/ && $c != "" { if ($c + 0 > m) m = $c + 0 } END { print m + 0 }' "$OUT/nodecay_$1.csv"; }
# how many rows with t_s in (from, to] have column c above v
countover() { awk -F, -v c="$2" -v v="$3" -v a="$4" -v b="$5" '!/^#/ && $1 ~ /^[0-9]+$/ && $1 + 0 > a && $1 + 0 <= b { n++; if ($c + 0 > v) k++ } END { printf "%d of %d", k, n }' "$OUT/nodecay_$1.csv"; }
counts() { awk '$1 == "sent" { print "sent " $2 ", consumed " $4 ", missing " $6 ", duplicates " $8 }' "build/bench/nodecay_$1.out"; }
W=$(awk '$1 == "window" && $2 == "first" { print $4 - $3 }' build/bench/nodecay_pgque.out)
md=$OUT/nodecay.md
{
    echo "# No decay under a held snapshot"
    echo
    echo "$(date -u -d "@$started" '+%Y-%m-%d %H:%M UTC'), $(nproc) cores (shared), PostgreSQL 15, fsync and synchronous_commit on, other settings default; pgque: $build_note (pgque.so md5 $(awk '/^# pgque:/ { sub(/.*md5 /, ""); print substr($0, 1, 12); exit }' "$OUT/nodecay_pgque.csv"))."
    echo "Command: \`$cmdline\` with NODECAY_SECS=$SECS, NODECAY_RATE=$RATE: $SECS s of load per system, pgque first, then the job table, each on a new cluster. Producers: 2 connections, $RATE events/s in total, 10 events per transaction. Held snapshot: BEGIN ISOLATION LEVEL REPEATABLE READ + pg_current_xact_id() + a read, idle in transaction for the whole run. pgque: 1 consumer, receive(q, c, 1000) + ack, LISTEN; queue rotation_period 1 minute. Job table: 2 consumers, DELETE ... WHERE id IN (SELECT id FROM job ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 100) RETURNING, LISTEN (the producers notify). Latency: producer's statement returned (after commit) → consumer's call returned, one monotonic clock. Windows: events by the time they were consumed, first and last $W s of the run; p50/p99 exact over the window."
    echo
    echo "| system | producers sent events/s, first / last | first ${W} s: consumed events/s | last ${W} s: consumed events/s | ratio | first: p50 / p99 ms | last: p50 / p99 ms | p99 ratio | consumer backend CPU µs/event, first / last | machine busy %, first / last | 10-s intervals with a latency max > 100 ms, first / last | within 10 % (throughput, p50, p99) | backlog at end of load | counts |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    for s in pgque job; do
        f_r=$(win $s first per_s); l_r=$(win $s last per_s)
        f50=$(win $s first p50_ms); l50=$(win $s last p50_ms); f99=$(win $s first p99_ms); l99=$(win $s last p99_ms)
        fc=$(colmean $s 10 0 "$W"); lc=$(colmean $s 10 $((SECS - W)) "$SECS")
        verdict="$(within "$f_r" "$l_r"), $(within "$f50" "$l50"), $(within "$f99" "$l99")"
        fs=$(colmean $s 2 0 "$W"); ls=$(colmean $s 2 $((SECS - W)) "$SECS")
        echo "| $s | $(fmt "$(awk -v v="$fs" 'BEGIN { print v / 10 }')") / $(fmt "$(awk -v v="$ls" 'BEGIN { print v / 10 }')") | $(fmt "$f_r") | $(fmt "$l_r") | $(ratio "$f_r" "$l_r") | $f50 / $f99 | $l50 / $l99 | $(ratio "$f99" "$l99") | $fc / $lc | $(colmean $s 11 0 "$W") / $(colmean $s 11 $((SECS - W)) "$SECS") | $(countover $s 8 100 0 "$W") / $(countover $s 8 100 $((SECS - W)) "$SECS") | $verdict | $(fmt "$(lastrow $s 5)") | $(counts $s) |"
    done
    echo
    echo "Storage during the run (from the CSVs; the holder still in transaction):"
    echo
    echo "| system | table bytes at start (first row) → at the end of the load | dead tuples at the end of the load (max) | live tuples at the end | other | autovacuum runs | holder xmin age at the end |"
    echo "|---|---|---|---|---|---|---|"
    for s in pgque job; do
        first_b=$(awk -F, '!/^#/ && $1 ~ /^[0-9]+$/ { print $13; exit }' "$OUT/nodecay_$s.csv")
        if [ $s = pgque ]; then
            other="event tables: current table $(lastrow $s 16), rotations seen $(lastrow $s 17); pgque.batch+tick+subscriber $(fmt "$(( $(lastrow $s 18) / 1024 ))") kB, $(fmt "$(lastrow $s 19)") dead tuples"
        else
            other="indexes of job $(fmt "$(( $(lastrow $s 18) / 1024 ))") kB"
        fi
        echo "| $s | $(fmt "$(( first_b / 1024 ))") kB → $(fmt "$(( $(lastrow $s 13) / 1024 ))") kB | $(fmt "$(lastrow $s 15)") ($(fmt "$(colmax $s 15)")) | $(fmt "$(lastrow $s 14)") | $other | $(lastrow $s 20) | $(fmt "$(lastrow $s 12)") |"
    done
    echo
    echo "Consumers' backend CPU per event (µs, mean of 10-s rows) by the machine's load in the row, first half / second half of the run (the CPU per event also moves with the load — probably because with idle cores pgque's worker ticks sooner and batches are smaller):"
    echo
    echo "| system | machine busy ≥ 99 % | 90–99 % | < 90 % |"
    echo "|---|---|---|---|"
    for s in pgque job; do
        echo "| $s | $(awk -F, -v h=$((SECS / 2)) -v end="$SECS" '!/^#/ && $1 ~ /^[0-9]+$/ && $1 + 0 <= end && $10 != "" {
                b = ($11 >= 99) ? 1 : ($11 >= 90 ? 2 : 3); k = b ($1 + 0 <= h ? "a" : "b"); s[k] += $10; n[k]++ }
            END { for (b = 1; b <= 3; b++) { printf "%s", (b > 1 ? " | " : "")
                      for (x = 0; x < 2; x++) { k = b (x ? "b" : "a"); printf "%s%s", (x ? " / " : ""), (n[k] ? sprintf("%.1f (%d rows)", s[k] / n[k], n[k]) : "-") } } }' "$OUT/nodecay_$s.csv") |"
    done
    echo
    echo "After the run (holder gone; build/bench/nodecay_*.out):"
    echo
    echo '```'
    for s in pgque job; do grep -E '^(holder|rotation|producers|sent|window|end_|exit)' "build/bench/nodecay_$s.out" | sed "s/^/$s: /"; done
    echo '```'
    echo
    echo "Plots: nodecay.png (throughput, p99 latency), nodecay_storage.png (table size, dead tuples, consumer CPU per event). Wall time: $(( (ended - started) / 60 )) min."
} >"$md"
cat "$md"
plot
