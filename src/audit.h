/*
 * audit.h: what the audit modules share: audit.c (capture and guards),
 * seal.c (the sealer and its background worker), checkpoint.c (signing
 * keys and checkpoints) and verify.c (verification and export).
 */
#ifndef WOMGR_AUDIT_H
#define WOMGR_AUDIT_H

#include "womgr.h"
#include "canonical.h"

/* audit.c */
extern void AuditInit(void);
extern bool audit_sealer_writing;	/* set only while the sealer moves rows */

/*
 * The columns of audit_pending and audit_entry that the canonical encoding
 * covers, in this order (the SQL in seal.c and verify.c selects them so).
 */
#define AUDIT_ENTRY_COLUMNS \
	"tenant_id, entry_id, table_name, operation, work_order_id, primary_key," \
	" old_values, new_values, actor, db_role, app_role, client_ip, txid, captured_at"
#define AUDIT_NCOLUMNS 14

/* Fills e from the first AUDIT_NCOLUMNS columns of an SPI row (strings point into it). */
extern void audit_entry_from_row(HeapTuple tup, TupleDesc desc, CanonEntry *e);

/* The encoding of e, palloc'd; *len is set. */
extern uint8_t *audit_encode(const CanonEntry *e, size_t *len);

/* a palloc'd bytea of n bytes */
extern bytea *audit_bytea(const uint8_t *bytes, size_t n);

/* A 32-byte hash column of an SPI row into out; false when NULL or not 32 bytes. */
extern bool audit_stored_hash(HeapTuple tup, TupleDesc desc, int col, uint8_t out[AUDIT_HASH_BYTES]);

/* timestamptz <-> microseconds since the Unix epoch */
extern int64 audit_unix_us(TimestampTz t);

/* seal.c */
extern void SealInit(void);
extern int64 audit_seal_tenant(int64 tenant_id, int64 *head_seq, uint8_t head[AUDIT_HASH_BYTES]);

/* checkpoint.c */
extern void CheckpointInit(void);
extern void audit_iso_time(TimestampTz t, char *buf);	/* buf: MAXDATELEN + 1 */

/* errors shared by the audit functions */
extern void audit_require_tenant(FunctionCallInfo fcinfo, int argno, int64 *tenant_id);

#endif							/* WOMGR_AUDIT_H */
