/*
 * calendar.c: business calendars.  A calendar version (time zone, weekly
 * hours, holidays) is compiled once per backend into sorted, disjoint UTC
 * working intervals with the working time before each (a prefix sum), so
 *
 *   womgr.add_business_time(tenant, calendar, start, duration)
 *   womgr.business_time_between(tenant, calendar, from, to)
 *
 * are binary searches.  Local hours become instants exactly as PostgreSQL
 * converts a local timestamp to timestamptz in the calendar's zone (the DST
 * gap shortens a working interval, the repeated hour lengthens it).  The
 * compiled years grow on demand.  Compiled calendars live in their own
 * memory context and are dropped by a relcache callback whenever
 * womgr.calendar changes (a statement trigger there sends the
 * invalidation), never by time.
 */
#include "womgr.h"

#include "access/xact.h"
#include "common/int.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#define MAX_PER_DAY 12
#define YEAR_MIN 1900
#define YEAR_MAX 9999

static const char *const day_keys[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

typedef struct WeekHours
{
	int			n[7];
	int32		start[7][MAX_PER_DAY];	/* minutes after local midnight */
	int32		end[7][MAX_PER_DAY];	/* up to 1440 ("24:00") */
} WeekHours;

typedef struct CalKey
{
	int64		tenant_id;
	int64		calendar_id;
	int32		version;		/* 0: the current version */
	int64		ctx_tenant;		/* womgr.tenant_id of the caller: row-level security */
	Oid			userid;
} CalKey;

typedef struct Calendar
{
	CalKey		key;			/* hash key: must be first */
	int32		version;
	pg_tz	   *tz;
	WeekHours	wh;
	int			nholidays;
	DateADT    *holidays;		/* sorted */
	int			year_from;		/* compiled local years, inclusive */
	int			year_to;
	TimestampTz lo;				/* UTC range the intervals cover */
	TimestampTz hi;
	int			n;
	TimestampTz *start;
	TimestampTz *end;
	int64	   *prefix;			/* working usecs before interval i; prefix[n] = total */
} Calendar;

static MemoryContext calendar_cxt = NULL;
static HTAB *calendars = NULL;
static uint64 calendar_generation = 1;
static Oid	calendar_relid = InvalidOid;

static void
calendar_reset(void)
{
	if (calendar_cxt != NULL)
		MemoryContextReset(calendar_cxt);
	calendars = NULL;
	calendar_relid = InvalidOid;	/* looked up again: the extension may have been re-created */
	calendar_generation++;
}

static void
calendar_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == calendar_relid)
		calendar_reset();
}

void
CalendarInit(void)
{
	CacheRegisterRelcacheCallback(calendar_relcache_callback, (Datum) 0);
}

/* ---------- parsing and validating the weekly hours ---------- */

static int32
parse_clock(const char *s, int len, bool is_end, const char *day)
{
	int			h,
				m;

	if (len != 5 || s[2] != ':' || !isdigit((unsigned char) s[0]) || !isdigit((unsigned char) s[1]) ||
		!isdigit((unsigned char) s[3]) || !isdigit((unsigned char) s[4]))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_DATETIME_FORMAT),
				 errmsg("working hours of \"%s\" hold an invalid time \"%.*s\"", day, len, s),
				 errdetail("Times are written \"HH:MM\" on a 24-hour clock."),
				 errhint("Send e.g. [\"08:00\", \"17:00\"]; \"24:00\" ends a day.")));
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && (m != 0 || !is_end)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_DATETIME_FORMAT),
				 errmsg("working hours of \"%s\" hold an invalid time \"%.*s\"", day, len, s),
				 errdetail("Hours run from 00 to 23 and minutes from 00 to 59; \"24:00\" is allowed only as an end."),
				 errhint("Write an overnight shift as two intervals, one each day.")));
	return h * 60 + m;
}

static void
hours_type_error(const char *what, const char *day)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("%s", what),
			 errdetail("Weekday \"%s\" must hold a list of [start, end] pairs of \"HH:MM\" strings.", day),
			 errhint("Send e.g. {\"mon\": [[\"08:00\", \"12:00\"], [\"13:00\", \"17:00\"]]}.")));
}

/* Parses {"mon": [["08:00", "17:00"]], ...} with a specific error for each mistake. */
static void
parse_hours(Jsonb *hours, WeekHours *wh)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			total = 0;

	memset(wh, 0, sizeof(*wh));
	if (!JB_ROOT_IS_OBJECT(hours) || JB_ROOT_IS_SCALAR(hours))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("working hours must be a JSON object"),
				 errdetail("The keys are weekdays mon..sun, each with a list of [start, end] pairs."),
				 errhint("Send e.g. {\"mon\": [[\"08:00\", \"17:00\"]], \"sat\": [[\"09:00\", \"13:00\"]]}.")));
	it = JsonbIteratorInit(&hours->root);
	tok = JsonbIteratorNext(&it, &v, false);	/* WJB_BEGIN_OBJECT */
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		int			d = -1;
		char		day[8];
		JsonbValue	val;

		if (tok != WJB_KEY)
			continue;
		for (int i = 0; i < 7; i++)
			if (v.val.string.len == 3 && strncmp(v.val.string.val, day_keys[i], 3) == 0)
				d = i;
		if (d < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("working hours name an unknown weekday \"%.*s\"", v.val.string.len, v.val.string.val),
					 errdetail("Weekdays are mon, tue, wed, thu, fri, sat and sun."),
					 errhint("Use the three-letter lower-case names.")));
		strlcpy(day, day_keys[d], sizeof(day));
		tok = JsonbIteratorNext(&it, &val, true);
		if (val.type != jbvBinary || !JsonContainerIsArray(val.val.binary.data))
			hours_type_error("working hours of a weekday must be a JSON array", day);
		{
			JsonbIterator *ai = JsonbIteratorInit(val.val.binary.data);
			JsonbValue	pair;
			JsonbIteratorToken at;

			at = JsonbIteratorNext(&ai, &pair, true);	/* WJB_BEGIN_ARRAY */
			while ((at = JsonbIteratorNext(&ai, &pair, true)) != WJB_DONE)
			{
				JsonbIterator *pi;
				JsonbValue	e[2];
				JsonbValue	x;
				int			ne = 0;
				int32		s,
							en;

				if (at != WJB_ELEM)
					continue;
				if (pair.type != jbvBinary || !JsonContainerIsArray(pair.val.binary.data))
					hours_type_error("a working interval must be a JSON array [start, end]", day);
				pi = JsonbIteratorInit(pair.val.binary.data);
				while ((at = JsonbIteratorNext(&pi, &x, true)) != WJB_DONE)
					if (at == WJB_ELEM)
					{
						if (x.type != jbvString || ne >= 2)
							hours_type_error("a working interval must be two \"HH:MM\" strings", day);
						e[ne++] = x;
					}
				if (ne != 2)
					hours_type_error("a working interval must be two \"HH:MM\" strings", day);
				s = parse_clock(e[0].val.string.val, e[0].val.string.len, false, day);
				en = parse_clock(e[1].val.string.val, e[1].val.string.len, true, day);
				if (en <= s)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("a working interval of \"%s\" ends before it starts", day),
							 errdetail("[\"%.*s\", \"%.*s\"] is empty or reversed.",
									   e[0].val.string.len, e[0].val.string.val,
									   e[1].val.string.len, e[1].val.string.val),
							 errhint("Write an overnight shift as two intervals: [\"22:00\", \"24:00\"] on one day and [\"00:00\", \"06:00\"] on the next.")));
				if (wh->n[d] >= MAX_PER_DAY)
					ereport(ERROR,
							(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
							 errmsg("weekday \"%s\" has more than %d working intervals", day, MAX_PER_DAY),
							 errdetail("A day holds at most %d intervals.", MAX_PER_DAY),
							 errhint("Merge intervals that touch.")));
				/* keep the day sorted; refuse overlaps */
				{
					int			k = wh->n[d];

					while (k > 0 && wh->start[d][k - 1] > s)
					{
						wh->start[d][k] = wh->start[d][k - 1];
						wh->end[d][k] = wh->end[d][k - 1];
						k--;
					}
					wh->start[d][k] = s;
					wh->end[d][k] = en;
					wh->n[d]++;
					if ((k > 0 && wh->end[d][k - 1] > s) || (k + 1 < wh->n[d] && en > wh->start[d][k + 1]))
						ereport(ERROR,
								(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								 errmsg("working intervals of \"%s\" overlap", day),
								 errdetail("Every interval of a day must end before the next starts."),
								 errhint("Merge the overlapping intervals into one.")));
				}
				total += en - s;
			}
		}
	}
	if (total == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the calendar has no working time"),
				 errdetail("No weekday has a working interval, so no deadline could ever be reached."),
				 errhint("Give at least one weekday its hours, e.g. {\"mon\": [[\"08:00\", \"17:00\"]]}.")));
}

static pg_tz *
check_timezone(const char *name)
{
	pg_tz	   *tz = pg_tzset(name);

	if (tz == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" is not known", name),
				 errdetail("Calendars use IANA time zone names such as Africa/Nairobi."),
				 errhint("See SELECT name FROM pg_timezone_names.")));
	return tz;
}

/* womgr._calendar_check(timezone, hours): raises unless both are valid */
PG_FUNCTION_INFO_V1(womgr_calendar_check);
Datum
womgr_calendar_check(PG_FUNCTION_ARGS)
{
	WeekHours	wh;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("time zone and working hours must not be null"),
				 errdetail("A calendar needs both."),
				 errhint("Pass e.g. 'Africa/Nairobi' and {\"mon\": [[\"08:00\", \"17:00\"]]}.")));
	(void) check_timezone(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	parse_hours(PG_GETARG_JSONB_P(1), &wh);
	PG_RETURN_VOID();
}

/* ---------- compiling a calendar version into UTC intervals ---------- */

/* The instant of local date + minutes in the zone, as timestamp -> timestamptz does. */
static TimestampTz
local_to_utc(pg_tz *tz, DateADT date, int32 minutes)
{
	Timestamp	local = (Timestamp) date * USECS_PER_DAY + (Timestamp) minutes * USECS_PER_MINUTE;
	struct pg_tm tm;
	fsec_t		fsec;
	int			offset;

	if (timestamp2tm(local, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	offset = DetermineTimeZoneOffset(&tm, tz);
	return local + (TimestampTz) offset * USECS_PER_SEC;
}

static int
cmp_date(const void *a, const void *b)
{
	DateADT		x = *(const DateADT *) a,
				y = *(const DateADT *) b;

	return x < y ? -1 : x > y;
}

static bool
is_holiday(Calendar *cal, DateADT d)
{
	return cal->nholidays > 0 &&
		bsearch(&d, cal->holidays, cal->nholidays, sizeof(DateADT), cmp_date) != NULL;
}

typedef struct Span
{
	TimestampTz s;
	TimestampTz e;
} Span;

static int
cmp_span(const void *a, const void *b)
{
	const Span *x = a,
			   *y = b;

	return x->s < y->s ? -1 : x->s > y->s;
}

/* (Re)compiles the local years [y0, y1] of the calendar. */
static void
compile_years(Calendar *cal, int y0, int y1)
{
	DateADT		d0 = date2j(y0, 1, 1) - POSTGRES_EPOCH_JDATE;
	DateADT		d1 = date2j(y1 + 1, 1, 1) - POSTGRES_EPOCH_JDATE;
	int			cap = (d1 - d0) * 2 + 16;
	Span	   *spans = palloc(sizeof(Span) * cap);
	int			n = 0;
	int			m = 0;
	MemoryContext old;

	for (DateADT d = d0; d < d1; d++)
	{
		/* j2day: 0 = Sunday; our days: 0 = Monday */
		int			wd = (j2day(d + POSTGRES_EPOCH_JDATE) + 6) % 7;

		CHECK_FOR_INTERRUPTS();
		if (cal->wh.n[wd] == 0 || is_holiday(cal, d))
			continue;
		for (int k = 0; k < cal->wh.n[wd]; k++)
		{
			TimestampTz s = local_to_utc(cal->tz, d, cal->wh.start[wd][k]);
			TimestampTz e = local_to_utc(cal->tz, d, cal->wh.end[wd][k]);

			if (e <= s)
				continue;		/* swallowed by a DST gap */
			if (n >= cap)
			{
				cap *= 2;
				spans = repalloc(spans, sizeof(Span) * cap);
			}
			spans[n].s = s;
			spans[n].e = e;
			n++;
		}
	}
	/* a DST gap can make one day's intervals overlap: sort and merge (also merges 24/7 days) */
	qsort(spans, n, sizeof(Span), cmp_span);
	for (int i = 0; i < n; i++)
	{
		if (m > 0 && spans[i].s <= spans[m - 1].e)
		{
			if (spans[i].e > spans[m - 1].e)
				spans[m - 1].e = spans[i].e;
		}
		else
			spans[m++] = spans[i];
	}

	old = MemoryContextSwitchTo(calendar_cxt);
	if (cal->start)
	{
		pfree(cal->start);
		pfree(cal->end);
		pfree(cal->prefix);
	}
	cal->start = palloc(sizeof(TimestampTz) * Max(m, 1));
	cal->end = palloc(sizeof(TimestampTz) * Max(m, 1));
	cal->prefix = palloc(sizeof(int64) * (m + 1));
	MemoryContextSwitchTo(old);
	cal->prefix[0] = 0;
	for (int i = 0; i < m; i++)
	{
		cal->start[i] = spans[i].s;
		cal->end[i] = spans[i].e;
		cal->prefix[i + 1] = cal->prefix[i] + (spans[i].e - spans[i].s);
	}
	cal->n = m;
	cal->year_from = y0;
	cal->year_to = y1;
	cal->lo = local_to_utc(cal->tz, d0, 0);
	cal->hi = local_to_utc(cal->tz, d1, 0);
	pfree(spans);
}

/* The local year of an instant in the calendar's zone. */
static int
local_year(Calendar *cal, TimestampTz t)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;

	if (TIMESTAMP_NOT_FINITE(t) || timestamp2tm(t, &tz, &tm, &fsec, NULL, cal->tz) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range for business time"),
				 errdetail("Business time is computed for finite times from %d to %d.", YEAR_MIN, YEAR_MAX),
				 errhint("Pass a finite timestamp.")));
	return tm.tm_year;
}

static void
check_year(int y)
{
	if (y < YEAR_MIN || y > YEAR_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("business time %s the year %d is not supported", y < YEAR_MIN ? "before" : "beyond",
						y < YEAR_MIN ? YEAR_MIN : YEAR_MAX),
				 errdetail("Calendars are compiled for the years %d to %d.", YEAR_MIN, YEAR_MAX),
				 errhint("Check the start time and the duration.")));
}

/* Makes sure the compiled intervals cover instant t. */
static void
cover(Calendar *cal, TimestampTz t)
{
	int			y,
				y0,
				y1;

	if (cal->start != NULL && t >= cal->lo && t <= cal->hi)
		return;
	y = local_year(cal, t);
	check_year(y);
	if (cal->start == NULL)
	{
		y0 = y - 1;
		y1 = y + 2;
	}
	else
	{
		y0 = Min(cal->year_from, y - 1);
		y1 = Max(cal->year_to, y + 1);
	}
	compile_years(cal, Max(y0, YEAR_MIN), Min(y1, YEAR_MAX));
}

/* Working time in [lo, t): the prefix sum up to t. */
static int64
cum(Calendar *cal, TimestampTz t)
{
	int			lo = 0,
				hi = cal->n;	/* first interval with start > t */

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (cal->start[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return 0;
	lo--;
	return cal->prefix[lo] + (Min(t, cal->end[lo]) - cal->start[lo]);
}

static KeptPlan calendar_plan = {
	"SELECT v.version, v.timezone, v.hours, v.holidays"
	"  FROM womgr.calendar c JOIN womgr.calendar_version v"
	"    ON v.tenant_id = c.tenant_id AND v.calendar_id = c.calendar_id"
	"   AND v.version = CASE WHEN $3 > 0 THEN $3 ELSE c.current_version END"
	" WHERE c.tenant_id = $1 AND c.calendar_id = $2",
	3, {INT8OID, INT8OID, INT4OID}
};

static Calendar *
load_calendar(CalKey *key)
{
	Calendar   *cal;
	bool		found;
	Datum		args[3];
	bool		isnull;
	int			spi;

	if (calendar_cxt == NULL)
		calendar_cxt = AllocSetContextCreate(CacheMemoryContext, "womgr calendars", ALLOCSET_DEFAULT_SIZES);
	if (calendars == NULL)
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(CalKey);
		ctl.entrysize = sizeof(Calendar);
		ctl.hcxt = calendar_cxt;
		calendars = hash_create("womgr calendars", 16, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	cal = hash_search(calendars, key, HASH_FIND, NULL);
	if (cal != NULL)
		return cal;

	if (!OidIsValid(calendar_relid))
		calendar_relid = get_relname_relid("calendar", get_namespace_oid("womgr", false));
	args[0] = Int64GetDatum(key->tenant_id);
	args[1] = Int64GetDatum(key->calendar_id);
	args[2] = Int32GetDatum(key->version);
	spi = spi_begin();
	exec_kept(&calendar_plan, args, NULL, true, SPI_OK_SELECT);
	if (SPI_processed != 1 && key->version > 0)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("version %d of calendar %lld does not exist", key->version, (long long) key->calendar_id),
				 errdetail("Tenant %lld has no such calendar version, or row-level security hides it.",
						   (long long) key->tenant_id),
				 errhint("List versions with SELECT version FROM womgr.calendar_version.")));
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("calendar %lld does not exist", (long long) key->calendar_id),
				 errdetail("Tenant %lld has no calendar with id %lld, or row-level security hides it.",
						   (long long) key->tenant_id, (long long) key->calendar_id),
				 errhint("List calendars with SELECT calendar_id, name FROM womgr.calendar.")));
	{
		HeapTuple	row = SPI_tuptable->vals[0];
		TupleDesc	rd = SPI_tuptable->tupdesc;
		char	   *tzname = SPI_getvalue(row, rd, 2);
		Jsonb	   *hours = DatumGetJsonbP(SPI_getbinval(row, rd, 3, &isnull));
		ArrayType  *hol = DatumGetArrayTypeP(SPI_getbinval(row, rd, 4, &isnull));
		Datum	   *hd;
		bool	   *hn;
		int			nh;
		WeekHours	wh;
		pg_tz	   *tz = check_timezone(tzname);

		parse_hours(hours, &wh);
		deconstruct_array(hol, DATEOID, sizeof(DateADT), true, TYPALIGN_INT, &hd, &hn, &nh);
		cal = hash_search(calendars, key, HASH_ENTER, &found);
		memset(((char *) cal) + sizeof(CalKey), 0, sizeof(Calendar) - sizeof(CalKey));
		cal->version = DatumGetInt32(SPI_getbinval(row, rd, 1, &isnull));
		cal->tz = tz;
		cal->wh = wh;
		cal->holidays = MemoryContextAlloc(calendar_cxt, sizeof(DateADT) * Max(nh, 1));
		for (int i = 0; i < nh; i++)
			if (!hn[i])
				cal->holidays[cal->nholidays++] = DatumGetDateADT(hd[i]);
		qsort(cal->holidays, cal->nholidays, sizeof(DateADT), cmp_date);
	}
	spi_end(spi);
	return cal;
}

/* The compiled calendar for a call, remembered in fn_extra while the cache stays valid. */
typedef struct CalRef
{
	uint64		generation;
	CalKey		key;
	Calendar   *cal;
} CalRef;

static Calendar *
calendar_for_call(FunctionCallInfo fcinfo, const char *fn, int version_arg)
{
	CalKey		key;
	CalRef	   *ref = (CalRef *) fcinfo->flinfo->fn_extra;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s", PG_ARGISNULL(0) ? "tenant must not be null" : "calendar id must not be null"),
				 errdetail("%s() needs the tenant and one of its calendars.", fn),
				 errhint("Pass womgr.default_tenant_id() if you run a single company.")));
	memset(&key, 0, sizeof(key));
	key.tenant_id = PG_GETARG_INT64(0);
	key.calendar_id = PG_GETARG_INT64(1);
	if (version_arg >= 0)
	{
		if (PG_ARGISNULL(version_arg))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("calendar version must not be null"),
					 errdetail("%s() computes on one version of the calendar.", fn),
					 errhint("Pass the version the SLA clock started with.")));
		key.version = Max(PG_GETARG_INT32(version_arg), 1);
	}
	if (!womgr_context_tenant(&key.ctx_tenant))
		key.ctx_tenant = 0;
	key.userid = GetUserId();
	if (ref != NULL && ref->generation == calendar_generation && memcmp(&ref->key, &key, sizeof(key)) == 0)
		return ref->cal;
	if (ref == NULL)
		ref = fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(CalRef));
	ref->cal = load_calendar(&key);
	ref->key = key;
	ref->generation = calendar_generation;
	return ref->cal;
}

static int64
duration_usecs(Interval *d)
{
	int64		usecs;

	if (d->month != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a business-time duration cannot have months"),
				 errdetail("Months have no fixed length in working time."),
				 errhint("Give the duration in hours or minutes, e.g. interval '40 hours'.")));
	if (pg_mul_s64_overflow((int64) d->day, USECS_PER_DAY, &usecs) ||
		pg_add_s64_overflow(usecs, d->time, &usecs))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("duration out of range")));
	if (usecs < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a business-time duration must not be negative"),
				 errdetail("The duration is %lld microseconds.", (long long) usecs),
				 errhint("Use business_time_between() to measure backwards.")));
	return usecs;
}

static Datum
add_business_time(FunctionCallInfo fcinfo, Calendar *cal, int a)
{
	TimestampTz t;
	int64		d,
				target;
	int			lo,
				hi;

	if (PG_ARGISNULL(a) || PG_ARGISNULL(a + 1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", PG_ARGISNULL(a) ? "start" : "duration"),
				 errdetail("add_business_time() adds a working-time duration to a start."),
				 errhint("Pass both.")));
	t = PG_GETARG_TIMESTAMPTZ(a);
	d = duration_usecs(PG_GETARG_INTERVAL_P(a + 1));
	if (d == 0)
		PG_RETURN_TIMESTAMPTZ(t);
	cover(cal, t);
	target = cum(cal, t) + d;
	while (target > cal->prefix[cal->n])
	{
		int			y1 = cal->year_to + Max(2, (int) ((target - cal->prefix[cal->n]) / (USECS_PER_DAY * 100)) + 1);

		CHECK_FOR_INTERRUPTS();
		if (cal->year_to >= YEAR_MAX)
			check_year(YEAR_MAX + 1);
		compile_years(cal, cal->year_from, Min(y1, YEAR_MAX));
	}
	/* the first interval whose end reaches the target */
	lo = 0;
	hi = cal->n - 1;
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (cal->prefix[mid + 1] >= target)
			hi = mid;
		else
			lo = mid + 1;
	}
	PG_RETURN_TIMESTAMPTZ(cal->start[lo] + (target - cal->prefix[lo]));
}

static Datum
business_time_between(FunctionCallInfo fcinfo, Calendar *cal, int a)
{
	TimestampTz from,
				to;
	Interval   *result;

	if (PG_ARGISNULL(a) || PG_ARGISNULL(a + 1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", PG_ARGISNULL(a) ? "from" : "to"),
				 errdetail("business_time_between() measures the working time between two instants."),
				 errhint("Pass both.")));
	from = PG_GETARG_TIMESTAMPTZ(a);
	to = PG_GETARG_TIMESTAMPTZ(a + 1);
	cover(cal, from);
	cover(cal, to);
	result = palloc0(sizeof(Interval));
	result->time = cum(cal, to) - cum(cal, from);
	PG_RETURN_INTERVAL_P(result);
}

/* womgr.add_business_time(tenant, calendar, start, duration): the instant the working time runs out */
PG_FUNCTION_INFO_V1(womgr_add_business_time);
Datum
womgr_add_business_time(PG_FUNCTION_ARGS)
{
	return add_business_time(fcinfo, calendar_for_call(fcinfo, "add_business_time", -1), 2);
}

/* womgr._add_business_time_v(tenant, calendar, version, start, duration): the same on one version */
PG_FUNCTION_INFO_V1(womgr_add_business_time_v);
Datum
womgr_add_business_time_v(PG_FUNCTION_ARGS)
{
	return add_business_time(fcinfo, calendar_for_call(fcinfo, "add_business_time", 2), 3);
}

/* womgr.business_time_between(tenant, calendar, from, to): working time in [from, to) */
PG_FUNCTION_INFO_V1(womgr_business_time_between);
Datum
womgr_business_time_between(PG_FUNCTION_ARGS)
{
	return business_time_between(fcinfo, calendar_for_call(fcinfo, "business_time_between", -1), 2);
}

/* womgr._business_time_between_v(tenant, calendar, version, from, to): the same on one version */
PG_FUNCTION_INFO_V1(womgr_business_time_between_v);
Datum
womgr_business_time_between_v(PG_FUNCTION_ARGS)
{
	return business_time_between(fcinfo, calendar_for_call(fcinfo, "business_time_between", 2), 3);
}

/*
 * The working intervals of a calendar (its current version) that overlap
 * [from, to), clipped to it, in a palloc'd array of 2 * count instants
 * (start, end, start, end, ...).  For dispatch: a technician's shifts.
 */
int
calendar_working_spans(int64 tenant_id, int64 calendar_id, TimestampTz from, TimestampTz to,
					   TimestampTz **spans)
{
	CalKey		key;
	Calendar   *cal;
	int			lo = 0,
				hi,
				n = 0;

	memset(&key, 0, sizeof(key));
	key.tenant_id = tenant_id;
	key.calendar_id = calendar_id;
	if (!womgr_context_tenant(&key.ctx_tenant))
		key.ctx_tenant = 0;
	key.userid = GetUserId();
	cal = load_calendar(&key);
	cover(cal, from);
	cover(cal, to);
	hi = cal->n;
	/* first interval ending after from */
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (cal->end[mid] <= from)
			lo = mid + 1;
		else
			hi = mid;
	}
	*spans = palloc(sizeof(TimestampTz) * 2 * Max(cal->n - lo, 1));
	for (int i = lo; i < cal->n && cal->start[i] < to; i++)
	{
		(*spans)[2 * n] = Max(cal->start[i], from);
		(*spans)[2 * n + 1] = Min(cal->end[i], to);
		n++;
	}
	return n;
}
