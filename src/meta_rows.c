/*-------------------------------------------------------------------------
 *
 * meta_rows.c
 *		A consumer's metadata rows by key, without SPI: pgque.consumer,
 *		pgque.subscriber, pgque.tick and pgque.batch.
 *
 * receive and ack read a few rows by key and write one or two batch rows
 * per batch. Through SPI each statement paid for executor start-up (and
 * often a fresh custom plan) many times over the row access itself; here
 * each is one index scan, heap_insert or heap update. consume.c calls
 * these where meta_rows_ready() says so and keeps its SPI statements for
 * the rest (the 0.1.0 tables; a table someone changed, see below).
 *
 * What is cached per backend: the OIDs of the tables and of the indexes
 * the lookups use, found by their key columns, and the column numbers.
 * A relcache invalidation of any of those relations (ALTER, DROP, ALTER
 * EXTENSION UPDATE, or one without an OID) forgets it all.
 *
 * Writes go to pgque.batch only, and only while it is exactly as the
 * extension made it: a heap table with its twelve columns, their NOT NULLs
 * and its one check constraint, no trigger, no rule, no row level
 * security, plain column indexes; for a write this is decided under the
 * write's lock (meta_rows_write_ready). Otherwise meta_rows_ready() is
 * false and consume.c writes through SPI, so that a trigger, a check or a
 * default someone added still applies. Otherwise the effect is that of
 * the SPI statements: every index is maintained (unique ones checked),
 * the check constraint batch_state_check holds by construction, the
 * command counter is advanced before and after each write, the row to update is
 * found with the caller's snapshot at the new command id, as SPI does for
 * a write under a given snapshot.
 *
 * Visibility and locking: every read uses the snapshot the caller passes
 * and the same relation locks as the statements (AccessShareLock to read,
 * RowExclusiveLock to write, held to the end of the transaction). The
 * subscriber's lock (consume.c) serializes writers of one consumer's
 * batch rows; a concurrent update or delete of a row being updated here
 * (only a writer without that lock, such as drop_queue, could make one) is
 * an ERROR (simple_heap_update's, not a serialization failure), where the
 * UPDATE through SPI would have re-checked the row in READ COMMITTED.
 *
 *-------------------------------------------------------------------------
 */
#include "pgque.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/nbtree.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/pg_am.h"
#include "commands/defrem.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "executor/tuptable.h"
#include "nodes/execnodes.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "storage/lmgr.h"
#include "utils/timestamp.h"

#include "meta_rows.h"

/* pgque.batch's columns, in the order of the table the extension creates */
enum
{
	BA_ID, BA_SUB, BA_PREV, BA_NEXT, BA_START_EV, BA_END_EV, BA_STATE,
	BA_OPENED, BA_CLOSED, BA_START_POS, BA_END_POS, BA_MEMBER,
	BA_COUNT
};
static const char *const batch_columns[BA_COUNT] = {
	"batch_id", "batch_sub", "batch_prev_tick", "batch_next_tick",
	"batch_start_ev", "batch_end_ev", "batch_state", "batch_opened",
	"batch_closed", "batch_start_pos", "batch_end_pos", "batch_member"
};
static const Oid batch_types[BA_COUNT] = {
	INT8OID, INT4OID, INT8OID, INT8OID, INT8OID, INT8OID, CHAROID,
	TIMESTAMPTZOID, TIMESTAMPTZOID, INT8OID, INT8OID, TEXTOID
};

enum
{
	SU_ID, SU_QUEUE, SU_CONSUMER, SU_ROLE, SU_PAUSED, SU_TYPES, SU_LABELS, SU_COUNT
};
static const char *const sub_columns[SU_COUNT] = {
	"sub_id", "sub_queue", "sub_consumer", "sub_role", "sub_paused", "sub_types", "sub_labels"
};
static const Oid sub_types[SU_COUNT] = {INT4OID, INT4OID, INT4OID, TEXTOID, BOOLOID,
TEXTARRAYOID, TEXTARRAYOID};

enum
{
	TI_QUEUE, TI_ID, TI_SEQ, TI_SNAPSHOT, TI_HEAP, TI_SINCE, TI_TIME, TI_COUNT
};
static const char *const tick_columns[TI_COUNT] = {
	"tick_queue", "tick_id", "tick_event_seq", "tick_snapshot", "tick_heap", "tick_since",
	"tick_time"
};
static const Oid tick_types[TI_COUNT] = {
	INT4OID, INT8OID, INT8OID, PG_SNAPSHOTOID, INT8ARRAYOID, INT8ARRAYOID, TIMESTAMPTZOID
};

enum
{
	CO_ID, CO_NAME, CO_COUNT
};
static const char *const co_columns[CO_COUNT] = {"co_id", "co_name"};
static const Oid co_types[CO_COUNT] = {INT4OID, TEXTOID};

typedef struct MetaCache
{
	bool		valid;			/* the fields below are filled in */
	bool		ready;			/* and the direct paths may be used */
	Oid			batch_rel;
	Oid			batch_pkey;		/* (batch_id) */
	Oid			batch_sub_idx;	/* (batch_sub, batch_member, batch_id) */
	Oid			batch_seq;
	Oid			sub_rel;
	Oid			sub_pkey;		/* (sub_id) */
	Oid			sub_key;		/* (sub_queue, sub_consumer) */
	Oid			co_rel;
	Oid			co_name_idx;	/* (co_name) */
	Oid			tick_rel;
	Oid			tick_pkey;		/* (tick_queue, tick_id) */
	Oid			queue_rel;
	Oid			queue_lane_idx; /* (queue_lane_of, ...) */
	AttrNumber	batch_att[BA_COUNT];
	AttrNumber	sub_att[SU_COUNT];
	AttrNumber	tick_att[TI_COUNT];
	AttrNumber	co_att[CO_COUNT];
	AttrNumber	queue_lane_of_att;
	int			batch_natts;	/* pgque.batch's attribute count, dropped ones too */
} MetaCache;

static MetaCache cache;

/*
 * Per subscriber, the newest batch_id of its own rows this backend saw or
 * wrote: a hint only. The newest row of a subscriber has the highest id of
 * its rows and newer rows get higher ids, so the scan for it starts with
 * batch_id >= hint, which reads one or two index entries instead of a
 * leaf page of the subscriber's history; when that finds nothing (the hint
 * came from a transaction that rolled back), the scan is repeated without.
 */
typedef struct SubHint
{
	int32		sub_id;			/* hash key */
	int64		batch_id;
} SubHint;

static HTAB *sub_hints = NULL;

static int64
hint_get(int32 sub_id)
{
	SubHint    *h;

	if (sub_hints == NULL)
		return 0;
	h = hash_search(sub_hints, &sub_id, HASH_FIND, NULL);
	return h ? h->batch_id : 0;
}

static void
hint_set(int32 sub_id, int64 batch_id)
{
	SubHint    *h;

	if (sub_hints == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(int32);
		ctl.entrysize = sizeof(SubHint);
		sub_hints = hash_create("pgque batch hints", 64, &ctl, HASH_ELEM | HASH_BLOBS);
	}
	h = hash_search(sub_hints, &sub_id, HASH_ENTER, NULL);
	h->batch_id = batch_id;
}

static void
meta_reset(Datum arg, Oid relid)
{
	if (!cache.valid)
		return;
	if (!OidIsValid(relid) || relid == cache.batch_rel || relid == cache.sub_rel ||
		relid == cache.co_rel || relid == cache.tick_rel || relid == cache.queue_rel ||
		relid == cache.batch_pkey || relid == cache.batch_sub_idx ||
		relid == cache.sub_pkey || relid == cache.sub_key || relid == cache.co_name_idx ||
		relid == cache.tick_pkey || relid == cache.queue_lane_idx || relid == cache.batch_seq)
		cache.valid = false;
}

void
pgque_meta_rows_init(void)
{
	CacheRegisterRelcacheCallback(meta_reset, (Datum) 0);
}

/* Column numbers of names in rel; false if one is missing or of another type. */
static bool
find_columns(Relation rel, int n, const char *const *names, const Oid *types, AttrNumber *att)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		att[i] = get_attnum(RelationGetRelid(rel), names[i]);
		if (att[i] == InvalidAttrNumber ||
			TupleDescAttr(RelationGetDescr(rel), att[i] - 1)->atttypid != types[i])
			return false;
	}
	return true;
}

/*
 * The plain btree index of rel whose leading key columns are keys[0..nkeys)
 * (and, with exact, no other); InvalidOid if none. *plain_only is cleared
 * when rel has an index that is not a plain column index.
 */
static Oid
find_index(Relation rel, const AttrNumber *keys, int nkeys, bool exact, bool *plain_only)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	Oid			found = InvalidOid;

	foreach(lc, indexes)
	{
		Relation	idx = index_open(lfirst_oid(lc), AccessShareLock);
		Form_pg_index ind = idx->rd_index;
		int			k;
		bool		match = idx->rd_rel->relam == BTREE_AM_OID &&
			ind->indisvalid && ind->indisready && ind->indislive &&
			ind->indnkeyatts >= nkeys && (!exact || ind->indnkeyatts == nkeys) &&
			heap_attisnull(idx->rd_indextuple, Anum_pg_index_indexprs, NULL) &&
			heap_attisnull(idx->rd_indextuple, Anum_pg_index_indpred, NULL);

		if (plain_only != NULL &&
			(!heap_attisnull(idx->rd_indextuple, Anum_pg_index_indexprs, NULL) ||
			 !heap_attisnull(idx->rd_indextuple, Anum_pg_index_indpred, NULL) ||
			 ind->indisexclusion || !ind->indimmediate || !ind->indisready))
			*plain_only = false;
		/*
		 * The scans read key order: each key column ascending with its
		 * type's default btree operator family (a DESC column would make the
		 * backward scan for the newest batch row return the oldest).
		 */
		for (k = 0; match && k < nkeys; k++)
			if (ind->indkey.values[k] != keys[k] || idx->rd_indoption[k] != 0 ||
				idx->rd_opfamily[k] !=
				get_opclass_family(GetDefaultOpClass(TupleDescAttr(RelationGetDescr(rel),
																   keys[k] - 1)->atttypid,
													 BTREE_AM_OID)))
				match = false;
		if (match && !OidIsValid(found))
			found = RelationGetRelid(idx);
		index_close(idx, AccessShareLock);
	}
	list_free(indexes);
	return found;
}

/*
 * Whether pgque.batch's constraints are those the extension made: its
 * check constraint batch_state_check alone (which the rows written here
 * satisfy by construction, as nothing here runs ExecConstraints) and NOT
 * NULL on exactly the columns that have it in 02_schema.sql (heap_insert
 * does not check NOT NULL either). A check or NOT NULL someone added is
 * enforced only by the SQL statements.
 */
static bool
batch_constraints_as_created(Relation rel)
{
	TupleConstr *constr = RelationGetDescr(rel)->constr;
	int			i;

	if (constr == NULL || constr->num_check != 1 ||
		strcmp(constr->check[0].ccname, "batch_state_check") != 0 ||
		!constr->check[0].ccvalid)
		return false;
	for (i = 0; i < BA_COUNT; i++)
	{
		bool		notnull = i == BA_ID || i == BA_SUB || i == BA_NEXT || i == BA_STATE ||
			i == BA_OPENED || i == BA_MEMBER;

		if (TupleDescAttr(RelationGetDescr(rel), cache.batch_att[i] - 1)->attnotnull != notnull)
			return false;
	}
	return true;
}

static void
meta_load(void)
{
	Relation	rel;
	AttrNumber	keys[3];
	bool		plain = true;
	bool		ok = true;
	int			live = 0;
	int			i;

	memset(&cache, 0, sizeof(cache));
	if (!pgque_schema_has_heap_ranges())
	{
		cache.valid = true;		/* the 0.1.0 tables: SPI; ranges_present watches them */
		cache.batch_rel = pgque_relation_oid("batch");
		cache.tick_rel = pgque_relation_oid("tick");
		return;
	}

	cache.batch_rel = pgque_relation_oid("batch");
	cache.batch_seq = pgque_relation_oid("batch_id_seq");
	rel = table_open(cache.batch_rel, AccessShareLock);
	ok &= find_columns(rel, BA_COUNT, batch_columns, batch_types, cache.batch_att);
	for (i = 0; i < RelationGetDescr(rel)->natts; i++)
		if (!TupleDescAttr(RelationGetDescr(rel), i)->attisdropped)
			live++;
	cache.batch_natts = RelationGetDescr(rel)->natts;
	ok &= live == BA_COUNT;
	ok &= rel->trigdesc == NULL && rel->rd_rules == NULL && !rel->rd_rel->relrowsecurity &&
		rel->rd_rel->relkind == RELKIND_RELATION && rel->rd_rel->relam == HEAP_TABLE_AM_OID;
	ok = ok && batch_constraints_as_created(rel);
	if (ok)
	{
		keys[0] = cache.batch_att[BA_ID];
		cache.batch_pkey = find_index(rel, keys, 1, true, &plain);
		keys[0] = cache.batch_att[BA_SUB];
		keys[1] = cache.batch_att[BA_MEMBER];
		keys[2] = cache.batch_att[BA_ID];
		cache.batch_sub_idx = find_index(rel, keys, 3, false, &plain);
	}
	table_close(rel, AccessShareLock);
	ok &= plain;

	cache.sub_rel = pgque_relation_oid("subscriber");
	rel = table_open(cache.sub_rel, AccessShareLock);
	ok &= find_columns(rel, SU_COUNT, sub_columns, sub_types, cache.sub_att);
	if (ok)
	{
		keys[0] = cache.sub_att[SU_ID];
		cache.sub_pkey = find_index(rel, keys, 1, true, NULL);
		keys[0] = cache.sub_att[SU_QUEUE];
		keys[1] = cache.sub_att[SU_CONSUMER];
		cache.sub_key = find_index(rel, keys, 2, true, NULL);
	}
	table_close(rel, AccessShareLock);

	cache.co_rel = pgque_relation_oid("consumer");
	rel = table_open(cache.co_rel, AccessShareLock);
	ok &= find_columns(rel, CO_COUNT, co_columns, co_types, cache.co_att);
	if (ok)
	{
		keys[0] = cache.co_att[CO_NAME];
		cache.co_name_idx = find_index(rel, keys, 1, true, NULL);
	}
	table_close(rel, AccessShareLock);

	cache.tick_rel = pgque_relation_oid("tick");
	rel = table_open(cache.tick_rel, AccessShareLock);
	ok &= find_columns(rel, TI_COUNT, tick_columns, tick_types, cache.tick_att);
	if (ok)
	{
		keys[0] = cache.tick_att[TI_QUEUE];
		keys[1] = cache.tick_att[TI_ID];
		cache.tick_pkey = find_index(rel, keys, 2, true, NULL);
	}
	table_close(rel, AccessShareLock);

	cache.queue_rel = pgque_relation_oid("queue");
	rel = table_open(cache.queue_rel, AccessShareLock);
	cache.queue_lane_of_att = get_attnum(cache.queue_rel, "queue_lane_of");
	if (cache.queue_lane_of_att != InvalidAttrNumber)
	{
		keys[0] = cache.queue_lane_of_att;
		cache.queue_lane_idx = find_index(rel, keys, 1, false, NULL);
	}
	table_close(rel, AccessShareLock);

	cache.ready = ok && OidIsValid(cache.batch_pkey) && OidIsValid(cache.batch_sub_idx) &&
		OidIsValid(cache.sub_pkey) && OidIsValid(cache.sub_key) &&
		OidIsValid(cache.co_name_idx) && OidIsValid(cache.tick_pkey) &&
		OidIsValid(cache.queue_lane_idx);
	cache.valid = true;
}

bool
meta_rows_ready(void)
{
	if (!cache.valid)
		meta_load();
	return cache.ready;
}

/*
 * meta_rows_ready() for a write to pgque.batch, decided under the lock the
 * write takes. The reads before it hold only AccessShareLock on the table,
 * which CREATE TRIGGER and ADD FOREIGN KEY (ShareRowExclusiveLock) do not
 * wait for: such a change may commit after the decision of a read and
 * before the write. RowExclusiveLock conflicts with every change that
 * makes the table unfit for the direct path, and taking it processes the
 * invalidations of those that committed meanwhile, so the decision made
 * after it holds until the end of the transaction.
 */
bool
meta_rows_write_ready(void)
{
	if (!meta_rows_ready())
		return false;
	LockRelationOid(cache.batch_rel, RowExclusiveLock);
	return meta_rows_ready();
}

/*
 * One index scan over rel by index idx with nkeys keys; rows come in the
 * index order of dir. The caller calls meta_scan_next and meta_scan_end.
 */
typedef struct MetaScan
{
	Relation	rel;
	Relation	idx;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	ScanDirection dir;
} MetaScan;

static void
meta_scan_begin(MetaScan *s, Oid relid, Oid idxid, Snapshot snap, ScanKey keys, int nkeys,
				ScanDirection dir)
{
	s->rel = table_open(relid, AccessShareLock);
	s->idx = index_open(idxid, AccessShareLock);
	s->slot = table_slot_create(s->rel, NULL);
	s->scan = index_beginscan(s->rel, s->idx, snap, nkeys, 0);
	index_rescan(s->scan, keys, nkeys, NULL, 0);
	s->dir = dir;
}

/* The next row, all columns deformed into s->slot; false at the end. */
static bool
meta_scan_next(MetaScan *s)
{
	if (!index_getnext_slot(s->scan, s->dir, s->slot))
		return false;
	slot_getallattrs(s->slot);
	return true;
}

static void
meta_scan_end(MetaScan *s)
{
	index_endscan(s->scan);
	ExecDropSingleTupleTableSlot(s->slot);
	index_close(s->idx, AccessShareLock);
	table_close(s->rel, NoLock);
}

#define SLOTVAL(s, att)		((s)->slot->tts_values[(att) - 1])
#define SLOTNULL(s, att)	((s)->slot->tts_isnull[(att) - 1])

/* A key "column = value" on index column attno; eqproc the type's equality. */
static void
key_eq(ScanKey key, Relation idx, int attno, RegProcedure eqproc, Datum value)
{
	ScanKeyEntryInitialize(key, 0, attno, BTEqualStrategyNumber, InvalidOid,
						   idx->rd_indcollation[attno - 1], eqproc, value);
}

/* the subscriber row by pkey or (queue, consumer); false if none */
static bool
sub_fetch(Snapshot snap, int32 sub_id, int32 queue_id, int32 consumer_id,
		  int32 *out_id, int32 *out_queue, bool *coop, bool *paused, SubFilter *filter)
{
	MetaScan	s;
	ScanKeyData keys[2];
	bool		found;
	Relation	idx;

	idx = index_open(sub_id != 0 ? cache.sub_pkey : cache.sub_key, AccessShareLock);
	if (sub_id != 0)
		key_eq(&keys[0], idx, 1, F_INT4EQ, Int32GetDatum(sub_id));
	else
	{
		key_eq(&keys[0], idx, 1, F_INT4EQ, Int32GetDatum(queue_id));
		key_eq(&keys[1], idx, 2, F_INT4EQ, Int32GetDatum(consumer_id));
	}
	meta_scan_begin(&s, cache.sub_rel, RelationGetRelid(idx), snap, keys, sub_id != 0 ? 1 : 2,
					ForwardScanDirection);
	index_close(idx, NoLock);
	found = meta_scan_next(&s);
	if (found)
	{
		if (SLOTNULL(&s, cache.sub_att[SU_ID]) || SLOTNULL(&s, cache.sub_att[SU_QUEUE]) ||
			SLOTNULL(&s, cache.sub_att[SU_ROLE]) || SLOTNULL(&s, cache.sub_att[SU_PAUSED]))
			elog(ERROR, "pgque: unexpected NULL in pgque.subscriber");
		if (out_id)
			*out_id = DatumGetInt32(SLOTVAL(&s, cache.sub_att[SU_ID]));
		if (out_queue)
			*out_queue = DatumGetInt32(SLOTVAL(&s, cache.sub_att[SU_QUEUE]));
		if (coop)
			*coop = strcmp(TextDatumGetCString(SLOTVAL(&s, cache.sub_att[SU_ROLE])),
						   "coop_main") == 0;
		if (paused)
			*paused = DatumGetBool(SLOTVAL(&s, cache.sub_att[SU_PAUSED]));
		if (filter)
			sub_filter_set(filter,
						   SLOTVAL(&s, cache.sub_att[SU_TYPES]), SLOTNULL(&s, cache.sub_att[SU_TYPES]),
						   SLOTVAL(&s, cache.sub_att[SU_LABELS]), SLOTNULL(&s, cache.sub_att[SU_LABELS]));
	}
	meta_scan_end(&s);
	return found;
}

/* co_id of a consumer name; 0 if there is none */
static int32
consumer_id(const char *name, Snapshot snap)
{
	MetaScan	s;
	ScanKeyData key;
	Relation	idx = index_open(cache.co_name_idx, AccessShareLock);
	int32		id = 0;

	key_eq(&key, idx, 1, F_TEXTEQ, CStringGetTextDatum(name));
	meta_scan_begin(&s, cache.co_rel, cache.co_name_idx, snap, &key, 1, ForwardScanDirection);
	index_close(idx, NoLock);
	if (meta_scan_next(&s))
	{
		if (SLOTNULL(&s, cache.co_att[CO_ID]))
			elog(ERROR, "pgque: unexpected NULL in pgque.consumer");
		id = DatumGetInt32(SLOTVAL(&s, cache.co_att[CO_ID]));
	}
	meta_scan_end(&s);
	return id;
}

/* whether some queue is a lane of queue_id */
static bool
queue_has_lanes(int32 queue_id, Snapshot snap)
{
	MetaScan	s;
	ScanKeyData key;
	Relation	idx = index_open(cache.queue_lane_idx, AccessShareLock);
	bool		found;

	key_eq(&key, idx, 1, F_INT4EQ, Int32GetDatum(queue_id));
	meta_scan_begin(&s, cache.queue_rel, cache.queue_lane_idx, snap, &key, 1,
					ForwardScanDirection);
	index_close(idx, NoLock);
	found = index_getnext_slot(s.scan, ForwardScanDirection, s.slot);
	meta_scan_end(&s);
	return found;
}

/*
 * consume.c's subscription look-up: the queue by name, the consumer by
 * name and their subscription, with snap. Returns 1 when found (sub and q
 * filled in), 0 when the queue exists but the subscription does not, -1
 * when the queue does not exist.
 */
int
meta_sub_lookup(const char *queue_name, const char *consumer_name, Snapshot snap,
				SubRef *sub, PgqueQueue *q)
{
	int32		co_id;
	int32		sub_id;
	bool		coop;
	bool		sub_paused;

	if (!pgque_queue_fetch(queue_name, 0, snap, q))
		return -1;
	co_id = consumer_id(consumer_name, snap);
	if (co_id == 0 || !sub_fetch(snap, 0, q->queue_id, co_id, &sub_id, NULL, &coop, &sub_paused,
								 &sub->filter))
		return 0;
	sub->queue_id = q->queue_id;
	sub->sub_id = sub_id;
	sub->coop = coop;
	sub->paused = q->paused || sub_paused;
	sub->ttl = q->message_ttl_epoch_us;
	sub->ttl_drop = q->expired_drop;
	sub->members_sub = sub_id;
	if (q->lane_of != 0)
	{
		int32		parent;

		if (sub_fetch(snap, 0, q->lane_of, co_id, &parent, NULL, NULL, NULL, NULL))
			sub->members_sub = parent;
	}
	sub->has_lanes = queue_has_lanes(q->queue_id, snap);
	return 1;
}

static void
fill_batch(MetaScan *s, BatchRow *b)
{
	const AttrNumber *a = cache.batch_att;

#define NN(col) (!SLOTNULL(s, a[col]))
#define I8(col) (NN(col) ? DatumGetInt64(SLOTVAL(s, a[col])) : 0)
	if (!NN(BA_ID) || !NN(BA_STATE) || !NN(BA_NEXT) || !NN(BA_SUB) || !NN(BA_MEMBER))
		elog(ERROR, "pgque: unexpected NULL in pgque.batch");
	memset(b, 0, sizeof(*b));
	b->batch_id = DatumGetInt64(SLOTVAL(s, a[BA_ID]));
	b->state = DatumGetChar(SLOTVAL(s, a[BA_STATE]));
	b->prev_tick = I8(BA_PREV);
	b->next_tick = DatumGetInt64(SLOTVAL(s, a[BA_NEXT]));
	b->has_start_ev = NN(BA_START_EV);
	b->start_ev = I8(BA_START_EV);
	b->has_end_ev = NN(BA_END_EV);
	b->end_ev = I8(BA_END_EV);
	b->sub_id = DatumGetInt32(SLOTVAL(s, a[BA_SUB]));
	b->has_start_pos = NN(BA_START_POS);
	b->start_pos = I8(BA_START_POS);
	b->has_end_pos = NN(BA_END_POS);
	b->end_pos = I8(BA_END_POS);
	b->member = TextDatumGetCString(SLOTVAL(s, a[BA_MEMBER]));
	if (b->member[0] == '\0')
		b->member = NULL;		/* the subscriber's own row */
#undef I8
#undef NN
}

/*
 * The row's subscriber (the statements join it, for sub_queue): false when
 * it is gone, as the join would have returned no row.
 */
static bool
batch_join_sub(BatchRow *b, Snapshot snap)
{
	return sub_fetch(snap, b->sub_id, 0, 0, NULL, &b->queue_id, NULL, NULL, &b->filter);
}

/* The newest batch row of sub_id held by member ("" for its own); false if none. */
bool
meta_sub_state(int32 sub_id, const char *member, Snapshot snap, BatchRow *b)
{
	MetaScan	s;
	ScanKeyData keys[3];
	Relation	idx = index_open(cache.batch_sub_idx, AccessShareLock);
	int64		hint = member[0] == '\0' ? hint_get(sub_id) : 0;
	bool		found;

	key_eq(&keys[0], idx, 1, F_INT4EQ, Int32GetDatum(sub_id));
	key_eq(&keys[1], idx, 2, F_TEXTEQ, CStringGetTextDatum(member));
	for (;;)
	{
		if (hint > 0)
			ScanKeyEntryInitialize(&keys[2], 0, 3, BTGreaterEqualStrategyNumber, InvalidOid,
								   idx->rd_indcollation[2], F_INT8GE, Int64GetDatum(hint));
		meta_scan_begin(&s, cache.batch_rel, cache.batch_sub_idx, snap, keys, hint > 0 ? 3 : 2,
						BackwardScanDirection);
		found = meta_scan_next(&s);
		if (found)
			fill_batch(&s, b);
		meta_scan_end(&s);
		if (found || hint == 0)
			break;
		hint = 0;
	}
	index_close(idx, NoLock);
	if (found && member[0] == '\0')
		hint_set(sub_id, b->batch_id);
	return found && batch_join_sub(b, snap);
}

/* A batch row by id; false if none. */
bool
meta_batch_fetch(int64 batch_id, Snapshot snap, BatchRow *b)
{
	MetaScan	s;
	ScanKeyData key;
	Relation	idx = index_open(cache.batch_pkey, AccessShareLock);
	bool		found;

	key_eq(&key, idx, 1, F_INT8EQ, Int64GetDatum(batch_id));
	meta_scan_begin(&s, cache.batch_rel, cache.batch_pkey, snap, &key, 1, ForwardScanDirection);
	index_close(idx, NoLock);
	found = meta_scan_next(&s);
	if (found)
		fill_batch(&s, b);
	meta_scan_end(&s);
	return found && batch_join_sub(b, snap);
}

/*
 * The ticks of queue_id with from <= tick_id < before (before 0: no upper
 * bound), in tick_id order. A bound keeps the index scan from reading a
 * leaf page's worth of ticks ahead that the caller does not want.
 */
void
meta_ticks_begin(MetaTicks *t, int32 queue_id, int64 from, int64 before, Snapshot snap)
{
	MetaScan   *s = palloc(sizeof(MetaScan));
	ScanKeyData keys[3];
	Relation	idx = index_open(cache.tick_pkey, AccessShareLock);

	key_eq(&keys[0], idx, 1, F_INT4EQ, Int32GetDatum(queue_id));
	ScanKeyEntryInitialize(&keys[1], 0, 2, BTGreaterEqualStrategyNumber, InvalidOid,
						   idx->rd_indcollation[1], F_INT8GE, Int64GetDatum(from));
	if (before != 0)
		ScanKeyEntryInitialize(&keys[2], 0, 2, BTLessStrategyNumber, InvalidOid,
							   idx->rd_indcollation[1], F_INT8LT, Int64GetDatum(before));
	meta_scan_begin(s, cache.tick_rel, cache.tick_pkey, snap, keys, before != 0 ? 3 : 2,
					ForwardScanDirection);
	index_close(idx, NoLock);
	t->scan = s;
}

/* The next tick's id and event_seq; false after the last. */
bool
meta_ticks_next(MetaTicks *t, int64 *tick_id, int64 *event_seq)
{
	MetaScan   *s = t->scan;

	if (!meta_scan_next(s))
		return false;
	if (SLOTNULL(s, cache.tick_att[TI_ID]) || SLOTNULL(s, cache.tick_att[TI_SEQ]))
		elog(ERROR, "pgque: unexpected NULL in pgque.tick");
	*tick_id = DatumGetInt64(SLOTVAL(s, cache.tick_att[TI_ID]));
	*event_seq = DatumGetInt64(SLOTVAL(s, cache.tick_att[TI_SEQ]));
	return true;
}

void
meta_ticks_end(MetaTicks *t)
{
	meta_scan_end(t->scan);
	pfree(t->scan);
	t->scan = NULL;
}

/*
 * One tick's snapshot and heap bounds, copied into the current memory
 * context; false if the tick is not there.
 */
bool
meta_tick_fetch(int32 queue_id, int64 tick_id, Snapshot snap, Datum *snapshot,
				Datum *heap, bool *heap_null, Datum *since, bool *since_null)
{
	MetaScan	s;
	ScanKeyData keys[2];
	Relation	idx = index_open(cache.tick_pkey, AccessShareLock);
	bool		found;

	key_eq(&keys[0], idx, 1, F_INT4EQ, Int32GetDatum(queue_id));
	key_eq(&keys[1], idx, 2, F_INT8EQ, Int64GetDatum(tick_id));
	meta_scan_begin(&s, cache.tick_rel, cache.tick_pkey, snap, keys, 2, ForwardScanDirection);
	index_close(idx, NoLock);
	found = meta_scan_next(&s);
	if (found)
	{
		if (SLOTNULL(&s, cache.tick_att[TI_SNAPSHOT]))
			elog(ERROR, "pgque: unexpected NULL in pgque.tick");
		*snapshot = PointerGetDatum(PG_DETOAST_DATUM_COPY(SLOTVAL(&s, cache.tick_att[TI_SNAPSHOT])));
		*heap_null = SLOTNULL(&s, cache.tick_att[TI_HEAP]);
		*heap = *heap_null ? (Datum) 0 :
			PointerGetDatum(PG_DETOAST_DATUM_COPY(SLOTVAL(&s, cache.tick_att[TI_HEAP])));
		*since_null = SLOTNULL(&s, cache.tick_att[TI_SINCE]);
		*since = *since_null ? (Datum) 0 :
			PointerGetDatum(PG_DETOAST_DATUM_COPY(SLOTVAL(&s, cache.tick_att[TI_SINCE])));
	}
	meta_scan_end(&s);
	return found;
}

/*
 * Probes by many keys with the tables and indexes open across them:
 * metrics() asks two to four per queue, and opening and closing the
 * relations and the scan for each was half of a probe's cost. Each kind
 * of probe keeps its own scan and is restarted with index_rescan.
 */
struct MetaProber
{
	Relation	tick_rel;
	Relation	tick_idx;
	Relation	batch_rel;
	Relation	batch_idx;
	TupleTableSlot *tick_slot;
	TupleTableSlot *batch_slot;
	IndexScanDesc newest;		/* tick_queue = $1 and tick_id >= $2, backward */
	IndexScanDesc by_id;		/* tick_queue = $1 and tick_id = $2 */
	IndexScanDesc after;		/* tick_queue = $1 and tick_id > $2, forward */
	IndexScanDesc cursor;		/* batch_sub = $1 and batch_member = '' and
								 * batch_id >= $2, backward */
	Datum		no_member;		/* '' */
	AttrNumber	tick_last_att;	/* the tick columns read are among the first this many */
};

/* The caller has seen meta_rows_ready() true in this transaction. */
MetaProber *
meta_prober_begin(Snapshot snap)
{
	MetaProber *p = palloc0(sizeof(MetaProber));
	const AttrNumber *ta = cache.tick_att;

	p->tick_rel = table_open(cache.tick_rel, AccessShareLock);
	p->tick_idx = index_open(cache.tick_pkey, AccessShareLock);
	p->batch_rel = table_open(cache.batch_rel, AccessShareLock);
	p->batch_idx = index_open(cache.batch_sub_idx, AccessShareLock);
	p->tick_slot = table_slot_create(p->tick_rel, NULL);
	p->batch_slot = table_slot_create(p->batch_rel, NULL);
	p->newest = index_beginscan(p->tick_rel, p->tick_idx, snap, 2, 0);
	p->by_id = index_beginscan(p->tick_rel, p->tick_idx, snap, 2, 0);
	p->after = index_beginscan(p->tick_rel, p->tick_idx, snap, 2, 0);
	p->cursor = index_beginscan(p->batch_rel, p->batch_idx, snap, 3, 0);
	p->no_member = CStringGetTextDatum("");
	p->tick_last_att = Max(Max(ta[TI_ID], ta[TI_SEQ]), Max(ta[TI_TIME], ta[TI_QUEUE]));
	return p;
}

void
meta_prober_end(MetaProber *p)
{
	index_endscan(p->newest);
	index_endscan(p->by_id);
	index_endscan(p->after);
	index_endscan(p->cursor);
	ExecDropSingleTupleTableSlot(p->tick_slot);
	ExecDropSingleTupleTableSlot(p->batch_slot);
	index_close(p->tick_idx, AccessShareLock);
	index_close(p->batch_idx, AccessShareLock);
	table_close(p->tick_rel, NoLock);
	table_close(p->batch_rel, NoLock);
	pfree(p);
}

/* The scan's next tick into *t; false after the last. */
static bool
prober_next_tick(MetaProber *p, IndexScanDesc scan, ScanDirection dir, MetaTick *t)
{
	TupleTableSlot *slot = p->tick_slot;
	const AttrNumber *ta = cache.tick_att;

	if (!index_getnext_slot(scan, dir, slot))
		return false;
	slot_getsomeattrs(slot, p->tick_last_att);
	if (slot->tts_isnull[ta[TI_ID] - 1] || slot->tts_isnull[ta[TI_SEQ] - 1] ||
		slot->tts_isnull[ta[TI_TIME] - 1])
		elog(ERROR, "pgque: unexpected NULL in pgque.tick");
	t->id = DatumGetInt64(slot->tts_values[ta[TI_ID] - 1]);
	t->time = DatumGetTimestampTz(slot->tts_values[ta[TI_TIME] - 1]);
	t->event_seq = DatumGetInt64(slot->tts_values[ta[TI_SEQ] - 1]);
	return true;
}

/* The first tick of a restarted scan above min_seq into *t; false if none. */
static bool
prober_tick(MetaProber *p, IndexScanDesc scan, ScanKey keys, int nkeys, ScanDirection dir,
			int64 min_seq, MetaTick *t)
{
	index_rescan(scan, keys, nkeys, NULL, 0);
	while (prober_next_tick(p, scan, dir, t))
		if (t->event_seq > min_seq)
			return true;
	return false;
}

/*
 * The queue's newest tick. The scan reads every tick of the queue on the
 * index page it ends at, and a queue whose consumer is far behind has
 * thousands: so it starts with tick_id >= from (a tick id a little older
 * than the newest one the caller saw before) and again from 0 only when
 * that finds none.
 */
bool
meta_probe_newest_tick(MetaProber *p, int32 queue_id, int64 from, MetaTick *t)
{
	ScanKeyData keys[2];

	key_eq(&keys[0], p->tick_idx, 1, F_INT4EQ, Int32GetDatum(queue_id));
	for (;;)
	{
		ScanKeyEntryInitialize(&keys[1], 0, 2, BTGreaterEqualStrategyNumber, InvalidOid,
							   p->tick_idx->rd_indcollation[1], F_INT8GE, Int64GetDatum(from));
		if (prober_tick(p, p->newest, keys, 2, BackwardScanDirection, PG_INT64_MIN, t))
			return true;
		if (from <= 0)
			return false;
		from = 0;
	}
}

/*
 * The tick before the last one meta_probe_newest_tick or this returned,
 * from the same scan (the leaf page it read holds it, most often); false
 * after the queue's oldest.
 */
bool
meta_probe_older_tick(MetaProber *p, MetaTick *t)
{
	return prober_next_tick(p, p->newest, BackwardScanDirection, t);
}

/* The queue's tick tick_id. */
bool
meta_probe_tick(MetaProber *p, int32 queue_id, int64 tick_id, MetaTick *t)
{
	ScanKeyData keys[2];

	key_eq(&keys[0], p->tick_idx, 1, F_INT4EQ, Int32GetDatum(queue_id));
	key_eq(&keys[1], p->tick_idx, 2, F_INT8EQ, Int64GetDatum(tick_id));
	return prober_tick(p, p->by_id, keys, 2, ForwardScanDirection, PG_INT64_MIN, t);
}

/* The queue's first tick after tick_id whose event_seq is above min_seq. */
bool
meta_probe_tick_after(MetaProber *p, int32 queue_id, int64 tick_id, int64 min_seq,
					  MetaTick *t)
{
	ScanKeyData keys[2];

	key_eq(&keys[0], p->tick_idx, 1, F_INT4EQ, Int32GetDatum(queue_id));
	ScanKeyEntryInitialize(&keys[1], 0, 2, BTGreaterStrategyNumber, InvalidOid,
						   p->tick_idx->rd_indcollation[1], F_INT8GT, Int64GetDatum(tick_id));
	return prober_tick(p, p->after, keys, 2, ForwardScanDirection, min_seq, t);
}

/*
 * The tick a subscriber's cursor stands at, as pgque.subscription has it:
 * from its newest own batch row, batch_prev_tick while that is open and
 * batch_next_tick after; false if it has no row (or that tick is NULL).
 */
bool
meta_probe_cursor(MetaProber *p, int32 sub_id, int64 *tick_id)
{
	ScanKeyData keys[3];
	TupleTableSlot *slot = p->batch_slot;
	const AttrNumber *a = cache.batch_att;
	int64		hint = hint_get(sub_id);

	key_eq(&keys[0], p->batch_idx, 1, F_INT4EQ, Int32GetDatum(sub_id));
	key_eq(&keys[1], p->batch_idx, 2, F_TEXTEQ, p->no_member);
	for (;;)
	{
		ScanKeyEntryInitialize(&keys[2], 0, 3, BTGreaterEqualStrategyNumber, InvalidOid,
							   p->batch_idx->rd_indcollation[2], F_INT8GE, Int64GetDatum(hint));
		index_rescan(p->cursor, keys, 3, NULL, 0);
		if (index_getnext_slot(p->cursor, BackwardScanDirection, slot))
			break;
		if (hint == 0)
			return false;
		hint = 0;				/* a hint from a rolled-back batch: look at all */
	}
	slot_getallattrs(slot);
	if (slot->tts_isnull[a[BA_STATE] - 1] || slot->tts_isnull[a[BA_ID] - 1])
		elog(ERROR, "pgque: unexpected NULL in pgque.batch");
	hint_set(sub_id, DatumGetInt64(slot->tts_values[a[BA_ID] - 1]));
	if (DatumGetChar(slot->tts_values[a[BA_STATE] - 1]) == 'o')
	{
		if (slot->tts_isnull[a[BA_PREV] - 1])
			return false;
		*tick_id = DatumGetInt64(slot->tts_values[a[BA_PREV] - 1]);
	}
	else
	{
		if (slot->tts_isnull[a[BA_NEXT] - 1])
			return false;
		*tick_id = DatumGetInt64(slot->tts_values[a[BA_NEXT] - 1]);
	}
	return true;
}

/*
 * Every row of pgque's table relname visible to snap, the named columns
 * (of the given types) copied into the current memory context: row i,
 * column c at [i * ncols + c]. For small tables read whole (metrics()).
 */
int
meta_read_table(const char *relname, int ncols, const char *const *columns, const Oid *types,
				Snapshot snap, Datum **values, bool **nulls)
{
	Relation	rel = table_open(pgque_relation_oid(relname), AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	AttrNumber *att = palloc(sizeof(AttrNumber) * ncols);
	int			size = 64;
	int			n = 0;
	TableScanDesc scan;
	HeapTuple	tuple;
	Datum	   *row = palloc(sizeof(Datum) * desc->natts);
	bool	   *row_nulls = palloc(sizeof(bool) * desc->natts);
	int			c;

	if (!find_columns(rel, ncols, columns, types, att))
		elog(ERROR, "pgque: pgque.%s is not as the extension made it", relname);
	*values = palloc(sizeof(Datum) * ncols * size);
	*nulls = palloc(sizeof(bool) * ncols * size);
	scan = table_beginscan(rel, snap, 0, NULL);
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		if (n == size)
		{
			size *= 2;
			*values = repalloc(*values, sizeof(Datum) * ncols * size);
			*nulls = repalloc(*nulls, sizeof(bool) * ncols * size);
		}
		heap_deform_tuple(tuple, desc, row, row_nulls);
		for (c = 0; c < ncols; c++)
		{
			Form_pg_attribute a = TupleDescAttr(desc, att[c] - 1);

			(*nulls)[n * ncols + c] = row_nulls[att[c] - 1];
			(*values)[n * ncols + c] = row_nulls[att[c] - 1] ? (Datum) 0 :
				datumCopy(row[att[c] - 1], a->attbyval, a->attlen);
		}
		n++;
	}
	table_endscan(scan);
	table_close(rel, NoLock);
	return n;
}

/*
 * pgque.batch opened for writing, with its indexes and their IndexInfo.
 * As SPI does around a write, the command counter advances first, so that
 * the write sees this transaction's earlier ones, and again after it.
 */
typedef struct BatchWriter
{
	Relation	rel;
	int			nindexes;
	Relation   *indexes;
	IndexInfo **info;
} BatchWriter;

static void
writer_open(BatchWriter *w)
{
	List	   *indexes;
	ListCell   *lc;
	int			i = 0;

	CommandCounterIncrement();
	w->rel = table_open(cache.batch_rel, RowExclusiveLock);
	indexes = RelationGetIndexList(w->rel);
	w->nindexes = list_length(indexes);
	w->indexes = palloc(sizeof(Relation) * Max(w->nindexes, 1));
	w->info = palloc(sizeof(IndexInfo *) * Max(w->nindexes, 1));
	foreach(lc, indexes)
	{
		w->indexes[i] = index_open(lfirst_oid(lc), RowExclusiveLock);
		w->info[i] = BuildIndexInfo(w->indexes[i]);
		if (w->info[i]->ii_Expressions != NIL || w->info[i]->ii_Predicate != NIL)
			elog(ERROR, "pgque: unexpected expression or partial index on pgque.batch");
		i++;
	}
	list_free(indexes);
}

/* Index entries for tuple (not for a heap-only tuple of a HOT update). */
static void
writer_index(BatchWriter *w, HeapTuple tuple, Datum *values, bool *nulls)
{
	int			i;

	if (HeapTupleIsHeapOnly(tuple))
		return;
	for (i = 0; i < w->nindexes; i++)
	{
		IndexInfo  *ii = w->info[i];
		Datum		iv[INDEX_MAX_KEYS];
		bool		in[INDEX_MAX_KEYS];
		int			k;

		if (!ii->ii_ReadyForInserts)
			continue;
		for (k = 0; k < ii->ii_NumIndexAttrs; k++)
		{
			AttrNumber	att = ii->ii_IndexAttrNumbers[k];

			if (att <= 0)
				elog(ERROR, "pgque: unexpected system column index on pgque.batch");
			iv[k] = values[att - 1];
			in[k] = nulls[att - 1];
		}
		index_insert(w->indexes[i], iv, in, &tuple->t_self, w->rel,
					 w->indexes[i]->rd_index->indisunique ? UNIQUE_CHECK_YES : UNIQUE_CHECK_NO,
					 false, ii);
	}
}

static void
writer_close(BatchWriter *w)
{
	int			i;

	for (i = 0; i < w->nindexes; i++)
		index_close(w->indexes[i], NoLock);
	table_close(w->rel, NoLock);
	/* and after it, so that a snapshot taken next sees it (SPI does both) */
	CommandCounterIncrement();
}

/*
 * Insert a batch row as consume_batch_insert's statement does: the next id
 * from pgque.batch_id_seq, batch_closed set unless it is opened ('o').
 * Returns its id.
 */
int64
meta_batch_insert(const BatchRow *b, char state, TimestampTz now)
{
	BatchWriter w;
	Datum	   *values = palloc0(sizeof(Datum) * cache.batch_natts);
	bool	   *nulls = palloc(sizeof(bool) * cache.batch_natts);
	const AttrNumber *a = cache.batch_att;
	HeapTuple	tuple;
	int64		id;
	int			i;

	for (i = 0; i < cache.batch_natts; i++)
		nulls[i] = true;
#define SET(col, d) (values[a[col] - 1] = (d), nulls[a[col] - 1] = false)
	id = nextval_internal(cache.batch_seq, true);
	SET(BA_ID, Int64GetDatum(id));
	SET(BA_SUB, Int32GetDatum(b->sub_id));
	SET(BA_PREV, Int64GetDatum(b->prev_tick));
	SET(BA_NEXT, Int64GetDatum(b->next_tick));
	if (b->has_start_ev)
		SET(BA_START_EV, Int64GetDatum(b->start_ev));
	if (b->has_end_ev)
		SET(BA_END_EV, Int64GetDatum(b->end_ev));
	SET(BA_STATE, CharGetDatum(state));
	SET(BA_OPENED, TimestampTzGetDatum(now));
	if (state != 'o')
		SET(BA_CLOSED, TimestampTzGetDatum(now));
	if (b->has_start_pos)
		SET(BA_START_POS, Int64GetDatum(b->start_pos));
	if (b->has_end_pos)
		SET(BA_END_POS, Int64GetDatum(b->end_pos));
	SET(BA_MEMBER, CStringGetTextDatum(b->member ? b->member : ""));
#undef SET
	if (b->member == NULL)
		hint_set(b->sub_id, id);

	writer_open(&w);
	tuple = heap_form_tuple(RelationGetDescr(w.rel), values, nulls);
	simple_heap_insert(w.rel, tuple);
	writer_index(&w, tuple, values, nulls);
	writer_close(&w);
	heap_freetuple(tuple);
	return id;
}

/*
 * Update batch_id's row: set_state ? state and batch_closed = now : and/or
 * set_end ? batch_end_pos = end_pos. The row is found with snap at the new
 * command id. Returns whether there was a row.
 */
bool
meta_batch_update(int64 batch_id, Snapshot snap, bool set_state, char state,
				  TimestampTz now, bool set_end, int64 end_pos)
{
	BatchWriter w;
	SnapshotData cur;
	Relation	idx;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	ScanKeyData key;
	bool		found;
	const AttrNumber *a = cache.batch_att;

	writer_open(&w);
	cur = *snap;
	cur.curcid = GetCurrentCommandId(false);
	idx = index_open(cache.batch_pkey, AccessShareLock);
	key_eq(&key, idx, 1, F_INT8EQ, Int64GetDatum(batch_id));
	slot = table_slot_create(w.rel, NULL);
	scan = index_beginscan(w.rel, idx, &cur, 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	if (found)
	{
		Datum	   *values = palloc0(sizeof(Datum) * cache.batch_natts);
		bool	   *nulls = palloc0(sizeof(bool) * cache.batch_natts);
		bool	   *repl = palloc0(sizeof(bool) * cache.batch_natts);
		HeapTuple	old;
		HeapTuple	tuple;
		ItemPointerData tid;

		if (set_state)
		{
			values[a[BA_STATE] - 1] = CharGetDatum(state);
			repl[a[BA_STATE] - 1] = true;
			values[a[BA_CLOSED] - 1] = TimestampTzGetDatum(now);
			repl[a[BA_CLOSED] - 1] = true;
		}
		if (set_end)
		{
			values[a[BA_END_POS] - 1] = Int64GetDatum(end_pos);
			repl[a[BA_END_POS] - 1] = true;
		}
		old = ExecFetchSlotHeapTuple(slot, false, NULL);
		tid = old->t_self;
		tuple = heap_modify_tuple(old, RelationGetDescr(w.rel), values, nulls, repl);
#if PG_VERSION_NUM >= 160000
		{
			TU_UpdateIndexes update_indexes;

			simple_heap_update(w.rel, &tid, tuple, &update_indexes);
		}
#else
		simple_heap_update(w.rel, &tid, tuple);
#endif
		heap_deform_tuple(tuple, RelationGetDescr(w.rel), values, nulls);
		writer_index(&w, tuple, values, nulls);
		heap_freetuple(tuple);
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(idx, AccessShareLock);
	writer_close(&w);
	return found;
}
