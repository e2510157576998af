/*-------------------------------------------------------------------------
 *
 * catalog.c
 *		Finding pgque's objects and reading pgque.queue from C.
 *
 * Relations are resolved by name inside the pgque schema, never through
 * search_path, so a hostile object earlier on the path cannot be picked up.
 *
 * pgque_queue_fetch() reads one pgque.queue row with the snapshot the caller
 * passes. The producer path passes a snapshot taken *after* its transaction
 * id was assigned; that ordering is what makes table rotation safe for
 * producers with old snapshots (the argument is in extension/70_maint.sql).
 *
 *-------------------------------------------------------------------------
 */
#include "pgque.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"
#include "utils/xid8.h"

/*
 * The schema's OID and relation OIDs by name are cached per backend: the
 * consume and send paths resolve several names per call. A relation's
 * entry goes with any relcache invalidation of that OID (DROP, RENAME,
 * ALTER ... SET SCHEMA all send one), the schema's with a syscache
 * invalidation of pg_namespace; either kind with no OID empties all.
 * Only names found are cached, so a relation created later is looked up.
 */
typedef struct RelOidEntry
{
	NameData	name;			/* hash key */
	Oid			relid;
} RelOidEntry;

static HTAB *rel_oids = NULL;
static Oid	nsp_oid = InvalidOid;

static void
rel_oids_reset(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	RelOidEntry *e;

	if (rel_oids == NULL)
		return;
	hash_seq_init(&status, rel_oids);
	while ((e = hash_seq_search(&status)) != NULL)
		if (!OidIsValid(relid) || e->relid == relid)
			hash_search(rel_oids, &e->name, HASH_REMOVE, NULL);
}

static void
nsp_reset(Datum arg, int cacheid, uint32 hashvalue)
{
	nsp_oid = InvalidOid;
	rel_oids_reset(arg, InvalidOid);
}

Oid
pgque_namespace_oid(void)
{
	Oid			nsp = nsp_oid;

	if (OidIsValid(nsp))
		return nsp;
	nsp = get_namespace_oid(PGQUE_SCHEMA, true);
	if (!OidIsValid(nsp))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("schema \"%s\" does not exist", PGQUE_SCHEMA),
				 errhint("Run CREATE EXTENSION pgque in this database.")));
	nsp_oid = nsp;
	return nsp;
}

Oid
pgque_relation_oid(const char *relname)
{
	NameData	key;
	RelOidEntry *e;
	Oid			relid;
	bool		found;

	if (rel_oids == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = NAMEDATALEN;
		ctl.entrysize = sizeof(RelOidEntry);
		rel_oids = hash_create("pgque relation OIDs", 64, &ctl, HASH_ELEM | HASH_STRINGS);
	}
	namestrcpy(&key, relname);
	e = hash_search(rel_oids, &key, HASH_FIND, NULL);
	if (e != NULL)
		return e->relid;
	relid = get_relname_relid(relname, pgque_namespace_oid());
	if (!OidIsValid(relid))
		elog(ERROR, "pgque relation \"%s\" is missing", relname);
	e = hash_search(rel_oids, &key, HASH_ENTER, &found);
	e->relid = relid;
	return relid;
}

Oid
pgque_event_table_oid(int32 queue_id, int table_no)
{
	char		name[NAMEDATALEN];

	snprintf(name, sizeof(name), "event_%d_%d", queue_id, table_no);
	return pgque_relation_oid(name);
}

Oid
pgque_event_seq_oid(int32 queue_id)
{
	char		name[NAMEDATALEN];

	snprintf(name, sizeof(name), "event_%d_id_seq", queue_id);
	return pgque_relation_oid(name);
}

Oid
pgque_tick_seq_oid(int32 queue_id)
{
	char		name[NAMEDATALEN];

	snprintf(name, sizeof(name), "event_%d_tick_seq", queue_id);
	return pgque_relation_oid(name);
}

/*
 * The last value handed out by an open sequence, without consuming one; 0
 * for a sequence that was never used. What pg_sequence_last_value() says,
 * read from the sequence's one page under a share lock, without opening the
 * relation a second time or checking privileges (the callers are pgque's
 * own code on pgque's own sequences): info functions and metrics read one
 * per queue.
 */
static int64
sequence_rel_last_value(Relation rel)
{
	Buffer		buf;
	Page		page;
	ItemId		lp;
	HeapTupleData tuple;
	Form_pg_sequence_data seq;
	int64		value;

	if (rel->rd_rel->relkind != RELKIND_SEQUENCE)
		elog(ERROR, "pgque: \"%s\" is not a sequence", RelationGetRelationName(rel));
	buf = ReadBuffer(rel, 0);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	lp = PageGetItemId(page, FirstOffsetNumber);
	if (!ItemIdIsNormal(lp))
		elog(ERROR, "pgque: sequence \"%s\" has no data row", RelationGetRelationName(rel));
	tuple.t_data = (HeapTupleHeader) PageGetItem(page, lp);
	tuple.t_len = ItemIdGetLength(lp);
	seq = (Form_pg_sequence_data) GETSTRUCT(&tuple);
	value = seq->is_called ? seq->last_value : 0;
	UnlockReleaseBuffer(buf);
	return value;
}

int64
pgque_sequence_last_value(Oid seqoid)
{
	Relation	rel = relation_open(seqoid, AccessShareLock);
	int64		value = sequence_rel_last_value(rel);

	relation_close(rel, NoLock);
	return value;
}

typedef struct EventSeqOid
{
	int32		queue_id;		/* hash key */
	Oid			relid;
} EventSeqOid;

/*
 * The last event id of a queue; false (SQL: NULL) when the queue (its sequence) is
 * gone or being dropped: info functions list queues that a concurrent
 * drop_queue may be removing, and must not fail for that.
 */
bool
pgque_event_seq_last(int32 queue_id, int64 *value)
{
	static HTAB *seq_oids = NULL;	/* queue id -> the OID its sequence had */
	char		name[NAMEDATALEN];
	EventSeqOid *e;
	bool		found;
	Relation	rel;

	if (seq_oids == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(int32);
		ctl.entrysize = sizeof(EventSeqOid);
		seq_oids = hash_create("pgque event sequences", 256, &ctl, HASH_ELEM | HASH_BLOBS);
	}
	snprintf(name, sizeof(name), "event_%d_id_seq", queue_id);
	e = hash_search(seq_oids, &queue_id, HASH_ENTER, &found);
	for (;;)
	{
		if (!found)
		{
			e->relid = get_relname_relid(name, pgque_namespace_oid());
			if (!OidIsValid(e->relid))
			{
				hash_search(seq_oids, &queue_id, HASH_REMOVE, NULL);
				return false;
			}
		}
		/*
		 * Waits for a drop in progress; NULL if it removed the sequence (the
		 * lock processed its invalidation). try_relation_open without its
		 * catalog probe, which cost a fifth of a metrics() call.
		 */
		LockRelationOid(e->relid, AccessShareLock);
		rel = RelationIdGetRelation(e->relid);
		/* a remembered OID is checked once the relation is locked */
		if (rel != NULL && strcmp(RelationGetRelationName(rel), name) == 0 &&
			RelationGetNamespace(rel) == pgque_namespace_oid())
			break;
		if (rel != NULL)
			RelationClose(rel);
		UnlockRelationOid(e->relid, AccessShareLock);
		if (!found)
		{
			hash_search(seq_oids, &queue_id, HASH_REMOVE, NULL);
			return false;
		}
		found = false;			/* look it up by name */
	}
	*value = sequence_rel_last_value(rel);
	RelationClose(rel);			/* keep the lock to the end of the transaction */
	return true;
}

/* SQL: pgque._event_seq_value(queue_id int4) -> bigint, the same */
PG_FUNCTION_INFO_V1(pgque_event_seq_value);
Datum
pgque_event_seq_value(PG_FUNCTION_ARGS)
{
	int64		value;

	if (PG_ARGISNULL(0) || !pgque_event_seq_last(PG_GETARG_INT32(0), &value))
		PG_RETURN_NULL();
	PG_RETURN_INT64(value);
}

void
pgque_error_queue_missing(const char *queue_name)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("queue not found: %s", queue_name),
			 errpgqueobject("queue"),
			 errhint("Create it with pgque.create_queue().")));
}

/* Columns of pgque.queue that PgqueQueue carries. */
enum
{
	QA_ID, QA_NAME, QA_NTABLES, QA_CUR_TABLE, QA_STEP1, QA_STEP2,
	QA_EXTERNAL, QA_DISABLE, QA_PAUSED, QA_FORCED, QA_MAX_COUNT,
	QA_MAX_LAG, QA_IDLE, QA_MAX_RETRIES,
	/* since 0.2.0: missing while a database still has the 0.1.0 tables */
	QA_RESTRICTED, QA_DELIVERY_DELAY, QA_MESSAGE_TTL, QA_EXPIRED_ACTION,
	QA_LANE_OF, QA_PRIORITY, QA_QUEUE_PAUSED,
	QA_COUNT
};
#define QA_FIRST_OPTIONAL	QA_RESTRICTED

/* and their types */
static const Oid queue_column_types[QA_COUNT] = {
	INT4OID, TEXTOID, INT4OID, INT4OID, XID8OID, XID8OID, BOOLOID,
	BOOLOID, BOOLOID, BOOLOID, INT4OID, INTERVALOID, INTERVALOID, INT4OID,
	BOOLOID, INTERVALOID, INTERVALOID, TEXTOID, INT4OID, INT2OID, BOOLOID
};

static const char *const queue_columns[QA_COUNT] = {
	"queue_id", "queue_name", "queue_ntables", "queue_cur_table",
	"queue_switch_step1", "queue_switch_step2", "queue_external_ticker",
	"queue_disable_insert", "queue_ticker_paused", "queue_tick_forced",
	"queue_ticker_max_count", "queue_ticker_max_lag",
	"queue_ticker_idle_period", "queue_max_retries", "queue_restricted",
	"queue_delivery_delay", "queue_message_ttl", "queue_expired_action",
	"queue_lane_of", "queue_priority", "queue_paused"
};

/*
 * attnums of queue_columns in the pgque.queue with OID queue_attnums_rel;
 * forgotten whenever that table changes (ALTER EXTENSION UPDATE adds
 * columns to it).
 */
static Oid	queue_attnums_rel = InvalidOid;
static AttrNumber queue_attnums[QA_COUNT];

/*
 * Whether pgque.tick and pgque.batch have the 0.2.0 columns that bound and
 * resume reading a window (batch.c, heap_range.c), as of the pgque.tick with
 * OID ranges_tick_rel and pgque.batch with OID ranges_batch_rel.
 */
static Oid	ranges_tick_rel = InvalidOid;
static Oid	ranges_batch_rel = InvalidOid;
static bool ranges_present;

static void
catalog_reset(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == queue_attnums_rel)
		queue_attnums_rel = InvalidOid;
	if (!OidIsValid(relid) || relid == ranges_tick_rel || relid == ranges_batch_rel)
		ranges_tick_rel = InvalidOid;
}

/*
 * Does this database have the 0.2.0 schema (heap ranges, subconsumers,
 * pausing, filters)? False while it still has the 0.1.0 tables (the library was
 * updated first). The upgrade alters pgque.tick and pgque.batch, whose
 * relcache invalidation makes us look again.
 */
bool
pgque_schema_has_heap_ranges(void)
{
	Oid			tick = pgque_relation_oid("tick");

	if (tick != ranges_tick_rel)
	{
		Oid			batch = pgque_relation_oid("batch");

		ranges_present = get_attnum(tick, "tick_heap") != InvalidAttrNumber &&
			get_attnum(tick, "tick_since") != InvalidAttrNumber &&
			get_attnum(batch, "batch_start_pos") != InvalidAttrNumber &&
			get_attnum(batch, "batch_end_pos") != InvalidAttrNumber &&
			get_attnum(batch, "batch_member") != InvalidAttrNumber &&
			get_attnum(pgque_relation_oid("subscriber"), "sub_paused") != InvalidAttrNumber &&
			get_attnum(pgque_relation_oid("subscriber"), "sub_labels") != InvalidAttrNumber &&
			get_attnum(pgque_relation_oid("queue"), "queue_lane_of") != InvalidAttrNumber;
		ranges_batch_rel = batch;
		ranges_tick_rel = tick;
	}
	return ranges_present;
}

void
pgque_catalog_init(void)
{
	CacheRegisterRelcacheCallback(catalog_reset, (Datum) 0);
	CacheRegisterRelcacheCallback(rel_oids_reset, (Datum) 0);
	CacheRegisterSyscacheCallback(NAMESPACEOID, nsp_reset, (Datum) 0);
}

static void
load_queue_attnums(Oid relid)
{
	int			i;

	if (queue_attnums_rel == relid)
		return;
	for (i = 0; i < QA_COUNT; i++)
	{
		queue_attnums[i] = get_attnum(relid, queue_columns[i]);
		if (queue_attnums[i] == InvalidAttrNumber && i >= QA_FIRST_OPTIONAL)
			continue;
		if (queue_attnums[i] == InvalidAttrNumber ||
			get_atttype(relid, queue_attnums[i]) != queue_column_types[i])
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("column pgque.queue.%s is missing or has been altered",
							queue_columns[i]),
					 errhint("pgque's tables must keep the layout the extension created.")));
	}
	queue_attnums_rel = relid;
}

static int64
interval_usecs(Datum d)
{
	Interval   *iv = DatumGetIntervalP(d);

	return iv->time + (int64) iv->day * USECS_PER_DAY +
		(int64) iv->month * DAYS_PER_MONTH * USECS_PER_DAY;
}

/* An optional interval column of pgque.queue in microseconds; 0 if null or missing. */
static int64
optional_usecs(Datum *values, bool *nulls, int column)
{
	AttrNumber	att = queue_attnums[column];

	if (att == InvalidAttrNumber || nulls[att - 1])
		return 0;
	return interval_usecs(values[att - 1]);
}

/*
 * Read the pgque.queue row with the given name (or, when queue_name is
 * NULL, the given id) as seen by snapshot. Returns false if there is none.
 */
bool
pgque_queue_fetch(const char *queue_name, int32 queue_id, Snapshot snapshot,
				  PgqueQueue *q)
{
	Oid			relid = pgque_relation_oid("queue");
	Relation	rel;
	Relation	idx;
	IndexScanDesc scan;
	ScanKeyData key;
	TupleTableSlot *slot;
	bool		found;

	rel = table_open(relid, AccessShareLock);
	load_queue_attnums(relid);

	if (queue_name != NULL)
	{
		idx = index_open(pgque_relation_oid("queue_queue_name_key"), AccessShareLock);
		ScanKeyEntryInitialize(&key, 0, 1, BTEqualStrategyNumber, InvalidOid,
							   idx->rd_indcollation[0], F_TEXTEQ,
							   CStringGetTextDatum(queue_name));
	}
	else
	{
		idx = index_open(pgque_relation_oid("queue_pkey"), AccessShareLock);
		ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT4EQ,
					Int32GetDatum(queue_id));
	}

	slot = table_slot_create(rel, NULL);
	scan = index_beginscan(rel, idx, snapshot, 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	if (found)
	{
		Datum	   *v;
		bool	   *n;

		slot_getallattrs(slot);
		v = slot->tts_values;
		n = slot->tts_isnull;
#define COL(i) v[queue_attnums[i] - 1]
		memset(q, 0, sizeof(*q));
		q->queue_id = DatumGetInt32(COL(QA_ID));
		strlcpy(q->queue_name, TextDatumGetCString(COL(QA_NAME)), NAMEDATALEN);
		q->ntables = DatumGetInt32(COL(QA_NTABLES));
		q->cur_table = DatumGetInt32(COL(QA_CUR_TABLE));
		q->switch_step1 = DatumGetFullTransactionId(COL(QA_STEP1));
		q->switch_step2 = n[queue_attnums[QA_STEP2] - 1] ?
			InvalidFullTransactionId : DatumGetFullTransactionId(COL(QA_STEP2));
		q->external_ticker = DatumGetBool(COL(QA_EXTERNAL));
		q->disable_insert = DatumGetBool(COL(QA_DISABLE));
		q->ticker_paused = DatumGetBool(COL(QA_PAUSED));
		q->tick_forced = DatumGetBool(COL(QA_FORCED));
		q->ticker_max_count = DatumGetInt32(COL(QA_MAX_COUNT));
		q->ticker_max_lag = interval_usecs(COL(QA_MAX_LAG));
		q->ticker_idle_period = interval_usecs(COL(QA_IDLE));
		q->max_retries = DatumGetInt32(COL(QA_MAX_RETRIES));
		q->restricted = queue_attnums[QA_RESTRICTED] != InvalidAttrNumber &&
			DatumGetBool(COL(QA_RESTRICTED));
		q->delivery_delay = optional_usecs(v, n, QA_DELIVERY_DELAY);
		q->message_ttl = optional_usecs(v, n, QA_MESSAGE_TTL);
		if (queue_attnums[QA_MESSAGE_TTL] != InvalidAttrNumber &&
			!n[queue_attnums[QA_MESSAGE_TTL] - 1])
		{
			/* what date_part('epoch', ttl) * 1000000 gives, to the rounding */
			float8		epoch = DatumGetFloat8(DirectFunctionCall2(interval_part,
																   CStringGetTextDatum("epoch"),
																   COL(QA_MESSAGE_TTL)));

			q->message_ttl_epoch_us = DatumGetInt64(DirectFunctionCall1(dtoi8,
																		Float8GetDatum(epoch * 1000000)));
		}
		q->paused = queue_attnums[QA_QUEUE_PAUSED] != InvalidAttrNumber &&
			DatumGetBool(COL(QA_QUEUE_PAUSED));
		q->expired_drop = queue_attnums[QA_EXPIRED_ACTION] != InvalidAttrNumber &&
			strcmp(TextDatumGetCString(COL(QA_EXPIRED_ACTION)), "drop") == 0;
		if (queue_attnums[QA_LANE_OF] != InvalidAttrNumber && !n[queue_attnums[QA_LANE_OF] - 1])
		{
			q->lane_of = DatumGetInt32(COL(QA_LANE_OF));
			q->priority = DatumGetInt16(COL(QA_PRIORITY));
		}
#undef COL
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(idx, AccessShareLock);
	table_close(rel, NoLock);
	return found;
}

/* pgque_queue_fetch by name that raises 42704 when the queue is missing. */
void
pgque_queue_lookup(const char *queue_name, Snapshot snapshot, PgqueQueue *q)
{
	if (!pgque_queue_fetch(queue_name, 0, snapshot, q))
		pgque_error_queue_missing(queue_name);
}
