/* jsonschema.c: a pure JSON Schema draft-4 validator for API Gateway request models. */
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonschema.h"

#define MAX_DEPTH 64
/* The most regex nodes a pattern may cost (see pattern_cost), and its deepest group. */
#define MAX_PATTERN_COST 20000.0
#define MAX_PATTERN_GROUPS 32

/* Outcome codes: 0 valid, 1 invalid, -1 unusable schema. */
static int check(json_t *schema, json_t *inst, int depth, char *err, size_t n);

static int fail(char *err, size_t n, int rc, const char *what, const char *detail)
{
	if (err && n)
		snprintf(err, n, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
	return rc;
}

/* Unicode code points of a UTF-8 string (jansson strings are valid UTF-8). */
static size_t utf8_len(const char *s, size_t bytes)
{
	size_t n = 0;

	for (size_t i = 0; i < bytes; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

static int is_integer(json_t *v)
{
	double d;

	if (json_is_integer(v))
		return 1;
	if (!json_is_real(v))
		return 0;
	d = json_real_value(v);
	return isfinite(d) && d > -9e18 && d < 9e18 && (double)(long long)d == d;
}

static int type_matches(const char *type, json_t *v)
{
	if (strcmp(type, "object") == 0)
		return json_is_object(v);
	if (strcmp(type, "array") == 0)
		return json_is_array(v);
	if (strcmp(type, "string") == 0)
		return json_is_string(v);
	if (strcmp(type, "number") == 0)
		return json_is_number(v);
	if (strcmp(type, "integer") == 0)
		return is_integer(v);
	if (strcmp(type, "boolean") == 0)
		return json_is_boolean(v);
	if (strcmp(type, "null") == 0)
		return json_is_null(v);
	return -1;
}

static int check_type(json_t *type, json_t *inst, char *err, size_t n)
{
	if (json_is_string(type)) {
		int m = type_matches(json_string_value(type), inst);

		if (m < 0)
			return fail(err, n, -1, "unknown type", json_string_value(type));
		return m ? 0 : fail(err, n, 1, "instance is not of type", json_string_value(type));
	}
	if (json_is_array(type)) {
		size_t i;
		json_t *t;

		json_array_foreach(type, i, t) {
			int m = json_is_string(t) ? type_matches(json_string_value(t), inst) : -1;

			if (m < 0)
				return fail(err, n, -1, "malformed type", NULL);
			if (m)
				return 0;
		}
		return fail(err, n, 1, "instance matches none of the types", NULL);
	}
	return fail(err, n, -1, "malformed type", NULL);
}

/* Draft-4 equality: numbers compare by value (1 == 1.0). */
static int equal(json_t *a, json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	return json_equal(a, b);
}

static int check_number(json_t *schema, json_t *inst, char *err, size_t n)
{
	double v = json_number_value(inst);
	json_t *k;

	k = json_object_get(schema, "minimum");
	if (k) {
		int excl = json_is_true(json_object_get(schema, "exclusiveMinimum"));

		if (!json_is_number(k))
			return fail(err, n, -1, "malformed minimum", NULL);
		if (excl ? v <= json_number_value(k) : v < json_number_value(k))
			return fail(err, n, 1, "number is below the minimum", NULL);
	}
	k = json_object_get(schema, "maximum");
	if (k) {
		int excl = json_is_true(json_object_get(schema, "exclusiveMaximum"));

		if (!json_is_number(k))
			return fail(err, n, -1, "malformed maximum", NULL);
		if (excl ? v >= json_number_value(k) : v > json_number_value(k))
			return fail(err, n, 1, "number is above the maximum", NULL);
	}
	k = json_object_get(schema, "multipleOf");
	if (k) {
		double m = json_number_value(k), q;

		if (!json_is_number(k) || m <= 0)
			return fail(err, n, -1, "malformed multipleOf", NULL);
		q = v / m;
		if (!(q > -9e18 && q < 9e18) || q - (double)(long long)(q + (q < 0 ? -0.5 : 0.5)) > 1e-9 ||
		    q - (double)(long long)(q + (q < 0 ? -0.5 : 0.5)) < -1e-9)
			return fail(err, n, 1, "number is not a multiple of multipleOf", NULL);
	}
	return 0;
}

/* The size of the tree glibc's regcomp builds for an ERE, roughly, or more than
 * MAX_PATTERN_COST when it is too big or nests groups too deeply. regcomp copies an atom
 * for each '+' and up to n times for {m,n}: stacked or nested repetitions multiply, and a
 * pattern of forty characters ("x++++...") can take gigabytes. */
static double pattern_cost(const char *p)
{
	double sum[MAX_PATTERN_GROUPS + 1], last[MAX_PATTERN_GROUPS + 1];
	int d = 0;

	sum[0] = last[0] = 0;
	for (; *p; p++) {
		if (sum[d] + last[d] > MAX_PATTERN_COST)
			return MAX_PATTERN_COST + 1;
		switch (*p) {
		case '(':
			if (++d > MAX_PATTERN_GROUPS)
				return MAX_PATTERN_COST + 1;
			sum[d] = last[d] = 0;
			break;
		case ')':
			if (d == 0) { /* a literal ')' in an ERE */
				sum[d] += last[d];
				last[d] = 1;
				break;
			}
			d--;
			sum[d] += last[d];
			last[d] = sum[d + 1] + last[d + 1] + 1;
			break;
		case '|':
			sum[d] += last[d] + 1;
			last[d] = 0;
			break;
		case '*':
		case '?':
			last[d] += 1;
			break;
		case '+':
			last[d] = last[d] * 2 + 1;
			break;
		case '{': { /* {m}, {m,}, {m,n} or {,n}; anything else is a literal '{' */
			char *q = (char *)p + 1;
			long lo = 0, hi;

			if (*q >= '0' && *q <= '9')
				lo = strtol(q, &q, 10);
			hi = lo;
			if (*q == ',' && q[1] == '}') {
				hi = lo + 1;
				q++;
			} else if (*q == ',' && q[1] >= '0' && q[1] <= '9') {
				hi = strtol(q + 1, &q, 10);
			}
			if (*q != '}' || q == p + 1) {
				sum[d] += last[d];
				last[d] = 1;
				break;
			}
			last[d] = last[d] * (double)(hi > 1 ? hi : 1) + 1;
			p = q;
			break;
		}
		case '[': /* a bracket expression is one node: skip to its ']' */
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			while (*p && *p != ']') {
				if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
					const char *close = strchr(p + 2, p[1]);

					p = close && close[1] == ']' ? close + 1 : p;
				}
				p++;
			}
			if (!*p)
				return MAX_PATTERN_COST + 1; /* unterminated: regcomp refuses it too */
			sum[d] += last[d];
			last[d] = 1;
			break;
		case '\\':
			if (p[1])
				p++;
			/* fall through */
		default:
			sum[d] += last[d];
			last[d] = 1;
		}
	}
	return sum[d] + last[d];
}

/* pattern: POSIX extended regex, searched anywhere in the string (JSON Schema's
 * semantics). Returns 0 match, 1 no match, -1 bad pattern. */
static int search(const char *pattern, const char *s, char *err, size_t n)
{
	regex_t re;
	int rc;

	if (pattern_cost(pattern) > MAX_PATTERN_COST)
		return fail(err, n, -1, "pattern is too complex (stacked or nested repetitions)",
			    pattern);
	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
		return fail(err, n, -1, "pattern is not a POSIX extended regex", pattern);
	rc = regexec(&re, s, 0, NULL, 0);
	regfree(&re);
	return rc == 0 ? 0 : 1;
}

static int check_string(json_t *schema, json_t *inst, char *err, size_t n)
{
	size_t len = utf8_len(json_string_value(inst), json_string_length(inst));
	json_t *k;

	k = json_object_get(schema, "minLength");
	if (k) {
		if (!json_is_integer(k))
			return fail(err, n, -1, "malformed minLength", NULL);
		if ((json_int_t)len < json_integer_value(k))
			return fail(err, n, 1, "string is shorter than minLength", NULL);
	}
	k = json_object_get(schema, "maxLength");
	if (k) {
		if (!json_is_integer(k))
			return fail(err, n, -1, "malformed maxLength", NULL);
		if ((json_int_t)len > json_integer_value(k))
			return fail(err, n, 1, "string is longer than maxLength", NULL);
	}
	k = json_object_get(schema, "pattern");
	if (k) {
		int rc;

		if (!json_is_string(k))
			return fail(err, n, -1, "malformed pattern", NULL);
		rc = search(json_string_value(k), json_string_value(inst), err, n);
		if (rc != 0)
			return rc < 0 ? rc : fail(err, n, 1, "string does not match pattern",
						  json_string_value(k));
	}
	return 0;
}

static int check_array(json_t *schema, json_t *inst, int depth, char *err, size_t n)
{
	size_t size = json_array_size(inst), i, j;
	json_t *items = json_object_get(schema, "items");
	json_t *k, *v;
	int rc;

	k = json_object_get(schema, "minItems");
	if (k && (json_int_t)size < json_integer_value(k))
		return fail(err, n, 1, "array has fewer than minItems", NULL);
	k = json_object_get(schema, "maxItems");
	if (k && (json_int_t)size > json_integer_value(k))
		return fail(err, n, 1, "array has more than maxItems", NULL);
	if (json_is_true(json_object_get(schema, "uniqueItems")))
		for (i = 0; i < size; i++)
			for (j = i + 1; j < size; j++)
				if (equal(json_array_get(inst, i), json_array_get(inst, j)))
					return fail(err, n, 1, "array items are not unique", NULL);
	if (json_is_object(items)) {
		json_array_foreach(inst, i, v) {
			rc = check(items, v, depth + 1, err, n);
			if (rc)
				return rc;
		}
	} else if (json_is_array(items)) {
		json_t *extra = json_object_get(schema, "additionalItems");

		json_array_foreach(inst, i, v) {
			if (i < json_array_size(items))
				rc = check(json_array_get(items, i), v, depth + 1, err, n);
			else if (json_is_false(extra))
				rc = fail(err, n, 1, "array has additional items", NULL);
			else if (json_is_object(extra))
				rc = check(extra, v, depth + 1, err, n);
			else
				rc = 0;
			if (rc)
				return rc;
		}
	} else if (items) {
		return fail(err, n, -1, "malformed items", NULL);
	}
	return 0;
}

static int check_object(json_t *schema, json_t *inst, int depth, char *err, size_t n)
{
	json_t *props = json_object_get(schema, "properties");
	json_t *pprops = json_object_get(schema, "patternProperties");
	json_t *extra = json_object_get(schema, "additionalProperties");
	json_t *req = json_object_get(schema, "required");
	json_t *k, *v;
	const char *key;
	size_t i;
	int rc;

	if (req) {
		if (!json_is_array(req))
			return fail(err, n, -1, "malformed required", NULL);
		json_array_foreach(req, i, k) {
			if (!json_is_string(k))
				return fail(err, n, -1, "malformed required", NULL);
			if (!json_object_get(inst, json_string_value(k)))
				return fail(err, n, 1, "object has missing required property",
					    json_string_value(k));
		}
	}
	k = json_object_get(schema, "minProperties");
	if (k && (json_int_t)json_object_size(inst) < json_integer_value(k))
		return fail(err, n, 1, "object has fewer than minProperties", NULL);
	k = json_object_get(schema, "maxProperties");
	if (k && (json_int_t)json_object_size(inst) > json_integer_value(k))
		return fail(err, n, 1, "object has more than maxProperties", NULL);
	if ((props && !json_is_object(props)) || (pprops && !json_is_object(pprops)) ||
	    (extra && !json_is_object(extra) && !json_is_boolean(extra)))
		return fail(err, n, -1, "malformed properties", NULL);
	json_object_foreach(inst, key, v) {
		json_t *ps = json_object_get(props, key);
		int matched = ps != NULL;
		const char *pat;
		json_t *sub;

		if (ps) {
			rc = check(ps, v, depth + 1, err, n);
			if (rc)
				return rc;
		}
		json_object_foreach(pprops, pat, sub) {
			rc = search(pat, key, err, n);
			if (rc < 0)
				return rc;
			if (rc == 0) {
				matched = 1;
				rc = check(sub, v, depth + 1, err, n);
				if (rc)
					return rc;
			}
		}
		if (matched)
			continue;
		if (json_is_false(extra))
			return fail(err, n, 1, "object instance has a property not allowed", key);
		if (json_is_object(extra)) {
			rc = check(extra, v, depth + 1, err, n);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* allOf, anyOf, oneOf, not. */
static int check_combinators(json_t *schema, json_t *inst, int depth, char *err, size_t n)
{
	json_t *k, *sub;
	size_t i;
	int rc, hits;

	k = json_object_get(schema, "allOf");
	json_array_foreach(k, i, sub) {
		rc = check(sub, inst, depth + 1, err, n);
		if (rc)
			return rc;
	}
	k = json_object_get(schema, "anyOf");
	if (k) {
		hits = 0;
		json_array_foreach(k, i, sub) {
			rc = check(sub, inst, depth + 1, err, n);
			if (rc < 0)
				return rc;
			hits += rc == 0;
		}
		if (!hits)
			return fail(err, n, 1, "instance matches none of anyOf", NULL);
	}
	k = json_object_get(schema, "oneOf");
	if (k) {
		hits = 0;
		json_array_foreach(k, i, sub) {
			rc = check(sub, inst, depth + 1, err, n);
			if (rc < 0)
				return rc;
			hits += rc == 0;
		}
		if (hits != 1)
			return fail(err, n, 1, "instance does not match exactly one of oneOf", NULL);
	}
	k = json_object_get(schema, "not");
	if (k) {
		rc = check(k, inst, depth + 1, err, n);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return fail(err, n, 1, "instance matches a schema under not", NULL);
	}
	return 0;
}

static int check(json_t *schema, json_t *inst, int depth, char *err, size_t n)
{
	json_t *k;
	int rc;

	if (depth > MAX_DEPTH)
		return fail(err, n, -1, "schema nests too deeply", NULL);
	if (!json_is_object(schema))
		return fail(err, n, -1, "a schema must be an object", NULL);
	if (json_object_get(schema, "$ref"))
		return fail(err, n, -1, "$ref is not supported by the sandbox",
			    json_string_value(json_object_get(schema, "$ref")));
	k = json_object_get(schema, "type");
	if (k) {
		rc = check_type(k, inst, err, n);
		if (rc)
			return rc;
	}
	k = json_object_get(schema, "enum");
	if (k) {
		size_t i;
		json_t *e;
		int found = 0;

		if (!json_is_array(k))
			return fail(err, n, -1, "malformed enum", NULL);
		json_array_foreach(k, i, e)
			found |= equal(e, inst);
		if (!found)
			return fail(err, n, 1, "instance is not one of the enum values", NULL);
	}
	if (json_is_number(inst))
		rc = check_number(schema, inst, err, n);
	else if (json_is_string(inst))
		rc = check_string(schema, inst, err, n);
	else if (json_is_array(inst))
		rc = check_array(schema, inst, depth, err, n);
	else if (json_is_object(inst))
		rc = check_object(schema, inst, depth, err, n);
	else
		rc = 0;
	if (rc)
		return rc;
	return check_combinators(schema, inst, depth, err, n);
}

int sbx_jsonschema_validate(json_t *schema, json_t *instance, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	return check(schema, instance, 0, err, errlen);
}
