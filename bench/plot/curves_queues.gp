# Queues curve: worker cost vs number of queues (10 busy, the rest idle).
# Points are rounds; lines join the mean of the rounds at each x.
load "bench/plot/common.gp"
f = dir . "/curves_queues.csv"
set output dir . "/curves_queues.png"
set logscale x
set xlabel "queues (min(10, N) busy at 100 events/s each, the rest idle)"
set xrange [0.7:15000]
set multiplot layout 2,2 title "pgque worker cost vs number of queues (" . f . ")"
set title "pgque worker CPU"
set ylabel "ms of CPU per second"
plot sel(f, 4, "load") using 1:($7) smooth unique with lines lt 1 title "10 busy queues (mean of rounds)", \
     sel(f, 4, "load") using 1:($7) with points lt 1 notitle, \
     sel(f, 4, "idle") using 1:($7) with linespoints lt 2 title "nothing sent"
set title "ticks taken by the worker"
set ylabel "ticks/s"
plot sel(f, 4, "load") using 1:($8) smooth unique with lines lt 1 title "10 busy queues (mean of rounds)", \
     sel(f, 4, "load") using 1:($8) with points lt 1 notitle, \
     sel(f, 4, "idle") using 1:($8) with linespoints lt 2 title "nothing sent"
set title "end-to-end latency of the busy queues (send commit -> consumer holds it)"
set ylabel "ms"
plot sel(f, 4, "load") using 1:($10) smooth unique with lines lt 1 title "p99, median of the busy queues", \
     sel(f, 4, "load") using 1:($10) with points lt 1 notitle, \
     sel(f, 4, "load") using 1:($11) smooth unique with lines lt 3 title "p99, worst busy queue", \
     sel(f, 4, "load") using 1:($11) with points lt 3 notitle, \
     sel(f, 4, "load") using 1:($9) smooth unique with lines lt 2 title "p50, median of the busy queues"
set title "memory"
set ylabel "MB"
plot sel(f, 4, "load") using 1:($16 / 1024) smooth unique with linespoints lt 1 title "worker private (smaps_rollup Private_*)", \
     sel(f, 4, "load") using 1:($15 / 1024) smooth unique with linespoints lt 2 title "worker Pss", \
     sel(f, 4, "load") using 1:($13 / 1048576) smooth unique with linespoints lt 3 title "pgque shared memory (pg_shmem_allocations)"
unset multiplot
