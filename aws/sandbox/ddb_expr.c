/* ddb_expr.c: DynamoDB attribute values (validation, exact decimals, ordering, sizes, key
 * encoding) and the expression language (parser + evaluator). Pure: no I/O, no clock. */
#include "aws/sandbox/ddb_expr.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#define MAX_NEST 32      /* attribute value nesting levels, as AWS */
#define MAX_PATH 32      /* document path depth */
#define MAX_OPS 300      /* operators and functions in one expression, as AWS */
#define MAX_DEPTH 128    /* parentheses / NOT nesting the parser accepts */
#define MAX_DIGITS 38    /* significant digits of a number */
#define DEC_MAX 160      /* digits a parsed decimal may hold */

/* ======================================================================== */
/* Exact decimals                                                           */
/* ======================================================================== */

/* A decimal: value = (neg ? -1 : 1) * 0.d[0]d[1]...d[nd-1] * 10^exp; d has no
 * leading or trailing zeros; nd == 0 is zero. */
struct dec {
	int neg;
	int nd;
	int exp;
	char d[DEC_MAX];
};

/* Parse DynamoDB number text. Returns 0, or -1 when malformed or too long. */
static int dec_parse(const char *s, struct dec *out)
{
	char all[512];
	int nall = 0, intlen = -1, i = 0, lz = 0, nd;
	long e = 0;

	memset(out, 0, sizeof(*out));
	if (!s)
		return -1;
	if (s[i] == '-' || s[i] == '+') {
		out->neg = s[i] == '-';
		i++;
	}
	for (;; i++) {
		if (s[i] >= '0' && s[i] <= '9') {
			if (nall >= (int)sizeof(all))
				return -1;
			all[nall++] = s[i];
		} else if (s[i] == '.' && intlen < 0) {
			intlen = nall;
		} else {
			break;
		}
	}
	if (nall == 0)
		return -1;
	if (intlen < 0)
		intlen = nall;
	if (s[i] == 'e' || s[i] == 'E') {
		int eneg = 0, edig = 0;
		i++;
		if (s[i] == '-' || s[i] == '+') {
			eneg = s[i] == '-';
			i++;
		}
		while (s[i] >= '0' && s[i] <= '9') {
			if (++edig > 6)
				return -1;
			e = e * 10 + (s[i] - '0');
			i++;
		}
		if (!edig)
			return -1;
		if (eneg)
			e = -e;
	}
	if (s[i] != '\0')
		return -1;
	while (lz < nall && all[lz] == '0')
		lz++;
	nd = nall - lz;
	while (nd > 0 && all[lz + nd - 1] == '0')
		nd--;
	if (nd == 0) {
		out->neg = 0;
		return 0;
	}
	if (nd > DEC_MAX)
		return -1;
	memcpy(out->d, all + lz, (size_t)nd);
	out->nd = nd;
	out->exp = (int)(intlen - lz + e);
	return 0;
}

/* Compare magnitudes |a| vs |b|. */
static int dec_cmp_abs(const struct dec *a, const struct dec *b)
{
	int n;
	if (a->nd == 0 || b->nd == 0)
		return (a->nd != 0) - (b->nd != 0);
	if (a->exp != b->exp)
		return a->exp < b->exp ? -1 : 1;
	n = a->nd < b->nd ? a->nd : b->nd;
	for (int i = 0; i < n; i++)
		if (a->d[i] != b->d[i])
			return a->d[i] < b->d[i] ? -1 : 1;
	return (a->nd > b->nd) - (a->nd < b->nd);
}

static int dec_cmp(const struct dec *a, const struct dec *b)
{
	int sa = a->nd == 0 ? 0 : (a->neg ? -1 : 1);
	int sb = b->nd == 0 ? 0 : (b->neg ? -1 : 1);
	if (sa != sb)
		return sa < sb ? -1 : 1;
	if (sa == 0)
		return 0;
	return sa > 0 ? dec_cmp_abs(a, b) : -dec_cmp_abs(a, b);
}

int sbx_ddb_num_compare(const char *a, const char *b)
{
	struct dec x, y;
	if (dec_parse(a, &x) != 0)
		memset(&x, 0, sizeof(x));
	if (dec_parse(b, &y) != 0)
		memset(&y, 0, sizeof(y));
	return dec_cmp(&x, &y);
}

/* Write d canonically (plain notation). Returns 0 or -1 when out is short. */
static int dec_format(const struct dec *d, char *out, size_t outlen)
{
	struct aws_buf b;
	int rc = -1;
	aws_buf_init(&b, 4096);
	if (d->nd == 0) {
		if (aws_buf_adds(&b, "0"))
			goto fail;
	} else {
		if (d->neg && aws_buf_addc(&b, '-'))
			goto fail;
		if (d->exp <= 0) {
			if (aws_buf_adds(&b, "0."))
				goto fail;
			for (int i = 0; i < -d->exp; i++)
				if (aws_buf_addc(&b, '0'))
					goto fail;
			if (aws_buf_add(&b, d->d, (size_t)d->nd))
				goto fail;
		} else if (d->exp >= d->nd) {
			if (aws_buf_add(&b, d->d, (size_t)d->nd))
				goto fail;
			for (int i = d->nd; i < d->exp; i++)
				if (aws_buf_addc(&b, '0'))
					goto fail;
		} else {
			if (aws_buf_add(&b, d->d, (size_t)d->exp) || aws_buf_addc(&b, '.') ||
			    aws_buf_add(&b, d->d + d->exp, (size_t)(d->nd - d->exp)))
				goto fail;
		}
	}
	if (b.len + 1 > outlen)
		goto fail;
	memcpy(out, aws_buf_str(&b), b.len + 1);
	rc = 0;
fail:
	aws_buf_cleanup(&b);
	return rc;
}

int sbx_ddb_num_add(const char *a, const char *b, int negate_b, char *out, size_t outlen)
{
	struct dec x, y, r;
	int low, high, width, big;
	signed char acc[2 * DEC_MAX + 520];
	const struct dec *p, *q;

	if (dec_parse(a, &x) || dec_parse(b, &y))
		return -1;
	if (negate_b && y.nd)
		y.neg = !y.neg;
	if (x.nd == 0 || y.nd == 0) {
		r = x.nd ? x : y;
		goto done;
	}
	/* digit k of the accumulator has weight 10^(low + k) */
	low = x.exp - x.nd < y.exp - y.nd ? x.exp - x.nd : y.exp - y.nd;
	high = x.exp > y.exp ? x.exp : y.exp;
	width = high - low + 1;
	if (width > (int)sizeof(acc))
		return -1;
	memset(acc, 0, sizeof(acc));
	big = dec_cmp_abs(&x, &y);
	p = big >= 0 ? &x : &y; /* larger magnitude */
	q = big >= 0 ? &y : &x;
	for (int i = 0; i < p->nd; i++)
		acc[p->exp - 1 - i - low] += (signed char)(p->d[i] - '0');
	for (int i = 0; i < q->nd; i++) {
		int k = q->exp - 1 - i - low;
		if (p->neg == q->neg)
			acc[k] += (signed char)(q->d[i] - '0');
		else
			acc[k] -= (signed char)(q->d[i] - '0');
	}
	for (int k = 0; k < width - 1; k++) {
		while (acc[k] < 0) {
			acc[k] += 10;
			acc[k + 1]--;
		}
		while (acc[k] > 9) {
			acc[k] -= 10;
			acc[k + 1]++;
		}
	}
	memset(&r, 0, sizeof(r));
	r.neg = p->neg;
	{
		int top = width - 1;
		while (top >= 0 && acc[top] == 0)
			top--;
		if (top < 0) {
			r.nd = 0;
			r.neg = 0;
			goto done;
		}
		int bot = 0;
		while (acc[bot] == 0)
			bot++;
		if (top - bot + 1 > MAX_DIGITS)
			return -1;
		for (int k = top; k >= bot; k--)
			r.d[r.nd++] = (char)('0' + acc[k]);
		r.exp = low + top + 1;
	}
done:
	if (r.nd > MAX_DIGITS)
		return -1;
	return dec_format(&r, out, outlen);
}

/* ======================================================================== */
/* Attribute values                                                         */
/* ======================================================================== */

static const char *const av_types[] = {"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"};

const char *sbx_ddb_av_type(json_t *av)
{
	const char *key;
	json_t *v;
	if (!json_is_object(av) || json_object_size(av) != 1)
		return NULL;
	json_object_foreach(av, key, v) {
		for (size_t i = 0; i < sizeof(av_types) / sizeof(av_types[0]); i++)
			if (strcmp(key, av_types[i]) == 0)
				return av_types[i];
	}
	return NULL;
}

static json_t *av_val(json_t *av, const char *type)
{
	return json_object_get(av, type);
}

/* Decode base64 text into out (caller frees). Returns 0 or -1. */
static int b64_decode(const char *s, unsigned char **out, size_t *outlen)
{
	size_t n = strlen(s), pad = 0;
	unsigned char *buf;
	int got;
	*out = NULL;
	*outlen = 0;
	if (n % 4)
		return -1;
	buf = malloc(n / 4 * 3 + 1);
	if (!buf)
		return -1;
	if (n == 0) {
		*out = buf;
		return 0;
	}
	got = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)n);
	if (got < 0) {
		free(buf);
		return -1;
	}
	if (n >= 1 && s[n - 1] == '=')
		pad++;
	if (n >= 2 && s[n - 2] == '=')
		pad++;
	*out = buf;
	*outlen = (size_t)got - pad;
	return 0;
}

static size_t b64_len(const char *s)
{
	size_t n = strlen(s), pad = 0;
	if (n >= 1 && s[n - 1] == '=')
		pad++;
	if (n >= 2 && s[n - 2] == '=')
		pad++;
	return n / 4 * 3 - (n % 4 == 0 ? pad : 0);
}

static int errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int num_validate(const char *s, char *err, size_t errlen)
{
	struct dec d;
	if (dec_parse(s, &d) != 0)
		return errf(err, errlen, "A value provided cannot be converted into a number");
	if (d.nd > MAX_DIGITS)
		return errf(err, errlen,
			    "Attempting to store more than 38 significant digits in a Number");
	if (d.nd && d.exp > 126)
		return errf(err, errlen, "Number overflow. Attempting to store a number with "
			    "magnitude larger than supported range");
	if (d.nd && d.exp < -129)
		return errf(err, errlen, "Number underflow. Attempting to store a number with "
			    "magnitude smaller than supported range");
	return 0;
}

static int av_validate_depth(json_t *av, int depth, char *err, size_t errlen);

static int set_validate(json_t *arr, const char *type, int depth, char *err, size_t errlen)
{
	const char *elem = type[0] == 'S' ? "S" : type[0] == 'N' ? "N" : "B";
	const char *label = type[0] == 'S' ? "string" : type[0] == 'N' ? "number" : "binary";
	size_t n;
	json_t *x;
	if (!json_is_array(arr))
		return errf(err, errlen, "Supplied AttributeValue is empty, must contain exactly "
			    "one of the supported datatypes");
	n = json_array_size(arr);
	if (n == 0) {
		if (type[0] == 'B')
			return errf(err, errlen, "One or more parameter values were invalid: "
				    "Binary sets should not be empty");
		return errf(err, errlen, "One or more parameter values were invalid: An %s set  "
			    "may not be empty", label);
	}
	for (size_t i = 0; i < n; i++) {
		x = json_array_get(arr, i);
		if (!json_is_string(x))
			return errf(err, errlen, "Supplied AttributeValue is empty, must contain "
				    "exactly one of the supported datatypes");
		if (elem[0] == 'N' && num_validate(json_string_value(x), err, errlen))
			return -1;
		if (elem[0] == 'B') {
			unsigned char *raw;
			size_t rawlen;
			if (b64_decode(json_string_value(x), &raw, &rawlen))
				return errf(err, errlen, "Invalid Base64 binary value in set");
			free(raw);
		}
		for (size_t j = 0; j < i; j++) {
			json_t *y = json_array_get(arr, j);
			int same = elem[0] == 'N'
				? sbx_ddb_num_compare(json_string_value(x), json_string_value(y)) == 0
				: strcmp(json_string_value(x), json_string_value(y)) == 0;
			if (same)
				return errf(err, errlen, "One or more parameter values were invalid: "
					    "Input collection contains duplicates");
		}
	}
	(void)depth;
	return 0;
}

static int av_validate_depth(json_t *av, int depth, char *err, size_t errlen)
{
	const char *t = sbx_ddb_av_type(av);
	json_t *v;
	if (depth > MAX_NEST)
		return errf(err, errlen, "Nesting Levels have exceeded supported limits");
	if (!t) {
		if (json_is_object(av) && json_object_size(av) > 1)
			return errf(err, errlen, "Supplied AttributeValue has more than one datatypes "
				    "set, must contain exactly one of the supported datatypes");
		return errf(err, errlen, "Supplied AttributeValue is empty, must contain exactly "
			    "one of the supported datatypes");
	}
	v = av_val(av, t);
	if (strcmp(t, "S") == 0) {
		if (!json_is_string(v))
			return errf(err, errlen, "Supplied AttributeValue is empty, must contain "
				    "exactly one of the supported datatypes");
	} else if (strcmp(t, "N") == 0) {
		if (!json_is_string(v))
			return errf(err, errlen, "A value provided cannot be converted into a number");
		return num_validate(json_string_value(v), err, errlen);
	} else if (strcmp(t, "B") == 0) {
		unsigned char *raw;
		size_t rawlen;
		if (!json_is_string(v) || b64_decode(json_string_value(v), &raw, &rawlen))
			return errf(err, errlen, "Invalid Base64 binary value");
		free(raw);
	} else if (strcmp(t, "BOOL") == 0) {
		if (!json_is_boolean(v))
			return errf(err, errlen, "One or more parameter values were invalid: "
				    "BOOL attribute value must be a boolean");
	} else if (strcmp(t, "NULL") == 0) {
		if (!json_is_true(v))
			return errf(err, errlen, "One or more parameter values were invalid: Null "
				    "attribute value types must have the value of true");
	} else if (strcmp(t, "M") == 0) {
		const char *k;
		json_t *x;
		if (!json_is_object(v))
			return errf(err, errlen, "Supplied AttributeValue is empty, must contain "
				    "exactly one of the supported datatypes");
		json_object_foreach(v, k, x) {
			if (av_validate_depth(x, depth + 1, err, errlen))
				return -1;
		}
	} else if (strcmp(t, "L") == 0) {
		size_t i;
		json_t *x;
		if (!json_is_array(v))
			return errf(err, errlen, "Supplied AttributeValue is empty, must contain "
				    "exactly one of the supported datatypes");
		json_array_foreach(v, i, x) {
			if (av_validate_depth(x, depth + 1, err, errlen))
				return -1;
		}
	} else {
		return set_validate(v, t, depth, err, errlen);
	}
	return 0;
}

int sbx_ddb_av_validate(json_t *av, char *err, size_t errlen)
{
	return av_validate_depth(av, 1, err, errlen);
}

int sbx_ddb_item_validate(json_t *item, char *err, size_t errlen)
{
	const char *k;
	json_t *v;
	if (!json_is_object(item))
		return errf(err, errlen, "One or more parameter values were invalid: "
			    "Item must be a map");
	json_object_foreach(item, k, v) {
		if (k[0] == '\0')
			return errf(err, errlen, "One or more parameter values were invalid: An "
				    "AttributeName may not be empty");
		if (av_validate_depth(v, 1, err, errlen))
			return -1;
	}
	return 0;
}

/* Bytes of a B value decoded; compares by unsigned bytes. */
static int bin_compare(const char *a, const char *b, int *cmp)
{
	unsigned char *x = NULL, *y = NULL;
	size_t nx, ny, n;
	int rc = -1, c;
	if (b64_decode(a, &x, &nx) || b64_decode(b, &y, &ny))
		goto fail;
	n = nx < ny ? nx : ny;
	c = n ? memcmp(x, y, n) : 0;
	if (c == 0)
		c = (nx > ny) - (nx < ny);
	*cmp = c;
	rc = 0;
fail:
	free(x);
	free(y);
	return rc;
}

int sbx_ddb_av_compare(json_t *a, json_t *b, int *cmp)
{
	const char *ta = sbx_ddb_av_type(a), *tb = sbx_ddb_av_type(b);
	const char *x, *y;
	if (!ta || !tb || strcmp(ta, tb) != 0)
		return -1;
	x = json_string_value(av_val(a, ta));
	y = json_string_value(av_val(b, tb));
	if (!x || !y)
		return -1;
	if (strcmp(ta, "N") == 0) {
		*cmp = sbx_ddb_num_compare(x, y);
		return 0;
	}
	if (strcmp(ta, "S") == 0) {
		int c = strcmp(x, y); /* UTF-8 byte order */
		*cmp = (c > 0) - (c < 0);
		return 0;
	}
	if (strcmp(ta, "B") == 0)
		return bin_compare(x, y, cmp);
	return -1;
}

static int scalar_equal(const char *elem_type, json_t *x, json_t *y)
{
	const char *a = json_string_value(x), *b = json_string_value(y);
	int c;
	if (!a || !b)
		return 0;
	if (elem_type[0] == 'N')
		return sbx_ddb_num_compare(a, b) == 0;
	if (elem_type[0] == 'B')
		return bin_compare(a, b, &c) == 0 && c == 0;
	return strcmp(a, b) == 0;
}

int sbx_ddb_av_equal(json_t *a, json_t *b)
{
	const char *ta = sbx_ddb_av_type(a), *tb = sbx_ddb_av_type(b);
	json_t *x, *y;
	if (!ta || !tb || strcmp(ta, tb) != 0)
		return 0;
	x = av_val(a, ta);
	y = av_val(b, tb);
	if (strcmp(ta, "S") == 0 || strcmp(ta, "N") == 0 || strcmp(ta, "B") == 0)
		return scalar_equal(ta, x, y);
	if (strcmp(ta, "BOOL") == 0 || strcmp(ta, "NULL") == 0)
		return json_equal(x, y);
	if (strcmp(ta, "M") == 0) {
		const char *k;
		json_t *v;
		if (!json_is_object(x) || !json_is_object(y) ||
		    json_object_size(x) != json_object_size(y))
			return 0;
		json_object_foreach(x, k, v) {
			json_t *w = json_object_get(y, k);
			if (!w || !sbx_ddb_av_equal(v, w))
				return 0;
		}
		return 1;
	}
	if (strcmp(ta, "L") == 0) {
		if (!json_is_array(x) || !json_is_array(y) ||
		    json_array_size(x) != json_array_size(y))
			return 0;
		for (size_t i = 0; i < json_array_size(x); i++)
			if (!sbx_ddb_av_equal(json_array_get(x, i), json_array_get(y, i)))
				return 0;
		return 1;
	}
	/* sets: same size, every element of x in y */
	if (!json_is_array(x) || !json_is_array(y) || json_array_size(x) != json_array_size(y))
		return 0;
	for (size_t i = 0; i < json_array_size(x); i++) {
		int found = 0;
		for (size_t j = 0; j < json_array_size(y) && !found; j++)
			found = scalar_equal(ta + 0, json_array_get(x, i), json_array_get(y, j));
		if (!found)
			return 0;
	}
	return 1;
}

static size_t num_size(const char *s)
{
	struct dec d;
	if (dec_parse(s, &d))
		return strlen(s);
	return (size_t)(d.nd + 1) / 2 + 1;
}

static size_t av_size(json_t *av)
{
	const char *t = sbx_ddb_av_type(av);
	json_t *v;
	size_t n = 0, i;
	json_t *x;
	if (!t)
		return 0;
	v = av_val(av, t);
	switch (t[0]) {
	case 'S':
		if (t[1] == '\0')
			return strlen(json_string_value(v) ? json_string_value(v) : "");
		json_array_foreach(v, i, x)
			n += strlen(json_string_value(x) ? json_string_value(x) : "");
		return n;
	case 'N':
		if (t[1] == '\0')
			return num_size(json_string_value(v));
		if (t[1] == 'S') {
			json_array_foreach(v, i, x)
				n += num_size(json_string_value(x));
			return n;
		}
		return 1; /* NULL */
	case 'B':
		if (t[1] == '\0')
			return b64_len(json_string_value(v) ? json_string_value(v) : "");
		if (t[1] == 'S') {
			json_array_foreach(v, i, x)
				n += b64_len(json_string_value(x) ? json_string_value(x) : "");
			return n;
		}
		return 1; /* BOOL */
	case 'M': {
		const char *k;
		n = 3;
		json_object_foreach(v, k, x)
			n += 1 + strlen(k) + av_size(x);
		return n;
	}
	case 'L':
		n = 3;
		json_array_foreach(v, i, x)
			n += 1 + av_size(x);
		return n;
	default:
		return 0;
	}
}

size_t sbx_ddb_item_size(json_t *item)
{
	const char *k;
	json_t *v;
	size_t n = 0;
	json_object_foreach(item, k, v)
		n += strlen(k) + av_size(v);
	return n;
}

int sbx_ddb_key_encode(json_t *av, struct aws_buf *out)
{
	const char *t = sbx_ddb_av_type(av);
	const char *s;
	if (!t)
		return -1;
	s = json_string_value(av_val(av, t));
	if (!s)
		return -1;
	if (strcmp(t, "S") == 0)
		return aws_buf_adds(out, s);
	if (strcmp(t, "B") == 0) {
		unsigned char *raw;
		size_t n;
		int rc;
		if (b64_decode(s, &raw, &n))
			return -1;
		rc = aws_buf_add(out, raw, n);
		free(raw);
		return rc;
	}
	if (strcmp(t, "N") == 0) {
		struct dec d;
		unsigned e;
		if (dec_parse(s, &d))
			return -1;
		if (d.nd == 0)
			return aws_buf_addc(out, (char)0x80);
		if (!d.neg) {
			e = (unsigned)(d.exp + 32768);
			if (aws_buf_addc(out, (char)0xC0) || aws_buf_addc(out, (char)(e >> 8)) ||
			    aws_buf_addc(out, (char)(e & 0xff)))
				return -1;
			return aws_buf_add(out, d.d, (size_t)d.nd);
		}
		e = (unsigned)(65535 - (d.exp + 32768));
		if (aws_buf_addc(out, (char)0x40) || aws_buf_addc(out, (char)(e >> 8)) ||
		    aws_buf_addc(out, (char)(e & 0xff)))
			return -1;
		for (int i = 0; i < d.nd; i++)
			if (aws_buf_addc(out, (char)('9' - d.d[i] + '0')))
				return -1;
		return aws_buf_addc(out, (char)0xFF);
	}
	return -1;
}

/* ======================================================================== */
/* Expressions: data                                                        */
/* ======================================================================== */

struct pel {
	const char *name; /* NULL: a list index */
	long index;
};

struct path {
	struct pel *els;
	int n;
};

enum nt {
	N_PATH, N_VALUE, N_SIZE, N_IFNE, N_LAPPEND, N_PLUS, N_MINUS,
	N_CMP, N_BETWEEN, N_IN, N_AND, N_OR, N_NOT,
	N_EXISTS, N_NEXISTS, N_TYPE, N_BEGINS, N_CONTAINS
};

enum cmp_op { C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE };

struct node {
	enum nt t;
	enum cmp_op op;
	struct path path;   /* N_PATH */
	json_t *value;      /* N_VALUE (held by the expr) */
	struct node *a, *b, *c;
	struct node **list; /* N_IN */
	int nlist;
};

enum act_kind { A_SET, A_REMOVE, A_ADD, A_DELETE };

struct action {
	enum act_kind kind;
	struct path path;
	struct node *val;
};

struct sbx_ddb_expr {
	enum sbx_ddb_expr_kind kind;
	struct node *root;
	struct action *acts;
	int nacts, aacts;
	struct path *paths; /* projection paths */
	int npaths, apaths;
	void **allocs;
	int nallocs, aallocs;
	json_t *held;
};

void sbx_ddb_expr_free(struct sbx_ddb_expr *e)
{
	if (!e)
		return;
	for (int i = 0; i < e->nallocs; i++)
		free(e->allocs[i]);
	free(e->allocs);
	free(e->acts);
	free(e->paths);
	json_decref(e->held);
	free(e);
}

/* ======================================================================== */
/* Lexer                                                                    */
/* ======================================================================== */

enum tok {
	T_EOF, T_IDENT, T_HNAME, T_VALUE, T_INT,
	T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE,
	T_LP, T_RP, T_COMMA, T_DOT, T_LB, T_RB, T_PLUS, T_MINUS, T_BAD
};

struct token {
	enum tok t;
	int pos, len;
};

static const char *const reserved_words[] = {
	/* AWS's DynamoDB reserved words (uppercase, sorted) */
	#include "aws/sandbox/ddb_reserved.inc"
};

static int cmp_reserved(const void *k, const void *elem)
{
	return strcasecmp((const char *)k, *(const char *const *)elem);
}

static int is_reserved(const char *s, int len)
{
	char w[64];
	if (len <= 0 || len >= (int)sizeof(w))
		return 0;
	memcpy(w, s, (size_t)len);
	w[len] = '\0';
	return bsearch(w, reserved_words, sizeof(reserved_words) / sizeof(reserved_words[0]),
		       sizeof(reserved_words[0]), cmp_reserved) != NULL;
}

static int is_word(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* Tokenize text into toks (caller frees). Returns the token count (>= 1, last is T_EOF)
 * or -1 on ENOMEM. Unknown characters become T_BAD tokens. */
static int lex(const char *s, struct token **out)
{
	size_t n = strlen(s);
	struct token *toks = malloc((n + 1) * sizeof(*toks));
	int nt = 0;
	size_t i = 0;
	if (!toks)
		return -1;
	while (i < n) {
		struct token k = {T_BAD, (int)i, 1};
		char c = s[i];
		if (isspace((unsigned char)c)) {
			i++;
			continue;
		}
		if (isalpha((unsigned char)c) || c == '_') {
			size_t j = i;
			while (j < n && is_word(s[j]))
				j++;
			k.t = T_IDENT;
			k.len = (int)(j - i);
		} else if (isdigit((unsigned char)c)) {
			size_t j = i;
			while (j < n && isdigit((unsigned char)s[j]))
				j++;
			if (j < n && is_word(s[j])) {
				while (j < n && is_word(s[j]))
					j++;
				k.t = T_BAD;
			} else {
				k.t = T_INT;
			}
			k.len = (int)(j - i);
		} else if (c == '#' || c == ':') {
			size_t j = i + 1;
			while (j < n && is_word(s[j]))
				j++;
			k.t = j > i + 1 ? (c == '#' ? T_HNAME : T_VALUE) : T_BAD;
			k.len = (int)(j - i);
		} else if (c == '<' && i + 1 < n && s[i + 1] == '>') {
			k.t = T_NE;
			k.len = 2;
		} else if (c == '<' && i + 1 < n && s[i + 1] == '=') {
			k.t = T_LE;
			k.len = 2;
		} else if (c == '>' && i + 1 < n && s[i + 1] == '=') {
			k.t = T_GE;
			k.len = 2;
		} else {
			static const char punct[] = "=<>(),.[]+-";
			static const enum tok ptok[] = {T_EQ, T_LT, T_GT, T_LP, T_RP, T_COMMA,
							T_DOT, T_LB, T_RB, T_PLUS, T_MINUS};
			const char *p = strchr(punct, c);
			if (p && c != '\0')
				k.t = ptok[p - punct];
		}
		toks[nt++] = k;
		i += (size_t)k.len;
	}
	toks[nt].t = T_EOF;
	toks[nt].pos = (int)n;
	toks[nt].len = 0;
	*out = toks;
	return nt + 1;
}

/* ======================================================================== */
/* Parser                                                                   */
/* ======================================================================== */

struct parser {
	const char *src;
	struct token *toks;
	int ntok, i;
	enum sbx_ddb_expr_kind kind;
	json_t *names, *values, *used;
	char *err;
	size_t errlen;
	int failed;
	int depth, ops;
	struct sbx_ddb_expr *e;
};

static const char *kind_label(enum sbx_ddb_expr_kind k)
{
	switch (k) {
	case SBX_DDB_CONDITION: return "ConditionExpression";
	case SBX_DDB_FILTER: return "FilterExpression";
	case SBX_DDB_KEY_CONDITION: return "KeyConditionExpression";
	case SBX_DDB_PROJECTION: return "ProjectionExpression";
	case SBX_DDB_UPDATE: return "UpdateExpression";
	}
	return "Expression";
}

static void perr(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void perr(struct parser *p, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	if (p->failed)
		return;
	p->failed = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "Invalid %s: %s", kind_label(p->kind), msg);
}

static void syntax_error(struct parser *p)
{
	const struct token *k = &p->toks[p->i];
	int from = p->i > 0 ? p->toks[p->i - 1].pos : k->pos;
	int to = p->i + 1 < p->ntok ? p->toks[p->i + 1].pos + p->toks[p->i + 1].len
				     : k->pos + k->len;
	if (k->t == T_EOF)
		to = k->pos;
	if (to - from > 120)
		to = from + 120;
	if (k->t == T_EOF)
		perr(p, "Syntax error; token: \"<EOF>\", near: \"%.*s\"", to - from, p->src + from);
	else
		perr(p, "Syntax error; token: \"%.*s\", near: \"%.*s\"", k->len, p->src + k->pos,
		     to - from, p->src + from);
}

static void *palloc(struct parser *p, size_t n)
{
	struct sbx_ddb_expr *e = p->e;
	void *x;
	if (e->nallocs == e->aallocs) {
		int na = e->aallocs ? e->aallocs * 2 : 16;
		void **v = realloc(e->allocs, (size_t)na * sizeof(*v));
		if (!v)
			goto fail;
		e->allocs = v;
		e->aallocs = na;
	}
	x = calloc(1, n ? n : 1);
	if (!x)
		goto fail;
	e->allocs[e->nallocs++] = x;
	return x;
fail:
	if (!p->failed) {
		p->failed = 1;
		snprintf(p->err, p->errlen, "Internal error: out of memory");
	}
	return NULL;
}

static struct node *new_node(struct parser *p, enum nt t)
{
	struct node *n = palloc(p, sizeof(*n));
	if (n)
		n->t = t;
	return n;
}

static const struct token *peek(struct parser *p)
{
	return &p->toks[p->i];
}

static int tok_is_kw(struct parser *p, const struct token *k, const char *kw)
{
	return k->t == T_IDENT && (int)strlen(kw) == k->len &&
	       strncasecmp(p->src + k->pos, kw, (size_t)k->len) == 0;
}

static int accept(struct parser *p, enum tok t)
{
	if (p->failed || peek(p)->t != t)
		return 0;
	p->i++;
	return 1;
}

static int expect(struct parser *p, enum tok t)
{
	if (accept(p, t))
		return 1;
	syntax_error(p);
	return 0;
}

static void mark_used(struct parser *p, const char *key)
{
	if (p->used)
		json_object_set_new(p->used, key, json_true());
}

/* A copy of token text as a NUL-terminated string owned by the expr. */
static char *tok_str(struct parser *p, const struct token *k)
{
	char *s = palloc(p, (size_t)k->len + 1);
	if (s)
		memcpy(s, p->src + k->pos, (size_t)k->len);
	return s;
}

static int count_op(struct parser *p)
{
	if (++p->ops > MAX_OPS) {
		perr(p, "The expression contains too many operators; operator count: %d", p->ops);
		return -1;
	}
	return 0;
}

/* path := (IDENT | HNAME) ('.' (IDENT | HNAME) | '[' INT ']')* */
static int parse_path(struct parser *p, struct path *out)
{
	struct pel tmp[MAX_PATH + 1];
	int n = 0;
	for (;;) {
		const struct token *k = peek(p);
		if (n == 0 || (n > 0 && p->toks[p->i - 1].t == T_DOT)) {
			if (k->t == T_IDENT) {
				if (is_reserved(p->src + k->pos, k->len)) {
					perr(p, "Attribute name is a reserved keyword; reserved keyword: "
					     "%.*s", k->len, p->src + k->pos);
					return -1;
				}
				tmp[n].name = tok_str(p, k);
			} else if (k->t == T_HNAME) {
				char *key = tok_str(p, k);
				json_t *v;
				if (!key)
					return -1;
				v = json_object_get(p->names, key);
				if (!json_is_string(v)) {
					perr(p, "An expression attribute name used in the document path "
					     "is not defined; attribute name: %s", key);
					return -1;
				}
				mark_used(p, key);
				tmp[n].name = json_string_value(v);
			} else {
				syntax_error(p);
				return -1;
			}
			if (!tmp[n].name)
				return -1;
			p->i++;
			n++;
		}
		if (peek(p)->t == T_LB) {
			char *end;
			long idx;
			const struct token *it;
			p->i++;
			it = peek(p);
			if (it->t != T_INT) {
				syntax_error(p);
				return -1;
			}
			idx = strtol(p->src + it->pos, &end, 10);
			if (it->len > 9 || end != p->src + it->pos + it->len) {
				perr(p, "List index is out of range; index: %.*s", it->len,
				     p->src + it->pos);
				return -1;
			}
			p->i++;
			if (!expect(p, T_RB))
				return -1;
			if (n >= MAX_PATH)
				goto too_deep;
			tmp[n].name = NULL;
			tmp[n].index = idx;
			n++;
			continue;
		}
		if (peek(p)->t == T_DOT) {
			p->i++;
			if (n >= MAX_PATH)
				goto too_deep;
			continue;
		}
		break;
	}
	out->els = palloc(p, (size_t)n * sizeof(struct pel));
	if (!out->els)
		return -1;
	memcpy(out->els, tmp, (size_t)n * sizeof(struct pel));
	out->n = n;
	return 0;
too_deep:
	perr(p, "The document path has too many nesting levels; nesting levels: %d", n + 1);
	return -1;
}

static struct node *parse_value(struct parser *p)
{
	const struct token *k = peek(p);
	char *key = tok_str(p, k);
	json_t *v;
	struct node *n;
	if (!key)
		return NULL;
	v = json_object_get(p->values, key);
	if (!v) {
		perr(p, "An expression attribute value used in expression is not defined; "
		     "attribute value: %s", key);
		return NULL;
	}
	mark_used(p, key);
	n = new_node(p, N_VALUE);
	if (!n)
		return NULL;
	n->value = v;
	json_array_append(p->e->held, v);
	p->i++;
	return n;
}

static struct node *parse_cond(struct parser *p);
static struct node *parse_upd_operand(struct parser *p);

/* Function call after its name: fills args (up to max). Returns count or -1. */
static int parse_args(struct parser *p, struct node **args, int max, int update)
{
	int n = 0;
	if (!expect(p, T_LP))
		return -1;
	if (peek(p)->t == T_RP) {
		p->i++;
		return 0;
	}
	for (;;) {
		struct node *a;
		if (++p->depth > MAX_DEPTH) {
			perr(p, "The expression has too many nested levels");
			return -1;
		}
		a = parse_upd_operand(p);
		p->depth--;
		if (!a)
			return -1;
		if (n < max)
			args[n] = a;
		n++;
		if (accept(p, T_COMMA))
			continue;
		if (!expect(p, T_RP))
			return -1;
		break;
	}
	(void)update;
	return n;
}

static const char *const cond_funcs[] = {"attribute_exists", "attribute_not_exists",
	"attribute_type", "begins_with", "contains", "size"};
static const char *const upd_funcs[] = {"if_not_exists", "list_append"};

static int func_known(const char *name)
{
	for (size_t i = 0; i < sizeof(cond_funcs) / sizeof(cond_funcs[0]); i++)
		if (strcmp(name, cond_funcs[i]) == 0)
			return 1;
	for (size_t i = 0; i < sizeof(upd_funcs) / sizeof(upd_funcs[0]); i++)
		if (strcmp(name, upd_funcs[i]) == 0)
			return 2;
	return 0;
}

/* A function call node: name already peeked (IDENT followed by '('). */
static struct node *parse_func(struct parser *p, int want_cond)
{
	const struct token *k = peek(p);
	char *name = tok_str(p, k);
	struct node *args[3] = {NULL, NULL, NULL};
	struct node *n = NULL;
	int argc, known;
	if (!name)
		return NULL;
	known = func_known(name);
	if (!known) {
		perr(p, "Invalid function name; function: %s", name);
		return NULL;
	}
	if ((p->kind == SBX_DDB_UPDATE) != (known == 2)) {
		if (p->kind == SBX_DDB_UPDATE)
			perr(p, "The function is not allowed in an update expression; function: %s",
			     name);
		else
			perr(p, "The function is not allowed in a condition expression; function: %s",
			     name);
		return NULL;
	}
	if (count_op(p))
		return NULL;
	p->i++;
	argc = parse_args(p, args, 3, 0);
	if (argc < 0)
		return NULL;
	{
		static const struct { const char *name; enum nt t; int argc; int cond; } fns[] = {
			{"attribute_exists", N_EXISTS, 1, 1},
			{"attribute_not_exists", N_NEXISTS, 1, 1},
			{"attribute_type", N_TYPE, 2, 1},
			{"begins_with", N_BEGINS, 2, 1},
			{"contains", N_CONTAINS, 2, 1},
			{"size", N_SIZE, 1, 0},
			{"if_not_exists", N_IFNE, 2, 0},
			{"list_append", N_LAPPEND, 2, 0},
		};
		for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
			if (strcmp(fns[i].name, name) != 0)
				continue;
			if (argc != fns[i].argc) {
				perr(p, "Incorrect number of operands for operator or function; "
				     "operator or function: %s, number of operands: %d", name, argc);
				return NULL;
			}
			if (fns[i].cond != want_cond) {
				perr(p, "The function is not allowed to be used this way in an "
				     "expression; function: %s", name);
				return NULL;
			}
			if ((fns[i].t == N_EXISTS || fns[i].t == N_NEXISTS || fns[i].t == N_TYPE ||
			     fns[i].t == N_SIZE || fns[i].t == N_IFNE) && args[0]->t != N_PATH) {
				perr(p, "Operator or function requires a document path; operator or "
				     "function: %s", name);
				return NULL;
			}
			if (fns[i].t == N_TYPE) {
				static const char *const names[] = {"S", "SS", "N", "NS", "B", "BS",
								   "BOOL", "NULL", "L", "M"};
				const char *tn = args[1]->t == N_VALUE
					? json_string_value(av_val(args[1]->value, "S")) : NULL;
				int ok = 0;
				if (args[1]->t != N_VALUE) {
					perr(p, "Operator or function requires an attribute value; "
					     "operator or function: attribute_type");
					return NULL;
				}
				for (size_t j = 0; tn && j < sizeof(names) / sizeof(names[0]); j++)
					ok |= strcmp(tn, names[j]) == 0;
				if (!ok) {
					perr(p, "Invalid attribute type name found; type: %s, valid types: "
					     "{ B,NULL,SS,BOOL,L,BS,N,NS,S,M }", tn ? tn : "?");
					return NULL;
				}
			}
			n = new_node(p, fns[i].t);
			if (!n)
				return NULL;
			n->a = args[0];
			n->b = args[1];
			if (fns[i].t == N_SIZE || fns[i].t == N_EXISTS || fns[i].t == N_NEXISTS)
				n->path = args[0]->path;
			return n;
		}
	}
	return NULL;
}

/* operand := path | :value | size(path) */
static struct node *parse_operand(struct parser *p)
{
	const struct token *k = peek(p);
	struct node *n;
	if (p->failed)
		return NULL;
	if (k->t == T_VALUE)
		return parse_value(p);
	if (k->t == T_IDENT && p->toks[p->i + 1].t == T_LP)
		return parse_func(p, 0);
	if (k->t == T_IDENT || k->t == T_HNAME) {
		n = new_node(p, N_PATH);
		if (!n || parse_path(p, &n->path))
			return NULL;
		return n;
	}
	syntax_error(p);
	return NULL;
}

static int cmp_tok(enum tok t, enum cmp_op *op)
{
	switch (t) {
	case T_EQ: *op = C_EQ; return 1;
	case T_NE: *op = C_NE; return 1;
	case T_LT: *op = C_LT; return 1;
	case T_LE: *op = C_LE; return 1;
	case T_GT: *op = C_GT; return 1;
	case T_GE: *op = C_GE; return 1;
	default: return 0;
	}
}

/* pred := '(' cond ')' | func(...) | operand cmp operand | operand BETWEEN operand AND operand
 *       | operand IN '(' operand, ... ')' */
static struct node *parse_pred(struct parser *p)
{
	const struct token *k = peek(p);
	struct node *lhs, *n;
	enum cmp_op op;
	if (p->failed)
		return NULL;
	if (k->t == T_LP) {
		p->i++;
		if (++p->depth > MAX_DEPTH) {
			perr(p, "The expression has too many nested levels");
			return NULL;
		}
		n = parse_cond(p);
		p->depth--;
		if (!n || !expect(p, T_RP))
			return NULL;
		return n;
	}
	if (k->t == T_IDENT && p->toks[p->i + 1].t == T_LP) {
		const struct token *fk = k;
		char name[32];
		int len = fk->len < 31 ? fk->len : 31;
		memcpy(name, p->src + fk->pos, (size_t)len);
		name[len] = '\0';
		if (strcmp(name, "size") != 0)
			return parse_func(p, 1);
	}
	lhs = parse_operand(p);
	if (!lhs)
		return NULL;
	k = peek(p);
	if (cmp_tok(k->t, &op)) {
		p->i++;
		if (count_op(p))
			return NULL;
		n = new_node(p, N_CMP);
		if (!n)
			return NULL;
		n->op = op;
		n->a = lhs;
		n->b = parse_operand(p);
		return n->b ? n : NULL;
	}
	if (tok_is_kw(p, k, "BETWEEN")) {
		p->i++;
		if (count_op(p))
			return NULL;
		n = new_node(p, N_BETWEEN);
		if (!n)
			return NULL;
		n->a = lhs;
		n->b = parse_operand(p);
		if (!n->b)
			return NULL;
		if (!tok_is_kw(p, peek(p), "AND")) {
			syntax_error(p);
			return NULL;
		}
		p->i++;
		n->c = parse_operand(p);
		if (!n->c)
			return NULL;
		if (n->b->t == N_VALUE && n->c->t == N_VALUE) {
			int c;
			if (sbx_ddb_av_compare(n->b->value, n->c->value, &c) == 0 && c > 0) {
				perr(p, "The BETWEEN operator requires upper bound to be greater than "
				     "or equal to lower bound; lower bound operand: AttributeValue: "
				     "{%s:%s}, upper bound operand: AttributeValue: {%s:%s}",
				     sbx_ddb_av_type(n->b->value),
				     json_string_value(av_val(n->b->value, sbx_ddb_av_type(n->b->value))),
				     sbx_ddb_av_type(n->c->value),
				     json_string_value(av_val(n->c->value, sbx_ddb_av_type(n->c->value))));
				return NULL;
			}
		}
		return n;
	}
	if (tok_is_kw(p, k, "IN")) {
		struct node *items[100];
		int cnt = 0;
		p->i++;
		if (count_op(p))
			return NULL;
		if (!expect(p, T_LP))
			return NULL;
		for (;;) {
			struct node *x = parse_operand(p);
			if (!x)
				return NULL;
			if (cnt >= 100) {
				perr(p, "The IN operator is provided with too many operands; number of "
				     "operands: %d", cnt + 1);
				return NULL;
			}
			items[cnt++] = x;
			if (accept(p, T_COMMA))
				continue;
			if (!expect(p, T_RP))
				return NULL;
			break;
		}
		n = new_node(p, N_IN);
		if (!n)
			return NULL;
		n->a = lhs;
		n->list = palloc(p, (size_t)cnt * sizeof(*n->list));
		if (!n->list)
			return NULL;
		memcpy(n->list, items, (size_t)cnt * sizeof(*items));
		n->nlist = cnt;
		return n;
	}
	if (lhs->t == N_SIZE && !p->failed) {
		perr(p, "The function is not allowed to be used this way in an expression; "
		     "function: size");
		return NULL;
	}
	syntax_error(p);
	return NULL;
}

static struct node *parse_not(struct parser *p)
{
	if (tok_is_kw(p, peek(p), "NOT")) {
		struct node *n;
		p->i++;
		if (count_op(p))
			return NULL;
		if (++p->depth > MAX_DEPTH) {
			perr(p, "The expression has too many nested levels");
			return NULL;
		}
		n = new_node(p, N_NOT);
		if (!n)
			return NULL;
		n->a = parse_not(p);
		p->depth--;
		return n->a ? n : NULL;
	}
	return parse_pred(p);
}

static struct node *parse_and(struct parser *p)
{
	struct node *l = parse_not(p);
	while (l && tok_is_kw(p, peek(p), "AND")) {
		struct node *n;
		p->i++;
		if (count_op(p))
			return NULL;
		n = new_node(p, N_AND);
		if (!n)
			return NULL;
		n->a = l;
		n->b = parse_not(p);
		if (!n->b)
			return NULL;
		l = n;
	}
	return l;
}

static struct node *parse_cond(struct parser *p)
{
	struct node *l = parse_and(p);
	while (l && tok_is_kw(p, peek(p), "OR")) {
		struct node *n;
		p->i++;
		if (count_op(p))
			return NULL;
		n = new_node(p, N_OR);
		if (!n)
			return NULL;
		n->a = l;
		n->b = parse_and(p);
		if (!n->b)
			return NULL;
		l = n;
	}
	return l;
}

/* update operand := path | :value | if_not_exists(path, op) | list_append(op, op) */
static struct node *parse_upd_operand(struct parser *p)
{
	const struct token *k = peek(p);
	if (p->kind != SBX_DDB_UPDATE)
		return parse_operand(p);
	if (k->t == T_IDENT && p->toks[p->i + 1].t == T_LP)
		return parse_func(p, 0);
	return parse_operand(p);
}

/* setval := operand (('+' | '-') operand)? */
static struct node *parse_setval(struct parser *p)
{
	struct node *l = parse_upd_operand(p), *n;
	enum tok t;
	if (!l)
		return NULL;
	t = peek(p)->t;
	if (t != T_PLUS && t != T_MINUS)
		return l;
	p->i++;
	if (count_op(p))
		return NULL;
	n = new_node(p, t == T_PLUS ? N_PLUS : N_MINUS);
	if (!n)
		return NULL;
	n->a = l;
	n->b = parse_upd_operand(p);
	return n->b ? n : NULL;
}

static int add_action(struct parser *p, enum act_kind kind, struct path *path, struct node *val)
{
	struct sbx_ddb_expr *e = p->e;
	if (e->nacts == e->aacts) {
		int na = e->aacts ? e->aacts * 2 : 8;
		struct action *v = realloc(e->acts, (size_t)na * sizeof(*v));
		if (!v) {
			perr(p, "out of memory");
			return -1;
		}
		e->acts = v;
		e->aacts = na;
	}
	e->acts[e->nacts].kind = kind;
	e->acts[e->nacts].path = *path;
	e->acts[e->nacts].val = val;
	e->nacts++;
	return 0;
}

static int parse_update(struct parser *p)
{
	static const char *const kws[] = {"SET", "REMOVE", "ADD", "DELETE"};
	int seen[4] = {0, 0, 0, 0};
	while (!p->failed && peek(p)->t != T_EOF) {
		int which = -1;
		for (int i = 0; i < 4; i++)
			if (tok_is_kw(p, peek(p), kws[i]))
				which = i;
		if (which < 0) {
			syntax_error(p);
			return -1;
		}
		if (seen[which]++) {
			perr(p, "The \"%s\" section can only be used once in an update expression;",
			     kws[which]);
			return -1;
		}
		p->i++;
		for (;;) {
			struct path path;
			struct node *val = NULL;
			if (parse_path(p, &path))
				return -1;
			if (which == 0) {
				if (!expect(p, T_EQ))
					return -1;
				val = parse_setval(p);
				if (!val)
					return -1;
			} else if (which >= 2) {
				const char *t;
				if (peek(p)->t != T_VALUE) {
					syntax_error(p);
					return -1;
				}
				val = parse_value(p);
				if (!val)
					return -1;
				t = sbx_ddb_av_type(val->value);
				if (!t || (which == 2 && strcmp(t, "N") != 0 && strcmp(t, "SS") != 0 &&
					   strcmp(t, "NS") != 0 && strcmp(t, "BS") != 0) ||
				    (which == 3 && strcmp(t, "SS") != 0 && strcmp(t, "NS") != 0 &&
				     strcmp(t, "BS") != 0)) {
					perr(p, "Incorrect operand type for operator or function; "
					     "operator: %s, operand type: %s", kws[which],
					     t && strcmp(t, "S") == 0 ? "STRING" : t ? t : "?");
					return -1;
				}
			}
			if (add_action(p, (enum act_kind)which, &path, val))
				return -1;
			if (accept(p, T_COMMA))
				continue;
			break;
		}
	}
	if (p->e->nacts == 0)
		syntax_error(p);
	return p->failed ? -1 : 0;
}

static int parse_projection(struct parser *p)
{
	struct sbx_ddb_expr *e = p->e;
	for (;;) {
		struct path path;
		if (parse_path(p, &path))
			return -1;
		if (e->npaths == e->apaths) {
			int na = e->apaths ? e->apaths * 2 : 8;
			struct path *v = realloc(e->paths, (size_t)na * sizeof(*v));
			if (!v) {
				perr(p, "out of memory");
				return -1;
			}
			e->paths = v;
			e->apaths = na;
		}
		e->paths[e->npaths++] = path;
		if (accept(p, T_COMMA))
			continue;
		break;
	}
	if (peek(p)->t != T_EOF) {
		syntax_error(p);
		return -1;
	}
	return 0;
}

static void path_str(const struct path *pa, char *out, size_t outlen)
{
	size_t o = 0;
	int w;
	w = snprintf(out, outlen, "[");
	o = w > 0 ? (size_t)w : 0;
	for (int i = 0; i < pa->n && o < outlen; i++) {
		if (pa->els[i].name)
			w = snprintf(out + o, outlen - o, "%s%s", i ? ", " : "", pa->els[i].name);
		else
			w = snprintf(out + o, outlen - o, "%s[%ld]", i ? ", " : "", pa->els[i].index);
		o += w > 0 ? (size_t)w : 0;
	}
	if (o < outlen)
		snprintf(out + o, outlen - o, "]");
}

/* Overlapping (one a prefix of the other) or conflicting paths. */
static int check_paths(struct parser *p, const struct path *paths, int n)
{
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < i; j++) {
			const struct path *a = &paths[j], *b = &paths[i];
			int m = a->n < b->n ? a->n : b->n, k, conflict = 0;
			char s1[200], s2[200];
			for (k = 0; k < m; k++) {
				const struct pel *x = &a->els[k], *y = &b->els[k];
				if (!x->name != !y->name) {
					conflict = 1;
					break;
				}
				if (x->name ? strcmp(x->name, y->name) != 0 : x->index != y->index)
					break;
			}
			if (k < m && !conflict)
				continue;
			path_str(a, s1, sizeof(s1));
			path_str(b, s2, sizeof(s2));
			if (conflict)
				perr(p, "Two document paths conflict with each other; must remove or "
				     "rewrite one of these paths; path one: %s, path two: %s", s1, s2);
			else
				perr(p, "Two document paths overlap with each other; must remove or "
				     "rewrite one of these paths; path one: %s, path two: %s", s1, s2);
			return -1;
		}
	}
	return 0;
}

int sbx_ddb_expr_parse(enum sbx_ddb_expr_kind kind, const char *text, json_t *names,
		       json_t *values, json_t *used, struct sbx_ddb_expr **out,
		       char *err, size_t errlen)
{
	struct parser p;
	struct sbx_ddb_expr *e = NULL;
	int rc = -1, ntok;

	memset(&p, 0, sizeof(p));
	p.kind = kind;
	p.err = err;
	p.errlen = errlen;
	if (!text)
		text = "";
	if (strlen(text) > SBX_DDB_MAX_EXPR_LEN) {
		perr(&p, "Expression size has exceeded the maximum allowed size; expression size: %zu",
		     strlen(text));
		return -1;
	}
	if (text[strspn(text, " \t\r\n")] == '\0') {
		snprintf(err, errlen, "Invalid %s: The expression can not be empty;",
			 kind_label(kind));
		return -1;
	}
	e = calloc(1, sizeof(*e));
	if (!e || !(e->held = json_array())) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	e->kind = kind;
	ntok = lex(text, &p.toks);
	if (ntok < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	p.ntok = ntok;
	p.src = text;
	p.names = names;
	p.values = values;
	p.used = used;
	p.e = e;
	for (int i = 0; i < ntok; i++) {
		if (p.toks[i].t == T_BAD) {
			p.i = i;
			syntax_error(&p);
			goto fail;
		}
	}
	switch (kind) {
	case SBX_DDB_CONDITION:
	case SBX_DDB_FILTER:
	case SBX_DDB_KEY_CONDITION:
		e->root = parse_cond(&p);
		if (e->root && peek(&p)->t != T_EOF)
			syntax_error(&p);
		break;
	case SBX_DDB_PROJECTION:
		if (parse_projection(&p) == 0)
			check_paths(&p, e->paths, e->npaths);
		break;
	case SBX_DDB_UPDATE:
		if (parse_update(&p) == 0) {
			struct path *ps = malloc((size_t)e->nacts * sizeof(*ps));
			if (!ps) {
				perr(&p, "out of memory");
				break;
			}
			for (int i = 0; i < e->nacts; i++)
				ps[i] = e->acts[i].path;
			check_paths(&p, ps, e->nacts);
			free(ps);
		}
		break;
	}
	if (p.failed)
		goto fail;
	*out = e;
	e = NULL;
	rc = 0;
fail:
	if (rc && !p.failed && err && errlen && !err[0])
		snprintf(err, errlen, "Invalid %s", kind_label(kind));
	free(p.toks);
	sbx_ddb_expr_free(e);
	return rc;
}

int sbx_ddb_expr_check_unused(json_t *names, json_t *values, json_t *used,
			      char *err, size_t errlen)
{
	json_t *maps[2] = {names, values};
	const char *labels[2] = {"ExpressionAttributeNames", "ExpressionAttributeValues"};
	for (int m = 0; m < 2; m++) {
		struct aws_buf b;
		const char *k;
		json_t *v;
		int n = 0;
		if (!json_is_object(maps[m]))
			continue;
		aws_buf_init(&b, 8192);
		json_object_foreach(maps[m], k, v) {
			if (used && json_object_get(used, k))
				continue;
			aws_buf_printf(&b, "%s%s", n++ ? ", " : "", k);
		}
		if (n) {
			snprintf(err, errlen, "Value provided in %s unused in expressions: keys: {%s}",
				 labels[m], aws_buf_str(&b));
			aws_buf_cleanup(&b);
			return -1;
		}
		aws_buf_cleanup(&b);
	}
	return 0;
}

/* ======================================================================== */
/* Evaluation                                                               */
/* ======================================================================== */

/* The value at path in item (borrowed) or NULL. */
static json_t *resolve(json_t *item, const struct path *pa)
{
	json_t *cur;
	if (!item || pa->n == 0 || !pa->els[0].name)
		return NULL;
	cur = json_object_get(item, pa->els[0].name);
	for (int i = 1; cur && i < pa->n; i++) {
		if (pa->els[i].name) {
			json_t *m = json_object_get(cur, "M");
			cur = json_is_object(m) ? json_object_get(m, pa->els[i].name) : NULL;
		} else {
			json_t *l = json_object_get(cur, "L");
			cur = json_is_array(l) && pa->els[i].index >= 0
				? json_array_get(l, (size_t)pa->els[i].index) : NULL;
		}
	}
	return cur;
}

static json_t *num_av(const char *text)
{
	return json_pack("{s:s}", "N", text);
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

/* The operand's value as a new reference, or NULL (missing / not computable). */
static json_t *eval_operand(const struct node *n, json_t *item)
{
	switch (n->t) {
	case N_VALUE:
		return json_incref(n->value);
	case N_PATH: {
		json_t *v = resolve(item, &n->path);
		return v ? json_incref(v) : NULL;
	}
	case N_SIZE: {
		json_t *v = resolve(item, &n->path);
		const char *t = sbx_ddb_av_type(v);
		char num[32];
		size_t sz;
		if (!t)
			return NULL;
		if (strcmp(t, "S") == 0)
			sz = utf8_chars(json_string_value(av_val(v, t)));
		else if (strcmp(t, "B") == 0)
			sz = b64_len(json_string_value(av_val(v, t)));
		else if (strcmp(t, "M") == 0)
			sz = json_object_size(av_val(v, t));
		else if (strcmp(t, "L") == 0 || strcmp(t, "SS") == 0 || strcmp(t, "NS") == 0 ||
			 strcmp(t, "BS") == 0)
			sz = json_array_size(av_val(v, t));
		else
			return NULL;
		snprintf(num, sizeof(num), "%zu", sz);
		return num_av(num);
	}
	default:
		return NULL;
	}
}

static int set_contains(json_t *av, const char *t, json_t *elem_av)
{
	const char *et = sbx_ddb_av_type(elem_av);
	json_t *arr = av_val(av, t), *x;
	size_t i;
	if (!et || strlen(et) != 1 || et[0] != t[0])
		return 0;
	json_array_foreach(arr, i, x) {
		if (scalar_equal(et, x, av_val(elem_av, et)))
			return 1;
	}
	return 0;
}

static int eval_cond(const struct node *n, json_t *item)
{
	json_t *a = NULL, *b = NULL, *c = NULL;
	int r = 0, cmp;
	switch (n->t) {
	case N_AND:
		return eval_cond(n->a, item) && eval_cond(n->b, item);
	case N_OR:
		return eval_cond(n->a, item) || eval_cond(n->b, item);
	case N_NOT:
		return !eval_cond(n->a, item);
	case N_EXISTS:
		return resolve(item, &n->path) != NULL;
	case N_NEXISTS:
		return resolve(item, &n->path) == NULL;
	case N_TYPE: {
		const char *t = sbx_ddb_av_type(resolve(item, &n->a->path));
		return t && strcmp(t, json_string_value(av_val(n->b->value, "S"))) == 0;
	}
	case N_CMP:
		a = eval_operand(n->a, item);
		b = eval_operand(n->b, item);
		switch (n->op) {
		case C_EQ:
			r = a && b && sbx_ddb_av_equal(a, b);
			break;
		case C_NE:
			r = (a || b) && !(a && b && sbx_ddb_av_equal(a, b));
			break;
		default:
			if (a && b && sbx_ddb_av_compare(a, b, &cmp) == 0)
				r = n->op == C_LT ? cmp < 0 : n->op == C_LE ? cmp <= 0
				  : n->op == C_GT ? cmp > 0 : cmp >= 0;
			break;
		}
		break;
	case N_BETWEEN: {
		int c1, c2;
		a = eval_operand(n->a, item);
		b = eval_operand(n->b, item);
		c = eval_operand(n->c, item);
		r = a && b && c && sbx_ddb_av_compare(a, b, &c1) == 0 &&
		    sbx_ddb_av_compare(a, c, &c2) == 0 && c1 >= 0 && c2 <= 0;
		break;
	}
	case N_IN:
		a = eval_operand(n->a, item);
		for (int i = 0; a && i < n->nlist && !r; i++) {
			json_t *x = eval_operand(n->list[i], item);
			r = x && sbx_ddb_av_equal(a, x);
			json_decref(x);
		}
		break;
	case N_BEGINS: {
		const char *ta, *tb;
		a = eval_operand(n->a, item);
		b = eval_operand(n->b, item);
		ta = sbx_ddb_av_type(a);
		tb = sbx_ddb_av_type(b);
		if (!ta || !tb || strcmp(ta, tb) != 0)
			break;
		if (strcmp(ta, "S") == 0) {
			const char *x = json_string_value(av_val(a, "S"));
			const char *y = json_string_value(av_val(b, "S"));
			r = x && y && strncmp(x, y, strlen(y)) == 0;
		} else if (strcmp(ta, "B") == 0) {
			unsigned char *x = NULL, *y = NULL;
			size_t nx, ny;
			if (b64_decode(json_string_value(av_val(a, "B")), &x, &nx) == 0 &&
			    b64_decode(json_string_value(av_val(b, "B")), &y, &ny) == 0)
				r = ny <= nx && memcmp(x, y, ny) == 0;
			free(x);
			free(y);
		}
		break;
	}
	case N_CONTAINS: {
		const char *ta;
		a = eval_operand(n->a, item);
		b = eval_operand(n->b, item);
		ta = sbx_ddb_av_type(a);
		if (!ta || !b)
			break;
		if (strcmp(ta, "S") == 0) {
			const char *x = json_string_value(av_val(a, "S"));
			const char *y = json_string_value(av_val(b, "S"));
			r = x && y && strstr(x, y) != NULL;
		} else if (strcmp(ta, "SS") == 0 || strcmp(ta, "NS") == 0 || strcmp(ta, "BS") == 0) {
			r = set_contains(a, ta, b);
		} else if (strcmp(ta, "L") == 0) {
			json_t *arr = av_val(a, "L"), *x;
			size_t i;
			json_array_foreach(arr, i, x) {
				if (sbx_ddb_av_equal(x, b)) {
					r = 1;
					break;
				}
			}
		}
		break;
	}
	default:
		break;
	}
	json_decref(a);
	json_decref(b);
	json_decref(c);
	return r;
}

int sbx_ddb_expr_eval(const struct sbx_ddb_expr *e, json_t *item)
{
	if (!e || !e->root)
		return 1;
	return eval_cond(e->root, item);
}

/* ---- projection ---- */

/* Put v at path pa into the partial tree dst (lists held as objects keyed by
 * zero-padded index until finish_lists()). */
static int project_one(json_t *dst, const struct path *pa, json_t *v)
{
	json_t *cur = dst; /* a container: top-level object or M/L-partial object */
	char key[24];
	for (int i = 0; i < pa->n; i++) {
		const char *k;
		json_t *next;
		if (pa->els[i].name) {
			k = pa->els[i].name;
		} else {
			snprintf(key, sizeof(key), "%010ld", pa->els[i].index);
			k = key;
		}
		if (i == pa->n - 1)
			return json_object_set(cur, k, v);
		next = json_object_get(cur, k);
		if (!next) {
			const char *tag = pa->els[i + 1].name ? "M" : "L";
			next = json_pack("{s:o}", tag, json_object());
			if (!next || json_object_set_new(cur, k, next))
				return -1;
		}
		cur = json_object_get(next, pa->els[i + 1].name ? "M" : "L");
		if (!json_is_object(cur))
			return -1;
	}
	return 0;
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Turn the partial-list objects under av into arrays ordered by index. */
static void finish_lists(json_t *av)
{
	json_t *m = json_object_get(av, "M"), *l = json_object_get(av, "L"), *x;
	const char *k;
	if (json_is_object(m) && json_object_size(av) == 1) {
		json_object_foreach(m, k, x)
			finish_lists(x);
	}
	if (json_is_object(l) && json_object_size(av) == 1) {
		size_t n = json_object_size(l), i = 0;
		const char **keys = malloc((n ? n : 1) * sizeof(*keys));
		json_t *arr = json_array();
		if (!keys || !arr) {
			free(keys);
			json_decref(arr);
			return;
		}
		json_object_foreach(l, k, x)
			keys[i++] = k;
		qsort(keys, n, sizeof(*keys), cmp_keys);
		for (i = 0; i < n; i++) {
			x = json_object_get(l, keys[i]);
			finish_lists(x);
			json_array_append(arr, x);
		}
		free(keys);
		json_object_set_new(av, "L", arr);
	}
}

static json_t *project_paths(const struct path *paths, int n, json_t *item)
{
	json_t *out = json_object(), *x;
	const char *k;
	if (!out)
		return NULL;
	for (int i = 0; item && i < n; i++) {
		json_t *v = resolve(item, &paths[i]);
		json_t *copy;
		if (!v)
			continue;
		copy = json_deep_copy(v);
		if (!copy || project_one(out, &paths[i], copy)) {
			json_decref(copy);
			json_decref(out);
			return NULL;
		}
		json_decref(copy);
	}
	json_object_foreach(out, k, x)
		finish_lists(x);
	return out;
}

json_t *sbx_ddb_expr_project(const struct sbx_ddb_expr *e, json_t *item)
{
	if (e->kind == SBX_DDB_PROJECTION)
		return project_paths(e->paths, e->npaths, item);
	if (e->kind == SBX_DDB_UPDATE) {
		struct path *ps = malloc((size_t)(e->nacts ? e->nacts : 1) * sizeof(*ps));
		json_t *out;
		if (!ps)
			return NULL;
		for (int i = 0; i < e->nacts; i++)
			ps[i] = e->acts[i].path;
		out = project_paths(ps, e->nacts, item);
		free(ps);
		return out;
	}
	return item ? json_deep_copy(item) : json_object();
}

/* ---- update ---- */

#define UPD_BAD_TYPE "An operand in the update expression has an incorrect data type"
#define UPD_MISSING "The provided expression refers to an attribute that does not exist in the item"
#define UPD_BAD_PATH "The document path provided in the update expression is invalid for update"

/* Compute a SET value against the original item: a new reference, or NULL with err. */
static json_t *eval_setval(const struct node *n, json_t *orig, char *err, size_t errlen)
{
	json_t *a = NULL, *b = NULL, *r = NULL;
	switch (n->t) {
	case N_VALUE:
	case N_PATH:
		r = eval_operand(n, orig);
		if (!r)
			errf(err, errlen, UPD_MISSING);
		return r;
	case N_IFNE:
		r = eval_operand(n->a, orig);
		if (r)
			return r;
		return eval_setval(n->b, orig, err, errlen);
	case N_LAPPEND: {
		json_t *la, *lb, *arr;
		a = eval_setval(n->a, orig, err, errlen);
		if (!a)
			goto done;
		b = eval_setval(n->b, orig, err, errlen);
		if (!b)
			goto done;
		la = av_val(a, "L");
		lb = av_val(b, "L");
		if (!json_is_array(la) || !json_is_array(lb) || json_object_size(a) != 1 ||
		    json_object_size(b) != 1) {
			errf(err, errlen, UPD_BAD_TYPE);
			goto done;
		}
		arr = json_deep_copy(la);
		if (!arr || json_array_extend(arr, lb)) {
			json_decref(arr);
			goto done;
		}
		r = json_pack("{s:o}", "L", arr);
		goto done;
	}
	case N_PLUS:
	case N_MINUS: {
		char num[256];
		const char *x, *y;
		a = eval_setval(n->a, orig, err, errlen);
		if (!a)
			goto done;
		b = eval_setval(n->b, orig, err, errlen);
		if (!b)
			goto done;
		x = json_string_value(av_val(a, "N"));
		y = json_string_value(av_val(b, "N"));
		if (!x || !y || json_object_size(a) != 1 || json_object_size(b) != 1) {
			errf(err, errlen, UPD_BAD_TYPE);
			goto done;
		}
		if (sbx_ddb_num_add(x, y, n->t == N_MINUS, num, sizeof(num))) {
			errf(err, errlen, "Number overflow. Attempting to store a number with "
			     "magnitude larger than supported range");
			goto done;
		}
		r = num_av(num);
		goto done;
	}
	default:
		errf(err, errlen, UPD_BAD_TYPE);
		return NULL;
	}
done:
	json_decref(a);
	json_decref(b);
	return r;
}

/* The container holding the last element of pa, in item (borrowed) or NULL. For the
 * top level that is item itself; else the inner object of an M or array of an L. */
static json_t *parent_of(json_t *item, const struct path *pa)
{
	json_t *cur = item;
	for (int i = 0; i < pa->n - 1; i++) {
		json_t *v;
		if (pa->els[i].name)
			v = json_object_get(cur, pa->els[i].name);
		else
			v = pa->els[i].index >= 0 ? json_array_get(cur, (size_t)pa->els[i].index) : NULL;
		if (!v)
			return NULL;
		cur = pa->els[i + 1].name ? json_object_get(v, "M") : json_object_get(v, "L");
		if (!cur || json_object_size(v) != 1)
			return NULL;
	}
	return cur;
}

static int set_at(json_t *item, const struct path *pa, json_t *v, char *err, size_t errlen)
{
	json_t *parent = parent_of(item, pa);
	const struct pel *last = &pa->els[pa->n - 1];
	if (!parent)
		return errf(err, errlen, UPD_BAD_PATH);
	if (last->name) {
		if (!json_is_object(parent))
			return errf(err, errlen, UPD_BAD_PATH);
		return json_object_set(parent, last->name, v) ? errf(err, errlen, "out of memory") : 0;
	}
	if (!json_is_array(parent))
		return errf(err, errlen, UPD_BAD_PATH);
	if ((size_t)last->index < json_array_size(parent))
		return json_array_set(parent, (size_t)last->index, v);
	return json_array_append(parent, v);
}

static void remove_at(json_t *item, const struct path *pa)
{
	json_t *parent = parent_of(item, pa);
	const struct pel *last = &pa->els[pa->n - 1];
	if (!parent)
		return;
	if (last->name && json_is_object(parent))
		json_object_del(parent, last->name);
	else if (!last->name && json_is_array(parent) &&
		 (size_t)last->index < json_array_size(parent))
		json_array_remove(parent, (size_t)last->index);
}

/* Merge (add) or subtract (del) set elements; returns a new set AV or NULL when empty. */
static json_t *set_merge(json_t *cur, json_t *v, const char *t, int del)
{
	json_t *arr = json_array(), *x;
	const char et[2] = {t[0], '\0'};
	size_t i;
	if (!arr)
		return NULL;
	json_array_foreach(av_val(cur, t), i, x) {
		json_t *probe = json_pack("{s:O}", et, x);
		int in_v = probe && set_contains(v, t, probe);
		json_decref(probe);
		if (!del || !in_v)
			json_array_append(arr, x);
	}
	if (!del) {
		json_array_foreach(av_val(v, t), i, x) {
			json_t *probe = json_pack("{s:O}", et, x);
			int in_cur = probe && set_contains(cur, t, probe);
			json_decref(probe);
			if (!in_cur)
				json_array_append(arr, x);
		}
	}
	if (json_array_size(arr) == 0) {
		json_decref(arr);
		return NULL;
	}
	return json_pack("{s:o}", t, arr);
}

static int cmp_remove(const void *pa, const void *pb)
{
	const struct path *a = *(const struct path *const *)pa;
	const struct path *b = *(const struct path *const *)pb;
	int m = a->n < b->n ? a->n : b->n;
	for (int i = 0; i < m; i++) {
		if (!a->els[i].name && !b->els[i].name && a->els[i].index != b->els[i].index)
			return a->els[i].index > b->els[i].index ? -1 : 1; /* higher index first */
		if (a->els[i].name && b->els[i].name) {
			int c = strcmp(a->els[i].name, b->els[i].name);
			if (c)
				return c;
		}
	}
	return (a->n > b->n) - (a->n < b->n);
}

int sbx_ddb_expr_update(const struct sbx_ddb_expr *e, json_t *item, json_t **out,
			char *err, size_t errlen)
{
	json_t *orig = item ? item : NULL;
	json_t *next = item ? json_deep_copy(item) : json_object();
	json_t **vals = NULL;
	const struct path **removes = NULL;
	int nrem = 0, rc = -1;

	if (!next || e->kind != SBX_DDB_UPDATE) {
		errf(err, errlen, "out of memory");
		goto fail;
	}
	vals = calloc((size_t)e->nacts + 1, sizeof(*vals));
	removes = calloc((size_t)e->nacts + 1, sizeof(*removes));
	if (!vals || !removes) {
		errf(err, errlen, "out of memory");
		goto fail;
	}
	/* every right-hand side reads the item as it was before the update */
	for (int i = 0; i < e->nacts; i++) {
		if (e->acts[i].kind != A_SET)
			continue;
		vals[i] = eval_setval(e->acts[i].val, orig, err, errlen);
		if (!vals[i])
			goto fail;
	}
	for (int i = 0; i < e->nacts; i++) {
		const struct action *a = &e->acts[i];
		json_t *cur, *v = a->val ? a->val->value : NULL;
		const char *tc, *tv;
		switch (a->kind) {
		case A_SET:
			if (set_at(next, &a->path, vals[i], err, errlen))
				goto fail;
			break;
		case A_REMOVE:
			removes[nrem++] = &a->path;
			break;
		case A_ADD:
			cur = resolve(next, &a->path);
			tv = sbx_ddb_av_type(v);
			if (!cur) {
				if (set_at(next, &a->path, v, err, errlen))
					goto fail;
				break;
			}
			tc = sbx_ddb_av_type(cur);
			if (!tc || strcmp(tc, tv) != 0) {
				errf(err, errlen, UPD_BAD_TYPE);
				goto fail;
			}
			if (strcmp(tc, "N") == 0) {
				char num[256];
				json_t *nv;
				if (sbx_ddb_num_add(json_string_value(av_val(cur, "N")),
						    json_string_value(av_val(v, "N")), 0, num, sizeof(num))) {
					errf(err, errlen, "Number overflow. Attempting to store a number "
					     "with magnitude larger than supported range");
					goto fail;
				}
				nv = num_av(num);
				if (!nv || set_at(next, &a->path, nv, err, errlen)) {
					json_decref(nv);
					goto fail;
				}
				json_decref(nv);
			} else {
				json_t *merged = set_merge(cur, v, tc, 0);
				if (!merged || set_at(next, &a->path, merged, err, errlen)) {
					json_decref(merged);
					goto fail;
				}
				json_decref(merged);
			}
			break;
		case A_DELETE:
			cur = resolve(next, &a->path);
			if (!cur)
				break;
			tc = sbx_ddb_av_type(cur);
			tv = sbx_ddb_av_type(v);
			if (!tc || strcmp(tc, tv) != 0) {
				errf(err, errlen, UPD_BAD_TYPE);
				goto fail;
			}
			{
				json_t *left = set_merge(cur, v, tc, 1);
				if (!left) {
					remove_at(next, &a->path);
				} else {
					int bad = set_at(next, &a->path, left, err, errlen);
					json_decref(left);
					if (bad)
						goto fail;
				}
			}
			break;
		}
	}
	qsort(removes, (size_t)nrem, sizeof(*removes), cmp_remove);
	for (int i = 0; i < nrem; i++)
		remove_at(next, removes[i]);
	*out = next;
	next = NULL;
	rc = 0;
fail:
	if (vals)
		for (int i = 0; i < e->nacts; i++)
			json_decref(vals[i]);
	free(vals);
	free(removes);
	json_decref(next);
	return rc;
}

static int node_refers(const struct node *n, const char *name)
{
	if (!n)
		return 0;
	if ((n->t == N_PATH || n->t == N_SIZE || n->t == N_EXISTS || n->t == N_NEXISTS) &&
	    n->path.n > 0 && n->path.els[0].name && strcmp(n->path.els[0].name, name) == 0)
		return 1;
	for (int i = 0; i < n->nlist; i++)
		if (node_refers(n->list[i], name))
			return 1;
	return node_refers(n->a, name) || node_refers(n->b, name) || node_refers(n->c, name);
}

int sbx_ddb_expr_refers(const struct sbx_ddb_expr *e, const char *name)
{
	return e && node_refers(e->root, name);
}

int sbx_ddb_expr_update_touches(const struct sbx_ddb_expr *e, const char *name)
{
	for (int i = 0; e && i < e->nacts; i++)
		if (e->acts[i].path.n > 0 && e->acts[i].path.els[0].name &&
		    strcmp(e->acts[i].path.els[0].name, name) == 0)
			return 1;
	return 0;
}

/* ---- key conditions ---- */

struct kc_walk {
	const char *hash, *range;
	struct sbx_ddb_keycond *out;
	int have_hash, have_range;
	char *err;
	size_t errlen;
};

static const char *node_op_name(const struct node *n)
{
	switch (n->t) {
	case N_OR: return "OR";
	case N_NOT: return "NOT";
	case N_IN: return "IN";
	case N_EXISTS: return "attribute_exists";
	case N_NEXISTS: return "attribute_not_exists";
	case N_TYPE: return "attribute_type";
	case N_CONTAINS: return "contains";
	case N_SIZE: return "size";
	case N_CMP: return n->op == C_NE ? "<>" : "?";
	default: return "?";
	}
}

static int kc_leaf(struct kc_walk *w, const struct node *path, enum sbx_ddb_range_op op,
		   json_t *v1, json_t *v2)
{
	const char *name;
	if (path->t != N_PATH || path->path.n != 1 || !path->path.els[0].name)
		return errf(w->err, w->errlen, "Invalid KeyConditionExpression: Key condition "
			    "requires a key attribute name and a value");
	name = path->path.els[0].name;
	if (strcmp(name, w->hash) == 0) {
		if (w->have_hash++)
			return errf(w->err, w->errlen, "KeyConditionExpressions must only contain "
				    "one condition per key");
		if (op != SBX_DDB_RANGE_EQ)
			return errf(w->err, w->errlen, "Query key condition not supported");
		w->out->hash = v1;
		return 0;
	}
	if (w->range && strcmp(name, w->range) == 0) {
		if (w->have_range++)
			return errf(w->err, w->errlen, "KeyConditionExpressions must only contain "
				    "one condition per key");
		w->out->op = op;
		w->out->r1 = v1;
		w->out->r2 = v2;
		return 0;
	}
	return errf(w->err, w->errlen, "Query condition missed key schema element: %s",
		    w->have_hash || !w->range ? (w->range ? w->range : w->hash) : w->hash);
}

static int kc_walk(struct kc_walk *w, const struct node *n)
{
	switch (n->t) {
	case N_AND:
		return kc_walk(w, n->a) || kc_walk(w, n->b) ? -1 : 0;
	case N_CMP: {
		static const enum sbx_ddb_range_op map[] = {SBX_DDB_RANGE_EQ, SBX_DDB_RANGE_NONE,
			SBX_DDB_RANGE_LT, SBX_DDB_RANGE_LE, SBX_DDB_RANGE_GT, SBX_DDB_RANGE_GE};
		static const enum sbx_ddb_range_op flip[] = {SBX_DDB_RANGE_EQ, SBX_DDB_RANGE_NONE,
			SBX_DDB_RANGE_GT, SBX_DDB_RANGE_GE, SBX_DDB_RANGE_LT, SBX_DDB_RANGE_LE};
		if (n->op == C_NE)
			break;
		if (n->a->t == N_PATH && n->b->t == N_VALUE)
			return kc_leaf(w, n->a, map[n->op], n->b->value, NULL);
		if (n->b->t == N_PATH && n->a->t == N_VALUE)
			return kc_leaf(w, n->b, flip[n->op], n->a->value, NULL);
		return errf(w->err, w->errlen, "Invalid KeyConditionExpression: Key condition "
			    "requires a key attribute name and a value");
	}
	case N_BETWEEN:
		if (n->b->t != N_VALUE || n->c->t != N_VALUE)
			return errf(w->err, w->errlen, "Invalid KeyConditionExpression: BETWEEN "
				    "requires values as bounds");
		return kc_leaf(w, n->a, SBX_DDB_RANGE_BETWEEN, n->b->value, n->c->value);
	case N_BEGINS:
		if (n->b->t != N_VALUE)
			return errf(w->err, w->errlen, "Invalid KeyConditionExpression: begins_with "
				    "requires a value");
		return kc_leaf(w, n->a, SBX_DDB_RANGE_BEGINS, n->b->value, NULL);
	default:
		break;
	}
	return errf(w->err, w->errlen, "Invalid operator used in KeyConditionExpression: %s",
		    node_op_name(n));
}

int sbx_ddb_expr_keycond(const struct sbx_ddb_expr *e, const char *hash_name,
			 const char *range_name, struct sbx_ddb_keycond *out,
			 char *err, size_t errlen)
{
	struct kc_walk w;
	memset(out, 0, sizeof(*out));
	memset(&w, 0, sizeof(w));
	w.hash = hash_name;
	w.range = range_name;
	w.out = out;
	w.err = err;
	w.errlen = errlen;
	if (!e || !e->root)
		return errf(err, errlen, "Query condition missed key schema element: %s", hash_name);
	if (kc_walk(&w, e->root))
		return -1;
	if (!w.have_hash)
		return errf(err, errlen, "Query condition missed key schema element: %s", hash_name);
	return 0;
}
