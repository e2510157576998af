# receive reads the whole window on every call (as 0.1.0 did): a drain
# of one large tick costs the square of its size.
catches="regress:15_heap_range"
mutate() {
    sub src/consume.c 'window_events(&b, snap, 0, ranges ? max_return : 0, false, &ev);' 'window_events(&b, snap, 0, 0, false, &ev);'
}
