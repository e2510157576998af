/*-------------------------------------------------------------------------
 *
 * batch.c
 *		Reading the events of a batch window straight from the event tables.
 *
 * A window is the pair of tick snapshots (prev, cur). Its events are those
 * whose ev_txid is visible in cur and not in prev. Instead of testing every
 * row since prev.xmin -- which an old open transaction can push far back --
 * the reader does what PgQ's batch_event_sql does, in C:
 *
 *	 - one index range scan on ev_txid over [lo, cur.xmax), where lo is
 *	   prev.xmax lowered to take in transactions of prev.xip that finished
 *	   shortly before it, and
 *	 - one index equality probe per remaining prev.xip transaction that cur
 *	   sees as finished,
 *
 * collecting heap TIDs only, then reading the heap in block order, one pin
 * and lock per page (much like a bitmap heap scan).
 *
 * Which tables a window can touch follows from the rotation bookkeeping in
 * pgque.queue (switch_step1/step2); extension/70_maint.sql says why that is exact.
 *
 * Visibility: the caller passes one registered snapshot and uses it both to
 * read the ticks and to fetch the rows here. The tick rows are visible in
 * it, so every transaction they see as committed is visible too; rows of
 * aborted subtransactions are filtered by the heap fetch itself.
 *
 *-------------------------------------------------------------------------
 */
#include "pgque.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/xid8.h"

#include "batch.h"
#include "send.h"

/* prev.xip members this close below prev.xmax join the range scan */
#define RANGE_STRETCH	100

static SPIPlanPtr plan_tick_snapshots;

/*
 * Fill in a window from its two ticks, read with snap. Errors if a tick is
 * gone, which means rotation removed it under a consumer: corruption.
 */
void
batch_window_load(BatchWindow *w, int32 queue_id, int32 sub_id,
				  int64 prev_tick_id, int64 next_tick_id, Snapshot snap)
{
	static const Oid types[] = {INT4OID, INT8OID, INT8OID};
	Datum		args[3];
	uint64		i;

	memset(w, 0, sizeof(*w));
	w->queue_id = queue_id;
	w->sub_id = sub_id;
	w->prev_tick_id = prev_tick_id;
	w->next_tick_id = next_tick_id;

	args[0] = Int32GetDatum(queue_id);
	args[1] = Int64GetDatum(prev_tick_id);
	args[2] = Int64GetDatum(next_tick_id);
	if (pgque_execute_snapshot(pgque_plan(&plan_tick_snapshots,
										"select tick_id, tick_snapshot from pgque.tick"
										" where tick_queue OPERATOR(pg_catalog.=) $1 and tick_id OPERATOR(pg_catalog.=) $2"
										" union all "
										"select tick_id, tick_snapshot from pgque.tick"
										" where tick_queue OPERATOR(pg_catalog.=) $1 and tick_id OPERATOR(pg_catalog.=) $3",
										3, types),
							 args, NULL, snap, InvalidSnapshot, true, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read ticks of queue %d", queue_id);
	if (SPI_gettypeid(SPI_tuptable->tupdesc, 2) != PG_SNAPSHOTOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("column pgque.tick.tick_snapshot has been altered"),
				 errhint("pgque's tables must keep the layout the extension created.")));
	for (i = 0; i < SPI_processed; i++)
	{
		int64		id = DatumGetInt64(pgque_spi_value(i, 1));
		TickSnapshot *s = DatumGetTickSnapshot(pgque_spi_value(i, 2));

		if (id == prev_tick_id)
			w->prev_snap = s;
		if (id == next_tick_id)
			w->cur_snap = s;
	}
	if (w->prev_snap == NULL || w->cur_snap == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("tick " INT64_FORMAT " or " INT64_FORMAT " of queue %d is missing",
						prev_tick_id, next_tick_id, queue_id),
				 errdetail("The consumer's position refers to a tick that rotation removed.")));
}

static int
cmp_event(const void *a, const void *b)
{
	int64		x = ((const BatchEvent *) a)->ev_id;
	int64		y = ((const BatchEvent *) b)->ev_id;

	return (x > y) - (x < y);
}

typedef struct Collector
{
	const BatchWindow *w;
	int64		only_ev;
	BatchEvents *out;
	int			cap;
} Collector;

/* Keep the visible row tup if the window wants it. */
static void
collect_row(Collector *c, TupleDesc desc, HeapTuple tup)
{
	bool		isnull;
	int64		ev_id;
	Datum		owner;
	FullTransactionId xid;
	BatchEvents *out = c->out;

	xid = DatumGetFullTransactionId(heap_getattr(tup, EV_TXID + 1, desc, &isnull));
	if (!tick_snapshot_sees(c->w->cur_snap, xid) ||
		tick_snapshot_sees(c->w->prev_snap, xid))
		return;
	ev_id = DatumGetInt64(heap_getattr(tup, EV_ID + 1, desc, &isnull));
	if (c->only_ev != 0 && ev_id != c->only_ev)
		return;
	if (c->w->has_start_ev && ev_id <= c->w->start_ev)
		return;
	owner = heap_getattr(tup, EV_OWNER + 1, desc, &isnull);
	if (!isnull && DatumGetInt32(owner) != c->w->sub_id)
		return;

	if (out->n == c->cap)
	{
		c->cap = c->cap == 0 ? 256 : c->cap * 2;
		out->events = out->events == NULL ?
			palloc(sizeof(BatchEvent) * c->cap) :
			repalloc_huge(out->events, sizeof(BatchEvent) * c->cap);
	}
	out->events[out->n].ev_id = ev_id;
	out->events[out->n].tuple = heap_copytuple(tup);
	out->n++;
}

static Oid
txid_index_of(Relation rel)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;

	foreach(lc, indexes)
	{
		Relation	idx = index_open(lfirst_oid(lc), AccessShareLock);
		bool		match = idx->rd_index->indnkeyatts >= 1 &&
			idx->rd_index->indkey.values[0] == EV_TXID + 1;
		Oid			oid = RelationGetRelid(idx);

		index_close(idx, AccessShareLock);
		if (match)
			return oid;
	}
	elog(ERROR, "event table \"%s\" has no ev_txid index", RelationGetRelationName(rel));
	return InvalidOid;
}

typedef struct TidList
{
	ItemPointerData *tids;
	int			n;
	int			cap;
} TidList;

/* Append every heap TID the index scan returns (no heap access). */
static void
collect_tids(IndexScanDesc scan, TidList *l)
{
	ItemPointer tid;

	while ((tid = index_getnext_tid(scan, ForwardScanDirection)) != NULL)
	{
		if (l->n == l->cap)
		{
			l->cap = l->cap == 0 ? 1024 : l->cap * 2;
			l->tids = l->tids == NULL ?
				palloc(sizeof(ItemPointerData) * l->cap) :
				repalloc_huge(l->tids, sizeof(ItemPointerData) * l->cap);
		}
		l->tids[l->n++] = *tid;
	}
}

static int
cmp_tid(const void *a, const void *b)
{
	return ItemPointerCompare((ItemPointer) a, (ItemPointer) b);
}

/*
 * Scan one event table for the window's rows: first the TIDs from the
 * ev_txid index (the range and the probes), then the heap in block order,
 * each page pinned and locked once for all its rows -- a batch is usually
 * a run of consecutive pages, and fetching row by row through the index
 * cost more than everything else in reading it.
 */
static void
read_table(Collector *c, Oid relid, Snapshot snap, FullTransactionId lo,
		   FullTransactionId *probes, int nprobes)
{
	const BatchWindow *w = c->w;
	Relation	rel = table_open(relid, AccessShareLock);
	Relation	idx = index_open(txid_index_of(rel), AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	IndexScanDesc scan;
	ScanKeyData keys[2];
	TidList		l = {NULL, 0, 0};
	Buffer		buf = InvalidBuffer;
	BlockNumber blk = InvalidBlockNumber;
	bool		sorted = true;
	int			i;

	event_table_check(rel);
	if (c->out->desc == NULL)
		c->out->desc = CreateTupleDescCopy(desc);

	ScanKeyInit(&keys[0], 1, BTGreaterEqualStrategyNumber, F_XID8GE,
				FullTransactionIdGetDatum(lo));
	ScanKeyInit(&keys[1], 1, BTLessStrategyNumber, F_XID8LT,
				FullTransactionIdGetDatum(w->cur_snap->xmax));
	scan = index_beginscan(rel, idx, snap, 2, 0);
	index_rescan(scan, keys, 2, NULL, 0);
	collect_tids(scan, &l);
	index_endscan(scan);

	/* Transactions open at prev that cur sees finished, below lo. */
	for (i = 0; i < nprobes; i++)
	{
		ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_XID8EQ,
					FullTransactionIdGetDatum(probes[i]));
		scan = index_beginscan(rel, idx, snap, 1, 0);
		index_rescan(scan, keys, 1, NULL, 0);
		collect_tids(scan, &l);
		index_endscan(scan);
	}

	for (i = 1; i < l.n && sorted; i++)
		sorted = ItemPointerCompare(&l.tids[i - 1], &l.tids[i]) < 0;
	if (!sorted)
		qsort(l.tids, l.n, sizeof(ItemPointerData), cmp_tid);

	for (i = 0; i < l.n; i++)
	{
		ItemPointerData tid = l.tids[i];
		HeapTupleData tup;

		if (ItemPointerGetBlockNumber(&tid) != blk)
		{
			if (BufferIsValid(buf))
				LockBuffer(buf, BUFFER_LOCK_UNLOCK);
			blk = ItemPointerGetBlockNumber(&tid);
			buf = ReleaseAndReadBuffer(buf, rel, blk);
			LockBuffer(buf, BUFFER_LOCK_SHARE);
		}
		/* visibility with snap: skips aborted and unfinished inserts */
		if (heap_hot_search_buffer(&tid, rel, buf, snap, &tup, NULL, true))
			collect_row(c, desc, &tup);
	}
	if (BufferIsValid(buf))
		UnlockReleaseBuffer(buf);
	if (l.tids != NULL)
		pfree(l.tids);

	index_close(idx, NoLock);
	table_close(rel, NoLock);
}

/*
 * Read the window's events with snap into out, sorted by ev_id.
 * only_ev != 0 keeps just that event.
 */
void
batch_window_read(const BatchWindow *w, Snapshot snap, int64 only_ev,
				  BatchEvents *out)
{
	PgqueQueue	q;
	FullTransactionId lo = w->prev_snap->xmax;
	FullTransactionId *probes;
	int			nprobes = 0;
	int			i;
	bool		use_prev;
	bool		use_cur;
	Collector	c;

	out->desc = NULL;
	out->n = 0;
	out->events = NULL;

	if (!pgque_queue_fetch(NULL, w->queue_id, snap, &q))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("queue not found: id %d", w->queue_id),
				 errpgqueobject("queue")));

	/*
	 * prev.xip transactions that finished by cur, newest first: the ones just
	 * below lo extend the range scan, the rest get an equality probe.
	 */
	probes = palloc(sizeof(FullTransactionId) * Max(w->prev_snap->nxip, 1));
	for (i = (int) w->prev_snap->nxip - 1; i >= 0; i--)
	{
		FullTransactionId xid = w->prev_snap->xip[i];

		if (!tick_snapshot_sees(w->cur_snap, xid))
			continue;
		if (U64FromFullTransactionId(xid) + RANGE_STRETCH >= U64FromFullTransactionId(lo))
			lo = xid;
		else
			probes[nprobes++] = xid;
	}

	/*
	 * Tables: the previous one holds only xids below switch_step2, the
	 * current one only transactions that committed after switch_step1.
	 */
	use_prev = !(FullTransactionIdIsValid(q.switch_step2) &&
				 FullTransactionIdFollows(w->prev_snap->xmin, q.switch_step2));
	use_cur = !FullTransactionIdPrecedes(w->cur_snap->xmax, q.switch_step1);

	c.w = w;
	c.only_ev = only_ev;
	c.out = out;
	c.cap = 0;
	if (use_prev)
		read_table(&c, pgque_event_table_oid(q.queue_id,
											 (q.cur_table + q.ntables - 1) % q.ntables),
				   snap, lo, probes, nprobes);
	if (use_cur)
		read_table(&c, pgque_event_table_oid(q.queue_id, q.cur_table),
				   snap, lo, probes, nprobes);

	if (out->n > 1)
		qsort(out->events, out->n, sizeof(BatchEvent), cmp_event);
}
