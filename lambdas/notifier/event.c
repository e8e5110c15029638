/* event.c: DynamoDB stream records, DynamoDB JSON -> plain JSON (numbers kept exact), SNS input. */
#include "event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lrt_stream_records(json_t *event, struct lrt_stream_record **recs, size_t *n, char *why,
		       size_t whylen)
{
	json_t *records = json_object_get(event, "Records"), *r;
	struct lrt_stream_record *out;
	size_t i;

	if (!json_is_array(records)) {
		snprintf(why, whylen, "the event has no Records array");
		return -1;
	}
	out = calloc(json_array_size(records) + 1, sizeof(*out));
	if (!out) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	json_array_foreach(records, i, r) {
		json_t *ddb = json_object_get(r, "dynamodb"), *v;

		out[i].event_name = json_string_value(json_object_get(r, "eventName"));
		v = json_object_get(ddb, "SequenceNumber");
		out[i].sequence_number = json_is_string(v) && json_string_length(v) ?
						 json_string_value(v) : NULL;
		v = json_object_get(ddb, "NewImage");
		out[i].new_image = json_is_object(v) ? v : NULL;
		v = json_object_get(ddb, "Keys");
		out[i].keys = json_is_object(v) ? v : NULL;
	}
	*recs = out;
	*n = json_array_size(records);
	return 0;
}

static int dump_cb(const char *buffer, size_t size, void *data)
{
	return aws_buf_add(data, buffer, size);
}

/* Append s as a JSON string literal. */
static int add_string(struct aws_buf *out, const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);
	int rc;

	if (!j)
		return -1;
	rc = json_dump_callback(j, dump_cb, out, JSON_ENCODE_ANY);
	json_decref(j);
	return rc;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Nonzero when s matches JSON's number grammar exactly. */
static int json_number_text(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (is_digit(*s))
		while (is_digit(*s))
			s++;
	else
		return 0;
	if (*s == '.') {
		s++;
		if (!is_digit(*s))
			return 0;
		while (is_digit(*s))
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!is_digit(*s))
			return 0;
		while (is_digit(*s))
			s++;
	}
	return *s == '\0';
}

/* A DynamoDB number: raw when it is a JSON number, else (".5", "+1") a string. */
static int add_number(struct aws_buf *out, json_t *v)
{
	if (!json_is_string(v) || json_string_length(v) == 0)
		return -1;
	if (json_number_text(json_string_value(v)))
		return aws_buf_add(out, json_string_value(v), json_string_length(v));
	return add_string(out, json_string_value(v), json_string_length(v));
}

static int newline(struct aws_buf *out, int indent, int depth)
{
	if (!indent)
		return 0;
	if (aws_buf_addc(out, '\n'))
		return -1;
	for (int i = 0; i < indent * depth; i++)
		if (aws_buf_addc(out, ' '))
			return -1;
	return 0;
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int add_value(json_t *av, int indent, int depth, struct aws_buf *out, char *why,
		     size_t whylen);

/* An attribute map (M, or the image itself) as an object with sorted keys. */
static int add_map(json_t *map, int indent, int depth, struct aws_buf *out, char *why,
		   size_t whylen)
{
	const char **keys = NULL;
	const char *k;
	json_t *v;
	size_t n = 0;
	int rc = -1;

	if (!json_is_object(map)) {
		snprintf(why, whylen, "an M value is not an object");
		return -1;
	}
	if (depth > LRT_DDB_MAX_DEPTH) {
		snprintf(why, whylen, "nested deeper than %d levels", LRT_DDB_MAX_DEPTH);
		return -1;
	}
	keys = calloc(json_object_size(map) + 1, sizeof(*keys));
	if (!keys)
		goto nomem;
	json_object_foreach(map, k, v)
		keys[n++] = k;
	qsort(keys, n, sizeof(*keys), cmp_keys);
	if (aws_buf_addc(out, '{'))
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		if ((i && aws_buf_addc(out, ',')) || newline(out, indent, depth + 1) ||
		    add_string(out, keys[i], strlen(keys[i])) ||
		    aws_buf_adds(out, indent ? ": " : ":"))
			goto nomem;
		if (add_value(json_object_get(map, keys[i]), indent, depth + 1, out, why, whylen))
			goto out;
	}
	if ((n && newline(out, indent, depth)) || aws_buf_addc(out, '}'))
		goto nomem;
	rc = 0;
	goto out;
nomem:
	snprintf(why, whylen, "out of memory");
out:
	free(keys);
	return rc;
}

/* The members of an L, SS, NS or BS array; kind selects how each is written. */
static int add_list(json_t *arr, char kind, int indent, int depth, struct aws_buf *out,
		    char *why, size_t whylen)
{
	json_t *v;
	size_t i;

	if (!json_is_array(arr)) {
		snprintf(why, whylen, "a list value is not an array");
		return -1;
	}
	if (depth > LRT_DDB_MAX_DEPTH) {
		snprintf(why, whylen, "nested deeper than %d levels", LRT_DDB_MAX_DEPTH);
		return -1;
	}
	if (aws_buf_addc(out, '['))
		goto nomem;
	json_array_foreach(arr, i, v) {
		if ((i && aws_buf_addc(out, ',')) || newline(out, indent, depth + 1))
			goto nomem;
		if (kind == 'L') {
			if (add_value(v, indent, depth + 1, out, why, whylen))
				return -1;
		} else if (kind == 'N') {
			if (add_number(out, v))
				goto bad;
		} else {
			if (!json_is_string(v))
				goto bad;
			if (add_string(out, json_string_value(v), json_string_length(v)))
				goto nomem;
		}
	}
	if ((json_array_size(arr) && newline(out, indent, depth)) || aws_buf_addc(out, ']'))
		goto nomem;
	return 0;
bad:
	snprintf(why, whylen, "a set member has the wrong type");
	return -1;
nomem:
	snprintf(why, whylen, "out of memory");
	return -1;
}

/* One attribute value: an object with exactly one type key. */
/* Make a reason that quotes the event's text one printable line: it goes to the log. */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static int add_value(json_t *av, int indent, int depth, struct aws_buf *out, char *why,
		     size_t whylen)
{
	const char *type;
	json_t *v;
	void *it;

	if (!json_is_object(av) || json_object_size(av) != 1) {
		snprintf(why, whylen, "an attribute value is not {\"TYPE\": value}");
		return -1;
	}
	it = json_object_iter(av);
	type = json_object_iter_key(it);
	v = json_object_iter_value(it);
	if (strcmp(type, "S") == 0 || strcmp(type, "B") == 0) {
		if (!json_is_string(v))
			goto bad;
		if (add_string(out, json_string_value(v), json_string_length(v)))
			goto nomem;
		return 0;
	}
	if (strcmp(type, "N") == 0) {
		if (!json_is_string(v))
			goto bad;
		if (add_number(out, v)) {
			snprintf(why, whylen, "an N value is empty");
			return -1;
		}
		return 0;
	}
	if (strcmp(type, "BOOL") == 0) {
		if (!json_is_boolean(v))
			goto bad;
		if (aws_buf_adds(out, json_is_true(v) ? "true" : "false"))
			goto nomem;
		return 0;
	}
	if (strcmp(type, "NULL") == 0) {
		if (aws_buf_adds(out, "null"))
			goto nomem;
		return 0;
	}
	if (strcmp(type, "M") == 0)
		return add_map(v, indent, depth, out, why, whylen);
	if (strcmp(type, "L") == 0)
		return add_list(v, 'L', indent, depth, out, why, whylen);
	if (strcmp(type, "SS") == 0 || strcmp(type, "BS") == 0)
		return add_list(v, 'S', indent, depth, out, why, whylen);
	if (strcmp(type, "NS") == 0)
		return add_list(v, 'N', indent, depth, out, why, whylen);
	snprintf(why, whylen, "unknown attribute type %.32s", type);
	one_line(why);
	return -1;
bad:
	snprintf(why, whylen, "a %.8s value has the wrong JSON type", type);
	one_line(why);
	return -1;
nomem:
	snprintf(why, whylen, "out of memory");
	return -1;
}

int lrt_ddb_image_json(json_t *image, int indent, struct aws_buf *out, char *why,
		       size_t whylen)
{
	return add_map(image, indent, 0, out, why, whylen);
}

/* The text of a string (S) or number (N) attribute of image, or NULL. */
static const char *scalar(json_t *image, const char *name)
{
	json_t *av = json_object_get(image, name);
	json_t *v = json_object_get(av, "S");

	if (!v)
		v = json_object_get(av, "N");
	return json_string_value(v);
}

/* Append s with control characters as spaces. */
static int add_clean(struct aws_buf *out, const char *s)
{
	for (; *s; s++)
		if (aws_buf_addc(out, (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s))
			return -1;
	return 0;
}

int lrt_order_summary(json_t *image, struct aws_buf *out)
{
	const char *id = scalar(image, "orderID"), *item = scalar(image, "item");
	const char *qty = scalar(image, "quantity"), *cust = scalar(image, "customerID");

	if (aws_buf_adds(out, "Order") || (id && (aws_buf_addc(out, ' ') || add_clean(out, id))) ||
	    aws_buf_adds(out, ":"))
		return -1;
	if (qty && (aws_buf_addc(out, ' ') || add_clean(out, qty) || aws_buf_adds(out, " x")))
		return -1;
	if (item && (aws_buf_addc(out, ' ') || add_clean(out, item)))
		return -1;
	if (!item && !qty && aws_buf_adds(out, " (no item)"))
		return -1;
	if (cust && (aws_buf_adds(out, " for ") || add_clean(out, cust)))
		return -1;
	return 0;
}

json_t *lrt_publish_input(const char *topic_arn, json_t *image, char *why, size_t whylen)
{
	struct aws_buf compact, email;
	json_t *msg = NULL, *in = NULL;
	char *text = NULL;

	if (whylen)
		why[0] = '\0';
	aws_buf_init(&compact, 0);
	aws_buf_init(&email, 0);
	if (lrt_ddb_image_json(image, 0, &compact, why, whylen))
		goto out;
	if (lrt_order_summary(image, &email) || aws_buf_adds(&email, "\n\n") ||
	    lrt_ddb_image_json(image, 2, &email, why, whylen) || aws_buf_addc(&email, '\n')) {
		if (!why[0])
			snprintf(why, whylen, "out of memory");
		goto out;
	}
	msg = json_pack("{s:s%, s:s%}", "default", aws_buf_str(&compact), compact.len, "email",
			aws_buf_str(&email), email.len);
	text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
	if (text)
		in = json_pack("{s:s, s:s, s:s, s:s}", "TopicArn", topic_arn, "Subject",
			       "New Order Notification", "MessageStructure", "json", "Message",
			       text);
	if (!in)
		snprintf(why, whylen, "out of memory");
out:
	free(text);
	json_decref(msg);
	aws_buf_cleanup(&compact);
	aws_buf_cleanup(&email);
	return in;
}
