/*
 * womgr.h: declarations shared by womgr's C modules.
 *
 * Each module has one init function called from _PG_init and exports its
 * helpers here; SQL-callable symbols are prefixed womgr_.
 */
#ifndef WOMGR_H
#define WOMGR_H

#include "postgres.h"
#include "fmgr.h"
#include "executor/spi.h"
#include "utils/jsonb.h"
#include "access/htup.h"
#include "access/tupdesc.h"
#include "datatype/timestamp.h"

#define WOMGR_VERSION "0.1.0"

/* context.c: who is acting, for which tenant */
extern void ContextInit(void);
extern char *womgr_actor_name(void);
extern char *womgr_db_role_name(void);
extern char *womgr_app_role(void);
extern char *womgr_context_actor(void);
extern Datum womgr_client_ip_datum(bool *isnull);
extern bool womgr_context_tenant(int64 *tenant_id);
extern void womgr_require_tenant_exists(int64 tenant_id, const char *detail);

#define WOMGR_NROLES 8
#define WOMGR_ROLE_ADMIN 0x01
extern int	womgr_role_index(const char *name);
extern char *womgr_role_list(uint32 mask);
extern uint32 womgr_acting_roles(void);

/* womgr's own SQLSTATEs (class WM), documented in docs/workflow.md */
#define ERRCODE_WOMGR_TRANSITION_NOT_ALLOWED MAKE_SQLSTATE('W','M','0','0','1')
#define ERRCODE_WOMGR_GUARD_FAILED MAKE_SQLSTATE('W','M','0','0','2')
#define ERRCODE_WOMGR_STALE_VERSION MAKE_SQLSTATE('W','M','0','0','3')

/* spec.c: validation of jsonb specs passed to the public functions */
extern void spec_check_object(Jsonb *spec, const char *what);
extern void spec_check_keys(Jsonb *spec, const char *const *allowed, const char *what);
extern bool spec_get(Jsonb *spec, const char *key, JsonbValue *out);
extern char *spec_text(Jsonb *spec, const char *key, bool required, const char *what);
extern bool spec_int8(Jsonb *spec, const char *key, bool required, const char *what, int64 *out);
extern bool spec_bool(Jsonb *spec, const char *key, bool required, const char *what, bool *out);
extern bool spec_timestamptz_range(Jsonb *spec, const char *key, const char *what,
								   TimestampTz *lower, TimestampTz *upper);

/* plans.c: SPI statements prepared once per backend and kept */
typedef struct KeptPlan
{
	const char *sql;
	int			nargs;
	Oid			argtypes[16];
	SPIPlanPtr	plan;
	int			cursor_options;	/* 0, or CURSOR_OPT_* for a statement read through a cursor */
} KeptPlan;

extern SPIPlanPtr kept_plan(KeptPlan *kp);
extern void exec_kept(KeptPlan *kp, Datum *values, const char *nulls,
					  bool read_only, int expect);
extern int	pin_search_path(void);
extern void unpin_search_path(int level);
extern int	spi_begin(void);
extern void spi_end(int level);

/* counter.c: human numbers from per-tenant counter rows */
extern void CounterInit(void);
extern char *next_work_order_number(int64 tenant_id, bool has_branch, int64 branch_id,
									MemoryContext result_cxt);

/* calendar.c: business calendars */
extern void CalendarInit(void);
extern int	calendar_working_spans(int64 tenant_id, int64 calendar_id, TimestampTz from, TimestampTz to,
								   TimestampTz **spans);

/* dispatch.c */
extern void DispatchInit(void);

/* geo.c: points and distances */
extern double geo_great_circle_m(double lat1, double lon1, double lat2, double lon2);
extern Datum geo_point(double lat, double lon);
extern const char *postgis_schema(void);
extern Oid	geography_type(void);

/* work_order.c */
extern void WorkOrderInit(void);
extern Datum wo_attr(HeapTuple tup, TupleDesc desc, const char *name, bool *isnull);
extern int	wo_attno(TupleDesc desc, const char *name);

/* workflow.c: statuses, transitions and guards */
typedef struct ColumnChanges
{
	int			n;
	int			cols[16];
	Datum		vals[16];
	bool		nulls[16];
} ColumnChanges;

extern void WorkflowInit(void);
extern void workflow_on_insert(TupleDesc desc, HeapTuple newtup, ColumnChanges *chg);
extern void workflow_on_update(TupleDesc desc, HeapTuple oldtup, HeapTuple newtup, ColumnChanges *chg);
extern const char *workflow_pending_note(int64 tenant_id, int64 work_order_id);
extern bool workflow_pending_time(int64 tenant_id, int64 work_order_id, TimestampTz *t);
extern void column_change(ColumnChanges *chg, TupleDesc desc, const char *name, Datum val, bool isnull);

/* solver.c: exact linear assignment (rows to columns, max cardinality, then min cost) */
extern int	lsa_solve(int nrows, int ncols, const double *cost, int *row_to_col);

/* route.c: ordering a day's stops (construction, then 2-opt and or-opt) */
typedef struct RouteStop
{
	double		lat, lon, service_s;
	TimestampTz earliest, latest;	/* DT_NOBEGIN / DT_NOEND when unbounded */
} RouteStop;
extern void route_order(double start_lat, double start_lon, TimestampTz depart, const RouteStop *stops, int n,
						double speed_mps, int *order, double *total_late_s, double *total_travel_s);

#endif							/* WOMGR_H */
