# metrics() takes a tick met walking back from the newest as the cursor's
# without checking its id: a consumer behind gets another tick's lag.
catches="regress:25_metrics"
mutate() {
    sub src/metrics.c '	if (k == w->n || w->t[k].id != cur_id)
		return false;' '	if (k == w->n)
		return false;'
}
