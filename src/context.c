/*
 * context.c: "who is acting".  womgr.set_context() stores the tenant, the
 * application's actor and the client address in transaction-local settings;
 * everything that records "who" (events, audit, approvals) reads them through
 * the helpers here, falling back to the database role and the connection.
 */
#include "womgr.h"

#include <sys/socket.h>

#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inet.h"
#include "lib/stringinfo.h"
#include "catalog/pg_type.h"
#include "utils/array.h"

#define WOMGR_ACTOR_MAX 200

static char *guc_tenant_id = NULL;
static char *guc_actor = NULL;
static char *guc_client_ip = NULL;
static char *guc_role = NULL;

/* womgr's roles by short name; bit i of a role mask is role_names[i] */
static const char *const role_names[WOMGR_NROLES] = {
	"admin", "manager", "dispatcher", "technician", "accountant", "auditor", "customer", "bi"
};

/* Index of a short role name, or -1. */
int
womgr_role_index(const char *name)
{
	for (int i = 0; i < WOMGR_NROLES; i++)
		if (strcmp(role_names[i], name) == 0)
			return i;
	return -1;
}

/* "manager, dispatcher" for a role mask; "no womgr role" for 0 */
char *
womgr_role_list(uint32 mask)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < WOMGR_NROLES; i++)
		if (mask & (1U << i))
			appendStringInfo(&buf, "%s%s", buf.len ? ", " : "", role_names[i]);
	if (buf.len == 0)
		appendStringInfoString(&buf, "no womgr role");
	return buf.data;
}

/* Whether the current user may act as womgr_<name> (superusers may act as any). */
static bool
may_act_as(int idx)
{
	char		dbrole[NAMEDATALEN];
	Oid			roleid;

	if (superuser())
		return true;
	snprintf(dbrole, sizeof(dbrole), "womgr_%s", role_names[idx]);
	roleid = get_role_oid(dbrole, true);
	return OidIsValid(roleid) && is_member_of_role(GetUserId(), roleid);
}

/* Raises unless the current user may act as the womgr role idx. */
static void
require_may_act_as(int idx)
{
	if (!may_act_as(idx))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("role \"%s\" may not act as womgr role \"%s\"", womgr_db_role_name(), role_names[idx]),
				 errdetail("The database user is not a member of womgr_%s.", role_names[idx]),
				 errhint("GRANT womgr_%s to the user (womgr.create_roles() creates the roles), or choose another role in womgr.set_context().",
						 role_names[idx])));
}

/*
 * The womgr roles the current transaction acts in: the one chosen with
 * womgr.set_context() (checked again here, since the setting can also be
 * changed with SET), else every womgr_* role the database user belongs to.
 */
uint32
womgr_acting_roles(void)
{
	uint32		mask = 0;

	if (guc_role != NULL && guc_role[0] != '\0')
	{
		/* the check hook admits only womgr's role names */
		int			idx = womgr_role_index(guc_role);

		if (idx < 0)
			elog(ERROR, "womgr.role holds an unknown role \"%s\"", guc_role);
		require_may_act_as(idx);
		return 1U << idx;
	}
	for (int i = 0; i < WOMGR_NROLES; i++)
		if (may_act_as(i))
			mask |= 1U << i;
	return mask;
}

/* womgr.role must be empty or one of womgr's role names */
static bool
check_role(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || **newval == '\0')
		return true;
	if (womgr_role_index(*newval) < 0)
	{
		GUC_check_errdetail("womgr.role must be empty or one of admin, manager, dispatcher, technician, accountant, auditor, customer, bi; not \"%s\".", *newval);
		return false;
	}
	return true;
}

/* womgr.tenant_id must be empty or a positive bigint */
static bool
check_tenant_id(char **newval, void **extra, GucSource source)
{
	int64		v;
	char	   *end;

	if (*newval == NULL || **newval == '\0')
		return true;
	errno = 0;
	v = strtoi64(*newval, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0)
	{
		GUC_check_errdetail("womgr.tenant_id must be a positive bigint, not \"%s\".", *newval);
		return false;
	}
	return true;
}

/* womgr.actor must not be blank and at most WOMGR_ACTOR_MAX bytes */
static bool
check_actor(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || **newval == '\0')
		return true;
	if (strspn(*newval, " \t\r\n") == strlen(*newval) || strlen(*newval) > WOMGR_ACTOR_MAX)
	{
		GUC_check_errdetail("womgr.actor must be empty or 1 to %d bytes that are not all blank.",
							WOMGR_ACTOR_MAX);
		return false;
	}
	return true;
}

/* womgr.client_ip must be empty or an IPv4/IPv6 address */
static bool
check_client_ip(char **newval, void **extra, GucSource source)
{
	unsigned char buf[16];
	const char *s = *newval;

	if (s == NULL || *s == '\0')
		return true;
	if (pg_inet_net_pton(PGSQL_AF_INET, s, buf, -1) < 0 &&
		pg_inet_net_pton(PGSQL_AF_INET6, s, buf, -1) < 0)
	{
		GUC_check_errdetail("womgr.client_ip must be empty or an IP address, not \"%s\".", s);
		return false;
	}
	return true;
}

void
ContextInit(void)
{
	DefineCustomStringVariable("womgr.tenant_id",
							   "Tenant the current transaction acts for (set by womgr.set_context).",
							   NULL, &guc_tenant_id, "", PGC_USERSET, 0,
							   check_tenant_id, NULL, NULL);
	DefineCustomStringVariable("womgr.actor",
							   "Application user acting in the current transaction (set by womgr.set_context).",
							   "Empty means the database role is the actor.",
							   &guc_actor, "", PGC_USERSET, 0, check_actor, NULL, NULL);
	DefineCustomStringVariable("womgr.client_ip",
							   "Client address of the application user (set by womgr.set_context).",
							   "Empty means the address of the database connection.",
							   &guc_client_ip, "", PGC_USERSET, 0, check_client_ip, NULL, NULL);
	DefineCustomStringVariable("womgr.role",
							   "womgr role the current transaction acts in (set by womgr.set_context).",
							   "Empty means every womgr role the database user is a member of.",
							   &guc_role, "", PGC_USERSET, 0, check_role, NULL, NULL);
}

/* The actor: womgr.actor when set, else the current database role. */
char *
womgr_actor_name(void)
{
	if (guc_actor != NULL && guc_actor[0] != '\0')
		return pstrdup(guc_actor);
	return womgr_db_role_name();
}

/* The actor set with womgr.set_context(), or NULL. */
char *
womgr_context_actor(void)
{
	return (guc_actor != NULL && guc_actor[0] != '\0') ? pstrdup(guc_actor) : NULL;
}

/* The womgr role chosen with womgr.set_context(), or NULL. */
char *
womgr_app_role(void)
{
	return (guc_role != NULL && guc_role[0] != '\0') ? pstrdup(guc_role) : NULL;
}

char *
womgr_db_role_name(void)
{
	return GetUserNameFromId(GetUserId(), false);
}

/* The client address: womgr.client_ip when set, else the connection's peer. */
Datum
womgr_client_ip_datum(bool *isnull)
{
	LOCAL_FCINFO(peer, 0);
	Datum		d;

	*isnull = false;
	if (guc_client_ip != NULL && guc_client_ip[0] != '\0')
		return DirectFunctionCall1(inet_in, CStringGetDatum(guc_client_ip));

	/* inet_client_addr() is NULL over a Unix socket */
	InitFunctionCallInfoData(*peer, NULL, 0, InvalidOid, NULL, NULL);
	d = inet_client_addr(peer);
	*isnull = peer->isnull;
	return d;
}

/* The tenant set by womgr.set_context, if any. */
bool
womgr_context_tenant(int64 *tenant_id)
{
	if (guc_tenant_id == NULL || guc_tenant_id[0] == '\0')
		return false;
	*tenant_id = strtoi64(guc_tenant_id, NULL, 10);
	return true;
}

static void
set_local(const char *name, const char *value)
{
	(void) set_config_option(name, value, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_LOCAL, true, 0, false);
}

/* SECURITY DEFINER: the tenant row is invisible until the context is set */
static KeptPlan tenant_exists_plan = {
	"SELECT womgr._tenant_exists($1)",
	1, {INT8OID}
};

/* Raises 23503 unless the tenant exists (past row-level security); detail says why it must. */
void
womgr_require_tenant_exists(int64 tenant_id, const char *detail)
{
	Datum		values[1];
	bool		isnull;
	int			spi;

	values[0] = Int64GetDatum(tenant_id);
	spi = spi_begin();
	exec_kept(&tenant_exists_plan, values, NULL, true, SPI_OK_SELECT);
	if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("tenant %lld does not exist", (long long) tenant_id),
				 errdetail("%s", detail),
				 errhint("Check the tenant id in womgr.tenant.")));
	spi_end(spi);
}

/* womgr.set_context(tenant, actor, client_ip): transaction-local "who is acting" */
PG_FUNCTION_INFO_V1(womgr_set_context);
Datum
womgr_set_context(PG_FUNCTION_ARGS)
{
	int64		tenant_id;
	char	   *actor = NULL;
	char	   *role_arg = NULL;
	char		buf[32];

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tenant must not be null"),
				 errdetail("womgr.set_context() needs the tenant the transaction acts for."),
				 errhint("Pass womgr.default_tenant_id() if you run a single company.")));
	tenant_id = PG_GETARG_INT64(0);
	if (tenant_id <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tenant id must be positive, not %lld", (long long) tenant_id),
				 errdetail("Tenant ids are positive bigints."),
				 errhint("Pass womgr.default_tenant_id() if you run a single company.")));

	if (!PG_ARGISNULL(1))
	{
		actor = text_to_cstring(PG_GETARG_TEXT_PP(1));
		if (strspn(actor, " \t\r\n") == strlen(actor))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("actor must not be empty"),
					 errdetail("The actor names the application user who acts in this transaction."),
					 errhint("Pass NULL to record the database role as the actor.")));
		if (strlen(actor) > WOMGR_ACTOR_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
					 errmsg("actor is too long"),
					 errdetail("The actor has %zu bytes; at most %d are allowed.",
							   strlen(actor), WOMGR_ACTOR_MAX),
					 errhint("Pass a user id or login name, not a description.")));
	}

	if (!PG_ARGISNULL(3))
	{
		char	   *role = text_to_cstring(PG_GETARG_TEXT_PP(3));
		int			idx = womgr_role_index(role);

		if (idx < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"%s\" is not a womgr role", role),
					 errdetail("womgr's roles are admin, manager, dispatcher, technician, accountant, auditor, customer and bi."),
					 errhint("Pass NULL to act in every womgr role the database user belongs to.")));
		require_may_act_as(idx);
		role_arg = role;
	}
	womgr_require_tenant_exists(tenant_id, "womgr.set_context() can only act for an existing tenant.");

	if (!IsTransactionBlock())
		ereport(WARNING,
				(errcode(ERRCODE_NO_ACTIVE_SQL_TRANSACTION),
				 errmsg("womgr.set_context() outside a transaction block lasts only for this statement"),
				 errhint("Call it after BEGIN, in the same transaction as the work it describes.")));

	snprintf(buf, sizeof(buf), INT64_FORMAT, tenant_id);
	set_local("womgr.tenant_id", buf);
	set_local("womgr.actor", actor ? actor : "");
	set_local("womgr.role", role_arg ? role_arg : "");
	if (PG_ARGISNULL(2))
		set_local("womgr.client_ip", "");
	else
		set_local("womgr.client_ip",
				  DatumGetCString(DirectFunctionCall1(inet_out, PG_GETARG_DATUM(2))));
	PG_RETURN_VOID();
}

/* womgr.current_actor(): the actor recorded for changes made now */
PG_FUNCTION_INFO_V1(womgr_current_actor);
Datum
womgr_current_actor(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(womgr_actor_name()));
}

/* womgr.current_tenant_id(): the tenant set by womgr.set_context, or NULL */
PG_FUNCTION_INFO_V1(womgr_current_tenant_id);
Datum
womgr_current_tenant_id(PG_FUNCTION_ARGS)
{
	int64		tenant_id;

	if (!womgr_context_tenant(&tenant_id))
		PG_RETURN_NULL();
	PG_RETURN_INT64(tenant_id);
}

/* womgr.current_client_ip(): the client address recorded for changes made now */
PG_FUNCTION_INFO_V1(womgr_current_client_ip);
Datum
womgr_current_client_ip(PG_FUNCTION_ARGS)
{
	bool		isnull;
	Datum		d = womgr_client_ip_datum(&isnull);

	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(d);
}

/* womgr.current_roles(): the womgr roles the transaction acts in */
PG_FUNCTION_INFO_V1(womgr_current_roles);
Datum
womgr_current_roles(PG_FUNCTION_ARGS)
{
	uint32		mask = womgr_acting_roles();
	Datum		elems[WOMGR_NROLES];
	int			n = 0;

	for (int i = 0; i < WOMGR_NROLES; i++)
		if (mask & (1U << i))
			elems[n++] = CStringGetTextDatum(role_names[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}
