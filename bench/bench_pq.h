/*
 * bench_pq.h: what the libpq load programs of bench/ (latency.c, delay.c,
 * nodecay.c) share. Include it after defining BENCH_NAME (the program's
 * name, for its messages); it defines dsn, which the program sets from
 * its --dsn argument.
 */
#ifndef BENCH_PQ_H
#define BENCH_PQ_H

#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

static const char *dsn = "";

/* a monotonic clock, in nanoseconds */
static inline int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline PGconn *
connect_or_die(void)
{
	PGconn	   *c = PQconnectdb(dsn);

	if (PQstatus(c) != CONNECTION_OK)
	{
		fprintf(stderr, BENCH_NAME ": connection failed: %s", PQerrorMessage(c));
		exit(1);
	}
	return c;
}

/* sql with n text parameters; exits on an error */
static inline PGresult *
run(PGconn *c, const char *sql, int n, const char *const *params)
{
	PGresult   *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK)
	{
		fprintf(stderr, BENCH_NAME ": %s: %s", sql, PQerrorMessage(c));
		exit(1);
	}
	return r;
}

/*
 * Wait up to timeout_ms for a notification on c unless one has come
 * already; swallow what arrived.
 */
static inline void
wait_notify(PGconn *c, int timeout_ms)
{
	struct pollfd pfd = {PQsocket(c), POLLIN, 0};
	PGnotify   *n;
	int			got = 0;

	PQconsumeInput(c);
	while ((n = PQnotifies(c)) != NULL)
	{
		got = 1;
		PQfreemem(n);
	}
	if (got)
		return;
	poll(&pfd, 1, timeout_ms);
	PQconsumeInput(c);
	while ((n = PQnotifies(c)) != NULL)
		PQfreemem(n);
}

/* user + system CPU seconds of a process, -1 if unreadable (gone) */
static inline double
proc_cpu_s(int pid)
{
	char		path[64],
				buf[1024];
	FILE	   *f;
	size_t		n;
	char	   *p;
	unsigned long utime,
				stime;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (pid <= 0 || (f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL ||
		sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			   &utime, &stime) != 2)
		return -1;
	return (double) (utime + stime) / sysconf(_SC_CLK_TCK);
}

/* busy and total jiffies of the whole machine so far; 0 if unreadable */
static inline void
machine_jiffies(double *busy, double *total)
{
	FILE	   *f = fopen("/proc/stat", "r");
	unsigned long long v[8] = {0};

	*busy = *total = 0;
	if (f == NULL)
		return;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8)
	{
		int			i;

		for (i = 0; i < 8; i++)
			*total += v[i];
		*busy = *total - v[3] - v[4];	/* less idle and iowait */
	}
	fclose(f);
}

#endif							/* BENCH_PQ_H */
