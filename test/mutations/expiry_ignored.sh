# message_ttl is read but never applied: expired events are handed out.
catches="regress:19_expiry"
mutate() {
    sub src/consume.c "		bool		expiring = ranges && sub.ttl > 0;" "		bool		expiring = false;"
}
