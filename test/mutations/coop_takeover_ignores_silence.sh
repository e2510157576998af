# Takeover does not check how long the holder has been silent: a live
# member's batch is handed to another.
catches="isolation:coop_members"
mutate() {
    sub src/coop.c '"       (pg_catalog.now() OPERATOR(pg_catalog.-) $3)"' '"       (pg_catalog.now() OPERATOR(pg_catalog.+) $3)"'
}
