/*-------------------------------------------------------------------------
 *
 * wakeup.h
 *		Waking the worker (and the launcher) when a transaction commits.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGQUE_WAKEUP_H
#define PGQUE_WAKEUP_H

#include "pgque.h"

#include "storage/proc.h"

extern void pgque_wakeup_init(void);

/* things the committing transaction did, delivered at its commit */
extern void pgque_note_event_insert(int32 queue_id, int64 nevents);
extern void pgque_note_retries(void);
extern void pgque_note_schedules(void);
extern void pgque_note_launcher(void);

/* a receive reached tick_id of queue_id (adaptive ticking, worker.c) */
extern void pgque_note_reached(int32 queue_id, int64 tick_id);

/* the PGPROC of this database's worker, or NULL */
extern PGPROC *pgque_worker_proc(void);

#endif							/* PGQUE_WAKEUP_H */
