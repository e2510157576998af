# maint_dedup empties the previous epoch's table (keys younger than the
# window) instead of the one two epochs old.
catches="regress:23_dedup"
mutate() {
    sub extension/25_dedup.sql "    v_next := (pgque._dedup_epoch(clock_timestamp(), v_ring.dr_period) + 1) % 3;" "    v_next := (pgque._dedup_epoch(clock_timestamp(), v_ring.dr_period) + 2) % 3;"
    sub extension/25_dedup.sql "    if (pgque._dedup_epoch(clock_timestamp(), v_ring.dr_period) + 1) % 3 <> v_next then" "    if (pgque._dedup_epoch(clock_timestamp(), v_ring.dr_period) + 2) % 3 <> v_next then"
}
