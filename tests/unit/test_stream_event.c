/* test_stream_event.c: DynamoDB stream records, DynamoDB JSON -> plain JSON, the Publish input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/client/buf.h"
#include "lambdas/notifier/event.h"

/* The DynamoDB Streams event shape from the Lambda documentation: INSERT, MODIFY, REMOVE. */
static const char stream_event[] =
	"{\"Records\":["
	"{\"eventID\":\"1\",\"eventVersion\":\"1.0\",\"eventName\":\"INSERT\","
	"\"eventSource\":\"aws:dynamodb\",\"awsRegion\":\"us-east-1\","
	"\"eventSourceARN\":\"arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2015-06-27T00:48:05.899\","
	"\"dynamodb\":{\"ApproximateCreationDateTime\":1479499740,"
	"\"Keys\":{\"orderID\":{\"S\":\"A-1\"}},"
	"\"NewImage\":{\"orderID\":{\"S\":\"A-1\"},\"item\":{\"S\":\"widget\"},\"quantity\":{\"N\":\"3\"},"
	"\"customerID\":{\"S\":\"c-9\"}},"
	"\"SequenceNumber\":\"111\",\"SizeBytes\":26,\"StreamViewType\":\"NEW_IMAGE\"}},"
	"{\"eventID\":\"2\",\"eventVersion\":\"1.0\",\"eventName\":\"MODIFY\","
	"\"eventSource\":\"aws:dynamodb\",\"awsRegion\":\"us-east-1\","
	"\"dynamodb\":{\"Keys\":{\"Id\":{\"N\":\"101\"}},"
	"\"NewImage\":{\"Message\":{\"S\":\"This item has changed\"},\"Id\":{\"N\":\"101\"}},"
	"\"SequenceNumber\":\"222\",\"SizeBytes\":59,\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"}},"
	"{\"eventID\":\"3\",\"eventVersion\":\"1.0\",\"eventName\":\"REMOVE\","
	"\"eventSource\":\"aws:dynamodb\",\"awsRegion\":\"us-east-1\","
	"\"dynamodb\":{\"Keys\":{\"Id\":{\"N\":\"101\"}},"
	"\"SequenceNumber\":\"333\",\"SizeBytes\":38,\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"}}]}";

static void test_records(void **state)
{
	struct lrt_stream_record *recs = NULL;
	size_t n = 0;
	char why[256];
	json_t *ev = json_loads(stream_event, 0, NULL);

	(void)state;
	assert_non_null(ev);
	assert_int_equal(lrt_stream_records(ev, &recs, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 3);
	assert_string_equal(recs[0].event_name, "INSERT");
	assert_string_equal(recs[0].sequence_number, "111");
	assert_non_null(recs[0].new_image);
	assert_non_null(recs[0].keys);
	assert_string_equal(recs[1].event_name, "MODIFY");
	assert_string_equal(recs[2].event_name, "REMOVE");
	assert_null(recs[2].new_image);
	assert_string_equal(recs[2].sequence_number, "333");
	free(recs);
	json_decref(ev);

	ev = json_loads("{\"records\":[]}", 0, NULL);
	assert_int_equal(lrt_stream_records(ev, &recs, &n, why, sizeof(why)), -1);
	json_decref(ev);
	ev = json_loads("{\"Records\":[{\"eventName\":5,\"dynamodb\":{\"SequenceNumber\":7}}]}", 0, NULL);
	assert_int_equal(lrt_stream_records(ev, &recs, &n, why, sizeof(why)), 0);
	assert_null(recs[0].event_name);
	assert_null(recs[0].sequence_number);
	free(recs);
	json_decref(ev);
}

/* Convert the image text, compact; returns a new string or NULL (why filled). */
static char *convert(const char *image_text, int indent, char *why, size_t whylen)
{
	json_t *img = json_loads(image_text, 0, NULL);
	struct aws_buf out;
	char *s = NULL;

	assert_non_null(img);
	aws_buf_init(&out, 0);
	if (lrt_ddb_image_json(img, indent, &out, why, whylen) == 0)
		s = aws_buf_take(&out);
	aws_buf_cleanup(&out);
	json_decref(img);
	return s;
}

static void test_conversion(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "{}", "{}" },
		{ "{\"s\":{\"S\":\"x\\\"y\\n\"}}", "{\"s\":\"x\\\"y\\n\"}" },
		{ "{\"n\":{\"N\":\"42\"}}", "{\"n\":42}" },
		/* numbers stay exact: no rounding through a double */
		{ "{\"n\":{\"N\":\"12345678901234567890123456789012345678\"}}",
		  "{\"n\":12345678901234567890123456789012345678}" },
		{ "{\"n\":{\"N\":\"-0.000000000000000000000000000000000001\"}}",
		  "{\"n\":-0.000000000000000000000000000000000001}" },
		{ "{\"n\":{\"N\":\"1E+5\"}}", "{\"n\":1E+5}" },
		/* not JSON's number grammar: kept as a string, still exact */
		{ "{\"n\":{\"N\":\".5\"}}", "{\"n\":\".5\"}" },
		{ "{\"n\":{\"N\":\"0123\"}}", "{\"n\":\"0123\"}" },
		{ "{\"b\":{\"BOOL\":true},\"f\":{\"BOOL\":false},\"z\":{\"NULL\":true}}",
		  "{\"b\":true,\"f\":false,\"z\":null}" },
		{ "{\"bin\":{\"B\":\"aGVsbG8=\"}}", "{\"bin\":\"aGVsbG8=\"}" },
		{ "{\"ss\":{\"SS\":[\"a\",\"b\"]},\"ns\":{\"NS\":[\"1\",\"2.5\"]},\"bs\":{\"BS\":[\"AA==\"]}}",
		  "{\"bs\":[\"AA==\"],\"ns\":[1,2.5],\"ss\":[\"a\",\"b\"]}" },
		{ "{\"m\":{\"M\":{\"z\":{\"N\":\"1\"},\"a\":{\"L\":[{\"S\":\"x\"},{\"M\":{}},{\"L\":[]}]}}}}",
		  "{\"m\":{\"a\":[\"x\",{},[]],\"z\":1}}" },
		/* keys sorted; unicode kept as UTF-8 */
		{ "{\"\\u00e9\":{\"S\":\"\\u20ac\"},\"a\":{\"S\":\"\"}}",
		  "{\"a\":\"\",\"\xc3\xa9\":\"\xe2\x82\xac\"}" },
	};
	char why[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = convert(cases[i].in, 0, why, sizeof(why));
		json_t *j;

		if (!got)
			fail_msg("case %zu: failed: %s", i, why);
		if (strcmp(got, cases[i].out))
			fail_msg("case %zu: got %s want %s", i, got, cases[i].out);
		/* the output is JSON (big integers read as reals: a jansson limit) */
		j = json_loads(got, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, NULL);
		if (!j)
			fail_msg("case %zu: output is not JSON: %s", i, got);
		json_decref(j);
		free(got);
	}
}

static void test_indented(void **state)
{
	char why[256];
	char *got = convert("{\"b\":{\"L\":[{\"N\":\"1\"}]},\"a\":{\"M\":{}}}", 2, why, sizeof(why));

	(void)state;
	assert_non_null(got);
	assert_string_equal(got, "{\n  \"a\": {},\n  \"b\": [\n    1\n  ]\n}");
	free(got);
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"{\"a\":{\"S\":5}}",
		"{\"a\":{\"N\":7}}",
		"{\"a\":{\"N\":\"\"}}",
		"{\"a\":{\"BOOL\":\"true\"}}",
		"{\"a\":{\"M\":[]}}",
		"{\"a\":{\"L\":{}}}",
		"{\"a\":{\"SS\":[1]}}",
		"{\"a\":{\"NS\":[\"x\",{}]}}",
		"{\"a\":{\"X\":\"?\"}}",
		"{\"a\":{}}",
		"{\"a\":{\"S\":\"x\",\"N\":\"1\"}}",
		"{\"a\":\"plain\"}",
	};
	struct aws_buf b;
	char why[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *got = convert(bad[i], 0, why, sizeof(why));

		if (got)
			fail_msg("case %zu (%s) converted to %s", i, bad[i], got);
	}
	/* deep nesting is refused, not a stack overflow */
	aws_buf_init(&b, 0);
	aws_buf_adds(&b, "{\"a\":");
	for (int i = 0; i < 1000; i++)
		aws_buf_adds(&b, "{\"L\":[");
	aws_buf_adds(&b, "{\"S\":\"x\"}");
	for (int i = 0; i < 1000; i++)
		aws_buf_adds(&b, "]}");
	aws_buf_adds(&b, "}");
	assert_null(convert(b.data, 0, why, sizeof(why)));
	assert_non_null(strstr(why, "deeper"));
	aws_buf_cleanup(&b);
}

static void test_summary(void **state)
{
	static const struct {
		const char *image, *want;
	} cases[] = {
		{ "{\"orderID\":{\"S\":\"A-1\"},\"item\":{\"S\":\"widget\"},\"quantity\":{\"N\":\"3\"},"
		  "\"customerID\":{\"S\":\"c-9\"}}",
		  "Order A-1: 3 x widget for c-9" },
		{ "{\"orderID\":{\"S\":\"A-2\"},\"item\":{\"S\":\"gadget\"},\"quantity\":{\"N\":\"1\"}}",
		  "Order A-2: 1 x gadget" },
		{ "{\"orderID\":{\"S\":\"A-3\"},\"item\":{\"S\":\"evil\\nSubject: x\\r\"}}",
		  "Order A-3: evil Subject: x " },
		{ "{}", "Order: (no item)" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *img = json_loads(cases[i].image, 0, NULL);
		struct aws_buf b;

		aws_buf_init(&b, 0);
		assert_int_equal(lrt_order_summary(img, &b), 0);
		if (strcmp(aws_buf_str(&b), cases[i].want))
			fail_msg("case %zu: got '%s' want '%s'", i, aws_buf_str(&b), cases[i].want);
		aws_buf_cleanup(&b);
		json_decref(img);
	}
}

static void test_publish_input(void **state)
{
	json_t *img = json_loads("{\"orderID\":{\"S\":\"A-1\"},\"item\":{\"S\":\"widget\"},"
				 "\"quantity\":{\"N\":\"3\"}}", 0, NULL);
	json_t *in, *msg;
	char why[256];

	(void)state;
	in = lrt_publish_input("arn:aws:sns:us-east-1:123456789012:POC-Topic", img, why, sizeof(why));
	assert_non_null(in);
	assert_string_equal(json_string_value(json_object_get(in, "TopicArn")),
			    "arn:aws:sns:us-east-1:123456789012:POC-Topic");
	assert_string_equal(json_string_value(json_object_get(in, "Subject")), "New Order Notification");
	assert_string_equal(json_string_value(json_object_get(in, "MessageStructure")), "json");
	msg = json_loads(json_string_value(json_object_get(in, "Message")), 0, NULL);
	assert_non_null(msg);
	assert_string_equal(json_string_value(json_object_get(msg, "default")),
			    "{\"item\":\"widget\",\"orderID\":\"A-1\",\"quantity\":3}");
	assert_string_equal(json_string_value(json_object_get(msg, "email")),
			    "Order A-1: 3 x widget\n\n{\n  \"item\": \"widget\",\n  \"orderID\": \"A-1\",\n"
			    "  \"quantity\": 3\n}\n");
	json_decref(msg);
	json_decref(in);
	json_decref(img);

	img = json_loads("{\"a\":{\"Q\":\"?\"}}", 0, NULL);
	assert_null(lrt_publish_input("arn", img, why, sizeof(why)));
	assert_non_null(strstr(why, "unknown attribute type"));
	json_decref(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_conversion),
		cmocka_unit_test(test_indented),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_publish_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
