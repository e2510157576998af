# The worker never holds a tick back: every busy queue ticks every
# tick_period again, whether or not a consumer waits for it.
catches="script:adaptive_tick"
mutate() {
    sub src/worker.c '	return queue_cache_hold(queue_relid, queue_id, last_id, last, now, pgque_tick_defer, until);' '	return false;'
}
