#!/usr/bin/env bash
# The modules of src/ call each other without cycles: for every object
# file, the functions it uses (nm -u) that another object defines give an
# edge "user -> definer"; tsort must find an order. Prints the graph.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/lib/check.sh

objs=(src/*.o)
check "the extension is built (src/*.o)" test -e "${objs[0]}"
declare -A definer
for o in "${objs[@]}"; do
    m=$(basename "$o" .o)
    while read -r sym; do definer[$sym]=$m; done < <(nm --defined-only "$o" | awk '$2 ~ /^[TDBR]$/ { print $3 }')
done
edges=$(for o in "${objs[@]}"; do
    m=$(basename "$o" .o)
    nm -u "$o" | awk '{ print $2 }' | while read -r sym; do
        d=${definer[$sym]:-}
        [ -n "$d" ] && [ "$d" != "$m" ] && echo "$m $d"
    done
done | sort -u)
echo "$edges" | awk '{ printf "# %s -> %s\n", $1, $2 }'
check "the module graph has edges" test -n "$edges"
check "no module calls back into a module that calls it (no cycle)" bash -c "echo '$edges' | tsort >/dev/null 2>&1"
finish
