# A keyed send does not wait for a send of the same key in progress.
catches="isolation:dedup_concurrent"
mutate() {
    sub src/dedup.c "	(void) LockAcquire(&tag, ExclusiveLock, false, false);" ""
}
