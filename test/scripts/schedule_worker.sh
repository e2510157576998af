#!/usr/bin/env bash
# Schedules run by the worker: an "every 1 seconds" schedule and a cron one
# ("* * * * *") send their events while the worker is kill -9ed and, later,
# the postmaster is (and the server restarted 3 s later), and while the
# first schedule is paused for a while. Then, from the events themselves:
#   - no slot was sent twice (events counted per schedule and slot, ev_extra2);
#   - no slot was skipped silently: each event covers its slot and the
#     missed ones before it (ev_extra3 of them, from ev_extra4 on), and
#     these ranges follow each other without a gap -- except the slots
#     while paused, which are skipped on purpose;
#   - nothing was sent while paused;
#   - the downtime of the postmaster was covered by one catch-up event;
#   - outside the two outages, every event was sent within 1 s of its slot
#     (ev_time - slot, with 0.5 s of margin for a loaded machine: < 1.5 s);
#     pgque.naptime is 5 s here, so only planning by the next run (and the
#     wakeup when a schedule is created) makes that;
#   - the schedule rows count what was sent (runs, missed).
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/lib/cluster.sh
source test/lib/check.sh

C=schedw
cluster_init $C 54362 "pgque.naptime = 5000" || exit 1
cluster_start $C || exit 1
trap 'cluster_stop $C' EXIT
HOST=$(cluster_dir $C)
PORT=$(cluster_port $C)
q() { psql -X -q -At -h "$HOST" -p "$PORT" -U postgres -d app -c "$1" 2>/dev/null; }
up() { q "select 1" | grep -q 1; }
mark() { q "insert into marks (what) values ('$1')"; }
at() { echo "(select m.at from marks m where m.what = '$1')"; }

psql -X -q -h "$HOST" -p "$PORT" -U postgres -d postgres -c "create database app" >/dev/null
q "create extension pgque"
qid=$(q "select pgque.create_queue('sq'); select queue_id from pgque.queue where queue_name = 'sq'" | tail -1)
# the queue's events, whatever table they are in (no rotation in this test)
q "create view evs as
   select ev_id, ev_time, ev_extra1 as sched, ev_extra2::timestamptz as slot, ev_extra3::int as missed,
          coalesce(ev_extra4::timestamptz, ev_extra2::timestamptz) as first_slot
     from (select * from pgque.event_${qid}_0 union all select * from pgque.event_${qid}_1
           union all select * from pgque.event_${qid}_2) e"
q "create table marks (what text primary key, at timestamptz not null default clock_timestamp())"
wait_until "the worker runs" 30 bash -c "[ \"\$(psql -X -At -h '$HOST' -p $PORT -U postgres -d app -c \"select count(*) from pg_stat_activity where backend_type = 'pgque worker'\")\" = 1 ]"

q "select pgque.schedule('s1', 'sq', 'every 1 seconds', 'tick', 'every second')" >/dev/null
q "select pgque.schedule('c1', 'sq', '* * * * *', 'tick', 'every minute')" >/dev/null
mark created
sleep 4

# kill -9 the worker (PostgreSQL restarts every backend after that)
wpid=$(q "select pid from pg_stat_activity where backend_type = 'pgque worker'")
check "found the worker" test -n "$wpid"
mark kill_worker
kill -9 "$wpid"
s1_after() { [ "$(q "select count(*) from evs where sched = 's1' and ev_time > $(at "$1")")" -gt 0 ]; }
wait_until "events again after kill -9 of the worker" 60 s1_after kill_worker
sleep 3

# kill -9 the postmaster; start it again 3 s later
mark kill_postmaster
cluster_kill $C
sleep 3
cluster_start $C >/dev/null
wait_until "the server is back" 30 up
wait_until "events again after kill -9 of the postmaster" 60 s1_after kill_postmaster
sleep 3

# pause s1 for 3 s (the mark is taken after the pause has its row lock,
# so no run of s1 can start sending after it)
q "begin; select pgque.pause_schedule('s1'); insert into marks (what) values ('paused'); commit" >/dev/null
sleep 3
q "begin; insert into marks (what) values ('resuming'); select pgque.resume_schedule('s1'); commit" >/dev/null
wait_until "events again after resume" 30 s1_after resuming
sleep 2

# the cron schedule fires at least once
c1_fired() { [ "$(q "select count(*) from evs where sched = 'c1'")" -gt 0 ]; }
wait_until "the cron schedule fired" 90 c1_fired
q "select pgque.pause_schedule('s1'), pgque.pause_schedule('c1')" >/dev/null
sleep 1

echo "# events per schedule: $(q "select string_agg(sched || ' ' || n || ' (' || c || ' catch-up)', ', ') from (select sched, count(*) n, count(*) filter (where missed > 0) c from evs group by sched) x")"
check_eq "no slot sent twice" 0 "$(q "select count(*) from (select sched, slot from evs group by 1, 2 having count(*) > 1) d")"
check_eq "each catch-up event names its first missed slot (extra4 = slot - missed)" 0 \
    "$(q "select count(*) from evs where missed > 0 and first_slot <> slot - missed * case sched when 's1' then interval '1 second' else interval '1 minute' end")"
check_eq "events of a schedule are sent in slot order" 0 \
    "$(q "select count(*) from (select ev_id, slot, lag(slot) over (partition by sched order by ev_id) prev from evs) x where slot <= prev")"
# gaps between what one event covers and the next
gaps() {
    q "select count(*) from (select sched, first_slot, lag(slot) over (partition by sched order by slot) prev from evs) x
        where prev is not null
          and first_slot <> prev + case sched when 's1' then interval '1 second' else interval '1 minute' end
          and $1"
}
check_eq "no slot skipped silently (gaps outside the pause)" 0 \
    "$(gaps "not (sched = 's1' and prev <= $(at paused) and first_slot > $(at resuming) and first_slot <= $(at resuming) + interval '1 second')")"
check_eq "the pause left one gap in s1" 1 "$(gaps "sched = 's1'")"
check_eq "nothing sent while paused" 0 \
    "$(q "select count(*) from evs where sched = 's1' and (ev_time between $(at paused) and $(at resuming) or slot between $(at paused) and $(at resuming))")"
check_eq "the first s1 event after resume catches nothing up" 0 \
    "$(q "select missed from evs where sched = 's1' and ev_time > $(at resuming) order by ev_id limit 1")"
check "the postmaster's downtime was covered by a catch-up event" \
    test "$(q "select missed from evs where sched = 's1' and ev_time > $(at kill_postmaster) order by ev_id limit 1")" -ge 2
echo "# first s1 event after the worker kill: $(q "select 'slot ' || slot || ', missed ' || missed from evs where sched = 's1' and ev_time > $(at kill_worker) order by ev_id limit 1")"
check_eq "catch-up events only right after an outage" 0 \
    "$(q "select count(*) from evs e where missed > 0 and not exists (select from marks m where m.what in ('kill_worker', 'kill_postmaster') and e.ev_time > m.at and e.ev_time < (select min(e2.ev_time) from evs e2 where e2.sched = 's1' and e2.ev_time > m.at) + interval '1 second')")"
# outside the outages: from a kill to 1 s after the first event after it
outside="not exists (select from marks m where m.what in ('kill_worker', 'kill_postmaster') and e.ev_time > m.at
                     and e.ev_time < (select min(e2.ev_time) from evs e2 where e2.sched = 's1' and e2.ev_time > m.at) + interval '1 second')"
echo "# lateness outside the outages: $(q "select 'max ' || max(ev_time - slot) || ', events ' || count(*) from evs e where $outside")"
check_eq "outside the outages, every event within 1 s (+0.5 s margin) of its slot" 0 \
    "$(q "select count(*) from evs e where $outside and ev_time - slot >= interval '1.5 seconds'")"
check_eq "no event before its slot" 0 "$(q "select count(*) from evs where ev_time < slot")"
check_eq "the first slot of s1 is the first second after it was created" 0 \
    "$(q "select count(*) from evs where sched = 's1' and first_slot = (select min(first_slot) from evs where sched = 's1') and first_slot > $(at created) + interval '1 second'")"
check_eq "runs and missed in the schedule rows match the events" 0 \
    "$(q "select count(*) from pgque.schedule s
           where s.sched_runs <> (select count(*) from evs where sched = s.sched_name)
              or s.sched_missed <> (select coalesce(sum(missed), 0) from evs where sched = s.sched_name)")"
check_eq "last_msg_id is the newest event" 0 \
    "$(q "select count(*) from pgque.schedule s where s.sched_last_msg_id is distinct from (select max(ev_id) from evs where sched = s.sched_name)")"
check_eq "no errors sending or planning schedules in the server log" 0 \
    "$(grep -c 'sending scheduled events\|planning schedules' "$HOST/server.log")"
finish
