/* order.h: submit orders through the API's invoke URL and follow them to DynamoDB and SNS. */
#ifndef CLEANOPS_STACK_ORDER_H
#define CLEANOPS_STACK_ORDER_H

#include <jansson.h>
#include <stddef.h>

#include "aws/client/aws.h"

/* The run's counts so far, handed to the progress callback. Plain data. */
struct stack_order_progress {
	long count;                       /* orders in the run (opts.count) */
	long answered;                    /* orders sent and done with: accepted + rejected + failed */
	long accepted, rejected, failed;  /* as in struct stack_order_result */
	long notified;                    /* with wait_s: orders of this run delivered so far */
};

/* A delivery the run took off the deliveries queue (with wait_s): the run deletes it, so
 * nobody else will see it. Strings are borrowed for the duration of the call. */
struct stack_order_delivery {
	const char *message_id; /* the SQS MessageId ("" when absent) */
	const char *order_id;   /* the delivery's orderID ("" when it has none) */
	const char *body;       /* the message body: the NewImage as JSON ("" when absent) */
	int ours;               /* 1: an order of this run; 0: a stale one (older than a minute) */
	int first;              /* 1: the first delivery of that order this run saw */
	double latency_ms;      /* ours and first: POST to receipt; else 0 */
};

/* Observers of a run. They are called from the run's threads (the workers for answers, the
 * delivery drain for deliveries), never from the caller's, with the run's internal lock
 * held: calls are serialised (one at a time across both callbacks) and the counts never go
 * backwards from one call to the next. They must return quickly and must not block on the
 * network (every worker waits meanwhile). p and dl are borrowed for the call. */
typedef void (*stack_order_progress_fn)(const struct stack_order_progress *p, void *ctx);
typedef void (*stack_order_delivery_fn)(const struct stack_order_delivery *dl, void *ctx);

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
	stack_order_progress_fn on_progress; /* NULL: none; once per answer and per order's
					      * first delivery */
	stack_order_delivery_fn on_delivery; /* NULL: none; once per delivery deleted */
	void *ctx;                           /* passed to both */
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

/* Pure: one line for a delivery body (the NewImage, typed or plain JSON) into out:
 * "orderID=.. item=.. quantity=..[ customerID=..]", "?" for what is missing; a body that is
 * not a JSON object is copied as is (newlines and tabs as spaces). */
void stack_delivery_summary(const char *body, char *out, size_t n);

/* Pure: the orderID of a delivery body (the NewImage JSON: {"orderID":{"S":..}} or a plain
 * {"orderID":"..."}). Returns 0 with out filled, or -1. */
int stack_delivery_order_id(const char *body, char *out, size_t n);

#endif
