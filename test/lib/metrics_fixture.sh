# A database in which every family of pgque.metrics() has samples with
# known values, for the scripts that check what scrapers make of them
# (test/scripts/postgres_exporter.sh, test/scripts/dashboard_alerts.sh).
# Source after cluster.sh and check.sh; the cluster needs
# "pgque.maint_period = 1" so that rotation is tried every second. Then:
#   metrics_fixture CLUSTER DB
# leaves, in DB:
#   queue expq (rotation period 1 s), 37 events sent and ticked;
#     consumer c has read nothing: 37 pending;
#     consumer d read the batch, nacked one event for a retry in an hour and
#       one into the dead letters, and acknowledged it: 0 pending,
#       1 retry waiting, 1 dead letter;
#     consumer e holds the batch open: 37 pending, 1 batch open;
#     rotation is blocked by a consumer that has not read past the switch;
#   queue 'odd "q" \ x<newline>y' (every character the label format escapes)
#     with consumer 'c"2': 0 pending;
#   queue expsched with schedule yearly ("0 0 1 1 *"): 0 runs, not failing.
# Returns non-zero (after a "not ok" line) if the state is not reached.

ODD_QUEUE=$'odd "q" \\ x\ny'

metrics_fixture() {
    local c=$1 db=$2
    _mf() { cluster_psql "$c" -X -q -At -d "$db" -c "$1"; }
    cluster_psql "$c" -q -c "create database $db" >/dev/null || return 1
    _mf "create extension pgque" || return 1
    _mf "select pgque.create_queue('expq'), pgque.set_queue_config('expq', 'rotation_period', '1 second')" >/dev/null
    _mf "select pgque.subscribe('expq', 'c'), pgque.subscribe('expq', 'd'), pgque.subscribe('expq', 'e')" >/dev/null
    _mf "select count(pgque.send('expq', 'e' || i)) from generate_series(1, 37) i" >/dev/null
    _mf "select pgque.force_tick('expq')" >/dev/null
    _mf_ticked() { [ "$(_mf "select pending_events from pgque.get_consumer_info('expq', 'c')")" = 37 ]; }
    wait_until "fixture: the 37 events are ticked" 20 _mf_ticked || return 1

    # d: a dead letter (max_retries 0: the first nack gives up), then a retry
    # (max_retries back to its default), then the batch is done
    local pick="select x.batch_id, x.m from (select m.batch_id, m from pgque.receive('expq', 'd', 100) m order by m.msg_id"
    _mf "select pgque.set_queue_config('expq', 'max_retries', '0')" >/dev/null
    _mf "select pgque.nack(y.batch_id, y.m, '1 hour', 'fixture: dead') from ($pick limit 1) x) y" >/dev/null
    _mf "select pgque.set_queue_config('expq', 'max_retries', null)" >/dev/null
    _mf "select pgque.nack(y.batch_id, y.m, '1 hour', 'fixture: retry') from ($pick offset 1 limit 1) x) y" >/dev/null
    _mf "select pgque.ack(batch_id) from pgque.receive('expq', 'd', 100) limit 1" >/dev/null
    # e: a batch handed out and never acknowledged
    _mf "select count(*) from pgque.receive('expq', 'e', 100)" >/dev/null

    # psql interpolates :'q' (quoted) only in what it reads, not in -c
    echo "select pgque.create_queue(:'q'), pgque.subscribe(:'q', 'c\"2')" |
        cluster_psql "$c" -X -q -d "$db" -v q="$ODD_QUEUE" >/dev/null || return 1
    _mf "select pgque.create_queue('expsched'), pgque.schedule('yearly', 'expsched', '0 0 1 1 *', 'tick', 'x')" >/dev/null

    local state
    state=$(_mf "select (select count(*) from pgque.retry_queue), (select count(*) from pgque.dead_letter),
                        (select count(*) from pgque.batch where batch_state = 'o')")
    check_eq "fixture: 1 retry waiting, 1 dead letter, 1 batch open" "1|1|1" "$state"
    [ "$state" = "1|1|1" ] || return 1
    # the worker rotates once (every cursor is past the first switch), then
    # c and e stay behind the next one
    _mf_blocked() { [[ "$(_mf "select rotation_blocked_by from pgque.get_queue_info('expq')")" == 'consumer '* ]]; }
    wait_until "fixture: rotation of expq is blocked by a consumer" 30 _mf_blocked
}
