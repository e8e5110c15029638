/* services.c: the table of every sandbox service (rows live in svc_*.c). */
#include <stddef.h>

#include "sandbox.h"

extern const struct sbx_service sbx_svc_sts;
extern const struct sbx_service sbx_svc_iam;
extern const struct sbx_service sbx_svc_logs;
extern const struct sbx_service sbx_svc_sqs;
extern const struct sbx_service sbx_svc_dynamodb;
extern const struct sbx_service sbx_svc_streams;
extern const struct sbx_service sbx_svc_sns;
extern const struct sbx_service sbx_svc_lambda;
extern const struct sbx_service sbx_svc_esm;
extern const struct sbx_service sbx_svc_apigateway;
/* more services: declare their rows here, in the table's order */

/* Order matters: schemas and init hooks run in this order, quiesce and shutdown hooks in
 * reverse (a service may use the ones before it, e.g. SNS delivers to SQS). */
const struct sbx_service *const sbx_services[] = {
	&sbx_svc_sts,
	&sbx_svc_iam,
	&sbx_svc_logs,
	&sbx_svc_sqs,
	&sbx_svc_dynamodb,
	&sbx_svc_streams,
	&sbx_svc_sns,
	/* more services: lambda, esm, apigateway (one line each, in this order; lambda goes
	 * BEFORE esm: the pollers stop before the functions they invoke) */
	&sbx_svc_lambda,
	&sbx_svc_esm,
	&sbx_svc_apigateway,
	NULL,
};
