#!/usr/bin/env bash
# Installs the client build into a temporary prefix, then builds and runs a
# small project against it twice: through find_package(pgque) and through
# pkg-config -- the latter with nothing but what `pkg-config --cflags --libs`
# gives, and run without LD_LIBRARY_PATH: the installed pgque.pc must be
# enough for the program to start. Also runs the installed CLI.
#   run.sh BUILD_DIR THIS_DIR [CMAKE]
set -euo pipefail
build=$1
src=$2
cmake=${3:-cmake}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"

"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log"
for f in include/pgque/pgque.hpp include/pgque/version.hpp; do
    [ -f "$prefix/$f" ] || { echo "not installed: $f"; exit 1; }
done
config=$(find "$prefix" -name pgque-config.cmake | head -1)
pc=$(find "$prefix" -name pgque.pc | head -1)
[ -n "$config" ] || { echo "no pgque-config.cmake installed"; exit 1; }
[ -n "$pc" ] || { echo "no pgque.pc installed"; exit 1; }

echo "== find_package(pgque)"
version=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" "$src/../../../pgque.control")
"$cmake" -S "$src" -B "$work/build" -DCMAKE_PREFIX_PATH="$prefix" -DPGQUE_EXPECTED_VERSION="$version" \
    >"$work/configure.log" ||
    { cat "$work/configure.log"; exit 1; }
"$cmake" --build "$work/build" >"$work/build.log" || { cat "$work/build.log"; exit 1; }
"$work/build/fp_consumer"

echo "== pkg-config pgque"
export PKG_CONFIG_PATH="$(dirname "$pc")"
flags=$(pkg-config --cflags --libs pgque)
echo "pkg-config: $flags"
libdir=$(pkg-config --variable=libdir pgque)
[ -d "$libdir" ] || { echo "pkg-config libdir $libdir does not exist"; exit 1; }
case " $flags " in
    *" -Wl,-rpath,$libdir "*) ;;
    *) echo "pkg-config --libs pgque has no -Wl,-rpath,$libdir: $flags"; exit 1 ;;
esac
# shellcheck disable=SC2086  # $flags is a list of words
${CXX:-c++} -std=c++17 "$src/main.cpp" -o "$work/fp_pc" $flags
env -u LD_LIBRARY_PATH "$work/fp_pc"

echo "== installed CLI"
"$prefix/bin/pgque" --version
echo "find_package test passed"
