/*-------------------------------------------------------------------------
 *
 * event_row.h
 *		Result rows built straight from event table rows.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGQUE_EVENT_ROW_H
#define PGQUE_EVENT_ROW_H

#include "pgque.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "utils/tuplestore.h"

#include "send.h"

/* a result column that is not an event column: the int8 constant */
#define EVENT_ROW_CONST		(-1)

#define EVENT_ROW_MAX_COLS	16

/*
 * How a function's result columns come from an event table's columns.
 * src[k] is the event column (EV_*) of result column k, or EVENT_ROW_CONST.
 */
typedef struct EventRowMap
{
	TupleDesc	result;
	int			natts;
	int8		src[EVENT_ROW_MAX_COLS];
	bool		usable;			/* storage of every column matches its source */
	bool		skip_owner;		/* the result is the event columns without ev_owner */
	int16		ev_len[EV_NATTS];	/* storage of the event table's columns */
	char		ev_align[EV_NATTS];
	int16		len[EVENT_ROW_MAX_COLS];	/* storage of the result's columns */
	char		align[EVENT_ROW_MAX_COLS];
	bool		packable[EVENT_ROW_MAX_COLS];
	char	   *buf;			/* the row being built */
	Size		bufsize;
} EventRowMap;

extern bool event_row_map_init(EventRowMap *m, TupleDesc result, TupleDesc events,
							   const int8 *src, int natts);
extern bool event_row_put(EventRowMap *m, Tuplestorestate *store, HeapTuple event,
						  Datum constant);

#endif							/* PGQUE_EVENT_ROW_H */
