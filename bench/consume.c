/*
 * consume -- consumer side of the pgque benchmarks (libpq, one connection).
 *
 *   consume --dsn DSN --mode MODE --queue Q --consumer C
 *           [--max N] [--expect N] [--seconds S] [--report S] [--blocks N]
 *
 * MODE:
 *   pgque-receive  loop { BEGIN; SELECT * FROM pgque.receive(Q, C, N);
 *                  SELECT pgque.ack(batch_id); COMMIT }
 *   pgque-batch    loop { BEGIN; SELECT pgque.next_batch(Q, C);
 *                  SELECT * FROM pgque.get_batch_events(id);
 *                  SELECT pgque.finish_batch(id); COMMIT }
 *   pgq            the same loop with PgQ's pgq.next_batch /
 *                  pgq.get_batch_events / pgq.finish_batch
 *   table          no queue: Q is a plain table with the event columns, read
 *                  by a TID range scan of --blocks blocks at a time,
 *                  SELECT ev_id, ev_time, ev_txid, ev_retry, ev_type,
 *                  ev_data, ev_extra1..4 (get_batch_events' columns) FROM Q
 *                  WHERE ctid >= '(b,0)' AND ctid < '(b+blocks,0)', until
 *                  the table's end (C is ignored): the cost of returning
 *                  the same rows from SQL, which any consumer pays
 *
 * Every row of every batch is transferred in text format and every column
 * of it is read on the client side (PQgetvalue/PQgetlength, folded into a
 * checksum), so the cost includes the transfer.
 *
 * Without --seconds (drain): stops when there is no batch left (or, with
 * --expect, once that many events were read) and prints
 *   events N batches B seconds T rate R
 * With --seconds S (follow, used under load): runs for S seconds; when
 * there is nothing to read it waits for the queue's NOTIFY (at most 50 ms)
 * and tries again. Prints a line per --report interval and the same
 * summary line at the end.
 *
 * Last, it prints the CPU time its server backend used (from
 * /proc/<pid>/stat: the tool must run on the server's machine as root or
 * as the server's user; "backend_cpu_s -1" otherwise).
 */
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

static PGconn *conn;
static int	backend_pid;
static long table_block;		/* table mode: the next block to read */
static long table_blocks = 150;
static long table_nblocks = -1;
static uint64_t checksum;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static PGresult *
run(const char *sql, int n, const char *const *params)
{
	PGresult   *r = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);

	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
	{
		fprintf(stderr, "consume: %s: %s", sql, PQerrorMessage(conn));
		exit(1);
	}
	return r;
}

/* Read every value of every row, as an application would. */
static int
consume_rows(PGresult *r)
{
	int			rows = PQntuples(r);
	int			cols = PQnfields(r);
	int			i,
				j;

	for (i = 0; i < rows; i++)
		for (j = 0; j < cols; j++)
		{
			if (PQgetisnull(r, i, j))
				continue;
			{
				const char *v = PQgetvalue(r, i, j);
				int			len = PQgetlength(r, i, j);

				checksum += (uint64_t) len + (unsigned char) v[0] + (unsigned char) v[len > 0 ? len - 1 : 0];
			}
		}
	return rows;
}

/*
 * One batch; returns the number of events read, or -1 when there was no
 * batch to read.
 */
static int
one_batch(const char *mode, const char *queue, const char *consumer, const char *max)
{
	PGresult   *r;
	int			n;

	PQclear(run("begin", 0, NULL));
	if (strcmp(mode, "table") == 0)
	{
		const char *p[3];
		char		lo[32],
					hi[32];

		if (table_nblocks < 0)
		{
			const char *t[1] = {queue};

			r = run("select pg_relation_size($1::regclass) / current_setting('block_size')::int8", 1, t);
			table_nblocks = atol(PQgetvalue(r, 0, 0));
			PQclear(r);
		}
		if (table_block >= table_nblocks)
		{
			PQclear(run("commit", 0, NULL));
			return -1;
		}
		snprintf(lo, sizeof(lo), "(%ld,0)", table_block);
		snprintf(hi, sizeof(hi), "(%ld,0)", table_block + table_blocks);
		table_block += table_blocks;
		p[0] = queue;
		p[1] = lo;
		p[2] = hi;
		{
			char		sql[512];
			char	   *q = PQescapeIdentifier(conn, queue, strlen(queue));

			snprintf(sql, sizeof(sql),
					 "select ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data, ev_extra1, ev_extra2,"
					 " ev_extra3, ev_extra4 from %s where ctid >= $1::tid and ctid < $2::tid", q);
			PQfreemem(q);
			r = run(sql, 2, p + 1);
		}
		n = consume_rows(r);
		PQclear(r);
	}
	else if (strcmp(mode, "pgque-receive") == 0)
	{
		const char *p[3] = {queue, consumer, max};
		char		batch[32];

		r = run("select * from pgque.receive($1, $2, $3::int4)", 3, p);
		n = consume_rows(r);
		if (n == 0)
		{
			PQclear(r);
			PQclear(run("commit", 0, NULL));
			return -1;
		}
		snprintf(batch, sizeof(batch), "%s", PQgetvalue(r, 0, 1));
		PQclear(r);
		{
			const char *a[1] = {batch};

			PQclear(run("select pgque.ack($1::int8)", 1, a));
		}
	}
	else
	{
		int			pgq = strcmp(mode, "pgq") == 0;
		const char *p[2] = {queue, consumer};
		char		batch[32];

		r = run(pgq ? "select pgq.next_batch($1, $2)" : "select pgque.next_batch($1, $2)", 2, p);
		if (PQgetisnull(r, 0, 0))
		{
			PQclear(r);
			PQclear(run("commit", 0, NULL));
			return -1;
		}
		snprintf(batch, sizeof(batch), "%s", PQgetvalue(r, 0, 0));
		PQclear(r);
		{
			const char *a[1] = {batch};

			r = run(pgq ? "select * from pgq.get_batch_events($1::int8)"
					: "select * from pgque.get_batch_events($1::int8)", 1, a);
			n = consume_rows(r);
			PQclear(r);
			PQclear(run(pgq ? "select pgq.finish_batch($1::int8)"
						: "select pgque.finish_batch($1::int8)", 1, a));
		}
	}
	PQclear(run("commit", 0, NULL));
	return n;
}

/* user + system CPU seconds of the server backend, -1 if unreadable */
static double
backend_cpu_s(void)
{
	char		path[64],
				buf[1024];
	FILE	   *f;
	size_t		n;
	char	   *p;
	unsigned long utime,
				stime;

	snprintf(path, sizeof(path), "/proc/%d/stat", backend_pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* fields after the parenthesized command: state is field 3, utime 14 */
	if ((p = strrchr(buf, ')')) == NULL ||
		sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			   &utime, &stime) != 2)
		return -1;
	return (double) (utime + stime) / sysconf(_SC_CLK_TCK);
}

static void
wait_notify(double timeout_s)
{
	struct pollfd pfd = {PQsocket(conn), POLLIN, 0};
	PGnotify   *n;

	poll(&pfd, 1, (int) (timeout_s * 1000));
	PQconsumeInput(conn);
	while ((n = PQnotifies(conn)) != NULL)
		PQfreemem(n);
}

int
main(int argc, char **argv)
{
	const char *dsn = "",
			   *mode = "pgque-receive",
			   *queue = NULL,
			   *consumer = NULL,
			   *max = "10000";
	long		expect = 0;
	double		seconds = 0,
				report = 30;
	long		events = 0,
				batches = 0,
				slice_events = 0,
				slice_batches = 0;
	double		t0,
				t1,
				slice_t0,
				cpu0,
				cpu1,
				slice_cpu;
	int			i;

	for (i = 1; i < argc; i++)
	{
		if (i + 1 >= argc)
			goto usage;
		if (strcmp(argv[i], "--dsn") == 0)
			dsn = argv[++i];
		else if (strcmp(argv[i], "--mode") == 0)
			mode = argv[++i];
		else if (strcmp(argv[i], "--queue") == 0)
			queue = argv[++i];
		else if (strcmp(argv[i], "--consumer") == 0)
			consumer = argv[++i];
		else if (strcmp(argv[i], "--max") == 0)
			max = argv[++i];
		else if (strcmp(argv[i], "--blocks") == 0)
			table_blocks = atol(argv[++i]);
		else if (strcmp(argv[i], "--expect") == 0)
			expect = atol(argv[++i]);
		else if (strcmp(argv[i], "--seconds") == 0)
			seconds = atof(argv[++i]);
		else if (strcmp(argv[i], "--report") == 0)
			report = atof(argv[++i]);
		else
			goto usage;
	}
	if (queue == NULL || consumer == NULL ||
		(strcmp(mode, "pgque-receive") != 0 && strcmp(mode, "pgque-batch") != 0 &&
		 strcmp(mode, "pgq") != 0 && strcmp(mode, "table") != 0))
		goto usage;

	conn = PQconnectdb(dsn);
	if (PQstatus(conn) != CONNECTION_OK)
	{
		fprintf(stderr, "consume: connection failed: %s", PQerrorMessage(conn));
		return 1;
	}
	{
		PGresult   *r = run("select pg_backend_pid()", 0, NULL);

		backend_pid = atoi(PQgetvalue(r, 0, 0));
		PQclear(r);
		printf("backend_pid %d\n", backend_pid);
		fflush(stdout);
	}
	cpu0 = slice_cpu = backend_cpu_s();
	if (seconds > 0 && strcmp(mode, "pgq") != 0)
	{
		char		listen[128];

		snprintf(listen, sizeof(listen), "listen \"pgque_%s\"", queue);
		PQclear(run(listen, 0, NULL));
	}

	t0 = slice_t0 = now_s();
	t1 = t0;
	for (;;)
	{
		int			n = one_batch(mode, queue, consumer, max);

		t1 = now_s();
		if (n >= 0)
		{
			events += n;
			slice_events += n;
			batches++;
		}
		if (seconds > 0)
		{
			if (t1 - t0 >= seconds)
				break;
			if (t1 - slice_t0 >= report)
			{
				double		c = backend_cpu_s();

				printf("slice %.0f-%.0f s: %.0f events/s %.0f batches/s backend %.1f us/event\n",
					   slice_t0 - t0, t1 - t0, slice_events / (t1 - slice_t0),
					   (batches - slice_batches) / (t1 - slice_t0),
					   slice_events > 0 && c >= 0 && slice_cpu >= 0 ?
					   (c - slice_cpu) * 1e6 / slice_events : -1.0);
				fflush(stdout);
				slice_t0 = t1;
				slice_events = 0;
				slice_batches = batches;
				slice_cpu = c;
			}
			if (n < 0)
				wait_notify(0.05);
		}
		else if (n < 0 || (expect > 0 && events >= expect))
			break;
	}
	cpu1 = backend_cpu_s();
	printf("events %ld batches %ld seconds %.3f rate %.0f checksum %" PRIu64 "\n",
		   events, batches, t1 - t0, events / (t1 - t0 > 0 ? t1 - t0 : 1e-9), checksum);
	printf("backend_cpu_s %.2f\n", cpu0 < 0 || cpu1 < 0 ? -1.0 : cpu1 - cpu0);
	PQfinish(conn);
	return 0;

usage:
	fprintf(stderr, "usage: %s --dsn DSN --mode pgque-receive|pgque-batch|pgq --queue Q"
			" --consumer C [--max N] [--expect N] [--seconds S] [--report S]\n", argv[0]);
	return 2;
}
