# A move takes only rows due after the watermark: a producer that commits
# after its event was due (and after a move passed that time) is never moved.
catches="isolation:delay_late_commit"
mutate() {
    sub extension/55_delay.sql "                or (d.ev_deliver_at <= \$2 and d.ev_txid >= pg_snapshot_xmin(\$3)
                    and not pg_visible_in_snapshot(d.ev_txid, \$3))
        ), moved as (" "        ), moved as ("
}
