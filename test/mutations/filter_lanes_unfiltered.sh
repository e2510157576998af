# A consumer's priority lanes are subscribed without its filter.
catches="regress:30_filters"
mutate() {
    sub src/lanes.c "										  \"        s.sub_types, s.sub_labels\"" "										  \"        null, null\""
}
