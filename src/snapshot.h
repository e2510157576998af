/*-------------------------------------------------------------------------
 *
 * snapshot.h
 *		Tick snapshots: the pg_snapshot values stored in pgque.tick.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGQUE_SNAPSHOT_H
#define PGQUE_SNAPSHOT_H

#include "pgque.h"

/*
 * On-disk layout of the pg_snapshot type (src/backend/utils/adt/xid8funcs.c):
 * xip is sorted ascending and holds the transactions that were running.
 */
typedef struct TickSnapshot
{
	int32		vl_len_;
	uint32		nxip;
	FullTransactionId xmin;
	FullTransactionId xmax;
	FullTransactionId xip[FLEXIBLE_ARRAY_MEMBER];
} TickSnapshot;

#define DatumGetTickSnapshot(d) ((TickSnapshot *) PG_DETOAST_DATUM(d))

extern bool tick_snapshot_sees(const TickSnapshot *snap, FullTransactionId xid);
extern TickSnapshot *tick_snapshot_take(Snapshot cur, FullTransactionId next,
										bool own_may_send);

#endif							/* PGQUE_SNAPSHOT_H */
