# PgQ's rotation bug put back: the producer reads the current event table
# through its transaction snapshot (a REPEATABLE READ producer keeps seeing
# the table that was current when its snapshot was taken), and the shared
# cache is bypassed. An event written into the old table after the switch,
# with an xid above step 2, is read by no batch.
catches="isolation:rotation_old_snapshot"
mutate() {
    sub src/send.c 'if (queue_name == NULL ||' 'if (true ||'
    sub src/send.c 'snap = RegisterSnapshot(GetLatestSnapshot());' 'snap = RegisterSnapshot(GetTransactionSnapshot());'
}
