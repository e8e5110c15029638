/* ddb_expr.h: DynamoDB attribute values and expressions (condition, filter, key condition,
 * projection, update): a pure parser and evaluator over AttributeValue JSON, no I/O. */
#ifndef CLEANOPS_SBX_DDB_EXPR_H
#define CLEANOPS_SBX_DDB_EXPR_H

#include <jansson.h>
#include <stddef.h>

#include "aws/client/buf.h"

/* The largest item DynamoDB stores, in its own size accounting (400 KB). */
#define SBX_DDB_MAX_ITEM_SIZE 409600
/* The longest expression string accepted (4 KB, as AWS). */
#define SBX_DDB_MAX_EXPR_LEN 4096

/* ---- attribute values ({"S": "x"}, {"N": "1"}, {"M": {...}}, ...) ---- */

/* Check one AttributeValue (recursively). Returns 0, or -1 with an AWS-like message. */
int sbx_ddb_av_validate(json_t *av, char *err, size_t errlen);
/* Check an item (an object of AttributeValues). Returns 0, or -1 with a message. */
int sbx_ddb_item_validate(json_t *item, char *err, size_t errlen);
/* The AttributeValue's type tag ("S", "N", ... "BS"), or NULL when malformed. Borrowed. */
const char *sbx_ddb_av_type(json_t *av);
/* Deep equality as DynamoDB sees it (numbers by value, sets ignoring order). */
int sbx_ddb_av_equal(json_t *a, json_t *b);
/* Order two scalars of the same type (N, S, B): sets *cmp to <0, 0, >0 and returns 0,
 * or returns -1 when they cannot be ordered (different or non-scalar types). */
int sbx_ddb_av_compare(json_t *a, json_t *b, int *cmp);
/* Compare two decimal numbers exactly (any length). Malformed text sorts as zero. */
int sbx_ddb_num_compare(const char *a, const char *b);
/* Decimal a + b (or a - b when negate_b) exactly, written canonically into out.
 * Returns 0, or -1 when the result needs more than 38 significant digits or out is short. */
int sbx_ddb_num_add(const char *a, const char *b, int negate_b, char *out, size_t outlen);
/* The item's size by DynamoDB's accounting (names + values). */
size_t sbx_ddb_item_size(json_t *item);
/* Append a key value's order-preserving binary form to out (memcmp order = DynamoDB's
 * order within one type S, N or B; equal numbers encode equally). Returns 0 or -1. */
int sbx_ddb_key_encode(json_t *av, struct aws_buf *out);

/* ---- expressions ---- */

enum sbx_ddb_expr_kind {
	SBX_DDB_CONDITION,     /* ConditionExpression */
	SBX_DDB_FILTER,        /* FilterExpression (same grammar) */
	SBX_DDB_KEY_CONDITION, /* KeyConditionExpression */
	SBX_DDB_PROJECTION,    /* ProjectionExpression */
	SBX_DDB_UPDATE         /* UpdateExpression */
};

/* A parsed expression (opaque); free with sbx_ddb_expr_free(). */
struct sbx_ddb_expr;

/* Parse text. names/values are the request's ExpressionAttributeNames/Values (borrowed,
 * either may be NULL); every #name and :value used is recorded as a key in used (an
 * object the caller owns, may be NULL) for sbx_ddb_expr_check_unused(). Returns 0 and
 * *out (caller frees), or -1 with the message AWS gives ("Invalid ConditionExpression:
 * Syntax error; token: ..."). */
int sbx_ddb_expr_parse(enum sbx_ddb_expr_kind kind, const char *text, json_t *names,
		       json_t *values, json_t *used, struct sbx_ddb_expr **out,
		       char *err, size_t errlen);
/* Free a parsed expression (NULL is fine). */
void sbx_ddb_expr_free(struct sbx_ddb_expr *e);
/* After every expression of a request is parsed: -1 with AWS's message when a name or
 * value was supplied but not used, else 0. */
int sbx_ddb_expr_check_unused(json_t *names, json_t *values, json_t *used,
			      char *err, size_t errlen);

/* Evaluate a condition/filter against item (borrowed; NULL = no such item).
 * Returns 1 (true) or 0 (false). */
int sbx_ddb_expr_eval(const struct sbx_ddb_expr *e, json_t *item);
/* A projection (or an update's touched paths, for UPDATED_OLD/NEW) of item: a new
 * object holding only the named paths (caller decrefs). */
json_t *sbx_ddb_expr_project(const struct sbx_ddb_expr *e, json_t *item);
/* Apply an update expression to item (borrowed; NULL = a new item). Returns 0 and
 * *out (a new object, caller decrefs), or -1 with AWS's message. */
int sbx_ddb_expr_update(const struct sbx_ddb_expr *e, json_t *item, json_t **out,
			char *err, size_t errlen);
/* 1 when a condition or filter reads (any path under) the top-level attribute name. */
int sbx_ddb_expr_refers(const struct sbx_ddb_expr *e, const char *name);
/* 1 when the update writes (any path under) the top-level attribute name, else 0. */
int sbx_ddb_expr_update_touches(const struct sbx_ddb_expr *e, const char *name);

/* A key condition broken down for a table's key schema. */
enum sbx_ddb_range_op {
	SBX_DDB_RANGE_NONE, SBX_DDB_RANGE_EQ, SBX_DDB_RANGE_LT, SBX_DDB_RANGE_LE,
	SBX_DDB_RANGE_GT, SBX_DDB_RANGE_GE, SBX_DDB_RANGE_BETWEEN, SBX_DDB_RANGE_BEGINS
};
struct sbx_ddb_keycond {
	json_t *hash;               /* the partition key's value (borrowed from the expr) */
	enum sbx_ddb_range_op op;
	json_t *r1, *r2;            /* the sort key operands (borrowed), r2 for BETWEEN */
};
/* Check a KeyConditionExpression against the key names (range_name NULL when the
 * table has no sort key) and break it down. Returns 0, or -1 with AWS's message. */
int sbx_ddb_expr_keycond(const struct sbx_ddb_expr *e, const char *hash_name,
			 const char *range_name, struct sbx_ddb_keycond *out,
			 char *err, size_t errlen);

#endif
