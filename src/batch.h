/*-------------------------------------------------------------------------
 *
 * batch.h
 *		Batch windows and reading their events.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGQUE_BATCH_H
#define PGQUE_BATCH_H

#include "pgque.h"

#include "access/htup.h"
#include "access/tupdesc.h"

#include "event_row.h"
#include "heap_range.h"
#include "snapshot.h"

/*
 * A position in a queue's event tables: table number, block, line pointer.
 * A batch's events are read in position order (older table first), so a
 * position says how far a partial receive got. POS_END: all of it.
 */
#define POS_MAKE(t, blk, off) \
	(((int64) (t) << 48) | ((int64) (blk) << 16) | (int64) (off))
#define POS_TABLE(p)	((int) ((p) >> 48))
#define POS_BLOCK(p)	((BlockNumber) (((p) >> 16) & 0xFFFFFFFF))
#define POS_OFFSET(p)	((OffsetNumber) ((p) & 0xFFFF))
#define POS_END			PG_INT64_MAX

/*
 * The events of a batch: those of the queue whose transaction is visible in
 * cur_snap and not in prev_snap, that belong to everyone or to this
 * subscriber (retries), after start_pos and up to end_pos when those are
 * set, and above start_ev when that is set (batches split by 0.1.0).
 */
typedef struct BatchWindow
{
	int32		queue_id;
	int32		sub_id;
	int64		batch_id;		/* for messages; 0 if none */
	int64		prev_tick_id;
	int64		next_tick_id;
	TickSnapshot *prev_snap;
	TickSnapshot *cur_snap;
	TickHeap	prev_heap;
	TickHeap	cur_heap;
	bool		has_start_pos;
	int64		start_pos;
	bool		has_end_pos;
	int64		end_pos;
	bool		has_start_ev;
	int64		start_ev;
} BatchWindow;

typedef struct BatchEvent
{
	int64		ev_id;
	int64		pos;
	HeapTuple	tuple;			/* a row of an event table */
} BatchEvent;

typedef struct BatchEvents
{
	TupleDesc	desc;			/* of the event tables */
	int			n;
	BatchEvent *events;			/* in position order, or by ev_id once sorted */
	bool		more;			/* the limit stopped the read */
} BatchEvents;

extern void batch_window_load(BatchWindow *w, int32 queue_id, int32 sub_id,
							  int64 prev_tick_id, int64 next_tick_id,
							  Snapshot snap);
extern void batch_window_read(const BatchWindow *w, Snapshot snap,
							  int64 only_ev, int limit, BatchEvents *out);
extern void batch_events_sort(BatchEvents *ev);

/*
 * A window's rows written to a result as they are read (get_batch_events):
 * possible while they come in ev_id order, which they do unless producers
 * interleaved. failed: a row came out of order (or could not be written
 * from its bytes); what store holds then is to be thrown away.
 */
typedef struct BatchStream
{
	TupleDesc	result;
	const int8 *cols;
	int			ncols;
	Tuplestorestate *store;
	EventRowMap map;
	bool		ready;			/* map made from the first table's descriptor */
	int64		nrows;
	int64		last_ev;
	bool		failed;
} BatchStream;

extern bool batch_window_stream(const BatchWindow *w, Snapshot snap, BatchStream *s);

#endif							/* PGQUE_BATCH_H */
