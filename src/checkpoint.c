/*
 * checkpoint.c: the Ed25519 signing key and signed checkpoints.
 *
 * A checkpoint is a short signed statement of a tenant's chain: its last
 * sequence number and head hash at a time.  Published outside the database
 * (emailed, printed on invoices), it lets anyone detect a rewritten or
 * shortened history later (verify.c, and the offline verifier).
 *
 * The secret key lives in womgr.audit_signing_key, which only the
 * extension's owner can read, or, when the superuser-only setting
 * womgr.audit_key_file names a file, in that file (mode 0600) and not in
 * the database at all.  It is never returned or printed, and its bytes are
 * zeroed when the memory that held them is released.
 */
#include "audit.h"

#include <fcntl.h>
#include <unistd.h>
#include <sodium.h>

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

static char *guc_key_file = NULL;

void
CheckpointInit(void)
{
	DefineCustomStringVariable("womgr.audit_key_file",
							   "File that holds the audit signing key instead of the database.",
							   "Superuser-only.  womgr.audit_generate_key() creates it (mode 0600); checkpoints are signed with it.",
							   &guc_key_file, "", PGC_SUSET, 0, NULL, NULL, NULL);
}

/* secret key bytes, zeroed when their memory context is reset or deleted */
typedef struct SecretKey
{
	uint8_t		sk[crypto_sign_SECRETKEYBYTES];
	MemoryContextCallback cb;
} SecretKey;

static void
secret_zero(void *arg)
{
	sodium_memzero(((SecretKey *) arg)->sk, crypto_sign_SECRETKEYBYTES);
}

static SecretKey *
secret_alloc(MemoryContext cxt)
{
	SecretKey  *k = MemoryContextAllocZero(cxt, sizeof(SecretKey));

	k->cb.func = secret_zero;
	k->cb.arg = k;
	MemoryContextRegisterResetCallback(cxt, &k->cb);
	return k;
}

static void
key_file_error(const char *what, const char *path)
{
	ereport(ERROR,
			(errcode_for_file_access(),
			 errmsg("could not %s audit key file \"%s\": %m", what, path),
			 errdetail("womgr.audit_key_file names the file that holds the audit signing key."),
			 errhint("Check the path and that the server's operating-system user may %s it.", what)));
}

/* Writes a new secret key to womgr.audit_key_file, which must not exist yet. */
static void
write_key_file(const char *path, const uint8_t *sk)
{
	char		hex[2 * crypto_sign_SECRETKEYBYTES + 2];
	int			fd = OpenTransientFilePerm(path, O_WRONLY | O_CREAT | O_EXCL | PG_BINARY, S_IRUSR | S_IWUSR);

	if (fd < 0)
	{
		if (errno == EEXIST)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("audit key file \"%s\" already exists", path),
					 errdetail("womgr.audit_generate_key() never overwrites a signing key."),
					 errhint("To rotate the key, move the file away (keep it safe) or set womgr.audit_key_file to a new path.")));
		key_file_error("create", path);
	}
	canon_hex(sk, crypto_sign_SECRETKEYBYTES, hex);
	strcat(hex, "\n");
	if (write(fd, hex, strlen(hex)) != (ssize_t) strlen(hex) || pg_fsync(fd) != 0)
	{
		sodium_memzero(hex, sizeof(hex));
		key_file_error("write", path);
	}
	sodium_memzero(hex, sizeof(hex));
	if (CloseTransientFile(fd) != 0)
		key_file_error("close", path);
}

static void
read_key_file(const char *path, SecretKey *k)
{
	char		hex[2 * crypto_sign_SECRETKEYBYTES + 8];
	int			fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	ssize_t		n;

	if (fd < 0)
		key_file_error("open", path);
	n = read(fd, hex, sizeof(hex) - 1);
	CloseTransientFile(fd);
	if (n < 0)
		key_file_error("read", path);
	while (n > 0 && (hex[n - 1] == '\n' || hex[n - 1] == '\r'))
		n--;
	if (!canon_unhex(hex, (size_t) n, k->sk, crypto_sign_SECRETKEYBYTES))
	{
		sodium_memzero(hex, sizeof(hex));
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("audit key file \"%s\" does not hold a signing key", path),
				 errdetail("The file must hold %d hex digits, as womgr.audit_generate_key() writes them.",
						   2 * crypto_sign_SECRETKEYBYTES),
				 errhint("Restore the file from your key backup.")));
	}
	sodium_memzero(hex, sizeof(hex));
}

static KeptPlan retire_plan = {
	"UPDATE womgr.audit_signing_key SET retired_at = now() WHERE retired_at IS NULL",
	0, {InvalidOid}
};

static KeptPlan new_key_plan = {
	"INSERT INTO womgr.audit_signing_key (public_key, secret_key, key_file) VALUES ($1, $2, $3)",
	3, {BYTEAOID, BYTEAOID, TEXTOID}
};

/* womgr.audit_generate_key(): a new signing key; returns its public key */
PG_FUNCTION_INFO_V1(womgr_audit_generate_key);
Datum
womgr_audit_generate_key(PG_FUNCTION_ARGS)
{
	uint8_t		pk[crypto_sign_PUBLICKEYBYTES];
	SecretKey  *k = secret_alloc(CurrentMemoryContext);
	bytea	   *secret = NULL;
	Datum		args[3];
	char		nulls[3] = {' ', 'n', 'n'};
	bool		in_file = guc_key_file != NULL && guc_key_file[0] != '\0';
	int			spi;

	if (crypto_sign_keypair(pk, k->sk) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_INVOCATION_EXCEPTION),
				 errmsg("could not generate an audit signing key"),
				 errdetail("libsodium's crypto_sign_keypair() failed."),
				 errhint("Check the server's entropy source.")));
	args[0] = PointerGetDatum(audit_bytea(pk, sizeof(pk)));
	if (in_file)
	{
		write_key_file(guc_key_file, k->sk);
		args[2] = CStringGetTextDatum(guc_key_file);
		nulls[2] = ' ';
	}
	else
	{
		secret = audit_bytea(k->sk, crypto_sign_SECRETKEYBYTES);
		args[1] = PointerGetDatum(secret);
		nulls[1] = ' ';
	}
	spi = spi_begin();
	exec_kept(&retire_plan, NULL, NULL, false, SPI_OK_UPDATE);
	exec_kept(&new_key_plan, args, nulls, false, SPI_OK_INSERT);
	spi_end(spi);
	if (secret != NULL)
		sodium_memzero(VARDATA(secret), crypto_sign_SECRETKEYBYTES);
	sodium_memzero(k->sk, sizeof(k->sk));
	PG_RETURN_BYTEA_P(audit_bytea(pk, sizeof(pk)));
}

static KeptPlan current_key_plan = {
	"SELECT public_key, secret_key, key_file FROM womgr.audit_signing_key"
	" WHERE retired_at IS NULL ORDER BY key_id DESC LIMIT 1",
	0, {InvalidOid}
};

static void
no_key_error(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("there is no audit signing key"),
			 errdetail("Checkpoints are signed with the database's Ed25519 key."),
			 errhint("Run womgr.audit_generate_key() once, as the extension's owner.")));
}

/*
 * The current key: its public half into pk, and (when k is not NULL) its
 * secret half into k.  Runs inside SPI.
 */
static void
load_key(uint8_t pk[AUDIT_PK_BYTES], SecretKey *k)
{
	bool		isnull;
	Datum		d;
	bytea	   *b;

	exec_kept(&current_key_plan, NULL, NULL, true, SPI_OK_SELECT);
	if (SPI_processed == 0)
		no_key_error();
	b = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (VARSIZE_ANY_EXHDR(b) != AUDIT_PK_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("the audit signing key is damaged"),
				 errdetail("The public key is %zu bytes, not %d.", (size_t) VARSIZE_ANY_EXHDR(b), AUDIT_PK_BYTES),
				 errhint("Generate a new key with womgr.audit_generate_key().")));
	memcpy(pk, VARDATA_ANY(b), AUDIT_PK_BYTES);
	if (k == NULL)
		return;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	if (!isnull)
	{
		bytea	   *s = DatumGetByteaPP(d);

		if (VARSIZE_ANY_EXHDR(s) != crypto_sign_SECRETKEYBYTES)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("the audit signing key is damaged"),
					 errdetail("The secret key is %zu bytes, not %d.", (size_t) VARSIZE_ANY_EXHDR(s),
							   crypto_sign_SECRETKEYBYTES),
					 errhint("Generate a new key with womgr.audit_generate_key().")));
		memcpy(k->sk, VARDATA_ANY(s), crypto_sign_SECRETKEYBYTES);
		sodium_memzero(VARDATA_ANY(s), crypto_sign_SECRETKEYBYTES);
	}
	else
	{
		char	   *path;

		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);
		if (isnull)
			no_key_error();
		path = TextDatumGetCString(d);
		read_key_file(path, k);
	}
	/* the file or row must hold the secret half of this very key */
	{
		uint8_t		derived[crypto_sign_PUBLICKEYBYTES];

		crypto_sign_ed25519_sk_to_pk(derived, k->sk);
		if (memcmp(derived, pk, AUDIT_PK_BYTES) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("the audit signing key does not match its public key"),
					 errdetail("The secret key found belongs to another key pair."),
					 errhint("Restore the right key file, or generate a new key with womgr.audit_generate_key().")));
	}
}

/* womgr.audit_public_key(): the current public key, for auditors */
PG_FUNCTION_INFO_V1(womgr_audit_public_key);
Datum
womgr_audit_public_key(PG_FUNCTION_ARGS)
{
	uint8_t		pk[AUDIT_PK_BYTES];
	int			spi = spi_begin();

	load_key(pk, NULL);
	spi_end(spi);
	PG_RETURN_BYTEA_P(audit_bytea(pk, sizeof(pk)));
}

static KeptPlan save_checkpoint_plan = {
	"INSERT INTO womgr.audit_checkpoint (tenant_id, seq, head_hash, signed_at, public_key, statement)"
	" VALUES ($1, $2, $3, $4, $5, $6)",
	6, {INT8OID, INT8OID, BYTEAOID, TIMESTAMPTZOID, BYTEAOID, TEXTOID}
};

/* ISO 8601 in UTC: 2026-11-23T17:00:00.123456+00:00 */
void
audit_iso_time(TimestampTz t, char *buf)
{
	int			utc = 0;

	JsonEncodeDateTime(buf, TimestampTzGetDatum(t), TIMESTAMPTZOID, &utc);
}

/* womgr.audit_checkpoint(tenant): seals, then signs the tenant's chain head */
PG_FUNCTION_INFO_V1(womgr_audit_checkpoint);
Datum
womgr_audit_checkpoint(PG_FUNCTION_ARGS)
{
	int64		tenant_id,
				seq;
	uint8_t		head[AUDIT_HASH_BYTES];
	uint8_t		pk[AUDIT_PK_BYTES];
	uint8_t		sig[AUDIT_SIG_BYTES];
	char		when[MAXDATELEN + 1];
	char		body[512];
	char		sig_hex[2 * AUDIT_SIG_BYTES + 1];
	size_t		len;
	TimestampTz now = GetCurrentTimestamp();
	MemoryContext key_cxt;
	SecretKey  *k;
	Datum		args[6];
	char	   *statement;
	int			spi;

	audit_require_tenant(fcinfo, 0, &tenant_id);
	/* seals, and leaves the head locked until commit */
	(void) audit_seal_tenant(tenant_id, &seq, head);

	spi = spi_begin();
	key_cxt = AllocSetContextCreate(CurrentMemoryContext, "womgr audit key", ALLOCSET_SMALL_SIZES);
	k = secret_alloc(key_cxt);
	load_key(pk, k);
	audit_iso_time(now, when);
	len = checkpoint_body(tenant_id, seq, head, when, pk, body, sizeof(body));
	if (len == 0)
		elog(ERROR, "checkpoint statement does not fit");
	crypto_sign_detached(sig, NULL, (const unsigned char *) body, len, k->sk);
	MemoryContextDelete(key_cxt);	/* zeroes the secret key */

	canon_hex(sig, sizeof(sig), sig_hex);
	statement = psprintf("%ssignature %s\n", body, sig_hex);
	args[0] = Int64GetDatum(tenant_id);
	args[1] = Int64GetDatum(seq);
	args[2] = PointerGetDatum(audit_bytea(head, sizeof(head)));
	args[3] = TimestampTzGetDatum(now);
	args[4] = PointerGetDatum(audit_bytea(pk, sizeof(pk)));
	args[5] = CStringGetTextDatum(statement);
	exec_kept(&save_checkpoint_plan, args, NULL, false, SPI_OK_INSERT);
	spi_end(spi);
	PG_RETURN_TEXT_P(cstring_to_text(statement));
}
