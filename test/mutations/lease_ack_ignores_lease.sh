# ack_message settles a message whatever lease it names: a client whose
# lease expired acks the delivery another client is working on now.
catches="regress:29_lease"
mutate() {
    sub extension/47_lease.sql "     where r.ev_owner = any (v_subs) and r.ev_id = i_msg_id and r.ev_lease = i_lease;
    return found;" "     where r.ev_owner = any (v_subs) and r.ev_id = i_msg_id;
    return found;"
}
