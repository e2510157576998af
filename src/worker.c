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
 *	   consumer's later ack flushes past the tick anyway) -- unless nobody
 *	   waits for that tick (adaptive ticking, below);
 *	 - every pgque.naptime, ticks the queues due by their own thresholds
 *	   (idle period, max lag, force_tick) and moves due retries back into
 *	   their queues;
 *	 - when a schedule's next run has come, sends its event
 *	   (pgque._schedule_run(), extension/58_schedule.sql); it sleeps no
 *	   longer than until the earliest next run;
 *	 - every pgque.maint_period, runs what pgque.maint() does, part by part
 *	   (rotation step 2, step 1, dedup tables, batch history, step 2 again),
 *	   each in its own transaction, and ticks the woken queues between
 *	   parts: a consumer waits at most as long as one part takes, not the
 *	   whole of maintenance. The batch history is trimmed by a sweep in
 *	   chunks of HISTORY_CHUNK rows, with ticks between them, from where the
 *	   last run stopped, so a run reads only the rows that aged out since;
 *	   every HISTORY_FULL_EVERY runs (and at start) from the first row,
 *	   unless a transaction older than HISTORY_OLD_XACT would make that
 *	   read every deleted row again (pgque._trim_batch_history in
 *	   extension/70_maint.sql).
 *
 * Each step runs in its own transaction; an error is logged, rolled back
 * and remembered for pgque.status(), and the worker carries on.
 *
 * Adaptive ticking. A tick only shortens the wait of a consumer that has
 * read everything up to the queue's newest tick: one whose last receive
 * reached it. While no receive has reached the newest tick the worker knows
 * of (a consumer is busy with older ticks, or there is none), it holds the
 * queue's next tick back, up to pgque.tick_defer after the last tick (never
 * longer than the queue's ticker_max_lag; ticker_max_count events tick at
 * once), so the tick rate follows the consumers' rate instead of one tick
 * every tick_period. A receive that reaches the newest tick of a held
 * queue wakes the worker, which ticks it then (queue_cache_hold has the
 * protocol). Whatever the worker cannot decide that way it ticks as
 * before: queues it has not ticked since it started, queues outside the
 * shared cache, too many queues to track. And a tick step over several
 * queues that took longer than tick_period is followed by a rest as long as
 * it took, so that many busy queues do not keep the worker ticking all the
 * time.
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
 * Shape: worker_attach() once, then worker_pass() and worker_sleep() for
 * ever. A pass is a list of named steps (pass_*); new periodic work is a
 * new step, not a branch in the loop. The SQL functions that start, stop
 * and report on the worker are in worker_control.c.
 *
 *-------------------------------------------------------------------------
 */
#include "shmem.h"

#include <signal.h>
#include <unistd.h>

#include "access/xact.h"
#include "catalog/pg_database.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "queue_cache.h"
#include "ticker.h"
#include "worker.h"

/* user lock class that guards "one worker per database" */
#define PGQUE_LOCK_CLASS	0x70677175	/* 'pgqu' */

bool		pgque_enabled = true;
int			pgque_tick_period = 2;
int			pgque_tick_defer = 20;
int			pgque_naptime = 250;
int			pgque_maint_period = 30;

/* worker-local state */
static char my_dbname[NAMEDATALEN] = "?";
static PgqueDbSlot *my_slot = NULL;
static bool my_dynamic = false;
static MemoryContext pass_context = NULL;

/* last tick time and id per queue, for pgque.tick_period and holding */
#define MAX_TRACKED	256
static int32 tracked_queue[MAX_TRACKED];
static TimestampTz tracked_tick[MAX_TRACKED];
static int64 tracked_id[MAX_TRACKED];
static int	ntracked = 0;

/* pgque.queue's OID, the key of the shared queue cache; read in each tick step */
static Oid	queue_relid = InvalidOid;

/* no tick step before this: the last one took longer than tick_period */
static TimestampTz tick_rest_until = 0;

/* queues woken up but not ticked yet because of pgque.tick_period */
static int32 waiting[PGQUE_DIRTY_MAX];
static int	nwaiting = 0;
static bool waiting_all = false;

/* when each kind of periodic work last ran, and what the next pass must do */
typedef struct WorkerState
{
	TimestampTz last_due_pass;	/* thresholds of every queue */
	TimestampTz last_maint;		/* rotation */
	int64		history_next;	/* where the batch history sweep goes on */
	int			maint_runs;		/* maintenance runs so far */
	int			history_swept;	/* the run that last swept from the start */
	TimestampTz next_retry;		/* the next retry due, 0 if none */
	bool		check_retries;	/* look at retry_queue and delays again */
	TimestampTz last_retry_pass;	/* when pass_retries last planned */
	TimestampTz next_schedule;	/* the earliest next run of a schedule, 0 if none */
	bool		check_schedules;	/* look at the schedules again */
	long		wait_ms;		/* how long the next sleep may be */
} WorkerState;

void
pgque_worker_init(void)
{
	DefineCustomBoolVariable("pgque.enabled",
							 "Runs the pgque background workers.",
							 "When off, the launcher starts no workers and running ones exit.",
							 &pgque_enabled, true, PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("pgque.tick_period",
							"Minimum time between two ticks of a queue that keeps receiving events.",
							"A committed send wakes the worker, which ticks the queue at once "
							"unless it ticked less than this long ago.",
							&pgque_tick_period, 2, 0, 60000, PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pgque.tick_defer",
							"Longest time the worker holds back a tick that no consumer waits for.",
							"While no receive has reached a queue's newest tick, the worker ticks "
							"the queue at most this long after its last tick (never later than "
							"ticker_max_lag); 0 ticks every tick_period as long as events come.",
							&pgque_tick_defer, 20, 0, 60000, PGC_SIGHUP, GUC_UNIT_MS,
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

/* Has pgque.stop() told us to go? */
static bool
stop_requested(void)
{
	bool		stop;

	if (my_slot == NULL)
		return false;
	SpinLockAcquire(&my_slot->mutex);
	stop = my_slot->exit_reason == PGQUE_EXIT_DISABLED;
	SpinLockRelease(&my_slot->mutex);
	return stop;
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
		/* short statements run many times: never worth compiling */
		{"jit", "off"},
		{"plpgsql.variable_conflict", "error"},
		{"plpgsql.extra_errors", "none"},
		{"plpgsql.extra_warnings", "none"},
	};
	int			i;

	for (i = 0; i < (int) lengthof(pinned); i++)
		SetConfigOption(pinned[i][0], pinned[i][1], PGC_SUSET, PGC_S_OVERRIDE);
}

/* When the worker last ticked queue_id, and *id that tick (0 if unknown). */
static TimestampTz
tracked_last_tick(int32 queue_id, int64 *id)
{
	int			i;

	for (i = 0; i < ntracked; i++)
		if (tracked_queue[i] == queue_id)
		{
			*id = tracked_id[i];
			return tracked_tick[i];
		}
	*id = 0;
	return 0;
}

static void
track_tick(int32 queue_id, TimestampTz when, int64 id)
{
	int			i;

	for (i = 0; i < ntracked; i++)
		if (tracked_queue[i] == queue_id)
		{
			tracked_tick[i] = when;
			tracked_id[i] = id;
			return;
		}
	if (ntracked == MAX_TRACKED)
		ntracked = 0;			/* forget; costs at most one early tick */
	tracked_queue[ntracked] = queue_id;
	tracked_tick[ntracked] = when;
	tracked_id[ntracked] = id;
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
 * Run fn in its own transaction. Errors are reported in full (SQLSTATE,
 * detail, context: EmitErrorReport, as PostgreSQL's own workers do), rolled
 * back and kept for pgque.status(); returns false after one.
 */
static bool
run_step(void (*fn) (void *), void *arg, const char *what)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	volatile bool ok = true;

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
		errcontext("pgque worker for database \"%s\": %s", my_dbname, what);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		if (my_slot != NULL)
		{
			SpinLockAcquire(&my_slot->mutex);
			snprintf(my_slot->last_error, sizeof(my_slot->last_error), "%s: %s",
					 what, edata->message);
			my_slot->last_error_at = GetCurrentTimestamp();
			my_slot->errors++;
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

	queue_relid = pgque_relation_oid("queue");
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
		{
			int64		id = pgque_tick_queue(ids[i], PGQUE_TICK_IF_ACTIVITY, true);

			if (id != 0)
			{
				track_tick(ids[i], GetCurrentTimestamp(), id);
				work->ticked++;
			}
		}
		return;
	}
	for (i = 0; i < work->n; i++)
	{
		int64		id = pgque_tick_queue(work->ids[i], PGQUE_TICK_NOW, true);

		if (id != 0)
		{
			track_tick(work->ids[i], GetCurrentTimestamp(), id);
			work->ticked++;
		}
	}
}

static void
step_tick_due(void *arg)
{
	int		   *ticked = arg;

	*ticked = pgque_tick_all(true);
}

/*
 * When is the next retry or delayed event due (extension/55_delay.sql)?
 * 0 = none scheduled.
 */
static void
step_next_retry(void *arg)
{
	static SPIPlanPtr plan;
	TimestampTz *next = arg;
	bool		isnull;
	Datum		d;

	if (pgque_execute_plan(pgque_plan(&plan,
									  "select least("
									  "(select pg_catalog.min(ev_retry_after) from pgque.retry_queue),"
									  " pgque._delay_next_due())",
									  0, NULL),
						   NULL, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not plan retries and delayed events");
	d = pgque_spi_value_opt(0, 1, &isnull);
	*next = isnull ? 0 : DatumGetTimestampTz(d);
}

/* When is the next schedule due (extension/58_schedule.sql)? 0 = none. */
static void
step_next_schedule(void *arg)
{
	static SPIPlanPtr plan;
	TimestampTz *next = arg;
	bool		isnull;
	Datum		d;

	if (pgque_execute_plan(pgque_plan(&plan, "select pgque._schedule_next_due()", 0, NULL),
						   NULL, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not plan schedules");
	d = pgque_spi_value_opt(0, 1, &isnull);
	*next = isnull ? 0 : DatumGetTimestampTz(d);
}

static void
step_sql(void *arg)
{
	if (pgque_execute((const char *) arg, false, 0) < 0)
		elog(ERROR, "could not run %s", (const char *) arg);
}

/*
 * May queue_id's tick, due now by tick_period, be held back (see the file
 * header)? last and last_id: its last tick as tracked_last_tick has it.
 * Sets *until, when to tick it at the latest.
 */
static bool
hold_tick(int32 queue_id, TimestampTz last, int64 last_id, TimestampTz now,
		  TimestampTz *until)
{
	if (pgque_tick_defer <= pgque_tick_period || last_id == 0 || !OidIsValid(queue_relid))
	{
		/* not ours to hold: whatever was held, senders must wake us again */
		if (OidIsValid(queue_relid))
			queue_cache_release(queue_relid, queue_id);
		return false;
	}
	return queue_cache_hold(queue_relid, queue_id, last_id, last, now, pgque_tick_defer, until);
}

/* Take the queues that committed senders woke us for, plus waiting ones. */
static void
collect_woken(TickWork *work, bool *retries_changed, bool *schedules_changed,
			  TimestampTz now, long *wait_ms)
{
	int32		dirty[PGQUE_DIRTY_MAX];
	int			ndirty = 0;
	bool		all = false;
	int			i;

	work->n = 0;
	work->all = false;
	work->ticked = 0;
	*retries_changed = false;
	*schedules_changed = false;

	if (my_slot != NULL)
	{
		SpinLockAcquire(&my_slot->mutex);
		ndirty = my_slot->ndirty;
		memcpy(dirty, my_slot->dirty, sizeof(int32) * ndirty);
		all = my_slot->dirty_all;
		*retries_changed = my_slot->retries_changed;
		*schedules_changed = my_slot->schedules_changed;
		my_slot->ndirty = 0;
		my_slot->dirty_all = false;
		my_slot->retries_changed = false;
		my_slot->schedules_changed = false;
		SpinLockRelease(&my_slot->mutex);
	}
	for (i = 0; i < ndirty; i++)
		remember_waiting(dirty[i]);
	if (all)
		waiting_all = true;

	if (waiting_all)
	{
		/*
		 * Senders of held queues must wake us again: we forget them here.
		 * Also a new worker's first pass, which drops a predecessor's holds.
		 */
		queue_cache_release_all();
		work->all = true;
		waiting_all = false;
		nwaiting = 0;
		return;
	}

	/* the last tick step took long: rest as long (see the file header) */
	if (now < tick_rest_until)
	{
		*wait_ms = Min(*wait_ms, (tick_rest_until - now + 999) / 1000);
		return;
	}

	/*
	 * Keep the ones that ticked less than tick_period ago for later, and
	 * those whose tick nobody waits for until their deadline.
	 */
	ndirty = nwaiting;
	nwaiting = 0;
	for (i = 0; i < ndirty; i++)
	{
		int32		id = waiting[i];
		int64		last_id;
		TimestampTz last = tracked_last_tick(id, &last_id);
		TimestampTz ready = TimestampTzPlusMilliseconds(last, pgque_tick_period);
		TimestampTz until;

		if (ready <= now && hold_tick(id, last, last_id, now, &until))
			ready = until;
		if (ready <= now)
			work->ids[work->n++] = id;
		else
		{
			waiting[nwaiting++] = id;
			*wait_ms = Min(*wait_ms, (ready - now + 999) / 1000);
		}
	}
}

/*
 * Connect, pin the settings, take the slot and the guard lock, and make
 * sure this database wants a worker; leave (with the reason in the slot)
 * otherwise.
 */
static void
worker_attach(Oid dboid)
{
	bool		installed;

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
}

/* Leave when asked to: a signal, a reload that turns pgque off, stop(), DROP DATABASE. */
static void
worker_check_exit(void)
{
	CHECK_FOR_INTERRUPTS();
	if (ConfigReloadPending)
	{
		ConfigReloadPending = false;
		ProcessConfigFile(PGC_SIGHUP);
	}
	if (!pgque_enabled)
		worker_exit(PGQUE_EXIT_OFF, "pgque.enabled is off");
	if (stop_requested())
		worker_exit(PGQUE_EXIT_DISABLED, "stopped by pgque.stop()");
	if (database_wanted())
		worker_exit(PGQUE_EXIT_DB_BUSY,
					"the database is being dropped or used as a template");
}

/* 1. queues whose senders committed, once their tick_period has passed */
static void
pass_tick_woken(WorkerState *st, TimestampTz now, bool *retries_changed,
				bool *schedules_changed)
{
	TickWork	work;

	collect_woken(&work, retries_changed, schedules_changed, now, &st->wait_ms);
	if (work.n > 0 || work.all)
	{
		TimestampTz end;

		run_step(step_tick_woken, &work, "ticking queues with new events");
		note_ticks(work.ticked);
		end = GetCurrentTimestamp();
		/*
		 * Only a step over several queues: one tick that took long was
		 * slowed down by others (the CPU, a lock), and resting after it
		 * would only delay the next.
		 */
		if (work.ticked > 1 && end - now > (int64) pgque_tick_period * 1000)
			tick_rest_until = end + (end - now);
	}
}

/* 2. every naptime: the queues' own thresholds (idle period, max lag, force_tick) */
static void
pass_tick_due(WorkerState *st, TimestampTz now)
{
	int			ticked = 0;

	if (now < TimestampTzPlusMilliseconds(st->last_due_pass, pgque_naptime))
		return;
	run_step(step_tick_due, &ticked, "ticking due queues");
	note_ticks(ticked);
	st->last_due_pass = now;
	st->check_retries = true;
	/* a schedule changed by hand, or by a backend that could not wake us */
	st->check_schedules = true;
}

/*
 * 3. retries and delayed events that are due go into their queues. At most
 * every RETRY_PASS_MS: producers of delayed events wake us at every commit,
 * and a bucket whose span is over keeps asking to be freed while a
 * producer is still inside it.
 */
#define RETRY_PASS_MS	50

static void
pass_retries(WorkerState *st, TimestampTz now, bool retries_changed)
{
	if (retries_changed)
		st->check_retries = true;
	if (st->check_retries || (st->next_retry != 0 && st->next_retry <= now))
	{
		TimestampTz allowed = TimestampTzPlusMilliseconds(st->last_retry_pass, RETRY_PASS_MS);

		if (now < allowed)
		{
			st->wait_ms = Min(st->wait_ms, (allowed - now + 999) / 1000);
			return;
		}
		st->last_retry_pass = now;
		st->check_retries = false;
		if (run_step(step_next_retry, &st->next_retry, "planning retries") &&
			st->next_retry != 0 && st->next_retry <= now)
		{
			run_step(step_sql, "select pgque.maint_retry_events()", "moving due retries and delayed events");
			run_step(step_next_retry, &st->next_retry, "planning retries");
		}
	}
	if (st->next_retry > now)
		st->wait_ms = Min(st->wait_ms, (st->next_retry - now + 999) / 1000);
	else if (st->next_retry != 0)
		st->wait_ms = Min(st->wait_ms, RETRY_PASS_MS);
}

/*
 * 4. schedules whose next run has come send their event, all due ones in
 * one transaction (which also moves each one's next run: a crash before
 * the commit sends nothing and the next pass sends it). Then plan again.
 */
#define SCHEDULE_RECHECK_MS	100

static void
pass_schedules(WorkerState *st, TimestampTz now, bool schedules_changed)
{
	if (schedules_changed)
		st->check_schedules = true;
	if (st->next_schedule != 0 && st->next_schedule <= now)
	{
		st->check_schedules = true;
		if (!run_step(step_sql, "select pgque._schedule_run()", "sending scheduled events"))
		{
			/* try again in a second, not on every pass */
			st->next_schedule = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), 1000);
			st->check_schedules = false;
		}
	}
	if (st->check_schedules)
	{
		st->check_schedules = false;
		if (!run_step(step_next_schedule, &st->next_schedule, "planning schedules"))
			st->next_schedule = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), 1000);
	}
	if (st->next_schedule > now)
		st->wait_ms = Min(st->wait_ms, (st->next_schedule - now + 999) / 1000);
	else if (st->next_schedule != 0)
		/* due but skipped: locked by a transaction that changes it */
		st->wait_ms = Min(st->wait_ms, SCHEDULE_RECHECK_MS);
}

/*
 * 5. every maint_period: rotation and housekeeping. Each part in its own
 * transaction (step 2 of a rotation must be in a later one than step 1),
 * with the queues woken meanwhile ticked after it.
 */
#define HISTORY_FULL_EVERY	20	/* runs: every 10 minutes at the default maint_period */
#define HISTORY_CHUNK		1000	/* batch rows looked at per transaction */
#define HISTORY_OLD_XACT	"5 minutes"	/* a transaction this old: no sweep from 0 */

typedef struct TrimWork
{
	int64		next_id;		/* in: from here; out: the next chunk's start */
	bool		done;			/* out: reached the recent rows */
} TrimWork;

static void
step_trim_history(void *arg)
{
	static SPIPlanPtr plan;
	TrimWork   *work = arg;
	Oid			types[2] = {INT8OID, INT4OID};
	Datum		values[2] = {Int64GetDatum(work->next_id), Int32GetDatum(HISTORY_CHUNK)};
	bool		isnull;
	Datum		d;

	if (pgque_execute_plan(pgque_plan(&plan,
									  "select t.next_id, t.done from pgque._trim_batch_history($1, $2) t",
									  2, types),
						   values, NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not trim the batch history");
	d = pgque_spi_value_opt(0, 1, &isnull);
	if (!isnull)
		work->next_id = DatumGetInt64(d);
	d = pgque_spi_value_opt(0, 2, &isnull);
	work->done = isnull || DatumGetBool(d);
}

/*
 * May the sweep start from the first row? Not while a transaction older
 * than HISTORY_OLD_XACT runs: the rows deleted since it began are still
 * there for it, and a sweep from the start would read them all.
 */
static void
step_old_xact(void *arg)
{
	static SPIPlanPtr plan;
	bool	   *old = arg;
	bool		isnull;
	Datum		d;

	if (pgque_execute_plan(pgque_plan(&plan,
									  "select coalesce(pg_catalog.max(pg_catalog.now()"
									  " OPERATOR(pg_catalog.-) a.xact_start)"
									  " OPERATOR(pg_catalog.>) interval '" HISTORY_OLD_XACT "', false)"
									  "  from pg_catalog.pg_stat_activity a"
									  " where a.backend_xmin is not null or a.backend_xid is not null",
									  0, NULL),
						   NULL, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look for old transactions");
	d = pgque_spi_value_opt(0, 1, &isnull);
	*old = !isnull && DatumGetBool(d);
}

/* a maintenance part, then the ticks that waited for it */
static void
maint_part(WorkerState *st, void (*fn) (void *), void *arg, const char *what)
{
	bool		retries_changed = false;
	bool		schedules_changed = false;

	run_step(fn, arg, what);
	pass_tick_woken(st, GetCurrentTimestamp(), &retries_changed, &schedules_changed);
	st->check_retries |= retries_changed;
	st->check_schedules |= schedules_changed;
}

static void
pass_rotation(WorkerState *st, TimestampTz now)
{
	TrimWork	trim;
	bool		old_xact = true;
	int			chunks;

	if (now < TimestampTzPlusMilliseconds(st->last_maint, (int64) pgque_maint_period * 1000))
		return;
	maint_part(st, step_sql, "select pgque.maint_rotate_tables_step2()", "completing rotation");
	maint_part(st, step_sql, "select pgque._rotate_all()", "rotating tables");
	maint_part(st, step_sql, "select pgque.maint_dedup()", "rotating dedup tables");

	/* batch history: from where the last run stopped; now and then from the start */
	trim.next_id = st->history_next;
	if (st->history_next == 0 || st->maint_runs - st->history_swept >= HISTORY_FULL_EVERY)
	{
		if (run_step(step_old_xact, &old_xact, "looking for old transactions") && !old_xact)
		{
			trim.next_id = 0;
			st->history_swept = st->maint_runs;
		}
	}
	for (chunks = 0; chunks < 10000; chunks++)
	{
		trim.done = true;
		maint_part(st, step_trim_history, &trim, "trimming batch history");
		if (trim.done)
			break;
	}
	st->history_next = trim.next_id;

	maint_part(st, step_sql, "select pgque.maint_rotate_tables_step2()", "completing rotation");
	st->maint_runs++;
	st->last_maint = GetCurrentTimestamp();
}

/* One pass: every step, each in its own transaction(s). */
static void
worker_pass(WorkerState *st)
{
	TimestampTz now = GetCurrentTimestamp();
	bool		retries_changed;
	bool		schedules_changed;

	MemoryContextSwitchTo(pass_context);
	st->wait_ms = pgque_naptime;

	pass_tick_woken(st, now, &retries_changed, &schedules_changed);
	pass_tick_due(st, now);
	pass_retries(st, now, retries_changed);
	pass_schedules(st, now, schedules_changed);
	pass_rotation(st, now);

	if (my_slot != NULL)
	{
		SpinLockAcquire(&my_slot->mutex);
		my_slot->last_pass = GetCurrentTimestamp();
		SpinLockRelease(&my_slot->mutex);
	}
	MemoryContextSwitchTo(TopMemoryContext);
	MemoryContextReset(pass_context);
}

/*
 * Sleep until a committed send wakes us or periodic work is due.
 *
 * A queue waiting out its tick_period ticks when that ends, whatever
 * commits meanwhile: sleep without watching the latch. Otherwise a busy
 * queue's every commit would wake us (thousands of times a second, each a
 * signal and a context switch) only to wait again. Senders' commits still
 * set the latch and record their queues; the next pass picks them up.
 * Other queues wait at most that long. (At least 1 ms then: a period ending
 * within the millisecond would otherwise spin.)
 */
static void
worker_sleep(WorkerState *st)
{
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz next_due = TimestampTzPlusMilliseconds(st->last_due_pass, pgque_naptime);
	TimestampTz next_maint = TimestampTzPlusMilliseconds(st->last_maint,
														 (int64) pgque_maint_period * 1000);
	long		wait_ms = st->wait_ms;
	bool		coalesce;
	bool		woken;

	wait_ms = Min(wait_ms, Max((next_due - now) / 1000, 0));
	wait_ms = Min(wait_ms, Max((next_maint - now) / 1000, 0));
	coalesce = nwaiting > 0 && !waiting_all &&
		(wait_ms <= pgque_tick_period || now < tick_rest_until);
	(void) WaitLatch(MyLatch,
					 (coalesce ? 0 : WL_LATCH_SET) | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					 Max(wait_ms, coalesce ? 1 : 0), PG_WAIT_EXTENSION);
	woken = MyLatch->is_set;
	ResetLatch(MyLatch);

	/*
	 * Without shared memory a sender's commit only sets our latch; it cannot
	 * say which queue, so look at all of them.
	 */
	if (woken && my_slot == NULL)
		waiting_all = true;
}

void
pgque_worker_main(Datum arg)
{
	WorkerState st = {0};

	my_dynamic = MyBgworkerEntry->bgw_extra[0] != 0;
	st.check_retries = true;
	st.check_schedules = true;
	worker_attach(DatumGetObjectId(arg));
	for (;;)
	{
		worker_check_exit();
		worker_pass(&st);
		worker_sleep(&st);
	}
}
