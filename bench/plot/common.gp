# Shared look of the cost-curve plots (bench/curves.sh). Each script is run
# as: gnuplot -e "dir='bench/results'" bench/plot/curves_<curve>.gp
if (!exists("dir")) dir = "bench/results"
set terminal pngcairo size 1100,800 font ",10" noenhanced
set datafile separator ","
set datafile missing ""
set grid
set key top left opaque box
set linetype 1 lc rgb "#7b2cbf" lw 2 pt 7 ps 0.8
set linetype 2 lc rgb "#2a9d8f" lw 2 pt 5 ps 0.8
set linetype 3 lc rgb "#e76f51" lw 2 pt 9 ps 0.8
set linetype 4 lc rgb "#264653" lw 2 pt 11 ps 0.8
set linetype 5 lc rgb "#c77dff" lw 1 pt 6 ps 0.8
# rows of file f whose column c is v (comment lines and the header dropped),
# so that "smooth unique" (mean of the rounds at each x) sees only them
sel(f, c, v) = sprintf("< awk -F, '$%d == \"%s\"' %s", c, v, f)
