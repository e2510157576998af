/*-------------------------------------------------------------------------
 *
 * filter.c
 *		Subscription filters: the types and labels a consumer takes.
 *
 * A subscription with sub_types or sub_labels set (pgque.set_filter) is
 * handed only the events whose ev_type, and whose label (ev_extra1), is
 * one of them. The reads (consume.c) pass the others over as they pass
 * expired events: they are not returned and the batch ends as usual, so a
 * filter never holds the cursor or rotation back. Values are compared
 * byte for byte, as text equality does under a deterministic collation.
 *
 *-------------------------------------------------------------------------
 */
#include "pgque.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "utils/array.h"

#include "filter.h"
#include "send.h"

/* The elements of a text[] (copied into the current memory context). */
static void
list_set(FilterList *l, Datum array, bool isnull)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;

	l->n = 0;
	l->items = NULL;
	if (isnull)
		return;
	deconstruct_array(DatumGetArrayTypePCopy(array), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	l->items = palloc(sizeof(text *) * Max(n, 1));
	for (i = 0; i < n; i++)
		if (!nulls[i])
			l->items[l->n++] = DatumGetTextPP(elems[i]);
}

void
sub_filter_set(SubFilter *f, Datum types, bool types_null, Datum labels, bool labels_null)
{
	list_set(&f->types, types, types_null);
	list_set(&f->labels, labels, labels_null);
}

bool
sub_filter_active(const SubFilter *f)
{
	return f->types.items != NULL || f->labels.items != NULL;
}

/* Is column col (EV_*) of event one of l's values? */
static bool
list_has(const FilterList *l, HeapTuple event, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d;
	text	   *v;
	Size		len;
	int			i;

	if (l->items == NULL)
		return true;
	d = heap_getattr(event, col + 1, desc, &isnull);
	if (isnull)
		return false;
	v = DatumGetTextPP(d);
	len = VARSIZE_ANY_EXHDR(v);
	for (i = 0; i < l->n; i++)
		if (VARSIZE_ANY_EXHDR(l->items[i]) == len &&
			memcmp(VARDATA_ANY(l->items[i]), VARDATA_ANY(v), len) == 0)
			return true;
	return false;
}

/* Does event (a row of an event table, with desc) pass filter f? */
bool
sub_filter_passes(const SubFilter *f, HeapTuple event, TupleDesc desc)
{
	return list_has(&f->types, event, desc, EV_TYPE) &&
		list_has(&f->labels, event, desc, EV_EXTRA1);
}
