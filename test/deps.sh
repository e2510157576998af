#!/usr/bin/env bash
# Install what building and testing pgque needs, if it is missing.
# Debian 12 with the PostgreSQL 15 server is assumed; everything else comes
# from Debian's packages. Safe to run again: it installs only what is absent.
set -euo pipefail

packages=(
    make gcc g++ cmake pkg-config
    postgresql-15 postgresql-client-15 postgresql-server-dev-15
    libpq-dev libgtest-dev libgmock-dev libcpp-httplib-dev nlohmann-json3-dev
    pgbouncer prometheus prometheus-postgres-exporter curl python3 python3-yaml
    chromium chromium-driver
)
# extra packages for the benchmarks (bench/run.sh passes --bench) and the
# pictures in docs/ (make diagrams passes --docs)
case "${1:-}" in
    --bench) packages+=(postgresql-15-pgq3 libbenchmark-dev gnuplot-nox) ;;
    --docs) packages+=(graphviz gnuplot-nox) ;;
esac

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then
        SUDO=sudo
    else
        echo "need root to install: apt-get install ${missing[*]}" >&2
        exit 1
    fi
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

# Debian starts pgbouncer (port 6432), prometheus (9090) and
# prometheus-postgres-exporter (9187) as services on install; the tests run
# their own (test/scripts/pgbouncer.sh, prometheus.sh, postgres_exporter.sh),
# so stop and disable the services
for service in pgbouncer prometheus prometheus-postgres-exporter; do
    [[ " ${missing[*]} " == *" $service "* ]] || continue
    if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
        $SUDO systemctl disable --now "$service" >/dev/null 2>&1 || true
    else
        $SUDO service "$service" stop >/dev/null 2>&1 || true
        $SUDO update-rc.d "$service" disable >/dev/null 2>&1 || true
    fi
done
if [[ " ${missing[*]} " == *" pgbouncer "* ]]; then
    pidfile=/var/run/postgresql/pgbouncer.pid
    if [ -f "$pidfile" ]; then
        $SUDO kill "$(cat "$pidfile")" 2>/dev/null || true
    fi
fi
