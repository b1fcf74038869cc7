/*
 * work_order.c: work-order intake and the row triggers that keep every work
 * order consistent however it is written (womgr.create_work_order, a plain
 * INSERT, a bulk UPDATE):
 *
 *   womgr_work_order_before  numbers new work orders from the per-tenant
 *                            counter, fills branch and created_by, bumps
 *                            version and updated_at, protects fixed columns,
 *                            and hands the workflow part to workflow.c
 *   womgr_work_order_after   appends the created / status_changed /
 *                            reclassified / updated event with actor,
 *                            database role, client address and note
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
#include "utils/json.h"
#include "utils/jsonb.h"
#include "lib/stringinfo.h"
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

int
wo_attno(TupleDesc desc, const char *name)
{
	int			attno = SPI_fnumber(desc, name);

	if (attno <= 0)
		elog(ERROR, "womgr.work_order has no column \"%s\"", name);
	return attno;
}

Datum
wo_attr(HeapTuple tup, TupleDesc desc, const char *name, bool *isnull)
{
	return heap_getattr(tup, wo_attno(desc, name), desc, isnull);
}

/* Queue a new value for a column of the row a BEFORE trigger returns. */
void
column_change(ColumnChanges *chg, TupleDesc desc, const char *name, Datum val, bool isnull)
{
	int			attno = wo_attno(desc, name);

	for (int i = 0; i < chg->n; i++)
		if (chg->cols[i] == attno)
		{
			chg->vals[i] = val;
			chg->nulls[i] = isnull;
			return;
		}
	if (chg->n >= (int) lengthof(chg->cols))
		elog(ERROR, "too many column changes");
	chg->cols[chg->n] = attno;
	chg->vals[chg->n] = val;
	chg->nulls[chg->n++] = isnull;
}

static void
refuse_change(HeapTuple oldtup, HeapTuple newtup, TupleDesc desc, const char *col)
{
	bool		on,
				nn;
	Datum		o = wo_attr(oldtup, desc, col, &on);
	Datum		n = wo_attr(newtup, desc, col, &nn);
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
	ColumnChanges chg;
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
	chg.n = 0;

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		int64		tenant_id = DatumGetInt64(wo_attr(newtup, desc, "tenant_id", &isnull));
		Datum		branch = wo_attr(newtup, desc, "branch_id", &isnull);
		bool		branch_null = isnull;
		Datum		d;

		/* imports and restores bring their number (and branch) */
		(void) wo_attr(newtup, desc, "number", &isnull);
		if (isnull && !heap_attisnull(newtup, wo_attno(desc, "tenant_id"), desc))
		{
			Datum		args[2];
			MemoryContext outer = CurrentMemoryContext;
			char	   *number;
			int			spi = spi_begin();

			if (branch_null)
			{
				args[0] = Int64GetDatum(tenant_id);
				args[1] = wo_attr(newtup, desc, "site_id", &isnull);
				exec_kept(&site_branch_plan, args, NULL, true, SPI_OK_SELECT);
				if (SPI_processed == 1)
				{
					branch = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &branch_null);
					if (!branch_null)
						column_change(&chg, desc, "branch_id", branch, false);
				}
			}
			/* allocated outside SPI's memory, which spi_end frees */
			number = next_work_order_number(tenant_id, !branch_null, DatumGetInt64(branch), outer);
			spi_end(spi);
			column_change(&chg, desc, "number", CStringGetTextDatum(number), false);
		}

		d = wo_attr(newtup, desc, "created_by", &isnull);
		if (isnull || TextDatumGetCString(d)[0] == '\0')
			column_change(&chg, desc, "created_by", CStringGetTextDatum(womgr_actor_name()), false);

		if (!heap_attisnull(newtup, wo_attno(desc, "tenant_id"), desc))
			workflow_on_insert(desc, newtup, &chg);
	}
	else
	{
		HeapTuple	oldtup = td->tg_trigtuple;
		int32		version = DatumGetInt32(wo_attr(oldtup, desc, "version", &isnull));

		refuse_change(oldtup, newtup, desc, "tenant_id");
		refuse_change(oldtup, newtup, desc, "number");
		refuse_change(oldtup, newtup, desc, "source");
		refuse_change(oldtup, newtup, desc, "external_ref");
		refuse_change(oldtup, newtup, desc, "created_at");
		refuse_change(oldtup, newtup, desc, "created_by");

		column_change(&chg, desc, "version", Int32GetDatum(version + 1), false);
		column_change(&chg, desc, "updated_at", TimestampTzGetDatum(now), false);
		workflow_on_update(desc, oldtup, newtup, &chg);
	}

	newtup = heap_modify_tuple_by_cols(newtup, desc, chg.n, chg.cols, chg.vals, chg.nulls);
	return PointerGetDatum(newtup);
}

/* Appends "<name>" to a JSON array being written; returns the number appended. */
static int
changed_columns(HeapTuple oldtup, HeapTuple newtup, TupleDesc desc, StringInfo json)
{
	int			count = 0;

	appendStringInfoChar(json, '[');
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
		if (count++ > 0)
			appendStringInfoChar(json, ',');
		escape_json(json, name);
	}
	appendStringInfoChar(json, ']');
	return count;
}

static void
append_event(Datum tenant, Datum wo, const char *type, Datum from, bool from_null,
			 Datum to, bool to_null, const char *details)
{
	Datum		args[9];
	char		nulls[9] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	bool		isnull;
	int			spi;

	args[0] = tenant;
	args[1] = wo;
	args[2] = CStringGetTextDatum(type);
	args[3] = from;
	nulls[3] = from_null ? 'n' : ' ';
	args[4] = to;
	nulls[4] = to_null ? 'n' : ' ';
	args[5] = CStringGetTextDatum(womgr_actor_name());
	args[6] = CStringGetTextDatum(womgr_db_role_name());
	args[7] = womgr_client_ip_datum(&isnull);
	if (isnull)
		nulls[7] = 'n';
	args[8] = DirectFunctionCall1(jsonb_in, CStringGetDatum(details));
	spi = spi_begin();
	exec_kept(&event_plan, args, nulls, false, SPI_OK_INSERT);
	spi_end(spi);
}

static void
append_note(StringInfo json, const char *note)
{
	if (note != NULL)
	{
		appendStringInfoString(json, ",\"note\":");
		escape_json(json, note);
	}
}

static char *
enum_label(Datum d)
{
	return DatumGetCString(DirectFunctionCall1(enum_out, d));
}

/* AFTER INSERT OR UPDATE FOR EACH ROW on womgr.work_order: append the events */
PG_FUNCTION_INFO_V1(womgr_work_order_after);
Datum
womgr_work_order_after(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	newtup,
				oldtup;
	bool		isnull;
	Datum		tenant,
				wo,
				os,
				ns;
	StringInfoData json;
	const char *note;
	bool		status_changed,
				type_changed;
	int			nchanged;

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
		if (DatumGetTimestampTz(wo_attr(newtup, desc, "created_at", &isnull)) <
			GetCurrentTransactionStartTimestamp())
			return PointerGetDatum(NULL);
		append_event(wo_attr(newtup, desc, "tenant_id", &isnull),
					 wo_attr(newtup, desc, "work_order_id", &isnull), "created",
					 (Datum) 0, true, wo_attr(newtup, desc, "status", &isnull), false, "{}");
		return PointerGetDatum(NULL);
	}

	oldtup = td->tg_trigtuple;
	newtup = td->tg_newtuple;
	tenant = wo_attr(newtup, desc, "tenant_id", &isnull);
	wo = wo_attr(newtup, desc, "work_order_id", &isnull);
	os = wo_attr(oldtup, desc, "status", &isnull);
	ns = wo_attr(newtup, desc, "status", &isnull);
	note = workflow_pending_note(DatumGetInt64(tenant), DatumGetInt64(wo));
	status_changed = !datumIsEqual(os, ns, false, -1);
	type_changed = DatumGetInt64(wo_attr(oldtup, desc, "work_order_type_id", &isnull)) !=
		DatumGetInt64(wo_attr(newtup, desc, "work_order_type_id", &isnull));

	initStringInfo(&json);
	appendStringInfoString(&json, "{\"changed\":");
	nchanged = changed_columns(oldtup, newtup, desc, &json);
	if (nchanged == 0)
		return PointerGetDatum(NULL);

	if (status_changed)
	{
		StringInfoData sc;

		initStringInfo(&sc);
		appendStringInfoString(&sc, json.data);
		appendStringInfo(&sc, ",\"from_category\":\"%s\",\"to_category\":\"%s\"",
						 enum_label(wo_attr(oldtup, desc, "category", &isnull)),
						 enum_label(wo_attr(newtup, desc, "category", &isnull)));
		append_note(&sc, note);
		{
			TimestampTz at;

			if (workflow_pending_time(DatumGetInt64(tenant), DatumGetInt64(wo), &at))
			{
				appendStringInfoString(&sc, ",\"client_time\":");
				escape_json(&sc, timestamptz_to_str(at));
			}
		}
		appendStringInfoChar(&sc, '}');
		append_event(tenant, wo, "status_changed", os, false, ns, false, sc.data);
	}
	if (type_changed)
	{
		StringInfoData rc;

		initStringInfo(&rc);
		appendStringInfoString(&rc, json.data);
		appendStringInfo(&rc, ",\"from_type_id\":" INT64_FORMAT ",\"to_type_id\":" INT64_FORMAT,
						 DatumGetInt64(wo_attr(oldtup, desc, "work_order_type_id", &isnull)),
						 DatumGetInt64(wo_attr(newtup, desc, "work_order_type_id", &isnull)));
		append_note(&rc, note);
		appendStringInfoChar(&rc, '}');
		append_event(tenant, wo, "reclassified", (Datum) 0, true, (Datum) 0, true, rc.data);
	}
	if (!status_changed && !type_changed)
	{
		append_note(&json, note);
		appendStringInfoChar(&json, '}');
		append_event(tenant, wo, "updated", ns, false, ns, false, json.data);
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
