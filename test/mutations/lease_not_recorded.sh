# receive_leased acknowledges the batch without writing the leases: a
# message that is never acked is lost.
catches="regress:29_lease isolation:lease_ack_race"
mutate() {
    sub extension/47_lease.sql "             cross join lateral pgque._open_batch(d.batch_id) o) b on b.batch_id = m.batch_id
    on conflict" "             cross join lateral pgque._open_batch(d.batch_id) o) b on b.batch_id = m.batch_id
     where false
    on conflict"
}
