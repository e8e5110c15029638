/* svc_sts.c: AWS STS (query, XML replies) operation rows, generated from botocore. */
/* Written by tests/tools/services_gen.py --write: change its operation list, not this file.
 * Rows are sorted by name: aws_service_op() bisects them. */
#include "services_list.h"

static const struct aws_op ops[] = {
	{
		.name = "AssumeRole",
		.shapes = "AssumedRoleUser:struct,Credentials:struct,DurationSeconds:int,"
			"PackedPolicySize:int,PolicyArns:list,ProvidedContexts:list,Tags:list,"
			"TransitiveTagKeys:list",
	},
	{ .name = "GetAccessKeyInfo" },
	{ .name = "GetCallerIdentity" },
	{ .name = "GetSessionToken", .shapes = "Credentials:struct,DurationSeconds:int" },
};

const struct aws_service aws_svc_sts = {
	.name = "sts",
	.signing_name = "sts",
	.host_prefix = "sts",
	.env_key = "STS",
	.config_key = "sts",
	.global = 0,
	.protocol = AWS_PROTO_QUERY,
	.api_version = "2011-06-15",
	.xml_ns = "https://sts.amazonaws.com/doc/2011-06-15/",
	.ops = ops,
	.nops = sizeof ops / sizeof ops[0],
};
