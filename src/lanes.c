/*-------------------------------------------------------------------------
 *
 * lanes.c
 *		Priority lanes: finding and creating the lane of a queue for a
 *		priority, listing a queue's lanes, subscribing its subscribers.
 *
 * An event sent with priority p > 0 goes to the queue's lane for p, a
 * hidden queue (pgque.queue row with queue_lane_of = the queue,
 * queue_priority = p; extension/22_lanes.sql) with its own event tables,
 * ticks, rotation and sequence. Priority 0 is the queue itself, so its
 * path is exactly what it was without priorities. Readers of the queue
 * (receive, receive_coop, next_batch) read its lanes first, highest
 * priority first, one batch per call; each lane is read with the same
 * code and the same guarantees as any queue.
 *
 * A lane's events take their ids from the queue's sequence (unique per
 * queue, as users rely on); the lane's own sequence still advances per
 * event, which is what its ticker counts.
 *
 * Locking: a lane is created on the first send with its priority, by a
 * sender holding the queue's row FOR NO KEY UPDATE (to commit): a second
 * first sender waits for it, then finds the lane with a fresh snapshot
 * and uses it. subscribe holds the row FOR SHARE, which conflicts, so a
 * lane and a subscription cannot be created unseen by each other; both
 * then subscribe every subscriber of the queue to every lane
 * (pgque._lanes_sync) reading with a fresh snapshot, whatever the
 * caller's isolation level. The unique constraint queue_lane_uq backs
 * this up.
 *
 *-------------------------------------------------------------------------
 */
#include "pgque.h"

#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "lanes.h"

PG_FUNCTION_INFO_V1(pgque_lanes_sync);

/* send's priority: 0 .. PGQUE_PRIORITY_MAX */
void
pgque_check_priority(int priority)
{
	if (priority < 0 || priority > PGQUE_PRIORITY_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("priority must be between 0 and %d, got %d", PGQUE_PRIORITY_MAX, priority),
				 errhint("0 is the default; events of a higher priority are received first.")));
}

/* The owner of pgque.queue (and of the extension's other tables). */
static Oid
queue_table_owner(void)
{
	HeapTuple	tuple;
	Oid			owner;

	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(pgque_relation_oid("queue")));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "pgque.queue is missing");
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

/* The lane of queue_id for priority, read with a fresh snapshot; 0 if none. */
static int32
lane_find(int32 queue_id, int priority)
{
	static SPIPlanPtr plan;
	static const Oid types[] = {INT4OID, INT2OID};
	Datum		args[2];

	args[0] = Int32GetDatum(queue_id);
	args[1] = Int16GetDatum((int16) priority);
	if (pgque_execute_snapshot(pgque_plan(&plan,
										  "select queue_id from pgque.queue"
										  " where queue_lane_of OPERATOR(pg_catalog.=) $1"
										  "   and queue_priority OPERATOR(pg_catalog.=) $2",
										  2, types),
							   args, NULL, GetLatestSnapshot(), InvalidSnapshot,
							   true, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up lane %d of queue %d", priority, queue_id);
	return SPI_processed == 1 ? DatumGetInt32(pgque_spi_value(0, 1)) : 0;
}

/*
 * The id of the lane of queue parent for priority (1..9), created if it
 * does not exist yet (see the file header). The caller checked that it
 * may produce to parent.
 */
int32
lane_for_send(const PgqueQueue *parent, int priority)
{
	static SPIPlanPtr plan_lock;
	static const Oid types[] = {INT4OID};
	Datum		args[1];
	int32		lane;
	Oid			save_userid;
	int			save_sec_context;

	if (parent->delivery_delay > 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("queue \"%s\" delays delivery and cannot take priorities",
						parent->queue_name),
				 errpgqueobject("queue"),
				 errhint("Send with priority 0, or reset delivery_delay with pgque.set_queue_config().")));

	/*
	 * send() runs as its caller, who may hold only pgque_writer: read and
	 * lock the queue's rows as the owner of pgque.queue, as the SECURITY
	 * DEFINER functions of the schema do.
	 */
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(queue_table_owner(),
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	SPI_connect();
	lane = lane_find(parent->queue_id, priority);
	if (lane == 0)
	{
		/* the queue's row, to commit: serializes lane creation and subscribe */
		args[0] = Int32GetDatum(parent->queue_id);
		if (pgque_execute_snapshot(pgque_plan(&plan_lock,
											  "select 1 from pgque.queue"
											  " where queue_id OPERATOR(pg_catalog.=) $1"
											  " for no key update",
											  1, types),
								   args, NULL, GetLatestSnapshot(), InvalidSnapshot,
								   false, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not lock queue %d", parent->queue_id);
		if (SPI_processed != 1)
			pgque_error_queue_missing(parent->queue_name);
		CommandCounterIncrement();
		lane = lane_find(parent->queue_id, priority);
	}
	if (lane == 0)
	{
		Oid			argtypes[2] = {INT4OID, INT4OID};
		List	   *name = list_make2(makeString(PGQUE_SCHEMA), makeString("_create_lane"));

		/*
		 * Through fmgr, not SPI: the producer (SECURITY INVOKER send) needs
		 * no EXECUTE privilege on it; it runs as its owner.
		 */
		lane = DatumGetInt32(OidFunctionCall2(LookupFuncName(name, 2, argtypes, false),
											  Int32GetDatum(parent->queue_id),
											  Int32GetDatum(priority)));
		CommandCounterIncrement();
	}
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec_context);
	return lane;
}

/*
 * The names of queue_name's lanes, highest priority first; returns how
 * many. Read with the latest snapshot.
 */
int
lanes_of(const char *queue_name, char ***names)
{
	static SPIPlanPtr plan;
	static const Oid types[] = {TEXTOID};
	Datum		args[1];
	int			n;
	int			i;
	MemoryContext caller = CurrentMemoryContext;

	*names = NULL;
	if (!pgque_schema_has_heap_ranges())
		return 0;				/* the 0.1.0 tables: no lanes */
	SPI_connect();
	args[0] = CStringGetTextDatum(queue_name);
	if (pgque_execute_snapshot(pgque_plan(&plan,
										  "select l.queue_name from pgque.queue q"
										  "  join pgque.queue l on l.queue_lane_of OPERATOR(pg_catalog.=) q.queue_id"
										  " where q.queue_name OPERATOR(pg_catalog.=) $1"
										  " order by l.queue_priority desc",
										  1, types),
							   args, NULL, GetLatestSnapshot(), InvalidSnapshot,
							   true, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not list the lanes of queue \"%s\"", queue_name);
	n = (int) SPI_processed;
	if (n > 0)
	{
		/* outlives SPI_finish */
		*names = MemoryContextAlloc(caller, sizeof(char *) * n);
		for (i = 0; i < n; i++)
			(*names)[i] = MemoryContextStrdup(caller,
											  TextDatumGetCString(pgque_spi_value(i, 1)));
	}
	SPI_finish();
	return n;
}

/* The ids of queue_id's lanes, highest priority first. Inside SPI. */
int
lane_ids_of(int32 queue_id, int32 **ids)
{
	static SPIPlanPtr plan;
	static const Oid types[] = {INT4OID};
	Datum		args[1];
	int			n;
	int			i;

	*ids = NULL;
	if (!pgque_schema_has_heap_ranges())
		return 0;
	args[0] = Int32GetDatum(queue_id);
	if (pgque_execute_snapshot(pgque_plan(&plan,
										  "select queue_id from pgque.queue"
										  " where queue_lane_of OPERATOR(pg_catalog.=) $1"
										  " order by queue_priority desc",
										  1, types),
							   args, NULL, GetLatestSnapshot(), InvalidSnapshot,
							   true, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not list the lanes of queue %d", queue_id);
	n = (int) SPI_processed;
	*ids = palloc(sizeof(int32) * Max(n, 1));
	for (i = 0; i < n; i++)
		(*ids)[i] = DatumGetInt32(pgque_spi_value(i, 1));
	return n;
}

/*
 * SQL: pgque._lanes_sync(parent int4) -> int, how many lane subscriptions
 * it made. Every subscriber of parent becomes a subscriber of each of its
 * lanes, with the same owner, pause state and filter, at the lane's newest
 * tick.
 * Reads with the latest snapshot: see the file header.
 */
Datum
pgque_lanes_sync(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan;
	static const Oid types[] = {INT4OID};
	Datum		args[1];
	int			n;

	if (PG_ARGISNULL(0))
		elog(ERROR, "queue id must not be null");
	args[0] = PG_GETARG_DATUM(0);
	SPI_connect();
	CommandCounterIncrement();
	if (pgque_execute_snapshot(pgque_plan(&plan,
										  "with ins as ("
										  " insert into pgque.subscriber (sub_queue, sub_consumer, sub_owner, sub_paused,"
										  "                               sub_types, sub_labels)"
										  " select l.queue_id, s.sub_consumer, s.sub_owner, s.sub_paused,"
										  "        s.sub_types, s.sub_labels"
										  "   from pgque.queue l"
										  "   join pgque.subscriber s on s.sub_queue OPERATOR(pg_catalog.=) l.queue_lane_of"
										  "  where l.queue_lane_of OPERATOR(pg_catalog.=) $1"
										  "    and not exists (select from pgque.subscriber x"
										  "                     where x.sub_queue OPERATOR(pg_catalog.=) l.queue_id"
										  "                       and x.sub_consumer OPERATOR(pg_catalog.=) s.sub_consumer)"
										  " on conflict (sub_queue, sub_consumer) do nothing"
										  " returning sub_id, sub_queue)"
										  " insert into pgque.batch (batch_id, batch_sub, batch_next_tick, batch_state,"
										  "                          batch_opened, batch_closed)"
										  " select pg_catalog.nextval('pgque.batch_id_seq'::pg_catalog.regclass), ins.sub_id,"
										  "        (select t.tick_id from pgque.tick t"
										  "          where t.tick_queue OPERATOR(pg_catalog.=) ins.sub_queue"
										  "          order by t.tick_id desc limit 1),"
										  "        'd', pg_catalog.now(), pg_catalog.now()"
										  "   from ins",
										  1, types),
							   args, NULL, GetLatestSnapshot(), InvalidSnapshot,
							   false, true, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not subscribe to the lanes of queue %d", DatumGetInt32(args[0]));
	n = (int) SPI_processed;
	SPI_finish();
	PG_RETURN_INT32(n);
}
