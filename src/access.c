/*-------------------------------------------------------------------------
 *
 * access.c
 *		Who is calling, and may they use this queue.
 *
 * pgque's functions run as the extension owner (SECURITY DEFINER), so the
 * caller's role is not current_user inside them. It is the role the session
 * acts as (SET ROLE, or the session user): GetOuterUserId(), which a
 * SECURITY DEFINER function does not change. Access to restricted queues is
 * checked for that role (extension/15_access.sql, docs/security.md).
 *
 * The check itself is the SQL function pgque._check_access(); the C entry
 * points call it only for restricted queues (PgqueQueue.restricted), so
 * open queues pay nothing. It is called through fmgr, not SPI, so that a
 * SECURITY INVOKER caller (send) needs no EXECUTE privilege on it.
 *
 *-------------------------------------------------------------------------
 */
#include "pgque.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"

#include "access.h"

PG_FUNCTION_INFO_V1(pgque_caller);

/* SQL: pgque._caller() -> regrole, the role the session acts as */
Datum
pgque_caller(PG_FUNCTION_ARGS)
{
	PG_RETURN_OID(GetOuterUserId());
}

/*
 * Raise 42501 unless the caller may do privilege ("consume" or "produce")
 * on the restricted queue queue_id, and (sub_id != 0) use that subscription.
 */
void
pgque_check_access(int32 queue_id, const char *privilege, int32 sub_id)
{
	Oid			argtypes[3] = {INT4OID, TEXTOID, INT4OID};
	List	   *name = list_make2(makeString(PGQUE_SCHEMA), makeString("_check_access"));
	Oid			fn = LookupFuncName(name, 3, argtypes, false);

	OidFunctionCall3(fn, Int32GetDatum(queue_id), CStringGetTextDatum(privilege),
					 Int32GetDatum(sub_id));
}
