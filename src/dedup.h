/*-------------------------------------------------------------------------
 *
 * dedup.h
 *		Idempotent sends: keys remembered for a queue's dedup_window.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGQUE_DEDUP_H
#define PGQUE_DEDUP_H

#include "pgque.h"

extern void dedup_key_check(text *key);
/* locks the key for the transaction; the first send's id, or 0 */
extern int64 dedup_find(int32 queue_id, text *key);
extern void dedup_remember(int32 queue_id, text *key, int64 ev_id);

#endif							/* PGQUE_DEDUP_H */
