# The retry verdict (shared by nack and nack_message) never gives up: a
# poison message is retried for ever instead of reaching the dead letters.
catches="regress:07_dead_letter regress:29_lease"
mutate() {
    sub extension/50_retry.sql "    if coalesce(retry_count, 0) >= q.queue_max_retries then" "    if false then"
}
