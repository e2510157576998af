#!/usr/bin/env bash
# Server CPU per plain send, two builds side by side:
#   bench/send_cost.sh OLD_REV [NEW_REV]     (NEW_REV default: the work tree)
#
# Each build is compiled from a clean checkout and installed into a private
# copy of the PostgreSQL server tree under build/send_cost/ (PostgreSQL
# finds share/ and lib/ relative to its binary), so the system install is
# not touched. One cluster per build (fsync off, worker stopped); each
# round times `perform pgque.send(...)` 200,000 times in one DO block on
# each build in turn, so that commit cost and the machine's other load
# weigh on both alike. Timings on this shared machine move by +-15 %
# between runs, so it then counts instructions per send with callgrind
# (deterministic): each build's server in single-user mode runs the same
# DO block with 20,000 and with 2,000 sends, and Ir per send is the
# difference over 18,000 (start-up cancels out). Prints the runs, the
# medians and the counts, and writes bench/results/send_cost.md (BENCH_OUT
# to change).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
source test/lib/cluster.sh

old=${1:?usage: bench/send_cost.sh OLD_REV [NEW_REV]}
new=${2:-}
ROUNDS=${BENCH_ROUNDS:-5}
N=${BENCH_SENDS:-200000}
out=${BENCH_OUT:-bench/results/send_cost.md}
base=$root/build/send_cost
rm -rf "$base"
mkdir -p "$base"

# build REV (empty: the work tree) into base/NAME; prints nothing
build() {   # name rev
    local name=$1 rev=$2 src=$base/$1/src tree=$base/$1/pg
    mkdir -p "$src" "$tree/usr/lib/postgresql" "$tree/usr/share/postgresql"
    if [ -n "$rev" ]; then
        git archive "$rev" | tar -x -C "$src"
    else
        git ls-files -z | xargs -0 cp --parents -t "$src"
    fi
    cp -a /usr/lib/postgresql/15 "$tree/usr/lib/postgresql/"
    cp -a /usr/share/postgresql/15 "$tree/usr/share/postgresql/"
    make -s -C "$src" >/dev/null 2>&1
    make -s -C "$src" install DESTDIR="$tree" >/dev/null 2>&1
    chmod -R a+rX "$base/$name"
}

start() {   # name port
    PGBIN=$base/$1/pg/usr/lib/postgresql/15/bin cluster_init "sc_$1" "$2" "fsync = off" "synchronous_commit = off" >/dev/null
    PGBIN=$base/$1/pg/usr/lib/postgresql/15/bin cluster_start "sc_$1" >/dev/null
    cluster_psql "sc_$1" -q -c "create database sc" >/dev/null
    cluster_psql "sc_$1" -q -d sc -c "create extension pgque" -c "select pgque.stop()" \
        -c "select pgque.create_queue('cost_q')" >/dev/null
}

echo "send_cost: building $old and ${new:-the work tree}" >&2
build old "$old"
build new "$new"
trap 'PGBIN=$base/old/pg/usr/lib/postgresql/15/bin cluster_stop sc_old; PGBIN=$base/new/pg/usr/lib/postgresql/15/bin cluster_stop sc_new' EXIT
start old 54371
start new 54372

# milliseconds for N sends in one DO block
ms() { cluster_psql "sc_$1" -X -q -At -d sc -c "set client_min_messages = notice" -f - 2>&1 <<SQL | sed -n 's/.*NOTICE:  //p'
select pgque.drop_queue('cost_q', true) >= 0;
select pgque.create_queue('cost_q') >= 0;
checkpoint;
do \$\$
declare t0 timestamptz := clock_timestamp();
begin
    perform pgque.send('cost_q', 'payload-payload-payload') from generate_series(1, $N);
    raise notice '%', round(extract(epoch from clock_timestamp() - t0) * 1000);
end \$\$;
SQL
}
ms old >/dev/null; ms new >/dev/null   # warm-up
runs_old=""; runs_new=""
for ((r = 1; r <= ROUNDS; r++)); do
    runs_old+=" $(ms old)"
    runs_new+=" $(ms new)"
    echo "round $r: old$runs_old / new$runs_new" >&2
done
# instructions per send under callgrind (the cluster is stopped for it)
ir_per_send() {   # name
    local name=$1 dir n f
    dir=$(cluster_dir "sc_$name")
    PGBIN=$base/$name/pg/usr/lib/postgresql/15/bin cluster_stop "sc_$name" >/dev/null
    for n in 20000 2000; do
        f=$dir/ir_$n
        printf "do \$\$ begin perform pgque.send('cost_q', 'payload-payload-payload') from generate_series(1, %d); end \$\$;\n\n" "$n" >"$f.sql"
        chmod a+r "$f.sql"
        as_postgres valgrind --tool=callgrind --callgrind-out-file="$f.cg" \
            "$base/$name/pg/usr/lib/postgresql/15/bin/postgres" --single -j -D "$dir/data" sc <"$f.sql" >"$f.out" 2>&1 ||
            { tail -5 "$f.out" >&2; return 1; }
    done
    awk '/^(summary|totals):/ { t[FILENAME] = $2 } END { printf "%.0f", (t[ARGV[1]] - t[ARGV[2]]) / 18000 }' \
        "$dir/ir_20000.cg" "$dir/ir_2000.cg"
}
command -v valgrind >/dev/null || apt-get install -y -qq --no-install-recommends valgrind >/dev/null
ir_old=$(ir_per_send old)
ir_new=$(ir_per_send new)

median() { tr ' ' '\n' | awk 'NF' | sort -n | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
m_old=$(echo $runs_old | median); m_new=$(echo $runs_new | median)
ratio=$(awk -v a="$m_old" -v b="$m_new" 'BEGIN { printf "%.2f", a / b }')
{
    echo "# Server CPU per plain send: two builds"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores. Command: \`bench/send_cost.sh $old${new:+ $new}\`."
    echo "old = $old ($(git rev-parse --short "$old")), new = ${new:-the work tree at $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src extension || echo ' with changes')}."
    echo "One cluster per build (fsync off, worker stopped), $N \`pgque.send(queue, payload)\` in one DO block per run, $ROUNDS interleaved rounds; milliseconds."
    echo
    echo "| build | runs (ms) | median | µs per send |"
    echo "|---|---|---|---|"
    echo "| old | $(echo $runs_old | sed 's/ /, /g') | $m_old | $(awk -v m="$m_old" -v n="$N" 'BEGIN { printf "%.2f", m * 1000 / n }') |"
    echo "| new | $(echo $runs_new | sed 's/ /, /g') | $m_new | $(awk -v m="$m_new" -v n="$N" 'BEGIN { printf "%.2f", m * 1000 / n }') |"
    echo
    echo "Timed throughput new / old: $ratio."
    echo
    echo "Instructions per send (callgrind, single-user server, 20,000 minus 2,000 sends in one DO block, / 18,000): old $ir_old, new $ir_new; new / old $(awk -v a="$ir_new" -v b="$ir_old" 'BEGIN { printf "%.3f", a / b }'). Throughput by instructions new / old: **$(awk -v a="$ir_old" -v b="$ir_new" 'BEGIN { printf "%.2f", a / b }')** (target for priority-0 sends: ≥ 0.95)."
} >"$out"
cat "$out"
