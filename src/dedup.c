/*-------------------------------------------------------------------------
 *
 * dedup.c
 *		Idempotent sends: send(..., dedup_key => k).
 *
 * A keyed send first locks (queue, key) -- a lock of the advisory kind in
 * a key space of its own (DEDUP_LOCK_SPACE, so it never meets the
 * pg_advisory_* locks of the application), held to the end of the
 * transaction. A second sender of the same key waits there while the first
 * is in progress, and then looks the key up with a fresh snapshot, whatever
 * its isolation level: a REPEATABLE READ sender must still see a first send
 * that committed after its snapshot was taken. It looks in the three ring
 * tables pgque.dedup_0..2 (extension/25_dedup.sql) for the key among those
 * younger than the queue's dedup_window. Found: the answer is the first
 * send's event id and nothing is sent. Not found: the caller sends the event
 * and writes the key, with that id, to the table of the current epoch.
 *
 * send is SECURITY INVOKER (src/send.c) and its callers may not read the
 * key tables, so the two steps are SECURITY DEFINER functions,
 * pgque._dedup_find() and pgque._dedup_remember(), called through fmgr (no
 * EXECUTE privilege needed, as with access.c).
 *
 *-------------------------------------------------------------------------
 */
#include "pgque.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "dedup.h"

PG_FUNCTION_INFO_V1(pgque_dedup_find);
PG_FUNCTION_INFO_V1(pgque_dedup_remember);

/* field 4 of the lock tag; pg_advisory_lock uses 1 and 2 */
#define DEDUP_LOCK_SPACE	0x5051

/* the longest key: it is indexed (btree entries must fit a third of a page) */
#define DEDUP_KEY_MAX		1024

#define RING_TABLES			3

void
dedup_key_check(text *key)
{
	if (VARSIZE_ANY_EXHDR(key) > DEDUP_KEY_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dedup_key is too long (%d bytes)", (int) VARSIZE_ANY_EXHDR(key)),
				 errhint("Keys of up to %d bytes are accepted; send a hash of a longer key.",
						 DEDUP_KEY_MAX)));
}

static Oid
dedup_function(const char *name, int nargs)
{
	Oid			argtypes[3] = {INT4OID, TEXTOID, INT8OID};

	return LookupFuncName(list_make2(makeString(PGQUE_SCHEMA), makeString((char *) name)),
						  nargs, argtypes, false);
}

int64
dedup_find(int32 queue_id, text *key)
{
	return DatumGetInt64(OidFunctionCall2(dedup_function("_dedup_find", 2),
										  Int32GetDatum(queue_id), PointerGetDatum(key)));
}

void
dedup_remember(int32 queue_id, text *key, int64 ev_id)
{
	OidFunctionCall3(dedup_function("_dedup_remember", 3),
					 Int32GetDatum(queue_id), PointerGetDatum(key), Int64GetDatum(ev_id));
}

/*
 * SQL: pgque._dedup_find(queue_id int4, key text) -> bigint
 *
 * Locks the key, then returns the id of the event sent with it within the
 * queue's dedup_window, 0 if there is none.
 */
Datum
pgque_dedup_find(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan;
	static const Oid types[] = {INT4OID, TEXTOID, TIMESTAMPTZOID};
	int32		queue_id = PG_GETARG_INT32(0);
	text	   *key = PG_GETARG_TEXT_PP(1);
	LOCKTAG		tag;
	Datum		args[3];
	Snapshot	snap;
	bool		isnull;
	int64		ev_id = 0;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, (uint32) queue_id,
						 hash_bytes((const unsigned char *) VARDATA_ANY(key),
									VARSIZE_ANY_EXHDR(key)),
						 DEDUP_LOCK_SPACE);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);

	args[0] = Int32GetDatum(queue_id);
	args[1] = PointerGetDatum(key);
	args[2] = TimestampTzGetDatum(GetCurrentTimestamp());
	SPI_connect();
	snap = RegisterSnapshot(GetLatestSnapshot());
	if (pgque_execute_snapshot(pgque_plan(&plan,
										  "select d.dk_id"
										  "  from (select dk_id, dk_time from pgque.dedup_0"
										  "         where dk_queue = $1 and dk_key = $2"
										  "        union all"
										  "        select dk_id, dk_time from pgque.dedup_1"
										  "         where dk_queue = $1 and dk_key = $2"
										  "        union all"
										  "        select dk_id, dk_time from pgque.dedup_2"
										  "         where dk_queue = $1 and dk_key = $2) d,"
										  "       pgque.queue q"
										  " where q.queue_id = $1"
										  "   and d.dk_time > $3 - q.queue_dedup_window"
										  " order by d.dk_time desc limit 1",
										  3, types),
							   args, NULL, snap, InvalidSnapshot, true, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up a dedup key");
	if (SPI_processed == 1)
	{
		Datum		d = pgque_spi_value_opt(0, 1, &isnull);

		if (!isnull)
			ev_id = DatumGetInt64(d);
	}
	UnregisterSnapshot(snap);
	SPI_finish();
	PG_RETURN_INT64(ev_id);
}

/*
 * SQL: pgque._dedup_remember(queue_id int4, key text, ev_id bigint) -> void
 *
 * Writes the key to the ring table of the current epoch (25_dedup.sql):
 * the epoch of the time written, so that the table and the time agree.
 */
Datum
pgque_dedup_remember(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr period_plan;
	static SPIPlanPtr insert_plans[RING_TABLES];
	static const Oid types[] = {INT4OID, TEXTOID, INT8OID, TIMESTAMPTZOID};
	TimestampTz now = GetCurrentTimestamp();
	int64		unix_usecs;
	int64		period;
	int			k;
	Datum		args[4];
	char		sql[128];

	SPI_connect();
	if (pgque_execute_plan(pgque_plan(&period_plan,
									  "select (extract(epoch from dr_period) * 1000000)::int8"
									  "  from pgque.dedup_ring", 0, NULL),
						   NULL, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "pgque.dedup_ring has no row");
	period = DatumGetInt64(pgque_spi_value(0, 1));
	if (period <= 0)
		elog(ERROR, "pgque.dedup_ring has a period of " INT64_FORMAT " microseconds", period);

	/* the epoch as 25_dedup.sql counts it: from the Unix epoch, floored */
	unix_usecs = now + (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
	k = (int) (((unix_usecs / period) - (unix_usecs % period < 0 ? 1 : 0)) % RING_TABLES);
	if (k < 0)
		k += RING_TABLES;

	if (insert_plans[k] == NULL)
		snprintf(sql, sizeof(sql),
				 "insert into pgque.dedup_%d (dk_queue, dk_key, dk_id, dk_time)"
				 " values ($1, $2, $3, $4)", k);
	args[0] = PG_GETARG_DATUM(0);
	args[1] = PG_GETARG_DATUM(1);
	args[2] = PG_GETARG_DATUM(2);
	args[3] = TimestampTzGetDatum(now);
	if (pgque_execute_plan(pgque_plan(&insert_plans[k], sql, 4, types),
						   args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not remember a dedup key");
	SPI_finish();
	PG_RETURN_VOID();
}
