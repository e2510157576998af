# _schedule_run reads due schedules without locking them: a second caller
# (the worker and a manual call, or two workers across a restart) sends a
# slot the first has sent but not committed yet, twice.
catches="isolation:schedule_run"
mutate() {
    sub extension/58_schedule.sql "                for no key update of sc skip locked
                for key share of q skip locked
" ""
}
