/*-------------------------------------------------------------------------
 *
 * message_state.c
 *		Finding the rows of one event in its queue's event tables, for
 *		pgque.message_state() (extension/82_message_state.sql).
 *
 * An event has one row per time it entered the queue: the original (sent,
 * or moved in from a delay bucket) and one per retry or dead-letter replay,
 * owned by the subscriber it is for (ev_owner). All carry the event's id.
 *
 * Event tables have no index (docs/design.md), and an id does not say
 * where its rows are: a delayed event or a retry enters the queue long
 * after its id was drawn, and a long transaction writes an early id after
 * others' later ones. So the lookup reads the queue's three event tables
 * whole, comparing only ev_id, the first column: its cost is that of a
 * sequential scan of every event the queue still keeps.
 *
 * Visibility: a dirty snapshot, so that an event whose sending transaction
 * is still in progress (the caller's own included) is found too; rows of
 * aborted transactions and subtransactions are skipped. The caller tells
 * committed from running by ev_txid.
 *
 * Locking: AccessShareLock on each event table, as a reader of a batch
 * takes: a rotation that wants to TRUNCATE one waits for the caller's
 * transaction to end.
 *
 *-------------------------------------------------------------------------
 */
#include "pgque.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "funcapi.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "batch.h"
#include "send.h"

PG_FUNCTION_INFO_V1(pgque_event_rows);

/*
 * SQL: pgque._event_rows(queue_id int4, ev_id bigint) -> setof (ev_txid,
 * ev_owner, ev_retry, ev_time, ev_pos): every row of the event in the
 * queue's event tables, with its position (batch.h).
 */
Datum
pgque_event_rows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int32		queue_id = PG_GETARG_INT32(0);
	int64		ev_id = PG_GETARG_INT64(1);
	SnapshotData dirty;
	int			t;

	InitMaterializedSRF(fcinfo, 0);
	InitDirtySnapshot(dirty);
	for (t = 0; t < PGQUE_NTABLES; t++)
	{
		Relation	rel = table_open(pgque_event_table_oid(queue_id, t), AccessShareLock);
		TupleDesc	desc = RelationGetDescr(rel);
		TableScanDesc scan;
		HeapTuple	tup;

		event_table_check(rel);
		scan = table_beginscan(rel, &dirty, 0, NULL);
		while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
		{
			Datum		values[5];
			bool		nulls[5];

			values[0] = heap_getattr(tup, EV_ID + 1, desc, &nulls[0]);
			if (nulls[0] || DatumGetInt64(values[0]) != ev_id)
				continue;
			values[0] = heap_getattr(tup, EV_TXID + 1, desc, &nulls[0]);
			values[1] = heap_getattr(tup, EV_OWNER + 1, desc, &nulls[1]);
			values[2] = heap_getattr(tup, EV_RETRY + 1, desc, &nulls[2]);
			values[3] = heap_getattr(tup, EV_TIME + 1, desc, &nulls[3]);
			values[4] = Int64GetDatum(POS_MAKE(t, ItemPointerGetBlockNumber(&tup->t_self),
											   ItemPointerGetOffsetNumber(&tup->t_self)));
			nulls[4] = false;
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
		table_endscan(scan);
		table_close(rel, NoLock);
	}
	return (Datum) 0;
}
