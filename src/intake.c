/*
 * intake.c: womgr.create_work_order(p_tenant_id, p_spec), the validated and
 * idempotent way work enters womgr from any channel (manual, portal, API,
 * e-mail, preventive maintenance).
 *
 * Spec: {"customer_id", "site_id", "type", "description"} are required;
 * "priority", "asset_id", "branch_id", "requested_window", "restricted",
 * "source", "external_ref", "template" and "completion_requirements" are
 * optional.  A template supplies the type, priority and description the
 * spec leaves out, and its extra proof-of-completion requirements.  Every reference is checked in
 * one round trip, so a bad spec writes nothing; the row triggers in
 * work_order.c then number the work order and append its "created" event.
 */
#include "womgr.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/rangetypes.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#define WO_SPEC "work order"
#define EXTERNAL_REF_MAX 200

static const char *const wo_spec_keys[] = {
	"customer_id", "site_id", "type", "priority", "description", "asset_id",
	"branch_id", "requested_window", "restricted", "source", "external_ref",
	"template", "completion_requirements", NULL
};

static KeptPlan existing_plan = {
	"SELECT work_order_id FROM womgr.work_order"
	" WHERE tenant_id = $1 AND source = $2 AND external_ref = $3",
	3, {INT8OID, TEXTOID, TEXTOID}
};

/* Every reference of the spec, looked up at once; a NULL column means "not found". */
static KeptPlan lookup_plan = {
	"SELECT t.tenant_id, c.customer_id, c.active, c.branch_id,"
	"       s.site_id, s.customer_id, s.active, s.branch_id,"
	"       ty.work_order_type_id, ty.active, ty.default_priority_id,"
	"       p.priority_id, a.asset_id, a.site_id, b.branch_id, a.active, b.active,"
	"       tp.template_id, tp.active, tp.priority_id, tp.description, tp.extra_requirements,"
	"       ty.code"
	"  FROM (SELECT $1::bigint AS tenant_id) x"
	"  LEFT JOIN womgr.tenant t ON t.tenant_id = x.tenant_id"
	"  LEFT JOIN womgr.customer c ON c.tenant_id = x.tenant_id AND c.customer_id = $2"
	"  LEFT JOIN womgr.site s ON s.tenant_id = x.tenant_id AND s.site_id = $3"
	"  LEFT JOIN womgr.work_order_template tp ON tp.tenant_id = x.tenant_id AND tp.code = $8"
	"  LEFT JOIN womgr.work_order_type ty ON ty.tenant_id = x.tenant_id"
	"   AND (ty.code = $4 OR ($4 IS NULL AND ty.work_order_type_id = tp.work_order_type_id))"
	"  LEFT JOIN womgr.priority p ON p.tenant_id = x.tenant_id AND p.code = $5"
	"  LEFT JOIN womgr.asset a ON a.tenant_id = x.tenant_id AND a.asset_id = $6"
	"  LEFT JOIN womgr.branch b ON b.tenant_id = x.tenant_id AND b.branch_id = $7",
	8, {INT8OID, INT8OID, INT8OID, TEXTOID, TEXTOID, INT8OID, INT8OID, TEXTOID}
};

static KeptPlan insert_plan = {
	"INSERT INTO womgr.work_order (tenant_id, branch_id, customer_id, site_id, asset_id,"
	"  work_order_type_id, priority_id, requested_window, description, restricted,"
	"  source, external_ref, template_id, extra_requirements)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,"
	"         womgr._merge_requirements($14, $15))"
	" ON CONFLICT (tenant_id, source, external_ref) WHERE external_ref IS NOT NULL DO NOTHING"
	" RETURNING work_order_id",
	15, {INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, TSTZRANGEOID,
	TEXTOID, BOOLOID, TEXTOID, TEXTOID, INT8OID, JSONBOID, JSONBOID}
};

typedef struct WorkOrderSpec
{
	int64		customer_id;
	int64		site_id;
	char	   *type;
	char	   *priority;		/* NULL: the type's default */
	char	   *description;
	bool		has_asset;
	int64		asset_id;
	bool		has_branch;
	int64		branch_id;
	bool		has_window;
	TimestampTz window_from;
	TimestampTz window_to;
	bool		restricted;
	char	   *source;
	char	   *external_ref;	/* NULL: not idempotent */
	char	   *template;		/* NULL: none */
	Jsonb	   *requirements;	/* NULL: none */
} WorkOrderSpec;

static void
read_spec(Jsonb *spec, WorkOrderSpec *wo)
{
	spec_check_keys(spec, wo_spec_keys, WO_SPEC);
	spec_int8(spec, "customer_id", true, WO_SPEC, &wo->customer_id);
	spec_int8(spec, "site_id", true, WO_SPEC, &wo->site_id);
	wo->template = spec_text(spec, "template", false, WO_SPEC);
	wo->type = spec_text(spec, "type", wo->template == NULL, WO_SPEC);
	wo->priority = spec_text(spec, "priority", false, WO_SPEC);
	wo->description = spec_text(spec, "description", wo->template == NULL, WO_SPEC);
	{
		JsonbValue	v;

		if (spec_get(spec, "completion_requirements", &v) && v.type != jbvNull)
		{
			if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("field \"completion_requirements\" of the work order spec must be a JSON object"),
						 errdetail("It is not an object."),
						 errhint("Send {\"signature\": true, \"min_after_photos\": 2, \"max_distance_m\": 200, \"customer_confirmation\": true}.")));
			wo->requirements = JsonbValueToJsonb(&v);
		}
	}
	wo->has_asset = spec_int8(spec, "asset_id", false, WO_SPEC, &wo->asset_id);
	wo->has_branch = spec_int8(spec, "branch_id", false, WO_SPEC, &wo->branch_id);
	wo->has_window = spec_timestamptz_range(spec, "requested_window", WO_SPEC,
											&wo->window_from, &wo->window_to);
	if (!spec_bool(spec, "restricted", false, WO_SPEC, &wo->restricted))
		wo->restricted = false;
	wo->source = spec_text(spec, "source", false, WO_SPEC);
	if (wo->source == NULL)
		wo->source = "manual";
	else
	{
		for (const char *p = wo->source; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
				  *p == '-' || *p == '.') || p - wo->source >= 40)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("field \"source\" of the work order spec must be a lower-case channel code"),
						 errdetail("\"%s\" is not 1 to 40 characters of a-z, 0-9, \"_\", \"-\" or \".\".", wo->source),
						 errhint("Use a code such as \"portal\", \"api\", \"email\" or \"whatsapp\".")));
	}
	wo->external_ref = spec_text(spec, "external_ref", false, WO_SPEC);
	if (wo->external_ref != NULL && strlen(wo->external_ref) > EXTERNAL_REF_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("field \"external_ref\" of the work order spec is too long"),
				 errdetail("It has %zu bytes; at most %d are allowed.",
						   strlen(wo->external_ref), EXTERNAL_REF_MAX),
				 errhint("Send the sender's id, not a description.")));
}

static void
not_found(const char *what, const char *key, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
			 errmsg("%s %s does not exist", what, key),
			 errdetail("This tenant has no %s %s.", what, key),
			 errhint("%s", hint)));
}

static void
inactive(const char *what, const char *key)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("%s %s is inactive", what, key),
			 errdetail("New work orders cannot use an inactive %s.", what),
			 errhint("Reactivate it with its update function, or choose another.")));
}

static char *
id_str(int64 v)
{
	return psprintf("%lld", (long long) v);
}

static char *
quoted(const char *s)
{
	return psprintf("\"%s\"", s);
}

/*
 * Return the existing work order for (source, external_ref), or 0.  With
 * fresh_snapshot the lookup sees rows committed since the statement began
 * (READ COMMITTED), as it must after ON CONFLICT found a concurrent twin.
 */
static int64
existing_work_order(int64 tenant_id, WorkOrderSpec *wo, bool fresh_snapshot)
{
	Datum		args[3];
	bool		isnull;

	args[0] = Int64GetDatum(tenant_id);
	args[1] = CStringGetTextDatum(wo->source);
	args[2] = CStringGetTextDatum(wo->external_ref);
	exec_kept(&existing_plan, args, NULL, !fresh_snapshot, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return 0;
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* Check every reference; fill in the resolved ids. */
static void
resolve_references(int64 tenant_id, WorkOrderSpec *wo, int64 *type_id,
				   int64 *priority_id, Datum *branch_id, bool *branch_null,
				   Datum *template_id, bool *template_null, Datum *template_extra)
{
	Datum		args[8];
	char		nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	HeapTuple	row;
	TupleDesc	desc;
	bool		isnull;
	Datum		d;

	args[0] = Int64GetDatum(tenant_id);
	args[1] = Int64GetDatum(wo->customer_id);
	args[2] = Int64GetDatum(wo->site_id);
	if (wo->type)
		args[3] = CStringGetTextDatum(wo->type);
	else
		nulls[3] = 'n';
	if (wo->template)
		args[7] = CStringGetTextDatum(wo->template);
	else
		nulls[7] = 'n';
	if (wo->priority)
		args[4] = CStringGetTextDatum(wo->priority);
	else
		nulls[4] = 'n';
	args[5] = Int64GetDatum(wo->asset_id);
	if (!wo->has_asset)
		nulls[5] = 'n';
	args[6] = Int64GetDatum(wo->branch_id);
	if (!wo->has_branch)
		nulls[6] = 'n';
	exec_kept(&lookup_plan, args, nulls, true, SPI_OK_SELECT);
	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;

	(void) SPI_getbinval(row, desc, 1, &isnull);
	if (isnull)
		not_found("tenant", id_str(tenant_id),
				  "Call womgr.set_context() for the tenant first, and check its id in womgr.tenant.");

	(void) SPI_getbinval(row, desc, 2, &isnull);
	if (isnull)
		not_found("customer", id_str(wo->customer_id),
				  "Create the customer with womgr.create_customer() first.");
	if (!DatumGetBool(SPI_getbinval(row, desc, 3, &isnull)))
		inactive("customer", id_str(wo->customer_id));

	(void) SPI_getbinval(row, desc, 5, &isnull);
	if (isnull)
		not_found("site", id_str(wo->site_id),
				  "Create the site with womgr.create_site() first.");
	d = SPI_getbinval(row, desc, 6, &isnull);
	if (DatumGetInt64(d) != wo->customer_id)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("site %lld does not belong to customer %lld",
						(long long) wo->site_id, (long long) wo->customer_id),
				 errdetail("Site %lld belongs to customer %lld.",
						   (long long) wo->site_id, (long long) DatumGetInt64(d)),
				 errhint("Send the site's own customer, or another site of this customer.")));
	if (!DatumGetBool(SPI_getbinval(row, desc, 7, &isnull)))
		inactive("site", id_str(wo->site_id));

	*template_null = true;
	*template_extra = (Datum) 0;
	if (wo->template)
	{
		*template_id = SPI_getbinval(row, desc, 18, template_null);
		if (*template_null)
			not_found("work order template", quoted(wo->template),
					  "Create it with womgr.create_work_order_template(), or list them in womgr.work_order_template.");
		if (!DatumGetBool(SPI_getbinval(row, desc, 19, &isnull)))
			inactive("work order template", quoted(wo->template));
		if (wo->description == NULL)
			wo->description = SPI_getvalue(row, desc, 21);
		*template_extra = SPI_datumTransfer(SPI_getbinval(row, desc, 22, &isnull), false, -1);
	}

	d = SPI_getbinval(row, desc, 9, &isnull);
	if (isnull)
		not_found("work order type", quoted(wo->type),
				  "List types with SELECT code, name FROM womgr.work_order_type WHERE tenant_id = <tenant>.");
	*type_id = DatumGetInt64(d);
	if (wo->type == NULL)
		wo->type = SPI_getvalue(row, desc, 23);
	if (!DatumGetBool(SPI_getbinval(row, desc, 10, &isnull)))
		inactive("work order type", quoted(wo->type));

	if (wo->priority)
	{
		d = SPI_getbinval(row, desc, 12, &isnull);
		if (isnull)
			not_found("priority", quoted(wo->priority),
					  "List priorities with SELECT code, rank FROM womgr.priority WHERE tenant_id = <tenant>.");
	}
	else
	{
		d = SPI_getbinval(row, desc, 20, &isnull);	/* the template's */
		if (isnull)
			d = SPI_getbinval(row, desc, 11, &isnull);	/* the type's default */
	}
	*priority_id = DatumGetInt64(d);

	if (wo->has_asset)
	{
		(void) SPI_getbinval(row, desc, 13, &isnull);
		if (isnull)
			not_found("asset", id_str(wo->asset_id),
					  "Create the asset with womgr.create_asset() first, or leave asset_id out.");
		d = SPI_getbinval(row, desc, 14, &isnull);
		if (DatumGetInt64(d) != wo->site_id)
			ereport(ERROR,
					(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
					 errmsg("asset %lld is not at site %lld",
							(long long) wo->asset_id, (long long) wo->site_id),
					 errdetail("Asset %lld is at site %lld.",
							   (long long) wo->asset_id, (long long) DatumGetInt64(d)),
					 errhint("Send the asset's own site, or leave asset_id out.")));
		if (!DatumGetBool(SPI_getbinval(row, desc, 16, &isnull)))
			inactive("asset", id_str(wo->asset_id));
	}

	/* branch: the spec's, else the site's, else the customer's */
	if (wo->has_branch)
	{
		*branch_id = SPI_getbinval(row, desc, 15, branch_null);
		if (*branch_null)
			not_found("branch", id_str(wo->branch_id),
					  "List branches with SELECT branch_id, code FROM womgr.branch WHERE tenant_id = <tenant>.");
		if (!DatumGetBool(SPI_getbinval(row, desc, 17, &isnull)))
			inactive("branch", id_str(wo->branch_id));
	}
	else
	{
		*branch_id = SPI_getbinval(row, desc, 8, branch_null);
		if (*branch_null)
			*branch_id = SPI_getbinval(row, desc, 4, branch_null);
	}
}

static Datum
make_window(WorkOrderSpec *wo)
{
	TypeCacheEntry *typcache = lookup_type_cache(TSTZRANGEOID, TYPECACHE_RANGE_INFO);
	RangeBound	lower = {0},
				upper = {0};

	lower.val = TimestampTzGetDatum(wo->window_from);
	lower.infinite = false;
	lower.inclusive = true;
	lower.lower = true;
	upper.val = TimestampTzGetDatum(wo->window_to);
	upper.infinite = false;
	upper.inclusive = false;
	upper.lower = false;
	return RangeTypePGetDatum(make_range(typcache, &lower, &upper, false));
}

/* womgr.create_work_order(p_tenant_id, p_spec): validated, idempotent intake */
PG_FUNCTION_INFO_V1(womgr_create_work_order);
Datum
womgr_create_work_order(PG_FUNCTION_ARGS)
{
	int64		tenant_id;
	Jsonb	   *spec;
	WorkOrderSpec wo = {0};
	int64		result;
	int64		type_id,
				priority_id;
	Datum		branch_id;
	bool		branch_null;
	Datum		template_id = (Datum) 0;
	bool		template_null;
	Datum		template_extra;
	Datum		args[15];
	char		nulls[15] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	bool		isnull;
	int			spi;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tenant must not be null"),
				 errdetail("womgr.create_work_order() needs the tenant the work order belongs to."),
				 errhint("Pass womgr.default_tenant_id() if you run a single company.")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the work order spec must not be null"),
				 errdetail("A JSON object with customer_id, site_id, type and description is required."),
				 errhint("See womgr.create_work_order in the reference.")));
	tenant_id = PG_GETARG_INT64(0);
	spec = PG_GETARG_JSONB_P(1);
	read_spec(spec, &wo);

	spi = spi_begin();

	if (wo.external_ref && (result = existing_work_order(tenant_id, &wo, false)) != 0)
	{
		spi_end(spi);
		PG_RETURN_INT64(result);
	}

	resolve_references(tenant_id, &wo, &type_id, &priority_id, &branch_id, &branch_null,
					   &template_id, &template_null, &template_extra);

	args[0] = Int64GetDatum(tenant_id);
	args[1] = branch_id;
	nulls[1] = branch_null ? 'n' : ' ';
	args[2] = Int64GetDatum(wo.customer_id);
	args[3] = Int64GetDatum(wo.site_id);
	args[4] = Int64GetDatum(wo.asset_id);
	nulls[4] = wo.has_asset ? ' ' : 'n';
	args[5] = Int64GetDatum(type_id);
	args[6] = Int64GetDatum(priority_id);
	if (wo.has_window)
		args[7] = make_window(&wo);
	else
		nulls[7] = 'n';
	args[8] = CStringGetTextDatum(wo.description);
	args[9] = BoolGetDatum(wo.restricted);
	args[10] = CStringGetTextDatum(wo.source);
	if (wo.external_ref)
		args[11] = CStringGetTextDatum(wo.external_ref);
	else
		nulls[11] = 'n';
	args[12] = template_id;
	nulls[12] = template_null ? 'n' : ' ';
	args[13] = wo.requirements ? JsonbPGetDatum(wo.requirements) : (Datum) 0;
	nulls[13] = wo.requirements ? ' ' : 'n';
	args[14] = template_extra;
	nulls[14] = template_null ? 'n' : ' ';
	exec_kept(&insert_plan, args, nulls, false, SPI_OK_INSERT_RETURNING);

	if (SPI_processed == 1)
		result = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	else
	{
		/* a concurrent intake of the same external_ref committed first */
		result = existing_work_order(tenant_id, &wo, true);
		if (result == 0)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access due to a concurrent intake of external_ref \"%s\"",
							wo.external_ref),
					 errdetail("Another transaction created a work order with the same source and external_ref, and this snapshot cannot see it."),
					 errhint("Retry the transaction: the retry returns that work order.")));
	}
	spi_end(spi);
	PG_RETURN_INT64(result);
}
