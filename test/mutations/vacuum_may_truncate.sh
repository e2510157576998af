# Event tables without vacuum_truncate = false: a VACUUM cuts the dead end
# off a table, and the next events land below the last tick's bound.
catches="regress:15_heap_range"
mutate() {
    sub extension/10_queue.sql ', vacuum_truncate = false)' ')'
}
