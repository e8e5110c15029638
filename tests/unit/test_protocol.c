/* test_protocol.c: the wire protocols: requests as boto3 sends them, replies and errors as boto3 reads them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/client/buf.h"
#include "aws/client/protocol.h"

/* ---- local service rows (the real rows live in aws/client/svc_*.c) --------------- */

static const struct aws_op op_send_message = { .name = "SendMessage" };
static const struct aws_op op_list_queues = { .name = "ListQueues" };
static const struct aws_op op_delete_message = { .name = "DeleteMessage" };
static const struct aws_op op_put_item = { .name = "PutItem" };
static const struct aws_op op_put_log_events = { .name = "PutLogEvents" };

static const struct aws_service svc_sqs = {
	.name = "sqs", .signing_name = "sqs", .protocol = AWS_PROTO_JSON,
	.json_version = "1.0", .target_prefix = "AmazonSQS",
};
static const struct aws_service svc_ddb = {
	.name = "dynamodb", .signing_name = "dynamodb", .protocol = AWS_PROTO_JSON,
	.json_version = "1.0", .target_prefix = "DynamoDB_20120810",
};
static const struct aws_service svc_logs = {
	.name = "logs", .signing_name = "logs", .protocol = AWS_PROTO_JSON,
	.json_version = "1.1", .target_prefix = "Logs_20140328",
};

static const struct aws_op op_get_function = {
	.name = "GetFunction", .method = "GET", .uri = "/2015-03-31/functions/{FunctionName}",
	.query = "Qualifier=Qualifier",
};
static const struct aws_op op_invoke = {
	.name = "Invoke", .method = "POST",
	.uri = "/2015-03-31/functions/{FunctionName}/invocations",
	.query = "Qualifier=Qualifier",
	.headers = "X-Amz-Invocation-Type=InvocationType,X-Amz-Log-Type=LogType,"
		   "X-Amz-Client-Context=ClientContext",
	.payload = "Payload",
	.out_headers = "X-Amz-Function-Error=FunctionError,X-Amz-Log-Result=LogResult,"
		       "X-Amz-Executed-Version=ExecutedVersion",
	.out_payload = "Payload", .out_status = "StatusCode",
};
static const struct aws_op op_list_functions = {
	.name = "ListFunctions", .method = "GET", .uri = "/2015-03-31/functions",
	.query = "FunctionVersion=FunctionVersion,Marker=Marker,MasterRegion=MasterRegion,"
		 "MaxItems=MaxItems",
};
static const struct aws_op op_delete_function = {
	.name = "DeleteFunction", .method = "DELETE", .uri = "/2015-03-31/functions/{FunctionName}",
	.query = "Qualifier=Qualifier", .out_status = "StatusCode",
};
static const struct aws_op op_create_esm = {
	.name = "CreateEventSourceMapping", .method = "POST",
	.uri = "/2015-03-31/event-source-mappings",
};
static const struct aws_op op_things = { /* made up: arrays, bools, maps in the query */
	.name = "ListThings", .method = "GET", .uri = "/things/{Key+}?mode=all",
	.query = "tag=Tags,all=All,Filters=Filters", .headers = "X-Ids=Ids,X-N=N",
};
static const struct aws_op op_no_uri = { .name = "Nothing" };

static const struct aws_service svc_lambda = {
	.name = "lambda", .signing_name = "lambda", .protocol = AWS_PROTO_REST_JSON,
};

static const struct aws_op op_put_integration = {
	.name = "PutIntegration", .method = "PUT",
	.uri = "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}/integration",
	.renames = "integrationHttpMethod>httpMethod", /* requests only */
};
static const struct aws_op op_put_integration_both = {
	.name = "PutIntegration", .method = "PUT",
	.uri = "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}/integration",
	.renames = "integrationHttpMethod=httpMethod",
};
static const struct aws_op op_get_rest_apis = {
	.name = "GetRestApis", .method = "GET", .uri = "/restapis",
	.query = "position=position,limit=limit", .renames = "items=item",
};
static const struct aws_op op_get_resources = {
	.name = "GetResources", .method = "GET", .uri = "/restapis/{restApiId}/resources",
	.query = "position=position,limit=limit,embed=embed", .renames = "items<item",
};

static const struct aws_service svc_apigw = {
	.name = "apigateway", .signing_name = "apigateway", .protocol = AWS_PROTO_REST_JSON,
};

static const struct aws_op op_create_role = {
	.name = "CreateRole",
	.shapes = "AssumeRolePolicyDocument:jsondoc,MaxSessionDuration:int,RoleLastUsed:struct,"
		  "Tags:list",
};
static const struct aws_op op_delete_role = { .name = "DeleteRole" };
static const struct aws_op op_list_attached = {
	.name = "ListAttachedRolePolicies",
	.shapes = "AttachedPolicies:list,IsTruncated:bool,MaxItems:int",
};
static const struct aws_op op_query_types = { .name = "Things", .shapes = "F:flatlist" };
static const struct aws_service svc_iam = {
	.name = "iam", .signing_name = "iam", .global = 1, .protocol = AWS_PROTO_QUERY,
	.api_version = "2010-05-08",
};

static const struct aws_op op_publish = {
	.name = "Publish", .shapes = "MessageAttributes:map(Name,Value)",
};
static const struct aws_op op_subscribe = {
	.name = "Subscribe", .shapes = "Attributes:map,ReturnSubscriptionArn:bool",
};
static const struct aws_op op_list_subs = {
	.name = "ListSubscriptionsByTopic", .shapes = "Subscriptions:list",
};
static const struct aws_op op_topic_attrs = { .name = "GetTopicAttributes", .shapes = "Attributes:map" };
static const struct aws_service svc_sns = {
	.name = "sns", .signing_name = "sns", .protocol = AWS_PROTO_QUERY,
	.api_version = "2010-03-31",
};

static const struct aws_op op_caller = { .name = "GetCallerIdentity" };
static const struct aws_service svc_sts = {
	.name = "sts", .signing_name = "sts", .protocol = AWS_PROTO_QUERY,
	.api_version = "2011-06-15",
};

/* ---- building requests ------------------------------------------------------------- */

struct build_case {
	const char *name;
	const struct aws_service *svc;
	const struct aws_op *op;
	const char *input;   /* JSON, or NULL */
	const char *method;
	const char *path;
	const char *query;   /* NULL: none */
	const char *headers; /* "Name: value\n" each, in order */
	const char *body;
	const char *error;   /* expected error code, NULL: success */
};

#define FORM "Content-Type: application/x-www-form-urlencoded; charset=utf-8\n"

static const struct build_case build_cases[] = {
	{ "SQS SendMessage", &svc_sqs, &op_send_message,
	  "{\"QueueUrl\":\"http://127.0.0.1:4566/000000000000/q\",\"MessageBody\":\"hi \\\"there\\\"\"}",
	  "POST", "/", NULL,
	  "X-Amz-Target: AmazonSQS.SendMessage\nContent-Type: application/x-amz-json-1.0\n"
	  "x-amzn-query-mode: true\n",
	  "{\"QueueUrl\":\"http://127.0.0.1:4566/000000000000/q\",\"MessageBody\":\"hi \\\"there\\\"\"}",
	  NULL },
	{ "SQS no input is {}", &svc_sqs, &op_list_queues, NULL, "POST", "/", NULL,
	  "X-Amz-Target: AmazonSQS.ListQueues\nContent-Type: application/x-amz-json-1.0\n"
	  "x-amzn-query-mode: true\n",
	  "{}", NULL },
	{ "DynamoDB PutItem", &svc_ddb, &op_put_item,
	  "{\"TableName\":\"Orders\",\"Item\":{\"orderID\":{\"S\":\"o1\"},\"quantity\":{\"N\":\"2\"}}}",
	  "POST", "/", NULL,
	  "X-Amz-Target: DynamoDB_20120810.PutItem\nContent-Type: application/x-amz-json-1.0\n",
	  "{\"TableName\":\"Orders\",\"Item\":{\"orderID\":{\"S\":\"o1\"},\"quantity\":{\"N\":\"2\"}}}",
	  NULL },
	{ "Logs PutLogEvents (json 1.1)", &svc_logs, &op_put_log_events,
	  "{\"logGroupName\":\"/aws/lambda/f\",\"logStreamName\":\"s\","
	  "\"logEvents\":[{\"timestamp\":1700000000000,\"message\":\"m\"}]}",
	  "POST", "/", NULL,
	  "X-Amz-Target: Logs_20140328.PutLogEvents\nContent-Type: application/x-amz-json-1.1\n",
	  "{\"logGroupName\":\"/aws/lambda/f\",\"logStreamName\":\"s\","
	  "\"logEvents\":[{\"timestamp\":1700000000000,\"message\":\"m\"}]}",
	  NULL },
	{ "JSON nulls are not sent", &svc_sqs, &op_send_message,
	  "{\"QueueUrl\":\"q\",\"DelaySeconds\":null,\"MessageBody\":\"b\"}", "POST", "/", NULL,
	  "X-Amz-Target: AmazonSQS.SendMessage\nContent-Type: application/x-amz-json-1.0\n"
	  "x-amzn-query-mode: true\n",
	  "{\"QueueUrl\":\"q\",\"MessageBody\":\"b\"}", NULL },
	{ "JSON input must be an object", &svc_sqs, &op_send_message, "[1]", NULL, NULL, NULL, NULL,
	  NULL, "ParamValidation" },
	{ "Lambda GetFunction by ARN: encoded once", &svc_lambda, &op_get_function,
	  "{\"FunctionName\":\"arn:aws:lambda:us-east-1:000000000000:function:f\"}", "GET",
	  "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af",
	  NULL, "", "", NULL },
	{ "Lambda GetFunction with Qualifier", &svc_lambda, &op_get_function,
	  "{\"FunctionName\":\"f\",\"Qualifier\":\"$LATEST\"}", "GET", "/2015-03-31/functions/f",
	  "Qualifier=%24LATEST", "", "", NULL },
	{ "Lambda GetFunction without its label", &svc_lambda, &op_get_function, "{}", NULL, NULL,
	  NULL, NULL, NULL, "ParamValidation" },
	{ "Lambda GetFunction with an empty label", &svc_lambda, &op_get_function,
	  "{\"FunctionName\":\"\"}", NULL, NULL, NULL, NULL, NULL, "ParamValidation" },
	{ "Lambda GetFunction with an object label", &svc_lambda, &op_get_function,
	  "{\"FunctionName\":{}}", NULL, NULL, NULL, NULL, NULL, "ParamValidation" },
	{ "Lambda Invoke: raw payload, headers, no Content-Type", &svc_lambda, &op_invoke,
	  "{\"FunctionName\":\"f\",\"Payload\":\"{\\\"a\\\": 1}\",\"InvocationType\":\"Event\","
	  "\"LogType\":\"Tail\",\"Qualifier\":\"1\"}",
	  "POST", "/2015-03-31/functions/f/invocations", "Qualifier=1",
	  "X-Amz-Invocation-Type: Event\nX-Amz-Log-Type: Tail\n", "{\"a\": 1}", NULL },
	{ "Lambda Invoke without payload", &svc_lambda, &op_invoke, "{\"FunctionName\":\"f\"}",
	  "POST", "/2015-03-31/functions/f/invocations", NULL, "", "", NULL },
	{ "Lambda Invoke with a JSON object payload", &svc_lambda, &op_invoke,
	  "{\"FunctionName\":\"f\",\"Payload\":{\"a\":[1,2]}}", "POST",
	  "/2015-03-31/functions/f/invocations", NULL, "", "{\"a\":[1,2]}", NULL },
	{ "Lambda ListFunctions query", &svc_lambda, &op_list_functions,
	  "{\"MaxItems\":10,\"Marker\":\"m 1/x+y\"}", "GET", "/2015-03-31/functions",
	  "Marker=m%201%2Fx%2By&MaxItems=10", "", "", NULL },
	{ "Lambda ListFunctions no input", &svc_lambda, &op_list_functions, NULL, "GET",
	  "/2015-03-31/functions", NULL, "", "", NULL },
	{ "Lambda DELETE has no body", &svc_lambda, &op_delete_function, "{\"FunctionName\":\"f\"}",
	  "DELETE", "/2015-03-31/functions/f", NULL, "", "", NULL },
	{ "rest-json POST body members", &svc_lambda, &op_create_esm,
	  "{\"FunctionName\":\"f\",\"BatchSize\":10,\"Enabled\":true}", "POST",
	  "/2015-03-31/event-source-mappings", NULL, "Content-Type: application/json\n",
	  "{\"FunctionName\":\"f\",\"BatchSize\":10,\"Enabled\":true}", NULL },
	{ "rest-json POST without members sends {}", &svc_lambda, &op_create_esm, NULL, "POST",
	  "/2015-03-31/event-source-mappings", NULL, "Content-Type: application/json\n", "{}",
	  NULL },
	{ "rest-json greedy label, static query, arrays, bools, header lists", &svc_lambda,
	  &op_things,
	  "{\"Key\":\"a/b c:d\",\"Tags\":[\"x\",\"y z\"],\"All\":false,\"Ids\":[1,2],\"N\":7,"
	  "\"Filters\":{\"k1\":\"v1\"},\"Extra\":null}",
	  "GET", "/things/a/b%20c%3Ad", "mode=all&tag=x&tag=y%20z&all=false&k1=v1",
	  "X-Ids: 1,2\nX-N: 7\n", "", NULL },
	{ "rest-json op without a URI", &svc_lambda, &op_no_uri, NULL, NULL, NULL, NULL, NULL, NULL,
	  "UnknownOperation" },
	{ "API Gateway PutIntegration renames integrationHttpMethod", &svc_apigw,
	  &op_put_integration,
	  "{\"restApiId\":\"a1\",\"resourceId\":\"r1\",\"httpMethod\":\"POST\",\"type\":\"AWS\","
	  "\"integrationHttpMethod\":\"POST\","
	  "\"uri\":\"arn:aws:apigateway:us-east-1:sqs:path/000000000000/q\"}",
	  "PUT", "/restapis/a1/resources/r1/methods/POST/integration", NULL,
	  "Accept: application/json\nContent-Type: application/json\n",
	  "{\"type\":\"AWS\",\"httpMethod\":\"POST\","
	  "\"uri\":\"arn:aws:apigateway:us-east-1:sqs:path/000000000000/q\"}",
	  NULL },
	{ "reply-only rename leaves requests alone", &svc_apigw, &op_get_resources,
	  "{\"restApiId\":\"a1\",\"items\":1}", "GET", "/restapis/a1/resources", NULL,
	  "Accept: application/json\nContent-Type: application/json\n", "{\"items\":1}", NULL },
	{ "API Gateway GetRestApis", &svc_apigw, &op_get_rest_apis, "{\"limit\":5}", "GET",
	  "/restapis", "limit=5", "Accept: application/json\n", "", NULL },
	{ "IAM CreateRole", &svc_iam, &op_create_role,
	  "{\"RoleName\":\"r\",\"AssumeRolePolicyDocument\":\"{\\\"Version\\\":\\\"2012-10-17\\\"}\","
	  "\"Path\":\"/\",\"Tags\":[{\"Key\":\"k\",\"Value\":\"v\"}]}",
	  "POST", "/", NULL, FORM,
	  "Action=CreateRole&Version=2010-05-08&RoleName=r"
	  "&AssumeRolePolicyDocument=%7B%22Version%22%3A%222012-10-17%22%7D&Path=%2F"
	  "&Tags.member.1.Key=k&Tags.member.1.Value=v",
	  NULL },
	{ "IAM CreateRole with the policy as an object", &svc_iam, &op_create_role,
	  "{\"RoleName\":\"r\",\"AssumeRolePolicyDocument\":{\"Version\":\"2012-10-17\"}}",
	  "POST", "/", NULL, FORM,
	  "Action=CreateRole&Version=2010-05-08&RoleName=r"
	  "&AssumeRolePolicyDocument=%7B%22Version%22%3A%222012-10-17%22%7D",
	  NULL },
	{ "SNS Publish with MessageAttributes", &svc_sns, &op_publish,
	  "{\"TopicArn\":\"arn:aws:sns:us-east-1:000000000000:t\",\"Message\":\"hello world\","
	  "\"Subject\":\"Hi\",\"MessageAttributes\":{\"k\":{\"DataType\":\"String\","
	  "\"StringValue\":\"v\"}}}",
	  "POST", "/", NULL, FORM,
	  "Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3At"
	  "&Message=hello%20world&Subject=Hi&MessageAttributes.entry.1.Name=k"
	  "&MessageAttributes.entry.1.Value.DataType=String"
	  "&MessageAttributes.entry.1.Value.StringValue=v",
	  NULL },
	{ "SNS Subscribe with Attributes map", &svc_sns, &op_subscribe,
	  "{\"TopicArn\":\"arn:t\",\"Protocol\":\"sqs\",\"Endpoint\":\"arn:q\","
	  "\"Attributes\":{\"RawMessageDelivery\":\"true\",\"FilterPolicy\":\"{}\"},"
	  "\"ReturnSubscriptionArn\":true}",
	  "POST", "/", NULL, FORM,
	  "Action=Subscribe&Version=2010-03-31&TopicArn=arn%3At&Protocol=sqs&Endpoint=arn%3Aq"
	  "&Attributes.entry.1.key=RawMessageDelivery&Attributes.entry.1.value=true"
	  "&Attributes.entry.2.key=FilterPolicy&Attributes.entry.2.value=%7B%7D"
	  "&ReturnSubscriptionArn=true",
	  NULL },
	{ "SNS UTF-8 is percent-encoded", &svc_sns, &op_publish,
	  "{\"Message\":\"caf\\u00e9 & co\"}", "POST", "/", NULL, FORM,
	  "Action=Publish&Version=2010-03-31&Message=caf%C3%A9%20%26%20co", NULL },
	{ "STS GetCallerIdentity, no input", &svc_sts, &op_caller, NULL, "POST", "/", NULL, FORM,
	  "Action=GetCallerIdentity&Version=2011-06-15", NULL },
	{ "query: empty list, flat list, numbers, bool, structure, null", &svc_iam,
	  &op_query_types,
	  "{\"L\":[],\"F\":[\"a\",\"b\"],\"N\":3,\"R\":1.5,\"B\":false,\"S\":{\"X\":\"y\","
	  "\"In\":{\"Z\":\"1\"}},\"Nothing\":null,\"LL\":[[\"p\"]]}",
	  "POST", "/", NULL, FORM,
	  "Action=Things&Version=2010-05-08&L=&F.1=a&F.2=b&N=3&R=1.5&B=false&S.X=y&S.In.Z=1"
	  "&LL.member.1.member.1=p",
	  NULL },
	{ "query input must be an object", &svc_iam, &op_query_types, "\"x\"", NULL, NULL, NULL,
	  NULL, NULL, "ParamValidation" },
};

/* The wire's headers as "Name: value\n" lines. Caller frees. */
static char *headers_text(const struct aws_wire *w)
{
	struct aws_buf b;

	aws_buf_init(&b, 0);
	for (int i = 0; i < w->nheaders; i++)
		aws_buf_printf(&b, "%s: %s\n", w->names[i], w->values[i]);
	return aws_buf_take(&b);
}

static void test_build_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(build_cases) / sizeof(build_cases[0]); i++) {
		const struct build_case *c = &build_cases[i];
		struct aws_error err;
		struct aws_wire w;
		json_t *input = NULL;
		char *hdrs;
		int rc;

		memset(&err, 0, sizeof(err));
		memset(&w, 0, sizeof(w));
		if (c->input) {
			input = json_loads(c->input, JSON_DECODE_ANY, NULL);
			if (!input)
				fail_msg("%s: bad test input", c->name);
		}
		rc = aws_proto_build(c->svc, c->op, input, &w, &err);
		if (c->error) {
			if (rc != -1 || strcmp(err.code, c->error) != 0)
				fail_msg("%s: rc %d code '%s', want error %s", c->name, rc, err.code,
					 c->error);
			assert_true(err.message[0] != '\0');
			json_decref(input);
			continue;
		}
		if (rc != 0)
			fail_msg("%s: failed: %s: %s", c->name, err.code, err.message);
		hdrs = headers_text(&w);
		if (strcmp(w.method, c->method) != 0 || strcmp(w.path, c->path) != 0 ||
		    (c->query == NULL) != (w.query == NULL) ||
		    (c->query && strcmp(c->query, w.query) != 0) || strcmp(hdrs, c->headers) != 0 ||
		    strcmp(aws_buf_str(&w.body), c->body) != 0)
			fail_msg("%s:\n got  %s %s ? %s\n%sbody %s\n want %s %s ? %s\n%sbody %s", c->name,
				 w.method, w.path, w.query ? w.query : "(none)", hdrs,
				 aws_buf_str(&w.body), c->method, c->path,
				 c->query ? c->query : "(none)", c->headers, c->body);
		assert_int_equal(w.body.len, strlen(c->body));
		free(hdrs);
		aws_wire_cleanup(&w);
		assert_null(w.method);
		json_decref(input);
	}
}

/* The caller's input is not changed by building (renames, removals). */
static void test_build_leaves_input_alone(void **state)
{
	const char *text = "{\"restApiId\":\"a1\",\"resourceId\":\"r1\",\"httpMethod\":\"POST\","
			   "\"integrationHttpMethod\":\"GET\",\"list\":[{\"integrationHttpMethod\":1}]}";
	json_t *input = json_loads(text, 0, NULL);
	json_t *copy = json_deep_copy(input);
	struct aws_wire w;
	struct aws_error err;

	(void)state;
	memset(&err, 0, sizeof(err));
	assert_int_equal(aws_proto_build(&svc_apigw, &op_put_integration, input, &w, &err), 0);
	assert_true(json_equal(input, copy));
	assert_string_equal(aws_buf_str(&w.body),
			    "{\"httpMethod\":\"GET\",\"list\":[{\"httpMethod\":1}]}");
	aws_wire_cleanup(&w);
	json_decref(input);
	json_decref(copy);
}

/* ---- parsing replies --------------------------------------------------------------- */

struct parse_case {
	const char *name;
	const struct aws_service *svc;
	const struct aws_op *op;
	int status;
	const char *headers; /* raw "Name: value\r\n" lines */
	const char *body;
	const char *want;    /* JSON output on success, or NULL for an error */
	const char *code;    /* error: code, message, request id */
	const char *message;
	const char *request_id;
};

#define IAM_NS "xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\""
#define SNS_NS "xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\""
#define HTML_502 "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n" \
		 "<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"

static const struct parse_case parse_cases[] = {
	/* awsJson */
	{ "SQS SendMessage", &svc_sqs, &op_send_message, 200,
	  "HTTP/1.1 200 OK\r\nx-amzn-RequestId: r1\r\nContent-Type: application/x-amz-json-1.0\r\n",
	  "{\"MessageId\":\"m1\",\"MD5OfMessageBody\":\"49f68a5c8493ec2c0bf489821c21fc3b\"}",
	  "{\"MessageId\":\"m1\",\"MD5OfMessageBody\":\"49f68a5c8493ec2c0bf489821c21fc3b\"}", NULL, NULL, NULL },
	{ "JSON empty body is {}", &svc_sqs, &op_delete_message, 200, "", "", "{}", NULL, NULL, NULL },
	{ "JSON {} body", &svc_sqs, &op_delete_message, 200, "", " {} \n", "{}", NULL, NULL, NULL },
	{ "JSON 200 garbage", &svc_sqs, &op_send_message, 200, "", "<xml/>", NULL,
	  "ResponseParseError", NULL, "" },
	{ "JSON 200 array", &svc_sqs, &op_send_message, 200, "", "[1]", NULL,
	  "ResponseParseError", NULL, "" },
	{ "SQS error: __type wins over x-amzn-query-error", &svc_sqs, &op_send_message, 400,
	  "x-amzn-query-error: AWS.SimpleQueueService.NonExistentQueue;Sender\r\n"
	  "x-amzn-RequestId: 6b7e0c3a-1\r\n",
	  "{\"__type\":\"com.amazonaws.sqs#QueueDoesNotExist\","
	  "\"message\":\"The specified queue does not exist.\"}",
	  NULL, "QueueDoesNotExist", "The specified queue does not exist.", "6b7e0c3a-1" },
	{ "DynamoDB error with Message", &svc_ddb, &op_put_item, 400,
	  "X-Amzn-Requestid: DDB1\r\n",
	  "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException\","
	  "\"Message\":\"Requested resource not found\"}",
	  NULL, "ResourceNotFoundException", "Requested resource not found", "DDB1" },
	{ "__type with ':' suffix", &svc_logs, &op_put_log_events, 400, "",
	  "{\"__type\":\"ValidationException:http://internal.amazon.com/coral/\",\"message\":\"m\"}",
	  NULL, "ValidationException", "m", "" },
	{ "JSON error without __type: the status", &svc_ddb, &op_put_item, 400, "",
	  "{\"message\":\"x\"}", NULL, "400", "x", "" },
	{ "JSON 500 non-JSON body is the message", &svc_ddb, &op_put_item, 500, "",
	  "oops not json", NULL, "500", "oops not json", "" },
	{ "JSON 502 HTML page", &svc_sqs, &op_send_message, 502, "", HTML_502, NULL, "502",
	  "Bad Gateway", "" },
	{ "JSON 502 HTML page with a doctype", &svc_sqs, &op_send_message, 502, "",
	  "<!DOCTYPE html>\n<html><body>Bad</body></html>", NULL, "502", "Bad Gateway", "" },
	{ "JSON 403 HTML page from a proxy", &svc_ddb, &op_put_item, 403, "",
	  "<html><body>Forbidden by proxy</body></html>", NULL, "403", "Forbidden", "" },
	{ "XML 403 HTML page from a proxy", &svc_iam, &op_delete_role, 403, "",
	  "<html><body>Forbidden by proxy</body></html>", NULL, "403", "Forbidden", "" },
	{ "JSON 503 empty body", &svc_sqs, &op_send_message, 503, "x-amzn-RequestId: q\r\n", "",
	  NULL, "503", "Service Unavailable", "q" },
	{ "JSON 413 empty body", &svc_sqs, &op_send_message, 413, "", "", NULL, "413",
	  "Payload Too Large", "" },
	/* rest-json */
	{ "Lambda GetFunction", &svc_lambda, &op_get_function, 200, "",
	  "{\"Configuration\":{\"FunctionName\":\"f\",\"State\":\"Active\"},"
	  "\"Code\":{\"Location\":\"http://x\"}}",
	  "{\"Configuration\":{\"FunctionName\":\"f\",\"State\":\"Active\"},"
	  "\"Code\":{\"Location\":\"http://x\"}}", NULL, NULL, NULL },
	{ "Lambda Invoke: payload, headers, status", &svc_lambda, &op_invoke, 200,
	  "HTTP/1.1 200 OK\r\nX-Amz-Function-Error: Unhandled\r\n"
	  "x-amz-executed-version:  $LATEST \r\nContent-Type: application/json\r\n",
	  "{\"errorMessage\":\"boom\"}",
	  "{\"Payload\":\"{\\\"errorMessage\\\":\\\"boom\\\"}\",\"FunctionError\":\"Unhandled\","
	  "\"ExecutedVersion\":\"$LATEST\",\"StatusCode\":200}", NULL, NULL, NULL },
	{ "Lambda Invoke Event: 202, empty payload", &svc_lambda, &op_invoke, 202, "", "",
	  "{\"Payload\":\"\",\"StatusCode\":202}", NULL, NULL, NULL },
	{ "Lambda DeleteFunction 204", &svc_lambda, &op_delete_function, 204, "", "",
	  "{\"StatusCode\":204}", NULL, NULL, NULL },
	{ "API Gateway GetRestApis item -> items", &svc_apigw, &op_get_rest_apis, 200, "",
	  "{\"item\":[{\"id\":\"a1\",\"name\":\"n\"}],\"position\":\"p\"}",
	  "{\"items\":[{\"id\":\"a1\",\"name\":\"n\"}],\"position\":\"p\"}", NULL, NULL, NULL },
	{ "API Gateway GetResources: maps inside items untouched", &svc_apigw, &op_get_resources,
	  200, "",
	  "{\"item\":[{\"id\":\"r\",\"path\":\"/\",\"resourceMethods\":{\"item\":{}}}]}",
	  "{\"items\":[{\"id\":\"r\",\"path\":\"/\",\"resourceMethods\":{\"item\":{}}}]}", NULL, NULL, NULL },
	{ "API Gateway PutIntegration reply keeps httpMethod (one-way rename)", &svc_apigw,
	  &op_put_integration, 201, "",
	  "{\"type\":\"AWS\",\"httpMethod\":\"POST\",\"passthroughBehavior\":null}",
	  "{\"type\":\"AWS\",\"httpMethod\":\"POST\"}", NULL, NULL, NULL },
	{ "two-way rename applies to replies too", &svc_apigw, &op_put_integration_both, 201, "",
	  "{\"type\":\"AWS\",\"httpMethod\":\"POST\"}",
	  "{\"type\":\"AWS\",\"integrationHttpMethod\":\"POST\"}", NULL, NULL, NULL },
	{ "JSON null members are dropped, as botocore does", &svc_logs, &op_put_log_events, 200, "",
	  "{\"nextToken\":null,\"logGroups\":[{\"a\":null,\"b\":1}],\"m\":{\"k\":null}}",
	  "{\"logGroups\":[{\"b\":1}],\"m\":{}}", NULL, NULL, NULL },
	{ "rest-json 200 garbage", &svc_lambda, &op_get_function, 200, "", "nope", NULL,
	  "ResponseParseError", NULL, "" },
	{ "Lambda 404 x-amzn-ErrorType", &svc_lambda, &op_get_function, 404,
	  "x-amzn-RequestId: L1\r\n"
	  "x-amzn-ErrorType: ResourceNotFoundException:http://internal.amazon.com/coral/\r\n",
	  "{\"Type\":\"User\",\"Message\":\"Function not found: arn:aws:lambda:f\"}", NULL,
	  "ResourceNotFoundException", "Function not found: arn:aws:lambda:f", "L1" },
	{ "API Gateway error code in the body", &svc_apigw, &op_get_rest_apis, 404, "",
	  "{\"code\":\"NotFoundException\",\"message\":\"Invalid API identifier specified\"}", NULL,
	  "NotFoundException", "Invalid API identifier specified", "" },
	{ "rest-json header beats body code", &svc_apigw, &op_get_rest_apis, 429,
	  "x-amzn-ErrorType: TooManyRequestsException\r\n",
	  "{\"Code\":\"Other\",\"message\":\"slow down\"}", NULL, "TooManyRequestsException",
	  "slow down", "" },
	{ "rest-json __type fallback", &svc_lambda, &op_get_function, 400, "",
	  "{\"__type\":\"ns#InvalidParameterValueException\",\"message\":\"bad\"}", NULL,
	  "InvalidParameterValueException", "bad", "" },
	{ "rest-json 502 HTML page", &svc_lambda, &op_get_function, 502, "", HTML_502, NULL, "502",
	  "Bad Gateway", "" },
	{ "rest-json 400 garbage", &svc_lambda, &op_get_function, 400, "", "garbage", NULL, "400",
	  "garbage", "" },
	/* query / XML */
	{ "IAM ListAttachedRolePolicies", &svc_iam, &op_list_attached, 200, "",
	  "<ListAttachedRolePoliciesResponse " IAM_NS ">\n"
	  "  <ListAttachedRolePoliciesResult>\n"
	  "    <AttachedPolicies>\n"
	  "      <member><PolicyName>p1</PolicyName><PolicyArn>arn:aws:iam::aws:policy/p1</PolicyArn></member>\n"
	  "      <member><PolicyName>p2</PolicyName><PolicyArn>arn:aws:iam::aws:policy/p2</PolicyArn></member>\n"
	  "    </AttachedPolicies>\n"
	  "    <IsTruncated>false</IsTruncated>\n"
	  "  </ListAttachedRolePoliciesResult>\n"
	  "  <ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>\n"
	  "</ListAttachedRolePoliciesResponse>\n",
	  "{\"AttachedPolicies\":[{\"PolicyName\":\"p1\",\"PolicyArn\":\"arn:aws:iam::aws:policy/p1\"},"
	  "{\"PolicyName\":\"p2\",\"PolicyArn\":\"arn:aws:iam::aws:policy/p2\"}],\"IsTruncated\":false}", NULL, NULL, NULL },
	{ "IAM empty list and Marker", &svc_iam, &op_list_attached, 200, "",
	  "<ListAttachedRolePoliciesResponse " IAM_NS "><ListAttachedRolePoliciesResult>"
	  "<AttachedPolicies/><IsTruncated>true</IsTruncated><Marker>m2</Marker>"
	  "</ListAttachedRolePoliciesResult><ResponseMetadata><RequestId>r</RequestId>"
	  "</ResponseMetadata></ListAttachedRolePoliciesResponse>",
	  "{\"AttachedPolicies\":[],\"IsTruncated\":true,\"Marker\":\"m2\"}", NULL, NULL, NULL },
	{ "IAM CreateRole with int and tags", &svc_iam, &op_create_role, 200, "",
	  "<CreateRoleResponse " IAM_NS "><CreateRoleResult><Role><Path>/</Path>"
	  "<RoleName>r</RoleName><RoleId>AROA1</RoleId><Arn>arn:aws:iam::000000000000:role/r</Arn>"
	  "<CreateDate>2024-01-01T00:00:00Z</CreateDate>"
	  "<AssumeRolePolicyDocument>%7B%7D</AssumeRolePolicyDocument>"
	  "<MaxSessionDuration>3600</MaxSessionDuration><RoleLastUsed/>"
	  "<Tags><member><Key>k</Key><Value>v</Value></member></Tags></Role></CreateRoleResult>"
	  "<ResponseMetadata><RequestId>x</RequestId></ResponseMetadata></CreateRoleResponse>",
	  "{\"Role\":{\"Path\":\"/\",\"RoleName\":\"r\",\"RoleId\":\"AROA1\","
	  "\"Arn\":\"arn:aws:iam::000000000000:role/r\",\"CreateDate\":\"2024-01-01T00:00:00Z\","
	  "\"AssumeRolePolicyDocument\":{},\"MaxSessionDuration\":3600,\"RoleLastUsed\":{},"
	  "\"Tags\":[{\"Key\":\"k\",\"Value\":\"v\"}]}}", NULL, NULL, NULL },
	{ "IAM DeleteRole: no Result element", &svc_iam, &op_delete_role, 200, "",
	  "<DeleteRoleResponse " IAM_NS "><ResponseMetadata><RequestId>d</RequestId>"
	  "</ResponseMetadata></DeleteRoleResponse>",
	  "{}", NULL, NULL, NULL },
	{ "SNS ListSubscriptionsByTopic", &svc_sns, &op_list_subs, 200, "",
	  "<ListSubscriptionsByTopicResponse " SNS_NS "><ListSubscriptionsByTopicResult>"
	  "<Subscriptions><member><TopicArn>arn:t</TopicArn><Protocol>sqs</Protocol>"
	  "<SubscriptionArn>arn:t:1</SubscriptionArn><Owner>000000000000</Owner>"
	  "<Endpoint>arn:q</Endpoint></member></Subscriptions><NextToken>n1</NextToken>"
	  "</ListSubscriptionsByTopicResult><ResponseMetadata><RequestId>s</RequestId>"
	  "</ResponseMetadata></ListSubscriptionsByTopicResponse>",
	  "{\"Subscriptions\":[{\"TopicArn\":\"arn:t\",\"Protocol\":\"sqs\","
	  "\"SubscriptionArn\":\"arn:t:1\",\"Owner\":\"000000000000\",\"Endpoint\":\"arn:q\"}],"
	  "\"NextToken\":\"n1\"}", NULL, NULL, NULL },
	{ "SNS ListSubscriptionsByTopic, none", &svc_sns, &op_list_subs, 200, "",
	  "<ListSubscriptionsByTopicResponse " SNS_NS "><ListSubscriptionsByTopicResult>"
	  "<Subscriptions/></ListSubscriptionsByTopicResult></ListSubscriptionsByTopicResponse>",
	  "{\"Subscriptions\":[]}", NULL, NULL, NULL },
	{ "SNS GetTopicAttributes map", &svc_sns, &op_topic_attrs, 200, "",
	  "<GetTopicAttributesResponse " SNS_NS "><GetTopicAttributesResult><Attributes>"
	  "<entry><key>Owner</key><value>000000000000</value></entry>"
	  "<entry><key>Policy</key><value>{&quot;Version&quot;:&quot;2012-10-17&quot;}</value></entry>"
	  "<entry><key>SubscriptionsPending</key><value>0</value></entry>"
	  "</Attributes></GetTopicAttributesResult></GetTopicAttributesResponse>",
	  "{\"Attributes\":{\"Owner\":\"000000000000\",\"Policy\":\"{\\\"Version\\\":\\\"2012-10-17\\\"}\","
	  "\"SubscriptionsPending\":\"0\"}}", NULL, NULL, NULL },
	{ "STS GetCallerIdentity", &svc_sts, &op_caller, 200, "",
	  "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
	  "<GetCallerIdentityResult><Arn>arn:aws:iam::000000000000:user/u</Arn>"
	  "<UserId>AIDA1</UserId><Account>000000000000</Account></GetCallerIdentityResult>"
	  "<ResponseMetadata><RequestId>i</RequestId></ResponseMetadata></GetCallerIdentityResponse>",
	  "{\"Arn\":\"arn:aws:iam::000000000000:user/u\",\"UserId\":\"AIDA1\","
	  "\"Account\":\"000000000000\"}", NULL, NULL, NULL },
	{ "query 200 not XML", &svc_sts, &op_caller, 200, "", "{\"Account\":\"1\"}", NULL,
	  "ResponseParseError", NULL, "" },
	{ "IAM NoSuchEntity", &svc_iam, &op_delete_role, 404, "x-amzn-RequestId: hdr\r\n",
	  "<ErrorResponse " IAM_NS "><Error><Type>Sender</Type><Code>NoSuchEntity</Code>"
	  "<Message>The role with name r cannot be found.</Message></Error>"
	  "<RequestId>4a3b</RequestId></ErrorResponse>",
	  NULL, "NoSuchEntity", "The role with name r cannot be found.", "4a3b" },
	{ "<Response><Errors><Error> variant", &svc_sns, &op_publish, 400, "",
	  "<Response><Errors><Error><Code>InvalidParameter</Code><Message>bad topic</Message>"
	  "</Error></Errors><RequestID>rq</RequestID></Response>",
	  NULL, "InvalidParameter", "bad topic", "rq" },
	{ "XML error without a RequestId: the header", &svc_sns, &op_publish, 403,
	  "x-amzn-RequestId: h2\r\n",
	  "<ErrorResponse><Error><Code>AuthorizationError</Code><Message>no</Message></Error>"
	  "</ErrorResponse>",
	  NULL, "AuthorizationError", "no", "h2" },
	{ "XML 502 HTML page", &svc_iam, &op_delete_role, 502, "", HTML_502, NULL, "502",
	  "Bad Gateway", "" },
	{ "XML 400 garbage", &svc_iam, &op_delete_role, 400, "", "not xml at all", NULL, "400",
	  "Bad Request", "" },
	{ "XML 500 empty", &svc_iam, &op_delete_role, 500, "", "", NULL, "500",
	  "Internal Server Error", "" },
	{ "XML error: hostile body", &svc_iam, &op_delete_role, 400, "",
	  "<?xml version=\"1.0\"?><!DOCTYPE e [<!ENTITY a \"aaaaaaaaaa\">"
	  "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;\">]>"
	  "<ErrorResponse><Error><Code>&c;</Code></Error></ErrorResponse>",
	  NULL, "400", "Bad Request", "" },
};

static void test_parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct aws_http_response resp;
		struct aws_error err;
		json_t *out = NULL;
		int rc;

		memset(&err, 0, sizeof(err));
		resp.status = c->status;
		aws_buf_init(&resp.headers, 0);
		aws_buf_init(&resp.body, 0);
		aws_buf_adds(&resp.headers, c->headers);
		aws_buf_adds(&resp.body, c->body);
		rc = aws_proto_parse(c->svc, c->op, &resp, &out, &err);
		if (c->want) {
			json_t *want = json_loads(c->want, 0, NULL);

			assert_non_null(want);
			if (rc != 0)
				fail_msg("%s: failed: %s: %s", c->name, err.code, err.message);
			if (!json_equal(out, want))
				fail_msg("%s: got %s\nwant %s", c->name, json_dumps(out, JSON_COMPACT),
					 c->want);
			json_decref(want);
			json_decref(out);
		} else {
			if (rc != -1)
				fail_msg("%s: succeeded, want error %s", c->name, c->code);
			assert_null(out);
			if (strcmp(err.code, c->code) != 0 ||
			    (c->message && strcmp(err.message, c->message) != 0) ||
			    strcmp(err.request_id, c->request_id) != 0 || err.http_status != c->status)
				fail_msg("%s: got %d '%s' '%s' '%s', want %d '%s' '%s' '%s'", c->name,
					 err.http_status, err.code, err.message, err.request_id,
					 c->status, c->code, c->message ? c->message : "*",
					 c->request_id);
		}
		aws_buf_cleanup(&resp.headers);
		aws_buf_cleanup(&resp.body);
	}
}

/* A long non-JSON error body is cut to the message size, never overflowing. */
static void test_parse_long_error_body(void **state)
{
	struct aws_http_response resp;
	struct aws_error err;
	json_t *out = NULL;

	(void)state;
	memset(&err, 0, sizeof(err));
	resp.status = 400;
	aws_buf_init(&resp.headers, 0);
	aws_buf_init(&resp.body, 0);
	for (int i = 0; i < 1000; i++)
		aws_buf_adds(&resp.body, "0123456789");
	assert_int_equal(aws_proto_parse(&svc_sqs, &op_send_message, &resp, &out, &err), -1);
	assert_string_equal(err.code, "400");
	assert_int_equal(strlen(err.message), sizeof(err.message) - 1);
	/* err may be NULL: still -1, no crash. */
	assert_int_equal(aws_proto_parse(&svc_iam, &op_delete_role, &resp, &out, NULL), -1);
	assert_int_equal(aws_proto_parse(&svc_lambda, &op_invoke, &resp, &out, NULL), -1);
	assert_null(out);
	aws_buf_cleanup(&resp.body);
}

/* Lambda's X-Amz-Log-Result (base64 of the last 4 KB of log) arrives whole. */
static void test_parse_long_header(void **state)
{
	struct aws_http_response resp;
	struct aws_error err;
	json_t *out = NULL;
	const char *log;

	(void)state;
	memset(&err, 0, sizeof(err));
	resp.status = 200;
	aws_buf_init(&resp.headers, 0);
	aws_buf_init(&resp.body, 0);
	aws_buf_adds(&resp.headers, "X-Amz-Log-Result: ");
	for (int i = 0; i < 5464; i++)
		aws_buf_addc(&resp.headers, (char)('A' + i % 26));
	aws_buf_adds(&resp.headers, "\r\n");
	aws_buf_adds(&resp.body, "null");
	assert_int_equal(aws_proto_parse(&svc_lambda, &op_invoke, &resp, &out, &err), 0);
	log = json_string_value(json_object_get(out, "LogResult"));
	assert_non_null(log);
	assert_int_equal(strlen(log), 5464);
	assert_string_equal(json_string_value(json_object_get(out, "Payload")), "null");
	json_decref(out);
	aws_buf_cleanup(&resp.headers);
	aws_buf_cleanup(&resp.body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_table),
		cmocka_unit_test(test_build_leaves_input_alone),
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_long_error_body),
		cmocka_unit_test(test_parse_long_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
