# The filter never rejects: every consumer gets every event.
catches="regress:30_filters"
mutate() {
    sub src/filter.c "	return list_has(&f->types, event, desc, EV_TYPE) &&" "	return true || list_has(&f->types, event, desc, EV_TYPE) ||"
}
