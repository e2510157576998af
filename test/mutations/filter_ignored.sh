# The filter is never applied: every consumer gets every event.
catches="regress:30_filters"
mutate() {
    sub src/consume.c "		if (filtering && !sub_filter_passes(filter, ev->events[i].tuple, ev->desc))
			continue;" ""
}
