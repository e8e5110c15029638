/* iam_enforce.h: IAM enforcement inside the sandbox: who calls (the operator or a role
 * session), the role's policies (cached), the queue policies, and AWS's refusals. */
#ifndef CLEANOPS_SANDBOX_IAM_ENFORCE_H
#define CLEANOPS_SANDBOX_IAM_ENFORCE_H

#include <jansson.h>
#include <sqlite3.h>
#include <stddef.h>

#include "sandbox.h"

/* Set up the policy cache (sbx_start). Returns 0 or -1 (out of memory). */
int sbx_iam_enforce_init(struct sbx *s);
/* Free the policy cache (sbx_stop, after every thread is joined). */
void sbx_iam_enforce_cleanup(struct sbx *s);

/* Decide r->service / r->op with input in (borrowed) for the caller of r->access_key.
 * The operator (any key that is not an STS role session) may do anything; a role session
 * is held to its role's attached and inline policies and, for SQS, the queue policy (a
 * session whose role is gone may do nothing).
 * Returns 0 when allowed, or -1 after sbx_error() with the service's own refusal
 * (DynamoDB/Streams/Logs 400 AccessDeniedException, SQS/IAM/STS 403 AccessDenied, SNS 403
 * AuthorizationError). Always 0 when enforcement is off. Cost: a few hash lookups and a
 * walk over the role's statements; the store only after IAM writes. */
int sbx_iam_authorize(struct sbx_req *r, json_t *in);
/* The same for a session of role_arn named session (API Gateway's credentials role). */
int sbx_iam_authorize_role(struct sbx_req *r, const char *role_arn, const char *session,
			   json_t *in);
/* After a handler succeeded: IAM writes, SQS queue changes and (service "lambda") function
 * writes drop the cached policies and roles. */
void sbx_iam_after_write(struct sbx *s, const char *service, const char *op);

/* May the service principal (say "apigateway.amazonaws.com") assume role_arn by the
 * role's trust policy? Returns 1 (also whenever enforcement is off), else 0: no role
 * named, a role the sandbox's IAM does not hold, or a trust policy that does not allow
 * it (logged). Store lock NOT held. */
int sbx_iam_role_trusts(struct sbx *s, const char *role_arn, const char *service);
/* Lambda's pollers, mappings and log writer: may the execution role of function_arn do
 * action ("sqs:ReceiveMessage") on resource (identity policies, and the queue policy for a
 * queue)? Returns 1 (also for a function the sandbox does not hold, or enforcement off),
 * or 0 with AWS's reason in why (n bytes); a role that does not exist may do nothing.
 * Store lock NOT held. */
int sbx_iam_function_allows(struct sbx *s, const char *function_arn, const char *action,
			    const char *resource, char *why, size_t n);
/* SNS deliveries: may the service principal do action on the queue queue_arn by its queue
 * policy? A queue with no policy at all refuses every service, as on AWS. The store lock
 * IS held (db). Returns 1 (also for a queue that does not exist, which the caller reports),
 * or 0 with the reason in why (n bytes). */
int sbx_iam_queue_allows_service_locked(struct sbx *s, sqlite3 *db, const char *queue_arn,
					const char *service, const char *source_arn,
					const char *action, char *why, size_t n);

#endif
