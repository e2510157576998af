/*-------------------------------------------------------------------------
 *
 * consume.h
 *		Consumer cursors: receive, next_batch, ack (consume.c), and what
 *		cooperative consumers (coop.c) build on: subscriptions, batch rows
 *		and the receive loop.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGQUE_CONSUME_H
#define PGQUE_CONSUME_H

#include "pgque.h"

#include "funcapi.h"
#include "utils/snapshot.h"

#include "filter.h"

/* A subscription, found by queue and consumer name. */
typedef struct SubRef
{
	int32		queue_id;
	int32		sub_id;
	const char *queue_name;
	const char *consumer_name;
	bool		coop;			/* a cooperative consumer (sub_role coop_main) */
	bool		paused;			/* the queue or the consumer is paused */
	int64		ttl;			/* message_ttl in microseconds, 0: none */
	bool		ttl_drop;		/* expired_action 'drop' */
	int32		members_sub;	/* whose pgque.subconsumer rows list the
								 * members: sub_id, or for a priority lane's
								 * subscription its queue's (lanes.c) */
	bool		has_lanes;		/* the queue has priority lanes (lanes.c) */
	SubFilter	filter;			/* the types and labels it takes (filter.c) */
} SubRef;

/*
 * A pgque.batch row. Where its window starts and how far receive handed it
 * out are positions (batch.h); the _ev fields are what 0.1.0 recorded
 * instead, honoured for batches it left open, and used while a database
 * still has the 0.1.0 tables.
 */
typedef struct BatchRow
{
	int64		batch_id;
	char		state;
	int32		sub_id;
	int32		queue_id;
	int64		prev_tick;		/* 0 when null */
	int64		next_tick;
	bool		has_start_ev;
	int64		start_ev;
	bool		has_end_ev;
	int64		end_ev;
	bool		has_start_pos;
	int64		start_pos;
	bool		has_end_pos;
	int64		end_pos;
	const char *member;			/* the subconsumer holding it, or NULL */
	SubFilter	filter;			/* its subscription's, read with the row (every
								 * fetch joins pgque.subscriber) */
} BatchRow;

/* Has receive handed the open batch out? */
#define HANDED_OUT(b)	((b)->has_end_pos || (b)->has_end_ev)

/*
 * Chooses the batch receive reads, with the subscriber's lock held: an open
 * batch (*is_new false) or a window not inserted yet (*is_new true,
 * batch_id 0); false when there is nothing to take. max_events as for
 * consume_choose_window.
 */
typedef bool (*BatchTaker) (const SubRef *sub, void *arg, int max_events,
							Snapshot snap, BatchRow *b, bool *is_new);

extern void pgque_consume_init(void);

extern void consume_sub_lookup(const char *queue_name, const char *consumer_name,
							   Snapshot snap, SubRef *sub);
extern void consume_sub_lock(int32 sub_id);
extern void consume_sub_state_required(const SubRef *sub, Snapshot snap, BatchRow *b);
extern bool consume_member_state(int32 sub_id, const char *member, Snapshot snap,
								 BatchRow *b);
extern bool consume_batch_fetch(int64 batch_id, Snapshot snap, BatchRow *b);
extern bool consume_choose_window(int32 queue_id, int64 pos, int max_events,
								  Snapshot snap, int64 *next_tick);
extern int64 consume_batch_insert(const BatchRow *b, char state, Snapshot snap);
extern void consume_batch_close(int64 batch_id, char state, Snapshot snap);
extern Snapshot consume_refresh_snapshot(Snapshot snap);
extern int32 consume_max_return_arg(FunctionCallInfo fcinfo, int argno);
extern void consume_receive(ReturnSetInfo *rsinfo, const char *queue_name,
							const char *consumer_name, int32 max_return,
							BatchTaker take, void *arg);
extern bool consume_queue_sub(const char *queue_name, const char *consumer_name,
							  bool coop_ok);

#endif							/* PGQUE_CONSUME_H */
