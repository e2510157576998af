#!/usr/bin/env bash
# Builds the C++ client (library, CLI, examples, tests) and runs every test:
# unit tests, integration tests against DSN, and the find_package/pkg-config
# test of an installed copy. The last line is
#   RESULT passed=N failed=M
# counting individual test cases; the exit status is non-zero if anything failed.
#
#   client/run_tests.sh "host=/path/to/socket port=5432 dbname=postgres user=postgres"
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build="$here/build"
dsn=${1:-${PGQUE_TEST_DSN:-}}
jobs=${PGQUE_TEST_JOBS:-2}
log_dir="$build/test-logs"

result() {
    echo "RESULT passed=$1 failed=$2"
    [ "$2" -eq 0 ]
    exit $?
}

if [ -z "$dsn" ]; then
    echo "usage: $0 DSN   (integration tests need a database with pgque installed)" >&2
    result 0 1
fi

echo "== configuring and building $build"
mkdir -p "$build"
if ! cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build/configure.log" 2>&1; then
    cat "$build/configure.log"
    result 0 1
fi
if ! cmake --build "$build" -j"$jobs" >"$build/build.log" 2>&1; then
    grep -E "error|Error" "$build/build.log" | head -40
    result 0 1
fi
warnings=$(grep -c "warning:" "$build/build.log" || true)
[ "$warnings" -gt 0 ] && { echo "== $warnings compiler warning(s):"; grep "warning:" "$build/build.log" | head -20; }

echo "== running tests (PGQUE_TEST_DSN set)"
mkdir -p "$log_dir"
export PGQUE_TEST_DSN="$dsn"
(cd "$build" && ctest -j"$jobs" --output-on-failure --timeout 300) >"$log_dir/ctest.log" 2>&1
rc=$?

# one line per test case: "  n/N Test  #k: name ....   Passed   0.01 sec"
line='^ *[0-9]+/[0-9]+ Test +#[0-9]+: [^ ]+ \.+ *'
passed=$(grep -cE "$line"'Passed' "$log_dir/ctest.log" || true)
failed=$(grep -cE "$line"'(\*\*\*|Failed)' "$log_dir/ctest.log" || true)
skipped=$(grep -cE "$line"'Skipped' "$log_dir/ctest.log" || true)

grep -E '^ *[0-9]+/[0-9]+ Test +#' "$log_dir/ctest.log" | sed 's/^ *//'
if [ "$failed" -gt 0 ]; then
    echo "== failures (full log: $log_dir/ctest.log)"
    grep -E "$line"'(\*\*\*|Failed)' "$log_dir/ctest.log" | sed 's/^ */  /'
fi
if [ "$skipped" -gt 0 ]; then
    # with a DSN nothing should skip: count it as a failure
    echo "== $skipped test(s) skipped although PGQUE_TEST_DSN was set"
    failed=$((failed + skipped))
fi
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    tail -n 20 "$log_dir/ctest.log"
    failed=1
fi
echo "== client: $passed passed, $failed failed"
result "$passed" "$failed"
