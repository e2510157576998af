# The worker's planning looks only past the watermark: an event whose
# producer committed after it was due waits until its bucket's span ends.
catches="script:worker_behavior"
mutate() {
    sub extension/55_delay.sql "'              (select d.ev_deliver_at from %1\$I.%2\$I d'" "'              (select null::timestamptz from %1\$I.%2\$I d'"
}
