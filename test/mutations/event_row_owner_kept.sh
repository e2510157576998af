# get_batch_events' fast path (the event's data area copied whole) taken
# for a retried copy too, whose ev_owner takes 4 bytes: every later column
# is read 4 bytes off.
catches="regress:27_event_rows"
mutate() {
    sub src/event_row.c "	whole = m->skip_owner && sbits != NULL && att_isnull(EV_OWNER, sbits);" "	whole = m->skip_owner && sbits != NULL;"
}
