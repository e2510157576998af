# The two ticks of a window are looked up with "tick_id = any(array[...])",
# which the planner turns into a filter over every tick of the queue.
catches="regress:12_plans"
mutate() {
    sub src/batch.c '" where tick_queue OPERATOR(pg_catalog.=) $1 and tick_id OPERATOR(pg_catalog.=) $2"
										  " union all "
										  "select tick_id, tick_snapshot, tick_heap, tick_since from pgque.tick"
										  " where tick_queue OPERATOR(pg_catalog.=) $1 and tick_id OPERATOR(pg_catalog.=) $3",' \
        '" where tick_queue OPERATOR(pg_catalog.=) $1 and tick_id OPERATOR(pg_catalog.=) ANY (ARRAY[$2, $3])",'
}
