/*
 * workflow.c: the workflow engine.  Every change of a work order's status,
 * however it is made (womgr.transition, a bulk UPDATE, another trigger, a
 * DBA), is checked here against the work order's workflow:
 *
 *   - the move must be a transition of the workflow           WM001
 *   - the acting womgr role must be one the transition allows  42501
 *   - its guards must hold: a lead technician assigned, the
 *     named approvals granted, proof of completion complete,
 *     required fields filled, a note given                     WM002
 *
 * The error detail lists exactly what is missing.  The trigger also keeps the
 * system category in step, resolves the workflow and the proof-of-completion
 * requirements of new and reclassified work orders, and (womgr_event_outbox)
 * turns every work_order_event into an outbox row and a NOTIFY womgr_events.
 */
#include "womgr.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "commands/trigger.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

/*
 * The note (reason) of the transition being made by womgr.transition or
 * womgr.reclassify, for the work order it names; the triggers read it.
 */
static int64 note_tenant = 0;
static int64 note_work_order = 0;
static char *note_text = NULL;
static bool note_has_time = false;
static TimestampTz note_time = 0;	/* when a device says the change happened */

static void
clear_note(void)
{
	note_tenant = note_work_order = 0;
	note_text = NULL;
	note_has_time = false;
}

static void
workflow_xact_callback(XactEvent event, void *arg)
{
	clear_note();
}

/* a note set inside a subtransaction that failed must not reach a later change */
static void
workflow_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						  SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		clear_note();
}

void
WorkflowInit(void)
{
	RegisterXactCallback(workflow_xact_callback, NULL);
	RegisterSubXactCallback(workflow_subxact_callback, NULL);
}

/* Remembers the note and the device time (when has_time) of the next change of a work order. */
static void
set_note(int64 tenant_id, int64 work_order_id, const char *note, bool has_time, TimestampTz time)
{
	clear_note();
	if (note == NULL && !has_time)
		return;
	note_tenant = tenant_id;
	note_work_order = work_order_id;
	if (note != NULL)
		note_text = MemoryContextStrdup(TopTransactionContext, note);
	note_has_time = has_time;
	note_time = time;
}

/* The time a device reported for the change being made to this work order, if any. */
bool
workflow_pending_time(int64 tenant_id, int64 work_order_id, TimestampTz *t)
{
	if (note_has_time && note_tenant == tenant_id && note_work_order == work_order_id)
	{
		*t = note_time;
		return true;
	}
	return false;
}

const char *
workflow_pending_note(int64 tenant_id, int64 work_order_id)
{
	if (note_text != NULL && note_tenant == tenant_id && note_work_order == work_order_id)
		return note_text;
	return NULL;
}

/*
 * The workflow of a type (else the tenant's default), its initial status,
 * the category of the wanted status (NULL if the workflow lacks it) and the
 * type's completion requirements merged with the work order's extra ones.
 */
static KeptPlan resolve_plan = {
	"SELECT w.workflow_id, i.code, st.category::text,"
	"       womgr._merge_requirements(t.completion_requirements, $4), t.code"
	"  FROM womgr.work_order_type t"
	"  LEFT JOIN womgr.workflow w ON w.tenant_id = t.tenant_id"
	"   AND w.workflow_id = coalesce(t.workflow_id,"
	"       (SELECT d.workflow_id FROM womgr.workflow d WHERE d.tenant_id = $1 AND d.is_default))"
	"  LEFT JOIN womgr.workflow_status i ON i.tenant_id = w.tenant_id"
	"   AND i.workflow_id = w.workflow_id AND i.is_initial"
	"  LEFT JOIN womgr.workflow_status st ON st.tenant_id = w.tenant_id"
	"   AND st.workflow_id = w.workflow_id AND st.code = coalesce($3, i.code)"
	" WHERE t.tenant_id = $1 AND t.work_order_type_id = $2",
	4, {INT8OID, INT8OID, TEXTOID, JSONBOID}
};

typedef struct Resolved
{
	int64		workflow_id;
	char	   *initial;		/* NULL: the workflow has no initial status */
	char	   *category;		/* NULL: the workflow has no such status */
	Datum		requirements;
	char	   *type_code;
} Resolved;

static void
resolve(int64 tenant_id, int64 type_id, Datum status, bool status_null, Datum extra,
		Resolved *r)
{
	Datum		args[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	bool		isnull;
	int			spi;
	HeapTuple	row;
	TupleDesc	rd;
	MemoryContext outer = CurrentMemoryContext;
	char	   *v;

	args[0] = Int64GetDatum(tenant_id);
	args[1] = Int64GetDatum(type_id);
	args[2] = status;
	nulls[2] = status_null ? 'n' : ' ';
	args[3] = extra;
	spi = spi_begin();
	exec_kept(&resolve_plan, args, nulls, true, SPI_OK_SELECT);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("work order type %lld does not exist", (long long) type_id),
				 errdetail("Tenant %lld has no work-order type with that id.", (long long) tenant_id),
				 errhint("List the types with SELECT work_order_type_id, code FROM womgr.work_order_type.")));
	row = SPI_tuptable->vals[0];
	rd = SPI_tuptable->tupdesc;
	r->type_code = MemoryContextStrdup(outer, SPI_getvalue(row, rd, 5));
	r->workflow_id = DatumGetInt64(SPI_getbinval(row, rd, 1, &isnull));
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("work order type \"%s\" has no workflow", r->type_code),
				 errdetail("The type names no workflow and tenant %lld has no default workflow.",
						   (long long) tenant_id),
				 errhint("Make a workflow the default with womgr.set_default_workflow(), or give the type one with womgr.update_work_order_type().")));
	v = SPI_getvalue(row, rd, 2);
	r->initial = v ? MemoryContextStrdup(outer, v) : NULL;
	v = SPI_getvalue(row, rd, 3);
	r->category = v ? MemoryContextStrdup(outer, v) : NULL;
	r->requirements = SPI_getbinval(row, rd, 4, &isnull);
	r->requirements = SPI_datumTransfer(r->requirements, false, -1);
	spi_end(spi);
}

static Datum
category_datum(TupleDesc desc, const char *category)
{
	Oid			typid = TupleDescAttr(desc, wo_attno(desc, "category") - 1)->atttypid;

	return DirectFunctionCall2(enum_in, CStringGetDatum(category), ObjectIdGetDatum(typid));
}

/*
 * New work order: its workflow, initial status, category and requirements.
 * Imports (created_at before this transaction, as in a pg_dump restore) keep
 * what they bring; what they leave empty is filled in the same way.
 */
void
workflow_on_insert(TupleDesc desc, HeapTuple newtup, ColumnChanges *chg)
{
	bool		isnull,
				status_null,
				wf_null,
				cat_null;
	int64		tenant_id = DatumGetInt64(wo_attr(newtup, desc, "tenant_id", &isnull));
	Datum		type = wo_attr(newtup, desc, "work_order_type_id", &isnull);
	bool		type_null = isnull;
	Datum		status = wo_attr(newtup, desc, "status", &status_null);
	Datum		extra;
	bool		import;
	Resolved	r;

	(void) wo_attr(newtup, desc, "workflow_id", &wf_null);
	(void) wo_attr(newtup, desc, "category", &cat_null);
	import = DatumGetTimestampTz(wo_attr(newtup, desc, "created_at", &isnull)) <
		GetCurrentTransactionStartTimestamp();
	if (type_null || (import && !status_null && !wf_null && !cat_null))
		return;					/* NOT NULL / the import's own values */

	extra = wo_attr(newtup, desc, "extra_requirements", &isnull);
	if (isnull)
		extra = DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"));
	resolve(tenant_id, DatumGetInt64(type), status, status_null, extra, &r);

	if (r.category == NULL || (!import && r.initial != NULL && !status_null &&
							   strcmp(TextDatumGetCString(status), r.initial) != 0))
		ereport(ERROR,
				(errcode(ERRCODE_WOMGR_TRANSITION_NOT_ALLOWED),
				 errmsg("a new work order cannot start in status \"%s\"",
						status_null ? "" : TextDatumGetCString(status)),
				 errdetail("Work orders of type \"%s\" start in status \"%s\" of workflow %lld.",
						   r.type_code, r.initial ? r.initial : "(none)", (long long) r.workflow_id),
				 errhint("Leave status empty, then move the work order with womgr.transition().")));
	column_change(chg, desc, "workflow_id", Int64GetDatum(r.workflow_id), false);
	if (status_null)
		column_change(chg, desc, "status", CStringGetTextDatum(r.initial), false);
	column_change(chg, desc, "category", category_datum(desc, r.category), false);
	column_change(chg, desc, "completion_requirements", r.requirements, false);
}

/* The transition from $3 to $4 in workflow $2, and the category of $4. */
static KeptPlan transition_plan = {
	"SELECT st.category::text, tr.workflow_transition_id, tr.roles::text[],"
	"       tr.requires_assignment, tr.required_approvals, tr.requires_proof,"
	"       tr.required_fields, tr.requires_note"
	"  FROM (SELECT 1) x"
	"  LEFT JOIN womgr.workflow_status st"
	"    ON st.tenant_id = $1 AND st.workflow_id = $2 AND st.code = $4"
	"  LEFT JOIN womgr.workflow_transition tr"
	"    ON tr.tenant_id = $1 AND tr.workflow_id = $2 AND tr.from_status = $3 AND tr.to_status = $4"
	"   AND tr.enabled",
	4, {INT8OID, INT8OID, TEXTOID, TEXTOID}
};

static KeptPlan next_statuses_plan = {
	"SELECT coalesce(string_agg(format('\"%s\"', to_status), ', ' ORDER BY to_status), 'none')"
	"  FROM womgr.workflow_transition"
	" WHERE tenant_id = $1 AND workflow_id = $2 AND from_status = $3 AND enabled",
	3, {INT8OID, INT8OID, TEXTOID}
};

static KeptPlan lead_plan = {
	"SELECT EXISTS (SELECT 1 FROM womgr.assignment"
	" WHERE tenant_id = $1 AND work_order_id = $2 AND role = 'lead' AND ended_at IS NULL)",
	2, {INT8OID, INT8OID}
};

/* Required approval steps that apply to the work order and are not granted. */
static KeptPlan approvals_plan = {
	"SELECT r.code, s.approval_step_id IS NOT NULL, s.min_quoted_amount"
	"  FROM unnest($3::text[]) WITH ORDINALITY AS r(code, i)"
	"  LEFT JOIN womgr.approval_step s"
	"    ON s.tenant_id = $1 AND s.workflow_id = $4 AND s.code = r.code"
	" WHERE s.approval_step_id IS NULL"
	"    OR ((s.min_quoted_amount IS NULL OR coalesce($5, 0) >= s.min_quoted_amount)"
	"        AND NOT EXISTS (SELECT 1 FROM womgr.approval a"
	"                         WHERE a.tenant_id = $1 AND a.work_order_id = $2"
	"                           AND a.approval_step_id = s.approval_step_id AND a.status = 'approved'))"
	" ORDER BY r.i",
	5, {INT8OID, INT8OID, TEXTARRAYOID, INT8OID, NUMERICOID}
};

static KeptPlan proof_plan = {
	"SELECT womgr._completion_missing($1, $2, $3, $4, $5)",
	5, {INT8OID, INT8OID, INT8OID, JSONBOID, BOOLOID}
};

/* What a transition still lacks, one phrase per item, allocated in cxt. */
typedef struct Missing
{
	List	   *items;
	MemoryContext cxt;
} Missing;

static void
missing_add(Missing *m, const char *fmt,...) pg_attribute_printf(2, 3);

static void
missing_add(Missing *m, const char *fmt,...)
{
	va_list		args;
	StringInfoData buf;
	MemoryContext old = MemoryContextSwitchTo(m->cxt);

	initStringInfo(&buf);
	for (;;)
	{
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&buf, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	m->items = lappend(m->items, buf.data);
	MemoryContextSwitchTo(old);
}

static char *
missing_join(Missing *m)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, m->items)
		appendStringInfo(&buf, "%s%s", buf.len ? "; " : "", (char *) lfirst(lc));
	return buf.data;
}

static void
text_array(Datum arr, Datum **elems, int *n)
{
	bool	   *nulls;

	deconstruct_array(DatumGetArrayTypeP(arr), TEXTOID, -1, false, TYPALIGN_INT,
					  elems, &nulls, n);
}

static bool
field_filled(TupleDesc desc, HeapTuple tup, const char *field)
{
	bool		isnull;
	Datum		d;

	if (strncmp(field, "fields.", 7) == 0)
	{
		JsonbValue	v;
		Jsonb	   *fields;

		d = wo_attr(tup, desc, "fields", &isnull);
		if (isnull)
			return false;
		fields = DatumGetJsonbP(d);
		if (!spec_get(fields, field + 7, &v))
			return false;
		return v.type != jbvNull && !(v.type == jbvString && v.val.string.len == 0);
	}
	else
	{
		int			attno = SPI_fnumber(desc, field);

		if (attno <= 0)
			return false;
		d = heap_getattr(tup, attno, desc, &isnull);
		if (isnull)
			return false;
		if (TupleDescAttr(desc, attno - 1)->atttypid == TEXTOID)
		{
			char	   *s = TextDatumGetCString(d);

			return s[strspn(s, " \t\r\n")] != '\0';
		}
		return true;
	}
}

/* The verdict on one status change, everything allocated in the caller's context. */
typedef struct Verdict
{
	char	   *number;
	char	   *from;
	char	   *to;
	char	   *category;		/* of the target status; NULL: not in the workflow */
	bool		has_transition;
	char	   *next;			/* statuses reachable from "from", when !has_transition */
	uint32		allowed;		/* roles the transition is open to (admin included) */
	uint32		acting;
	bool		role_ok;
	Missing		missing;		/* the guards that fail */
} Verdict;

/*
 * Evaluates the change of a work order from oldtup's status to newtup's in
 * its workflow: the transition, the acting role and every guard.  Raises
 * nothing about the change itself; check_transition and
 * womgr._transition_missing decide what to do with the verdict.
 */
static void
evaluate_transition(TupleDesc desc, HeapTuple oldtup, HeapTuple newtup, int64 workflow_id,
					bool check_note, Verdict *v)
{
	bool		isnull;
	int64		tenant_id = DatumGetInt64(wo_attr(newtup, desc, "tenant_id", &isnull));
	int64		wo_id = DatumGetInt64(wo_attr(newtup, desc, "work_order_id", &isnull));
	Datum		from = wo_attr(oldtup, desc, "status", &isnull);
	Datum		to = wo_attr(newtup, desc, "status", &isnull);
	Datum		args[4];
	HeapTuple	row;
	TupleDesc	rd;
	MemoryContext outer = CurrentMemoryContext;
	char	   *s;
	int			spi;

	memset(v, 0, sizeof(*v));
	v->number = TextDatumGetCString(wo_attr(newtup, desc, "number", &isnull));
	v->from = TextDatumGetCString(from);
	v->to = TextDatumGetCString(to);
	v->missing.cxt = outer;
	v->role_ok = true;

	args[0] = Int64GetDatum(tenant_id);
	args[1] = Int64GetDatum(workflow_id);
	args[2] = from;
	args[3] = to;
	spi = spi_begin();
	exec_kept(&transition_plan, args, NULL, true, SPI_OK_SELECT);
	/* row and rd stay valid until spi_end: SPI keeps every result until then */
	row = SPI_tuptable->vals[0];
	rd = SPI_tuptable->tupdesc;
	s = SPI_getvalue(row, rd, 1);
	v->category = s ? MemoryContextStrdup(outer, s) : NULL;
	(void) SPI_getbinval(row, rd, 2, &isnull);
	v->has_transition = !isnull;
	if (v->category == NULL || !v->has_transition)
	{
		if (v->category != NULL)
		{
			exec_kept(&next_statuses_plan, args, NULL, true, SPI_OK_SELECT);
			v->next = MemoryContextStrdup(outer, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
		}
		spi_end(spi);
		return;
	}

	/* who may make the move (admin always may; no roles listed: everyone) */
	{
		Datum	   *roles;
		int			nroles;

		v->allowed = WOMGR_ROLE_ADMIN;
		text_array(SPI_getbinval(row, rd, 3, &isnull), &roles, &nroles);
		for (int i = 0; i < nroles; i++)
		{
			int			idx = womgr_role_index(TextDatumGetCString(roles[i]));

			if (idx >= 0)
				v->allowed |= 1U << idx;
		}
		if (nroles > 0)
		{
			v->acting = womgr_acting_roles();
			v->role_ok = (v->acting & v->allowed) != 0;
		}
	}

	/* the guards: every one is checked, so all that is missing is listed */
	args[1] = Int64GetDatum(wo_id);
	if (DatumGetBool(SPI_getbinval(row, rd, 4, &isnull)))
	{
		exec_kept(&lead_plan, args, NULL, true, SPI_OK_SELECT);
		if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
			missing_add(&v->missing, "a lead technician must be assigned (womgr.assign)");
	}

	{
		Datum		req = SPI_getbinval(row, rd, 5, &isnull);

		if (!isnull && ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(req)),
									  ARR_DIMS(DatumGetArrayTypeP(req))) > 0)
		{
			Datum		aargs[5];
			char		anulls[5] = {' ', ' ', ' ', ' ', ' '};

			aargs[0] = Int64GetDatum(tenant_id);
			aargs[1] = Int64GetDatum(wo_id);
			aargs[2] = req;
			aargs[3] = Int64GetDatum(workflow_id);
			aargs[4] = wo_attr(newtup, desc, "quoted_amount", &isnull);
			anulls[4] = isnull ? 'n' : ' ';
			exec_kept(&approvals_plan, aargs, anulls, true, SPI_OK_SELECT);
			for (uint64 i = 0; i < SPI_processed; i++)
			{
				HeapTuple	a = SPI_tuptable->vals[i];
				char	   *code = SPI_getvalue(a, SPI_tuptable->tupdesc, 1);
				char	   *min = SPI_getvalue(a, SPI_tuptable->tupdesc, 3);

				if (!DatumGetBool(SPI_getbinval(a, SPI_tuptable->tupdesc, 2, &isnull)))
					missing_add(&v->missing, "approval step \"%s\" is not defined in the workflow", code);
				else if (min != NULL)
					missing_add(&v->missing, "approval \"%s\" must be granted (quoted amount %s or more)", code, min);
				else
					missing_add(&v->missing, "approval \"%s\" must be granted", code);
			}
		}
	}

	if (DatumGetBool(SPI_getbinval(row, rd, 6, &isnull)) || strcmp(v->category, "completed") == 0)
	{
		Datum		pargs[5];
		Datum	   *items;
		int			nitems;
		Datum		d;

		pargs[0] = Int64GetDatum(tenant_id);
		pargs[1] = Int64GetDatum(wo_id);
		pargs[2] = wo_attr(newtup, desc, "site_id", &isnull);
		pargs[3] = wo_attr(newtup, desc, "completion_requirements", &isnull);
		(void) wo_attr(newtup, desc, "customer_confirmed_at", &isnull);
		pargs[4] = BoolGetDatum(!isnull);
		exec_kept(&proof_plan, pargs, NULL, true, SPI_OK_SELECT);
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		if (!isnull)
		{
			text_array(d, &items, &nitems);
			for (int i = 0; i < nitems; i++)
				missing_add(&v->missing, "%s", TextDatumGetCString(items[i]));
		}
	}

	{
		Datum	   *fields;
		int			nfields;

		text_array(SPI_getbinval(row, rd, 7, &isnull), &fields, &nfields);
		for (int i = 0; i < nfields; i++)
		{
			char	   *f = TextDatumGetCString(fields[i]);

			if (!field_filled(desc, newtup, f))
				missing_add(&v->missing, "field \"%s\" must be filled", f);
		}
	}

	if (check_note && DatumGetBool(SPI_getbinval(row, rd, 8, &isnull)) &&
		workflow_pending_note(tenant_id, wo_id) == NULL)
		missing_add(&v->missing, "a note giving the reason is required (womgr.transition with p_note)");
	spi_end(spi);
}

/*
 * Checks the status change of a work order against its workflow; returns
 * the category of the new status.
 */
static char *
check_transition(TupleDesc desc, HeapTuple oldtup, HeapTuple newtup, int64 workflow_id)
{
	Verdict		v;

	evaluate_transition(desc, oldtup, newtup, workflow_id, true, &v);
	if (v.category == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("status \"%s\" does not exist in the workflow of work order %s", v.to, v.number),
				 errdetail("Work order %s follows workflow %lld, which has no status \"%s\".",
						   v.number, (long long) workflow_id, v.to),
				 errhint("List its statuses with SELECT code, label FROM womgr.workflow_status WHERE workflow_id = %lld.",
						 (long long) workflow_id)));
	if (!v.has_transition)
		ereport(ERROR,
				(errcode(ERRCODE_WOMGR_TRANSITION_NOT_ALLOWED),
				 errmsg("work order %s cannot move from \"%s\" to \"%s\"", v.number, v.from, v.to),
				 errdetail("Its workflow has no transition from \"%s\" to \"%s\"; from \"%s\" it allows: %s.",
						   v.from, v.to, v.from, v.next),
				 errhint("Move it through the allowed statuses, or add the transition with womgr.add_workflow_transition().")));
	if (!v.role_ok)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("acting role may not move work order %s from \"%s\" to \"%s\"",
						v.number, v.from, v.to),
				 errdetail("The transition is open to: %s. The transaction acts as: %s.",
						   womgr_role_list(v.allowed), womgr_role_list(v.acting)),
				 errhint("Ask someone in one of those roles, or pick the role with womgr.set_context().")));
	if (v.missing.items != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_WOMGR_GUARD_FAILED),
				 errmsg("work order %s cannot move from \"%s\" to \"%s\" yet", v.number, v.from, v.to),
				 errdetail("Missing: %s.", missing_join(&v.missing)),
				 errhint("Complete what is missing, then try the transition again.")));
	return v.category;
}

static KeptPlan row_plan = {
	"SELECT * FROM womgr.work_order WHERE tenant_id = $1 AND work_order_id = $2",
	2, {INT8OID, INT8OID}
};

/*
 * womgr._transition_missing(tenant, work order, to status): what would stop
 * the move now, one phrase per item (empty: it would pass), without making
 * it.  A required note is left out: the caller gives it with the move.  NULL
 * when the workflow has no such transition.
 */
PG_FUNCTION_INFO_V1(womgr_transition_missing);
Datum
womgr_transition_missing(PG_FUNCTION_ARGS)
{
	MemoryContext outer = CurrentMemoryContext;
	HeapTuple	oldtup,
				newtup;
	TupleDesc	desc;
	Datum		args[2];
	bool		isnull;
	int64		workflow_id;
	int			status_col;
	Datum		to;
	bool		to_null = false;
	Verdict		v;
	Datum	   *elems;
	int			n = 0;
	ListCell   *lc;
	int			spi;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_NULL();
	args[0] = PG_GETARG_DATUM(0);
	args[1] = PG_GETARG_DATUM(1);
	spi = spi_begin();
	exec_kept(&row_plan, args, NULL, true, SPI_OK_SELECT);
	if (SPI_processed != 1)
	{
		spi_end(spi);
		PG_RETURN_NULL();
	}
	MemoryContextSwitchTo(outer);
	oldtup = SPI_copytuple(SPI_tuptable->vals[0]);
	desc = CreateTupleDescCopy(SPI_tuptable->tupdesc);
	spi_end(spi);

	workflow_id = DatumGetInt64(wo_attr(oldtup, desc, "workflow_id", &isnull));
	status_col = wo_attno(desc, "status");
	to = PG_GETARG_DATUM(2);
	newtup = heap_modify_tuple_by_cols(oldtup, desc, 1, &status_col, &to, &to_null);
	evaluate_transition(desc, oldtup, newtup, workflow_id, false, &v);
	if (v.category == NULL || !v.has_transition)
		PG_RETURN_NULL();
	elems = palloc(sizeof(Datum) * (list_length(v.missing.items) + 1));
	if (!v.role_ok)
		elems[n++] = CStringGetTextDatum(psprintf("one of the roles %s (acting as %s)",
												  womgr_role_list(v.allowed), womgr_role_list(v.acting)));
	foreach(lc, v.missing.items)
		elems[n++] = CStringGetTextDatum((char *) lfirst(lc));
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* old extra requirements and old requirements in force, each merged with the new extra ones */
static KeptPlan stricter_plan = {
	"SELECT womgr._merge_requirements($1, $3), womgr._merge_requirements($2, $3)",
	3, {JSONBOID, JSONBOID, JSONBOID}
};

/*
 * Update of a work order: reclassification re-resolves the workflow and the
 * requirements; extra requirements only add; a status change must be a
 * transition the workflow allows.
 */
void
workflow_on_update(TupleDesc desc, HeapTuple oldtup, HeapTuple newtup, ColumnChanges *chg)
{
	bool		isnull;
	int64		tenant_id = DatumGetInt64(wo_attr(newtup, desc, "tenant_id", &isnull));
	int64		old_type = DatumGetInt64(wo_attr(oldtup, desc, "work_order_type_id", &isnull));
	Datum		new_type = wo_attr(newtup, desc, "work_order_type_id", &isnull);
	bool		new_type_null = isnull;
	int64		old_wf = DatumGetInt64(wo_attr(oldtup, desc, "workflow_id", &isnull));
	bool		new_wf_null;
	Datum		new_wf = wo_attr(newtup, desc, "workflow_id", &new_wf_null);
	Datum		os = wo_attr(oldtup, desc, "status", &isnull);
	Datum		ns = wo_attr(newtup, desc, "status", &isnull);
	bool		ns_null = isnull;
	Datum		oe = wo_attr(oldtup, desc, "extra_requirements", &isnull);
	Datum		ne = wo_attr(newtup, desc, "extra_requirements", &isnull);
	bool		ne_null = isnull;
	Datum		oc = wo_attr(oldtup, desc, "category", &isnull);
	Datum		nc = wo_attr(newtup, desc, "category", &isnull);
	bool		type_changed,
				status_changed;
	int64		workflow_id = old_wf;
	Resolved	r;

	if (new_type_null || ns_null || ne_null)
		return;					/* the NOT NULL constraints will say so */
	type_changed = DatumGetInt64(new_type) != old_type;
	status_changed = !datumIsEqual(os, ns, false, -1);

	if (!isnull && !type_changed && !status_changed && DatumGetObjectId(oc) != DatumGetObjectId(nc))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the category of a work order follows its status"),
				 errdetail("category is kept in step with the workflow status and cannot be set on its own."),
				 errhint("Change the status with womgr.transition().")));
	if (!type_changed && (new_wf_null || DatumGetInt64(new_wf) != old_wf) &&
		!heap_attisnull(oldtup, wo_attno(desc, "workflow_id"), desc))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the workflow of a work order follows its type"),
				 errdetail("workflow_id is resolved from the work-order type and cannot be set on its own."),
				 errhint("Reclassify the work order with womgr.reclassify(), or change the type's workflow for new work orders.")));

	/*
	 * Extra requirements only ever add: the new ones are merged with the old
	 * (the stricter of each), so neither a caller nor a plain UPDATE can
	 * drop what a template or plan required.
	 */
	if (!datumIsEqual(oe, ne, false, -1))
	{
		Datum		margs[3];
		int			spi;
		bool		n1,
					n2;

		margs[0] = oe;
		margs[1] = wo_attr(oldtup, desc, "completion_requirements", &isnull);
		margs[2] = ne;
		spi = spi_begin();
		exec_kept(&stricter_plan, margs, NULL, true, SPI_OK_SELECT);
		ne = SPI_datumTransfer(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &n1), false, -1);
		if (!type_changed)
			column_change(chg, desc, "completion_requirements",
						  SPI_datumTransfer(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &n2), false, -1),
						  false);
		spi_end(spi);
		column_change(chg, desc, "extra_requirements", ne, false);
	}
	else if (!type_changed)
		column_change(chg, desc, "completion_requirements",
					  wo_attr(oldtup, desc, "completion_requirements", &isnull), isnull);

	/* reclassification: the new type's workflow and requirements */
	if (type_changed)
	{
		resolve(tenant_id, DatumGetInt64(new_type), ns, false, ne, &r);
		if (r.category == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_WOMGR_TRANSITION_NOT_ALLOWED),
					 errmsg("work order cannot become type \"%s\" in status \"%s\"",
							r.type_code, TextDatumGetCString(ns)),
					 errdetail("The workflow of type \"%s\" (%lld) has no status \"%s\".",
							   r.type_code, (long long) r.workflow_id, TextDatumGetCString(ns)),
					 errhint("Move the work order to a status both workflows share first.")));
		workflow_id = r.workflow_id;
		column_change(chg, desc, "workflow_id", Int64GetDatum(workflow_id), false);
		column_change(chg, desc, "completion_requirements", r.requirements, false);
		if (!status_changed)
			column_change(chg, desc, "category", category_datum(desc, r.category), false);
	}

	if (status_changed)
	{
		char	   *category = check_transition(desc, oldtup, newtup, workflow_id);
		TimestampTz at;
		bool		isnull2;
		int64		wo_id = DatumGetInt64(wo_attr(newtup, desc, "work_order_id", &isnull2));

		column_change(chg, desc, "category", category_datum(desc, category), false);
		/* a change reported late by an offline device keeps the time it happened */
		if (!workflow_pending_time(tenant_id, wo_id, &at))
			at = GetCurrentTransactionStartTimestamp();
		column_change(chg, desc, "status_changed_at", TimestampTzGetDatum(at), false);
	}
}

static void
check_not_null(FunctionCallInfo fcinfo, int arg, const char *what)
{
	if (PG_ARGISNULL(arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", what),
				 errdetail("womgr.transition() needs the tenant, the work order and the status to move to."),
				 errhint("Pass the %s.", what)));
}

static KeptPlan lock_plan = {
	"SELECT version, status, number, status_changed_at FROM womgr.work_order"
	" WHERE tenant_id = $1 AND work_order_id = $2 FOR UPDATE",
	2, {INT8OID, INT8OID}
};

static KeptPlan move_plan = {
	"UPDATE womgr.work_order SET status = $3"
	" WHERE tenant_id = $1 AND work_order_id = $2 RETURNING version",
	3, {INT8OID, INT8OID, TEXTOID}
};

#define NOTE_MAX 4000

/* Validates a note (reason) given with a transition or reclassification. */
static char *
check_note(FunctionCallInfo fcinfo, int arg)
{
	char	   *note;

	if (PG_ARGISNULL(arg))
		return NULL;
	note = text_to_cstring(PG_GETARG_TEXT_PP(arg));
	if (note[strspn(note, " \t\r\n")] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("note must not be empty"),
				 errdetail("The note records why the work order changed."),
				 errhint("Pass NULL for no note.")));
	if (strlen(note) > NOTE_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("note is too long"),
				 errdetail("The note has %zu bytes; at most %d are allowed.", strlen(note), NOTE_MAX),
				 errhint("Add longer text with womgr.add_note().")));
	return note;
}

/* womgr.transition(tenant, work order, to status, note, expected version, occurred at): the new version */
PG_FUNCTION_INFO_V1(womgr_transition);
Datum
womgr_transition(PG_FUNCTION_ARGS)
{
	int64		tenant_id,
				wo_id;
	char	   *to;
	char	   *note;
	Datum		args[3];
	bool		isnull;
	int32		version;
	char	   *current;
	char	   *number;
	bool		has_time;
	TimestampTz occurred = 0;
	int			spi;

	check_not_null(fcinfo, 0, "tenant");
	check_not_null(fcinfo, 1, "work order id");
	check_not_null(fcinfo, 2, "status");
	tenant_id = PG_GETARG_INT64(0);
	wo_id = PG_GETARG_INT64(1);
	to = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (to[strspn(to, " \t\r\n")] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("status must not be empty"),
				 errdetail("womgr.transition() moves a work order to the status it names."),
				 errhint("Pass a status code of the work order's workflow, such as \"scheduled\".")));
	note = check_note(fcinfo, 3);
	has_time = PG_NARGS() > 5 && !PG_ARGISNULL(5);
	if (has_time)
	{
		occurred = PG_GETARG_TIMESTAMPTZ(5);
		if (TIMESTAMP_NOT_FINITE(occurred) ||
			occurred > GetCurrentTransactionStartTimestamp() + 5 * USECS_PER_MINUTE)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the change cannot have happened in the future"),
					 errdetail("p_occurred_at is more than 5 minutes after the transaction started."),
					 errhint("Pass the time the device recorded the change, or NULL for now.")));
	}

	args[0] = Int64GetDatum(tenant_id);
	args[1] = Int64GetDatum(wo_id);
	args[2] = CStringGetTextDatum(to);
	spi = spi_begin();
	exec_kept(&lock_plan, args, NULL, false, SPI_OK_SELECT);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("work order %lld does not exist", (long long) wo_id),
				 errdetail("Tenant %lld has no work order with id %lld, or row-level security hides it.",
						   (long long) tenant_id, (long long) wo_id),
				 errhint("Check the work order id and the tenant.")));
	version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	current = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	number = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
	if (has_time)
	{
		TimestampTz last = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4, &isnull));

		if (occurred < last)
		{
			/* timestamptz_to_str returns a static buffer: copy each before the next call */
			char	   *occurred_s = pstrdup(timestamptz_to_str(occurred));
			char	   *last_s = pstrdup(timestamptz_to_str(last));

			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the change of work order %s cannot have happened before its last status change", number),
					 errdetail("p_occurred_at is %s; the status last changed at %s.", occurred_s, last_s),
					 errhint("Report changes of one work order in the order they happened.")));
		}
	}
	if (!PG_ARGISNULL(4) && PG_GETARG_INT32(4) != version)
		ereport(ERROR,
				(errcode(ERRCODE_WOMGR_STALE_VERSION),
				 errmsg("work order %s was changed by someone else", number),
				 errdetail("You expected version %d; it is now at version %d, in status \"%s\".",
						   PG_GETARG_INT32(4), version, current),
				 errhint("Reload the work order and decide again.")));
	if (strcmp(current, to) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_WOMGR_TRANSITION_NOT_ALLOWED),
				 errmsg("work order %s is already in status \"%s\"", number, to),
				 errdetail("It is at version %d; no transition was made.", version),
				 errhint("Reload the work order: someone may have moved it already.")));

	set_note(tenant_id, wo_id, note, has_time, occurred);
	PG_TRY();
	{
		exec_kept(&move_plan, args, NULL, false, SPI_OK_UPDATE_RETURNING);
	}
	PG_FINALLY();
	{
		clear_note();
	}
	PG_END_TRY();
	version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	spi_end(spi);
	PG_RETURN_INT32(version);
}

/* womgr._set_change_note(tenant, work order, note): the reason the next change records */
PG_FUNCTION_INFO_V1(womgr_set_change_note);
Datum
womgr_set_change_note(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		clear_note();
	else
		set_note(PG_GETARG_INT64(0), PG_GETARG_INT64(1), check_note(fcinfo, 2), false, 0);
	PG_RETURN_VOID();
}

static KeptPlan outbox_plan = {
	"INSERT INTO womgr.outbox (tenant_id, topic, work_order_id, event_id, payload, created_at)"
	" VALUES ($1, 'work_order.' || $3, $2, $4,"
	"         jsonb_build_object('event_id', $4, 'work_order_id', $2, 'event_type', $3,"
	"                            'from_status', $5, 'to_status', $6, 'actor', $7,"
	"                            'occurred_at', $8, 'details', $9), $8)"
	" RETURNING outbox_id",
	9, {INT8OID, INT8OID, TEXTOID, INT8OID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, JSONBOID}
};

/*
 * AFTER INSERT FOR EACH ROW on womgr.work_order_event: the outbox row, and a
 * NOTIFY womgr_events that listeners receive when the transaction commits.
 */
PG_FUNCTION_INFO_V1(womgr_event_outbox);
Datum
womgr_event_outbox(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	tup;
	static const char *const cols[] = {
		"tenant_id", "work_order_id", "event_type", "work_order_event_id", "from_status",
		"to_status", "actor", "occurred_at", "details"
	};
	Datum		args[9];
	char		nulls[9];
	bool		isnull;
	int64		outbox_id;
	char		payload[256];
	int			spi;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) || !TRIGGER_FIRED_BY_INSERT(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("womgr_event_outbox() must fire AFTER INSERT FOR EACH ROW"),
				 errdetail("It feeds the outbox from womgr.work_order_event."),
				 errhint("Do not call it directly.")));
	desc = td->tg_relation->rd_att;
	tup = td->tg_trigtuple;
	for (int i = 0; i < 9; i++)
	{
		int			attno = SPI_fnumber(desc, cols[i]);

		if (attno <= 0)
			elog(ERROR, "womgr.work_order_event has no column \"%s\"", cols[i]);
		args[i] = heap_getattr(tup, attno, desc, &isnull);
		nulls[i] = isnull ? 'n' : ' ';
	}
	/*
	 * History that arrives with its past (a pg_dump restore, the demo, a
	 * migration) was announced when it happened; the restore brings the
	 * outbox rows too.
	 */
	if (DatumGetTimestampTz(args[7]) < GetCurrentTransactionStartTimestamp())
		return PointerGetDatum(NULL);
	spi = spi_begin();
	exec_kept(&outbox_plan, args, nulls, false, SPI_OK_INSERT_RETURNING);
	outbox_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	spi_end(spi);

	/* small on purpose: listeners fetch the row (womgr.outbox_claim) */
	snprintf(payload, sizeof(payload),
			 "{\"tenant_id\": " INT64_FORMAT ", \"outbox_id\": " INT64_FORMAT
			 ", \"work_order_id\": " INT64_FORMAT ", \"event_type\": \"%s\"}",
			 DatumGetInt64(args[0]), outbox_id, DatumGetInt64(args[1]),
			 TextDatumGetCString(args[2]));
	Async_Notify("womgr_events", payload);
	return PointerGetDatum(NULL);
}
