/*-------------------------------------------------------------------------
 *
 * send.c
 *		The producer path: send, send_batch, insert_event.
 *
 * Events are appended to the queue's current event table with heap_insert
 * and index_insert directly; there is no per-event SQL, no trigger and no
 * permission check beyond EXECUTE on the calling function (the functions are
 * granted to pgque_writer only).
 *
 * Ordering rule (rotation safety): a writer first makes sure its top-level
 * transaction id is assigned, and only then reads pgque.queue with a fresh
 * snapshot to learn which event table is current -- or, equivalently, a
 * valid shared cache entry of it (queue_cache.c says why that is the same). So if the writer still
 * sees the old table, its xid was assigned before the rotation committed,
 * and rotation step 2 records a bound above every such xid. Readers use that
 * bound to decide which tables a batch must scan; see extension/70_maint.sql. Reading the
 * current table through the transaction snapshot (as PgQ does) would let a
 * REPEATABLE READ producer write into a table that no batch reads again.
 *
 * Placement rule (heap_range.c relies on it): rows go to the end of the
 * table. A transaction's first insert into a table starts from its last
 * block, never from a block the backend used before or the free space map,
 * and later inserts only move forward. So a transaction's rows lie after
 * the length the table had before it got its xid, and readers bound a
 * batch's rows by block ranges instead of an index.
 *
 * Priorities: send and send_batch take a priority. 0 is the queue itself,
 * on the path above and nothing more; an event of a higher priority goes to
 * the queue's lane for it (lanes.c) with an id from the queue's sequence.
 *
 * Locking: RowExclusiveLock on the event table, like any INSERT; rotation's
 * TRUNCATE of a table therefore waits for writers still inside it.
 *
 *-------------------------------------------------------------------------
 */
#include "pgque.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "funcapi.h"
#include "nodes/execnodes.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/xid8.h"

#include "access.h"
#include "dedup.h"
#include "heap_range.h"
#include "lanes.h"
#include "queue_cache.h"
#include "send.h"
#include "wakeup.h"

PG_FUNCTION_INFO_V1(pgque_send_text);
PG_FUNCTION_INFO_V1(pgque_send_jsonb);
PG_FUNCTION_INFO_V1(pgque_check_label);
PG_FUNCTION_INFO_V1(pgque_send_batch_text);
PG_FUNCTION_INFO_V1(pgque_send_batch_jsonb);
PG_FUNCTION_INFO_V1(pgque_send_text2);
PG_FUNCTION_INFO_V1(pgque_send_jsonb2);
PG_FUNCTION_INFO_V1(pgque_send_batch_text2);
PG_FUNCTION_INFO_V1(pgque_send_batch_jsonb2);
PG_FUNCTION_INFO_V1(pgque_insert_event);
PG_FUNCTION_INFO_V1(pgque_insert_event_raw);
PG_FUNCTION_INFO_V1(pgque_insert_events_raw);
PG_FUNCTION_INFO_V1(pgque_produce_ids);

/*
 * Event tables are read and written column by column in C: refuse one
 * whose layout is not event_template's (someone altered it), rather than
 * misread its rows.
 */
void
event_table_check(Relation rel)
{
	static const Oid types[EV_NATTS] = {
		INT8OID, TIMESTAMPTZOID, XID8OID, INT4OID, INT4OID,
		TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID
	};
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	for (i = 0; i < Max(desc->natts, EV_NATTS); i++)
	{
		Form_pg_attribute att = i < desc->natts ? TupleDescAttr(desc, i) : NULL;

		if (att != NULL && i < EV_NATTS && !att->attisdropped && att->atttypid == types[i])
			continue;
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("event table \"%s\" has been altered", RelationGetRelationName(rel)),
				 i >= desc->natts || i >= EV_NATTS ?
				 errdetail("It has %d columns, counting dropped ones; pgque expects %d.",
						   desc->natts, EV_NATTS) :
				 errdetail("Column %d is %s, pgque expects %s.", i + 1,
						   att->attisdropped ? "dropped" : format_type_be(att->atttypid),
						   format_type_be(types[i])),
				 errhint("Event tables must keep the layout of pgque.event_template.")));
	}
}

/*
 * Find the queue to write to, given by name or (name NULL) by id; then
 * event_writer_open. event_writer_begin does both.
 */
void
event_writer_lookup(EventWriter *w, const char *queue_name, int32 queue_id)
{
	Snapshot	snap;
	Oid			relid;
	uint32		gen = 0;
	bool		have_gen = false;

	/* The xid must exist before the queue row is read: see file header. */
	w->txid = GetTopFullTransactionId();

	/* the caches say the same as a fresh read would (queue_cache.c) */
	if (queue_name == NULL ||
		!queue_cache_lookup(queue_name, &w->queue, &relid, &w->seq, &gen, &have_gen))
	{
		Oid			table_oid[PGQUE_NTABLES];
		int			k;

		snap = RegisterSnapshot(GetLatestSnapshot());
		if (!pgque_queue_fetch(queue_name, queue_id, snap, &w->queue))
		{
			UnregisterSnapshot(snap);
			if (queue_name != NULL)
				pgque_error_queue_missing(queue_name);
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("queue not found: id %d", queue_id),
					 errpgqueobject("queue")));
		}
		UnregisterSnapshot(snap);

		for (k = 0; k < PGQUE_NTABLES; k++)
			table_oid[k] = pgque_event_table_oid(w->queue.queue_id, k);
		relid = table_oid[w->queue.cur_table];
		w->seq = pgque_event_seq_oid(w->queue.queue_id);
		if (queue_name != NULL)
			queue_cache_store(&w->queue, table_oid, w->seq, have_gen, gen);
	}

	if (w->queue.disable_insert &&
		SessionReplicationRole != SESSION_REPLICATION_ROLE_REPLICA)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("queue \"%s\" does not accept new events",
						w->queue.queue_name),
				 errpgqueobject("queue"),
				 errdetail("pgque.queue.queue_disable_insert is set for this queue.")));
	w->relid = relid;
}

/* Open the queue's current event table for event_writer_insert. */
void
event_writer_open(EventWriter *w)
{
	List	   *indexes;
	ListCell   *lc;
	int			i;

	w->rel = table_open(w->relid, RowExclusiveLock);
	event_table_check(w->rel);
	heap_range_before_insert(w->rel);

	indexes = RelationGetIndexList(w->rel);
	w->nindexes = list_length(indexes);
	w->indexes = palloc(sizeof(Relation) * w->nindexes);
	w->index_info = palloc(sizeof(IndexInfo *) * w->nindexes);
	i = 0;
	foreach(lc, indexes)
	{
		Relation	idx = index_open(lfirst_oid(lc), RowExclusiveLock);
		IndexInfo  *ii = BuildIndexInfo(idx);
		int			k;

		if (ii->ii_Expressions != NIL || ii->ii_Predicate != NIL)
			elog(ERROR, "unexpected expression or partial index on event table");
		for (k = 0; k < ii->ii_NumIndexKeyAttrs; k++)
			if (ii->ii_IndexAttrNumbers[k] <= 0)
				elog(ERROR, "unexpected system column index on event table");
		w->indexes[i] = idx;
		w->index_info[i] = ii;
		i++;
	}
	list_free(indexes);

	w->cid = GetCurrentCommandId(true);
	w->now = GetCurrentTransactionStartTimestamp();

	w->nwritten = 0;
}

void
event_writer_begin(EventWriter *w, const char *queue_name, int32 queue_id)
{
	event_writer_lookup(w, queue_name, queue_id);
	event_writer_open(w);
}

/*
 * A queue with a delivery_delay: send and send_batch hand the events to
 * pgque.send_batch_at (extension/55_delay.sql) with the time they are due,
 * or one event with a label or attributes (ev_extra1/2 text, (Datum) 0:
 * none) to pgque.send_at. Returns their ids.
 */
static Datum *
send_delayed(EventWriter *w, Datum type_value, Datum *payloads, bool *payload_nulls, int n,
			 Datum label, Datum attributes)
{
	static SPIPlanPtr plan;
	static SPIPlanPtr plan_labeled;
	static const Oid types[] = {TEXTOID, TEXTOID, TEXTARRAYOID, TIMESTAMPTZOID, TEXTOID, TEXTOID};
	Datum		args[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	bool		labeled = label != (Datum) 0 || attributes != (Datum) 0;
	Datum	   *ids;
	Datum	   *elems;
	bool	   *elem_nulls;
	int			nids;
	bool		isnull;
	int			dims[1] = {n};
	int			lbs[1] = {1};

	Assert(!labeled || n == 1);
	args[0] = CStringGetTextDatum(w->queue.queue_name);
	args[1] = type_value;
	args[2] = PointerGetDatum(construct_md_array(payloads, payload_nulls, 1, dims, lbs,
												 TEXTOID, -1, false, TYPALIGN_INT));
	args[3] = TimestampTzGetDatum(GetCurrentTimestamp() + w->queue.delivery_delay);
	args[4] = label;
	nulls[4] = label == (Datum) 0 ? 'n' : ' ';
	args[5] = attributes;
	nulls[5] = attributes == (Datum) 0 ? 'n' : ' ';
	ids = palloc(sizeof(Datum) * n);	/* outside SPI's memory */
	SPI_connect();
	if (pgque_execute_plan(labeled ?
						   pgque_plan(&plan_labeled,
									  "select array[pgque.send_at($1, $2, ($3)[1], $4, $5, $6::pg_catalog.jsonb)]",
									  6, types) :
						   pgque_plan(&plan, "select pgque.send_batch_at($1, $2, $3, $4)", 4, types),
						   args, nulls, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not send delayed events");
	deconstruct_array(DatumGetArrayTypeP(pgque_spi_value_opt(0, 1, &isnull)), INT8OID, 8,
					  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &elem_nulls, &nids);
	if (nids != n)
		elog(ERROR, "send_batch_at returned %d ids for %d events", nids, n);
	memcpy(ids, elems, sizeof(Datum) * n);	/* int8 is passed by value */
	SPI_finish();
	return ids;
}

/*
 * Append one event. values/nulls hold EV_NATTS entries in event_template
 * order; ev_id (0 or null = the next from the queue's sequence), ev_txid and,
 * when it is null, ev_time are filled in here. Returns the ev_id.
 */
int64
event_writer_insert(EventWriter *w, Datum *values, bool *nulls)
{
	HeapTuple	tup;
	int64		ev_id;
	int			i;

	/*
	 * Every insert advances the sequence, also a re-insert with a given id
	 * (retries, replays): the ticker counts new events by it.
	 */
	ev_id = nextval_internal(w->seq, false);
	if (nulls[EV_ID] || DatumGetInt64(values[EV_ID]) == 0)
	{
		values[EV_ID] = Int64GetDatum(ev_id);
		nulls[EV_ID] = false;
	}
	else
		ev_id = DatumGetInt64(values[EV_ID]);
	if (nulls[EV_TIME])
	{
		values[EV_TIME] = TimestampTzGetDatum(w->now);
		nulls[EV_TIME] = false;
	}
	values[EV_TXID] = FullTransactionIdGetDatum(w->txid);
	nulls[EV_TXID] = false;

	w->nwritten++;
	tup = heap_form_tuple(RelationGetDescr(w->rel), values, nulls);
	/* the free space map could point back into the table: see the header */
	heap_insert(w->rel, tup, w->cid, HEAP_INSERT_SKIP_FSM, NULL);

	for (i = 0; i < w->nindexes; i++)
	{
		IndexInfo  *ii = w->index_info[i];
		Datum		ivalues[INDEX_MAX_KEYS];
		bool		inulls[INDEX_MAX_KEYS];
		int			k;

		for (k = 0; k < ii->ii_NumIndexAttrs; k++)
		{
			AttrNumber	att = ii->ii_IndexAttrNumbers[k];

			ivalues[k] = values[att - 1];
			inulls[k] = nulls[att - 1];
		}
		index_insert(w->indexes[i], ivalues, inulls, &tup->t_self, w->rel,
					 UNIQUE_CHECK_NO, false, ii);
	}
	heap_freetuple(tup);
	return ev_id;
}

void
event_writer_end(EventWriter *w)
{
	int			i;

	if (w->nwritten > 0)		/* nothing to tick for a writer that wrote none */
		pgque_note_event_insert(w->queue.queue_id, w->nwritten);
	for (i = 0; i < w->nindexes; i++)
		index_close(w->indexes[i], NoLock);
	table_close(w->rel, NoLock);
}

/*
 * The arguments of send and send_batch: (queue_name, [type_name,] payload,
 * priority [, dedup_key]). The defaults make PostgreSQL pass all of them,
 * so the form is told by the count. A database still on the 0.1.0 SQL
 * calls the symbols without "2": (queue_name, [type_name,] payload).
 */
static Datum jsonb_text(Datum d);

typedef struct SendArgs
{
	Datum		type_value;
	int			payload_argno;
	int			priority;		/* 0..9 */
	text	   *dedup_key;		/* NULL: none */
	Datum		label;			/* ev_extra1, (Datum) 0: none */
	Datum		attributes;		/* ev_extra2 (jsonb text), (Datum) 0: none */
} SendArgs;

/*
 * A label must not be empty, attributes must be a JSON object: a
 * subscription filters on the one (filter.c), clients read the other as
 * a map.
 */
static void
label_check(text *label, Jsonb *attributes)
{
	if (label != NULL && VARSIZE_ANY_EXHDR(label) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("label must not be empty"),
				 errhint("Pass NULL to send without a label.")));
	if (attributes != NULL && !JB_ROOT_IS_OBJECT(attributes))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("attributes must be a JSON object"),
				 errhint("Pass an object such as '{\"region\": \"eu\"}', or NULL.")));
}

/* SQL: pgque._check_label(label text, attributes jsonb): label_check for SQL senders */
Datum
pgque_check_label(PG_FUNCTION_ARGS)
{
	label_check(PG_ARGISNULL(0) ? NULL : PG_GETARG_TEXT_PP(0),
				PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1));
	PG_RETURN_VOID();
}

/*
 * The arguments of send (has_send_options: ..., priority, dedup_key, label,
 * attributes) and send_batch (..., priority); v2 false: the 0.1.0 forms,
 * which end at the payload.
 */
static void
send_args(FunctionCallInfo fcinfo, bool v2, bool has_send_options, SendArgs *a)
{
	int			nargs = PG_NARGS() - (v2 && has_send_options ? 3 : 0);
	int			priority_argno;
	text	   *label;
	Jsonb	   *attributes;

	/* send: (queue, [type,] payload, priority, dedup_key, label, attributes) */
	if (v2 && has_send_options && PG_NARGS() != 6 && PG_NARGS() != 7)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pgque.send has %d arguments, the library expects 6 or 7", PG_NARGS()),
				 errhint("Update the extension: ALTER EXTENSION pgque UPDATE.")));
	priority_argno = v2 ? nargs - 1 : -1;
	a->payload_argno = v2 ? nargs - 2 : nargs - 1;
	if (a->payload_argno == 2)
	{
		/* send's type_name: NULL only through insert_event(), PgQ's primitive */
		if (PG_ARGISNULL(1))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("type_name must not be null"),
					 errhint("Leave the type out to send type 'default', or use pgque.insert_event() for an event without a type.")));
		a->type_value = PointerGetDatum(PG_GETARG_TEXT_PP(1));
	}
	else
		a->type_value = CStringGetTextDatum("default");

	a->dedup_key = NULL;
	a->priority = 0;
	a->label = (Datum) 0;
	a->attributes = (Datum) 0;
	if (!v2)
		return;
	if (PG_ARGISNULL(priority_argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("priority must not be null"),
				 errhint("Leave it out to send with priority 0.")));
	a->priority = PG_GETARG_INT32(priority_argno);
	pgque_check_priority(a->priority);

	if (!has_send_options)
		return;
	if (!PG_ARGISNULL(nargs))
	{
		a->dedup_key = PG_GETARG_TEXT_PP(nargs);
		dedup_key_check(a->dedup_key);
	}
	label = PG_ARGISNULL(nargs + 1) ? NULL : PG_GETARG_TEXT_PP(nargs + 1);
	attributes = PG_ARGISNULL(nargs + 2) ? NULL : PG_GETARG_JSONB_P(nargs + 2);
	label_check(label, attributes);
	if (label != NULL)
		a->label = PointerGetDatum(label);
	if (attributes != NULL)
		a->attributes = jsonb_text(JsonbPGetDatum(attributes));
}

/* Producing to a restricted queue needs a 'produce' grant (access.c). */
static inline void
check_produce(EventWriter *w)
{
	if (w->queue.restricted)
		pgque_check_access(w->queue.queue_id, "produce", 0);
}

/* jsonb is stored in its canonical text form */
static Datum
jsonb_text(Datum d)
{
	Jsonb	   *jb = DatumGetJsonbP(d);

	return CStringGetTextDatum(JsonbToCString(NULL, &jb->root, VARSIZE(jb)));
}

/* A payload argument as text. */
static Datum
payload_arg(FunctionCallInfo fcinfo, int argno, bool is_jsonb, bool *isnull)
{
	*isnull = PG_ARGISNULL(argno);
	if (*isnull)
		return (Datum) 0;
	if (is_jsonb)
		return jsonb_text(PG_GETARG_DATUM(argno));
	return PointerGetDatum(PG_GETARG_TEXT_PP(argno));
}

/*
 * Switch writer w, looked up for a queue, to the queue's lane for priority
 * (created if needed). Returns the queue's sequence: the events' ids come
 * from it.
 */
static Oid
writer_to_lane(EventWriter *w, int priority)
{
	Oid			queue_seq = w->seq;
	int32		lane = lane_for_send(&w->queue, priority);

	/* a fresh read of the lane's row after the xid, as for any queue */
	event_writer_lookup(w, NULL, lane);
	return queue_seq;
}

static void
event_values_init(Datum *values, bool *nulls)
{
	memset(values, 0, sizeof(Datum) * EV_NATTS);
	memset(nulls, true, sizeof(bool) * EV_NATTS);
}

static Datum
send_common(FunctionCallInfo fcinfo, bool is_jsonb, bool v2)
{
	char	   *queue_name = pgque_queue_name_arg(fcinfo, 0);
	SendArgs	a;
	Datum		values[EV_NATTS];
	bool		nulls[EV_NATTS];
	EventWriter w;
	int32		queue_id;
	int64		ev_id;

	send_args(fcinfo, v2, true, &a);
	event_values_init(values, nulls);
	values[EV_TYPE] = a.type_value;
	nulls[EV_TYPE] = false;
	values[EV_DATA] = payload_arg(fcinfo, a.payload_argno, is_jsonb, &nulls[EV_DATA]);
	values[EV_EXTRA1] = a.label;
	nulls[EV_EXTRA1] = a.label == (Datum) 0;
	values[EV_EXTRA2] = a.attributes;
	nulls[EV_EXTRA2] = a.attributes == (Datum) 0;

	event_writer_lookup(&w, queue_name, 0);
	check_produce(&w);
	queue_id = w.queue.queue_id;	/* the lane's parent: keys are the queue's */
	if (a.dedup_key != NULL)
	{
		/* sent before within the window (or by a transaction we waited for) */
		ev_id = dedup_find(queue_id, a.dedup_key);
		if (ev_id != 0)
			PG_RETURN_INT64(ev_id);
	}
	if (a.priority > 0)
	{
		Oid			queue_seq = writer_to_lane(&w, a.priority);

		values[EV_ID] = Int64GetDatum(nextval_internal(queue_seq, false));
		nulls[EV_ID] = false;
	}
	if (a.priority == 0 && w.queue.delivery_delay > 0)
		ev_id = DatumGetInt64(send_delayed(&w, values[EV_TYPE], &values[EV_DATA], &nulls[EV_DATA],
										   1, a.label, a.attributes)[0]);
	else
	{
		event_writer_open(&w);
		ev_id = event_writer_insert(&w, values, nulls);
		event_writer_end(&w);
	}
	if (a.dedup_key != NULL)
		dedup_remember(queue_id, a.dedup_key, ev_id);
	PG_RETURN_INT64(ev_id);
}

/* SQL: pgque.send(queue_name text, [type_name text,] payload text, priority, dedup_key) */
Datum
pgque_send_text(PG_FUNCTION_ARGS)
{
	return send_common(fcinfo, false, false);
}

Datum
pgque_send_text2(PG_FUNCTION_ARGS)
{
	return send_common(fcinfo, false, true);
}

/* SQL: pgque.send(queue_name text, [type_name text,] payload jsonb, priority, dedup_key) */
Datum
pgque_send_jsonb(PG_FUNCTION_ARGS)
{
	return send_common(fcinfo, true, false);
}

Datum
pgque_send_jsonb2(PG_FUNCTION_ARGS)
{
	return send_common(fcinfo, true, true);
}

static Datum
send_batch_common(FunctionCallInfo fcinfo, bool is_jsonb, bool v2)
{
	char	   *queue_name = pgque_queue_name_arg(fcinfo, 0);
	SendArgs	a;
	Oid			queue_seq = InvalidOid;
	int			array_arg_no;
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *elem_nulls;
	int			n;
	Datum	   *ids;
	Datum		values[EV_NATTS];
	bool		nulls[EV_NATTS];
	Datum		type_value;
	EventWriter w;
	int			i;

	send_args(fcinfo, v2, false, &a);
	array_arg_no = a.payload_argno;
	type_value = a.type_value;
	if (PG_ARGISNULL(array_arg_no))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("payloads must not be null"),
				 errhint("Pass an empty array to send nothing.")));

	arr = PG_GETARG_ARRAYTYPE_P(array_arg_no);
	deconstruct_array(arr, is_jsonb ? JSONBOID : TEXTOID, -1, false,
					  TYPALIGN_INT, &elems, &elem_nulls, &n);

	if (n == 0)
	{
		PgqueQueue	q;

		/* Nothing to write, but a wrong queue name must still fail. */
		pgque_queue_lookup(queue_name, GetTransactionSnapshot(), &q);
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(INT8OID));
	}

	if (is_jsonb)
		for (i = 0; i < n; i++)
			if (!elem_nulls[i])
				elems[i] = jsonb_text(elems[i]);

	event_writer_lookup(&w, queue_name, 0);
	check_produce(&w);
	if (a.priority > 0)
		queue_seq = writer_to_lane(&w, a.priority);
	else if (w.queue.delivery_delay > 0)
	{
		ids = send_delayed(&w, type_value, elems, elem_nulls, n, (Datum) 0, (Datum) 0);
		PG_RETURN_ARRAYTYPE_P(construct_array(ids, n, INT8OID, sizeof(int64),
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	}
	ids = palloc(sizeof(Datum) * n);
	event_writer_open(&w);
	for (i = 0; i < n; i++)
	{
		event_values_init(values, nulls);
		values[EV_TYPE] = type_value;
		nulls[EV_TYPE] = false;
		values[EV_DATA] = elems[i];
		nulls[EV_DATA] = elem_nulls[i];
		if (OidIsValid(queue_seq))
		{
			values[EV_ID] = Int64GetDatum(nextval_internal(queue_seq, false));
			nulls[EV_ID] = false;
		}
		ids[i] = Int64GetDatum(event_writer_insert(&w, values, nulls));
	}
	event_writer_end(&w);

	PG_RETURN_ARRAYTYPE_P(construct_array(ids, n, INT8OID, sizeof(int64),
										  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* SQL: pgque.send_batch(queue_name text, [type_name text,] payloads text[], priority) */
Datum
pgque_send_batch_text(PG_FUNCTION_ARGS)
{
	return send_batch_common(fcinfo, false, false);
}

Datum
pgque_send_batch_text2(PG_FUNCTION_ARGS)
{
	return send_batch_common(fcinfo, false, true);
}

/* SQL: pgque.send_batch(queue_name text, [type_name text,] payloads jsonb[], priority) */
Datum
pgque_send_batch_jsonb(PG_FUNCTION_ARGS)
{
	return send_batch_common(fcinfo, true, false);
}

Datum
pgque_send_batch_jsonb2(PG_FUNCTION_ARGS)
{
	return send_batch_common(fcinfo, true, true);
}

/*
 * SQL: pgque.insert_event(queue_name, ev_type, ev_data
 *							[, ev_extra1, ev_extra2, ev_extra3, ev_extra4])
 */
Datum
pgque_insert_event(PG_FUNCTION_ARGS)
{
	char	   *queue_name = pgque_queue_name_arg(fcinfo, 0);
	Datum		values[EV_NATTS];
	bool		nulls[EV_NATTS];
	EventWriter w;
	int64		ev_id;
	int			i;

	event_values_init(values, nulls);
	/* args 1.. map onto ev_type, ev_data, ev_extra1..4 */
	for (i = 1; i < PG_NARGS(); i++)
	{
		nulls[EV_TYPE + i - 1] = PG_ARGISNULL(i);
		if (!PG_ARGISNULL(i))
			values[EV_TYPE + i - 1] = PointerGetDatum(PG_GETARG_TEXT_PP(i));
	}

	event_writer_begin(&w, queue_name, 0);
	check_produce(&w);
	ev_id = event_writer_insert(&w, values, nulls);
	event_writer_end(&w);
	PG_RETURN_INT64(ev_id);
}

/*
 * SQL: pgque._insert_event_raw(queue_id, ev_id, ev_time, ev_owner, ev_retry,
 *								ev_type, ev_data, ev_extra1..4) -> bigint
 *
 * Internal: re-inserts an event with its original id and time, for retries
 * and dead-letter replay. Not granted to anyone; called from SECURITY
 * DEFINER functions only.
 */
Datum
pgque_insert_event_raw(PG_FUNCTION_ARGS)
{
	Datum		values[EV_NATTS];
	bool		nulls[EV_NATTS];
	EventWriter w;
	int64		ev_id;
	int			argmap[] = {EV_ID, EV_TIME, EV_OWNER, EV_RETRY, EV_TYPE, EV_DATA,
	EV_EXTRA1, EV_EXTRA2, EV_EXTRA3, EV_EXTRA4};
	int			i;

	if (PG_ARGISNULL(0))
		elog(ERROR, "queue id must not be null");
	event_values_init(values, nulls);
	for (i = 0; i < (int) lengthof(argmap); i++)
	{
		nulls[argmap[i]] = PG_ARGISNULL(i + 1);
		if (!PG_ARGISNULL(i + 1))
			values[argmap[i]] = PG_GETARG_DATUM(i + 1);
	}

	event_writer_begin(&w, NULL, PG_GETARG_INT32(0));
	ev_id = event_writer_insert(&w, values, nulls);
	event_writer_end(&w);
	PG_RETURN_INT64(ev_id);
}

/*
 * SQL: pgque._insert_events_raw(queue_id, ev_ids bigint[], ev_times
 *		timestamptz[], ev_types text[], ev_datas text[], ev_extra1..4 text[])
 *		-> bigint
 *
 * Internal: _insert_event_raw for many events of one queue (the delayed
 * events a move takes, extension/55_delay.sql), with one writer. The arrays
 * are parallel; the extra arrays may be NULL (all NULL). Returns how many
 * were inserted.
 */
Datum
pgque_insert_events_raw(PG_FUNCTION_ARGS)
{
	static const int cols[] = {EV_ID, EV_TIME, EV_TYPE, EV_DATA,
	EV_EXTRA1, EV_EXTRA2, EV_EXTRA3, EV_EXTRA4};
	static const Oid types[] = {INT8OID, TIMESTAMPTZOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum	   *elems[lengthof(cols)];
	bool	   *elem_nulls[lengthof(cols)];
	int			n = -1;
	int			k;
	int			i;
	EventWriter w;

	if (PG_ARGISNULL(0))
		elog(ERROR, "queue id must not be null");
	for (k = 0; k < (int) lengthof(cols); k++)
	{
		int			nk;
		int16		typlen;
		bool		typbyval;
		char		typalign;

		elems[k] = NULL;
		elem_nulls[k] = NULL;
		if (PG_ARGISNULL(k + 1))
		{
			if (k < 2)
				elog(ERROR, "event ids and times must not be null");
			continue;
		}
		get_typlenbyvalalign(types[k], &typlen, &typbyval, &typalign);
		deconstruct_array(PG_GETARG_ARRAYTYPE_P(k + 1), types[k], typlen, typbyval, typalign,
						  &elems[k], &elem_nulls[k], &nk);
		if (n >= 0 && nk != n)
			elog(ERROR, "event arrays differ in length");
		n = nk;
	}
	if (n <= 0)
		PG_RETURN_INT64(0);

	event_writer_begin(&w, NULL, PG_GETARG_INT32(0));
	for (i = 0; i < n; i++)
	{
		Datum		values[EV_NATTS];
		bool		nulls[EV_NATTS];

		event_values_init(values, nulls);
		for (k = 0; k < (int) lengthof(cols); k++)
		{
			if (elems[k] == NULL || elem_nulls[k][i])
				continue;
			values[cols[k]] = elems[k][i];
			nulls[cols[k]] = false;
		}
		if (nulls[EV_ID] || nulls[EV_TIME])
			elog(ERROR, "event ids and times must not be null");
		event_writer_insert(&w, values, nulls);
	}
	event_writer_end(&w);
	PG_RETURN_INT64(n);
}

/*
 * SQL: pgque._produce_ids(queue text, n int4, out queue_id int4,
 *		out ev_ids bigint[])
 *
 * Internal, for send_at (extension/55_delay.sql): what send checks before it
 * writes -- the queue exists and accepts events, the caller may produce to
 * it -- and n ids from the queue's sequence, the ids the events will have.
 */
Datum
pgque_produce_ids(PG_FUNCTION_ARGS)
{
	char	   *queue_name = pgque_queue_name_arg(fcinfo, 0);
	int32		n = PG_ARGISNULL(1) ? 0 : PG_GETARG_INT32(1);
	TupleDesc	desc;
	Datum		out[2];
	bool		outnull[2] = {false, false};
	Datum	   *ids;
	EventWriter w;
	int			i;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	event_writer_lookup(&w, queue_name, 0);
	check_produce(&w);
	ids = palloc(sizeof(Datum) * Max(n, 1));
	for (i = 0; i < n; i++)
		ids[i] = Int64GetDatum(nextval_internal(w.seq, false));
	out[0] = Int32GetDatum(w.queue.queue_id);
	out[1] = PointerGetDatum(construct_array(ids, n, INT8OID, sizeof(int64),
											 FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), out, outnull)));
}
