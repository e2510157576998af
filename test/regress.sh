#!/usr/bin/env bash
# Run the pg_regress suite (sql/, expected/) against cluster NAME.
#   test/regress.sh NAME [test ...]
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh
name=$1
shift
tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
    for f in sql/*.sql; do tests+=("$(basename "$f" .sql)"); done
fi
out=${REGRESS_OUT:-build/regress}
rm -rf "$out"
mkdir -p "$out"
PGHOST=$(cluster_dir "$name") PGPORT=$(cluster_port "$name") PGUSER=postgres \
    "$(/usr/lib/postgresql/15/bin/pg_config --pkglibdir)/pgxs/src/test/regress/pg_regress" \
    --inputdir=. --outputdir="$out" --bindir=/usr/lib/postgresql/15/bin \
    --dbname=pgque_regression "${tests[@]}"
