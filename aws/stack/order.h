/* order.h: submit orders through the API's invoke URL and follow them to DynamoDB and SNS. */
#ifndef CLEANOPS_STACK_ORDER_H
#define CLEANOPS_STACK_ORDER_H

#include <jansson.h>
#include <stddef.h>

#include "aws/client/aws.h"

/* What to send. Strings are borrowed for the duration of stack_order_run(). */
struct stack_order_opts {
	const char *url;      /* the invoke URL (stack_api_url) */
	const char *stack;    /* stack name (NULL: the default), for the table and queue names */
	long count;           /* orders to send, >= 1 */
	double rate;          /* orders per second (token bucket); <= 0: as fast as possible */
	int concurrency;      /* worker threads, each with kept-alive connections; >= 1 */
	const char *item;     /* the body's item (NULL: "widget") */
	long quantity;        /* the body's quantity (<= 0: 1) */
	const char *customer; /* the body's customerID (NULL: none) */
	const char *body;     /* raw body, sent as is (item/quantity/customer unused); NULL: built */
	int wait_s;           /* > 0: follow accepted orders to DynamoDB and SNS for up to this
			       * many seconds after the last submission; 0: do not follow */
};

/* What happened. Plain data. */
struct stack_order_result {
	long submitted, accepted, rejected, failed; /* rejected = 4xx; failed = 5xx or no answer */
	long stored, notified;  /* with wait_s only: found by GetItem / delivered through SNS */
	double elapsed_s;       /* wall time of the submission phase (first POST to last answer) */
	long latencies;         /* number of latency samples (orders notified) */
	double p50, p95, p99, max; /* ms from POST to the delivery's receipt; 0 without samples */
	char reject_msg[512];   /* the first rejection: the API's message ("" when none) */
	char fail_msg[512];     /* the first failure: status or network error ("" when none) */
	char wait_msg[1024];     /* why following stopped early ("" when it did not) */
};

/* Send the orders and, with wait_s, follow them. Returns 0 with r filled (also when orders
 * were rejected or failed: read r), or -1 with err filled when nothing could be done (no
 * deliveries queue to follow, out of memory). Blocks; costs one POST per order, and with
 * wait_s one GetItem per order not yet delivered per round (backoff 0.2 s to 2 s) plus a
 * long-poll ReceiveMessage loop on the deliveries queue (which it drains: deliveries of the
 * orders it follows are deleted, as are ones older than a minute). */
int stack_order_run(struct aws_client *c, const struct stack_order_opts *o,
		    struct stack_order_result *r, struct aws_error *err);

/* The result as ARCHITECTURE.md's `order --json` document (new reference): stored,
 * notified and latency_ms only when waited is nonzero; latencies null without samples. */
json_t *stack_order_result_json(const struct stack_order_result *r, int waited);

/* How an answer counts. */
enum stack_order_outcome {
	STACK_ORDER_ACCEPTED,
	STACK_ORDER_REJECTED,
	STACK_ORDER_FAILED,
};

/* Pure: classify an answer: no answer (answered 0) or 5xx failed, 4xx rejected, 2xx accepted
 * (anything else, e.g. 3xx: failed). */
enum stack_order_outcome stack_order_classify(int answered, int status);

/* Pure: the nearest-rank percentile p (0-100] of sorted[0..n-1] (ascending); 0 when n is 0. */
double stack_percentile(const double *sorted, size_t n, double p);

/* A token bucket: rate tokens a second, at most burst saved up. Plain data; the clock is
 * passed in (seconds, any monotonic origin) so tests pin it. */
struct stack_bucket {
	double rate, burst, tokens, last;
};
/* Start full (burst tokens) at time now. */
void stack_bucket_init(struct stack_bucket *b, double rate, double burst, double now);
/* Reserve one token at time now; returns how many seconds the caller must wait before using
 * it (0 when one was available). Reservations queue up: tokens go negative. */
double stack_bucket_reserve(struct stack_bucket *b, double now);

/* Pure: format 16 random bytes as a version 4 UUID (36 chars + NUL) into out. */
void stack_uuid4(const unsigned char rnd[16], char out[37]);

/* Pure: the orderID of a delivery body (the NewImage JSON: {"orderID":{"S":..}} or a plain
 * {"orderID":"..."}). Returns 0 with out filled, or -1. */
int stack_delivery_order_id(const char *body, char *out, size_t n);

#endif
