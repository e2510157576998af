# A transaction's first insert goes where the backend inserted last, not
# to the table's end: an early block with room takes it below the bound.
catches="isolation:heap_range"
mutate() {
    sub src/send.c '	heap_range_before_insert(w->rel);' ''
}
