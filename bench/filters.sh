#!/usr/bin/env bash
# make bench-filters: what a filter costs a consumer. One throwaway cluster
# (fsync and synchronous_commit on, pgque preloaded), one queue of EVENTS
# events (default 500,000) of which 1 % carry label 'eu', the rest 'us'.
# Three kinds of consumer drain it with receive(max_return 1000) + ack, one
# transaction per batch, until a receive returns nothing and the consumer's
# cursor is at the newest tick (a receive that hands out nothing may have
# passed over its 1,000,000 events with more to come):
#   all   no filter: handed every event;
#   eu    labels {eu}: handed 1 %, passes 99 % over;
#   none  labels {mars}: handed nothing, passes everything over.
# Three of each, drained in interleaved rounds (all, eu, none, all, ...);
# the median drain time of each kind is reported, as events read per second
# and as a ratio to `all`. Results: bench/results/filters.md.
set -euo pipefail
cmdline="bench/filters.sh $*"
cd "$(dirname "$0")/.."
source test/lib/cluster.sh
source bench/lib/install.sh
EVENTS=${EVENTS:-500000}
C=bench_filters
PORT=54393
OUT=bench/results/filters.md

test/deps.sh --bench
bench_install filters
cluster_init $C $PORT "fsync = on" "synchronous_commit = on" "shared_buffers = 512MB" \
    "shared_preload_libraries = 'pgque'"
cluster_start $C
trap 'cluster_stop $C' EXIT
cluster_psql $C -d postgres -qc "create database bench"
q() { cluster_psql $C -d bench -At -c "$1"; }
q "create extension pgque" >/dev/null
q "select pgque.create_queue('f')" >/dev/null
for r in 1 2 3; do
    q "select pgque.subscribe('f', 'all$r'), pgque.subscribe('f', 'eu$r', labels => array['eu']),
              pgque.subscribe('f', 'none$r', labels => array['mars'])" >/dev/null
done
# the fill: 1,000-event transactions (the worker ticks between them)
q "do \$\$
begin
    for s in 0..$EVENTS - 1 by 1000 loop
        perform pgque.insert_event('f', 'order', 'event ' || i, case when i % 100 = 0 then 'eu' else 'us' end,
                                   null, null, null)
           from generate_series(s, least(s + 999, $EVENTS - 1)) i;
        commit;
    end loop;
end
\$\$" >/dev/null
q "select pgque.force_tick('f')" >/dev/null
sleep 1

# drain CONSUMER: "handed seconds"
drain() {
    cluster_psql $C -d bench -At \
        -c "create procedure pg_temp.drain(c text) language plpgsql as \$\$
            declare n bigint := 0; k bigint; b bigint; t0 timestamptz := clock_timestamp();
            begin
                loop
                    select count(*), max(r.batch_id) into k, b from pgque.receive('f', c, 1000) r;
                    -- an empty receive may only have passed over its windows: done
                    -- when the cursor is at the newest tick
                    exit when k = 0 and (select i.pending_events from pgque.get_consumer_info('f', c) i) = 0;
                    if k > 0 then
                        perform pgque.ack(b);
                    end if;
                    n := n + k;
                    commit;
                end loop;
                raise notice '% %', n, extract(epoch from clock_timestamp() - t0);
            end \$\$" \
        -c "call pg_temp.drain('$1')" 2>&1 | sed -n 's/^NOTICE:  //p'
}
mkdir -p build/bench
: >build/bench/filters.out
for r in 1 2 3; do
    for kind in all eu none; do
        echo "$kind $r $(drain $kind$r)" | tee -a build/bench/filters.out
    done
done

median() { awk -v k="$1" '$1 == k { print $4 }' build/bench/filters.out | sort -g | sed -n 2p; }
handed() { awk -v k="$1" '$1 == k { print $3; exit }' build/bench/filters.out; }
{
    echo "# What a filter costs a consumer"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores (shared), PostgreSQL 15, fsync and synchronous_commit on; pgque: $build_note. Command: \`$cmdline\` (EVENTS=$EVENTS). Raw lines (kind, round, handed out, seconds): build/bench/filters.out."
    echo
    echo "One queue of $EVENTS events, 1 % labeled 'eu'. Each consumer drains all of it with receive(max_return 1000) + ack until its cursor is at the newest tick; median of three drains per kind, interleaved."
    echo
    echo "| consumer | handed out | drain s (median) | events read/s | time / no filter |"
    echo "|---|---|---|---|---|"
    base=$(median all)
    for kind in all eu none; do
        m=$(median $kind)
        case $kind in all) what="no filter";; eu) what="labels {eu} (takes 1 %)";; none) what="labels {mars} (takes nothing)";; esac
        echo "| $what | $(handed $kind) | $m | $(awk -v e="$EVENTS" -v s="$m" 'BEGIN { printf "%.0f", e / s }') | $(awk -v a="$m" -v b="$base" 'BEGIN { printf "%.2f", a / b }') |"
    done
} >"$OUT"
cat "$OUT"
