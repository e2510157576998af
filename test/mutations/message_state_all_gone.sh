# message_state calls every event it cannot find rotated away (gone).
catches="regress:22_message_state"
mutate() {
    sub extension/82_message_state.sql "            if msg_id <= v_oldest then" "            if true then"
}
