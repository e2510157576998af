# A keyed send looks the key up with the transaction's snapshot instead of
# a dirty one: it neither waits for a first send in progress nor sees one
# that committed after a REPEATABLE READ snapshot.
catches="isolation:dedup_concurrent"
mutate() {
    sub src/dedup.c "	scan = index_beginscan(heap, index, &dirty, 2, 0);" "	scan = index_beginscan(heap, index, GetTransactionSnapshot(), 2, 0);"
}
