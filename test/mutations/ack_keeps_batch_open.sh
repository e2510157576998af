# ack reports success but leaves the batch open: every event comes again.
catches="script:crash_recovery"
mutate() {
    sub src/consume.c "			batch_close(batch_id, split ? 's' : 'd', snap);" "			if (split)
				batch_close(batch_id, 's', snap);"
}
