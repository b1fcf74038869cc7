/*
 * geo.c: WGS 84 points for sites, branches and technicians, built through
 * PostGIS's geography type input function.  The type is the one of the
 * column womgr.site.location, fixed when the extension was created, so it is
 * never looked up through search_path.
 */
#include "womgr.h"

#include <math.h>

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

static Oid	geography_typid = InvalidOid;

static Oid
geography_type(void)
{
	Oid			site;
	AttrNumber	attno;

	if (OidIsValid(geography_typid) &&
		SearchSysCacheExists1(TYPEOID, ObjectIdGetDatum(geography_typid)))
		return geography_typid;
	site = get_relname_relid("site", get_namespace_oid("womgr", false));
	attno = OidIsValid(site) ? get_attnum(site, "location") : InvalidAttrNumber;
	if (attno == InvalidAttrNumber)
		elog(ERROR, "womgr.site.location is missing");
	geography_typid = get_atttype(site, attno);
	return geography_typid;
}

/* womgr._point(lat, lon): a WGS 84 geography point; raises when not on Earth */
PG_FUNCTION_INFO_V1(womgr_point);
Datum
womgr_point(PG_FUNCTION_ARGS)
{
	float8		lat,
				lon;
	Oid			typinput,
				typioparam;
	char		ewkt[96];

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	lat = PG_GETARG_FLOAT8(0);
	lon = PG_GETARG_FLOAT8(1);
	if (isnan(lat) || isnan(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("latitude %g, longitude %g is not a place on Earth", lat, lon),
				 errdetail("Latitude must be within [-90, 90] and longitude within [-180, 180]."),
				 errhint("Check that latitude and longitude are not swapped.")));
	getTypeInputInfo(geography_type(), &typinput, &typioparam);
	snprintf(ewkt, sizeof(ewkt), "SRID=4326;POINT(%.9f %.9f)", lon, lat);
	PG_RETURN_DATUM(OidInputFunctionCall(typinput, ewkt, typioparam, -1));
}
