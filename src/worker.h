/*-------------------------------------------------------------------------
 *
 * worker.h
 *		The per-database background worker (worker.c) and its settings.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGQUE_WORKER_H
#define PGQUE_WORKER_H

#include "pgque.h"

#include "postmaster/bgworker.h"

/* bgw_type of the workers; pg_stat_activity.backend_type shows it */
#define PGQUE_WORKER_TYPE	"pgque worker"

/* settings (pgque.*), defined by pgque_worker_init */
extern bool pgque_enabled;
extern int	pgque_tick_period;
extern int	pgque_naptime;
extern int	pgque_maint_period;

extern void pgque_worker_init(void);
extern void pgque_fill_worker(BackgroundWorker *bgw, Oid dboid, bool dynamic);

PGDLLEXPORT void pgque_worker_main(Datum arg);

#endif							/* PGQUE_WORKER_H */
