# Build and install pgque for a benchmark. Source this file; then
#   bench_install NAME
# sets destdir (where `make install` put it: "" for the system's tree, or
# the root of the private server copy PGBIN points into, see
# test/lib/cluster.sh), so (the installed pgque.so) and build_note (what
# the results should say about the build). It builds and installs only from
# a clean tree: others may be editing src/ or extension/; then it uses what
# is installed and says so.
bench_install() {
    local sysbin
    sysbin=$(pg_config --bindir)
    destdir=""
    if [ "$PGBIN" != "$sysbin" ] && [ "${PGBIN%"$sysbin"}" != "$PGBIN" ]; then
        destdir=${PGBIN%"$sysbin"}
    fi
    so=$destdir$(pg_config --pkglibdir)/pgque.so
    if [ -z "$(git status --porcelain src extension 2>/dev/null)" ]; then
        make -s >/dev/null
        make -s install ${destdir:+DESTDIR="$destdir"} >/dev/null
        build_note="built from commit $(git rev-parse --short HEAD) and installed${destdir:+ into $destdir}"
    else
        echo "$1: src/ or extension/ has uncommitted changes: not rebuilding, using the installed pgque" >&2
        build_note="the installed build, not rebuilt (src/ or extension/ had uncommitted changes on top of $(git rev-parse --short HEAD))"
    fi
}
