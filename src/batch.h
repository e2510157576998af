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

#include "snapshot.h"

/*
 * The events of a batch: those of the queue whose transaction is visible in
 * cur_snap and not in prev_snap, that belong to everyone or to this
 * subscriber (retries), and whose ev_id is above start_ev when has_start_ev.
 */
typedef struct BatchWindow
{
	int32		queue_id;
	int32		sub_id;
	int64		prev_tick_id;
	int64		next_tick_id;
	TickSnapshot *prev_snap;
	TickSnapshot *cur_snap;
	bool		has_start_ev;
	int64		start_ev;
} BatchWindow;

typedef struct BatchEvent
{
	int64		ev_id;
	HeapTuple	tuple;			/* a row of an event table */
} BatchEvent;

typedef struct BatchEvents
{
	TupleDesc	desc;			/* of the event tables */
	int			n;
	BatchEvent *events;			/* sorted by ev_id */
} BatchEvents;

extern void batch_window_load(BatchWindow *w, int32 queue_id, int32 sub_id,
							  int64 prev_tick_id, int64 next_tick_id,
							  Snapshot snap);
extern void batch_window_read(const BatchWindow *w, Snapshot snap,
							  int64 only_ev, BatchEvents *out);

#endif							/* PGQUE_BATCH_H */
