# A keyed send looks the key up with the transaction's snapshot: a
# REPEATABLE READ producer misses a first send that committed after it.
catches="isolation:dedup_concurrent"
mutate() {
    sub src/dedup.c "	snap = RegisterSnapshot(GetLatestSnapshot());" "	snap = RegisterSnapshot(GetTransactionSnapshot());"
}
