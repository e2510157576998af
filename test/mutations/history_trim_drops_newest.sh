# History trimming forgets that the newest row of a subscriber is its
# position: an idle consumer's cursor is deleted with the history.
catches="regress:28_batch_history"
mutate() {
    sub extension/70_maint.sql "                       and h.batch_closed < v_cutoff
                       and exists" "                       and h.batch_closed < v_cutoff
                       and true or exists"
}
