/*
 * verify.c: checking a tenant's sealed audit chain, and exporting it for
 * the offline verifier.
 *
 * Every sealed entry is re-encoded from its stored columns (canonical.c);
 * its leaf hash must match, its chain hash must follow from the previous
 * entry's, sequence numbers must be contiguous, the chain must end at the
 * tenant's head, and wherever a signed checkpoint names a sequence number
 * the chain hash there must be the checkpoint's head.  The first entry that
 * breaks a rule is reported.
 */
#include "audit.h"

#include <sodium.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#define VERIFY_FETCH 1000
#define PROGRESS_EVERY_MS 5000

/* a checkpoint the chain is held against */
typedef struct CpRef
{
	int64		seq;
	uint8_t		head[AUDIT_HASH_BYTES];
	char		when[40];
} CpRef;

typedef struct VerifyResult
{
	bool		ok;
	int64		checked;
	int64		first_bad;		/* valid when !ok and has_bad */
	bool		has_bad;
	char	   *problem;
	MemoryContext cxt;			/* where problem is allocated */
} VerifyResult;

static void
bad(VerifyResult *r, int64 seq, const char *fmt,...) pg_attribute_printf(3, 4);

static void
bad(VerifyResult *r, int64 seq, const char *fmt,...)
{
	va_list		ap;
	char		buf[512];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	r->ok = false;
	r->has_bad = seq > 0;
	r->first_bad = seq;
	r->problem = MemoryContextStrdup(r->cxt, buf);
}

static KeptPlan anchor_plan = {
	"SELECT chain_hash FROM womgr.audit_entry WHERE tenant_id = $1 AND seq = $2",
	2, {INT8OID, INT8OID}
};

static KeptPlan entries_plan = {
	"SELECT " AUDIT_ENTRY_COLUMNS ", leaf_hash, seq, chain_hash FROM womgr.audit_entry"
	" WHERE tenant_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq",
	3, {INT8OID, INT8OID, INT8OID}, NULL, CURSOR_OPT_NO_SCROLL
};

static KeptPlan head_plan = {
	"SELECT seq, chain_hash FROM womgr.audit_chain_head WHERE tenant_id = $1",
	1, {INT8OID}
};

/* columns of entries_plan after the canonical ones */
#define COL_LEAF (AUDIT_NCOLUMNS + 1)
#define COL_SEQ (AUDIT_NCOLUMNS + 2)
#define COL_CHAIN (AUDIT_NCOLUMNS + 3)

/*
 * Checks entries from..to (to = 0: to the end, then against the chain head)
 * of a tenant against each other and against the checkpoints cps (sorted by
 * seq).  Runs inside SPI.
 */
static void
verify_chain(int64 tenant_id, int64 from, int64 to, const CpRef *cps, int ncp, VerifyResult *r)
{
	uint8_t		prev[AUDIT_HASH_BYTES] = {0};
	int64		last = from - 1,
				last_good_cp = from - 1;
	int			j = 0;
	Datum		args[3];
	Portal		portal;
	TimestampTz last_report = GetCurrentTimestamp();
	MemoryContext row_cxt = AllocSetContextCreate(CurrentMemoryContext, "womgr audit verify",
												  ALLOCSET_DEFAULT_SIZES);

	r->ok = true;
	r->checked = 0;
	r->has_bad = false;
	r->problem = NULL;
	args[0] = Int64GetDatum(tenant_id);
	if (from > 1)
	{
		args[1] = Int64GetDatum(from - 1);
		exec_kept(&anchor_plan, args, NULL, true, SPI_OK_SELECT);
		if (SPI_processed == 0 || !audit_stored_hash(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, prev))
		{
			bad(r, from - 1, "entry %lld, which the range starts from, is missing or damaged", (long long) (from - 1));
			return;
		}
	}
	while (j < ncp && cps[j].seq < from)
		j++;

	args[1] = Int64GetDatum(from);
	args[2] = Int64GetDatum(to > 0 ? to : PG_INT64_MAX);
	portal = SPI_cursor_open(NULL, kept_plan(&entries_plan), args, NULL, true);
	while (r->ok)
	{
		SPI_cursor_fetch(portal, true, VERIFY_FETCH);
		if (SPI_processed == 0)
			break;
		for (uint64 i = 0; i < SPI_processed && r->ok; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			bool		isnull;
			int64		seq = DatumGetInt64(SPI_getbinval(tup, desc, COL_SEQ, &isnull));
			uint8_t		leaf[AUDIT_HASH_BYTES],
						stored_leaf[AUDIT_HASH_BYTES],
						chain[AUDIT_HASH_BYTES],
						stored_chain[AUDIT_HASH_BYTES];
			CanonEntry	e;
			uint8_t    *enc;
			size_t		len;
			MemoryContext old;

			if (seq != last + 1)
			{
				bad(r, last + 1, "entry %lld is missing", (long long) (last + 1));
				break;
			}
			old = MemoryContextSwitchTo(row_cxt);
			audit_entry_from_row(tup, desc, &e);
			enc = audit_encode(&e, &len);
			canon_leaf(enc, len, leaf);
			MemoryContextSwitchTo(old);
			MemoryContextReset(row_cxt);
			if (!audit_stored_hash(tup, desc, COL_LEAF, stored_leaf) || memcmp(leaf, stored_leaf, sizeof(leaf)) != 0)
			{
				bad(r, seq, "entry %lld: its content does not match its leaf hash", (long long) seq);
				break;
			}
			canon_chain(prev, leaf, chain);
			if (!audit_stored_hash(tup, desc, COL_CHAIN, stored_chain) || memcmp(chain, stored_chain, sizeof(chain)) != 0)
			{
				bad(r, seq, "entry %lld: its chain hash does not follow from entry %lld",
					(long long) seq, (long long) (seq - 1));
				break;
			}
			for (; j < ncp && cps[j].seq == seq; j++)
			{
				if (memcmp(chain, cps[j].head, sizeof(chain)) != 0)
				{
					bad(r, last_good_cp + 1,
						"entries %lld to %lld differ from the checkpoint signed at %s: that part of the history was rewritten",
						(long long) (last_good_cp + 1), (long long) seq, cps[j].when);
					break;
				}
				last_good_cp = seq;
			}
			if (!r->ok)
				break;
			memcpy(prev, chain, sizeof(prev));
			last = seq;
			r->checked++;
			if (r->checked % VERIFY_FETCH == 0)
			{
				TimestampTz now = GetCurrentTimestamp();

				CHECK_FOR_INTERRUPTS();
				if (TimestampDifferenceExceeds(last_report, now, PROGRESS_EVERY_MS))
				{
					ereport(NOTICE,
							(errmsg("audit verification of tenant %lld: %lld entries checked, up to entry %lld",
									(long long) tenant_id, (long long) r->checked, (long long) seq)));
					last_report = now;
				}
			}
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	MemoryContextDelete(row_cxt);
	if (!r->ok)
		return;

	/* checkpoints beyond the last entry: the tail is gone, up to the last of them */
	if (j < ncp && (to == 0 || cps[j].seq <= to))
	{
		int			k = ncp - 1;

		while (to != 0 && cps[k].seq > to)
			k--;
		bad(r, last + 1, "entries %lld to %lld are missing: the checkpoint signed at %s covers them",
			(long long) (last + 1), (long long) cps[k].seq, cps[k].when);
		return;
	}
	if (to == 0)
	{
		int64		head_seq = 0;
		uint8_t		head[AUDIT_HASH_BYTES] = {0};

		exec_kept(&head_plan, args, NULL, true, SPI_OK_SELECT);
		if (SPI_processed > 0)
		{
			bool		isnull;

			head_seq = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
			(void) audit_stored_hash(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, head);
		}
		if (head_seq > last)
			bad(r, last + 1, "entries %lld to %lld are missing: the chain head is at entry %lld",
				(long long) (last + 1), (long long) head_seq, (long long) head_seq);
		else if (head_seq < last)
			bad(r, head_seq + 1, "entries %lld to %lld lie beyond the chain head: they were not added by the sealer",
				(long long) (head_seq + 1), (long long) last);
		else if (last > 0 && memcmp(head, prev, sizeof(head)) != 0)
			bad(r, last, "the chain head does not match entry %lld", (long long) last);
	}
}

static KeptPlan stored_checkpoints_plan = {
	"SELECT c.statement FROM womgr.audit_checkpoint c"
	" WHERE c.tenant_id = $1 AND c.seq >= $2 AND c.seq <= $3 ORDER BY c.seq, c.signed_at",
	3, {INT8OID, INT8OID, INT8OID}
};

/*
 * The tenant's stored checkpoints between from and to, parsed.  With
 * trusted_key, only those that verify under it; otherwise each must verify
 * under its own key, and one that does not is reported in r.
 */
static CpRef *
stored_checkpoints(int64 tenant_id, int64 from, int64 to, const uint8_t *trusted_key, int *n, VerifyResult *r)
{
	Datum		args[3] = {Int64GetDatum(tenant_id), Int64GetDatum(from), Int64GetDatum(to)};
	CpRef	   *cps;

	exec_kept(&stored_checkpoints_plan, args, NULL, true, SPI_OK_SELECT);
	cps = palloc0(sizeof(CpRef) * (SPI_processed + 1));
	*n = 0;
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *text = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		Checkpoint	cp;
		const char *why;
		bool		parsed = text != NULL && checkpoint_parse(text, strlen(text), &cp, &why);
		bool		valid = parsed && cp.tenant_id == tenant_id &&
			checkpoint_signature_ok(text, &cp, trusted_key ? trusted_key : cp.public_key);

		if (!valid)
		{
			if (trusted_key != NULL)
				continue;
			if (parsed)
				bad(r, cp.seq, "the checkpoint stored for entry %lld is not validly signed", (long long) cp.seq);
			else
				bad(r, 0, "a checkpoint stored for tenant %lld is not a checkpoint statement", (long long) tenant_id);
			return cps;
		}
		cps[*n].seq = cp.seq;
		memcpy(cps[*n].head, cp.head, AUDIT_HASH_BYTES);
		strlcpy(cps[*n].when, cp.time, sizeof(cps[*n].when));
		(*n)++;
	}
	return cps;
}

static void
return_result(FunctionCallInfo fcinfo, const VerifyResult *r)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		values[4];
	bool		nulls[4] = {false, false, !r->has_bad, r->problem == NULL};

	values[0] = BoolGetDatum(r->ok);
	values[1] = Int64GetDatum(r->checked);
	values[2] = Int64GetDatum(r->first_bad);
	values[3] = r->problem ? CStringGetTextDatum(r->problem) : (Datum) 0;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

static int64
seq_arg(FunctionCallInfo fcinfo, int argno, const char *name, int64 dflt)
{
	int64		v;

	if (PG_ARGISNULL(argno))
		return dflt;
	v = PG_GETARG_INT64(argno);
	if (v < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be at least 1, not %lld", name, (long long) v),
				 errdetail("Sequence numbers of a tenant's audit chain start at 1."),
				 errhint("Pass NULL for the whole chain.")));
	return v;
}

/* womgr.audit_verify(tenant, from_seq, to_seq): checks a tenant's chain */
PG_FUNCTION_INFO_V1(womgr_audit_verify);
Datum
womgr_audit_verify(PG_FUNCTION_ARGS)
{
	int64		tenant_id,
				from,
				to;
	VerifyResult r = {0};
	CpRef	   *cps;
	int			ncp,
				spi;

	InitMaterializedSRF(fcinfo, 0);
	audit_require_tenant(fcinfo, 0, &tenant_id);
	from = seq_arg(fcinfo, 1, "p_from_seq", 1);
	to = seq_arg(fcinfo, 2, "p_to_seq", 0);
	if (to > 0 && to < from)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_to_seq %lld is before p_from_seq %lld", (long long) to, (long long) from),
				 errdetail("The range of entries to check is empty."),
				 errhint("Pass p_to_seq >= p_from_seq, or NULL for the rest of the chain.")));
	r.cxt = CurrentMemoryContext;
	r.ok = true;
	spi = spi_begin();
	cps = stored_checkpoints(tenant_id, from, to > 0 ? to : PG_INT64_MAX, NULL, &ncp, &r);
	if (r.ok)
		verify_chain(tenant_id, from, to, cps, ncp, &r);
	spi_end(spi);
	return_result(fcinfo, &r);
	return (Datum) 0;
}

/* womgr.audit_verify_checkpoint(statement, public_key): checks the chain against a published checkpoint */
PG_FUNCTION_INFO_V1(womgr_audit_verify_checkpoint);
Datum
womgr_audit_verify_checkpoint(PG_FUNCTION_ARGS)
{
	text	   *t;
	char	   *statement;
	bytea	   *key;
	Checkpoint	cp;
	const char *why;
	VerifyResult r = {0};
	CpRef	   *cps;
	int			ncp,
				spi;
	char		hex[2 * AUDIT_PK_BYTES + 1];

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("checkpoint and public key must not be null"),
				 errdetail("A checkpoint is checked against the public key you trust, not one the database offers."),
				 errhint("Pass the statement womgr.audit_checkpoint() returned and the key from womgr.audit_public_key().")));
	t = PG_GETARG_TEXT_PP(0);
	statement = text_to_cstring(t);
	key = PG_GETARG_BYTEA_PP(1);
	if (VARSIZE_ANY_EXHDR(key) != AUDIT_PK_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("public key must be %d bytes, not %zu", AUDIT_PK_BYTES, (size_t) VARSIZE_ANY_EXHDR(key)),
				 errdetail("womgr signs checkpoints with Ed25519 keys."),
				 errhint("Pass the bytea womgr.audit_public_key() returned.")));
	if (!checkpoint_parse(statement, strlen(statement), &cp, &why))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("not a womgr audit checkpoint"),
				 errdetail("%s.", why),
				 errhint("Pass the whole text womgr.audit_checkpoint() returned, unchanged.")));

	r.cxt = CurrentMemoryContext;
	r.ok = true;
	if (memcmp(cp.public_key, VARDATA_ANY(key), AUDIT_PK_BYTES) != 0)
	{
		canon_hex(cp.public_key, AUDIT_PK_BYTES, hex);
		bad(&r, 0, "the checkpoint names another signing key (%s)", hex);
	}
	else if (!checkpoint_signature_ok(statement, &cp, (const uint8_t *) VARDATA_ANY(key)))
		bad(&r, 0, "the checkpoint's signature does not verify: the statement was altered or not signed with this key");
	else
	{
		spi = spi_begin();
		cps = stored_checkpoints(cp.tenant_id, 1, cp.seq, (const uint8_t *) VARDATA_ANY(key), &ncp, &r);
		/* the published checkpoint itself comes last among those at its seq */
		cps = repalloc(cps, sizeof(CpRef) * (ncp + 1));
		cps[ncp].seq = cp.seq;
		memcpy(cps[ncp].head, cp.head, AUDIT_HASH_BYTES);
		strlcpy(cps[ncp].when, cp.time, sizeof(cps[ncp].when));
		ncp++;
		if (cp.seq > 0)
			verify_chain(cp.tenant_id, 1, cp.seq, cps, ncp, &r);
		spi_end(spi);
	}
	return_result(fcinfo, &r);
	return (Datum) 0;
}

/* womgr.audit_export(tenant, from_seq, to_seq): the chain in the offline verifier's format */
PG_FUNCTION_INFO_V1(womgr_audit_export);
Datum
womgr_audit_export(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	int64		tenant_id,
				from,
				to;
	Datum		args[3];
	Portal		portal;
	int			spi;
	MemoryContext row_cxt;

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	audit_require_tenant(fcinfo, 0, &tenant_id);
	from = seq_arg(fcinfo, 1, "p_from_seq", 1);
	to = seq_arg(fcinfo, 2, "p_to_seq", PG_INT64_MAX);
	row_cxt = AllocSetContextCreate(CurrentMemoryContext, "womgr audit export", ALLOCSET_DEFAULT_SIZES);

	spi = spi_begin();
	args[0] = Int64GetDatum(tenant_id);
	args[1] = Int64GetDatum(from);
	args[2] = Int64GetDatum(to);
	portal = SPI_cursor_open(NULL, kept_plan(&entries_plan), args, NULL, true);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, VERIFY_FETCH);
		if (SPI_processed == 0)
			break;
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			MemoryContext old = MemoryContextSwitchTo(row_cxt);
			CanonEntry	e;
			uint8_t    *enc;
			size_t		len;
			uint8_t		h[AUDIT_HASH_BYTES];
			char		hex[2 * AUDIT_HASH_BYTES + 1];
			char	   *enc_hex;
			Datum		values[5];
			bool		nulls[5] = {false, false, false, false, false};
			bool		isnull;

			audit_entry_from_row(tup, desc, &e);
			enc = audit_encode(&e, &len);
			enc_hex = palloc(2 * len + 1);
			canon_hex(enc, len, enc_hex);
			values[0] = Int64GetDatum(tenant_id);
			values[1] = SPI_getbinval(tup, desc, COL_SEQ, &isnull);
			if (audit_stored_hash(tup, desc, COL_LEAF, h))
			{
				canon_hex(h, sizeof(h), hex);
				values[2] = CStringGetTextDatum(hex);
			}
			else
				nulls[2] = true;
			if (audit_stored_hash(tup, desc, COL_CHAIN, h))
			{
				canon_hex(h, sizeof(h), hex);
				values[3] = CStringGetTextDatum(hex);
			}
			else
				nulls[3] = true;
			values[4] = CStringGetTextDatum(enc_hex);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			MemoryContextSwitchTo(old);
			MemoryContextReset(row_cxt);
		}
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
	spi_end(spi);
	return (Datum) 0;
}
