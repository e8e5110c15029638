/* test_services.c: the service and operation tables: lookups, row invariants, key rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "aws/client/service.h"

static const struct aws_op *op_of(const char *service, const char *op)
{
	const struct aws_service *svc = aws_service_find(service);

	assert_non_null(svc);
	return aws_service_op(svc, op);
}

/* The end of the entry starting at p: the next ',' outside parentheses, or the NUL
 * ("MessageAttributes:map(Name,Value)" is one entry). */
static const char *entry_end(const char *p)
{
	int paren = 0;

	while (*p && (paren || *p != ',')) {
		if (*p == '(')
			paren++;
		else if (*p == ')' && paren)
			paren--;
		p++;
	}
	return p;
}

/* Nonzero when the comma-separated list has item as one of its entries. */
static int has_item(const char *list, const char *item)
{
	size_t n = strlen(item);

	for (const char *p = list; p && *p;) {
		const char *end = entry_end(p);

		if ((size_t)(end - p) == n && strncmp(p, item, n) == 0)
			return 1;
		p = *end ? end + 1 : NULL;
	}
	return 0;
}

static void test_find_service(void **state)
{
	(void)state;
	assert_ptr_equal(aws_service_find("sqs"), aws_service_find("SQS"));
	assert_non_null(aws_service_find("DynamoDBStreams"));
	assert_string_equal(aws_service_find("ApiGateway")->name, "apigateway");
	assert_string_equal(aws_service_find("LOGS")->name, "logs");
	assert_null(aws_service_find("s3"));
	assert_null(aws_service_find("dynamodbstream"));
	assert_null(aws_service_find(""));
	assert_null(aws_service_find(NULL));
}

static void test_every_service_listed(void **state)
{
	static const char *const names[] = { "sqs", "dynamodb", "dynamodbstreams", "sns", "iam",
					     "sts", "lambda", "apigateway", "logs" };
	size_t n = 0;

	(void)state;
	while (aws_services[n])
		n++;
	assert_int_equal(n, sizeof names / sizeof names[0]);
	for (size_t i = 0; i < n; i++) {
		const struct aws_service *s = aws_service_find(names[i]);

		assert_non_null(s);
		assert_string_equal(s->name, names[i]);
		for (size_t j = i + 1; j < n; j++)
			assert_true(aws_services[i] != aws_services[j]);
	}
}

/* Rows sorted strictly (so unique, and bisection works), every row found by its name. */
static void test_ops_sorted_unique_found(void **state)
{
	(void)state;
	for (size_t i = 0; aws_services[i]; i++) {
		const struct aws_service *s = aws_services[i];

		assert_true(s->nops > 0);
		assert_non_null(s->ops);
		for (size_t j = 0; j < s->nops; j++) {
			assert_non_null(s->ops[j].name);
			if (j > 0 && strcmp(s->ops[j - 1].name, s->ops[j].name) >= 0)
				fail_msg("%s: %s not after %s", s->name, s->ops[j].name,
					 s->ops[j - 1].name);
			assert_ptr_equal(aws_service_op(s, s->ops[j].name), &s->ops[j]);
		}
		assert_null(aws_service_op(s, "NoSuchOperation"));
		assert_null(aws_service_op(s, ""));
		assert_null(aws_service_op(s, "AAAA"));
		assert_null(aws_service_op(s, "zzzz"));
		assert_null(aws_service_op(s, NULL));
	}
	assert_null(aws_service_op(NULL, "CreateQueue"));
	/* operation names are exact */
	assert_null(op_of("sqs", "createqueue"));
	assert_non_null(op_of("sqs", "CreateQueue"));
}

/* Nonzero for a kind service.h documents: list, flatlist, map, map(K,V), bool, int, jsondoc. */
static int valid_kind(const char *k, size_t n)
{
	static const char *const kinds[] = { "list", "flatlist", "map", "bool", "int", "jsondoc", "struct" };

	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		if (strlen(kinds[i]) == n && strncmp(k, kinds[i], n) == 0)
			return 1;
	}
	return n > 6 && strncmp(k, "map(", 4) == 0 && k[n - 1] == ')' &&
	       memchr(k, ',', n) != NULL;
}

/* Each service carries what its protocol needs; each op's lists are well formed. */
static void check_pairs(const char *svc, const char *op, const char *list, char sep)
{
	for (const char *p = list; p && *p;) {
		const char *end = entry_end(p);
		size_t len = (size_t)(end - p);
		const char *mid = memchr(p, sep, len);

		/* renames: '=' both ways, '>' requests only, '<' replies only */
		if (!mid && sep == '=')
			mid = memchr(p, '>', len) ? memchr(p, '>', len) : memchr(p, '<', len);

		if (len == 0 || !mid || mid == p || mid == p + len - 1)
			fail_msg("%s.%s: bad entry in \"%s\"", svc, op, list);
		if (sep == ':' && !valid_kind(mid + 1, (size_t)(end - mid - 1)))
			fail_msg("%s.%s: unknown kind in \"%s\"", svc, op, list);
		p = *end ? end + 1 : NULL;
	}
}

static void test_rows_fit_protocol(void **state)
{
	(void)state;
	for (size_t i = 0; aws_services[i]; i++) {
		const struct aws_service *s = aws_services[i];

		assert_non_null(s->signing_name);
		assert_non_null(s->host_prefix);
		assert_non_null(s->env_key);
		assert_non_null(s->config_key);
		assert_non_null(s->api_version);
		for (const char *k = s->env_key; *k; k++)
			assert_true((*k >= 'A' && *k <= 'Z') || *k == '_');
		assert_int_equal(strcasecmp(s->env_key, s->config_key), 0);
		switch (s->protocol) {
		case AWS_PROTO_JSON:
			assert_non_null(s->json_version);
			assert_non_null(s->target_prefix);
			break;
		case AWS_PROTO_QUERY:
			assert_non_null(s->xml_ns);
			break;
		case AWS_PROTO_REST_JSON:
			break;
		}
		for (size_t j = 0; j < s->nops; j++) {
			const struct aws_op *o = &s->ops[j];

			if (s->protocol == AWS_PROTO_REST_JSON) {
				assert_non_null(o->method);
				assert_non_null(o->uri);
				assert_int_equal(o->uri[0], '/');
				assert_null(strchr(o->uri, '?'));
			} else {
				assert_null(o->method);
				assert_null(o->uri);
			}
			if (s->protocol != AWS_PROTO_QUERY)
				assert_null(o->shapes);
			check_pairs(s->name, o->name, o->query, '=');
			check_pairs(s->name, o->name, o->headers, '=');
			check_pairs(s->name, o->name, o->out_headers, '=');
			check_pairs(s->name, o->name, o->renames, '=');
			check_pairs(s->name, o->name, o->shapes, ':');
			assert_true(!o->page_in == !o->page_out);
			if (o->page_more)
				assert_non_null(o->page_in);
		}
	}
}

static void test_endpoint_keys(void **state)
{
	const struct aws_service *s;

	(void)state;
	s = aws_service_find("iam");
	assert_true(s->global);
	assert_int_equal(s->protocol, AWS_PROTO_QUERY);
	assert_string_equal(s->api_version, "2010-05-08");
	assert_string_equal(s->xml_ns, "https://iam.amazonaws.com/doc/2010-05-08/");
	for (size_t i = 0; aws_services[i]; i++)
		assert_int_equal(aws_services[i]->global, aws_services[i] == s);

	s = aws_service_find("dynamodbstreams");
	assert_string_equal(s->signing_name, "dynamodb");
	assert_string_equal(s->host_prefix, "streams.dynamodb");
	assert_string_equal(s->env_key, "DYNAMODB_STREAMS");
	assert_string_equal(s->config_key, "dynamodb_streams");
	assert_string_equal(s->target_prefix, "DynamoDBStreams_20120810");

	s = aws_service_find("sqs");
	assert_int_equal(s->protocol, AWS_PROTO_JSON);
	assert_string_equal(s->json_version, "1.0");
	assert_string_equal(s->target_prefix, "AmazonSQS");

	s = aws_service_find("logs");
	assert_string_equal(s->json_version, "1.1");
	assert_string_equal(s->target_prefix, "Logs_20140328");
	assert_string_equal(s->env_key, "CLOUDWATCH_LOGS");

	s = aws_service_find("apigateway");
	assert_string_equal(s->env_key, "API_GATEWAY");
	assert_string_equal(s->config_key, "api_gateway");
	assert_string_equal(s->signing_name, "apigateway");

	s = aws_service_find("sts");
	assert_string_equal(s->api_version, "2011-06-15");
	assert_string_equal(aws_service_find("sns")->api_version, "2010-03-31");
	assert_string_equal(aws_service_find("dynamodb")->target_prefix, "DynamoDB_20120810");
}

static void test_lambda_invoke(void **state)
{
	const struct aws_op *o = op_of("lambda", "Invoke");

	(void)state;
	assert_non_null(o);
	assert_string_equal(o->method, "POST");
	assert_string_equal(o->uri, "/2015-03-31/functions/{FunctionName}/invocations");
	assert_string_equal(o->payload, "Payload");
	assert_string_equal(o->out_payload, "Payload");
	assert_string_equal(o->out_status, "StatusCode");
	assert_true(has_item(o->headers, "X-Amz-Invocation-Type=InvocationType"));
	assert_true(has_item(o->headers, "X-Amz-Log-Type=LogType"));
	assert_true(has_item(o->headers, "X-Amz-Client-Context=ClientContext"));
	assert_true(has_item(o->out_headers, "X-Amz-Function-Error=FunctionError"));
	assert_true(has_item(o->out_headers, "X-Amz-Log-Result=LogResult"));
	assert_true(has_item(o->out_headers, "X-Amz-Executed-Version=ExecutedVersion"));
	assert_true(has_item(o->query, "Qualifier=Qualifier"));

	o = op_of("lambda", "ListFunctions");
	assert_string_equal(o->method, "GET");
	assert_true(has_item(o->query, "Marker=Marker"));
	assert_true(has_item(o->query, "MaxItems=MaxItems"));
	assert_string_equal(o->page_in, "Marker");
	assert_string_equal(o->page_out, "NextMarker");
	assert_null(o->page_more);

	o = op_of("lambda", "RemovePermission");
	assert_string_equal(o->method, "DELETE");
	assert_string_equal(o->uri, "/2015-03-31/functions/{FunctionName}/policy/{StatementId}");
	o = op_of("lambda", "UntagResource");
	assert_string_equal(o->uri, "/2017-03-31/tags/{Resource}");
	assert_true(has_item(o->query, "tagKeys=TagKeys"));
}

static void test_apigateway_rows(void **state)
{
	const struct aws_op *o;

	(void)state;
	o = op_of("apigateway", "PutIntegration");
	assert_string_equal(o->method, "PUT");
	/* labels carry the member names, not the model's wire labels ({restapi_id}) */
	assert_string_equal(o->uri,
			    "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}/integration");
	assert_true(has_item(o->renames, "integrationHttpMethod>httpMethod"));
	o = op_of("apigateway", "GetRestApis");
	assert_true(has_item(o->renames, "items<item"));
	assert_string_equal(o->page_in, "position");
	assert_string_equal(o->page_out, "position");
	o = op_of("apigateway", "CreateResource");
	assert_string_equal(o->method, "POST");
	assert_string_equal(o->uri, "/restapis/{restApiId}/resources/{parentId}");
	o = op_of("apigateway", "UpdateStage");
	assert_string_equal(o->method, "PATCH");
}

static void test_query_shapes(void **state)
{
	const struct aws_op *o;

	(void)state;
	o = op_of("sns", "Publish");
	assert_true(has_item(o->shapes, "MessageAttributes:map(Name,Value)"));
	assert_true(has_item(op_of("sns", "GetTopicAttributes")->shapes, "Attributes:map"));
	o = op_of("sns", "ListSubscriptionsByTopic");
	assert_true(has_item(o->shapes, "Subscriptions:list"));
	assert_string_equal(o->page_in, "NextToken");
	o = op_of("iam", "ListRoles");
	assert_true(has_item(o->shapes, "Roles:list"));
	assert_true(has_item(o->shapes, "IsTruncated:bool"));
	assert_true(has_item(o->shapes, "MaxSessionDuration:int"));
	assert_string_equal(o->page_in, "Marker");
	assert_string_equal(o->page_out, "Marker");
	assert_string_equal(o->page_more, "IsTruncated");
	o = op_of("iam", "GetPolicy");
	assert_true(has_item(o->shapes, "IsAttachable:bool"));
	assert_true(has_item(o->shapes, "AttachmentCount:int"));
	assert_true(has_item(op_of("iam", "ListAttachedRolePolicies")->shapes,
			     "AttachedPolicies:list"));
	assert_true(has_item(op_of("iam", "ListRolePolicies")->shapes, "PolicyNames:list"));
	assert_true(has_item(op_of("iam", "ListPolicyVersions")->shapes, "Versions:list"));
	assert_true(has_item(op_of("iam", "ListRoleTags")->shapes, "Tags:list"));
	assert_true(has_item(op_of("iam", "GetRolePolicy")->shapes, "PolicyDocument:jsondoc"));
	assert_true(has_item(op_of("iam", "GetPolicyVersion")->shapes, "Document:jsondoc"));
	assert_true(has_item(op_of("iam", "GetRole")->shapes, "AssumeRolePolicyDocument:jsondoc"));
}

static void test_pagination(void **state)
{
	(void)state;
	assert_string_equal(op_of("dynamodb", "Scan")->page_in, "ExclusiveStartKey");
	assert_string_equal(op_of("dynamodb", "Query")->page_out, "LastEvaluatedKey");
	assert_string_equal(op_of("dynamodb", "ListTables")->page_out, "LastEvaluatedTableName");
	assert_string_equal(op_of("logs", "DescribeLogGroups")->page_out, "nextToken");
	assert_string_equal(op_of("logs", "GetLogEvents")->page_in, "nextToken");
	assert_string_equal(op_of("logs", "GetLogEvents")->page_out, "nextForwardToken");
	assert_string_equal(op_of("sqs", "ListQueues")->page_out, "NextToken");
	assert_null(op_of("sqs", "SendMessage")->page_in);
}

/* Every operation the stack, the console and the sandbox tests rely on. */
static void test_required_ops_present(void **state)
{
	static const char *const need[][2] = {
		{ "sqs", "CreateQueue,DeleteQueue,ListQueues,GetQueueUrl,GetQueueAttributes,"
			 "SetQueueAttributes,SendMessage,SendMessageBatch,ReceiveMessage,"
			 "DeleteMessage,DeleteMessageBatch,ChangeMessageVisibility,"
			 "ChangeMessageVisibilityBatch,PurgeQueue,ListDeadLetterSourceQueues,"
			 "StartMessageMoveTask,TagQueue,ListQueueTags" },
		{ "dynamodb", "CreateTable,DescribeTable,UpdateTable,DeleteTable,ListTables,PutItem,"
			      "GetItem,UpdateItem,DeleteItem,Query,Scan,BatchWriteItem,"
			      "BatchGetItem,DescribeTimeToLive" },
		{ "dynamodbstreams", "ListStreams,DescribeStream,GetShardIterator,GetRecords" },
		{ "sns", "CreateTopic,DeleteTopic,ListTopics,GetTopicAttributes,SetTopicAttributes,"
			 "Subscribe,ConfirmSubscription,Unsubscribe,ListSubscriptions,"
			 "ListSubscriptionsByTopic,GetSubscriptionAttributes,"
			 "SetSubscriptionAttributes,Publish,TagResource,ListTagsForResource" },
		{ "iam", "CreatePolicy,GetPolicy,DeletePolicy,ListPolicies,CreatePolicyVersion,"
			 "GetPolicyVersion,ListPolicyVersions,DeletePolicyVersion,CreateRole,GetRole,"
			 "DeleteRole,ListRoles,UpdateAssumeRolePolicy,AttachRolePolicy,"
			 "DetachRolePolicy,ListAttachedRolePolicies,PutRolePolicy,GetRolePolicy,"
			 "DeleteRolePolicy,ListRolePolicies,TagRole,ListRoleTags,UntagRole,"
			 "CreateUser,DeleteUser,CreateAccessKey,DeleteAccessKey,ListAccessKeys,"
			 "AttachUserPolicy,DetachUserPolicy,GetUser" },
		{ "sts", "GetCallerIdentity,AssumeRole" },
		{ "lambda", "CreateFunction,GetFunction,GetFunctionConfiguration,UpdateFunctionCode,"
			    "UpdateFunctionConfiguration,DeleteFunction,ListFunctions,Invoke,"
			    "AddPermission,RemovePermission,GetPolicy,PutFunctionConcurrency,"
			    "DeleteFunctionConcurrency,GetFunctionConcurrency,"
			    "CreateEventSourceMapping,GetEventSourceMapping,"
			    "UpdateEventSourceMapping,DeleteEventSourceMapping,"
			    "ListEventSourceMappings,TagResource,ListTags" },
		{ "apigateway", "CreateRestApi,GetRestApi,GetRestApis,DeleteRestApi,UpdateRestApi,"
				"GetResources,GetResource,CreateResource,DeleteResource,PutMethod,"
				"GetMethod,DeleteMethod,PutMethodResponse,GetMethodResponse,"
				"PutIntegration,GetIntegration,DeleteIntegration,"
				"PutIntegrationResponse,GetIntegrationResponse,CreateModel,GetModel,"
				"GetModels,DeleteModel,CreateRequestValidator,GetRequestValidators,"
				"GetRequestValidator,DeleteRequestValidator,CreateDeployment,"
				"GetDeployments,GetDeployment,DeleteDeployment,CreateStage,GetStage,"
				"GetStages,DeleteStage,UpdateStage" },
		{ "logs", "CreateLogGroup,DeleteLogGroup,DescribeLogGroups,CreateLogStream,"
			  "DeleteLogStream,DescribeLogStreams,PutLogEvents,GetLogEvents,"
			  "FilterLogEvents,PutRetentionPolicy" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
		const struct aws_service *s = aws_service_find(need[i][0]);
		const char *p = need[i][1];

		assert_non_null(s);
		while (p && *p) {
			char name[64];
			const char *end = strchr(p, ',');
			size_t len = end ? (size_t)(end - p) : strlen(p);

			assert_true(len < sizeof name);
			memcpy(name, p, len);
			name[len] = '\0';
			if (!aws_service_op(s, name))
				fail_msg("%s has no operation %s", s->name, name);
			p = end ? end + 1 : NULL;
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_service),
		cmocka_unit_test(test_every_service_listed),
		cmocka_unit_test(test_ops_sorted_unique_found),
		cmocka_unit_test(test_rows_fit_protocol),
		cmocka_unit_test(test_endpoint_keys),
		cmocka_unit_test(test_lambda_invoke),
		cmocka_unit_test(test_apigateway_rows),
		cmocka_unit_test(test_query_shapes),
		cmocka_unit_test(test_pagination),
		cmocka_unit_test(test_required_ops_present),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
