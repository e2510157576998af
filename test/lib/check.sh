# Minimal test bookkeeping for the shell suites in test/scripts/.
#   check "what" command...        passes if the command succeeds
#   check_eq "what" expected actual
#   wait_until "what" seconds command...   retries every 0.1 s
#   finish                          prints RESULT passed=N failed=M, sets the exit code
CHECK_PASSED=0
CHECK_FAILED=0

_ok() { CHECK_PASSED=$((CHECK_PASSED + 1)); echo "ok - $1"; }
_not_ok() { CHECK_FAILED=$((CHECK_FAILED + 1)); echo "not ok - $1${2:+ ($2)}"; }

check() {
    local what=$1
    shift
    if "$@" >/dev/null 2>&1; then _ok "$what"; else _not_ok "$what"; fi
}

check_eq() {
    if [ "$2" = "$3" ]; then _ok "$1"; else _not_ok "$1" "expected '$2', got '$3'"; fi
}

wait_until() {
    local what=$1 secs=$2 i
    shift 2
    for ((i = 0; i < secs * 10; i++)); do
        if "$@" >/dev/null 2>&1; then _ok "$what"; return 0; fi
        sleep 0.1
    done
    _not_ok "$what" "not within ${secs}s"
    return 1
}

finish() {
    echo "RESULT passed=$CHECK_PASSED failed=$CHECK_FAILED"
    [ "$CHECK_FAILED" -eq 0 ]
}
