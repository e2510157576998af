# receive ignores a paused queue or consumer.
catches="regress:20_pause"
mutate() {
    sub src/consume.c "	for (attempt = 0; attempt < RECEIVE_MAX_EMPTY && !sub.paused; attempt++)" "	for (attempt = 0; attempt < RECEIVE_MAX_EMPTY; attempt++)"
}
