# ack reports success but leaves the batch open: every event comes again.
catches="script:crash_recovery"
mutate() {
    sub src/consume.c "			else
				batch_close(batch_id, 'd', snap);" "			else
				(void) 0;"
}
