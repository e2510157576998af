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

typedef struct PgqueDbSlot
{
	Oid			dboid;			/* InvalidOid: the slot is free */
	slock_t		mutex;			/* protects all fields below */
	pid_t		pid;			/* the worker, 0 when none runs */
	int			pgprocno;		/* its PGPROC, for SetLatch; -1 if none */
	bool		dynamic;		/* started by pgque.start(), not the launcher */
	bool		launching;		/* the launcher registered a worker that has
								 * not reached its startup yet */
	PgqueExit	exit_reason;
	TimestampTz started_at;
	TimestampTz exited_at;
	TimestampTz last_tick;		/* last tick of any queue by the worker */
	TimestampTz last_pass;		/* last completed worker pass */
	uint64		ticks;
	char		last_error[160];
	TimestampTz last_error_at;
	/* queues whose senders committed since the worker last looked */
	int			ndirty;
	bool		dirty_all;
	int32		dirty[PGQUE_DIRTY_MAX];
	bool		retries_changed;
} PgqueDbSlot;

typedef struct PgqueShared
{
	LWLock	   *lock;			/* held to allocate or free slots, and for
								 * the wanted list */
	pid_t		launcher_pid;
	int			launcher_pgprocno;
	bool		rescan;			/* launcher: look at pg_database now */

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
extern void pgque_shmem_settings_init(void);
extern int	pgque_slots_used(void);
extern void pgque_want_database(Oid dboid);
extern int	pgque_take_wanted(Oid *dboids, int max, bool *all);
extern PgqueDbSlot *pgque_slot_find(Oid dboid);
extern PgqueDbSlot *pgque_slot_acquire(Oid dboid);
extern void pgque_slot_release(PgqueDbSlot *slot);
extern void pgque_wake_launcher(void);
extern void pgque_wake_proc(int pgprocno);

#endif							/* PGQUE_SHMEM_H */
