# Rotation step 1 no longer waits for the queue's rotation_period.
catches="regress:08_rotation"
mutate() {
    sub extension/70_maint.sql 'or q.queue_switch_time + q.queue_rotation_period > now() then' 'then'
}
