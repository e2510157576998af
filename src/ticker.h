/*-------------------------------------------------------------------------
 *
 * ticker.h
 *		Taking ticks (ticker.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGQUE_TICKER_H
#define PGQUE_TICKER_H

#include "pgque.h"

typedef enum PgqueTickMode
{
	PGQUE_TICK_IF_DUE,			/* by the queue's thresholds (PgQ's rules) */
	PGQUE_TICK_IF_ACTIVITY,		/* also if events or transactions may be new */
	PGQUE_TICK_NOW				/* unless paused or ticked externally */
} PgqueTickMode;

/*
 * by_worker: the worker never waits for a lock and never sends events in
 * its tick transactions (ticker.c).
 */
extern int64 pgque_tick_queue(int32 queue_id, PgqueTickMode mode, bool by_worker);
extern int	pgque_tick_all(bool by_worker);

#endif							/* PGQUE_TICKER_H */
