# Consumers curve: producer and consumer throughput vs subscriptions on one queue.
load "bench/plot/common.gp"
f = dir . "/curves_consumers.csv"
set output dir . "/curves_consumers.png"
set logscale x
set xrange [0.7:150]
set xlabel "subscriptions on the queue"
set multiplot layout 1,2 title "pgque throughput vs consumers per queue (" . f . ")"
set title "producer: pgbench, 4 clients, send_batch of 100"
set ylabel "events/s sent"
set yrange [0:*]
plot sel(f, 2, "alone") using 1:($4) smooth unique with lines lt 2 title "no consumer running (mean of rounds)", \
     sel(f, 2, "alone") using 1:($4) with points lt 2 notitle, \
     sel(f, 2, "with") using 1:($4) smooth unique with lines lt 1 title "every subscription consuming", \
     sel(f, 2, "with") using 1:($4) with points lt 1 notitle
set title "consumers: receive(1000) + ack each, concurrent with the producer"
set ylabel "events/s"
set logscale y
set yrange [*:*]
plot sel(f, 2, "with") using 1:($5) smooth unique with lines lt 1 title "all consumers together (mean of rounds)", \
     sel(f, 2, "with") using 1:($5) with points lt 1 notitle, \
     sel(f, 2, "with") using 1:($6) smooth unique with lines lt 3 title "slowest consumer", \
     sel(f, 2, "with") using 1:($4) smooth unique with lines lt 5 dt 2 title "producer (each consumer's ceiling)"
unset multiplot
