/* esm.h: event source mappings (SQS and DynamoDB Streams pollers) inside the sandbox. */
#ifndef CLEANOPS_SANDBOX_ESM_H
#define CLEANOPS_SANDBOX_ESM_H

#include "aws/client/buf.h"
#include "sandbox.h"

/* Handle the Lambda REST paths under /2015-03-31/event-source-mappings (Create, Get, Update,
 * Delete, List). Same contract as struct sbx_service.route: 0 when handled, 1 when the path
 * is not an event-source-mapping path. Called by the Lambda service's route hook. */
int sbx_esm_route(struct sbx_req *r, int *status, struct aws_buf *body, const char **content_type);

/* Start the pollers of every enabled mapping in the store (at sandbox start, after the
 * Lambda service is up). Returns 0 or -1. */
int sbx_esm_start(struct sbx *s);
/* Stop every poller and wait for them. */
void sbx_esm_stop(struct sbx *s);
/* A function was deleted: its mappings stay (as on AWS) but stop invoking. */
void sbx_esm_function_deleted(struct sbx *s, const char *function_arn);

#endif
