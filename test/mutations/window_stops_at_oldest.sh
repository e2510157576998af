# A window's lower bound is taken from the oldest running transaction of
# its first tick only: a younger one can have a lower bound (the tick's
# own transaction's bound is its own length), and its first events are lost.
catches="isolation:heap_range"
mutate() {
    sub src/heap_range.c '			low = Min(low, step_low(step_of(prev, prev_snap->xip[i]), table_no, file));' \
        '		{ low = Min(low, step_low(step_of(prev, prev_snap->xip[i]), table_no, file)); break; }'
}
