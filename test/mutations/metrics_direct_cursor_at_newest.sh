# metrics()'s direct reads (src/metrics.c) lose the cursor's tick of a
# consumer at its queue's newest tick: its lag comes out NaN.
catches="regress:25_metrics"
mutate() {
    sub src/metrics.c '					cur = top;
					has_cur = true;' '					cur = top;
					has_cur = false;'
}
