# A read that passes every event over hands out nothing and leaves the
# window where it was, so the consumer never moves and rotation waits for it.
catches="regress:30_filters"
mutate() {
    sub src/consume.c "			/* an empty batch closes on its own; try the next window */
			if (!is_new)" "			if (passing)
				break;
			/* an empty batch closes on its own; try the next window */
			if (!is_new)"
}
