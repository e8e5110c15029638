/* svc_logs.c: Amazon CloudWatch Logs (awsJson 1.1) operation rows, generated from botocore. */
/* Written by tests/tools/services_gen.py --write: change its operation list, not this file.
 * Rows are sorted by name: aws_service_op() bisects them. */
#include "services_list.h"

static const struct aws_op ops[] = {
	{ .name = "CreateLogGroup" },
	{ .name = "CreateLogStream" },
	{ .name = "DeleteLogGroup" },
	{ .name = "DeleteLogStream" },
	{ .name = "DeleteRetentionPolicy" },
	{ .name = "DescribeLogGroups", .page_in = "nextToken", .page_out = "nextToken" },
	{ .name = "DescribeLogStreams", .page_in = "nextToken", .page_out = "nextToken" },
	{ .name = "FilterLogEvents", .page_in = "nextToken", .page_out = "nextToken" },
	{ .name = "GetLogEvents", .page_in = "nextToken", .page_out = "nextForwardToken" },
	{ .name = "ListTagsForResource" },
	{ .name = "PutLogEvents" },
	{ .name = "PutRetentionPolicy" },
	{ .name = "TagResource" },
	{ .name = "UntagResource" },
};

const struct aws_service aws_svc_logs = {
	.name = "logs",
	.signing_name = "logs",
	.host_prefix = "logs",
	.env_key = "CLOUDWATCH_LOGS",
	.config_key = "cloudwatch_logs",
	.global = 0,
	.protocol = AWS_PROTO_JSON,
	.json_version = "1.1",
	.target_prefix = "Logs_20140328",
	.api_version = "2014-03-28",
	.ops = ops,
	.nops = sizeof ops / sizeof ops[0],
};
