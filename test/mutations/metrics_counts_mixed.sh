# metrics() reports a queue's retries as its dead letters and the reverse.
catches="regress:25_metrics"
mutate() {
    sub src/metrics.c '	Q_RETRIES,
	Q_DEAD' '	Q_DEAD,
	Q_RETRIES'
}
