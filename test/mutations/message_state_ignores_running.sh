# message_state sees only committed rows: an event whose send is still
# running is reported unknown.
catches="isolation:message_state"
mutate() {
    sub src/message_state.c "	InitDirtySnapshot(dirty);" "	InitDirtySnapshot(dirty);
	dirty = *GetActiveSnapshot();"
}
