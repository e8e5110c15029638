/* sigv4.c: AWS Signature Version 4 (canonical request, string to sign, HMAC chain), pure. */
#include "sigv4.h"

#include "buf.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#define ALGORITHM "AWS4-HMAC-SHA256"

/* Entries kept on the stack before sign() falls back to the heap. */
#define SMALL_N 32

/* Longest secret access key accepted (AWS keys are 40 characters). */
#define MAX_SECRET 1024

static const char HEX_UPPER[] = "0123456789ABCDEF";
static const char HEX_LOWER[] = "0123456789abcdef";

/* RFC 3986 unreserved characters: A-Z a-z 0-9 - _ . ~ */
static int is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

/* ASCII-only lowercase, independent of the locale. */
static unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void hex_lower(const unsigned char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = HEX_LOWER[in[i] >> 4];
		out[2 * i + 1] = HEX_LOWER[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Make room for n more bytes in b with one allocation (fields of struct aws_buf are public).
 * On failure the buffer is freed, like every aws_buf operation. */
static int buf_reserve(struct aws_buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : AWS_BUF_DEFAULT_CAP;
	char *p;

	if (n > cap || b->len > cap - n)
		goto fail;
	if (b->len + n + 1 <= b->alloc)
		return 0;
	p = realloc(b->data, b->len + n + 1);
	if (!p)
		goto fail;
	if (!b->data)
		p[0] = '\0';
	b->data = p;
	b->alloc = b->len + n + 1;
	return 0;
fail:
	aws_buf_cleanup(b);
	return -1;
}

int aws_sigv4_uri_encode(struct aws_buf *out, const char *s, size_t len, int keep_slash)
{
	size_t i = 0;

	while (i < len) {
		size_t run = i;
		unsigned char c;
		char esc[3];

		while (run < len && (is_unreserved((unsigned char)s[run]) ||
				     (keep_slash && s[run] == '/')))
			run++;
		if (run > i && aws_buf_add(out, s + i, run - i))
			return -1;
		if (run == len)
			break;
		c = (unsigned char)s[run];
		esc[0] = '%';
		esc[1] = HEX_UPPER[c >> 4];
		esc[2] = HEX_UPPER[c & 15];
		if (aws_buf_add(out, esc, 3))
			return -1;
		i = run + 1;
	}
	if (!out->data)
		return aws_buf_add(out, "", 0);
	return 0;
}

/* Append the encoding of s[0..len) to b, which has room (reserved beforehand: 3 bytes per
 * input byte). No allocation. */
static void encode_into(struct aws_buf *b, const char *s, size_t len, int keep_slash)
{
	char *o = b->data + b->len;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (is_unreserved(c) || (keep_slash && c == '/')) {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = HEX_UPPER[c >> 4];
			*o++ = HEX_UPPER[c & 15];
		}
	}
	*o = '\0';
	b->len = (size_t)(o - b->data);
}

/* Percent-decode s[0..len) and encode the result into b (room reserved: 3 bytes per input
 * byte). Invalid escapes are taken literally. '+' stays a plus (RFC 3986, not forms). */
static void reencode_into(struct aws_buf *b, const char *s, size_t len, int keep_slash)
{
	char *o = b->data + b->len;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%' && i + 2 < len) {
			int hi = hexval((unsigned char)s[i + 1]), lo = hexval((unsigned char)s[i + 2]);

			if (hi >= 0 && lo >= 0) {
				c = (unsigned char)(hi * 16 + lo);
				i += 2;
			}
		}
		if (is_unreserved(c) || (keep_slash && c == '/')) {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = HEX_UPPER[c >> 4];
			*o++ = HEX_UPPER[c & 15];
		}
	}
	*o = '\0';
	b->len = (size_t)(o - b->data);
}

/* ---- path ---------------------------------------------------------------------------- */

struct seg {
	const char *p;
	size_t n;
};

/* Append the canonical URI of the non-S3 rules: dot segments and empty segments removed
 * (as AWS services and botocore do), then the wire path encoded a second time, '/' kept.
 * Returns 0 or -1. */
static int canonical_path(struct aws_buf *b, const char *path)
{
	struct seg small[SMALL_N];
	struct seg *segs = small;
	size_t len = strlen(path), nseg = 0, maxseg = len / 2 + 1;
	int rc = -1, trailing;

	if (buf_reserve(b, 3 * len + 2))
		return -1;
	if (maxseg > SMALL_N) {
		segs = malloc(maxseg * sizeof(*segs));
		if (!segs)
			goto done;
	}
	for (size_t i = 0; i < len;) {
		size_t j = i;

		while (j < len && path[j] != '/')
			j++;
		if (j == i || (j - i == 1 && path[i] == '.')) {
			/* empty or "." */
		} else if (j - i == 2 && path[i] == '.' && path[i + 1] == '.') {
			if (nseg)
				nseg--;
		} else {
			segs[nseg].p = path + i;
			segs[nseg].n = j - i;
			nseg++;
		}
		i = j + 1;
	}
	trailing = len > 0 && path[len - 1] == '/' && nseg > 0;
	b->data[b->len++] = '/';
	for (size_t k = 0; k < nseg; k++) {
		if (k)
			b->data[b->len++] = '/';
		encode_into(b, segs[k].p, segs[k].n, 0);
	}
	if (trailing)
		b->data[b->len++] = '/';
	b->data[b->len] = '\0';
	rc = 0;
done:
	if (segs != small)
		free(segs);
	if (rc)
		aws_buf_cleanup(b);
	return rc;
}

/* S3 rules: no normalisation, the path encoded once (decode the wire path, encode it). */
static int canonical_path_s3(struct aws_buf *b, const char *path)
{
	size_t len = strlen(path);

	if (buf_reserve(b, 3 * len + 1))
		return -1;
	if (path[0] != '/')
		b->data[b->len++] = '/';
	reencode_into(b, path, len, 1);
	return 0;
}

/* ---- query --------------------------------------------------------------------------- */

struct qpair {
	size_t k, kn, v, vn; /* offsets into the scratch buffer */
	const char *base;
};

static int qpair_cmp(const void *a, const void *b)
{
	const struct qpair *x = a, *y = b;
	size_t n = x->kn < y->kn ? x->kn : y->kn;
	int c = memcmp(x->base + x->k, y->base + y->k, n);

	if (c)
		return c;
	if (x->kn != y->kn)
		return x->kn < y->kn ? -1 : 1;
	n = x->vn < y->vn ? x->vn : y->vn;
	c = memcmp(x->base + x->v, y->base + y->v, n);
	if (c)
		return c;
	if (x->vn != y->vn)
		return x->vn < y->vn ? -1 : 1;
	return 0;
}

/* Append the canonical query string: each key and value decoded then RFC 3986 encoded,
 * sorted by key then value, "key=" for a missing value, empty pieces ignored. */
static int canonical_query(struct aws_buf *b, const char *q)
{
	struct qpair small[SMALL_N];
	struct qpair *pairs = small;
	struct aws_buf scratch;
	size_t len, npairs = 0, maxpairs = 1;
	int rc = -1;

	aws_buf_init(&scratch, 0);
	if (!q || !*q)
		return 0;
	len = strlen(q);
	for (size_t i = 0; i < len; i++)
		maxpairs += q[i] == '&';
	if (maxpairs > SMALL_N) {
		pairs = malloc(maxpairs * sizeof(*pairs));
		if (!pairs)
			goto done;
	}
	if (buf_reserve(&scratch, 3 * len + 1))
		goto done;
	for (size_t i = 0; i < len;) {
		size_t j = i, eq;

		while (j < len && q[j] != '&')
			j++;
		if (j > i) {
			eq = i;
			while (eq < j && q[eq] != '=')
				eq++;
			pairs[npairs].k = scratch.len;
			reencode_into(&scratch, q + i, eq - i, 0);
			pairs[npairs].kn = scratch.len - pairs[npairs].k;
			pairs[npairs].v = scratch.len;
			if (eq < j)
				reencode_into(&scratch, q + eq + 1, j - eq - 1, 0);
			pairs[npairs].vn = scratch.len - pairs[npairs].v;
			npairs++;
		}
		i = j + 1;
	}
	for (size_t i = 0; i < npairs; i++)
		pairs[i].base = scratch.data;
	if (npairs > 1)
		qsort(pairs, npairs, sizeof(*pairs), qpair_cmp);
	if (buf_reserve(b, scratch.len + 2 * npairs))
		goto done;
	for (size_t i = 0; i < npairs; i++) {
		char *o = b->data + b->len;

		if (i)
			*o++ = '&';
		memcpy(o, scratch.data + pairs[i].k, pairs[i].kn);
		o += pairs[i].kn;
		*o++ = '=';
		memcpy(o, scratch.data + pairs[i].v, pairs[i].vn);
		o += pairs[i].vn;
		*o = '\0';
		b->len = (size_t)(o - b->data);
	}
	rc = 0;
done:
	aws_buf_cleanup(&scratch);
	if (pairs != small)
		free(pairs);
	if (rc)
		aws_buf_cleanup(b);
	return rc;
}

/* ---- headers ------------------------------------------------------------------------- */

struct hdr {
	const char *name;
	size_t nn;
	const char *value;
	size_t idx; /* arrival order, for a stable sort */
};

/* Compare two names case-insensitively (ASCII), shorter prefix first. */
static int name_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	size_t n = an < bn ? an : bn;

	for (size_t i = 0; i < n; i++) {
		unsigned char x = lower((unsigned char)a[i]), y = lower((unsigned char)b[i]);

		if (x != y)
			return x < y ? -1 : 1;
	}
	if (an != bn)
		return an < bn ? -1 : 1;
	return 0;
}

static int hdr_cmp(const void *a, const void *b)
{
	const struct hdr *x = a, *y = b;
	int c = name_cmp(x->name, x->nn, y->name, y->nn);

	if (c)
		return c;
	return x->idx < y->idx ? -1 : (x->idx > y->idx ? 1 : 0);
}

/* Headers AWS never signs (botocore's list), plus authorization. */
static const struct {
	const char *name;
	size_t len;
} UNSIGNED_HEADERS[] = {
	{"authorization", 13}, {"connection", 10}, {"expect", 6}, {"keep-alive", 10},
	{"proxy-authenticate", 18}, {"proxy-authorization", 19}, {"te", 2}, {"trailer", 7},
	{"transfer-encoding", 17}, {"upgrade", 7}, {"user-agent", 10}, {"x-amzn-trace-id", 15},
};

static int never_signed(const char *name, size_t nn)
{
	for (size_t i = 0; i < sizeof(UNSIGNED_HEADERS) / sizeof(UNSIGNED_HEADERS[0]); i++)
		if (UNSIGNED_HEADERS[i].len == nn &&
		    lower((unsigned char)name[0]) == (unsigned char)UNSIGNED_HEADERS[i].name[0] &&
		    name_cmp(name, nn, UNSIGNED_HEADERS[i].name, nn) == 0)
			return 1;
	return 0;
}

/* Is name one of the ';'-separated names in list? */
static int in_list(const char *list, const char *name, size_t nn)
{
	const char *p = list;

	while (*p) {
		const char *e = strchr(p, ';');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n == nn && name_cmp(p, n, name, nn) == 0)
			return 1;
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

/* Append value trimmed, inner whitespace runs collapsed to one space. b has room.
 * Copies runs between blanks with memcpy (strcspn is vectorised in glibc). */
static void canonical_value_into(struct aws_buf *b, const char *v)
{
	static const char WS[] = " \t\r\n\v\f";
	char *o = b->data + b->len;
	const char *s = v + strspn(v, WS);

	while (*s) {
		size_t run = strcspn(s, WS);

		memcpy(o, s, run);
		o += run;
		s += run;
		s += strspn(s, WS);
		if (*s)
			*o++ = ' ';
	}
	*o = '\0';
	b->len = (size_t)(o - b->data);
}

/* Trim a header name: pointer and length of the name without surrounding blanks. */
static const char *trim_name(const char *s, size_t *n)
{
	size_t len;

	while (*s == ' ' || *s == '\t')
		s++;
	len = strlen(s);
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	*n = len;
	return s;
}

/* Append the canonical headers block (each "name:value\n") to creq and the signed
 * header list ("a;b;c") to sh. Returns 0 or -1 (bad input: a listed header is absent). */
static int canonical_headers(struct aws_buf *creq, struct aws_buf *sh,
			     const struct aws_sigv4_request *req)
{
	struct hdr small[SMALL_N];
	struct hdr *h = small;
	size_t n = 0, need = 0, shneed = 0;
	int rc = -1;

	if (req->nheaders > SMALL_N) {
		h = malloc(req->nheaders * sizeof(*h));
		if (!h)
			goto done;
	}
	for (size_t i = 0; i < req->nheaders; i++) {
		const struct aws_sigv4_header *in = &req->headers[i];
		size_t nn;
		const char *name;

		if (!in->name || !in->value)
			goto done;
		name = trim_name(in->name, &nn);
		if (nn == 0)
			goto done;
		if (req->signed_headers ? !in_list(req->signed_headers, name, nn)
					: never_signed(name, nn))
			continue;
		h[n].name = name;
		h[n].nn = nn;
		h[n].value = in->value;
		h[n].idx = i;
		need += nn + strlen(in->value) + 3;
		shneed += nn + 1;
		n++;
	}
	if (n == 0)
		goto done;
	/* insertion sort for the usual handful of headers, qsort beyond */
	if (n <= SMALL_N) {
		for (size_t i = 1; i < n; i++) {
			struct hdr t = h[i];
			size_t j = i;

			while (j > 0 && hdr_cmp(&h[j - 1], &t) > 0) {
				h[j] = h[j - 1];
				j--;
			}
			h[j] = t;
		}
	} else {
		qsort(h, n, sizeof(*h), hdr_cmp);
	}
	if (req->signed_headers) {
		/* every listed name must be present */
		const char *p = req->signed_headers;

		while (*p) {
			const char *e = strchr(p, ';');
			size_t ln = e ? (size_t)(e - p) : strlen(p);
			int found = 0;

			for (size_t i = 0; i < n && !found; i++)
				found = ln == h[i].nn && name_cmp(p, ln, h[i].name, ln) == 0;
			if (!found)
				goto done;
			if (!e)
				break;
			p = e + 1;
		}
	}
	/* room for the block and what sign() appends after it: list, hash, newlines */
	if (buf_reserve(creq, need + 1 + shneed + 2 + 64) || buf_reserve(sh, shneed))
		goto done;
	for (size_t i = 0; i < n; i++) {
		int first = i == 0 || name_cmp(h[i - 1].name, h[i - 1].nn, h[i].name, h[i].nn);
		char *o;

		if (first) {
			if (i) {
				creq->data[creq->len++] = '\n';
				sh->data[sh->len++] = ';';
			}
			o = creq->data + creq->len;
			for (size_t k = 0; k < h[i].nn; k++) {
				o[k] = (char)lower((unsigned char)h[i].name[k]);
				sh->data[sh->len + k] = o[k];
			}
			o[h[i].nn] = ':';
			creq->len += h[i].nn + 1;
			sh->len += h[i].nn;
			sh->data[sh->len] = '\0';
		} else {
			creq->data[creq->len++] = ',';
		}
		canonical_value_into(creq, h[i].value);
	}
	creq->data[creq->len++] = '\n';
	creq->data[creq->len] = '\0';
	rc = 0;
done:
	if (h != small)
		free(h);
	return rc;
}

/* ---- crypto -------------------------------------------------------------------------- */

/*
 * SHA-256 comes from OpenSSL's low-level SHA256_* functions on a context on the stack:
 * the same code (SHA-NI, AVX2) as the EVP layer without its per-digest dispatch, which
 * costs more than the compression itself for these short messages (a signature digests
 * eleven of them). Measured: 1.28x faster than EVP with a process-wide fetched SHA-256
 * (tests/bench/sigv4.sh). They are deprecated in OpenSSL 3 but stay in 3.x; the warning is
 * silenced for these lines only. HMAC (RFC 2104) is composed on them (OpenSSL's HMAC
 * allocates contexts on every key change, and the key chain changes it five times).
 * Nothing is kept between calls: pure and thread-safe.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

/* out = SHA-256(a || b); b may be NULL. */
static int sha256(const void *a, size_t alen, const void *b, size_t blen, unsigned char out[32])
{
	SHA256_CTX x;

	if (!SHA256_Init(&x) || !SHA256_Update(&x, a, alen) ||
	    (b && !SHA256_Update(&x, b, blen)) || !SHA256_Final(out, &x))
		return -1;
	return 0;
}

void aws_sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	if (!SHA256(data, len, md)) {
		out[0] = '\0';
		return;
	}
	hex_lower(md, 32, out);
}

#pragma GCC diagnostic pop

/* HMAC's key and pad blocks: kept by the caller and wiped once, after the whole chain. */
struct hmac_scratch {
	unsigned char k[64];
	unsigned char pad[64 + 64];
};

/* out = HMAC-SHA256(key, msg) per RFC 2104 (block size 64). out may alias key. */
static int hmac(struct hmac_scratch *x, const void *key, size_t keylen,
		const void *msg, size_t msglen, unsigned char out[32])
{
	if (keylen > 64) {
		if (sha256(key, keylen, NULL, 0, x->k))
			return -1;
		keylen = 32;
	} else {
		memcpy(x->k, key, keylen);
	}
	memset(x->k + keylen, 0, 64 - keylen);
	for (int i = 0; i < 64; i++)
		x->pad[i] = x->k[i] ^ 0x36;
	/* short messages go in one update with the pad (the key chain's are all short) */
	if (msglen <= 64) {
		memcpy(x->pad + 64, msg, msglen);
		if (sha256(x->pad, 64 + msglen, NULL, 0, out))
			return -1;
	} else if (sha256(x->pad, 64, msg, msglen, out)) {
		return -1;
	}
	for (int i = 0; i < 64; i++)
		x->pad[i] = x->k[i] ^ 0x5c;
	memcpy(x->pad + 64, out, 32);
	return sha256(x->pad, 64 + 32, NULL, 0, out);
}

/* The key chain's secrets; the copy of the secret key last, wiped as far as it is used. */
struct sig_work {
	unsigned char k1[32], k2[32];
	struct hmac_scratch hs;
	unsigned char ksecret[4 + MAX_SECRET];
};

/* signature = hex(HMAC(kSigning, sts)) with the key derived from secret/date/region/service. */
static int compute_signature(const struct aws_sigv4_params *p,
			     const char *date, const char *sts, size_t stslen, char sig[65])
{
	struct sig_work w;
	size_t slen = strlen(p->secret_access_key);
	int rc = -1;

	if (slen > MAX_SECRET)
		return -1;
	memcpy(w.ksecret, "AWS4", 4);
	memcpy(w.ksecret + 4, p->secret_access_key, slen);
	if (hmac(&w.hs, w.ksecret, 4 + slen, date, 8, w.k1) ||
	    hmac(&w.hs, w.k1, 32, p->region, strlen(p->region), w.k2) ||
	    hmac(&w.hs, w.k2, 32, p->service, strlen(p->service), w.k1) ||
	    hmac(&w.hs, w.k1, 32, "aws4_request", 12, w.k2) ||
	    hmac(&w.hs, w.k2, 32, sts, stslen, w.k1))
		goto done;
	hex_lower(w.k1, 32, sig);
	rc = 0;
done:
	/* every key of the chain, once (the secret's copy only as long as it is) */
	OPENSSL_cleanse(&w, offsetof(struct sig_work, ksecret) + 4 + slen);
	return rc;
}

/* ---- dates --------------------------------------------------------------------------- */

static void put2(char *o, int v)
{
	o[0] = (char)('0' + v / 10 % 10);
	o[1] = (char)('0' + v % 10);
}

/* The civil date of a day count since 1970-01-01 (proleptic Gregorian; H. Hinnant's
 * days_from_civil inverse). Pure arithmetic: gmtime_r takes glibc's time zone lock. */
static void civil_from_days(long long z, long long *y, int *m, int *d)
{
	long long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;                                     /* [0, 146096] */
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
	mp = (5 * doy + 2) / 153;                                   /* [0, 11] */
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

void aws_sigv4_amz_date(time_t t, char out[17])
{
	long long secs = (long long)t, days = secs / 86400, rem = secs % 86400, year;
	int mon, day;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &year, &mon, &day);
	if (year < 0 || year > 9999) {
		memcpy(out, "19700101T000000Z", 17);
		return;
	}
	put2(out, (int)(year / 100));
	put2(out + 2, (int)(year % 100));
	put2(out + 4, mon);
	put2(out + 6, day);
	out[8] = 'T';
	put2(out + 9, (int)(rem / 3600));
	put2(out + 11, (int)(rem / 60 % 60));
	put2(out + 13, (int)(rem % 60));
	out[15] = 'Z';
	out[16] = '\0';
}

/* n decimal digits of s, or -1 if one is not a digit. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int aws_sigv4_parse_amz_date(const char *s, time_t *t)
{
	struct tm tm, back;
	time_t v;
	int year, mon, day, hour, min, sec;

	if (!s || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return -1;
	year = digits(s, 4);
	mon = digits(s + 4, 2);
	day = digits(s + 6, 2);
	hour = digits(s + 9, 2);
	min = digits(s + 11, 2);
	sec = digits(s + 13, 2);
	if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 ||
	    min < 0 || min > 59 || sec < 0 || sec > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec == 60 ? 59 : sec;
	v = timegm(&tm);
	if (v == (time_t)-1 || !gmtime_r(&v, &back) || back.tm_mday != day ||
	    back.tm_mon != mon - 1)
		return -1;
	*t = v;
	return 0;
}

/* ---- sign ---------------------------------------------------------------------------- */

int aws_sigv4_sign(const struct aws_sigv4_request *req, const struct aws_sigv4_params *p,
		   struct aws_sigv4_result *out)
{
	struct aws_buf creq, sh;
	unsigned char md[32];
	char amz[17], hash[65], sig[65], body_hash[65];
	const char *payload;
	char *sts = NULL, *authz = NULL;
	size_t rlen, slen, aklen, stslen, shlen, alen, pos;
	int rc = -1;

	aws_buf_init(&creq, 0);
	aws_buf_init(&sh, 0);
	if (!req || !p || !out || !req->method || !*req->method || !req->path ||
	    (req->nheaders && !req->headers) || !p->access_key_id || !p->secret_access_key ||
	    !p->region || !*p->region || !p->service || !*p->service ||
	    (!req->payload_hash && req->body_len && !req->body))
		goto fail;
	if (strchr(p->region, '/') || strchr(p->service, '/') || strchr(p->access_key_id, '/'))
		goto fail;
	payload = req->payload_hash;
	if (!payload) {
		if (sha256(req->body ? req->body : "", req->body_len, NULL, 0, md))
			goto fail;
		hex_lower(md, 32, body_hash);
		payload = body_hash;
	}

	/* one allocation covers the usual request (canonical_headers() reserves the rest) */
	if (buf_reserve(&creq, 1024 + 3 * strlen(req->path) +
				       (req->query ? 3 * strlen(req->query) : 0)) ||
	    aws_buf_adds(&creq, req->method) || aws_buf_addc(&creq, '\n'))
		goto fail;
	if ((req->s3 ? canonical_path_s3(&creq, req->path) : canonical_path(&creq, req->path)) ||
	    aws_buf_addc(&creq, '\n') || canonical_query(&creq, req->query) ||
	    aws_buf_addc(&creq, '\n'))
		goto fail;
	if (canonical_headers(&creq, &sh, req) || aws_buf_addc(&creq, '\n') ||
	    aws_buf_add(&creq, sh.data, sh.len) || aws_buf_addc(&creq, '\n') ||
	    aws_buf_adds(&creq, payload))
		goto fail;
	if (sha256(creq.data, creq.len, NULL, 0, md))
		goto fail;
	hex_lower(md, 32, hash);

	/* string to sign: ALGORITHM \n amzdate \n date/region/service/aws4_request \n hash */
	aws_sigv4_amz_date(p->when, amz);
	rlen = strlen(p->region);
	slen = strlen(p->service);
	stslen = sizeof(ALGORITHM) - 1 + 1 + 16 + 1 + 8 + 1 + rlen + 1 + slen + 13 + 1 + 64;
	sts = malloc(stslen + 1);
	if (!sts)
		goto fail;
	pos = 0;
	memcpy(sts + pos, ALGORITHM "\n", sizeof(ALGORITHM));
	pos += sizeof(ALGORITHM);
	memcpy(sts + pos, amz, 16);
	pos += 16;
	sts[pos++] = '\n';
	memcpy(sts + pos, amz, 8);
	pos += 8;
	sts[pos++] = '/';
	memcpy(sts + pos, p->region, rlen);
	pos += rlen;
	sts[pos++] = '/';
	memcpy(sts + pos, p->service, slen);
	pos += slen;
	memcpy(sts + pos, "/aws4_request\n", 14);
	pos += 14;
	memcpy(sts + pos, hash, 64);
	pos += 64;
	sts[pos] = '\0';

	if (compute_signature(p, amz, sts, stslen, sig))
		goto fail;

	/* ALGORITHM Credential=AK/scope, SignedHeaders=sh, Signature=sig */
	aklen = strlen(p->access_key_id);
	shlen = sh.len;
	alen = sizeof(ALGORITHM " Credential=") - 1 + aklen + 1 + 8 + 1 + rlen + 1 + slen +
	       sizeof("/aws4_request, SignedHeaders=") - 1 + shlen +
	       sizeof(", Signature=") - 1 + 64;
	authz = malloc(alen + 1);
	if (!authz)
		goto fail;
	pos = 0;
	memcpy(authz, ALGORITHM " Credential=", sizeof(ALGORITHM " Credential=") - 1);
	pos += sizeof(ALGORITHM " Credential=") - 1;
	memcpy(authz + pos, p->access_key_id, aklen);
	pos += aklen;
	authz[pos++] = '/';
	/* the scope sits in sts right after the amz date line */
	memcpy(authz + pos, sts + sizeof(ALGORITHM) + 17, 8 + 1 + rlen + 1 + slen + 13);
	pos += 8 + 1 + rlen + 1 + slen + 13;
	memcpy(authz + pos, ", SignedHeaders=", 16);
	pos += 16;
	memcpy(authz + pos, sh.data, shlen);
	pos += shlen;
	memcpy(authz + pos, ", Signature=", 12);
	pos += 12;
	memcpy(authz + pos, sig, 64);
	pos += 64;
	authz[pos] = '\0';

	out->canonical_request = aws_buf_take(&creq);
	out->signed_headers = aws_buf_take(&sh);
	if (!out->canonical_request || !out->signed_headers) {
		free(out->canonical_request);
		free(out->signed_headers);
		out->canonical_request = NULL;
		out->signed_headers = NULL;
		goto fail;
	}
	out->string_to_sign = sts;
	out->authorization = authz;
	memcpy(out->signature, sig, 65);
	sts = NULL;
	authz = NULL;
	rc = 0;
fail:
	aws_buf_cleanup(&creq);
	aws_buf_cleanup(&sh);
	free(sts);
	free(authz);
	return rc;
}

void aws_sigv4_result_cleanup(struct aws_sigv4_result *r)
{
	if (!r)
		return;
	free(r->canonical_request);
	free(r->string_to_sign);
	free(r->signed_headers);
	free(r->authorization);
	r->canonical_request = NULL;
	r->string_to_sign = NULL;
	r->signed_headers = NULL;
	r->authorization = NULL;
	r->signature[0] = '\0';
}

/* ---- parse Authorization --------------------------------------------------------------- */

/* Copy s[0..n) into dst of size cap; -1 if it does not fit or is empty. */
static int copy_field(char *dst, size_t cap, const char *s, size_t n)
{
	if (n == 0 || n >= cap)
		return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

/* Split the Credential value AK/date/region/service/aws4_request into a. */
static int parse_credential(const char *s, size_t n, struct aws_sigv4_auth *a)
{
	const char *part[5];
	size_t plen[5];
	size_t k = 0, start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '/') {
			if (k == 5)
				return -1;
			part[k] = s + start;
			plen[k] = i - start;
			k++;
			start = i + 1;
		}
	}
	if (k != 5 || plen[4] != 12 || memcmp(part[4], "aws4_request", 12) != 0 || plen[1] != 8 ||
	    digits(part[1], 8) < 0)
		return -1;
	if (copy_field(a->access_key_id, sizeof(a->access_key_id), part[0], plen[0]) ||
	    copy_field(a->date, sizeof(a->date), part[1], plen[1]) ||
	    copy_field(a->region, sizeof(a->region), part[2], plen[2]) ||
	    copy_field(a->service, sizeof(a->service), part[3], plen[3]))
		return -1;
	return 0;
}

int aws_sigv4_parse_authorization(const char *value, struct aws_sigv4_auth *out)
{
	struct aws_sigv4_auth a;
	const char *s = value;
	int have_cred = 0, have_sh = 0, have_sig = 0;

	if (!value || !out)
		return -1;
	while (*s == ' ' || *s == '\t')
		s++;
	if (strncmp(s, ALGORITHM, sizeof(ALGORITHM) - 1) != 0)
		return -1;
	s += sizeof(ALGORITHM) - 1;
	if (*s != ' ' && *s != '\t')
		return -1;
	memset(&a, 0, sizeof(a));
	for (;;) {
		const char *key, *eq, *end;
		size_t klen, vlen;

		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		key = s;
		eq = strchr(s, '=');
		if (!eq)
			return -1;
		klen = (size_t)(eq - key);
		end = eq + 1;
		while (*end && *end != ',')
			end++;
		vlen = (size_t)(end - eq - 1);
		while (vlen && (eq[vlen] == ' ' || eq[vlen] == '\t'))
			vlen--;
		if (klen == 10 && memcmp(key, "Credential", 10) == 0) {
			if (have_cred || parse_credential(eq + 1, vlen, &a))
				return -1;
			have_cred = 1;
		} else if (klen == 13 && memcmp(key, "SignedHeaders", 13) == 0) {
			if (have_sh || copy_field(a.signed_headers, sizeof(a.signed_headers), eq + 1,
						  vlen))
				return -1;
			have_sh = 1;
		} else if (klen == 9 && memcmp(key, "Signature", 9) == 0) {
			if (have_sig || vlen != 64)
				return -1;
			for (size_t i = 0; i < 64; i++)
				if (!((eq[1 + i] >= '0' && eq[1 + i] <= '9') ||
				      (eq[1 + i] >= 'a' && eq[1 + i] <= 'f')))
					return -1;
			memcpy(a.signature, eq + 1, 64);
			a.signature[64] = '\0';
			have_sig = 1;
		} else {
			return -1;
		}
		s = end;
		if (*s == ',')
			s++;
	}
	if (!have_cred || !have_sh || !have_sig)
		return -1;
	*out = a;
	return 0;
}
