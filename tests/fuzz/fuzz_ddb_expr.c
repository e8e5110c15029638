/* fuzz_ddb_expr.c: DynamoDB's expression parser and evaluator (aws/sandbox/ddb_expr.c).
 * Input parts (cut at "%%" lines): the expression, whose first character picks the kind
 * (C condition, F filter, K key condition, P projection, U update; anything else: tried as
 * every kind), ExpressionAttributeNames JSON, ExpressionAttributeValues JSON, an item JSON.
 * The values and the item also go through the attribute-value checks and helpers. */
#include <jansson.h>
#include <string.h>

#include "aws/client/buf.h"
#include "aws/sandbox/ddb_expr.h"
#include "fuzz.h"

static json_t *load(const struct fuzz_parts *p, int i)
{
	json_error_t jerr;

	return p->len[i] ? json_loadb(p->part[i], p->len[i], 0, &jerr) : NULL;
}

static void run_kind(enum sbx_ddb_expr_kind kind, const char *text, json_t *names,
		     json_t *values, json_t *item)
{
	struct sbx_ddb_expr *e = NULL;
	json_t *used = json_object();
	char err[512];

	if (sbx_ddb_expr_parse(kind, text, names, values, used, &e, err, sizeof(err)) == 0) {
		struct sbx_ddb_keycond kc;
		json_t *out = NULL;

		sbx_ddb_expr_check_unused(names, values, used, err, sizeof(err));
		switch (kind) {
		case SBX_DDB_CONDITION:
		case SBX_DDB_FILTER:
			sbx_ddb_expr_eval(e, item);
			sbx_ddb_expr_eval(e, NULL);
			sbx_ddb_expr_refers(e, "a");
			break;
		case SBX_DDB_KEY_CONDITION:
			sbx_ddb_expr_keycond(e, "pk", NULL, &kc, err, sizeof(err));
			sbx_ddb_expr_keycond(e, "pk", "sk", &kc, err, sizeof(err));
			break;
		case SBX_DDB_PROJECTION:
			json_decref(sbx_ddb_expr_project(e, item));
			break;
		case SBX_DDB_UPDATE:
			if (sbx_ddb_expr_update(e, item, &out, err, sizeof(err)) == 0) {
				json_decref(sbx_ddb_expr_project(e, out));
				sbx_ddb_item_size(out);
				json_decref(out);
			}
			sbx_ddb_expr_update_touches(e, "a");
			break;
		}
		sbx_ddb_expr_free(e);
	}
	json_decref(used);
}

/* The attribute-value helpers over every value of an object of AttributeValues. */
static void values_helpers(json_t *values)
{
	const char *k;
	json_t *v, *prev = NULL;
	char err[512], sum[64];

	if (!json_is_object(values))
		return;
	json_object_foreach(values, k, v) {
		struct aws_buf key;
		int cmp;

		if (sbx_ddb_av_validate(v, err, sizeof(err)) != 0)
			continue;
		sbx_ddb_av_type(v);
		aws_buf_init(&key, 0);
		sbx_ddb_key_encode(v, &key);
		aws_buf_cleanup(&key);
		if (prev) {
			sbx_ddb_av_equal(prev, v);
			sbx_ddb_av_compare(prev, v, &cmp);
			if (json_is_string(json_object_get(prev, "N")) &&
			    json_is_string(json_object_get(v, "N"))) {
				const char *a = json_string_value(json_object_get(prev, "N"));
				const char *b = json_string_value(json_object_get(v, "N"));

				sbx_ddb_num_compare(a, b);
				sbx_ddb_num_add(a, b, 0, sum, sizeof(sum));
				sbx_ddb_num_add(a, b, 1, sum, sizeof(sum));
			}
		}
		prev = v;
	}
}

/* The checks the service makes on ExpressionAttributeNames/Values before parsing (the
 * parser's contract): each absent or an object, and every value a valid AttributeValue. */
static int valid_request(json_t *names, json_t *values)
{
	const char *k;
	json_t *v;
	char err[512];

	if ((names && !json_is_object(names)) || (values && !json_is_object(values)))
		return 0;
	json_object_foreach(values, k, v)
		if (sbx_ddb_av_validate(v, err, sizeof(err)) != 0)
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_parts p;
	json_t *names, *values, *item;
	char err[512];
	const char *text;
	static const struct {
		char tag;
		enum sbx_ddb_expr_kind kind;
	} kinds[] = {
		{ 'C', SBX_DDB_CONDITION }, { 'F', SBX_DDB_FILTER }, { 'K', SBX_DDB_KEY_CONDITION },
		{ 'P', SBX_DDB_PROJECTION }, { 'U', SBX_DDB_UPDATE },
	};
	int matched = 0;

	if (fuzz_split(data, size, &p) != 0)
		return 0;
	names = load(&p, 1);
	values = load(&p, 2);
	item = load(&p, 3);
	/* what svc_dynamodb.c checks before it parses: both maps, every value well-formed */
	if (!valid_request(names, values)) {
		json_decref(names);
		json_decref(values);
		json_decref(item);
		fuzz_parts_free(&p);
		return 0;
	}
	if (item && sbx_ddb_item_validate(item, err, sizeof(err)) != 0) {
		json_decref(item); /* the store only ever holds valid items */
		item = NULL;
	}
	if (item)
		sbx_ddb_item_size(item);
	values_helpers(values);
	text = p.part[0];
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (text[0] == kinds[i].tag) {
			run_kind(kinds[i].kind, text + 1, names, values, item);
			matched = 1;
		}
	}
	if (!matched)
		for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			run_kind(kinds[i].kind, text, names, values, item);
	json_decref(names);
	json_decref(values);
	json_decref(item);
	fuzz_parts_free(&p);
	return 0;
}
