/*-------------------------------------------------------------------------
 *
 * snapshot.c
 *		Taking tick snapshots and testing transaction visibility in them.
 *
 * A tick snapshot is taken with GetLatestSnapshot(), not the caller's
 * transaction snapshot, and only after the caller holds the queue's tick
 * lock (ticker.c). Together those make the snapshots of one queue's ticks
 * ordered: each sees every transaction its predecessor saw.
 *
 *-------------------------------------------------------------------------
 */
#include "snapshot.h"

#include "access/transam.h"
#include "access/xact.h"
#include "utils/xid8.h"

/* Does snap see xid as committed (or, for aborted xids, as finished)? */
bool
tick_snapshot_sees(const TickSnapshot *snap, FullTransactionId xid)
{
	uint32		lo = 0;
	uint32		hi = snap->nxip;

	if (FullTransactionIdPrecedes(xid, snap->xmin))
		return true;
	if (!FullTransactionIdPrecedes(xid, snap->xmax))
		return false;
	while (lo < hi)
	{
		uint32		mid = lo + (hi - lo) / 2;

		if (FullTransactionIdPrecedes(snap->xip[mid], xid))
			lo = mid + 1;
		else if (FullTransactionIdEquals(snap->xip[mid], xid))
			return false;
		else
			hi = mid;
	}
	return true;
}

/* Widen a 32-bit xid that is close to (at most 2^31 behind) next. */
static FullTransactionId
widen_xid(FullTransactionId next, TransactionId xid)
{
	if (!TransactionIdIsNormal(xid))
		return FullTransactionIdFromEpochAndXid(0, xid);
	return FullTransactionIdFromU64(U64FromFullTransactionId(next) +
									(int32) (xid - XidFromFullTransactionId(next)));
}

static int
cmp_fxid(const void *a, const void *b)
{
	FullTransactionId x = *(const FullTransactionId *) a;
	FullTransactionId y = *(const FullTransactionId *) b;

	if (FullTransactionIdPrecedes(x, y))
		return -1;
	return FullTransactionIdEquals(x, y) ? 0 : 1;
}

PG_FUNCTION_INFO_V1(pgque_next_xid);

/*
 * SQL: pgque._next_xid() -> xid8: the xid the next transaction will get,
 * above every xid assigned so far (rotation step 2's bound).
 */
Datum
pgque_next_xid(PG_FUNCTION_ARGS)
{
	PG_RETURN_FULLTRANSACTIONID(ReadNextFullTransactionId());
}

/* range of assigned xids listed explicitly, at most (more: left invisible) */
#define MAX_UNFINISHED	10000

/*
 * A pg_snapshot of the transactions committed as of right now.
 *
 * PostgreSQL's snapshot has xmax = latestCompletedXid + 1 and leaves out the
 * transactions above it that are running already, and the current
 * transaction. Both are invisible to it, which is right, but a tick also
 * has to say that they *are running*: their events may already be counted
 * in the tick's tick_event_seq, and the next ticker must know that the tick
 * did not cover them. So the tick lists every xid from the snapshot's xmax
 * up to next (ReadNextFullTransactionId(), read after the caller read the
 * event sequence) as running, and raises xmax to next.
 *
 * The current transaction, if it has an xid, counts as running too when
 * own_may_send: a transaction that ticks and then sends (create_queue() and
 * send() in one transaction, or ticker() then send()) must not have its
 * events before the tick that saw it "finished" -- a consumer would have
 * read that window already. The worker passes false: its tick transactions
 * never send, and listing them would make each tick look like activity.
 *
 * An xid listed although it never wrote an event (or is a subtransaction)
 * only costs an extra tick; one left out could cost an event its delivery.
 */
TickSnapshot *
tick_snapshot_take(Snapshot cur, FullTransactionId next, bool own_may_send)
{
	FullTransactionId own = GetTopFullTransactionIdIfAny();
	bool		own_counts = FullTransactionIdIsValid(own) && own_may_send;
	FullTransactionId snap_xmax = widen_xid(next, cur->xmax);
	uint64		gap = U64FromFullTransactionId(next) - U64FromFullTransactionId(snap_xmax);
	TickSnapshot *snap;
	uint32		nraw = 0;
	uint32		n = 0;
	uint32		i;
	uint64		k;

	if (U64FromFullTransactionId(next) < U64FromFullTransactionId(snap_xmax))
		gap = 0;
	if (gap > MAX_UNFINISHED)
	{
		gap = MAX_UNFINISHED;
		next = FullTransactionIdFromU64(U64FromFullTransactionId(snap_xmax) + gap);
	}
	snap = palloc(offsetof(TickSnapshot, xip) +
				  sizeof(FullTransactionId) * (cur->xcnt + gap + 1));

	for (i = 0; i < cur->xcnt; i++)
		snap->xip[nraw++] = widen_xid(next, cur->xip[i]);
	for (k = 0; k < gap; k++)
	{
		FullTransactionId x = FullTransactionIdFromU64(U64FromFullTransactionId(snap_xmax) + k);

		if (FullTransactionIdEquals(x, own) && !own_counts)
			continue;
		if (TransactionIdIsNormal(XidFromFullTransactionId(x)))
			snap->xip[nraw++] = x;
	}
	if (own_counts && FullTransactionIdPrecedes(own, snap_xmax))
		snap->xip[nraw++] = own;

	qsort(snap->xip, nraw, sizeof(FullTransactionId), cmp_fxid);
	for (i = 0; i < nraw; i++)
		if (n == 0 || !FullTransactionIdEquals(snap->xip[n - 1], snap->xip[i]))
			snap->xip[n++] = snap->xip[i];
	snap->nxip = n;
	snap->xmax = FullTransactionIdFollows(next, snap_xmax) ? next : snap_xmax;
	/* xmin: the oldest running one, or xmax if none runs */
	snap->xmin = n > 0 ? snap->xip[0] : snap->xmax;
	SET_VARSIZE(snap, offsetof(TickSnapshot, xip) + sizeof(FullTransactionId) * n);
	return snap;
}
