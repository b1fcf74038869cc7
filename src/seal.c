/*
 * seal.c: the sealer.  It gives each captured audit entry of a finished
 * transaction its place in its tenant's chain: the next gapless sequence
 * number and chain_hash = BLAKE2b(previous chain_hash || leaf_hash).
 *
 * Writers never take part: capture (audit.c) only inserts into
 * audit_pending.  The sealer locks the tenant's audit_chain_head row, reads
 * the pending entries its snapshot sees (those of committed transactions;
 * a rolled-back transaction's entries never become visible, so they leave
 * no hole), appends them to audit_entry in entry order and deletes them
 * from audit_pending, all in one transaction.  The head row lock means two
 * sealers of a tenant take turns and never fork its chain.
 *
 * womgr.audit_seal() seals on demand; a background worker per database
 * (womgr.audit_start_sealer()) seals continuously.
 */
#include "audit.h"

#include <signal.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#define SEAL_BATCH 5000
#define SEALER_TYPE "womgr audit sealer"
#define SEALER_LOCK_KEY INT64CONST(0x776f6d677201)	/* "womgr" 0x01 */

static int	guc_seal_naptime = 200;
static volatile sig_atomic_t got_sigterm = false;

PGDLLEXPORT void womgr_sealer_main(Datum main_arg);

void
SealInit(void)
{
	DefineCustomIntVariable("womgr.audit_seal_naptime",
							"How long the audit sealer sleeps when nothing is waiting to be sealed.",
							"Commit-to-sealed latency is at most about this long when the sealer is idle.",
							&guc_seal_naptime, 200, 10, 60000, PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
}

static KeptPlan head_create_plan = {
	"INSERT INTO womgr.audit_chain_head (tenant_id, seq, chain_hash)"
	" VALUES ($1, 0, '\\x0000000000000000000000000000000000000000000000000000000000000000'::bytea)"
	" ON CONFLICT (tenant_id) DO NOTHING",
	1, {INT8OID}
};

static KeptPlan head_lock_plan = {
	"SELECT seq, chain_hash FROM womgr.audit_chain_head WHERE tenant_id = $1 FOR UPDATE",
	1, {INT8OID}
};

/*
 * Keyset paging: rows this transaction already moved are not scanned again.
 * audit_pending swings from empty to large and back, so the sealer's reads
 * are planned for each call (a plan made while the table was small would
 * keep scanning it whole).
 */
static KeptPlan pending_plan = {
	"SELECT entry_id, leaf_hash FROM womgr.audit_pending WHERE tenant_id = $1 AND entry_id > $2"
	" ORDER BY entry_id LIMIT " CppAsString2(SEAL_BATCH),
	2, {INT8OID, INT8OID}, NULL, CURSOR_OPT_CUSTOM_PLAN
};

static KeptPlan move_plan = {
	"INSERT INTO womgr.audit_entry (" AUDIT_ENTRY_COLUMNS ", leaf_hash, seq, chain_hash, sealed_at)"
	" SELECT " AUDIT_ENTRY_COLUMNS ", leaf_hash, s.s_seq, s.s_chain, $5"
	"   FROM unnest($2::bigint[], $3::bigint[], $4::bytea[]) AS s(s_entry, s_seq, s_chain)"
	"   JOIN womgr.audit_pending p ON p.tenant_id = $1 AND p.entry_id = s.s_entry"
	"  ORDER BY s.s_seq",
	5, {INT8OID, INT8ARRAYOID, INT8ARRAYOID, BYTEAARRAYOID, TIMESTAMPTZOID}
};

static KeptPlan forget_plan = {
	"DELETE FROM womgr.audit_pending WHERE tenant_id = $1 AND entry_id = ANY ($2)",
	2, {INT8OID, INT8ARRAYOID}
};

static KeptPlan advance_plan = {
	"UPDATE womgr.audit_chain_head SET seq = $2, chain_hash = $3, sealed_at = $4 WHERE tenant_id = $1",
	4, {INT8OID, INT8OID, BYTEAOID, TIMESTAMPTZOID}
};

/* a hash the sealer builds on: a damaged one stops it */
static void
copy_hash(HeapTuple tup, TupleDesc desc, int col, uint8_t out[AUDIT_HASH_BYTES], const char *what, int64 tenant_id)
{
	if (!audit_stored_hash(tup, desc, col, out))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("audit %s of tenant %lld is not %d bytes", what, (long long) tenant_id, AUDIT_HASH_BYTES),
				 errdetail("The audit tables were changed outside womgr."),
				 errhint("Run womgr.audit_verify() for the tenant to find the damage.")));
}

/* Seals one batch; returns how many entries it sealed. */
static int
seal_batch(int64 tenant_id, int64 *seq, uint8_t head[AUDIT_HASH_BYTES], int64 *after)
{
	Datum		args[5];
	int			n;
	Datum	   *ids,
			   *seqs,
			   *chains;
	TimestampTz now = GetCurrentTimestamp();

	args[0] = Int64GetDatum(tenant_id);
	args[1] = Int64GetDatum(*after);
	exec_kept(&pending_plan, args, NULL, false, SPI_OK_SELECT);
	n = (int) SPI_processed;
	if (n == 0)
		return 0;

	ids = palloc(n * sizeof(Datum));
	seqs = palloc(n * sizeof(Datum));
	chains = palloc(n * sizeof(Datum));
	for (int i = 0; i < n; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		bool		isnull;
		uint8_t		leaf[AUDIT_HASH_BYTES];

		ids[i] = Int64GetDatum(DatumGetInt64(SPI_getbinval(tup, SPI_tuptable->tupdesc, 1, &isnull)));
		copy_hash(tup, SPI_tuptable->tupdesc, 2, leaf, "leaf hash", tenant_id);
		canon_chain(head, leaf, head);
		seqs[i] = Int64GetDatum(++(*seq));
		chains[i] = PointerGetDatum(audit_bytea(head, AUDIT_HASH_BYTES));
	}
	SPI_freetuptable(SPI_tuptable);
	*after = DatumGetInt64(ids[n - 1]);

	args[1] = PointerGetDatum(construct_array(ids, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[2] = PointerGetDatum(construct_array(seqs, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[3] = PointerGetDatum(construct_array(chains, n, BYTEAOID, -1, false, TYPALIGN_INT));
	args[4] = TimestampTzGetDatum(now);
	exec_kept(&move_plan, args, NULL, false, SPI_OK_INSERT);
	if (SPI_processed != (uint64) n)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("audit entries of tenant %lld changed while they were sealed", (long long) tenant_id),
				 errdetail("%d entries were read but %llu were moved.", n, (unsigned long long) SPI_processed),
				 errhint("Seal again.")));

	PG_TRY();
	{
		audit_sealer_writing = true;
		exec_kept(&forget_plan, args, NULL, false, SPI_OK_DELETE);
		args[1] = Int64GetDatum(*seq);
		args[2] = PointerGetDatum(audit_bytea(head, AUDIT_HASH_BYTES));
		args[3] = TimestampTzGetDatum(now);
		exec_kept(&advance_plan, args, NULL, false, SPI_OK_UPDATE);
	}
	PG_FINALLY();
	{
		audit_sealer_writing = false;
	}
	PG_END_TRY();
	return n;
}

/*
 * Seals every entry of the tenant that the current snapshot sees as
 * committed (and the current transaction's own).  Returns how many, and,
 * when head_seq and head are not NULL, the chain head after the seal (its
 * row stays locked until the transaction ends).
 */
int64
audit_seal_tenant(int64 tenant_id, int64 *head_seq, uint8_t head_out[AUDIT_HASH_BYTES])
{
	Datum		args[1];
	int64		seq,
				after = 0,
				total = 0;
	uint8_t		head[AUDIT_HASH_BYTES];
	bool		isnull;
	int			spi = spi_begin();
	MemoryContext batch_cxt = AllocSetContextCreate(CurrentMemoryContext, "womgr audit seal batch",
													ALLOCSET_DEFAULT_SIZES);

	args[0] = Int64GetDatum(tenant_id);
	exec_kept(&head_lock_plan, args, NULL, false, SPI_OK_SELECT);
	if (SPI_processed == 0)
	{
		exec_kept(&head_create_plan, args, NULL, false, SPI_OK_INSERT);
		exec_kept(&head_lock_plan, args, NULL, false, SPI_OK_SELECT);
	}
	if (SPI_processed != 1)
		elog(ERROR, "audit chain head of tenant " INT64_FORMAT " could not be locked", tenant_id);
	seq = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	copy_hash(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, head, "chain head", tenant_id);
	SPI_freetuptable(SPI_tuptable);

	for (;;)
	{
		MemoryContext old = MemoryContextSwitchTo(batch_cxt);
		int			n = seal_batch(tenant_id, &seq, head, &after);

		MemoryContextSwitchTo(old);
		MemoryContextReset(batch_cxt);
		total += n;
		if (n < SEAL_BATCH)
			break;
		CHECK_FOR_INTERRUPTS();
	}
	MemoryContextDelete(batch_cxt);
	spi_end(spi);
	if (head_seq != NULL)
		*head_seq = seq;
	if (head_out != NULL)
		memcpy(head_out, head, AUDIT_HASH_BYTES);
	return total;
}

/* the tenants with pending entries, by a loose index scan over the primary key */
static KeptPlan tenants_pending_plan = {
	"WITH RECURSIVE t(tenant_id) AS ("
	"  (SELECT tenant_id FROM womgr.audit_pending ORDER BY tenant_id LIMIT 1)"
	"  UNION ALL"
	"  SELECT (SELECT p.tenant_id FROM womgr.audit_pending p WHERE p.tenant_id > t.tenant_id"
	"           ORDER BY p.tenant_id LIMIT 1)"
	"    FROM t WHERE t.tenant_id IS NOT NULL)"
	" SELECT tenant_id FROM t WHERE tenant_id IS NOT NULL",
	0, {InvalidOid}, NULL, CURSOR_OPT_CUSTOM_PLAN
};

/* Tenants with pending entries, palloc'd in the caller's context. */
static int64 *
tenants_with_pending(int *n)
{
	MemoryContext caller = CurrentMemoryContext;
	int			spi = spi_begin();
	int64	   *ids;

	exec_kept(&tenants_pending_plan, NULL, NULL, true, SPI_OK_SELECT);
	*n = (int) SPI_processed;
	ids = MemoryContextAlloc(caller, sizeof(int64) * (*n + 1));
	for (int i = 0; i < *n; i++)
	{
		bool		isnull;

		ids[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
	}
	spi_end(spi);
	return ids;
}

/* The tenant argument of an audit function: not null, and an existing tenant. */
void
audit_require_tenant(FunctionCallInfo fcinfo, int argno, int64 *tenant_id)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tenant must not be null"),
				 errdetail("Each tenant has its own audit chain."),
				 errhint("Pass womgr.default_tenant_id() if you run a single company.")));
	*tenant_id = PG_GETARG_INT64(argno);
	womgr_require_tenant_exists(*tenant_id, "Each tenant has its own audit chain.");
}

/* womgr.audit_seal(tenant DEFAULT NULL): seals what is ready; returns how many entries */
PG_FUNCTION_INFO_V1(womgr_audit_seal);
Datum
womgr_audit_seal(PG_FUNCTION_ARGS)
{
	int64		tenant_id,
				total = 0;

	if (!PG_ARGISNULL(0))
	{
		audit_require_tenant(fcinfo, 0, &tenant_id);
		PG_RETURN_INT64(audit_seal_tenant(tenant_id, NULL, NULL));
	}
	else
	{
		int			n;
		int64	   *ids = tenants_with_pending(&n);

		for (int i = 0; i < n; i++)
			total += audit_seal_tenant(ids[i], NULL, NULL);
	}
	PG_RETURN_INT64(total);
}

/* ---- the background worker ---- */

/* One pass over every tenant with pending entries, a transaction per tenant. */
static int64
sealer_pass(bool *extension_gone)
{
	int			n = 0;
	int64	   *ids = NULL;
	int64		total = 0;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "sealing the audit log");
	*extension_gone = !OidIsValid(get_extension_oid("womgr", true));
	if (!*extension_gone)
	{
		/* the list outlives this transaction */
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		ids = tenants_with_pending(&n);
		MemoryContextSwitchTo(old);
	}
	PopActiveSnapshot();
	CommitTransactionCommand();

	for (int i = 0; i < n && !got_sigterm; i++)
	{
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		total += audit_seal_tenant(ids[i], NULL, NULL);
		PopActiveSnapshot();
		CommitTransactionCommand();
		CHECK_FOR_INTERRUPTS();
	}
	if (ids != NULL)
		pfree(ids);
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
	return total;
}

/*
 * SIGTERM (womgr.audit_stop_sealer(), pg_terminate_backend, shutdown, DROP
 * DATABASE ... WITH (FORCE)) ends the sealer after the tenant it is sealing,
 * with exit code 0 so the postmaster does not start it again.  A crash
 * (exit code 1) does restart it.
 */
static void
sealer_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	got_sigterm = true;
	SetLatch(MyLatch);
	errno = save_errno;
}

void
womgr_sealer_main(Datum main_arg)
{
	Oid			dbid = DatumGetObjectId(main_arg);
	Oid			roleid;
	bool		locked;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, sealer_sigterm);
	BackgroundWorkerUnblockSignals();
	memcpy(&roleid, MyBgworkerEntry->bgw_extra, sizeof(Oid));
	BackgroundWorkerInitializeConnectionByOid(dbid, roleid, 0);
	pgstat_report_appname(SEALER_TYPE);

	/* one sealer per database: the first holds a session advisory lock */
	StartTransactionCommand();
	locked = DatumGetBool(DirectFunctionCall1(pg_try_advisory_lock_int8, Int64GetDatum(SEALER_LOCK_KEY)));
	CommitTransactionCommand();
	if (!locked)
		proc_exit(0);

	while (!got_sigterm)
	{
		bool		gone;
		int64		sealed;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		sealed = sealer_pass(&gone);
		if (gone)
			proc_exit(0);		/* womgr was dropped from this database */
		if (sealed == 0)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 guc_seal_naptime, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
	}
	proc_exit(0);
}

static KeptPlan sealer_pid_plan = {
	"SELECT pid FROM pg_catalog.pg_stat_activity WHERE backend_type = '" SEALER_TYPE "'"
	"   AND datid = $1 ORDER BY backend_start LIMIT 1",
	1, {OIDOID}
};

/* The pid of this database's sealer, or 0. */
static int
sealer_pid(void)
{
	Datum		args[1] = {ObjectIdGetDatum(MyDatabaseId)};
	int			spi;
	int			pid = 0;

	pgstat_clear_snapshot();	/* the activity list read now, not earlier in the transaction */
	spi = spi_begin();
	exec_kept(&sealer_pid_plan, args, NULL, true, SPI_OK_SELECT);
	if (SPI_processed > 0)
	{
		bool		isnull;

		pid = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	spi_end(spi);
	return pid;
}

static KeptPlan owner_plan = {
	"SELECT extowner FROM pg_catalog.pg_extension WHERE extname = 'womgr'",
	0, {InvalidOid}
};

/* The role that owns womgr (and its audit tables); the sealer connects as it. */
static Oid
extension_owner(void)
{
	int			spi = spi_begin();
	Oid			owner;
	bool		isnull;

	exec_kept(&owner_plan, NULL, NULL, true, SPI_OK_SELECT);
	if (SPI_processed != 1)
		elog(ERROR, "womgr is not installed in this database");
	owner = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	spi_end(spi);
	return owner;
}

/* womgr.audit_start_sealer(): starts this database's sealer unless it runs; returns its pid */
PG_FUNCTION_INFO_V1(womgr_audit_start_sealer);
Datum
womgr_audit_start_sealer(PG_FUNCTION_ARGS)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *handle;
	pid_t		pid = sealer_pid();
	Oid			owner = extension_owner();

	if (pid != 0)
		PG_RETURN_INT32(pid);

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = 5;		/* after a crash, back within seconds */
	snprintf(w.bgw_library_name, BGW_MAXLEN, "womgr");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "womgr_sealer_main");
	snprintf(w.bgw_name, BGW_MAXLEN, SEALER_TYPE " for database %u", MyDatabaseId);
	snprintf(w.bgw_type, BGW_MAXLEN, SEALER_TYPE);
	w.bgw_main_arg = ObjectIdGetDatum(MyDatabaseId);
	memcpy(w.bgw_extra, &owner, sizeof(Oid));
	w.bgw_notify_pid = MyProcPid;

	if (!RegisterDynamicBackgroundWorker(&w, &handle))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not start the audit sealer"),
				 errdetail("Every background worker slot is in use."),
				 errhint("Raise max_worker_processes (needs a restart), or seal with womgr.audit_seal() from a scheduled job.")));
	if (WaitForBackgroundWorkerStartup(handle, &pid) != BGWH_STARTED)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the audit sealer did not start"),
				 errdetail("The postmaster could not start the background worker."),
				 errhint("Check the server log.")));
	/* return once it shows in pg_stat_activity, so the next call finds it */
	for (int i = 0; i < 1000; i++)
	{
		int			running = sealer_pid();

		if (running != 0)
			PG_RETURN_INT32(running);
		CHECK_FOR_INTERRUPTS();
		pg_usleep(10000L);
	}
	PG_RETURN_INT32(pid);
}

/* womgr.audit_stop_sealer(): stops this database's sealer; returns whether one ran */
PG_FUNCTION_INFO_V1(womgr_audit_stop_sealer);
Datum
womgr_audit_stop_sealer(PG_FUNCTION_ARGS)
{
	int			pid = sealer_pid();

	if (pid == 0)
		PG_RETURN_BOOL(false);
	(void) kill(pid, SIGTERM);
	/* wait (up to 10 s) until it is gone, so DROP DATABASE can follow */
	for (int i = 0; i < 1000 && sealer_pid() == pid; i++)
	{
		CHECK_FOR_INTERRUPTS();
		pg_usleep(10000L);
	}
	PG_RETURN_BOOL(true);
}
