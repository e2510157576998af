# A window's lower bound comes from its first tick's end alone, not from
# where the transactions running at that tick started writing
# (tick_since): a writer open across ticks loses its first events.
catches="isolation:heap_range"
mutate() {
    sub src/heap_range.c 'for (i = 0; i < prev_snap->nxip; i++)' 'for (i = 0; i < 0; i++)'
}
