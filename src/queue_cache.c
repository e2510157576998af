/*-------------------------------------------------------------------------
 *
 * queue_cache.c
 *		What a producer needs to know about a queue, without reading
 *		pgque.queue on every send.
 *
 * Two caches:
 *
 *	 - per backend: queue name -> queue id, OIDs of the three event tables
 *	   and of the event sequence. Names and OIDs only change with
 *	   drop_queue / create_queue / DROP EXTENSION, which invalidate a
 *	   relation we watch (pgque.queue or an event table); a relcache
 *	   callback then empties the cache.
 *
 *	 - in shared memory (preloaded only): per queue, the current event
 *	   table, queue_disable_insert, queue_restricted and
 *	   queue_delivery_delay, with a generation
 *	   number. A row trigger on pgque.queue notes every UPDATE or DELETE of
 *	   a queue, and this module's commit callback marks the entry invalid
 *	   and bumps the generation once the change is committed and visible. A
 *	   producer that finds the entry invalid reads pgque.queue with a fresh
 *	   snapshot, as without the cache, and stores what it read only if the
 *	   generation it saw before taking that snapshot is still current.
 *
 * A transaction that changed a queue's row itself never uses the shared
 * entry of that queue (nor stores into it): it must see its own change
 * (say, queue_disable_insert), which no other backend may see yet.
 *
 * The entry also carries what adaptive ticking needs (worker.c): the
 * highest tick a receive reached (consumers raise it), the tick after which
 * the worker holds the queue's next tick back (the worker sets and clears
 * it) and how many events committed since (senders add). These survive
 * invalidation; a new key resets them. Whoever finds no entry of a queue
 * behaves as without holding: the worker ticks, senders wake it.
 *
 * Why rotation stays safe (see extension/70_maint.sql): a producer uses the
 * shared entry only after its xid is assigned. If it still writes the old
 * table through the entry, the entry was valid when it looked, so the
 * invalidation by step 1's commit came later. Step 2 refuses to record its
 * bound while the entry still shows the old table valid
 * (pgque._cache_current), so its bound is read after the producer's look,
 * hence above the producer's xid -- the same guarantee as the fresh read.
 *
 * Locking: an entry's key and contents are read and written under its
 * spinlock, held for a few instructions; claiming a free entry also holds
 * the cache's LWLock (cache_lock). Readers may scan keys without the
 * spinlock and confirm under it. The cache requests its own shared memory
 * and lock (queue_cache_shmem_init), only when pgque is preloaded.
 *
 *-------------------------------------------------------------------------
 */
#include "pgque.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "queue_cache.h"

PG_FUNCTION_INFO_V1(pgque_queue_changed);
PG_FUNCTION_INFO_V1(pgque_cache_current);

#define QUEUE_CACHE_SIZE	1024

typedef struct SharedQueueEntry
{
	slock_t		mutex;
	Oid			dboid;			/* InvalidOid: free */
	Oid			queue_relid;	/* pgque.queue: a new one after CREATE EXTENSION */
	int32		queue_id;
	uint32		gen;
	bool		valid;
	int32		cur_table;
	bool		disable_insert;
	bool		restricted;
	int64		delivery_delay;
	int32		ticker_max_count;	/* as pgque.queue says, while valid */
	int64		ticker_max_lag;
	/* adaptive ticking, under mutex like the rest: */
	int64		reached;		/* consumers: highest tick a receive reached */
	int64		held_after;		/* worker: holding back the tick after this
								 * one; 0 when not holding */
	int64		held_events;	/* senders: events committed while held */
} SharedQueueEntry;

static SharedQueueEntry *shared_entries = NULL;
static LWLock *cache_lock = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* backend-local */
typedef struct LocalQueue
{
	char		name[NAMEDATALEN];	/* hash key */
	int32		queue_id;
	Oid			table_oid[PGQUE_NTABLES];
	Oid			seq_oid;
} LocalQueue;

static HTAB *local_queues = NULL;
static Oid	local_queue_relid = InvalidOid;

static void queue_cache_invalidate(Oid queue_relid, int32 queue_id);
static void queue_cache_invalidate_all(Oid queue_relid);

/* queues whose pgque.queue row this transaction changed (the trigger) */
#define CHANGED_MAX	16
static Oid	changed_relid = InvalidOid;
static int32 changed[CHANGED_MAX];
static int	nchanged = 0;
static bool changed_overflow = false;

static Size
cache_size(void)
{
	return mul_size(QUEUE_CACHE_SIZE, sizeof(SharedQueueEntry));
}

static void
cache_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(cache_size());
	RequestNamedLWLockTranche("pgque queue cache", 1);
}

static void
cache_shmem_startup(void)
{
	bool		found;
	int			i;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared_entries = ShmemInitStruct("pgque queue cache", cache_size(), &found);
	if (!found)
	{
		memset(shared_entries, 0, cache_size());
		for (i = 0; i < QUEUE_CACHE_SIZE; i++)
			SpinLockInit(&shared_entries[i].mutex);
	}
	cache_lock = &(GetNamedLWLockTranche("pgque queue cache"))->lock;
	LWLockRelease(AddinShmemInitLock);
}

/* The shared part exists only when pgque is preloaded. */
static void
queue_cache_shmem_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = cache_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = cache_shmem_startup;
}

static inline uint32
slot_of(Oid dboid, Oid queue_relid, int32 queue_id)
{
	uint32		h = (uint32) dboid * 2654435761u ^ (uint32) queue_relid * 40503u ^ (uint32) queue_id;

	return h % QUEUE_CACHE_SIZE;
}

static inline bool
key_is(SharedQueueEntry *e, Oid dboid, Oid queue_relid, int32 queue_id)
{
	return e->dboid == dboid && e->queue_relid == queue_relid && e->queue_id == queue_id;
}

/* The entry of a queue, or NULL; with claim, take a free or invalid one. */
static SharedQueueEntry *
find_entry(Oid queue_relid, int32 queue_id, bool claim)
{
	uint32		start = slot_of(MyDatabaseId, queue_relid, queue_id);
	uint32		i;

	if (shared_entries == NULL)
		return NULL;
	for (i = 0; i < QUEUE_CACHE_SIZE; i++)
	{
		SharedQueueEntry *e = &shared_entries[(start + i) % QUEUE_CACHE_SIZE];

		if (key_is(e, MyDatabaseId, queue_relid, queue_id))
			return e;
		if (!OidIsValid(e->dboid))
			break;				/* keys are never removed from a probe chain */
	}
	if (!claim)
		return NULL;

	LWLockAcquire(cache_lock, LW_EXCLUSIVE);
	for (i = 0; i < QUEUE_CACHE_SIZE; i++)
	{
		SharedQueueEntry *e = &shared_entries[(start + i) % QUEUE_CACHE_SIZE];
		bool		mine = false;

		SpinLockAcquire(&e->mutex);
		if (key_is(e, MyDatabaseId, queue_relid, queue_id))
			mine = true;
		else if (!OidIsValid(e->dboid) || !e->valid)
		{
			/* free, or holds nothing worth keeping: (re)use it */
			e->dboid = MyDatabaseId;
			e->queue_relid = queue_relid;
			e->queue_id = queue_id;
			e->gen++;
			e->valid = false;
			e->reached = 0;
			e->held_after = 0;
			e->held_events = 0;
			mine = true;
		}
		SpinLockRelease(&e->mutex);
		if (mine)
		{
			LWLockRelease(cache_lock);
			return e;
		}
	}
	LWLockRelease(cache_lock);
	return NULL;
}

static void
local_reset(Datum arg, Oid relid)
{
	if (local_queues == NULL)
		return;
	if (OidIsValid(relid) && relid != local_queue_relid)
	{
		HASH_SEQ_STATUS seq;
		LocalQueue *lq;
		bool		ours = false;

		hash_seq_init(&seq, local_queues);
		while ((lq = hash_seq_search(&seq)) != NULL)
		{
			int			k;

			for (k = 0; k < PGQUE_NTABLES; k++)
				ours |= lq->table_oid[k] == relid;
			ours |= lq->seq_oid == relid;
		}
		if (!ours)
			return;
	}
	hash_destroy(local_queues);
	local_queues = NULL;
	local_queue_relid = InvalidOid;
}

/* Did this transaction change queue_id's row of pgque.queue? */
static bool
changed_here(int32 queue_id)
{
	int			i;

	if (changed_overflow)
		return true;
	for (i = 0; i < nchanged; i++)
		if (changed[i] == queue_id)
			return true;
	return false;
}

static void
note_changed(Oid queue_relid, int32 queue_id)
{
	changed_relid = queue_relid;
	if (changed_here(queue_id))
		return;
	if (nchanged < CHANGED_MAX)
		changed[nchanged++] = queue_id;
	else
		changed_overflow = true;
}

/*
 * At commit, after the change is visible to new snapshots: invalidate the
 * shared entries of the queues this transaction changed. Cannot fail.
 */
static void
xact_callback(XactEvent event, void *arg)
{
	int			i;

	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			for (i = 0; i < nchanged; i++)
				queue_cache_invalidate(changed_relid, changed[i]);
			if (changed_overflow)
				queue_cache_invalidate_all(changed_relid);
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			break;
		default:
			return;
	}
	nchanged = 0;
	changed_overflow = false;
}

void
pgque_queue_cache_init(void)
{
	CacheRegisterRelcacheCallback(local_reset, (Datum) 0);
	RegisterXactCallback(xact_callback, NULL);
	if (process_shared_preload_libraries_in_progress)
		queue_cache_shmem_init();
}

static HTAB *
local_table(void)
{
	if (local_queues == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = NAMEDATALEN;
		ctl.entrysize = sizeof(LocalQueue);
		ctl.hcxt = TopMemoryContext;
		local_queues = hash_create("pgque queues", 16, &ctl,
								   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
		local_queue_relid = pgque_relation_oid("queue");
	}
	return local_queues;
}

/*
 * Fast path for a producer whose xid is assigned already: fill in q and the
 * relation OIDs from the caches and return true. Otherwise return false
 * and, when the queue is known locally, set *have_gen and *gen: the
 * generation to pass to queue_cache_store after the fresh read.
 */
bool
queue_cache_lookup(const char *queue_name, PgqueQueue *q, Oid *table_oid,
				   Oid *seq_oid, uint32 *gen, bool *have_gen)
{
	LocalQueue *lq;
	SharedQueueEntry *e;
	bool		hit = false;

	*have_gen = false;
	if (shared_entries == NULL || strlen(queue_name) >= NAMEDATALEN)
		return false;
	lq = hash_search(local_table(), queue_name, HASH_FIND, NULL);
	if (lq == NULL || changed_here(lq->queue_id))
		return false;			/* unknown, or our own change must be seen */
	e = find_entry(local_queue_relid, lq->queue_id, true);
	if (e == NULL)
		return false;

	SpinLockAcquire(&e->mutex);
	if (key_is(e, MyDatabaseId, local_queue_relid, lq->queue_id))
	{
		*gen = e->gen;
		*have_gen = true;
		if (e->valid)
		{
			hit = true;
			q->cur_table = e->cur_table;
			q->disable_insert = e->disable_insert;
			q->restricted = e->restricted;
			q->delivery_delay = e->delivery_delay;
		}
	}
	SpinLockRelease(&e->mutex);
	if (!hit)
		return false;

	q->queue_id = lq->queue_id;
	strlcpy(q->queue_name, queue_name, NAMEDATALEN);
	*table_oid = lq->table_oid[q->cur_table];
	*seq_oid = lq->seq_oid;
	return true;
}

/*
 * After a fresh read of q (with a snapshot taken after gen was read):
 * remember the OIDs locally, and q's current table in shared memory if no
 * change of the queue committed in between.
 */
void
queue_cache_store(const PgqueQueue *q, const Oid *table_oid, Oid seq_oid,
				  bool have_gen, uint32 gen)
{
	LocalQueue *lq;
	SharedQueueEntry *e;
	bool		found;
	int			k;

	if (shared_entries == NULL)
		return;
	lq = hash_search(local_table(), q->queue_name, HASH_ENTER, &found);
	if (found && lq->queue_id != q->queue_id)
		have_gen = false;		/* the name belongs to a new queue now */
	lq->queue_id = q->queue_id;
	for (k = 0; k < PGQUE_NTABLES; k++)
		lq->table_oid[k] = table_oid[k];
	lq->seq_oid = seq_oid;

	if (!have_gen || changed_here(q->queue_id))
		return;					/* next time: read the generation first */
	e = find_entry(local_queue_relid, q->queue_id, false);
	if (e == NULL)
		return;
	SpinLockAcquire(&e->mutex);
	if (key_is(e, MyDatabaseId, local_queue_relid, q->queue_id) && e->gen == gen)
	{
		e->valid = true;
		e->cur_table = q->cur_table;
		e->disable_insert = q->disable_insert;
		e->restricted = q->restricted;
		e->delivery_delay = q->delivery_delay;
		e->ticker_max_count = q->ticker_max_count;
		e->ticker_max_lag = q->ticker_max_lag;
	}
	SpinLockRelease(&e->mutex);
}

/* Commit callback: a change of this queue is committed and visible. */
static void
queue_cache_invalidate(Oid queue_relid, int32 queue_id)
{
	SharedQueueEntry *e = find_entry(queue_relid, queue_id, false);

	if (e == NULL)
		return;
	SpinLockAcquire(&e->mutex);
	if (key_is(e, MyDatabaseId, queue_relid, queue_id))
	{
		e->gen++;
		e->valid = false;
	}
	SpinLockRelease(&e->mutex);
}

/* Commit callback: too many queues changed to name them: forget them all. */
static void
queue_cache_invalidate_all(Oid queue_relid)
{
	int			i;

	if (shared_entries == NULL)
		return;
	for (i = 0; i < QUEUE_CACHE_SIZE; i++)
	{
		SharedQueueEntry *e = &shared_entries[i];

		SpinLockAcquire(&e->mutex);
		if (e->dboid == MyDatabaseId && e->queue_relid == queue_relid)
		{
			e->gen++;
			e->valid = false;
		}
		SpinLockRelease(&e->mutex);
	}
}

/*
 * Trigger after UPDATE or DELETE on pgque.queue, for each row: invalidate
 * the queue's shared entry when this transaction commits.
 */
Datum
pgque_queue_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	bool		isnull;
	Datum		id;
	int			attno;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "pgque._queue_changed must be called as a trigger");
	attno = SPI_fnumber(RelationGetDescr(trigdata->tg_relation), "queue_id");
	id = heap_getattr(trigdata->tg_trigtuple, attno,
					  RelationGetDescr(trigdata->tg_relation), &isnull);
	if (!isnull)
		note_changed(RelationGetRelid(trigdata->tg_relation), DatumGetInt32(id));
	return PointerGetDatum(NULL);
}

/*
 * SQL: pgque._cache_current(queue_id int4, cur_table int4) -> bool
 *
 * False while some backend may still use a cached copy that shows an older
 * current table as valid; rotation step 2 waits for true.
 */
Datum
pgque_cache_current(PG_FUNCTION_ARGS)
{
	SharedQueueEntry *e;
	bool		ok = true;
	Oid			queue_relid;

	if (shared_entries == NULL || PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_BOOL(true);
	queue_relid = pgque_relation_oid("queue");
	e = find_entry(queue_relid, PG_GETARG_INT32(0), false);
	if (e == NULL)
		PG_RETURN_BOOL(true);
	SpinLockAcquire(&e->mutex);
	if (key_is(e, MyDatabaseId, queue_relid, PG_GETARG_INT32(0)) && e->valid)
		ok = e->cur_table == PG_GETARG_INT32(1);
	SpinLockRelease(&e->mutex);
	PG_RETURN_BOOL(ok);
}

/*
 * Adaptive ticking (worker.c). A tick only helps a consumer that waits for
 * it: one whose receive reached the queue's newest tick. The worker, about
 * to tick queue_id whose newest tick it knows (last_tick, taken at
 * last_time), asks here whether it may hold the tick back instead: while
 * no receive reached last_tick, fewer than ticker_max_count events came
 * since, and until last_time + min(defer_ms, ticker_max_lag). Returns true
 * and the deadline in *until when it holds; false when it must tick now
 * (no entry, entry not valid, a consumer waits, or a bound is reached), and
 * then no hold is left set.
 *
 * The hold is published under the entry's spinlock, which consumers
 * (queue_cache_note_reached) and senders (queue_cache_note_committed) take
 * too: a consumer that reaches last_tick either came first (seen here) or
 * sees the hold and wakes the worker. A sender that sees the hold does not
 * wake the worker: the worker clears the hold before it takes the tick's
 * snapshot (here, or queue_cache_release), so that sender's commit is in
 * the snapshot.
 */
bool
queue_cache_hold(Oid queue_relid, int32 queue_id, int64 last_tick, TimestampTz last_time,
				 TimestampTz now, int defer_ms, TimestampTz *until)
{
	SharedQueueEntry *e = find_entry(queue_relid, queue_id, false);
	bool		hold = false;

	if (e == NULL)
		return false;
	SpinLockAcquire(&e->mutex);
	if (key_is(e, MyDatabaseId, queue_relid, queue_id))
	{
		int64		bound = Min((int64) defer_ms * 1000, e->ticker_max_lag);

		*until = last_time + bound;
		hold = e->valid && last_tick > 0 && e->reached < last_tick &&
			e->held_events < e->ticker_max_count && *until > now;
		if (!hold)
			e->held_events = 0;
		else if (e->held_after != last_tick)
			e->held_events = 0; /* a new hold: counts from here */
		e->held_after = hold ? last_tick : 0;
	}
	SpinLockRelease(&e->mutex);
	return hold;
}

/* The worker ticks queue_id now, or forgets it: no hold is left. */
void
queue_cache_release(Oid queue_relid, int32 queue_id)
{
	SharedQueueEntry *e = find_entry(queue_relid, queue_id, false);

	if (e == NULL)
		return;
	SpinLockAcquire(&e->mutex);
	if (key_is(e, MyDatabaseId, queue_relid, queue_id))
	{
		e->held_after = 0;
		e->held_events = 0;
	}
	SpinLockRelease(&e->mutex);
}

/*
 * The worker of this database starts, or forgets which queues it held:
 * clear every hold in this database, so that senders wake it again.
 */
void
queue_cache_release_all(void)
{
	int			i;

	if (shared_entries == NULL)
		return;
	for (i = 0; i < QUEUE_CACHE_SIZE; i++)
	{
		SharedQueueEntry *e = &shared_entries[i];

		SpinLockAcquire(&e->mutex);
		if (e->dboid == MyDatabaseId)
		{
			e->held_after = 0;
			e->held_events = 0;
		}
		SpinLockRelease(&e->mutex);
	}
}

/*
 * A receive of queue_id reached tick_id (its window ends there, or nothing
 * follows it). Returns true when the worker holds back the tick after
 * tick_id or an older one: it should be woken. Cannot fail.
 */
bool
queue_cache_note_reached(int32 queue_id, int64 tick_id)
{
	SharedQueueEntry *e;
	bool		wake = false;
	Oid			queue_relid;

	if (shared_entries == NULL || tick_id <= 0)
		return false;
	queue_relid = pgque_relation_oid("queue");
	e = find_entry(queue_relid, queue_id, false);
	if (e == NULL)
		return false;
	SpinLockAcquire(&e->mutex);
	if (key_is(e, MyDatabaseId, queue_relid, queue_id))
	{
		if (e->reached < tick_id)
			e->reached = tick_id;
		wake = e->held_after != 0 && tick_id >= e->held_after;
	}
	SpinLockRelease(&e->mutex);
	return wake;
}

/*
 * Commit callback of a sender that wrote nevents events into queue_id:
 * true when the worker holds the queue's tick back and these events do not
 * bring it to ticker_max_count -- the worker will tick it anyway, so the
 * sender need not wake it. Reads no catalog; cannot fail.
 */
bool
queue_cache_note_committed(int32 queue_id, int64 nevents)
{
	SharedQueueEntry *e;
	bool		held = false;

	if (shared_entries == NULL || !OidIsValid(local_queue_relid))
		return false;
	e = find_entry(local_queue_relid, queue_id, false);
	if (e == NULL)
		return false;
	SpinLockAcquire(&e->mutex);
	if (key_is(e, MyDatabaseId, local_queue_relid, queue_id) && e->held_after != 0)
	{
		e->held_events += nevents;
		held = e->held_events < e->ticker_max_count;
	}
	SpinLockRelease(&e->mutex);
	return held;
}
