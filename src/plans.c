/*-------------------------------------------------------------------------
 *
 * plans.c
 *		pgque's own SQL: prepared once per backend, planned for its indexes.
 *
 * The metadata tables (pgque.tick, pgque.batch, pgque.subscriber, ...) are
 * read by key on every batch and every tick. Their plans are cached, and a
 * cached plan made while a table looked empty -- right after CREATE
 * EXTENSION, or after an ANALYZE at a quiet moment -- is a sequential scan
 * that stays in use while the table grows to tens of thousands of rows:
 * the bench measured a consumer's cost per event tripling that way, and
 * each tick of the worker scanning all of pgque.tick.
 *
 * So every statement pgque runs through SPI goes through the wrappers
 * below, and whatever the planner plans meanwhile (our statements, and the
 * statements of our PL/pgSQL functions they call) sees each table of the
 * pgque schema as at least PLAN_PAGES pages and PLAN_TUPLES rows: big
 * enough that a keyed lookup takes the index that fits the key best --
 * not a sequential scan, and not (as enable_seqscan = off alone would
 * allow when every cost ties) another index walked from end to end.
 * Larger real sizes are kept. Queries of the caller's own are not affected.
 *
 *-------------------------------------------------------------------------
 */
#include "pgque.h"

#include "catalog/namespace.h"
#include "funcapi.h"
#include "nodes/pathnodes.h"
#include "optimizer/plancat.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#define PLAN_PAGES		10000
#define PLAN_TUPLES		1000000

static get_relation_info_hook_type prev_relation_info_hook = NULL;
static int	internal_depth = 0;

static void
pgque_relation_info(PlannerInfo *root, Oid relid, bool inhparent,
					RelOptInfo *rel)
{
	ListCell   *lc;

	if (prev_relation_info_hook)
		prev_relation_info_hook(root, relid, inhparent, rel);
	if (internal_depth == 0 ||
		get_rel_namespace(relid) != get_namespace_oid("pgque", true))
		return;
	rel->pages = Max(rel->pages, PLAN_PAGES);
	rel->tuples = Max(rel->tuples, PLAN_TUPLES);
	foreach(lc, rel->indexlist)
	{
		IndexOptInfo *index = lfirst(lc);

		index->pages = Max(index->pages, PLAN_PAGES / 4);
		index->tuples = Max(index->tuples, PLAN_TUPLES);
	}
}

void
pgque_plans_init(void)
{
	prev_relation_info_hook = get_relation_info_hook;
	get_relation_info_hook = pgque_relation_info;
}

/*
 * Preparing only parses: the planner runs when a plan is executed (below),
 * and again whenever the plan cache replans (DROP/CREATE EXTENSION,
 * ANALYZE), so only execution needs the rule in force.
 */
static SPIPlanPtr
prepare(const char *sql, int nargs, const Oid *argtypes)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, (Oid *) argtypes);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql,
			 SPI_result_code_string(SPI_result));
	return plan;
}

/* Prepare sql once per backend and keep the plan. */
SPIPlanPtr
pgque_plan(SPIPlanPtr *cache, const char *sql, int nargs, const Oid *argtypes)
{
	if (*cache == NULL)
	{
		SPIPlanPtr	plan = prepare(sql, nargs, argtypes);

		SPI_keepplan(plan);
		*cache = plan;
	}
	return *cache;
}

/*
 * SPI_execute_snapshot with pgque's planning rule in force; every other
 * entry point below comes through here.
 */
int
pgque_execute_snapshot(SPIPlanPtr plan, Datum *values, const char *nulls,
					   Snapshot snapshot, Snapshot crosscheck,
					   bool read_only, bool fire_triggers, long tcount)
{
	int			rc;

	internal_depth++;
	PG_TRY();
	{
		rc = SPI_execute_snapshot(plan, values, nulls, snapshot, crosscheck,
								  read_only, fire_triggers, tcount);
	}
	PG_FINALLY();
	{
		internal_depth--;
	}
	PG_END_TRY();
	return rc;
}

/* SPI_execute_plan: the same without a snapshot of our own */
int
pgque_execute_plan(SPIPlanPtr plan, Datum *values, const char *nulls,
				   bool read_only, long tcount)
{
	return pgque_execute_snapshot(plan, values, nulls, InvalidSnapshot,
								  InvalidSnapshot, read_only, true, tcount);
}

/* SPI_execute: sql run once, not kept */
int
pgque_execute(const char *sql, bool read_only, long tcount)
{
	SPIPlanPtr	plan = prepare(sql, 0, NULL);
	int			rc;

	rc = pgque_execute_plan(plan, NULL, NULL, read_only, tcount);
	SPI_freeplan(plan);
	return rc;
}

/*
 * Column colno of result row `row` of the last SPI statement. pgque's own
 * statements return no NULL where these are used; if one does anyway (a
 * damaged table, an object someone planted), fail cleanly rather than read
 * garbage.
 */
Datum
pgque_spi_value(uint64 row, int colno)
{
	bool		isnull;
	Datum		d;

	if (SPI_tuptable == NULL || row >= SPI_processed)
		elog(ERROR, "pgque: expected a row %llu from SPI, got %llu",
			 (unsigned long long) row, (unsigned long long) SPI_processed);
	d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, colno, &isnull);
	if (isnull)
		elog(ERROR, "pgque: unexpected NULL in column %d of an internal query", colno);
	return d;
}

/* The same for a column that may be NULL. */
Datum
pgque_spi_value_opt(uint64 row, int colno, bool *isnull)
{
	if (SPI_tuptable == NULL || row >= SPI_processed)
		elog(ERROR, "pgque: expected a row %llu from SPI, got %llu",
			 (unsigned long long) row, (unsigned long long) SPI_processed);
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, colno, isnull);
}

/*
 * SQL: pgque._explain(sql text) -> setof text
 * EXPLAIN (COSTS OFF) of sql as pgque plans its own statements; for tests.
 */
PG_FUNCTION_INFO_V1(pgque_explain);
Datum
pgque_explain(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *sql = text_to_cstring(PG_GETARG_TEXT_PP(0));
	uint64		i;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	SPI_connect();
	if (pgque_execute(psprintf("explain (costs off) %s", sql), false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not explain");
	for (i = 0; i < SPI_processed; i++)
	{
		Datum		v[1];
		bool		n[1] = {false};

		v[0] = CStringGetTextDatum(SPI_getvalue(SPI_tuptable->vals[i],
												SPI_tuptable->tupdesc, 1));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	SPI_finish();
	return (Datum) 0;
}
