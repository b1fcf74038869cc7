/*
 * spec.c: validation of the jsonb "spec" documents that the public
 * functions take (create_work_order, create_branch, ...).  One place decides
 * the SQLSTATE and wording for each kind of mistake:
 *
 *   22004 null_value_not_allowed   a required field is missing or null
 *   42804 datatype_mismatch        a field has the wrong JSON type
 *   22023 invalid_parameter_value  an unknown field, an empty string, a bad value
 *   22003 numeric_value_out_of_range  a number outside its range
 *
 * The C helpers are used by the C entry points; thin SQL wrappers
 * (womgr._spec_*) give the PL/pgSQL functions the same checks and messages.
 */
#include "womgr.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

static const char *
jsonb_type_name(const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return "null";
		case jbvString:
			return "string";
		case jbvNumeric:
			return "number";
		case jbvBool:
			return "boolean";
		case jbvArray:
			return "array";
		case jbvObject:
			return "object";
		case jbvBinary:
			return JsonContainerIsArray(v->val.binary.data) ? "array" : "object";
		default:
			return "value";
	}
}

static void
spec_wrong_type(const char *key, const char *what, const char *expected, const JsonbValue *v)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("field \"%s\" of the %s spec must be a JSON %s", key, what, expected),
			 errdetail("It is a JSON %s.", jsonb_type_name(v)),
			 errhint("Send \"%s\" as a JSON %s.", key, expected)));
}

static void
spec_missing(const char *key, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
			 errmsg("the %s spec needs field \"%s\"", what, key),
			 errdetail("Field \"%s\" is missing or null.", key),
			 errhint("Add \"%s\" to the spec.", key)));
}

void
spec_check_object(Jsonb *spec, const char *what)
{
	if (!JB_ROOT_IS_OBJECT(spec))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the %s spec must be a JSON object", what),
				 errdetail("It is a JSON %s.",
						   JB_ROOT_IS_SCALAR(spec) ? "scalar" : "array"),
				 errhint("Pass an object such as '{\"name\": \"...\"}'::jsonb.")));
}

/* Every top-level key must be in the NULL-terminated list allowed. */
void
spec_check_keys(Jsonb *spec, const char *const *allowed, const char *what)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;

	spec_check_object(spec, what);
	it = JsonbIteratorInit(&spec->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		const char *const *a;
		bool		known = false;

		if (tok != WJB_KEY)
			continue;
		for (a = allowed; *a != NULL; a++)
			if (strlen(*a) == (size_t) v.val.string.len &&
				memcmp(*a, v.val.string.val, v.val.string.len) == 0)
			{
				known = true;
				break;
			}
		if (!known)
		{
			StringInfoData list;

			initStringInfo(&list);
			for (a = allowed; *a != NULL; a++)
				appendStringInfo(&list, "%s%s", a == allowed ? "" : ", ", *a);
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown field \"%.*s\" in the %s spec",
							v.val.string.len, v.val.string.val, what),
					 errdetail("The %s spec accepts: %s.", what, list.data),
					 errhint("Check the spelling of the field name.")));
		}
	}
}

/* Look up key; false when it is missing or JSON null. */
bool
spec_get(Jsonb *spec, const char *key, JsonbValue *out)
{
	JsonbValue *v;

	if (!JB_ROOT_IS_OBJECT(spec))
		return false;
	v = getKeyJsonValueFromContainer(&spec->root, key, strlen(key), out);
	return v != NULL && v->type != jbvNull;
}

char *
spec_text(Jsonb *spec, const char *key, bool required, const char *what)
{
	JsonbValue	v;
	char	   *s;

	if (!spec_get(spec, key, &v))
	{
		if (required)
			spec_missing(key, what);
		return NULL;
	}
	if (v.type != jbvString)
		spec_wrong_type(key, what, "string", &v);
	s = pnstrdup(v.val.string.val, v.val.string.len);
	if (strspn(s, " \t\r\n") == strlen(s))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("field \"%s\" of the %s spec must not be empty", key, what),
				 errdetail("It holds only white space or nothing."),
				 errhint("Leave the field out if it has no value.")));
	return s;
}

/* Plain decimal syntax: [+-]digits[.digits][e[+-]digits]; numeric_in cannot fail on it. */
static bool
looks_numeric(const char *s)
{
	const char *p = s;
	bool		digits = false;

	if (*p == '+' || *p == '-')
		p++;
	for (; *p >= '0' && *p <= '9'; p++)
		digits = true;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			digits = true;
	if (!digits)
		return false;
	if (*p == 'e' || *p == 'E')
	{
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0' && p - s < 64;
}

/* A JSON number or numeric string as numeric; ids arrive as strings from JavaScript. */
static bool
spec_numeric_value(Jsonb *spec, const char *key, bool required, const char *what,
				   Numeric *out)
{
	JsonbValue	v;

	if (!spec_get(spec, key, &v))
	{
		if (required)
			spec_missing(key, what);
		return false;
	}
	if (v.type == jbvNumeric)
		*out = v.val.numeric;
	else if (v.type == jbvString)
	{
		char	   *s = pnstrdup(v.val.string.val, v.val.string.len);

		if (!looks_numeric(s))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("field \"%s\" of the %s spec must be a JSON number", key, what),
					 errdetail("It is the string \"%s\", which does not hold a number.", s),
					 errhint("Send \"%s\" as a JSON number, or as a string of digits.", key)));
		*out = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(s),
												   ObjectIdGetDatum(InvalidOid),
												   Int32GetDatum(-1)));
	}
	else
		spec_wrong_type(key, what, "number", &v);
	if (numeric_is_nan(*out) || numeric_is_inf(*out))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("field \"%s\" of the %s spec must be a finite number", key, what),
				 errdetail("NaN and infinity are not accepted."),
				 errhint("Send an ordinary number.")));
	return true;
}

bool
spec_int8(Jsonb *spec, const char *key, bool required, const char *what, int64 *out)
{
	Numeric		n;
	Datum		trunc;
	char	   *digits;
	char	   *end;

	if (!spec_numeric_value(spec, key, required, what, &n))
		return false;
	trunc = DirectFunctionCall2(numeric_trunc, NumericGetDatum(n), Int32GetDatum(0));
	if (!DatumGetBool(DirectFunctionCall2(numeric_eq, trunc, NumericGetDatum(n))))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("field \"%s\" of the %s spec must be a whole number", key, what),
				 errdetail("It is %s.",
						   DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(n)))),
				 errhint("Ids and counts have no fractional part.")));
	digits = DatumGetCString(DirectFunctionCall1(numeric_out, trunc));
	errno = 0;
	*out = strtoi64(digits, &end, 10);
	if (errno != 0 || *end != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("field \"%s\" of the %s spec is out of range for bigint", key, what),
				 errdetail("It is %s.",
						   DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(n)))),
				 errhint("Ids are positive bigints.")));
	return true;
}

bool
spec_bool(Jsonb *spec, const char *key, bool required, const char *what, bool *out)
{
	JsonbValue	v;

	if (!spec_get(spec, key, &v))
	{
		if (required)
			spec_missing(key, what);
		return false;
	}
	if (v.type != jbvBool)
		spec_wrong_type(key, what, "boolean", &v);
	*out = v.val.boolean;
	return true;
}

/*
 * Parse a finite timestamptz the way timestamptz_in does, but report failure
 * instead of throwing, so the error can name the field.
 */
static bool
parse_timestamptz(const char *str, TimestampTz *result)
{
	char		workbuf[MAXDATELEN + MAXDATEFIELDS];
	char	   *field[MAXDATEFIELDS];
	int			ftype[MAXDATEFIELDS];
	int			nf;
	int			dtype;
	int			tz;
	fsec_t		fsec;
	struct pg_tm tt,
			   *tm = &tt;

	if (ParseDateTime(str, workbuf, sizeof(workbuf), field, ftype, MAXDATEFIELDS, &nf) != 0)
		return false;
#if PG_VERSION_NUM >= 160000
	{
		DateTimeErrorExtra extra;

		if (DecodeDateTime(field, ftype, nf, &dtype, tm, &fsec, &tz, &extra) != 0)
			return false;
	}
#else
	if (DecodeDateTime(field, ftype, nf, &dtype, tm, &fsec, &tz) != 0)
		return false;
#endif
	if (dtype != DTK_DATE)
		return false;
	return tm2timestamp(tm, fsec, &tz, result) == 0 && IS_VALID_TIMESTAMP(*result);
}

static TimestampTz
spec_timestamptz_elem(JsonbValue *e, const char *key, const char *what)
{
	char	   *s;
	TimestampTz result;

	if (e->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("field \"%s\" of the %s spec must hold two timestamp strings", key, what),
				 errdetail("An element is a JSON %s.", jsonb_type_name(e)),
				 errhint("Send [\"2026-11-23 08:00+03\", \"2026-11-23 12:00+03\"].")));
	s = pnstrdup(e->val.string.val, e->val.string.len);
	if (!parse_timestamptz(s, &result))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_DATETIME_FORMAT),
				 errmsg("field \"%s\" of the %s spec holds an invalid timestamp \"%s\"", key, what, s),
				 errdetail("Each bound must be a finite timestamp PostgreSQL can read."),
				 errhint("Use ISO 8601 with a time zone, e.g. \"2026-11-23T08:00:00+03:00\".")));
	return result;
}

/* A [from, to] pair of timestamp strings with from < to. */
bool
spec_timestamptz_range(Jsonb *spec, const char *key, const char *what,
					   TimestampTz *lower, TimestampTz *upper)
{
	JsonbValue	v;
	JsonbValue *e0,
			   *e1;

	if (!spec_get(spec, key, &v))
		return false;
	if (v.type != jbvBinary || !JsonContainerIsArray(v.val.binary.data) ||
		JsonContainerSize(v.val.binary.data) != 2)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("field \"%s\" of the %s spec must be a JSON array of two timestamps", key, what),
				 errdetail("It is a JSON %s%s.", jsonb_type_name(&v),
						   v.type == jbvBinary && JsonContainerIsArray(v.val.binary.data) ?
						   " of another length" : ""),
				 errhint("Send [\"<from>\", \"<to>\"].")));
	e0 = getIthJsonbValueFromContainer(v.val.binary.data, 0);
	e1 = getIthJsonbValueFromContainer(v.val.binary.data, 1);
	*lower = spec_timestamptz_elem(e0, key, what);
	*upper = spec_timestamptz_elem(e1, key, what);
	if (*upper <= *lower)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("field \"%s\" of the %s spec ends before it starts", key, what),
				 errdetail("The window runs from %s to %s.",
						   pstrdup(timestamptz_to_str(*lower)), pstrdup(timestamptz_to_str(*upper))),
				 errhint("The second timestamp must be later than the first.")));
	return true;
}

/* ---- SQL wrappers for the PL/pgSQL functions ---- */

static Jsonb *
wrapper_spec(FunctionCallInfo fcinfo, const char **key, const char **what)
{
	if (PG_ARGISNULL(1) || PG_ARGISNULL(PG_NARGS() - 1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("spec helper called with a null key or name"),
				 errdetail("Internal helpers need a key and the name of the spec."),
				 errhint("Pass both.")));
	*key = text_to_cstring(PG_GETARG_TEXT_PP(1));
	*what = text_to_cstring(PG_GETARG_TEXT_PP(PG_NARGS() - 1));
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the %s spec must not be null", *what),
				 errdetail("A JSON object is required."),
				 errhint("Pass '{}'::jsonb for an empty spec.")));
	return PG_GETARG_JSONB_P(0);
}

/* womgr._spec_keys(spec, allowed, what): spec is an object whose keys are all allowed */
PG_FUNCTION_INFO_V1(womgr_spec_keys);
Datum
womgr_spec_keys(PG_FUNCTION_ARGS)
{
	const char *dummy,
			   *what;
	Jsonb	   *spec = wrapper_spec(fcinfo, &dummy, &what);
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(1);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	const char **allowed;

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	allowed = palloc0(sizeof(char *) * (n + 1));
	for (int i = 0; i < n; i++)
		allowed[i] = nulls[i] ? "" : TextDatumGetCString(elems[i]);
	spec_check_keys(spec, allowed, what);
	PG_RETURN_VOID();
}

/* womgr._spec_text(spec, key, required, what) */
PG_FUNCTION_INFO_V1(womgr_spec_text);
Datum
womgr_spec_text(PG_FUNCTION_ARGS)
{
	const char *key,
			   *what;
	Jsonb	   *spec = wrapper_spec(fcinfo, &key, &what);
	char	   *s = spec_text(spec, key, PG_GETARG_BOOL(2), what);

	if (s == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(s));
}

/* womgr._spec_bigint(spec, key, required, what) */
PG_FUNCTION_INFO_V1(womgr_spec_bigint);
Datum
womgr_spec_bigint(PG_FUNCTION_ARGS)
{
	const char *key,
			   *what;
	Jsonb	   *spec = wrapper_spec(fcinfo, &key, &what);
	int64		v;

	if (!spec_int8(spec, key, PG_GETARG_BOOL(2), what, &v))
		PG_RETURN_NULL();
	PG_RETURN_INT64(v);
}

/* womgr._spec_numeric(spec, key, required, what) */
PG_FUNCTION_INFO_V1(womgr_spec_numeric);
Datum
womgr_spec_numeric(PG_FUNCTION_ARGS)
{
	const char *key,
			   *what;
	Jsonb	   *spec = wrapper_spec(fcinfo, &key, &what);
	Numeric		n;

	if (!spec_numeric_value(spec, key, PG_GETARG_BOOL(2), what, &n))
		PG_RETURN_NULL();
	PG_RETURN_NUMERIC(n);
}

/* womgr._spec_bool(spec, key, required, what) */
PG_FUNCTION_INFO_V1(womgr_spec_bool);
Datum
womgr_spec_bool(PG_FUNCTION_ARGS)
{
	const char *key,
			   *what;
	Jsonb	   *spec = wrapper_spec(fcinfo, &key, &what);
	bool		v;

	if (!spec_bool(spec, key, PG_GETARG_BOOL(2), what, &v))
		PG_RETURN_NULL();
	PG_RETURN_BOOL(v);
}
