/*-------------------------------------------------------------------------
 *
 * ticker.c
 *		Ticks: recording snapshots that cut a queue's event stream into batches.
 *
 * A tick stores a snapshot of committed transactions. Consumers read the
 * events whose transaction is visible in a newer tick and not in the older
 * one, so tick snapshots of one queue must be ordered: every tick must see
 * all that its predecessor saw, or events would be delivered twice.
 *
 * Locking: the ticker takes an ExclusiveLock on the object
 * (pgque.queue's OID, queue_id) -- the "tick lock" -- and only then takes the
 * snapshot with GetLatestSnapshot(). The lock is held to the end of the
 * transaction, so the next ticker of that queue, worker or manual, starts
 * its snapshot after this tick has committed. That is what makes concurrent
 * ticker() calls safe, which PgQ could not promise.
 *
 * A tick also measures how long each event table is (heap_range.c). For
 * that it holds AccessShareLock on the queue's three event tables from
 * before the snapshot until the lengths are read, so that rotation's
 * TRUNCATE cannot swap a file between the two; the locks are released
 * right after (a TRUNCATE waiting for them would otherwise block sends).
 *
 * The worker (by_worker) never waits for a lock a user may hold (a manual
 * ticker() in an open transaction, a row lock on pgque.queue): it skips a
 * queue whose tick lock is taken or whose event tables are locked (a
 * TRUNCATE in progress), and leaves queue_tick_forced set when the
 * queue row is locked (the next pass ticks again). And its tick
 * transactions never send events (see tick_snapshot_take).
 *
 * Every tick sends NOTIFY pgque_<queue> with the tick id as payload; it is
 * delivered when the ticking transaction commits. A priority lane's tick
 * (lanes.c) notifies its queue's channel: consumers listen to that.
 *
 *-------------------------------------------------------------------------
 */
#include "pgque.h"

#include "catalog/pg_type.h"
#include "commands/async.h"
#include "commands/sequence.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "heap_range.h"
#include "lanes.h"
#include "snapshot.h"
#include "ticker.h"

PG_FUNCTION_INFO_V1(pgque_ticker_queue);
PG_FUNCTION_INFO_V1(pgque_ticker_all);
PG_FUNCTION_INFO_V1(pgque_ticker_external);
PG_FUNCTION_INFO_V1(pgque_ticker_id);

static SPIPlanPtr plan_last_tick_v1;
static SPIPlanPtr plan_last_tick;
static SPIPlanPtr plan_insert_tick_v1;
static SPIPlanPtr plan_insert_tick;
static SPIPlanPtr plan_clear_forced;
static SPIPlanPtr plan_tickable_queues;

/* The newest tick of a queue, as the next ticker needs it. */
typedef struct LastTick
{
	bool		exists;
	int64		id;
	TimestampTz time;
	int64		seq;
	bool		saw_running;	/* transactions were running at it */
	TickHeap	heap;			/* its heap bounds (heap_range.c) */
} LastTick;

#define LAST_TICK_COLUMNS \
	"select tick_id, tick_time, tick_event_seq," \
	" pg_catalog.pg_snapshot_xmin(tick_snapshot)" \
	"   OPERATOR(pg_catalog.<) pg_catalog.pg_snapshot_xmax(tick_snapshot)"
#define LAST_TICK_WHERE \
	" from pgque.tick" \
	" where tick_queue OPERATOR(pg_catalog.=) $1 order by tick_id desc limit 1"

/* Read the newest tick of queue_id with snap. */
static void
last_tick_read(int32 queue_id, Snapshot snap, LastTick *last)
{
	static const Oid types[] = {INT4OID};
	bool		ranges = pgque_schema_has_heap_ranges();
	Datum		args[1];

	args[0] = Int32GetDatum(queue_id);
	if (pgque_execute_snapshot(ranges ?
							   pgque_plan(&plan_last_tick,
										  LAST_TICK_COLUMNS ", tick_heap, tick_since" LAST_TICK_WHERE,
										  1, types) :
							   pgque_plan(&plan_last_tick_v1,
										  LAST_TICK_COLUMNS LAST_TICK_WHERE, 1, types),
							   args, NULL, snap, InvalidSnapshot, true, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the last tick of queue %d", queue_id);
	memset(last, 0, sizeof(*last));
	if (SPI_processed == 1)
	{
		last->exists = true;
		last->id = DatumGetInt64(pgque_spi_value(0, 1));
		last->time = DatumGetTimestampTz(pgque_spi_value(0, 2));
		last->seq = DatumGetInt64(pgque_spi_value(0, 3));
		last->saw_running = DatumGetBool(pgque_spi_value(0, 4));
		if (ranges)
		{
			bool		n1;
			bool		n2;
			Datum		heap = pgque_spi_value_opt(0, 5, &n1);
			Datum		since = pgque_spi_value_opt(0, 6, &n2);

			tick_heap_parse(&last->heap, n1 ? NULL : DatumGetArrayTypeP(heap),
							n2 ? NULL : DatumGetArrayTypeP(since));
		}
	}
}

/* Is a tick due by the queue's thresholds (PgQ's rules), or the mode? */
static bool
tick_due(const PgqueQueue *q, PgqueTickMode mode, const LastTick *last,
		 int64 cur_seq, TimestampTz now)
{
	int64		new_events = cur_seq - last->seq;
	int64		lag = now - last->time;

	if (mode == PGQUE_TICK_NOW || !last->exists || q->tick_forced)
		return true;
	/* a transaction running at the last tick may have committed events */
	if (mode == PGQUE_TICK_IF_ACTIVITY && (new_events > 0 || last->saw_running))
		return true;
	if (new_events >= q->ticker_max_count)
		return true;
	/* a queue with only its creation tick ticks as soon as it has events */
	if (last->id == 1 && new_events > 0)
		return true;

	/*
	 * New events, or a transaction that was running at the last tick: it
	 * may have sent events (counted by that tick's sequence value already)
	 * and committed since.
	 */
	if ((new_events > 0 || last->saw_running) && lag >= q->ticker_max_lag)
		return true;
	return lag >= q->ticker_idle_period;
}

/*
 * Insert tick tick_id of queue q: its snapshot is taken now, after the
 * caller took the tick lock and locked the event tables (lock, released
 * here). seq is the tick's event sequence value; when it is negative the
 * event sequence is read after the snapshot. tick_id < 0: the next value of
 * the queue's tick sequence, drawn after the snapshot -- nextval may assign
 * the transaction an xid (when it WAL-logs, e.g. after a checkpoint), and
 * an xid assigned before the snapshot would be listed as running in the
 * tick (tick_snapshot_take), costing an extra tick. last is the queue's
 * newest tick. Sends the NOTIFY (delivered at commit); returns the tick
 * id. Must be called inside SPI_connect().
 */
static int64
insert_tick(const PgqueQueue *q, int64 tick_id, TimestampTz time, int64 seq,
			bool own_may_send, const LastTick *last, HeapLock *lock)
{
	static const Oid types[] = {INT4OID, INT8OID, TIMESTAMPTZOID, PG_SNAPSHOTOID,
	INT8OID, INT8ARRAYOID, INT8ARRAYOID};
	TickSnapshot *tick_snap;
	Snapshot	cur_snap;
	HeapEnds	ends;
	FullTransactionId next;
	FullTransactionId own_fresh = InvalidFullTransactionId;
	Datum		args[7];
	char		channel[NAMEDATALEN];
	char		payload[32];
	int			spi;

	/*
	 * Order matters. The snapshot, then the event sequence, then the ends of
	 * the event tables, then the next xid: an event counted in
	 * tick_event_seq got its xid before the sequence value (send.c assigns
	 * it first), so it is either visible in the tick or listed as running in
	 * it (tick_snapshot_take); and the tables' ends bound the rows of the
	 * transactions the snapshot sees from above, and of those that get an
	 * xid from next on from below (heap_range.c).
	 */
	cur_snap = GetLatestSnapshot();
	if (seq < 0)
		seq = pgque_sequence_last_value(pgque_event_seq_oid(q->queue_id));
	heap_measure_and_unlock(lock, &ends);
	next = ReadNextFullTransactionId();
	tick_snap = tick_snapshot_take(cur_snap, next, own_may_send);
	if (tick_id < 0)
		tick_id = nextval_internal(pgque_tick_seq_oid(q->queue_id), false);

	args[0] = Int32GetDatum(q->queue_id);
	args[1] = Int64GetDatum(tick_id);
	args[2] = TimestampTzGetDatum(time);
	args[3] = PointerGetDatum(tick_snap);
	args[4] = Int64GetDatum(seq);
	if (pgque_schema_has_heap_ranges())
	{
		args[5] = PointerGetDatum(tick_heap_ends_array(&ends));
		if (own_may_send && !heap_range_xact_wrote())
			own_fresh = GetTopFullTransactionIdIfAny();
		args[6] = PointerGetDatum(tick_heap_since_array(&last->heap, tick_snap, &ends,
														FullTransactionIdEquals(tick_snap->xmax, next),
														own_fresh));
		spi = pgque_execute_plan(pgque_plan(&plan_insert_tick,
											"insert into pgque.tick (tick_queue, tick_id, tick_time,"
											" tick_snapshot, tick_event_seq, tick_heap, tick_since)"
											" values ($1, $2, $3, $4, $5, $6, $7)",
											7, types),
								 args, NULL, false, 0);
	}
	else
		spi = pgque_execute_plan(pgque_plan(&plan_insert_tick_v1,
											"insert into pgque.tick (tick_queue, tick_id, tick_time,"
											" tick_snapshot, tick_event_seq) values ($1, $2, $3, $4, $5)",
											5, types),
								 args, NULL, false, 0);
	if (spi != SPI_OK_INSERT)
		elog(ERROR, "could not insert tick for queue %d", q->queue_id);

	if (q->lane_of != 0)
	{
		PgqueQueue	parent;

		if (!pgque_queue_fetch(NULL, q->lane_of, GetLatestSnapshot(), &parent))
			elog(ERROR, "queue %d of lane %d is missing", q->lane_of, q->queue_id);
		snprintf(channel, sizeof(channel), "%s%s", PGQUE_CHANNEL_PREFIX, parent.queue_name);
	}
	else
		snprintf(channel, sizeof(channel), "%s%s", PGQUE_CHANNEL_PREFIX, q->queue_name);
	snprintf(payload, sizeof(payload), INT64_FORMAT, tick_id);
	Async_Notify(channel, payload);
	return tick_id;
}

/* Take the tick lock of a queue (see the file header); false if nowait and taken. */
static bool
tick_lock(int32 queue_id, bool nowait)
{
	if (!nowait)
	{
		LockDatabaseObject(pgque_relation_oid("queue"), queue_id, 0, ExclusiveLock);
		return true;
	}
	return ConditionalLockDatabaseObject(pgque_relation_oid("queue"), queue_id, 0,
										 ExclusiveLock);
}

/*
 * Tick queue_id if mode says so. Returns the new tick id, or 0 when the
 * queue did not tick: not due, paused, ticked externally, or gone. Must be
 * called inside SPI_connect().
 */
int64
pgque_tick_queue(int32 queue_id, PgqueTickMode mode, bool by_worker)
{
	static const Oid id_types[] = {INT4OID};
	PgqueQueue	q;
	Snapshot	snap;
	LastTick	last;
	TimestampTz now;
	int64		tick_id;
	Datum		args[1];
	HeapLock	lock;

	if (!tick_lock(queue_id, by_worker))
		return 0;

	/* Everything below is read after the lock, with a fresh snapshot. */
	snap = RegisterSnapshot(GetLatestSnapshot());
	if (!pgque_queue_fetch(NULL, queue_id, snap, &q) ||
		q.ticker_paused || q.external_ticker)
	{
		UnregisterSnapshot(snap);
		return 0;
	}
	last_tick_read(queue_id, snap, &last);
	now = GetCurrentTimestamp();
	if (!tick_due(&q, mode, &last,
				  pgque_sequence_last_value(pgque_event_seq_oid(queue_id)), now))
	{
		UnregisterSnapshot(snap);
		return 0;
	}

	/* the worker skips a queue whose table a TRUNCATE waits for */
	if (!heap_lock_tables(queue_id, by_worker, &lock))
	{
		UnregisterSnapshot(snap);
		return 0;
	}
	tick_id = insert_tick(&q, -1, now, -1, !by_worker, &last, &lock);

	if (q.tick_forced)
	{
		args[0] = Int32GetDatum(queue_id);
		/* skip locked: a row lock a user holds must not stall us */
		if (pgque_execute_snapshot(pgque_plan(&plan_clear_forced,
											"update pgque.queue set queue_tick_forced = false"
											" where queue_id OPERATOR(pg_catalog.=)"
											"   (select queue_id from pgque.queue"
											"     where queue_id OPERATOR(pg_catalog.=) $1 and queue_tick_forced"
											"       for no key update skip locked)",
											1, id_types),
								 args, NULL, GetLatestSnapshot(), InvalidSnapshot,
								 false, true, 0) != SPI_OK_UPDATE)
			elog(ERROR, "could not reset queue_tick_forced of queue %d", queue_id);
	}
	UnregisterSnapshot(snap);
	return tick_id;
}

/*
 * Tick every queue that is due and neither paused nor externally ticked.
 * Returns how many queues ticked. Must be called inside SPI_connect().
 */
int
pgque_tick_all(bool by_worker)
{
	int			ticked = 0;
	int32	   *ids;
	uint64		n;
	uint64		i;

	if (pgque_execute_plan(pgque_plan(&plan_tickable_queues,
									"select queue_id from pgque.queue"
									" where not queue_external_ticker and not queue_ticker_paused"
									" order by queue_name",
									0, NULL),
						 NULL, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not list queues");
	n = SPI_processed;
	ids = palloc(sizeof(int32) * Max(n, 1));
	for (i = 0; i < n; i++)
		ids[i] = DatumGetInt32(pgque_spi_value(i, 1));
	for (i = 0; i < n; i++)
		if (pgque_tick_queue(ids[i], PGQUE_TICK_IF_DUE, by_worker) != 0)
			ticked++;
	pfree(ids);
	return ticked;
}

/*
 * SQL: pgque.ticker(queue_name text) -> bigint, new tick id or NULL. The
 * queue's priority lanes tick with it, when due; the result is the
 * queue's own.
 */
Datum
pgque_ticker_queue(PG_FUNCTION_ARGS)
{
	char	   *queue_name = pgque_queue_name_arg(fcinfo, 0);
	PgqueQueue	q;
	int64		tick_id;
	int32	   *lanes;
	int			nlanes;
	int			i;

	pgque_queue_lookup(queue_name, GetLatestSnapshot(), &q);
	if (q.external_ticker)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("queue \"%s\" is ticked externally", queue_name),
				 errpgqueobject("queue"),
				 errhint("Set external_ticker to false with pgque.set_queue_config() to tick it here.")));
	if (q.ticker_paused)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("queue \"%s\" is paused", queue_name),
				 errpgqueobject("queue"),
				 errhint("Set ticker_paused to false with pgque.set_queue_config().")));

	SPI_connect();
	tick_id = pgque_tick_queue(q.queue_id, PGQUE_TICK_IF_DUE, false);
	nlanes = lane_ids_of(q.queue_id, &lanes);
	for (i = 0; i < nlanes; i++)
		(void) pgque_tick_queue(lanes[i], PGQUE_TICK_IF_DUE, false);
	SPI_finish();
	if (tick_id == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(tick_id);
}

/*
 * SQL: pgque._ticker_id(queue_id int4) -> bigint: tick a queue by id if
 * due (a new queue's or lane's first tick); NULL if it did not tick.
 */
Datum
pgque_ticker_id(PG_FUNCTION_ARGS)
{
	int64		tick_id;

	SPI_connect();
	tick_id = pgque_tick_queue(PG_GETARG_INT32(0), PGQUE_TICK_IF_DUE, false);
	SPI_finish();
	if (tick_id == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(tick_id);
}

/* SQL: pgque.ticker() -> bigint, number of queues that ticked */
Datum
pgque_ticker_all(PG_FUNCTION_ARGS)
{
	int			ticked;

	SPI_connect();
	ticked = pgque_tick_all(false);
	SPI_finish();
	PG_RETURN_INT64(ticked);
}

/*
 * SQL: pgque.ticker(queue text, tick_id bigint, tick_time timestamptz,
 *					 event_seq bigint) -> bigint
 *
 * PgQ's external ticker: ticks come from elsewhere (say, the origin of a
 * replicated queue) with their id, time and event sequence value. Only for
 * queues with external_ticker; tick ids must go up and the event sequence
 * must not go back. The snapshot is taken here, as for any tick. Returns
 * tick_id.
 */
Datum
pgque_ticker_external(PG_FUNCTION_ARGS)
{
	char	   *queue_name = pgque_queue_name_arg(fcinfo, 0);
	PgqueQueue	q;
	Snapshot	snap;
	LastTick	last;
	int64		tick_id;
	int64		event_seq;
	Oid			seqoid;
	HeapLock	lock;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tick_id, tick_time and event_seq must not be null")));
	tick_id = PG_GETARG_INT64(1);
	event_seq = PG_GETARG_INT64(3);

	pgque_queue_lookup(queue_name, GetLatestSnapshot(), &q);
	SPI_connect();
	(void) tick_lock(q.queue_id, false);
	snap = RegisterSnapshot(GetLatestSnapshot());
	if (!pgque_queue_fetch(NULL, q.queue_id, snap, &q))
		pgque_error_queue_missing(queue_name);
	if (q.ticker_paused)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("queue \"%s\" is paused", queue_name),
				 errpgqueobject("queue"),
				 errhint("Set ticker_paused to false with pgque.set_queue_config().")));
	if (!q.external_ticker)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("queue \"%s\" is not ticked externally", queue_name),
				 errpgqueobject("queue"),
				 errhint("Set external_ticker to true with pgque.set_queue_config(), or tick it with pgque.ticker(queue).")));
	last_tick_read(q.queue_id, snap, &last);
	if (last.exists && tick_id <= last.id)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tick id " INT64_FORMAT " of queue \"%s\" is not above its last tick " INT64_FORMAT,
						tick_id, queue_name, last.id)));
	if (last.exists && event_seq < last.seq)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("event sequence " INT64_FORMAT " of queue \"%s\" is below its last tick's " INT64_FORMAT,
						event_seq, queue_name, last.seq)));

	if (!heap_lock_tables(q.queue_id, false, &lock))
		pgque_error_queue_missing(queue_name);
	(void) insert_tick(&q, tick_id, PG_GETARG_TIMESTAMPTZ(2), event_seq, true, &last, &lock);

	/* the queue's own sequences never go back behind what ticks say */
	seqoid = pgque_tick_seq_oid(q.queue_id);
	if (pgque_sequence_last_value(seqoid) < tick_id)
		DirectFunctionCall2(setval_oid, ObjectIdGetDatum(seqoid), Int64GetDatum(tick_id));
	seqoid = pgque_event_seq_oid(q.queue_id);
	if (event_seq > 0 && pgque_sequence_last_value(seqoid) < event_seq)
		DirectFunctionCall2(setval_oid, ObjectIdGetDatum(seqoid), Int64GetDatum(event_seq));

	UnregisterSnapshot(snap);
	SPI_finish();
	PG_RETURN_INT64(tick_id);
}
