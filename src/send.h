/*-------------------------------------------------------------------------
 *
 * send.h
 *		Appending events to a queue's current event table.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGQUE_SEND_H
#define PGQUE_SEND_H

#include "pgque.h"

#include "nodes/execnodes.h"
#include "utils/relcache.h"
#include "utils/timestamp.h"

/* Column positions (0-based) of pgque.event_template. */
enum
{
	EV_ID, EV_TIME, EV_TXID, EV_OWNER, EV_RETRY, EV_TYPE, EV_DATA,
	EV_EXTRA1, EV_EXTRA2, EV_EXTRA3, EV_EXTRA4, EV_NATTS
};

typedef struct EventWriter
{
	PgqueQueue	queue;
	FullTransactionId txid;
	Oid			relid;			/* the current event table */
	Relation	rel;
	int			nindexes;
	Relation   *indexes;
	IndexInfo **index_info;
	Oid			seq;
	CommandId	cid;
	TimestampTz now;
	int64		nwritten;		/* events inserted since event_writer_open */
} EventWriter;

extern void event_table_check(Relation rel);
extern void event_writer_begin(EventWriter *w, const char *queue_name, int32 queue_id);
extern void event_writer_lookup(EventWriter *w, const char *queue_name, int32 queue_id);
extern void event_writer_open(EventWriter *w);
extern int64 event_writer_insert(EventWriter *w, Datum *values, bool *nulls);
extern void event_writer_end(EventWriter *w);

#endif							/* PGQUE_SEND_H */
