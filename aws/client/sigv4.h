/* sigv4.h: AWS Signature Version 4 as a pure function (time and credentials passed in). */
#ifndef CLEANOPS_AWS_SIGV4_H
#define CLEANOPS_AWS_SIGV4_H

#include <stddef.h>
#include <time.h>

/* A header to sign (borrowed strings). Names are matched case-insensitively. */
struct aws_sigv4_header {
	const char *name;
	const char *value;
};

/* What to sign. All strings borrowed. */
struct aws_sigv4_request {
	const char *method;        /* "GET", "POST" ... */
	const char *path;          /* the path as sent on the wire (already percent-encoded
				    * once), without the query; "" means "/" */
	const char *query;         /* the raw query string after '?', or NULL */
	const struct aws_sigv4_header *headers; /* the request's headers, in arrival order */
	size_t nheaders;
	const char *signed_headers; /* verification: sign exactly these ("host;x-amz-date"),
				     * as the client listed them; NULL: sign every header
				     * except the ones AWS never signs (user-agent, ...) */
	const char *payload_hash;  /* hex SHA-256 of the body, or NULL to compute it from body */
	const void *body;
	size_t body_len;
	int s3;                    /* nonzero: S3 rules (no path normalisation, no double
				    * encoding). cleanops uses 0 for every service. */
};

/* Who signs, where and when. All strings borrowed. */
struct aws_sigv4_params {
	const char *access_key_id;
	const char *secret_access_key;
	const char *region;   /* credential scope region */
	const char *service;  /* signing name ("dynamodb" also for Streams) */
	time_t when;          /* the request time (UTC); must match the X-Amz-Date header */
};

/* The result of signing; every string is owned: aws_sigv4_result_cleanup() frees them. */
struct aws_sigv4_result {
	char *canonical_request;
	char *string_to_sign;
	char *signed_headers;   /* "host;x-amz-date" */
	char *authorization;    /* the full Authorization header value */
	char signature[65];     /* lowercase hex */
};

/* Sign req. Returns 0 and fills out, or -1 on bad input or ENOMEM (out untouched). */
int aws_sigv4_sign(const struct aws_sigv4_request *req, const struct aws_sigv4_params *p,
		   struct aws_sigv4_result *out);
/* Free the strings of a result. */
void aws_sigv4_result_cleanup(struct aws_sigv4_result *r);

/* Format t as "YYYYMMDDTHHMMSSZ" into out (at least 17 bytes). */
void aws_sigv4_amz_date(time_t t, char out[17]);
/* Parse an X-Amz-Date value; returns 0 and *t, or -1. */
int aws_sigv4_parse_amz_date(const char *s, time_t *t);
/* Hex SHA-256 of data into out (65 bytes). */
void aws_sigv4_sha256_hex(const void *data, size_t len, char out[65]);

/* The parts of an Authorization header, for a verifier (the sandbox). Borrowed
 * pointers are not used: every field is a copy inside the struct. */
struct aws_sigv4_auth {
	char access_key_id[129];
	char date[9];          /* yyyymmdd */
	char region[64];
	char service[64];
	char signed_headers[1024];
	char signature[65];
};
/* Parse "AWS4-HMAC-SHA256 Credential=AK/date/region/service/aws4_request,
 * SignedHeaders=..., Signature=...". Returns 0 or -1 when malformed. */
int aws_sigv4_parse_authorization(const char *value, struct aws_sigv4_auth *out);

/* RFC 3986 percent-encoding as SigV4 wants it (unreserved A-Za-z0-9-_.~ kept,
 * uppercase hex); keep_slash keeps '/'. Appends to out; returns 0 or -1 (ENOMEM). */
struct aws_buf;
int aws_sigv4_uri_encode(struct aws_buf *out, const char *s, size_t len, int keep_slash);

#endif
