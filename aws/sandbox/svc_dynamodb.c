/* svc_dynamodb.c: DynamoDB in the sandbox: tables, items, queries, scans, batches; every
 * write is one SQLite transaction that also appends the table's stream record. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sandbox/ddb_expr.h"
#include "aws/sandbox/sbx_int.h"
#include "aws/sandbox/streams.h"

#define MAX_PAGE_BYTES (1024 * 1024) /* Query/Scan stop after 1 MB read, as AWS */
#define NAME_LEN 256

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS ddb_tables ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, region TEXT NOT NULL, name TEXT NOT NULL,"
	" spec TEXT NOT NULL, hash_name TEXT NOT NULL, hash_type TEXT NOT NULL,"
	" range_name TEXT, range_type TEXT, created_ms INTEGER NOT NULL, table_id TEXT NOT NULL,"
	" stream_id INTEGER NOT NULL DEFAULT 0, stream_view TEXT, stream_arn TEXT,"
	" stream_label TEXT, UNIQUE(region, name));"
	"CREATE TABLE IF NOT EXISTS ddb_items ("
	" tid INTEGER NOT NULL, hk BLOB NOT NULL, rk BLOB NOT NULL, item TEXT NOT NULL,"
	" size INTEGER NOT NULL, PRIMARY KEY (tid, hk, rk)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS ddb_streams ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, arn TEXT NOT NULL UNIQUE, region TEXT NOT NULL,"
	" table_name TEXT NOT NULL, label TEXT NOT NULL, view TEXT NOT NULL,"
	" key_schema TEXT NOT NULL, shard_id TEXT NOT NULL, created_ms INTEGER NOT NULL,"
	" start_seq INTEGER NOT NULL, end_seq INTEGER, trimmed_seq INTEGER NOT NULL DEFAULT 0,"
	" disabled_ms INTEGER);"
	"CREATE TABLE IF NOT EXISTS ddb_records ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT, sid INTEGER NOT NULL,"
	" created_ms INTEGER NOT NULL, record TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS ddb_records_sid ON ddb_records (sid, seq);";

/* ---- prepared statements, cached for the hot paths (used only with the lock held) ---- */

enum q_id { Q_TABLE, Q_GET, Q_PUT, Q_DEL, Q_BEGIN, Q_COMMIT, Q_ROLLBACK, Q_N };

static const char *const q_sql[Q_N] = {
	[Q_TABLE] = ("SELECT id, hash_name, hash_type, range_name, range_type, stream_id,"
		     " stream_view, spec, created_ms, stream_arn, stream_label, table_id"
		     " FROM ddb_tables WHERE region = ?1 AND name = ?2"),
	[Q_GET] = "SELECT item FROM ddb_items WHERE tid = ?1 AND hk = ?2 AND rk = ?3",
	[Q_PUT] = ("INSERT OR REPLACE INTO ddb_items (tid, hk, rk, item, size)"
		   " VALUES (?1, ?2, ?3, ?4, ?5)"),
	[Q_DEL] = "DELETE FROM ddb_items WHERE tid = ?1 AND hk = ?2 AND rk = ?3",
	[Q_BEGIN] = "BEGIN",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
};

struct ddb_state {
	sqlite3_stmt *st[Q_N];
};

/* The cached statement id, reset and unbound; NULL on error (logged). */
static sqlite3_stmt *q(struct sbx *s, sqlite3 *db, enum q_id id)
{
	struct ddb_state *ds = sbx_get_state(s, "dynamodb");
	if (!ds)
		return NULL;
	if (!ds->st[id]) {
		if (sqlite3_prepare_v3(db, q_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &ds->st[id],
				       NULL) != SQLITE_OK) {
			sbx_log(s, "ERROR", "dynamodb: prepare: %s", sqlite3_errmsg(db));
			ds->st[id] = NULL;
			return NULL;
		}
	}
	sqlite3_reset(ds->st[id]);
	sqlite3_clear_bindings(ds->st[id]);
	return ds->st[id];
}

static int ddb_init(struct sbx *s)
{
	struct ddb_state *ds = calloc(1, sizeof(*ds));
	if (!ds)
		return -1;
	sbx_set_state(s, "dynamodb", ds);
	return 0;
}

static void ddb_shutdown(struct sbx *s)
{
	struct ddb_state *ds = sbx_get_state(s, "dynamodb");
	if (!ds)
		return;
	sbx_db_lock(s);
	for (int i = 0; i < Q_N; i++)
		sqlite3_finalize(ds->st[i]);
	sbx_db_unlock(s);
	sbx_set_state(s, "dynamodb", NULL);
	free(ds);
}

static int exec_q(struct sbx *s, sqlite3 *db, enum q_id id)
{
	sqlite3_stmt *st = q(s, db, id);
	int rc;
	if (!st)
		return -1;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		sbx_log(s, "ERROR", "dynamodb: %s: %s", q_sql[id], sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* ---- errors ---- */

static int verr(struct sbx_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int verr(struct sbx_req *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sbx_error(r, 400, "ValidationException", "%s", msg);
}

static int not_found(struct sbx_req *r)
{
	return sbx_error(r, 400, "ResourceNotFoundException", "Requested resource not found");
}

static int internal(struct sbx_req *r)
{
	return sbx_error(r, 500, "InternalServerError", "Internal server error");
}

/* ---- tables ---- */

struct tinfo {
	long long id;
	char name[NAME_LEN];
	char hash[NAME_LEN], htype[4];
	char range[NAME_LEN], rtype[4];
	int has_range;
	long long stream_id;
	char view[32];
	char stream_arn[512];
	char stream_label[32];
	char table_id[40];
	char spec[8192];
	long long created_ms;
};

/* Load table name of the caller's region. Returns 0, 1 when missing, -1 on error. */
static int table_load(struct sbx_req *r, sqlite3 *db, const char *name, struct tinfo *t)
{
	sqlite3_stmt *st = q(r->sbx, db, Q_TABLE);
	int rc;
	if (!st)
		return -1;
	memset(t, 0, sizeof(*t));
	sqlite3_bind_text(st, 1, r->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? 1 : -1;
	}
	t->id = sqlite3_column_int64(st, 0);
	snprintf(t->name, sizeof(t->name), "%s", name);
	snprintf(t->hash, sizeof(t->hash), "%s", sbx_col(st, 1));
	snprintf(t->htype, sizeof(t->htype), "%s", sbx_col(st, 2));
	t->has_range = sqlite3_column_type(st, 3) != SQLITE_NULL;
	snprintf(t->range, sizeof(t->range), "%s", sbx_col(st, 3));
	snprintf(t->rtype, sizeof(t->rtype), "%s", sbx_col(st, 4));
	t->stream_id = sqlite3_column_int64(st, 5);
	snprintf(t->view, sizeof(t->view), "%s", sbx_col(st, 6));
	snprintf(t->spec, sizeof(t->spec), "%s", sbx_col(st, 7));
	t->created_ms = sqlite3_column_int64(st, 8);
	snprintf(t->stream_arn, sizeof(t->stream_arn), "%s", sbx_col(st, 9));
	snprintf(t->stream_label, sizeof(t->stream_label), "%s", sbx_col(st, 10));
	snprintf(t->table_id, sizeof(t->table_id), "%s", sbx_col(st, 11));
	sqlite3_reset(st);
	return 0;
}

/* Lock the store and load the request's TableName. Returns the db with the lock held
 * and *t filled, or NULL (lock released, error set). */
static sqlite3 *lock_table(struct sbx_req *r, const char *name, struct tinfo *t)
{
	sqlite3 *db;
	int rc;
	if (!name || !name[0]) {
		verr(r, "1 validation error detected: Value null at 'tableName' failed to satisfy "
		     "constraint: Member must not be null");
		return NULL;
	}
	db = sbx_db_lock(r->sbx);
	rc = table_load(r, db, name, t);
	if (rc == 0)
		return db;
	sbx_db_unlock(r->sbx);
	if (rc > 0)
		not_found(r);
	else
		internal(r);
	return NULL;
}

static void table_arn(const struct sbx_req *r, const char *name, char *out, size_t n)
{
	snprintf(out, n, "arn:aws:dynamodb:%s:%s:table/%s", r->region, SBX_ACCOUNT, name);
}

/* ---- keys ---- */

struct key {
	struct aws_buf hk, rk;
	json_t *keys; /* {hash: av, range: av}, new reference */
};

static void key_init(struct key *k)
{
	aws_buf_init(&k->hk, 0);
	aws_buf_init(&k->rk, 0);
	k->keys = NULL;
}

static void key_cleanup(struct key *k)
{
	aws_buf_cleanup(&k->hk);
	aws_buf_cleanup(&k->rk);
	json_decref(k->keys);
	k->keys = NULL;
}

/* Check and encode one key attribute of obj. item: PutItem messages, else Key messages. */
static int key_attr(struct sbx_req *r, json_t *obj, const char *name, const char *type,
		    int item, struct aws_buf *out, json_t *keys)
{
	json_t *av = json_object_get(obj, name);
	const char *t = sbx_ddb_av_type(av);
	const char *v;
	if (!av) {
		if (item)
			return verr(r, "One or more parameter values were invalid: Missing the key "
				    "%s in the item", name);
		return verr(r, "The provided key element does not match the schema");
	}
	if (!t || strcmp(t, type) != 0) {
		if (item)
			return verr(r, "One or more parameter values were invalid: Type mismatch for "
				    "key %s expected: %s actual: %s", name, type, t ? t : "?");
		return verr(r, "The provided key element does not match the schema");
	}
	v = json_string_value(json_object_get(av, t));
	if (!v)
		return verr(r, "The provided key element does not match the schema");
	if (v[0] == '\0')
		return verr(r, "One or more parameter values are not valid. The AttributeValue for "
			    "a key attribute cannot contain an empty %s value. Key: %s",
			    t[0] == 'B' ? "binary" : "string", name);
	if (t[0] == 'N') {
		char msg[256];
		if (sbx_ddb_av_validate(av, msg, sizeof(msg)))
			return verr(r, "%s", msg);
	}
	aws_buf_reset(out);
	if (sbx_ddb_key_encode(av, out))
		return verr(r, "One or more parameter values were invalid: invalid key value for "
			    "%s", name);
	if (out->len > 2048)
		return verr(r, "One or more parameter values were invalid: Size of hashkey has "
			    "exceeded the maximum size limit of2048 bytes");
	json_object_set(keys, name, av);
	return 0;
}

/* Extract the key of obj (an Item when item, else a Key map holding exactly the key). */
static int key_from(struct sbx_req *r, const struct tinfo *t, json_t *obj, int item,
		    struct key *k)
{
	if (!json_is_object(obj))
		return verr(r, item ? "1 validation error detected: Value null at 'item' failed to "
			    "satisfy constraint: Member must not be null"
			    : "1 validation error detected: Value null at 'key' failed to "
			    "satisfy constraint: Member must not be null");
	if (!item && json_object_size(obj) != (size_t)(t->has_range ? 2 : 1))
		return verr(r, "The provided key element does not match the schema");
	k->keys = json_object();
	if (!k->keys)
		return internal(r);
	if (key_attr(r, obj, t->hash, t->htype, item, &k->hk, k->keys))
		return -1;
	if (t->has_range) {
		if (key_attr(r, obj, t->range, t->rtype, item, &k->rk, k->keys))
			return -1;
		if (k->rk.len > 1024)
			return verr(r, "One or more parameter values were invalid: Aggregated size of "
				    "all range keys has exceeded the size limit of 1024 bytes");
	}
	return 0;
}

static void bind_key(sqlite3_stmt *st, long long tid, const struct key *k)
{
	sqlite3_bind_int64(st, 1, tid);
	sqlite3_bind_blob(st, 2, k->hk.data ? k->hk.data : "", (int)k->hk.len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, k->rk.data ? k->rk.data : "", (int)k->rk.len, SQLITE_STATIC);
}

/* The stored item under k (new reference), NULL when absent; *err set on failure. */
static json_t *item_load(struct sbx_req *r, sqlite3 *db, const struct tinfo *t,
			 const struct key *k, int *err)
{
	sqlite3_stmt *st = q(r->sbx, db, Q_GET);
	json_t *item = NULL;
	int rc;
	*err = 0;
	if (!st) {
		*err = 1;
		return NULL;
	}
	bind_key(st, t->id, k);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		item = json_loadb((const char *)sqlite3_column_text(st, 0),
				  (size_t)sqlite3_column_bytes(st, 0), 0, NULL);
		if (!item)
			*err = 1;
	} else if (rc != SQLITE_DONE) {
		*err = 1;
	}
	sqlite3_reset(st);
	return item;
}

/* Write newi under k (NULL: delete) and append the stream record when the item changed.
 * Inside the caller's transaction. Returns 0 or -1 (error set). */
static int item_write(struct sbx_req *r, sqlite3 *db, const struct tinfo *t,
		      const struct key *k, json_t *old, json_t *newi)
{
	sqlite3_stmt *st;
	char *text = NULL;
	int rc;
	if (newi) {
		text = json_dumps(newi, JSON_COMPACT);
		st = q(r->sbx, db, Q_PUT);
		if (!text || !st) {
			free(text);
			return internal(r);
		}
		bind_key(st, t->id, k);
		sqlite3_bind_text(st, 4, text, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, (long long)sbx_ddb_item_size(newi));
	} else {
		if (!old)
			return 0;
		st = q(r->sbx, db, Q_DEL);
		if (!st)
			return internal(r);
		bind_key(st, t->id, k);
	}
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	free(text);
	if (rc != SQLITE_DONE) {
		sbx_log(r->sbx, "ERROR", "dynamodb: write: %s", sqlite3_errmsg(db));
		return internal(r);
	}
	if (t->stream_id) {
		const char *ev = !newi ? "REMOVE" : old ? "MODIFY" : "INSERT";
		if (old && newi) {
			json_t *a = json_pack("{s:O}", "M", old), *b = json_pack("{s:O}", "M", newi);
			int same = a && b && sbx_ddb_av_equal(a, b);
			json_decref(a);
			json_decref(b);
			if (same)
				return 0; /* no change: AWS writes no stream record */
		}
		if (sbx_streams_append(r->sbx, db, t->stream_id, r->region, t->view, ev, k->keys,
				       old, newi))
			return internal(r);
	}
	return 0;
}

/* ---- expressions of one request ---- */

struct exprs {
	json_t *names, *values, *used;
	struct sbx_ddb_expr *cond, *filter, *keycond, *proj, *update;
};

static void exprs_cleanup(struct exprs *x)
{
	json_decref(x->used);
	sbx_ddb_expr_free(x->cond);
	sbx_ddb_expr_free(x->filter);
	sbx_ddb_expr_free(x->keycond);
	sbx_ddb_expr_free(x->proj);
	sbx_ddb_expr_free(x->update);
	memset(x, 0, sizeof(*x));
}

/* Parse the expressions of in that the operation accepts (a mask of kinds), check the
 * names and values maps. Returns 0 or -1 (error set). */
#define X_COND (1 << 0)
#define X_FILTER (1 << 1)
#define X_KEYCOND (1 << 2)
#define X_PROJ (1 << 3)
#define X_UPDATE (1 << 4)

static int exprs_parse(struct sbx_req *r, json_t *in, unsigned mask, struct exprs *x)
{
	static const struct { unsigned bit; const char *member; enum sbx_ddb_expr_kind kind; } rows[] = {
		{X_COND, "ConditionExpression", SBX_DDB_CONDITION},
		{X_FILTER, "FilterExpression", SBX_DDB_FILTER},
		{X_KEYCOND, "KeyConditionExpression", SBX_DDB_KEY_CONDITION},
		{X_PROJ, "ProjectionExpression", SBX_DDB_PROJECTION},
		{X_UPDATE, "UpdateExpression", SBX_DDB_UPDATE},
	};
	char err[512];
	int any = 0;
	const char *k;
	json_t *v;

	memset(x, 0, sizeof(*x));
	x->names = json_object_get(in, "ExpressionAttributeNames");
	x->values = json_object_get(in, "ExpressionAttributeValues");
	x->used = json_object();
	if (!x->used)
		return internal(r);
	if (x->names && !json_is_object(x->names))
		return sbx_error(r, 400, "SerializationException",
				 "ExpressionAttributeNames must be a map");
	if (x->values && !json_is_object(x->values))
		return sbx_error(r, 400, "SerializationException",
				 "ExpressionAttributeValues must be a map");
	if (x->names && json_object_size(x->names) == 0)
		return verr(r, "ExpressionAttributeNames must not be empty");
	if (x->values && json_object_size(x->values) == 0)
		return verr(r, "ExpressionAttributeValues must not be empty");
	json_object_foreach(x->values, k, v) {
		if (sbx_ddb_av_validate(v, err, sizeof(err)))
			return verr(r, "ExpressionAttributeValues contains invalid value: %s for key "
				    "%s", err, k);
	}
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		json_t *m = json_object_get(in, rows[i].member);
		struct sbx_ddb_expr **slot;
		if (!m || json_is_null(m))
			continue;
		if (!(mask & rows[i].bit))
			continue;
		if (!json_is_string(m))
			return sbx_error(r, 400, "SerializationException", "%s must be a string",
					 rows[i].member);
		slot = rows[i].bit == X_COND ? &x->cond : rows[i].bit == X_FILTER ? &x->filter
		     : rows[i].bit == X_KEYCOND ? &x->keycond : rows[i].bit == X_PROJ ? &x->proj
		     : &x->update;
		err[0] = '\0';
		if (sbx_ddb_expr_parse(rows[i].kind, json_string_value(m), x->names, x->values,
				       x->used, slot, err, sizeof(err)))
			return verr(r, "%s", err);
		any = 1;
	}
	if (!any && x->names)
		return verr(r, "ExpressionAttributeNames can only be specified when using "
			    "expressions");
	if (!any && x->values)
		return verr(r, "ExpressionAttributeValues can only be specified when using "
			    "expressions");
	if (sbx_ddb_expr_check_unused(x->names, x->values, x->used, err, sizeof(err)))
		return verr(r, "%s", err);
	return 0;
}

static int legacy_params(struct sbx_req *r, json_t *in)
{
	static const char *const legacy[] = {"Expected", "AttributesToGet", "KeyConditions",
		"QueryFilter", "ScanFilter", "AttributeUpdates", "ConditionalOperator"};
	for (size_t i = 0; i < sizeof(legacy) / sizeof(legacy[0]); i++)
		if (json_object_get(in, legacy[i]))
			return verr(r, "The sandbox does not support the legacy parameter %s; use "
				    "expressions", legacy[i]);
	return 0;
}

static json_t *consumed(json_t *in, const char *table, double units)
{
	const char *rcc = sbx_str(in, "ReturnConsumedCapacity");
	if (!rcc || strcmp(rcc, "NONE") == 0)
		return NULL;
	return json_pack("{s:s, s:f}", "TableName", table, "CapacityUnits", units);
}

static void add_consumed(json_t *out, json_t *in, const char *table, double units)
{
	json_t *c = consumed(in, table, units);
	if (c)
		json_object_set_new(out, "ConsumedCapacity", c);
}

static int check_size(struct sbx_req *r, json_t *item)
{
	if (sbx_ddb_item_size(item) > SBX_DDB_MAX_ITEM_SIZE)
		return verr(r, "Item size has exceeded the maximum allowed size");
	return 0;
}

static int cond_failed(struct sbx_req *r, json_t *in, json_t *old, json_t **out)
{
	const char *rv = sbx_str(in, "ReturnValuesOnConditionCheckFailure");
	(void)out;
	(void)old;
	(void)rv;
	return sbx_error(r, 400, "ConditionalCheckFailedException",
			 "The conditional request failed");
}

/* ======================================================================== */
/* Table operations                                                         */
/* ======================================================================== */

static int valid_table_name(const char *n)
{
	size_t len = n ? strlen(n) : 0;
	if (len < 3 || len > 255)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = n[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

/* The TableDescription of t (new reference). */
static json_t *describe(struct sbx_req *r, sqlite3 *db, const struct tinfo *t, const char *status)
{
	json_t *spec = json_loads(t->spec, 0, NULL), *d = NULL, *pt;
	char arn[600];
	long long count = 0, bytes = 0;
	sqlite3_stmt *st;
	const char *billing;

	if (!spec)
		return NULL;
	st = sbx_db_prep(r->sbx, db, "SELECT count(*), total(size) FROM ddb_items WHERE tid = ?",
			 "i", t->id);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		count = sqlite3_column_int64(st, 0);
		bytes = (long long)sqlite3_column_double(st, 1);
	}
	sqlite3_finalize(st);
	table_arn(r, t->name, arn, sizeof(arn));
	billing = sbx_str(spec, "BillingMode");
	if (!billing)
		billing = "PROVISIONED";
	pt = json_object_get(spec, "ProvisionedThroughput");
	d = json_pack("{s:O, s:s, s:O, s:s, s:f, s:{s:i, s:I, s:I}, s:I, s:I, s:s, s:s,"
		      " s:{s:s, s:f}, s:b}",
		      "AttributeDefinitions", json_object_get(spec, "AttributeDefinitions"),
		      "TableName", t->name,
		      "KeySchema", json_object_get(spec, "KeySchema"),
		      "TableStatus", status,
		      "CreationDateTime", (double)t->created_ms / 1000.0,
		      "ProvisionedThroughput", "NumberOfDecreasesToday", 0,
		      "ReadCapacityUnits", (json_int_t)sbx_int(pt, "ReadCapacityUnits", 0),
		      "WriteCapacityUnits", (json_int_t)sbx_int(pt, "WriteCapacityUnits", 0),
		      "TableSizeBytes", (json_int_t)bytes,
		      "ItemCount", (json_int_t)count,
		      "TableArn", arn,
		      "TableId", t->table_id,
		      "BillingModeSummary", "BillingMode", billing,
		      "LastUpdateToPayPerRequestDateTime", (double)t->created_ms / 1000.0,
		      "DeletionProtectionEnabled", 0);
	if (d && t->stream_arn[0]) {
		json_object_set_new(d, "LatestStreamArn", json_string(t->stream_arn));
		json_object_set_new(d, "LatestStreamLabel", json_string(t->stream_label));
	}
	if (d && t->stream_id)
		json_object_set_new(d, "StreamSpecification",
				    json_pack("{s:b, s:s}", "StreamEnabled", 1, "StreamViewType",
					      t->view));
	else if (d && t->stream_arn[0])
		json_object_set_new(d, "StreamSpecification",
				    json_pack("{s:b}", "StreamEnabled", 0));
	if (d && json_object_get(spec, "Tags") == NULL && json_object_get(spec, "TableClass"))
		json_object_set_new(d, "TableClassSummary",
				    json_pack("{s:O}", "TableClass", json_object_get(spec, "TableClass")));
	json_decref(spec);
	return d;
}

/* Validate a StreamSpecification; *on and view filled. Returns 0 or -1. */
static int stream_spec(struct sbx_req *r, json_t *ss, int *on, const char **view)
{
	static const char *const views[] = {"KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE",
					    "NEW_AND_OLD_IMAGES"};
	json_t *en = json_object_get(ss, "StreamEnabled");
	*on = 0;
	*view = NULL;
	if (!ss)
		return 0;
	if (!json_is_boolean(en))
		return verr(r, "1 validation error detected: Value null at "
			    "'streamSpecification.streamEnabled' failed to satisfy constraint: "
			    "Member must not be null");
	*on = json_is_true(en);
	*view = sbx_str(ss, "StreamViewType");
	if (*on) {
		int ok = 0;
		if (!*view)
			return verr(r, "One or more parameter values were invalid: StreamViewType is "
				    "required when StreamEnabled is true");
		for (size_t i = 0; i < 4; i++)
			ok |= strcmp(*view, views[i]) == 0;
		if (!ok)
			return verr(r, "1 validation error detected: Value '%s' at "
				    "'streamSpecification.streamViewType' failed to satisfy constraint: "
				    "Member must satisfy enum value set: [NEW_IMAGE, OLD_IMAGE, "
				    "NEW_AND_OLD_IMAGES, KEYS_ONLY]", *view);
	} else if (*view) {
		return verr(r, "One or more parameter values were invalid: StreamViewType cannot "
			    "be specified when StreamEnabled is false");
	}
	return 0;
}

static int create_table(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *name = sbx_str(in, "TableName");
	json_t *ks = json_object_get(in, "KeySchema");
	json_t *ad = json_object_get(in, "AttributeDefinitions");
	json_t *spec = NULL;
	const char *billing = sbx_str(in, "BillingMode");
	const char *hash = NULL, *range = NULL, *htype = NULL, *rtype = NULL, *view = NULL;
	json_t *pt = json_object_get(in, "ProvisionedThroughput");
	char *spec_text = NULL, arn[512] = "", label[32] = "", tid_uuid[37];
	long long sid = 0, now = sbx_now_ms();
	int stream_on, rc = -1, locked = 0, in_tx = 0;
	size_t i;
	json_t *x;
	sqlite3 *db = NULL;
	struct tinfo t;

	if (!valid_table_name(name)) {
		if (!name)
			return verr(r, "1 validation error detected: Value null at 'tableName' failed "
				    "to satisfy constraint: Member must not be null");
		return verr(r, "1 validation error detected: Value '%s' at 'tableName' failed to "
			    "satisfy constraint: Member must satisfy regular expression pattern: "
			    "[a-zA-Z0-9_.-]+ and length between 3 and 255", name);
	}
	if (!json_is_array(ks) || json_array_size(ks) < 1 || json_array_size(ks) > 2)
		return verr(r, "1 validation error detected: Value null at 'keySchema' failed to "
			    "satisfy constraint: Member must have length less than or equal to 2 "
			    "and greater than or equal to 1");
	if (!json_is_array(ad) || json_array_size(ad) < 1)
		return verr(r, "1 validation error detected: Value null at 'attributeDefinitions' "
			    "failed to satisfy constraint: Member must not be null");
	json_array_foreach(ks, i, x) {
		const char *an = sbx_str(x, "AttributeName"), *kt = sbx_str(x, "KeyType");
		if (!an || !kt || (strcmp(kt, "HASH") != 0 && strcmp(kt, "RANGE") != 0))
			return verr(r, "Invalid KeySchema: Some index key attribute have no "
				    "definition");
		if (strlen(an) == 0 || strlen(an) >= NAME_LEN)
			return verr(r, "Invalid KeySchema: attribute names must be 1 to 255 bytes");
		if (i == 0 && strcmp(kt, "HASH") != 0)
			return verr(r, "Invalid KeySchema: The first KeySchemaElement is not a HASH "
				    "key type");
		if (i == 1 && strcmp(kt, "RANGE") != 0)
			return verr(r, "Too many hash keys specified.  All Dynamo DB tables must have "
				    "exactly one hash key");
		if (i == 0)
			hash = an;
		else
			range = an;
	}
	if (range && strcmp(hash, range) == 0)
		return verr(r, "Both the Hash Key and the Range Key element in the KeySchema have "
			    "the same name");
	json_array_foreach(ad, i, x) {
		const char *an = sbx_str(x, "AttributeName"), *at = sbx_str(x, "AttributeType");
		if (!an || !at || (strcmp(at, "S") != 0 && strcmp(at, "N") != 0 &&
				   strcmp(at, "B") != 0))
			return verr(r, "1 validation error detected: Value '%s' at "
				    "'attributeDefinitions.%zu.member.attributeType' failed to satisfy "
				    "constraint: Member must satisfy enum value set: [B, N, S]",
				    at ? at : "null", i + 1);
		if (strcmp(an, hash) == 0)
			htype = at;
		else if (range && strcmp(an, range) == 0)
			rtype = at;
	}
	if (!htype || (range && !rtype))
		return verr(r, "One or more parameter values were invalid: Some index key attributes "
			    "are not defined in AttributeDefinitions. Keys: [%s%s%s], "
			    "AttributeDefinitions: [...]", hash, range ? ", " : "", range ? range : "");
	if (json_object_get(in, "GlobalSecondaryIndexes") ||
	    json_object_get(in, "LocalSecondaryIndexes"))
		return verr(r, "The sandbox does not support secondary indexes");
	if (json_array_size(ad) != (size_t)(range ? 2 : 1))
		return verr(r, "One or more parameter values were invalid: Number of attributes in "
			    "KeySchema does not exactly match number of attributes defined in "
			    "AttributeDefinitions");
	if (billing && strcmp(billing, "PAY_PER_REQUEST") != 0 && strcmp(billing, "PROVISIONED") != 0)
		return verr(r, "1 validation error detected: Value '%s' at 'billingMode' failed to "
			    "satisfy constraint: Member must satisfy enum value set: [PROVISIONED, "
			    "PAY_PER_REQUEST]", billing);
	if (billing && strcmp(billing, "PAY_PER_REQUEST") == 0 && pt)
		return verr(r, "One or more parameter values were invalid: Neither "
			    "ReadCapacityUnits nor WriteCapacityUnits can be specified when "
			    "BillingMode is PAY_PER_REQUEST");
	if ((!billing || strcmp(billing, "PROVISIONED") == 0) &&
	    (sbx_int(pt, "ReadCapacityUnits", 0) < 1 || sbx_int(pt, "WriteCapacityUnits", 0) < 1))
		return verr(r, "One or more parameter values were invalid: ReadCapacityUnits and "
			    "WriteCapacityUnits must both be specified when BillingMode is PROVISIONED");
	if (stream_spec(r, json_object_get(in, "StreamSpecification"), &stream_on, &view))
		return -1;

	spec = json_pack("{s:O, s:O, s:s}", "KeySchema", ks, "AttributeDefinitions", ad,
			 "BillingMode", billing ? billing : "PROVISIONED");
	if (!spec)
		return internal(r);
	if (pt)
		json_object_set(spec, "ProvisionedThroughput", pt);
	if (json_object_get(in, "TableClass"))
		json_object_set(spec, "TableClass", json_object_get(in, "TableClass"));
	if (json_object_get(in, "Tags"))
		json_object_set(spec, "Tags", json_object_get(in, "Tags"));
	spec_text = json_dumps(spec, JSON_COMPACT);
	if (!spec_text) {
		internal(r);
		goto done;
	}
	sbx_uuid(tid_uuid);
	db = sbx_db_lock(r->sbx);
	locked = 1;
	if (table_load(r, db, name, &t) == 0) {
		sbx_error(r, 400, "ResourceInUseException", "Table already exists: %s", name);
		goto done;
	}
	if (exec_q(r->sbx, db, Q_BEGIN)) {
		internal(r);
		goto done;
	}
	in_tx = 1;
	if (stream_on && sbx_streams_create(r->sbx, db, r->region, name, ks, view, arn,
					    sizeof(arn), label, &sid)) {
		internal(r);
		goto done;
	}
	if (sbx_db_run(r->sbx, db, "INSERT INTO ddb_tables (region, name, spec, hash_name,"
		       " hash_type, range_name, range_type, created_ms, table_id, stream_id,"
		       " stream_view, stream_arn, stream_label) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
		       "sssssssisisss", r->region, name, spec_text, hash, htype, range, rtype, now,
		       tid_uuid, sid, stream_on ? view : NULL, stream_on ? arn : NULL,
		       stream_on ? label : NULL) != 1 || exec_q(r->sbx, db, Q_COMMIT)) {
		internal(r);
		goto done;
	}
	in_tx = 0;
	if (table_load(r, db, name, &t) != 0) {
		internal(r);
		goto done;
	}
	*out = json_pack("{s:o}", "TableDescription", describe(r, db, &t, "ACTIVE"));
	if (!*out) {
		internal(r);
		goto done;
	}
	sbx_log(r->sbx, "INFO", "dynamodb: created table %s in %s", name, r->region);
	rc = 0;
done:
	if (in_tx)
		exec_q(r->sbx, db, Q_ROLLBACK);
	if (locked)
		sbx_db_unlock(r->sbx);
	free(spec_text);
	json_decref(spec);
	return rc;
}

static int describe_table(struct sbx_req *r, json_t *in, json_t **out)
{
	struct tinfo t;
	sqlite3 *db = lock_table(r, sbx_str(in, "TableName"), &t);
	json_t *d;
	if (!db)
		return -1;
	d = describe(r, db, &t, "ACTIVE");
	sbx_db_unlock(r->sbx);
	if (!d)
		return internal(r);
	*out = json_pack("{s:o}", "Table", d);
	return *out ? 0 : internal(r);
}

static int delete_table(struct sbx_req *r, json_t *in, json_t **out)
{
	struct tinfo t;
	sqlite3 *db = lock_table(r, sbx_str(in, "TableName"), &t);
	json_t *d;
	int rc = -1;
	if (!db)
		return -1;
	d = describe(r, db, &t, "DELETING");
	if (!d || exec_q(r->sbx, db, Q_BEGIN)) {
		internal(r);
		goto done;
	}
	if ((t.stream_id && sbx_streams_close(r->sbx, db, t.stream_id)) ||
	    sbx_db_run(r->sbx, db, "DELETE FROM ddb_items WHERE tid = ?", "i", t.id) < 0 ||
	    sbx_db_run(r->sbx, db, "DELETE FROM ddb_tables WHERE id = ?", "i", t.id) != 1 ||
	    exec_q(r->sbx, db, Q_COMMIT)) {
		exec_q(r->sbx, db, Q_ROLLBACK);
		internal(r);
		goto done;
	}
	*out = json_pack("{s:O}", "TableDescription", d);
	rc = *out ? 0 : internal(r);
	sbx_log(r->sbx, "INFO", "dynamodb: deleted table %s", t.name);
done:
	sbx_db_unlock(r->sbx);
	json_decref(d);
	return rc;
}

static int update_table(struct sbx_req *r, json_t *in, json_t **out)
{
	struct tinfo t;
	json_t *ss = json_object_get(in, "StreamSpecification");
	const char *billing = sbx_str(in, "BillingMode"), *view = NULL;
	json_t *pt = json_object_get(in, "ProvisionedThroughput");
	json_t *spec = NULL;
	int on = 0, rc = -1, in_tx = 0;
	sqlite3 *db;
	char *spec_text = NULL;

	if (json_object_get(in, "GlobalSecondaryIndexUpdates"))
		return verr(r, "The sandbox does not support secondary indexes");
	if (stream_spec(r, ss, &on, &view))
		return -1;
	db = lock_table(r, sbx_str(in, "TableName"), &t);
	if (!db)
		return -1;
	spec = json_loads(t.spec, 0, NULL);
	if (!spec) {
		internal(r);
		goto done;
	}
	if (ss && on && t.stream_id) {
		verr(r, "Table already has an enabled stream: TableName: %s", t.name);
		goto done;
	}
	if (ss && !on && !t.stream_id) {
		verr(r, "Table already has stream disabled: TableName: %s", t.name);
		goto done;
	}
	if (billing) {
		if (strcmp(billing, "PAY_PER_REQUEST") != 0 && strcmp(billing, "PROVISIONED") != 0) {
			verr(r, "1 validation error detected: Value '%s' at 'billingMode' failed to "
			     "satisfy constraint: Member must satisfy enum value set: [PROVISIONED, "
			     "PAY_PER_REQUEST]", billing);
			goto done;
		}
		json_object_set_new(spec, "BillingMode", json_string(billing));
		if (strcmp(billing, "PAY_PER_REQUEST") == 0)
			json_object_del(spec, "ProvisionedThroughput");
	}
	if (pt)
		json_object_set(spec, "ProvisionedThroughput", pt);
	if (!ss && !billing && !pt && !json_object_get(in, "TableClass") &&
	    !json_object_get(in, "DeletionProtectionEnabled")) {
		verr(r, "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
		     "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required");
		goto done;
	}
	spec_text = json_dumps(spec, JSON_COMPACT);
	if (!spec_text || exec_q(r->sbx, db, Q_BEGIN)) {
		internal(r);
		goto done;
	}
	in_tx = 1;
	if (sbx_db_run(r->sbx, db, "UPDATE ddb_tables SET spec = ? WHERE id = ?", "si",
		       spec_text, t.id) != 1) {
		internal(r);
		goto done;
	}
	if (ss && on) {
		char arn[512], label[32];
		long long sid;
		json_t *ks = json_object_get(spec, "KeySchema");
		if (sbx_streams_create(r->sbx, db, r->region, t.name, ks, view, arn, sizeof(arn),
				       label, &sid) ||
		    sbx_db_run(r->sbx, db, "UPDATE ddb_tables SET stream_id = ?, stream_view = ?,"
			       " stream_arn = ?, stream_label = ? WHERE id = ?", "isssi", sid, view,
			       arn, label, t.id) != 1) {
			internal(r);
			goto done;
		}
	} else if (ss && !on) {
		if (sbx_streams_close(r->sbx, db, t.stream_id) ||
		    sbx_db_run(r->sbx, db, "UPDATE ddb_tables SET stream_id = 0, stream_view = NULL"
			       " WHERE id = ?", "i", t.id) != 1) {
			internal(r);
			goto done;
		}
	}
	if (exec_q(r->sbx, db, Q_COMMIT)) {
		internal(r);
		goto done;
	}
	in_tx = 0;
	{
		char name[NAME_LEN];
		snprintf(name, sizeof(name), "%s", t.name);
		if (table_load(r, db, name, &t) != 0) {
			internal(r);
			goto done;
		}
	}
	*out = json_pack("{s:o}", "TableDescription", describe(r, db, &t, "ACTIVE"));
	rc = *out ? 0 : internal(r);
done:
	if (in_tx)
		exec_q(r->sbx, db, Q_ROLLBACK);
	sbx_db_unlock(r->sbx);
	free(spec_text);
	json_decref(spec);
	return rc;
}

static int list_tables(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *start = sbx_str(in, "ExclusiveStartTableName");
	long long limit = sbx_int(in, "Limit", 100);
	sqlite3 *db;
	sqlite3_stmt *st;
	json_t *names = json_array(), *res;
	long long n = 0;
	int more = 0;

	if (!names)
		return internal(r);
	if (limit < 1 || limit > 100) {
		json_decref(names);
		return verr(r, "1 validation error detected: Value '%lld' at 'limit' failed to "
			    "satisfy constraint: Member must have value less than or equal to 100",
			    limit);
	}
	db = sbx_db_lock(r->sbx);
	st = sbx_db_prep(r->sbx, db, "SELECT name FROM ddb_tables WHERE region = ? AND name > ?"
			 " ORDER BY name", "ss", r->region, start ? start : "");
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		if (n == limit) {
			more = 1;
			break;
		}
		json_array_append_new(names, json_string(sbx_col(st, 0)));
		n++;
	}
	sqlite3_finalize(st);
	sbx_db_unlock(r->sbx);
	res = json_pack("{s:o}", "TableNames", names);
	if (!res)
		return internal(r);
	if (more)
		json_object_set(res, "LastEvaluatedTableName",
				json_array_get(names, json_array_size(names) - 1));
	*out = res;
	return 0;
}

static int describe_ttl(struct sbx_req *r, json_t *in, json_t **out)
{
	struct tinfo t;
	sqlite3 *db = lock_table(r, sbx_str(in, "TableName"), &t);
	json_t *spec, *ttl;
	if (!db)
		return -1;
	sbx_db_unlock(r->sbx);
	spec = json_loads(t.spec, 0, NULL);
	ttl = json_object_get(spec, "TimeToLive");
	if (ttl && json_is_true(json_object_get(ttl, "Enabled")))
		*out = json_pack("{s:{s:s, s:O}}", "TimeToLiveDescription", "TimeToLiveStatus",
				 "ENABLED", "AttributeName", json_object_get(ttl, "AttributeName"));
	else
		*out = json_pack("{s:{s:s}}", "TimeToLiveDescription", "TimeToLiveStatus",
				 "DISABLED");
	json_decref(spec);
	return *out ? 0 : internal(r);
}

static int update_ttl(struct sbx_req *r, json_t *in, json_t **out)
{
	struct tinfo t;
	json_t *ttl = json_object_get(in, "TimeToLiveSpecification"), *spec;
	sqlite3 *db;
	char *text;
	int rc = -1;
	if (!json_is_object(ttl) || !sbx_str(ttl, "AttributeName") ||
	    !json_is_boolean(json_object_get(ttl, "Enabled")))
		return verr(r, "1 validation error detected: Value null at 'timeToLiveSpecification'"
			    " failed to satisfy constraint: Member must not be null");
	db = lock_table(r, sbx_str(in, "TableName"), &t);
	if (!db)
		return -1;
	spec = json_loads(t.spec, 0, NULL);
	if (spec)
		json_object_set(spec, "TimeToLive", ttl);
	text = spec ? json_dumps(spec, JSON_COMPACT) : NULL;
	if (text && sbx_db_run(r->sbx, db, "UPDATE ddb_tables SET spec = ? WHERE id = ?", "si",
			       text, t.id) == 1) {
		*out = json_pack("{s:O}", "TimeToLiveSpecification", ttl);
		rc = *out ? 0 : internal(r);
	} else {
		internal(r);
	}
	sbx_db_unlock(r->sbx);
	free(text);
	json_decref(spec);
	return rc;
}

/* ======================================================================== */
/* Item operations                                                          */
/* ======================================================================== */

static int put_one(struct sbx_req *r, sqlite3 *db, const struct tinfo *t, json_t *item,
		   const struct sbx_ddb_expr *cond, int need_old, json_t **old_out)
{
	struct key k;
	json_t *old = NULL;
	int err = 0, rc = -1;
	key_init(&k);
	if (key_from(r, t, item, 1, &k))
		goto done;
	if (need_old || cond || t->stream_id) {
		old = item_load(r, db, t, &k, &err);
		if (err) {
			internal(r);
			goto done;
		}
	}
	if (cond && !sbx_ddb_expr_eval(cond, old)) {
		sbx_error(r, 400, "ConditionalCheckFailedException", "The conditional request failed");
		goto done;
	}
	if (item_write(r, db, t, &k, old, item))
		goto done;
	if (old_out) {
		*old_out = old;
		old = NULL;
	}
	rc = 0;
done:
	json_decref(old);
	key_cleanup(&k);
	return rc;
}

static int validate_item(struct sbx_req *r, json_t *item)
{
	char err[512];
	if (!json_is_object(item))
		return verr(r, "1 validation error detected: Value null at 'item' failed to satisfy "
			    "constraint: Member must not be null");
	if (sbx_ddb_item_validate(item, err, sizeof(err)))
		return verr(r, "%s", err);
	return check_size(r, item);
}

static int return_values(struct sbx_req *r, json_t *in, const char *const *allowed,
			 const char **rv)
{
	*rv = sbx_str(in, "ReturnValues");
	if (!*rv)
		*rv = "NONE";
	for (int i = 0; allowed[i]; i++)
		if (strcmp(*rv, allowed[i]) == 0)
			return 0;
	if (allowed[2] == NULL)
		return verr(r, "ReturnValues can only be ALL_OLD or NONE");
	return verr(r, "1 validation error detected: Value '%s' at 'returnValues' failed to "
		    "satisfy constraint: Member must satisfy enum value set: [ALL_NEW, "
		    "UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]", *rv);
}

static int put_item(struct sbx_req *r, json_t *in, json_t **out)
{
	static const char *const allowed[] = {"NONE", "ALL_OLD", NULL};
	json_t *item = json_object_get(in, "Item"), *old = NULL;
	const char *rv;
	struct exprs x;
	struct tinfo t;
	sqlite3 *db = NULL;
	int rc = -1, in_tx = 0;

	memset(&x, 0, sizeof(x));
	if (legacy_params(r, in) || validate_item(r, item) ||
	    return_values(r, in, allowed, &rv) || exprs_parse(r, in, X_COND, &x))
		goto done;
	db = lock_table(r, sbx_str(in, "TableName"), &t);
	if (!db)
		goto done;
	if (exec_q(r->sbx, db, Q_BEGIN)) {
		internal(r);
		goto unlock;
	}
	in_tx = 1;
	if (put_one(r, db, &t, item, x.cond, strcmp(rv, "ALL_OLD") == 0, &old))
		goto unlock;
	if (exec_q(r->sbx, db, Q_COMMIT)) {
		internal(r);
		goto unlock;
	}
	in_tx = 0;
	rc = 0;
unlock:
	if (in_tx)
		exec_q(r->sbx, db, Q_ROLLBACK);
	sbx_db_unlock(r->sbx);
	if (rc == 0) {
		*out = json_object();
		if (!*out) {
			rc = internal(r);
		} else {
			if (old && strcmp(rv, "ALL_OLD") == 0)
				json_object_set(*out, "Attributes", old);
			add_consumed(*out, in, t.name, 1.0);
		}
	}
done:
	json_decref(old);
	exprs_cleanup(&x);
	return rc;
}

static int get_item(struct sbx_req *r, json_t *in, json_t **out)
{
	struct exprs x;
	struct tinfo t;
	struct key k;
	sqlite3 *db;
	json_t *item = NULL;
	int err = 0, rc = -1;

	key_init(&k);
	if (legacy_params(r, in) || exprs_parse(r, in, X_PROJ, &x))
		goto done;
	db = lock_table(r, sbx_str(in, "TableName"), &t);
	if (!db)
		goto done;
	if (key_from(r, &t, json_object_get(in, "Key"), 0, &k) == 0) {
		item = item_load(r, db, &t, &k, &err);
		rc = err ? internal(r) : 0;
	}
	sbx_db_unlock(r->sbx);
	if (rc)
		goto done;
	*out = json_object();
	if (!*out) {
		rc = internal(r);
		goto done;
	}
	if (item) {
		json_t *shown = x.proj ? sbx_ddb_expr_project(x.proj, item) : json_incref(item);
		json_object_set_new(*out, "Item", shown);
	}
	add_consumed(*out, in, t.name, 0.5);
done:
	json_decref(item);
	key_cleanup(&k);
	exprs_cleanup(&x);
	return rc;
}

static int delete_item(struct sbx_req *r, json_t *in, json_t **out)
{
	static const char *const allowed[] = {"NONE", "ALL_OLD", NULL};
	struct exprs x;
	struct tinfo t;
	struct key k;
	sqlite3 *db = NULL;
	json_t *old = NULL;
	const char *rv;
	int err = 0, rc = -1, in_tx = 0;

	key_init(&k);
	memset(&x, 0, sizeof(x));
	if (legacy_params(r, in) || return_values(r, in, allowed, &rv) ||
	    exprs_parse(r, in, X_COND, &x))
		goto done;
	db = lock_table(r, sbx_str(in, "TableName"), &t);
	if (!db)
		goto done;
	if (key_from(r, &t, json_object_get(in, "Key"), 0, &k))
		goto unlock;
	if (exec_q(r->sbx, db, Q_BEGIN)) {
		internal(r);
		goto unlock;
	}
	in_tx = 1;
	old = item_load(r, db, &t, &k, &err);
	if (err) {
		internal(r);
		goto unlock;
	}
	if (x.cond && !sbx_ddb_expr_eval(x.cond, old)) {
		cond_failed(r, in, old, out);
		goto unlock;
	}
	if (item_write(r, db, &t, &k, old, NULL) || exec_q(r->sbx, db, Q_COMMIT)) {
		if (!r->err_status)
			internal(r);
		goto unlock;
	}
	in_tx = 0;
	rc = 0;
unlock:
	if (in_tx)
		exec_q(r->sbx, db, Q_ROLLBACK);
	sbx_db_unlock(r->sbx);
	if (rc == 0) {
		*out = json_object();
		if (!*out) {
			rc = internal(r);
		} else {
			if (old && strcmp(rv, "ALL_OLD") == 0)
				json_object_set(*out, "Attributes", old);
			add_consumed(*out, in, t.name, 1.0);
		}
	}
done:
	json_decref(old);
	key_cleanup(&k);
	exprs_cleanup(&x);
	return rc;
}

static int update_item(struct sbx_req *r, json_t *in, json_t **out)
{
	static const char *const allowed[] = {"NONE", "ALL_OLD", "ALL_NEW", "UPDATED_OLD",
					      "UPDATED_NEW", NULL};
	struct exprs x;
	struct tinfo t;
	struct key k;
	sqlite3 *db = NULL;
	json_t *old = NULL, *newi = NULL, *attrs = NULL;
	const char *rv, *kn;
	json_t *kv;
	char err[512];
	int lerr = 0, rc = -1, in_tx = 0;

	key_init(&k);
	memset(&x, 0, sizeof(x));
	if (legacy_params(r, in) || return_values(r, in, allowed, &rv) ||
	    exprs_parse(r, in, X_COND | X_UPDATE, &x))
		goto done;
	db = lock_table(r, sbx_str(in, "TableName"), &t);
	if (!db)
		goto done;
	if (key_from(r, &t, json_object_get(in, "Key"), 0, &k))
		goto unlock;
	if (x.update && (sbx_ddb_expr_update_touches(x.update, t.hash) ||
			 (t.has_range && sbx_ddb_expr_update_touches(x.update, t.range)))) {
		verr(r, "One or more parameter values were invalid: Cannot update attribute %s. "
		     "This attribute is part of the key",
		     sbx_ddb_expr_update_touches(x.update, t.hash) ? t.hash : t.range);
		goto unlock;
	}
	if (exec_q(r->sbx, db, Q_BEGIN)) {
		internal(r);
		goto unlock;
	}
	in_tx = 1;
	old = item_load(r, db, &t, &k, &lerr);
	if (lerr) {
		internal(r);
		goto unlock;
	}
	if (x.cond && !sbx_ddb_expr_eval(x.cond, old)) {
		cond_failed(r, in, old, out);
		goto unlock;
	}
	if (x.update) {
		if (sbx_ddb_expr_update(x.update, old, &newi, err, sizeof(err))) {
			verr(r, "%s", err);
			goto unlock;
		}
	} else {
		newi = old ? json_deep_copy(old) : json_object();
		if (!newi) {
			internal(r);
			goto unlock;
		}
	}
	json_object_foreach(k.keys, kn, kv)
		json_object_set(newi, kn, kv);
	if (sbx_ddb_item_validate(newi, err, sizeof(err))) {
		verr(r, "%s", err);
		goto unlock;
	}
	if (check_size(r, newi) || item_write(r, db, &t, &k, old, newi))
		goto unlock;
	if (exec_q(r->sbx, db, Q_COMMIT)) {
		internal(r);
		goto unlock;
	}
	in_tx = 0;
	rc = 0;
unlock:
	if (in_tx)
		exec_q(r->sbx, db, Q_ROLLBACK);
	sbx_db_unlock(r->sbx);
	if (rc)
		goto done;
	if (strcmp(rv, "ALL_OLD") == 0 && old)
		attrs = json_incref(old);
	else if (strcmp(rv, "ALL_NEW") == 0)
		attrs = json_incref(newi);
	else if (strcmp(rv, "UPDATED_OLD") == 0 && old && x.update)
		attrs = sbx_ddb_expr_project(x.update, old);
	else if (strcmp(rv, "UPDATED_NEW") == 0 && x.update)
		attrs = sbx_ddb_expr_project(x.update, newi);
	*out = json_object();
	if (!*out) {
		rc = internal(r);
		goto done;
	}
	if (attrs && json_object_size(attrs) > 0)
		json_object_set(*out, "Attributes", attrs);
	add_consumed(*out, in, t.name, 1.0);
done:
	json_decref(attrs);
	json_decref(old);
	json_decref(newi);
	key_cleanup(&k);
	exprs_cleanup(&x);
	return rc;
}

/* ======================================================================== */
/* Query and Scan                                                           */
/* ======================================================================== */

/* The key attributes of item as a LastEvaluatedKey (new reference). */
static json_t *key_of(const struct tinfo *t, json_t *item)
{
	json_t *k = json_object();
	if (!k)
		return NULL;
	json_object_set(k, t->hash, json_object_get(item, t->hash));
	if (t->has_range)
		json_object_set(k, t->range, json_object_get(item, t->range));
	return k;
}

static uint32_t fnv1a(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 16777619u;
	}
	return h;
}

struct page_opts {
	long long limit;     /* 0: none */
	int count_only;
	long long segment, total_segments;
	const struct sbx_ddb_expr *filter, *proj;
};

/* Step st (columns: hk, rk, item, size) building the page into out. */
static int run_page(struct sbx_req *r, const struct tinfo *t, sqlite3_stmt *st,
		    const struct page_opts *o, json_t *out)
{
	json_t *items = json_array(), *lek = NULL;
	long long count = 0, scanned = 0, bytes = 0;
	int rc;
	if (!items)
		return internal(r);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *item;
		if (o->total_segments > 1) {
			uint32_t h = fnv1a(sqlite3_column_blob(st, 0),
					   (size_t)sqlite3_column_bytes(st, 0));
			if ((long long)(h % (uint32_t)o->total_segments) != o->segment)
				continue;
		}
		item = json_loadb((const char *)sqlite3_column_text(st, 2),
				  (size_t)sqlite3_column_bytes(st, 2), 0, NULL);
		if (!item) {
			json_decref(items);
			return internal(r);
		}
		scanned++;
		bytes += sqlite3_column_int64(st, 3);
		if (!o->filter || sbx_ddb_expr_eval(o->filter, item)) {
			count++;
			if (!o->count_only)
				json_array_append_new(items, o->proj ? sbx_ddb_expr_project(o->proj, item)
								     : json_incref(item));
		}
		if ((o->limit && scanned >= o->limit) || bytes >= MAX_PAGE_BYTES) {
			lek = key_of(t, item);
			json_decref(item);
			break;
		}
		json_decref(item);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		json_decref(items);
		sbx_log(r->sbx, "ERROR", "dynamodb: page: %s", sqlite3_errmsg(sqlite3_db_handle(st)));
		return internal(r);
	}
	if (!o->count_only)
		json_object_set(out, "Items", items);
	json_decref(items);
	json_object_set_new(out, "Count", json_integer(count));
	json_object_set_new(out, "ScannedCount", json_integer(scanned));
	if (lek)
		json_object_set_new(out, "LastEvaluatedKey", lek);
	return 0;
}

/* Common Query/Scan input: Select, Limit, projection. */
static int page_common(struct sbx_req *r, json_t *in, struct exprs *x, struct page_opts *o)
{
	const char *sel = sbx_str(in, "Select");
	json_t *lim = json_object_get(in, "Limit");
	memset(o, 0, sizeof(*o));
	if (json_object_get(in, "IndexName"))
		return verr(r, "The sandbox does not support secondary indexes");
	if (lim) {
		o->limit = sbx_int(in, "Limit", 0);
		if (o->limit < 1)
			return verr(r, "1 validation error detected: Value '%lld' at 'limit' failed to "
				    "satisfy constraint: Member must have value greater than or equal "
				    "to 1", o->limit);
	}
	if (sel) {
		if (strcmp(sel, "COUNT") == 0) {
			o->count_only = 1;
		} else if (strcmp(sel, "ALL_PROJECTED_ATTRIBUTES") == 0) {
			return verr(r, "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using "
				    "an IndexName");
		} else if (strcmp(sel, "SPECIFIC_ATTRIBUTES") == 0) {
			if (!x->proj)
				return verr(r, "Must specify the AttributesToGet or ProjectionExpression "
					    "when choosing to get SPECIFIC_ATTRIBUTES");
		} else if (strcmp(sel, "ALL_ATTRIBUTES") != 0) {
			return verr(r, "1 validation error detected: Value '%s' at 'select' failed to "
				    "satisfy constraint: Member must satisfy enum value set: "
				    "[SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, "
				    "ALL_PROJECTED_ATTRIBUTES]", sel);
		}
		if (x->proj && strcmp(sel, "SPECIFIC_ATTRIBUTES") != 0)
			return verr(r, "Cannot specify the ProjectionExpression when choosing to get "
				    "%s", sel);
	}
	o->filter = x->filter;
	o->proj = x->proj;
	return 0;
}

static int scan(struct sbx_req *r, json_t *in, json_t **out)
{
	struct exprs x;
	struct page_opts o;
	struct tinfo t;
	struct key start;
	json_t *esk = json_object_get(in, "ExclusiveStartKey");
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	key_init(&start);
	memset(&x, 0, sizeof(x));
	*out = NULL;
	if (legacy_params(r, in) || exprs_parse(r, in, X_FILTER | X_PROJ, &x) ||
	    page_common(r, in, &x, &o))
		goto done;
	if (json_object_get(in, "Segment") || json_object_get(in, "TotalSegments")) {
		o.segment = sbx_int(in, "Segment", -1);
		o.total_segments = sbx_int(in, "TotalSegments", -1);
		if (o.total_segments < 1 || o.total_segments > 1000000 || o.segment < 0 ||
		    o.segment >= o.total_segments) {
			verr(r, "The Segment parameter is zero-based and must be less than parameter "
			     "TotalSegments: Segment: %lld is not less than TotalSegments: %lld",
			     o.segment, o.total_segments);
			goto done;
		}
	}
	db = lock_table(r, sbx_str(in, "TableName"), &t);
	if (!db)
		goto done;
	if (esk && key_from(r, &t, esk, 0, &start)) {
		snprintf(r->err_message, sizeof(r->err_message), "The provided starting key is "
			 "invalid: The provided key element does not match the schema");
		goto unlock;
	}
	if (esk)
		st = sbx_db_prep(r->sbx, db, "SELECT hk, rk, item, size FROM ddb_items WHERE tid = ?1"
				 " AND (hk, rk) > (?2, ?3) ORDER BY hk, rk", NULL);
	else
		st = sbx_db_prep(r->sbx, db, "SELECT hk, rk, item, size FROM ddb_items WHERE tid = ?1"
				 " ORDER BY hk, rk", NULL);
	if (!st) {
		internal(r);
		goto unlock;
	}
	if (esk)
		bind_key(st, t.id, &start);
	else
		sqlite3_bind_int64(st, 1, t.id);
	*out = json_object();
	if (!*out) {
		internal(r);
		goto unlock;
	}
	rc = run_page(r, &t, st, &o, *out);
	if (rc == 0)
		add_consumed(*out, in, t.name, 0.5);
unlock:
	sqlite3_finalize(st);
	sbx_db_unlock(r->sbx);
done:
	if (rc && *out) {
		json_decref(*out);
		*out = NULL;
	}
	key_cleanup(&start);
	exprs_cleanup(&x);
	return rc;
}

static int check_key_type(struct sbx_req *r, json_t *v, const char *type)
{
	const char *t = sbx_ddb_av_type(v);
	if (!t || strcmp(t, type) != 0)
		return verr(r, "One or more parameter values were invalid: Condition parameter type "
			    "does not match schema type");
	return 0;
}

static int query(struct sbx_req *r, json_t *in, json_t **out)
{
	struct exprs x;
	struct page_opts o;
	struct tinfo t;
	struct key start;
	struct sbx_ddb_keycond kc;
	struct aws_buf hk, r1, r2, sql;
	json_t *esk = json_object_get(in, "ExclusiveStartKey");
	json_t *fwd = json_object_get(in, "ScanIndexForward");
	int forward = !json_is_false(fwd);
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char err[512];
	int rc = -1;

	key_init(&start);
	aws_buf_init(&hk, 0);
	aws_buf_init(&r1, 0);
	aws_buf_init(&r2, 0);
	aws_buf_init(&sql, 0);
	memset(&x, 0, sizeof(x));
	*out = NULL;
	if (legacy_params(r, in) || exprs_parse(r, in, X_FILTER | X_PROJ | X_KEYCOND, &x) ||
	    page_common(r, in, &x, &o))
		goto done;
	if (!x.keycond) {
		verr(r, "Either the KeyConditions or KeyConditionExpression parameter must be "
		     "specified in the request.");
		goto done;
	}
	db = lock_table(r, sbx_str(in, "TableName"), &t);
	if (!db)
		goto done;
	if (x.filter && (sbx_ddb_expr_refers(x.filter, t.hash) ||
			 (t.has_range && sbx_ddb_expr_refers(x.filter, t.range)))) {
		verr(r, "Filter Expression can only contain non-primary key attributes: Primary key "
		     "attribute: %s", sbx_ddb_expr_refers(x.filter, t.hash) ? t.hash : t.range);
		goto unlock;
	}
	if (sbx_ddb_expr_keycond(x.keycond, t.hash, t.has_range ? t.range : NULL, &kc, err,
				 sizeof(err))) {
		verr(r, "%s", err);
		goto unlock;
	}
	if (check_key_type(r, kc.hash, t.htype) ||
	    (kc.r1 && check_key_type(r, kc.r1, t.rtype)) ||
	    (kc.r2 && check_key_type(r, kc.r2, t.rtype)))
		goto unlock;
	if (kc.op == SBX_DDB_RANGE_BEGINS && strcmp(t.rtype, "N") == 0) {
		verr(r, "Invalid KeyConditionExpression: Incorrect operand type for operator or "
		     "function; operator or function: begins_with, operand type: N");
		goto unlock;
	}
	if (sbx_ddb_key_encode(kc.hash, &hk) || (kc.r1 && sbx_ddb_key_encode(kc.r1, &r1)) ||
	    (kc.r2 && sbx_ddb_key_encode(kc.r2, &r2))) {
		verr(r, "One or more parameter values were invalid: invalid key value");
		goto unlock;
	}
	if (esk && key_from(r, &t, esk, 0, &start)) {
		snprintf(r->err_message, sizeof(r->err_message), "The provided starting key is "
			 "invalid: The provided key element does not match the schema");
		goto unlock;
	}
	if (esk && (start.hk.len != hk.len || memcmp(start.hk.data, hk.data, hk.len) != 0)) {
		verr(r, "The provided starting key is outside query boundaries based on provided "
		     "conditions");
		goto unlock;
	}
	aws_buf_adds(&sql, "SELECT hk, rk, item, size FROM ddb_items WHERE tid = ?1 AND hk = ?2");
	switch (kc.op) {
	case SBX_DDB_RANGE_EQ: aws_buf_adds(&sql, " AND rk = ?3"); break;
	case SBX_DDB_RANGE_LT: aws_buf_adds(&sql, " AND rk < ?3"); break;
	case SBX_DDB_RANGE_LE: aws_buf_adds(&sql, " AND rk <= ?3"); break;
	case SBX_DDB_RANGE_GT: aws_buf_adds(&sql, " AND rk > ?3"); break;
	case SBX_DDB_RANGE_GE: aws_buf_adds(&sql, " AND rk >= ?3"); break;
	case SBX_DDB_RANGE_BETWEEN: aws_buf_adds(&sql, " AND rk >= ?3 AND rk <= ?4"); break;
	case SBX_DDB_RANGE_BEGINS:
		aws_buf_adds(&sql, " AND rk >= ?3 AND substr(rk, 1, length(?3)) = ?3");
		break;
	case SBX_DDB_RANGE_NONE: break;
	}
	if (esk)
		aws_buf_adds(&sql, forward ? " AND rk > ?5" : " AND rk < ?5");
	if (aws_buf_adds(&sql, forward ? " ORDER BY rk" : " ORDER BY rk DESC")) {
		internal(r);
		goto unlock;
	}
	st = sbx_db_prep(r->sbx, db, aws_buf_str(&sql), NULL);
	if (!st) {
		internal(r);
		goto unlock;
	}
	sqlite3_bind_int64(st, 1, t.id);
	sqlite3_bind_blob(st, 2, hk.data ? hk.data : "", (int)hk.len, SQLITE_STATIC);
	if (kc.op != SBX_DDB_RANGE_NONE)
		sqlite3_bind_blob(st, 3, r1.data ? r1.data : "", (int)r1.len, SQLITE_STATIC);
	if (kc.op == SBX_DDB_RANGE_BETWEEN)
		sqlite3_bind_blob(st, 4, r2.data ? r2.data : "", (int)r2.len, SQLITE_STATIC);
	if (esk)
		sqlite3_bind_blob(st, 5, start.rk.data ? start.rk.data : "", (int)start.rk.len,
				  SQLITE_STATIC);
	*out = json_object();
	if (!*out) {
		internal(r);
		goto unlock;
	}
	rc = run_page(r, &t, st, &o, *out);
	if (rc == 0)
		add_consumed(*out, in, t.name, 0.5);
unlock:
	sqlite3_finalize(st);
	sbx_db_unlock(r->sbx);
done:
	if (rc && *out) {
		json_decref(*out);
		*out = NULL;
	}
	aws_buf_cleanup(&hk);
	aws_buf_cleanup(&r1);
	aws_buf_cleanup(&r2);
	aws_buf_cleanup(&sql);
	key_cleanup(&start);
	exprs_cleanup(&x);
	return rc;
}

/* ======================================================================== */
/* Batches                                                                  */
/* ======================================================================== */

static int batch_write(struct sbx_req *r, json_t *in, json_t **out)
{
	json_t *req = json_object_get(in, "RequestItems"), *reqs, *w;
	const char *tname;
	size_t total = 0, i;
	sqlite3 *db = NULL;
	int rc = -1, in_tx = 0;
	char err[512];

	if (!json_is_object(req) || json_object_size(req) == 0)
		return verr(r, "1 validation error detected: Value null at 'requestItems' failed to "
			    "satisfy constraint: Member must not be null");
	json_object_foreach(req, tname, reqs) {
		if (!json_is_array(reqs) || json_array_size(reqs) == 0)
			return verr(r, "1 validation error detected: Value '{%s=[]}' at "
				    "'requestItems' failed to satisfy constraint: Map value must "
				    "satisfy constraint: [Member must have length less than or equal "
				    "to 25, Member must have length greater than or equal to 1]", tname);
		total += json_array_size(reqs);
		json_array_foreach(reqs, i, w) {
			json_t *put = json_object_get(w, "PutRequest");
			json_t *del = json_object_get(w, "DeleteRequest");
			if (!put == !del)
				return verr(r, "Supplied AttributeValue has more than one datatypes set, "
					    "must contain exactly one of the supported datatypes");
			if (put) {
				json_t *item = json_object_get(put, "Item");
				if (!json_is_object(item))
					return verr(r, "1 validation error detected: Value null at "
						    "'item' failed to satisfy constraint: Member must "
						    "not be null");
				if (sbx_ddb_item_validate(item, err, sizeof(err)))
					return verr(r, "%s", err);
				if (check_size(r, item))
					return -1;
			}
		}
	}
	if (total > 25)
		return verr(r, "Too many items requested for the BatchWriteItem call");
	db = sbx_db_lock(r->sbx);
	if (exec_q(r->sbx, db, Q_BEGIN)) {
		internal(r);
		goto done;
	}
	in_tx = 1;
	json_object_foreach(req, tname, reqs) {
		struct tinfo t;
		json_t *seen = json_object();
		int trc = table_load(r, db, tname, &t);
		if (trc) {
			json_decref(seen);
			if (trc > 0)
				not_found(r);
			else
				internal(r);
			goto done;
		}
		json_array_foreach(reqs, i, w) {
			json_t *put = json_object_get(w, "PutRequest");
			json_t *keyobj = put ? json_object_get(put, "Item")
					     : json_object_get(json_object_get(w, "DeleteRequest"), "Key");
			struct key k;
			int bad;
			key_init(&k);
			bad = key_from(r, &t, keyobj, put != NULL, &k);
			if (!bad) {
				/* duplicate keys in one batch are an error */
				char *kt = json_dumps(k.keys, JSON_COMPACT | JSON_SORT_KEYS);
				if (kt && json_object_get(seen, kt)) {
					verr(r, "Provided list of item keys contains duplicates");
					bad = 1;
				} else if (kt) {
					json_object_set_new(seen, kt, json_true());
				}
				free(kt);
			}
			if (!bad) {
				if (put) {
					bad = put_one(r, db, &t, keyobj, NULL, 0, NULL);
				} else {
					int lerr = 0;
					json_t *old = item_load(r, db, &t, &k, &lerr);
					bad = lerr ? internal(r) : item_write(r, db, &t, &k, old, NULL);
					json_decref(old);
				}
			}
			key_cleanup(&k);
			if (bad) {
				json_decref(seen);
				goto done;
			}
		}
		json_decref(seen);
	}
	if (exec_q(r->sbx, db, Q_COMMIT)) {
		internal(r);
		goto done;
	}
	in_tx = 0;
	*out = json_pack("{s:{}}", "UnprocessedItems");
	rc = *out ? 0 : internal(r);
done:
	if (in_tx)
		exec_q(r->sbx, db, Q_ROLLBACK);
	if (db)
		sbx_db_unlock(r->sbx);
	return rc;
}

static int batch_get(struct sbx_req *r, json_t *in, json_t **out)
{
	json_t *req = json_object_get(in, "RequestItems"), *spec, *responses = NULL;
	const char *tname;
	size_t total = 0, i;
	sqlite3 *db = NULL;
	int rc = -1;

	if (!json_is_object(req) || json_object_size(req) == 0)
		return verr(r, "1 validation error detected: Value null at 'requestItems' failed to "
			    "satisfy constraint: Member must not be null");
	json_object_foreach(req, tname, spec) {
		json_t *keys = json_object_get(spec, "Keys");
		if (!json_is_array(keys) || json_array_size(keys) == 0)
			return verr(r, "1 validation error detected: Value null at "
				    "'requestItems.%s.member.keys' failed to satisfy constraint: "
				    "Member must have length greater than or equal to 1", tname);
		total += json_array_size(keys);
	}
	if (total > 100)
		return verr(r, "Too many items requested for the BatchGetItem call");
	responses = json_object();
	if (!responses)
		return internal(r);
	db = sbx_db_lock(r->sbx);
	json_object_foreach(req, tname, spec) {
		struct tinfo t;
		struct exprs x;
		json_t *keys = json_object_get(spec, "Keys"), *kobj, *items = json_array(), *seen;
		int trc = table_load(r, db, tname, &t), bad = 0;
		if (trc || !items) {
			json_decref(items);
			if (trc > 0)
				not_found(r);
			else
				internal(r);
			goto done;
		}
		json_object_set_new(responses, tname, items);
		if (legacy_params(r, spec) || exprs_parse(r, spec, X_PROJ, &x)) {
			exprs_cleanup(&x);
			goto done;
		}
		seen = json_object();
		json_array_foreach(keys, i, kobj) {
			struct key k;
			json_t *item;
			int lerr = 0;
			char *kt;
			key_init(&k);
			if (key_from(r, &t, kobj, 0, &k)) {
				key_cleanup(&k);
				bad = 1;
				break;
			}
			kt = json_dumps(k.keys, JSON_COMPACT | JSON_SORT_KEYS);
			if (kt && json_object_get(seen, kt)) {
				verr(r, "Provided list of item keys contains duplicates");
				free(kt);
				key_cleanup(&k);
				bad = 1;
				break;
			}
			if (kt)
				json_object_set_new(seen, kt, json_true());
			free(kt);
			item = item_load(r, db, &t, &k, &lerr);
			key_cleanup(&k);
			if (lerr) {
				internal(r);
				bad = 1;
				break;
			}
			if (item)
				json_array_append_new(items, x.proj ? sbx_ddb_expr_project(x.proj, item)
								    : json_incref(item));
			json_decref(item);
		}
		json_decref(seen);
		exprs_cleanup(&x);
		if (bad)
			goto done;
	}
	*out = json_pack("{s:O, s:{}}", "Responses", responses, "UnprocessedKeys");
	rc = *out ? 0 : internal(r);
done:
	if (db)
		sbx_db_unlock(r->sbx);
	json_decref(responses);
	return rc;
}

/* ---- tags (stored in the table spec) ---- */

static int table_by_arn(struct sbx_req *r, const char *arn, char *name, size_t n)
{
	const char *p = arn ? strstr(arn, ":table/") : NULL;
	if (!p)
		return sbx_error(r, 400, "ValidationException", "Invalid TableArn: %s",
				 arn ? arn : "null");
	snprintf(name, n, "%s", p + 7);
	return 0;
}

static int tag_resource(struct sbx_req *r, json_t *in, json_t **out)
{
	char name[NAME_LEN];
	struct tinfo t;
	json_t *tags = json_object_get(in, "Tags"), *spec, *cur, *tg;
	sqlite3 *db;
	char *text;
	size_t i;
	int rc = -1;
	if (table_by_arn(r, sbx_str(in, "ResourceArn"), name, sizeof(name)))
		return -1;
	if (!json_is_array(tags))
		return verr(r, "1 validation error detected: Value null at 'tags' failed to "
			    "satisfy constraint: Member must not be null");
	db = lock_table(r, name, &t);
	if (!db)
		return -1;
	spec = json_loads(t.spec, 0, NULL);
	cur = spec ? json_object_get(spec, "Tags") : NULL;
	if (spec && !json_is_array(cur)) {
		cur = json_array();
		json_object_set_new(spec, "Tags", cur);
	}
	json_array_foreach(tags, i, tg) {
		const char *key = sbx_str(tg, "Key");
		size_t j;
		json_t *old;
		if (!key || !cur)
			continue;
		json_array_foreach(cur, j, old) {
			if (sbx_str(old, "Key") && strcmp(sbx_str(old, "Key"), key) == 0) {
				json_array_remove(cur, j);
				break;
			}
		}
		json_array_append(cur, tg);
	}
	text = spec ? json_dumps(spec, JSON_COMPACT) : NULL;
	if (text && sbx_db_run(r->sbx, db, "UPDATE ddb_tables SET spec = ? WHERE id = ?", "si",
			       text, t.id) == 1) {
		*out = json_object();
		rc = *out ? 0 : internal(r);
	} else {
		internal(r);
	}
	sbx_db_unlock(r->sbx);
	free(text);
	json_decref(spec);
	return rc;
}

static int untag_resource(struct sbx_req *r, json_t *in, json_t **out)
{
	char name[NAME_LEN];
	struct tinfo t;
	json_t *keys = json_object_get(in, "TagKeys"), *spec, *cur, *kv;
	sqlite3 *db;
	char *text;
	size_t i;
	int rc = -1;
	if (table_by_arn(r, sbx_str(in, "ResourceArn"), name, sizeof(name)))
		return -1;
	db = lock_table(r, name, &t);
	if (!db)
		return -1;
	spec = json_loads(t.spec, 0, NULL);
	cur = spec ? json_object_get(spec, "Tags") : NULL;
	json_array_foreach(keys, i, kv) {
		size_t j;
		json_t *old;
		json_array_foreach(cur, j, old) {
			if (json_is_string(kv) && sbx_str(old, "Key") &&
			    strcmp(sbx_str(old, "Key"), json_string_value(kv)) == 0) {
				json_array_remove(cur, j);
				break;
			}
		}
	}
	text = spec ? json_dumps(spec, JSON_COMPACT) : NULL;
	if (text && sbx_db_run(r->sbx, db, "UPDATE ddb_tables SET spec = ? WHERE id = ?", "si",
			       text, t.id) == 1) {
		*out = json_object();
		rc = *out ? 0 : internal(r);
	} else {
		internal(r);
	}
	sbx_db_unlock(r->sbx);
	free(text);
	json_decref(spec);
	return rc;
}

static int list_tags(struct sbx_req *r, json_t *in, json_t **out)
{
	char name[NAME_LEN];
	struct tinfo t;
	json_t *spec, *tags;
	sqlite3 *db;
	if (table_by_arn(r, sbx_str(in, "ResourceArn"), name, sizeof(name)))
		return -1;
	db = lock_table(r, name, &t);
	if (!db)
		return -1;
	sbx_db_unlock(r->sbx);
	spec = json_loads(t.spec, 0, NULL);
	tags = spec ? json_object_get(spec, "Tags") : NULL;
	if (json_is_array(tags))
		*out = json_pack("{s:O}", "Tags", tags);
	else
		*out = json_pack("{s:[]}", "Tags");
	json_decref(spec);
	return *out ? 0 : internal(r);
}

static const struct sbx_op ops[] = {
	{"BatchGetItem", batch_get},
	{"BatchWriteItem", batch_write},
	{"CreateTable", create_table},
	{"DeleteItem", delete_item},
	{"DeleteTable", delete_table},
	{"DescribeTable", describe_table},
	{"DescribeTimeToLive", describe_ttl},
	{"GetItem", get_item},
	{"ListTables", list_tables},
	{"ListTagsOfResource", list_tags},
	{"PutItem", put_item},
	{"Query", query},
	{"Scan", scan},
	{"TagResource", tag_resource},
	{"UntagResource", untag_resource},
	{"UpdateItem", update_item},
	{"UpdateTable", update_table},
	{"UpdateTimeToLive", update_ttl},
};

const struct sbx_service sbx_svc_dynamodb = {
	.name = "dynamodb",
	.schema = schema,
	.ops = ops,
	.nops = sizeof(ops) / sizeof(ops[0]),
	.init = ddb_init,
	.shutdown = ddb_shutdown,
	.route = NULL,
};
