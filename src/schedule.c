/*-------------------------------------------------------------------------
 *
 * schedule.c
 *		Schedule specs: parsing them and finding their next due time.
 *
 * A spec is one of
 *
 *	 - a cron expression of five fields (minute hour day-of-month month
 *	   day-of-week) at minute precision: '*', 'a', 'a-b', '*' or 'a-b'
 *	   followed by '/n', comma-separated lists of those, month names
 *	   jan..dec, day names sun..sat, 0 or 7 for Sunday; or one of
 *	   @yearly (@annually), @monthly, @weekly, @daily (@midnight), @hourly.
 *	   When both day fields are restricted, a day matches when either does;
 *	   a day field that starts with '*' is unrestricted (as in Vixie cron,
 *	   cronie and pg_cron). A prefix "TZ=zone " or "CRON_TZ=zone " makes the
 *	   fields local times of that zone; UTC otherwise.
 *	 - "every N seconds|minutes|hours|days": slots N apart, anchored where
 *	   the schedule was created (the next slot after a slot is that slot
 *	   plus N). No time zone: the interval is exact.
 *
 * Local times that do not exist (a DST gap) fire at the first instant
 * after the gap, once, however many of them fell into it; local times that
 * occur twice (DST ends) fire at their first occurrence only.
 *
 * Nothing here touches a table; the SQL side (extension/58_schedule.sql)
 * keeps the schedules and sends their events. Every function is a pure
 * function of its arguments and the time zone database, so the regression
 * tests pin them with fixed times.
 *
 *-------------------------------------------------------------------------
 */
#include "pgque.h"

#include <ctype.h>

#include "funcapi.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(pgque_schedule_next);
PG_FUNCTION_INFO_V1(pgque_schedule_catch_up);
PG_FUNCTION_INFO_V1(pgque_schedule_zone);

/* longest "every": what the other time settings allow too */
#define EVERY_MAX_SECS	(365 * SECS_PER_DAY)
/* a cron expression that matches nothing within this many years never does */
#define SEARCH_YEARS	8

typedef struct Spec
{
	const char *text;			/* as given, for messages */
	bool		every;			/* "every N unit" */
	int64		every_usecs;
	uint64		minutes;		/* bit i: minute i matches */
	uint32		hours;
	uint32		doms;			/* bit 1..31 */
	uint32		months;			/* bit 1..12 */
	uint32		dows;			/* bit 0..6, 0 = Sunday */
	bool		dom_star;
	bool		dow_star;
	pg_tz	   *zone;			/* NULL: UTC */
	char	   *zone_name;		/* as written, NULL when none */
} Spec;

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL
};
static const char *const day_names[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL
};

static void spec_error(const Spec *spec, const char *fmt,...) pg_attribute_printf(2, 3) pg_attribute_noreturn();

static void
spec_error(const Spec *spec, const char *fmt,...)
{
	char		detail[256];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid schedule \"%s\"", spec->text),
			 errdetail("%s", detail),
			 errhint("Use five cron fields (minute hour day-of-month month day-of-week, such as "
					 "\"*/15 * * * *\" or \"0 9 * * mon-fri\"), @hourly, @daily, @weekly, @monthly, "
					 "@yearly, or \"every N seconds|minutes|hours|days\"; prefix \"TZ=Europe/Berlin \" "
					 "for local times of a zone other than UTC.")));
}

/* A number or (names != NULL) a name at *p; advances *p. */
static int
parse_value(const Spec *spec, const char *field, const char **p, const char *const *names, int offset)
{
	const char *s = *p;
	long		v;

	if (isdigit((unsigned char) *s))
	{
		v = 0;
		while (isdigit((unsigned char) *s))
		{
			v = v * 10 + (*s - '0');
			if (v > 1000)
				spec_error(spec, "The %s field has a number out of range.", field);
			s++;
		}
		*p = s;
		return (int) v;
	}
	if (names != NULL && isalpha((unsigned char) s[0]) && isalpha((unsigned char) s[1]) &&
		isalpha((unsigned char) s[2]) && !isalpha((unsigned char) s[3]))
	{
		int			i;

		for (i = 0; names[i] != NULL; i++)
			if (pg_strncasecmp(s, names[i], 3) == 0)
			{
				*p = s + 3;
				return i + offset;
			}
	}
	spec_error(spec, "The %s field has \"%s\" where a %s was expected.", field, s,
			   names != NULL ? "number or name" : "number");
	return 0;					/* not reached */
}

/*
 * One cron field (a comma-separated list) into a bit set of min..max.
 * Sets *star when the field starts with '*'.
 */
static uint64
parse_field(const Spec *spec, const char *field, const char *s, int min, int max,
			const char *const *names, int name_offset, bool *star)
{
	uint64		bits = 0;

	*star = (s[0] == '*');
	for (;;)
	{
		int			lo,
					hi,
					step = 1,
					v;

		if (*s == '*')
		{
			lo = min;
			hi = max;
			s++;
		}
		else
		{
			bool		range = false;

			lo = hi = parse_value(spec, field, &s, names, name_offset);
			if (*s == '-')
			{
				s++;
				hi = parse_value(spec, field, &s, names, name_offset);
				range = true;
			}
			if (lo < min || hi > max)
				spec_error(spec, "The %s field allows %d to %d, got %d.", field, min, max,
						   lo < min ? lo : hi);
			if (lo > hi)
				spec_error(spec, "The %s field has a range from %d down to %d.", field, lo, hi);
			if (*s == '/' && !range)
				spec_error(spec, "The %s field has a step after a single value; use a range such as \"%d-%d/n\".",
						   field, lo, max);
		}
		if (*s == '/')
		{
			s++;
			if (!isdigit((unsigned char) *s))
				spec_error(spec, "The %s field has a step that is not a number.", field);
			step = parse_value(spec, field, &s, NULL, 0);
			if (step < 1)
				spec_error(spec, "The %s field has a step of 0.", field);
		}
		for (v = lo; v <= hi; v += step)
			bits |= UINT64CONST(1) << v;
		if (*s == '\0')
			break;
		if (*s != ',')
			spec_error(spec, "The %s field has \"%s\" after a value.", field, s);
		s++;
	}
	return bits;
}

static void
parse_cron(Spec *spec, char *fields)
{
	static const char *const names[] = {"minute", "hour", "day-of-month", "month", "day-of-week"};
	char	   *f[5];
	int			n = 0;
	char	   *s = fields;
	bool		star;
	uint64		dows;

	while (*s != '\0')
	{
		while (isspace((unsigned char) *s))
			*s++ = '\0';
		if (*s == '\0')
			break;
		if (n == 5)
			spec_error(spec, "A cron expression has five fields, this one more.");
		f[n++] = s;
		while (*s != '\0' && !isspace((unsigned char) *s))
			s++;
	}
	if (n != 5)
		spec_error(spec, "A cron expression has five fields, this one %d.", n);

	spec->minutes = parse_field(spec, names[0], f[0], 0, 59, NULL, 0, &star);
	spec->hours = (uint32) parse_field(spec, names[1], f[1], 0, 23, NULL, 0, &star);
	spec->doms = (uint32) parse_field(spec, names[2], f[2], 1, 31, NULL, 0, &spec->dom_star);
	spec->months = (uint32) parse_field(spec, names[3], f[3], 1, 12, month_names, 1, &star);
	dows = parse_field(spec, names[4], f[4], 0, 7, day_names, 0, &spec->dow_star);
	/* 7 is Sunday too */
	spec->dows = (uint32) ((dows | (dows >> 7)) & 0x7F);
}

static void
parse_every(Spec *spec, const char *s)
{
	static const struct
	{
		const char *name;
		int64		secs;
	}			units[] = {
		{"second", 1}, {"minute", SECS_PER_MINUTE}, {"hour", SECS_PER_HOUR}, {"day", SECS_PER_DAY}
	};
	int64		n = 0;
	int			i;
	size_t		len;

	while (isspace((unsigned char) *s))
		s++;
	if (!isdigit((unsigned char) *s))
		spec_error(spec, "\"every\" needs a whole number of seconds, minutes, hours or days.");
	while (isdigit((unsigned char) *s))
	{
		n = n * 10 + (*s - '0');
		if (n > EVERY_MAX_SECS)
			spec_error(spec, "The interval is longer than 365 days.");
		s++;
	}
	while (isspace((unsigned char) *s))
		s++;
	len = strlen(s);
	while (len > 0 && isspace((unsigned char) s[len - 1]))
		len--;
	if (len > 0 && (s[len - 1] == 's' || s[len - 1] == 'S'))
		len--;					/* plural */
	for (i = 0; i < (int) lengthof(units); i++)
		if (len == strlen(units[i].name) && pg_strncasecmp(s, units[i].name, len) == 0)
			break;
	if (i == (int) lengthof(units))
		spec_error(spec, "\"every\" takes seconds, minutes, hours or days.");
	if (n < 1)
		spec_error(spec, "The interval must be at least 1 %s.", units[i].name);
	if (n * units[i].secs > EVERY_MAX_SECS)
		spec_error(spec, "The interval is longer than 365 days.");
	spec->every = true;
	spec->every_usecs = n * units[i].secs * USECS_PER_SEC;
}

static void
parse_spec(Spec *spec, const char *text)
{
	static const struct
	{
		const char *name;
		const char *cron;
	}			macros[] = {
		{"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
		{"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"}, {"@midnight", "0 0 * * *"},
		{"@hourly", "0 * * * *"}
	};
	char	   *s;
	char	   *end;

	memset(spec, 0, sizeof(*spec));
	spec->text = text;
	s = pstrdup(text);
	while (isspace((unsigned char) *s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char) end[-1]))
		*--end = '\0';
	if (*s == '\0')
		spec_error(spec, "The schedule is empty.");

	if (pg_strncasecmp(s, "TZ=", 3) == 0 || pg_strncasecmp(s, "CRON_TZ=", 8) == 0)
	{
		char	   *name = strchr(s, '=') + 1;

		s = name;
		while (*s != '\0' && !isspace((unsigned char) *s))
			s++;
		if (*s == '\0' || s == name)
			spec_error(spec, "A time zone prefix is followed by the schedule, as in \"TZ=Europe/Berlin 0 9 * * *\".");
		*s++ = '\0';
		while (isspace((unsigned char) *s))
			s++;
		spec->zone_name = name;
		spec->zone = pg_tzset(name);
		if (spec->zone == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("time zone \"%s\" not recognized", name),
					 errdetail("In schedule \"%s\".", text),
					 errhint("Use a name from pg_timezone_names, such as \"Europe/Berlin\".")));
	}

	if (pg_strncasecmp(s, "every", 5) == 0 && (s[5] == '\0' || isspace((unsigned char) s[5])))
	{
		if (spec->zone_name != NULL)
			spec_error(spec, "A time zone applies to cron expressions only; \"every\" counts exact intervals.");
		parse_every(spec, s + 5);
		return;
	}
	if (*s == '@')
	{
		int			i;

		for (i = 0; i < (int) lengthof(macros); i++)
			if (pg_strcasecmp(s, macros[i].name) == 0)
			{
				parse_cron(spec, pstrdup(macros[i].cron));
				return;
			}
		spec_error(spec, "\"%s\" is none of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly.", s);
	}
	parse_cron(spec, s);
}

/* seconds east of UTC at instant t */
static int
zone_offset(const Spec *spec, TimestampTz t)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;

	if (spec->zone == NULL)
		return 0;
	if (timestamp2tm(t, &tz, &tm, &fsec, NULL, spec->zone) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return -tz;
}

/*
 * The instant of a local wall-clock time ("wall": the local fields encoded
 * as if they were UTC): its first occurrence when it occurs twice, the end
 * of the gap when a DST change skipped it.
 */
static TimestampTz
wall_to_instant(const Spec *spec, Timestamp wall)
{
	int			before,
				after;
	TimestampTz lo,
				hi,
				best = DT_NOEND;

	if (spec->zone == NULL)
		return wall;
	/* no zone changes its offset twice within two days */
	before = zone_offset(spec, wall - USECS_PER_DAY);
	after = zone_offset(spec, wall + USECS_PER_DAY);
	if (zone_offset(spec, wall - (int64) before * USECS_PER_SEC) == before)
		best = wall - (int64) before * USECS_PER_SEC;
	if (zone_offset(spec, wall - (int64) after * USECS_PER_SEC) == after)
		best = Min(best, wall - (int64) after * USECS_PER_SEC);
	if (best != DT_NOEND)
		return best;

	/*
	 * A gap: the zone moved from before to after (> before) between
	 * wall - after and wall - before. Find the change to the second.
	 */
	lo = wall - (int64) after * USECS_PER_SEC;
	hi = wall - (int64) before * USECS_PER_SEC;
	while (hi - lo > USECS_PER_SEC)
	{
		TimestampTz mid = lo + ((hi - lo) / (2 * USECS_PER_SEC)) * USECS_PER_SEC;

		if (mid == lo)
			mid = lo + USECS_PER_SEC;
		if (zone_offset(spec, mid) == before)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

static bool
day_matches(const Spec *spec, int year, int month, int day)
{
	bool		dom = (spec->doms >> day) & 1;
	bool		dow = (spec->dows >> j2day(date2j(year, month, day))) & 1;

	if (spec->dom_star || spec->dow_star)
		return dom && dow;
	return dom || dow;
}

static void
check_finite(TimestampTz t, const char *what)
{
	if (TIMESTAMP_NOT_FINITE(t))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a finite time", what)));
}

/* The first slot of spec after "after". */
static TimestampTz
next_slot(const Spec *spec, TimestampTz after)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			y,
				mo,
				d,
				h,
				mi;
	int			last_year;

	if (spec->every)
		return after + spec->every_usecs;

	/* local fields of the minute after "after" */
	if (timestamp2tm(after + (int64) zone_offset(spec, after) * USECS_PER_SEC, NULL, &tm, &fsec,
					 NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	y = tm.tm_year;
	mo = tm.tm_mon;
	d = tm.tm_mday;
	h = tm.tm_hour;
	mi = tm.tm_min + 1;
	last_year = y + SEARCH_YEARS;

	for (;;)
	{
		Timestamp	wall;
		TimestampTz at;

		/* carry */
		if (mi > 59)
		{
			mi = 0;
			h++;
		}
		if (h > 23)
		{
			h = 0;
			d++;
		}
		if (d > day_tab[isleap(y)][mo - 1])
		{
			d = 1;
			mo++;
		}
		if (mo > 12)
		{
			mo = 1;
			y++;
		}
		if (y > last_year)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("schedule \"%s\" never fires", spec->text),
					 errdetail("No time within %d years matches it.", SEARCH_YEARS),
					 errhint("Check the day-of-month and month fields: a day such as 31 must exist in one of the months.")));

		if (!((spec->months >> mo) & 1))
		{
			mo++;
			d = 1;
			h = 0;
			mi = 0;
			continue;
		}
		if (!day_matches(spec, y, mo, d))
		{
			d++;
			h = 0;
			mi = 0;
			continue;
		}
		if (!((spec->hours >> h) & 1))
		{
			h++;
			mi = 0;
			continue;
		}
		if (!((spec->minutes >> mi) & 1))
		{
			mi++;
			continue;
		}

		tm.tm_year = y;
		tm.tm_mon = mo;
		tm.tm_mday = d;
		tm.tm_hour = h;
		tm.tm_min = mi;
		tm.tm_sec = 0;
		if (tm2timestamp(&tm, 0, NULL, &wall) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("timestamp out of range")));
		at = wall_to_instant(spec, wall);
		/* a time the clock showed before "after" too (DST ended) fired then */
		if (at > after)
			return at;
		mi++;
	}
}

static void
spec_arg(Spec *spec, FunctionCallInfo fcinfo, int argno)
{
	parse_spec(spec, text_to_cstring(PG_GETARG_TEXT_PP(argno)));
}

/*
 * SQL: pgque._schedule_next(spec text, after timestamptz) -> timestamptz
 *
 * The first slot after "after"; for "every", "after" plus the interval.
 */
Datum
pgque_schedule_next(PG_FUNCTION_ARGS)
{
	Spec		spec;
	TimestampTz after = PG_GETARG_TIMESTAMPTZ(1);

	spec_arg(&spec, fcinfo, 0);
	check_finite(after, "after");
	PG_RETURN_TIMESTAMPTZ(next_slot(&spec, after));
}

/*
 * SQL: pgque._schedule_catch_up(spec text, due timestamptz, now_ timestamptz,
 *		out latest timestamptz, out missed bigint, out next_run timestamptz)
 *
 * A schedule whose slot "due" has come (due <= now_) sends one event: for
 * the latest slot at or before now_, with the number of slots before it
 * (from due on) that were missed; next_run is the first slot after now_.
 */
Datum
pgque_schedule_catch_up(PG_FUNCTION_ARGS)
{
	Spec		spec;
	TimestampTz due = PG_GETARG_TIMESTAMPTZ(1);
	TimestampTz now = PG_GETARG_TIMESTAMPTZ(2);
	TimestampTz latest = due;
	TimestampTz next;
	int64		missed = 0;
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	spec_arg(&spec, fcinfo, 0);
	check_finite(due, "due");
	check_finite(now, "now_");
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (due > now)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("slot %s is not due at %s", timestamptz_to_str(due), timestamptz_to_str(now))));

	if (spec.every)
	{
		missed = (now - due) / spec.every_usecs;
		latest = due + missed * spec.every_usecs;
		next = latest + spec.every_usecs;
	}
	else
	{
		/* at most about a slot a minute: a year down is half a million */
		for (;;)
		{
			next = next_slot(&spec, latest);
			if (next > now)
				break;
			latest = next;
			missed++;
			CHECK_FOR_INTERRUPTS();
		}
	}
	values[0] = TimestampTzGetDatum(latest);
	values[1] = Int64GetDatum(missed);
	values[2] = TimestampTzGetDatum(next);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

/*
 * SQL: pgque._schedule_zone(spec text) -> text
 *
 * Checks the spec; returns its time zone as written, NULL for UTC.
 */
Datum
pgque_schedule_zone(PG_FUNCTION_ARGS)
{
	Spec		spec;

	spec_arg(&spec, fcinfo, 0);
	if (spec.zone_name == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(spec.zone_name));
}
