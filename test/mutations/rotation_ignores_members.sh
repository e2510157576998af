# Rotation looks only at the cooperative consumer's cursor, which moves on as
# soon as a subconsumer takes a window: a table is recycled under a batch a
# member still holds.
catches="regress:16_coop"
mutate() {
    sub extension/70_maint.sql "and b.batch_member > '' and b.batch_state = 'o') c" "and false) c"
}
