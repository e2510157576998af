#!/usr/bin/env bash
# make test: install what is missing, build everything, start a throwaway
# cluster, run every suite, stop it, and end with one line
#   N passed, N failed
# summing all suites. Exit status is non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
source test/lib/cluster.sh

passed=0
failed=0
failures=()

# Count a pg_regress-style log: "ok" and "FAILED" lines. Every test that
# should have run must show up as one of them (a test without an expected
# file, or a suite that did not start, shows up as neither), and a non-zero
# exit status with nothing failed is a failure too.
count_regress() {   # suite log exit_status expected_tests
    local suite=$1 log=$2 rc=$3 want=$4 ok bad missing
    ok=$(grep -cE '^(ok|test|    ) .* \.\.\. ok' "$log" || true)
    bad=$(grep -cE '\.\.\. FAILED' "$log" || true)
    missing=$((want - ok - bad))
    [ "$missing" -lt 0 ] && missing=0
    if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ] && [ "$missing" -eq 0 ]; then
        missing=1
    fi
    passed=$((passed + ok))
    failed=$((failed + bad + missing))
    [ "$bad" -gt 0 ] && failures+=("$suite: $(grep -E '\.\.\. FAILED' "$log" | awk '{print $2}' | tr '\n' ' ')")
    [ "$missing" -gt 0 ] && failures+=("$suite: $missing of $want tests did not report a result, exit status $rc (see $log)")
    echo "== $suite: $ok passed, $((bad + missing)) failed"
}

# a suite that is one script: pass or fail as a whole, or that prints
# "RESULT passed=N failed=M" itself
run_script() {
    local suite=$1
    shift
    local log="build/logs/$suite.log" rc
    "$@" >"$log" 2>&1
    rc=$?
    if grep -q '^RESULT ' "$log"; then
        local p f
        p=$(grep '^RESULT ' "$log" | tail -1 | sed -n 's/.*passed=\([0-9]*\).*/\1/p')
        f=$(grep '^RESULT ' "$log" | tail -1 | sed -n 's/.*failed=\([0-9]*\).*/\1/p')
        [ $rc -ne 0 ] && [ "$f" = 0 ] && f=1
        passed=$((passed + p))
        failed=$((failed + f))
        [ "$f" -gt 0 ] && failures+=("$suite (see $log)")
        echo "== $suite: $p passed, $f failed"
    elif [ $rc -eq 0 ]; then
        passed=$((passed + 1))
        echo "== $suite: passed"
    else
        failed=$((failed + 1))
        failures+=("$suite (see $log)")
        echo "== $suite: FAILED (see $log)"
        tail -n 20 "$log"
    fi
}

mkdir -p build/logs
echo "== installing what is missing"
test/deps.sh || { echo "0 passed, 1 failed"; exit 1; }
echo "== building"
if ! { make -s >build/logs/build.log 2>&1 && make -s install >>build/logs/build.log 2>&1; }; then
    cat build/logs/build.log
    echo "0 passed, 1 failed"
    exit 1
fi

echo "== starting the test cluster"
cluster_init test 54329 "fsync = off" || { echo "0 passed, 1 failed"; exit 1; }
cluster_start test || { echo "0 passed, 1 failed"; exit 1; }
trap 'cluster_stop test' EXIT

test/regress.sh test >build/logs/regress.log 2>&1
count_regress "pg_regress" build/logs/regress.log $? "$(ls sql/*.sql | wc -l)"
test/isolation.sh test >build/logs/isolation.log 2>&1
count_regress "isolation" build/logs/isolation.log $? "$(ls test/isolation/specs/*.spec | wc -l)"

# the C++ client: unit, integration (against this cluster), find_package
run_script client client/run_tests.sh "$(cluster_dsn test)"

for t in test/scripts/*.sh; do
    [ -e "$t" ] || continue
    run_script "$(basename "$t" .sh)" "$t"
done

cluster_stop test
trap - EXIT

if [ ${#failures[@]} -gt 0 ]; then
    echo "failed suites:"
    printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
