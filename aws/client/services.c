/* services.c: the table of every service cleanops knows, and lookups by service and operation. */
#include <string.h>
#include <strings.h>

#include "services_list.h"

const struct aws_service *const aws_services[] = {
	&aws_svc_sqs,
	&aws_svc_dynamodb,
	&aws_svc_dynamodbstreams,
	&aws_svc_sns,
	&aws_svc_iam,
	&aws_svc_sts,
	&aws_svc_lambda,
	&aws_svc_apigateway,
	&aws_svc_logs,
	NULL,
};

/* A linear scan: nine rows. Returns a borrowed pointer to a static row, or NULL. */
const struct aws_service *aws_service_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; aws_services[i]; i++) {
		if (strcasecmp(aws_services[i]->name, name) == 0)
			return aws_services[i];
	}
	return NULL;
}

/* Bisection over the rows, which the generator writes sorted by strcmp order
 * (tests/unit/test_services.c checks it). Returns a borrowed static row, or NULL. */
const struct aws_op *aws_service_op(const struct aws_service *svc, const char *op)
{
	size_t lo = 0, hi;

	if (!svc || !op)
		return NULL;
	hi = svc->nops;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(op, svc->ops[mid].name);

		if (cmp == 0)
			return &svc->ops[mid];
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}
