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

extern void pgque_queue_cache_init(void);
extern bool queue_cache_lookup(const char *queue_name, PgqueQueue *q,
							   Oid *table_oid, Oid *seq_oid,
							   uint32 *gen, bool *have_gen);
extern void queue_cache_store(const PgqueQueue *q, const Oid *table_oid,
							  Oid seq_oid, bool have_gen, uint32 gen);

#endif							/* PGQUE_QUEUE_CACHE_H */
