/* lambda.h: the sandbox's Lambda functions as other sandbox parts call them (pollers, API Gateway). */
#ifndef CLEANOPS_SANDBOX_LAMBDA_H
#define CLEANOPS_SANDBOX_LAMBDA_H

#include <stddef.h>

#include "aws/client/buf.h"
#include "sandbox.h"

/* The outcome of one synchronous invocation. */
struct sbx_invoke_result {
	int function_error;     /* nonzero: the function failed (error posted, crash, timeout) */
	char error_type[128];   /* "Runtime.ExitError", "Sandbox.Timedout", the function's errorType */
	int throttled;          /* nonzero: not run (no capacity / function missing or not Active) */
	long long duration_ms;
};

/* Invoke function (name or ARN) synchronously with payload, as Lambda's pollers do.
 * Blocks until the function answers, fails or times out. On return *out holds the
 * response body (the error JSON when function_error). Returns 0 when the invocation ran
 * (even if the function failed), -1 when it could not (unknown function: res->throttled
 * is 0 and error_type says why; no capacity within wait_ms: res->throttled = 1).
 * Never call it with the store lock held. Safe from any thread. */
int sbx_lambda_invoke(struct sbx *s, const char *function, const char *payload, size_t len,
		      struct aws_buf *out, struct sbx_invoke_result *res, long wait_ms);

/* The function's ARN for a name (arn:aws:lambda:REGION:000000000000:function:NAME) into out.
 * Returns 0, or -1 when no such function. */
int sbx_lambda_arn(struct sbx *s, const char *function, char *out, size_t n);

#endif
