/* test_ddb_expr.c: DynamoDB attribute values and expressions: parser, evaluator, updates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sandbox/ddb_expr.h"

static json_t *js(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, 0, &e);
	if (!v)
		fail_msg("bad JSON in test: %s (%s)", text, e.text);
	return v;
}

/* The item every evaluation case runs against. */
static const char item_json[] =
	"{\"pk\":{\"S\":\"user#1\"},\"n\":{\"N\":\"10\"},\"big\":{\"N\":\"123456789012345678901234567890.123\"},"
	"\"s\":{\"S\":\"hello world\"},\"b\":{\"B\":\"AAEC\"},\"t\":{\"BOOL\":true},\"z\":{\"NULL\":true},"
	"\"ss\":{\"SS\":[\"a\",\"b\"]},\"ns\":{\"NS\":[\"1\",\"2.5\"]},"
	"\"m\":{\"M\":{\"inr\":{\"S\":\"x\"},\"lst\":{\"L\":[{\"N\":\"1\"},{\"S\":\"two\"}]}}},"
	"\"l\":{\"L\":[{\"S\":\"p\"},{\"N\":\"7\"}]},\"status\":{\"S\":\"NEW\"}}";

static const char values_json[] =
	"{\":ten\":{\"N\":\"10\"},\":ten0\":{\"N\":\"10.0\"},\":five\":{\"N\":\"5\"},"
	"\":twenty\":{\"N\":\"20\"},\":big\":{\"N\":\"123456789012345678901234567890.124\"},"
	"\":hello\":{\"S\":\"hello\"},\":world\":{\"S\":\"world\"},\":a\":{\"S\":\"a\"},"
	"\":x\":{\"S\":\"x\"},\":two\":{\"S\":\"two\"},\":S\":{\"S\":\"S\"},\":SS\":{\"S\":\"SS\"},"
	"\":new\":{\"S\":\"NEW\"},\":old\":{\"S\":\"OLD\"},\":n25\":{\"N\":\"2.5\"},"
	"\":b0\":{\"B\":\"AA==\"},\":seven\":{\"N\":\"7\"},\":eleven\":{\"N\":\"11\"}}";

static const char names_json[] = "{\"#s\":\"status\",\"#m\":\"m\",\"#odd\":\"a.b\"}";

struct eval_case {
	const char *expr;
	int want;
};

static const struct eval_case eval_cases[] = {
	{"n = :ten", 1},
	{"n = :ten0", 1},                /* numbers compare by value */
	{"n <> :ten", 0},
	{"n < :twenty", 1},
	{"n <= :ten", 1},
	{"n > :five AND n >= :ten", 1},
	{"big > :ten", 1},
	{"big < :big", 1},               /* beyond double precision */
	{"s > :hello", 1},
	{"s = :hello", 0},
	{"n BETWEEN :five AND :twenty", 1},
	{"n BETWEEN :eleven AND :twenty", 0},
	{"n IN (:five, :ten)", 1},
	{"n IN (:five, :twenty)", 0},
	{"attribute_exists(pk)", 1},
	{"attribute_exists(nope)", 0},
	{"attribute_not_exists(nope)", 1},
	{"attribute_exists(m.inr)", 1},
	{"attribute_exists(m.lst[1])", 1},
	{"attribute_exists(m.lst[2])", 0},
	{"attribute_exists(#m.inr)", 1},
	{"m.inr = :x", 1},
	{"m.lst[1] = :two", 1},
	{"attribute_type(pk, :S)", 1},
	{"attribute_type(ss, :SS)", 1},
	{"attribute_type(pk, :SS)", 0},
	{"begins_with(s, :hello)", 1},
	{"begins_with(s, :world)", 0},
	{"begins_with(b, :b0)", 1},
	{"contains(s, :world)", 1},
	{"contains(ss, :a)", 1},
	{"contains(ns, :n25)", 1},
	{"contains(l, :seven)", 1},
	{"contains(ss, :x)", 0},
	{"size(s) = :eleven", 1},
	{"size(ss) < :five", 1},
	{"size(m) > :five", 0},
	{"#s = :new", 1},
	{"NOT #s = :old", 1},
	{"#s = :old OR n = :ten", 1},
	{"#s = :old OR n = :five", 0},
	{"(n = :five OR n = :ten) AND NOT (s = :hello)", 1},
	{"NOT NOT attribute_exists(pk)", 1},
	{"nope <> :ten", 1},             /* a missing attribute differs from any value */
	{"nope = :ten", 0},
	{"nope < :ten", 0},
	{"s < :ten", 0},                 /* different types never order */
	{"n and :ten = :ten", -1},       /* "and" is a keyword: syntax error */
	{"a AND", -1},
};

static void test_eval_table(void **state)
{
	json_t *item = js(item_json), *values = js(values_json), *names = js(names_json);
	(void)state;
	for (size_t i = 0; i < sizeof(eval_cases) / sizeof(eval_cases[0]); i++) {
		struct sbx_ddb_expr *e = NULL;
		char err[512] = "";
		int rc = sbx_ddb_expr_parse(SBX_DDB_CONDITION, eval_cases[i].expr, names, values,
					    NULL, &e, err, sizeof(err));
		if (eval_cases[i].want < 0) {
			if (rc == 0)
				fail_msg("case %zu '%s' parsed but should not", i, eval_cases[i].expr);
			sbx_ddb_expr_free(e);
			continue;
		}
		if (rc != 0)
			fail_msg("case %zu '%s': %s", i, eval_cases[i].expr, err);
		if (sbx_ddb_expr_eval(e, item) != eval_cases[i].want)
			fail_msg("case %zu '%s': want %d", i, eval_cases[i].expr, eval_cases[i].want);
		sbx_ddb_expr_free(e);
	}
	json_decref(item);
	json_decref(values);
	json_decref(names);
}

struct err_case {
	enum sbx_ddb_expr_kind kind;
	const char *expr;
	const char *want; /* substring of the message */
};

static const struct err_case err_cases[] = {
	{SBX_DDB_CONDITION, "n = ", "Invalid ConditionExpression: Syntax error; token: \"<EOF>\""},
	{SBX_DDB_CONDITION, "n == :ten", "Syntax error; token: \"=\""},
	{SBX_DDB_CONDITION, "n = :ten)", "Syntax error; token: \")\""},
	{SBX_DDB_CONDITION, "(n = :ten", "Syntax error; token: \"<EOF>\""},
	{SBX_DDB_CONDITION, "n ! :ten", "Syntax error; token: \"!\""},
	{SBX_DDB_CONDITION, "n = :undefined", "An expression attribute value used in expression is not defined; attribute value: :undefined"},
	{SBX_DDB_CONDITION, "#nope = :ten", "An expression attribute name used in the document path is not defined; attribute name: #nope"},
	{SBX_DDB_CONDITION, "status = :new", "Attribute name is a reserved keyword; reserved keyword: status"},
	{SBX_DDB_CONDITION, "frobnicate(n)", "Invalid function name; function: frobnicate"},
	{SBX_DDB_CONDITION, "size(s)", "The function is not allowed to be used this way in an expression; function: size"},
	{SBX_DDB_CONDITION, "attribute_exists(n, s)", "Incorrect number of operands for operator or function; operator or function: attribute_exists, number of operands: 2"},
	{SBX_DDB_CONDITION, "attribute_exists(:ten)", "requires a document path"},
	{SBX_DDB_CONDITION, "attribute_type(n, :hello)", "Invalid attribute type name found; type: hello"},
	{SBX_DDB_CONDITION, "n BETWEEN :twenty AND :five", "The BETWEEN operator requires upper bound to be greater than or equal to lower bound"},
	{SBX_DDB_CONDITION, "", "Invalid ConditionExpression: The expression can not be empty;"},
	{SBX_DDB_FILTER, "n =", "Invalid FilterExpression: Syntax error"},
	{SBX_DDB_UPDATE, "SET a = :ten SET b = :ten", "The \"SET\" section can only be used once in an update expression;"},
	{SBX_DDB_UPDATE, "SET a = :ten, a = :five", "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]"},
	{SBX_DDB_UPDATE, "SET m.inr = :ten REMOVE m", "Two document paths overlap"},
	{SBX_DDB_UPDATE, "SET a = size(s)", "The function is not allowed in an update expression; function: size"},
	{SBX_DDB_UPDATE, "ADD a :hello", "Incorrect operand type for operator or function; operator: ADD, operand type: STRING"},
	{SBX_DDB_UPDATE, "SET = :ten", "Invalid UpdateExpression: Syntax error; token: \"=\""},
	{SBX_DDB_UPDATE, "PUT a = :ten", "Syntax error; token: \"PUT\""},
	{SBX_DDB_PROJECTION, "a, b, a", "Two document paths overlap"},
	{SBX_DDB_PROJECTION, "a.b, a[0]", "Two document paths conflict with each other"},
	{SBX_DDB_PROJECTION, "a,", "Invalid ProjectionExpression: Syntax error; token: \"<EOF>\""},
	{SBX_DDB_KEY_CONDITION, "pk = ", "Invalid KeyConditionExpression: Syntax error"},
};

static void test_errors_table(void **state)
{
	json_t *values = js(values_json), *names = js(names_json);
	(void)state;
	for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		struct sbx_ddb_expr *e = NULL;
		char err[512] = "";
		int rc = sbx_ddb_expr_parse(err_cases[i].kind, err_cases[i].expr, names, values,
					    NULL, &e, err, sizeof(err));
		if (rc == 0)
			fail_msg("case %zu '%s' parsed", i, err_cases[i].expr);
		if (!strstr(err, err_cases[i].want))
			fail_msg("case %zu '%s': got '%s', want '%s'", i, err_cases[i].expr, err,
				 err_cases[i].want);
		assert_null(e);
	}
	json_decref(values);
	json_decref(names);
}

static void test_hostile_nesting(void **state)
{
	json_t *values = js(values_json);
	char *deep = malloc(4100);
	struct sbx_ddb_expr *e = NULL;
	char err[512];
	size_t o = 0;
	(void)state;
	assert_non_null(deep);
	/* 2000 open parentheses: rejected without exhausting the stack */
	for (int i = 0; i < 2000; i++)
		deep[o++] = '(';
	memcpy(deep + o, "n = :ten", 9);
	assert_int_equal(sbx_ddb_expr_parse(SBX_DDB_CONDITION, deep, NULL, values, NULL, &e, err,
					    sizeof(err)), -1);
	assert_non_null(strstr(err, "Invalid ConditionExpression"));
	/* NOT NOT NOT ...: too deep or too many operators, never a crash */
	o = 0;
	for (int i = 0; i < 1000; i++) {
		memcpy(deep + o, "NOT ", 4);
		o += 4;
	}
	memcpy(deep + o, "n = :ten", 9);
	assert_int_equal(sbx_ddb_expr_parse(SBX_DDB_CONDITION, deep, NULL, values, NULL, &e, err,
					    sizeof(err)), -1);
	/* a long flat chain: more than 300 operators is refused */
	o = 0;
	for (int i = 0; i < 400 && o < 4000; i++) {
		memcpy(deep + o, "a=:ten OR ", 10);
		o += 10;
	}
	memcpy(deep + o, "a=:ten", 7);
	assert_int_equal(sbx_ddb_expr_parse(SBX_DDB_CONDITION, deep, NULL, values, NULL, &e, err,
					    sizeof(err)), -1);
	assert_non_null(strstr(err, "too many operators"));
	/* longer than 4 KB */
	memset(deep, 'a', 4099);
	deep[4099] = '\0';
	assert_int_equal(sbx_ddb_expr_parse(SBX_DDB_CONDITION, deep, NULL, values, NULL, &e, err,
					    sizeof(err)), -1);
	assert_non_null(strstr(err, "Expression size has exceeded"));
	/* 40 levels of nested parentheses are fine */
	o = 0;
	for (int i = 0; i < 40; i++)
		deep[o++] = '(';
	memcpy(deep + o, "n = :ten", 8);
	o += 8;
	for (int i = 0; i < 40; i++)
		deep[o++] = ')';
	deep[o] = '\0';
	assert_int_equal(sbx_ddb_expr_parse(SBX_DDB_CONDITION, deep, NULL, values, NULL, &e, err,
					    sizeof(err)), 0);
	sbx_ddb_expr_free(e);
	free(deep);
	json_decref(values);
}

static void test_unused_names_values(void **state)
{
	json_t *values = js("{\":a\":{\"S\":\"x\"},\":b\":{\"S\":\"y\"}}");
	json_t *names = js("{\"#a\":\"a\",\"#b\":\"b\"}");
	json_t *used = json_object();
	struct sbx_ddb_expr *e = NULL;
	char err[512];
	(void)state;
	assert_int_equal(sbx_ddb_expr_parse(SBX_DDB_CONDITION, "#a = :a", names, values, used, &e,
					    err, sizeof(err)), 0);
	assert_int_equal(sbx_ddb_expr_check_unused(names, values, used, err, sizeof(err)), -1);
	assert_string_equal(err, "Value provided in ExpressionAttributeNames unused in "
			    "expressions: keys: {#b}");
	sbx_ddb_expr_free(e);
	assert_int_equal(sbx_ddb_expr_parse(SBX_DDB_CONDITION, "#b = :a", names, values, used, &e,
					    err, sizeof(err)), 0);
	assert_int_equal(sbx_ddb_expr_check_unused(names, values, used, err, sizeof(err)), -1);
	assert_string_equal(err, "Value provided in ExpressionAttributeValues unused in "
			    "expressions: keys: {:b}");
	sbx_ddb_expr_free(e);
	json_decref(used);
	json_decref(values);
	json_decref(names);
}

struct upd_case {
	const char *item;   /* NULL: no item */
	const char *expr;
	const char *want;   /* the new item, or NULL when the update must fail */
};

static const struct upd_case upd_cases[] = {
	{"{\"n\":{\"N\":\"1\"}}", "SET n = n + :one", "{\"n\":{\"N\":\"2\"}}"},
	{"{\"n\":{\"N\":\"1\"}}", "SET n = n - :big", "{\"n\":{\"N\":\"-99999999999999999999999999999999999998\"}}"},
	{"{\"n\":{\"N\":\"0.1\"}}", "SET n = n + :tenth", "{\"n\":{\"N\":\"0.2\"}}"},
	{"{\"n\":{\"N\":\"123456789012345678901234567890.123\"}}", "SET n = n + :one", "{\"n\":{\"N\":\"123456789012345678901234567891.123\"}}"},
	{NULL, "SET c = if_not_exists(c, :zero) + :one", "{\"c\":{\"N\":\"1\"}}"},
	{"{\"c\":{\"N\":\"5\"}}", "SET c = if_not_exists(c, :zero) + :one", "{\"c\":{\"N\":\"6\"}}"},
	{"{\"l\":{\"L\":[{\"S\":\"a\"}]}}", "SET l = list_append(l, :lst)", "{\"l\":{\"L\":[{\"S\":\"a\"},{\"S\":\"b\"}]}}"},
	{"{\"l\":{\"L\":[{\"S\":\"a\"},{\"S\":\"b\"},{\"S\":\"c\"}]}}", "REMOVE l[0], l[1]", "{\"l\":{\"L\":[{\"S\":\"c\"}]}}"},
	{"{\"l\":{\"L\":[{\"S\":\"a\"}]}}", "SET l[5] = :one", "{\"l\":{\"L\":[{\"S\":\"a\"},{\"N\":\"1\"}]}}"},
	{"{\"m\":{\"M\":{\"a\":{\"S\":\"x\"}}}}", "SET m.b = :one REMOVE m.a", "{\"m\":{\"M\":{\"b\":{\"N\":\"1\"}}}}"},
	{"{\"a\":{\"N\":\"1\"},\"b\":{\"N\":\"2\"}}", "SET a = b, b = a", "{\"a\":{\"N\":\"2\"},\"b\":{\"N\":\"1\"}}"},
	{"{\"s\":{\"SS\":[\"x\"]}}", "ADD s :ss", "{\"s\":{\"SS\":[\"x\",\"y\"]}}"},
	{"{\"s\":{\"SS\":[\"x\",\"y\"]}}", "DELETE s :ss", "{\"s\":{\"SS\":[\"x\"]}}"},
	{"{\"s\":{\"SS\":[\"y\"]}}", "DELETE s :ss", "{}"},
	{NULL, "ADD n :one", "{\"n\":{\"N\":\"1\"}}"},
	{"{\"n\":{\"N\":\"1\"}}", "ADD n :one", "{\"n\":{\"N\":\"2\"}}"},
	{"{\"n\":{\"S\":\"x\"}}", "SET n = n + :one", NULL},
	{NULL, "SET n = absent1 + :one", NULL},
	{NULL, "SET a.b = :one", NULL},
	{"{\"n\":{\"S\":\"x\"}}", "ADD n :one", NULL},
};

static void test_update_table(void **state)
{
	json_t *values = js("{\":one\":{\"N\":\"1\"},\":zero\":{\"N\":\"0\"},\":tenth\":{\"N\":\"0.1\"},"
			    "\":big\":{\"N\":\"99999999999999999999999999999999999999\"},"
			    "\":lst\":{\"L\":[{\"S\":\"b\"}]},\":ss\":{\"SS\":[\"y\"]}}");
	(void)state;
	for (size_t i = 0; i < sizeof(upd_cases) / sizeof(upd_cases[0]); i++) {
		struct sbx_ddb_expr *e = NULL;
		json_t *item = upd_cases[i].item ? js(upd_cases[i].item) : NULL, *out = NULL;
		char err[512] = "";
		int rc;
		if (sbx_ddb_expr_parse(SBX_DDB_UPDATE, upd_cases[i].expr, NULL, values, NULL, &e, err,
				       sizeof(err)))
			fail_msg("case %zu '%s': %s", i, upd_cases[i].expr, err);
		rc = sbx_ddb_expr_update(e, item, &out, err, sizeof(err));
		if (!upd_cases[i].want) {
			if (rc == 0)
				fail_msg("case %zu '%s' should fail", i, upd_cases[i].expr);
		} else {
			json_t *want = js(upd_cases[i].want);
			if (rc != 0)
				fail_msg("case %zu '%s': %s", i, upd_cases[i].expr, err);
			if (!json_equal(out, want)) {
				char *got = json_dumps(out, JSON_COMPACT);
				fail_msg("case %zu '%s': got %s", i, upd_cases[i].expr, got);
			}
			json_decref(want);
		}
		json_decref(out);
		json_decref(item);
		sbx_ddb_expr_free(e);
	}
	json_decref(values);
}

static void test_projection(void **state)
{
	json_t *item = js(item_json), *out, *want;
	json_t *names = js("{\"#m\":\"m\"}");
	struct sbx_ddb_expr *e = NULL;
	char err[256];
	(void)state;
	assert_int_equal(sbx_ddb_expr_parse(SBX_DDB_PROJECTION, "pk, #m.lst[1], l[1], nope",
					    names, NULL, NULL, &e, err, sizeof(err)), 0);
	out = sbx_ddb_expr_project(e, item);
	want = js("{\"pk\":{\"S\":\"user#1\"},\"m\":{\"M\":{\"lst\":{\"L\":[{\"S\":\"two\"}]}}},"
		  "\"l\":{\"L\":[{\"N\":\"7\"}]}}");
	assert_true(json_equal(out, want));
	json_decref(out);
	json_decref(want);
	sbx_ddb_expr_free(e);
	json_decref(names);
	json_decref(item);
}

static void test_keycond(void **state)
{
	json_t *values = js("{\":p\":{\"S\":\"a\"},\":x\":{\"N\":\"1\"},\":y\":{\"N\":\"9\"}}");
	static const struct { const char *expr; int ok; enum sbx_ddb_range_op op; const char *err; } cases[] = {
		{"pk = :p", 1, SBX_DDB_RANGE_NONE, NULL},
		{"pk = :p AND sk BETWEEN :x AND :y", 1, SBX_DDB_RANGE_BETWEEN, NULL},
		{"sk < :x AND pk = :p", 1, SBX_DDB_RANGE_LT, NULL},
		{":x >= sk AND pk = :p", 1, SBX_DDB_RANGE_LE, NULL},
		{"pk = :p AND begins_with(sk, :x)", 1, SBX_DDB_RANGE_BEGINS, NULL},
		{"pk = :p OR sk = :x", 0, 0, "Invalid operator used in KeyConditionExpression: OR"},
		{"sk = :x", 0, 0, "Query condition missed key schema element: pk"},
		{"pk < :p", 0, 0, "Query key condition not supported"},
		{"pk = :p AND sk = :x AND sk = :y", 0, 0, "KeyConditionExpressions must only contain one condition per key"},
		{"pk = :p AND color = :x", 0, 0, "Query condition missed key schema element"},
		{"pk = :p AND attribute_exists(sk)", 0, 0, "Invalid operator used in KeyConditionExpression: attribute_exists"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sbx_ddb_expr *e = NULL;
		struct sbx_ddb_keycond kc;
		char err[512] = "";
		int rc;
		if (sbx_ddb_expr_parse(SBX_DDB_KEY_CONDITION, cases[i].expr, NULL, values, NULL, &e,
				       err, sizeof(err)))
			fail_msg("case %zu: %s", i, err);
		rc = sbx_ddb_expr_keycond(e, "pk", "sk", &kc, err, sizeof(err));
		if (cases[i].ok) {
			if (rc != 0)
				fail_msg("case %zu '%s': %s", i, cases[i].expr, err);
			assert_int_equal(kc.op, cases[i].op);
			assert_non_null(kc.hash);
		} else if (rc == 0 || !strstr(err, cases[i].err)) {
			fail_msg("case %zu '%s': got '%s'", i, cases[i].expr, err);
		}
		sbx_ddb_expr_free(e);
	}
	json_decref(values);
}

static void test_numbers(void **state)
{
	static const struct { const char *a, *b; int cmp; } cmps[] = {
		{"1", "1.0", 0}, {"-1", "1", -1}, {"0.001", "1E-3", 0}, {"100", "1e2", 0},
		{"123456789012345678901234567890.123", "123456789012345678901234567890.124", -1},
		{"-5", "-10", 1}, {"0", "-0", 0}, {"0.5", "0.49999999999999999999", 1},
		{"99999999999999999999999999999999999999", "1E+38", -1},
	};
	static const struct { const char *a, *b; int neg; const char *sum; } adds[] = {
		{"1", "2", 0, "3"}, {"0.1", "0.2", 0, "0.3"}, {"1", "1", 1, "0"},
		{"5", "7.25", 1, "-2.25"}, {"1E+2", "1", 0, "101"}, {"-0.5", "0.25", 0, "-0.25"},
		{"999", "1", 0, "1000"}, {"1E-10", "1", 0, "1.0000000001"},
	};
	char out[256];
	(void)state;
	for (size_t i = 0; i < sizeof(cmps) / sizeof(cmps[0]); i++) {
		int c = sbx_ddb_num_compare(cmps[i].a, cmps[i].b);
		if ((c > 0) - (c < 0) != cmps[i].cmp)
			fail_msg("compare %s %s: %d", cmps[i].a, cmps[i].b, c);
	}
	for (size_t i = 0; i < sizeof(adds) / sizeof(adds[0]); i++) {
		assert_int_equal(sbx_ddb_num_add(adds[i].a, adds[i].b, adds[i].neg, out, sizeof(out)), 0);
		if (strcmp(out, adds[i].sum) != 0)
			fail_msg("add %s %s: %s", adds[i].a, adds[i].b, out);
	}
	/* more than 38 significant digits */
	assert_int_equal(sbx_ddb_num_add("99999999999999999999999999999999999999", "1E-5", 0, out,
					 sizeof(out)), -1);
}

static void test_values(void **state)
{
	static const struct { const char *av; const char *err; } cases[] = {
		{"{\"S\":\"\"}", NULL},
		{"{\"N\":\"12.5e3\"}", NULL},
		{"{\"N\":\"abc\"}", "A value provided cannot be converted into a number"},
		{"{\"N\":\"1234567890123456789012345678901234567890\"}", "more than 38 significant digits"},
		{"{\"N\":\"1E+126\"}", "Number overflow"},
		{"{\"N\":\"1E-131\"}", "Number underflow"},
		{"{\"SS\":[]}", "An string set  may not be empty"},
		{"{\"NS\":[\"1\",\"1.0\"]}", "contains duplicates"},
		{"{\"S\":\"a\",\"N\":\"1\"}", "more than one datatypes"},
		{"{}", "Supplied AttributeValue is empty"},
		{"{\"NULL\":false}", "Null attribute value types must have the value of true"},
		{"{\"B\":\"not base64!\"}", "Base64"},
		{"{\"M\":{\"a\":{\"L\":[{\"BOOL\":true},{\"BS\":[\"AA==\"]}]}}}", NULL},
	};
	char err[512];
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *v = js(cases[i].av);
		int rc = sbx_ddb_av_validate(v, err, sizeof(err));
		if (!cases[i].err && rc)
			fail_msg("case %zu %s: %s", i, cases[i].av, err);
		if (cases[i].err && (rc == 0 || !strstr(err, cases[i].err)))
			fail_msg("case %zu %s: got %s", i, cases[i].av, rc ? err : "ok");
		json_decref(v);
	}
	/* nesting beyond 32 levels */
	{
		struct aws_buf b;
		json_t *v;
		aws_buf_init(&b, 0);
		for (int i = 0; i < 40; i++)
			aws_buf_adds(&b, "{\"L\":[");
		aws_buf_adds(&b, "{\"S\":\"x\"}");
		for (int i = 0; i < 40; i++)
			aws_buf_adds(&b, "]}");
		v = js(aws_buf_str(&b));
		assert_int_equal(sbx_ddb_av_validate(v, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "Nesting Levels"));
		json_decref(v);
		aws_buf_cleanup(&b);
	}
}

static void test_key_encoding_order(void **state)
{
	/* memcmp order of the encodings must follow numeric order */
	static const char *const nums[] = {"-1E+100", "-1000", "-10.5", "-10", "-1", "-0.5",
					   "-0.05", "0", "1E-100", "0.05", "0.5", "1", "1.5", "10",
					   "10.01", "99", "100", "123456789012345678901234567890.123",
					   "1E+100"};
	struct aws_buf prev, cur;
	(void)state;
	aws_buf_init(&prev, 0);
	aws_buf_init(&cur, 0);
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		char av[128];
		json_t *v;
		snprintf(av, sizeof(av), "{\"N\":\"%s\"}", nums[i]);
		v = js(av);
		aws_buf_reset(&cur);
		assert_int_equal(sbx_ddb_key_encode(v, &cur), 0);
		if (i > 0) {
			size_t n = prev.len < cur.len ? prev.len : cur.len;
			int c = memcmp(prev.data, cur.data, n);
			if (c == 0)
				c = prev.len < cur.len ? -1 : prev.len > cur.len;
			if (c >= 0)
				fail_msg("%s does not sort before %s", nums[i - 1], nums[i]);
		}
		aws_buf_reset(&prev);
		aws_buf_add(&prev, cur.data, cur.len);
		json_decref(v);
	}
	/* equal numbers encode equally */
	{
		json_t *a = js("{\"N\":\"1.50\"}"), *b = js("{\"N\":\"015E-1\"}");
		aws_buf_reset(&prev);
		aws_buf_reset(&cur);
		sbx_ddb_key_encode(a, &prev);
		sbx_ddb_key_encode(b, &cur);
		assert_int_equal(prev.len, cur.len);
		assert_memory_equal(prev.data, cur.data, cur.len);
		json_decref(a);
		json_decref(b);
	}
	aws_buf_cleanup(&prev);
	aws_buf_cleanup(&cur);
}

static void test_item_size(void **state)
{
	json_t *item = js("{\"pk\":{\"S\":\"abc\"},\"n\":{\"N\":\"12345\"},\"b\":{\"B\":\"AAEC\"}}");
	(void)state;
	/* names 2+1+1, S 3, N (5 digits: 3+1), B 3 bytes */
	assert_int_equal(sbx_ddb_item_size(item), 4 + 3 + 4 + 3);
	json_decref(item);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eval_table),
		cmocka_unit_test(test_errors_table),
		cmocka_unit_test(test_hostile_nesting),
		cmocka_unit_test(test_unused_names_values),
		cmocka_unit_test(test_update_table),
		cmocka_unit_test(test_projection),
		cmocka_unit_test(test_keycond),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_key_encoding_order),
		cmocka_unit_test(test_item_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
