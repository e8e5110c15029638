/* apigw.h: API Gateway's control plane (svc_apigateway.c) and data plane (apigw_invoke.c). */
#ifndef CLEANOPS_SANDBOX_APIGW_H
#define CLEANOPS_SANDBOX_APIGW_H

#include <jansson.h>

#include "aws/client/buf.h"
#include "sandbox.h"

/* What a stage serves: the stage object and its deployment's snapshot of the API
 * ({"resources":{},"models":{},"requestValidators":{}}), both new references. */
struct sbx_apigw_deployed {
	json_t *stage;
	json_t *api;
};

/* Load what api_id/stage serves. Takes the store lock itself (do not hold it).
 * Returns 0, 1 when the API does not exist, 2 when the stage (or its deployment) does
 * not, -1 on a store error (logged). Caller frees with sbx_apigw_deployed_cleanup. */
int sbx_apigw_load_deployed(struct sbx *s, const char *api_id, const char *stage,
			    struct sbx_apigw_deployed *out);
/* Release what sbx_apigw_load_deployed filled. Takes the store lock (do not hold it). */
void sbx_apigw_deployed_cleanup(struct sbx *s, struct sbx_apigw_deployed *d);

/* Answer one invocation: path is everything after "/restapis/" (raw, percent-encoded:
 * "{apiId}/{stage}/_user_request_/{path}"). Always answers (0): status, body and a
 * content type that stays valid until the thread's next invocation. */
int sbx_apigw_invoke(struct sbx_req *r, const char *path, int *status, struct aws_buf *body,
		     const char **content_type);

/* Percent-decode n bytes of s into a new string (caller frees); NULL for bad escapes. */
char *sbx_apigw_unescape(const char *s, size_t n);

#endif
