/*
 * work_order.c: work-order intake and the row triggers that keep every work
 * order consistent however it is written (womgr.create_work_order, a plain
 * INSERT, a bulk UPDATE):
 *
 *   womgr_work_order_before  numbers new work orders from the per-tenant
 *                            counter, fills branch and created_by, bumps
 *                            version and updated_at, protects fixed columns
 *   womgr_work_order_after   appends the created / status_changed / updated
 *                            event with actor, database role and client address
 *                            (rows imported with a past created_at, as by a
 *                            pg_dump restore, keep the history they bring)
 *   womgr_append_only        refuses UPDATE, DELETE and TRUNCATE on history
 *
 * Numbers come from counter.c; validated intake is in intake.c.
 */
#include "womgr.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/jsonb.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

void
WorkOrderInit(void)
{
}

/* The branch that serves a site: the site's own, else its customer's. */
static KeptPlan site_branch_plan = {
	"SELECT coalesce(s.branch_id, c.branch_id)"
	"  FROM womgr.site s JOIN womgr.customer c"
	"    ON c.tenant_id = s.tenant_id AND c.customer_id = s.customer_id"
	" WHERE s.tenant_id = $1 AND s.site_id = $2",
	2, {INT8OID, INT8OID}
};

static KeptPlan event_plan = {
	"INSERT INTO womgr.work_order_event"
	" (tenant_id, work_order_id, event_type, from_status, to_status,"
	"  actor, db_role, client_ip, details)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
	9, {INT8OID, INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, INETOID, JSONBOID}
};

static bool
is_category_name(const char *s)
{
	static const char *const names[] = {
		"new", "scheduled", "in_progress", "on_hold", "completed", "closed", "cancelled", NULL
	};

	for (const char *const *n = names; *n; n++)
		if (strcmp(*n, s) == 0)
			return true;
	return false;
}

static void
check_trigger_call(FunctionCallInfo fcinfo, const char *name)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s() was not called as a trigger", name),
				 errdetail("It is the row trigger of womgr.work_order."),
				 errhint("Do not call it directly.")));
	if (!TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		TRIGGER_FIRED_BY_DELETE(td->tg_event) || TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s() must fire for each row on INSERT or UPDATE", name),
				 errdetail("It was attached with other events or at statement level."),
				 errhint("Reinstall womgr to restore its triggers.")));
}

static Datum
get_attr(HeapTuple tup, TupleDesc desc, const char *name, bool *isnull)
{
	int			attno = SPI_fnumber(desc, name);

	if (attno <= 0)
		elog(ERROR, "womgr.work_order has no column \"%s\"", name);
	return heap_getattr(tup, attno, desc, isnull);
}

static void
refuse_change(HeapTuple oldtup, HeapTuple newtup, TupleDesc desc, const char *col)
{
	bool		on,
				nn;
	Datum		o = get_attr(oldtup, desc, col, &on);
	Datum		n = get_attr(newtup, desc, col, &nn);
	Form_pg_attribute att = TupleDescAttr(desc, SPI_fnumber(desc, col) - 1);

	if (on != nn || (!on && !datumIsEqual(o, n, att->attbyval, att->attlen)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("column \"%s\" of a work order cannot change", col),
				 errdetail("tenant_id, number, source, external_ref, created_at and created_by are fixed when a work order is created."),
				 errhint("Cancel the work order and create a new one instead.")));
}

/* BEFORE INSERT OR UPDATE FOR EACH ROW on womgr.work_order */
PG_FUNCTION_INFO_V1(womgr_work_order_before);
Datum
womgr_work_order_before(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	newtup;
	int			cols[8];
	Datum		vals[8];
	bool		nulls[8];
	int			n = 0;
	bool		isnull;
	TimestampTz now = GetCurrentTransactionStartTimestamp();

	check_trigger_call(fcinfo, "womgr_work_order_before");
	if (!TRIGGER_FIRED_BEFORE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("womgr_work_order_before() must fire BEFORE the row change"),
				 errdetail("It was attached AFTER."),
				 errhint("Reinstall womgr to restore its triggers.")));
	desc = td->tg_relation->rd_att;
	newtup = TRIGGER_FIRED_BY_INSERT(td->tg_event) ? td->tg_trigtuple : td->tg_newtuple;

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		int64		tenant_id = DatumGetInt64(get_attr(newtup, desc, "tenant_id", &isnull));
		Datum		branch = get_attr(newtup, desc, "branch_id", &isnull);
		bool		branch_null = isnull;
		Datum		d;

		/* imports and restores bring their number (and branch) */
		(void) get_attr(newtup, desc, "number", &isnull);
		if (isnull && !heap_attisnull(newtup, SPI_fnumber(desc, "tenant_id"), desc))
		{
			Datum		args[2];
			int			spi = spi_begin();

			if (branch_null)
			{
				args[0] = Int64GetDatum(tenant_id);
				args[1] = get_attr(newtup, desc, "site_id", &isnull);
				exec_kept(&site_branch_plan, args, NULL, true, SPI_OK_SELECT);
				if (SPI_processed == 1)
				{
					branch = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &branch_null);
					if (!branch_null)
					{
						cols[n] = SPI_fnumber(desc, "branch_id");
						vals[n] = branch;
						nulls[n++] = false;
					}
				}
			}
			cols[n] = SPI_fnumber(desc, "number");
			vals[n] = CStringGetTextDatum(next_work_order_number(tenant_id, !branch_null,
																 DatumGetInt64(branch),
																 CurrentMemoryContext));
			nulls[n++] = false;
			spi_end(spi);
		}

		d = get_attr(newtup, desc, "created_by", &isnull);
		if (isnull || TextDatumGetCString(d)[0] == '\0')
		{
			cols[n] = SPI_fnumber(desc, "created_by");
			vals[n] = CStringGetTextDatum(womgr_actor_name());
			nulls[n++] = false;
		}
	}
	else
	{
		HeapTuple	oldtup = td->tg_trigtuple;
		int32		version = DatumGetInt32(get_attr(oldtup, desc, "version", &isnull));

		refuse_change(oldtup, newtup, desc, "tenant_id");
		refuse_change(oldtup, newtup, desc, "number");
		refuse_change(oldtup, newtup, desc, "source");
		refuse_change(oldtup, newtup, desc, "external_ref");
		refuse_change(oldtup, newtup, desc, "created_at");
		refuse_change(oldtup, newtup, desc, "created_by");

		cols[n] = SPI_fnumber(desc, "version");
		vals[n] = Int32GetDatum(version + 1);
		nulls[n++] = false;
		cols[n] = SPI_fnumber(desc, "updated_at");
		vals[n] = TimestampTzGetDatum(now);
		nulls[n++] = false;
	}

	/* Until workflows exist, a status named like a system category sets it. */
	{
		Datum		status_d = get_attr(newtup, desc, "status", &isnull);
		char	   *status = isnull ? NULL : TextDatumGetCString(status_d);

		/* a NULL status is left to the column's NOT NULL constraint */
		if (status != NULL && is_category_name(status))
		{
			cols[n] = SPI_fnumber(desc, "category");
			vals[n] = DirectFunctionCall2(enum_in, CStringGetDatum(status),
										  ObjectIdGetDatum(TupleDescAttr(desc, SPI_fnumber(desc, "category") - 1)->atttypid));
			nulls[n++] = false;
		}
	}

	newtup = heap_modify_tuple_by_cols(newtup, desc, n, cols, vals, nulls);
	return PointerGetDatum(newtup);
}

/* Names of the columns whose values differ, as a jsonb array. */
static Jsonb *
changed_columns(HeapTuple oldtup, HeapTuple newtup, TupleDesc desc, int *count)
{
	JsonbParseState *state = NULL;
	JsonbValue *res;

	*count = 0;
	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	{
		JsonbValue	k;

		k.type = jbvString;
		k.val.string.val = "changed";
		k.val.string.len = 7;
		pushJsonbValue(&state, WJB_KEY, &k);
	}
	pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		bool		on,
					nn;
		Datum		o,
					nv;
		const char *name = NameStr(att->attname);

		if (att->attisdropped || strcmp(name, "version") == 0 || strcmp(name, "updated_at") == 0)
			continue;
		o = heap_getattr(oldtup, i + 1, desc, &on);
		nv = heap_getattr(newtup, i + 1, desc, &nn);
		if (on == nn && (on || datumIsEqual(o, nv, att->attbyval, att->attlen)))
			continue;
		{
			JsonbValue	e;

			e.type = jbvString;
			e.val.string.val = (char *) name;
			e.val.string.len = strlen(name);
			pushJsonbValue(&state, WJB_ELEM, &e);
			(*count)++;
		}
	}
	pushJsonbValue(&state, WJB_END_ARRAY, NULL);
	res = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(res);
}

/* AFTER INSERT OR UPDATE FOR EACH ROW on womgr.work_order: append the event */
PG_FUNCTION_INFO_V1(womgr_work_order_after);
Datum
womgr_work_order_after(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	newtup;
	Datum		args[9];
	char		nulls[9] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	bool		isnull;
	const char *event_type;
	Jsonb	   *details;

	check_trigger_call(fcinfo, "womgr_work_order_after");
	desc = td->tg_relation->rd_att;

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		newtup = td->tg_trigtuple;

		/*
		 * A row that claims to have been created before this transaction is
		 * an import (a pg_dump restore, a migration from another system): its
		 * history arrives with it, so no "created" event is invented.
		 */
		if (DatumGetTimestampTz(get_attr(newtup, desc, "created_at", &isnull)) <
			GetCurrentTransactionStartTimestamp())
			return PointerGetDatum(NULL);
		event_type = "created";
		nulls[3] = 'n';
		details = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
	}
	else
	{
		HeapTuple	oldtup = td->tg_trigtuple;
		Datum		os,
					ns;
		int			nchanged;

		newtup = td->tg_newtuple;
		os = get_attr(oldtup, desc, "status", &isnull);
		ns = get_attr(newtup, desc, "status", &isnull);
		details = changed_columns(oldtup, newtup, desc, &nchanged);
		if (!datumIsEqual(os, ns, false, -1))
			event_type = "status_changed";
		else if (nchanged > 0)
			event_type = "updated";
		else
			return PointerGetDatum(NULL);
		args[3] = os;
	}

	args[0] = get_attr(newtup, desc, "tenant_id", &isnull);
	args[1] = get_attr(newtup, desc, "work_order_id", &isnull);
	args[2] = CStringGetTextDatum(event_type);
	args[4] = get_attr(newtup, desc, "status", &isnull);
	args[5] = CStringGetTextDatum(womgr_actor_name());
	args[6] = CStringGetTextDatum(womgr_db_role_name());
	args[7] = womgr_client_ip_datum(&isnull);
	if (isnull)
		nulls[7] = 'n';
	args[8] = JsonbPGetDatum(details);

	{
		int			spi = spi_begin();

		exec_kept(&event_plan, args, nulls, false, SPI_OK_INSERT);
		spi_end(spi);
	}
	return PointerGetDatum(NULL);
}

/* Trigger that refuses UPDATE, DELETE and TRUNCATE on append-only history tables. */
PG_FUNCTION_INFO_V1(womgr_append_only);
Datum
womgr_append_only(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	const char *op;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("womgr_append_only() was not called as a trigger"),
				 errdetail("It guards womgr's history tables."),
				 errhint("Do not call it directly.")));
	op = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? "UPDATE" :
		TRIGGER_FIRED_BY_DELETE(td->tg_event) ? "DELETE" :
		TRIGGER_FIRED_BY_TRUNCATE(td->tg_event) ? "TRUNCATE" : "INSERT";
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("%s is append-only", RelationGetRelationName(td->tg_relation)),
			 errdetail("%s is refused: history rows are never changed or removed.", op),
			 errhint("Record a correcting event instead.")));
	PG_RETURN_NULL();
}
