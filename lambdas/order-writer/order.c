/* order.c: the order schema: parse, validate, and the DynamoDB item it becomes. */
#include "order.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

size_t lrt_utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

int lrt_rfc3339_ms(long long epoch_ms, char *out, size_t outlen)
{
	struct tm tm;
	time_t secs;
	long long ms = epoch_ms % 1000;
	int n;

	if (epoch_ms < 0 || outlen < 25)
		return -1;
	secs = (time_t)(epoch_ms / 1000);
	if (!gmtime_r(&secs, &tm) || tm.tm_year + 1900 > 9999)
		return -1;
	n = snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

void lrt_order_cleanup(struct lrt_order *o)
{
	free(o->order_id);
	free(o->item);
	free(o->customer_id);
	memset(o, 0, sizeof(*o));
}

/* Check an optional string member: absent is fine (*out NULL); otherwise a string of
 * min..max characters. Returns 0 (with *out a new copy or NULL) or -1 with why. */
static int opt_string(json_t *obj, const char *key, size_t min, size_t max, int required,
		      char **out, char *why, size_t whylen)
{
	json_t *v = json_object_get(obj, key);
	size_t chars;

	*out = NULL;
	if (!v) {
		if (required) {
			snprintf(why, whylen, "%s is required", key);
			return -1;
		}
		return 0;
	}
	if (!json_is_string(v)) {
		snprintf(why, whylen, "%s must be a string", key);
		return -1;
	}
	if (memchr(json_string_value(v), '\0', json_string_length(v) + 1) !=
	    json_string_value(v) + json_string_length(v)) {
		snprintf(why, whylen, "%s must not contain NUL", key);
		return -1;
	}
	chars = lrt_utf8_chars(json_string_value(v));
	if (chars < min || chars > max) {
		snprintf(why, whylen, "%s must be %zu to %zu characters (has %zu)", key, min, max,
			 chars);
		return -1;
	}
	if (chars == 0)
		return 0;
	*out = strdup(json_string_value(v));
	if (!*out) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	return 0;
}

/* The quantity member: absent = 1; an integer (or a real with no fraction) in range. */
static int get_quantity(json_t *obj, long *out, char *why, size_t whylen)
{
	json_t *v = json_object_get(obj, "quantity");
	double d;

	if (!v) {
		*out = 1;
		return 0;
	}
	if (json_is_integer(v)) {
		json_int_t q = json_integer_value(v);

		if (q < LRT_ORDER_QTY_MIN || q > LRT_ORDER_QTY_MAX)
			goto range;
		*out = (long)q;
		return 0;
	}
	if (json_is_real(v)) {
		d = json_real_value(v);
		if (d < LRT_ORDER_QTY_MIN - 1 || d > LRT_ORDER_QTY_MAX + 1)
			goto range; /* also keeps the cast below defined */
		if (d != (double)(long)d)
			goto integer;
		if (d < LRT_ORDER_QTY_MIN || d > LRT_ORDER_QTY_MAX)
			goto range;
		*out = (long)d;
		return 0;
	}
integer:
	snprintf(why, whylen, "quantity must be an integer");
	return -1;
range:
	snprintf(why, whylen, "quantity must be %d to %d", LRT_ORDER_QTY_MIN, LRT_ORDER_QTY_MAX);
	return -1;
}

int lrt_order_parse(const char *body, size_t len, struct lrt_order *out, char *why,
		    size_t whylen)
{
	struct lrt_order o = { 0 };
	json_error_t jerr;
	json_t *root = NULL;
	int rc = -1;

	if (len > LRT_ORDER_MAX_BODY) {
		snprintf(why, whylen, "body is %zu bytes, over the %zu-byte limit", len,
			 LRT_ORDER_MAX_BODY);
		goto out;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		/* jansson quotes the body near the error: its newlines and other control
		 * characters would break (or forge) the log line the reason goes to */
		for (char *c = jerr.text; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = ' ';
		snprintf(why, whylen, "body is not JSON: %s (line %d, column %d)", jerr.text,
			 jerr.line, jerr.column);
		goto out;
	}
	if (!json_is_object(root)) {
		snprintf(why, whylen, "body must be a JSON object");
		goto out;
	}
	if (opt_string(root, "item", 1, LRT_ORDER_ITEM_MAX, 1, &o.item, why, whylen) ||
	    get_quantity(root, &o.quantity, why, whylen) ||
	    opt_string(root, "orderID", 1, LRT_ORDER_ID_MAX, 0, &o.order_id, why, whylen) ||
	    opt_string(root, "customerID", 0, LRT_ORDER_ID_MAX, 0, &o.customer_id, why, whylen))
		goto out;
	*out = o;
	memset(&o, 0, sizeof(o));
	rc = 0;
out:
	lrt_order_cleanup(&o);
	json_decref(root);
	return rc;
}

/* {"S": s} (s copied), or NULL. */
static json_t *attr_s(const char *s, size_t len)
{
	return json_pack("{s:s%}", "S", s, len);
}

json_t *lrt_order_item(const struct lrt_order *o, const char *body, size_t len,
		       const char *message_id, long long received_ms)
{
	char when[40], qty[24];
	json_t *item;
	const char *id = o->order_id ? o->order_id : message_id;

	if (!id || !o->item || lrt_rfc3339_ms(received_ms, when, sizeof(when)))
		return NULL;
	snprintf(qty, sizeof(qty), "%ld", o->quantity);
	item = json_pack("{s:o, s:o, s:{s:s}, s:o, s:o, s:o}", "orderID",
			 attr_s(id, strlen(id)), "item", attr_s(o->item, strlen(o->item)),
			 "quantity", "N", qty, "order", attr_s(body, len), "receivedAt",
			 attr_s(when, strlen(when)), "messageId",
			 attr_s(message_id ? message_id : "", message_id ? strlen(message_id) : 0));
	if (item && o->customer_id &&
	    json_object_set_new(item, "customerID",
				attr_s(o->customer_id, strlen(o->customer_id)))) {
		json_decref(item);
		return NULL;
	}
	return item;
}

int lrt_sqs_records(json_t *event, struct lrt_sqs_record **recs, size_t *n, char *why,
		    size_t whylen)
{
	json_t *records = json_object_get(event, "Records"), *r;
	struct lrt_sqs_record *out;
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
		json_t *id = json_object_get(r, "messageId"), *body = json_object_get(r, "body");
		const char *sent = json_string_value(
			json_object_get(json_object_get(r, "attributes"), "SentTimestamp"));
		char *end = NULL;
		long long ms;

		out[i].message_id = json_is_string(id) && json_string_length(id) ?
					    json_string_value(id) : NULL;
		if (json_is_string(body)) {
			out[i].body = json_string_value(body);
			out[i].body_len = json_string_length(body);
		}
		if (sent && *sent) {
			ms = strtoll(sent, &end, 10);
			if (*end == '\0' && ms > 0 && ms < 253402300800000LL)
				out[i].sent_ms = ms;
		}
	}
	*recs = out;
	*n = json_array_size(records);
	return 0;
}
