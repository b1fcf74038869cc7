/*
 * counter.c: human numbers (WO-NBO-2026-000123) from per-tenant counter rows.
 *
 * The first number a transaction takes from a counter row updates and locks
 * that row (INSERT ... ON CONFLICT DO UPDATE), so concurrent transactions
 * queue on it and numbers never repeat.  Further numbers from the same row in
 * the same transaction are counted in memory and written back once, at
 * commit: that first update queued one event for the deferred constraint
 * trigger womgr_counter_flush on tenant_counter.  A transaction that creates
 * N work orders (one bulk INSERT or N single-row statements) so updates each
 * counter row twice and queues one deferred event per counter, not N.  (N
 * updates of one row in one transaction leave an N-long chain of row
 * versions to walk for every next number; N deferred events are rescanned at
 * the end of every statement.  Either makes intake quadratic.)  Until commit,
 * tenant_counter.last_value may be behind the numbers already given.
 *
 * A write-back uses up the pending event, so the next number takes the row
 * again (never below the numbers already given) and queues a new one: with
 * SET CONSTRAINTS ... IMMEDIATE the write-back runs after each statement and
 * nothing is left unwritten.  Entries remember the outermost subtransaction
 * that locked their row; if it aborts, the lock is gone and those entries are
 * dropped.  After any subtransaction abort the other entries are written
 * again and take their row again, since a write-back or a take may have been
 * undone with it (neither ever lowers a counter, so doing them twice is
 * harmless).  Commit and abort of the transaction drop everything.
 */
#include "womgr.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#define COUNTER_CACHE_SIZE 64
#define COUNTER_NAME_MAX 64

typedef struct CounterEntry
{
	int64		tenant_id;
	int64		branch_id;		/* 0: no branch */
	char		name[COUNTER_NAME_MAX];
	int64		last_value;
	bool		dirty;			/* last_value not yet written back */
	bool		needs_event;	/* no write-back is pending: take the row again */
	SubTransactionId subxid;	/* outermost subtransaction that locked the row */
} CounterEntry;

static CounterEntry cache[COUNTER_CACHE_SIZE];
static int	ncache = 0;

/* Counter name for a tenant and branch: PREFIX[-BRANCH]-YYYY, year in the branch's zone. */
static KeptPlan name_plan = {
	"SELECT t.work_order_prefix || coalesce('-' || b.code, '') || '-' ||"
	"       to_char($3 AT TIME ZONE coalesce(b.timezone, t.timezone), 'YYYY')"
	"  FROM womgr.tenant t"
	"  LEFT JOIN womgr.branch b ON b.tenant_id = t.tenant_id AND b.branch_id = $2"
	" WHERE t.tenant_id = $1",
	3, {INT8OID, INT8OID, TIMESTAMPTZOID}
};

/* Lock and advance a counter row; $3 is a floor (numbers already given in memory), or NULL. */
static KeptPlan take_plan = {
	"INSERT INTO womgr.tenant_counter AS c (tenant_id, counter_name, last_value)"
	" VALUES ($1, $2, coalesce($3, 0) + 1)"
	" ON CONFLICT (tenant_id, counter_name)"
	" DO UPDATE SET last_value = greatest(c.last_value, $3) + 1"
	" RETURNING c.last_value",
	3, {INT8OID, TEXTOID, INT8OID}
};

static KeptPlan flush_plan = {
	"UPDATE womgr.tenant_counter SET last_value = $3"
	" WHERE tenant_id = $1 AND counter_name = $2 AND last_value < $3",
	3, {INT8OID, TEXTOID, INT8OID}
};

static void
counter_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PREPARE)
		ncache = 0;
}

static void
counter_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	int			keep = 0;

	if (event != SUBXACT_EVENT_ABORT_SUB)
	{
		/* a committed subtransaction's locks pass to its parent */
		if (event == SUBXACT_EVENT_COMMIT_SUB)
			for (int i = 0; i < ncache; i++)
				if (cache[i].subxid == mySubid)
					cache[i].subxid = parentSubid;
		return;
	}
	for (int i = 0; i < ncache; i++)
		if (cache[i].subxid != mySubid)
		{
			cache[keep] = cache[i];
			cache[keep].dirty = true;
			cache[keep++].needs_event = true;
		}
	ncache = keep;
}

void
CounterInit(void)
{
	RegisterXactCallback(counter_xact_callback, NULL);
	RegisterSubXactCallback(counter_subxact_callback, NULL);
}

/*
 * The next work-order number for a tenant and (optional) branch.  Call inside
 * spi_begin()/spi_end().  Returns a palloc'd string in the caller's context.
 */
char *
next_work_order_number(int64 tenant_id, bool has_branch, int64 branch_id, MemoryContext result_cxt)
{
	CounterEntry *e = NULL;
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};
	bool		isnull;
	char	   *name;
	int64		value;

	for (int i = 0; i < ncache; i++)
		if (cache[i].tenant_id == tenant_id &&
			cache[i].branch_id == (has_branch ? branch_id : 0))
		{
			e = &cache[i];
			break;
		}

	if (e != NULL && !e->needs_event)
	{
		e->last_value++;
		e->dirty = true;
		name = e->name;
		value = e->last_value;
	}
	else if (e != NULL)
	{
		/* take the row again, never below what was given, to queue a write-back */
		args[0] = Int64GetDatum(tenant_id);
		args[1] = CStringGetTextDatum(e->name);
		args[2] = Int64GetDatum(e->last_value);
		exec_kept(&take_plan, args, NULL, false, SPI_OK_INSERT_RETURNING);
		e->last_value = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		e->dirty = false;
		e->needs_event = false;
		name = e->name;
		value = e->last_value;
	}
	else
	{
		args[0] = Int64GetDatum(tenant_id);
		args[1] = Int64GetDatum(branch_id);
		nulls[1] = has_branch ? ' ' : 'n';
		args[2] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
		exec_kept(&name_plan, args, nulls, true, SPI_OK_SELECT);
		if (SPI_processed != 1)
			ereport(ERROR,
					(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
					 errmsg("tenant %lld does not exist", (long long) tenant_id),
					 errdetail("A work order needs an existing tenant."),
					 errhint("Call womgr.set_context() for the tenant first, and check its id in womgr.tenant.")));
		name = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

		args[1] = CStringGetTextDatum(name);
		nulls[1] = ' ';
		nulls[2] = 'n';
		exec_kept(&take_plan, args, nulls, false, SPI_OK_INSERT_RETURNING);
		value = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

		if (ncache < COUNTER_CACHE_SIZE && strlen(name) < COUNTER_NAME_MAX)
		{
			e = &cache[ncache++];
			e->tenant_id = tenant_id;
			e->branch_id = has_branch ? branch_id : 0;
			strlcpy(e->name, name, COUNTER_NAME_MAX);
			e->last_value = value;
			e->dirty = false;
			e->needs_event = false;
			e->subxid = GetCurrentSubTransactionId();
		}
	}
	return MemoryContextStrdup(result_cxt, psprintf("%s-%06lld", name, (long long) value));
}

/*
 * Write back the counters advanced in memory.  The entries stay (the locks
 * stay until commit) but their pending event is used up, so the next number
 * takes the row again and queues another.
 */
static void
counter_flush(void)
{
	int			spi = -1;

	for (int i = 0; i < ncache; i++)
	{
		Datum		args[3];

		if (!cache[i].dirty)
			continue;
		if (spi < 0)
			spi = spi_begin();
		args[0] = Int64GetDatum(cache[i].tenant_id);
		args[1] = CStringGetTextDatum(cache[i].name);
		args[2] = Int64GetDatum(cache[i].last_value);
		exec_kept(&flush_plan, args, NULL, false, SPI_OK_UPDATE);
		cache[i].dirty = false;
	}
	for (int i = 0; i < ncache; i++)
		cache[i].needs_event = true;
	if (spi >= 0)
		spi_end(spi);
}

/*
 * Deferred AFTER INSERT OR UPDATE constraint trigger on womgr.tenant_counter:
 * at commit (or at SET CONSTRAINTS ... IMMEDIATE), write back the counters.
 * Its own write-back queues one more event, which finds nothing to write.
 */
PG_FUNCTION_INFO_V1(womgr_counter_flush);
Datum
womgr_counter_flush(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("womgr_counter_flush() was not called as a trigger"),
				 errdetail("It is the deferred constraint trigger of womgr.tenant_counter."),
				 errhint("Do not call it directly.")));
	counter_flush();
	return PointerGetDatum(NULL);
}
