/*-------------------------------------------------------------------------
 *
 * meta_rows.h
 *		A consumer's metadata rows by key, without SPI (meta_rows.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGQUE_META_ROWS_H
#define PGQUE_META_ROWS_H

#include "datatype/timestamp.h"

#include "consume.h"

/* an open scan over a queue's ticks (meta_ticks_begin) */
typedef struct MetaTicks
{
	void	   *scan;
} MetaTicks;

/* a tick's id, time and event sequence (meta_probe_*) */
typedef struct MetaTick
{
	int64		id;
	TimestampTz time;
	int64		event_seq;
} MetaTick;

typedef struct MetaProber MetaProber;

extern void pgque_meta_rows_init(void);
extern bool meta_rows_ready(void);
extern bool meta_rows_write_ready(void);
extern int	meta_sub_lookup(const char *queue_name, const char *consumer_name,
							Snapshot snap, SubRef *sub, PgqueQueue *q);
extern bool meta_sub_state(int32 sub_id, const char *member, Snapshot snap, BatchRow *b);
extern bool meta_batch_fetch(int64 batch_id, Snapshot snap, BatchRow *b);
extern void meta_ticks_begin(MetaTicks *t, int32 queue_id, int64 from, int64 before,
							 Snapshot snap);
extern bool meta_ticks_next(MetaTicks *t, int64 *tick_id, int64 *event_seq);
extern void meta_ticks_end(MetaTicks *t);
extern bool meta_tick_fetch(int32 queue_id, int64 tick_id, Snapshot snap, Datum *snapshot,
							Datum *heap, bool *heap_null, Datum *since, bool *since_null);
extern MetaProber *meta_prober_begin(Snapshot snap);
extern bool meta_probe_newest_tick(MetaProber *p, int32 queue_id, int64 from, MetaTick *t);
extern bool meta_probe_older_tick(MetaProber *p, MetaTick *t);
extern bool meta_probe_tick(MetaProber *p, int32 queue_id, int64 tick_id, MetaTick *t);
extern bool meta_probe_tick_after(MetaProber *p, int32 queue_id, int64 tick_id, int64 min_seq,
								  MetaTick *t);
extern bool meta_probe_cursor(MetaProber *p, int32 sub_id, int64 *tick_id);
extern void meta_prober_end(MetaProber *p);
extern int	meta_read_table(const char *relname, int ncols, const char *const *columns,
							const Oid *types, Snapshot snap, Datum **values, bool **nulls);
extern int64 meta_batch_insert(const BatchRow *b, char state, TimestampTz now);
extern bool meta_batch_update(int64 batch_id, Snapshot snap, bool set_state, char state,
							  TimestampTz now, bool set_end, int64 end_pos);

#endif							/* PGQUE_META_ROWS_H */
