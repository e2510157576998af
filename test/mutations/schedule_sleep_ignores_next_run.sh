# The worker's sleep does not end at the earliest next run of a schedule:
# events are sent only when it wakes for other work (pgque.naptime), late.
catches="script:schedule_worker"
mutate() {
    sub src/worker.c "	if (st->next_schedule > now)
		st->wait_ms = Min(st->wait_ms, (st->next_schedule - now + 999) / 1000);
	else if (st->next_schedule != 0)
		/* due but skipped: locked by a transaction that changes it */
		st->wait_ms = Min(st->wait_ms, SCHEDULE_RECHECK_MS);" ""
}
