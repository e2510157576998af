# No-decay run (bench/nodecay.sh): pgque and a SKIP LOCKED + DELETE job
# table over time, each with a session holding an old snapshot all run.
#   gnuplot -e "dir='bench/results'" bench/plot/nodecay.gp
load "bench/plot/common.gp"
p = dir . "/nodecay_pgque.csv"
j = dir . "/nodecay_job.csv"
# data rows only (no '#' lines, no header, not the empty intervals after the drain)
rows(f) = sprintf("< awk -F, '$1 ~ /^[0-9]+$/ && ($2 > 0 || $3 > 0)' %s", f)
set xlabel "minutes since the producers started"
set key top left opaque box

set terminal pngcairo size 1100,800 font ",10" noenhanced
set output dir . "/nodecay.png"
set multiplot layout 2,1 title "5,000 events/s offered, old snapshot held all run: pgque vs a SKIP LOCKED + DELETE job table"
set title "events consumed per second (10 s intervals)"
set ylabel "events/s"
# (a producer that fell behind catches up in bursts above the rate: clipped)
set yrange [0:12000]
plot rows(p) using ($1 / 60):4 with lines lt 1 title "pgque (receive + ack)", \
     rows(j) using ($1 / 60):4 with lines lt 3 title "job table (DELETE ... SKIP LOCKED)", \
     rows(p) using ($1 / 60):($2 / 10) with lines lt 5 dt 2 title "pgque run: sent by the producers", \
     rows(j) using ($1 / 60):($2 / 10) with lines lt 4 dt 2 title "job run: sent by the producers"
set title "end-to-end latency p99 (send commit -> consumer has it), per 10 s interval"
set ylabel "ms"
set logscale y
set yrange [*:*]
plot rows(p) using ($1 / 60):($7 > 0 ? $7 : 1/0) with lines lt 1 title "pgque p99", \
     rows(p) using ($1 / 60):($6 > 0 ? $6 : 1/0) with lines lt 5 dt 2 title "pgque p50", \
     rows(j) using ($1 / 60):($7 > 0 ? $7 : 1/0) with lines lt 3 title "job table p99", \
     rows(j) using ($1 / 60):($6 > 0 ? $6 : 1/0) with lines lt 4 dt 2 title "job table p50"
unset multiplot
unset logscale y

set terminal pngcairo size 1500,500 font ",10" noenhanced
set output dir . "/nodecay_storage.png"
set multiplot layout 1,3 title "what the held snapshot leaves behind"
set title "table size"
set ylabel "MB"
set yrange [0:*]
plot rows(p) using ($1 / 60):($13 / 1048576) with lines lt 1 title "pgque event tables", \
     rows(p) using ($1 / 60):($18 / 1048576) with lines lt 2 title "pgque batch+tick+subscriber", \
     rows(j) using ($1 / 60):($13 / 1048576) with lines lt 3 title "job (table + index)", \
     rows(j) using ($1 / 60):($18 / 1048576) with lines lt 4 dt 2 title "job: index only"
set title "dead tuples (pg_stat_user_tables.n_dead_tup)"
set ylabel "tuples"
set format y "%.1s%c"
plot rows(p) using ($1 / 60):15 with lines lt 1 title "pgque event tables", \
     rows(p) using ($1 / 60):19 with lines lt 2 title "pgque batch+tick+subscriber", \
     rows(j) using ($1 / 60):15 with lines lt 3 title "job"
set format y "%g"
set title "consumers' backend CPU per event consumed"
set ylabel "µs per event"
set logscale y
set yrange [*:*]
plot rows(p) using ($1 / 60):($10 > 0 ? $10 : 1/0) with lines lt 1 title "pgque consumer", \
     rows(j) using ($1 / 60):($10 > 0 ? $10 : 1/0) with lines lt 3 title "job consumers (2)"
unset multiplot
