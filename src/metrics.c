/*-------------------------------------------------------------------------
 *
 * metrics.c
 *		pgque.metrics(): the Prometheus text exposition of every queue,
 *		consumer, schedule and the worker, in one call
 *		(docs/operations.md#metrics, extension/88_metrics.sql).
 *
 * A scraper calls it every few seconds, also with thousands of queues, so
 * it is built for that. The queues, subscriptions and consumers are read
 * whole (small tables) and joined and sorted here; then, with pgque.tick
 * and pgque.batch open across all (src/meta_rows.c), per queue one index
 * probe for its newest tick and a read of its event sequence, and per
 * subscription one probe for its cursor. The cursor's tick and the first
 * tick after it that brought events are taken from the scan of the newest
 * one when they are a few ticks back, by two more probes when further.
 * While pgque.batch is not as the extension made it, the same rows come
 * from one SQL statement (queue_sql) instead. Counts of whole tables and
 * the schedules are SQL statements planned once per backend; the text is
 * written here (in SQL, the string work alone cost ten times the reads).
 * bench/results/metrics.md has the cost at 1, 100 and 1,000 queues.
 *
 * Samples come grouped by family, each family after its HELP and TYPE
 * lines, sorted by queue and consumer name (bytewise).
 *
 *-------------------------------------------------------------------------
 */
#include "pgque.h"

#include <math.h>

#include "meta_rows.h"

#include "catalog/pg_type_d.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

/* The row sets a family takes its samples from. */
typedef enum MetricRows
{
	ROWS_WORKER,				/* one row */
	ROWS_QUEUE,					/* the first row of each queue */
	ROWS_CONSUMER,				/* every row with a consumer */
	ROWS_SCHEDULE,
	ROWS_COUNT
} MetricRows;

/* Columns of the worker's row ... */
enum
{
	W_VERSION = 1, W_UP, W_RUNNING, W_TICK_AGE, W_TICKS, W_ERRORS
};

/* ... of a queue's rows (one per consumer, or one without) ... */
enum
{
	Q_QUEUE = 1, Q_ID, Q_SENT, Q_TICKS, Q_TICK_AGE, Q_NEW, Q_BLOCKED, Q_BLOCKED_BY,
	Q_CONSUMER, Q_PENDING, Q_PENDING_AGE, Q_LAG, Q_PAUSED
};

/*
 * What a queue holds by count, read by a statement of its own (below):
 * these stand for value columns of the queue rows.
 */
enum
{
	COUNT_BASE = 100,
	Q_BATCHES = COUNT_BASE + 1,		/* the kinds of counts_sql */
	Q_RETRIES,
	Q_DEAD
};

/* ... and of a schedule's row. */
enum
{
	S_SCHEDULE = 1, S_QUEUE, S_RUNS, S_MISSED, S_FAILING
};

typedef struct MetricFamily
{
	const char *name;
	const char *type;			/* "counter" or "gauge" */
	const char *help;
	MetricRows	rows;
	int			value_col;
	/* a label of the family's own, and the column it comes from; a row
	 * where that column is NULL has no sample */
	const char *extra_label;
	int			extra_col;
} MetricFamily;

static const MetricFamily families[] = {
	{"pgque_up", "gauge", "1: the pgque extension answered.",
	ROWS_WORKER, W_UP, "version", W_VERSION},
	{"pgque_worker_running", "gauge", "1 if the pgque worker of this database runs.",
	ROWS_WORKER, W_RUNNING, NULL, 0},
	{"pgque_worker_last_tick_age_seconds", "gauge",
		"Seconds since the worker last ticked any queue.",
	ROWS_WORKER, W_TICK_AGE, NULL, 0},
	{"pgque_worker_ticks_total", "counter",
		"Ticks taken by the worker (resets when it restarts).",
	ROWS_WORKER, W_TICKS, NULL, 0},
	{"pgque_worker_errors_total", "counter",
		"Worker steps that failed (the last error is in pgque.status()).",
	ROWS_WORKER, W_ERRORS, NULL, 0},
	{"pgque_events_sent_total", "counter",
		"Event ids drawn by the queue (sends, retries and moves of delayed events each draw one).",
	ROWS_QUEUE, Q_SENT, NULL, 0},
	{"pgque_ticks_total", "counter", "Ticks of the queue (its last tick id).",
	ROWS_QUEUE, Q_TICKS, NULL, 0},
	{"pgque_last_tick_age_seconds", "gauge", "Seconds since the queue's last tick.",
	ROWS_QUEUE, Q_TICK_AGE, NULL, 0},
	{"pgque_new_events", "gauge",
		"Events sent since the queue's last tick (not visible to consumers yet).",
	ROWS_QUEUE, Q_NEW, NULL, 0},
	{"pgque_rotation_blocked", "gauge",
		"1 if the queue's table rotation is due but held back.",
	ROWS_QUEUE, Q_BLOCKED, NULL, 0},
	{"pgque_rotation_blocked_by", "gauge",
		"What holds the rotation back (label by), 1 while it does.",
	ROWS_QUEUE, Q_BLOCKED, "by", Q_BLOCKED_BY},
	{"pgque_pending_events", "gauge",
		"Events ticked after the consumer's last acknowledged batch (counted by the queue's id "
		"sequence: an upper bound while priority or delayed events are in flight).",
	ROWS_CONSUMER, Q_PENDING, NULL, 0},
	{"pgque_oldest_pending_age_seconds", "gauge",
		"How long the consumer's oldest unread event has been readable.",
	ROWS_CONSUMER, Q_PENDING_AGE, NULL, 0},
	{"pgque_consumer_lag_seconds", "gauge",
		"Age of the tick the consumer's cursor stands at.",
	ROWS_CONSUMER, Q_LAG, NULL, 0},
	{"pgque_consumer_paused", "gauge", "1 if the consumer or its queue is paused.",
	ROWS_CONSUMER, Q_PAUSED, NULL, 0},
	{"pgque_batches_open", "gauge", "Batches handed out and not acknowledged yet.",
	ROWS_QUEUE, Q_BATCHES, NULL, 0},
	{"pgque_retries_waiting", "gauge", "Nacked events waiting for their retry time.",
	ROWS_QUEUE, Q_RETRIES, NULL, 0},
	{"pgque_dead_letters", "gauge", "Events in the dead letter table.",
	ROWS_QUEUE, Q_DEAD, NULL, 0},
	{"pgque_schedule_runs_total", "counter", "Events sent by the schedule.",
	ROWS_SCHEDULE, S_RUNS, NULL, 0},
	{"pgque_schedule_missed_total", "counter",
		"Slots of the schedule covered by catch-up events.",
	ROWS_SCHEDULE, S_MISSED, NULL, 0},
	{"pgque_schedule_failing", "gauge", "1 if the schedule's last send failed.",
	ROWS_SCHEDULE, S_FAILING, NULL, 0},
};

static const char *const worker_sql =
"select pgque.version(), 1::float8, (w.state = 'running')::int::float8,"
"       date_part('epoch', clock_timestamp() - w.last_tick),"
"       coalesce(w.ticks, 0)::float8, coalesce(w.errors, 0)::float8"
"  from pgque._worker_status() w";

/*
 * One row per subscription of a queue, or one with NULL consumer columns
 * for a queue without any.
 */
static const char *const queue_sql =
"select q.queue_name, q.queue_id, seq.v::float8, coalesce(top.tick_id, 0)::float8,"
"       date_part('epoch', now() - top.tick_time),"
"       greatest(seq.v - top.tick_event_seq, 0)::float8,"
"       (rot.by is not null)::int::float8,"
/* without the duration in it, so that the series stays one while it lasts */
"       regexp_replace(rot.by, ' \\((lag|open for|transaction open for) [^()]*\\)', '', 'g'),"
"       c.co_name,"
"       coalesce(greatest(top.tick_event_seq - ct.tick_event_seq, 0), 0)::float8,"
"       coalesce(date_part('epoch', now() - fp.tick_time), 0),"
"       date_part('epoch', now() - ct.tick_time),"
"       (s.sub_paused or q.queue_paused)::int::float8"
"  from pgque.queue q"
"  left join lateral (select tk.tick_id, tk.tick_time, tk.tick_event_seq from pgque.tick tk"
"                      where tk.tick_queue = q.queue_id"
"                      order by tk.tick_id desc limit 1) top on true"
"  cross join lateral (select coalesce(pgque._event_seq_value(q.queue_id), 0) as v) seq"
"  cross join lateral (select case when q.queue_switch_time + q.queue_rotation_period <= now()"
"                                  then pgque._rotation_blocker(q.queue_id) end as by) rot"
"  left join pgque.subscriber s on s.sub_queue = q.queue_id"
"  left join pgque.consumer c on c.co_id = s.sub_consumer"
/* the cursor, as pgque.subscription has it */
"  left join lateral (select case when bb.batch_state = 'o' then bb.batch_prev_tick"
"                                 else bb.batch_next_tick end as tick_id"
"                       from pgque.batch bb"
"                      where bb.batch_sub = s.sub_id and bb.batch_member = ''"
"                      order by bb.batch_id desc limit 1) cur on true"
/* the cursor's tick: the newest one for a consumer that has read all */
"  left join lateral (select tk.tick_time, tk.tick_event_seq from pgque.tick tk"
"                      where cur.tick_id <> top.tick_id"
"                        and tk.tick_queue = q.queue_id and tk.tick_id = cur.tick_id"
"                      limit 1) t on true"			/* a probe, not a join with every tick */
"  cross join lateral (select case when cur.tick_id = top.tick_id then top.tick_time"
"                                  else t.tick_time end as tick_time,"
"                             case when cur.tick_id = top.tick_id then top.tick_event_seq"
"                                  else t.tick_event_seq end as tick_event_seq) ct"
"  left join lateral (select tk.tick_time from pgque.tick tk"
"                      where top.tick_event_seq > t.tick_event_seq"
"                        and tk.tick_queue = q.queue_id and tk.tick_id > cur.tick_id"
"                        and tk.tick_event_seq > t.tick_event_seq"
"                      order by tk.tick_id limit 1) fp on true"
" where q.queue_lane_of is null"
" order by q.queue_name collate \"C\", c.co_name collate \"C\" nulls first";

/* why a due rotation is held back, without the duration (see queue_sql) */
static const char *const blocker_sql =
"select regexp_replace(pgque._rotation_blocker($1),"
"                      ' \\((lag|open for|transaction open for) [^()]*\\)', '', 'g')";


/*
 * Open batches, retries and dead letters by queue (lanes count with their
 * queue) and kind. Each is a count of a whole table, so it is planned for
 * the tables as they are, not as pgque's probes are (src/plans.c): planned
 * for a million rows, the empty hash tables alone cost milliseconds.
 */
static const char *const counts_sql =
"select coalesce(l.queue_lane_of, l.queue_id), x.kind, count(*)::float8"
"  from (select sb.sub_queue as queue_id, 1 as kind"
"          from pgque.batch bb join pgque.subscriber sb on sb.sub_id = bb.batch_sub"
"         where bb.batch_state = 'o'"
"        union all"
"        select rq.ev_queue, 2 from pgque.retry_queue rq"
"        union all"
"        select dl.dl_queue_id, 3 from pgque.dead_letter dl) x"
"  join pgque.queue l on l.queue_id = x.queue_id"
" group by 1, 2 order by 1, 2";

static const char *const schedule_sql =
"select s.sched_name, q.queue_name, s.sched_runs::float8, s.sched_missed::float8,"
"       (s.sched_error is not null)::int::float8"
"  from pgque.schedule s join pgque.queue q on q.queue_id = s.sched_queue"
" order by s.sched_name collate \"C\"";

static SPIPlanPtr plans[ROWS_COUNT];
static SPIPlanPtr counts_plan;
static SPIPlanPtr blocker_plan;

/* A row of counts_sql. */
typedef struct QueueCount
{
	int32		queue_id;
	int32		kind;
	double		n;
} QueueCount;

/*
 * Append `name="value"` to out, the value escaped as the format wants it
 * (\\, " and newline), after sep ('{' or ',').
 */
static void
append_label(StringInfo out, char sep, const char *name, const char *value)
{
	const char *run = value;
	const char *p;

	appendStringInfoChar(out, sep);
	appendStringInfoString(out, name);
	appendStringInfoString(out, "=\"");
	for (p = value; *p; p++)
	{
		if (*p != '\\' && *p != '"' && *p != '\n')
			continue;
		appendBinaryStringInfo(out, run, p - run);
		appendStringInfoString(out, *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : "\\n");
		run = p + 1;
	}
	appendBinaryStringInfo(out, run, p - run);
	appendStringInfoChar(out, '"');
}

/* A sample value and the line's end: NaN for none, whole numbers without a fraction. */
static void
append_value(StringInfo out, double v)
{
	char		buf[MAXINT8LEN + 1];

	appendStringInfoChar(out, ' ');
	if (isnan(v))
		appendStringInfoString(out, "NaN");
	else if (isinf(v))
		appendStringInfoString(out, v > 0 ? "+Inf" : "-Inf");
	else if (v == trunc(v) && fabs(v) < 1e15)
		appendBinaryStringInfo(out, buf, pg_lltoa((int64) v, buf));
	else
		appendStringInfoString(out, float8out_internal(v));
	appendStringInfoChar(out, '\n');
}

/* The rows of one statement, each taken apart once. */
typedef struct RowSet
{
	uint64		n;
	int			natts;
	Datum	   *values;			/* row i, column c (from 1): [i * natts + c - 1] */
	bool	   *nulls;
} RowSet;

#define ROW_VALUE(rs, i, c)	((rs)->values[(i) * (rs)->natts + (c) - 1])
#define ROW_NULL(rs, i, c)	((rs)->nulls[(i) * (rs)->natts + (c) - 1])

static void
read_rows(RowSet *rs, SPIPlanPtr *plan, const char *sql, bool probes)
{
	uint64		i;
	SPIPlanPtr	p = pgque_plan(plan, sql, 0, NULL);

	/* a statement of probes planned as pgque's are (src/plans.c); one that
	 * reads whole tables, for the tables as they are (see counts_sql) */
	if ((probes ? pgque_execute_plan(p, NULL, NULL, true, 0) :
		 SPI_execute_plan(p, NULL, NULL, true, 0)) != SPI_OK_SELECT)
		elog(ERROR, "pgque: could not read the metrics");
	rs->n = SPI_processed;
	rs->natts = SPI_tuptable->tupdesc->natts;
	rs->values = palloc(sizeof(Datum) * rs->natts * (rs->n + 1));
	rs->nulls = palloc(sizeof(bool) * rs->natts * (rs->n + 1));
	for (i = 0; i < rs->n; i++)
		heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc,
						  &ROW_VALUE(rs, i, 1), &ROW_NULL(rs, i, 1));
}

/* seconds from then to now, as extract(epoch from now - then) has them */
static double
seconds_since(TimestampTz now, TimestampTz then)
{
	return (double) (now - then) / USECS_PER_SEC;
}

/* What holds a due rotation of the queue back (text), 0 if nothing does. */
static Datum
rotation_blocker(int32 queue_id)
{
	Oid			argtype = INT4OID;
	Datum		arg = Int32GetDatum(queue_id);
	Datum		by = (Datum) 0;
	bool		isnull;

	if (pgque_execute_plan(pgque_plan(&blocker_plan, blocker_sql, 1, &argtype), &arg, NULL,
						   true, 1) != SPI_OK_SELECT)
		elog(ERROR, "pgque: could not read the metrics");
	if (SPI_processed == 1)
		by = pgque_spi_value_opt(0, 1, &isnull);
	return by != (Datum) 0 && !isnull ? by : (Datum) 0;
}

/* A name's bytes, for sorting: a text datum's or none (NULL). */
typedef struct NameKey
{
	const char *data;			/* NULL for none */
	int			len;
} NameKey;

/* A queue and a subscription, as read_queue_rows_direct lists them. */
typedef struct QueueEntry
{
	int32		id;
	Datum		name;			/* text */
	NameKey		key;
	bool		due;			/* its rotation is due */
	bool		paused;
} QueueEntry;

typedef struct SubEntry
{
	int32		id;
	int32		queue_id;
	Datum		consumer;		/* text, 0 when the consumer's row is gone */
	NameKey		key;
	bool		paused;
} SubEntry;

static const char *const queue_columns[] = {
	"queue_id", "queue_name", "queue_lane_of", "queue_switch_time", "queue_rotation_period",
	"queue_paused"
};
static const Oid queue_types[] = {INT4OID, TEXTOID, INT4OID, TIMESTAMPTZOID, INTERVALOID, BOOLOID};
static const char *const sub_columns[] = {"sub_id", "sub_queue", "sub_consumer", "sub_paused"};
static const Oid sub_types[] = {INT4OID, INT4OID, INT4OID, BOOLOID};
static const char *const co_columns[] = {"co_id", "co_name"};
static const Oid co_types[] = {INT4OID, TEXTOID};

static NameKey
name_key(Datum d)
{
	NameKey		k = {NULL, 0};

	if (d != (Datum) 0)
	{
		text	   *t = DatumGetTextPP(d);

		k.data = VARDATA_ANY(t);
		k.len = VARSIZE_ANY_EXHDR(t);
	}
	return k;
}

/* bytewise order (collate "C"), none first */
static int
name_cmp(const NameKey *a, const NameKey *b)
{
	int			r;

	if (a->data == NULL || b->data == NULL)
		return (a->data != NULL) - (b->data != NULL);
	r = memcmp(a->data, b->data, Min(a->len, b->len));
	return r != 0 ? r : (a->len > b->len) - (a->len < b->len);
}

static int
queue_entry_cmp(const void *a, const void *b)
{
	return name_cmp(&((const QueueEntry *) a)->key, &((const QueueEntry *) b)->key);
}

static int
sub_entry_cmp(const void *a, const void *b)
{
	const SubEntry *x = a;
	const SubEntry *y = b;

	if (x->queue_id != y->queue_id)
		return x->queue_id < y->queue_id ? -1 : 1;
	return name_cmp(&x->key, &y->key);
}

/* The subscriptions of queue_id in subs (sorted by queue): the first, *n of them. */
static SubEntry *
subs_of(SubEntry *subs, int ns, int32 queue_id, int *n)
{
	int			lo = 0,
				hi = ns;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (subs[mid].queue_id < queue_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (hi = lo; hi < ns && subs[hi].queue_id == queue_id; hi++)
		;
	*n = hi - lo;
	return &subs[lo];
}

/* the consumers' names by id: pairs (id, name) sorted by id */
static int
consumer_cmp(const void *a, const void *b)
{
	int32		x = DatumGetInt32(((const Datum *) a)[0]);
	int32		y = DatumGetInt32(((const Datum *) b)[0]);

	return x < y ? -1 : x > y;
}

/* how far back from the newest tick a cursor's tick is walked to, not probed */
#define WALK_MAX	4			/* a step costs about a fourth of a probe */

/*
 * Per queue, where the probe for its newest tick starts: WALK_MAX before
 * the newest tick this backend saw (tick ids of a queue come from its own
 * sequence), so that a consumer that many ticks behind is still walked
 * to. With seen > 0, remembers seen; returns the start (0: none yet).
 */
static int64
newest_hint(int32 queue_id, int64 seen)
{
	static HTAB *hints = NULL;
	struct
	{
		int32		queue_id;
		int64		tick_id;
	}		   *h;
	bool		found;

	if (hints == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(int32);
		ctl.entrysize = sizeof(*h);
		hints = hash_create("pgque metrics tick hints", 1024, &ctl, HASH_ELEM | HASH_BLOBS);
	}
	h = hash_search(hints, &queue_id, seen > 0 ? HASH_ENTER : HASH_FIND, &found);
	if (seen > 0)
		h->tick_id = seen;
	return h != NULL && found ? Max(h->tick_id - WALK_MAX, 0) : 0;
}

/*
 * A queue's ticks from its newest back, as far as its consumers' cursors
 * need them (at most WALK_MAX): the scan that found the newest tick has
 * the leaf page of the ones before it, so a cursor a few ticks behind
 * costs a heap fetch per tick instead of two probes.
 */
typedef struct TickWalk
{
	MetaTick	t[WALK_MAX];	/* t[0] the newest, then older ones */
	int			n;
	bool		end;			/* the queue has no older tick */
} TickWalk;

/*
 * The cursor's tick and the first tick after it that brought events (NULL
 * first when none did): false when the walk does not reach the cursor.
 */
static bool
walk_to(MetaProber *p, TickWalk *w, int64 cur_id, MetaTick *cur, MetaTick **first)
{
	int			k;

	/* tick ids of a queue come from its own sequence: far back, probe */
	if (w->t[0].id - cur_id >= WALK_MAX)
		return false;
	while (w->t[w->n - 1].id > cur_id && !w->end && w->n < WALK_MAX)
	{
		if (meta_probe_older_tick(p, &w->t[w->n]))
			w->n++;
		else
			w->end = true;
	}
	for (k = 0; k < w->n && w->t[k].id > cur_id; k++)
		;
	if (k == w->n || w->t[k].id != cur_id)
		return false;
	*cur = w->t[k];
	*first = NULL;
	/* event_seq grows with tick_id: the oldest newer tick above it */
	while (--k >= 0 && *first == NULL)
		if (w->t[k].event_seq > cur->event_seq)
			*first = &w->t[k];
	return true;
}

/*
 * queue_sql's rows, read directly (meta_rows.c) under the statement's
 * snapshot: pgque.queue, pgque.subscriber and pgque.consumer whole (small
 * tables), joined and sorted here; then per queue one probe for its newest
 * tick and a read of its event sequence, per subscription one probe for
 * its cursor, one for the cursor's tick when that is not the newest, and
 * one for the first tick that brought events after it when any are pending.
 */
static void
read_queue_rows_direct(RowSet *rs)
{
	Snapshot	snap = GetActiveSnapshot();
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	Datum	   *qv,
			   *sv,
			   *cv;
	bool	   *qn,
			   *sn,
			   *cn;
	int			nq = meta_read_table("queue", lengthof(queue_columns), queue_columns, queue_types,
									 snap, &qv, &qn);
	int			ns = meta_read_table("subscriber", lengthof(sub_columns), sub_columns, sub_types,
									 snap, &sv, &sn);
	int			nc = meta_read_table("consumer", lengthof(co_columns), co_columns, co_types,
									 snap, &cv, &cn);
	QueueEntry *queues = palloc(sizeof(QueueEntry) * (nq + 1));
	SubEntry   *subs = palloc(sizeof(SubEntry) * (ns + 1));
	MetaProber *p;
	int			nqueues = 0;
	int			q,
				k,
				j;
	uint64		i = 0;

	for (q = 0; q < nq; q++)
	{
		Datum	   *row = &qv[q * lengthof(queue_columns)];
		QueueEntry *e = &queues[nqueues];

		if (!qn[q * lengthof(queue_columns) + 2])
			continue;			/* a priority lane: counted with its queue */
		e->id = DatumGetInt32(row[0]);
		e->name = row[1];
		e->key = name_key(e->name);
		e->due = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval, row[3],
														 row[4])) <= now;
		e->paused = DatumGetBool(row[5]);
		nqueues++;
	}
	qsort(queues, nqueues, sizeof(QueueEntry), queue_entry_cmp);
	qsort(cv, nc, sizeof(Datum) * 2, consumer_cmp);
	for (k = 0; k < ns; k++)
	{
		Datum	   *row = &sv[k * lengthof(sub_columns)];
		Datum	   *co = bsearch(&row[2], cv, nc, sizeof(Datum) * 2, consumer_cmp);

		subs[k].id = DatumGetInt32(row[0]);
		subs[k].queue_id = DatumGetInt32(row[1]);
		subs[k].consumer = co ? co[1] : (Datum) 0;
		subs[k].key = name_key(subs[k].consumer);
		subs[k].paused = DatumGetBool(row[3]);
	}
	qsort(subs, ns, sizeof(SubEntry), sub_entry_cmp);

	/* one row per subscription, or one for a queue without any */
	rs->natts = Q_PAUSED;
	rs->values = palloc0(sizeof(Datum) * rs->natts * (nqueues + ns + 1));
	rs->nulls = palloc0(sizeof(bool) * rs->natts * (nqueues + ns + 1));
	p = meta_prober_begin(snap);
	for (q = 0; q < nqueues; q++)
	{
		QueueEntry *e = &queues[q];
		TickWalk	walk;
		bool		has_top = meta_probe_newest_tick(p, e->id, newest_hint(e->id, 0), &walk.t[0]);
		MetaTick	top = walk.t[0];
		int64		sent;
		Datum		blocked_by = e->due ? rotation_blocker(e->id) : (Datum) 0;
		int			nsubs;
		SubEntry   *first = subs_of(subs, ns, e->id, &nsubs);

		walk.n = 1;
		walk.end = false;
		if (has_top)
			newest_hint(e->id, top.id);
		if (!pgque_event_seq_last(e->id, &sent))
			sent = 0;
		/* a row per subscription, or one without a consumer */
		for (j = 0; j < Max(nsubs, 1); j++, i++)
		{
			SubEntry   *sub = nsubs > 0 ? &first[j] : NULL;
			int64		cur_id;
			MetaTick	cur;
			bool		has_cur = false;
			double		pending = 0,
						pending_age = 0;

			ROW_VALUE(rs, i, Q_QUEUE) = e->name;
			ROW_VALUE(rs, i, Q_ID) = Int32GetDatum(e->id);
			ROW_VALUE(rs, i, Q_SENT) = Float8GetDatum((double) sent);
			ROW_VALUE(rs, i, Q_TICKS) = Float8GetDatum(has_top ? (double) top.id : 0);
			if (has_top)
				ROW_VALUE(rs, i, Q_TICK_AGE) = Float8GetDatum(seconds_since(now, top.time));
			ROW_NULL(rs, i, Q_TICK_AGE) = !has_top;
			ROW_VALUE(rs, i, Q_NEW) =
				Float8GetDatum(has_top ? (double) Max(sent - top.event_seq, 0) : 0);
			ROW_VALUE(rs, i, Q_BLOCKED) = Float8GetDatum(blocked_by != (Datum) 0);
			ROW_VALUE(rs, i, Q_BLOCKED_BY) = blocked_by;
			ROW_NULL(rs, i, Q_BLOCKED_BY) = blocked_by == (Datum) 0;
			ROW_VALUE(rs, i, Q_CONSUMER) = sub ? sub->consumer : (Datum) 0;
			ROW_NULL(rs, i, Q_CONSUMER) = sub == NULL || sub->consumer == (Datum) 0;
			ROW_VALUE(rs, i, Q_PAUSED) = Float8GetDatum(sub && (sub->paused || e->paused));
			if (sub == NULL)
				continue;

			if (meta_probe_cursor(p, sub->id, &cur_id) && has_top)
			{
				if (cur_id == top.id)
				{
					cur = top;
					has_cur = true;
				}
				else
				{
					/* a consumer behind the newest tick */
					MetaTick	probed;
					MetaTick   *first_new = NULL;

					has_cur = walk_to(p, &walk, cur_id, &cur, &first_new);
					if (!has_cur)
					{
						has_cur = meta_probe_tick(p, e->id, cur_id, &cur);
						if (has_cur && top.event_seq > cur.event_seq &&
							meta_probe_tick_after(p, e->id, cur_id, cur.event_seq, &probed))
							first_new = &probed;
					}
					if (has_cur && top.event_seq > cur.event_seq)
					{
						pending = (double) (top.event_seq - cur.event_seq);
						if (first_new != NULL)
							pending_age = seconds_since(now, first_new->time);
					}
				}
			}
			ROW_VALUE(rs, i, Q_PENDING) = Float8GetDatum(pending);
			ROW_VALUE(rs, i, Q_PENDING_AGE) = Float8GetDatum(pending_age);
			if (has_cur)
				ROW_VALUE(rs, i, Q_LAG) = Float8GetDatum(seconds_since(now, cur.time));
			ROW_NULL(rs, i, Q_LAG) = !has_cur;
		}
	}
	meta_prober_end(p);
	rs->n = i;
}

/* a text column as a C string, NULL for NULL */
static const char *
row_text(RowSet *rs, uint64 i, int c)
{
	return ROW_NULL(rs, i, c) ? NULL : TextDatumGetCString(ROW_VALUE(rs, i, c));
}

/* counts_sql's rows, in its order (by queue id and kind) */
static QueueCount *
read_counts(int *n)
{
	QueueCount *counts;
	uint64		i;

	/* SPI_execute_plan, not pgque_execute_plan: see counts_sql */
	if (SPI_execute_plan(pgque_plan(&counts_plan, counts_sql, 0, NULL), NULL, NULL,
						 true, 0) != SPI_OK_SELECT)
		elog(ERROR, "pgque: could not read the metrics");
	counts = palloc(sizeof(QueueCount) * (SPI_processed + 1));
	for (i = 0; i < SPI_processed; i++)
	{
		counts[i].queue_id = DatumGetInt32(pgque_spi_value(i, 1));
		counts[i].kind = DatumGetInt32(pgque_spi_value(i, 2));
		counts[i].n = DatumGetFloat8(pgque_spi_value(i, 3));
	}
	*n = (int) SPI_processed;
	return counts;
}

static int
count_cmp(const void *a, const void *b)
{
	const QueueCount *x = a;
	const QueueCount *y = b;

	if (x->queue_id != y->queue_id)
		return x->queue_id < y->queue_id ? -1 : 1;
	return x->kind < y->kind ? -1 : x->kind > y->kind ? 1 : 0;
}

/*
 * The labels of each row of a row set, "{name=\"value\"..." without the
 * closing brace ("" for none), escaped once for all the families that use
 * them.
 */
static char **
row_labels(RowSet *rs, MetricRows rows)
{
	char	  **labels = palloc(sizeof(char *) * (rs->n + 1));
	uint64		i;

	for (i = 0; i < rs->n; i++)
	{
		StringInfoData l;

		initStringInfo(&l);
		switch (rows)
		{
			case ROWS_QUEUE:
				append_label(&l, '{', "queue", row_text(rs, i, Q_QUEUE));
				break;
			case ROWS_CONSUMER:
				if (ROW_NULL(rs, i, Q_CONSUMER))
					break;
				append_label(&l, '{', "queue", row_text(rs, i, Q_QUEUE));
				append_label(&l, ',', "consumer", row_text(rs, i, Q_CONSUMER));
				break;
			case ROWS_SCHEDULE:
				append_label(&l, '{', "schedule", row_text(rs, i, S_SCHEDULE));
				append_label(&l, ',', "queue", row_text(rs, i, S_QUEUE));
				break;
			default:
				break;
		}
		labels[i] = l.data;
	}
	return labels;
}

static bool
text_equal(Datum a, Datum b)
{
	text	   *x = DatumGetTextPP(a);
	text	   *y = DatumGetTextPP(b);

	return VARSIZE_ANY_EXHDR(x) == VARSIZE_ANY_EXHDR(y) &&
		memcmp(VARDATA_ANY(x), VARDATA_ANY(y), VARSIZE_ANY_EXHDR(x)) == 0;
}

/* Does row i of a row set give a sample to families of that set? */
static bool
row_has_sample(RowSet *rs, MetricRows rows, uint64 i)
{
	switch (rows)
	{
		case ROWS_QUEUE:
			/* the first row of each queue (rows come by queue name) */
			return i == 0 || !text_equal(ROW_VALUE(rs, i, Q_QUEUE), ROW_VALUE(rs, i - 1, Q_QUEUE));
		case ROWS_CONSUMER:
			return !ROW_NULL(rs, i, Q_CONSUMER);
		default:
			return true;
	}
}

PG_FUNCTION_INFO_V1(pgque_metrics);

/* SQL: pgque.metrics() -> text */
Datum
pgque_metrics(PG_FUNCTION_ARGS)
{
	RowSet		sets[ROWS_COUNT];
	char	  **labels[ROWS_COUNT];
	bool	   *has_sample[ROWS_COUNT];
	QueueCount *counts;
	int			ncounts;
	StringInfoData out;
	text	   *result;
	int			r;
	size_t		f;

	SPI_connect();
	read_rows(&sets[ROWS_WORKER], &plans[ROWS_WORKER], worker_sql, false);
	/* pgque.tick and pgque.batch as the extension made them: probes */
	if (meta_rows_ready())
		read_queue_rows_direct(&sets[ROWS_QUEUE]);
	else
		read_rows(&sets[ROWS_QUEUE], &plans[ROWS_QUEUE], queue_sql, true);
	sets[ROWS_CONSUMER] = sets[ROWS_QUEUE];
	read_rows(&sets[ROWS_SCHEDULE], &plans[ROWS_SCHEDULE], schedule_sql, false);
	counts = read_counts(&ncounts);

	for (r = 0; r < ROWS_COUNT; r++)
	{
		uint64		i;

		labels[r] = row_labels(&sets[r], r);
		has_sample[r] = palloc(sizeof(bool) * (sets[r].n + 1));
		for (i = 0; i < sets[r].n; i++)
			has_sample[r][i] = row_has_sample(&sets[r], r, i);
	}

	initStringInfo(&out);
	/* about 70 bytes a line: grow once, not by doubling */
	enlargeStringInfo(&out, (int) Min((sets[ROWS_QUEUE].n + 1) * lengthof(families) * 70,
									  MaxAllocSize / 2));
	for (f = 0; f < lengthof(families); f++)
	{
		const MetricFamily *fam = &families[f];
		RowSet	   *rs = &sets[fam->rows];
		uint64		i;

		appendStringInfo(&out, "# HELP %s %s\n# TYPE %s %s\n",
						 fam->name, fam->help, fam->name, fam->type);
		for (i = 0; i < rs->n; i++)
		{
			const char *label = labels[fam->rows][i];
			double		v;

			if (!has_sample[fam->rows][i])
				continue;
			if (fam->extra_label != NULL && ROW_NULL(rs, i, fam->extra_col))
				continue;

			appendStringInfoString(&out, fam->name);
			appendStringInfoString(&out, label);
			if (fam->extra_label != NULL)
				append_label(&out, label[0] ? ',' : '{', fam->extra_label,
							 row_text(rs, i, fam->extra_col));
			if (label[0] || fam->extra_label != NULL)
				appendStringInfoChar(&out, '}');

			if (fam->value_col > COUNT_BASE)
			{
				QueueCount	key;
				QueueCount *hit;

				key.queue_id = DatumGetInt32(ROW_VALUE(rs, i, Q_ID));
				key.kind = fam->value_col - COUNT_BASE;
				hit = bsearch(&key, counts, ncounts, sizeof(QueueCount), count_cmp);
				v = hit ? hit->n : 0;
			}
			else if (ROW_NULL(rs, i, fam->value_col))
				v = get_float8_nan();
			else
				v = DatumGetFloat8(ROW_VALUE(rs, i, fam->value_col));
			append_value(&out, v);
		}
	}

	/* the text outlives SPI's memory */
	result = (text *) SPI_palloc(VARHDRSZ + out.len);
	SET_VARSIZE(result, VARHDRSZ + out.len);
	memcpy(VARDATA(result), out.data, out.len);
	SPI_finish();
	PG_RETURN_TEXT_P(result);
}
