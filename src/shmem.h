/*-------------------------------------------------------------------------
 *
 * shmem.h
 *		State shared by backends, the launcher and the per-database workers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGQUE_SHMEM_H
#define PGQUE_SHMEM_H

#include "pgque.h"

#include "storage/lwlock.h"
#include "storage/spin.h"
#include "utils/timestamp.h"

/* queues remembered per database between two worker passes */
#define PGQUE_DIRTY_MAX		64
/* databases whose CREATE EXTENSION / pgque.start() the launcher has not seen */
#define PGQUE_WANTED_MAX	64

/* Why a worker last stopped; tells the launcher whether to start another. */
typedef enum PgqueExit
{
	PGQUE_EXIT_NONE = 0,		/* running, or never ran */
	PGQUE_EXIT_NO_EXTENSION,	/* pgque is not installed in the database */
	PGQUE_EXIT_DISABLED,		/* pgque.stop() was called */
	PGQUE_EXIT_DUPLICATE,		/* another worker serves the database */
	PGQUE_EXIT_DB_BUSY,			/* DROP DATABASE or CREATE DATABASE ... TEMPLATE waits */
	PGQUE_EXIT_OFF,				/* pgque.enabled = off */
	PGQUE_EXIT_ERROR			/* anything else: restart with backoff */
} PgqueExit;

/*
 * One database served by a worker. Writers are named per field: the worker
 * (worker.c), the launcher (launcher.c), pgque.stop()/start()
 * (worker_control.c), committing backends (wakeup.c).
 */
typedef struct PgqueDbSlot
{
	/*
	 * Set and cleared under PgqueShared->lock held exclusively (slot_acquire
	 * / slot_release); read without any lock: an Oid store is atomic and a
	 * stale read only costs a missed or spurious wakeup.
	 */
	Oid			dboid;			/* InvalidOid: the slot is free */

	slock_t		mutex;
	/* protects following fields only: */
	pid_t		pid;			/* worker (attach, cleanup); 0 when none runs */
	int			pgprocno;		/* worker; its PGPROC for SetLatch, -1 if none */
	bool		dynamic;		/* worker: started by pgque.start(), not the launcher */
	bool		launching;		/* launcher (set), worker (clear): registered, not
								 * started yet */
	PgqueExit	exit_reason;	/* worker; pgque.stop() sets DISABLED, commit of
								 * start()/CREATE EXTENSION resets it */
	TimestampTz started_at;		/* worker, at attach */
	TimestampTz exited_at;		/* worker, at exit */
	TimestampTz last_tick;		/* worker: last tick of any queue */
	TimestampTz last_pass;		/* worker: last completed pass */
	uint64		ticks;			/* worker */
	char		last_error[160];	/* worker */
	TimestampTz last_error_at;	/* worker */
	uint64		errors;			/* worker: failed steps since the slot was taken */
	/* committing senders add, the worker takes: queues to tick */
	int			ndirty;
	bool		dirty_all;
	int32		dirty[PGQUE_DIRTY_MAX];
	bool		retries_changed;	/* committing nack/retry; the worker clears */
	bool		schedules_changed;	/* committing schedule change; the worker clears */
} PgqueDbSlot;

typedef struct PgqueShared
{
	LWLock	   *lock;			/* held to allocate or free slots, and for
								 * the wanted list; set at startup */

	/*
	 * Written by the launcher only (start, exit); read by others without a
	 * lock as hints (a stale value costs a missed or spurious wakeup).
	 */
	pid_t		launcher_pid;
	int			launcher_pgprocno;
	/* set by anyone, cleared by the launcher; unlocked: a lost set is seen
	 * at the launcher's next periodic scan */
	bool		rescan;

	/*
	 * How many times in a row the server restarted after a crash within
	 * PGQUE_FAST_RESTART of the previous start; set by the postmaster when
	 * it (re)creates shared memory, read-only afterwards. The launcher holds
	 * workers back after such restarts (launcher.c).
	 */
	int			fast_restarts;
	/* written by the launcher only; read by status() as an unlocked hint */
	TimestampTz workers_held_until;

	/* protected by lock: */
	int			nwanted;
	bool		wanted_all;		/* the list overflowed: look at every database */
	Oid			wanted[PGQUE_WANTED_MAX];

	int			nslots;			/* pgque.max_databases; fixed */
	PgqueDbSlot slots[FLEXIBLE_ARRAY_MEMBER];
} PgqueShared;

/* a restart within this long of the previous start counts as "in a row" */
#define PGQUE_FAST_RESTART	(5 * 60 * USECS_PER_SEC)

/* NULL unless the library is in shared_preload_libraries */
extern PgqueShared *pgque_shared;
extern int	pgque_max_databases;

extern void pgque_shmem_init(void);
extern int	pgque_slots_used(void);
extern void pgque_want_database(Oid dboid);
extern int	pgque_take_wanted(Oid *dboids, int max, bool *all);
extern PgqueDbSlot *pgque_slot_find(Oid dboid);
extern PgqueDbSlot *pgque_slot_acquire(Oid dboid);
extern void pgque_slot_release(PgqueDbSlot *slot);
extern void pgque_wake_launcher(void);
extern void pgque_wake_proc(int pgprocno);

#endif							/* PGQUE_SHMEM_H */
