# Backlog curve: drain rate and disk use vs pending events.
load "bench/plot/common.gp"
f = dir . "/curves_backlog.csv"
set logscale x
set offsets graph 0.1, graph 0.1, 0, 0
set format x "%.0s%c"
set xlabel "events pending"
set terminal pngcairo size 1500,650 font ",10" noenhanced
set output dir . "/curves_backlog.png"
set multiplot layout 1,3 title "pgque drain rate and disk use vs backlog (" . f . ")"
set title "drain rate, one client"
set ylabel "events/s"
set yrange [0:*]
plot sel(f, 2, "receive") using 1:($4) smooth unique with lines lt 1 title "receive(10000) + ack (mean of rounds)", \
     sel(f, 2, "receive") using 1:($4) with points lt 1 notitle, \
     sel(f, 2, "next_batch") using 1:($4) smooth unique with lines lt 2 title "next_batch / get_batch_events / finish_batch", \
     sel(f, 2, "next_batch") using 1:($4) with points lt 2 notitle, \
     sel(f, 2, "first") using 1:($4) with linespoints lt 3 title "first receive drain (sets hint bits)"
set title "server backend CPU per event drained (less noisy than the wall-clock rate)"
set ylabel "µs per event"
plot sel(f, 2, "receive") using 1:($5 * 1e6 / $1) smooth unique with lines lt 1 title "receive(10000) + ack (mean of rounds)", \
     sel(f, 2, "receive") using 1:($5 * 1e6 / $1) with points lt 1 notitle, \
     sel(f, 2, "next_batch") using 1:($5 * 1e6 / $1) smooth unique with lines lt 2 title "next_batch / get_batch_events", \
     sel(f, 2, "next_batch") using 1:($5 * 1e6 / $1) with points lt 2 notitle, \
     sel(f, 2, "first") using 1:($5 * 1e6 / $1) with linespoints lt 3 title "first receive drain"
set title "disk use of the queue's event tables"
set ylabel "GB"
set logscale y
set yrange [*:*]
plot sel(f, 2, "first") using 1:($6 / 1073741824) with linespoints lt 1 title "pg_total_relation_size, summed", \
     sel(f, 2, "first") using 1:($1 * 130 / 1073741824) with lines lt 5 dt 2 title "130 bytes per event"
unset multiplot
