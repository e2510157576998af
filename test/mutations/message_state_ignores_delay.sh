# message_state does not look into the delay buckets, or takes a moved
# row of a bucket as still waiting.
catches="regress:22_message_state"
mutate() {
    sub extension/82_message_state.sql "                exit when v_delay_at is not null;" "                v_delay_at := null;"
}
