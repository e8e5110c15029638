/* svc_dynamodb.c: Amazon DynamoDB (awsJson 1.0) operation rows, generated from botocore. */
/* Written by tests/tools/services_gen.py --write: change its operation list, not this file.
 * Rows are sorted by name: aws_service_op() bisects them. */
#include "services_list.h"

static const struct aws_op ops[] = {
	{ .name = "BatchGetItem" },
	{ .name = "BatchWriteItem" },
	{ .name = "CreateTable" },
	{ .name = "DeleteItem" },
	{ .name = "DeleteTable" },
	{ .name = "DescribeContinuousBackups" },
	{ .name = "DescribeEndpoints" },
	{ .name = "DescribeLimits" },
	{ .name = "DescribeTable" },
	{ .name = "DescribeTimeToLive" },
	{ .name = "GetItem" },
	{
		.name = "ListTables",
		.page_in = "ExclusiveStartTableName",
		.page_out = "LastEvaluatedTableName",
	},
	{ .name = "ListTagsOfResource", .page_in = "NextToken", .page_out = "NextToken" },
	{ .name = "PutItem" },
	{ .name = "Query", .page_in = "ExclusiveStartKey", .page_out = "LastEvaluatedKey" },
	{ .name = "Scan", .page_in = "ExclusiveStartKey", .page_out = "LastEvaluatedKey" },
	{ .name = "TagResource" },
	{ .name = "TransactGetItems" },
	{ .name = "TransactWriteItems" },
	{ .name = "UntagResource" },
	{ .name = "UpdateItem" },
	{ .name = "UpdateTable" },
	{ .name = "UpdateTimeToLive" },
};

const struct aws_service aws_svc_dynamodb = {
	.name = "dynamodb",
	.signing_name = "dynamodb",
	.host_prefix = "dynamodb",
	.env_key = "DYNAMODB",
	.config_key = "dynamodb",
	.global = 0,
	.protocol = AWS_PROTO_JSON,
	.json_version = "1.0",
	.target_prefix = "DynamoDB_20120810",
	.api_version = "2012-08-10",
	.ops = ops,
	.nops = sizeof ops / sizeof ops[0],
};
