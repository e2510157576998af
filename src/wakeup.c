/*-------------------------------------------------------------------------
 *
 * wakeup.c
 *		Waking the ticker when a transaction that sent events commits.
 *
 * While a transaction runs, the producer path notes which queues it wrote
 * to (pgque_note_event_insert). A transaction callback delivers the note at
 * XACT_EVENT_COMMIT -- after the commit is visible to new snapshots -- so
 * the worker that wakes up and takes a tick snapshot sees the events:
 *
 *	 - with shared memory (preload), the queue ids go into the database's
 *	   slot and the worker's latch is set; the worker ticks exactly those
 *	   queues. The latch is left alone when the worker holds back the tick
 *	   of every one of them (adaptive ticking, worker.c): it ticks them by
 *	   its deadline anyway, and a busy queue's every commit would otherwise
 *	   wake it only to wait again;
 *	 - without it (a worker started by pgque.start()), the backend finds the
 *	   worker by its background worker type and sets its latch; the worker
 *	   then checks every queue.
 *
 * A receive that reached a queue's newest tick (pgque_note_reached) wakes
 * the worker when it holds back that queue's next tick: a consumer waits.
 *
 * Nothing here may fail: the callback runs after the commit record is
 * written. Aborted or prepared transactions deliver nothing (a prepared
 * transaction's events are picked up by the worker's periodic pass).
 *
 *-------------------------------------------------------------------------
 */
#include "shmem.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/timestamp.h"

#include "utils/guc.h"

#include "queue_cache.h"
#include "wakeup.h"
#include "worker.h"

#define LOCAL_MAX	16

/* pgque.wake_on_commit */
static bool wake_on_commit = true;

static int32 pending[LOCAL_MAX];
static int64 pending_events[LOCAL_MAX];	/* events written, by pending[] */
static int	npending = 0;
static bool pending_overflow = false;
static bool pending_retries = false;
static bool pending_schedules = false;
static bool pending_launcher = false;


/* without shared memory: the last worker pid found, and when we looked */
static pid_t dynamic_worker_pid = 0;
static TimestampTz dynamic_worker_lookup = 0;

static void
reset_pending(void)
{
	npending = 0;
	pending_overflow = false;
	pending_retries = false;
	pending_schedules = false;
	pending_launcher = false;
}

/* This transaction wrote nevents events into queue_id (0: some). */
void
pgque_note_event_insert(int32 queue_id, int64 nevents)
{
	int			i;

	for (i = 0; i < npending; i++)
		if (pending[i] == queue_id)
		{
			pending_events[i] += nevents;
			return;
		}
	if (npending < LOCAL_MAX)
	{
		pending_events[npending] = nevents;
		pending[npending++] = queue_id;
	}
	else
		pending_overflow = true;
}

/* This transaction scheduled retries: the worker should re-plan. */
void
pgque_note_retries(void)
{
	pending_retries = true;
}

/* This transaction changed a schedule: the worker should re-plan. */
void
pgque_note_schedules(void)
{
	pending_schedules = true;
}

/* This transaction installed pgque or re-enabled its worker. */
void
pgque_note_launcher(void)
{
	pending_launcher = true;
}

/*
 * The PGPROC of this database's worker, or NULL: found by its background
 * worker type, so it works with and without shared memory. Read without
 * ProcArrayLock: a stale answer only costs a missed or spurious wakeup.
 */
PGPROC *
pgque_worker_proc(void)
{
	uint32		i;

	for (i = 0; i < ProcGlobal->allProcCount; i++)
	{
		PGPROC	   *p = &ProcGlobal->allProcs[i];
		pid_t		pid = p->pid;
		const char *type;

		if (pid == 0 || !p->isBackgroundWorker || p->databaseId != MyDatabaseId)
			continue;
		type = GetBackgroundWorkerTypeByPid(pid);
		if (type != NULL && strcmp(type, PGQUE_WORKER_TYPE) == 0)
			return p;
	}
	return NULL;
}


/*
 * Find the worker of this database without shared memory: remember its pid,
 * look it up again at most once a second.
 */
static PGPROC *
dynamic_worker_proc(void)
{
	TimestampTz now = GetCurrentTimestamp();
	PGPROC	   *proc;

	if (dynamic_worker_pid != 0)
	{
		proc = BackendPidGetProc(dynamic_worker_pid);
		if (proc != NULL && proc->databaseId == MyDatabaseId)
			return proc;
		dynamic_worker_pid = 0;
	}
	if (now - dynamic_worker_lookup < USECS_PER_SEC)
		return NULL;
	dynamic_worker_lookup = now;
	proc = pgque_worker_proc();
	if (proc != NULL)
		dynamic_worker_pid = proc->pid;
	return proc;
}

static void
deliver(void)
{
	PgqueDbSlot *slot;
	int			pgprocno = -1;
	bool		wake;
	int			i;

	if (pending_launcher && pgque_shared != NULL)
	{
		PgqueDbSlot *slot = pgque_slot_find(MyDatabaseId);

		/* CREATE EXTENSION or pgque.start(): let the launcher try again */
		if (slot != NULL)
		{
			SpinLockAcquire(&slot->mutex);
			if (slot->pid == 0 && slot->dboid == MyDatabaseId)
				slot->exit_reason = PGQUE_EXIT_NONE;
			SpinLockRelease(&slot->mutex);
		}
		pgque_want_database(MyDatabaseId);
	}
	if (npending == 0 && !pending_overflow && !pending_retries && !pending_schedules)
		return;
	if (!wake_on_commit)
		return;

	if (pgque_shared == NULL)
	{
		PGPROC	   *proc = dynamic_worker_proc();

		if (proc != NULL)
			SetLatch(&proc->procLatch);
		return;
	}

	/*
	 * Does the worker need to hear of this commit now? Every held queue
	 * counts its events, whatever the others say.
	 */
	wake = pending_overflow || pending_retries || pending_schedules;
	for (i = 0; i < npending; i++)
		if (!queue_cache_note_committed(pending[i], Max(pending_events[i], 1)))
			wake = true;

	slot = pgque_slot_find(MyDatabaseId);
	if (slot == NULL)
		return;
	SpinLockAcquire(&slot->mutex);
	for (i = 0; i < npending && !slot->dirty_all; i++)
	{
		int			k;

		for (k = 0; k < slot->ndirty; k++)
			if (slot->dirty[k] == pending[i])
				break;
		if (k < slot->ndirty)
			continue;
		if (slot->ndirty < PGQUE_DIRTY_MAX)
			slot->dirty[slot->ndirty++] = pending[i];
		else
			slot->dirty_all = true;
	}
	if (pending_overflow)
		slot->dirty_all = true;
	if (pending_retries)
		slot->retries_changed = true;
	if (pending_schedules)
		slot->schedules_changed = true;
	if (slot->dboid == MyDatabaseId)
		pgprocno = slot->pgprocno;
	SpinLockRelease(&slot->mutex);
	if (wake)
		pgque_wake_proc(pgprocno);
}

/*
 * A receive (or next_batch) of queue_id reached tick_id: its window ends
 * there, or no tick follows it. Wakes the worker if it holds back the tick
 * after it (queue_cache_hold). Called inside the receiving transaction; a
 * rollback costs at most an early tick.
 */
void
pgque_note_reached(int32 queue_id, int64 tick_id)
{
	PgqueDbSlot *slot;
	int			pgprocno = -1;

	if (pgque_shared == NULL || !queue_cache_note_reached(queue_id, tick_id))
		return;
	slot = pgque_slot_find(MyDatabaseId);
	if (slot == NULL)
		return;
	SpinLockAcquire(&slot->mutex);
	if (slot->dboid == MyDatabaseId)
		pgprocno = slot->pgprocno;
	SpinLockRelease(&slot->mutex);
	pgque_wake_proc(pgprocno);
}

static void
xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			deliver();
			reset_pending();
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			reset_pending();
			break;
		default:
			break;
	}
}

void
pgque_wakeup_init(void)
{
	DefineCustomBoolVariable("pgque.wake_on_commit",
							 "Wakes the pgque worker when a transaction that sent events commits.",
							 "When off, the worker finds new events only every pgque.naptime.",
							 &wake_on_commit, true, PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	RegisterXactCallback(xact_callback, NULL);
}
