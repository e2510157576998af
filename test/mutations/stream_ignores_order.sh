# get_batch_events writes a window's rows as they are read even when they
# do not come in ev_id order (a retried copy keeps its old ev_id): the
# batch is not returned in ev_id order.
catches="regress:27_event_rows"
mutate() {
    sub src/batch.c "		if ((s->nrows > 0 && ev_id <= s->last_ev) ||
			!event_row_put(" "		if (!event_row_put("
}
