# metrics() counts what a lane holds under the lane, not its queue: the
# dead letter of a priority event is not reported.
catches="regress:25_metrics"
mutate() {
    sub src/metrics.c '"select coalesce(l.queue_lane_of, l.queue_id), x.kind, count(*)::float8"' '"select l.queue_id, x.kind, count(*)::float8"'
}
