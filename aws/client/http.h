/* http.h: HTTP over libcurl with kept-alive connections, safe across threads. */
#ifndef CLEANOPS_AWS_HTTP_H
#define CLEANOPS_AWS_HTTP_H

#include "aws.h"
#include "buf.h"

struct aws_http;

/* One request (borrowed strings). headers: NULL-terminated "Name: value" array. */
struct aws_http_request {
	const char *method;
	const char *url;
	const char *const *headers;
	const void *body;
	size_t body_len;
	long connect_timeout_ms; /* 0: 3000 */
	long timeout_ms;         /* 0: none */
};

/* A response. Owned buffers: aws_http_response_cleanup() frees them. */
struct aws_http_response {
	int status;
	struct aws_buf headers; /* raw header lines of the final response, "Name: value\r\n" */
	struct aws_buf body;
};

/* Create a pool. ca_bundle may be NULL (system store). Returns NULL on ENOMEM or curl failure. */
struct aws_http *aws_http_new(const char *ca_bundle);
/* Free the pool and close its connections. NULL is a no-op. */
void aws_http_free(struct aws_http *h);
/* Perform req. Returns 0 with resp filled (any HTTP status), or -1 with err
 * (NetworkError or RequestTimeout) when no response came. resp must be cleaned up
 * by the caller in both cases. max_body caps the response body (0: 64 MiB). */
int aws_http_do(struct aws_http *h, const struct aws_http_request *req,
		struct aws_http_response *resp, size_t max_body, struct aws_error *err);
/* Clean up a response's buffers. */
void aws_http_response_cleanup(struct aws_http_response *r);
/* Copy the value of header name (case-insensitive, first match, trimmed) into out.
 * Returns 0, or -1 when absent (out set to ""). */
int aws_http_header(const struct aws_http_response *r, const char *name, char *out, size_t n);

#endif
