# A new worker keeps its predecessor's holds: senders to those queues do
# not wake it, though it holds nothing.
catches="script:adaptive_tick"
mutate() {
    sub src/worker.c '		queue_cache_release_all();
		work->all = true;' '		work->all = true;'
}
