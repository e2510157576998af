/*-------------------------------------------------------------------------
 *
 * dedup.c
 *		Idempotent sends: send(..., dedup_key => k).
 *
 * A keyed send looks the key up among the keys younger than the queue's
 * dedup_window, in the ring tables pgque.dedup_<n> (extension/25_dedup.sql)
 * that can hold one: the current epoch's and the one before (all three
 * while the ring is frozen). It reads them with a dirty snapshot, which
 * shows rows of transactions still in progress and rows committed after
 * the caller's snapshot was taken (a REPEATABLE READ sender must still see
 * them):
 *	 - a row whose transaction is in progress: wait for that transaction
 *	   (as a unique index does) and look again;
 *	 - a committed row, or one of the caller's own transaction: the answer
 *	   is its event id, and nothing is sent;
 *	 - none: the caller sends the event and writes the key with its id to
 *	   the current epoch's table (dedup_remember).
 * Two first senders of one key must not both find nothing: a lock on
 * (queue, hash of the key) -- of the advisory kind, in a key space of its
 * own (DEDUP_LOCK_SPACE, so it never meets the application's
 * pg_advisory_* locks) -- is held from the look-up until the key row is
 * written, and released then: later senders see that row and wait for its
 * transaction instead. So a transaction holds no lock per key it sent, and
 * sends any number of keys.
 *
 * send is SECURITY INVOKER (src/send.c) and its callers may not read the
 * key tables, so the two steps are SECURITY DEFINER functions,
 * pgque._dedup_find() and pgque._dedup_remember(), called through fmgr (no
 * EXECUTE privilege needed, as with access.c).
 *
 *-------------------------------------------------------------------------
 */
#include "pgque.h"

#include "access/genam.h"
#include "access/nbtree.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
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

/* the lock that serializes the look-up and the write of one key */
static void
key_lock_tag(LOCKTAG *tag, int32 queue_id, text *key)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, (uint32) queue_id,
						 hash_bytes((const unsigned char *) VARDATA_ANY(key),
									VARSIZE_ANY_EXHDR(key)),
						 DEDUP_LOCK_SPACE);
}

/* The epoch of time t, as 25_dedup.sql counts it: from the Unix epoch, floored. */
static int64
ring_epoch(TimestampTz t, int64 period)
{
	int64		unix_usecs = t + (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;

	return unix_usecs / period - (unix_usecs % period < 0 ? 1 : 0);
}

static int
ring_table(int64 epoch)
{
	int			k = (int) (epoch % RING_TABLES);

	return k < 0 ? k + RING_TABLES : k;
}

/*
 * dr_period as _dedup_find read it: _dedup_remember, which follows it in
 * the same send, writes by the same epochs. (A period changed in between
 * is covered by dr_frozen_until, 25_dedup.sql.)
 */
static int64 last_period = 0;

/*
 * Look for the key in ring table k among rows written after `after`.
 * Returns true when a row's transaction is in progress (*wait_xid set);
 * otherwise sets *ev_id to the newest match's id, if any (else leaves it).
 */
static bool
ring_table_lookup(int k, int32 queue_id, text *key, TimestampTz after,
				  int64 *ev_id, TimestampTz *ev_time, TransactionId *wait_xid)
{
	char		name[NAMEDATALEN];
	Relation	heap;
	Relation	index;
	SnapshotData dirty;
	ScanKeyData keys[2];
	IndexScanDesc scan;
	TupleTableSlot *slot;
	bool		wait = false;

	snprintf(name, sizeof(name), "dedup_%d", k);
	heap = table_open(pgque_relation_oid(name), AccessShareLock);
	snprintf(name, sizeof(name), "dedup_%d_key_idx", k);
	index = index_open(pgque_relation_oid(name), AccessShareLock);

	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(queue_id));
	ScanKeyEntryInitialize(&keys[1], 0, 2, BTEqualStrategyNumber, InvalidOid,
						   index->rd_indcollation[1], F_TEXTEQ, PointerGetDatum(key));
	InitDirtySnapshot(dirty);
	scan = index_beginscan(heap, index, &dirty, 2, 0);
	index_rescan(scan, keys, 2, NULL, 0);
	slot = table_slot_create(heap, NULL);
	while (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		TimestampTz t;

		/* the visibility check of this row left its inserter, if running */
		if (TransactionIdIsValid(dirty.xmin))
		{
			*wait_xid = dirty.xmin;
			wait = true;
			break;
		}
		t = DatumGetTimestampTz(slot_getattr(slot, 4, &isnull));
		if (t > after && t > *ev_time)
		{
			*ev_time = t;
			*ev_id = DatumGetInt64(slot_getattr(slot, 3, &isnull));
		}
	}
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	index_close(index, NoLock);
	table_close(heap, NoLock);
	return wait;
}

/*
 * SQL: pgque._dedup_find(queue_id int4, key text) -> bigint
 *
 * The id of the event sent with the key within the queue's dedup_window
 * (waiting for a sender still in progress), or 0: then the key's lock is
 * held, and _dedup_remember writes the key and releases it.
 */
Datum
pgque_dedup_find(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan;
	static const Oid types[] = {INT4OID};
	int32		queue_id = PG_GETARG_INT32(0);
	text	   *key = PG_GETARG_TEXT_PP(1);
	LOCKTAG		tag;
	Datum		args[1];

	key_lock_tag(&tag, queue_id, key);
	args[0] = Int32GetDatum(queue_id);
	for (;;)
	{
		TimestampTz now;
		int64		period;
		int64		window;
		bool		frozen;
		int64		epoch;
		int64		ev_id = 0;
		TimestampTz ev_time = DT_NOBEGIN;
		TransactionId wait_xid = InvalidTransactionId;
		int			i;

		(void) LockAcquire(&tag, ExclusiveLock, false, false);
		SPI_connect();
		if (pgque_execute_plan(pgque_plan(&plan,
										  "select (extract(epoch from r.dr_period) * 1000000)::int8,"
										  "       (extract(epoch from q.queue_dedup_window) * 1000000)::int8,"
										  "       coalesce(r.dr_frozen_until > clock_timestamp(), false)"
										  "  from pgque.queue q, pgque.dedup_ring r where q.queue_id = $1",
										  1, types),
							   args, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "queue %d or pgque.dedup_ring is missing", queue_id);
		period = DatumGetInt64(pgque_spi_value(0, 1));
		window = DatumGetInt64(pgque_spi_value(0, 2));
		frozen = DatumGetBool(pgque_spi_value(0, 3));
		if (period <= 0)
			elog(ERROR, "pgque.dedup_ring has a period of " INT64_FORMAT " microseconds", period);
		last_period = period;
		SPI_finish();

		/*
		 * A key younger than the window (<= the period) was written in this
		 * epoch or the one before; while the ring is frozen, anywhere.
		 */
		now = GetCurrentTimestamp();
		epoch = ring_epoch(now, period);
		for (i = 0; i < (frozen ? RING_TABLES : 2); i++)
			if (ring_table_lookup(ring_table(epoch - i), queue_id, key, now - window,
								  &ev_id, &ev_time, &wait_xid))
				break;
		if (TransactionIdIsValid(wait_xid))
		{
			/* a first send in progress: its outcome decides */
			LockRelease(&tag, ExclusiveLock, false);
			XactLockTableWait(wait_xid, NULL, NULL, XLTW_None);
			continue;
		}
		if (ev_id != 0)
			LockRelease(&tag, ExclusiveLock, false);
		PG_RETURN_INT64(ev_id);
	}
}

/*
 * SQL: pgque._dedup_remember(queue_id int4, key text, ev_id bigint) -> void
 *
 * Writes the key to the ring table of the current epoch (25_dedup.sql):
 * the epoch of the time written, so that the table and the time agree.
 * Then releases the key's lock taken by _dedup_find: later senders of the
 * key see the row and wait for this transaction.
 */
Datum
pgque_dedup_remember(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr insert_plans[RING_TABLES];
	static const Oid types[] = {INT4OID, TEXTOID, INT8OID, TIMESTAMPTZOID};
	TimestampTz now;
	int			k;
	Datum		args[4];
	char		sql[128];
	LOCKTAG		tag;

	if (last_period <= 0)
		elog(ERROR, "pgque._dedup_remember() called without pgque._dedup_find()");
	SPI_connect();
	now = GetCurrentTimestamp();
	k = ring_table(ring_epoch(now, last_period));
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

	key_lock_tag(&tag, PG_GETARG_INT32(0), PG_GETARG_TEXT_PP(1));
	LockRelease(&tag, ExclusiveLock, false);
	PG_RETURN_VOID();
}
