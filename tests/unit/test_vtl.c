/* test_vtl.c: the API Gateway mapping-template renderer, case by case, errors included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "aws/sandbox/vtl.h"

struct rcase {
	const char *name;
	const char *tmpl;
	const char *body;   /* NULL: the default order body */
	const char *want;   /* NULL: a render error is expected */
};

static const char order[] = "{\"orderID\":\"o-1\",\"item\":\"a b&c\",\"quantity\":3,"
			    "\"tags\":[\"x\",\"y\"],\"m\":{\"k\":\"v\"}}";

static const struct rcase cases[] = {
	{ "literal", "hello world", NULL, "hello world" },
	{ "seed template", "Action=SendMessage&MessageBody=$input.body", "{\"a\":1}",
	  "Action=SendMessage&MessageBody={\"a\":1}" },
	{ "json root", "$input.json('$')", "{\"a\": [1, 2]}", "{\"a\":[1,2]}" },
	{ "json member", "$input.json('$.item')", NULL, "\"a b&c\"" },
	{ "json nested", "$input.json('$.m.k')", NULL, "\"v\"" },
	{ "json index", "$input.json('$.tags[1]')", NULL, "\"y\"" },
	{ "json bracket", "$input.json(\"$['item']\")", NULL, "\"a b&c\"" },
	{ "json missing", "[$input.json('$.nope')]", NULL, "[]" },
	{ "path string", "$input.path('$.item')", NULL, "a b&c" },
	{ "path number", "$input.path('$.quantity')", NULL, "3" },
	{ "path map", "$input.path('$.m')", NULL, "{k=v}" },
	{ "path size", "$input.path('$.tags').size()", NULL, "2" },
	{ "params by name", "$input.params('id')|$input.params('q')|$input.params('x-tenant')", NULL,
	  "42|hi|t1" },
	{ "params missing", "[$input.params('none')]", NULL, "[]" },
	{ "params map", "$input.params().path.id", NULL, "42" },
	{ "urlEncode", "$util.urlEncode($input.body)", "{\"a\":\"b c+d&e/f\"}",
	  "%7B%22a%22%3A%22b+c%2Bd%26e%2Ff%22%7D" },
	{ "urlEncode literal", "$util.urlEncode('https://q/x y')", NULL, "https%3A%2F%2Fq%2Fx+y" },
	{ "urlDecode", "$util.urlDecode('a+b%26c')", NULL, "a b&c" },
	{ "escapeJavaScript", "$util.escapeJavaScript($input.body)", "say \"hi\"\n'x'/\xc3\xa9",
	  "say \\\"hi\\\"\\n\\'x\\'\\/\\u00E9" },
	{ "base64Encode", "$util.base64Encode('hello')", NULL, "aGVsbG8=" },
	{ "base64Decode", "$util.base64Decode('aGVsbG8=')", NULL, "hello" },
	{ "base64Decode bad", "$util.base64Decode('***')", NULL, NULL },
	{ "parseJson", "$util.parseJson('{\"a\":{\"b\":7}}').a.b", NULL, "7" },
	{ "context", "$context.requestId $context.stage $context.apiId $context.resourcePath "
	  "$context.httpMethod $context.identity.sourceIp $context.accountId "
	  "$context.requestTimeEpoch", NULL,
	  "rid-1 prod abc123 /orders POST 127.0.0.1 000000000000 1700000000000" },
	{ "braced and quiet", "${context.stage}-$!{context.nothing}-", NULL, "prod--" },
	{ "stage variables", "$stageVariables.queue", NULL, "POC-Queue" },
	{ "line comment", "a## gone\nb", NULL, "ab" },
	{ "block comment", "a#* gone\n *#b", NULL, "ab" },
	{ "dollar literal", "cost: $5 and $ alone", NULL, "cost: $5 and $ alone" },
	{ "hash literal", "#1 and #notadirective", NULL, "#1 and #notadirective" },
	{ "set and use", "#set($q = $input.path('$.quantity'))\n$q", NULL, "3" },
	{ "set arithmetic", "#set($x = 2 * 3 + 1)$x", NULL, "7" },
	{ "set concat", "#set($s = \"id-$input.path('$.orderID')\")$s", NULL, "id-o-1" },
	{ "if true", "#if($input.path('$.quantity') > 2)big#{else}small#end", NULL, "big" },
	{ "if else", "#if($input.path('$.quantity') > 5)big#{else}small#end", NULL, "small" },
	{ "elseif", "#if(1 == 2)a#elseif(2 == 2)b#else c#end", NULL, "b" },
	{ "if newline eaten", "#if(true)\nyes\n#end\n", NULL, "yes\n" },
	{ "and or not", "#if(!false && (false || true))ok#end", NULL, "ok" },
	{ "string compare", "#if($input.path('$.orderID') == 'o-1')eq#end", NULL, "eq" },
	{ "foreach", "#foreach($t in $input.path('$.tags'))$t#if($foreach.hasNext),#end#end", NULL,
	  "x,y" },
	{ "foreach keys", "#foreach($k in $input.params().header.keySet())$k;#end", NULL,
	  "X-Tenant;" },
	{ "foreach empty", "[#foreach($t in [])$t#end]", NULL, "[]" },
	{ "skipped branch not evaluated", "#if(false)$nosuch.thing()#end ok", NULL, " ok" },
	{ "unknown variable", "$nosuch", NULL, NULL },
	{ "unknown util", "$util.frobnicate('x')", NULL, NULL },
	{ "unknown input", "$input.headers", NULL, NULL },
	{ "unsupported macro", "#macro(m)x#end", NULL, NULL },
	{ "unsupported jsonpath", "$input.json('$..x')", NULL, NULL },
	{ "if without end", "#if(true)x", NULL, NULL },
	{ "stray end", "x#end", NULL, NULL },
	{ "body not json", "$input.json('$')", "not json", NULL },
	{ "unterminated string", "$util.urlEncode('abc)", NULL, NULL },
};

static void test_cases(void **state)
{
	json_t *params = json_pack("{s:{s:s}, s:{s:s}, s:{s:s}}", "path", "id", "42",
				   "querystring", "q", "hi", "header", "X-Tenant", "t1");
	json_t *context = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:{s:s}}",
				    "requestId", "rid-1", "stage", "prod", "apiId", "abc123",
				    "resourcePath", "/orders", "httpMethod", "POST",
				    "accountId", "000000000000",
				    "requestTimeEpoch", (json_int_t)1700000000000LL,
				    "identity", "sourceIp", "127.0.0.1");
	json_t *vars = json_pack("{s:s}", "queue", "POC-Queue");

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *body = cases[i].body ? cases[i].body : order;
		struct sbx_vtl_ctx c = { body, strlen(body), params, context, vars };
		struct aws_buf out = { 0 };
		char err[256];
		int rc = sbx_vtl_render(cases[i].tmpl, &c, &out, err, sizeof(err));

		if (!cases[i].want) {
			if (rc == 0)
				fail_msg("%s: rendered '%s', want an error", cases[i].name,
					 aws_buf_str(&out));
			if (!err[0])
				fail_msg("%s: an error without a reason", cases[i].name);
		} else {
			if (rc != 0)
				fail_msg("%s: error %s", cases[i].name, err);
			if (strcmp(aws_buf_str(&out), cases[i].want) != 0)
				fail_msg("%s: got '%s' want '%s'", cases[i].name, aws_buf_str(&out),
					 cases[i].want);
		}
		aws_buf_cleanup(&out);
	}
	json_decref(params);
	json_decref(context);
	json_decref(vars);
}

/* A NULL params / context / stage variables context still renders what it can. */
static void test_empty_context(void **state)
{
	struct sbx_vtl_ctx c = { "", 0, NULL, NULL, NULL };
	struct aws_buf out = { 0 };

	(void)state;
	assert_int_equal(sbx_vtl_render("[$input.json('$')][$input.params('x')][$stageVariables.y]",
					&c, &out, NULL, 0), 0);
	assert_string_equal(aws_buf_str(&out), "[{}][][]");
	aws_buf_cleanup(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_empty_context),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
