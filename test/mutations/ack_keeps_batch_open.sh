# ack reports success but leaves the batch open: every event comes again.
catches="script:crash_recovery"
mutate() {
    sub src/consume.c "			consume_batch_close(batch_id, split ? 's' : 'd', snap);" "			if (split)
				consume_batch_close(batch_id, 's', snap);"
}
