/*
 * geo.c: WGS 84 points for sites, branches and technicians, built through
 * PostGIS's geography type input function.  The type is the one of the
 * column womgr.site.location, fixed when the extension was created, so it is
 * never looked up through search_path.
 */
#include "womgr.h"

#include <math.h>

#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "utils/memutils.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

static Oid	geography_typid = InvalidOid;

Oid
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
	PG_RETURN_DATUM(geo_point(lat, lon));
}

/* A WGS 84 geography point (the caller has checked the coordinates). */
Datum
geo_point(double lat, double lon)
{
	Oid			typinput,
				typioparam;
	char		ewkt[96];

	getTypeInputInfo(geography_type(), &typinput, &typioparam);
	snprintf(ewkt, sizeof(ewkt), "SRID=4326;POINT(%.9f %.9f)", lon, lat);
	return OidInputFunctionCall(typinput, ewkt, typioparam, -1);
}

static Oid	distance_fn = InvalidOid;
static char *postgis_nsp = NULL;

/* The schema the postgis extension lives in (statements name its objects with it, never through search_path). */
const char *
postgis_schema(void)
{
	int			spi;
	char	   *nsp;

	if (postgis_nsp != NULL)
		return postgis_nsp;
	spi = spi_begin();
	if (SPI_execute("SELECT n.nspname FROM pg_catalog.pg_extension e"
					" JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace"
					" WHERE e.extname = 'postgis'", true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up the postgis extension");
	nsp = SPI_processed == 1 ?
		MemoryContextStrdup(TopMemoryContext, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1)) : NULL;
	spi_end(spi);
	if (nsp == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("extension \"postgis\" is not installed"),
				 errdetail("womgr measures distances with PostGIS."),
				 errhint("CREATE EXTENSION postgis.")));
	postgis_nsp = nsp;
	return postgis_nsp;
}

/* PostGIS's ST_Distance(geography, geography, boolean). */
static Oid
postgis_distance(void)
{
	Oid			argtypes[3];

	if (OidIsValid(distance_fn) &&
		SearchSysCacheExists1(PROCOID, ObjectIdGetDatum(distance_fn)))
		return distance_fn;
	argtypes[0] = argtypes[1] = geography_type();
	argtypes[2] = BOOLOID;
	distance_fn = LookupFuncName(list_make2(makeString(pstrdup(postgis_schema())), makeString("st_distance")),
								 3, argtypes, false);
	return distance_fn;
}

/* womgr._distance_m(a, b): metres between two geography points, on the spheroid */
PG_FUNCTION_INFO_V1(womgr_distance_m);
Datum
womgr_distance_m(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(OidFunctionCall3(postgis_distance(), PG_GETARG_DATUM(0),
									 PG_GETARG_DATUM(1), BoolGetDatum(true)));
}

/*
 * Great-circle distance in metres between two WGS 84 points (haversine on
 * the mean Earth radius, IUGG 6,371,008.8 m).  Dispatch and routing use it:
 * it is what "as the crow flies" means to a dispatcher, it needs no
 * PostGIS call per pair, and it differs from the spheroid by at most 0.5 %.
 */
double
geo_great_circle_m(double lat1, double lon1, double lat2, double lon2)
{
	const double r = 6371008.8;
	const double rad = M_PI / 180.0;
	double		dlat = (lat2 - lat1) * rad;
	double		dlon = (lon2 - lon1) * rad;
	double		a = sin(dlat / 2) * sin(dlat / 2) +
		cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);

	return 2.0 * r * asin(Min(1.0, sqrt(a)));
}
