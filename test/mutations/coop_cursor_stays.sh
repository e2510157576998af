# A subconsumer takes a window without moving the cooperative consumer's
# cursor: the next member gets the same events.
catches="isolation:coop_members regress:16_coop"
mutate() {
    sub src/coop.c "	consume_batch_insert(&parent, 'd', snap);
	*b = parent;" "	*b = parent;"
}
