# A move does not record how far it got: every call moves the same rows again.
catches="regress:17_delay isolation:delay_late_commit"
mutate() {
    sub extension/55_delay.sql "        update pgque.delay_bucket set db_moved_until = v_now, db_moved_snap = v_snap
         where db_table = bucket;" "        null;"
}
