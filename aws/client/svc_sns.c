/* svc_sns.c: Amazon SNS (query, XML replies) operation rows, generated from botocore. */
/* Written by tests/tools/services_gen.py --write: change its operation list, not this file.
 * Rows are sorted by name: aws_service_op() bisects them. */
#include "services_list.h"

static const struct aws_op ops[] = {
	{ .name = "ConfirmSubscription" },
	{ .name = "CreateTopic", .shapes = "Attributes:map,Tags:list" },
	{ .name = "DeleteTopic" },
	{ .name = "GetSubscriptionAttributes", .shapes = "Attributes:map" },
	{ .name = "GetTopicAttributes", .shapes = "Attributes:map" },
	{
		.name = "ListSubscriptions",
		.shapes = "Subscriptions:list",
		.page_in = "NextToken",
		.page_out = "NextToken",
	},
	{
		.name = "ListSubscriptionsByTopic",
		.shapes = "Subscriptions:list",
		.page_in = "NextToken",
		.page_out = "NextToken",
	},
	{ .name = "ListTagsForResource", .shapes = "Tags:list" },
	{
		.name = "ListTopics",
		.shapes = "Topics:list",
		.page_in = "NextToken",
		.page_out = "NextToken",
	},
	{ .name = "Publish", .shapes = "MessageAttributes:map(Name,Value)" },
	{
		.name = "PublishBatch",
		.shapes = "Failed:list,MessageAttributes:map(Name,Value),"
			"PublishBatchRequestEntries:list,SenderFault:bool,Successful:list",
	},
	{ .name = "SetSubscriptionAttributes" },
	{ .name = "SetTopicAttributes" },
	{ .name = "Subscribe", .shapes = "Attributes:map,ReturnSubscriptionArn:bool" },
	{ .name = "TagResource", .shapes = "Tags:list" },
	{ .name = "Unsubscribe" },
	{ .name = "UntagResource", .shapes = "TagKeys:list" },
};

const struct aws_service aws_svc_sns = {
	.name = "sns",
	.signing_name = "sns",
	.host_prefix = "sns",
	.env_key = "SNS",
	.config_key = "sns",
	.global = 0,
	.protocol = AWS_PROTO_QUERY,
	.api_version = "2010-03-31",
	.xml_ns = "http://sns.amazonaws.com/doc/2010-03-31/",
	.ops = ops,
	.nops = sizeof ops / sizeof ops[0],
};
