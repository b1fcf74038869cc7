/*
 * plans.c: SPI statements that are prepared on first use and kept for the
 * life of the backend.  Statements name womgr's tables with the schema, so a
 * caller's search_path never changes what they mean; the plan cache replans
 * them after DDL.
 */
#include "womgr.h"

#include "commands/trigger.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/rel.h"

SPIPlanPtr
kept_plan(KeptPlan *kp)
{
	if (kp->plan == NULL)
	{
		SPIPlanPtr	p = kp->cursor_options != 0 ?
			SPI_prepare_cursor(kp->sql, kp->nargs, kp->argtypes, kp->cursor_options) :
			SPI_prepare(kp->sql, kp->nargs, kp->argtypes);

		if (p == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s", kp->sql,
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(p) != 0)
			elog(ERROR, "SPI_keepplan failed for \"%s\"", kp->sql);
		kp->plan = p;
	}
	return kp->plan;
}

/* Run a kept statement (inside SPI_connect) and insist on the expected result code. */
void
exec_kept(KeptPlan *kp, Datum *values, const char *nulls, bool read_only, int expect)
{
	int			rc = SPI_execute_plan(kept_plan(kp), values, nulls, read_only, 0);

	if (rc != expect)
		elog(ERROR, "SPI_execute_plan failed for \"%s\": %s", kp->sql,
			 SPI_result_code_string(rc));
}

/*
 * Run the statements of a C entry point with search_path = pg_catalog,
 * pg_temp, whatever the caller's search_path holds, so objects planted in
 * the caller's schemas are never picked up and kept plans never replan for a
 * different path.  Like a function's SET clause: undone by unpin, or by the
 * (sub)transaction abort on error.
 */
int
pin_search_path(void)
{
	int			level = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	return level;
}

void
unpin_search_path(int level)
{
	AtEOXact_GUC(true, level);
}

/* SPI_connect with the pinned search_path; returns what spi_end needs. */
int
spi_begin(void)
{
	int			rc = SPI_connect();

	if (rc != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed: %s", SPI_result_code_string(rc));
	return pin_search_path();
}

void
spi_end(int level)
{
	unpin_search_path(level);
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
}

/*
 * womgr._relcache_changed(): a statement trigger on a table whose contents
 * sessions keep compiled in C (calendars, lists of qualified technicians).
 * It sends a relcache invalidation of the table; each cache's relcache
 * callback drops what it keeps when the change commits (and in the changing
 * session at once).
 */
PG_FUNCTION_INFO_V1(womgr_relcache_changed);
Datum
womgr_relcache_changed(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("womgr_relcache_changed() was not called as a trigger"),
				 errdetail("It tells every session that a table whose contents sessions keep in C has changed."),
				 errhint("Do not call it directly.")));
	CacheInvalidateRelcacheByRelid(RelationGetRelid(td->tg_relation));
	return PointerGetDatum(NULL);
}
