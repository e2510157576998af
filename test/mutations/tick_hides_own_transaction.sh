# A tick no longer lists its own transaction as running: a transaction that
# ticks, subscribes and then sends puts its events before the tick the new
# consumer starts from.
catches="isolation:tick_then_send"
mutate() {
    sub src/ticker.c 'tick_snapshot_take(cur_snap, next, own_may_send);' 'tick_snapshot_take(cur_snap, next, false);'
}
