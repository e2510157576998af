/*-------------------------------------------------------------------------
 *
 * worker.c
 *		The per-database background worker: ticks, retries, rotation.
 *
 * One worker serves one database. It sleeps on its latch and wakes when a
 * transaction that sent events commits (wakeup.c), at the latest every
 * pgque.naptime. On each wake it
 *
 *	 - ticks the queues whose senders committed, at most once per
 *	   pgque.tick_period each (one short transaction with synchronous_commit
 *	   off, so the NOTIFY goes out without waiting for a WAL flush; a
 *	   consumer's later ack flushes past the tick anyway);
 *	 - every pgque.naptime, ticks the queues due by their own thresholds
 *	   (idle period, max lag, force_tick) and moves due retries back into
 *	   their queues;
 *	 - every pgque.maint_period, runs rotation (pgque.maint(), then step 2
 *	   in a later transaction).
 *
 * Each step runs in its own transaction; an error is logged, rolled back
 * and remembered for pgque.status(), and the worker carries on.
 *
 * Exactly one worker per database: a worker takes a session-level lock on
 * a user lock tag (PGQUE_LOCK_CLASS, 1) in its database and leaves if it
 * cannot, whoever started it. User locks cannot be taken from SQL (unlike
 * advisory locks), so nobody can keep the worker from starting.
 *
 * The worker is a superuser in a database whose owner need not be one, so
 * it gives the database's own settings (ALTER DATABASE ... SET) no say over
 * what its SQL means: it pins search_path, role, timeouts and transaction
 * defaults before running any (pin_settings), every statement it runs
 * qualifies operators and functions, and every value it reads may be NULL
 * or missing (pgque_spi_value). It waits for no lock a user can hold
 * (nowait ticks, SKIP LOCKED in maintenance), and lock_timeout bounds any
 * wait nobody foresaw. It also leaves, without blocking anyone, when DROP
 * DATABASE or CREATE DATABASE ... TEMPLATE wants its database: it probes
 * the database object with a conditional RowExclusiveLock on every wake,
 * and those commands hold a conflicting lock while they wait for sessions
 * to go away.
 *
 * Ticks are never taken on a standby: the launcher starts after recovery
 * ends, and pgque.start() refuses to run during recovery.
 *
 *-------------------------------------------------------------------------
 */
#include "shmem.h"

#include <signal.h>
#include <unistd.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_database.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "worker.h"

PG_FUNCTION_INFO_V1(pgque_start);
PG_FUNCTION_INFO_V1(pgque_stop);
PG_FUNCTION_INFO_V1(pgque_worker_status);
PG_FUNCTION_INFO_V1(pgque_note_launcher_sql);
PG_FUNCTION_INFO_V1(pgque_note_retries_sql);
PG_FUNCTION_INFO_V1(pgque_wake_ticker);
PG_FUNCTION_INFO_V1(pgque_launch_worker);

/* advisory lock class that guards "one worker per database" */
#define PGQUE_LOCK_CLASS	0x70677175	/* 'pgqu' */

bool		pgque_enabled = true;
bool		pgque_wake_on_commit = true;
int			pgque_tick_period = 2;
int			pgque_naptime = 250;
int			pgque_maint_period = 30;

/* worker-local state */
static char my_dbname[NAMEDATALEN] = "?";
static PgqueDbSlot *my_slot = NULL;
static bool my_dynamic = false;
static MemoryContext pass_context = NULL;

/* last tick time per queue, for pgque.tick_period */
#define MAX_TRACKED	256
static int32 tracked_queue[MAX_TRACKED];
static TimestampTz tracked_tick[MAX_TRACKED];
static int	ntracked = 0;

/* queues woken up but not ticked yet because of pgque.tick_period */
static int32 waiting[PGQUE_DIRTY_MAX];
static int	nwaiting = 0;
static bool waiting_all = false;

void
pgque_worker_init(void)
{
	DefineCustomBoolVariable("pgque.enabled",
							 "Runs the pgque background workers.",
							 "When off, the launcher starts no workers and running ones exit.",
							 &pgque_enabled, true, PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("pgque.wake_on_commit",
							 "Wakes the pgque worker when a transaction that sent events commits.",
							 "When off, the worker finds new events only every pgque.naptime.",
							 &pgque_wake_on_commit, true, PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("pgque.tick_period",
							"Minimum time between two ticks of a queue that keeps receiving events.",
							"A committed send wakes the worker, which ticks the queue at once "
							"unless it ticked less than this long ago.",
							&pgque_tick_period, 2, 0, 60000, PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pgque.naptime",
							"Longest time a pgque worker sleeps.",
							"Bounds how late idle ticks, due retries and delayed events are handled.",
							&pgque_naptime, 250, 10, 60000, PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pgque.maint_period",
							"Time between two rotation and housekeeping passes of a pgque worker.",
							NULL,
							&pgque_maint_period, 30, 1, 86400, PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
}

void
pgque_fill_worker(BackgroundWorker *bgw, Oid dboid, bool dynamic)
{
	memset(bgw, 0, sizeof(*bgw));
	bgw->bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw->bgw_start_time = BgWorkerStart_RecoveryFinished;
	bgw->bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(bgw->bgw_library_name, BGW_MAXLEN, "pgque");
	snprintf(bgw->bgw_function_name, BGW_MAXLEN, "pgque_worker_main");
	snprintf(bgw->bgw_name, BGW_MAXLEN, "pgque worker for database %u", dboid);
	snprintf(bgw->bgw_type, BGW_MAXLEN, PGQUE_WORKER_TYPE);
	bgw->bgw_main_arg = ObjectIdGetDatum(dboid);
	bgw->bgw_extra[0] = dynamic ? 1 : 0;
}

/* Record in the slot why we leave, unless someone (pgque.stop) already did. */
static void
set_exit_reason(PgqueExit reason)
{
	if (my_slot == NULL)
		return;
	SpinLockAcquire(&my_slot->mutex);
	if (my_slot->exit_reason == PGQUE_EXIT_NONE)
		my_slot->exit_reason = reason;
	SpinLockRelease(&my_slot->mutex);
}

static void
worker_exit(PgqueExit reason, const char *why)
{
	set_exit_reason(reason);
	ereport(LOG, (errmsg("pgque worker for database \"%s\" is leaving: %s",
						 my_dbname, why)));
	proc_exit(0);
}

static void
worker_cleanup(int code, Datum arg)
{
	if (my_slot == NULL)
		return;
	SpinLockAcquire(&my_slot->mutex);
	if (my_slot->pid == MyProcPid)
	{
		my_slot->pid = 0;
		my_slot->pgprocno = -1;
		my_slot->exited_at = GetCurrentTimestamp();
		if (my_slot->exit_reason == PGQUE_EXIT_NONE)
			my_slot->exit_reason = PGQUE_EXIT_ERROR;
	}
	SpinLockRelease(&my_slot->mutex);
}

/* Is DROP DATABASE or CREATE DATABASE ... TEMPLATE waiting for us? */
static bool
database_wanted(void)
{
	LOCKTAG		tag;

	SET_LOCKTAG_OBJECT(tag, InvalidOid, DatabaseRelationId, MyDatabaseId, 0);
	if (LockAcquire(&tag, RowExclusiveLock, true, true) == LOCKACQUIRE_NOT_AVAIL)
		return true;
	LockRelease(&tag, RowExclusiveLock, true);
	return false;
}

/*
 * Take the per-database guard lock for the whole session. A user lock (the
 * lock type of the old contrib/userlock, which PostgreSQL keeps reserved):
 * pg_locks shows it as "userlock", and no SQL function can take one.
 */
static bool
take_guard_lock(void)
{
	LOCKTAG		tag;

	tag.locktag_field1 = MyDatabaseId;
	tag.locktag_field2 = PGQUE_LOCK_CLASS;
	tag.locktag_field3 = 1;
	tag.locktag_field4 = 0;
	tag.locktag_type = LOCKTAG_USERLOCK;
	tag.locktag_lockmethodid = USER_LOCKMETHOD;
	return LockAcquire(&tag, ExclusiveLock, true, true) != LOCKACQUIRE_NOT_AVAIL;
}

/*
 * Settings a database owner may set for the database, which would change
 * what the worker's SQL means or who runs it: pin them, whatever
 * ALTER DATABASE ... SET says (PGC_S_OVERRIDE beats database settings).
 */
static void
pin_settings(void)
{
	static const char *const pinned[][2] = {
		{"search_path", "pg_catalog, pgque, pg_temp"},
		{"role", "none"},
		{"default_transaction_isolation", "read committed"},
		{"default_transaction_read_only", "off"},
		{"default_transaction_deferrable", "off"},
		{"session_replication_role", "origin"},
		{"statement_timeout", "0"},
		{"idle_in_transaction_session_timeout", "0"},
		{"exit_on_error", "off"},
		/* never wait long for a lock: ticks are taken again next pass */
		{"lock_timeout", "1s"},
		/* ticks need no WAL flush before their NOTIFY (see file header) */
		{"synchronous_commit", "off"},
		{"plpgsql.variable_conflict", "error"},
		{"plpgsql.extra_errors", "none"},
		{"plpgsql.extra_warnings", "none"},
	};
	int			i;

	for (i = 0; i < lengthof(pinned); i++)
		SetConfigOption(pinned[i][0], pinned[i][1], PGC_SUSET, PGC_S_OVERRIDE);
}

static TimestampTz
tracked_last_tick(int32 queue_id)
{
	int			i;

	for (i = 0; i < ntracked; i++)
		if (tracked_queue[i] == queue_id)
			return tracked_tick[i];
	return 0;
}

static void
track_tick(int32 queue_id, TimestampTz when)
{
	int			i;

	for (i = 0; i < ntracked; i++)
		if (tracked_queue[i] == queue_id)
		{
			tracked_tick[i] = when;
			return;
		}
	if (ntracked == MAX_TRACKED)
		ntracked = 0;			/* forget; costs at most one early tick */
	tracked_queue[ntracked] = queue_id;
	tracked_tick[ntracked] = when;
	ntracked++;
}

static void
remember_waiting(int32 queue_id)
{
	int			i;

	for (i = 0; i < nwaiting; i++)
		if (waiting[i] == queue_id)
			return;
	if (nwaiting < PGQUE_DIRTY_MAX)
		waiting[nwaiting++] = queue_id;
	else
		waiting_all = true;
}

static void
note_ticks(int n)
{
	if (my_slot == NULL || n == 0)
		return;
	SpinLockAcquire(&my_slot->mutex);
	my_slot->ticks += n;
	my_slot->last_tick = GetCurrentTimestamp();
	SpinLockRelease(&my_slot->mutex);
}

/*
 * Run fn in its own transaction. Errors are logged, rolled back and kept
 * for pgque.status(); returns false after one.
 */
static bool
run_step(void (*fn) (void *), void *arg, const char *what)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	bool		ok = true;

	PG_TRY();
	{
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		pgstat_report_activity(STATE_RUNNING, what);
		if (!OidIsValid(get_extension_oid("pgque", true)))
		{
			CommitTransactionCommand();
			worker_exit(PGQUE_EXIT_NO_EXTENSION, "the pgque extension was dropped");
		}
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		fn(arg);
		PopActiveSnapshot();
		SPI_finish();
		CommitTransactionCommand();
		pgstat_report_activity(STATE_IDLE, NULL);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		ereport(LOG,
				(errmsg("pgque worker: %s failed: %s", what, edata->message)));
		if (my_slot != NULL)
		{
			SpinLockAcquire(&my_slot->mutex);
			snprintf(my_slot->last_error, sizeof(my_slot->last_error), "%s: %s",
					 what, edata->message);
			my_slot->last_error_at = GetCurrentTimestamp();
			SpinLockRelease(&my_slot->mutex);
		}
		FreeErrorData(edata);
		pgstat_report_activity(STATE_IDLE, NULL);
		ok = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	return ok;
}

/* Queues to tick now: woken ones whose tick_period has passed. */
typedef struct TickWork
{
	int			n;
	int32		ids[PGQUE_DIRTY_MAX * 2];
	bool		all;			/* tick every queue with activity instead */
	int			ticked;
} TickWork;

static void
step_tick_woken(void *arg)
{
	TickWork   *work = arg;
	int			i;

	if (work->all)
	{
		static SPIPlanPtr plan;
		uint64		n;
		int32	   *ids;

		if (pgque_execute_plan(pgque_plan(&plan, "select queue_id from pgque.queue order by queue_name",
										0, NULL),
							 NULL, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not list queues");
		n = SPI_processed;
		ids = palloc(sizeof(int32) * Max(n, 1));
		for (i = 0; i < (int) n; i++)
			ids[i] = DatumGetInt32(pgque_spi_value(i, 1));
		for (i = 0; i < (int) n; i++)
			if (pgque_tick_queue(ids[i], PGQUE_TICK_IF_ACTIVITY, true) != 0)
			{
				track_tick(ids[i], GetCurrentTimestamp());
				work->ticked++;
			}
		return;
	}
	for (i = 0; i < work->n; i++)
		if (pgque_tick_queue(work->ids[i], PGQUE_TICK_NOW, true) != 0)
		{
			track_tick(work->ids[i], GetCurrentTimestamp());
			work->ticked++;
		}
}

static void
step_tick_due(void *arg)
{
	int		   *ticked = arg;

	*ticked = pgque_tick_all(true);
}

/* When is the next retry due? 0 = none scheduled. */
static void
step_next_retry(void *arg)
{
	static SPIPlanPtr plan;
	TimestampTz *next = arg;
	bool		isnull;
	Datum		d;

	if (pgque_execute_plan(pgque_plan(&plan, "select pg_catalog.min(ev_retry_after) from pgque.retry_queue",
									0, NULL),
						 NULL, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read pgque.retry_queue");
	d = pgque_spi_value_opt(0, 1, &isnull);
	*next = isnull ? 0 : DatumGetTimestampTz(d);
}

static void
step_sql(void *arg)
{
	if (pgque_execute((const char *) arg, false, 0) < 0)
		elog(ERROR, "could not run %s", (const char *) arg);
}

/* Take the queues that committed senders woke us for, plus waiting ones. */
static void
collect_woken(TickWork *work, bool *retries_changed, TimestampTz now,
			  long *wait_ms)
{
	int32		dirty[PGQUE_DIRTY_MAX];
	int			ndirty = 0;
	bool		all = false;
	int			i;

	work->n = 0;
	work->all = false;
	work->ticked = 0;
	*retries_changed = false;

	if (my_slot != NULL)
	{
		SpinLockAcquire(&my_slot->mutex);
		ndirty = my_slot->ndirty;
		memcpy(dirty, my_slot->dirty, sizeof(int32) * ndirty);
		all = my_slot->dirty_all;
		*retries_changed = my_slot->retries_changed;
		my_slot->ndirty = 0;
		my_slot->dirty_all = false;
		my_slot->retries_changed = false;
		SpinLockRelease(&my_slot->mutex);
	}
	for (i = 0; i < ndirty; i++)
		remember_waiting(dirty[i]);
	if (all)
		waiting_all = true;

	if (waiting_all)
	{
		work->all = true;
		waiting_all = false;
		nwaiting = 0;
		return;
	}

	/* keep the ones that ticked less than tick_period ago for later */
	ndirty = nwaiting;
	nwaiting = 0;
	for (i = 0; i < ndirty; i++)
	{
		int32		id = waiting[i];
		TimestampTz ready = TimestampTzPlusMilliseconds(tracked_last_tick(id),
														pgque_tick_period);

		if (ready <= now)
			work->ids[work->n++] = id;
		else
		{
			waiting[nwaiting++] = id;
			*wait_ms = Min(*wait_ms, (ready - now + 999) / 1000);
		}
	}
}

void
pgque_worker_main(Datum arg)
{
	Oid			dboid = DatumGetObjectId(arg);
	BackgroundWorker *self = MyBgworkerEntry;
	TimestampTz last_due_pass = 0;
	TimestampTz last_maint = 0;
	TimestampTz next_retry = 0;
	bool		check_retries = true;
	bool		installed;

	my_dynamic = self->bgw_extra[0] != 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	pin_settings();
	pgstat_report_appname(PGQUE_WORKER_TYPE);

	StartTransactionCommand();
	strlcpy(my_dbname, get_database_name(MyDatabaseId), sizeof(my_dbname));
	installed = OidIsValid(get_extension_oid("pgque", true));
	CommitTransactionCommand();

	if (pgque_shared != NULL)
	{
		my_slot = pgque_slot_acquire(dboid);
		if (my_slot == NULL)
		{
			if (!installed)
				proc_exit(0);	/* nothing to serve; the launcher asks again */
			ereport(ERROR,
					(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
					 errmsg("no free pgque slot for database \"%s\"", my_dbname),
					 errdetail("All %d slots are taken by other databases.", pgque_shared->nslots),
					 errhint("Raise pgque.max_databases.")));
		}
		/* tells the launcher that what the slot says next is ours */
		SpinLockAcquire(&my_slot->mutex);
		my_slot->started_at = GetCurrentTimestamp();
		SpinLockRelease(&my_slot->mutex);
	}
	before_shmem_exit(worker_cleanup, (Datum) 0);

	if (!installed)
		worker_exit(PGQUE_EXIT_NO_EXTENSION, "pgque is not installed in this database");
	if (!take_guard_lock())
		worker_exit(PGQUE_EXIT_DUPLICATE, "another pgque worker serves this database");

	if (my_slot != NULL)
	{
		bool		stopped;

		SpinLockAcquire(&my_slot->mutex);
		my_slot->launching = false;
		/* pgque.stop() may have come first; then it wins */
		stopped = my_slot->exit_reason == PGQUE_EXIT_DISABLED;
		if (!stopped)
		{
			my_slot->pid = MyProcPid;
			my_slot->pgprocno = MyProc->pgprocno;
			my_slot->dynamic = my_dynamic;
			my_slot->exit_reason = PGQUE_EXIT_NONE;
			my_slot->exited_at = 0;
		}
		SpinLockRelease(&my_slot->mutex);
		if (stopped)
			worker_exit(PGQUE_EXIT_DISABLED, "stopped by pgque.stop()");
	}

	/* (for the launcher) is the worker wanted? */
	if (!my_dynamic)
	{
		bool		enabled = true;

		StartTransactionCommand();
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		if (pgque_execute("select worker_enabled from pgque.config", true, 1) == SPI_OK_SELECT &&
			SPI_processed == 1)
		{
			bool		isnull;
			Datum		d = pgque_spi_value_opt(0, 1, &isnull);

			enabled = isnull || DatumGetBool(d);
		}
		PopActiveSnapshot();
		SPI_finish();
		CommitTransactionCommand();
		if (!enabled)
			worker_exit(PGQUE_EXIT_DISABLED, "stopped by pgque.stop()");
	}

	ereport(LOG, (errmsg("pgque worker started for database \"%s\"%s",
						 my_dbname, my_dynamic ? " by pgque.start()" : "")));

	pass_context = AllocSetContextCreate(TopMemoryContext, "pgque worker pass",
										 ALLOCSET_DEFAULT_SIZES);
	/* events may have committed while no worker ran: look at every queue */
	waiting_all = true;

	for (;;)
	{
		TimestampTz now;
		TimestampTz next_due_pass;
		TimestampTz next_maint;
		TickWork	work;
		bool		retries_changed;
		long		wait_ms;
		bool		coalesce;
		bool		woken;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (!pgque_enabled)
			worker_exit(PGQUE_EXIT_OFF, "pgque.enabled is off");
		if (my_slot != NULL && my_slot->exit_reason == PGQUE_EXIT_DISABLED)
			worker_exit(PGQUE_EXIT_DISABLED, "stopped by pgque.stop()");
		if (database_wanted())
			worker_exit(PGQUE_EXIT_DB_BUSY,
						"the database is being dropped or used as a template");

		MemoryContextSwitchTo(pass_context);
		now = GetCurrentTimestamp();
		wait_ms = pgque_naptime;
		/* derived each time, so that a reload takes effect at once */
		next_due_pass = TimestampTzPlusMilliseconds(last_due_pass, pgque_naptime);
		next_maint = TimestampTzPlusMilliseconds(last_maint, (int64) pgque_maint_period * 1000);

		/* 1. queues whose senders committed */
		collect_woken(&work, &retries_changed, now, &wait_ms);
		if (work.n > 0 || work.all)
		{
			run_step(step_tick_woken, &work, "ticking queues with new events");
			note_ticks(work.ticked);
		}

		/* 2. thresholds: idle period, max lag, force_tick */
		if (now >= next_due_pass)
		{
			int			ticked = 0;

			run_step(step_tick_due, &ticked, "ticking due queues");
			note_ticks(ticked);
			last_due_pass = now;
			next_due_pass = TimestampTzPlusMilliseconds(now, pgque_naptime);
			check_retries = true;
		}

		/* 3. retries and delayed events that are due */
		if (retries_changed || check_retries || (next_retry != 0 && next_retry <= now))
		{
			check_retries = false;
			if (run_step(step_next_retry, &next_retry, "planning retries") &&
				next_retry != 0 && next_retry <= now)
			{
				run_step(step_sql, "select pgque.maint_retry_events()", "moving due retries");
				run_step(step_next_retry, &next_retry, "planning retries");
			}
		}
		if (next_retry > now)
			wait_ms = Min(wait_ms, (next_retry - now + 999) / 1000);

		/* 4. rotation; step 2 must run in a later transaction than step 1 */
		if (now >= next_maint)
		{
			run_step(step_sql, "select pgque.maint()", "rotating tables");
			run_step(step_sql, "select pgque.maint_rotate_tables_step2()", "completing rotation");
			last_maint = GetCurrentTimestamp();
			next_maint = TimestampTzPlusMilliseconds(last_maint, (int64) pgque_maint_period * 1000);
		}

		if (my_slot != NULL)
		{
			SpinLockAcquire(&my_slot->mutex);
			my_slot->last_pass = GetCurrentTimestamp();
			SpinLockRelease(&my_slot->mutex);
		}
		MemoryContextSwitchTo(TopMemoryContext);
		MemoryContextReset(pass_context);

		now = GetCurrentTimestamp();
		wait_ms = Min(wait_ms, Max((next_due_pass - now) / 1000, 0));
		wait_ms = Min(wait_ms, Max((next_maint - now) / 1000, 0));

		/*
		 * A queue waiting out its tick_period ticks when that ends, whatever
		 * commits meanwhile: sleep without watching the latch. Otherwise a
		 * busy queue's every commit would wake us (thousands of times a
		 * second, each a signal and a context switch) only to wait again.
		 * Senders' commits still set the latch and record their queues;
		 * the next pass picks them up. Other queues wait at most that long.
		 * (At least 1 ms then: a period ending within the millisecond would
		 * otherwise spin.)
		 */
		coalesce = nwaiting > 0 && !waiting_all && wait_ms <= pgque_tick_period;
		(void) WaitLatch(MyLatch,
						 (coalesce ? 0 : WL_LATCH_SET) | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Max(wait_ms, coalesce ? 1 : 0), PG_WAIT_EXTENSION);
		woken = MyLatch->is_set;
		ResetLatch(MyLatch);

		/*
		 * Without shared memory a sender's commit only sets our latch; it
		 * cannot say which queue, so look at all of them.
		 */
		if (woken && my_slot == NULL)
			waiting_all = true;
	}
}

/*
 * The PGPROC of this database's worker, or NULL: found by its background
 * worker type, so it works with and without shared memory. Read without
 * ProcArrayLock: a stale answer only costs a missed or spurious wakeup.
 */
PGPROC *
pgque_worker_proc(void)
{
	int			i;

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

static pid_t
find_worker_pid(void)
{
	PGPROC	   *p = pgque_worker_proc();

	return p != NULL ? p->pid : 0;
}

/* Start a dynamic worker for this database now and wait until it runs. */
static pid_t
launch_dynamic_worker(void)
{
	BackgroundWorker bgw;
	BackgroundWorkerHandle *handle;
	pid_t		pid;

	pgque_fill_worker(&bgw, MyDatabaseId, true);
	bgw.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&bgw, &handle))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not start the pgque worker: no free background worker slot"),
				 errhint("Raise max_worker_processes.")));
	if (WaitForBackgroundWorkerStartup(handle, &pid) != BGWH_STARTED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not start the pgque worker"),
				 errhint("See the server log.")));
	return pid;
}

/* SQL: pgque._launch_worker() -> int4; for tests (see 85_worker.sql) */
Datum
pgque_launch_worker(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32((int32) launch_dynamic_worker());
}

/*
 * SQL: pgque._start() -> text
 *
 * With the launcher (preload), re-enables this database and lets the
 * launcher start its worker after commit. Without it, starts a dynamic
 * worker now. Returns a line for the caller.
 */
Datum
pgque_start(PG_FUNCTION_ARGS)
{
	pid_t		pid;

	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot start the pgque worker during recovery"),
				 errhint("Ticks are taken on the primary; the worker starts on its own after promotion.")));

	if (pgque_shared != NULL)
	{
		/* the launcher must not see the worker enabled before we commit */
		pgque_note_launcher();
		PG_RETURN_TEXT_P(cstring_to_text(pgque_enabled ?
										 "the launcher starts the worker when this transaction commits" :
										 "pgque.enabled is off: no worker runs until it is turned on"));
	}

	pid = find_worker_pid();
	if (pid != 0)
		PG_RETURN_TEXT_P(cstring_to_text(psprintf("worker already running (pid %d)", (int) pid)));

	pid = launch_dynamic_worker();
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("worker started (pid %d); it will not survive a server restart "
											  "unless pgque is in shared_preload_libraries",
											  (int) pid)));
}

/*
 * SQL: pgque._stop() -> text
 *
 * Stops this database's worker and waits (up to 10 s) until it is gone.
 * With the launcher, also tells it not to start another one.
 */
Datum
pgque_stop(PG_FUNCTION_ARGS)
{
	PgqueDbSlot *slot = pgque_slot_find(MyDatabaseId);
	pid_t		pid;
	int			i;

	pid_t		stopped = 0;

	if (slot != NULL)
	{
		SpinLockAcquire(&slot->mutex);
		slot->exit_reason = PGQUE_EXIT_DISABLED;
		SpinLockRelease(&slot->mutex);
	}

	/*
	 * Signal every worker of this database until none is left, including
	 * one the launcher is just starting (it would leave on its own, seeing
	 * the slot, but the caller expects no worker once we return).
	 */
	for (i = 0; i < 1000; i++)
	{
		bool		launching = false;

		CHECK_FOR_INTERRUPTS();
		if (slot != NULL)
		{
			SpinLockAcquire(&slot->mutex);
			launching = slot->launching;
			SpinLockRelease(&slot->mutex);
		}
		pid = find_worker_pid();
		if (pid == 0 && !launching)
			PG_RETURN_TEXT_P(cstring_to_text(stopped != 0 ?
											 psprintf("worker stopped (pid %d)", (int) stopped) :
											 "no worker was running"));
		if (pid != 0 && pid != stopped)
		{
			if (kill(pid, SIGTERM) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
						 errmsg("could not signal the pgque worker (pid %d): %m", (int) pid)));
			stopped = pid;
		}
		pg_usleep(10000);
	}
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_IN_USE),
			 errmsg("the pgque worker did not stop within 10 seconds")));
	PG_RETURN_NULL();
}

static const char *
exit_reason_text(PgqueExit reason)
{
	switch (reason)
	{
		case PGQUE_EXIT_NONE:
			return "not started yet";
		case PGQUE_EXIT_NO_EXTENSION:
			return "pgque is not installed";
		case PGQUE_EXIT_DISABLED:
			return "stopped by pgque.stop()";
		case PGQUE_EXIT_DUPLICATE:
			return "another worker serves the database";
		case PGQUE_EXIT_DB_BUSY:
			return "the database was being dropped or copied";
		case PGQUE_EXIT_OFF:
			return "pgque.enabled is off";
		case PGQUE_EXIT_ERROR:
			return "exited with an error, restarting";
	}
	return "unknown";
}

/*
 * SQL: pgque._worker_status() -> (mode text, state text, pid int4,
 *		started_at timestamptz, last_tick timestamptz, last_pass timestamptz,
 *		ticks int8, last_error text, last_error_at timestamptz,
 *		launcher_pid int4)
 *
 * mode: 'launcher' (preloaded), 'dynamic' (pgque.start() without preload)
 * or 'manual' (no worker).
 */
Datum
pgque_worker_status(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		v[10];
	bool		n[10];
	PgqueDbSlot *slot = pgque_slot_find(MyDatabaseId);
	pid_t		pid = find_worker_pid();
	int			i;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	for (i = 0; i < 10; i++)
		n[i] = true;

	if (pgque_shared != NULL)
	{
		v[0] = CStringGetTextDatum("launcher");
		n[0] = false;
		if (pgque_shared->launcher_pid != 0)
		{
			v[9] = Int32GetDatum(pgque_shared->launcher_pid);
			n[9] = false;
		}
	}
	else
	{
		v[0] = CStringGetTextDatum(pid != 0 ? "dynamic" : "manual");
		n[0] = false;
	}

	if (pid != 0)
	{
		v[1] = CStringGetTextDatum("running");
		v[2] = Int32GetDatum(pid);
		n[1] = n[2] = false;
	}
	else
	{
		PgqueExit	reason = PGQUE_EXIT_NONE;

		if (slot != NULL)
		{
			SpinLockAcquire(&slot->mutex);
			reason = slot->exit_reason;
			SpinLockRelease(&slot->mutex);
		}
		if (pgque_shared == NULL)
			v[1] = CStringGetTextDatum("not running");
		else if (pgque_shared->workers_held_until > GetCurrentTimestamp())
			v[1] = CStringGetTextDatum(psprintf("waiting: the server restarted %d times in a row after crashes; workers start at %s",
												pgque_shared->fast_restarts,
												timestamptz_to_str(pgque_shared->workers_held_until)));
		else if (slot == NULL && pgque_slots_used() >= pgque_shared->nslots)
			v[1] = CStringGetTextDatum(psprintf("not served: all %d slots are taken by other databases; raise pgque.max_databases",
												pgque_shared->nslots));
		else
			v[1] = CStringGetTextDatum(psprintf("stopped: %s", exit_reason_text(reason)));
		n[1] = false;
	}

	if (slot != NULL)
	{
		TimestampTz started_at,
					last_tick,
					last_pass,
					last_error_at;
		uint64		ticks;
		char		last_error[sizeof(slot->last_error)];

		SpinLockAcquire(&slot->mutex);
		started_at = slot->started_at;
		last_tick = slot->last_tick;
		last_pass = slot->last_pass;
		ticks = slot->ticks;
		last_error_at = slot->last_error_at;
		memcpy(last_error, slot->last_error, sizeof(last_error));
		SpinLockRelease(&slot->mutex);

		if (started_at != 0)
		{
			v[3] = TimestampTzGetDatum(started_at);
			n[3] = false;
		}
		if (last_tick != 0)
		{
			v[4] = TimestampTzGetDatum(last_tick);
			n[4] = false;
		}
		if (last_pass != 0)
		{
			v[5] = TimestampTzGetDatum(last_pass);
			n[5] = false;
		}
		v[6] = Int64GetDatum((int64) ticks);
		n[6] = false;
		if (last_error[0] != '\0')
		{
			v[7] = CStringGetTextDatum(last_error);
			v[8] = TimestampTzGetDatum(last_error_at);
			n[7] = n[8] = false;
		}
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), v, n)));
}

/* SQL: pgque._note_launcher() -- the install script: tell the launcher at commit */
Datum
pgque_note_launcher_sql(PG_FUNCTION_ARGS)
{
	pgque_note_launcher();
	PG_RETURN_VOID();
}

/* SQL: pgque._note_retries() -- retries were scheduled: re-plan at commit */
Datum
pgque_note_retries_sql(PG_FUNCTION_ARGS)
{
	pgque_note_retries();
	PG_RETURN_VOID();
}

/* SQL: pgque._wake_ticker(queue_id int4) -- tick this queue after commit */
Datum
pgque_wake_ticker(PG_FUNCTION_ARGS)
{
	if (!PG_ARGISNULL(0))
		pgque_note_event_insert(PG_GETARG_INT32(0));
	PG_RETURN_VOID();
}
