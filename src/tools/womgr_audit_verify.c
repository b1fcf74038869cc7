/*
 * womgr_audit_verify: checks an exported audit chain offline, without a
 * database (docs/audit-format.md).
 *
 *   womgr_audit_verify [--key HEX_PUBLIC_KEY] [--checkpoint FILE]... [--dump] EXPORT_FILE|-
 *
 * The export is what womgr.audit_export(tenant) returns, one line per entry,
 * tab-separated: tenant_id, seq, leaf_hash hex, chain_hash hex, entry hex
 * (the canonical encoding).  The checks are those of verify_chain in
 * src/verify.c, and so are the first_bad_seq rules: sequence numbers
 * contiguous from 1 (an export that starts later is anchored on its first
 * entry's stored chain hash), every entry's bytes well formed and of the
 * line's tenant, leaf = BLAKE2b-256(entry), chain = BLAKE2b-256(previous
 * chain || leaf), and, for each --checkpoint (signed under --key), the chain
 * hash at the checkpoint's seq equal to its head.
 *
 * Prints "ok: ..." and exits 0, or "bad: first_bad_seq=N: <problem>" and
 * exits 1; usage and I/O errors exit 2.  Compiled with src/canonical.c and
 * linked with libsodium only.
 */
#define _POSIX_C_SOURCE 200809L

#include "canonical.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#define PROG "womgr_audit_verify"
#define EXIT_OK 0
#define EXIT_BAD 1
#define EXIT_USAGE 2

/* a checkpoint statement is a few hundred bytes; anything far larger is not one */
#define CHECKPOINT_MAX_BYTES 65536

typedef struct CpFile
{
	const char *path;
	int			order;			/* position on the command line, for a stable sort */
	Checkpoint	cp;
} CpFile;

/* what has been verified so far */
typedef struct State
{
	int64_t		tenant;
	bool		have_tenant;
	int64_t		first_seq;		/* seq of the first line; > 1 means anchored */
	int64_t		last;			/* last good seq */
	int64_t		last_good_cp;	/* seq of the last checkpoint found to match */
	int64_t		checked;
	uint8_t		prev[AUDIT_HASH_BYTES];
	int			j;				/* next checkpoint to reach */
} State;

static void
usage(FILE *f)
{
	fprintf(f,
			"usage: " PROG " [--key HEX_PUBLIC_KEY] [--checkpoint FILE]... [--dump] EXPORT_FILE|-\n"
			"\n"
			"Checks an export of a tenant's womgr audit chain:\n"
			"  psql -At -F $'\\t' -c \"SELECT * FROM womgr.audit_export(1)\" > chain.tsv\n"
			"\n"
			"  --key HEX         the Ed25519 public key you trust (64 hex digits,\n"
			"                    encode(womgr.audit_public_key(), 'hex'))\n"
			"  --checkpoint FILE a statement womgr.audit_checkpoint() returned; may be\n"
			"                    repeated; needs --key\n"
			"  --dump            print every entry readably\n"
			"\n"
			"Exit status: 0 ok, 1 the chain or a checkpoint does not verify, 2 usage or I/O error.\n");
}

static void
fail_usage(const char *fmt,...)
{
	va_list		ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_USAGE);
}

static void *
xrealloc(void *p, size_t n)
{
	void	   *q = realloc(p, n ? n : 1);

	if (q == NULL)
		fail_usage("out of memory (%zu bytes)", n);
	return q;
}

/* The verdict when something does not verify: seq <= 0 prints "none". */
static void
report_bad(int64_t seq, const char *fmt,...)
{
	va_list		ap;

	if (seq > 0)
		printf("bad: first_bad_seq=%" PRId64 ": ", seq);
	else
		printf("bad: first_bad_seq=none: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (fflush(stdout) != 0)
		exit(EXIT_USAGE);
	exit(EXIT_BAD);
}

/* a positive decimal int64, digits only */
static bool
parse_seq(const char *s, size_t len, int64_t *out)
{
	int64_t		v = 0;

	if (len == 0 || len > 19)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		int			d;

		if (s[i] < '0' || s[i] > '9')
			return false;
		d = s[i] - '0';
		if (v > (INT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (v <= 0)
		return false;
	*out = v;
	return true;
}

/* Reads a whole (small) file; NULL with errno set on failure. */
static char *
read_small_file(const char *path, size_t max, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf;
	size_t		n;

	if (f == NULL)
		return NULL;
	buf = xrealloc(NULL, max + 1);
	n = fread(buf, 1, max + 1, f);
	if (ferror(f))
	{
		int			e = errno;

		fclose(f);
		free(buf);
		errno = e ? e : EIO;
		return NULL;
	}
	fclose(f);
	if (n > max)
	{
		free(buf);
		errno = EFBIG;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* ---- --dump ---- */

/* bytes as they are, except control characters and backslash, which are escaped */
static void
put_text(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) p[i];

		if (c == '\\')
			fputs("\\\\", stdout);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

static void
put_field(const char *label, CanonStr s)
{
	printf("  %-12s", label);
	if (s.ptr == NULL)
		fputs("(null)", stdout);
	else
		put_text(s.ptr, s.len);
	putchar('\n');
}

/* microseconds since 1970 as ISO 8601 UTC, like the database writes them */
static void
format_time(int64_t us, char *out, size_t outsize)
{
	int64_t		secs = us / 1000000;
	int64_t		frac = us % 1000000;
	time_t		t;
	struct tm	tm;

	if (frac < 0)
	{
		frac += 1000000;
		secs -= 1;
	}
	t = (time_t) secs;
	if ((int64_t) t != secs || gmtime_r(&t, &tm) == NULL ||
		tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
	{
		snprintf(out, outsize, "%" PRId64 " us since 1970-01-01 UTC", us);
		return;
	}
	snprintf(out, outsize, "%04d-%02d-%02dT%02d:%02d:%02d.%06d+00:00",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec, (int) frac);
}

static void
dump_entry(int64_t seq, const CanonEntry *e, size_t enclen)
{
	char		when[80];

	format_time(e->captured_at_us, when, sizeof(when));
	printf("entry %" PRId64 "\n", seq);
	printf("  %-12s%" PRId64 "\n", "tenant", e->tenant_id);
	printf("  %-12s%" PRId64 "\n", "entry_id", e->entry_id);
	put_field("table", e->table_name);
	printf("  %-12s%s\n", "operation",
		   e->operation == 'I' ? "I (insert)" : e->operation == 'U' ? "U (update)" : "D (delete)");
	if (e->has_work_order)
		printf("  %-12s%" PRId64 "\n", "work_order", e->work_order_id);
	else
		printf("  %-12s(none)\n", "work_order");
	put_field("actor", e->actor);
	put_field("db_role", e->db_role);
	put_field("app_role", e->app_role);
	put_field("client_ip", e->client_ip);
	printf("  %-12s%" PRIu64 "\n", "txid", (uint64_t) e->txid);
	printf("  %-12s%s\n", "time", when);
	put_field("primary_key", e->primary_key);
	put_field("old", e->old_values);
	put_field("new", e->new_values);
	printf("  %-12s%zu bytes\n", "encoding", enclen);
}

/* ---- checkpoints ---- */

static void
load_checkpoints(CpFile *cps, int ncp, const uint8_t key[AUDIT_PK_BYTES])
{
	for (int i = 0; i < ncp; i++)
	{
		size_t		len;
		char	   *text = read_small_file(cps[i].path, CHECKPOINT_MAX_BYTES, &len);
		const char *why;
		char		hex[2 * AUDIT_PK_BYTES + 1];

		if (text == NULL)
			fail_usage("could not read checkpoint file \"%s\": %s", cps[i].path, strerror(errno));
		if (!checkpoint_parse(text, len, &cps[i].cp, &why))
			fail_usage("\"%s\" is not a womgr audit checkpoint: %s", cps[i].path, why);
		/* as womgr.audit_verify_checkpoint: the key first, then the signature */
		if (sodium_memcmp(cps[i].cp.public_key, key, AUDIT_PK_BYTES) != 0)
		{
			canon_hex(cps[i].cp.public_key, AUDIT_PK_BYTES, hex);
			report_bad(0, "the checkpoint in \"%s\" names another signing key (%s)", cps[i].path, hex);
		}
		if (!checkpoint_signature_ok(text, &cps[i].cp, key))
			report_bad(0, "the signature of the checkpoint in \"%s\" does not verify: the statement was altered or not signed with this key",
					   cps[i].path);
		free(text);
	}
}

static int
cp_compare(const void *a, const void *b)
{
	const CpFile *x = a,
			   *y = b;

	if (x->cp.seq != y->cp.seq)
		return x->cp.seq < y->cp.seq ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* ---- the export ---- */

/* a hash field: 64 hex digits, or NULL (empty, as psql -A writes it, or \N, as COPY does) */
static bool
hash_field(const char *s, size_t len, uint8_t out[AUDIT_HASH_BYTES], bool *isnull)
{
	*isnull = len == 0 || (len == 2 && s[0] == '\\' && s[1] == 'N');
	if (*isnull)
		return true;
	return canon_unhex(s, len, out, AUDIT_HASH_BYTES);
}

/* Checks one export line (without its newline) against everything before it. */
static void
check_line(State *st, long lineno, char *line, size_t len, CpFile *cps, int ncp, bool dump,
		   uint8_t **buf, size_t *bufsize)
{
	const char *field[5];
	size_t		flen[5];
	int			nf = 0;
	const char *p = line,
			   *end = line + len;
	int64_t		tenant,
				seq;
	uint8_t		stored_leaf[AUDIT_HASH_BYTES],
				stored_chain[AUDIT_HASH_BYTES],
				leaf[AUDIT_HASH_BYTES],
				chain[AUDIT_HASH_BYTES];
	bool		leaf_null,
				chain_null,
				leaf_ok,
				chain_ok,
				decoded;
	size_t		enclen;
	CanonEntry	e;
	const char *why = NULL;

	/* exactly five tab-separated fields */
	for (;;)
	{
		const char *tab = memchr(p, '\t', (size_t) (end - p));
		const char *stop = tab ? tab : end;

		if (nf == 5)
			report_bad(st->last + 1, "line %ld is not an export line: it has more than 5 tab-separated fields",
					   lineno);
		field[nf] = p;
		flen[nf] = (size_t) (stop - p);
		nf++;
		if (tab == NULL)
			break;
		p = tab + 1;
	}
	if (nf != 5)
		report_bad(st->last + 1, "line %ld is not an export line: it has %d field%s, not 5 tab-separated ones",
				   lineno, nf, nf == 1 ? "" : "s");
	if (!parse_seq(field[0], flen[0], &tenant))
		report_bad(st->last + 1, "line %ld: the tenant_id field is not a positive number", lineno);
	if (!parse_seq(field[1], flen[1], &seq))
		report_bad(st->last + 1, "line %ld: the seq field is not a positive number", lineno);

	if (!st->have_tenant)
	{
		st->tenant = tenant;
		st->have_tenant = true;
		st->first_seq = seq;
		st->last = seq - 1;
		st->last_good_cp = seq - 1;
		for (int i = 0; i < ncp; i++)
		{
			if (cps[i].cp.tenant_id != tenant)
				report_bad(0, "the checkpoint in \"%s\" is of tenant %" PRId64 ", the export of tenant %" PRId64,
						   cps[i].path, cps[i].cp.tenant_id, tenant);
			if (cps[i].cp.seq > 0 && cps[i].cp.seq < seq)
				fail_usage("cannot check the checkpoint in \"%s\" at seq %" PRId64
						   ": the export starts at seq %" PRId64 " (export from seq 1)",
						   cps[i].path, cps[i].cp.seq, seq);
		}
		/* checkpoints of the empty chain (seq 0) come before every entry */
		while (st->j < ncp && cps[st->j].cp.seq < seq)
			st->j++;
	}
	else if (tenant != st->tenant)
		report_bad(st->last + 1, "line %ld is of tenant %" PRId64 ", the export of tenant %" PRId64,
				   lineno, tenant, st->tenant);

	if (seq != st->last + 1)
	{
		if (seq > st->last + 1)
			report_bad(st->last + 1, "entry %" PRId64 " is missing", st->last + 1);
		report_bad(st->last + 1, "entry %" PRId64 " is missing: line %ld has seq %" PRId64
				   ", after seq %" PRId64 " (entries repeated or out of order)",
				   st->last + 1, lineno, seq, st->last);
	}

	/* the entry's bytes */
	if (flen[4] % 2 != 0)
		report_bad(seq, "entry %" PRId64 ": the entry field is not hex (odd length)", seq);
	enclen = flen[4] / 2;
	if (enclen > *bufsize)
	{
		*buf = xrealloc(*buf, enclen);
		*bufsize = enclen;
	}
	if (!canon_unhex(field[4], flen[4], *buf, enclen))
		report_bad(seq, "entry %" PRId64 ": the entry field is not hex", seq);
	decoded = canon_decode(*buf, enclen, &e, &why);
	if (decoded && dump)
		dump_entry(seq, &e, enclen);

	/* leaf */
	if (!hash_field(field[2], flen[2], stored_leaf, &leaf_null))
		report_bad(seq, "entry %" PRId64 ": the leaf_hash field is not 64 hex digits", seq);
	canon_leaf(*buf, enclen, leaf);
	leaf_ok = !leaf_null && memcmp(leaf, stored_leaf, sizeof(leaf)) == 0;
	if (!leaf_ok)
		report_bad(seq, "entry %" PRId64 ": its content does not match its leaf hash", seq);
	if (!decoded)
		report_bad(seq, "entry %" PRId64 " is not a well-formed v1 entry: %s", seq, why);
	if (e.tenant_id != tenant)
		report_bad(seq, "entry %" PRId64 " is of tenant %" PRId64 ", its line says tenant %" PRId64,
				   seq, e.tenant_id, tenant);

	/* chain */
	if (!hash_field(field[3], flen[3], stored_chain, &chain_null))
		report_bad(seq, "entry %" PRId64 ": the chain_hash field is not 64 hex digits", seq);
	if (seq == st->first_seq && seq > 1)
	{
		/* the anchor: entries before it are not in the export */
		if (chain_null)
			report_bad(seq, "entry %" PRId64 ", which the export starts from, has no chain hash", seq);
		memcpy(chain, stored_chain, sizeof(chain));
	}
	else
	{
		canon_chain(st->prev, leaf, chain);
		chain_ok = !chain_null && memcmp(chain, stored_chain, sizeof(chain)) == 0;
		if (!chain_ok)
			report_bad(seq, "entry %" PRId64 ": its chain hash does not follow from entry %" PRId64,
					   seq, seq - 1);
	}

	/* checkpoints at this seq */
	for (; st->j < ncp && cps[st->j].cp.seq == seq; st->j++)
	{
		if (memcmp(chain, cps[st->j].cp.head, sizeof(chain)) != 0)
			report_bad(st->last_good_cp + 1,
					   "entries %" PRId64 " to %" PRId64 " differ from the checkpoint signed at %s: that part of the history was rewritten",
					   st->last_good_cp + 1, seq, cps[st->j].cp.time);
		st->last_good_cp = seq;
	}

	memcpy(st->prev, chain, sizeof(chain));
	st->last = seq;
	st->checked++;
}

int
main(int argc, char **argv)
{
	const char *key_hex = NULL;
	const char *export_path = NULL;
	bool		dump = false;
	bool		options_done = false;
	uint8_t		key[AUDIT_PK_BYTES];
	CpFile	   *cps = NULL;
	int			ncp = 0;
	FILE	   *in;
	State		st;
	char	   *line = NULL;
	size_t		linecap = 0;
	ssize_t		n;
	long		lineno = 0;
	uint8_t    *buf = NULL;
	size_t		bufsize = 0;
	char		head_hex[2 * AUDIT_HASH_BYTES + 1];

	for (int i = 1; i < argc; i++)
	{
		const char *a = argv[i];

		if (!options_done && strcmp(a, "--") == 0)
			options_done = true;
		else if (!options_done && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0))
		{
			usage(stdout);
			return EXIT_OK;
		}
		else if (!options_done && strcmp(a, "--dump") == 0)
			dump = true;
		else if (!options_done && (strcmp(a, "--key") == 0 || strncmp(a, "--key=", 6) == 0))
		{
			if (a[5] == '=')
				key_hex = a + 6;
			else if (++i < argc)
				key_hex = argv[i];
			else
				fail_usage("--key needs a value");
		}
		else if (!options_done && (strcmp(a, "--checkpoint") == 0 || strncmp(a, "--checkpoint=", 13) == 0))
		{
			const char *path;

			if (a[12] == '=')
				path = a + 13;
			else if (++i < argc)
				path = argv[i];
			else
				fail_usage("--checkpoint needs a file");
			cps = xrealloc(cps, sizeof(CpFile) * (size_t) (ncp + 1));
			memset(&cps[ncp], 0, sizeof(CpFile));
			cps[ncp].path = path;
			cps[ncp].order = ncp;
			ncp++;
		}
		else if (!options_done && a[0] == '-' && a[1] != '\0')
		{
			usage(stderr);
			fail_usage("unknown option \"%s\"", a);
		}
		else if (export_path == NULL)
			export_path = a;
		else
		{
			usage(stderr);
			fail_usage("more than one export file given");
		}
	}
	if (export_path == NULL)
	{
		usage(stderr);
		fail_usage("no export file given (use - for standard input)");
	}
	if (ncp > 0 && key_hex == NULL)
		fail_usage("--checkpoint needs --key: the public key you trust, not the one the checkpoint names");
	if (key_hex != NULL && ncp == 0)
		fail_usage("--key is only used with --checkpoint");
	if (key_hex != NULL && !canon_unhex(key_hex, strlen(key_hex), key, AUDIT_PK_BYTES))
		fail_usage("--key must be %d hex digits", 2 * AUDIT_PK_BYTES);
	if (sodium_init() < 0)
		fail_usage("libsodium could not be initialized");

	if (ncp > 0)
	{
		load_checkpoints(cps, ncp, key);
		qsort(cps, (size_t) ncp, sizeof(CpFile), cp_compare);
	}

	if (strcmp(export_path, "-") == 0)
		in = stdin;
	else if ((in = fopen(export_path, "rb")) == NULL)
		fail_usage("could not open \"%s\": %s", export_path, strerror(errno));

	memset(&st, 0, sizeof(st));
	while ((n = getline(&line, &linecap, in)) >= 0)
	{
		size_t		len = (size_t) n;

		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			len--;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		check_line(&st, lineno, line, len, cps, ncp, dump, &buf, &bufsize);
	}
	if (ferror(in))
		fail_usage("could not read \"%s\": %s", export_path, strerror(errno));
	if (in != stdin)
		fclose(in);
	free(line);
	free(buf);

	if (!st.have_tenant)
	{
		/* an empty export: the chain of a tenant with nothing sealed */
		st.last = 0;
		while (st.j < ncp && cps[st.j].cp.seq == 0)
			st.j++;
		if (ncp > 0)
			st.tenant = cps[0].cp.tenant_id;
	}
	/* checkpoints beyond the last entry: the tail is gone */
	if (st.j < ncp)
		report_bad(st.last + 1, "entries %" PRId64 " to %" PRId64 " are missing: the checkpoint signed at %s covers them",
				   st.last + 1, cps[st.j].cp.seq, cps[st.j].cp.time);

	canon_hex(st.prev, AUDIT_HASH_BYTES, head_hex);
	if (st.have_tenant && st.first_seq > 1)
		printf("note: the export starts at entry %" PRId64 "; it is anchored on that entry's stored chain hash, and entries before it are not checked\n",
			   st.first_seq);
	if (st.have_tenant || ncp > 0)
		printf("ok: %" PRId64 " entries, tenant %" PRId64 ", head %s\n", st.checked, st.tenant, head_hex);
	else
		printf("ok: 0 entries, tenant unknown, head %s\n", head_hex);
	for (int i = 0; i < ncp; i++)
		printf("checkpoint ok at seq %" PRId64 "\n", cps[i].cp.seq);
	free(cps);
	if (fflush(stdout) != 0 || ferror(stdout))
	{
		fprintf(stderr, PROG ": could not write the result\n");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}
