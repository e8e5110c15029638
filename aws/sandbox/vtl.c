/* vtl.c: a pure renderer for API Gateway mapping templates (a Velocity subset). */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "vtl.h"

#define MAX_DEPTH 64
#define MAX_NEST 100 /* expressions inside expressions */
#define MAX_ITERATIONS 100000

/* Reference roots with behaviour of their own. */
enum kind { K_VALUE, K_INPUT, K_UTIL };

/* The interpreter: a cursor over the template text plus what it may read and write. */
struct st {
	const char *src;
	size_t pos, len;
	const struct sbx_vtl_ctx *c;
	struct aws_buf *out;
	json_t *vars;         /* #set and #foreach variables */
	json_t *body_json;    /* the body parsed on first use */
	int body_parsed;
	int skip;             /* parsing an untaken branch: evaluate nothing, output nothing */
	int failed;
	int depth;
	int nest;             /* unary expressions being parsed, one inside the other */
	long iterations;
	char *err;
	size_t errlen;
};

static json_t *expr(struct st *s);
static int run(struct st *s, int *term);

static void verr(struct st *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Record the first error (with the template offset) and stop. */
static void verr(struct st *s, const char *fmt, ...)
{
	va_list ap;
	char msg[256];

	if (s->failed)
		return;
	s->failed = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s->err && s->errlen)
		snprintf(s->err, s->errlen, "template offset %zu: %s", s->pos, msg);
}

static int peek(const struct st *s, size_t ahead)
{
	return s->pos + ahead < s->len ? (unsigned char)s->src[s->pos + ahead] : -1;
}

static int at(const struct st *s, const char *lit)
{
	size_t n = strlen(lit);

	return s->pos + n <= s->len && memcmp(s->src + s->pos, lit, n) == 0;
}

static void skip_ws(struct st *s)
{
	while (s->pos < s->len && isspace((unsigned char)s->src[s->pos]))
		s->pos++;
}

static int ident_start(int c)
{
	return c >= 0 && (isalpha(c) || c == '_');
}

static int ident_char(int c)
{
	return c >= 0 && (isalnum(c) || c == '_' || c == '-');
}

/* An identifier at the cursor into out ("" when none). */
static void ident(struct st *s, char *out, size_t n)
{
	size_t i = 0;

	if (!ident_start(peek(s, 0))) {
		out[0] = '\0';
		return;
	}
	while (ident_char(peek(s, 0))) {
		if (i + 1 < n)
			out[i++] = s->src[s->pos];
		s->pos++;
	}
	out[i] = '\0';
}

static int expect(struct st *s, char c)
{
	skip_ws(s);
	if (peek(s, 0) != c) {
		verr(s, "expected '%c'", c);
		return -1;
	}
	s->pos++;
	return 0;
}

/* Java's toString of a value, appended to out. */
static int stringify(struct aws_buf *out, json_t *v)
{
	const char *key;
	json_t *m;
	size_t i;
	int rc = 0, first = 1;

	switch (json_typeof(v)) {
	case JSON_STRING:
		return aws_buf_add(out, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return aws_buf_printf(out, "%lld", (long long)json_integer_value(v));
	case JSON_REAL: {
		char *t = json_dumps(v, JSON_ENCODE_ANY);

		rc = t ? aws_buf_adds(out, t) : -1;
		free(t);
		return rc;
	}
	case JSON_TRUE:
		return aws_buf_adds(out, "true");
	case JSON_FALSE:
		return aws_buf_adds(out, "false");
	case JSON_NULL:
		return 0;
	case JSON_OBJECT:
		rc |= aws_buf_addc(out, '{');
		json_object_foreach(v, key, m) {
			if (!first)
				rc |= aws_buf_adds(out, ", ");
			first = 0;
			rc |= aws_buf_adds(out, key);
			rc |= aws_buf_addc(out, '=');
			rc |= stringify(out, m);
		}
		return rc | aws_buf_addc(out, '}');
	case JSON_ARRAY:
		rc |= aws_buf_addc(out, '[');
		json_array_foreach(v, i, m) {
			if (i)
				rc |= aws_buf_adds(out, ", ");
			rc |= stringify(out, m);
		}
		return rc | aws_buf_addc(out, ']');
	}
	return 0;
}

/* A value as a new string (caller frees), NULL on ENOMEM. */
static char *to_text(json_t *v)
{
	struct aws_buf b = { 0 };

	if (stringify(&b, v) != 0)
		return NULL;
	return aws_buf_take(&b);
}

static int truthy(json_t *v)
{
	return v && !json_is_null(v) && !json_is_false(v);
}

/* ---- $util ---- */

/* java.net.URLEncoder.encode(s, "UTF-8"). */
static json_t *url_encode(const char *s, size_t n)
{
	struct aws_buf b = { 0 };
	char *t;
	json_t *v;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isalnum(c) || c == '.' || c == '-' || c == '*' || c == '_')
			aws_buf_addc(&b, (char)c);
		else if (c == ' ')
			aws_buf_addc(&b, '+');
		else
			aws_buf_printf(&b, "%%%02X", c);
	}
	t = aws_buf_take(&b);
	v = t ? json_string(t) : NULL;
	free(t);
	return v;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static json_t *url_decode(const char *s, size_t n)
{
	struct aws_buf b = { 0 };
	json_t *v;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			aws_buf_addc(&b, ' ');
		} else if (s[i] == '%' && i + 2 < n && hexval((unsigned char)s[i + 1]) >= 0 &&
			   hexval((unsigned char)s[i + 2]) >= 0) {
			aws_buf_addc(&b, (char)(hexval((unsigned char)s[i + 1]) * 16 +
						hexval((unsigned char)s[i + 2])));
			i += 2;
		} else {
			aws_buf_addc(&b, s[i]);
		}
	}
	v = json_stringn(b.data ? b.data : "", b.len);
	aws_buf_cleanup(&b);
	return v;
}

/* commons-lang StringEscapeUtils.escapeJavaScript: quotes, backslash, slash and control
 * characters escaped; non-ASCII as \uXXXX (UTF-16 units). */
static json_t *escape_js(const char *s, size_t n)
{
	struct aws_buf b = { 0 };
	char *t;
	json_t *v;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		unsigned long cp = c;
		int more = 0;

		switch (c) {
		case '"': aws_buf_adds(&b, "\\\""); continue;
		case '\'': aws_buf_adds(&b, "\\'"); continue;
		case '\\': aws_buf_adds(&b, "\\\\"); continue;
		case '/': aws_buf_adds(&b, "\\/"); continue;
		case '\b': aws_buf_adds(&b, "\\b"); continue;
		case '\f': aws_buf_adds(&b, "\\f"); continue;
		case '\n': aws_buf_adds(&b, "\\n"); continue;
		case '\r': aws_buf_adds(&b, "\\r"); continue;
		case '\t': aws_buf_adds(&b, "\\t"); continue;
		default: break;
		}
		if (c < 0x20) {
			aws_buf_printf(&b, "\\u%04X", c);
			continue;
		}
		if (c < 0x80) {
			aws_buf_addc(&b, (char)c);
			continue;
		}
		if ((c & 0xE0) == 0xC0) {
			cp = c & 0x1F;
			more = 1;
		} else if ((c & 0xF0) == 0xE0) {
			cp = c & 0x0F;
			more = 2;
		} else {
			cp = c & 0x07;
			more = 3;
		}
		for (; more > 0 && i + 1 < n; more--)
			cp = (cp << 6) | ((unsigned char)s[++i] & 0x3F);
		if (cp >= 0x10000) {
			cp -= 0x10000;
			aws_buf_printf(&b, "\\u%04lX\\u%04lX", 0xD800 + (cp >> 10),
				       0xDC00 + (cp & 0x3FF));
		} else {
			aws_buf_printf(&b, "\\u%04lX", cp);
		}
	}
	t = aws_buf_take(&b);
	v = t ? json_string(t) : NULL;
	free(t);
	return v;
}

static json_t *b64_encode(const char *s, size_t n)
{
	unsigned char *o = malloc(4 * ((n + 2) / 3) + 1);
	json_t *v;

	if (!o)
		return NULL;
	EVP_EncodeBlock(o, (const unsigned char *)s, (int)n);
	v = json_string((char *)o);
	free(o);
	return v;
}

/* Returns NULL for malformed base64 (or ENOMEM). */
static json_t *b64_decode(const char *s, size_t n)
{
	unsigned char *o;
	int len, pad = 0;
	json_t *v;

	if (n % 4 != 0)
		return NULL;
	o = malloc(n / 4 * 3 + 1);
	if (!o)
		return NULL;
	len = EVP_DecodeBlock(o, (const unsigned char *)s, (int)n);
	if (len < 0) {
		free(o);
		return NULL;
	}
	if (n >= 1 && s[n - 1] == '=')
		pad++;
	if (n >= 2 && s[n - 2] == '=')
		pad++;
	v = json_stringn((char *)o, (size_t)(len - pad));
	free(o);
	return v;
}

/* ---- $input ---- */

/* The body as JSON (parsed once; an empty body is {}). NULL after an error. */
static json_t *body_json(struct st *s)
{
	json_error_t je;

	if (s->body_parsed)
		return s->body_json;
	s->body_parsed = 1;
	if (s->c->body_len == 0)
		s->body_json = json_object();
	else
		s->body_json = json_loadb(s->c->body, s->c->body_len,
					  JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	if (!s->body_json)
		verr(s, "$input: the body is not valid JSON (%s)", je.text);
	return s->body_json;
}

/* A JSONPath ($, $.a.b, $['a'], $.a[0]) over the body. Returns a new reference, or
 * json_null() when the path does not exist; NULL after an error. */
static json_t *json_path(struct st *s, const char *path)
{
	json_t *v = body_json(s);
	const char *p = path;
	char key[256];

	if (!v)
		return NULL;
	if (*p != '$') {
		verr(s, "unsupported JSONPath '%s' (must start with $)", path);
		return NULL;
	}
	p++;
	while (*p && v) {
		size_t n = 0;

		if (p[0] == '.' && p[1] != '.' && p[1] != '*' && p[1]) {
			p++;
			while (*p && *p != '.' && *p != '[' && n + 1 < sizeof(key))
				key[n++] = *p++;
			key[n] = '\0';
			v = json_object_get(v, key);
		} else if (p[0] == '[' && (p[1] == '\'' || p[1] == '"')) {
			char q = p[1];

			p += 2;
			while (*p && *p != q && n + 1 < sizeof(key))
				key[n++] = *p++;
			key[n] = '\0';
			if (p[0] != q || p[1] != ']') {
				verr(s, "unsupported JSONPath '%s'", path);
				return NULL;
			}
			p += 2;
			v = json_object_get(v, key);
		} else if (p[0] == '[' && isdigit((unsigned char)p[1])) {
			char *end;
			long i = strtol(p + 1, &end, 10);

			if (*end != ']') {
				verr(s, "unsupported JSONPath '%s'", path);
				return NULL;
			}
			p = end + 1;
			v = json_array_get(v, (size_t)i);
		} else {
			verr(s, "unsupported JSONPath '%s' (only $, .name, ['name'] and [n])", path);
			return NULL;
		}
	}
	return v ? json_incref(v) : json_null();
}

/* $input.params('name'): path, then query string, then header (case-insensitive). */
static json_t *param(struct st *s, const char *name)
{
	static const char *const where[] = { "path", "querystring", "header" };
	json_t *params = s->c->params;

	for (size_t i = 0; i < 3; i++) {
		json_t *m = json_object_get(params, where[i]), *v;
		const char *k;

		v = json_object_get(m, name);
		if (json_is_string(v))
			return json_incref(v);
		if (i == 2)
			json_object_foreach(m, k, v)
				if (strcasecmp(k, name) == 0 && json_is_string(v))
					return json_incref(v);
	}
	return json_string("");
}

/* ---- references ---- */

/* Parse call arguments "(a, b)" at the cursor into a new array (json nulls when skipping).
 * Returns NULL after an error. */
static json_t *args(struct st *s)
{
	json_t *a = json_array();

	s->pos++; /* '(' */
	skip_ws(s);
	if (peek(s, 0) == ')') {
		s->pos++;
		return a;
	}
	for (;;) {
		json_t *v = expr(s);

		if (!v) {
			json_decref(a);
			return NULL;
		}
		json_array_append_new(a, v);
		skip_ws(s);
		if (peek(s, 0) == ',') {
			s->pos++;
			continue;
		}
		if (peek(s, 0) == ')') {
			s->pos++;
			return a;
		}
		verr(s, "expected ',' or ')' in an argument list");
		json_decref(a);
		return NULL;
	}
}

static const char *arg_str(json_t *a, size_t i, size_t *n)
{
	json_t *v = json_array_get(a, i);

	*n = json_string_length(v);
	return json_string_value(v);
}

/* $util.name(args). Returns a new reference or NULL after an error. */
static json_t *util_call(struct st *s, const char *name, json_t *a)
{
	size_t n;
	const char *x;
	json_t *v = NULL;

	if (json_array_size(a) != 1) {
		verr(s, "$util.%s takes one argument", name);
		return NULL;
	}
	if (json_is_null(json_array_get(a, 0)))
		json_array_set_new(a, 0, json_string(""));
	if (!json_is_string(json_array_get(a, 0))) {
		char *t = to_text(json_array_get(a, 0));

		json_array_set_new(a, 0, json_string(t ? t : ""));
		free(t);
	}
	x = arg_str(a, 0, &n);
	if (strcmp(name, "urlEncode") == 0)
		v = url_encode(x, n);
	else if (strcmp(name, "urlDecode") == 0)
		v = url_decode(x, n);
	else if (strcmp(name, "escapeJavaScript") == 0)
		v = escape_js(x, n);
	else if (strcmp(name, "base64Encode") == 0)
		v = b64_encode(x, n);
	else if (strcmp(name, "base64Decode") == 0) {
		v = b64_decode(x, n);
		if (!v)
			verr(s, "$util.base64Decode: the argument is not valid base64");
		return v;
	} else if (strcmp(name, "parseJson") == 0) {
		json_error_t je;

		v = json_loadb(x, n, JSON_DECODE_ANY, &je);
		if (!v)
			verr(s, "$util.parseJson: the argument is not valid JSON (%s)", je.text);
		return v;
	} else {
		verr(s, "unsupported function $util.%s", name);
		return NULL;
	}
	if (!v)
		verr(s, "out of memory");
	return v;
}

/* $input.name(args) or $input.body. Returns a new reference or NULL after an error. */
static json_t *input_member(struct st *s, const char *name, json_t *a)
{
	size_t n;
	const char *x;

	if (!a && strcmp(name, "body") == 0)
		return json_stringn(s->c->body ? s->c->body : "", s->c->body ? s->c->body_len : 0);
	if (a && strcmp(name, "params") == 0) {
		if (json_array_size(a) == 0)
			return s->c->params ? json_incref(s->c->params) :
				json_pack("{s:{},s:{},s:{}}", "path", "querystring", "header");
		x = arg_str(a, 0, &n);
		if (json_array_size(a) == 1 && x)
			return param(s, x);
	}
	if (a && (strcmp(name, "json") == 0 || strcmp(name, "path") == 0)) {
		json_t *v;
		char *t;

		x = arg_str(a, 0, &n);
		if (json_array_size(a) != 1 || !x) {
			verr(s, "$input.%s takes one JSONPath string", name);
			return NULL;
		}
		v = json_path(s, x);
		if (!v || name[0] == 'p')
			return v;
		if (json_is_null(v) && strcmp(x, "$") != 0) {
			json_decref(v);
			return json_string("");
		}
		t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		json_decref(v);
		v = t ? json_string(t) : NULL;
		free(t);
		return v;
	}
	verr(s, "unsupported $input.%s%s", name, a ? "()" : "");
	return NULL;
}

/* A method on a plain value. Returns a new reference or NULL after an error. */
static json_t *value_call(struct st *s, json_t *v, const char *name, json_t *a)
{
	size_t na = json_array_size(a);
	json_t *a0 = json_array_get(a, 0);

	if (na == 0 && (strcmp(name, "size") == 0 || strcmp(name, "length") == 0)) {
		if (json_is_string(v))
			return json_integer((json_int_t)json_string_length(v));
		if (json_is_array(v))
			return json_integer((json_int_t)json_array_size(v));
		if (json_is_object(v))
			return json_integer((json_int_t)json_object_size(v));
	}
	if (na == 0 && strcmp(name, "isEmpty") == 0) {
		if (json_is_string(v))
			return json_boolean(json_string_length(v) == 0);
		if (json_is_array(v))
			return json_boolean(json_array_size(v) == 0);
		if (json_is_object(v))
			return json_boolean(json_object_size(v) == 0);
	}
	if (na == 0 && strcmp(name, "keySet") == 0 && json_is_object(v)) {
		json_t *keys = json_array();
		const char *k;
		json_t *m;

		json_object_foreach(v, k, m)
			json_array_append_new(keys, json_string(k));
		return keys;
	}
	if (na == 0 && strcmp(name, "toString") == 0) {
		char *t = to_text(v);
		json_t *r = t ? json_string(t) : NULL;

		free(t);
		return r;
	}
	if (na == 1 && strcmp(name, "get") == 0) {
		json_t *m = NULL;

		if (json_is_object(v) && json_is_string(a0))
			m = json_object_get(v, json_string_value(a0));
		else if (json_is_array(v) && json_is_integer(a0))
			m = json_array_get(v, (size_t)json_integer_value(a0));
		return m ? json_incref(m) : json_null();
	}
	if (na == 1 && strcmp(name, "containsKey") == 0 && json_is_object(v))
		return json_boolean(json_is_string(a0) &&
				    json_object_get(v, json_string_value(a0)) != NULL);
	if (na == 1 && strcmp(name, "equals") == 0)
		return json_boolean(json_equal(v, a0));
	if (json_is_string(v)) {
		const char *t = json_string_value(v);

		if (na == 0 && (strcmp(name, "toLowerCase") == 0 || strcmp(name, "toUpperCase") == 0)) {
			char *c = strdup(t);
			json_t *r;

			if (!c)
				return NULL;
			for (char *p = c; *p; p++)
				*p = (char)(name[2] == 'L' ? tolower((unsigned char)*p) :
							     toupper((unsigned char)*p));
			r = json_string(c);
			free(c);
			return r;
		}
		if (na == 0 && strcmp(name, "trim") == 0) {
			size_t b = 0, e = strlen(t);

			while (b < e && isspace((unsigned char)t[b]))
				b++;
			while (e > b && isspace((unsigned char)t[e - 1]))
				e--;
			return json_stringn(t + b, e - b);
		}
		if (na == 1 && json_is_string(a0) && strcmp(name, "contains") == 0)
			return json_boolean(strstr(t, json_string_value(a0)) != NULL);
		if (na == 1 && json_is_string(a0) && strcmp(name, "startsWith") == 0)
			return json_boolean(strncmp(t, json_string_value(a0),
						    json_string_length(a0)) == 0);
	}
	verr(s, "unsupported method .%s() with %zu argument(s)", name, na);
	return NULL;
}

/* A reference at the cursor ('$' already seen at s->pos). *quiet is set for $!x.
 * Returns a new reference (json null for nothing) or NULL after an error. */
static json_t *reference(struct st *s, int *quiet)
{
	char name[128];
	int braced = 0;
	enum kind kind = K_VALUE;
	json_t *v = NULL;

	s->pos++; /* '$' */
	*quiet = 0;
	if (peek(s, 0) == '!') {
		*quiet = 1;
		s->pos++;
	}
	if (peek(s, 0) == '{') {
		braced = 1;
		s->pos++;
	}
	ident(s, name, sizeof(name));
	if (!name[0]) {
		verr(s, "malformed reference");
		return NULL;
	}
	if (s->skip)
		v = json_null();
	else if (strcmp(name, "input") == 0)
		kind = K_INPUT;
	else if (strcmp(name, "util") == 0)
		kind = K_UTIL;
	else if (strcmp(name, "context") == 0)
		v = json_incref(s->c->context ? s->c->context : json_null());
	else if (strcmp(name, "stageVariables") == 0)
		v = s->c->stage_vars ? json_incref(s->c->stage_vars) : json_object();
	else if (json_object_get(s->vars, name))
		v = json_incref(json_object_get(s->vars, name));
	else {
		verr(s, "unknown variable $%s (unsupported by the sandbox)", name);
		return NULL;
	}
	for (;;) {
		char member[128];
		json_t *a = NULL, *next;

		if (peek(s, 0) == '.' && ident_start(peek(s, 1))) {
			s->pos++;
			ident(s, member, sizeof(member));
			if (peek(s, 0) == '(') {
				a = args(s);
				if (!a)
					goto fail;
			}
		} else if (peek(s, 0) == '[') {
			json_t *idx;

			s->pos++;
			idx = expr(s);
			if (!idx || expect(s, ']') != 0) {
				json_decref(idx);
				goto fail;
			}
			if (!s->skip && kind != K_VALUE) {
				json_decref(idx);
				verr(s, "cannot index $%s", name);
				goto fail;
			}
			next = json_is_string(idx) ? json_object_get(v, json_string_value(idx)) :
				json_is_integer(idx) ? json_array_get(v, (size_t)json_integer_value(idx)) :
				NULL;
			json_decref(idx);
			next = next ? json_incref(next) : json_null();
			json_decref(v);
			v = next;
			continue;
		} else {
			break;
		}
		if (s->skip)
			next = json_null();
		else if (kind == K_INPUT)
			next = input_member(s, member, a);
		else if (kind == K_UTIL)
			next = a ? util_call(s, member, a) :
				(verr(s, "unsupported $util.%s", member), NULL);
		else if (a)
			next = value_call(s, v, member, a);
		else if (json_is_object(v))
			next = json_object_get(v, member) ? json_incref(json_object_get(v, member)) :
				json_null();
		else if (json_is_null(v))
			next = json_null();
		else {
			verr(s, "unsupported property .%s of a non-object", member);
			next = NULL;
		}
		json_decref(a);
		kind = K_VALUE;
		json_decref(v);
		v = next;
		if (!v)
			goto fail;
	}
	if (!s->skip && kind != K_VALUE) {
		verr(s, "$%s cannot be used on its own", name);
		goto fail;
	}
	if (braced && expect(s, '}') != 0)
		goto fail;
	return v ? v : json_null();
fail:
	json_decref(v);
	return NULL;
}

/* ---- expressions ---- */

/* Render a double-quoted string's contents as a template (Velocity interpolates them). */
static json_t *interpolate(struct st *s, size_t start, size_t end)
{
	struct st sub = *s;
	struct aws_buf b = { 0 };
	json_t *v;
	int term = 0;

	sub.src = s->src + start;
	sub.len = end - start;
	sub.pos = 0;
	sub.out = &b;
	sub.depth = s->depth + 1;
	if (sub.depth > MAX_DEPTH || run(&sub, &term) != 0 || term != 0) {
		s->body_json = sub.body_json;
		s->body_parsed = sub.body_parsed;
		aws_buf_cleanup(&b);
		s->pos = start;
		if (!sub.failed)
			verr(s, "an unbalanced directive inside a string");
		s->failed = 1;
		return NULL;
	}
	s->body_json = sub.body_json;
	s->body_parsed = sub.body_parsed;
	s->iterations = sub.iterations;
	v = json_stringn(b.data ? b.data : "", b.len);
	aws_buf_cleanup(&b);
	return v;
}

static json_t *primary(struct st *s)
{
	int c;

	skip_ws(s);
	c = peek(s, 0);
	if (c == '\'' || c == '"') {
		size_t start = ++s->pos;

		while (s->pos < s->len && s->src[s->pos] != c)
			s->pos++;
		if (s->pos >= s->len) {
			verr(s, "unterminated string literal");
			return NULL;
		}
		s->pos++;
		if (c == '"' && !s->skip && memchr(s->src + start, '$', s->pos - 1 - start))
			return interpolate(s, start, s->pos - 1);
		return json_stringn(s->src + start, s->pos - 1 - start);
	}
	if (c == '$') {
		int quiet;

		return reference(s, &quiet);
	}
	if (c == '(') {
		json_t *v;

		s->pos++;
		v = expr(s);
		if (v && expect(s, ')') != 0) {
			json_decref(v);
			return NULL;
		}
		return v;
	}
	if (c == '[') {
		json_t *list = json_array();

		s->pos++;
		skip_ws(s);
		if (peek(s, 0) == ']') {
			s->pos++;
			return list;
		}
		for (;;) {
			json_t *v = expr(s);

			if (!v) {
				json_decref(list);
				return NULL;
			}
			json_array_append_new(list, v);
			skip_ws(s);
			if (peek(s, 0) == ',') {
				s->pos++;
				continue;
			}
			if (peek(s, 0) == ']') {
				s->pos++;
				return list;
			}
			json_decref(list);
			verr(s, "expected ',' or ']' in a list");
			return NULL;
		}
	}
	if (c >= 0 && isdigit(c)) {
		char num[64];
		size_t n = 0;
		int real = 0;

		while (s->pos < s->len && n + 1 < sizeof(num) &&
		       (isdigit((unsigned char)s->src[s->pos]) ||
			(s->src[s->pos] == '.' && !real && s->pos + 1 < s->len &&
			 isdigit((unsigned char)s->src[s->pos + 1])))) {
			real |= s->src[s->pos] == '.';
			num[n++] = s->src[s->pos++];
		}
		num[n] = '\0';
		return real ? json_real(strtod(num, NULL)) : json_integer(strtoll(num, NULL, 10));
	}
	if (at(s, "true") && !ident_char(peek(s, 4))) {
		s->pos += 4;
		return json_true();
	}
	if (at(s, "false") && !ident_char(peek(s, 5))) {
		s->pos += 5;
		return json_false();
	}
	if (at(s, "null") && !ident_char(peek(s, 4))) {
		s->pos += 4;
		return json_null();
	}
	verr(s, "unsupported expression");
	return NULL;
}

static json_t *unary_inner(struct st *s);

/* Every nested expression ((..), [..], {..}, !, -) passes here: bound the recursion, or a
 * template of a few thousand '[' overflows the stack. */
static json_t *unary(struct st *s)
{
	json_t *v = NULL;

	if (++s->nest > MAX_NEST)
		verr(s, "the expression nests too deeply");
	else
		v = unary_inner(s);
	s->nest--;
	return v;
}

static json_t *unary_inner(struct st *s)
{
	skip_ws(s);
	if (peek(s, 0) == '!' && peek(s, 1) != '=') {
		json_t *v;

		s->pos++;
		v = unary(s);
		if (!v)
			return NULL;
		json_t *r = json_boolean(!truthy(v));

		json_decref(v);
		return r;
	}
	if (peek(s, 0) == '-') {
		json_t *v;

		s->pos++;
		v = unary(s);
		if (!v)
			return NULL;
		if (s->skip)
			return v;
		if (json_is_integer(v)) {
			json_int_t x = json_integer_value(v);
			/* the one integer without a negation widens, as Velocity's do */
			json_t *r = x == LLONG_MIN ? json_real(-(double)x) : json_integer(-x);

			json_decref(v);
			return r;
		}
		if (json_is_real(v)) {
			json_t *r = json_real(-json_real_value(v));

			json_decref(v);
			return r;
		}
		json_decref(v);
		verr(s, "unary minus on a non-number");
		return NULL;
	}
	return primary(s);
}

/* Arithmetic on two values: + concatenates when either is a string. */
static json_t *arith(struct st *s, char op, json_t *a, json_t *b)
{
	if (s->skip)
		return json_null();
	if (op == '+' && (json_is_string(a) || json_is_string(b))) {
		struct aws_buf buf = { 0 };
		json_t *v;

		stringify(&buf, a);
		stringify(&buf, b);
		v = json_stringn(buf.data ? buf.data : "", buf.len);
		aws_buf_cleanup(&buf);
		return v;
	}
	if (!json_is_number(a) || !json_is_number(b)) {
		verr(s, "arithmetic '%c' on non-numbers", op);
		return NULL;
	}
	if (json_is_integer(a) && json_is_integer(b)) {
		json_int_t x = json_integer_value(a), y = json_integer_value(b), r = 0;
		int over;

		if ((op == '/' || op == '%') && y == 0) {
			verr(s, "division by zero");
			return NULL;
		}
		/* a result past 64 bits widens (to floating point here), as Velocity's do */
		if (op == '+')
			over = __builtin_add_overflow(x, y, &r);
		else if (op == '-')
			over = __builtin_sub_overflow(x, y, &r);
		else if (op == '*')
			over = __builtin_mul_overflow(x, y, &r);
		else if (op == '/' && x == LLONG_MIN && y == -1)
			over = 1;
		else {
			over = 0;
			r = op == '/' ? x / y : y == -1 ? 0 : x % y; /* LLONG_MIN % -1 traps */
		}
		if (!over)
			return json_integer(r);
	}
	double x = json_number_value(a), y = json_number_value(b);

	if (op == '%') {
		verr(s, "'%%' on non-integers");
		return NULL;
	}
	return json_real(op == '+' ? x + y : op == '-' ? x - y : op == '*' ? x * y : x / y);
}

static json_t *binary_level(struct st *s, int level);

static json_t *binary_level(struct st *s, int level)
{
	/* level 0: || ; 1: && ; 2: comparisons ; 3: + - ; 4: * / % */
	json_t *a = level == 4 ? unary(s) : binary_level(s, level + 1);

	while (a) {
		json_t *b, *r;
		char op[3] = { 0 };

		skip_ws(s);
		if (level == 0 && (at(s, "||") || (at(s, "or") && !ident_char(peek(s, 2))))) {
			s->pos += 2;
			op[0] = '|';
		} else if (level == 1 && at(s, "&&")) {
			s->pos += 2;
			op[0] = '&';
		} else if (level == 1 && at(s, "and") && !ident_char(peek(s, 3))) {
			s->pos += 3;
			op[0] = '&';
		} else if (level == 2 && (at(s, "==") || at(s, "!=") || at(s, "<=") || at(s, ">="))) {
			op[0] = s->src[s->pos];
			op[1] = s->src[s->pos + 1];
			s->pos += 2;
		} else if (level == 2 && (peek(s, 0) == '<' || peek(s, 0) == '>')) {
			op[0] = s->src[s->pos++];
		} else if (level == 3 && (peek(s, 0) == '+' || peek(s, 0) == '-')) {
			op[0] = s->src[s->pos++];
		} else if (level == 4 && (peek(s, 0) == '*' || peek(s, 0) == '/' || peek(s, 0) == '%')) {
			op[0] = s->src[s->pos++];
		} else {
			return a;
		}
		b = level == 4 ? unary(s) : binary_level(s, level + 1);
		if (!b) {
			json_decref(a);
			return NULL;
		}
		if (s->skip) {
			r = json_null();
		} else if (op[0] == '|') {
			r = json_boolean(truthy(a) || truthy(b));
		} else if (op[0] == '&') {
			r = json_boolean(truthy(a) && truthy(b));
		} else if (level == 2) {
			int cmp;

			if (json_is_number(a) && json_is_number(b)) {
				double x = json_number_value(a), y = json_number_value(b);

				cmp = x < y ? -1 : x > y;
			} else if (json_is_string(a) && json_is_string(b)) {
				cmp = strcmp(json_string_value(a), json_string_value(b));
			} else if (op[0] == '=' || op[0] == '!') {
				cmp = !json_equal(a, b);
			} else {
				json_decref(a);
				json_decref(b);
				verr(s, "cannot order these values");
				return NULL;
			}
			r = json_boolean(op[0] == '=' ? cmp == 0 : op[0] == '!' ? cmp != 0 :
					 op[0] == '<' ? (op[1] ? cmp <= 0 : cmp < 0) :
					 (op[1] ? cmp >= 0 : cmp > 0));
		} else {
			r = arith(s, op[0], a, b);
		}
		json_decref(a);
		json_decref(b);
		a = r;
	}
	return NULL;
}

static json_t *expr(struct st *s)
{
	if (s->failed)
		return NULL;
	return binary_level(s, 0);
}

/* ---- directives ---- */

/* After a directive: a newline that ends its line is not output. */
static void eat_newline(struct st *s)
{
	size_t p = s->pos;

	while (p < s->len && (s->src[p] == ' ' || s->src[p] == '\t'))
		p++;
	if (p < s->len && s->src[p] == '\n')
		s->pos = p + 1;
	else if (p + 1 < s->len && s->src[p] == '\r' && s->src[p + 1] == '\n')
		s->pos = p + 2;
}

/* "( expr )" after #if / #elseif. Returns truthiness, -1 after an error. */
static int condition(struct st *s)
{
	json_t *v;
	int t;

	if (expect(s, '(') != 0)
		return -1;
	v = expr(s);
	if (!v || expect(s, ')') != 0) {
		json_decref(v);
		return -1;
	}
	t = truthy(v);
	json_decref(v);
	return t;
}

/* #set($name = expr). */
static int directive_set(struct st *s)
{
	char name[128];
	json_t *v;

	if (expect(s, '(') != 0 || expect(s, '$') != 0)
		return -1;
	if (peek(s, 0) == '!')
		s->pos++;
	ident(s, name, sizeof(name));
	skip_ws(s);
	if (!name[0] || peek(s, 0) != '=') {
		verr(s, "unsupported #set target (only #set($name = ...))");
		return -1;
	}
	s->pos++;
	v = expr(s);
	if (!v || expect(s, ')') != 0) {
		json_decref(v);
		return -1;
	}
	if (!s->skip) {
		if (strcmp(name, "input") == 0 || strcmp(name, "util") == 0 ||
		    strcmp(name, "context") == 0 || strcmp(name, "stageVariables") == 0) {
			json_decref(v);
			verr(s, "#set cannot replace $%s", name);
			return -1;
		}
		json_object_set_new(s->vars, name, v);
	} else {
		json_decref(v);
	}
	eat_newline(s);
	return 0;
}

/* #if(...) ... #elseif(...) ... #else ... #end, the cursor after "#if". */
static int directive_if(struct st *s)
{
	int outer = s->skip, done = 0, term = 0, cond;

	cond = condition(s);
	if (cond < 0)
		return -1;
	eat_newline(s);
	for (;;) {
		s->skip = outer || done || !cond;
		done |= !s->skip;
		if (run(s, &term) != 0)
			goto fail;
		if (term == 1)
			break;
		if (term == 0) {
			verr(s, "#if without #end");
			goto fail;
		}
		if (term == 3) {
			s->skip = outer || done;
			cond = condition(s);
			if (cond < 0)
				goto fail;
		} else {
			cond = 1;
		}
		eat_newline(s);
	}
	s->skip = outer;
	eat_newline(s);
	return 0;
fail:
	s->skip = outer;
	return -1;
}

/* #foreach($x in expr) ... #end, the cursor after "#foreach". */
static int directive_foreach(struct st *s)
{
	char name[128];
	json_t *coll = NULL, *items = NULL, *v;
	int outer = s->skip, term = 0, rc = -1;
	size_t body, i, n;

	if (expect(s, '(') != 0 || expect(s, '$') != 0)
		return -1;
	ident(s, name, sizeof(name));
	skip_ws(s);
	if (!name[0] || !at(s, "in")) {
		verr(s, "malformed #foreach (expected #foreach($x in ...))");
		return -1;
	}
	s->pos += 2;
	coll = expr(s);
	if (!coll || expect(s, ')') != 0)
		goto done;
	eat_newline(s);
	body = s->pos;
	if (json_is_array(coll)) {
		items = json_incref(coll);
	} else if (json_is_object(coll)) {
		const char *k;

		items = json_array();
		json_object_foreach(coll, k, v)
			json_array_append(items, v);
	} else if (json_is_null(coll) || s->skip) {
		items = json_array();
	} else {
		verr(s, "#foreach over a value that is not a list or map");
		goto done;
	}
	n = json_array_size(items);
	if (n == 0) {
		s->skip = 1;
		if (run(s, &term) != 0)
			goto done;
	}
	for (i = 0; i < n; i++) {
		if (++s->iterations > MAX_ITERATIONS) {
			verr(s, "#foreach ran more than %d iterations", MAX_ITERATIONS);
			goto done;
		}
		json_object_set(s->vars, name, json_array_get(items, i));
		json_object_set_new(s->vars, "foreach",
				    json_pack("{s:b,s:I,s:I,s:b}", "hasNext", i + 1 < n,
					      "index", (json_int_t)i, "count", (json_int_t)(i + 1),
					      "first", i == 0));
		json_object_set_new(s->vars, "velocityCount", json_integer((json_int_t)(i + 1)));
		s->pos = body;
		if (run(s, &term) != 0)
			goto done;
		if (term != 1)
			break;
	}
	if (term != 1) {
		verr(s, term == 0 ? "#foreach without #end" : "#else inside #foreach");
		goto done;
	}
	eat_newline(s);
	rc = 0;
done:
	s->skip = outer;
	json_decref(coll);
	json_decref(items);
	return rc;
}

/* A directive name at the cursor ('#' seen): "#name" or "#{name}". */
static int directive_name(struct st *s, char *name, size_t n)
{
	size_t save = s->pos;

	s->pos++;
	if (peek(s, 0) == '{') {
		s->pos++;
		ident(s, name, n);
		if (peek(s, 0) != '}') {
			s->pos = save;
			name[0] = '\0';
			return -1;
		}
		s->pos++;
		return 0;
	}
	if (!ident_start(peek(s, 0))) {
		s->pos = save;
		name[0] = '\0';
		return -1;
	}
	while (peek(s, 0) >= 0 && isalpha(peek(s, 0)) && strlen(name) + 1 < n) {
		size_t l = strlen(name);

		name[l] = s->src[s->pos++];
		name[l + 1] = '\0';
	}
	return 0;
}

static void emit(struct st *s, const char *p, size_t n)
{
	if (!s->skip && aws_buf_add(s->out, p, n) != 0)
		verr(s, "the output is too large");
}

/* Run text and directives until the end, or until #end (term 1), #else (2) or #elseif (3)
 * at this level. Returns 0 or -1 after an error. */
static int run(struct st *s, int *term)
{
	if (++s->depth > MAX_DEPTH) {
		verr(s, "directives nest too deeply");
		return -1;
	}
	*term = 0;
	while (s->pos < s->len && !s->failed) {
		size_t start = s->pos;
		char c = s->src[s->pos];

		if (c == '#' && peek(s, 1) == '#') {
			while (s->pos < s->len && s->src[s->pos] != '\n')
				s->pos++;
			if (s->pos < s->len)
				s->pos++;
			continue;
		}
		if (c == '#' && peek(s, 1) == '*') {
			const char *e = NULL;

			for (size_t p = s->pos + 2; p + 1 < s->len; p++)
				if (s->src[p] == '*' && s->src[p + 1] == '#') {
					e = s->src + p;
					break;
				}
			if (!e) {
				verr(s, "unterminated #* comment");
				break;
			}
			s->pos = (size_t)(e - s->src) + 2;
			continue;
		}
		if (c == '#') {
			char name[32] = "";

			if (directive_name(s, name, sizeof(name)) != 0) {
				emit(s, "#", 1);
				s->pos = start + 1;
				continue;
			}
			if (strcmp(name, "end") == 0) {
				*term = 1;
				break;
			}
			if (strcmp(name, "else") == 0) {
				*term = 2;
				break;
			}
			if (strcmp(name, "elseif") == 0) {
				*term = 3;
				break;
			}
			if (strcmp(name, "set") == 0) {
				directive_set(s);
			} else if (strcmp(name, "if") == 0) {
				directive_if(s);
			} else if (strcmp(name, "foreach") == 0) {
				directive_foreach(s);
			} else if (strcmp(name, "macro") == 0 || strcmp(name, "define") == 0 ||
				   strcmp(name, "include") == 0 || strcmp(name, "parse") == 0 ||
				   strcmp(name, "evaluate") == 0 || strcmp(name, "break") == 0 ||
				   strcmp(name, "stop") == 0) {
				s->pos = start;
				verr(s, "unsupported directive #%s", name);
			} else {
				/* not a directive Velocity knows: literal text */
				s->pos = start + 1;
				emit(s, "#", 1);
			}
			continue;
		}
		if (c == '$' && (ident_start(peek(s, 1)) || peek(s, 1) == '{' ||
				 (peek(s, 1) == '!' && (ident_start(peek(s, 2)) || peek(s, 2) == '{')))) {
			int quiet;
			json_t *v = reference(s, &quiet);

			if (!v)
				break;
			if (!s->skip && stringify(s->out, v) != 0)
				verr(s, "the output is too large");
			json_decref(v);
			continue;
		}
		while (s->pos < s->len && s->src[s->pos] != '#' && s->src[s->pos] != '$')
			s->pos++;
		if (s->pos == start)
			s->pos++;
		emit(s, s->src + start, s->pos - start);
	}
	s->depth--;
	return s->failed ? -1 : 0;
}

int sbx_vtl_render(const char *tmpl, const struct sbx_vtl_ctx *c, struct aws_buf *out,
		   char *err, size_t errlen)
{
	struct st s;
	int term = 0, rc = -1;

	memset(&s, 0, sizeof(s));
	s.src = tmpl ? tmpl : "";
	s.len = strlen(s.src);
	s.c = c;
	s.out = out;
	s.err = err;
	s.errlen = errlen;
	s.vars = json_object();
	if (err && errlen)
		err[0] = '\0';
	if (!s.vars) {
		verr(&s, "out of memory");
		goto done;
	}
	if (run(&s, &term) != 0)
		goto done;
	if (term != 0) {
		verr(&s, "#%s without #if or #foreach", term == 1 ? "end" : "else");
		goto done;
	}
	rc = 0;
done:
	json_decref(s.vars);
	json_decref(s.body_json);
	return rc;
}
