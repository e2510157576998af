#!/usr/bin/env bash
# Run the isolation specs (test/isolation/specs) against cluster NAME.
#   test/isolation.sh NAME [spec ...]
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh
name=$1
shift
specs=("$@")
if [ ${#specs[@]} -eq 0 ]; then
    for f in test/isolation/specs/*.spec; do specs+=("$(basename "$f" .spec)"); done
fi
out=${ISOLATION_OUT:-build/isolation}
rm -rf "$out"
mkdir -p "$out"
PGHOST=$(cluster_dir "$name") PGPORT=$(cluster_port "$name") PGUSER=postgres \
    "$(/usr/lib/postgresql/15/bin/pg_config --pkglibdir)/pgxs/src/test/isolation/pg_isolation_regress" \
    --inputdir=test/isolation --outputdir="$out" --bindir=/usr/lib/postgresql/15/bin \
    --dbname=pgque_isolation --load-extension=pgque "${specs[@]}"
