/*-------------------------------------------------------------------------
 *
 * names.c
 *		Validation of queue and consumer names.
 *
 * Names are 1..PGQUE_NAME_MAX bytes so that the NOTIFY channel
 * "pgque_<name>" fits in NAMEDATALEN - 1. Any other character is allowed,
 * which is why no name is ever spliced into SQL: the C code passes names
 * as parameters and the SQL code quotes identifiers it builds from ids.
 * Consumer names may not contain '.', reserved for consumer.subconsumer.
 *
 * Every entry point that takes a name runs it through these checks first,
 * so a bad name fails with 22023 before any state is touched.
 *
 *-------------------------------------------------------------------------
 */
#include "pgque.h"

#include "mb/pg_wchar.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(pgque_check_queue_name_sql);
PG_FUNCTION_INFO_V1(pgque_check_consumer_name_sql);

/* At most max bytes of name, cut at a character boundary, "..." if cut. */
static char *
shortened(const char *name, int max)
{
	int			len = strlen(name);
	int			cut;

	if (len <= max)
		return pstrdup(name);
	cut = pg_mbcliplen(name, len, max);
	return psprintf("%.*s...", cut, name);
}

static void
check_name(const char *kind, const char *name)
{
	size_t		len;

	if (name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s name must not be null", kind)));
	len = strlen(name);
	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s name must not be empty", kind)));
	if (len > PGQUE_NAME_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s name \"%s\" is too long (%zu bytes, max %d)", kind,
						shortened(name, 64), len, PGQUE_NAME_MAX),
				 errdetail("Names are limited to %d bytes so that the notification channel \"%s<name>\" fits in %d bytes.",
						   PGQUE_NAME_MAX, PGQUE_CHANNEL_PREFIX, NAMEDATALEN - 1)));
}

void
pgque_check_queue_name(const char *name)
{
	check_name("queue", name);
}

void
pgque_check_consumer_name(const char *name)
{
	check_name("consumer", name);
	if (strchr(name, '.') != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("consumer name \"%s\" must not contain \".\"", name),
				 errhint("The dot separates a consumer from its subconsumer.")));
}

static char *
name_arg(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		return NULL;
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/* Fetch argument argno as a validated queue name. */
char *
pgque_queue_name_arg(FunctionCallInfo fcinfo, int argno)
{
	char	   *name = name_arg(fcinfo, argno);

	pgque_check_queue_name(name);
	return name;
}

/* Fetch argument argno as a validated consumer name. */
char *
pgque_consumer_name_arg(FunctionCallInfo fcinfo, int argno)
{
	char	   *name = name_arg(fcinfo, argno);

	pgque_check_consumer_name(name);
	return name;
}

/* SQL: pgque._check_queue_name(text) -- for the PL/pgSQL functions */
Datum
pgque_check_queue_name_sql(PG_FUNCTION_ARGS)
{
	(void) pgque_queue_name_arg(fcinfo, 0);
	PG_RETURN_VOID();
}

/* SQL: pgque._check_consumer_name(text) */
Datum
pgque_check_consumer_name_sql(PG_FUNCTION_ARGS)
{
	(void) pgque_consumer_name_arg(fcinfo, 0);
	PG_RETURN_VOID();
}
