# The tick id is drawn before the tick's snapshot: after a checkpoint the
# sequence's WAL record gives the ticker an xid, which the tick then lists
# as running, and the next ticker() ticks again with nothing new.
catches="regress:03_ticker"
mutate() {
    sub src/ticker.c 'tick_id = insert_tick(&q, -1, now, -1, !by_worker, &last, &lock);' \
        'tick_id = insert_tick(&q, nextval_internal(pgque_tick_seq_oid(queue_id), false), now, -1, !by_worker, &last, &lock);'
}
