/* svc_sqs.c: Amazon SQS (awsJson 1.0) operation rows, generated from botocore. */
/* Written by tests/tools/services_gen.py --write: change its operation list, not this file.
 * Rows are sorted by name: aws_service_op() bisects them. */
#include "services_list.h"

static const struct aws_op ops[] = {
	{ .name = "AddPermission" },
	{ .name = "CancelMessageMoveTask" },
	{ .name = "ChangeMessageVisibility" },
	{ .name = "ChangeMessageVisibilityBatch" },
	{ .name = "CreateQueue" },
	{ .name = "DeleteMessage" },
	{ .name = "DeleteMessageBatch" },
	{ .name = "DeleteQueue" },
	{ .name = "GetQueueAttributes" },
	{ .name = "GetQueueUrl" },
	{ .name = "ListDeadLetterSourceQueues", .page_in = "NextToken", .page_out = "NextToken" },
	{ .name = "ListMessageMoveTasks" },
	{ .name = "ListQueueTags" },
	{ .name = "ListQueues", .page_in = "NextToken", .page_out = "NextToken" },
	{ .name = "PurgeQueue" },
	{ .name = "ReceiveMessage" },
	{ .name = "RemovePermission" },
	{ .name = "SendMessage" },
	{ .name = "SendMessageBatch" },
	{ .name = "SetQueueAttributes" },
	{ .name = "StartMessageMoveTask" },
	{ .name = "TagQueue" },
	{ .name = "UntagQueue" },
};

const struct aws_service aws_svc_sqs = {
	.name = "sqs",
	.signing_name = "sqs",
	.host_prefix = "sqs",
	.env_key = "SQS",
	.config_key = "sqs",
	.global = 0,
	.protocol = AWS_PROTO_JSON,
	.json_version = "1.0",
	.target_prefix = "AmazonSQS",
	.api_version = "2012-11-05",
	.ops = ops,
	.nops = sizeof ops / sizeof ops[0],
};
