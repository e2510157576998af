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
#include "utils/snapmgr.h"

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

/*
 * A pg_snapshot of the transactions committed as of right now.
 *
 * PostgreSQL's snapshots leave the current transaction out of xip (it sees
 * its own work by other means). If this transaction sent events, the tick
 * must count it as running: its events are not committed yet, and a tick
 * that saw them as done would put them before every window. (Otherwise it
 * is left out, so the worker's own tick transactions do not look like
 * activity to the next tick.)
 */
TickSnapshot *
tick_snapshot_take(void)
{
	Snapshot	cur = GetLatestSnapshot();
	FullTransactionId next = ReadNextFullTransactionId();
	FullTransactionId own = GetTopFullTransactionIdIfAny();
	TickSnapshot *snap;
	uint32		nraw = cur->xcnt;
	uint32		n = 0;
	uint32		i;

	snap = palloc(offsetof(TickSnapshot, xip) + sizeof(FullTransactionId) * (cur->xcnt + 1));
	snap->xmin = widen_xid(next, cur->xmin);
	snap->xmax = widen_xid(next, cur->xmax);
	for (i = 0; i < cur->xcnt; i++)
		snap->xip[i] = widen_xid(next, cur->xip[i]);
	if (FullTransactionIdIsValid(own) && FullTransactionIdPrecedes(own, snap->xmax) &&
		pgque_xact_wrote_events())
	{
		snap->xip[nraw++] = own;
		if (FullTransactionIdPrecedes(own, snap->xmin))
			snap->xmin = own;
	}
	qsort(snap->xip, nraw, sizeof(FullTransactionId), cmp_fxid);
	for (i = 0; i < nraw; i++)
		if (n == 0 || !FullTransactionIdEquals(snap->xip[n - 1], snap->xip[i]))
			snap->xip[n++] = snap->xip[i];
	snap->nxip = n;
	SET_VARSIZE(snap, offsetof(TickSnapshot, xip) + sizeof(FullTransactionId) * n);
	return snap;
}
