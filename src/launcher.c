/*-------------------------------------------------------------------------
 *
 * launcher.c
 *		The launcher: one pgque worker for every database that has pgque.
 *
 * Registered at server start when pgque is in shared_preload_libraries,
 * started once recovery is over (so nothing ticks on a standby until it is
 * promoted). It connects to no database, reads pg_database, and starts a
 * dynamic worker (worker.c) per database that accepts connections and is
 * not a template. A worker finds out itself whether pgque is installed and
 * leaves a reason in its shared-memory slot when it exits; the launcher
 * decides from that reason whether and when to start another:
 *
 *	 - not installed, or pgque.stop(): not until CREATE EXTENSION or
 *	   pgque.start() puts the database on the wanted list (wakeup.c). The
 *	   launcher remembers "not installed" itself and frees the slot, so
 *	   databases without pgque use none;
 *	 - the database was being dropped or copied: after a few seconds;
 *	 - an error or a kill: with exponential backoff, 1 s up to 60 s.
 *
 * It looks at pg_database every few seconds (new databases created from a
 * template that has pgque) and whenever its latch is set: by a worker's
 * start or exit (bgw_notify_pid) or by the wakeups above.
 *
 * After crash restarts in a row (PgqueShared.fast_restarts), it holds all
 * workers back, 2 s doubling up to 5 minutes: a worker that crashes the
 * server at once (a bug, or a trap laid for it) must not keep every
 * database of the cluster in crash recovery.
 *
 * Duplicates are impossible by construction of the worker (advisory lock),
 * so a restarted launcher may simply start workers for databases whose
 * slot shows none running.
 *
 *-------------------------------------------------------------------------
 */
#include "shmem.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "launcher.h"
#include "worker.h"

/* how often pg_database is read without being asked */
#define RESCAN_MS			5000
#define BACKOFF_MAX_MS		60000
#define BUSY_RETRY_MS		5000
#define DUPLICATE_RETRY_MS	10000
#define CRASH_HOLD_MAX_MS	(5 * 60 * 1000)

/* what this launcher knows about one database */
typedef struct LaunchedDb
{
	Oid			dboid;
	BackgroundWorkerHandle *handle; /* worker registered by us, not reaped */
	TimestampTz launched_at;
	TimestampTz retry_at;
	int			failures;
	bool		seen;			/* still in pg_database at the last scan */
	bool		parked;			/* pgque is not installed: wait to be wanted */
} LaunchedDb;

static LaunchedDb *dbs = NULL;
static int	ndbs = 0;
static int	max_dbs = 0;
static TimestampTz no_slot_warned = 0;
static TimestampTz hold_until = 0;

/* Register the launcher; it exists only when pgque is preloaded. */
void
pgque_launcher_init(void)
{
	BackgroundWorker bgw;

	if (!process_shared_preload_libraries_in_progress)
		return;

	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;
	bgw.bgw_restart_time = 5;
	snprintf(bgw.bgw_library_name, BGW_MAXLEN, "pgque");
	snprintf(bgw.bgw_function_name, BGW_MAXLEN, "pgque_launcher_main");
	snprintf(bgw.bgw_name, BGW_MAXLEN, PGQUE_LAUNCHER_TYPE);
	snprintf(bgw.bgw_type, BGW_MAXLEN, PGQUE_LAUNCHER_TYPE);
	RegisterBackgroundWorker(&bgw);
}

static void
launcher_cleanup(int code, Datum arg)
{
	if (pgque_shared != NULL && pgque_shared->launcher_pid == MyProcPid)
	{
		pgque_shared->launcher_pgprocno = -1;
		pgque_shared->launcher_pid = 0;
	}
}

static LaunchedDb *
launched_db(Oid dboid)
{
	int			i;

	for (i = 0; i < ndbs; i++)
		if (dbs[i].dboid == dboid)
			return &dbs[i];
	if (ndbs == max_dbs)
	{
		max_dbs = Max(16, max_dbs * 2);
		dbs = dbs == NULL ?
			MemoryContextAllocZero(TopMemoryContext, sizeof(LaunchedDb) * max_dbs) :
			repalloc(dbs, sizeof(LaunchedDb) * max_dbs);
	}
	memset(&dbs[ndbs], 0, sizeof(LaunchedDb));
	dbs[ndbs].dboid = dboid;
	return &dbs[ndbs++];
}

/* Databases a worker should serve (with or without pgque, it checks). */
static List *
candidate_databases(void)
{
	List	   *result = NIL;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	MemoryContext outer = CurrentMemoryContext;

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);
		MemoryContext old;

		if (!db->datallowconn || db->datistemplate)
			continue;
#ifdef DATCONNLIMIT_INVALID_DB
		if (db->datconnlimit == DATCONNLIMIT_INVALID_DB)
			continue;
#endif
		old = MemoryContextSwitchTo(outer);
		result = lappend_oid(result, db->oid);
		MemoryContextSwitchTo(old);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	PopActiveSnapshot();
	CommitTransactionCommand();
	return result;
}

/*
 * Mark (or unmark) a launch in flight, so that pgque.stop() waits for it.
 * A database seen for the first time takes a slot for it; if it turns out
 * to have no pgque, consider() frees it again.
 */
static void
set_launching(Oid dboid, bool launching)
{
	PgqueDbSlot *slot = launching ? pgque_slot_acquire(dboid) : pgque_slot_find(dboid);

	if (slot == NULL)
		return;
	SpinLockAcquire(&slot->mutex);
	slot->launching = launching;
	SpinLockRelease(&slot->mutex);
}

static void
launch(LaunchedDb *ldb, TimestampTz now)
{
	BackgroundWorker bgw;
	MemoryContext old;

	pgque_fill_worker(&bgw, ldb->dboid, false);
	bgw.bgw_notify_pid = MyProcPid;
	set_launching(ldb->dboid, true);
	old = MemoryContextSwitchTo(TopMemoryContext);
	if (!RegisterDynamicBackgroundWorker(&bgw, &ldb->handle))
	{
		set_launching(ldb->dboid, false);
		ldb->handle = NULL;
		ldb->retry_at = TimestampTzPlusMilliseconds(now, 1000);
		if (now - no_slot_warned > 60 * USECS_PER_SEC)
		{
			ereport(WARNING,
					(errmsg("pgque launcher: no free background worker slot for database %u",
							ldb->dboid),
					 errhint("Raise max_worker_processes.")));
			no_slot_warned = now;
		}
	}
	else
		ldb->launched_at = now;
	MemoryContextSwitchTo(old);
}

/* Decide about one database; returns when to look at it again (0: no need). */
static TimestampTz
consider(LaunchedDb *ldb, TimestampTz now)
{
	PgqueDbSlot *slot;
	PgqueExit	reason = PGQUE_EXIT_NONE;
	TimestampTz started_at = 0;
	TimestampTz exited_at = 0;
	bool		running = false;

	if (ldb->handle != NULL)
	{
		pid_t		pid;

		if (GetBackgroundWorkerPid(ldb->handle, &pid) != BGWH_STOPPED)
			return 0;			/* starting or running; its exit wakes us */
		pfree(ldb->handle);
		ldb->handle = NULL;
		set_launching(ldb->dboid, false);	/* in case it died before startup */
	}

	slot = pgque_slot_find(ldb->dboid);
	if (slot != NULL)
	{
		SpinLockAcquire(&slot->mutex);
		running = slot->pid != 0;
		reason = slot->exit_reason;
		started_at = slot->started_at;
		exited_at = slot->exited_at;
		SpinLockRelease(&slot->mutex);
	}
	if (running)
		return 0;
	if (slot == NULL && ldb->parked)
		return 0;				/* until the database is wanted */

	/*
	 * A worker we launched that never reached its slot (it failed while
	 * connecting) counts as an error.
	 */
	if (ldb->launched_at != 0 && (slot == NULL || started_at < ldb->launched_at))
	{
		reason = PGQUE_EXIT_ERROR;
		started_at = ldb->launched_at;
		exited_at = now;
	}

	switch (reason)
	{
		case PGQUE_EXIT_NO_EXTENSION:
			/* remember it here and give the slot to databases with pgque */
			ldb->parked = true;
			if (slot != NULL)
				pgque_slot_release(slot);
			return 0;
		case PGQUE_EXIT_DISABLED:
			return 0;			/* until pgque.start() */
		case PGQUE_EXIT_DUPLICATE:
			if (ldb->retry_at <= ldb->launched_at)
				ldb->retry_at = TimestampTzPlusMilliseconds(now, DUPLICATE_RETRY_MS);
			break;
		case PGQUE_EXIT_DB_BUSY:
			if (ldb->retry_at <= ldb->launched_at)
				ldb->retry_at = TimestampTzPlusMilliseconds(now, BUSY_RETRY_MS);
			break;
		case PGQUE_EXIT_ERROR:
			if (ldb->retry_at <= ldb->launched_at)
			{
				int64		backoff;

				/* a worker that ran for a while starts the backoff over */
				if (exited_at - started_at > BACKOFF_MAX_MS * 1000L)
					ldb->failures = 0;
				backoff = Min((int64) 1000 << Min(ldb->failures, 6), BACKOFF_MAX_MS);
				ldb->failures++;
				ldb->retry_at = TimestampTzPlusMilliseconds(Max(exited_at, now - 1), backoff);
			}
			break;
		case PGQUE_EXIT_NONE:
		case PGQUE_EXIT_OFF:
			break;
	}

	if (ldb->retry_at > now)
		return ldb->retry_at;
	if (hold_until > now)
		return hold_until;
	launch(ldb, now);
	return ldb->handle == NULL ? ldb->retry_at : 0;
}

/* Databases that installed pgque or called pgque.start(): launch them now. */
static void
take_wanted(void)
{
	Oid			wanted[PGQUE_WANTED_MAX];
	bool		all;
	int			n = pgque_take_wanted(wanted, PGQUE_WANTED_MAX, &all);
	int			i;

	for (i = 0; i < ndbs; i++)
	{
		LaunchedDb *ldb = &dbs[i];
		bool		want = all;
		int			k;

		for (k = 0; k < n && !want; k++)
			want = wanted[k] == ldb->dboid;
		if (!want)
			continue;
		ldb->parked = false;
		ldb->launched_at = 0;
		ldb->retry_at = 0;
		ldb->failures = 0;
	}
}

/* One look at all databases; returns the earliest time to look again. */
static TimestampTz
launcher_pass(void)
{
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz next = TimestampTzPlusMilliseconds(now, RESCAN_MS);
	List	   *candidates;
	ListCell   *lc;
	int			i;

	pgque_shared->rescan = false;
	take_wanted();
	candidates = candidate_databases();

	for (i = 0; i < ndbs; i++)
		dbs[i].seen = false;
	foreach(lc, candidates)
	{
		LaunchedDb *ldb = launched_db(lfirst_oid(lc));
		TimestampTz again;

		ldb->seen = true;
		if (!pgque_enabled)
			continue;
		again = consider(ldb, now);
		if (again != 0 && again < next)
			next = again;
	}

	/* forget databases that are gone, and their slots */
	for (i = 0; i < ndbs; i++)
	{
		PgqueDbSlot *slot;

		if (dbs[i].seen || dbs[i].handle != NULL)
			continue;
		slot = pgque_slot_find(dbs[i].dboid);
		if (slot != NULL)
		{
			bool		running;

			SpinLockAcquire(&slot->mutex);
			running = slot->pid != 0;
			SpinLockRelease(&slot->mutex);
			if (!running)
				pgque_slot_release(slot);
		}
		dbs[i] = dbs[--ndbs];
		i--;
	}
	list_free(candidates);
	return next;
}

void
pgque_launcher_main(Datum arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname(PGQUE_LAUNCHER_TYPE);

	pgque_shared->launcher_pid = MyProcPid;
	pgque_shared->launcher_pgprocno = MyProc->pgprocno;
	before_shmem_exit(launcher_cleanup, (Datum) 0);
	ereport(LOG, (errmsg("pgque launcher started")));

	if (pgque_shared->fast_restarts > 0)
	{
		int64		hold_ms = Min((int64) 1000 << Min(pgque_shared->fast_restarts, 20),
								  CRASH_HOLD_MAX_MS);

		hold_until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), hold_ms);
		pgque_shared->workers_held_until = hold_until;
		ereport(WARNING,
				(errmsg("pgque launcher: the server restarted %d times in a row after crashes; workers start in %lld s",
						pgque_shared->fast_restarts, (long long) (hold_ms / 1000)),
				 errhint("See the server log for the process that crashed.")));
	}

	for (;;)
	{
		TimestampTz next;
		long		wait_ms;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		next = launcher_pass();
		wait_ms = (next - GetCurrentTimestamp() + 999) / 1000;
		if (!pgque_shared->rescan)
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 Max(wait_ms, 1), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
