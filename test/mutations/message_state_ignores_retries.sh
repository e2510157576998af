# message_state does not look at the retry queue and the dead letters.
catches="regress:22_message_state"
mutate() {
    sub extension/82_message_state.sql "         where rr.ev_owner = s.sub_id and rr.ev_id = msg_id;" "         where false;"
    sub extension/82_message_state.sql "         where d.dl_queue_id = v_parent and d.dl_consumer_id = s.co_id and d.ev_id = msg_id;" "         where false;"
}
