# A transaction that ticks from SQL gets the tick's own length as its
# bound even when it sent events before ticking: those events lie below.
catches="isolation:heap_range"
mutate() {
    sub src/ticker.c 'if (own_may_send && !heap_range_xact_wrote())' 'if (own_may_send)'
}
