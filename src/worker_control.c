/*-------------------------------------------------------------------------
 *
 * worker_control.c
 *		SQL functions that start, stop and report on the worker.
 *
 * pgque.start() / pgque.stop() (through _start/_stop), pgque._worker_status()
 * behind status(), the commit-time notes the SQL functions leave for the
 * worker and the launcher, and _launch_worker() for tests. The worker itself
 * is in worker.c, the launcher in launcher.c.
 *
 * Locking: every slot field is read and written under the slot's spinlock
 * (shmem.h); pgque_shared->launcher_pid is an unlocked hint.
 *
 *-------------------------------------------------------------------------
 */
#include "shmem.h"

#include <signal.h>

#include "access/xlog.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "wakeup.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(pgque_start);
PG_FUNCTION_INFO_V1(pgque_stop);
PG_FUNCTION_INFO_V1(pgque_worker_status);
PG_FUNCTION_INFO_V1(pgque_note_launcher_sql);
PG_FUNCTION_INFO_V1(pgque_note_retries_sql);
PG_FUNCTION_INFO_V1(pgque_note_schedules_sql);
PG_FUNCTION_INFO_V1(pgque_wake_ticker);
PG_FUNCTION_INFO_V1(pgque_launch_worker);

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
			/* ESRCH: it exited between the look-up and the signal */
			if (kill(pid, SIGTERM) != 0 && errno != ESRCH)
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
 *		launcher_pid int4, errors int8)
 *
 * (errors is missing from the 0.1.0 definition, which the new library
 * serves until ALTER EXTENSION UPDATE: it is filled only if asked for.)
 *
 * mode: 'launcher' (preloaded), 'dynamic' (pgque.start() without preload)
 * or 'manual' (no worker).
 */
Datum
pgque_worker_status(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		v[11];
	bool		n[11];
	PgqueDbSlot *slot = pgque_slot_find(MyDatabaseId);
	pid_t		pid = find_worker_pid();
	int			i;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	for (i = 0; i < 11; i++)
		n[i] = true;
	if (desc->natts > 11)
		elog(ERROR, "pgque._worker_status() returns %d columns, this library knows 11", desc->natts);

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
		uint64		errors;
		char		last_error[sizeof(slot->last_error)];

		SpinLockAcquire(&slot->mutex);
		started_at = slot->started_at;
		last_tick = slot->last_tick;
		last_pass = slot->last_pass;
		ticks = slot->ticks;
		last_error_at = slot->last_error_at;
		errors = slot->errors;
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
		v[10] = Int64GetDatum((int64) errors);
		n[10] = false;
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

/* SQL: pgque._note_schedules() -- a schedule changed: re-plan at commit */
Datum
pgque_note_schedules_sql(PG_FUNCTION_ARGS)
{
	pgque_note_schedules();
	PG_RETURN_VOID();
}

/* SQL: pgque._wake_ticker(queue_id int4) -- tick this queue after commit */
Datum
pgque_wake_ticker(PG_FUNCTION_ARGS)
{
	if (!PG_ARGISNULL(0))
		pgque_note_event_insert(PG_GETARG_INT32(0), 0);
	PG_RETURN_VOID();
}
