# Two first senders of a key look it up at the same time and both find
# nothing: the key's lock is not taken.
catches="script:dedup_race"
mutate() {
    sub src/dedup.c "		(void) LockAcquire(&tag, ExclusiveLock, false, false);" ""
    sub src/dedup.c "			LockRelease(&tag, ExclusiveLock, false);
			XactLockTableWait" "			XactLockTableWait"
    sub src/dedup.c "		if (ev_id != 0)
			LockRelease(&tag, ExclusiveLock, false);" ""
    sub src/dedup.c "	key_lock_tag(&tag, PG_GETARG_INT32(0), PG_GETARG_TEXT_PP(1));
	LockRelease(&tag, ExclusiveLock, false);" ""
}
