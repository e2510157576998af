/*-------------------------------------------------------------------------
 *
 * coop.c
 *		Cooperative consumers: subconsumers (members) that share one
 *		consumer's stream -- receive_coop, next_batch for a member, and
 *		takeover of a silent member's batch.
 *
 * The consumer's own pgque.batch rows (batch_member '') are its cursor; a
 * member's rows carry its name and hold its batch (consume.c has the batch
 * state machine). A member takes the next window by inserting two rows
 * under the consumer's subscriber lock: a closed 'd' row of the consumer
 * past the window (so the next member finds the cursor moved on) and its
 * own open 'o' row over it. From there the batch lives like any other:
 * partial receives, ack, nack, redelivery. A member whose last sign of life
 * (pgque.subconsumer.sc_active: receive_coop, touch_subconsumer) is older
 * than the caller's dead_interval loses its open batch: its row is closed
 * as 'r' and the caller gets a new row over the same window, from the same
 * start position, so its late ack changes nothing.
 *
 * Locking: as in consume.c, the consumer's subscriber lock, held to the end
 * of the transaction. Members take windows one at a time; one that calls
 * receive_coop inside a long transaction holds the others back until it
 * commits (the C++ consumer commits receive_coop on its own).
 *
 * Priority lanes (lanes.c): a member reads the lanes of the queue before
 * the queue, highest priority first, as receive does. Members are
 * registered with the queue's subscription only; a lane's batches carry
 * their names, and takeover judges them by the queue's pgque.subconsumer
 * rows (SubRef.members_sub).
 *
 * Registration, heartbeats and unsubscribing are SQL (extension/45_coop.sql);
 * rotation waits for members' open batches (maint_rotate_tables_step1).
 *
 *-------------------------------------------------------------------------
 */
#include "pgque.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "consume.h"
#include "lanes.h"

PG_FUNCTION_INFO_V1(pgque_receive_coop);
PG_FUNCTION_INFO_V1(pgque_next_batch_coop);

typedef struct MemberArg
{
	const char *member;
	Interval   *dead_interval;
} MemberArg;

/*
 * A subconsumer's batch, with the parent's subscriber lock held: the open
 * batch it holds; else, with dead_interval, the open batch of a member
 * silent for longer (taken over: a new batch row over the same window, the
 * events acked before stay acked); else the parent's next window, for
 * which the parent's cursor moves on at once (a 'd' row of its own).
 * Returns false when there is nothing to take. *is_new: b is not inserted
 * yet (batch_id 0). max_events as for consume_choose_window.
 */
static bool
member_take(const SubRef *sub, const char *member, Interval *dead_interval,
			int max_events, Snapshot snap, BatchRow *b, bool *is_new)
{
	BatchRow	parent;
	int64		pos;

	if (consume_member_state(sub->sub_id, member, snap, b) && b->state == 'o')
	{
		*is_new = false;
		return true;
	}
	if (dead_interval != NULL)
	{
		static SPIPlanPtr plan_victim;
		static const Oid types[] = {INT4OID, TEXTOID, INTERVALOID, INT4OID};
		Datum		args[4];

		args[0] = Int32GetDatum(sub->members_sub);
		args[1] = CStringGetTextDatum(member);
		args[2] = IntervalPGetDatum(dead_interval);
		args[3] = Int32GetDatum(sub->sub_id);
		if (pgque_execute_snapshot(pgque_plan(&plan_victim,
											"select b.batch_id from pgque.subconsumer sc"
											" cross join lateral (select bb.batch_id, bb.batch_state from pgque.batch bb"
											"   where bb.batch_sub OPERATOR(pg_catalog.=) $4"
											"     and bb.batch_member OPERATOR(pg_catalog.=) sc.sc_name"
											"   order by bb.batch_id desc limit 1) b"
											" where sc.sc_sub OPERATOR(pg_catalog.=) $1"
											"   and sc.sc_name OPERATOR(pg_catalog.<>) $2"
											"   and sc.sc_active OPERATOR(pg_catalog.<)"
											"       (pg_catalog.now() OPERATOR(pg_catalog.-) $3)"
											"   and b.batch_state OPERATOR(pg_catalog.=) 'o'"
											" order by sc.sc_active, sc.sc_name limit 1",
											4, types),
								 args, NULL, snap, InvalidSnapshot, true, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not look for silent subconsumers");
		if (SPI_processed == 1 &&
			consume_batch_fetch(DatumGetInt64(pgque_spi_value(0, 1)), snap, b) && b->state == 'o')
		{
			consume_batch_close(b->batch_id, 'r', snap);
			b->batch_id = 0;
			b->member = member;
			b->has_end_ev = false;
			b->has_end_pos = false;
			*is_new = true;
			return true;
		}
	}

	consume_sub_state_required(sub, snap, &parent);
	if (parent.state == 'o')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cooperative consumer \"%s\" on queue \"%s\" has an open batch of its own",
						sub->consumer_name, sub->queue_name),
				 errpgqueobject("batch"),
				 errhint("Ack batch " INT64_FORMAT " first.", parent.batch_id)));
	pos = parent.next_tick;
	if (!consume_choose_window(sub->queue_id, pos, max_events, snap, &parent.next_tick))
		return false;
	parent.prev_tick = pos;
	parent.has_start_ev = parent.has_end_ev = false;
	parent.has_start_pos = parent.has_end_pos = false;
	parent.member = NULL;
	consume_batch_insert(&parent, 'd', snap);
	*b = parent;
	b->batch_id = 0;
	b->member = member;
	*is_new = true;
	return true;
}

/* consume_receive_rows' taker for a member */
static bool
member_taker(const SubRef *sub, void *arg, int max_events, Snapshot snap,
			 BatchRow *b, bool *is_new)
{
	MemberArg  *m = (MemberArg *) arg;

	return member_take(sub, m->member, m->dead_interval, max_events, snap, b, is_new);
}

/*
 * SQL: pgque._receive_coop(queue, consumer, subconsumer, max_return,
 *		dead_interval) -> setof pgque.message; pgque.receive_coop() registers
 * the subconsumer (its heartbeat) and calls this.
 */
Datum
pgque_receive_coop(PG_FUNCTION_ARGS)
{
	char	   *queue_name = pgque_queue_name_arg(fcinfo, 0);
	char	   *consumer_name = pgque_consumer_name_arg(fcinfo, 1);
	char	   *member;
	int32		max_return = consume_max_return_arg(fcinfo, 3);
	MemberArg	arg;

	if (PG_ARGISNULL(2))
		elog(ERROR, "subconsumer name must not be null");
	member = text_to_cstring(PG_GETARG_TEXT_PP(2));
	arg.member = member;
	arg.dead_interval = PG_ARGISNULL(4) ? NULL : PG_GETARG_INTERVAL_P(4);
	InitMaterializedSRF(fcinfo, 0);
	consume_receive((ReturnSetInfo *) fcinfo->resultinfo, queue_name, consumer_name,
					max_return, member_taker, &arg);
	return (Datum) 0;
}

/*
 * _next_batch_coop's work on one queue or lane: the member's open batch,
 * else (unless only_open) what member_take gives. Fills out.
 */
static bool
next_batch_coop_step(const char *queue_name, const char *consumer_name, const char *member,
					 Interval *dead_interval, bool only_open, Datum *out, bool *outnull)
{
	SubRef		sub;
	Snapshot	snap;
	BatchRow	b;
	bool		is_new = false;
	bool		have;

	SPI_connect();
	snap = RegisterSnapshot(GetLatestSnapshot());
	consume_sub_lookup(queue_name, consumer_name, snap, &sub);
	consume_sub_lock(sub.sub_id);
	snap = consume_refresh_snapshot(snap);
	if (only_open)
		have = consume_member_state(sub.sub_id, member, snap, &b) && b.state == 'o';
	else
		have = !sub.paused && member_take(&sub, member, dead_interval, 0, snap, &b, &is_new);
	if (have)
	{
		if (is_new)
			b.batch_id = consume_batch_insert(&b, 'o', snap);
		out[0] = Int64GetDatum(b.batch_id);
		out[1] = Int64GetDatum(b.prev_tick);
		out[2] = Int64GetDatum(b.next_tick);
		outnull[0] = outnull[1] = outnull[2] = false;
	}
	UnregisterSnapshot(snap);
	SPI_finish();
	return have;
}

/*
 * SQL: pgque._next_batch_coop(queue, consumer, subconsumer, dead_interval)
 *	-> (batch_id, prev_tick_id, next_tick_id), all NULL when there is
 * nothing to read. PgQue's cooperative next_batch: one tick per batch.
 * With priority lanes, as next_batch: the member's open batch first, then
 * the highest lane with a window to take, the queue last.
 */
Datum
pgque_next_batch_coop(PG_FUNCTION_ARGS)
{
	char	   *queue_name = pgque_queue_name_arg(fcinfo, 0);
	char	   *consumer_name = pgque_consumer_name_arg(fcinfo, 1);
	char	   *member;
	Interval   *dead_interval;
	TupleDesc	desc;
	Datum		out[3];
	bool		outnull[3] = {true, true, true};
	char	  **lanes;
	int			nlanes;
	int			pass;
	int			i;

	if (PG_ARGISNULL(2))
		elog(ERROR, "subconsumer name must not be null");
	member = text_to_cstring(PG_GETARG_TEXT_PP(2));
	dead_interval = PG_ARGISNULL(3) ? NULL : PG_GETARG_INTERVAL_P(3);
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	nlanes = lanes_of(queue_name, &lanes);
	if (nlanes > 0 && !consume_queue_sub(queue_name, consumer_name, true))
		for (pass = 0; pass < 2; pass++)
		{
			for (i = 0; i < nlanes; i++)
				if (next_batch_coop_step(lanes[i], consumer_name, member, dead_interval,
										 pass == 0, out, outnull))
					goto done;
			if (pass == 0 &&
				next_batch_coop_step(queue_name, consumer_name, member, dead_interval,
									 true, out, outnull))
				goto done;
		}
	(void) next_batch_coop_step(queue_name, consumer_name, member, dead_interval,
								false, out, outnull);
done:
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), out, outnull)));
}
