# message_state does not look at the open batches of a cooperative
# consumer's members.
catches="regress:22_message_state"
mutate() {
    sub extension/82_message_state.sql "                  where sc.sc_sub = s.sub_id and b.batch_state = 'o'" "                  where false"
}
