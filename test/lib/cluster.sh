# Throwaway PostgreSQL clusters for tests, the demo and benchmarks.
# Source this file; then:
#   cluster_init NAME PORT [postgresql.conf lines...]   create (replacing any old one)
#   cluster_start NAME / cluster_stop NAME / cluster_kill NAME / cluster_restart NAME
#   cluster_psql NAME [psql args...]                      psql as postgres
#   cluster_dir NAME                                      where it lives
# Clusters live under build/clusters/NAME when the postgres user can reach
# that directory, otherwise under /tmp. PostgreSQL refuses to run as root,
# so when we are root every server command runs as the postgres user.

PGQUE_ROOT=${PGQUE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

as_postgres() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# The directory of cluster NAME (created on first use).
cluster_dir() {
    local name=$1 base
    base="$PGQUE_ROOT/build/clusters"
    mkdir -p "$base"
    [ "$(id -u)" = 0 ] && chown postgres: "$base"
    # the socket path must stay short, and postgres must be able to reach it
    if [ ${#base} -gt 70 ] || ! as_postgres test -w "$base"; then
        base="/tmp/pgque-clusters"
        mkdir -p "$base"
        [ "$(id -u)" = 0 ] && chown postgres: "$base"
    fi
    echo "$base/$name"
}

cluster_init() {
    local name=$1 port=$2 dir
    shift 2
    dir=$(cluster_dir "$name")
    cluster_stop "$name" 2>/dev/null || true
    rm -rf "$dir"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_postgres "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
        --locale=C >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log"; return 1; }
    {
        echo "port = $port"
        echo "listen_addresses = ''"
        echo "unix_socket_directories = '$dir'"
        echo "shared_preload_libraries = 'pgque'"
        echo "max_worker_processes = 32"
        echo "max_connections = 100"
        echo "log_min_messages = warning"
        echo "logging_collector = off"
        for line in "$@"; do echo "$line"; done
    } >>"$dir/data/postgresql.conf"
    echo "$port" >"$dir/port"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir/port"
    return 0
}

cluster_port() { cat "$(cluster_dir "$1")/port"; }

cluster_start() {
    local dir
    dir=$(cluster_dir "$1")
    as_postgres "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
        { tail -n 30 "$dir/server.log"; return 1; }
}

cluster_stop() {
    local dir
    dir=$(cluster_dir "$1")
    [ -f "$dir/data/postmaster.pid" ] || return 0
    as_postgres "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
}

cluster_restart() {
    local dir
    dir=$(cluster_dir "$1")
    as_postgres "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w -t 60 restart >/dev/null
}

# kill -9 the postmaster (a crash); its children go when they notice
cluster_kill() {
    local dir pid
    dir=$(cluster_dir "$1")
    pid=$(head -1 "$dir/data/postmaster.pid" 2>/dev/null) || return 0
    kill -9 "$pid" 2>/dev/null || true
    # wait for the children to leave so the next start finds no shared memory in use
    for _ in $(seq 100); do
        pgrep -f -- "-D $dir/data" >/dev/null || pgrep -P "$pid" >/dev/null || break
        sleep 0.1
    done
}

# Connection string for libpq clients.
cluster_dsn() {
    local name=$1 db=${2:-postgres}
    echo "host=$(cluster_dir "$name") port=$(cluster_port "$name") user=postgres dbname=$db"
}

cluster_psql() {
    local name=$1
    shift
    psql -X -q -v ON_ERROR_STOP=1 -h "$(cluster_dir "$name")" -p "$(cluster_port "$name")" \
        -U postgres "$@"
}
