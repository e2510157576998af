/*-------------------------------------------------------------------------
 *
 * worker.h
 *		The background launcher and the per-database workers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGQUE_WORKER_H
#define PGQUE_WORKER_H

#include "pgque.h"

#include "postmaster/bgworker.h"

/* bgw_type of the workers; pg_stat_activity.backend_type shows it */
#define PGQUE_WORKER_TYPE	"pgque worker"
#define PGQUE_LAUNCHER_TYPE "pgque launcher"

/* GUCs (worker.c) */
extern bool pgque_enabled;
extern bool pgque_wake_on_commit;
extern int	pgque_tick_period;
extern int	pgque_naptime;
extern int	pgque_maint_period;

extern void pgque_worker_init(void);
extern struct PGPROC *pgque_worker_proc(void);
extern void pgque_fill_worker(BackgroundWorker *bgw, Oid dboid, bool dynamic);

PGDLLEXPORT void pgque_worker_main(Datum arg);

/* launcher.c */
extern void pgque_launcher_register(void);
PGDLLEXPORT void pgque_launcher_main(Datum arg);

/* wakeup.c */
extern void pgque_wakeup_init(void);
extern void pgque_note_retries(void);
extern void pgque_note_launcher(void);

#endif							/* PGQUE_WORKER_H */
