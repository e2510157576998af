/*-------------------------------------------------------------------------
 *
 * event_row.c
 *		Result rows built straight from event table rows.
 *
 * get_batch_events, receive and _batch_event return columns of an event
 * table row, some left out or reordered, and receive adds the batch id.
 * Deforming the row into datums and forming the result from them
 * (tuplestore_putvalues) cost more than reading the window itself. Here the
 * result tuple is written from the row's bytes: the stored form of a
 * value does not depend on where it sits in a tuple, except for the
 * alignment before it, which is recomputed for its place in the result.
 * What comes out is what heap_form_minimal_tuple would build from the
 * deformed values (the same null bitmap, alignment, padding and infomask
 * bits; a 4-byte varlena header that could be short is shortened as it
 * does). TOAST pointers are copied as they are, as tuplestore_putvalues
 * would.
 *
 * The common case costs one copy of the data area: get_batch_events'
 * columns are the event table's without ev_owner, which is null in every
 * row but the retried copies, and a null takes no bytes. ev_txid (xid8)
 * is returned as bigint there, the same 8 bytes.
 *
 * A result type whose columns are not stored as their sources (someone
 * altered pgque.message) is not handled here: event_row_map_init says so
 * and the caller deforms and forms.
 *
 *-------------------------------------------------------------------------
 */
#include "pgque.h"

#include "access/htup_details.h"
#include "access/tupmacs.h"
#include "catalog/pg_type.h"

#include "event_row.h"

/* Can the result columns of result be written from the columns src of events? */
bool
event_row_map_init(EventRowMap *m, TupleDesc result, TupleDesc events,
				   const int8 *src, int natts)
{
	int			k;

	memset(m, 0, sizeof(*m));
	m->result = result;
	m->natts = natts;
	if (natts > EVENT_ROW_MAX_COLS || result->natts != natts ||
		events->natts != EV_NATTS)
		return false;
	for (k = 0; k < natts; k++)
	{
		Form_pg_attribute r = TupleDescAttr(result, k);
		Form_pg_attribute e;

		m->src[k] = src[k];
		m->len[k] = r->attlen;
		m->align[k] = r->attalign;
		m->packable[k] = r->attstorage != TYPSTORAGE_PLAIN;
		if (r->attisdropped)
			return false;
		if (src[k] == EVENT_ROW_CONST)
		{
			if (r->atttypid != INT8OID)
				return false;
			continue;
		}
		e = TupleDescAttr(events, src[k]);
		if (r->atttypid != e->atttypid &&
			!(r->atttypid == INT8OID && e->atttypid == XID8OID))
			return false;
		if (r->attlen != e->attlen || r->attbyval != e->attbyval ||
			r->attalign != e->attalign || e->attisdropped)
			return false;
	}
	for (k = 0; k < EV_NATTS; k++)
	{
		m->ev_len[k] = TupleDescAttr(events, k)->attlen;
		m->ev_align[k] = TupleDescAttr(events, k)->attalign;
	}
	m->skip_owner = natts == EV_NATTS - 1;
	for (k = 0; k < natts && m->skip_owner; k++)
		if (src[k] != (k < EV_OWNER ? k : k + 1))
			m->skip_owner = false;
	m->usable = true;
	return true;
}

/* Zero the padding up to offset off aligned for attalign; the new offset. */
static inline Size
pad_to(char *data, Size off, char attalign)
{
	Size		aligned = att_align_nominal(off, attalign);

	if (aligned > off)
		memset(data + off, 0, aligned - off);
	return aligned;
}

/*
 * Append the result row of event (a row of an event table, read with the
 * descriptor the map was made for) to store; constant fills the
 * EVENT_ROW_CONST column. False, and nothing appended, for a row with
 * fewer columns than the table (written before a column was added): its
 * missing values come from the catalog, which heap_deform_tuple reads.
 */
bool
event_row_put(EventRowMap *m, Tuplestorestate *store, HeapTuple event, Datum constant)
{
	HeapTupleHeader src = event->t_data;
	bits8	   *sbits = HeapTupleHasNulls(event) ? src->t_bits : NULL;
	char	   *sdata = (char *) src + src->t_hoff;
	Size		slen = event->t_len - src->t_hoff;
	uint32		all = (1U << m->natts) - 1;
	uint32		present = all;	/* bit k: result column k is not null */
	bool		whole;
	uint16		infomask = 0;
	Size		hoff;
	Size		need;
	Size		off;
	HeapTupleHeader dst;
	char	   *data;
	HeapTupleData tup;
	int			k;

	StaticAssertStmt(EVENT_ROW_MAX_COLS <= 16 && EV_NATTS <= 16,
					 "null bitmaps are handled as two bytes");
	Assert(m->usable);
	if (HeapTupleHeaderGetNatts(src) != EV_NATTS)
		return false;
	whole = m->skip_owner && sbits != NULL && att_isnull(EV_OWNER, sbits);
	if (whole)
	{
		/* the event's bitmap without ev_owner's bit */
		uint32		sb = sbits[0] | (sbits[1] << 8);

		present = ((sb & ((1U << EV_OWNER) - 1)) |
				   ((sb >> (EV_OWNER + 1)) << EV_OWNER)) & all;
	}
	else if (sbits != NULL)
		for (k = 0; k < m->natts; k++)
			if (m->src[k] != EVENT_ROW_CONST && att_isnull(m->src[k], sbits))
				present &= ~(1U << k);
	hoff = SizeofHeapTupleHeader;
	if (present != all)
		hoff += BITMAPLEN(m->natts);
	hoff = MAXALIGN(hoff);

	/* each column: at most its source's bytes, its alignment, or the constant */
	need = hoff + slen + m->natts * (MAXIMUM_ALIGNOF + sizeof(int64));
	if (need > m->bufsize)
	{
		Size		size = Max(need, 1024);

		m->buf = m->buf == NULL ? palloc(size) : repalloc(m->buf, size);
		m->bufsize = size;
	}
	dst = (HeapTupleHeader) m->buf;
	memset(dst, 0, hoff);
	HeapTupleHeaderSetNatts(dst, m->natts);
	dst->t_hoff = hoff;
	if (present != all)
	{
		infomask |= HEAP_HASNULL;
		dst->t_bits[0] = present & 0xFF;
		if (m->natts > 8)
			dst->t_bits[1] = present >> 8;
	}
	data = (char *) dst + hoff;

	if (whole)
	{
		/*
		 * The same non-null columns in the same order, each at the offset it
		 * has in the event row: the data area is the event's.
		 */
		memcpy(data, sdata, slen);
		off = slen;
		infomask |= src->t_infomask & (HEAP_HASVARWIDTH | HEAP_HASEXTERNAL);
	}
	else
	{
		char	   *at[EV_NATTS];
		int			i;

		off = 0;
		for (i = 0; i < EV_NATTS; i++)
		{
			if (sbits != NULL && att_isnull(i, sbits))
				continue;
			if (m->ev_len[i] == -1)
				off = att_align_pointer(off, m->ev_align[i], -1, sdata + off);
			else
				off = att_align_nominal(off, m->ev_align[i]);
			at[i] = sdata + off;
			off = att_addlength_pointer(off, m->ev_len[i], sdata + off);
		}

		off = 0;
		for (k = 0; k < m->natts; k++)
		{
			char	   *p;
			Size		n;

			if (!(present & (1U << k)))
				continue;
			if (m->src[k] == EVENT_ROW_CONST)
			{
				int64		v = DatumGetInt64(constant);

				off = pad_to(data, off, m->align[k]);
				memcpy(data + off, &v, sizeof(v));
				off += sizeof(v);
				continue;
			}
			p = at[m->src[k]];
			if (m->len[k] == 8)
			{
				off = pad_to(data, off, m->align[k]);
				memcpy(data + off, p, 8);
				off += 8;
				continue;
			}
			if (m->len[k] > 0)
			{
				off = pad_to(data, off, m->align[k]);
				memcpy(data + off, p, m->len[k]);
				off += m->len[k];
				continue;
			}
			infomask |= HEAP_HASVARWIDTH;
			if (VARATT_IS_EXTERNAL(p))
			{
				infomask |= HEAP_HASEXTERNAL;
				n = VARSIZE_EXTERNAL(p);
				memcpy(data + off, p, n);
			}
			else if (VARATT_IS_SHORT(p))
			{
				n = VARSIZE_SHORT(p);
				memcpy(data + off, p, n);
			}
			else if (m->packable[k] && VARATT_CAN_MAKE_SHORT(p))
			{
				n = VARATT_CONVERTED_SHORT_SIZE(p);
				SET_VARSIZE_SHORT(data + off, n);
				memcpy(data + off + 1, VARDATA(p), n - 1);
			}
			else
			{
				off = pad_to(data, off, m->align[k]);
				n = VARSIZE(p);
				memcpy(data + off, p, n);
			}
			off += n;
		}
	}
	Assert(hoff + off <= need);
	dst->t_infomask = infomask;

	tup.t_len = hoff + off;
	tup.t_data = dst;
	ItemPointerSetInvalid(&tup.t_self);
	tup.t_tableOid = InvalidOid;
	/* copied into the store as a minimal tuple */
	tuplestore_puttuple(store, &tup);
	return true;
}
