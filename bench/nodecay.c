/*
 * nodecay -- a fixed producer rate, consumers, and a session holding an old
 * snapshot for the whole run; one CSV row every --interval seconds.
 *
 *   nodecay --dsn DSN --mode pgque|job --csv FILE [--rate 5000]
 *           [--seconds 1800] [--interval 10] [--producers 2] [--per-tx 10]
 *           [--consumers N] [--max 1000] [--window 300] [--drain 60]
 *
 * Producers: --producers threads, one connection each, send --rate events/s
 * in total, --per-tx events per transaction (one statement, autocommit),
 * paced on a fixed schedule (a late thread catches up, it never skips).
 * Every event's payload carries its sequence number; the time the
 * producer's statement returned (after its commit) is the event's send time.
 *
 *   pgque  select pgque.send_batch(queue, payloads)
 *   job    insert into job(payload) select unnest(payloads), and a
 *          pg_notify('nodecay_job') in the same statement
 *
 * Consumers: --consumers threads, one connection each, LISTENing; when a
 * call returns nothing they wait for a notification (at most 1 s, then
 * poll again).
 *
 *   pgque  receive(queue, 'bench', --max) then ack(batch) while it returns
 *          rows (one subscription: --consumers must be 1)
 *   job    delete from job where id in (select id from job order by id
 *          for update skip locked limit --max) returning payload, while it
 *          returns --max rows
 *
 * The time the consumer's call returned is the event's receipt time; both
 * times are CLOCK_MONOTONIC in this one process, so latency = receipt - send
 * covers the commit, the wait for a tick (pgque) or a wake-up, the read.
 *
 * Holder: a session that runs BEGIN ISOLATION LEVEL REPEATABLE READ, takes
 * an xid (pg_current_xact_id()) and reads a table, then stays idle in
 * transaction until the end: its xid and snapshot hold back the xmin horizon
 * of the whole cluster (no VACUUM can remove what died after it began).
 *
 * Every interval a sampler writes: events sent and consumed, consumed/s,
 * latency p50/p99/max of the events consumed in the interval, the backlog
 * (sent - consumed), the CPU of the consumers' backends and of the whole
 * machine, the holder's xmin age, and the storage of the tables involved
 * (size, n_live_tup/n_dead_tup from pg_stat_user_tables; pgque: the event
 * tables, the current table, rotations seen, and the metadata tables
 * pgque.batch + pgque.tick + pgque.subscriber).
 *
 * After --seconds the producers stop; the consumers get --drain seconds to
 * catch up. At the end it prints the counts (sent, consumed, missing,
 * duplicates) and the exact p50/p99 and rate of the first and last --window
 * seconds (events by the time they were consumed); the exit code is 0 when
 * every event was consumed exactly once.
 */
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#define BENCH_NAME "nodecay"
#include "bench_pq.h"

#define MAX_THREADS 16

static const char *csv_path = NULL;
static int	mode_job = 0;
static int	rate = 5000;
static int	seconds = 1800;
static int	interval_s = 10;
static int	n_producers = 2;
static int	per_tx = 10;
static int	n_consumers = 1;
static int	max_rows = 1000;
static int	window_s = 300;
static int	drain_s = 60;
static const char *queue = "nodecay";

static int64_t total;			/* events to send */
static int64_t *sent_at;		/* by sequence number; 0 = not yet */
static int64_t *got_at;
static int64_t *got_log;		/* sequence numbers in the order consumed */
static int64_t n_logged;		/* under log_lock */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_llong next_seq;
static atomic_llong n_sent;
static atomic_llong n_dup;
static atomic_int producers_done;
static atomic_int stop_consumers;
static int64_t t_start;
static int	consumer_pids[MAX_THREADS];

static void
sleep_until(int64_t t)
{
	int64_t		w = t - now_ns();

	if (w > 0)
	{
		struct timespec ts = {w / 1000000000, w % 1000000000};

		nanosleep(&ts, NULL);
	}
}

static void
must(PGresult *r, PGconn *c, const char *what)
{
	if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK)
	{
		fprintf(stderr, "nodecay: %s: %s", what, PQerrorMessage(c));
		exit(1);
	}
}

/* ------------------------------------------------------------ producers */

static void *
producer(void *arg)
{
	int			me = (int) (intptr_t) arg;
	PGconn	   *c = connect_or_die();
	int64_t		period = (int64_t) 1000000000 * per_tx * n_producers / rate;
	int64_t		start = t_start + period * me / n_producers;	/* staggered */
	char	   *arr = malloc((size_t) per_tx * 48 + 16);
	int64_t		i;

	if (mode_job)
		must(PQprepare(c, "send",
					   "with i as (insert into job(payload) select unnest($1::text[]) returning 1)"
					   " select count(*), pg_notify('nodecay_job', '') from i", 1, NULL), c, "prepare");
	else
		must(PQprepare(c, "send", "select pgque.send_batch($2, $1::text[])", 2, NULL), c, "prepare");

	for (i = 0;; i++)
	{
		int64_t		first = atomic_fetch_add(&next_seq, per_tx);
		int			n = per_tx,
					k,
					len = 0;
		const char *params[2];
		PGresult   *r;
		int64_t		t;

		if (first >= total)
			break;
		if (first + n > total)
			n = (int) (total - first);
		sleep_until(start + i * period);
		len += sprintf(arr + len, "{");
		for (k = 0; k < n; k++)
			len += sprintf(arr + len, "%s\"nodecay %" PRId64 " ----------------------\"",
						   k ? "," : "", first + k);
		sprintf(arr + len, "}");
		params[0] = arr;
		params[1] = queue;
		r = PQexecPrepared(c, "send", mode_job ? 1 : 2, params, NULL, NULL, 0);
		t = now_ns();
		must(r, c, "send");
		PQclear(r);
		for (k = 0; k < n; k++)
			sent_at[first + k] = t;
		atomic_fetch_add(&n_sent, n);
	}
	free(arr);
	PQfinish(c);
	return NULL;
}

/* ------------------------------------------------------------ consumers */

static void
record(PGresult *r, int col, int64_t t)
{
	int			rows = PQntuples(r),
				i;

	for (i = 0; i < rows; i++)
	{
		const char *p = PQgetvalue(r, i, col);
		int64_t		seq;

		if (strncmp(p, "nodecay ", 8) != 0)
			continue;
		seq = strtoll(p + 8, NULL, 10);
		if (seq < 0 || seq >= total)
			continue;
		if (got_at[seq] != 0)
		{
			atomic_fetch_add(&n_dup, 1);
			continue;
		}
		got_at[seq] = t;
		pthread_mutex_lock(&log_lock);
		got_log[n_logged++] = seq;
		pthread_mutex_unlock(&log_lock);
	}
}

static int64_t
logged_now(void)
{
	int64_t		n;

	pthread_mutex_lock(&log_lock);
	n = n_logged;
	pthread_mutex_unlock(&log_lock);
	return n;
}

static void *
consumer(void *arg)
{
	int			me = (int) (intptr_t) arg;
	PGconn	   *c = connect_or_die();
	char		maxs[16];
	PGresult   *r;

	snprintf(maxs, sizeof(maxs), "%d", max_rows);
	r = run(c, "select pg_backend_pid()", 0, NULL);
	consumer_pids[me] = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (mode_job)
	{
		PQclear(run(c, "listen nodecay_job", 0, NULL));
		must(PQprepare(c, "take",
					   "delete from job where id in (select id from job order by id"
					   " for update skip locked limit $1::int) returning payload", 1, NULL), c, "prepare");
	}
	else
	{
		char		l[128];

		snprintf(l, sizeof(l), "listen \"pgque_%s\"", queue);
		PQclear(run(c, l, 0, NULL));
		must(PQprepare(c, "take", "select batch_id, payload from pgque.receive($1, 'bench', $2::int)",
					   2, NULL), c, "prepare");
	}

	while (!atomic_load(&stop_consumers))
	{
		const char *params[2];
		int			rows;
		int64_t		t;

		if (mode_job)
			params[0] = maxs;
		else
		{
			params[0] = queue;
			params[1] = maxs;
		}
		r = PQexecPrepared(c, "take", mode_job ? 1 : 2, params, NULL, NULL, 0);
		t = now_ns();
		must(r, c, "consume");
		rows = PQntuples(r);
		record(r, mode_job ? 0 : 1, t);
		if (!mode_job && rows > 0)
		{
			const char *ack[1] = {PQgetvalue(r, 0, 0)};

			PQclear(run(c, "select pgque.ack($1::bigint)", 1, ack));
		}
		PQclear(r);
		if (rows == 0 || (mode_job && rows < max_rows))
			wait_notify(c, 1000);
	}
	PQfinish(c);
	return NULL;
}

/* ------------------------------------------------------------ sampling */

static int
cmp64(const void *a, const void *b)
{
	int64_t		x = *(const int64_t *) a,
				y = *(const int64_t *) b;

	return (x > y) - (x < y);
}

/* p50, p99, max (ms) of the latencies of got_log[from, to) */
static void
percentiles(int64_t from, int64_t to, double *p50, double *p99, double *mx)
{
	int64_t		n = 0,
				i;
	int64_t    *v;

	*p50 = *p99 = *mx = -1;
	if (to <= from)
		return;
	v = malloc(sizeof(int64_t) * (to - from));
	for (i = from; i < to; i++)
	{
		int64_t		s = got_log[i];

		if (sent_at[s] != 0)
			v[n++] = got_at[s] > sent_at[s] ? got_at[s] - sent_at[s] : 0;
	}
	if (n > 0)
	{
		qsort(v, n, sizeof(int64_t), cmp64);
		*p50 = v[n / 2] / 1e6;
		*p99 = v[(int64_t) (n * 0.99)] / 1e6;
		*mx = v[n - 1] / 1e6;
	}
	free(v);
}

static const char *stats_pgque =
"with ev as (select c.oid, s.n_live_tup, s.n_dead_tup from pg_class c"
"   join pg_stat_user_tables s on s.relid = c.oid, pgque.queue q"
"  where q.queue_name = $1 and c.relnamespace = 'pgque'::regnamespace"
"    and c.relname ~ ('^event_' || q.queue_id || '_[0-9]+$')),"
" meta as (select s.relid, s.n_dead_tup from pg_stat_user_tables s"
"  where s.schemaname = 'pgque' and s.relname in ('batch', 'tick', 'subscriber'))"
" select (select sum(pg_total_relation_size(oid)) from ev),"
"        (select sum(n_live_tup) from ev), (select sum(n_dead_tup) from ev),"
"        (select queue_cur_table from pgque.queue where queue_name = $1),"
"        (select sum(pg_total_relation_size(relid)) from meta),"
"        (select sum(n_dead_tup) from meta),"
"        (select sum(autovacuum_count) from pg_stat_user_tables where schemaname = 'pgque'),"
"        (select replace(coalesce(rotation_blocked_by, ''), ',', ';') from pgque.get_queue_info($1))";
static const char *stats_job =
"select pg_total_relation_size('job'), n_live_tup, n_dead_tup, null, pg_indexes_size('job'),"
"       null, autovacuum_count, '' from pg_stat_user_tables where relid = 'job'::regclass";

/* a consumer's backend CPU seconds, 0 once it is gone */
static double
consumer_cpu_s(int pid)
{
	double		s = proc_cpu_s(pid);

	return s < 0 ? 0 : s;
}

static void *
sampler(void *arg)
{
	FILE	   *csv = fopen(csv_path, "a");
	PGconn	   *c = connect_or_die();
	int			holder_pid = (int) (intptr_t) arg;
	double		cpu0 = 0,
				b0,
				a0;
	int64_t		logged0 = 0,
				sent0 = 0;
	int			k,
				last_table = -1,
				rotations = 0;
	char		hp[16];

	if (csv == NULL)
	{
		perror(csv_path);
		exit(1);
	}
	snprintf(hp, sizeof(hp), "%d", holder_pid);
	fprintf(csv, "t_s,sent,consumed,consumed_per_s,backlog,p50_ms,p99_ms,max_ms,"
			"consumer_cpu_ms_per_s,consumer_cpu_us_per_event,machine_busy_pct,holder_xmin_age,"
			"table_bytes,live_tup,dead_tup,cur_table,rotations,other_bytes,meta_dead_tup,autovacuums,rotation_blocked_by\n");
	fflush(csv);
	machine_jiffies(&b0, &a0);
	for (k = 0; k < n_consumers; k++)
		cpu0 += consumer_cpu_s(consumer_pids[k]);
	for (k = 1;; k++)
	{
		int64_t		logged,
					sent;
		double		p50,
					p99,
					mx;
		double		cpu = 0,
					b1,
					a1;
		int			i;
		PGresult   *r;
		const char *qp[1] = {queue};
		const char *v[8];
		char		curt[16] = "",
					cpu_ms[32],
					cpu_us[32];

		sleep_until(t_start + (int64_t) k * interval_s * 1000000000);
		logged = logged_now();
		sent = atomic_load(&n_sent);
		for (i = 0; i < n_consumers; i++)
			cpu += consumer_cpu_s(consumer_pids[i]);
		machine_jiffies(&b1, &a1);
		/* let the producers store the send times of what was just committed */
		sleep_until(now_ns() + 50000000);
		percentiles(logged0, logged, &p50, &p99, &mx);

		r = run(c, "select age(backend_xmin) from pg_stat_activity where pid = $1::int", 1,
				(const char *const *) (const char *[]) {hp});
		/* empty when a consumer's backend has gone (the row after they stop) */
		cpu_ms[0] = cpu_us[0] = '\0';
		if (cpu >= cpu0)
		{
			snprintf(cpu_ms, sizeof(cpu_ms), "%.1f", (cpu - cpu0) * 1000 / interval_s);
			snprintf(cpu_us, sizeof(cpu_us), "%.2f",
					 logged > logged0 ? (cpu - cpu0) * 1e6 / (logged - logged0) : 0);
		}
		fprintf(csv, "%d,%" PRId64 ",%" PRId64 ",%.1f,%" PRId64 ",%.3f,%.3f,%.3f,%s,%s,%.1f,%s,",
				k * interval_s, sent - sent0, logged - logged0,
				(double) (logged - logged0) / interval_s, sent - logged, p50, p99, mx,
				cpu_ms, cpu_us,
				a1 > a0 ? 100.0 * (b1 - b0) / (a1 - a0) : 0,
				PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
		PQclear(r);
		r = run(c, mode_job ? stats_job : stats_pgque, mode_job ? 0 : 1, qp);
		for (i = 0; i < 8; i++)
			v[i] = PQntuples(r) ? PQgetvalue(r, 0, i) : "";
		if (!mode_job && v[3][0])
		{
			int			t = atoi(v[3]);

			if (last_table >= 0 && t != last_table)
				rotations++;
			last_table = t;
			snprintf(curt, sizeof(curt), "%d", rotations);
		}
		fprintf(csv, "%s,%s,%s,%s,%s,%s,%s,%s,\"%s\"\n", v[0], v[1], v[2], v[3], curt, v[4], v[5], v[6], v[7]);
		fflush(csv);
		PQclear(r);
		logged0 = logged;
		sent0 = sent;
		cpu0 = cpu;
		b0 = b1;
		a0 = a1;
		if (atomic_load(&stop_consumers))
			break;
	}
	fclose(csv);
	PQfinish(c);
	return NULL;
}

/* p50/p99 and rate of the events consumed in [from_s, to_s) of the run */
static void
window(const char *name, double from_s, double to_s)
{
	int64_t		i,
				a = -1,
				b = 0,
				n = logged_now();
	double		p50,
				p99,
				mx;

	for (i = 0; i < n; i++)
	{
		double		t = (got_at[got_log[i]] - t_start) / 1e9;

		if (t >= from_s && a < 0)
			a = i;
		if (t < to_s)
			b = i + 1;
	}
	if (a < 0 || b <= a)
	{
		printf("window %s %.0f %.0f events 0\n", name, from_s, to_s);
		return;
	}
	percentiles(a, b, &p50, &p99, &mx);
	printf("window %s %.0f %.0f events %" PRId64 " per_s %.1f p50_ms %.3f p99_ms %.3f max_ms %.3f\n",
		   name, from_s, to_s, b - a, (b - a) / (to_s - from_s), p50, p99, mx);
}

int
main(int argc, char **argv)
{
	pthread_t	prod[MAX_THREADS],
				cons[MAX_THREADS],
				samp;
	PGconn	   *holder;
	PGresult   *r;
	int			i,
				holder_pid;
	int64_t		logged,
				deadline;

	for (i = 1; i < argc; i++)
	{
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (v == NULL)
			goto usage;
		if (strcmp(a, "--dsn") == 0)
			dsn = v;
		else if (strcmp(a, "--csv") == 0)
			csv_path = v;
		else if (strcmp(a, "--mode") == 0)
			mode_job = strcmp(v, "job") == 0;
		else if (strcmp(a, "--rate") == 0)
			rate = atoi(v);
		else if (strcmp(a, "--seconds") == 0)
			seconds = atoi(v);
		else if (strcmp(a, "--interval") == 0)
			interval_s = atoi(v);
		else if (strcmp(a, "--producers") == 0)
			n_producers = atoi(v);
		else if (strcmp(a, "--per-tx") == 0)
			per_tx = atoi(v);
		else if (strcmp(a, "--consumers") == 0)
			n_consumers = atoi(v);
		else if (strcmp(a, "--max") == 0)
			max_rows = atoi(v);
		else if (strcmp(a, "--window") == 0)
			window_s = atoi(v);
		else if (strcmp(a, "--drain") == 0)
			drain_s = atoi(v);
		else
			goto usage;
		i++;
	}
	if (csv_path == NULL || rate <= 0 || seconds <= 0 || interval_s <= 0 || per_tx <= 0 ||
		n_producers < 1 || n_producers > MAX_THREADS || n_consumers < 1 ||
		n_consumers > MAX_THREADS || (!mode_job && n_consumers != 1))
		goto usage;

	total = (int64_t) rate * seconds;
	sent_at = calloc(total, sizeof(int64_t));
	got_at = calloc(total, sizeof(int64_t));
	got_log = calloc(total, sizeof(int64_t));
	if (!sent_at || !got_at || !got_log)
	{
		fprintf(stderr, "nodecay: out of memory\n");
		return 1;
	}

	holder = connect_or_die();
	PQclear(run(holder, "begin isolation level repeatable read", 0, NULL));
	r = run(holder, mode_job ? "select pg_current_xact_id(), pg_backend_pid(), (select count(*) from job)"
			: "select pg_current_xact_id(), pg_backend_pid(), (select count(*) from pgque.queue)", 0, NULL);
	printf("holder xid %s pid %s\n", PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
	holder_pid = atoi(PQgetvalue(r, 0, 1));
	PQclear(r);
	fflush(stdout);

	t_start = now_ns();
	for (i = 0; i < n_consumers; i++)
		pthread_create(&cons[i], NULL, consumer, (void *) (intptr_t) i);
	sleep_until(t_start + 300000000);	/* consumers LISTEN first */
	t_start = now_ns();
	for (i = 0; i < n_producers; i++)
		pthread_create(&prod[i], NULL, producer, (void *) (intptr_t) i);
	pthread_create(&samp, NULL, sampler, (void *) (intptr_t) holder_pid);
	for (i = 0; i < n_producers; i++)
		pthread_join(prod[i], NULL);
	atomic_store(&producers_done, 1);
	printf("producers done after %.1f s\n", (now_ns() - t_start) / 1e9);
	fflush(stdout);
	deadline = now_ns() + (int64_t) drain_s * 1000000000;
	while (logged_now() + atomic_load(&n_dup) < atomic_load(&n_sent) && now_ns() < deadline)
		sleep_until(now_ns() + 100000000);
	/* the sampler writes the row of the interval in progress, then stops */
	atomic_store(&stop_consumers, 1);
	pthread_join(samp, NULL);
	for (i = 0; i < n_consumers; i++)
		pthread_join(cons[i], NULL);

	{
		PGconn	   *c = connect_or_die();
		char		hp[16];
		const char *p1[1] = {hp};
		const char *qp[1] = {queue};

		snprintf(hp, sizeof(hp), "%d", holder_pid);
		r = run(c, "select age(backend_xmin), state from pg_stat_activity where pid = $1::int", 1, p1);
		if (PQntuples(r))
			printf("holder at end: xmin age %s, %s\n", PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
		PQclear(r);
		if (!mode_job)
		{
			r = run(c, "select queue_cur_table, queue_switch_time, coalesce(rotation_blocked_by, '-')"
					" from pgque.get_queue_info($1)", 1, qp);
			printf("rotation at end (holder still there): cur_table %s switch_time %s blocked_by %s\n",
				   PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2));
			PQclear(r);
		}
		PQfinish(c);
	}
	PQclear(PQexec(holder, "rollback"));
	PQfinish(holder);

	logged = logged_now();
	printf("sent %" PRId64 " consumed %" PRId64 " missing %" PRId64 " duplicates %lld\n",
		   (int64_t) atomic_load(&n_sent), logged, (int64_t) atomic_load(&n_sent) - logged,
		   (long long) atomic_load(&n_dup));
	{
		double		w = window_s;

		if (w * 4 > seconds)
			w = seconds / 4.0;
		window("first", 0, w);
		window("last", seconds - w, seconds);
	}
	return (logged == atomic_load(&n_sent) && atomic_load(&n_dup) == 0) ? 0 : 1;

usage:
	fprintf(stderr, "usage: %s --dsn DSN --mode pgque|job --csv FILE [--rate N] [--seconds S]"
			" [--interval S] [--producers N] [--per-tx N] [--consumers N (pgque: 1)] [--max N]"
			" [--window S] [--drain S]\n", argv[0]);
	return 2;
}
