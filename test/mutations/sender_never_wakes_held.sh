# A sender thinks every queue is held and never wakes the worker: a
# consumer that waits gets its events only when the worker wakes on its own.
catches="script:adaptive_tick"
mutate() {
    sub src/wakeup.c '		if (!queue_cache_note_committed(pending[i], Max(pending_events[i], 1)))
			wake = true;' '		(void) queue_cache_note_committed(pending[i], Max(pending_events[i], 1));'
}
