#!/usr/bin/env bash
# libpgque.so is built with -fvisibility=hidden: only what the public headers
# mark PGQUE_EXPORT may be in its dynamic symbol table. Checks that API
# symbols are exported and that internal ones (src/text.hpp's
# pgque::detail, anonymous namespaces) are not, although they are in the
# library.
#   visibility.sh LIBRARY [NM]
set -euo pipefail
lib=$1
nm=${2:-nm}
[ -n "$nm" ] || nm=nm

dynamic=$("$nm" -D --defined-only -C "$lib")
failed=0

exported() {
    if ! grep -qF -- "$1" <<<"$dynamic"; then
        echo "FAIL: API symbol not exported: $1"
        failed=1
    fi
}
hidden() {
    local found
    found=$(grep -E -- "$1" <<<"$dynamic" || true)
    if [ -n "$found" ]; then
        echo "FAIL: internal symbol(s) exported (pattern $1):"
        echo "$found" | head -5
        failed=1
    fi
}

# the API: functions, constructors, and the type_info of the exceptions
# (a catch in the application must match what the library throws)
exported 'pgque::client::send('
exported 'pgque::client::send_at('
exported 'pgque::client::pause_queue('
exported 'pgque::consumer::run()'
exported 'pgque::transaction::commit()'
exported 'pgque::throw_sql_error('
exported 'pgque::client_version()'
exported 'pgque::to_string(pgque::run_result)'
exported 'typeinfo for pgque::queue_not_found'
exported 'typeinfo for pgque::usage_error'
exported 'typeinfo for pgque::in_doubt_error'

# internals: src/text.hpp, and helpers in anonymous namespaces
hidden 'pgque::detail::'
hidden 'pgque::\(anonymous namespace\)'
hidden '\b(array_literal|parse_int64|parse_int64_array|parse_bool|parse_double|micros_param|from_epoch_micros|to_epoch_micros)\('

# the check above must not pass because the helpers are missing altogether:
# they are in the library's own symbol table (unless it was stripped)
static=$("$nm" --defined-only -C "$lib" 2>/dev/null || true)
if [ -n "$static" ]; then
    if ! grep -qF 'pgque::detail::parse_int64(' <<<"$static"; then
        echo "FAIL: pgque::detail::parse_int64 is not in $lib at all; the check proves nothing"
        failed=1
    fi
else
    echo "note: $lib has no static symbol table (stripped); presence not checked"
fi

count=$(grep -c 'pgque::' <<<"$dynamic" || true)
if [ "$failed" -ne 0 ]; then
    echo "visibility check failed for $lib"
    exit 1
fi
echo "visibility ok: $count exported pgque symbols, no internals"
