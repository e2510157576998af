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
 * The worker (by_worker) never waits for a lock a user may hold (a manual
 * ticker() in an open transaction, a row lock on pgque.queue): it skips a
 * queue whose tick lock is taken and leaves queue_tick_forced set when the
 * queue row is locked (the next pass ticks again). And its tick
 * transactions never send events (see tick_snapshot_take).
 *
 * Every tick sends NOTIFY pgque_<queue> with the tick id as payload; it is
 * delivered when the ticking transaction commits.
 *
 *-------------------------------------------------------------------------
 */
#include "pgque.h"

#include "catalog/pg_type.h"
#include "commands/async.h"
#include "commands/sequence.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "snapshot.h"

PG_FUNCTION_INFO_V1(pgque_ticker_queue);
PG_FUNCTION_INFO_V1(pgque_ticker_all);

static SPIPlanPtr plan_last_tick;
static SPIPlanPtr plan_insert_tick;
static SPIPlanPtr plan_clear_forced;
static SPIPlanPtr plan_tickable_queues;

/* Is a tick due by the queue's thresholds (PgQ's rules), or the mode? */
static bool
tick_due(const PgqueQueue *q, PgqueTickMode mode, bool have_last,
		 TimestampTz last_time, int64 last_seq, bool last_saw_running,
		 int64 cur_seq, TimestampTz now)
{
	int64		new_events = cur_seq - last_seq;
	int64		lag = now - last_time;

	if (mode == PGQUE_TICK_NOW || !have_last || q->tick_forced)
		return true;
	/* a transaction running at the last tick may have committed events */
	if (mode == PGQUE_TICK_IF_ACTIVITY && (new_events > 0 || last_saw_running))
		return true;
	if (new_events >= q->ticker_max_count)
		return true;

	/*
	 * New events, or a transaction that was running at the last tick: it
	 * may have sent events (counted by that tick's sequence value already)
	 * and committed since.
	 */
	if ((new_events > 0 || last_saw_running) && lag >= q->ticker_max_lag)
		return true;
	return lag >= q->ticker_idle_period;
}

/*
 * Tick queue_id if mode says so. Returns the new tick id, or 0 when the
 * queue did not tick: not due, paused, ticked externally, or gone. Must be
 * called inside SPI_connect().
 */
int64
pgque_tick_queue(int32 queue_id, PgqueTickMode mode, bool by_worker)
{
	static const Oid last_types[] = {INT4OID};
	static const Oid insert_types[] = {INT4OID, INT8OID, TIMESTAMPTZOID, PG_SNAPSHOTOID, INT8OID};
	PgqueQueue	q;
	Snapshot	snap;
	bool		have_last = false;
	TimestampTz last_time = 0;
	int64		last_seq = 0;
	bool		last_saw_running = false;
	Oid			event_seq;
	TimestampTz now;
	int64		tick_id;
	TickSnapshot *tick_snap;
	Snapshot	cur_snap;
	int64		cur_seq;
	Datum		args[5];
	char		channel[NAMEDATALEN];
	char		payload[32];

	if (!by_worker)
		LockDatabaseObject(pgque_relation_oid("queue"), queue_id, 0, ExclusiveLock);
	else if (!ConditionalLockDatabaseObject(pgque_relation_oid("queue"), queue_id, 0,
											ExclusiveLock))
		return 0;

	/* Everything below is read after the lock, with a fresh snapshot. */
	snap = RegisterSnapshot(GetLatestSnapshot());
	if (!pgque_queue_fetch(NULL, queue_id, snap, &q) ||
		q.ticker_paused || q.external_ticker)
	{
		UnregisterSnapshot(snap);
		return 0;
	}

	args[0] = Int32GetDatum(queue_id);
	if (pgque_execute_snapshot(pgque_plan(&plan_last_tick,
										"select tick_time, tick_event_seq,"
										" pg_catalog.pg_snapshot_xmin(tick_snapshot)"
										"   OPERATOR(pg_catalog.<) pg_catalog.pg_snapshot_xmax(tick_snapshot)"
										" from pgque.tick"
										" where tick_queue OPERATOR(pg_catalog.=) $1 order by tick_id desc limit 1",
										1, last_types),
							 args, NULL, snap, InvalidSnapshot, true, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the last tick of queue %d", queue_id);
	if (SPI_processed == 1)
	{
		have_last = true;
		last_time = DatumGetTimestampTz(pgque_spi_value(0, 1));
		last_seq = DatumGetInt64(pgque_spi_value(0, 2));
		last_saw_running = DatumGetBool(pgque_spi_value(0, 3));
	}

	event_seq = pgque_event_seq_oid(queue_id);
	now = GetCurrentTimestamp();
	if (!tick_due(&q, mode, have_last, last_time, last_seq, last_saw_running,
				  pgque_sequence_last_value(event_seq), now))
	{
		UnregisterSnapshot(snap);
		return 0;
	}

	tick_id = nextval_internal(pgque_tick_seq_oid(queue_id), false);

	/*
	 * Order matters (see tick_snapshot_take): the snapshot, then the event
	 * sequence, then the next xid. An event counted in tick_event_seq got
	 * its xid before the sequence value (send.c assigns it first), so it is
	 * either visible in the tick or listed as running in it.
	 */
	cur_snap = GetLatestSnapshot();
	cur_seq = pgque_sequence_last_value(event_seq);
	tick_snap = tick_snapshot_take(cur_snap, ReadNextFullTransactionId(), !by_worker);

	args[0] = Int32GetDatum(queue_id);
	args[1] = Int64GetDatum(tick_id);
	args[2] = TimestampTzGetDatum(now);
	args[3] = PointerGetDatum(tick_snap);
	args[4] = Int64GetDatum(cur_seq);
	if (pgque_execute_plan(pgque_plan(&plan_insert_tick,
									"insert into pgque.tick (tick_queue, tick_id, tick_time,"
									" tick_snapshot, tick_event_seq) values ($1, $2, $3, $4, $5)",
									5, insert_types),
						 args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not insert tick for queue %d", queue_id);

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
											1, last_types),
								 args, NULL, GetLatestSnapshot(), InvalidSnapshot,
								 false, true, 0) != SPI_OK_UPDATE)
			elog(ERROR, "could not reset queue_tick_forced of queue %d", queue_id);
	}
	UnregisterSnapshot(snap);

	snprintf(channel, sizeof(channel), "%s%s", PGQUE_CHANNEL_PREFIX, q.queue_name);
	snprintf(payload, sizeof(payload), INT64_FORMAT, tick_id);
	Async_Notify(channel, payload);
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

/* SQL: pgque.ticker(queue_name text) -> bigint, new tick id or NULL */
Datum
pgque_ticker_queue(PG_FUNCTION_ARGS)
{
	char	   *queue_name = pgque_queue_name_arg(fcinfo, 0);
	PgqueQueue	q;
	int64		tick_id;

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
				 errmsg("ticker of queue \"%s\" is paused", queue_name),
				 errpgqueobject("queue"),
				 errhint("Set ticker_paused to false with pgque.set_queue_config().")));

	SPI_connect();
	tick_id = pgque_tick_queue(q.queue_id, PGQUE_TICK_IF_DUE, false);
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
