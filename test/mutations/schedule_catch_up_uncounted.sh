# After downtime the catch-up event says nothing was missed: the slots of
# the outage are skipped silently.
catches="regress:21_schedule script:schedule_worker"
mutate() {
    sub src/schedule.c "	values[1] = Int64GetDatum(missed);" "	values[1] = Int64GetDatum(0);"
}
