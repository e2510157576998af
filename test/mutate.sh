#!/usr/bin/env bash
# Put a known bug back and watch the tests that guard against it fail.
#   test/mutate.sh [NAME ...]     (default: every test/mutations/*.sh)
#
# Each test/mutations/NAME.sh describes one bug: a mutate() function that
# edits a scratch copy of the tree (sub FILE OLD NEW: replace text that must
# be there), and `catches`, the tests that must fail with it
# (regress:NAME, isolation:NAME or script:NAME). The mutated extension is
# built and installed, the tests run against their own clusters, and the
# real build is installed again at the end. Not part of `make test` (it
# replaces the installed extension for a while).
#
# Beside other work, use a private server tree and port: DESTDIR (make
# install's) and PGBIN (test/lib/cluster.sh's) point at a copy of the
# server, MUTATE_PORT (54390 by default) is the regress/isolation cluster's.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
source test/lib/cluster.sh

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    for f in test/mutations/*.sh; do names+=("$(basename "$f" .sh)"); done
fi

sub() {   # file old new (literal)
    python3 - "$1" "$2" "$3" <<'PY' || { echo "mutation does not apply: $1" >&2; exit 1; }
import sys
path, old, new = sys.argv[1:]
text = open(path).read()
if old not in text:
    sys.exit(1)
open(path, "w").write(text.replace(old, new, 1))
PY
}

reinstall() { make -s -C "$root" install >/dev/null; }
trap reinstall EXIT

caught=0
missed=0
for name in "${names[@]}"; do
    scratch=$(mktemp -d)
    git ls-files -z | xargs -0 cp --parents -t "$scratch"
    catches=""
    source "test/mutations/$name.sh"
    (cd "$scratch" && mutate) || { echo "$name: could not apply"; missed=$((missed + 1)); continue; }
    make -s -C "$scratch" >/dev/null 2>&1 && make -s -C "$scratch" install >/dev/null 2>&1 ||
        { echo "$name: does not build"; missed=$((missed + 1)); continue; }
    for t in $catches; do
        kind=${t%%:*}
        test_name=${t#*:}
        case $kind in
            regress|isolation)
                cluster_init mutate "${MUTATE_PORT:-54390}" "fsync = off" >/dev/null && cluster_start mutate || exit 1
                if [ "$kind" = regress ]; then
                    test/regress.sh mutate 00_setup "$test_name" >/dev/null 2>&1
                else
                    test/isolation.sh mutate "$test_name" >/dev/null 2>&1
                fi
                rc=$?
                cluster_stop mutate
                ;;
            script)
                "test/scripts/$test_name.sh" >/dev/null 2>&1
                rc=$?
                ;;
        esac
        if [ $rc -ne 0 ]; then
            echo "$name: caught by $t"
            caught=$((caught + 1))
        else
            echo "$name: NOT caught by $t"
            missed=$((missed + 1))
        fi
    done
    rm -rf "$scratch"
done
echo "mutations caught $caught, missed $missed"
[ "$missed" -eq 0 ]
