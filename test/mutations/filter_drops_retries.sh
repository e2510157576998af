# A retried copy goes through the filter again: after set_filter narrowed,
# a nacked event (or an expired lease) is passed over and lost.
catches="regress:30_filters"
mutate() {
    sub src/consume.c "		if (filtering && heap_attisnull(ev->events[i].tuple, EV_OWNER + 1, ev->desc) &&
			!sub_filter_passes" "		if (filtering &&
			!sub_filter_passes"
}
