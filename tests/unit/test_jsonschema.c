/* test_jsonschema.c: the draft-4 validator behind API Gateway request validation, by case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "aws/sandbox/jsonschema.h"

/* The order model of ARCHITECTURE.md, as the stack creates it. */
static const char order_schema[] =
	"{\"$schema\":\"http://json-schema.org/draft-04/schema#\",\"title\":\"Order\","
	"\"type\":\"object\",\"required\":[\"item\",\"quantity\"],\"properties\":{"
	"\"orderID\":{\"type\":\"string\"},"
	"\"item\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":256},"
	"\"quantity\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10000},"
	"\"customerID\":{\"type\":\"string\"}}}";

struct vcase {
	const char *name;
	const char *schema;   /* NULL: the order schema */
	const char *instance;
	int want;             /* 0 valid, 1 invalid, -1 unusable schema */
};

static const struct vcase cases[] = {
	{ "order minimal", NULL, "{\"item\":\"w\",\"quantity\":1}", 0 },
	{ "order full", NULL, "{\"orderID\":\"o\",\"item\":\"w\",\"quantity\":10000,\"customerID\":\"c\"}", 0 },
	{ "order extra member allowed", NULL, "{\"item\":\"w\",\"quantity\":2,\"note\":1}", 0 },
	{ "order quantity 1.0 is an integer", NULL, "{\"item\":\"w\",\"quantity\":1.0}", 0 },
	{ "order missing item", NULL, "{\"quantity\":1}", 1 },
	{ "order missing quantity", NULL, "{\"item\":\"w\"}", 1 },
	{ "order empty item", NULL, "{\"item\":\"\",\"quantity\":1}", 1 },
	{ "order quantity 0", NULL, "{\"item\":\"w\",\"quantity\":0}", 1 },
	{ "order quantity 10001", NULL, "{\"item\":\"w\",\"quantity\":10001}", 1 },
	{ "order quantity 1.5", NULL, "{\"item\":\"w\",\"quantity\":1.5}", 1 },
	{ "order quantity string", NULL, "{\"item\":\"w\",\"quantity\":\"1\"}", 1 },
	{ "order orderID number", NULL, "{\"item\":\"w\",\"quantity\":1,\"orderID\":5}", 1 },
	{ "order customerID null", NULL, "{\"item\":\"w\",\"quantity\":1,\"customerID\":null}", 1 },
	{ "order array", NULL, "[{\"item\":\"w\",\"quantity\":1}]", 1 },
	{ "order string", NULL, "\"x\"", 1 },
	{ "type number takes integers", "{\"type\":\"number\"}", "3", 0 },
	{ "type list", "{\"type\":[\"string\",\"null\"]}", "null", 0 },
	{ "type list miss", "{\"type\":[\"string\",\"null\"]}", "1", 1 },
	{ "boolean", "{\"type\":\"boolean\"}", "true", 0 },
	{ "enum hit", "{\"enum\":[\"a\",2]}", "2.0", 0 },
	{ "enum miss", "{\"enum\":[\"a\",2]}", "\"b\"", 1 },
	{ "additionalProperties false", "{\"properties\":{\"a\":{}},\"additionalProperties\":false}", "{\"a\":1,\"b\":2}", 1 },
	{ "additionalProperties false ok", "{\"properties\":{\"a\":{}},\"additionalProperties\":false}", "{\"a\":1}", 0 },
	{ "additionalProperties schema", "{\"additionalProperties\":{\"type\":\"integer\"}}", "{\"b\":\"x\"}", 1 },
	{ "items schema", "{\"items\":{\"type\":\"string\"}}", "[\"a\",\"b\"]", 0 },
	{ "items schema miss", "{\"items\":{\"type\":\"string\"}}", "[\"a\",1]", 1 },
	{ "minItems", "{\"minItems\":2}", "[1]", 1 },
	{ "uniqueItems", "{\"uniqueItems\":true}", "[1,1.0]", 1 },
	{ "pattern is a search", "{\"pattern\":\"[0-9]+\"}", "\"ab12\"", 0 },
	{ "pattern anchored miss", "{\"pattern\":\"^[0-9]+$\"}", "\"ab12\"", 1 },
	{ "exclusiveMinimum", "{\"minimum\":1,\"exclusiveMinimum\":true}", "1", 1 },
	{ "exclusiveMaximum", "{\"maximum\":1,\"exclusiveMaximum\":true}", "0.5", 0 },
	{ "multipleOf", "{\"multipleOf\":0.5}", "2.5", 0 },
	{ "multipleOf miss", "{\"multipleOf\":2}", "3", 1 },
	{ "nested required", "{\"properties\":{\"a\":{\"required\":[\"b\"]}}}", "{\"a\":{}}", 1 },
	{ "anyOf", "{\"anyOf\":[{\"type\":\"string\"},{\"minimum\":5}]}", "7", 0 },
	{ "oneOf two hits", "{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":5}]}", "7", 1 },
	{ "not", "{\"not\":{\"type\":\"null\"}}", "null", 1 },
	{ "unknown keywords ignored", "{\"format\":\"email\",\"x-foo\":1}", "\"zz\"", 0 },
	{ "$ref unsupported", "{\"$ref\":\"#/definitions/x\"}", "1", -1 },
	{ "bad pattern", "{\"pattern\":\"(\"}", "\"x\"", -1 },
	{ "unknown type", "{\"type\":\"thing\"}", "1", -1 },
	{ "schema not an object", "[]", "1", -1 },
};

static json_t *load(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);

	if (!v)
		fail_msg("bad JSON in test: %s (%s)", text, e.text);
	return v;
}

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *schema = load(cases[i].schema ? cases[i].schema : order_schema);
		json_t *inst = load(cases[i].instance);
		char err[256];
		int rc = sbx_jsonschema_validate(schema, inst, err, sizeof(err));

		if (rc != cases[i].want)
			fail_msg("%s: got %d want %d (%s)", cases[i].name, rc, cases[i].want, err);
		if (rc != 0 && !err[0])
			fail_msg("%s: no reason given", cases[i].name);
		json_decref(schema);
		json_decref(inst);
	}
}

/* maxLength counts code points: 256 x U+00E9 (512 bytes) passes, 257 fails. */
static void test_length_in_characters(void **state)
{
	json_t *schema = load(order_schema);
	char item[2 * 257 + 1];

	(void)state;
	for (int n = 256; n <= 257; n++) {
		json_t *inst;

		for (int i = 0; i < n; i++) {
			item[2 * i] = (char)0xC3;
			item[2 * i + 1] = (char)0xA9;
		}
		item[2 * n] = '\0';
		inst = json_pack("{s:s, s:i}", "item", item, "quantity", 1);
		assert_non_null(inst);
		assert_int_equal(sbx_jsonschema_validate(schema, inst, NULL, 0), n == 256 ? 0 : 1);
		json_decref(inst);
	}
	json_decref(schema);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_length_in_characters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
