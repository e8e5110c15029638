/* svc_lambda.c: AWS Lambda (rest-json) operation rows, generated from botocore. */
/* Written by tests/tools/services_gen.py --write: change its operation list, not this file.
 * Rows are sorted by name: aws_service_op() bisects them. */
#include "services_list.h"

static const struct aws_op ops[] = {
	{
		.name = "AddPermission",
		.method = "POST",
		.uri = "/2015-03-31/functions/{FunctionName}/policy",
		.query = "Qualifier=Qualifier",
	},
	{
		.name = "CreateEventSourceMapping",
		.method = "POST",
		.uri = "/2015-03-31/event-source-mappings",
	},
	{ .name = "CreateFunction", .method = "POST", .uri = "/2015-03-31/functions" },
	{
		.name = "DeleteEventSourceMapping",
		.method = "DELETE",
		.uri = "/2015-03-31/event-source-mappings/{UUID}",
	},
	{
		.name = "DeleteFunction",
		.method = "DELETE",
		.uri = "/2015-03-31/functions/{FunctionName}",
		.query = "Qualifier=Qualifier",
		.out_status = "StatusCode",
	},
	{
		.name = "DeleteFunctionConcurrency",
		.method = "DELETE",
		.uri = "/2017-10-31/functions/{FunctionName}/concurrency",
	},
	{ .name = "GetAccountSettings", .method = "GET", .uri = "/2016-08-19/account-settings" },
	{
		.name = "GetEventSourceMapping",
		.method = "GET",
		.uri = "/2015-03-31/event-source-mappings/{UUID}",
	},
	{
		.name = "GetFunction",
		.method = "GET",
		.uri = "/2015-03-31/functions/{FunctionName}",
		.query = "Qualifier=Qualifier",
	},
	{
		.name = "GetFunctionConcurrency",
		.method = "GET",
		.uri = "/2019-09-30/functions/{FunctionName}/concurrency",
	},
	{
		.name = "GetFunctionConfiguration",
		.method = "GET",
		.uri = "/2015-03-31/functions/{FunctionName}/configuration",
		.query = "Qualifier=Qualifier",
	},
	{
		.name = "GetPolicy",
		.method = "GET",
		.uri = "/2015-03-31/functions/{FunctionName}/policy",
		.query = "Qualifier=Qualifier",
	},
	{
		.name = "Invoke",
		.method = "POST",
		.uri = "/2015-03-31/functions/{FunctionName}/invocations",
		.query = "Qualifier=Qualifier",
		.headers = "X-Amz-Invocation-Type=InvocationType,X-Amz-Log-Type=LogType,"
			"X-Amz-Client-Context=ClientContext,"
			"X-Amz-Durable-Execution-Name=DurableExecutionName,"
			"X-Amz-Tenant-Id=TenantId",
		.payload = "Payload",
		.out_headers = "X-Amz-Function-Error=FunctionError,X-Amz-Log-Result=LogResult,"
			"X-Amz-Executed-Version=ExecutedVersion,"
			"X-Amz-Durable-Execution-Arn=DurableExecutionArn",
		.out_payload = "Payload",
		.out_status = "StatusCode",
	},
	{
		.name = "ListEventSourceMappings",
		.method = "GET",
		.uri = "/2015-03-31/event-source-mappings",
		.query = "EventSourceArn=EventSourceArn,FunctionName=FunctionName,Marker=Marker,"
			"MaxItems=MaxItems",
		.page_in = "Marker",
		.page_out = "NextMarker",
	},
	{
		.name = "ListFunctions",
		.method = "GET",
		.uri = "/2015-03-31/functions",
		.query = "MasterRegion=MasterRegion,FunctionVersion=FunctionVersion,Marker=Marker,"
			"MaxItems=MaxItems",
		.page_in = "Marker",
		.page_out = "NextMarker",
	},
	{ .name = "ListTags", .method = "GET", .uri = "/2017-03-31/tags/{Resource}" },
	{
		.name = "ListVersionsByFunction",
		.method = "GET",
		.uri = "/2015-03-31/functions/{FunctionName}/versions",
		.query = "Marker=Marker,MaxItems=MaxItems",
		.page_in = "Marker",
		.page_out = "NextMarker",
	},
	{
		.name = "PublishVersion",
		.method = "POST",
		.uri = "/2015-03-31/functions/{FunctionName}/versions",
	},
	{
		.name = "PutFunctionConcurrency",
		.method = "PUT",
		.uri = "/2017-10-31/functions/{FunctionName}/concurrency",
	},
	{
		.name = "RemovePermission",
		.method = "DELETE",
		.uri = "/2015-03-31/functions/{FunctionName}/policy/{StatementId}",
		.query = "Qualifier=Qualifier,RevisionId=RevisionId",
	},
	{ .name = "TagResource", .method = "POST", .uri = "/2017-03-31/tags/{Resource}" },
	{
		.name = "UntagResource",
		.method = "DELETE",
		.uri = "/2017-03-31/tags/{Resource}",
		.query = "tagKeys=TagKeys",
	},
	{
		.name = "UpdateEventSourceMapping",
		.method = "PUT",
		.uri = "/2015-03-31/event-source-mappings/{UUID}",
	},
	{
		.name = "UpdateFunctionCode",
		.method = "PUT",
		.uri = "/2015-03-31/functions/{FunctionName}/code",
	},
	{
		.name = "UpdateFunctionConfiguration",
		.method = "PUT",
		.uri = "/2015-03-31/functions/{FunctionName}/configuration",
	},
};

const struct aws_service aws_svc_lambda = {
	.name = "lambda",
	.signing_name = "lambda",
	.host_prefix = "lambda",
	.env_key = "LAMBDA",
	.config_key = "lambda",
	.global = 0,
	.protocol = AWS_PROTO_REST_JSON,
	.api_version = "2015-03-31",
	.ops = ops,
	.nops = sizeof ops / sizeof ops[0],
};
