/* test_iam_policy.c: the IAM policy evaluator, case by case: wildcards, Deny over Allow,
 * NotAction/NotResource, resource policies' principals, conditions, malformed documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "aws/sandbox/iam_policy.h"

#define TABLE "arn:aws:dynamodb:us-east-1:000000000000:table/orders"
#define QUEUE "arn:aws:sqs:us-east-1:000000000000:POC-Queue"
#define ROLE "arn:aws:iam::000000000000:role/writer"
#define SESSION "arn:aws:sts::000000000000:assumed-role/writer/fn"

struct wcase {
	const char *pattern, *text;
	int nocase, want;
};

static const struct wcase wcases[] = {
	{ "*", "", 0, 1 },
	{ "*", "anything", 0, 1 },
	{ "", "", 0, 1 },
	{ "", "x", 0, 0 },
	{ "dynamodb:*", "dynamodb:PutItem", 1, 1 },
	{ "dynamodb:*", "sqs:SendMessage", 1, 0 },
	{ "dynamodb:Put*", "dynamodb:PutItem", 1, 1 },
	{ "dynamodb:Put*", "dynamodb:GetItem", 1, 0 },
	{ "DYNAMODB:putitem", "dynamodb:PutItem", 1, 1 },
	{ "DYNAMODB:putitem", "dynamodb:PutItem", 0, 0 },
	{ "sqs:?endMessage", "sqs:SendMessage", 1, 1 },
	{ "sqs:?endMessage", "sqs:endMessage", 1, 0 },
	{ "*:*Item", "dynamodb:UpdateItem", 1, 1 },
	{ "a*b*c", "aXXbYYc", 0, 1 },
	{ "a*b*c", "aXXbYY", 0, 0 },
	{ "a*bc", "abcbc", 0, 1 },
	{ "arn:aws:sqs:*:*:POC-*", QUEUE, 0, 1 },
	{ "arn:aws:sqs:*:*:poc-*", QUEUE, 0, 0 },
	{ "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/f:*",
	  "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/f:log-stream:s", 0, 1 },
	{ "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/f:*",
	  "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/g:*", 0, 0 },
	{ "**?", "x", 0, 1 },
	{ "**?", "", 0, 0 },
};

static void test_wildcards(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(wcases) / sizeof(wcases[0]); i++) {
		int got = iam_wildcard_match(wcases[i].pattern, wcases[i].text, wcases[i].nocase);

		if (got != wcases[i].want)
			fail_msg("'%s' vs '%s' (nocase %d): got %d", wcases[i].pattern, wcases[i].text,
				 wcases[i].nocase, got);
	}
}

/* One decision: documents (NULL-terminated), a request, the expected answer. */
struct dcase {
	const char *name;
	const char *docs[3];
	const char *action, *resource;
	const struct iam_principal *principal;
	enum iam_decision want;
	const char *which;  /* expected deciding statement, NULL: not checked */
};

static const struct iam_principal writer = { ROLE, SESSION, "000000000000", NULL };
static const struct iam_principal other = { "arn:aws:iam::000000000000:role/other",
	"arn:aws:sts::000000000000:assumed-role/other/s", "000000000000", NULL };
static const struct iam_principal sns = { NULL, NULL, "000000000000", "sns.amazonaws.com" };

static const char writer_policy[] =
	"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"WriteOrders\",\"Effect\":\"Allow\","
	"\"Action\":[\"dynamodb:PutItem\",\"dynamodb:DescribeTable\"],\"Resource\":\"" TABLE "\"}]}";

static const struct dcase dcases[] = {
	{ "allowed action", { writer_policy }, "dynamodb:PutItem", TABLE, NULL, IAM_ALLOW,
	  "p0#WriteOrders" },
	{ "action case-insensitive", { writer_policy }, "DynamoDB:putitem", TABLE, NULL, IAM_ALLOW,
	  NULL },
	{ "missing action", { writer_policy }, "dynamodb:DeleteItem", TABLE, NULL,
	  IAM_IMPLICIT_DENY, "" },
	{ "other table", { writer_policy }, "dynamodb:PutItem",
	  "arn:aws:dynamodb:us-east-1:000000000000:table/other", NULL, IAM_IMPLICIT_DENY, "" },
	{ "resource case-sensitive", { writer_policy }, "dynamodb:PutItem",
	  "arn:aws:dynamodb:us-east-1:000000000000:table/ORDERS", NULL, IAM_IMPLICIT_DENY, NULL },
	{ "no documents", { NULL }, "dynamodb:PutItem", TABLE, NULL, IAM_IMPLICIT_DENY, "" },
	{ "deny wins over allow",
	  { "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"dynamodb:*\",\"Resource\":\"*\"}}",
	    "{\"Statement\":[{\"Sid\":\"NoPuts\",\"Effect\":\"Deny\",\"Action\":\"dynamodb:Put*\","
	    "\"Resource\":\"*\"}]}" },
	  "dynamodb:PutItem", TABLE, NULL, IAM_EXPLICIT_DENY, "p1#NoPuts" },
	{ "deny elsewhere leaves allow",
	  { "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"dynamodb:*\",\"Resource\":\"*\"}}",
	    "{\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"dynamodb:Put*\","
	    "\"Resource\":\"arn:aws:dynamodb:*:*:table/audit\"}]}" },
	  "dynamodb:PutItem", TABLE, NULL, IAM_ALLOW, "p0#0" },
	{ "NotAction allows the rest",
	  { "{\"Statement\":{\"Effect\":\"Allow\",\"NotAction\":[\"iam:*\",\"sqs:Delete*\"],"
	    "\"Resource\":\"*\"}}" },
	  "sqs:SendMessage", QUEUE, NULL, IAM_ALLOW, NULL },
	{ "NotAction excludes",
	  { "{\"Statement\":{\"Effect\":\"Allow\",\"NotAction\":[\"iam:*\",\"sqs:Delete*\"],"
	    "\"Resource\":\"*\"}}" },
	  "sqs:DeleteMessage", QUEUE, NULL, IAM_IMPLICIT_DENY, NULL },
	{ "NotAction deny",
	  { "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"},"
	    "{\"Effect\":\"Deny\",\"NotAction\":\"sqs:*\",\"Resource\":\"*\"}]}" },
	  "dynamodb:PutItem", TABLE, NULL, IAM_EXPLICIT_DENY, "p0#1" },
	{ "NotResource allows others",
	  { "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"sqs:*\",\"NotResource\":"
	    "\"arn:aws:sqs:*:*:*-DLQ\"}}" },
	  "sqs:SendMessage", QUEUE, NULL, IAM_ALLOW, NULL },
	{ "NotResource excludes",
	  { "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"sqs:*\",\"NotResource\":"
	    "\"arn:aws:sqs:*:*:*-DLQ\"}}" },
	  "sqs:SendMessage", "arn:aws:sqs:us-east-1:000000000000:POC-DLQ", NULL,
	  IAM_IMPLICIT_DENY, NULL },
	{ "condition treated as met",
	  { "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"sqs:SendMessage\",\"Resource\":"
	    "\"*\",\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"true\"}}}}" },
	  "sqs:SendMessage", QUEUE, NULL, IAM_ALLOW, NULL },
	{ "queue policy names the role",
	  { "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" ROLE "\"},"
	    "\"Action\":\"sqs:ReceiveMessage\",\"Resource\":\"" QUEUE "\"}}" },
	  "sqs:ReceiveMessage", QUEUE, &writer, IAM_ALLOW, NULL },
	{ "queue policy names another role",
	  { "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" ROLE "\"},"
	    "\"Action\":\"sqs:ReceiveMessage\",\"Resource\":\"" QUEUE "\"}}" },
	  "sqs:ReceiveMessage", QUEUE, &other, IAM_IMPLICIT_DENY, NULL },
	{ "queue policy names the session",
	  { "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"x\",\"" SESSION "\"]},"
	    "\"Action\":\"sqs:*\",\"Resource\":\"" QUEUE "\"}}" },
	  "sqs:SendMessage", QUEUE, &writer, IAM_ALLOW, NULL },
	{ "queue policy for everyone",
	  { "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"sqs:*\"}}" },
	  "sqs:SendMessage", QUEUE, &other, IAM_ALLOW, NULL },
	{ "account principal grants nothing by itself",
	  { "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
	    "\"arn:aws:iam::000000000000:root\"},\"Action\":\"sqs:*\",\"Resource\":\"*\"}}" },
	  "sqs:SendMessage", QUEUE, &writer, IAM_IMPLICIT_DENY, NULL },
	{ "account principal denies its roles",
	  { "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"sqs:*\"},"
	    "{\"Effect\":\"Deny\",\"Principal\":{\"AWS\":\"000000000000\"},\"Action\":"
	    "\"sqs:DeleteQueue\"}]}" },
	  "sqs:DeleteQueue", QUEUE, &writer, IAM_EXPLICIT_DENY, NULL },
	{ "service principal",
	  { "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"sns.amazonaws.com\"},"
	    "\"Action\":\"sqs:SendMessage\",\"Resource\":\"" QUEUE "\",\"Condition\":{\"ArnEquals\":"
	    "{\"aws:SourceArn\":\"arn:aws:sns:us-east-1:000000000000:POC-Topic\"}}}}" },
	  "sqs:SendMessage", QUEUE, &sns, IAM_ALLOW, NULL },
	{ "service principal not named",
	  { "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" ROLE "\"},"
	    "\"Action\":\"sqs:SendMessage\",\"Resource\":\"" QUEUE "\"}}" },
	  "sqs:SendMessage", QUEUE, &sns, IAM_IMPLICIT_DENY, NULL },
	{ "NotPrincipal",
	  { "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"sqs:*\"},"
	    "{\"Effect\":\"Deny\",\"NotPrincipal\":{\"AWS\":\"" ROLE "\"},\"Action\":\"sqs:*\"}]}" },
	  "sqs:SendMessage", QUEUE, &other, IAM_EXPLICIT_DENY, NULL },
	{ "NotPrincipal spares the named",
	  { "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"sqs:*\"},"
	    "{\"Effect\":\"Deny\",\"NotPrincipal\":{\"AWS\":\"" ROLE "\"},\"Action\":\"sqs:*\"}]}" },
	  "sqs:SendMessage", QUEUE, &writer, IAM_ALLOW, NULL },
	{ "identity statement with a Principal does not apply to resource requests",
	  { writer_policy }, "dynamodb:PutItem", TABLE, &writer, IAM_IMPLICIT_DENY, NULL },
};

static void test_decisions(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(dcases) / sizeof(dcases[0]); i++) {
		const struct dcase *c = &dcases[i];
		struct iam_policy_set *set = iam_policy_set_new();
		struct iam_request req = { c->action, c->resource, c->principal };
		char err[256], which[200], source[16];
		enum iam_decision got;

		assert_non_null(set);
		for (int d = 0; d < 3 && c->docs[d]; d++) {
			snprintf(source, sizeof(source), "p%d", d);
			if (iam_policy_set_add(set, c->docs[d], source, NULL, err, sizeof(err)) != 0)
				fail_msg("%s: document %d rejected: %s", c->name, d, err);
		}
		got = iam_policy_eval(set, &req, which, sizeof(which));
		if (got != c->want)
			fail_msg("%s: decision %d, want %d (%s)", c->name, got, c->want, which);
		if (c->which && strcmp(which, c->which) != 0)
			fail_msg("%s: decided by '%s', want '%s'", c->name, which, c->which);
		iam_policy_set_free(set);
	}
}

static const char *const bad_docs[] = {
	"not json",
	"[]",
	"{}",
	"{\"Statement\":\"x\"}",
	"{\"Statement\":[{\"Effect\":\"Maybe\",\"Action\":\"*\",\"Resource\":\"*\"}]}",
	"{\"Statement\":[{\"Effect\":\"Allow\",\"Resource\":\"*\"}]}",
	"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"NotAction\":\"x\",\"Resource\":\"*\"}]}",
	"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[1],\"Resource\":\"*\"}]}",
	"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":[]}]}",
	("{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\","
	 "\"NotResource\":\"*\"}]}"),
	"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Principal\":\"me\"}]}",
	/* one good statement does not save a bad one */
	"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"},7]}",
};

static void test_malformed(void **state)
{
	struct iam_policy_set *set = iam_policy_set_new();
	struct iam_request req = { "sqs:SendMessage", QUEUE, NULL };
	char err[256];
	int conds = -1;

	(void)state;
	assert_non_null(set);
	for (size_t i = 0; i < sizeof(bad_docs) / sizeof(bad_docs[0]); i++) {
		err[0] = '\0';
		if (iam_policy_set_add(set, bad_docs[i], "bad", NULL, err, sizeof(err)) == 0)
			fail_msg("accepted: %s", bad_docs[i]);
		assert_true(err[0] != '\0');
	}
	/* a rejected document leaves the set as it was: still nothing allowed */
	assert_int_equal(iam_policy_set_count(set), 0);
	assert_int_equal(iam_policy_eval(set, &req, NULL, 0), IAM_IMPLICIT_DENY);
	assert_int_equal(iam_policy_set_add(set, "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
					    "\"sqs:*\",\"Resource\":\"*\",\"Condition\":{}},"
					    "{\"Effect\":\"Deny\",\"Action\":\"sqs:Delete*\","
					    "\"Resource\":\"*\",\"Condition\":{}}]}", "ok",
					    &conds, err, sizeof(err)), 0);
	assert_int_equal(conds, 2);
	assert_int_equal(iam_policy_set_count(set), 2);
	assert_int_equal(iam_policy_eval(set, &req, NULL, 0), IAM_ALLOW);
	iam_policy_set_free(set);
	iam_policy_set_free(NULL);
	assert_int_equal(iam_policy_eval(NULL, &req, NULL, 0), IAM_IMPLICIT_DENY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wildcards),
		cmocka_unit_test(test_decisions),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
