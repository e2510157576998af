/*-------------------------------------------------------------------------
 *
 * batch.c
 *		Reading the events of a batch window straight from the event tables.
 *
 * A window is the pair of tick snapshots (prev, cur). Its events are those
 * whose ev_txid is visible in cur and not in prev. They lie in a block range
 * of each event table that the two ticks bound (heap_range.c says why), so
 * the reader scans that range with a TID range scan -- page at a time, the
 * visibility of a page's rows decided once -- and keeps the rows the window
 * wants. Event tables have no index.
 *
 * Rows come in position order: the older table first, then by block and
 * line pointer. A read may stop after a number of rows and say where it
 * stopped; the next read of the same window starts after that position.
 * So receive reads what it returns (and one row more), however large the
 * tick, and a partial receive costs what it hands out.
 *
 * Which tables a window can touch follows from the rotation bookkeeping in
 * pgque.queue (switch_step1/step2); extension/70_maint.sql says why that is
 * exact.
 *
 * Visibility: the caller passes one registered snapshot and uses it both to
 * read the ticks and to fetch the rows here. The tick rows are visible in
 * it, so every transaction they see as committed is visible too; rows of
 * aborted transactions are filtered by the heap scan itself.
 *
 * A database still on the 0.1.0 schema (the library was updated, ALTER
 * EXTENSION pgque UPDATE not yet run) has ticks without heap bounds and
 * batch rows without positions: its windows are read whole, as 0.1.0 did.
 *
 *-------------------------------------------------------------------------
 */
#include "pgque.h"

#include "access/heapam.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/xid8.h"

#include "batch.h"
#include "meta_rows.h"
#include "send.h"

static SPIPlanPtr plan_ticks_v1;
static SPIPlanPtr plan_ticks;

/*
 * Fill in a window from its two ticks, read with snap. Errors if a tick is
 * gone, which means rotation removed it under a consumer: corruption.
 */
void
batch_window_load(BatchWindow *w, int32 queue_id, int32 sub_id,
				  int64 prev_tick_id, int64 next_tick_id, Snapshot snap)
{
	static const Oid types[] = {INT4OID, INT8OID, INT8OID};
	bool		ranges = pgque_schema_has_heap_ranges();
	Datum		args[3];
	uint64		i;

	memset(w, 0, sizeof(*w));
	w->queue_id = queue_id;
	w->sub_id = sub_id;
	w->prev_tick_id = prev_tick_id;
	w->next_tick_id = next_tick_id;

	if (meta_rows_ready())
	{
		int			k;

		for (k = 0; k < 2; k++)
		{
			int64		id = k == 0 ? prev_tick_id : next_tick_id;
			Datum		snapshot;
			Datum		heap;
			Datum		since;
			bool		heap_null;
			bool		since_null;
			TickHeap	th;

			if (!meta_tick_fetch(queue_id, id, snap, &snapshot, &heap, &heap_null,
								 &since, &since_null))
				continue;
			memset(&th, 0, sizeof(th));
			tick_heap_parse(&th, heap_null ? NULL : DatumGetArrayTypeP(heap),
							since_null ? NULL : DatumGetArrayTypeP(since));
			if (k == 0)
			{
				w->prev_snap = DatumGetTickSnapshot(snapshot);
				w->prev_heap = th;
			}
			else
			{
				w->cur_snap = DatumGetTickSnapshot(snapshot);
				w->cur_heap = th;
			}
		}
		goto check;
	}

	/*
	 * Two keyed lookups: "tick_id = ANY (ARRAY[$2, $3])" was planned as a
	 * filter over every tick of the queue (found by the held-snapshot bench:
	 * consumer CPU per event grew with pgque.tick).
	 */
	args[0] = Int32GetDatum(queue_id);
	args[1] = Int64GetDatum(prev_tick_id);
	args[2] = Int64GetDatum(next_tick_id);
	if (pgque_execute_snapshot(ranges ?
							   pgque_plan(&plan_ticks,
										  "select tick_id, tick_snapshot, tick_heap, tick_since from pgque.tick"
										  " where tick_queue OPERATOR(pg_catalog.=) $1 and tick_id OPERATOR(pg_catalog.=) $2"
										  " union all "
										  "select tick_id, tick_snapshot, tick_heap, tick_since from pgque.tick"
										  " where tick_queue OPERATOR(pg_catalog.=) $1 and tick_id OPERATOR(pg_catalog.=) $3",
										  3, types) :
							   pgque_plan(&plan_ticks_v1,
										  "select tick_id, tick_snapshot from pgque.tick"
										  " where tick_queue OPERATOR(pg_catalog.=) $1 and tick_id OPERATOR(pg_catalog.=) $2"
										  " union all "
										  "select tick_id, tick_snapshot from pgque.tick"
										  " where tick_queue OPERATOR(pg_catalog.=) $1 and tick_id OPERATOR(pg_catalog.=) $3",
										  3, types),
							   args, NULL, snap, InvalidSnapshot, true, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read ticks of queue %d", queue_id);
	if (SPI_gettypeid(SPI_tuptable->tupdesc, 2) != PG_SNAPSHOTOID ||
		(ranges && (SPI_gettypeid(SPI_tuptable->tupdesc, 3) != INT8ARRAYOID ||
					SPI_gettypeid(SPI_tuptable->tupdesc, 4) != INT8ARRAYOID)))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("a column of pgque.tick has been altered"),
				 errhint("pgque's tables must keep the layout the extension created.")));
	for (i = 0; i < SPI_processed; i++)
	{
		int64		id = DatumGetInt64(pgque_spi_value(i, 1));
		TickSnapshot *s = DatumGetTickSnapshot(pgque_spi_value(i, 2));
		TickHeap	th;

		memset(&th, 0, sizeof(th));
		if (ranges)
		{
			bool		n1;
			bool		n2;
			Datum		heap = pgque_spi_value_opt(i, 3, &n1);
			Datum		since = pgque_spi_value_opt(i, 4, &n2);

			tick_heap_parse(&th, n1 ? NULL : DatumGetArrayTypeP(heap),
							n2 ? NULL : DatumGetArrayTypeP(since));
		}
		if (id == prev_tick_id)
		{
			w->prev_snap = s;
			w->prev_heap = th;
		}
		if (id == next_tick_id)
		{
			w->cur_snap = s;
			w->cur_heap = th;
		}
	}
check:
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

/* Sort events by ev_id, the order in which batches are handed out. */
void
batch_events_sort(BatchEvents *ev)
{
	if (ev->n > 1)
		qsort(ev->events, ev->n, sizeof(BatchEvent), cmp_event);
}

typedef struct Collector
{
	const BatchWindow *w;
	int64		only_ev;
	int			limit;			/* 0: no limit */
	BatchEvents *out;
	int			cap;
	bool		done;
	BatchStream *stream;		/* rows go there instead of out */
} Collector;

/* Keep the visible row tup at position pos if the window wants it. */
static void
collect_row(Collector *c, TupleDesc desc, HeapTuple tup, int64 pos)
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

	if (c->stream != NULL)
	{
		BatchStream *s = c->stream;

		if ((s->nrows > 0 && ev_id <= s->last_ev) ||
			!event_row_put(&s->map, s->store, tup, (Datum) 0))
		{
			s->failed = true;
			c->done = true;
			return;
		}
		s->last_ev = ev_id;
		s->nrows++;
		return;
	}

	if (c->limit > 0 && out->n == c->limit)
	{
		out->more = true;
		c->done = true;
		return;
	}
	if (out->n == c->cap)
	{
		c->cap = c->cap == 0 ? 64 : c->cap * 2;
		out->events = out->events == NULL ?
			palloc(sizeof(BatchEvent) * c->cap) :
			repalloc_huge(out->events, sizeof(BatchEvent) * c->cap);
	}
	out->events[out->n].ev_id = ev_id;
	out->events[out->n].pos = pos;
	out->events[out->n].tuple = heap_copytuple(tup);
	out->n++;
	if (c->only_ev != 0)
		c->done = true;
}

/*
 * Order of event table t in reading, given the current table: the one
 * rotated out (never read) first, then the previous one, then the current.
 */
static int
table_rank(int t, int cur_table)
{
	return ((t - cur_table) % PGQUE_NTABLES + PGQUE_NTABLES + 2) % PGQUE_NTABLES;
}

/*
 * Is a position recorded in table t still meaningful? Not when the table
 * has another file than when cur's tick measured it: a dump and restore,
 * or VACUUM FULL, laid its rows out anew.
 */
static bool
position_valid(const BatchWindow *w, int t, Oid relid)
{
	Relation	rel;
	bool		valid;

	if (!w->cur_heap.known)
		return true;
	rel = table_open(relid, AccessShareLock);
	valid = w->cur_heap.ends.file[t] == rel->rd_node.relNode;
	table_close(rel, NoLock);
	return valid;
}

/* Scan event table t (rank rank) for the window's rows, within the bounds. */
static void
read_table(Collector *c, const PgqueQueue *q, int t, Snapshot snap,
		   int start_rank, int end_rank)
{
	const BatchWindow *w = c->w;
	int			rank = table_rank(t, q->cur_table);
	Relation	rel = table_open(pgque_event_table_oid(q->queue_id, t), AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	BlockNumber lo;
	BlockNumber hi;
	ItemPointerData mintid;
	ItemPointerData maxtid;
	TableScanDesc scan;
	TupleTableSlot *slot;

	event_table_check(rel);
	if (c->out->desc == NULL)
		c->out->desc = CreateTupleDescCopy(desc);
	if (c->stream != NULL && !c->stream->ready)
	{
		c->stream->ready = true;
		if (!event_row_map_init(&c->stream->map, c->stream->result, desc,
								c->stream->cols, c->stream->ncols))
		{
			c->stream->failed = true;
			c->done = true;
			table_close(rel, NoLock);
			return;
		}
	}

	heap_window_blocks(w->prev_snap, &w->prev_heap, w->cur_snap, &w->cur_heap,
					   t, rel, &lo, &hi);
	if (hi == 0)
	{
		table_close(rel, NoLock);
		return;
	}
	ItemPointerSet(&mintid, lo, FirstOffsetNumber);
	ItemPointerSet(&maxtid, hi - 1, MaxOffsetNumber);
	if (rank == start_rank)
	{
		ItemPointerData after;

		ItemPointerSet(&after, POS_BLOCK(w->start_pos), POS_OFFSET(w->start_pos) + 1);
		if (ItemPointerCompare(&after, &mintid) > 0)
			mintid = after;
	}
	if (rank == end_rank)
	{
		ItemPointerData last;

		ItemPointerSet(&last, POS_BLOCK(w->end_pos), POS_OFFSET(w->end_pos));
		if (ItemPointerCompare(&last, &maxtid) < 0)
			maxtid = last;
	}

	if (ItemPointerCompare(&mintid, &maxtid) <= 0)
	{
		slot = table_slot_create(rel, NULL);
		scan = table_beginscan_tidrange(rel, snap, &mintid, &maxtid);
		while (!c->done &&
			   table_scan_getnextslot_tidrange(scan, ForwardScanDirection, slot))
		{
			bool		should_free;
			HeapTuple	tup = ExecFetchSlotHeapTuple(slot, false, &should_free);

			collect_row(c, desc, tup,
						POS_MAKE(t, ItemPointerGetBlockNumber(&tup->t_self),
								 ItemPointerGetOffsetNumber(&tup->t_self)));
			if (should_free)
				heap_freetuple(tup);
		}
		table_endscan(scan);
		ExecDropSingleTupleTableSlot(slot);
	}
	table_close(rel, NoLock);
}

/*
 * Read the window's rows with snap in position order into c (see
 * batch_window_read).
 */
static void
window_scan(const BatchWindow *w, Snapshot snap, Collector *c)
{
	PgqueQueue	q;
	int			tables[2];
	int			ntables = 0;
	int			start_rank = -1;
	int			end_rank = PGQUE_NTABLES;
	int			i;

	if (!pgque_queue_fetch(NULL, w->queue_id, snap, &q))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("queue not found: id %d", w->queue_id),
				 errpgqueobject("queue")));

	/*
	 * Tables: the previous one holds only xids below switch_step2, the
	 * current one only transactions that committed after switch_step1.
	 */
	if (!(FullTransactionIdIsValid(q.switch_step2) &&
		  FullTransactionIdFollows(w->prev_snap->xmin, q.switch_step2)))
		tables[ntables++] = (q.cur_table + q.ntables - 1) % q.ntables;
	if (!FullTransactionIdPrecedes(w->cur_snap->xmax, q.switch_step1))
		tables[ntables++] = q.cur_table;

	if (w->has_start_pos)
	{
		int			t = POS_TABLE(w->start_pos);

		if (t < 0 || t >= PGQUE_NTABLES)
			elog(ERROR, "batch " INT64_FORMAT " has a bad start position", w->batch_id);
		if (position_valid(w, t, pgque_event_table_oid(q.queue_id, t)))
			start_rank = table_rank(t, q.cur_table);
		else
			ereport(WARNING,
					(errmsg("event table %d of queue \"%s\" was rewritten under an open batch",
							t, q.queue_name),
					 errdetail("Batch " INT64_FORMAT " is read again from its start: the events of it that were acknowledged are delivered again.",
							   w->batch_id),
					 errhint("A restore from a dump or VACUUM FULL lays the rows out anew.")));
	}
	if (w->has_end_pos && w->end_pos != POS_END)
	{
		int			t = POS_TABLE(w->end_pos);

		if (t >= 0 && t < PGQUE_NTABLES &&
			position_valid(w, t, pgque_event_table_oid(q.queue_id, t)))
			end_rank = table_rank(t, q.cur_table);
	}

	for (i = 0; i < ntables && !c->done; i++)
	{
		int			rank = table_rank(tables[i], q.cur_table);

		if (rank < start_rank || rank > end_rank)
			continue;
		read_table(c, &q, tables[i], snap, start_rank, end_rank);
	}
}

/*
 * Read the window's events with snap into out, in position order, at most
 * limit of them (0: all; out->more says whether more are left). only_ev != 0
 * keeps just that event.
 */
void
batch_window_read(const BatchWindow *w, Snapshot snap, int64 only_ev, int limit,
				  BatchEvents *out)
{
	Collector	c;

	out->desc = NULL;
	out->n = 0;
	out->events = NULL;
	out->more = false;
	memset(&c, 0, sizeof(c));
	c.w = w;
	c.only_ev = only_ev;
	c.limit = limit;
	c.out = out;
	window_scan(w, snap, &c);
}

/*
 * Write all of the window's events to s->store as they are read, which
 * gives ev_id order if they come in it. False when one did not: the caller
 * empties the store and reads with batch_window_read, then sorts.
 */
bool
batch_window_stream(const BatchWindow *w, Snapshot snap, BatchStream *s)
{
	BatchEvents out;
	Collector	c;

	memset(&out, 0, sizeof(out));
	memset(&c, 0, sizeof(c));
	s->ready = false;
	s->nrows = 0;
	s->failed = false;
	c.w = w;
	c.out = &out;
	c.stream = s;
	window_scan(w, snap, &c);
	return !s->failed;
}
