# The worker's history trim looks past the floor it was given: rows that are
# not yet passed over are deleted -- history the range was not told about.
catches="regress:28_batch_history"
mutate() {
    sub extension/70_maint.sql "                 where h.batch_id >= from_id
                   and h.batch_id < coalesce(v_to, 9223372036854775807)" "                 where true"
}
