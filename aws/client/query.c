/* query.c: the query-protocol form body (Action=..&Version=..&Name.member.1=..) from JSON. */
#include "protocol.h"
#include "sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deepest input nesting we serialise. */
#define QUERY_MAX_DEPTH 32

/* Cut the key prefix back to len bytes. */
static void prefix_cut(struct aws_buf *prefix, size_t len)
{
	prefix->len = len;
	if (prefix->data)
		prefix->data[len] = '\0';
}

/* Append "&key=value", both form-encoded. Returns 0 or -1 (ENOMEM; out freed). */
static int emit(struct aws_buf *out, const struct aws_buf *key, const char *val, size_t vlen)
{
	if (aws_buf_addc(out, '&') < 0 ||
	    aws_sigv4_uri_encode(out, aws_buf_str(key), key->len, 0) < 0 ||
	    aws_buf_addc(out, '=') < 0 || aws_sigv4_uri_encode(out, val, vlen, 0) < 0)
		return -1;
	return 0;
}

/* A number as text the way botocore prints it: integers plainly, reals shortest. */
static void number_text(const json_t *v, char *out, size_t n)
{
	if (json_is_integer(v)) {
		snprintf(out, n, "%lld", (long long)json_integer_value(v));
		return;
	}
	snprintf(out, n, "%.15g", json_real_value(v));
	if (strtod(out, NULL) != json_real_value(v))
		snprintf(out, n, "%.17g", json_real_value(v));
}

static int serialize(struct aws_buf *out, struct aws_buf *prefix, json_t *v,
		     const struct aws_shape_hint *h, const char *hints, int depth,
		     struct aws_error *err);

/* Name.member.N (or Name.N for flattened lists); an empty list is "Name=". */
static int serialize_list(struct aws_buf *out, struct aws_buf *prefix, json_t *v, int flat,
			  const char *hints, int depth, struct aws_error *err)
{
	struct aws_shape_hint none = { .kind = AWS_SHAPE_NONE };
	size_t base = prefix->len;
	size_t i;
	json_t *item;

	if (json_array_size(v) == 0)
		return emit(out, prefix, "", 0) < 0 ? aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory") : 0;
	json_array_foreach(v, i, item) {
		if (aws_buf_printf(prefix, flat ? ".%zu" : ".member.%zu", i + 1) < 0)
			return aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
		if (serialize(out, prefix, item, &none, hints, depth + 1, err) < 0)
			return -1;
		prefix_cut(prefix, base);
	}
	return 0;
}

/* Name.entry.N.K=key and Name.entry.N.V(...)=value. */
static int serialize_map(struct aws_buf *out, struct aws_buf *prefix, json_t *v,
			 const struct aws_shape_hint *h, const char *hints, int depth,
			 struct aws_error *err)
{
	struct aws_shape_hint none = { .kind = AWS_SHAPE_NONE };
	size_t base = prefix->len;
	size_t i = 0;
	const char *key;
	json_t *val;

	json_object_foreach(v, key, val) {
		size_t entry;

		i++;
		if (aws_buf_printf(prefix, ".entry.%zu.", i) < 0)
			goto nomem;
		entry = prefix->len;
		if (aws_buf_adds(prefix, h->key) < 0 || emit(out, prefix, key, strlen(key)) < 0)
			goto nomem;
		prefix_cut(prefix, entry);
		if (aws_buf_adds(prefix, h->value) < 0)
			goto nomem;
		if (serialize(out, prefix, val, &none, hints, depth + 1, err) < 0)
			return -1;
		prefix_cut(prefix, base);
	}
	return 0;
nomem:
	return aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
}

/* Name.Sub=... for each member of a structure (prefix empty at the top level). */
static int serialize_struct(struct aws_buf *out, struct aws_buf *prefix, json_t *v,
			    const char *hints, int depth, struct aws_error *err)
{
	size_t base = prefix->len;
	const char *key;
	json_t *val;

	json_object_foreach(v, key, val) {
		struct aws_shape_hint h;

		if ((base && aws_buf_addc(prefix, '.') < 0) || aws_buf_adds(prefix, key) < 0)
			return aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
		aws_shape_hint(hints, key, strlen(key), &h);
		if (serialize(out, prefix, val, &h, hints, depth + 1, err) < 0)
			return -1;
		prefix_cut(prefix, base);
	}
	return 0;
}

/* Serialise v under the key in prefix. Returns 0 or -1 with err. */
static int serialize(struct aws_buf *out, struct aws_buf *prefix, json_t *v,
		     const struct aws_shape_hint *h, const char *hints, int depth,
		     struct aws_error *err)
{
	char num[64];
	int rc = 0;

	if (depth > QUERY_MAX_DEPTH)
		return aws_error_set(err, 0, AWS_ERR_PARAM, "input nested too deeply at %s",
				     aws_buf_str(prefix));
	switch (json_typeof(v)) {
	case JSON_NULL:
		return 0; /* botocore skips None */
	case JSON_STRING:
		rc = emit(out, prefix, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
	case JSON_REAL:
		number_text(v, num, sizeof(num));
		rc = emit(out, prefix, num, strlen(num));
		break;
	case JSON_TRUE:
		rc = emit(out, prefix, "true", 4);
		break;
	case JSON_FALSE:
		rc = emit(out, prefix, "false", 5);
		break;
	case JSON_ARRAY:
		return serialize_list(out, prefix, v, h->kind == AWS_SHAPE_FLATLIST, hints, depth, err);
	case JSON_OBJECT:
		if (h->kind == AWS_SHAPE_JSONDOC) {
			char *text = json_dumps(v, JSON_COMPACT);

			rc = text ? emit(out, prefix, text, strlen(text)) : -1;
			free(text);
			break;
		}
		if (h->kind == AWS_SHAPE_MAP)
			return serialize_map(out, prefix, v, h, hints, depth, err);
		return serialize_struct(out, prefix, v, hints, depth, err);
	}
	return rc < 0 ? aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory") : 0;
}

int aws_query_serialize(const struct aws_service *svc, const struct aws_op *op, json_t *input,
			struct aws_buf *out, struct aws_error *err)
{
	struct aws_buf prefix;
	int rc = -1;

	aws_buf_init(&prefix, 0);
	if (input && !json_is_object(input)) {
		aws_error_set(err, 0, AWS_ERR_PARAM, "%s input must be a JSON object", op->name);
		goto done;
	}
	if (aws_buf_adds(out, "Action=") < 0 ||
	    aws_sigv4_uri_encode(out, op->name, strlen(op->name), 0) < 0 ||
	    aws_buf_adds(out, "&Version=") < 0 ||
	    aws_sigv4_uri_encode(out, svc->api_version ? svc->api_version : "",
				 svc->api_version ? strlen(svc->api_version) : 0, 0) < 0) {
		aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
		goto done;
	}
	if (input && serialize_struct(out, &prefix, input, op->shapes, 0, err) < 0)
		goto done;
	rc = 0;
done:
	aws_buf_cleanup(&prefix);
	return rc;
}
