/*
 * latency -- end-to-end latency of pgque: send commit -> consumer holds it.
 *
 *   latency [--dsn DSN] [--rate N] [--seconds S] [--queue Q] [--idle S]
 *           [--max-lag INTERVAL]
 *
 * A producer thread sends --rate events per second (one transaction each)
 * for --seconds; it records the time each send returned, i.e. just after
 * its commit. A consumer thread LISTENs on pgque_<queue>, and on every
 * notification calls receive() until the queue is drained, recording when
 * each message arrived, then acks. Both use CLOCK_MONOTONIC in one process.
 * It prints p50/p95/p99/max of arrival - commit, and then watches the queue
 * idle for --idle seconds and prints how many ticks that cost.
 *
 * The queue is created (and dropped at the end) by this tool; the server
 * must run the pgque worker (shared_preload_libraries = 'pgque').
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#define BENCH_NAME "latency"
#include "bench_pq.h"

static int	rate = 1000;
static int	seconds = 10;
static int	idle_seconds = 5;
static const char *max_lag = NULL;
static char queue[64] = "latency_bench";

static int64_t *sent_at;		/* by ev_id - first_id */
static int64_t *got_at;
static int64_t first_id = -1;
static int	total;
static volatile int produced_done = 0;
static volatile int received = 0;

static void *
producer(void *arg)
{
	PGconn	   *c = connect_or_die();
	const char *params[2] = {queue, "{\"bench\": \"latency\"}"};
	int64_t		start = now_ns();
	int64_t		period = 1000000000 / rate;
	int			i;
	PGresult   *r;

	r = PQprepare(c, "send", "select pgque.send($1, $2::text)", 2, NULL);
	PQclear(r);
	for (i = 0; i < total; i++)
	{
		int64_t		due = start + (int64_t) i * period;
		int64_t		wait = due - now_ns();
		int64_t		id;

		if (wait > 0)
		{
			struct timespec ts = {wait / 1000000000, wait % 1000000000};

			nanosleep(&ts, NULL);
		}
		r = PQexecPrepared(c, "send", 2, params, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK)
		{
			fprintf(stderr, "send failed: %s", PQerrorMessage(c));
			exit(1);
		}
		id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
		if (first_id < 0)
			first_id = id;
		if (id - first_id >= 0 && id - first_id < total)
			sent_at[id - first_id] = now_ns();
	}
	produced_done = 1;
	PQfinish(c);
	return NULL;
}

static void *
consumer(void *arg)
{
	PGconn	   *c = connect_or_die();
	const char *params[2] = {queue, "bench"};
	char		listen[128];
	int64_t		deadline = 0;

	snprintf(listen, sizeof(listen), "listen \"pgque_%s\"", queue);
	PQclear(run(c, listen, 0, NULL));
	PQclear(PQprepare(c, "recv",
					  "select msg_id, batch_id from pgque.receive($1, $2, 10000)", 2, NULL));

	while (received < total)
	{
		struct pollfd pfd = {PQsocket(c), POLLIN, 0};
		PGnotify   *n;
		int			got_notify = 0;

		if (produced_done && deadline == 0)
			deadline = now_ns() + 10LL * 1000000000;	/* stragglers */
		if (deadline && now_ns() > deadline)
			break;
		poll(&pfd, 1, 100);
		PQconsumeInput(c);
		while ((n = PQnotifies(c)) != NULL)
		{
			got_notify = 1;
			PQfreemem(n);
		}
		if (!got_notify)
			continue;
		for (;;)
		{
			PGresult   *r = PQexecPrepared(c, "recv", 2, params, NULL, NULL, 0);
			int64_t		t = now_ns();
			int			rows,
						i;
			char		batch[32] = "";

			if (PQresultStatus(r) != PGRES_TUPLES_OK)
			{
				fprintf(stderr, "receive failed: %s", PQerrorMessage(c));
				exit(1);
			}
			rows = PQntuples(r);
			for (i = 0; i < rows; i++)
			{
				int64_t		id = strtoll(PQgetvalue(r, i, 0), NULL, 10);

				if (first_id >= 0 && id - first_id >= 0 && id - first_id < total &&
					got_at[id - first_id] == 0)
				{
					got_at[id - first_id] = t;
					received++;
				}
				snprintf(batch, sizeof(batch), "%s", PQgetvalue(r, i, 1));
			}
			PQclear(r);
			if (rows == 0)
				break;
			{
				const char *ack[1] = {batch};

				PQclear(run(c, "select pgque.ack($1::bigint)", 1, ack));
			}
		}
	}
	PQfinish(c);
	return NULL;
}

static int
cmp64(const void *a, const void *b)
{
	int64_t		x = *(const int64_t *) a,
				y = *(const int64_t *) b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	pthread_t	p,
				cth;
	int64_t    *lat;
	int			n = 0,
				i;
	PGconn	   *admin;
	PGresult   *r;
	const char *qp[1] = {queue};
	long		ticks_before,
				ticks_after;

	for (i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--dsn") == 0 && i + 1 < argc)
			dsn = argv[++i];
		else if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc)
			rate = atoi(argv[++i]);
		else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			seconds = atoi(argv[++i]);
		else if (strcmp(argv[i], "--idle") == 0 && i + 1 < argc)
			idle_seconds = atoi(argv[++i]);
		else if (strcmp(argv[i], "--max-lag") == 0 && i + 1 < argc)
			max_lag = argv[++i];
		else if (strcmp(argv[i], "--queue") == 0 && i + 1 < argc)
			snprintf(queue, sizeof(queue), "%s", argv[++i]);
		else
		{
			fprintf(stderr, "usage: %s [--dsn DSN] [--rate N] [--seconds S] [--idle S] [--queue Q] [--max-lag I]\n",
					argv[0]);
			return 2;
		}
	}
	if (rate <= 0 || seconds <= 0)
	{
		fprintf(stderr, "--rate and --seconds must be positive\n");
		return 2;
	}
	total = rate * seconds;
	sent_at = calloc(total, sizeof(int64_t));
	got_at = calloc(total, sizeof(int64_t));
	lat = calloc(total, sizeof(int64_t));

	admin = connect_or_die();
	PQclear(PQexec(admin, "set client_min_messages = warning"));
	r = PQexecParams(admin, "select pgque.drop_queue($1, true)", 1, NULL, qp, NULL, NULL, 0);
	PQclear(r);
	PQclear(run(admin, "select pgque.create_queue($1)", 1, qp));
	{
		const char *sp[2] = {queue, "bench"};

		PQclear(run(admin, "select pgque.subscribe($1, $2)", 2, sp));
	}
	if (max_lag != NULL)
	{
		const char *cp[2] = {queue, max_lag};

		PQclear(run(admin, "select pgque.set_queue_config($1, 'ticker_max_lag', $2)", 2, cp));
	}

	r = run(admin, "select coalesce(max(t.tick_id), 0) from pgque.tick t join pgque.queue q"
					" on q.queue_id = t.tick_queue where q.queue_name = $1", 1, qp);
	ticks_before = atol(PQgetvalue(r, 0, 0));
	PQclear(r);
	pthread_create(&cth, NULL, consumer, NULL);
	{
		struct timespec ts = {0, 200000000};	/* let the consumer LISTEN */

		nanosleep(&ts, NULL);
	}
	pthread_create(&p, NULL, producer, NULL);
	pthread_join(p, NULL);
	pthread_join(cth, NULL);

	/* ticks taken while the producer ran (tick ids: rotation may delete rows) */
	r = run(admin, "select coalesce(max(t.tick_id), 0) from pgque.tick t join pgque.queue q"
					" on q.queue_id = t.tick_queue where q.queue_name = $1", 1, qp);
	ticks_after = atol(PQgetvalue(r, 0, 0));
	PQclear(r);

	for (i = 0; i < total; i++)
		if (sent_at[i] != 0 && got_at[i] != 0)
			lat[n++] = got_at[i] > sent_at[i] ? got_at[i] - sent_at[i] : 0;
	qsort(lat, n, sizeof(int64_t), cmp64);

	printf("rate %d ev/s for %d s: sent %d, received %d, missing %d\n",
		   rate, seconds, total, received, total - received);
	if (n > 0)
		printf("latency_ms p50 %.3f p95 %.3f p99 %.3f max %.3f\n",
			   lat[n / 2] / 1e6, lat[(int) (n * 0.95)] / 1e6,
			   lat[(int) (n * 0.99)] / 1e6, lat[n - 1] / 1e6);

	printf("load_ticks %ld in %d s (%.2f per second)\n",
		   ticks_after - ticks_before, seconds, (double) (ticks_after - ticks_before) / seconds);

	/* idle: how many ticks does a queue without events cost? */
	r = run(admin, "select count(*) from pgque.tick t join pgque.queue q"
					" on q.queue_id = t.tick_queue where q.queue_name = $1", 1, qp);
	ticks_before = atol(PQgetvalue(r, 0, 0));
	PQclear(r);
	{
		struct timespec ts = {idle_seconds, 0};

		nanosleep(&ts, NULL);
	}
	r = run(admin, "select count(*) from pgque.tick t join pgque.queue q"
					" on q.queue_id = t.tick_queue where q.queue_name = $1", 1, qp);
	ticks_after = atol(PQgetvalue(r, 0, 0));
	PQclear(r);
	printf("idle_ticks %ld in %d s (%.2f per second)\n",
		   ticks_after - ticks_before, idle_seconds,
		   (double) (ticks_after - ticks_before) / idle_seconds);

	PQclear(PQexecParams(admin, "select pgque.drop_queue($1, true)", 1, NULL, qp, NULL, NULL, 0));
	PQfinish(admin);
	return received == total ? 0 : 1;
}
