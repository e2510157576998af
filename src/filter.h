/*-------------------------------------------------------------------------
 *
 * filter.h
 *		Subscription filters: the types and labels a consumer takes.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGQUE_FILTER_H
#define PGQUE_FILTER_H

#include "pgque.h"

#include "access/htup.h"
#include "access/tupdesc.h"

/* Values a column must have; items NULL: any value. */
typedef struct FilterList
{
	int			n;
	text	  **items;
} FilterList;

/* pgque.subscriber's sub_types and sub_labels (extension/40_consume.sql) */
typedef struct SubFilter
{
	FilterList	types;			/* of ev_type */
	FilterList	labels;			/* of the label, ev_extra1 */
} SubFilter;

extern void sub_filter_set(SubFilter *f, Datum types, bool types_null,
						   Datum labels, bool labels_null);
extern bool sub_filter_active(const SubFilter *f);
extern bool sub_filter_passes(const SubFilter *f, HeapTuple event, TupleDesc desc);

#endif							/* PGQUE_FILTER_H */
