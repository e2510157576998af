/*-------------------------------------------------------------------------
 *
 * consume.c
 *		Consumer cursors: receive, next_batch*, get_batch_events, ack.
 *
 * A subscriber's state is the newest pgque.batch row with its batch_sub:
 * state 'o' means a batch is open over the tick window (prev, next), 'd'
 * means the cursor stands at batch_next_tick. Opening a batch inserts a row,
 * closing it updates that row once; nothing else is written per batch, so
 * the cost of a lookup does not grow while another session holds an old
 * snapshot (dead row versions never pile up behind one key).
 *
 * What an ack covers: receive records in batch_end_pos the position of the
 * last event it handed out (POS_END when it handed out all that was left;
 * batch.c reads a window in position order). ack then either closes the
 * row ('d'), or, after a partial receive, closes it as 's' (split) and
 * opens a new batch, with a new id, over the same window for the events
 * after that position (batch_start_pos). A batch that was already handed out
 * and is received again (the first receiver crashed, or two receivers share
 * a consumer name) is re-delivered under a new id and the old one is closed
 * as 'r'. So an ack covers exactly the events handed out under its id, to
 * whoever holds it, and never an event that receive did not return.
 * next_batch keeps PgQ's contract instead: the open batch's id comes back
 * until it is finished.
 *
 * Cooperative consumers (coop.c) keep their members' batches in the same
 * table, in rows named for the member (batch_member); the subscriber's own
 * rows have batch_member ''. consume_receive_rows takes a BatchTaker so
 * that coop.c chooses a member's batch without this file calling it.
 *
 * Priority lanes (lanes.c) are queues of their own, with a subscription
 * per subscriber of their queue. receive, receive_coop and next_batch of a
 * queue with lanes check the queue's own subscription first (it exists,
 * access, cooperative or not, paused), then read the lanes, highest
 * priority first, and the queue last: the first that has a batch gives it.
 *
 * Locking: every operation that changes a subscriber's state first takes an
 * ExclusiveLock on the object (pgque.subscriber's OID, sub_id), held to the
 * end of the transaction, then reads the state with a fresh snapshot. So
 * concurrent receive/ack calls for one consumer serialize, whatever the
 * isolation level of the caller, and two callers can never open two batches
 * or close one twice.
 *
 *-------------------------------------------------------------------------
 */
#include "pgque.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/xid8.h"

#include "access.h"
#include "batch.h"
#include "consume.h"
#include "event_row.h"
#include "lanes.h"
#include "meta_rows.h"
#include "send.h"
#include "wakeup.h"

PG_FUNCTION_INFO_V1(pgque_receive);
PG_FUNCTION_INFO_V1(pgque_next_batch_custom);
PG_FUNCTION_INFO_V1(pgque_get_batch_events);
PG_FUNCTION_INFO_V1(pgque_batch_event);
PG_FUNCTION_INFO_V1(pgque_ack);
PG_FUNCTION_INFO_V1(pgque_lock_subscriber);
PG_FUNCTION_INFO_V1(pgque_open_batch);

/* batch_end_ev (0.1.0) when receive handed out everything that was left */
#define END_ALL				PG_INT64_MAX

/* a window may grow over at most this many ticks */
#define WINDOW_MAX_TICKS	1000

/*
 * pgque.max_batch_events: receive merges ticks into one batch while it
 * stays about this small, whatever max_return is -- clients pass
 * max_return = 2147483647, and a lagging consumer must not get its whole
 * backlog in one transaction. One tick is never split.
 */
static int	max_batch_events = 10000;

void
pgque_consume_init(void)
{
	DefineCustomIntVariable("pgque.max_batch_events",
							"Largest batch, in events, that receive() builds by merging ticks.",
							"A single tick with more events is still one batch.",
							&max_batch_events, 10000, 1, INT_MAX, PGC_USERSET, 0,
							NULL, NULL, NULL);
	pgque_meta_rows_init();
}
/*
 * receive skips at most this many empty windows before returning nothing;
 * windows whose events a filter passed over count only once it passed over
 * RECEIVE_MAX_FILTERED events (filter.c: a consumer far behind on events it
 * does not take reads on in one call, within bounds)
 */
#define RECEIVE_MAX_EMPTY	16
#define RECEIVE_MAX_FILTERED	1000000



static SPIPlanPtr plan_sub_v1;
static SPIPlanPtr plan_sub;
static SPIPlanPtr plan_queue_exists;
static SPIPlanPtr plan_state_v1;
static SPIPlanPtr plan_state;
static SPIPlanPtr plan_member_state;
static SPIPlanPtr plan_batch_v1;
static SPIPlanPtr plan_batch;
static SPIPlanPtr plan_ticks_from;
static SPIPlanPtr plan_custom_tick;
static SPIPlanPtr plan_insert_batch_v1;
static SPIPlanPtr plan_insert_batch;
static SPIPlanPtr plan_close_batch;
static SPIPlanPtr plan_set_end_v1;
static SPIPlanPtr plan_set_end;

/* Consuming from a restricted queue needs a grant and the subscription's role. */
static void
check_consume_queue(const PgqueQueue *queue, int32 sub_id, Snapshot snap)
{
	PgqueQueue	parent;
	const PgqueQueue *q = queue;

	/* a lane is its queue's, restricted or not as that is */
	if (q->lane_of != 0)
	{
		if (!pgque_queue_fetch(NULL, q->lane_of, snap, &parent))
			return;
		q = &parent;
	}
	if (q->restricted)
		pgque_check_access(queue->queue_id, "consume", sub_id);
}

static void
check_consume(int32 queue_id, int32 sub_id, Snapshot snap)
{
	PgqueQueue	q;

	if (!pgque_queue_fetch(NULL, queue_id, snap, &q))
		return;
	check_consume_queue(&q, sub_id, snap);
}

static void
error_not_subscribed(const char *queue_name, const char *consumer_name)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("consumer not found: \"%s\" is not subscribed to queue \"%s\"",
					consumer_name, queue_name),
			 errpgqueobject("consumer"),
			 errhint("Subscribe it with pgque.subscribe().")));
}

void
consume_sub_lookup(const char *queue_name, const char *consumer_name, Snapshot snap,
		   SubRef *sub)
{
	static const Oid types[] = {TEXTOID, TEXTOID};
	Datum		args[2];
	bool		current = pgque_schema_has_heap_ranges();

	if (meta_rows_ready())
	{
		PgqueQueue	q;

		sub->queue_name = queue_name;
		sub->consumer_name = consumer_name;
		switch (meta_sub_lookup(queue_name, consumer_name, snap, sub, &q))
		{
			case 1:
				check_consume_queue(&q, sub->sub_id, snap);
				return;
			case 0:
				error_not_subscribed(queue_name, consumer_name);
				break;
			default:
				pgque_error_queue_missing(queue_name);
		}
	}

	args[0] = CStringGetTextDatum(queue_name);
	args[1] = CStringGetTextDatum(consumer_name);
	if (pgque_execute_snapshot(current ?
							   pgque_plan(&plan_sub,
										  "select s.sub_queue, s.sub_id,"
										  "       s.sub_role OPERATOR(pg_catalog.=) 'coop_main',"
										  "       q.queue_paused or s.sub_paused,"
										  "       (pg_catalog.date_part('epoch', q.queue_message_ttl)"
										  "        OPERATOR(pg_catalog.*) 1000000)::pg_catalog.int8,"
										  "       q.queue_expired_action OPERATOR(pg_catalog.=) 'drop',"
										  "       coalesce(ps.sub_id, s.sub_id),"
										  "       exists (select from pgque.queue l"
										  "                where l.queue_lane_of OPERATOR(pg_catalog.=) q.queue_id),"
										  "       s.sub_types, s.sub_labels"
										  "  from pgque.subscriber s"
										  "  join pgque.queue q on q.queue_id OPERATOR(pg_catalog.=) s.sub_queue"
										  "  join pgque.consumer c on c.co_id OPERATOR(pg_catalog.=) s.sub_consumer"
										  "  left join pgque.subscriber ps"
										  "    on ps.sub_queue OPERATOR(pg_catalog.=) q.queue_lane_of"
										  "   and ps.sub_consumer OPERATOR(pg_catalog.=) s.sub_consumer"
										  " where q.queue_name OPERATOR(pg_catalog.=) $1"
										  "   and c.co_name OPERATOR(pg_catalog.=) $2",
										  2, types) :
							   pgque_plan(&plan_sub_v1,
										  "select s.sub_queue, s.sub_id, false"
										  "  from pgque.subscriber s"
										  "  join pgque.queue q on q.queue_id OPERATOR(pg_catalog.=) s.sub_queue"
										  "  join pgque.consumer c on c.co_id OPERATOR(pg_catalog.=) s.sub_consumer"
										  " where q.queue_name OPERATOR(pg_catalog.=) $1"
										  "   and c.co_name OPERATOR(pg_catalog.=) $2",
										  2, types),
							   args, NULL, snap, InvalidSnapshot, true, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up subscription");
	sub->queue_name = queue_name;
	sub->consumer_name = consumer_name;
	sub->coop = false;
	sub->paused = false;
	sub->ttl = 0;
	sub->ttl_drop = false;
	sub->has_lanes = false;
	memset(&sub->filter, 0, sizeof(sub->filter));
	if (SPI_processed == 1)
	{
		bool		isnull;

		sub->queue_id = DatumGetInt32(pgque_spi_value(0, 1));
		sub->sub_id = DatumGetInt32(pgque_spi_value(0, 2));
		sub->coop = DatumGetBool(pgque_spi_value(0, 3));
		sub->members_sub = sub->sub_id;
		if (current)
		{
			Datum		ttl = pgque_spi_value_opt(0, 5, &isnull);

			sub->paused = DatumGetBool(pgque_spi_value(0, 4));
			sub->ttl = isnull ? 0 : DatumGetInt64(ttl);
			sub->ttl_drop = DatumGetBool(pgque_spi_value(0, 6));
			sub->members_sub = DatumGetInt32(pgque_spi_value(0, 7));
			sub->has_lanes = DatumGetBool(pgque_spi_value(0, 8));
			{
				bool		types_null;
				bool		labels_null;
				Datum		types = pgque_spi_value_opt(0, 9, &types_null);
				Datum		labels = pgque_spi_value_opt(0, 10, &labels_null);

				sub_filter_set(&sub->filter, types, types_null, labels, labels_null);
			}
		}
		check_consume(sub->queue_id, sub->sub_id, snap);
		return;
	}

	if (pgque_execute_snapshot(pgque_plan(&plan_queue_exists,
										"select 1 from pgque.queue where queue_name OPERATOR(pg_catalog.=) $1",
										1, types),
							 args, NULL, snap, InvalidSnapshot, true, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up queue");
	if (SPI_processed == 0)
		pgque_error_queue_missing(queue_name);
	error_not_subscribed(queue_name, consumer_name);
}

void
consume_sub_lock(int32 sub_id)
{
	LockDatabaseObject(pgque_relation_oid("subscriber"), sub_id, 0, ExclusiveLock);
}

/* SQL: pgque._lock_subscriber(sub_id int4) -- for the PL/pgSQL functions */
Datum
pgque_lock_subscriber(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		elog(ERROR, "subscriber id must not be null");
	consume_sub_lock(PG_GETARG_INT32(0));
	PG_RETURN_VOID();
}

static void
fill_batch_row(BatchRow *b, int row)
{
	bool		isnull;
	Datum		d;

	memset(b, 0, sizeof(*b));
	b->batch_id = DatumGetInt64(pgque_spi_value(row, 1));
	b->state = DatumGetChar(pgque_spi_value(row, 2));
	d = pgque_spi_value_opt(row, 3, &isnull);
	b->prev_tick = isnull ? 0 : DatumGetInt64(d);
	b->next_tick = DatumGetInt64(pgque_spi_value(row, 4));
	d = pgque_spi_value_opt(row, 5, &isnull);
	b->has_start_ev = !isnull;
	b->start_ev = isnull ? 0 : DatumGetInt64(d);
	d = pgque_spi_value_opt(row, 6, &isnull);
	b->has_end_ev = !isnull;
	b->end_ev = isnull ? 0 : DatumGetInt64(d);
	b->sub_id = DatumGetInt32(pgque_spi_value(row, 7));
	b->queue_id = DatumGetInt32(pgque_spi_value(row, 8));
	if (SPI_tuptable->tupdesc->natts < 10)
		return;					/* the 0.1.0 tables */
	d = pgque_spi_value_opt(row, 9, &isnull);
	b->has_start_pos = !isnull;
	b->start_pos = isnull ? 0 : DatumGetInt64(d);
	d = pgque_spi_value_opt(row, 10, &isnull);
	b->has_end_pos = !isnull;
	b->end_pos = isnull ? 0 : DatumGetInt64(d);
	d = pgque_spi_value_opt(row, 11, &isnull);
	b->member = isnull ? NULL : TextDatumGetCString(d);
	if (b->member != NULL && b->member[0] == '\0')
		b->member = NULL;		/* the subscriber's own row */
	{
		bool		types_null;
		bool		labels_null;
		Datum		types = pgque_spi_value_opt(row, 12, &types_null);
		Datum		labels = pgque_spi_value_opt(row, 13, &labels_null);

		sub_filter_set(&b->filter, types, types_null, labels, labels_null);
	}
}

#define BATCH_COLUMNS_V1 \
	"b.batch_id, b.batch_state, b.batch_prev_tick, b.batch_next_tick," \
	" b.batch_start_ev, b.batch_end_ev, b.batch_sub, s.sub_queue"
#define BATCH_COLUMNS BATCH_COLUMNS_V1 ", b.batch_start_pos, b.batch_end_pos, b.batch_member," \
	" s.sub_types, s.sub_labels"
#define BATCH_FROM \
	" from pgque.batch b join pgque.subscriber s on s.sub_id OPERATOR(pg_catalog.=) b.batch_sub"
#define SUB_STATE_WHERE_V1 \
	" where b.batch_sub OPERATOR(pg_catalog.=) $1 order by b.batch_id desc limit 1"
#define SUB_STATE_WHERE \
	" where b.batch_sub OPERATOR(pg_catalog.=) $1 and b.batch_member OPERATOR(pg_catalog.=) ''" \
	" order by b.batch_id desc limit 1"
#define MEMBER_STATE_WHERE \
	" where b.batch_sub OPERATOR(pg_catalog.=) $1 and b.batch_member OPERATOR(pg_catalog.=) $2" \
	" order by b.batch_id desc limit 1"
#define BATCH_WHERE " where b.batch_id OPERATOR(pg_catalog.=) $1"

/* The newest batch row of a subscriber; false if it has none. */
static bool
sub_state(int32 sub_id, Snapshot snap, BatchRow *b)
{
	static const Oid types[] = {INT4OID};
	Datum		args[1];

	if (meta_rows_ready())
		return meta_sub_state(sub_id, "", snap, b);
	args[0] = Int32GetDatum(sub_id);
	if (pgque_execute_snapshot(pgque_schema_has_heap_ranges() ?
							   pgque_plan(&plan_state,
										  "select " BATCH_COLUMNS BATCH_FROM SUB_STATE_WHERE,
										  1, types) :
							   pgque_plan(&plan_state_v1,
										  "select " BATCH_COLUMNS_V1 BATCH_FROM SUB_STATE_WHERE_V1,
										  1, types),
							   args, NULL, snap, InvalidSnapshot, true, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read consumer state");
	if (SPI_processed == 0)
		return false;
	fill_batch_row(b, 0);
	return true;
}

/* The newest batch row a subconsumer holds or held; false if none. */
bool
consume_member_state(int32 sub_id, const char *member, Snapshot snap, BatchRow *b)
{
	static const Oid types[] = {INT4OID, TEXTOID};
	Datum		args[2];

	if (meta_rows_ready())
		return meta_sub_state(sub_id, member, snap, b);
	args[0] = Int32GetDatum(sub_id);
	args[1] = CStringGetTextDatum(member);
	if (pgque_execute_snapshot(pgque_plan(&plan_member_state,
										"select " BATCH_COLUMNS BATCH_FROM MEMBER_STATE_WHERE,
										2, types),
							 args, NULL, snap, InvalidSnapshot, true, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read subconsumer state");
	if (SPI_processed == 0)
		return false;
	fill_batch_row(b, 0);
	return true;
}

bool
consume_batch_fetch(int64 batch_id, Snapshot snap, BatchRow *b)
{
	static const Oid types[] = {INT8OID};
	Datum		args[1];

	if (meta_rows_ready())
		return meta_batch_fetch(batch_id, snap, b);
	args[0] = Int64GetDatum(batch_id);
	if (pgque_execute_snapshot(pgque_schema_has_heap_ranges() ?
							   pgque_plan(&plan_batch,
										  "select " BATCH_COLUMNS BATCH_FROM BATCH_WHERE,
										  1, types) :
							   pgque_plan(&plan_batch_v1,
										  "select " BATCH_COLUMNS_V1 BATCH_FROM BATCH_WHERE,
										  1, types),
							   args, NULL, snap, InvalidSnapshot, true, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read batch");
	if (SPI_processed == 0)
		return false;
	fill_batch_row(b, 0);
	return true;
}

/*
 * The state of a subscriber, read after taking its lock. Every subscribe
 * writes one, so none means that an unsubscribe committed while we waited.
 */
void
consume_sub_state_required(const SubRef *sub, Snapshot snap, BatchRow *b)
{
	if (!sub_state(sub->sub_id, snap, b))
		error_not_subscribed(sub->queue_name, sub->consumer_name);
}

/* The position a consumer stands at is gone (rotation removed its tick). */
static void
error_tick_missing(int64 tick_id, int32 queue_id)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("tick " INT64_FORMAT " of queue %d is missing", tick_id, queue_id),
			 errdetail("The consumer's position refers to a tick that rotation removed.")));
}

/*
 * The window being chosen: ticks are offered in id order after the
 * position (whose event_seq is base_seq) until window_offer says it is
 * complete.
 */
typedef struct WindowPick
{
	int64		base_seq;
	int			max_events;
	int			seen;
	bool		found;
} WindowPick;

/*
 * Offer the next tick; true when the window is complete (without this tick
 * if taking it would pass max_events, else with it).
 */
static bool
window_offer(WindowPick *w, int64 tick_id, int64 seq, int64 *next_tick)
{
	if (w->found && seq - w->base_seq > w->max_events)
		return true;
	*next_tick = tick_id;
	w->found = true;
	return w->max_events <= 0 || ++w->seen >= WINDOW_MAX_TICKS;
}

/*
 * consume_choose_window by index scans over the ticks from pos on: first
 * the next WINDOW_FIRST_IDS tick ids (enough for a consumer that keeps
 * up), then, only if the window may still grow, the rest.
 */
#define WINDOW_FIRST_IDS	16

static bool
choose_window_direct(int32 queue_id, int64 pos, int max_events, Snapshot snap,
					 int64 *next_tick)
{
	WindowPick	w = {0, max_events, 0, false};
	MetaTicks	t;
	int64		id;
	int64		seq;
	int			part;
	bool		done = false;

	for (part = 0; part < 2 && !done; part++)
	{
		meta_ticks_begin(&t, queue_id, part == 0 ? pos : pos + WINDOW_FIRST_IDS,
						 part == 0 ? pos + WINDOW_FIRST_IDS : 0, snap);
		if (part == 0 && (!meta_ticks_next(&t, &id, &w.base_seq) || id != pos))
			error_tick_missing(pos, queue_id);
		while (!done && meta_ticks_next(&t, &id, &seq))
			done = window_offer(&w, id, seq, next_tick);
		meta_ticks_end(&t);
	}
	return w.found;
}

/*
 * Choose the window after tick pos. With max_events > 0 the window covers
 * as many following ticks as fit about max_events events by the ticks'
 * event sequence (always at least one tick, at most WINDOW_MAX_TICKS);
 * otherwise exactly one tick. Returns false when no tick follows pos.
 *
 * Ticks are read in growing chunks and only as far as needed: a consumer
 * far behind must not read its whole backlog of ticks on every call.
 */
static bool
choose_window(int32 queue_id, int64 pos, int max_events, Snapshot snap,
			  int64 *next_tick)
{
	static const Oid types[] = {INT4OID, INT8OID, INT8OID};
	Datum		args[3];
	WindowPick	w = {0, max_events, 0, false};
	int64		from = pos;
	int64		chunk = max_events > 0 ? 8 : 2;

	if (meta_rows_ready())
		return choose_window_direct(queue_id, pos, max_events, snap, next_tick);
	for (;;)
	{
		uint64		i;
		uint64		n;

		args[0] = Int32GetDatum(queue_id);
		args[1] = Int64GetDatum(from);
		args[2] = Int64GetDatum(chunk);
		if (pgque_execute_snapshot(pgque_plan(&plan_ticks_from,
											"select tick_id, tick_event_seq from pgque.tick"
											" where tick_queue OPERATOR(pg_catalog.=) $1 and tick_id OPERATOR(pg_catalog.>=) $2"
											" order by tick_id limit $3",
											3, types),
								 args, NULL, snap, InvalidSnapshot, true, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read ticks");
		n = SPI_processed;
		if (n == 0 || DatumGetInt64(pgque_spi_value(0, 1)) != from)
			error_tick_missing(from, queue_id);
		if (from == pos)
			w.base_seq = DatumGetInt64(pgque_spi_value(0, 2));

		/* row 0 is "from": the position, or the last tick already taken */
		for (i = 1; i < n; i++)
			if (window_offer(&w, DatumGetInt64(pgque_spi_value(i, 1)),
							 DatumGetInt64(pgque_spi_value(i, 2)), next_tick))
				return true;
		if (n < (uint64) chunk)
			return w.found;		/* no more ticks */
		from = *next_tick;
		chunk = Min(chunk * 4, WINDOW_MAX_TICKS);
	}
}

/*
 * choose_window, and tell the worker how far this consumer got: to the
 * window's end, or to pos when no tick follows it (wakeup.c; a consumer
 * that reached the newest tick waits for the next one).
 */
bool
consume_choose_window(int32 queue_id, int64 pos, int max_events, Snapshot snap,
					  int64 *next_tick)
{
	bool		found = choose_window(queue_id, pos, max_events, snap, next_tick);

	pgque_note_reached(queue_id, found ? *next_tick : pos);
	return found;
}

/*
 * Insert a batch row over the window (b->prev_tick, b->next_tick] for
 * b->sub_id, with b's start and end fields; returns its id.
 */
int64
consume_batch_insert(const BatchRow *b, char state, Snapshot snap)
{
	static const Oid types[] = {INT4OID, INT8OID, INT8OID, INT8OID, INT8OID,
	CHAROID, TIMESTAMPTZOID, INT8OID, INT8OID, TEXTOID};
	Datum		args[10];
	char		nulls[10] = "          ";
	TimestampTz now = GetCurrentTimestamp();
	int			spi;

	if (meta_rows_write_ready())
		return meta_batch_insert(b, state, now);
	args[0] = Int32GetDatum(b->sub_id);
	args[1] = Int64GetDatum(b->prev_tick);
	args[2] = Int64GetDatum(b->next_tick);
	args[3] = Int64GetDatum(b->start_ev);
	nulls[3] = b->has_start_ev ? ' ' : 'n';
	args[4] = Int64GetDatum(b->end_ev);
	nulls[4] = b->has_end_ev ? ' ' : 'n';
	args[5] = CharGetDatum(state);
	args[6] = TimestampTzGetDatum(now);
	args[7] = Int64GetDatum(b->start_pos);
	nulls[7] = b->has_start_pos ? ' ' : 'n';
	args[8] = Int64GetDatum(b->end_pos);
	nulls[8] = b->has_end_pos ? ' ' : 'n';
	args[9] = CStringGetTextDatum(b->member ? b->member : "");
	if (pgque_schema_has_heap_ranges())
		spi = pgque_execute_snapshot(pgque_plan(&plan_insert_batch,
												"insert into pgque.batch (batch_id, batch_sub,"
												" batch_prev_tick, batch_next_tick, batch_start_ev,"
												" batch_end_ev, batch_state, batch_opened, batch_closed,"
												" batch_start_pos, batch_end_pos, batch_member)"
												" values (pg_catalog.nextval('pgque.batch_id_seq'::pg_catalog.regclass),"
												" $1, $2, $3, $4, $5, $6, $7,"
												" case when $6 OPERATOR(pg_catalog.=) 'o' then null else $7 end, $8, $9, $10)"
												" returning batch_id",
												10, types),
									 args, nulls, snap, InvalidSnapshot, false, true, 0);
	else
		spi = pgque_execute_snapshot(pgque_plan(&plan_insert_batch_v1,
												"insert into pgque.batch (batch_id, batch_sub,"
												" batch_prev_tick, batch_next_tick, batch_start_ev,"
												" batch_end_ev, batch_state, batch_opened, batch_closed)"
												" values (pg_catalog.nextval('pgque.batch_id_seq'::pg_catalog.regclass),"
												" $1, $2, $3, $4, $5, $6, $7,"
												" case when $6 OPERATOR(pg_catalog.=) 'o' then null else $7 end)"
												" returning batch_id",
												7, types),
									 args, nulls, snap, InvalidSnapshot, false, true, 0);
	if (spi != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "could not insert batch");
	return DatumGetInt64(pgque_spi_value(0, 1));
}

void
consume_batch_close(int64 batch_id, char state, Snapshot snap)
{
	static const Oid types[] = {INT8OID, CHAROID, TIMESTAMPTZOID};
	Datum		args[3];

	if (meta_rows_write_ready())
	{
		if (!meta_batch_update(batch_id, snap, true, state, GetCurrentTimestamp(), false, 0))
			elog(ERROR, "could not close batch " INT64_FORMAT, batch_id);
		return;
	}
	args[0] = Int64GetDatum(batch_id);
	args[1] = CharGetDatum(state);
	args[2] = TimestampTzGetDatum(GetCurrentTimestamp());
	if (pgque_execute_snapshot(pgque_plan(&plan_close_batch,
										"update pgque.batch set batch_state = $2, batch_closed = $3"
										" where batch_id OPERATOR(pg_catalog.=) $1",
										3, types),
							 args, NULL, snap, InvalidSnapshot, false, true, 0) != SPI_OK_UPDATE ||
		SPI_processed != 1)
		elog(ERROR, "could not close batch " INT64_FORMAT, batch_id);
}

/* Record how far receive handed batch b out: end_pos, or end_ev on 0.1.0 tables. */
static void
batch_set_end(const BatchRow *b, Snapshot snap)
{
	static const Oid types[] = {INT8OID, INT8OID};
	Datum		args[2];
	bool		ranges = pgque_schema_has_heap_ranges();

	if (meta_rows_write_ready())
	{
		/* an UPDATE of no row is not an error here, as with the statement */
		(void) meta_batch_update(b->batch_id, snap, false, 0, 0, true, b->end_pos);
		return;
	}
	args[0] = Int64GetDatum(b->batch_id);
	args[1] = Int64GetDatum(ranges ? b->end_pos : b->end_ev);
	if (pgque_execute_snapshot(ranges ?
							   pgque_plan(&plan_set_end,
										  "update pgque.batch set batch_end_pos = $2"
										  " where batch_id OPERATOR(pg_catalog.=) $1",
										  2, types) :
							   pgque_plan(&plan_set_end_v1,
										  "update pgque.batch set batch_end_ev = $2"
										  " where batch_id OPERATOR(pg_catalog.=) $1",
										  2, types),
							   args, NULL, snap, InvalidSnapshot, false, true, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not update batch " INT64_FORMAT, b->batch_id);
}

/* Our own writes so far must be visible to the next snapshot we take. */
Snapshot
consume_refresh_snapshot(Snapshot snap)
{
	UnregisterSnapshot(snap);
	CommandCounterIncrement();
	return RegisterSnapshot(GetLatestSnapshot());
}

/* The window of batch b; with to_end, only what receive handed out. */
static void
window_of(const BatchRow *b, Snapshot snap, bool to_end, BatchWindow *w)
{
	batch_window_load(w, b->queue_id, b->sub_id, b->prev_tick, b->next_tick, snap);
	w->batch_id = b->batch_id;
	w->has_start_ev = b->has_start_ev;
	w->start_ev = b->start_ev;
	w->has_start_pos = b->has_start_pos;
	w->start_pos = b->start_pos;
	w->has_end_pos = to_end && b->has_end_pos;
	w->end_pos = b->end_pos;
}

/*
 * The events of batch b's window that are left after its start, in
 * position order, at most limit (0: all). With to_end, only those receive
 * handed out.
 */
static void
window_events(const BatchRow *b, Snapshot snap, int64 only_ev, int limit,
			  bool to_end, BatchEvents *ev)
{
	BatchWindow w;

	window_of(b, snap, to_end, &w);
	batch_window_read(&w, snap, only_ev, limit, ev);
}

/* receive's columns (pgque.message) and get_batch_events': the event column of each */
static const int8 message_cols[10] = {EV_ID, EVENT_ROW_CONST, EV_TYPE, EV_DATA, EV_RETRY,
EV_TIME, EV_EXTRA1, EV_EXTRA2, EV_EXTRA3, EV_EXTRA4};
static const int8 event_cols[10] = {EV_ID, EV_TIME, EV_TXID, EV_RETRY, EV_TYPE,
EV_DATA, EV_EXTRA1, EV_EXTRA2, EV_EXTRA3, EV_EXTRA4};

/*
 * Return the first n events of ev as rows of columns cols (batch_id in the
 * EVENT_ROW_CONST one), built from the rows' bytes (event_row.c) unless the
 * result type does not allow it.
 */
static void
emit_events(ReturnSetInfo *rsinfo, const BatchEvents *ev, int n, const int8 *cols,
			int64 batch_id)
{
	EventRowMap map;
	bool		direct;
	int			i;
	int			k;

	if (n == 0)
		return;
	direct = event_row_map_init(&map, rsinfo->setDesc, ev->desc, cols, 10);
	for (i = 0; i < n; i++)
	{
		Datum		e[EV_NATTS];
		bool		en[EV_NATTS];
		Datum		v[10];
		bool		vn[10];

		if (direct &&
			event_row_put(&map, rsinfo->setResult, ev->events[i].tuple, Int64GetDatum(batch_id)))
			continue;
		heap_deform_tuple(ev->events[i].tuple, ev->desc, e, en);
		for (k = 0; k < 10; k++)
		{
			v[k] = cols[k] == EVENT_ROW_CONST ? Int64GetDatum(batch_id) : e[cols[k]];
			vn[k] = cols[k] == EVENT_ROW_CONST ? false : en[cols[k]];
			/* get_batch_events returns ev_txid as bigint (PgQ's type) */
			if (cols[k] == EV_TXID && !vn[k] &&
				TupleDescAttr(rsinfo->setDesc, k)->atttypid == INT8OID)
				v[k] = Int64GetDatum((int64) U64FromFullTransactionId(DatumGetFullTransactionId(v[k])));
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, vn);
	}
}

/* A cooperative consumer is read through its subconsumers only. */
static void
error_if_coop(const SubRef *sub)
{
	if (sub->coop)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("consumer \"%s\" on queue \"%s\" is a cooperative consumer",
						sub->consumer_name, sub->queue_name),
				 errpgqueobject("consumer"),
				 errhint("Read it with pgque.receive_coop() or pgque.next_batch() and a subconsumer name.")));
}

/*
 * Expiry (message_ttl, extension/55_delay.sql): an event older than the
 * queue's TTL is not handed out. It goes to the dead-letter table with the
 * reason 'expired' (unless expired_action is 'drop') as the read passes it;
 * a read that meets it again (re-delivery) adds nothing.
 */
static void
expire_event(int32 queue_id, int32 sub_id, const BatchEvents *ev, int i)
{
	static SPIPlanPtr plan;
	static const Oid types[] = {INT4OID, INT4OID, INT8OID, TIMESTAMPTZOID, XID8OID, INT4OID,
	TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	static const int cols[] = {EV_ID, EV_TIME, EV_TXID, EV_RETRY, EV_TYPE, EV_DATA,
	EV_EXTRA1, EV_EXTRA2, EV_EXTRA3, EV_EXTRA4};
	Datum		e[EV_NATTS];
	bool		en[EV_NATTS];
	Datum		args[12];
	char		nulls[12];
	int			k;

	heap_deform_tuple(ev->events[i].tuple, ev->desc, e, en);
	args[0] = Int32GetDatum(queue_id);
	args[1] = Int32GetDatum(sub_id);
	nulls[0] = nulls[1] = ' ';
	for (k = 0; k < (int) lengthof(cols); k++)
	{
		args[2 + k] = e[cols[k]];
		nulls[2 + k] = en[cols[k]] ? 'n' : ' ';
	}
	if (pgque_execute_plan(pgque_plan(&plan,
									  "insert into pgque.dead_letter (dl_queue_id, dl_consumer_id, dl_reason,"
									  " ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data,"
									  " ev_extra1, ev_extra2, ev_extra3, ev_extra4)"
									  " select coalesce(q.queue_lane_of, q.queue_id), s.sub_consumer, 'expired',"
									  "        $3, $4, $5, $6, $7, $8, $9, $10, $11, $12"
									  "   from pgque.subscriber s, pgque.queue q"
									  "  where s.sub_id OPERATOR(pg_catalog.=) $2"
									  "    and q.queue_id OPERATOR(pg_catalog.=) $1"
									  " on conflict do nothing",
									  12, types),
						   args, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not record an expired event");
}

/*
 * Drop from ev (in position order) the events the subscription is not
 * handed: the expired ones (ttl > 0) and those its filter does not take
 * (filter.c), keeping at most max_keep; with more than that, ev->more is
 * set. Adds to *filtered (if not NULL) how many the filter passed over.
 * Returns the position of the last event passed (kept or dropped), 0 if
 * none.
 */
static int64
pass_over_events(int32 queue_id, int32 sub_id, int64 ttl, bool drop, const SubFilter *filter,
				 BatchEvents *ev, int max_keep, int64 *filtered)
{
	TimestampTz oldest = GetCurrentTimestamp() - ttl;
	bool		filtering = sub_filter_active(filter);
	int64		last_pos = 0;
	int			kept = 0;
	int			i;

	for (i = 0; i < ev->n; i++)
	{
		bool		isnull;
		Datum		t;

		if (kept == max_keep)
		{
			ev->more = true;
			break;
		}
		last_pos = ev->events[i].pos;
		/* a retried copy (ev_owner set) was taken once: it comes again whatever the filter now */
		if (filtering && heap_attisnull(ev->events[i].tuple, EV_OWNER + 1, ev->desc) &&
			!sub_filter_passes(filter, ev->events[i].tuple, ev->desc))
		{
			if (filtered != NULL)
				(*filtered)++;
			continue;
		}
		if (ttl <= 0)
		{
			ev->events[kept++] = ev->events[i];
			continue;
		}
		t = heap_getattr(ev->events[i].tuple, EV_TIME + 1, ev->desc, &isnull);
		if (!isnull && DatumGetTimestampTz(t) < oldest)
		{
			if (!drop)
				expire_event(queue_id, sub_id, ev, i);
			continue;
		}
		ev->events[kept++] = ev->events[i];
	}
	ev->n = kept;
	return last_pos;
}

/*
 * receive() and receive_coop(): the events of a batch, at most max_return
 * of them. take NULL: the consumer's own batch (receive); otherwise take
 * chooses the batch (coop.c: a subconsumer's), called with the
 * subscriber's lock held and arg.
 */
static void
consume_receive_rows(ReturnSetInfo *rsinfo, const char *queue_name, const char *consumer_name,
					 int32 max_return, BatchTaker take, void *arg, bool *lanes_first)
{
	SubRef		sub;
	Snapshot	snap;
	int			empty = 0;
	int64		filtered = 0;
	int			window_max;

	SPI_connect();

	snap = RegisterSnapshot(GetLatestSnapshot());
	consume_sub_lookup(queue_name, consumer_name, snap, &sub);
	if (take == NULL)
		error_if_coop(&sub);
	if (lanes_first != NULL && sub.has_lanes)
	{
		/* the caller reads the lanes first (consume_receive), locked in order */
		*lanes_first = true;
		UnregisterSnapshot(snap);
		SPI_finish();
		return;
	}
	consume_sub_lock(sub.sub_id);
	snap = consume_refresh_snapshot(snap);

	/*
	 * A filtered consumer's windows are as large as any receive's may be: it
	 * passes most events over, and 16 small empty windows would end a
	 * receive while matching events wait further on.
	 */
	window_max = sub_filter_active(&sub.filter) ? max_batch_events : Min(max_return, max_batch_events);

	/* a paused queue or consumer is handed nothing (57_pause.sql) */
	while (empty < RECEIVE_MAX_EMPTY && !sub.paused)
	{
		BatchRow	b;
		BatchEvents ev;
		bool		is_new;
		bool		ranges = pgque_schema_has_heap_ranges();
		bool		passing = ranges && (sub.ttl > 0 || sub_filter_active(&sub.filter));
		int64		last_pos = 0;
		int64		filtered_before = filtered;
		int			nret;

		if (take != NULL)
		{
			if (!take(&sub, arg, window_max, snap, &b, &is_new))
				break;
		}
		else
		{
			consume_sub_state_required(&sub, snap, &b);
			is_new = (b.state != 'o');
			if (is_new)
			{
				int64		pos = b.next_tick;

				if (!consume_choose_window(sub.queue_id, pos, window_max,
								   snap, &b.next_tick))
					break;
				b.batch_id = 0;
				b.prev_tick = pos;
				b.has_start_ev = false;
				b.has_end_ev = false;
				b.has_start_pos = false;
				b.has_end_pos = false;
			}
		}
		if (!is_new && HANDED_OUT(&b))
		{
			/* handed out before and not acked: re-deliver under a new id */
			consume_batch_close(b.batch_id, 'r', snap);
			is_new = true;
			b.has_end_ev = false;
			b.has_end_pos = false;
		}

		/*
		 * Read what is returned and one event more, in position order; on
		 * the 0.1.0 tables, the whole window by ev_id.
		 */
		window_events(&b, snap, 0, ranges ? max_return : 0, false, &ev);
		if (ev.n > 0)
			last_pos = ev.events[ev.n - 1].pos;
		while (passing)
		{
			last_pos = pass_over_events(sub.queue_id, sub.sub_id, sub.ttl, sub.ttl_drop,
										&sub.filter, &ev, max_return, &filtered);
			if (ev.n > 0 || !ev.more)
				break;

			/*
			 * All passed over and more to read: read on after them. A new
			 * batch starts there; an open one keeps its start, and what it
			 * hands out now ends after them, so its ack covers them too.
			 */
			b.has_start_pos = true;
			b.start_pos = last_pos;
			window_events(&b, snap, 0, Max(max_return, 1000), false, &ev);
		}
		if (ev.n == 0)
		{
			/* an empty batch closes on its own; try the next window */
			if (!is_new)
				consume_batch_close(b.batch_id, 'd', snap);
			else if (b.member == NULL)
				consume_batch_insert(&b, 'd', snap);	/* a member's new window: the cursor moved already */
			snap = consume_refresh_snapshot(snap);
			if (filtered == filtered_before || filtered >= RECEIVE_MAX_FILTERED)
				empty++;
			continue;
		}

		if (ranges)
		{
			nret = ev.n;
			b.has_end_pos = true;
			b.end_pos = ev.more ? last_pos : POS_END;
			batch_events_sort(&ev);
		}
		else
		{
			batch_events_sort(&ev);
			nret = Min(ev.n, max_return);
			b.has_end_ev = true;
			b.end_ev = ev.n > max_return ? ev.events[nret - 1].ev_id : END_ALL;
		}
		if (is_new)
			b.batch_id = consume_batch_insert(&b, 'o', snap);
		else
			batch_set_end(&b, snap);

		emit_events(rsinfo, &ev, nret, message_cols, b.batch_id);
		break;
	}

	UnregisterSnapshot(snap);
	SPI_finish();
}

/*
 * Check consumer's subscription of the queue itself as receive does: it
 * exists, the caller may use it, it is not cooperative (unless coop_ok).
 * Returns whether it is paused.
 */
bool
consume_queue_sub(const char *queue_name, const char *consumer_name, bool coop_ok)
{
	SubRef		sub;
	Snapshot	snap;

	SPI_connect();
	snap = RegisterSnapshot(GetLatestSnapshot());
	consume_sub_lookup(queue_name, consumer_name, snap, &sub);
	if (!coop_ok)
		error_if_coop(&sub);
	UnregisterSnapshot(snap);
	SPI_finish();
	return sub.paused;
}

/*
 * consume_receive_rows for a queue and its priority lanes: one batch, from
 * the first of them, highest priority first, that has one (see the file
 * header).
 */
void
consume_receive(ReturnSetInfo *rsinfo, const char *queue_name, const char *consumer_name,
				int32 max_return, BatchTaker take, void *arg)
{
	char	  **lanes;
	int			nlanes;
	bool		lanes_first = false;
	int			i;

	/* a queue without lanes: one look-up, which says so (no lane query) */
	consume_receive_rows(rsinfo, queue_name, consumer_name, max_return, take, arg, &lanes_first);
	if (!lanes_first)
		return;
	nlanes = lanes_of(queue_name, &lanes);
	if (consume_queue_sub(queue_name, consumer_name, take != NULL))
		return;					/* paused */
	for (i = 0; i < nlanes; i++)
	{
		consume_receive_rows(rsinfo, lanes[i], consumer_name, max_return, take, arg, NULL);
		if (tuplestore_tuple_count(rsinfo->setResult) > 0)
			return;
	}
	consume_receive_rows(rsinfo, queue_name, consumer_name, max_return, take, arg, NULL);
}

int32
consume_max_return_arg(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno) || PG_GETARG_INT32(argno) < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_return must be at least 1")));
	return PG_GETARG_INT32(argno);
}

/* SQL: pgque.receive(queue, consumer, max_return) -> setof pgque.message */
Datum
pgque_receive(PG_FUNCTION_ARGS)
{
	char	   *queue_name = pgque_queue_name_arg(fcinfo, 0);
	char	   *consumer_name = pgque_consumer_name_arg(fcinfo, 1);
	int32		max_return = consume_max_return_arg(fcinfo, 2);

	InitMaterializedSRF(fcinfo, 0);
	consume_receive((ReturnSetInfo *) fcinfo->resultinfo, queue_name, consumer_name,
					max_return, NULL, NULL);
	return (Datum) 0;
}

/*
 * next_batch_custom's work on one queue or lane: its open batch, else
 * (unless only_open) a new one as the arguments say. Fills out and returns
 * true when there is a batch.
 */
static bool
next_batch_step(FunctionCallInfo fcinfo, const char *queue_name, const char *consumer_name,
				bool only_open, Datum *out, bool *outnull)
{
	static const Oid types[] = {INT4OID, INT8OID, INT8OID, INTERVALOID, INTERVALOID};
	SubRef		sub;
	Snapshot	snap;
	BatchRow	b;
	bool		have_batch;

	SPI_connect();
	snap = RegisterSnapshot(GetLatestSnapshot());
	consume_sub_lookup(queue_name, consumer_name, snap, &sub);
	error_if_coop(&sub);
	consume_sub_lock(sub.sub_id);
	snap = consume_refresh_snapshot(snap);

	consume_sub_state_required(&sub, snap, &b);
	have_batch = (b.state == 'o');
	if (!have_batch && !sub.paused && !only_open)
	{
		Datum		args[5];
		char		nulls[5] = "     ";
		int64		pos = b.next_tick;

		/*
		 * The first tick after pos that satisfies min_count or min_interval
		 * (when neither is given, simply the next one) and is older than
		 * min_lag.
		 */
		args[0] = Int32GetDatum(sub.queue_id);
		args[1] = Int64GetDatum(pos);
		args[2] = PG_ARGISNULL(3) ? (Datum) 0 : Int64GetDatum(PG_GETARG_INT32(3));
		nulls[2] = PG_ARGISNULL(3) ? 'n' : ' ';
		args[3] = PG_ARGISNULL(4) ? (Datum) 0 : PG_GETARG_DATUM(4);
		nulls[3] = PG_ARGISNULL(4) ? 'n' : ' ';
		args[4] = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2);
		nulls[4] = PG_ARGISNULL(2) ? 'n' : ' ';
		if (pgque_execute_snapshot(pgque_plan(&plan_custom_tick,
											"select t.tick_id from pgque.tick p, pgque.tick t"
											" where p.tick_queue OPERATOR(pg_catalog.=) $1 and p.tick_id OPERATOR(pg_catalog.=) $2"
											"   and t.tick_queue OPERATOR(pg_catalog.=) $1 and t.tick_id OPERATOR(pg_catalog.>) $2"
											"   and (($3 is null and $4::interval is null)"
											"        or t.tick_event_seq OPERATOR(pg_catalog.-) p.tick_event_seq OPERATOR(pg_catalog.>=) $3"
											"        or t.tick_time OPERATOR(pg_catalog.-) p.tick_time OPERATOR(pg_catalog.>=) $4)"
											"   and ($5::interval is null"
											"        or pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) t.tick_time"
											"           OPERATOR(pg_catalog.>=) $5::interval)"
											" order by t.tick_id limit 1",
											5, types),
								 args, nulls, snap, InvalidSnapshot, true, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not read ticks");
		pgque_note_reached(sub.queue_id,
						   SPI_processed == 1 ? DatumGetInt64(pgque_spi_value(0, 1)) : pos);
		if (SPI_processed == 1)
		{
			int64		next_tick = DatumGetInt64(pgque_spi_value(0, 1));
			int32		sub_id = b.sub_id;

			memset(&b, 0, sizeof(b));
			b.sub_id = sub_id;
			b.prev_tick = pos;
			b.next_tick = next_tick;
			b.batch_id = consume_batch_insert(&b, 'o', snap);
			snap = consume_refresh_snapshot(snap);
			have_batch = true;
		}
	}

	if (have_batch)
	{
		static SPIPlanPtr plan_ticks;
		static const Oid ttypes[] = {INT4OID, INT8OID, INT8OID};
		Datum		args[3];
		uint64		i;

		args[0] = Int32GetDatum(sub.queue_id);
		args[1] = Int64GetDatum(b.prev_tick);
		args[2] = Int64GetDatum(b.next_tick);
		if (pgque_execute_snapshot(pgque_plan(&plan_ticks,
											"select tick_id, tick_time, tick_event_seq from pgque.tick"
											" where tick_queue OPERATOR(pg_catalog.=) $1 and tick_id OPERATOR(pg_catalog.=) $2"
											" union all "
											"select tick_id, tick_time, tick_event_seq from pgque.tick"
											" where tick_queue OPERATOR(pg_catalog.=) $1 and tick_id OPERATOR(pg_catalog.=) $3",
											3, ttypes),
								 args, NULL, snap, InvalidSnapshot, true, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read ticks");
		out[0] = Int64GetDatum(b.batch_id);
		outnull[0] = false;
		for (i = 0; i < SPI_processed; i++)
		{
			int64		id = DatumGetInt64(pgque_spi_value(i, 1));
			int			slot = (id == b.next_tick) ? 0 : 1;	/* cur, prev */

			out[1 + slot] = Int64GetDatum(id);
			outnull[1 + slot] = false;
			out[3 + slot] = pgque_spi_value(i, 2);
			outnull[3 + slot] = false;
			out[5 + slot] = pgque_spi_value(i, 3);
			outnull[5 + slot] = false;
		}
	}

	UnregisterSnapshot(snap);
	SPI_finish();
	return have_batch;
}

/*
 * SQL: pgque.next_batch_custom(queue_name, consumer_name, min_lag interval,
 *		min_count int4, min_interval interval)
 *	-> (batch_id, cur_tick_id, prev_tick_id, cur_tick_time, prev_tick_time,
 *		cur_tick_event_seq, prev_tick_event_seq)
 *
 * PgQ semantics: the open batch if there is one, else a batch over the next
 * tick (or, with min_count/min_interval, the first tick far enough ahead).
 * All NULL when there is nothing to read yet.
 */
Datum
pgque_next_batch_custom(PG_FUNCTION_ARGS)
{
	char	   *queue_name = pgque_queue_name_arg(fcinfo, 0);
	char	   *consumer_name = pgque_consumer_name_arg(fcinfo, 1);
	TupleDesc	desc;
	Datum		out[7];
	bool		outnull[7] = {true, true, true, true, true, true, true};
	char	  **lanes;
	int			nlanes;
	int			pass;
	int			i;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (!PG_ARGISNULL(3) && PG_GETARG_INT32(3) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("min_count must not be negative")));

	/*
	 * With priority lanes: an open batch first (PgQ's contract: the same
	 * batch until it is finished), lanes before the queue; then a new
	 * batch, from the highest lane that has a tick to read. A lane's batch
	 * has the lane's tick ids.
	 */
	nlanes = lanes_of(queue_name, &lanes);
	if (nlanes > 0 && !consume_queue_sub(queue_name, consumer_name, false))
		for (pass = 0; pass < 2; pass++)
		{
			for (i = 0; i < nlanes; i++)
				if (next_batch_step(fcinfo, lanes[i], consumer_name, pass == 0, out, outnull))
					goto done;
			if (pass == 0 && next_batch_step(fcinfo, queue_name, consumer_name, true, out, outnull))
				goto done;
		}
	(void) next_batch_step(fcinfo, queue_name, consumer_name, false, out, outnull);
done:
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), out, outnull)));
}

/*
 * Say why batch_id is not open (b == NULL: there is no such batch), at
 * elevel: ERROR for functions that need an open batch, WARNING for ack.
 */
static void
report_not_open(int elevel, int64 batch_id, const BatchRow *b)
{
	const char *why;

	if (b == NULL)
	{
		ereport(elevel,
				(errcode(elevel == ERROR ? ERRCODE_UNDEFINED_OBJECT : ERRCODE_WARNING),
				 errmsg("batch not found: " INT64_FORMAT, batch_id),
				 errpgqueobject("batch")));
		return;
	}
	switch (b->state)
	{
		case 'r':
			why = "was delivered again under a new batch id";
			break;
		case 'c':
			why = "was cancelled when its consumer was repositioned";
			break;
		default:
			why = "is already finished";
			break;
	}
	ereport(elevel,
			(errcode(elevel == ERROR ? ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE : ERRCODE_WARNING),
			 errmsg("batch " INT64_FORMAT " %s", batch_id, why),
			 b->state == 'r' && b->member != NULL ?
			 errdetail("Subconsumer \"%s\" was silent for longer than dead_interval, or asked again, and the batch was handed out anew.", b->member) :
			 b->state == 'r' ?
			 errdetail("Another receive for the same consumer took the batch over before it was acknowledged.") : 0,
			 errpgqueobject("batch")));
}

/* An open batch by id, or an error that says why not. */
static void
open_batch_required(int64 batch_id, Snapshot snap, BatchRow *b)
{
	if (!consume_batch_fetch(batch_id, snap, b))
		report_not_open(ERROR, batch_id, NULL);
	check_consume(b->queue_id, b->sub_id, snap);
	if (b->state != 'o')
		report_not_open(ERROR, batch_id, b);
}

/*
 * SQL: pgque._open_batch(batch_id bigint) -> (sub_id, queue_id, consumer_id,
 *		max_retries)
 *
 * For the PL/pgSQL functions that act on one event of a batch (nack,
 * event_retry, batch_retry): locks the batch's subscriber against concurrent
 * receive/ack, then checks that the batch is open, with the same errors as
 * the C functions.
 */
Datum
pgque_open_batch(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan_owner;
	static const Oid types[] = {INT4OID};
	TupleDesc	desc;
	Snapshot	snap;
	BatchRow	b;
	Datum		out[4];
	bool		outnull[4] = {false, false, false, false};
	Datum		args[1];
	int64		batch_id;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch id must not be null")));
	batch_id = PG_GETARG_INT64(0);
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	SPI_connect();
	snap = RegisterSnapshot(GetLatestSnapshot());
	if (consume_batch_fetch(batch_id, snap, &b))
	{
		consume_sub_lock(b.sub_id);
		snap = consume_refresh_snapshot(snap);
	}
	open_batch_required(batch_id, snap, &b);

	args[0] = Int32GetDatum(b.sub_id);
	if (pgque_execute_snapshot(pgque_plan(&plan_owner,
										"select s.sub_consumer, q.queue_max_retries"
										"  from pgque.subscriber s"
										"  join pgque.queue q on q.queue_id OPERATOR(pg_catalog.=) s.sub_queue"
										" where s.sub_id OPERATOR(pg_catalog.=) $1",
										1, types),
							 args, NULL, snap, InvalidSnapshot, true, false, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "subscription %d of batch " INT64_FORMAT " is missing", b.sub_id, batch_id);
	out[0] = Int32GetDatum(b.sub_id);
	out[1] = Int32GetDatum(b.queue_id);
	out[2] = pgque_spi_value(0, 1);
	out[3] = pgque_spi_value(0, 2);
	UnregisterSnapshot(snap);
	SPI_finish();
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), out, outnull)));
}

/*
 * SQL: pgque.get_batch_events(batch_id bigint) -> setof (ev_id, ev_time,
 *		ev_txid, ev_retry, ev_type, ev_data, ev_extra1..4)
 */
Datum
pgque_get_batch_events(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Snapshot	snap;
	BatchRow	b;
	BatchEvents ev;
	PgqueQueue	q;
	bool		ranges;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch id must not be null")));
	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	snap = RegisterSnapshot(GetLatestSnapshot());
	open_batch_required(PG_GETARG_INT64(0), snap, &b);
	ranges = pgque_schema_has_heap_ranges();
	if (ranges && !pgque_queue_fetch(NULL, b.queue_id, snap, &q))
		elog(ERROR, "queue %d of batch " INT64_FORMAT " is missing", b.queue_id, b.batch_id);
	if (ranges && q.message_ttl == 0 && !sub_filter_active(&b.filter))
	{
		/*
		 * Nothing to pass over: write the rows as they are read, which is
		 * ev_id order unless producers interleaved; if they did, start
		 * over, then sort.
		 */
		BatchWindow w;
		BatchStream s;

		window_of(&b, snap, false, &w);
		memset(&s, 0, sizeof(s));
		s.result = rsinfo->setDesc;
		s.cols = event_cols;
		s.ncols = lengthof(event_cols);
		s.store = rsinfo->setResult;
		if (batch_window_stream(&w, snap, &s))
		{
			UnregisterSnapshot(snap);
			SPI_finish();
			return (Datum) 0;
		}
		tuplestore_clear(rsinfo->setResult);
	}
	window_events(&b, snap, 0, 0, false, &ev);
	if (ranges)
		pass_over_events(b.queue_id, b.sub_id, q.message_ttl, q.expired_drop, &b.filter, &ev,
						 INT_MAX, NULL);
	batch_events_sort(&ev);
	emit_events(rsinfo, &ev, ev.n, event_cols, 0);
	UnregisterSnapshot(snap);
	SPI_finish();
	return (Datum) 0;
}

/*
 * SQL: pgque._batch_event(batch_id bigint, ev_id bigint) -> setof
 *		(ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data, ev_extra1..4)
 *
 * Internal, for nack/event_retry: the one event of an open batch, or no row.
 */
Datum
pgque_batch_event(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Snapshot	snap;
	BatchRow	b;
	BatchEvents ev;
	int64		ev_id;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch id must not be null")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("event id must not be null")));
	ev_id = PG_GETARG_INT64(1);
	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	snap = RegisterSnapshot(GetLatestSnapshot());
	open_batch_required(PG_GETARG_INT64(0), snap, &b);
	if (ev_id > 0)
	{
		/* among the events receive handed out, if it did */
		window_events(&b, snap, ev_id, 0, true, &ev);
		emit_events(rsinfo, &ev, Min(ev.n, 1), event_cols, 0);
	}
	UnregisterSnapshot(snap);
	SPI_finish();
	return (Datum) 0;
}

/*
 * SQL: pgque.ack(batch_id bigint) -> int, and pgque.finish_batch(batch_id)
 *
 * 1 when the batch was open and is now finished (or, after a partial
 * receive, continued under a new batch id); 0 with a WARNING otherwise.
 */
Datum
pgque_ack(PG_FUNCTION_ARGS)
{
	int64		batch_id;
	Snapshot	snap;
	BatchRow	b;
	bool		found;
	int			result = 0;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch id must not be null")));
	batch_id = PG_GETARG_INT64(0);

	SPI_connect();
	snap = RegisterSnapshot(GetLatestSnapshot());
	found = consume_batch_fetch(batch_id, snap, &b);
	if (found)
		check_consume(b.queue_id, b.sub_id, snap);
	if (found && b.state == 'o')
	{
		consume_sub_lock(b.sub_id);
		snap = consume_refresh_snapshot(snap);
		found = consume_batch_fetch(batch_id, snap, &b);
		if (found && b.state == 'o')
		{
			bool		split = false;

			if (b.has_end_pos && b.end_pos != POS_END)
			{
				/* continue after the last event handed out */
				b.has_start_pos = true;
				b.start_pos = b.end_pos;
				split = true;
			}
			else if (!b.has_end_pos && b.has_end_ev && b.end_ev != END_ALL)
			{
				/* handed out by 0.1.0, or on its tables: by ev_id */
				b.has_start_ev = true;
				b.start_ev = b.end_ev;
				split = true;
			}
			consume_batch_close(batch_id, split ? 's' : 'd', snap);
			if (split)
			{
				b.has_end_ev = false;
				b.has_end_pos = false;
				consume_batch_insert(&b, 'o', snap);
			}
			result = 1;
		}
	}
	if (result == 0)
		report_not_open(WARNING, batch_id, found ? &b : NULL);
	UnregisterSnapshot(snap);
	SPI_finish();
	PG_RETURN_INT32(result);
}
