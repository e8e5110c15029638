/* lrt.h: a small client for the AWS Lambda Runtime API (2018-06-01) and the handler loop. */
#ifndef CLEANOPS_LRT_H
#define CLEANOPS_LRT_H

#include <stddef.h>

#include "aws/client/buf.h"

/* The largest event the runtime accepts from /next (Lambda's own cap is 6 MB). */
#define LRT_MAX_EVENT ((size_t)16 * 1024 * 1024)
/* /next failures in a row (network errors, unexpected statuses) before lrt_run gives up. */
#define LRT_MAX_FAILURES 20

/* One invocation, as the /next headers describe it. Strings are borrowed from the
 * runtime and valid until the next call to lrt_next or lrt_run's next iteration. */
struct lrt_invocation {
	const char *request_id;       /* Lambda-Runtime-Aws-Request-Id (never NULL) */
	long long deadline_ms;        /* Lambda-Runtime-Deadline-Ms (epoch ms), 0 when absent */
	const char *function_arn;     /* Lambda-Runtime-Invoked-Function-Arn, "" when absent */
	const char *trace_id;         /* Lambda-Runtime-Trace-Id, "" when absent */
	const char *client_context;   /* Lambda-Runtime-Client-Context, "" when absent */
	const char *cognito_identity; /* Lambda-Runtime-Cognito-Identity, "" when absent */
};

/* A function error: posted as {"errorType","errorMessage","stackTrace":[]}. */
struct lrt_error {
	char type[128];     /* e.g. "Runtime.InvalidEvent"; "" becomes "Runtime.HandlerError" */
	char message[1024];
};

/* A handler: reads the event (len bytes, NUL-terminated, borrowed), appends its result to
 * response (an empty buffer owned by the runtime) and returns 0; or fills err and returns
 * nonzero, and the runtime posts a function error instead. */
typedef int (*lrt_handler_fn)(const struct lrt_invocation *inv, const char *event, size_t len,
			      struct aws_buf *response, struct lrt_error *err, void *ctx);

/* A log sink for the runtime's own diagnostics (one line, no newline). The library never
 * prints; main decides where lines go (stderr, which Lambda ships to CloudWatch Logs). */
typedef void (*lrt_log_fn)(const char *line, void *ctx);

/* The runtime client: one plain-HTTP connection to AWS_LAMBDA_RUNTIME_API, reused. */
struct lrt;

/* Build a runtime client for api ("host:port"; NULL: AWS_LAMBDA_RUNTIME_API). Returns 0 and
 * *out (free with lrt_free), or -1 with a reason in why (why may be NULL). */
int lrt_new(const char *api, struct lrt **out, char *why, size_t whylen);
/* Free the client. NULL is a no-op. */
void lrt_free(struct lrt *rt);
/* Send runtime diagnostics to log(line, ctx). NULL: drop them. */
void lrt_set_log(struct lrt *rt, lrt_log_fn log, void *ctx);

/* Wait (no time limit) for the next invocation. Returns 0 with *inv, *event and *len filled
 * (borrowed until the next call); 1 when the endpoint said the runtime must exit (500);
 * -1 on a failure worth retrying (network, other statuses). Also sets _X_AMZN_TRACE_ID. */
int lrt_next(struct lrt *rt, struct lrt_invocation *inv, const char **event, size_t *len);
/* Post the result of invocation request_id. Returns 0 (202), 1 when the runtime must exit
 * (500), -1 on another failure. */
int lrt_respond(struct lrt *rt, const char *request_id, const char *body, size_t len);
/* Post a function error for request_id. Same returns as lrt_respond. */
int lrt_fail(struct lrt *rt, const char *request_id, const struct lrt_error *err);
/* Report an initialisation error. The caller must exit afterwards. Returns 0 when posted. */
int lrt_init_error(struct lrt *rt, const char *type, const char *message);

/* The loop: next, handle, respond, forever. Never busy-loops: a failed /next is retried
 * after 10 ms, doubling to 1 s, and LRT_MAX_FAILURES failures in a row end the loop.
 * Returns 1 when the endpoint asked the runtime to exit (a 500), -1 after too many
 * failures in a row; main should then exit. */
int lrt_run(struct lrt *rt, lrt_handler_fn handler, void *ctx);

/* Milliseconds since the epoch (CLOCK_REALTIME), for handlers that stamp records. */
long long lrt_now_ms(void);

#endif
