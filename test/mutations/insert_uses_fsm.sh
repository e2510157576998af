# Inserts consult the free space map: after a VACUUM they fill the room
# left by a rolled-back transaction, below the last tick's bound.
catches="regress:15_heap_range"
mutate() {
    sub src/send.c 'HEAP_INSERT_SKIP_FSM' '0'
}
