# A held queue is not ticked when ticker_max_count events came: one tick
# can grow to everything sent within tick_defer.
catches="script:adaptive_tick"
mutate() {
    sub src/queue_cache.c '		held = e->held_events < e->ticker_max_count;' '		held = true;'
}
