/*
 * canonical.h: the canonical byte encoding of an audit entry (format v1,
 * docs/audit-format.md), its BLAKE2b-256 leaf and chain hashes, and the
 * signed checkpoint statement.
 *
 * Plain C and libsodium only: the extension and the offline verifier
 * (src/tools/womgr_audit_verify.c) compile this same file, so what the
 * database seals and what an auditor checks can never drift apart.
 */
#ifndef WOMGR_CANONICAL_H
#define WOMGR_CANONICAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUDIT_HASH_BYTES 32			/* BLAKE2b-256 */
#define AUDIT_PK_BYTES 32			/* Ed25519 public key */
#define AUDIT_SIG_BYTES 64			/* Ed25519 signature */
#define AUDIT_FORMAT_VERSION 1

/* a byte string that may be NULL (ptr == NULL); text is not NUL-terminated */
typedef struct CanonStr
{
	const char *ptr;
	size_t		len;
} CanonStr;

/* One audit entry, field by field, in the order they are encoded. */
typedef struct CanonEntry
{
	int64_t		tenant_id;
	int64_t		entry_id;		/* capture id, unique in the database */
	CanonStr	table_name;
	char		operation;		/* 'I', 'U' or 'D' */
	bool		has_work_order;
	int64_t		work_order_id;
	CanonStr	primary_key;	/* JSON object text */
	CanonStr	old_values;		/* JSON object text, or NULL */
	CanonStr	new_values;		/* JSON object text, or NULL */
	CanonStr	actor;
	CanonStr	db_role;
	CanonStr	app_role;		/* or NULL */
	CanonStr	client_ip;		/* or NULL */
	int64_t		txid;			/* full transaction id (epoch << 32 | xid) */
	int64_t		captured_at_us; /* microseconds since 1970-01-01 00:00:00 UTC */
} CanonEntry;

/* Bytes that canon_encode writes for e. */
extern size_t canon_size(const CanonEntry *e);

/* Writes the encoding of e into out (canon_size(e) bytes); returns the length. */
extern size_t canon_encode(const CanonEntry *e, uint8_t *out);

/*
 * Reads an encoding back; false (with *why set) when the bytes are not a
 * well-formed v1 entry.  Strings point into buf.
 */
extern bool canon_decode(const uint8_t *buf, size_t len, CanonEntry *e, const char **why);

/* leaf = BLAKE2b-256(encoding) */
extern void canon_leaf(const uint8_t *enc, size_t len, uint8_t leaf[AUDIT_HASH_BYTES]);

/* chain = BLAKE2b-256(prev || leaf); prev of the first entry is 32 zero bytes */
extern void canon_chain(const uint8_t prev[AUDIT_HASH_BYTES], const uint8_t leaf[AUDIT_HASH_BYTES],
						uint8_t chain[AUDIT_HASH_BYTES]);

/* lower-case hex; out has room for 2 * len + 1 */
extern void canon_hex(const uint8_t *bytes, size_t len, char *out);

/* hex (either case) to bytes; false unless exactly 2 * len hex digits */
extern bool canon_unhex(const char *hex, size_t hexlen, uint8_t *out, size_t len);

/*
 * A checkpoint statement:
 *
 *   womgr audit checkpoint v1\n
 *   tenant <id>\n
 *   seq <n>\n
 *   head <64 hex>\n
 *   time <ISO 8601 UTC>\n
 *   key <64 hex Ed25519 public key>\n
 *   signature <128 hex>\n
 *
 * The signature covers every byte before the "signature" line.
 */
typedef struct Checkpoint
{
	int64_t		tenant_id;
	int64_t		seq;
	uint8_t		head[AUDIT_HASH_BYTES];
	char		time[40];
	uint8_t		public_key[AUDIT_PK_BYTES];
	uint8_t		signature[AUDIT_SIG_BYTES];
	size_t		signed_len;		/* bytes of the text the signature covers */
} Checkpoint;

/* The signed part of a statement into out (size outsize); returns its length, 0 if too small. */
extern size_t checkpoint_body(int64_t tenant_id, int64_t seq, const uint8_t head[AUDIT_HASH_BYTES],
							  const char *time, const uint8_t public_key[AUDIT_PK_BYTES],
							  char *out, size_t outsize);

/* Parses a statement; false (with *why set) if it is not well formed. */
extern bool checkpoint_parse(const char *text, size_t len, Checkpoint *cp, const char **why);

/* Whether the statement's signature verifies under public_key. */
extern bool checkpoint_signature_ok(const char *text, const Checkpoint *cp,
									const uint8_t public_key[AUDIT_PK_BYTES]);

#endif							/* WOMGR_CANONICAL_H */
