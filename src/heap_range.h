/*-------------------------------------------------------------------------
 *
 * heap_range.h
 *		Where the rows of a tick window lie in the event tables.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGQUE_HEAP_RANGE_H
#define PGQUE_HEAP_RANGE_H

#include "pgque.h"

#include "storage/block.h"
#include "utils/array.h"
#include "utils/relcache.h"

#include "snapshot.h"

/*
 * The ends of a queue's event tables at one moment: per table its file
 * (relfilenode; 0 = not known) and its length in blocks.
 */
typedef struct HeapEnds
{
	Oid			file[PGQUE_NTABLES];
	BlockNumber blocks[PGQUE_NTABLES];
} HeapEnds;

/*
 * Where transactions started writing, as steps: a transaction X whose
 * xid is at least from (and below the next step's from) wrote every row
 * at or after block ends.blocks[t] - 1 of table t, if that table still has
 * file ends.file[t].
 */
typedef struct SinceStep
{
	FullTransactionId from;
	HeapEnds	ends;
} SinceStep;

/* What a tick row says about the heap (pgque.tick.tick_heap, tick_since). */
typedef struct TickHeap
{
	bool		known;			/* false for ticks written before 0.2.0 */
	HeapEnds	ends;			/* right after the tick's snapshot */
	int			nsteps;
	SinceStep  *steps;
} TickHeap;

/* The tables of a queue, locked against TRUNCATE while a tick measures them. */
typedef struct HeapLock
{
	Oid			relid[PGQUE_NTABLES];
} HeapLock;

extern bool heap_lock_tables(int32 queue_id, bool nowait, HeapLock *lock);
extern void heap_measure_and_unlock(HeapLock *lock, HeapEnds *ends);

extern void tick_heap_parse(TickHeap *th, ArrayType *heap, ArrayType *since);
extern ArrayType *tick_heap_ends_array(const HeapEnds *ends);
extern ArrayType *tick_heap_since_array(const TickHeap *prev,
										const TickSnapshot *snap,
										const HeapEnds *ends, bool ends_valid,
										FullTransactionId own_fresh);
extern void heap_range_before_insert(Relation rel);
extern bool heap_range_xact_wrote(void);

extern void heap_window_blocks(const TickSnapshot *prev_snap, const TickHeap *prev,
							   const TickSnapshot *cur_snap, const TickHeap *cur,
							   int table_no, Relation rel,
							   BlockNumber *lo, BlockNumber *hi);

#endif							/* PGQUE_HEAP_RANGE_H */
