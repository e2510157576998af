/*-------------------------------------------------------------------------
 *
 * shmem.c
 *		Shared memory: one slot per database served by a pgque worker.
 *
 * Exists only when pgque is in shared_preload_libraries. A slot is
 * allocated (dboid set) and freed under PgqueShared->lock in exclusive
 * mode; dboid is read without it, since an Oid store is atomic and a stale
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
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shmem.h"

#include "queue_cache.h"

PgqueShared *pgque_shared = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static int
slot_count(void)
{
	/* every served database needs a background worker */
	return Max(max_worker_processes, 1);
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
	RequestAddinShmemSpace(add_size(shared_size(), queue_cache_shmem_size()));
	RequestNamedLWLockTranche("pgque", 1);
}

static void
pgque_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	pgque_shared = ShmemInitStruct("pgque", shared_size(), &found);
	if (!found)
	{
		int			i;

		memset(pgque_shared, 0, shared_size());
		pgque_shared->lock = &(GetNamedLWLockTranche("pgque"))->lock;
		pgque_shared->launcher_pgprocno = -1;
		pgque_shared->nslots = slot_count();
		for (i = 0; i < pgque_shared->nslots; i++)
		{
			SpinLockInit(&pgque_shared->slots[i].mutex);
			pgque_shared->slots[i].pgprocno = -1;
		}
	}
	queue_cache_shmem_init();
	LWLockRelease(AddinShmemInitLock);
}

/* Called from _PG_init while shared_preload_libraries is processed. */
void
pgque_shmem_init(void)
{
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
			s->ndirty = 0;
			s->dirty_all = false;
			s->retries_changed = false;
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
