/*
 * audit.c: capture of every change to a tenant table, and the guards around
 * the audit log.
 *
 *   womgr_audit_capture         AFTER ROW trigger on every tenant table: one
 *                               audit_pending row per inserted, updated or
 *                               deleted row, with its BLAKE2b leaf hash
 *   womgr_audit_refuse_truncate BEFORE TRUNCATE on every audited table
 *   womgr_audit_append_only     BEFORE UPDATE/DELETE/TRUNCATE on the audit
 *                               tables; only the sealer (seal.c) may move
 *                               pending rows and advance a chain head
 *
 * Writers never wait for each other: capture only inserts.  Sequence
 * numbers and chain hashes come later, from the sealer (seal.c), pass by
 * pass as transactions commit.
 */
#include "audit.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/bitmapset.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/datum.h"
#include "utils/memutils.h"
#include "utils/guc.h"
#include "utils/inet.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/xid8.h"

bool		audit_sealer_writing = false;
static bool guc_audit_capture = true;

void
AuditInit(void)
{
	DefineCustomBoolVariable("womgr.audit_capture",
							 "Records changes to womgr's tables in the audit log.",
							 "Superuser-only.  Turn it off only to restore a dump whose audit log is restored with it.",
							 &guc_audit_capture, true, PGC_SUSET, 0, NULL, NULL, NULL);
}

int64
audit_unix_us(TimestampTz t)
{
	return (int64) t + (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
}

static void
check_trigger(FunctionCallInfo fcinfo, const char *name, const char *what)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s() was not called as a trigger", name),
				 errdetail("It %s.", what),
				 errhint("Do not call it directly.")));
}

/*
 * One column value as JSON: numbers and booleans as JSON literals,
 * json/jsonb as they are, timestamptz in UTC (ISO 8601, so the session's
 * TimeZone never changes what is recorded), everything else as a string
 * of the type's text output.
 */
static void
append_json_value(StringInfo buf, Datum value, bool isnull, Oid typid)
{
	Oid			base = getBaseType(typid);
	Oid			outfn;
	bool		varlena;
	char	   *s;

	if (isnull)
	{
		appendStringInfoString(buf, "null");
		return;
	}
	if (base == TIMESTAMPTZOID || base == TIMESTAMPOID || base == DATEOID ||
		base == TIMEOID || base == TIMETZOID)
	{
		char		ts[MAXDATELEN + 1];
		int			utc = 0;

		/* ISO 8601 whatever DateStyle and TimeZone say; timestamptz in UTC */
		escape_json(buf, JsonEncodeDateTime(ts, value, base, &utc));
		return;
	}
	getTypeOutputInfo(typid, &outfn, &varlena);
	s = OidOutputFunctionCall(outfn, value);
	switch (base)
	{
		case BOOLOID:
			appendStringInfoString(buf, s[0] == 't' ? "true" : "false");
			break;
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case OIDOID:
		case NUMERICOID:
		case FLOAT4OID:
		case FLOAT8OID:
			/* NaN and the infinities are not JSON numbers */
			if (strspn(s, "0123456789-.e+E") == strlen(s) && strpbrk(s, "0123456789") != NULL)
				appendStringInfoString(buf, s);
			else
				escape_json(buf, s);
			break;
		case JSONOID:
		case JSONBOID:
			appendStringInfoString(buf, s);
			break;
		default:
			escape_json(buf, s);
	}
}

/* "{"a": 1, "b": "x"}" of every column, or (when !all) of those in cols, in column order */
static char *
row_json(TupleDesc desc, HeapTuple tup, bool all, Bitmapset *cols)
{
	StringInfoData buf;
	bool		first = true;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		bool		isnull;
		Datum		v;

		if (att->attisdropped || (!all && !bms_is_member(i + 1, cols)))
			continue;
		v = heap_getattr(tup, i + 1, desc, &isnull);
		if (!first)
			appendStringInfoString(&buf, ", ");
		first = false;
		escape_json(&buf, NameStr(att->attname));
		appendStringInfoString(&buf, ": ");
		append_json_value(&buf, v, isnull, att->atttypid);
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/* The columns whose values differ between two versions of a row (1-based attnums). */
static Bitmapset *
changed_columns(TupleDesc desc, HeapTuple oldtup, HeapTuple newtup)
{
	Bitmapset  *cols = NULL;

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		bool		on,
					nn;
		Datum		ov,
					nv;

		if (att->attisdropped)
			continue;
		ov = heap_getattr(oldtup, i + 1, desc, &on);
		nv = heap_getattr(newtup, i + 1, desc, &nn);
		if (on != nn || (!on && !datumIsEqual(ov, nv, att->attbyval, att->attlen)))
			cols = bms_add_member(cols, i + 1);
	}
	return cols;
}

/* The primary key columns as 1-based attnums. */
static Bitmapset *
primary_key_columns(Relation rel)
{
	Bitmapset  *raw = RelationGetIndexAttrBitmap(rel, INDEX_ATTR_BITMAP_PRIMARY_KEY);
	Bitmapset  *cols = NULL;
	int			x = -1;

	while ((x = bms_next_member(raw, x)) >= 0)
		cols = bms_add_member(cols, x + FirstLowInvalidHeapAttributeNumber);
	if (cols == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("audited table \"%s\" has no primary key", RelationGetRelationName(rel)),
				 errdetail("Audit entries name the changed row by its primary key."),
				 errhint("Add a primary key to the table.")));
	return cols;
}

static CanonStr
cstr(const char *s)
{
	CanonStr	c = {s, s ? strlen(s) : 0};

	return c;
}

static KeptPlan capture_plan = {
	"INSERT INTO womgr.audit_pending (" AUDIT_ENTRY_COLUMNS ", leaf_hash)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
	15, {INT8OID, INT8OID, TEXTOID, TEXTOID, INT8OID, JSONOID, JSONOID, JSONOID,
	TEXTOID, TEXTOID, TEXTOID, INETOID, XID8OID, TIMESTAMPTZOID, BYTEAOID}
};

static Oid
audit_relid(const char *name)
{
	Oid			nsp = get_namespace_oid("womgr", false);
	Oid			relid = get_relname_relid(name, nsp);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("womgr.%s does not exist", name),
				 errdetail("The audit log's tables are part of the womgr extension."),
				 errhint("Reinstall womgr.")));
	return relid;
}

static Oid
rel_owner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/* womgr._audit_capture(): AFTER INSERT OR UPDATE OR DELETE ... FOR EACH ROW */
PG_FUNCTION_INFO_V1(womgr_audit_capture);
Datum
womgr_audit_capture(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	desc;
	HeapTuple	oldtup = NULL,
				newtup = NULL,
				row;
	CanonEntry	e;
	int			att;
	bool		isnull;
	Datum		values[15];
	char		nulls[15];
	char		op[2] = {0, 0};
	char	   *actor,
			   *db_role,
			   *app_role,
			   *ip = NULL;
	Datum		ip_datum;
	bool		ip_null;
	TimestampTz now = GetCurrentTimestamp();
	FullTransactionId fxid;
	uint8_t    *enc;
	size_t		enclen;
	uint8_t		leaf[AUDIT_HASH_BYTES];
	Oid			pending,
				save_user;
	int			save_sec,
				spi;

	check_trigger(fcinfo, "womgr_audit_capture", "records changes in the audit log");
	if (!TRIGGER_FIRED_AFTER(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("womgr_audit_capture() must fire AFTER INSERT, UPDATE or DELETE FOR EACH ROW"),
				 errdetail("It was attached to \"%s\" some other way.", RelationGetRelationName(td->tg_relation)),
				 errhint("Reinstall womgr to restore its triggers.")));
	if (!guc_audit_capture || creating_extension)
		return PointerGetDatum(NULL);

	rel = td->tg_relation;
	desc = RelationGetDescr(rel);
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		newtup = td->tg_trigtuple;
		op[0] = 'I';
	}
	else if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
	{
		oldtup = td->tg_trigtuple;
		newtup = td->tg_newtuple;
		op[0] = 'U';
	}
	else
	{
		oldtup = td->tg_trigtuple;
		op[0] = 'D';
	}
	row = newtup ? newtup : oldtup;

	memset(&e, 0, sizeof(e));
	att = SPI_fnumber(desc, "tenant_id");
	if (att <= 0 || TupleDescAttr(desc, att - 1)->atttypid != INT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("audited table \"%s\" has no bigint tenant_id", RelationGetRelationName(rel)),
				 errdetail("Every audit entry belongs to a tenant's chain."),
				 errhint("Attach womgr's audit trigger only to tenant tables.")));
	e.tenant_id = DatumGetInt64(heap_getattr(row, att, desc, &isnull));
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("a row of \"%s\" has no tenant_id", RelationGetRelationName(rel)),
				 errdetail("Every audit entry belongs to a tenant's chain."),
				 errhint("Set tenant_id.")));
	att = SPI_fnumber(desc, "work_order_id");
	if (att > 0 && TupleDescAttr(desc, att - 1)->atttypid == INT8OID)
	{
		Datum		d = heap_getattr(row, att, desc, &isnull);

		e.has_work_order = !isnull;
		if (!isnull)
			e.work_order_id = DatumGetInt64(d);
	}

	e.table_name = cstr(RelationGetRelationName(rel));
	e.operation = op[0];
	e.primary_key = cstr(row_json(desc, row, false, primary_key_columns(rel)));
	if (oldtup != NULL && newtup != NULL)
	{
		/* an update: the columns that changed (none for a no-op update) */
		Bitmapset  *changed = changed_columns(desc, oldtup, newtup);

		e.old_values = cstr(row_json(desc, oldtup, false, changed));
		e.new_values = cstr(row_json(desc, newtup, false, changed));
	}
	else if (oldtup != NULL)
		e.old_values = cstr(row_json(desc, oldtup, true, NULL));
	else
		e.new_values = cstr(row_json(desc, newtup, true, NULL));

	/* who: the application's actor and role, else the role outside SECURITY DEFINER */
	db_role = GetUserNameFromId(GetOuterUserId(), false);
	actor = womgr_context_actor();
	if (actor == NULL)
		actor = db_role;
	app_role = womgr_app_role();
	ip_datum = womgr_client_ip_datum(&ip_null);
	if (!ip_null)
		ip = DatumGetCString(DirectFunctionCall1(inet_out, ip_datum));
	e.actor = cstr(actor);
	e.db_role = cstr(db_role);
	e.app_role = cstr(app_role);
	e.client_ip = cstr(ip);
	fxid = GetTopFullTransactionId();
	e.txid = (int64) U64FromFullTransactionId(fxid);
	e.captured_at_us = audit_unix_us(now);

	pending = audit_relid("audit_pending");
	e.entry_id = nextval_internal(audit_relid("audit_entry_id_seq"), false);

	enc = audit_encode(&e, &enclen);
	canon_leaf(enc, enclen, leaf);

	memset(nulls, ' ', sizeof(nulls));
	values[0] = Int64GetDatum(e.tenant_id);
	values[1] = Int64GetDatum(e.entry_id);
	values[2] = CStringGetTextDatum(RelationGetRelationName(rel));
	values[3] = CStringGetTextDatum(op);
	values[4] = Int64GetDatum(e.work_order_id);
	nulls[4] = e.has_work_order ? ' ' : 'n';
	values[5] = CStringGetTextDatum(e.primary_key.ptr);
	values[6] = e.old_values.ptr ? CStringGetTextDatum(e.old_values.ptr) : (Datum) 0;
	nulls[6] = e.old_values.ptr ? ' ' : 'n';
	values[7] = e.new_values.ptr ? CStringGetTextDatum(e.new_values.ptr) : (Datum) 0;
	nulls[7] = e.new_values.ptr ? ' ' : 'n';
	values[8] = CStringGetTextDatum(actor);
	values[9] = CStringGetTextDatum(db_role);
	values[10] = app_role ? CStringGetTextDatum(app_role) : (Datum) 0;
	nulls[10] = app_role ? ' ' : 'n';
	values[11] = ip_datum;
	nulls[11] = ip_null ? 'n' : ' ';
	values[12] = FullTransactionIdGetDatum(fxid);
	values[13] = TimestampTzGetDatum(now);
	values[14] = PointerGetDatum(audit_bytea(leaf, AUDIT_HASH_BYTES));

	/* the audit tables grant nothing to users: write them as their owner */
	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(rel_owner(pending),
						   save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);
	spi = spi_begin();
	exec_kept(&capture_plan, values, nulls, false, SPI_OK_INSERT);
	spi_end(spi);
	SetUserIdAndSecContext(save_user, save_sec);

	return PointerGetDatum(NULL);
}

uint8_t *
audit_encode(const CanonEntry *e, size_t *len)
{
	size_t		n = canon_size(e);
	uint8_t    *buf;

	if (n > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("audit entry is too large"),
				 errdetail("The entry for a change to \"%.*s\" would take %zu bytes.",
						   (int) e->table_name.len, e->table_name.ptr, n),
				 errhint("Store large documents as attachments, not in row columns.")));
	buf = palloc(n);
	*len = canon_encode(e, buf);
	return buf;
}

bytea *
audit_bytea(const uint8_t *bytes, size_t n)
{
	bytea	   *b = palloc(VARHDRSZ + n);

	SET_VARSIZE(b, VARHDRSZ + n);
	memcpy(VARDATA(b), bytes, n);
	return b;
}

bool
audit_stored_hash(HeapTuple tup, TupleDesc desc, int col, uint8_t out[AUDIT_HASH_BYTES])
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);
	bytea	   *b;

	if (isnull)
		return false;
	b = DatumGetByteaPP(d);
	if (VARSIZE_ANY_EXHDR(b) != AUDIT_HASH_BYTES)
		return false;
	memcpy(out, VARDATA_ANY(b), AUDIT_HASH_BYTES);
	return true;
}

static CanonStr
text_col(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);
	CanonStr	s = {NULL, 0};

	if (!isnull)
	{
		text	   *t = DatumGetTextPP(d);

		s.ptr = VARDATA_ANY(t);
		s.len = VARSIZE_ANY_EXHDR(t);
	}
	return s;
}

void
audit_entry_from_row(HeapTuple tup, TupleDesc desc, CanonEntry *e)
{
	bool		isnull;
	Datum		d;

	memset(e, 0, sizeof(*e));
	e->tenant_id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
	e->entry_id = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
	e->table_name = text_col(tup, desc, 3);
	d = SPI_getbinval(tup, desc, 4, &isnull);
	e->operation = isnull ? '?' : *VARDATA_ANY(DatumGetTextPP(d));
	d = SPI_getbinval(tup, desc, 5, &isnull);
	e->has_work_order = !isnull;
	if (!isnull)
		e->work_order_id = DatumGetInt64(d);
	e->primary_key = text_col(tup, desc, 6);
	e->old_values = text_col(tup, desc, 7);
	e->new_values = text_col(tup, desc, 8);
	e->actor = text_col(tup, desc, 9);
	e->db_role = text_col(tup, desc, 10);
	e->app_role = text_col(tup, desc, 11);
	d = SPI_getbinval(tup, desc, 12, &isnull);
	if (!isnull)
		e->client_ip = cstr(DatumGetCString(DirectFunctionCall1(inet_out, d)));
	e->txid = (int64) U64FromFullTransactionId(DatumGetFullTransactionId(SPI_getbinval(tup, desc, 13, &isnull)));
	e->captured_at_us = audit_unix_us(DatumGetTimestampTz(SPI_getbinval(tup, desc, 14, &isnull)));
}

/* womgr._audit_refuse_truncate(): BEFORE TRUNCATE on every audited table */
PG_FUNCTION_INFO_V1(womgr_audit_refuse_truncate);
Datum
womgr_audit_refuse_truncate(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	check_trigger(fcinfo, "womgr_audit_refuse_truncate", "refuses TRUNCATE of audited tables");
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("TRUNCATE of audited table \"%s\" is refused", RelationGetRelationName(td->tg_relation)),
			 errdetail("TRUNCATE removes rows without recording each one in the audit log."),
			 errhint("Use DELETE, which the audit log records row by row.")));
	PG_RETURN_NULL();
}

/* womgr._audit_append_only(): BEFORE UPDATE OR DELETE OR TRUNCATE on the audit tables */
PG_FUNCTION_INFO_V1(womgr_audit_append_only);
Datum
womgr_audit_append_only(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	const char *op;

	check_trigger(fcinfo, "womgr_audit_append_only", "keeps the audit log append-only");
	/* the sealer moves sealed rows out of audit_pending and advances the head */
	if (audit_sealer_writing && !TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
		return PointerGetDatum(NULL);
	op = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? "UPDATE" :
		TRIGGER_FIRED_BY_DELETE(td->tg_event) ? "DELETE" : "TRUNCATE";
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("%s is append-only", RelationGetRelationName(td->tg_relation)),
			 errdetail("%s is refused for everyone: the audit log is never changed or shortened.", op),
			 errhint("Audit entries are added by womgr's triggers and sealed by womgr.audit_seal().")));
	PG_RETURN_NULL();
}
