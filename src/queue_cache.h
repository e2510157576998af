/*-------------------------------------------------------------------------
 *
 * queue_cache.h
 *		Caching a producer's view of a queue (see queue_cache.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGQUE_QUEUE_CACHE_H
#define PGQUE_QUEUE_CACHE_H

#include "pgque.h"

#include "utils/timestamp.h"

extern void pgque_queue_cache_init(void);
extern bool queue_cache_lookup(const char *queue_name, PgqueQueue *q,
							   Oid *table_oid, Oid *seq_oid,
							   uint32 *gen, bool *have_gen);
extern void queue_cache_store(const PgqueQueue *q, const Oid *table_oid,
							  Oid seq_oid, bool have_gen, uint32 gen);

/* adaptive ticking (worker.c, wakeup.c) */
extern bool queue_cache_hold(Oid queue_relid, int32 queue_id, int64 last_tick,
							 TimestampTz last_time, TimestampTz now, int defer_ms,
							 TimestampTz *until);
extern void queue_cache_release(Oid queue_relid, int32 queue_id);
extern void queue_cache_release_all(void);
extern bool queue_cache_note_reached(int32 queue_id, int64 tick_id);
extern bool queue_cache_note_committed(int32 queue_id, int64 nevents);

#endif							/* PGQUE_QUEUE_CACHE_H */
