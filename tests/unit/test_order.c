/* test_order.c: the order schema, hostile bodies, the DynamoDB item, SQS event records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/client/buf.h"
#include "lambdas/order-writer/order.h"

/* The SQS event shape from the Lambda documentation (two records). */
static const char sqs_event[] =
	"{\"Records\":[{\"messageId\":\"059f36b4-87a3-44ab-83d2-661975830a7d\","
	"\"receiptHandle\":\"AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...\","
	"\"body\":\"{\\\"item\\\":\\\"widget\\\",\\\"quantity\\\":2}\","
	"\"attributes\":{\"ApproximateReceiveCount\":\"1\",\"SentTimestamp\":\"1545082649183\","
	"\"SenderId\":\"AIDAIENQZJOLO23YVJ4VO\",\"ApproximateFirstReceiveTimestamp\":\"1545082649185\"},"
	"\"messageAttributes\":{},\"md5OfBody\":\"e4e68fb7bd0e697a0ae8f1bb342846b3\","
	"\"eventSource\":\"aws:sqs\",\"eventSourceARN\":\"arn:aws:sqs:us-east-2:123456789012:my-queue\","
	"\"awsRegion\":\"us-east-2\"},"
	"{\"messageId\":\"2e1424d4-f796-459a-8184-9c92662be6da\","
	"\"receiptHandle\":\"AQEBzWwaftRI0KuVm4tP+/7q1rGgNqicHq...\",\"body\":\"Test message.\","
	"\"attributes\":{\"ApproximateReceiveCount\":\"1\",\"SentTimestamp\":\"not-a-number\","
	"\"SenderId\":\"AIDAIENQZJOLO23YVJ4VO\",\"ApproximateFirstReceiveTimestamp\":\"1545082650649\"},"
	"\"messageAttributes\":{},\"md5OfBody\":\"e4e68fb7bd0e697a0ae8f1bb342846b3\","
	"\"eventSource\":\"aws:sqs\",\"eventSourceARN\":\"arn:aws:sqs:us-east-2:123456789012:my-queue\","
	"\"awsRegion\":\"us-east-2\"}]}";

/* A body and whether it is a valid order; for invalid ones, a word the reason must hold. */
struct body_case {
	const char *name;
	const char *body;
	int valid;
	const char *why_has;
};

static const struct body_case body_cases[] = {
	{ "minimal", "{\"item\":\"widget\"}", 1, NULL },
	{ "full", "{\"orderID\":\"A-1\",\"item\":\"w\",\"quantity\":10000,\"customerID\":\"c\"}", 1, NULL },
	{ "quantity 1", "{\"item\":\"w\",\"quantity\":1}", 1, NULL },
	{ "integral real quantity", "{\"item\":\"w\",\"quantity\":5.0}", 1, NULL },
	{ "extra fields ignored", "{\"item\":\"w\",\"note\":{\"a\":[1,2]}}", 1, NULL },
	{ "unicode item", "{\"item\":\"\\u00e9t\\u00e9 \\ud83d\\ude00\"}", 1, NULL },
	{ "empty customer", "{\"item\":\"w\",\"customerID\":\"\"}", 1, NULL },
	{ "not JSON", "this is not json", 0, "not JSON" },
	{ "empty body", "", 0, "not JSON" },
	{ "array", "[{\"item\":\"w\"}]", 0, "object" },
	{ "string", "\"item\"", 0, "not JSON" },
	{ "null", "null", 0, "not JSON" },
	{ "missing item", "{\"quantity\":2}", 0, "item is required" },
	{ "empty item", "{\"item\":\"\"}", 0, "item must be 1 to 256" },
	{ "item number", "{\"item\":42}", 0, "item must be a string" },
	{ "item null", "{\"item\":null}", 0, "item must be a string" },
	{ "item object", "{\"item\":{\"S\":\"w\"}}", 0, "item must be a string" },
	{ "quantity 0", "{\"item\":\"w\",\"quantity\":0}", 0, "quantity must be 1 to 10000" },
	{ "quantity 10001", "{\"item\":\"w\",\"quantity\":10001}", 0, "quantity must be 1 to 10000" },
	{ "quantity negative", "{\"item\":\"w\",\"quantity\":-5}", 0, "quantity must be 1" },
	{ "quantity huge", "{\"item\":\"w\",\"quantity\":99999999999999999999999}", 0, "not JSON" },
	{ "quantity fraction", "{\"item\":\"w\",\"quantity\":1.5}", 0, "integer" },
	{ "quantity string", "{\"item\":\"w\",\"quantity\":\"3\"}", 0, "integer" },
	{ "quantity bool", "{\"item\":\"w\",\"quantity\":true}", 0, "integer" },
	{ "orderID number", "{\"item\":\"w\",\"orderID\":7}", 0, "orderID must be a string" },
	{ "orderID empty", "{\"item\":\"w\",\"orderID\":\"\"}", 0, "orderID must be 1" },
	{ "customerID array", "{\"item\":\"w\",\"customerID\":[]}", 0, "customerID must be" },
	{ "duplicate keys", "{\"item\":\"a\",\"item\":\"b\"}", 0, "not JSON" },
	{ "NUL escape", "{\"item\":\"a\\u0000b\"}", 0, "not JSON" },
	{ "invalid UTF-8", "{\"item\":\"\xff\xfe\"}", 0, "not JSON" },
	{ "lone surrogate", "{\"item\":\"\\ud800\"}", 0, "not JSON" },
	{ "trailing garbage", "{\"item\":\"w\"} x", 0, "not JSON" },
};

static void test_body_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(body_cases) / sizeof(body_cases[0]); i++) {
		const struct body_case *c = &body_cases[i];
		struct lrt_order o = { 0 };
		char why[256] = "";
		int rc = lrt_order_parse(c->body, strlen(c->body), &o, why, sizeof(why));

		if ((rc == 0) != c->valid)
			fail_msg("case '%s': parse returned %d (%s)", c->name, rc, why);
		if (!c->valid && !strstr(why, c->why_has))
			fail_msg("case '%s': reason '%s' lacks '%s'", c->name, why, c->why_has);
		lrt_order_cleanup(&o);
	}
}

static void test_fields_and_defaults(void **state)
{
	struct lrt_order o = { 0 };
	char why[256];
	const char *b1 = "{\"orderID\":\"A-1\",\"item\":\"widget\",\"quantity\":7,\"customerID\":\"c-9\"}";
	const char *b2 = "{\"item\":\"widget\",\"customerID\":\"\"}";

	(void)state;
	assert_int_equal(lrt_order_parse(b1, strlen(b1), &o, why, sizeof(why)), 0);
	assert_string_equal(o.order_id, "A-1");
	assert_string_equal(o.item, "widget");
	assert_int_equal(o.quantity, 7);
	assert_string_equal(o.customer_id, "c-9");
	lrt_order_cleanup(&o);
	assert_int_equal(lrt_order_parse(b2, strlen(b2), &o, why, sizeof(why)), 0);
	assert_null(o.order_id);
	assert_int_equal(o.quantity, 1);
	assert_null(o.customer_id);
	lrt_order_cleanup(&o);
}

/* {"item":"<n copies of ch>"} */
static char *item_body(const char *ch, int n)
{
	struct aws_buf b;

	aws_buf_init(&b, 0);
	aws_buf_adds(&b, "{\"item\":\"");
	for (int i = 0; i < n; i++)
		aws_buf_adds(&b, ch);
	aws_buf_adds(&b, "\"}");
	return aws_buf_take(&b);
}

static void test_item_length_in_characters(void **state)
{
	static const struct {
		const char *ch; /* one character: 1, 2, 3 and 4 UTF-8 bytes */
		int n;
		int valid;
	} cases[] = {
		{ "a", 256, 1 }, { "a", 257, 0 },
		{ "\xc3\xa9", 256, 1 }, { "\xc3\xa9", 257, 0 },         /* é: 512 bytes is fine */
		{ "\xe2\x82\xac", 256, 1 }, { "\xe2\x82\xac", 257, 0 }, /* € */
		{ "\xf0\x9f\x98\x80", 256, 1 }, { "\xf0\x9f\x98\x80", 257, 0 }, /* 😀 */
		{ "\\u00e9", 256, 1 }, { "\\ud83d\\ude00", 257, 0 },   /* escaped forms count too */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct lrt_order o = { 0 };
		char why[256] = "", *body = item_body(cases[i].ch, cases[i].n);
		int rc = lrt_order_parse(body, strlen(body), &o, why, sizeof(why));

		if ((rc == 0) != cases[i].valid)
			fail_msg("case %zu (%d x '%s'): rc %d (%s)", i, cases[i].n, cases[i].ch, rc, why);
		if (rc == 0)
			assert_int_equal(lrt_utf8_chars(o.item), cases[i].n);
		lrt_order_cleanup(&o);
		free(body);
	}
}

static void test_huge_and_deep(void **state)
{
	struct lrt_order o = { 0 };
	struct aws_buf b;
	char why[256];

	(void)state;
	/* a body over the 256 KiB cap is refused before parsing */
	aws_buf_init(&b, 0);
	aws_buf_adds(&b, "{\"item\":\"w\",\"pad\":\"");
	while (b.len < LRT_ORDER_MAX_BODY)
		aws_buf_adds(&b, "xxxxxxxxxxxxxxxx");
	aws_buf_adds(&b, "\"}");
	assert_int_equal(lrt_order_parse(b.data, b.len, &o, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "limit"));
	aws_buf_cleanup(&b);

	/* 100k levels of nesting: refused (the parser has a depth limit), no crash */
	aws_buf_init(&b, 0);
	aws_buf_adds(&b, "{\"item\":\"w\",\"deep\":");
	for (int i = 0; i < 100000; i++)
		aws_buf_addc(&b, '[');
	for (int i = 0; i < 100000; i++)
		aws_buf_addc(&b, ']');
	aws_buf_addc(&b, '}');
	assert_int_equal(lrt_order_parse(b.data, b.len, &o, why, sizeof(why)), -1);
	aws_buf_cleanup(&b);

	/* moderate nesting in an ignored field is fine */
	aws_buf_init(&b, 0);
	aws_buf_adds(&b, "{\"item\":\"w\",\"deep\":");
	for (int i = 0; i < 100; i++)
		aws_buf_addc(&b, '[');
	for (int i = 0; i < 100; i++)
		aws_buf_addc(&b, ']');
	aws_buf_addc(&b, '}');
	assert_int_equal(lrt_order_parse(b.data, b.len, &o, why, sizeof(why)), 0);
	lrt_order_cleanup(&o);
	aws_buf_cleanup(&b);

	/* a body that is not NUL-terminated is read only to len */
	assert_int_equal(lrt_order_parse("{\"item\":\"w\"}GARBAGE", 12, &o, why, sizeof(why)), 0);
	lrt_order_cleanup(&o);
}

static void test_rfc3339(void **state)
{
	char out[40];

	(void)state;
	assert_int_equal(lrt_rfc3339_ms(0, out, sizeof(out)), 0);
	assert_string_equal(out, "1970-01-01T00:00:00.000Z");
	assert_int_equal(lrt_rfc3339_ms(1545082649183LL, out, sizeof(out)), 0);
	assert_string_equal(out, "2018-12-17T21:37:29.183Z");
	assert_int_equal(lrt_rfc3339_ms(1709210096007LL, out, sizeof(out)), 0); /* leap day */
	assert_string_equal(out, "2024-02-29T12:34:56.007Z");
	assert_int_equal(lrt_rfc3339_ms(-1, out, sizeof(out)), -1);
	assert_int_equal(lrt_rfc3339_ms(0, out, 10), -1);
}

static void test_item(void **state)
{
	struct lrt_order o = { 0 };
	const char *body = "{\"item\":\"widget\",\"quantity\":3,\"customerID\":\"c-9\"}";
	char why[256], *text;
	json_t *item;

	(void)state;
	assert_int_equal(lrt_order_parse(body, strlen(body), &o, why, sizeof(why)), 0);
	item = lrt_order_item(&o, body, strlen(body), "msg-1", 1545082649183LL);
	assert_non_null(item);
	text = json_dumps(item, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(text,
			    "{\"customerID\":{\"S\":\"c-9\"},\"item\":{\"S\":\"widget\"},"
			    "\"messageId\":{\"S\":\"msg-1\"},"
			    "\"order\":{\"S\":\"{\\\"item\\\":\\\"widget\\\",\\\"quantity\\\":3,"
			    "\\\"customerID\\\":\\\"c-9\\\"}\"},"
			    "\"orderID\":{\"S\":\"msg-1\"},\"quantity\":{\"N\":\"3\"},"
			    "\"receivedAt\":{\"S\":\"2018-12-17T21:37:29.183Z\"}}");
	free(text);
	json_decref(item);
	lrt_order_cleanup(&o);

	/* the body's own orderID wins; no customerID attribute when none is given */
	body = "{\"orderID\":\"A-1\",\"item\":\"w\"}";
	assert_int_equal(lrt_order_parse(body, strlen(body), &o, why, sizeof(why)), 0);
	item = lrt_order_item(&o, body, strlen(body), "msg-2", 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(item, "orderID"), "S")),
			    "A-1");
	assert_null(json_object_get(item, "customerID"));
	json_decref(item);
	lrt_order_cleanup(&o);
}

static void test_sqs_records(void **state)
{
	struct lrt_sqs_record *recs = NULL;
	size_t n = 0;
	char why[256];
	json_t *ev = json_loads(sqs_event, 0, NULL);

	(void)state;
	assert_non_null(ev);
	assert_int_equal(lrt_sqs_records(ev, &recs, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(recs[0].message_id, "059f36b4-87a3-44ab-83d2-661975830a7d");
	assert_string_equal(recs[0].body, "{\"item\":\"widget\",\"quantity\":2}");
	assert_int_equal(recs[0].body_len, strlen(recs[0].body));
	assert_int_equal(recs[0].sent_ms, 1545082649183LL);
	assert_string_equal(recs[1].body, "Test message.");
	assert_int_equal(recs[1].sent_ms, 0); /* malformed SentTimestamp */
	free(recs);
	json_decref(ev);

	/* not an SQS event */
	ev = json_loads("{\"Records\":{}}", 0, NULL);
	assert_int_equal(lrt_sqs_records(ev, &recs, &n, why, sizeof(why)), -1);
	json_decref(ev);
	/* records without messageId or body are reported as such */
	ev = json_loads("{\"Records\":[{\"body\":5},{\"messageId\":\"\"}]}", 0, NULL);
	assert_int_equal(lrt_sqs_records(ev, &recs, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 2);
	assert_null(recs[0].message_id);
	assert_null(recs[0].body);
	assert_null(recs[1].message_id);
	free(recs);
	json_decref(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body_cases),
		cmocka_unit_test(test_fields_and_defaults),
		cmocka_unit_test(test_item_length_in_characters),
		cmocka_unit_test(test_huge_and_deep),
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_item),
		cmocka_unit_test(test_sqs_records),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
