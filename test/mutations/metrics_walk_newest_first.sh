# metrics() walking back to a consumer's cursor takes the newest tick that
# brought events after it, not the oldest: the oldest pending event's age
# comes out too small.
catches="regress:25_metrics"
mutate() {
    sub src/metrics.c '	while (--k >= 0 && *first == NULL)
		if (w->t[k].event_seq > cur->event_seq)
			*first = &w->t[k];' '	while (--k >= 0)
		if (w->t[k].event_seq > cur->event_seq)
			*first = &w->t[k];'
}
