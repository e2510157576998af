# A filtered consumer's windows sized by max_return: 16 empty windows end a
# receive while a match waits further on.
catches="regress:30_filters"
mutate() {
    sub src/consume.c "	window_max = sub_filter_active(&sub.filter) ? max_batch_events : Min(max_return, max_batch_events);" "	window_max = Min(max_return, max_batch_events);"
}
