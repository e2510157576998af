/*-------------------------------------------------------------------------
 *
 * heap_range.c
 *		Where the rows of a tick window lie in the event tables.
 *
 * A batch is the window (prev tick, cur tick]: the events of transactions
 * that cur's snapshot sees and prev's does not. Event tables only grow
 * between TRUNCATEs, so a window's rows lie in a block range of each table,
 * and a reader that knows the range scans it (a TID range scan) instead of
 * keeping an index on ev_txid, which cost producers most of what separated
 * them from a plain INSERT. This file says what the range is and why.
 *
 * 1. Where a transaction writes. send.c inserts with HEAP_INSERT_SKIP_FSM
 *    and forgets the backend's target block before a transaction's first
 *    insert into a table, so that insert goes to the last block or a new
 *    one, and every later one to the same block or a newer one. Hence:
 *    every row of transaction X in table t lies at or after block
 *    nblocks(t) - 1, nblocks read at any moment before X's first insert
 *    into t -- in particular before X got its xid. Event tables are created
 *    with vacuum_truncate = false, so a VACUUM never shortens them (a
 *    shorter table would take new rows below that bound). TRUNCATE, VACUUM
 *    FULL and table rewrites give the table a new file (relfilenode); a
 *    length is only ever compared with the length of the same file.
 *
 * 2. What a tick measures. With the three tables locked against TRUNCATE,
 *    the ticker takes the tick's snapshot, then reads each table's file
 *    and length (tick_heap), then the next xid N -- which becomes the
 *    snapshot's xmax (snapshot.c). So:
 *	   - upper bound: a transaction the snapshot sees committed before it,
 *		 so all its rows lie below tick_heap;
 *	   - lower bound: a transaction with xid >= N got it after tick_heap was
 *		 read, so by 1. its rows lie at or after tick_heap - 1.
 *
 * 3. Transactions that were running at a tick (its xip) started earlier.
 *    For them the tick keeps tick_since: steps (first xid, file and length
 *    of each table) such that the step of X bounds X's rows as in 2. It is
 *    built from the previous tick's steps: an X the new tick lists as
 *    running is either >= the previous tick's xmax (its bound is the
 *    previous tick's tick_heap, the previous tick's last step) or was
 *    listed as running there too (ticks of a queue are ordered, ticker.c),
 *    and keeps its step. One exception: a transaction that ticks from SQL
 *    is listed as running in its own tick (snapshot.c); if it has written
 *    no events yet, whatever it writes comes after this measurement, so
 *    its step is this tick's tick_heap. The new tick's last step is (its
 *    xmax, its tick_heap). No previous tick (or one written before 0.2.0):
 *    block 0.
 *
 * 4. A window (prev, cur]: its transactions are prev's running ones that
 *    cur sees, and those >= prev.xmax that cur sees. The lower bound is the
 *    lowest step among them (a different file means block 0); the upper
 *    bound is cur's tick_heap. A bound whose file
 *    is no longer the table's file says nothing (block 0, or the table's
 *    end). Scanning [lo, hi) with the window's visibility test therefore
 *    finds every event of the window, and what it reads beyond them is
 *    what other transactions wrote while the window's were open.
 *
 * test/isolation/specs/heap_range_*.spec and sql/15_heap_range.sql break
 * each step of this argument; test/mutations/ shows them failing when the
 * code they protect is removed.
 *
 *-------------------------------------------------------------------------
 */
#include "pgque.h"

#include "access/relation.h"
#include "catalog/pg_type.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "heap_range.h"

/* the tables the current transaction has written into (placement rule) */
static LocalTransactionId placed_lxid = InvalidLocalTransactionId;
static Oid	placed[8];
static int	nplaced;

/*
 * Before an insert into event table rel: at the transaction's first insert
 * into it, forget the block this backend last inserted into, so the insert
 * starts at the table's end (send.c's placement rule). Remembers a few
 * tables per transaction; forgetting again is harmless.
 */
void
heap_range_before_insert(Relation rel)
{
	Oid			relid = RelationGetRelid(rel);
	int			i;

	if (placed_lxid != MyProc->lxid)
	{
		placed_lxid = MyProc->lxid;
		nplaced = 0;
	}
	for (i = 0; i < nplaced; i++)
		if (placed[i] == relid)
			return;
	RelationSetTargetBlock(rel, InvalidBlockNumber);
	if (nplaced < (int) lengthof(placed))
		placed[nplaced++] = relid;
}

/* Has the current transaction written events yet? */
bool
heap_range_xact_wrote(void)
{
	return placed_lxid == MyProc->lxid && nplaced > 0;
}

/* int8 values per step in tick_since: first xid, then file and length per table */
#define STEP_WIDTH	(1 + 2 * PGQUE_NTABLES)
#define ENDS_WIDTH	(2 * PGQUE_NTABLES)

/*
 * Lock a queue's event tables against TRUNCATE (AccessShareLock). With
 * nowait, false when one is locked by someone else; false also when the
 * queue is being dropped. The locks are released by
 * heap_measure_and_unlock.
 */
bool
heap_lock_tables(int32 queue_id, bool nowait, HeapLock *lock)
{
	int			t;
	int			k;

	for (t = 0; t < PGQUE_NTABLES; t++)
	{
		char		name[NAMEDATALEN];
		Oid			relid;

		snprintf(name, sizeof(name), "event_%d_%d", queue_id, t);
		relid = get_relname_relid(name, pgque_namespace_oid());
		if (OidIsValid(relid))
		{
			if (!nowait)
				LockRelationOid(relid, AccessShareLock);
			else if (!ConditionalLockRelationOid(relid, AccessShareLock))
				relid = InvalidOid;
			/* dropped while we waited */
			else if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
			{
				UnlockRelationOid(relid, AccessShareLock);
				relid = InvalidOid;
			}
		}
		if (!OidIsValid(relid))
		{
			for (k = 0; k < t; k++)
				UnlockRelationOid(lock->relid[k], AccessShareLock);
			return false;
		}
		lock->relid[t] = relid;
	}
	return true;
}

/* Read the tables' files and lengths, then release the locks. */
void
heap_measure_and_unlock(HeapLock *lock, HeapEnds *ends)
{
	int			t;

	for (t = 0; t < PGQUE_NTABLES; t++)
	{
		Relation	rel = relation_open(lock->relid[t], NoLock);

		ends->file[t] = rel->rd_node.relNode;
		ends->blocks[t] = RelationGetNumberOfBlocks(rel);
		relation_close(rel, NoLock);
		UnlockRelationOid(lock->relid[t], AccessShareLock);
	}
}

/* The int8 elements of a one-dimensional array without NULLs; NULL if not that. */
static int64 *
int8_elements(ArrayType *a, int *n)
{
	if (a == NULL || ARR_NDIM(a) != 1 || ARR_HASNULL(a) ||
		ARR_ELEMTYPE(a) != INT8OID)
		return NULL;
	*n = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
	/* ARR_DATA_PTR without its null-bitmap branch (none here) */
	return (int64 *) ((char *) a + ARR_OVERHEAD_NONULLS(1));
}

static void
ends_from(HeapEnds *ends, const int64 *v)
{
	int			t;

	for (t = 0; t < PGQUE_NTABLES; t++)
	{
		ends->file[t] = (Oid) v[2 * t];
		ends->blocks[t] = (BlockNumber) v[2 * t + 1];
	}
}

static void
ends_to(const HeapEnds *ends, Datum *v)
{
	int			t;

	for (t = 0; t < PGQUE_NTABLES; t++)
	{
		v[2 * t] = Int64GetDatum((int64) ends->file[t]);
		v[2 * t + 1] = Int64GetDatum((int64) ends->blocks[t]);
	}
}

/*
 * Read a tick's tick_heap and tick_since (either may be NULL). A tick
 * without them, or with arrays of the wrong shape, is "not known": its
 * bounds are the whole table.
 */
void
tick_heap_parse(TickHeap *th, ArrayType *heap, ArrayType *since)
{
	int			nheap = 0;
	int			nsince = 0;
	int64	   *h = int8_elements(heap, &nheap);
	int64	   *s = int8_elements(since, &nsince);
	int			i;

	memset(th, 0, sizeof(*th));
	if (h == NULL || s == NULL || nheap != ENDS_WIDTH ||
		nsince == 0 || nsince % STEP_WIDTH != 0)
		return;
	th->known = true;
	ends_from(&th->ends, h);
	th->nsteps = nsince / STEP_WIDTH;
	th->steps = palloc(sizeof(SinceStep) * th->nsteps);
	for (i = 0; i < th->nsteps; i++)
	{
		th->steps[i].from = FullTransactionIdFromU64((uint64) s[i * STEP_WIDTH]);
		ends_from(&th->steps[i].ends, &s[i * STEP_WIDTH + 1]);
	}
}

ArrayType *
tick_heap_ends_array(const HeapEnds *ends)
{
	Datum		v[ENDS_WIDTH];

	ends_to(ends, v);
	return construct_array(v, ENDS_WIDTH, INT8OID, sizeof(int64),
						   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

/* The step of xid, or NULL when th has none for it (block 0). */
static const SinceStep *
step_of(const TickHeap *th, FullTransactionId xid)
{
	int			lo = 0;
	int			hi = th->known ? th->nsteps : 0;

	/* the last step whose from <= xid */
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (FullTransactionIdPrecedesOrEquals(th->steps[mid].from, xid))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 ? NULL : &th->steps[lo - 1];
}

/*
 * tick_since of a new tick (see the file header, 3.): prev is the queue's
 * previous tick (not known if none), snap the new tick's snapshot, ends its
 * tick_heap. ends_valid is false when the snapshot's xmax is not the xid
 * read after ends (snapshot.c caps a very long list of running xids): then
 * the last step says block 0. own_fresh is the ticking transaction when it
 * is listed as running but has not written events yet: whatever it writes
 * comes after ends (the placement rule), so its step is ends.
 */
ArrayType *
tick_heap_since_array(const TickHeap *prev, const TickSnapshot *snap,
					  const HeapEnds *ends, bool ends_valid,
					  FullTransactionId own_fresh)
{
	SinceStep  *out = palloc0(sizeof(SinceStep) * (snap->nxip + 1));
	const SinceStep *last = NULL;
	bool		after_own = false;
	int			n = 0;
	uint32		i;
	Datum	   *v;
	int			k;

	for (i = 0; i < snap->nxip; i++)
	{
		FullTransactionId x = snap->xip[i];
		const SinceStep *s;

		if (FullTransactionIdEquals(x, own_fresh))
		{
			/* the ticking transaction writes only after this measurement */
			out[n].from = x;
			if (ends_valid)
				out[n].ends = *ends;
			after_own = true;
			n++;
			continue;
		}
		s = step_of(prev, x);
		if (n > 0 && !after_own && s == last)
			continue;
		/* block 0 when prev has no step for x */
		out[n].from = x;
		if (s != NULL)
			out[n].ends = s->ends;
		last = s;
		after_own = false;
		n++;
	}
	out[n].from = snap->xmax;
	if (ends_valid)
		out[n].ends = *ends;
	n++;

	v = palloc(sizeof(Datum) * STEP_WIDTH * n);
	for (k = 0; k < n; k++)
	{
		v[k * STEP_WIDTH] = Int64GetDatum((int64) U64FromFullTransactionId(out[k].from));
		ends_to(&out[k].ends, &v[k * STEP_WIDTH + 1]);
	}
	return construct_array(v, STEP_WIDTH * n, INT8OID, sizeof(int64),
						   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

/* The first block a step allows in table t with file file. */
static BlockNumber
step_low(const SinceStep *s, int t, Oid file)
{
	if (s == NULL || s->ends.file[t] != file || s->ends.blocks[t] == 0)
		return 0;
	return s->ends.blocks[t] - 1;
}

/*
 * The blocks [lo, hi) of event table table_no (open as rel) that hold the
 * rows of the window (prev, cur]; see the file header, 4.
 */
void
heap_window_blocks(const TickSnapshot *prev_snap, const TickHeap *prev,
				   const TickSnapshot *cur_snap, const TickHeap *cur,
				   int table_no, Relation rel, BlockNumber *lo, BlockNumber *hi)
{
	Oid			file = rel->rd_node.relNode;
	BlockNumber nblocks = RelationGetNumberOfBlocks(rel);
	BlockNumber low;
	uint32		i;

	*hi = nblocks;
	if (cur->known && cur->ends.file[table_no] == file)
	{
		/* shorter than cur measured it: someone forced a VACUUM truncation */
		if (nblocks < cur->ends.blocks[table_no])
		{
			*lo = 0;
			return;
		}
		*hi = cur->ends.blocks[table_no];
	}

	*lo = 0;
	if (!prev->known)
		return;
	/* those from prev.xmax on: prev's last step */
	low = step_low(step_of(prev, prev_snap->xmax), table_no, file);
	/* prev's running transactions that cur sees finished */
	for (i = 0; i < prev_snap->nxip; i++)
		if (tick_snapshot_sees(cur_snap, prev_snap->xip[i]))
			low = Min(low, step_low(step_of(prev, prev_snap->xip[i]), table_no, file));
	*lo = Min(low, *hi);
}
