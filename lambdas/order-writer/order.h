/* order.h: parse and validate an order body, and build its DynamoDB item (pure functions). */
#ifndef CLEANOPS_LRT_ORDER_H
#define CLEANOPS_LRT_ORDER_H

#include <jansson.h>
#include <stddef.h>

/* Limits of the order schema (ARCHITECTURE.md, "The order"). */
#define LRT_ORDER_MAX_BODY ((size_t)256 * 1024) /* SQS's own message size cap */
#define LRT_ORDER_ITEM_MAX 256                  /* characters (code points), not bytes */
#define LRT_ORDER_ID_MAX 256                    /* orderID and customerID, characters */
#define LRT_ORDER_QTY_MIN 1
#define LRT_ORDER_QTY_MAX 10000

/* A valid order. Strings are owned; lrt_order_cleanup() frees them. */
struct lrt_order {
	char *order_id;    /* NULL when the body has none */
	char *item;        /* 1..256 characters */
	long quantity;     /* 1..10000 (1 when absent) */
	char *customer_id; /* NULL when absent or empty */
};

/* Parse body (len bytes, need not be NUL-terminated) as an order and validate it.
 * Returns 0 and fills *out; or -1 with a one-line reason in why (never longer than whylen).
 * Rejected: not a JSON object, duplicate keys, invalid UTF-8, over LRT_ORDER_MAX_BODY,
 * missing or mistyped fields, out-of-range values. Other fields are ignored. */
int lrt_order_parse(const char *body, size_t len, struct lrt_order *out, char *why,
		    size_t whylen);
/* Free the order's strings; the struct may be parsed into again. */
void lrt_order_cleanup(struct lrt_order *o);

/* Number of UTF-8 characters in s (s must be valid UTF-8, as jansson strings are). */
size_t lrt_utf8_chars(const char *s);

/* Format epoch milliseconds as RFC 3339 UTC with milliseconds ("2024-05-01T12:00:00.042Z")
 * into out (at least 25 bytes). Returns 0, or -1 when the time cannot be represented. */
int lrt_rfc3339_ms(long long epoch_ms, char *out, size_t outlen);

/* The DynamoDB item (attribute-value JSON) for a valid order: orderID (the order's, else
 * message_id), item, quantity N, customerID when given, order = body as received,
 * receivedAt = received_ms as RFC 3339, messageId. Returns a new reference, or NULL. */
json_t *lrt_order_item(const struct lrt_order *o, const char *body, size_t len,
		       const char *message_id, long long received_ms);

/* One record of an SQS event, borrowed from the event's JSON (valid while it lives). */
struct lrt_sqs_record {
	const char *message_id; /* NULL when the record has none (or not a string) */
	const char *body;       /* NULL when the record has none (or not a string) */
	size_t body_len;
	long long sent_ms;      /* attributes.SentTimestamp, 0 when absent or malformed */
};

/* The records of an SQS event ({"Records":[...]}). Returns 0 with *recs (caller frees the
 * array with free(), not the strings) and *n, or -1 with why when the event is not one. */
int lrt_sqs_records(json_t *event, struct lrt_sqs_record **recs, size_t *n, char *why,
		    size_t whylen);

#endif
