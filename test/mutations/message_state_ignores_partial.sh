# message_state takes a batch's whole window as handed out (partial
# receives ignored).
catches="regress:22_message_state"
mutate() {
    sub extension/82_message_state.sql "                  and ev_key > pgque._pos_key(b.batch_end_pos, cur_table) then 'unsent'" "                  and false then 'unsent'"
    sub extension/82_message_state.sql "                  and (b.batch_start_pos is not null or b.batch_start_ev is not null) then 'unsent'" "                  and false then 'unsent'"
}
