/*
 * plans.c: SPI statements that are prepared on first use and kept for the
 * life of the backend.  Statements name womgr's tables with the schema, so a
 * caller's search_path never changes what they mean; the plan cache replans
 * them after DDL.
 */
#include "womgr.h"

SPIPlanPtr
kept_plan(KeptPlan *kp)
{
	if (kp->plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(kp->sql, kp->nargs, kp->argtypes);

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
