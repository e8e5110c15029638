/* endpoint.h: where a service lives and how it is signed, for a region and overrides. */
#ifndef CLEANOPS_AWS_ENDPOINT_H
#define CLEANOPS_AWS_ENDPOINT_H

#include "aws.h"
#include "config.h"
#include "service.h"

/* A resolved endpoint. Owned: aws_endpoint_cleanup(). */
struct aws_endpoint {
	char *url;            /* "https://sqs.eu-west-1.amazonaws.com", no trailing slash */
	char *signing_region; /* "us-east-1" for IAM on AWS, else the region */
	int overridden;       /* nonzero when url came from an explicit/env/config override */
};

/* Resolve svc's endpoint: explicit (the caller's) beats configuration
 * (aws_config_endpoint), which beats the real AWS host for region.
 * Returns 0 or -1 with err (ConfigError: no region, or a malformed URL). */
int aws_endpoint_resolve(const struct aws_service *svc, const char *region,
			 const char *explicit_url, const struct aws_config *cfg,
			 struct aws_endpoint *out, struct aws_error *err);
void aws_endpoint_cleanup(struct aws_endpoint *e);

#endif
