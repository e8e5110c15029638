/* test_sbx_wire.c: the sandbox's query-protocol codec: form bodies to JSON, JSON to XML. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws/sandbox/wire.h"

struct form_case {
	const char *name;
	const char *service;
	const char *hints;
	const char *form;
	const char *action;  /* expected Action */
	const char *json;    /* expected JSON, NULL: decoding must fail */
};

static const struct form_case form_cases[] = {
	{ "scalars and decoding", "iam", NULL,
	  "Action=CreateRole&Version=2010-05-08&RoleName=r+1&AssumeRolePolicyDocument=%7B%22a%22%3A1%7D",
	  "CreateRole", "{\"RoleName\":\"r 1\",\"AssumeRolePolicyDocument\":\"{\\\"a\\\":1}\"}" },
	{ "member lists keep index order", "iam", NULL,
	  "Action=X&Tags.member.2.Key=b&Tags.member.2.Value=2&Tags.member.10.Key=c&"
	  "Tags.member.10.Value=3&Tags.member.1.Key=a&Tags.member.1.Value=1",
	  "X", "{\"Tags\":[{\"Key\":\"a\",\"Value\":\"1\"},{\"Key\":\"b\",\"Value\":\"2\"},"
	  "{\"Key\":\"c\",\"Value\":\"3\"}]}" },
	{ "scalar member list", "iam", NULL, "Action=X&TagKeys.member.1=k1&TagKeys.member.2=k2",
	  "X", "{\"TagKeys\":[\"k1\",\"k2\"]}" },
	{ "entry maps", "sns", "Attributes:map",
	  "Action=CreateTopic&Name=t&Attributes.entry.1.key=DisplayName&"
	  "Attributes.entry.1.value=Shop&Attributes.entry.2.key=Policy&Attributes.entry.2.value=%7B%7D",
	  "CreateTopic", "{\"Name\":\"t\",\"Attributes\":{\"DisplayName\":\"Shop\",\"Policy\":\"{}\"}}" },
	{ "map(Name,Value) with struct values", "sns", "MessageAttributes:map(Name,Value)",
	  "Action=Publish&Message=hi&MessageAttributes.entry.1.Name=k&"
	  "MessageAttributes.entry.1.Value.DataType=String&"
	  "MessageAttributes.entry.1.Value.StringValue=v",
	  "Publish", "{\"Message\":\"hi\",\"MessageAttributes\":{\"k\":{\"DataType\":\"String\","
	  "\"StringValue\":\"v\"}}}" },
	{ "nested structs", "sts", NULL,
	  "Action=AssumeRole&PolicyArns.member.1.arn=a1&ProvidedContexts.member.1.ProviderArn=p",
	  "AssumeRole", "{\"PolicyArns\":[{\"arn\":\"a1\"}],\"ProvidedContexts\":[{\"ProviderArn\":\"p\"}]}" },
	{ "hints: bool, int, empty list", "iam", "SetAsDefault:bool,MaxItems:int,Tags:list",
	  "Action=X&SetAsDefault=true&MaxItems=25&Tags=",
	  "X", "{\"SetAsDefault\":true,\"MaxItems\":25,\"Tags\":[]}" },
	{ "an int hint leaves non-numbers alone", "iam", "MaxItems:int", "Action=X&MaxItems=abc",
	  "X", "{\"MaxItems\":\"abc\"}" },
	{ "SQS flattened names", "sqs", NULL,
	  "Action=CreateQueue&Version=2012-11-05&QueueName=q&Attribute.1.Name=DelaySeconds&"
	  "Attribute.1.Value=5&Attribute.2.Name=VisibilityTimeout&Attribute.2.Value=30&"
	  "Tag.1.Key=team&Tag.1.Value=ops",
	  "CreateQueue", "{\"QueueName\":\"q\",\"Attributes\":{\"DelaySeconds\":\"5\","
	  "\"VisibilityTimeout\":\"30\"},\"Tags\":{\"team\":\"ops\"}}" },
	{ "SQS flat lists, ints and message attributes", "sqs", NULL,
	  "Action=ReceiveMessage&QueueUrl=u&AttributeName.1=All&MessageAttributeName.1=a&"
	  "MaxNumberOfMessages=10&WaitTimeSeconds=2",
	  "ReceiveMessage", "{\"QueueUrl\":\"u\",\"AttributeNames\":[\"All\"],"
	  "\"MessageAttributeNames\":[\"a\"],\"MaxNumberOfMessages\":10,\"WaitTimeSeconds\":2}" },
	{ "SQS batch entries", "sqs", NULL,
	  "Action=SendMessageBatch&QueueUrl=u&SendMessageBatchRequestEntry.1.Id=a&"
	  "SendMessageBatchRequestEntry.1.MessageBody=x&SendMessageBatchRequestEntry.1.DelaySeconds=1&"
	  "SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=n&"
	  "SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType=Number&"
	  "SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue=1&"
	  "SendMessageBatchRequestEntry.2.Id=b&SendMessageBatchRequestEntry.2.MessageBody=y",
	  "SendMessageBatch", "{\"QueueUrl\":\"u\",\"Entries\":[{\"Id\":\"a\",\"MessageBody\":\"x\","
	  "\"DelaySeconds\":1,\"MessageAttributes\":{\"n\":{\"DataType\":\"Number\","
	  "\"StringValue\":\"1\"}}},{\"Id\":\"b\",\"MessageBody\":\"y\"}]}" },
	{ "SQS QueueUrl is a plain request member", "sqs", NULL,
	  "Action=SendMessage&QueueUrl=http%3A%2F%2Fh%2F0%2Fq&MessageBody=b&"
	  "MessageAttribute.1.Name=n&MessageAttribute.1.Value.DataType=String&"
	  "MessageAttribute.1.Value.StringValue=v",
	  "SendMessage", "{\"QueueUrl\":\"http://h/0/q\",\"MessageBody\":\"b\","
	  "\"MessageAttributes\":{\"n\":{\"DataType\":\"String\",\"StringValue\":\"v\"}}}" },
	{ "SQS reply-only names never rename request members", "sqs", NULL,
	  "Action=X&QueueUrl.1=a&Message.1=m",
	  "X", "{\"QueueUrl\":[\"a\"],\"Message\":[\"m\"]}" },
	{ "no Action", "iam", NULL, "RoleName=r", "", "{\"RoleName\":\"r\"}" },
	{ "key without value, empty pairs", "iam", NULL, "Action=X&&Flag&A=%3D%26", "X",
	  "{\"Flag\":\"\",\"A\":\"=&\"}" },
	{ "bad escape", "iam", NULL, "Action=X&RoleName=%zz", "", NULL },
	{ "truncated escape", "iam", NULL, "Action=X&RoleName=ab%4", "", NULL },
};

static void test_form_cases(void **state)
{
	for (size_t i = 0; i < sizeof(form_cases) / sizeof(form_cases[0]); i++) {
		const struct form_case *c = &form_cases[i];
		char action[64], version[32];
		json_t *got = sbx_wire_form_to_json(c->form, strlen(c->form), c->service, c->hints,
						    action, sizeof(action), version, sizeof(version));

		print_message("case: %s\n", c->name);
		if (!c->json) {
			assert_null(got);
			continue;
		}
		assert_non_null(got);
		assert_string_equal(action, c->action);
		{
			json_error_t jerr;
			json_t *want = json_loads(c->json, 0, &jerr);
			char *text = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);

			assert_non_null(want);
			if (!json_equal(got, want))
				fail_msg("%s: got %s, want %s", c->name, text, c->json);
			free(text);
			json_decref(want);
		}
		json_decref(got);
	}
}

static void test_form_action(void **state)
{
	char action[16], version[16];
	const char *form = "Version=2011-06-15&Action=GetCallerIdentity";

	sbx_wire_form_action(form, strlen(form), action, sizeof(action), version, sizeof(version));
	assert_string_equal(version, "2011-06-15");
	/* truncated to the buffer, never overflowing it */
	assert_string_equal(action, "GetCallerIdenti");
	sbx_wire_form_action("", 0, action, sizeof(action), version, sizeof(version));
	assert_string_equal(action, "");
	assert_string_equal(version, "");
}

struct xml_case {
	const char *name;
	const char *service;
	const char *op;
	const char *hints;
	const char *json;
	const char *want_result; /* the text between <OpResponse ...> and <ResponseMetadata> */
};

static const struct xml_case xml_cases[] = {
	{ "struct, bool, int, escaping", "iam", "GetRole", NULL,
	  "{\"Role\":{\"RoleName\":\"a<&>\\\"'\",\"MaxSessionDuration\":3600,\"X\":true,\"N\":null}}",
	  "<GetRoleResult><Role><RoleName>a&lt;&amp;&gt;&quot;&apos;</RoleName>"
	  "<MaxSessionDuration>3600</MaxSessionDuration><X>true</X></Role></GetRoleResult>" },
	{ "lists as member", "iam", "ListRolePolicies", NULL,
	  "{\"PolicyNames\":[\"a\",\"b\"],\"IsTruncated\":false,\"Empty\":[]}",
	  "<ListRolePoliciesResult><PolicyNames><member>a</member><member>b</member></PolicyNames>"
	  "<IsTruncated>false</IsTruncated><Empty></Empty></ListRolePoliciesResult>" },
	{ "list of structs", "iam", "ListAttachedRolePolicies", NULL,
	  "{\"AttachedPolicies\":[{\"PolicyName\":\"p\",\"PolicyArn\":\"arn\"}]}",
	  "<ListAttachedRolePoliciesResult><AttachedPolicies><member><PolicyName>p</PolicyName>"
	  "<PolicyArn>arn</PolicyArn></member></AttachedPolicies></ListAttachedRolePoliciesResult>" },
	{ "hinted map", "sns", "GetTopicAttributes", "Attributes:map",
	  "{\"Attributes\":{\"TopicArn\":\"t\"}}",
	  "<GetTopicAttributesResult><Attributes><entry><key>TopicArn</key><value>t</value></entry>"
	  "</Attributes></GetTopicAttributesResult>" },
	{ "unhinted object is a struct", "sns", "X", NULL, "{\"Attributes\":{\"TopicArn\":\"t\"}}",
	  "<XResult><Attributes><TopicArn>t</TopicArn></Attributes></XResult>" },
	{ "empty output keeps its Result wrapper", "iam", "DeleteRole", NULL, "{}",
	  "<DeleteRoleResult/>" },
	{ "empty SNS TagResource result", "sns", "TagResource", NULL, "{}", "<TagResourceResult/>" },
	{ "null output keeps its Result wrapper", "sns", "UntagResource", NULL, "null",
	  "<UntagResourceResult/>" },
	{ "SQS QueueUrls is flattened in replies", "sqs", "ListQueues", NULL,
	  "{\"QueueUrls\":[\"u1\",\"u2\"]}",
	  "<ListQueuesResult><QueueUrl>u1</QueueUrl><QueueUrl>u2</QueueUrl></ListQueuesResult>" },
	{ "SQS flattened lists and maps", "sqs", "ReceiveMessage", NULL,
	  "{\"Messages\":[{\"MessageId\":\"m\",\"Attributes\":{\"SenderId\":\"s\"},"
	  "\"MessageAttributes\":{\"k\":{\"StringValue\":\"v\",\"DataType\":\"String\"}}}]}",
	  "<ReceiveMessageResult><Message><MessageId>m</MessageId><Attribute><Name>SenderId</Name>"
	  "<Value>s</Value></Attribute><MessageAttribute><Name>k</Name><Value><StringValue>v"
	  "</StringValue><DataType>String</DataType></Value></MessageAttribute></Message>"
	  "</ReceiveMessageResult>" },
	{ "SQS batch results", "sqs", "DeleteMessageBatch", NULL,
	  "{\"Successful\":[{\"Id\":\"a\"}],\"Failed\":[{\"Id\":\"b\",\"SenderFault\":true}]}",
	  "<DeleteMessageBatchResult><DeleteMessageBatchResultEntry><Id>a</Id>"
	  "</DeleteMessageBatchResultEntry><BatchResultErrorEntry><Id>b</Id><SenderFault>true"
	  "</SenderFault></BatchResultErrorEntry></DeleteMessageBatchResult>" },
	{ "control characters", "iam", "X", NULL, "{\"M\":\"a\\r\\nb\\u0001\\tc\"}",
	  "<XResult><M>a&#xD;\nb?\tc</M></XResult>" },
};

static void test_xml_cases(void **state)
{
	for (size_t i = 0; i < sizeof(xml_cases) / sizeof(xml_cases[0]); i++) {
		const struct xml_case *c = &xml_cases[i];
		json_error_t jerr;
		json_t *in = json_loads(c->json, JSON_DECODE_ANY, &jerr);
		struct aws_buf out, want;

		print_message("case: %s\n", c->name);
		assert_non_null(in);
		aws_buf_init(&out, 0);
		aws_buf_init(&want, 0);
		assert_int_equal(sbx_wire_result_xml(&out, c->service, c->op, "urn:ns", in, c->hints,
						     "rid-1"), 0);
		assert_int_equal(aws_buf_printf(&want, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
						"<%sResponse xmlns=\"urn:ns\">%s<ResponseMetadata>"
						"<RequestId>rid-1</RequestId></ResponseMetadata>"
						"</%sResponse>\n", c->op, c->want_result, c->op), 0);
		assert_string_equal(aws_buf_str(&out), aws_buf_str(&want));
		aws_buf_cleanup(&out);
		aws_buf_cleanup(&want);
		json_decref(in);
	}
}

static void test_error_xml(void **state)
{
	struct aws_buf out;

	aws_buf_init(&out, 0);
	assert_int_equal(sbx_wire_error_xml(&out, "https://iam.amazonaws.com/doc/2010-05-08/",
					    "Sender", "NoSuchEntity", "role <r> not found", "id"), 0);
	assert_string_equal(aws_buf_str(&out),
			    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse xmlns=\""
			    "https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>"
			    "<Code>NoSuchEntity</Code><Message>role &lt;r&gt; not found</Message>"
			    "</Error><RequestId>id</RequestId></ErrorResponse>\n");
	aws_buf_cleanup(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_form_cases),
		cmocka_unit_test(test_form_action),
		cmocka_unit_test(test_xml_cases),
		cmocka_unit_test(test_error_xml),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
