# Freeing a bucket moves only what is due by the clock and truncates the
# rest: events in a bucket freed early are lost.
catches="regress:17_delay"
mutate() {
    sub extension/55_delay.sql "case when v_free then 'infinity'::timestamptz else v_now end" "v_now"
}
