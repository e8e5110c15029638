/* test_stack_policy.c: the policy template renderer, table-driven, and the shipped templates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "aws/stack/policy.h"

static const struct stack_policy_vars poc = { "eu-west-1", "123456789012", "POC", "" };
static const struct stack_policy_vars dev = { "us-east-1", "000000000000", "dev", "dev-" };

struct render_case {
	const char *tmpl;
	const struct stack_policy_vars *vars;
	const char *want; /* NULL: must fail */
	const char *why;  /* substring of the failure */
};

static const struct render_case cases[] = {
	{ "", &poc, "", NULL },
	{ "no placeholders", &poc, "no placeholders", NULL },
	{ "arn:aws:sqs:${Region}:${Account}:${Prefix}POC-Queue", &poc,
	  "arn:aws:sqs:eu-west-1:123456789012:POC-Queue", NULL },
	{ "arn:aws:sqs:${Region}:${Account}:${Prefix}POC-Queue", &dev,
	  "arn:aws:sqs:us-east-1:000000000000:dev-POC-Queue", NULL },
	{ "${Stack}/${Stack}", &dev, "dev/dev", NULL },
	{ "$Region {Region} $", &poc, "$Region {Region} $", NULL },
	{ "${Region}${Account}", &poc, "eu-west-1123456789012", NULL },
	{ "x ${Unknown} y", &poc, NULL, "unknown placeholder ${Unknown}" },
	{ "x ${Region", &poc, NULL, "unterminated" },
	{ "${}", &poc, NULL, "unknown placeholder" },
};

static void test_render_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char why[256] = "";
		char *got = stack_policy_render(cases[i].tmpl, cases[i].vars, why, sizeof(why));

		if (cases[i].want) {
			assert_non_null(got);
			assert_string_equal(got, cases[i].want);
		} else {
			assert_null(got);
			assert_non_null(strstr(why, cases[i].why));
		}
		free(got);
	}
}

static void test_missing_value(void **state)
{
	struct stack_policy_vars v = { NULL, "1", "POC", NULL };
	char why[256] = "";
	char *got;

	(void)state;
	got = stack_policy_render("${Prefix}x", &v, why, sizeof(why));
	assert_string_equal(got, "x"); /* Prefix may be empty */
	free(got);
	got = stack_policy_render("${Region}", &v, why, sizeof(why));
	assert_null(got);
	assert_non_null(strstr(why, "no value for ${Region}"));
}

/* Every shipped template renders to valid JSON, without a placeholder left, and scoped:
 * "Resource": "*" appears only for dynamodb:ListStreams (not scopable in IAM). */
static void test_shipped_templates(void **state)
{
	static const char *const files[] = {
		"policies/Lambda-Write-DynamoDB.json", "policies/Lambda-Read-SQS.json",
		"policies/Lambda-DynamoDBStreams-Read.json", "policies/Lambda-SNS-Publish.json",
		"policies/APIGateway-SQS-Send.json", "policies/trust/lambda.json",
		"policies/trust/apigateway.json",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		FILE *f = fopen(files[i], "rb");
		char buf[16384], why[256] = "", *out;
		size_t n;
		json_t *doc, *st;
		size_t k;

		if (!f) {
			skip(); /* not run from the repository root */
			return;
		}
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		out = stack_policy_render(buf, &dev, why, sizeof(why));
		assert_non_null(out);
		assert_null(strstr(out, "${"));
		doc = json_loads(out, 0, NULL);
		assert_non_null(doc);
		json_array_foreach(json_object_get(doc, "Statement"), k, st) {
			const char *res = json_string_value(json_object_get(st, "Resource"));

			if (res && strcmp(res, "*") == 0)
				assert_string_equal(json_string_value(json_object_get(st, "Action")),
						    "dynamodb:ListStreams");
			else if (res)
				assert_non_null(strstr(res, "dev-"));
		}
		json_decref(doc);
		free(out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_table),
		cmocka_unit_test(test_missing_value),
		cmocka_unit_test(test_shipped_templates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
