# Rotation empties the oldest table with DELETE instead of TRUNCATE: the
# events are gone all the same, but their rows stay behind as dead tuples.
catches="script:soak_short"
mutate() {
    sub extension/70_maint.sql "execute 'truncate ' || v_tbl;" "execute 'delete from ' || v_tbl;"
}
