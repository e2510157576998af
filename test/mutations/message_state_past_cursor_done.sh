# message_state calls every event after a consumer's cursor done.
catches="regress:22_message_state"
mutate() {
    sub extension/82_message_state.sql "             when not v.next_sees then 'ahead'" "             when not v.next_sees then 'read'"
    sub extension/82_message_state.sql "then case when v.next_sees then 'read' else 'ahead' end" "then 'read'"
}
