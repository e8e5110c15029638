/* test_xml.c: XML replies to JSON as botocore shapes them, shape hints, hostile XML. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/client/buf.h"
#include "aws/client/protocol.h"

struct xml_case {
	const char *name;
	const char *xml;
	const char *hints;
	const char *want; /* JSON text, or NULL: conversion must fail */
};

static const struct xml_case xml_cases[] = {
	{ "leaf", "<a>x</a>", NULL, "\"x\"" },
	{ "empty root", "<a/>", NULL, "\"\"" },
	{ "structure", "<a><b>1</b><c>two</c></a>", NULL, "{\"b\":\"1\",\"c\":\"two\"}" },
	{ "empty leaf", "<a><b></b><c/></a>", NULL, "{\"b\":\"\",\"c\":\"\"}" },
	{ "whitespace between elements",
	  "<a>\n  <b> x y </b>\n  <c>z</c>\n</a>", NULL, "{\"b\":\" x y \",\"c\":\"z\"}" },
	{ "members are a list",
	  "<a><L><member>x</member><member>y</member></L></a>", NULL, "{\"L\":[\"x\",\"y\"]}" },
	{ "one member is a list", "<a><L><member>x</member></L></a>", NULL, "{\"L\":[\"x\"]}" },
	{ "empty list without hint is a string", "<a><L/></a>", NULL, "{\"L\":\"\"}" },
	{ "empty list with hint", "<a><L/></a>", "L:list", "{\"L\":[]}" },
	{ "empty list with hint, open and close", "<a><L>\n </L></a>", "X:int,L:list",
	  "{\"L\":[]}" },
	{ "list of structures",
	  "<a><AttachedPolicies><member><PolicyName>p1</PolicyName><PolicyArn>arn:1</PolicyArn>"
	  "</member><member><PolicyName>p2</PolicyName><PolicyArn>arn:2</PolicyArn></member>"
	  "</AttachedPolicies></a>",
	  "AttachedPolicies:list",
	  "{\"AttachedPolicies\":[{\"PolicyName\":\"p1\",\"PolicyArn\":\"arn:1\"},"
	  "{\"PolicyName\":\"p2\",\"PolicyArn\":\"arn:2\"}]}" },
	{ "entry key/value is a map",
	  "<a><Attributes><entry><key>Owner</key><value>123</value></entry>"
	  "<entry><key>Policy</key><value>{&quot;x&quot;:1}</value></entry></Attributes></a>",
	  NULL, "{\"Attributes\":{\"Owner\":\"123\",\"Policy\":\"{\\\"x\\\":1}\"}}" },
	{ "empty map with hint", "<a><Attributes/></a>", "Attributes:map", "{\"Attributes\":{}}" },
	{ "map with named key and value",
	  "<a><M><entry><Name>k</Name><Value><DataType>String</DataType></Value></entry></M></a>",
	  "M:map(Name,Value)", "{\"M\":{\"k\":{\"DataType\":\"String\"}}}" },
	{ "bool hint", "<a><IsTruncated>true</IsTruncated><Other>false</Other></a>",
	  "Other:bool,IsTruncated:bool", "{\"IsTruncated\":true,\"Other\":false}" },
	{ "bool without hint stays text", "<a><IsTruncated>false</IsTruncated></a>", NULL,
	  "{\"IsTruncated\":\"false\"}" },
	{ "int hint", "<a><N>42</N><M>-7</M><Bad>4x</Bad></a>", "N:int,M:int,Bad:int",
	  "{\"N\":42,\"M\":-7,\"Bad\":\"4x\"}" },
	{ "struct hint: empty element is {}", "<a><RoleLastUsed/><S><x>1</x></S></a>",
	  "RoleLastUsed:struct,S:struct", "{\"RoleLastUsed\":{},\"S\":{\"x\":\"1\"}}" },
	{ "jsondoc: URL-encoded JSON read as JSON",
	  "<a><D>%7B%22Version%22%3A%222012-10-17%22%2C%22S%22%3A%5B%5D%7D</D>"
	  "<P>{\"a\": \"x+y\"}</P><Bad>%7Bnot json</Bad><Odd>100%</Odd></a>",
	  "D:jsondoc,P:jsondoc,Bad:jsondoc,Odd:jsondoc",
	  "{\"D\":{\"Version\":\"2012-10-17\",\"S\":[]},\"P\":{\"a\":\"x+y\"},"
	  "\"Bad\":\"%7Bnot json\",\"Odd\":\"100%\"}" },
	{ "hints apply at any depth",
	  "<a><R><Role><MaxSessionDuration>3600</MaxSessionDuration></Role></R></a>",
	  "MaxSessionDuration:int", "{\"R\":{\"Role\":{\"MaxSessionDuration\":3600}}}" },
	{ "namespace and attributes ignored",
	  "<a xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><b id=\"1\">x</b>"
	  "<p:c xmlns:p=\"urn:p\">y</p:c></a>",
	  NULL, "{\"b\":\"x\",\"c\":\"y\"}" },
	{ "predefined entities and char refs",
	  "<a><b>&lt;x&amp;y&gt; &#233;&#x41;</b></a>", NULL, "{\"b\":\"<x&y> \\u00e9A\"}" },
	{ "CDATA", "<a><b><![CDATA[<p>&amp;]]></b></a>", NULL, "{\"b\":\"<p>&amp;\"}" },
	{ "repeated siblings become a list", "<a><b>1</b><b>2</b><c>3</c></a>", NULL,
	  "{\"b\":[\"1\",\"2\"],\"c\":\"3\"}" },
	{ "flatlist hint makes one item a list", "<a><b>1</b></a>", "b:flatlist",
	  "{\"b\":[\"1\"]}" },
	{ "XML declaration", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a><b>x</b></a>", NULL,
	  "{\"b\":\"x\"}" },
	{ "comments skipped", "<a><!-- hi --><b>x<!-- in -->y</b></a>", NULL, "{\"b\":\"xy\"}" },
	{ "not well-formed", "<a><b></a>", NULL, NULL },
	{ "not XML", "Internal Server Error", NULL, NULL },
	{ "JSON is not XML", "{\"a\":1}", NULL, NULL },
	{ "two roots", "<a/><b/>", NULL, NULL },
	{ "undeclared entity", "<a>&foo;</a>", NULL, NULL },
	{ "billion laughs",
	  "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n"
	  " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	  " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
	  " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
	  " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
	  " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
	  " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
	  " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
	  " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
	  " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
	  "]>\n<lolz><a>&lol9;</a></lolz>",
	  NULL, NULL },
	{ "external entity",
	  "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
	  "<a><b>&x;</b></a>",
	  NULL, NULL },
	{ "external DTD",
	  "<?xml version=\"1.0\"?><!DOCTYPE a SYSTEM \"http://127.0.0.1:1/x.dtd\"><a>x</a>", NULL,
	  NULL },
};

static void test_xml_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(xml_cases) / sizeof(xml_cases[0]); i++) {
		const struct xml_case *c = &xml_cases[i];
		json_t *got = aws_xml_to_json(c->xml, strlen(c->xml), c->hints);

		if (!c->want) {
			if (got)
				fail_msg("%s: expected failure, got %s", c->name,
					 json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY));
			continue;
		}
		json_t *want = json_loads(c->want, JSON_DECODE_ANY, NULL);

		assert_non_null(want);
		if (!got)
			fail_msg("%s: conversion failed", c->name);
		if (!json_equal(got, want)) {
			char *g = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);

			fail_msg("%s: got %s, want %s", c->name, g, c->want);
		}
		json_decref(got);
		json_decref(want);
	}
}

static void test_xml_empty_and_null(void **state)
{
	(void)state;
	assert_null(aws_xml_to_json("", 0, NULL));
	assert_null(aws_xml_to_json(NULL, 0, NULL));
	/* len is honoured: only "<a>x</a>" is read. */
	json_t *j = aws_xml_to_json("<a>x</a>garbage", 8, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(j), "x");
	json_decref(j);
}

/* Nest n elements: <e><e>...x...</e></e>. */
static char *nested(int n)
{
	struct aws_buf b;

	aws_buf_init(&b, 0);
	for (int i = 0; i < n; i++)
		aws_buf_adds(&b, "<e>");
	aws_buf_adds(&b, "x");
	for (int i = 0; i < n; i++)
		aws_buf_adds(&b, "</e>");
	return aws_buf_take(&b);
}

static void test_xml_depth(void **state)
{
	char *ok = nested(30);
	char *deep = nested(100);
	char *deeper = nested(100000);
	json_t *j;

	(void)state;
	assert_non_null(ok);
	assert_non_null(deep);
	assert_non_null(deeper);
	j = aws_xml_to_json(ok, strlen(ok), NULL);
	assert_non_null(j);
	json_decref(j);
	assert_null(aws_xml_to_json(deep, strlen(deep), NULL));
	assert_null(aws_xml_to_json(deeper, strlen(deeper), NULL));
	free(ok);
	free(deep);
	free(deeper);
}

static void test_xml_many_members(void **state)
{
	struct aws_buf b;
	json_t *j;

	(void)state;
	aws_buf_init(&b, 0);
	aws_buf_adds(&b, "<r><L>");
	for (int i = 0; i < 20000; i++)
		aws_buf_printf(&b, "<member><N>%d</N></member>", i);
	aws_buf_adds(&b, "</L></r>");
	j = aws_xml_to_json(aws_buf_str(&b), b.len, "N:int");
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "L")), 20000);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(j, "L"), 19999), "N")), 19999);
	json_decref(j);
	aws_buf_cleanup(&b);
}

/* Many repeated siblings must not be quadratic. */
static void test_xml_many_siblings(void **state)
{
	struct aws_buf b;
	clock_t t0 = clock();
	json_t *j;

	(void)state;
	aws_buf_init(&b, 0);
	aws_buf_adds(&b, "<r>");
	for (int i = 0; i < 50000; i++)
		aws_buf_adds(&b, "<x>1</x>");
	aws_buf_adds(&b, "</r>");
	j = aws_xml_to_json(aws_buf_str(&b), b.len, NULL);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "x")), 50000);
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 5.0);
	json_decref(j);
	aws_buf_cleanup(&b);
}

struct hint_case {
	const char *hints;
	const char *name;
	enum aws_shape_kind kind;
	const char *key;
	const char *value;
};

static const struct hint_case hint_cases[] = {
	{ NULL, "A", AWS_SHAPE_NONE, "", "" },
	{ "", "A", AWS_SHAPE_NONE, "", "" },
	{ "A:list", "A", AWS_SHAPE_LIST, "key", "value" },
	{ "AB:list", "A", AWS_SHAPE_NONE, "", "" },
	{ "A:list", "AB", AWS_SHAPE_NONE, "", "" },
	{ "X:int,A:flatlist", "A", AWS_SHAPE_FLATLIST, "key", "value" },
	{ "A:map", "A", AWS_SHAPE_MAP, "key", "value" },
	{ "M:map(Name,Value),A:bool", "A", AWS_SHAPE_BOOL, "key", "value" },
	{ "M:map(Name,Value),A:bool", "M", AWS_SHAPE_MAP, "Name", "Value" },
	{ "Failed:list,MessageAttributes:map(Name,Value),N:int", "N", AWS_SHAPE_INT, "key",
	  "value" },
	{ "A:unknown", "A", AWS_SHAPE_NONE, "key", "value" },
	{ "B:int,A:struct", "A", AWS_SHAPE_STRUCT, "key", "value" },
	{ "A:jsondoc,B:int", "A", AWS_SHAPE_JSONDOC, "key", "value" },
};

static void test_shape_hints(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(hint_cases) / sizeof(hint_cases[0]); i++) {
		const struct hint_case *c = &hint_cases[i];
		struct aws_shape_hint h;

		if (aws_shape_hint(c->hints, c->name, strlen(c->name), &h) != c->kind ||
		    h.kind != c->kind)
			fail_msg("case %zu (%s in %s): kind %d, want %d", i, c->name,
				 c->hints ? c->hints : "NULL", (int)h.kind, (int)c->kind);
		if (c->kind != AWS_SHAPE_NONE) {
			assert_string_equal(h.key, c->key);
			assert_string_equal(h.value, c->value);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xml_table),
		cmocka_unit_test(test_xml_empty_and_null),
		cmocka_unit_test(test_xml_depth),
		cmocka_unit_test(test_xml_many_members),
		cmocka_unit_test(test_xml_many_siblings),
		cmocka_unit_test(test_shape_hints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
