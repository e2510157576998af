# A lease that expires on the message's last allowed try puts it back into
# the queue instead of the dead letters: a consumer that dies on it gets it
# for ever.
catches="regress:29_lease"
mutate() {
    sub extension/50_retry.sql "d.ev_lease is not null and d.ev_retry > p.queue_max_retries as last_try" "false as last_try"
}
