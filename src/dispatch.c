/*
 * dispatch.c: ranked matching of technicians to a work order.
 *
 *   womgr._dispatch_candidates(tenant, work order, limit, window, bump_rank, as_of)
 *
 * finds the tenant's active technicians with every required skill at its
 * level and a certificate valid on the window's first day (branch time
 * zone) who serve the site's branch or a territory covering it: nearest
 * first through the GiST index on their position (KNN <->, cut off at the
 * distance the policy's longest travel allows), or, when few technicians
 * hold the skills, from a per-session list of them by primary key.  For each
 * it finds the earliest start: the job inside the window, the drive before
 * it (from the previous job, else the position) inside a shift (the
 * technician's calendar, else the home branch's) and clear of time off and
 * other bookings.  The first candidate_pool feasible ones are scored (a
 * weighted sum of travel, skill fit, workload, SLA slack, preferred
 * technician and rating, weights from womgr.dispatch_policy) and ranked.
 * womgr.match_technicians() shows the ranking; plan_dispatch() and
 * dispatch_emergency() book from it.  With bump_rank, bookings of work not
 * started of a lower priority (a greater rank) may be bumped when that gives
 * an earlier start; with as_of, the match is made as of that time.
 */
#include "womgr.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/guc.h"
#include "utils/datum.h"
#include "catalog/namespace.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/json.h"
#include "utils/rangetypes.h"
#include "utils/regproc.h"
#include "utils/timestamp.h"

#define MAX_LIMIT 1000
#define MAX_WINDOW_DAYS 31
#define BATCH 32
/* a previous job this recent is where the technician travels from */
#define PREVIOUS_JOB_USECS (INT64CONST(8) * USECS_PER_HOUR)

typedef struct Policy
{
	double		w[6];			/* travel, skill fit, workload, sla, preferred, rating */
	double		detour;
	double		speed_mps;
	double		max_travel_s;
	int			pool;
	bool		cross_branch;
	int64		horizon;
	int64		ping_fresh;
	Oid			travel_fn;
} Policy;

static const char *const weight_names[6] = {"travel", "skill_fit", "workload", "sla", "preferred", "rating"};

typedef struct Job
{
	int64		tenant_id;
	int64		work_order_id;
	char	   *number;
	bool		has_branch;
	int64		branch_id;
	int64		customer_id;
	double		lat,
				lon;
	Datum		site;			/* geography */
	int			rank;
	int64		duration;		/* usecs */
	TimestampTz due_arrival;	/* DT_NOEND when none */
	TimestampTz due_resolution;
	int			nskills;
	Datum	   *skill_ids;
	Datum	   *min_levels;
	char	  **skill_codes;
	TimestampTz w0,
				w1;
	TimestampTz depart_floor;	/* no travel before this (the window starts now), else DT_NOBEGIN */
	bool		territories;	/* the tenant gives technicians territories */
} Job;

typedef struct Busy
{
	TimestampTz s,
				e;
	bool		has_loc;
	double		lat,
				lon;
	int			rank;			/* priority rank of the booked job; 0 for time off */
	int64		assignment_id;	/* 0 for time off */
	bool		movable;		/* a booking of work not yet started that a bump may end */
} Busy;

typedef struct Cand
{
	int64		id;
	bool		has_cal;
	int64		cal_id;
	double		lat,
				lon;
	const char *position;		/* "ping", "home", "stale ping" */
	bool		has_rating;
	double		rating;
	int		   *levels;
	/* the match */
	TimestampTz start;
	double		travel_s;
	double		dist_m;
	bool		from_previous;
	double		booked_s,
				shift_s;
	double		good[6];
	double		score;
	const char *preferred;		/* NULL, "preferred", "previous technician" */
	int			nbumps;
	int64	   *bumps;
} Cand;

static char *
text_or_null(HeapTuple row, TupleDesc d, int col)
{
	return SPI_getvalue(row, d, col);
}

static double
getf8(HeapTuple row, TupleDesc d, int col, bool *isnull)
{
	Datum		v = SPI_getbinval(row, d, col, isnull);

	return *isnull ? 0 : DatumGetFloat8(v);
}

/* ---------- the work order and its policy ---------- */

static KeptPlan require_plan = {
	"SELECT (womgr._get_work_order($1, $2)).category::text", 2, {INT8OID, INT8OID}
};

static KeptPlan job_plan = {NULL, 2, {INT8OID, INT8OID}};

static void
prepare_job_plan(void)
{
	const char *p;

	if (job_plan.sql != NULL)
		return;
	p = quote_identifier(postgis_schema());
	job_plan.sql = MemoryContextStrdup(TopMemoryContext, psprintf(
		"SELECT w.number, w.branch_id, w.customer_id, %s.st_y(%s.geometry(s.location)), %s.st_x(%s.geometry(s.location)),"
		"       s.location, p.rank, pg_catalog.date_part('epoch', ty.estimated_duration)::float8,"
		"       w.requested_window, s.site_id,"
		"       (SELECT pg_catalog.min(c.due_at) FROM womgr.sla_clock c WHERE c.tenant_id = w.tenant_id"
		"           AND c.work_order_id = w.work_order_id AND c.metric = 'arrival' AND c.state = 'running'),"
		"       (SELECT pg_catalog.min(c.due_at) FROM womgr.sla_clock c WHERE c.tenant_id = w.tenant_id"
		"           AND c.work_order_id = w.work_order_id AND c.metric = 'resolution' AND c.state = 'running'),"
		"       k.ids, k.levels, k.codes, coalesce(b.timezone, te.timezone),"
		"       dp.dispatch_policy_id, dp.w_travel, dp.w_skill_fit, dp.w_workload, dp.w_sla, dp.w_preferred, dp.w_rating,"
		"       dp.detour_factor, dp.speed_kmh, dp.max_travel_minutes, dp.candidate_pool, dp.cross_branch,"
		"       pg_catalog.date_part('epoch', dp.horizon)::float8, pg_catalog.date_part('epoch', dp.ping_fresh)::float8,"
		"       dp.travel_function::oid, w.category::text,"
		"       EXISTS (SELECT 1 FROM womgr.technician_territory tt WHERE tt.tenant_id = w.tenant_id)"
		"  FROM womgr.work_order w"
		"  JOIN womgr.site s ON s.tenant_id = w.tenant_id AND s.site_id = w.site_id"
		"  JOIN womgr.priority p ON p.tenant_id = w.tenant_id AND p.priority_id = w.priority_id"
		"  JOIN womgr.work_order_type ty ON ty.tenant_id = w.tenant_id AND ty.work_order_type_id = w.work_order_type_id"
		"  JOIN womgr.tenant te ON te.tenant_id = w.tenant_id"
		"  LEFT JOIN womgr.branch b ON b.tenant_id = w.tenant_id AND b.branch_id = w.branch_id"
		"  CROSS JOIN LATERAL (SELECT coalesce(pg_catalog.array_agg(ts.skill_id ORDER BY ts.skill_id), '{}') AS ids,"
		"                             coalesce(pg_catalog.array_agg(ts.min_level::int4 ORDER BY ts.skill_id), '{}') AS levels,"
		"                             coalesce(pg_catalog.array_agg(sk.code ORDER BY ts.skill_id), '{}') AS codes"
		"                        FROM womgr.work_order_type_skill ts"
		"                        JOIN womgr.skill sk ON sk.tenant_id = ts.tenant_id AND sk.skill_id = ts.skill_id"
		"                       WHERE ts.tenant_id = w.tenant_id AND ts.work_order_type_id = w.work_order_type_id) k"
		"  LEFT JOIN LATERAL (SELECT * FROM womgr.dispatch_policy d WHERE d.tenant_id = w.tenant_id"
		"                        AND (d.branch_id = w.branch_id OR d.branch_id IS NULL)"
		"                      ORDER BY d.branch_id NULLS LAST LIMIT 1) dp ON true"
		" WHERE w.tenant_id = $1 AND w.work_order_id = $2",
		p, p, p, p));
}

static void
load_job(int64 tenant_id, int64 wo_id, Job *job, Policy *pol, char **tz)
{
	Datum		args[2];
	HeapTuple	row;
	TupleDesc	d;
	bool		isnull;
	char	   *category;
	ArrayType  *arr;

	args[0] = Int64GetDatum(tenant_id);
	args[1] = Int64GetDatum(wo_id);
	prepare_job_plan();
	exec_kept(&job_plan, args, NULL, true, SPI_OK_SELECT);
	if (SPI_processed != 1)
	{
		/* the specific error for an unknown tenant or work order */
		exec_kept(&require_plan, args, NULL, true, SPI_OK_SELECT);
		elog(ERROR, "work order %lld vanished", (long long) wo_id);
	}
	row = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	category = SPI_getvalue(row, d, 32);
	job->territories = DatumGetBool(SPI_getbinval(row, d, 33, &isnull));
	job->tenant_id = tenant_id;
	job->work_order_id = wo_id;
	job->number = text_or_null(row, d, 1);
	if (strcmp(category, "new") != 0 && strcmp(category, "scheduled") != 0 &&
		strcmp(category, "on_hold") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("work order %s is %s", job->number, category),
				 errdetail("Only work orders that are new, scheduled or on hold are dispatched."),
				 errhint("Reopen it first with womgr.transition().")));
	job->branch_id = DatumGetInt64(SPI_getbinval(row, d, 2, &isnull));
	job->has_branch = !isnull;
	job->customer_id = DatumGetInt64(SPI_getbinval(row, d, 3, &isnull));
	job->lat = getf8(row, d, 4, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the site of work order %s has no location", job->number),
				 errdetail("Dispatch measures travel from the technicians to the site."),
				 errhint("Set the site's location with womgr.update_site(tenant, site, '{\"location\": {\"lat\": ..., \"lon\": ...}}').")));
	job->lon = getf8(row, d, 5, &isnull);
	job->site = SPI_datumTransfer(SPI_getbinval(row, d, 6, &isnull), false, -1);
	job->rank = DatumGetInt32(SPI_getbinval(row, d, 7, &isnull));
	job->duration = (int64) (getf8(row, d, 8, &isnull) * USECS_PER_SEC);
	{
		Datum		rw = SPI_getbinval(row, d, 9, &isnull);

		job->w0 = DT_NOBEGIN;
		job->w1 = DT_NOEND;
		if (!isnull)
		{
			RangeType  *r = DatumGetRangeTypeP(rw);
			TypeCacheEntry *tc = lookup_type_cache(RangeTypeGetOid(r), TYPECACHE_RANGE_INFO);
			RangeBound	lo,
						hi;
			bool		empty;

			range_deserialize(tc, r, &lo, &hi, &empty);
			if (!lo.infinite)
				job->w0 = DatumGetTimestampTz(lo.val);
			if (!hi.infinite)
				job->w1 = DatumGetTimestampTz(hi.val);
		}
	}
	{
		Datum		v = SPI_getbinval(row, d, 11, &isnull);

		job->due_arrival = isnull ? DT_NOEND : DatumGetTimestampTz(v);
		v = SPI_getbinval(row, d, 12, &isnull);
		job->due_resolution = isnull ? DT_NOEND : DatumGetTimestampTz(v);
	}
	{
		bool	   *nulls;
		Datum	   *codes;
		int			n;

		arr = DatumGetArrayTypeP(SPI_getbinval(row, d, 13, &isnull));
		deconstruct_array(arr, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &job->skill_ids, &nulls, &job->nskills);
		arr = DatumGetArrayTypeP(SPI_getbinval(row, d, 14, &isnull));
		deconstruct_array(arr, INT4OID, 4, true, TYPALIGN_INT, &job->min_levels, &nulls, &n);
		arr = DatumGetArrayTypeP(SPI_getbinval(row, d, 15, &isnull));
		deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &codes, &nulls, &n);
		job->skill_codes = palloc(sizeof(char *) * Max(n, 1));
		for (int i = 0; i < n; i++)
			job->skill_codes[i] = TextDatumGetCString(codes[i]);
	}
	*tz = text_or_null(row, d, 16);
	(void) SPI_getbinval(row, d, 17, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("tenant %lld has no dispatch policy", (long long) tenant_id),
				 errdetail("Dispatch takes its weights and travel model from womgr.dispatch_policy."),
				 errhint("Create one with womgr.set_dispatch_policy(tenant, NULL, '{}').")));
	for (int i = 0; i < 6; i++)
		pol->w[i] = getf8(row, d, 18 + i, &isnull);
	pol->detour = getf8(row, d, 24, &isnull);
	pol->speed_mps = getf8(row, d, 25, &isnull) / 3.6;
	pol->max_travel_s = getf8(row, d, 26, &isnull) * 60.0;
	pol->pool = DatumGetInt32(SPI_getbinval(row, d, 27, &isnull));
	pol->cross_branch = DatumGetBool(SPI_getbinval(row, d, 28, &isnull));
	pol->horizon = (int64) (getf8(row, d, 29, &isnull) * USECS_PER_SEC);
	pol->ping_fresh = (int64) (getf8(row, d, 30, &isnull) * USECS_PER_SEC);
	pol->travel_fn = DatumGetObjectId(SPI_getbinval(row, d, 31, &isnull));
	if (isnull)
		pol->travel_fn = InvalidOid;
}

/* ---------- candidates, nearest first ---------- */

static KeptPlan cand_plan = {NULL, 8, {INT8OID, INT8OID, InvalidOid, INT8ARRAYOID, INT4ARRAYOID, DATEOID, BOOLOID, FLOAT8OID},
	NULL, CURSOR_OPT_FAST_PLAN};

/* the same, for a short list of technicians ($9) who have a rare required skill */
static KeptPlan set_plan = {NULL, 9, {INT8OID, INT8OID, InvalidOid, INT8ARRAYOID, INT4ARRAYOID, DATEOID, BOOLOID, FLOAT8OID,
	INT8ARRAYOID}};

/*
 * Who may do a kind of job: active, every required skill at its level with a
 * valid certificate, of the branch (or anywhere when other branches or
 * territories count).  When few are, they are the candidates, found by
 * primary key; walking the technicians nearest first would visit many who
 * are not.  The lists are kept per backend and dropped whenever
 * womgr.technician_skill or a technician's branch or activity changes (a
 * statement trigger sends a relcache invalidation).
 */
#define RARE_LIMIT 300
#define QUAL_MAX_SKILLS 8
#define QUAL_SLOTS 1024

typedef struct QualKey
{
	int64		tenant_id;
	int64		branch_id;		/* 0: any branch */
	DateADT		day;
	Oid			userid;
	int64		ctx_tenant;
	int			nskills;
	int64		skills[QUAL_MAX_SKILLS];
	int32		levels[QUAL_MAX_SKILLS];
} QualKey;

typedef struct Qual
{
	QualKey		key;
	int			n;				/* -1: more than RARE_LIMIT */
	Datum		ids;			/* int8[] in qual_cxt */
} Qual;

static MemoryContext qual_cxt = NULL;
static Qual *quals = NULL;
static int	nquals = 0;
static Oid	qual_relids[2] = {InvalidOid, InvalidOid};

static void
qual_reset(Datum arg, Oid relid)
{
	if (relid != InvalidOid && relid != qual_relids[0] && relid != qual_relids[1])
		return;
	if (qual_cxt != NULL)
		MemoryContextReset(qual_cxt);
	quals = NULL;
	nquals = 0;
	qual_relids[0] = qual_relids[1] = InvalidOid;
}

void
DispatchInit(void)
{
	CacheRegisterRelcacheCallback(qual_reset, (Datum) 0);
}

static KeptPlan qual_plan = {
	"SELECT t.technician_id FROM womgr.technician t"
	" WHERE t.tenant_id = $1 AND t.active AND ($2 = 0 OR t.home_branch_id = $2)"
	"   AND NOT EXISTS (SELECT 1 FROM ROWS FROM (pg_catalog.unnest($3), pg_catalog.unnest($4)) AS r(skill_id, min_level)"
	"                    WHERE NOT EXISTS (SELECT 1 FROM womgr.technician_skill ts"
	"                                       WHERE ts.tenant_id = $1 AND ts.technician_id = t.technician_id"
	"                                         AND ts.skill_id = r.skill_id AND ts.level >= r.min_level"
	"                                         AND (ts.certified_until IS NULL OR ts.certified_until >= $5)))"
	" LIMIT $6",
	6, {INT8OID, INT8OID, INT8ARRAYOID, INT4ARRAYOID, DATEOID, INT4OID}
};

/* The qualified technicians when there are at most RARE_LIMIT, else NULL. */
static Qual *
qualified(const Job *job, const Policy *pol, DateADT day, Datum skill_arr, Datum level_arr)
{
	QualKey		key;
	Qual	   *q;
	Datum		args[6];

	if (job->nskills == 0 || job->nskills > QUAL_MAX_SKILLS)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.tenant_id = job->tenant_id;
	key.branch_id = (job->has_branch && !pol->cross_branch && !job->territories) ? job->branch_id : 0;
	key.day = day;
	key.userid = GetUserId();
	if (!womgr_context_tenant(&key.ctx_tenant))
		key.ctx_tenant = 0;
	key.nskills = job->nskills;
	for (int k = 0; k < job->nskills; k++)
	{
		key.skills[k] = DatumGetInt64(job->skill_ids[k]);
		key.levels[k] = DatumGetInt32(job->min_levels[k]);
	}
	for (int i = 0; i < nquals; i++)
		if (memcmp(&quals[i].key, &key, sizeof(key)) == 0)
			return quals[i].n < 0 ? NULL : &quals[i];

	if (qual_cxt == NULL)
		qual_cxt = AllocSetContextCreate(CacheMemoryContext, "womgr qualified technicians", ALLOCSET_DEFAULT_SIZES);
	if (quals == NULL || nquals == QUAL_SLOTS)
	{
		MemoryContextReset(qual_cxt);
		quals = MemoryContextAllocZero(qual_cxt, sizeof(Qual) * QUAL_SLOTS);
		nquals = 0;
	}
	if (!OidIsValid(qual_relids[0]))
	{
		Oid			nsp = get_namespace_oid("womgr", false);

		qual_relids[0] = get_relname_relid("technician_skill", nsp);
		qual_relids[1] = get_relname_relid("technician", nsp);
	}
	args[0] = Int64GetDatum(key.tenant_id);
	args[1] = Int64GetDatum(key.branch_id);
	args[2] = skill_arr;
	args[3] = level_arr;
	args[4] = DateADTGetDatum(day);
	args[5] = Int32GetDatum(RARE_LIMIT + 1);
	exec_kept(&qual_plan, args, NULL, true, SPI_OK_SELECT);
	q = &quals[nquals++];
	q->key = key;
	q->n = SPI_processed > RARE_LIMIT ? -1 : (int) SPI_processed;
	if (q->n >= 0)
	{
		MemoryContext old = MemoryContextSwitchTo(qual_cxt);
		Datum	   *ids = palloc(sizeof(Datum) * Max(q->n, 1));
		bool		isnull;

		for (int r = 0; r < q->n; r++)
			ids[r] = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull);
		q->ids = PointerGetDatum(construct_array(ids, q->n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		MemoryContextSwitchTo(old);
	}
	return q->n < 0 ? NULL : q;
}

/*
 * The candidates with the filters a user would write: cand_plan nearest
 * first within the distance (read a few rows at a time), set_plan for a
 * short list by primary key, sorted by the distance itself.
 */
static char *
cand_sql(const char *p, bool short_list)
{
	return MemoryContextStrdup(TopMemoryContext, psprintf(
		"SELECT t.technician_id, coalesce(t.calendar_id, b.calendar_id),"
		"       %s.st_y(%s.geometry(t.home_location)), %s.st_x(%s.geometry(t.home_location)),"
		"       %s.st_y(%s.geometry(t.last_location)), %s.st_x(%s.geometry(t.last_location)), t.last_location_at,"
		"       t.rating::float8"
		"  FROM womgr.technician t"
		"  JOIN womgr.branch b ON b.tenant_id = t.tenant_id AND b.branch_id = t.home_branch_id"
		" WHERE t.tenant_id = $1 AND t.active"
		"   AND %s"
		"   AND NOT EXISTS (SELECT 1 FROM ROWS FROM (pg_catalog.unnest($4), pg_catalog.unnest($5)) AS r(skill_id, min_level)"
		"                    WHERE NOT EXISTS (SELECT 1 FROM womgr.technician_skill ts"
		"                                       WHERE ts.tenant_id = $1 AND ts.technician_id = t.technician_id"
		"                                         AND ts.skill_id = r.skill_id AND ts.level >= r.min_level"
		"                                         AND (ts.certified_until IS NULL OR ts.certified_until >= $6)))"
		"   AND ($2 IS NULL OR $7 OR t.home_branch_id = $2"
		"        OR EXISTS (SELECT 1 FROM womgr.technician_territory tt"
		"                     JOIN womgr.territory te ON te.tenant_id = tt.tenant_id AND te.territory_id = tt.territory_id"
		"                    WHERE tt.tenant_id = $1 AND tt.technician_id = t.technician_id AND %s.st_covers(te.area, $3)))"
		" ORDER BY %s",
		p, p, p, p, p, p, p, p,
		short_list ? "t.technician_id = ANY ($9) AND $8 IS NOT NULL" :
		psprintf("%s.st_dwithin(coalesce(t.last_location, t.home_location), $3, $8, false)", p),
		p,
		short_list ? psprintf("%s.st_distance(coalesce(t.last_location, t.home_location), $3, false)", p) :
		psprintf("coalesce(t.last_location, t.home_location) OPERATOR(%s.<->) $3", p)));
}

static void
prepare_cand_plan(void)
{
	const char *p;

	if (cand_plan.sql != NULL)
		return;
	p = quote_identifier(postgis_schema());
	cand_plan.argtypes[2] = set_plan.argtypes[2] = geography_type();
	cand_plan.sql = cand_sql(p, false);
	set_plan.sql = cand_sql(p, true);
}

/* the levels of the pool's technicians in the required skills */
static KeptPlan levels_plan = {
	"SELECT ts.technician_id, ts.skill_id, ts.level::int4 FROM womgr.technician_skill ts"
	" WHERE ts.tenant_id = $1 AND ts.technician_id = ANY ($2) AND ts.skill_id = ANY ($3)",
	3, {INT8OID, INT8ARRAYOID, INT8ARRAYOID}
};

static KeptPlan busy_plan = {NULL, 6, {INT8OID, INT8ARRAYOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT8OID, TIMESTAMPTZOID}};

static void
prepare_busy_plan(void)
{
	const char *p;

	if (busy_plan.sql != NULL)
		return;
	p = quote_identifier(postgis_schema());
	busy_plan.sql = MemoryContextStrdup(TopMemoryContext, psprintf(
		"SELECT x.tid, pg_catalog.lower(k.busy), pg_catalog.upper(k.busy), k.lat, k.lon, k.rank, k.assignment_id, k.movable"
		"  FROM pg_catalog.unnest($2) AS x(tid)"
		"  CROSS JOIN LATERAL ("
		"        SELECT womgr._busy(a.booked, a.travel_s) AS busy,"
		"               %s.st_y(%s.geometry(s.location)) AS lat, %s.st_x(%s.geometry(s.location)) AS lon,"
		"               p.rank, a.assignment_id,"
		"               w.category IN ('new', 'scheduled') AND pg_catalog.lower(womgr._busy(a.booked, a.travel_s)) > $6 AS movable"
		"          FROM womgr.assignment a"
		"          JOIN womgr.work_order w ON w.tenant_id = a.tenant_id AND w.work_order_id = a.work_order_id"
		"          JOIN womgr.priority p ON p.tenant_id = w.tenant_id AND p.priority_id = w.priority_id"
		"          JOIN womgr.site s ON s.tenant_id = w.tenant_id AND s.site_id = w.site_id"
		"         WHERE a.tenant_id = $1 AND a.technician_id = x.tid AND a.ended_at IS NULL AND a.booked IS NOT NULL"
		"           AND womgr._busy(a.booked, a.travel_s) OPERATOR(pg_catalog.&&) pg_catalog.tstzrange($3, $4)"
		"           AND a.work_order_id <> $5"
		"        UNION ALL"
		"        SELECT o.period, NULL, NULL, 0, NULL, false"
		"          FROM womgr.technician_time_off o"
		"         WHERE o.tenant_id = $1 AND o.technician_id = x.tid"
		"           AND o.period OPERATOR(pg_catalog.&&) pg_catalog.tstzrange($3, $4)) k"
		" ORDER BY 1, 2",
		p, p, p, p));
}

static KeptPlan known_plan = {
	"SELECT p.technician_id, true FROM womgr.preferred_technician p WHERE p.tenant_id = $1 AND p.customer_id = $2"
	" UNION ALL "
	"SELECT DISTINCT a.technician_id, false FROM womgr.work_order w"
	"  JOIN womgr.assignment a ON a.tenant_id = w.tenant_id AND a.work_order_id = w.work_order_id"
	"   AND a.technician_id IS NOT NULL"
	" WHERE w.tenant_id = $1 AND w.customer_id = $2 AND w.category IN ('completed', 'closed')",
	2, {INT8OID, INT8OID}
};

static inline double
clamp01(double x)
{
	return x < 0 ? 0 : (x > 1 ? 1 : x);
}

/* Travel seconds from (lat, lon) to the site: the straight-line model or the policy's hook. */
static double
travel_seconds(const Policy *pol, const Job *job, double lat, double lon, double *dist_m)
{
	*dist_m = geo_great_circle_m(lat, lon, job->lat, job->lon);
	if (OidIsValid(pol->travel_fn))
	{
		Datum		from = geo_point(lat, lon);
		LOCAL_FCINFO(fcinfo, 2);
		Datum		r;
		FmgrInfo	fl;

		fmgr_info(pol->travel_fn, &fl);
		InitFunctionCallInfoData(*fcinfo, &fl, 2, InvalidOid, NULL, NULL);
		fcinfo->args[0].value = from;
		fcinfo->args[0].isnull = false;
		fcinfo->args[1].value = job->site;
		fcinfo->args[1].isnull = false;
		r = FunctionCallInvoke(fcinfo);
		if (fcinfo->isnull)
			return INFINITY;	/* the road graph cannot reach the site */
		if (isnan(DatumGetFloat8(r)) || DatumGetFloat8(r) < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("travel function %s returned %g minutes", format_procedure(pol->travel_fn),
							DatumGetFloat8(r)),
					 errdetail("A travel function returns the road travel time in minutes, zero or more, or NULL when unreachable."),
					 errhint("Fix the function or clear it with womgr.set_dispatch_policy(tenant, branch, '{\"travel_function\": null}').")));
		return DatumGetFloat8(r) * 60.0;
	}
	return *dist_m * pol->detour / pol->speed_mps;
}

static inline bool
is_bumpable(const Busy *b, int bump_rank)
{
	return bump_rank >= 0 && b->assignment_id != 0 && b->movable && b->rank > bump_rank;
}

/*
 * The earliest start in the shift spans for a job, ignoring the bookings
 * that may be bumped when bump_rank is set.  The job [s, s + duration)
 * lies in the window; the busy time [s - travel, s + duration) in one free
 * stretch of a span, departing no earlier than the window's departure floor.
 */
static bool
earliest(const Policy *pol, const Job *job, const Cand *c, const Busy *busy, int nbusy, const TimestampTz *spans,
		 int nspans, int bump_rank, TimestampTz *start, double *travel_s, double *dist_m, bool *from_previous)
{
	for (int k = 0; k < nspans; k++)
	{
		TimestampTz a = spans[2 * k],
					b = Min(spans[2 * k + 1], job->w1);
		TimestampTz t = Max(a, job->depart_floor);
		double		flat = c->lat,
					flon = c->lon;
		bool		prev = false;
		int			i = 0;

		if (t >= b)
			continue;
		/* the last job that ended recently before the stretch: travel starts there */
		for (int j = 0; j < nbusy; j++)
			if (busy[j].has_loc && busy[j].e <= t && busy[j].e > t - PREVIOUS_JOB_USECS && !is_bumpable(&busy[j], bump_rank))
			{
				flat = busy[j].lat;
				flon = busy[j].lon;
				prev = true;
			}
		while (t < b)
		{
			TimestampTz gap_end = b;
			int			next = -1;

			for (int j = i; j < nbusy; j++)
			{
				if (is_bumpable(&busy[j], bump_rank) || busy[j].e <= t)
					continue;
				next = j;
				break;
			}
			if (next >= 0 && busy[next].s < gap_end)
				gap_end = Max(busy[next].s, t);
			if (gap_end > t)
			{
				double		dist;
				double		tr = travel_seconds(pol, job, flat, flon, &dist);

				if (tr <= pol->max_travel_s)
				{
					TimestampTz s = Max(t + (int64) ceil(tr) * USECS_PER_SEC, job->w0);

					if (s + job->duration <= gap_end)
					{
						*start = s;
						*travel_s = ceil(tr);
						*dist_m = dist;
						*from_previous = prev;
						return true;
					}
				}
			}
			if (next < 0 || busy[next].s >= b)
				break;
			t = Max(t, busy[next].e);
			if (busy[next].has_loc)
			{
				flat = busy[next].lat;
				flon = busy[next].lon;
				prev = true;
			}
			i = next + 1;
		}
	}
	return false;
}

/*
 * Candidate c's earliest start: busy[] holds its bookings and time off
 * (sorted by start), spans[] its shift time from the departure floor to the
 * window's end.  With bump_rank set, bumping lower-priority bookings that
 * have not started is used only when it gives an earlier start.
 */
static bool
find_slot(const Policy *pol, const Job *job, Cand *c, Busy *busy, int nbusy, TimestampTz *spans, int nspans,
		  int bump_rank)
{
	bool		found;

	c->shift_s = 0;
	c->booked_s = 0;
	for (int k = 0; k < nspans; k++)
	{
		TimestampTz a = Max(spans[2 * k], job->w0),
					b = Min(spans[2 * k + 1], job->w1);

		if (b <= a)
			continue;
		c->shift_s += (double) (b - a) / USECS_PER_SEC;
		for (int i = 0; i < nbusy; i++)
			if (busy[i].e > a && busy[i].s < b)
				c->booked_s += (double) (Min(b, busy[i].e) - Max(a, busy[i].s)) / USECS_PER_SEC;
	}
	found = earliest(pol, job, c, busy, nbusy, spans, nspans, -1, &c->start, &c->travel_s, &c->dist_m,
					 &c->from_previous);
	if (bump_rank >= 0)
	{
		TimestampTz s;
		double		tr,
					dist;
		bool		prev;

		if (earliest(pol, job, c, busy, nbusy, spans, nspans, bump_rank, &s, &tr, &dist, &prev) &&
			(!found || s < c->start))
		{
			TimestampTz s0 = s - (int64) tr * USECS_PER_SEC,
						s1 = s + job->duration;

			found = true;
			c->start = s;
			c->travel_s = tr;
			c->dist_m = dist;
			c->from_previous = prev;
			c->bumps = palloc(sizeof(int64) * Max(nbusy, 1));
			for (int j = 0; j < nbusy; j++)
				if (is_bumpable(&busy[j], bump_rank) && busy[j].s < s1 && busy[j].e > s0)
					c->bumps[c->nbumps++] = busy[j].assignment_id;
		}
	}
	return found;
}

static void
score(const Policy *pol, const Job *job, Cand *c, TimestampTz now)
{
	double		over = 0,
				wsum = 0,
				total = 0;

	c->good[0] = 1.0 - clamp01(c->travel_s / pol->max_travel_s);
	for (int i = 0; i < job->nskills; i++)
		over += (c->levels[i] - DatumGetInt32(job->min_levels[i])) / 4.0;
	c->good[1] = job->nskills > 0 ? 1.0 - clamp01(over / job->nskills) : 1.0;
	c->good[2] = c->shift_s > 0 ? 1.0 - clamp01(c->booked_s / c->shift_s) : 0.0;
	c->good[3] = 1.0;
	if (job->due_arrival != DT_NOEND)
		c->good[3] = job->due_arrival <= now ? 0.0 :
			clamp01((double) (job->due_arrival - c->start) / (double) (job->due_arrival - now));
	if (job->due_resolution != DT_NOEND)
	{
		double		g = job->due_resolution <= now ? 0.0 :
			clamp01((double) (job->due_resolution - (c->start + job->duration)) / (double) (job->due_resolution - now));

		c->good[3] = Min(c->good[3], g);
	}
	c->good[4] = c->preferred != NULL ? 1.0 : 0.0;
	c->good[5] = c->has_rating ? clamp01((c->rating - 1.0) / 4.0) : 0.5;
	for (int i = 0; i < 6; i++)
	{
		wsum += pol->w[i];
		total += pol->w[i] * c->good[i];
	}
	c->score = total / wsum;
}

static int
cmp_cand(const void *a, const void *b)
{
	const Cand *x = *(Cand *const *) a;
	const Cand *y = *(Cand *const *) b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	if (x->travel_s != y->travel_s)
		return x->travel_s < y->travel_s ? -1 : 1;
	return x->id < y->id ? -1 : (x->id > y->id ? 1 : 0);
}

static char *
ts_text(TimestampTz t)
{
	return DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(t)));
}

static Jsonb *
reasons(const Policy *pol, const Job *job, Cand *c)
{
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfo(&s, "{\"start_at\": \"%s\", \"position\": \"%s\", \"travel_from\": \"%s\"",
					 ts_text(c->start), c->position, c->from_previous ? "previous job" : "position");
	for (int i = 0; i < 6; i++)
	{
		appendStringInfo(&s, ", \"%s\": {\"value\": %.4f, \"weight\": %.4f, \"points\": %.4f",
						 weight_names[i], c->good[i], pol->w[i], pol->w[i] * c->good[i]);
		switch (i)
		{
			case 0:
				appendStringInfo(&s, ", \"minutes\": %.1f, \"distance_m\": %.0f", c->travel_s / 60.0, c->dist_m);
				break;
			case 1:
				appendStringInfoString(&s, ", \"skills\": [");
				for (int k = 0; k < job->nskills; k++)
				{
					appendStringInfo(&s, "%s{\"skill\": ", k ? ", " : "");
					escape_json(&s, job->skill_codes[k]);
					appendStringInfo(&s, ", \"level\": %d, \"min_level\": %d}", c->levels[k],
									 DatumGetInt32(job->min_levels[k]));
				}
				appendStringInfoChar(&s, ']');
				break;
			case 2:
				appendStringInfo(&s, ", \"booked_minutes\": %.0f, \"shift_minutes\": %.0f", c->booked_s / 60.0,
								 c->shift_s / 60.0);
				break;
			case 3:
				if (job->due_resolution != DT_NOEND)
					appendStringInfo(&s, ", \"resolution_due_at\": \"%s\"", ts_text(job->due_resolution));
				if (job->due_arrival != DT_NOEND)
					appendStringInfo(&s, ", \"arrival_due_at\": \"%s\"", ts_text(job->due_arrival));
				break;
			case 4:
				if (c->preferred != NULL)
					appendStringInfo(&s, ", \"why\": \"%s\"", c->preferred);
				break;
			case 5:
				if (c->has_rating)
					appendStringInfo(&s, ", \"rating\": %.2f", c->rating);
				break;
		}
		appendStringInfoChar(&s, '}');
	}
	if (c->nbumps > 0)
	{
		appendStringInfoString(&s, ", \"bumps\": [");
		for (int k = 0; k < c->nbumps; k++)
			appendStringInfo(&s, "%s%lld", k ? ", " : "", (long long) c->bumps[k]);
		appendStringInfoChar(&s, ']');
	}
	appendStringInfoChar(&s, '}');
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data)));
}

/* ---------- the window ---------- */

static void
resolve_window(FunctionCallInfo fcinfo, int argno, Job *job, const Policy *pol, TimestampTz now)
{
	TimestampTz w0 = job->w0,
				w1 = job->w1;

	if (!PG_ARGISNULL(argno))
	{
		RangeType  *r = PG_GETARG_RANGE_P(argno);
		TypeCacheEntry *tc = lookup_type_cache(RangeTypeGetOid(r), TYPECACHE_RANGE_INFO);
		RangeBound	lo,
					hi;
		bool		empty;

		range_deserialize(tc, r, &lo, &hi, &empty);
		if (empty)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the dispatch window is empty"),
					 errdetail("Technicians are matched for a time inside the window."),
					 errhint("Pass a range such as tstzrange(now(), now() + interval '8 hours'), or NULL for the work order's requested window.")));
		w0 = lo.infinite ? DT_NOBEGIN : DatumGetTimestampTz(lo.val);
		w1 = hi.infinite ? DT_NOEND : DatumGetTimestampTz(hi.val);
	}
	job->depart_floor = DT_NOBEGIN;
	if (TIMESTAMP_NOT_FINITE(w0))
	{
		/* from now: nobody can have left already */
		w0 = now;
		job->depart_floor = now;
	}
	if (TIMESTAMP_NOT_FINITE(w1))
		w1 = w0 + pol->horizon;
	if (w1 <= w0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the dispatch window ends before it starts"),
				 errdetail("It runs from %s to %s.", ts_text(w0), ts_text(w1)),
				 errhint("Pass a window that ends after it starts.")));
	if (w1 - w0 > MAX_WINDOW_DAYS * USECS_PER_DAY)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the dispatch window is longer than %d days", MAX_WINDOW_DAYS),
				 errdetail("It runs from %s to %s.", ts_text(w0), ts_text(w1)),
				 errhint("Dispatch a shorter window, e.g. one day.")));
	job->w0 = w0;
	job->w1 = w1;
}

/* ---------- the SQL function ---------- */

PG_FUNCTION_INFO_V1(womgr_dispatch_candidates);
Datum
womgr_dispatch_candidates(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		tenant_id,
				wo_id;
	int			limit,
				bump_rank;
	Job			job;
	Policy		pol;
	char	   *tz;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	int			spi;
	Portal		portal;
	Cand	  **pool;
	int			npool = 0,
				poolmax;
	double		max_dist;
	bool		done = false;
	DateADT		cert_day;
	TimestampTz span_from;
	TimestampTz fresh_after;
	HTAB	   *known = NULL;
	MemoryContext callcxt = CurrentMemoryContext;

	bump_rank = PG_ARGISNULL(4) ? -1 : PG_GETARG_INT32(4);	/* -1: no bumping */
	/* as of when: now, or the time a planner or a replay acts; nobody leaves before it */
	if (!PG_ARGISNULL(5))
		now = PG_GETARG_TIMESTAMPTZ(5);
	tenant_id = PG_ARGISNULL(0) ? 0 : PG_GETARG_INT64(0);
	wo_id = PG_ARGISNULL(1) ? 0 : PG_GETARG_INT64(1);

	InitMaterializedSRF(fcinfo, 0);
	memset(&job, 0, sizeof(job));
	spi = spi_begin();
	/* short statements read a few rows: compiling them would cost more than running them */
	(void) set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	/*
	 * Planning these statements costs more than running them (the PostGIS
	 * calls and subqueries); their generic plans walk the same indexes, so
	 * plan once per backend.
	 */
	(void) set_config_option("plan_cache_mode", "force_generic_plan", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
	{
		Datum		args[2] = {Int64GetDatum(tenant_id), Int64GetDatum(wo_id)};
		char		nulls[2] = {PG_ARGISNULL(0) ? 'n' : ' ', PG_ARGISNULL(1) ? 'n' : ' '};

		exec_kept(&require_plan, args, nulls, true, SPI_OK_SELECT);	/* raises */
	}
	if (PG_ARGISNULL(2) || PG_GETARG_INT32(2) < 1 || PG_GETARG_INT32(2) > MAX_LIMIT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("limit must be between 1 and %d", MAX_LIMIT),
				 errdetail("It is %s.", PG_ARGISNULL(2) ? "null" : psprintf("%d", PG_GETARG_INT32(2))),
				 errhint("Ask for the best few, e.g. 10.")));
	limit = PG_GETARG_INT32(2);
	load_job(tenant_id, wo_id, &job, &pol, &tz);
	resolve_window(fcinfo, 3, &job, &pol, now);
	if (!PG_ARGISNULL(5))
		job.depart_floor = Max(job.depart_floor, now);
	poolmax = Max(limit, pol.pool);
	if (job.w1 - job.w0 < job.duration)
	{
		/* the job does not fit in the window: nobody can do it */
		spi_end(spi);
		return (Datum) 0;
	}
	fresh_after = Max(now, job.w0) - pol.ping_fresh;
	/* the drive may start before the window opens */
	span_from = Max(job.w0 - (int64) ceil(pol.max_travel_s) * USECS_PER_SEC, job.depart_floor);
	pool = palloc(sizeof(Cand *) * poolmax);
	/* straight-line distance beyond which travel exceeds the policy's limit */
	max_dist = pol.max_travel_s * pol.speed_mps / pol.detour;
	/* a certification is valid on the day the window starts, in the branch's time zone */
	cert_day = DatumGetDateADT(DirectFunctionCall1(timestamp_date,
												   DirectFunctionCall2(timestamptz_zone, CStringGetTextDatum(tz),
																	   TimestampTzGetDatum(job.w0))));

	/* preferred and previous technicians of the customer */
	{
		Datum		args[2] = {Int64GetDatum(tenant_id), Int64GetDatum(job.customer_id)};
		HASHCTL		ctl;

		exec_kept(&known_plan, args, NULL, true, SPI_OK_SELECT);
		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(int64);
		ctl.entrysize = sizeof(int64) + sizeof(bool);
		ctl.hcxt = callcxt;
		known = hash_create("womgr known technicians", 16, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			bool		isnull;
			int64		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
			bool		pref = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
			bool		found;
			char	   *e = hash_search(known, &id, HASH_ENTER, &found);

			if (!found || pref)
				*(bool *) (e + sizeof(int64)) = pref;
		}
	}

	prepare_cand_plan();
	{
		Datum		args[9];
		char		nulls[9] = {' ', job.has_branch ? ' ' : 'n', ' ', ' ', ' ', ' ', ' ', ' ', ' '};

		args[0] = Int64GetDatum(tenant_id);
		args[1] = Int64GetDatum(job.branch_id);
		args[2] = job.site;
		args[3] = PointerGetDatum(construct_array(job.skill_ids, job.nskills, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		args[4] = PointerGetDatum(construct_array(job.min_levels, job.nskills, INT4OID, 4, true, TYPALIGN_INT));
		args[5] = DateADTGetDatum(cert_day);
		args[6] = BoolGetDatum(pol.cross_branch);
		/* with a travel function the straight line says nothing: no cut-off */
		args[7] = Float8GetDatum(OidIsValid(pol.travel_fn) ? 4.1e7 : max_dist * 1.01);
		args[8] = (Datum) 0;
		/* few qualified technicians: they are the candidates */
		{
			Qual	   *q = qualified(&job, &pol, cert_day, args[3], args[4]);

			if (q != NULL && q->n == 0)
				done = true;		/* nobody at all */
			if (q != NULL)		/* a copy: an invalidation may drop the list */
				args[8] = datumCopy(q->ids, false, -1);
		}
		if (args[8] != (Datum) 0)
			portal = SPI_cursor_open(NULL, kept_plan(&set_plan), args, nulls, true);
		else
			portal = SPI_cursor_open(NULL, kept_plan(&cand_plan), args, nulls, true);
	}

	while (!done)
	{
		int			n;
		Cand	   *batch;
		Datum	   *ids;

		CHECK_FOR_INTERRUPTS();
		/* no more rows than the pool may still take, but not row by row */
		SPI_cursor_fetch(portal, true, Min(BATCH, Max(poolmax - npool, 8)));
		n = (int) SPI_processed;
		if (n == 0)
			break;
		batch = MemoryContextAllocZero(callcxt, sizeof(Cand) * n);
		ids = MemoryContextAlloc(callcxt, sizeof(Datum) * n);
		{
			MemoryContext old = MemoryContextSwitchTo(callcxt);
			int			m = 0;

			for (int i = 0; i < n; i++)
			{
				HeapTuple	row = SPI_tuptable->vals[i];
				TupleDesc	d = SPI_tuptable->tupdesc;
				bool		isnull,
							hnull,
							pnull;
				Cand	   *c = &batch[m];
				double		hlat = getf8(row, d, 3, &hnull),
							hlon = getf8(row, d, 4, &hnull),
							plat = getf8(row, d, 5, &pnull),
							plon = getf8(row, d, 6, &pnull);
				Datum		at = SPI_getbinval(row, d, 7, &isnull);
				double		idx_lat,
							idx_lon;

				if (hnull && pnull)
				{
					done = true;	/* no position: they sort last */
					break;
				}
				idx_lat = pnull ? hlat : plat;
				idx_lon = pnull ? hlon : plon;
				if (geo_great_circle_m(idx_lat, idx_lon, job.lat, job.lon) > max_dist * 1.01 &&
					!OidIsValid(pol.travel_fn))
				{
					done = true;	/* everyone further is too far */
					break;
				}
				c->id = DatumGetInt64(SPI_getbinval(row, d, 1, &isnull));
				c->cal_id = DatumGetInt64(SPI_getbinval(row, d, 2, &isnull));
				c->has_cal = !isnull;
				/* a ping is fresh when it is recent at the window's start (a plan for tomorrow starts from home) */
				if (!pnull && (DatumGetTimestampTz(at) >= fresh_after || hnull))
				{
					c->lat = plat;
					c->lon = plon;
					c->position = DatumGetTimestampTz(at) >= fresh_after ? "ping" : "stale ping";
				}
				else
				{
					c->lat = hlat;
					c->lon = hlon;
					c->position = "home";
				}
				c->rating = getf8(row, d, 8, &isnull);
				c->has_rating = !isnull;
				c->levels = palloc0(sizeof(int) * Max(job.nskills, 1));
				ids[m++] = Int64GetDatum(c->id);
			}
			n = m;
			MemoryContextSwitchTo(old);
		}
		if (n == 0)
			break;

		/* their bookings and time off, from a while before the window for where they come from */
		{
			Datum		args[6];
			Busy	   *busy;
			int			nb;
			int			j = 0;

			args[0] = Int64GetDatum(tenant_id);
			args[1] = PointerGetDatum(construct_array(ids, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
			args[2] = TimestampTzGetDatum(span_from - PREVIOUS_JOB_USECS);
			args[3] = TimestampTzGetDatum(job.w1);
			args[4] = Int64GetDatum(wo_id);
			args[5] = TimestampTzGetDatum(now);
			prepare_busy_plan();
			exec_kept(&busy_plan, args, NULL, true, SPI_OK_SELECT);
			nb = (int) SPI_processed;
			busy = MemoryContextAllocZero(callcxt, sizeof(Busy) * Max(nb, 1));
			{
				int64	   *owner = MemoryContextAlloc(callcxt, sizeof(int64) * Max(nb, 1));

				for (int i = 0; i < nb; i++)
				{
					HeapTuple	row = SPI_tuptable->vals[i];
					TupleDesc	d = SPI_tuptable->tupdesc;
					bool		isnull;

					owner[i] = DatumGetInt64(SPI_getbinval(row, d, 1, &isnull));
					busy[i].s = DatumGetTimestampTz(SPI_getbinval(row, d, 2, &isnull));
					busy[i].e = DatumGetTimestampTz(SPI_getbinval(row, d, 3, &isnull));
					busy[i].lat = getf8(row, d, 4, &isnull);
					busy[i].has_loc = !isnull;
					busy[i].lon = getf8(row, d, 5, &isnull);
					busy[i].rank = DatumGetInt32(SPI_getbinval(row, d, 6, &isnull));
					{
						Datum		v = SPI_getbinval(row, d, 7, &isnull);

						busy[i].assignment_id = isnull ? 0 : DatumGetInt64(v);
						v = SPI_getbinval(row, d, 8, &isnull);
						busy[i].movable = !isnull && DatumGetBool(v);
					}
				}
				/* in the order of the batch (KNN order) */
				for (int i = 0; i < n && npool < poolmax; i++)
				{
					Cand	   *c = &batch[i];
					int			from = 0,
								cnt = 0;
					TimestampTz *spans;
					int			nspans;

					for (j = 0; j < nb; j++)
						if (owner[j] == c->id)
						{
							if (cnt == 0)
								from = j;
							cnt++;
						}
					if (c->has_cal)
						nspans = calendar_working_spans(tenant_id, c->cal_id, span_from, job.w1, &spans);
					else
					{
						spans = palloc(sizeof(TimestampTz) * 2);
						spans[0] = span_from;
						spans[1] = job.w1;
						nspans = 1;
					}
					if (!find_slot(&pol, &job, c, busy + from, cnt, spans, nspans, bump_rank))
						continue;
					{
						char	   *e = hash_search(known, &c->id, HASH_FIND, NULL);

						c->preferred = e == NULL ? NULL :
							(*(bool *) (e + sizeof(int64)) ? "preferred" : "previous technician");
					}
					pool[npool++] = c;
				}
			}
		}
		if (npool >= poolmax)
			done = true;
	}
	SPI_cursor_close(portal);

	/* the pool's levels in the required skills, then the scores */
	if (npool > 0 && job.nskills > 0)
	{
		Datum	   *pids = palloc(sizeof(Datum) * npool);
		Datum		args[3];

		for (int i = 0; i < npool; i++)
			pids[i] = Int64GetDatum(pool[i]->id);
		args[0] = Int64GetDatum(tenant_id);
		args[1] = PointerGetDatum(construct_array(pids, npool, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		args[2] = PointerGetDatum(construct_array(job.skill_ids, job.nskills, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		exec_kept(&levels_plan, args, NULL, true, SPI_OK_SELECT);
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			bool		isnull;
			int64		tid = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
			int64		sid = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &isnull));
			int			lv = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 3, &isnull));

			for (int i = 0; i < npool; i++)
				if (pool[i]->id == tid)
					for (int k = 0; k < job.nskills; k++)
						if (DatumGetInt64(job.skill_ids[k]) == sid)
							pool[i]->levels[k] = lv;
		}
	}
	for (int i = 0; i < npool; i++)
		score(&pol, &job, pool[i], now);

	qsort(pool, npool, sizeof(Cand *), cmp_cand);
	for (int i = 0; i < npool && i < limit; i++)
	{
		Cand	   *c = pool[i];
		Datum		values[11];
		bool		nulls[11] = {false};

		values[0] = Int64GetDatum(c->id);
		values[1] = Int32GetDatum(i + 1);
		values[2] = Float8GetDatum(c->score);
		values[3] = Float8GetDatum(c->dist_m);
		values[4] = Float8GetDatum(c->travel_s / 60.0);
		values[5] = Float8GetDatum(c->good[1]);
		values[6] = Float8GetDatum(c->shift_s > 0 ? clamp01(c->booked_s / c->shift_s) : 1.0);
		values[7] = JsonbPGetDatum(reasons(&pol, &job, c));
		values[8] = TimestampTzGetDatum(c->start);
		values[9] = Int32GetDatum((int32) c->travel_s);
		{
			Datum	   *b = palloc(sizeof(Datum) * Max(c->nbumps, 1));

			for (int k = 0; k < c->nbumps; k++)
				b[k] = Int64GetDatum(c->bumps[k]);
			values[10] = PointerGetDatum(construct_array(b, c->nbumps, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	spi_end(spi);
	return (Datum) 0;
}

/*
 * womgr._busy(booked, travel_s): the time a booking keeps a technician
 * busy, the booked range started earlier by the travel.  In C so the
 * exclusion constraint and the dispatch queries evaluate it cheaply (an SQL
 * version is not inlined: timestamptz - interval is only stable).
 */
PG_FUNCTION_INFO_V1(womgr_busy);
Datum
womgr_busy(PG_FUNCTION_ARGS)
{
	RangeType  *r = PG_GETARG_RANGE_P(0);
	int32		travel = PG_GETARG_INT32(1);
	TypeCacheEntry *tc = lookup_type_cache(RangeTypeGetOid(r), TYPECACHE_RANGE_INFO);
	RangeBound	lo,
				hi;
	bool		empty;

	range_deserialize(tc, r, &lo, &hi, &empty);
	if (empty || lo.infinite || travel == 0)
		PG_RETURN_RANGE_P(r);
	lo.val = TimestampTzGetDatum(DatumGetTimestampTz(lo.val) - (int64) travel * USECS_PER_SEC);
	PG_RETURN_RANGE_P(make_range(tc, &lo, &hi, false));
}
