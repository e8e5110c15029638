/* svc_dynamodbstreams.c: DynamoDB Streams (awsJson 1.0) operation rows, generated from botocore. */
/* Written by tests/tools/services_gen.py --write: change its operation list, not this file.
 * Rows are sorted by name: aws_service_op() bisects them. */
#include "services_list.h"

static const struct aws_op ops[] = {
	{ .name = "DescribeStream" },
	{ .name = "GetRecords" },
	{ .name = "GetShardIterator" },
	{
		.name = "ListStreams",
		.page_in = "ExclusiveStartStreamArn",
		.page_out = "LastEvaluatedStreamArn",
	},
};

const struct aws_service aws_svc_dynamodbstreams = {
	.name = "dynamodbstreams",
	.signing_name = "dynamodb",
	.host_prefix = "streams.dynamodb",
	.env_key = "DYNAMODB_STREAMS",
	.config_key = "dynamodb_streams",
	.global = 0,
	.protocol = AWS_PROTO_JSON,
	.json_version = "1.0",
	.target_prefix = "DynamoDBStreams_20120810",
	.api_version = "2012-08-10",
	.ops = ops,
	.nops = sizeof ops / sizeof ops[0],
};
