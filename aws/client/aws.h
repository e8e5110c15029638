/* aws.h: the public API of cleanops' AWS client: one call for every service. */
#ifndef CLEANOPS_AWS_H
#define CLEANOPS_AWS_H

#include <jansson.h>
#include <stddef.h>

/* Everything a failed call knows. Zero-initialise; filled only on failure. */
struct aws_error {
	int http_status;       /* HTTP status, 0 when no response came */
	char code[128];        /* AWS error code ("QueueDoesNotExist"), or ours ("NetworkError") */
	char message[1024];    /* human-readable message */
	char request_id[128];  /* x-amzn-RequestId or the XML RequestId, when given */
};

/* Client-side error codes (not from AWS). */
#define AWS_ERR_CONFIG "ConfigError"             /* bad or missing config/credentials */
#define AWS_ERR_NETWORK "NetworkError"           /* could not connect / send / receive */
#define AWS_ERR_TIMEOUT "RequestTimeout"         /* a connect or total timeout expired */
#define AWS_ERR_PARSE "ResponseParseError"       /* the response could not be read */
#define AWS_ERR_PARAM "ParamValidation"          /* the input does not fit the operation */
#define AWS_ERR_UNKNOWN_OP "UnknownOperation"    /* no such service or operation in our tables */
#define AWS_ERR_NOMEM "OutOfMemory"

/* Fill err (if non-NULL) with status, code and printf-formatted message. Returns -1. */
int aws_error_set(struct aws_error *err, int http_status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Credentials. Strings are owned by the struct; aws_credentials_cleanup() frees them. */
struct aws_credentials {
	char *access_key_id;
	char *secret_access_key;
	char *session_token; /* NULL when none */
	long long expiration; /* epoch seconds, 0 when they do not expire */
};
void aws_credentials_cleanup(struct aws_credentials *c);

/* How to build a client. Every field is optional (NULL/0: resolve as the AWS SDKs do). */
struct aws_client_opts {
	const char *profile;   /* else AWS_PROFILE, else "default" */
	const char *region;    /* else AWS_REGION, AWS_DEFAULT_REGION, the profile's region */
	const char *endpoint;  /* explicit endpoint URL for every service (beats env and config) */
	const struct aws_credentials *credentials; /* explicit credentials (copied) */
	long connect_timeout_ms; /* default 3000 */
	long timeout_ms;         /* total per attempt; default 60000 (0: none, e.g. long polls) */
	int max_attempts;        /* else AWS_MAX_ATTEMPTS, else 3 */
	const char *ca_bundle;   /* else AWS_CA_BUNDLE, else the profile's ca_bundle, else system */
};

/* A client: resolved config, credentials, endpoints, HTTP connections, retry quota.
 * Safe to use from several threads at once. */
struct aws_client;

/* Build a client. Returns 0 and *out (free with aws_client_free), or -1 with err filled
 * (code ConfigError naming the file and line for a corrupt config file). */
int aws_client_new(const struct aws_client_opts *opts, struct aws_client **out,
		   struct aws_error *err);
/* Free a client and its connections. NULL is a no-op. */
void aws_client_free(struct aws_client *c);

/* The resolved region (borrowed, valid while the client lives). */
const char *aws_client_region(const struct aws_client *c);
/* The endpoint URL used for service ("sqs", "dynamodb", ...), without a trailing
 * slash (borrowed, valid while the client lives), or NULL for an unknown service. */
const char *aws_client_endpoint(const struct aws_client *c, const char *service);
/* Nonzero when an endpoint override (explicit, env or config) is in force for service. */
int aws_client_endpoint_overridden(const struct aws_client *c, const char *service);

/* One AWS API call. service is the boto3 name ("sqs", "dynamodb", "dynamodbstreams",
 * "sns", "iam", "sts", "lambda", "apigateway", "logs"); operation the API's name
 * ("CreateQueue"); input the members as boto3 takes them (borrowed; NULL = {}).
 * Blobs are base64 strings, except rest-json payload members (Lambda Invoke's
 * Payload), which are plain strings. On success returns 0 and *output, a new
 * reference the caller must json_decref: the members as boto3 shows them (query
 * services: the ...Result members, lists as arrays, no ResponseMetadata).
 * On failure returns -1 and fills err; *output is untouched.
 * Retries throttling, 5xx and transient network errors ("standard" mode). */
int aws_call(struct aws_client *c, const char *service, const char *operation,
	     json_t *input, json_t **output, struct aws_error *err);

/* Paginate a list/scan/log call: calls operation repeatedly, following the service's
 * token (NextToken, Marker, ExclusiveStartKey, position, nextForwardToken ...), and
 * calls page(output, ctx) for each page (output borrowed). page returns 0 to go on,
 * nonzero to stop. max_pages 0 = no limit. Returns 0, or -1 with err filled. */
typedef int (*aws_page_fn)(json_t *page, void *ctx);
int aws_paginate(struct aws_client *c, const char *service, const char *operation,
		 json_t *input, aws_page_fn page, void *ctx, int max_pages,
		 struct aws_error *err);

/* A raw HTTP request through the client's connection pool (no signing, no retries):
 * for API Gateway invoke URLs. headers is a NULL-terminated "Name: value" array.
 * On success returns 0, *status, and *body (caller frees; may be NULL if body_out is NULL). */
int aws_http_request(struct aws_client *c, const char *method, const char *url,
		     const char *const *headers, const char *body, size_t body_len,
		     int *status, char **body_out, struct aws_error *err);

/* The library's version string. */
const char *aws_client_version(void);

#endif
