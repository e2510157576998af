/*-------------------------------------------------------------------------
 *
 * shmem.c
 *		Shared memory: one slot per database served by a pgque worker.
 *
 * Exists only when pgque is in shared_preload_libraries. There are
 * pgque.max_databases slots; a database holds one while its worker runs or
 * the launcher needs to remember why it stopped, not while it merely lacks
 * pgque (the launcher frees those). A slot is allocated (dboid set) and
 * freed under PgqueShared->lock in exclusive mode; dboid is read without it, since an Oid store is atomic and a stale
 * read only costs a missed or spurious wakeup. Every other slot field is
 * protected by the slot's spinlock, held only for a few instructions and
 * never across anything that can fail, so backends may use it from their
 * commit callback.
 *
 *-------------------------------------------------------------------------
 */
#include "shmem.h"

#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shmem.h"


PgqueShared *pgque_shared = NULL;
int			pgque_max_databases = 64;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* postmaster-local: survives the crash restarts that reset shared memory */
static TimestampTz pm_last_init = 0;
static int	pm_fast_restarts = 0;

static void
shmem_settings_init(void)
{
	DefineCustomIntVariable("pgque.max_databases",
							"Number of databases pgque workers can serve at once.",
							"Each database with pgque needs a slot in shared memory; "
							"one left without a slot is not ticked (pgque.status() says so).",
							&pgque_max_databases, 64, 1, 10000, PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
}

static int
slot_count(void)
{
	return pgque_max_databases;
}

static Size
shared_size(void)
{
	return add_size(offsetof(PgqueShared, slots),
					mul_size(slot_count(), sizeof(PgqueDbSlot)));
}

static void
pgque_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(shared_size());
	RequestNamedLWLockTranche("pgque", 1);
}

static void
pgque_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	/* in the postmaster: count restarts in a row (see PgqueShared) */
	if (!IsUnderPostmaster)
	{
		TimestampTz now = GetCurrentTimestamp();

		if (pm_last_init != 0 && now - pm_last_init < PGQUE_FAST_RESTART)
			pm_fast_restarts++;
		else
			pm_fast_restarts = 0;
		pm_last_init = now;
	}

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	pgque_shared = ShmemInitStruct("pgque", shared_size(), &found);
	if (!found)
	{
		int			i;

		memset(pgque_shared, 0, shared_size());
		pgque_shared->fast_restarts = pm_fast_restarts;
		pgque_shared->lock = &(GetNamedLWLockTranche("pgque"))->lock;
		pgque_shared->launcher_pgprocno = -1;
		pgque_shared->nslots = slot_count();
		for (i = 0; i < pgque_shared->nslots; i++)
		{
			SpinLockInit(&pgque_shared->slots[i].mutex);
			pgque_shared->slots[i].pgprocno = -1;
		}
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Shared memory and its setting exist only when pgque is preloaded. */
void
pgque_shmem_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	shmem_settings_init();		/* PGC_POSTMASTER */
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = pgque_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = pgque_shmem_startup;
}

/* The slot of a database, or NULL. Needs no lock (see file header). */
PgqueDbSlot *
pgque_slot_find(Oid dboid)
{
	int			i;

	if (pgque_shared == NULL || !OidIsValid(dboid))
		return NULL;
	for (i = 0; i < pgque_shared->nslots; i++)
		if (pgque_shared->slots[i].dboid == dboid)
			return &pgque_shared->slots[i];
	return NULL;
}

/* The slot of a database, allocated if needed; NULL when all are taken. */
PgqueDbSlot *
pgque_slot_acquire(Oid dboid)
{
	PgqueDbSlot *slot;
	int			i;

	if (pgque_shared == NULL)
		return NULL;
	LWLockAcquire(pgque_shared->lock, LW_EXCLUSIVE);
	slot = pgque_slot_find(dboid);
	for (i = 0; slot == NULL && i < pgque_shared->nslots; i++)
	{
		PgqueDbSlot *s = &pgque_shared->slots[i];

		if (!OidIsValid(s->dboid))
		{
			SpinLockAcquire(&s->mutex);
			s->pid = 0;
			s->pgprocno = -1;
			s->dynamic = false;
			s->launching = false;
			s->exit_reason = PGQUE_EXIT_NONE;
			s->started_at = s->exited_at = s->last_tick = s->last_pass = 0;
			s->ticks = 0;
			s->last_error[0] = '\0';
			s->last_error_at = 0;
			s->errors = 0;
			s->ndirty = 0;
			s->dirty_all = false;
			s->retries_changed = false;
			s->schedules_changed = false;
			SpinLockRelease(&s->mutex);
			s->dboid = dboid;
			slot = s;
		}
	}
	LWLockRelease(pgque_shared->lock);
	return slot;
}

void
pgque_slot_release(PgqueDbSlot *slot)
{
	LWLockAcquire(pgque_shared->lock, LW_EXCLUSIVE);
	slot->dboid = InvalidOid;
	LWLockRelease(pgque_shared->lock);
}

/* How many slots are taken (a hint: read without the lock). */
int
pgque_slots_used(void)
{
	int			i;
	int			n = 0;

	if (pgque_shared == NULL)
		return 0;
	for (i = 0; i < pgque_shared->nslots; i++)
		if (OidIsValid(pgque_shared->slots[i].dboid))
			n++;
	return n;
}

/*
 * A database installed pgque or re-enabled its worker: the launcher must
 * look at it again, whatever it remembers. Called from a commit callback:
 * cannot fail.
 */
void
pgque_want_database(Oid dboid)
{
	int			i;

	if (pgque_shared == NULL)
		return;
	LWLockAcquire(pgque_shared->lock, LW_EXCLUSIVE);
	for (i = 0; i < pgque_shared->nwanted; i++)
		if (pgque_shared->wanted[i] == dboid)
			break;
	if (i == pgque_shared->nwanted)
	{
		if (pgque_shared->nwanted < PGQUE_WANTED_MAX)
			pgque_shared->wanted[pgque_shared->nwanted++] = dboid;
		else
			pgque_shared->wanted_all = true;
	}
	LWLockRelease(pgque_shared->lock);
	pgque_wake_launcher();
}

/* The launcher takes the wanted list (at most max entries; *all on overflow). */
int
pgque_take_wanted(Oid *dboids, int max, bool *all)
{
	int			n;

	LWLockAcquire(pgque_shared->lock, LW_EXCLUSIVE);
	n = Min(pgque_shared->nwanted, max);
	memcpy(dboids, pgque_shared->wanted, sizeof(Oid) * n);
	*all = pgque_shared->wanted_all || pgque_shared->nwanted > max;
	pgque_shared->nwanted = 0;
	pgque_shared->wanted_all = false;
	LWLockRelease(pgque_shared->lock);
	return n;
}

/* Set the latch of the process with this pgprocno (safe if it is gone). */
void
pgque_wake_proc(int pgprocno)
{
	if (pgprocno >= 0)
		SetLatch(&ProcGlobal->allProcs[pgprocno].procLatch);
}

/* Ask the launcher to look at pg_database and its slots now. */
void
pgque_wake_launcher(void)
{
	if (pgque_shared == NULL)
		return;
	pgque_shared->rescan = true;
	pgque_wake_proc(pgque_shared->launcher_pgprocno);
}
