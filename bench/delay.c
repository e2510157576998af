/*
 * delay -- the client side of bench/delay.sh (delayed delivery).
 *
 *   delay precision --dsn DSN --queue Q --consumer C [--events N] [--chunk N]
 *                   [--ahead S]
 *   delay follow --dsn DSN --design pgque|delete [--queue Q --consumer C]
 *                --seconds S [--interval S] --csv FILE
 *
 * precision: sends --events events with send_batch_at, --chunk per
 * transaction, all due at one whole second T at least --ahead s away; the
 * sends must end before T. Then it receives them (receive(Q, C, 10000) and
 * ack in one transaction, waiting for the queue's NOTIFY when there is
 * nothing) and notes when each result arrived. A second connection watches
 * pg_stat_activity for the worker's "moving due retries and delayed events"
 * step, to see when the move began. Prints key/value lines: lateness =
 * arrival - T.
 *
 * follow: runs --seconds while a producer (pgbench, see delay.sh) sends;
 * every event's payload is its deliver_at in epoch seconds.
 *   pgque:  receive(Q, C, 1000) + ack, the same loop as above.
 *   delete: the baseline mover -- every 50 ms one transaction that deletes
 *           the due rows of bench_delay and inserts them into
 *           bench_delivered.
 * An event's lateness = this process's clock when it holds the event
 * (receive returned / the move committed) - its deliver_at. At the end
 * it prints how many it held and how many still wait (pgque: after
 * stopping the worker, which it starts again, and draining the queue). Every
 * --interval s a sampler connection appends a CSV row: the storage of
 * waiting events, dead tuples (pg_stat_user_tables and pgstattuple), what
 * waits, the interval's deliveries and lateness, the CPU share of the mover
 * (the pgque worker, or the baseline mover's backend) and how busy the
 * whole machine was.
 *
 * Both modes count events held before their deliver_at (early) and events
 * held twice (dup) and exit 3 if there was any. Times are CLOCK_REALTIME,
 * the clock the server's timestamps come from (same machine).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#define BENCH_NAME "delay"
#include "bench_pq.h"

static const char *queue = NULL;
static const char *consumer = NULL;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
sleep_s(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t) s;
	ts.tv_nsec = (long) ((s - ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

static void
listen_queue(PGconn *c)
{
	char		sql[128];

	snprintf(sql, sizeof(sql), "listen \"pgque_%s\"", queue);
	PQclear(run(c, sql, 0, NULL));
}

/* ---------------------------------------------------------------- ids */

/* A growable bitmap of event ids: which were sent, which were held. */
typedef struct
{
	uint8_t    *bits;
	int64_t		nbits;
} IdSet;

/* Sets id; returns whether it was set already. */
static int
idset_add(IdSet *s, int64_t id)
{
	int			was;

	if (id < 0)
	{
		fprintf(stderr, "delay: negative event id %" PRId64 "\n", id);
		exit(1);
	}
	if (id >= s->nbits)
	{
		int64_t		n = s->nbits ? s->nbits : 1 << 20;

		while (n <= id)
			n *= 2;
		s->bits = realloc(s->bits, n / 8);
		memset(s->bits + s->nbits / 8, 0, (n - s->nbits) / 8);
		s->nbits = n;
	}
	was = (s->bits[id / 8] >> (id % 8)) & 1;
	s->bits[id / 8] |= 1 << (id % 8);
	return was;
}

static int
idset_has(const IdSet *s, int64_t id)
{
	return id >= 0 && id < s->nbits && ((s->bits[id / 8] >> (id % 8)) & 1);
}

/* ---------------------------------------------------------------- samples */

typedef struct
{
	double	   *v;
	long		n,
				cap;
} Samples;

static void
samples_add(Samples *s, double v)
{
	if (s->n == s->cap)
	{
		s->cap = s->cap ? s->cap * 2 : 4096;
		s->v = realloc(s->v, s->cap * sizeof(double));
	}
	s->v[s->n++] = v;
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return x < y ? -1 : x > y;
}

/* nearest-rank percentile of sorted values; NAN if none */
static double
pct(const Samples *s, double p)
{
	long		k;

	if (s->n == 0)
		return NAN;
	k = (long) ceil(p / 100.0 * s->n) - 1;
	if (k < 0)
		k = 0;
	return s->v[k];
}

static void
samples_sort(Samples *s)
{
	qsort(s->v, s->n, sizeof(double), cmp_double);
}

/* ---------------------------------------------------------------- precision */

/* text[] literal of n copies of a 50-byte payload (the data of bench/run.sh) */
static char *
payload_array(int n)
{
	static const char payload[] = "bench-payload-0123456789-abcdefghijklmnopqrstuvwx_";
	size_t		plen = strlen(payload),
				len = 0;
	char	   *a = malloc((size_t) n * (plen + 1) + 3);
	int			i;

	a[len++] = '{';
	for (i = 0; i < n; i++)
	{
		if (i > 0)
			a[len++] = ',';
		memcpy(a + len, payload, plen);
		len += plen;
	}
	a[len++] = '}';
	a[len] = '\0';
	return a;
}

typedef struct
{
	volatile int stop;
	double		t_due;
	double		move_start;		/* epoch s, 0 = not seen yet */
	long		polls;
} Watch;

/*
 * Watch for the worker's move step in pg_stat_activity: its query_start is
 * when the step began (run_step() sets it), so a poll every 10 ms that
 * sees the step at all sees its exact start. Stops once seen.
 */
static void *
watch_worker(void *arg)
{
	Watch	   *w = arg;
	PGconn	   *c = connect_or_die();

	while (!w->stop && w->move_start == 0)
	{
		PGresult   *r = run(c,
							"select extract(epoch from query_start)"
							"  from pg_catalog.pg_stat_activity"
							" where backend_type = 'pgque worker' and datname = current_database()"
							"   and query = 'moving due retries and delayed events'",
							0, NULL);

		w->polls++;
		if (PQntuples(r) == 1)
		{
			double		qs = atof(PQgetvalue(r, 0, 0));

			/* not a step of an earlier round; a move before T would be a bug */
			if (qs >= w->t_due - 1)
				w->move_start = qs;
		}
		PQclear(r);
		sleep_s(0.01);
	}
	PQfinish(c);
	return NULL;
}

static int
precision(long events, int chunk, double ahead)
{
	PGconn	   *prod = connect_or_die();
	PGconn	   *cons = connect_or_die();
	IdSet		sent = {0},
				held = {0};
	Samples		late = {0};
	Watch		w = {0};
	pthread_t	watcher;
	char	   *arr,
				due[32],
				max_return[16] = "10000";
	double		t_start,
				t_sent,
				t_first = 0,
				t_last = 0,
				t_end;
	long		nsent = 0,
				nheld = 0,
				dups = 0,
				strays = 0,
				early = 0,
				receives = 0;
	int			i;

	listen_queue(cons);
	t_start = now_s();
	w.t_due = ceil(t_start + ahead);
	/*
	 * Keep T away from a minute boundary: the worker frees a minute bucket
	 * whose span is over with the same step, which the watcher would take
	 * for this move.
	 */
	if (fmod(w.t_due, 60) < 10)
		w.t_due += 10 - fmod(w.t_due, 60);
	else if (fmod(w.t_due, 60) > 55)
		w.t_due += 70 - fmod(w.t_due, 60);
	snprintf(due, sizeof(due), "%.0f", w.t_due);
	while (nsent < events)
	{
		const char *p[3] = {queue, NULL, due};
		PGresult   *r;
		int			n = events - nsent < chunk ? (int) (events - nsent) : chunk;

		arr = payload_array(n);
		p[1] = arr;
		r = run(prod, "select pg_catalog.unnest(pgque.send_batch_at($1, 'default', $2::text[],"
				" pg_catalog.to_timestamp($3::float8)))", 3, p);
		free(arr);
		for (i = 0; i < PQntuples(r); i++)
			if (idset_add(&sent, atoll(PQgetvalue(r, i, 0))))
			{
				fprintf(stderr, "delay: send_batch_at returned id %s twice\n", PQgetvalue(r, i, 0));
				return 1;
			}
		nsent += PQntuples(r);
		PQclear(r);
	}
	t_sent = now_s();
	printf("due %.0f\n", w.t_due);
	printf("sent %ld in %.3f s, done %.3f s before T\n", nsent, t_sent - t_start, w.t_due - t_sent);
	fflush(stdout);
	if (t_sent > w.t_due - 1)
	{
		fprintf(stderr, "delay: sending took until %.3f s before T; raise --ahead\n", w.t_due - t_sent);
		return 1;
	}

	pthread_create(&watcher, NULL, watch_worker, &w);
	while (nheld < nsent)
	{
		const char *p[3] = {queue, consumer, max_return};
		PGresult   *r;
		double		t;
		int			n;

		if (now_s() > w.t_due + 120)
		{
			fprintf(stderr, "delay: only %ld of %ld events arrived within 120 s after T\n", nheld, nsent);
			break;
		}
		PQclear(run(cons, "begin", 0, NULL));
		r = run(cons, "select msg_id, batch_id from pgque.receive($1, $2, $3::int4)", 3, p);
		t = now_s();
		receives++;
		n = PQntuples(r);
		for (i = 0; i < n; i++)
		{
			int64_t		id = atoll(PQgetvalue(r, i, 0));

			if (!idset_has(&sent, id))
				strays++;
			else if (idset_add(&held, id))
				dups++;
			else
			{
				nheld++;
				samples_add(&late, t - w.t_due);
			}
		}
		if (n > 0)
		{
			const char *a[1] = {PQgetvalue(r, 0, 1)};

			if (t_first == 0)
				t_first = t;
			t_last = t;
			PQclear(run(cons, "select pgque.ack($1::int8)", 1, a));
		}
		PQclear(r);
		PQclear(run(cons, "commit", 0, NULL));
		if (n == 0)
			wait_notify(cons, 50);
	}
	t_end = now_s();
	w.stop = 1;
	pthread_join(watcher, NULL);

	samples_sort(&late);
	for (i = 0; i < late.n && late.v[i] < 0; i++)
		early++;
	printf("received %ld dups %ld strays %ld early %ld receives %ld\n",
		   nheld, dups, strays, early, receives);
	printf("late_ms p50 %.1f p99 %.1f max %.1f min %.1f\n",
		   pct(&late, 50) * 1e3, pct(&late, 99) * 1e3, pct(&late, 100) * 1e3,
		   late.n ? late.v[0] * 1e3 : NAN);
	printf("first_ms %.1f last_ms %.1f\n", (t_first - w.t_due) * 1e3, (t_last - w.t_due) * 1e3);
	printf("move_start_ms %.1f polls %ld\n",
		   w.move_start > 0 ? (w.move_start - w.t_due) * 1e3 : NAN, w.polls);
	printf("seconds %.3f\n", t_end - t_start);
	PQfinish(prod);
	PQfinish(cons);
	return (nheld != nsent || dups || strays || early) ? 3 : 0;
}

/* ---------------------------------------------------------------- follow */

typedef struct
{
	pthread_mutex_t lock;
	/* protected by lock: */
	Samples		slice;			/* lateness (s) of this interval's events */
	Samples		all;			/* of every event */
	long		held,
				early,
				dups;
	IdSet		ids;
} Tally;

static Tally tally = {PTHREAD_MUTEX_INITIALIZER};

static void
tally_event(int64_t id, double late)
{
	pthread_mutex_lock(&tally.lock);
	if (idset_add(&tally.ids, id))
		tally.dups++;
	else
	{
		tally.held++;
		if (late < 0)
			tally.early++;
		samples_add(&tally.slice, late);
		samples_add(&tally.all, late);
	}
	pthread_mutex_unlock(&tally.lock);
}

/* pgque: receive + ack; returns how many events */
static int
follow_pgque(PGconn *c)
{
	const char *p[2] = {queue, consumer};
	PGresult   *r;
	double		t;
	int			n,
				i;

	PQclear(run(c, "begin", 0, NULL));
	r = run(c, "select msg_id, batch_id, payload from pgque.receive($1, $2, 1000)", 2, p);
	t = now_s();
	n = PQntuples(r);
	for (i = 0; i < n; i++)
		tally_event(atoll(PQgetvalue(r, i, 0)), t - atof(PQgetvalue(r, i, 2)));
	if (n > 0)
	{
		const char *a[1] = {PQgetvalue(r, 0, 1)};

		PQclear(run(c, "select pgque.ack($1::int8)", 1, a));
	}
	PQclear(r);
	PQclear(run(c, "commit", 0, NULL));
	return n;
}

/* delete: one move of what is due; returns how many events */
static int
follow_delete(PGconn *c)
{
	PGresult   *r;
	double		t;
	int			n,
				i;

	PQclear(run(c, "begin", 0, NULL));
	r = run(c,
			"with due as (delete from bench_delay where ev_deliver_at <= pg_catalog.clock_timestamp()"
			"             returning *)"
			" insert into bench_delivered"
			" select due.*, pg_catalog.clock_timestamp() from due"
			" returning ev_id, ev_data",
			0, NULL);
	PQclear(run(c, "commit", 0, NULL));
	t = now_s();
	n = PQntuples(r);
	for (i = 0; i < n; i++)
		tally_event(atoll(PQgetvalue(r, i, 0)), t - atof(PQgetvalue(r, i, 1)));
	PQclear(r);
	return n;
}

static const char *sample_pgque =
"with t as (select c.oid from pg_catalog.pg_class c"
"             join pg_catalog.pg_namespace n on n.oid = c.relnamespace"
"            where n.nspname = 'pgque' and c.relkind = 'r' and c.relname ~ '^delay_[0-9]+$'),"
"     p as (select sum(s.dead_tuple_count) as dead, sum(s.tuple_count) as live"
"             from t, lateral pgstattuple(t.oid) s),"
"     st as (select sum(u.n_dead_tup) as nd, sum(u.autovacuum_count + u.vacuum_count) as vac"
"              from pg_catalog.pg_stat_user_tables u join t on t.oid = u.relid),"
"     b as (select u.n_dead_tup, u.autovacuum_count + u.vacuum_count as vac"
"             from pg_catalog.pg_stat_user_tables u where u.relid = 'pgque.delay_bucket'::regclass)"
" select (select count(*) from t),"
"        (select count(*) from pgque.delay_bucket where db_from is not null),"
"        (select coalesce(sum(pg_catalog.pg_total_relation_size(t.oid)), 0) from t),"
"        (select coalesce(sum(pg_catalog.pg_relation_size(t.oid)), 0) from t),"
"        coalesce(st.nd, 0), coalesce(p.dead, 0), coalesce(p.live, 0),"
"        b.n_dead_tup, (select s.dead_tuple_count from pgstattuple('pgque.delay_bucket') s),"
"        pg_catalog.pg_total_relation_size('pgque.delay_bucket'),"
"        coalesce(st.vac, 0) + b.vac,"
"        (select coalesce(sum(d.delayed), 0) from pgque.get_delayed_info($1) d)"
"   from p, st, b";

static const char *sample_delete =
"select 1, 0, pg_catalog.pg_total_relation_size('bench_delay'),"
"       pg_catalog.pg_relation_size('bench_delay'),"
"       u.n_dead_tup, s.dead_tuple_count, s.tuple_count, 0, 0, 0,"
"       u.autovacuum_count + u.vacuum_count, (select count(*) from bench_delay)"
"  from pg_catalog.pg_stat_user_tables u, pgstattuple('bench_delay') s"
" where u.relid = 'bench_delay'::regclass";

typedef struct
{
	const char *design;
	const char *csv;
	double		t0;
	double		seconds;
	double		interval;
	int			mover_pid;		/* the worker, or the baseline mover's backend */
	volatile int stop;
} Sampler;

static void *
sampler(void *arg)
{
	Sampler    *s = arg;
	PGconn	   *c = connect_or_die();
	FILE	   *f = fopen(s->csv, "w");
	int			k;
	double		cpu_prev = proc_cpu_s(s->mover_pid),
				t_prev = now_s(),
				busy_prev,
				total_prev;

	machine_jiffies(&busy_prev, &total_prev);

	if (f == NULL)
	{
		fprintf(stderr, "delay: %s: %s\n", s->csv, strerror(errno));
		exit(1);
	}
	fprintf(f, "t_s,design,tables,buckets,total_bytes,heap_bytes,n_dead_tup,dead_tuples,tuples,"
			"meta_n_dead_tup,meta_dead_tuples,meta_bytes,vacuums,pending,delivered_total,delivered,"
			"late_p50_ms,late_p99_ms,late_max_ms,early,dups,mover_cpu_pct,machine_busy_pct\n");
	for (k = 0;; k++)
	{
		double		due = s->t0 + k * s->interval,
					t,
					cpu,
					busy,
					total;
		const char *p[1] = {queue ? queue : ""};
		PGresult   *r;
		int			j;

		while (!s->stop && now_s() < due)
			sleep_s(fmin(0.1, due - now_s()));
		if (s->stop)
			break;
		PQclear(run(c, "select pg_catalog.pg_stat_clear_snapshot()", 0, NULL));
		r = run(c, strcmp(s->design, "pgque") == 0 ? sample_pgque : sample_delete,
				strcmp(s->design, "pgque") == 0 ? 1 : 0, p);
		t = now_s();
		cpu = proc_cpu_s(s->mover_pid);
		machine_jiffies(&busy, &total);
		fprintf(f, "%.1f,%s", due - s->t0, s->design);
		for (j = 0; j < PQnfields(r); j++)
			fprintf(f, ",%s", PQgetisnull(r, 0, j) ? "" : PQgetvalue(r, 0, j));
		PQclear(r);
		pthread_mutex_lock(&tally.lock);
		samples_sort(&tally.slice);
		fprintf(f, ",%ld,%ld", tally.held, tally.slice.n);
		if (tally.slice.n > 0)
			fprintf(f, ",%.1f,%.1f,%.1f", pct(&tally.slice, 50) * 1e3, pct(&tally.slice, 99) * 1e3,
					pct(&tally.slice, 100) * 1e3);
		else
			fprintf(f, ",,,");
		fprintf(f, ",%ld,%ld", tally.early, tally.dups);
		tally.slice.n = 0;
		pthread_mutex_unlock(&tally.lock);
		if (cpu >= 0 && cpu_prev >= 0 && k > 0)
			fprintf(f, ",%.1f", (cpu - cpu_prev) * 100 / (t - t_prev));
		else
			fprintf(f, ",");
		if (total > total_prev && k > 0)
			fprintf(f, ",%.0f\n", (busy - busy_prev) * 100 / (total - total_prev));
		else
			fprintf(f, ",\n");
		fflush(f);
		cpu_prev = cpu;
		t_prev = t;
		busy_prev = busy;
		total_prev = total;
		if (due - s->t0 >= s->seconds)
			break;
	}
	fclose(f);
	PQfinish(c);
	return NULL;
}

static int
follow(const char *design, double seconds, double interval, const char *csv)
{
	PGconn	   *c = connect_or_die();
	Sampler		s = {design, csv, 0, seconds, interval, 0, 0};
	pthread_t	th;
	int			is_pgque = strcmp(design, "pgque") == 0;
	double		t_end;

	if (is_pgque)
	{
		PGresult   *r = run(c, "select pid from pg_catalog.pg_stat_activity"
							" where backend_type = 'pgque worker' and datname = current_database()",
							0, NULL);

		if (PQntuples(r) != 1)
		{
			fprintf(stderr, "delay: no pgque worker runs for this database\n");
			return 1;
		}
		s.mover_pid = atoi(PQgetvalue(r, 0, 0));
		PQclear(r);
		listen_queue(c);
	}
	else
		s.mover_pid = PQbackendPID(c);

	s.t0 = now_s();
	t_end = s.t0 + seconds;
	pthread_create(&th, NULL, sampler, &s);
	while (now_s() < t_end + 0.5)
	{
		if (is_pgque)
		{
			if (follow_pgque(c) == 0)
				wait_notify(c, 50);
		}
		else
		{
			double		t = now_s();

			follow_delete(c);
			sleep_s(0.05 - (now_s() - t));
		}
	}
	pthread_join(th, NULL);

	/*
	 * What was sent and not held must still wait. pgque: stop the worker
	 * (no more moves), tick, and take what the queue has.
	 */
	if (is_pgque)
	{
		const char *p[1] = {queue};
		PGresult   *r;
		int			i;

		PQclear(run(c, "select pgque.stop()", 0, NULL));
		for (i = 0; i < 100; i++)
		{
			r = run(c, "select count(*) from pg_catalog.pg_stat_activity"
					" where backend_type = 'pgque worker' and datname = current_database()",
					0, NULL);
			if (atoi(PQgetvalue(r, 0, 0)) == 0)
				i = 100;
			PQclear(r);
			sleep_s(0.1);
		}
		PQclear(run(c, "select pgque.force_tick($1), pgque.ticker($1)", 1, p));
		while (follow_pgque(c) > 0)
			;
		/* the restarted worker's ticks would NOTIFY a closing connection */
		PQclear(run(c, "unlisten *", 0, NULL));
		r = run(c, "select coalesce(sum(delayed), 0) from pgque.get_delayed_info($1)", 1, p);
		printf("pending %s\n", PQgetvalue(r, 0, 0));
		PQclear(r);
		PQclear(run(c, "select pgque.start()", 0, NULL));
	}
	else
	{
		PGresult   *r = run(c, "select count(*) from bench_delay", 0, NULL);

		printf("pending %s\n", PQgetvalue(r, 0, 0));
		PQclear(r);
	}
	samples_sort(&tally.all);
	printf("held %ld early %ld dups %ld\n", tally.held, tally.early, tally.dups);
	printf("late_ms p50 %.1f p99 %.1f max %.1f\n", pct(&tally.all, 50) * 1e3,
		   pct(&tally.all, 99) * 1e3, pct(&tally.all, 100) * 1e3);
	PQfinish(c);
	return tally.early || tally.dups ? 3 : 0;
}

int
main(int argc, char **argv)
{
	const char *mode,
			   *design = NULL,
			   *csv = NULL;
	long		events = 100000;
	int			chunk = 1000;
	double		ahead = 10,
				seconds = 0,
				interval = 10;
	int			i;

	if (argc < 2)
		goto usage;
	mode = argv[1];
	for (i = 2; i < argc; i++)
	{
		if (i + 1 >= argc)
			goto usage;
		if (strcmp(argv[i], "--dsn") == 0)
			dsn = argv[++i];
		else if (strcmp(argv[i], "--queue") == 0)
			queue = argv[++i];
		else if (strcmp(argv[i], "--consumer") == 0)
			consumer = argv[++i];
		else if (strcmp(argv[i], "--events") == 0)
			events = atol(argv[++i]);
		else if (strcmp(argv[i], "--chunk") == 0)
			chunk = atoi(argv[++i]);
		else if (strcmp(argv[i], "--ahead") == 0)
			ahead = atof(argv[++i]);
		else if (strcmp(argv[i], "--design") == 0)
			design = argv[++i];
		else if (strcmp(argv[i], "--seconds") == 0)
			seconds = atof(argv[++i]);
		else if (strcmp(argv[i], "--interval") == 0)
			interval = atof(argv[++i]);
		else if (strcmp(argv[i], "--csv") == 0)
			csv = argv[++i];
		else
			goto usage;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(mode, "precision") == 0 && queue && consumer && events > 0 && chunk > 0)
		return precision(events, chunk, ahead);
	if (strcmp(mode, "follow") == 0 && design && csv && seconds > 0 && interval > 0 &&
		(strcmp(design, "delete") == 0 || (strcmp(design, "pgque") == 0 && queue && consumer)))
		return follow(design, seconds, interval, csv);

usage:
	fprintf(stderr,
			"usage: %s precision --dsn DSN --queue Q --consumer C [--events N] [--chunk N] [--ahead S]\n"
			"       %s follow --dsn DSN --design pgque|delete [--queue Q --consumer C] --seconds S"
			" [--interval S] --csv FILE\n", argv[0], argv[0]);
	return 2;
}
