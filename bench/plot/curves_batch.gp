# Batch-size curve: receive + ack throughput vs max_return.
load "bench/plot/common.gp"
f = dir . "/curves_batch.csv"
set output dir . "/curves_batch.png"
set logscale xy
set xrange [0.7:15000]
set xlabel "receive max_return"
set multiplot layout 1,2 title "receive + ack throughput vs max_return (" . f . ")"
set title "events/s, one consumer"
set ylabel "events/s"
plot sel(f, 2, "on") using 1:($5) smooth unique with lines lt 1 title "synchronous_commit on (mean of rounds)", \
     sel(f, 2, "on") using 1:($5) with points lt 1 notitle, \
     sel(f, 2, "off") using 1:($5) smooth unique with lines lt 2 title "synchronous_commit off", \
     sel(f, 2, "off") using 1:($5) with points lt 2 notitle
set title "server backend CPU per event"
set ylabel "µs per event"
plot sel(f, 2, "on") using 1:($6) smooth unique with lines lt 1 title "synchronous_commit on", \
     sel(f, 2, "off") using 1:($6) smooth unique with lines lt 2 title "synchronous_commit off"
unset multiplot
