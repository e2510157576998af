# A receive that reaches the newest tick of a held queue does not wake the
# worker: a consumer that catches up waits for the hold to run out.
catches="script:adaptive_tick"
mutate() {
    sub src/wakeup.c '	if (pgque_shared == NULL || !queue_cache_note_reached(queue_id, tick_id))' '	if (pgque_shared == NULL || !queue_cache_note_reached(queue_id, tick_id) || true)'
}
