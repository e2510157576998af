# receive (and next_batch, receive_coop) read a queue's priority lanes
# lowest priority first.
catches="regress:24_priority"
mutate() {
    sub src/lanes.c '										  " order by l.queue_priority desc",' '										  " order by l.queue_priority",'
}
