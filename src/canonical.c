/*
 * canonical.c: the canonical byte encoding of an audit entry and the hashes
 * and checkpoint statements built on it (docs/audit-format.md).  No
 * PostgreSQL headers: the offline verifier compiles this file too.
 */
#include "canonical.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

static const uint8_t magic[4] = {'W', 'M', 'A', AUDIT_FORMAT_VERSION};

#define NULL_LEN 0xFFFFFFFFu

static size_t
str_size(CanonStr s)
{
	return 4 + (s.ptr ? s.len : 0);
}

size_t
canon_size(const CanonEntry *e)
{
	return sizeof(magic) + 8 + 8 + str_size(e->table_name) + 1 +
		1 + (e->has_work_order ? 8 : 0) +
		str_size(e->primary_key) + str_size(e->old_values) + str_size(e->new_values) +
		str_size(e->actor) + str_size(e->db_role) + str_size(e->app_role) +
		str_size(e->client_ip) + 8 + 8;
}

static uint8_t *
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) (v >> 24);
	p[1] = (uint8_t) (v >> 16);
	p[2] = (uint8_t) (v >> 8);
	p[3] = (uint8_t) v;
	return p + 4;
}

static uint8_t *
put_i64(uint8_t *p, int64_t v)
{
	uint64_t	u = (uint64_t) v;

	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t) (u >> (56 - 8 * i));
	return p + 8;
}

static uint8_t *
put_str(uint8_t *p, CanonStr s)
{
	if (s.ptr == NULL)
		return put_u32(p, NULL_LEN);
	p = put_u32(p, (uint32_t) s.len);
	if (s.len > 0)
		memcpy(p, s.ptr, s.len);
	return p + s.len;
}

size_t
canon_encode(const CanonEntry *e, uint8_t *out)
{
	uint8_t    *p = out;

	memcpy(p, magic, sizeof(magic));
	p += sizeof(magic);
	p = put_i64(p, e->tenant_id);
	p = put_i64(p, e->entry_id);
	p = put_str(p, e->table_name);
	*p++ = (uint8_t) e->operation;
	*p++ = e->has_work_order ? 1 : 0;
	if (e->has_work_order)
		p = put_i64(p, e->work_order_id);
	p = put_str(p, e->primary_key);
	p = put_str(p, e->old_values);
	p = put_str(p, e->new_values);
	p = put_str(p, e->actor);
	p = put_str(p, e->db_role);
	p = put_str(p, e->app_role);
	p = put_str(p, e->client_ip);
	p = put_i64(p, e->txid);
	p = put_i64(p, e->captured_at_us);
	return (size_t) (p - out);
}

/* a cursor over bytes being decoded */
typedef struct Reader
{
	const uint8_t *p;
	const uint8_t *end;
} Reader;

static bool
get_i64(Reader *r, int64_t *v)
{
	uint64_t	u = 0;

	if (r->end - r->p < 8)
		return false;
	for (int i = 0; i < 8; i++)
		u = (u << 8) | r->p[i];
	r->p += 8;
	*v = (int64_t) u;
	return true;
}

static bool
get_str(Reader *r, CanonStr *s)
{
	uint32_t	n;

	if (r->end - r->p < 4)
		return false;
	n = ((uint32_t) r->p[0] << 24) | ((uint32_t) r->p[1] << 16) |
		((uint32_t) r->p[2] << 8) | r->p[3];
	r->p += 4;
	if (n == NULL_LEN)
	{
		s->ptr = NULL;
		s->len = 0;
		return true;
	}
	if ((size_t) (r->end - r->p) < n)
		return false;
	s->ptr = (const char *) r->p;
	s->len = n;
	r->p += n;
	return true;
}

bool
canon_decode(const uint8_t *buf, size_t len, CanonEntry *e, const char **why)
{
	Reader		r = {buf, buf + len};
	uint8_t		has_wo;

	memset(e, 0, sizeof(*e));
	*why = "the entry is truncated";
	if (len < sizeof(magic) || memcmp(buf, magic, 3) != 0)
	{
		*why = "the entry does not start with \"WMA\"";
		return false;
	}
	if (buf[3] != AUDIT_FORMAT_VERSION)
	{
		*why = "the entry has an unknown format version";
		return false;
	}
	r.p += sizeof(magic);
	if (!get_i64(&r, &e->tenant_id) || !get_i64(&r, &e->entry_id) || !get_str(&r, &e->table_name))
		return false;
	if (r.end - r.p < 2)
		return false;
	e->operation = (char) *r.p++;
	has_wo = *r.p++;
	if (e->operation != 'I' && e->operation != 'U' && e->operation != 'D')
	{
		*why = "the entry's operation is not I, U or D";
		return false;
	}
	if (has_wo > 1)
	{
		*why = "the entry's work-order flag is not 0 or 1";
		return false;
	}
	e->has_work_order = has_wo == 1;
	if (e->has_work_order && !get_i64(&r, &e->work_order_id))
		return false;
	if (!get_str(&r, &e->primary_key) || !get_str(&r, &e->old_values) ||
		!get_str(&r, &e->new_values) || !get_str(&r, &e->actor) ||
		!get_str(&r, &e->db_role) || !get_str(&r, &e->app_role) ||
		!get_str(&r, &e->client_ip) || !get_i64(&r, &e->txid) ||
		!get_i64(&r, &e->captured_at_us))
		return false;
	if (r.p != r.end)
	{
		*why = "the entry has bytes after its last field";
		return false;
	}
	if (e->table_name.ptr == NULL || e->primary_key.ptr == NULL ||
		e->actor.ptr == NULL || e->db_role.ptr == NULL)
	{
		*why = "a field that may not be NULL is NULL";
		return false;
	}
	return true;
}

void
canon_leaf(const uint8_t *enc, size_t len, uint8_t leaf[AUDIT_HASH_BYTES])
{
	crypto_generichash(leaf, AUDIT_HASH_BYTES, enc, len, NULL, 0);
}

void
canon_chain(const uint8_t prev[AUDIT_HASH_BYTES], const uint8_t leaf[AUDIT_HASH_BYTES],
			uint8_t chain[AUDIT_HASH_BYTES])
{
	uint8_t		buf[2 * AUDIT_HASH_BYTES];

	memcpy(buf, prev, AUDIT_HASH_BYTES);
	memcpy(buf + AUDIT_HASH_BYTES, leaf, AUDIT_HASH_BYTES);
	crypto_generichash(chain, AUDIT_HASH_BYTES, buf, sizeof(buf), NULL, 0);
}

void
canon_hex(const uint8_t *bytes, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++)
	{
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * len] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool
canon_unhex(const char *hex, size_t hexlen, uint8_t *out, size_t len)
{
	if (hexlen != 2 * len)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		int			hi = hexval(hex[2 * i]),
					lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t) (hi << 4 | lo);
	}
	return true;
}

size_t
checkpoint_body(int64_t tenant_id, int64_t seq, const uint8_t head[AUDIT_HASH_BYTES],
				const char *time, const uint8_t public_key[AUDIT_PK_BYTES],
				char *out, size_t outsize)
{
	char		head_hex[2 * AUDIT_HASH_BYTES + 1];
	char		key_hex[2 * AUDIT_PK_BYTES + 1];
	int			n;

	canon_hex(head, AUDIT_HASH_BYTES, head_hex);
	canon_hex(public_key, AUDIT_PK_BYTES, key_hex);
	n = snprintf(out, outsize,
				 "womgr audit checkpoint v1\ntenant %lld\nseq %lld\nhead %s\ntime %s\nkey %s\n",
				 (long long) tenant_id, (long long) seq, head_hex, time, key_hex);
	if (n < 0 || (size_t) n >= outsize)
		return 0;
	return (size_t) n;
}

/* the next line of a statement: "<name> <value>\n"; value points into text */
static bool
next_field(const char **p, const char *end, const char *name, const char **value, size_t *vlen)
{
	size_t		nlen = strlen(name);
	const char *nl;

	if ((size_t) (end - *p) < nlen + 1 || memcmp(*p, name, nlen) != 0 || (*p)[nlen] != ' ')
		return false;
	*value = *p + nlen + 1;
	nl = memchr(*value, '\n', (size_t) (end - *value));
	if (nl == NULL)
		return false;
	*vlen = (size_t) (nl - *value);
	*p = nl + 1;
	return true;
}

static bool
parse_i64(const char *s, size_t len, int64_t *v)
{
	int64_t		x = 0;

	if (len == 0 || len > 18)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return true;
}

bool
checkpoint_parse(const char *text, size_t len, Checkpoint *cp, const char **why)
{
	static const char first[] = "womgr audit checkpoint v1\n";
	const char *p = text,
			   *end = text + len;
	const char *v;
	size_t		vlen;

	memset(cp, 0, sizeof(*cp));
	if (len < sizeof(first) - 1 || memcmp(text, first, sizeof(first) - 1) != 0)
	{
		*why = "the first line is not \"womgr audit checkpoint v1\"";
		return false;
	}
	p += sizeof(first) - 1;
	if (!next_field(&p, end, "tenant", &v, &vlen) || !parse_i64(v, vlen, &cp->tenant_id) || cp->tenant_id <= 0)
	{
		*why = "the \"tenant\" line is missing or not a positive number";
		return false;
	}
	if (!next_field(&p, end, "seq", &v, &vlen) || !parse_i64(v, vlen, &cp->seq))
	{
		*why = "the \"seq\" line is missing or not a number";
		return false;
	}
	if (!next_field(&p, end, "head", &v, &vlen) || !canon_unhex(v, vlen, cp->head, AUDIT_HASH_BYTES))
	{
		*why = "the \"head\" line is missing or not 64 hex digits";
		return false;
	}
	if (!next_field(&p, end, "time", &v, &vlen) || vlen == 0 || vlen >= sizeof(cp->time))
	{
		*why = "the \"time\" line is missing or too long";
		return false;
	}
	memcpy(cp->time, v, vlen);
	cp->time[vlen] = '\0';
	if (!next_field(&p, end, "key", &v, &vlen) || !canon_unhex(v, vlen, cp->public_key, AUDIT_PK_BYTES))
	{
		*why = "the \"key\" line is missing or not 64 hex digits";
		return false;
	}
	cp->signed_len = (size_t) (p - text);
	if (!next_field(&p, end, "signature", &v, &vlen) || !canon_unhex(v, vlen, cp->signature, AUDIT_SIG_BYTES))
	{
		*why = "the \"signature\" line is missing or not 128 hex digits";
		return false;
	}
	/* nothing but trailing blank lines may follow */
	while (p < end && (*p == '\n' || *p == '\r' || *p == ' '))
		p++;
	if (p != end)
	{
		*why = "there is text after the \"signature\" line";
		return false;
	}
	return true;
}

bool
checkpoint_signature_ok(const char *text, const Checkpoint *cp, const uint8_t public_key[AUDIT_PK_BYTES])
{
	return crypto_sign_verify_detached(cp->signature, (const unsigned char *) text,
									   cp->signed_len, public_key) == 0;
}
