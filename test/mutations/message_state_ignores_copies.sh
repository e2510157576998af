# message_state reads the original row only, not a consumer's retried copy.
catches="regress:22_message_state"
mutate() {
    sub extension/82_message_state.sql " where u.own = s.sub_id or u.own is null" " where u.own is null"
}
