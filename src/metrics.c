/*-------------------------------------------------------------------------
 *
 * metrics.c
 *		pgque.metrics(): the Prometheus text exposition of every queue,
 *		consumer, schedule and the worker, in one call
 *		(docs/operations.md#metrics, extension/88_metrics.sql).
 *
 * A scraper calls it every few seconds, also with thousands of queues, so
 * it is built for that: three statements planned once per backend read
 * everything as numbers (one row per queue and consumer, one per schedule,
 * one for the worker), and the text is written here. Written in SQL, the
 * string work alone (12,000 samples at 1,000 queues, each label escaped and
 * each value formatted) cost ten times the reads (bench/results/metrics.md).
 *
 * The reads cost one index probe per queue for its newest tick, one read
 * of its event sequence, and per consumer one probe for its cursor's batch;
 * the cursor's tick is looked up only for a consumer behind the newest
 * tick, and the first tick that brought events after the cursor (the age
 * of the oldest pending event) only for a consumer that has events pending. Why a rotation is held back
 * (pgque._rotation_blocker) is asked only of queues whose rotation is due.
 *
 * Samples come grouped by family, each family after its HELP and TYPE
 * lines, sorted by queue and consumer name (bytewise).
 *
 *-------------------------------------------------------------------------
 */
#include "pgque.h"

#include <math.h>

#include "catalog/pg_type_d.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/memutils.h"

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
read_rows(RowSet *rs, MetricRows rows, const char *sql)
{
	uint64		i;

	if (pgque_execute_plan(pgque_plan(&plans[rows], sql, 0, NULL), NULL, NULL,
						   true, 0) != SPI_OK_SELECT)
		elog(ERROR, "pgque: could not read the metrics");
	rs->n = SPI_processed;
	rs->natts = SPI_tuptable->tupdesc->natts;
	rs->values = palloc(sizeof(Datum) * rs->natts * (rs->n + 1));
	rs->nulls = palloc(sizeof(bool) * rs->natts * (rs->n + 1));
	for (i = 0; i < rs->n; i++)
		heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc,
						  &ROW_VALUE(rs, i, 1), &ROW_NULL(rs, i, 1));
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
	read_rows(&sets[ROWS_WORKER], ROWS_WORKER, worker_sql);
	read_rows(&sets[ROWS_QUEUE], ROWS_QUEUE, queue_sql);
	sets[ROWS_CONSUMER] = sets[ROWS_QUEUE];
	read_rows(&sets[ROWS_SCHEDULE], ROWS_SCHEDULE, schedule_sql);
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
