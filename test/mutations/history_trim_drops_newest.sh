# History trimming forgets that the newest row of a subscriber is its
# position: an idle consumer's cursor is deleted with the history.
catches="regress:28_batch_history"
mutate() {
    sub extension/70_maint.sql "    if all_rows then
        delete from pgque.batch b
         where b.batch_id in (
                select h.batch_id from pgque.batch h
                 where h.batch_state <> 'o'
                   and h.batch_closed < v_cutoff
                   and exists" "    if all_rows then
        delete from pgque.batch b
         where b.batch_id in (
                select h.batch_id from pgque.batch h
                 where h.batch_state <> 'o'
                   and h.batch_closed < v_cutoff
                   and true or exists"
}
