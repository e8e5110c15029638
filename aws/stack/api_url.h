/* api_url.h: find the stack's REST API by name and build the URL orders are POSTed to. */
#ifndef CLEANOPS_STACK_API_URL_H
#define CLEANOPS_STACK_API_URL_H

#include <stddef.h>

#include "aws/client/aws.h"

/* Error code set when the stack has no REST API (or no prod stage path could be built). */
#define STACK_ERR_NO_API "ApiNotFound"

/* Pure: the stage's base invoke URL for api_id, ending in '/'. With a loopback endpoint
 * override (endpoint non-NULL, "http://127.0.0.1:4566"): "<endpoint>/restapis/<id>/<stage>/
 * _user_request_/"; else "https://<id>.execute-api.<region>.amazonaws.com/<stage>/".
 * Returns 0, or -1 when out is too small. */
int stack_api_invoke_base(const char *endpoint, const char *region, const char *api_id,
			  const char *stage, char *out, size_t n);

/* Nonzero when url's host is a loopback address (127.x, localhost, [::1]). */
int stack_url_is_loopback(const char *url);

/* Find the stack's API (name STACK_API with the --stack prefix rule; GetRestApis, paginated),
 * find the resource carrying its POST method (GetResources; the root when none is found), and
 * write the full invoke URL into out. api_id (may be NULL) receives the API's id.
 * Returns 0, or -1 with err filled (code STACK_ERR_NO_API when the API is absent). */
int stack_api_url(struct aws_client *c, const char *stack, char *out, size_t n,
		  char *api_id, size_t id_n, struct aws_error *err);

#endif
