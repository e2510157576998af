/*-------------------------------------------------------------------------
 *
 * pgque.h
 *		Declarations shared by the pgque C modules.
 *
 * Each module keeps its own state private; what is here is the small
 * vocabulary they share: object names, the queue descriptor read from
 * pgque.queue, and the name checks every entry point applies.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGQUE_H
#define PGQUE_H

#include "postgres.h"

#include "access/transam.h"
#include "fmgr.h"
#include "executor/spi.h"
#include "utils/snapshot.h"

#define PGQUE_SCHEMA		"pgque"

/* NOTIFY channel "pgque_<name>" must fit in NAMEDATALEN - 1 bytes. */
#define PGQUE_NAME_MAX		57
#define PGQUE_CHANNEL_PREFIX "pgque_"

/*
 * Tag an error with the kind of pgque object it is about (queue, consumer,
 * batch, event), in the schema/table diagnostic fields, so that clients can
 * tell "queue does not exist" from "consumer does not exist" without parsing
 * the message. Both carry SQLSTATE 42704.
 */
#define errpgqueobject(kind) \
	(err_generic_string(PG_DIAG_SCHEMA_NAME, PGQUE_SCHEMA), \
	 err_generic_string(PG_DIAG_TABLE_NAME, (kind)))

/* Every queue has this many event tables (pgque.queue_ntables). */
#define PGQUE_NTABLES		3

/* names.c */
extern char *pgque_queue_name_arg(FunctionCallInfo fcinfo, int argno);
extern char *pgque_consumer_name_arg(FunctionCallInfo fcinfo, int argno);
extern void pgque_check_queue_name(const char *name);
extern void pgque_check_consumer_name(const char *name);

/*
 * A row of pgque.queue, as much of it as the C code needs.
 */
typedef struct PgqueQueue
{
	int32		queue_id;
	char		queue_name[NAMEDATALEN];
	int32		ntables;
	int32		cur_table;
	FullTransactionId switch_step1;
	FullTransactionId switch_step2;	/* invalid while step 2 is pending */
	bool		external_ticker;
	bool		disable_insert;
	bool		ticker_paused;
	bool		tick_forced;
	int32		ticker_max_count;
	int64		ticker_max_lag;		/* microseconds */
	int64		ticker_idle_period; /* microseconds */
	int32		max_retries;
	bool		restricted;		/* only granted roles may use it (15_access.sql) */
	int64		delivery_delay;	/* microseconds a send waits, 0: none */
	int64		message_ttl;	/* microseconds an event lives, 0: for ever */
	int64		message_ttl_epoch_us;	/* the same as receive computes it
										 * (months of 30.4375 days), 0: for ever */
	bool		paused;			/* queue_paused: consumers get nothing */
	bool		expired_drop;	/* expired_action 'drop' (else 'dead_letter') */
	int32		lane_of;		/* a lane: its parent queue's id; 0 for a queue */
	int16		priority;		/* a lane's priority, 1..9; 0 for a queue */
} PgqueQueue;

/* send's priority argument: 0 (the queue itself) .. PGQUE_PRIORITY_MAX */
#define PGQUE_PRIORITY_MAX	9

/* catalog.c */
extern Oid	pgque_namespace_oid(void);
extern Oid	pgque_relation_oid(const char *relname);
extern Oid	pgque_event_table_oid(int32 queue_id, int table_no);
extern Oid	pgque_event_seq_oid(int32 queue_id);
extern Oid	pgque_tick_seq_oid(int32 queue_id);
extern bool pgque_queue_fetch(const char *queue_name, int32 queue_id,
							  Snapshot snapshot, PgqueQueue *q);
extern void pgque_queue_lookup(const char *queue_name, Snapshot snapshot,
							   PgqueQueue *q);
extern void pgque_error_queue_missing(const char *queue_name) pg_attribute_noreturn();
extern int64 pgque_sequence_last_value(Oid seqoid);
extern bool pgque_event_seq_last(int32 queue_id, int64 *value);
extern bool pgque_schema_has_heap_ranges(void);
extern void pgque_catalog_init(void);

/* plans.c */
extern SPIPlanPtr pgque_plan(SPIPlanPtr *cache, const char *sql, int nargs,
							 const Oid *argtypes);
extern int	pgque_execute_snapshot(SPIPlanPtr plan, Datum *values, const char *nulls,
								   Snapshot snapshot, Snapshot crosscheck,
								   bool read_only, bool fire_triggers, long tcount);
extern int	pgque_execute_plan(SPIPlanPtr plan, Datum *values, const char *nulls,
							   bool read_only, long tcount);
extern int	pgque_execute(const char *sql, bool read_only, long tcount);
extern Datum pgque_spi_value(uint64 row, int colno);
extern Datum pgque_spi_value_opt(uint64 row, int colno, bool *isnull);
extern void pgque_plans_init(void);

#endif							/* PGQUE_H */
