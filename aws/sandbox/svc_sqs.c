/* svc_sqs.c: the sandbox's SQS: queues and messages in SQLite, long polls on a condition variable. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "aws/sandbox/sandbox.h"
#include "aws/sandbox/sqs.h"

#define SQS_MAX_MESSAGE 262144
#define SQS_MAX_BATCH 10
#define SQS_DEFAULT_VISIBILITY 30
#define SQS_DEFAULT_RETENTION 345600
#define SQS_LIST_MAX 1000

/* The schema: one row per queue, one per message (the index serves receives and counts). */
static const char sqs_schema[] =
	"CREATE TABLE IF NOT EXISTS sqs_queues("
	" id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, region TEXT NOT NULL,"
	" created INTEGER NOT NULL, modified INTEGER NOT NULL,"
	" visibility INTEGER NOT NULL, retention INTEGER NOT NULL, wait INTEGER NOT NULL,"
	" delay INTEGER NOT NULL, max_size INTEGER NOT NULL,"
	" redrive TEXT, max_receive INTEGER NOT NULL DEFAULT 0, dlq TEXT,"
	" extra TEXT NOT NULL DEFAULT '{}', tags TEXT NOT NULL DEFAULT '{}');"
	"CREATE TABLE IF NOT EXISTS sqs_messages("
	" id INTEGER PRIMARY KEY, qid INTEGER NOT NULL, mid TEXT NOT NULL, body TEXT NOT NULL,"
	" md5 TEXT NOT NULL, mattrs TEXT, md5_attrs TEXT, sent INTEGER NOT NULL,"
	" visible_at INTEGER NOT NULL, receives INTEGER NOT NULL DEFAULT 0,"
	" first_recv INTEGER NOT NULL DEFAULT 0, nonce TEXT, sender TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS sqs_messages_vis ON sqs_messages(qid, visible_at, id);";

/* Cached statements of the hot paths (used only with the store lock held). */
enum sqs_stmt {
	ST_QUEUE_BY_NAME,
	ST_INSERT,
	ST_CANDIDATES,
	ST_RECEIVED,
	ST_DELETE_ID,
	ST_BY_ID,
	ST_NEXT_VISIBLE,
	ST_SET_VISIBLE,
	ST_MOVE,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_QUEUE_BY_NAME] = "SELECT id, name, region, created, modified, visibility, retention,"
			     " wait, delay, max_size, redrive, max_receive, dlq, extra"
			     " FROM sqs_queues WHERE name = ?1",
	[ST_INSERT] = "INSERT INTO sqs_messages(qid, mid, body, md5, mattrs, md5_attrs, sent,"
		      " visible_at, sender) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[ST_CANDIDATES] = "SELECT id, mid, body, md5, mattrs, sent, receives, first_recv, sender"
			  " FROM sqs_messages WHERE qid = ?1 AND visible_at <= ?2"
			  " ORDER BY visible_at, id LIMIT ?3",
	[ST_RECEIVED] = "UPDATE sqs_messages SET receives = receives + 1, visible_at = ?2,"
			" nonce = ?3, first_recv = CASE first_recv WHEN 0 THEN ?4 ELSE first_recv END"
			" WHERE id = ?1",
	[ST_DELETE_ID] = "DELETE FROM sqs_messages WHERE id = ?1",
	[ST_BY_ID] = "SELECT qid, nonce, visible_at, receives FROM sqs_messages WHERE id = ?1",
	[ST_NEXT_VISIBLE] = "SELECT MIN(visible_at) FROM sqs_messages WHERE qid = ?1 AND visible_at > ?2",
	[ST_SET_VISIBLE] = "UPDATE sqs_messages SET visible_at = ?2 WHERE id = ?1",
	[ST_MOVE] = "UPDATE sqs_messages SET qid = ?2, visible_at = ?3, receives = 0,"
		    " first_recv = 0, nonce = NULL WHERE id = ?1",
};

#define WAIT_SLOTS 16

/* Per-sandbox state: the long-poll condition and the statement cache. */
struct sqs_state {
	/* long polls on queue id wait on cond[id % WAIT_SLOTS]: broadcast when messages of such
	 * a queue may have become receivable (not every poller at every send) */
	pthread_cond_t cond[WAIT_SLOTS];
	int stopping;
	sqlite3 *db;         /* the connection the cached statements belong to */
	sqlite3_stmt *stmts[ST_COUNT];
};

/* A queue's row. */
struct queue {
	long long id;
	char name[96];
	char region[48];
	long long created, modified; /* epoch ms */
	long long visibility, retention, wait, delay, max_size;
	char *redrive;     /* RedrivePolicy JSON string or NULL (owned) */
	long long max_receive;
	char dlq[96];      /* the dead-letter queue's name, "" when none */
	json_t *extra;     /* other attributes (owned); NULL until queue_extra parses extra_text */
	char *extra_text;  /* the stored extra column, parsed on first use (owned) or NULL */
};

static void queue_cleanup(struct queue *q)
{
	free(q->redrive);
	q->redrive = NULL;
	json_decref(q->extra);
	q->extra = NULL;
	free(q->extra_text);
	q->extra_text = NULL;
}

/* q's other attributes, parsed on first use: sending, receiving and deleting never need
 * them. Borrowed; NULL only when out of memory. */
static json_t *queue_extra(struct queue *q)
{
	if (!q->extra) {
		q->extra = q->extra_text ? json_loads(q->extra_text, 0, NULL) : NULL;
		if (!q->extra)
			q->extra = json_object();
	}
	return q->extra;
}

/* The state, created on first use (the caller holds the store lock or runs init). */
static struct sqs_state *sqs_state(struct sbx *s)
{
	struct sqs_state *st = sbx_get_state(s, "sqs");
	pthread_condattr_t ca;

	if (st)
		return st;
	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	for (int i = 0; i < WAIT_SLOTS; i++)
		pthread_cond_init(&st->cond[i], &ca);
	pthread_condattr_destroy(&ca);
	sbx_set_state(s, "sqs", st);
	return st;
}

static void finalize_all(struct sqs_state *st)
{
	for (int i = 0; i < ST_COUNT; i++) {
		sqlite3_finalize(st->stmts[i]);
		st->stmts[i] = NULL;
	}
}

/* A cached statement, reset and unbound, or NULL (logged). Lock held. */
static sqlite3_stmt *stmt(struct sbx *s, sqlite3 *db, enum sqs_stmt which)
{
	struct sqs_state *st = sqs_state(s);

	if (!st)
		return NULL;
	if (st->db != db) {
		finalize_all(st);
		st->db = db;
	}
	if (!st->stmts[which] &&
	    sqlite3_prepare_v3(db, stmt_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
			       &st->stmts[which], NULL) != SQLITE_OK) {
		sbx_log(s, "error", "sqs: prepare: %s", sqlite3_errmsg(db));
		return NULL;
	}
	return st->stmts[which];
}

/* Give a cached statement back (reset, bindings cleared). */
static void done(sqlite3_stmt *st)
{
	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
}

/* Wake the long polls on queue qid (-1: on every queue). Lock held. */
static void wake(struct sbx *s, long long qid)
{
	struct sqs_state *st = sqs_state(s);

	for (int i = 0; st && i < WAIT_SLOTS; i++)
		if (qid < 0 || qid % WAIT_SLOTS == i)
			pthread_cond_broadcast(&st->cond[i]);
}

void sbx_sqs_wake_all(struct sbx *s)
{
	sbx_db_lock(s);
	wake(s, -1);
	sbx_db_unlock(s);
}

static int sqs_init(struct sbx *s)
{
	sqlite3 *db = sbx_db_lock(s);
	struct sqs_state *st = sqs_state(s);

	(void)db;
	if (st)
		st->stopping = 0;
	sbx_db_unlock(s);
	return st ? 0 : -1;
}

/* Runs before the HTTP server joins its threads (sbx_stop): every long poll returns now
 * and new ones do not wait. The state stays for the handlers still running. */
static void sqs_quiesce(struct sbx *s)
{
	struct sqs_state *st;

	sbx_db_lock(s);
	st = sbx_get_state(s, "sqs");
	if (st) {
		st->stopping = 1;
		for (int i = 0; i < WAIT_SLOTS; i++)
			pthread_cond_broadcast(&st->cond[i]);
	}
	sbx_db_unlock(s);
}

/* Runs after the HTTP server has joined its threads (sbx_stop), so no handler waits. */
static void sqs_shutdown(struct sbx *s)
{
	struct sqs_state *st;

	sbx_db_lock(s);
	st = sbx_get_state(s, "sqs");
	if (st) {
		st->stopping = 1;
		finalize_all(st);
		for (int i = 0; i < WAIT_SLOTS; i++)
			pthread_cond_broadcast(&st->cond[i]);
		sbx_set_state(s, "sqs", NULL);
	}
	sbx_db_unlock(s);
	if (st) {
		for (int i = 0; i < WAIT_SLOTS; i++)
			pthread_cond_destroy(&st->cond[i]);
		free(st);
	}
}

/* ---- small helpers ---- */

static const char *text_col(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? (const char *)t : "";
}

static void copy_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

/* Strict decimal integer. Returns 0 or -1. */
static int parse_ll(const char *str, long long *out)
{
	char *end;
	long long v;

	if (!str || !*str)
		return -1;
	errno = 0;
	v = strtoll(str, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

/* An integer member given as a JSON integer or a decimal string (query protocol).
 * Returns 0 when absent, 1 with *out, -1 when malformed. */
static int get_int(json_t *in, const char *name, long long *out)
{
	json_t *v = json_object_get(in, name);

	if (!v || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 1;
	}
	if (json_is_string(v) && parse_ll(json_string_value(v), out) == 0)
		return 1;
	return -1;
}

static int qdne(struct sbx_req *r)
{
	return sbx_error(r, 400, "QueueDoesNotExist", "The specified queue does not exist.");
}

static int store_error(struct sbx_req *r, sqlite3 *db)
{
	sbx_log(r->sbx, "error", "sqs: store: %s", sqlite3_errmsg(db));
	return sbx_error(r, 500, "InternalError", "The sandbox store failed: %s",
			 sqlite3_errmsg(db));
}

/* The queue name of a URL (any host form: the last path segment), ARN or bare name. */
static void name_of(const char *ref, char *out, size_t n)
{
	const char *p = ref;
	const char *q;
	size_t len;

	if (strncmp(ref, "arn:", 4) == 0) {
		q = strrchr(ref, ':');
		copy_str(out, n, q ? q + 1 : ref);
		return;
	}
	len = strlen(ref);
	while (len > 0 && ref[len - 1] == '/')
		len--;
	q = NULL;
	for (size_t i = 0; i < len; i++)
		if (ref[i] == '/')
			q = ref + i;
	if (q)
		p = q + 1;
	len -= (size_t)(p - ref);
	if (len >= n)
		len = n - 1;
	memcpy(out, p, len);
	out[len] = '\0';
	/* a query string never belongs to the name */
	q = strchr(out, '?');
	if (q)
		out[q - out] = '\0';
}

/* Load a queue by name. Returns 1 found, 0 not found, -1 store error. Lock held. */
static int queue_load(struct sbx *s, sqlite3 *db, const char *name, struct queue *q)
{
	sqlite3_stmt *st = stmt(s, db, ST_QUEUE_BY_NAME);
	int rc;
	const char *t;

	memset(q, 0, sizeof(*q));
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		done(st);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		done(st);
		return -1;
	}
	q->id = sqlite3_column_int64(st, 0);
	copy_str(q->name, sizeof(q->name), text_col(st, 1));
	copy_str(q->region, sizeof(q->region), text_col(st, 2));
	q->created = sqlite3_column_int64(st, 3);
	q->modified = sqlite3_column_int64(st, 4);
	q->visibility = sqlite3_column_int64(st, 5);
	q->retention = sqlite3_column_int64(st, 6);
	q->wait = sqlite3_column_int64(st, 7);
	q->delay = sqlite3_column_int64(st, 8);
	q->max_size = sqlite3_column_int64(st, 9);
	t = (const char *)sqlite3_column_text(st, 10);
	q->redrive = t ? strdup(t) : NULL;
	q->max_receive = sqlite3_column_int64(st, 11);
	copy_str(q->dlq, sizeof(q->dlq), text_col(st, 12));
	q->extra_text = strdup(text_col(st, 13));
	if (!q->extra_text) { /* parse it now rather than lose it */
		q->extra = json_loads(text_col(st, 13), 0, NULL);
		if (!q->extra)
			q->extra = json_object();
	}
	done(st);
	return 1;
}

/* Load the queue a request names with QueueUrl. Returns 0, or -1 after sbx_error. */
static int queue_from_req(struct sbx_req *r, sqlite3 *db, json_t *in, struct queue *q)
{
	const char *url = sbx_str(in, "QueueUrl");
	char name[96];
	int rc;

	memset(q, 0, sizeof(*q));
	if (!url || !*url)
		return sbx_error(r, 400, "MissingParameter",
				 "The request must contain the parameter QueueUrl.");
	name_of(url, name, sizeof(name));
	rc = queue_load(r->sbx, db, name, q);
	if (rc < 0)
		return store_error(r, db);
	if (rc == 0)
		return qdne(r);
	return 0;
}

static int queue_url(struct sbx *s, const char *name, char *out, size_t n)
{
	int len = snprintf(out, n, "%s/%s/%s", sbx_endpoint(s), SBX_ACCOUNT, name);

	return len < 0 || (size_t)len >= n ? -1 : 0;
}

static void queue_arn(const struct queue *q, char *out, size_t n)
{
	snprintf(out, n, "arn:aws:sqs:%s:%s:%s", q->region, SBX_ACCOUNT, q->name);
}

static void md5_hex(const void *data, size_t len, char out[33])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	static const char hex[] = "0123456789abcdef";

	EVP_Digest(data, len, d, &dl, EVP_md5(), NULL);
	for (unsigned int i = 0; i < 16; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[32] = '\0';
}

/* ---- message attributes ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Decode base64 text into a new buffer (caller frees). Returns NULL on bad input. */
static unsigned char *b64_decode(const char *text, size_t *out_len)
{
	size_t len = strlen(text);
	unsigned char *out;
	int n;
	size_t pad = 0;

	if (len % 4)
		return NULL;
	out = malloc(len / 4 * 3 + 1);
	if (!out)
		return NULL;
	n = len ? EVP_DecodeBlock(out, (const unsigned char *)text, (int)len) : 0;
	if (n < 0) {
		free(out);
		return NULL;
	}
	if (len >= 1 && text[len - 1] == '=')
		pad++;
	if (len >= 2 && text[len - 2] == '=')
		pad++;
	*out_len = (size_t)n - pad;
	return out;
}

static int add_lenpref(struct aws_buf *b, const void *data, size_t len)
{
	unsigned char l[4] = { (unsigned char)(len >> 24), (unsigned char)(len >> 16),
			       (unsigned char)(len >> 8), (unsigned char)len };

	if (aws_buf_add(b, l, 4))
		return -1;
	return len ? aws_buf_add(b, data, len) : 0;
}

int sbx_sqs_md5_attrs(json_t *attrs, char out[33])
{
	const char **names = NULL;
	size_t n = 0, i = 0;
	const char *key;
	json_t *val;
	struct aws_buf b = { 0 };
	int rc = -1;

	n = json_object_size(attrs);
	names = calloc(n ? n : 1, sizeof(*names));
	if (!names)
		goto fail;
	json_object_foreach(attrs, key, val)
		names[i++] = key;
	qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		json_t *a = json_object_get(attrs, names[i]);
		const char *type = sbx_str(a, "DataType");
		const char *sv = sbx_str(a, "StringValue");
		const char *bv = sbx_str(a, "BinaryValue");

		if (!type)
			goto fail;
		if (add_lenpref(&b, names[i], strlen(names[i])) ||
		    add_lenpref(&b, type, strlen(type)))
			goto fail;
		if (strncmp(type, "Binary", 6) == 0) {
			size_t dl = 0;
			unsigned char *d = b64_decode(bv ? bv : "", &dl);

			if (!d)
				goto fail;
			if (aws_buf_addc(&b, 2) || add_lenpref(&b, d, dl)) {
				free(d);
				goto fail;
			}
			free(d);
		} else {
			if (!sv)
				goto fail;
			if (aws_buf_addc(&b, 1) || add_lenpref(&b, sv, strlen(sv)))
				goto fail;
		}
	}
	md5_hex(b.data ? b.data : "", b.len, out);
	rc = 0;
fail:
	free(names);
	aws_buf_cleanup(&b);
	return rc;
}

/* Validate MessageAttributes (NULL ok) and add their size to *size. Returns 0 or -1
 * after sbx_error. */
static int check_msg_attrs(struct sbx_req *r, json_t *attrs, size_t *size)
{
	const char *key;
	json_t *val;

	if (!attrs || json_is_null(attrs))
		return 0;
	if (!json_is_object(attrs))
		return sbx_error(r, 400, "InvalidParameterValue",
				 "MessageAttributes must be a map.");
	if (json_object_size(attrs) > 10)
		return sbx_error(r, 400, "InvalidParameterValue",
				 "Number of message attributes [%zu] exceeds the allowed maximum [10].",
				 json_object_size(attrs));
	json_object_foreach(attrs, key, val) {
		const char *type = sbx_str(val, "DataType");
		const char *sv = sbx_str(val, "StringValue");
		const char *bv = sbx_str(val, "BinaryValue");

		if (!*key || strlen(key) > 256)
			return sbx_error(r, 400, "InvalidParameterValue",
					 "Message attribute name '%s' is invalid.", key);
		if (!type || !*type)
			return sbx_error(r, 400, "InvalidParameterValue",
					 "The message attribute '%s' must contain a non-empty "
					 "message attribute type.", key);
		if (strncmp(type, "String", 6) == 0 || strncmp(type, "Number", 6) == 0) {
			if (!sv || !*sv)
				return sbx_error(r, 400, "InvalidParameterValue",
						 "The message attribute '%s' must contain non-empty "
						 "message attribute value for message attribute type "
						 "'%s'.", key, type);
			*size += strlen(sv);
		} else if (strncmp(type, "Binary", 6) == 0) {
			size_t dl = 0;
			unsigned char *d;

			if (!bv || !*bv)
				return sbx_error(r, 400, "InvalidParameterValue",
						 "The message attribute '%s' must contain non-empty "
						 "message attribute value for message attribute type "
						 "'%s'.", key, type);
			d = b64_decode(bv, &dl);
			if (!d)
				return sbx_error(r, 400, "InvalidParameterValue",
						 "The message attribute '%s' has an invalid binary "
						 "value.", key);
			free(d);
			*size += dl;
		} else {
			return sbx_error(r, 400, "InvalidParameterValue",
					 "The type of message (user) attribute '%s' is invalid. "
					 "You must use only the following supported type prefixes: "
					 "Binary, Number, String.", key);
		}
		*size += strlen(key) + strlen(type);
	}
	return 0;
}

/* ---- queue attributes ---- */

struct attr_range {
	const char *name;
	long long min, max;
	size_t off; /* offset of the long long in struct queue */
};

static const struct attr_range attr_ranges[] = {
	{ "VisibilityTimeout", 0, 43200, offsetof(struct queue, visibility) },
	{ "MessageRetentionPeriod", 60, 1209600, offsetof(struct queue, retention) },
	{ "ReceiveMessageWaitTimeSeconds", 0, 20, offsetof(struct queue, wait) },
	{ "DelaySeconds", 0, 900, offsetof(struct queue, delay) },
	{ "MaximumMessageSize", 1024, SQS_MAX_MESSAGE, offsetof(struct queue, max_size) },
};

/* Settable attributes kept verbatim in the extra column (JSON: must parse). */
static const struct {
	const char *name;
	int json;
} extra_attrs[] = {
	{ "Policy", 1 },
	{ "RedriveAllowPolicy", 1 },
	{ "KmsMasterKeyId", 0 },
	{ "KmsDataKeyReusePeriodSeconds", 0 },
	{ "SqsManagedSseEnabled", 0 },
	{ "FifoQueue", 0 },
	{ "ContentBasedDeduplication", 0 },
	{ "DeduplicationScope", 0 },
	{ "FifoThroughputLimit", 0 },
};

static const char *const readonly_attrs[] = {
	"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
	"ApproximateNumberOfMessagesDelayed", "CreatedTimestamp", "LastModifiedTimestamp",
	"QueueArn",
};

static long long *attr_field(struct queue *q, const struct attr_range *a)
{
	return (long long *)((char *)q + a->off);
}

/* Validate a RedrivePolicy value and fill q's redrive fields. Returns 0 or -1. */
static int apply_redrive(struct sbx_req *r, sqlite3 *db, const char *value, struct queue *q)
{
	json_t *p = NULL;
	const char *arn;
	long long mrc = 0;
	char dlq[96];
	struct queue d;
	int rc = -1, found;

	if (!*value) {
		free(q->redrive);
		q->redrive = NULL;
		q->max_receive = 0;
		q->dlq[0] = '\0';
		return 0;
	}
	p = json_loads(value, 0, NULL);
	arn = sbx_str(p, "deadLetterTargetArn");
	if (!json_is_object(p) || !arn || strncmp(arn, "arn:aws:sqs:", 12) != 0) {
		sbx_error(r, 400, "InvalidAttributeValue",
			  "Value %s for parameter RedrivePolicy is invalid. Reason: Redrive policy "
			  "is not a valid JSON map with deadLetterTargetArn and maxReceiveCount.",
			  value);
		goto fail;
	}
	if (get_int(p, "maxReceiveCount", &mrc) != 1 || mrc < 1 || mrc > 1000) {
		sbx_error(r, 400, "InvalidAttributeValue",
			  "Value %s for parameter RedrivePolicy is invalid. Reason: Invalid value for "
			  "maxReceiveCount, valid values are from 1 to 1000 both inclusive.", value);
		goto fail;
	}
	name_of(arn, dlq, sizeof(dlq));
	found = queue_load(r->sbx, db, dlq, &d);
	queue_cleanup(&d);
	if (found < 0) {
		store_error(r, db);
		goto fail;
	}
	if (!found) {
		sbx_error(r, 400, "InvalidAttributeValue",
			  "Value %s for parameter RedrivePolicy is invalid. Reason: Dead letter "
			  "target does not exist.", value);
		goto fail;
	}
	free(q->redrive);
	/* AWS hands the policy back with maxReceiveCount as a number */
	json_object_set_new(p, "maxReceiveCount", json_integer(mrc));
	q->redrive = json_dumps(p, JSON_COMPACT);
	q->max_receive = mrc;
	copy_str(q->dlq, sizeof(q->dlq), dlq);
	rc = 0;
fail:
	json_decref(p);
	return rc;
}

/* Apply an Attributes map to q (validated). changed_out (may be NULL) becomes 1 when a
 * value differs from what q held. Returns 0 or -1 after sbx_error. */
static int apply_attrs(struct sbx_req *r, sqlite3 *db, json_t *attrs, struct queue *q,
		       int *changed_out)
{
	const char *key;
	json_t *val;
	int changed = 0;

	if (!attrs || json_is_null(attrs))
		goto out;
	if (!json_is_object(attrs))
		return sbx_error(r, 400, "InvalidParameterValue", "Attributes must be a map.");
	queue_extra(q);
	json_object_foreach(attrs, key, val) {
		const char *v = json_is_string(val) ? json_string_value(val) : NULL;
		int known = 0;
		size_t i;
		char tmp[32];

		if (json_is_integer(val) || json_is_boolean(val)) {
			/* lenient: numbers and booleans given as JSON */
			if (json_is_integer(val))
				snprintf(tmp, sizeof(tmp), "%lld", (long long)json_integer_value(val));
			else
				snprintf(tmp, sizeof(tmp), "%s", json_is_true(val) ? "true" : "false");
			v = tmp;
		}
		if (!v)
			return sbx_error(r, 400, "InvalidAttributeValue",
					 "Invalid value for the parameter %s.", key);
		for (i = 0; i < sizeof(attr_ranges) / sizeof(attr_ranges[0]); i++) {
			const struct attr_range *a = &attr_ranges[i];
			long long n;

			if (strcmp(a->name, key) != 0)
				continue;
			known = 1;
			if (parse_ll(v, &n) || n < a->min || n > a->max)
				return sbx_error(r, 400, "InvalidAttributeValue",
						 "Invalid value for the parameter %s.", key);
			if (*attr_field(q, a) != n)
				changed = 1;
			*attr_field(q, a) = n;
		}
		if (strcmp(key, "RedrivePolicy") == 0) {
			char *before = q->redrive ? strdup(q->redrive) : NULL;

			known = 1;
			if (apply_redrive(r, db, v, q)) {
				free(before);
				return -1;
			}
			if ((before == NULL) != (q->redrive == NULL) ||
			    (before && strcmp(before, q->redrive) != 0))
				changed = 1;
			free(before);
		}
		for (i = 0; !known && i < sizeof(extra_attrs) / sizeof(extra_attrs[0]); i++) {
			const char *old;

			if (strcmp(extra_attrs[i].name, key) != 0)
				continue;
			known = 1;
			if (extra_attrs[i].json && *v) {
				json_t *j = json_loads(v, 0, NULL);

				if (!json_is_object(j)) {
					json_decref(j);
					return sbx_error(r, 400, "InvalidAttributeValue",
							 "Invalid value for the parameter %s.", key);
				}
				json_decref(j);
			}
			old = sbx_str(q->extra, key);
			if (!old || strcmp(old, v) != 0)
				changed = 1;
			if (*v)
				json_object_set_new(q->extra, key, json_string(v));
			else
				json_object_del(q->extra, key);
		}
		for (i = 0; !known && i < sizeof(readonly_attrs) / sizeof(readonly_attrs[0]); i++)
			if (strcmp(readonly_attrs[i], key) == 0)
				return sbx_error(r, 400, "InvalidAttributeName",
						 "Unknown Attribute %s.", key);
		if (!known)
			return sbx_error(r, 400, "InvalidAttributeName", "Unknown Attribute %s.", key);
	}
out:
	if (changed_out)
		*changed_out = changed;
	return 0;
}

/* Write q's settable attributes back. Lock held. Returns 0 or -1. */
static int queue_save(sqlite3 *db, const struct queue *q)
{
	sqlite3_stmt *st = NULL;
	char *extra = q->extra ? json_dumps(q->extra, JSON_COMPACT)
			       : strdup(q->extra_text ? q->extra_text : "{}");
	int rc = -1;

	if (!extra)
		goto fail;
	if (sqlite3_prepare_v2(db,
			       "UPDATE sqs_queues SET modified=?2, visibility=?3, retention=?4, wait=?5,"
			       " delay=?6, max_size=?7, redrive=?8, max_receive=?9, dlq=?10, extra=?11"
			       " WHERE id=?1", -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, q->id);
	sqlite3_bind_int64(st, 2, q->modified);
	sqlite3_bind_int64(st, 3, q->visibility);
	sqlite3_bind_int64(st, 4, q->retention);
	sqlite3_bind_int64(st, 5, q->wait);
	sqlite3_bind_int64(st, 6, q->delay);
	sqlite3_bind_int64(st, 7, q->max_size);
	if (q->redrive)
		sqlite3_bind_text(st, 8, q->redrive, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, q->max_receive);
	sqlite3_bind_text(st, 10, q->dlq, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, extra, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	rc = 0;
fail:
	sqlite3_finalize(st);
	free(extra);
	return rc;
}

static void defaults(struct queue *q)
{
	q->visibility = SQS_DEFAULT_VISIBILITY;
	q->retention = SQS_DEFAULT_RETENTION;
	q->wait = 0;
	q->delay = 0;
	q->max_size = SQS_MAX_MESSAGE;
	q->extra = json_object();
}

static int valid_queue_name(const char *name)
{
	size_t len = strlen(name);
	size_t base = len;

	if (len > 5 && strcmp(name + len - 5, ".fifo") == 0)
		base = len - 5;
	if (len < 1 || len > 80 || base < 1)
		return 0;
	for (size_t i = 0; i < base; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

/* ---- operations: queues ---- */

static int op_create_queue(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *name = sbx_str(in, "QueueName");
	sqlite3 *db = sbx_db_lock(r->sbx);
	struct queue q;
	sqlite3_stmt *st = NULL;
	char url[512];
	int rc = -1, found, changed = 0;

	memset(&q, 0, sizeof(q));
	if (!name || !valid_queue_name(name)) {
		sbx_error(r, 400, "InvalidParameterValue",
			  "Can only include alphanumeric characters, hyphens, or underscores. "
			  "1 to 80 in length");
		goto fail;
	}
	found = queue_load(r->sbx, db, name, &q);
	if (found < 0) {
		store_error(r, db);
		goto fail;
	}
	if (found) {
		if (apply_attrs(r, db, json_object_get(in, "Attributes"), &q, &changed))
			goto fail;
		if (changed) {
			sbx_error(r, 400, "QueueNameExists",
				  "A queue already exists with the same name and a different value "
				  "for attribute(s) %s", "given");
			goto fail;
		}
	} else {
		defaults(&q);
		copy_str(q.name, sizeof(q.name), name);
		copy_str(q.region, sizeof(q.region), r->region ? r->region : SBX_DEFAULT_REGION);
		q.created = q.modified = sbx_now_ms();
		if (apply_attrs(r, db, json_object_get(in, "Attributes"), &q, NULL))
			goto fail;
		if (sqlite3_prepare_v2(db, "INSERT INTO sqs_queues(name, region, created, modified,"
				       " visibility, retention, wait, delay, max_size)"
				       " VALUES(?1, ?2, ?3, ?3, 30, 345600, 0, 0, 262144)",
				       -1, &st, NULL) != SQLITE_OK) {
			store_error(r, db);
			goto fail;
		}
		sqlite3_bind_text(st, 1, q.name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, q.region, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, q.created);
		if (sbx_db_exec(r->sbx, db, "BEGIN") || sqlite3_step(st) != SQLITE_DONE) {
			store_error(r, db);
			sbx_db_exec(r->sbx, db, "ROLLBACK");
			goto fail;
		}
		q.id = sqlite3_last_insert_rowid(db);
		if (queue_save(db, &q) || sbx_db_exec(r->sbx, db, "COMMIT")) {
			store_error(r, db);
			sbx_db_exec(r->sbx, db, "ROLLBACK");
			goto fail;
		}
	}
	if (queue_url(r->sbx, q.name, url, sizeof(url))) {
		sbx_error(r, 400, "InvalidParameterValue", "Queue name too long.");
		goto fail;
	}
	*out = json_pack("{s:s}", "QueueUrl", url);
	rc = *out ? 0 : sbx_error(r, 500, "InternalError", "out of memory");
fail:
	sqlite3_finalize(st);
	sbx_db_unlock(r->sbx);
	queue_cleanup(&q);
	return rc;
}

static int op_get_queue_url(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *name = sbx_str(in, "QueueName");
	sqlite3 *db;
	struct queue q;
	char url[512];
	int found;

	if (!name)
		return sbx_error(r, 400, "MissingParameter",
				 "The request must contain the parameter QueueName.");
	db = sbx_db_lock(r->sbx);
	found = queue_load(r->sbx, db, name, &q);
	sbx_db_unlock(r->sbx);
	queue_cleanup(&q);
	if (found < 0)
		return sbx_error(r, 500, "InternalError", "The sandbox store failed.");
	if (!found)
		return qdne(r);
	queue_url(r->sbx, name, url, sizeof(url));
	*out = json_pack("{s:s}", "QueueUrl", url);
	return 0;
}

static int op_delete_queue(struct sbx_req *r, json_t *in, json_t **out)
{
	sqlite3 *db = sbx_db_lock(r->sbx);
	struct queue q;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (queue_from_req(r, db, in, &q))
		goto fail;
	if (sbx_db_exec(r->sbx, db, "BEGIN"))
		goto store;
	if (sqlite3_prepare_v2(db, "DELETE FROM sqs_messages WHERE qid = ?1; ", -1, &st, NULL) ||
	    sqlite3_bind_int64(st, 1, q.id) || sqlite3_step(st) != SQLITE_DONE)
		goto rollback;
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, "DELETE FROM sqs_queues WHERE id = ?1", -1, &st, NULL) ||
	    sqlite3_bind_int64(st, 1, q.id) || sqlite3_step(st) != SQLITE_DONE)
		goto rollback;
	if (sbx_db_exec(r->sbx, db, "COMMIT"))
		goto rollback;
	wake(r->sbx, q.id); /* long polls on it end */
	*out = json_object();
	rc = 0;
	goto fail;
rollback:
	store_error(r, db);
	sbx_db_exec(r->sbx, db, "ROLLBACK");
	goto fail;
store:
	store_error(r, db);
fail:
	sqlite3_finalize(st);
	sbx_db_unlock(r->sbx);
	queue_cleanup(&q);
	return rc;
}

/* Paged list of queue URLs: names > token starting with prefix; filter by redrive target
 * when dlq is non-NULL. urls_key names the output list. */
static int list_queues(struct sbx_req *r, json_t *in, json_t **out, const char *dlq,
		       const char *urls_key)
{
	const char *prefix = dlq ? NULL : sbx_str(in, "QueueNamePrefix");
	const char *token = sbx_str(in, "NextToken");
	long long max = 0;
	int has_max = get_int(in, "MaxResults", &max);
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	json_t *urls = json_array(), *res = json_object();
	char pat[200];
	int rc = -1, n = 0, step;
	char last[96] = "";

	if (has_max < 0 || (has_max && (max < 1 || max > SQS_LIST_MAX))) {
		sbx_error(r, 400, "InvalidParameterValue",
			  "Value for parameter MaxResults is invalid. Reason: MaxResults must be an "
			  "integer between 1 and 1000.");
		goto fail;
	}
	if (!has_max)
		max = SQS_LIST_MAX;
	/* LIKE with an escape: prefixes are [A-Za-z0-9_-] but '_' is a LIKE wildcard */
	{
		size_t j = 0;

		for (const char *p = prefix ? prefix : ""; *p && j + 3 < sizeof(pat); p++) {
			if (*p == '_' || *p == '%' || *p == '\\')
				pat[j++] = '\\';
			pat[j++] = *p;
		}
		pat[j++] = '%';
		pat[j] = '\0';
	}
	db = sbx_db_lock(r->sbx);
	if (sqlite3_prepare_v2(db, "SELECT name FROM sqs_queues WHERE name LIKE ?1 ESCAPE '\\'"
			       " AND name > ?2 AND (?3 IS NULL OR dlq = ?3) ORDER BY name LIMIT ?4",
			       -1, &st, NULL) != SQLITE_OK) {
		store_error(r, db);
		goto fail;
	}
	sqlite3_bind_text(st, 1, pat, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, token ? token : "", -1, SQLITE_STATIC);
	if (dlq)
		sqlite3_bind_text(st, 3, dlq, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, max + 1);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		char url[512];

		if (n == max) {
			json_object_set_new(res, "NextToken", json_string(last));
			break;
		}
		copy_str(last, sizeof(last), text_col(st, 0));
		queue_url(r->sbx, last, url, sizeof(url));
		json_array_append_new(urls, json_string(url));
		n++;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		store_error(r, db);
		goto fail;
	}
	if (n || dlq)
		json_object_set(res, urls_key, urls);
	*out = res;
	res = NULL;
	rc = 0;
fail:
	sqlite3_finalize(st);
	if (db)
		sbx_db_unlock(r->sbx);
	json_decref(urls);
	json_decref(res);
	return rc;
}

static int op_list_queues(struct sbx_req *r, json_t *in, json_t **out)
{
	return list_queues(r, in, out, NULL, "QueueUrls");
}

static int op_list_dlq_sources(struct sbx_req *r, json_t *in, json_t **out)
{
	sqlite3 *db = sbx_db_lock(r->sbx);
	struct queue q;
	char name[96];
	int rc;

	rc = queue_from_req(r, db, in, &q);
	copy_str(name, sizeof(name), q.name);
	sbx_db_unlock(r->sbx);
	queue_cleanup(&q);
	if (rc)
		return -1;
	return list_queues(r, in, out, name, "queueUrls");
}

static int op_purge_queue(struct sbx_req *r, json_t *in, json_t **out)
{
	sqlite3 *db = sbx_db_lock(r->sbx);
	struct queue q;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (queue_from_req(r, db, in, &q))
		goto fail;
	if (sqlite3_prepare_v2(db, "DELETE FROM sqs_messages WHERE qid = ?1", -1, &st, NULL) ||
	    sqlite3_bind_int64(st, 1, q.id) || sqlite3_step(st) != SQLITE_DONE) {
		store_error(r, db);
		goto fail;
	}
	*out = json_object();
	rc = 0;
fail:
	sqlite3_finalize(st);
	sbx_db_unlock(r->sbx);
	queue_cleanup(&q);
	return rc;
}

/* Drop the queue's messages older than its retention period. Lock held. */
static int expire(sqlite3 *db, const struct queue *q, long long now)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(db, "DELETE FROM sqs_messages WHERE qid = ?1 AND sent <= ?2",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, q->id);
		sqlite3_bind_int64(st, 2, now - q->retention * 1000);
		rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	}
	sqlite3_finalize(st);
	return rc;
}

static int wants(json_t *names, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(names, i, v) {
		const char *s = json_string_value(v);

		if (s && (strcmp(s, "All") == 0 || strcmp(s, name) == 0))
			return 1;
	}
	return 0;
}

static void set_num(json_t *o, const char *key, long long v)
{
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "%lld", v);
	json_object_set_new(o, key, json_string(tmp));
}

static const char *const all_attr_names[] = {
	"All", "Policy", "VisibilityTimeout", "MaximumMessageSize", "MessageRetentionPeriod",
	"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
	"CreatedTimestamp", "LastModifiedTimestamp", "QueueArn",
	"ApproximateNumberOfMessagesDelayed", "DelaySeconds", "ReceiveMessageWaitTimeSeconds",
	"RedrivePolicy", "FifoQueue", "ContentBasedDeduplication", "KmsMasterKeyId",
	"KmsDataKeyReusePeriodSeconds", "DeduplicationScope", "FifoThroughputLimit",
	"RedriveAllowPolicy", "SqsManagedSseEnabled",
};

static int op_get_queue_attributes(struct sbx_req *r, json_t *in, json_t **out)
{
	json_t *names = json_object_get(in, "AttributeNames");
	sqlite3 *db = sbx_db_lock(r->sbx);
	struct queue q;
	sqlite3_stmt *st = NULL;
	json_t *attrs = json_object();
	long long now = sbx_now_ms();
	size_t i;
	json_t *v;
	int rc = -1;

	if (queue_from_req(r, db, in, &q))
		goto fail;
	json_array_foreach(names, i, v) {
		const char *s = json_string_value(v);
		size_t k, nk = sizeof(all_attr_names) / sizeof(all_attr_names[0]);

		for (k = 0; s && k < nk; k++)
			if (strcmp(all_attr_names[k], s) == 0)
				break;
		if (!s || k == nk) {
			sbx_error(r, 400, "InvalidAttributeName", "Unknown Attribute %s.",
				  s ? s : "(not a string)");
			goto fail;
		}
	}
	if (wants(names, "ApproximateNumberOfMessages") ||
	    wants(names, "ApproximateNumberOfMessagesNotVisible") ||
	    wants(names, "ApproximateNumberOfMessagesDelayed")) {
		if (expire(db, &q, now) ||
		    sqlite3_prepare_v2(db, "SELECT COALESCE(SUM(visible_at <= ?2), 0),"
				       " COALESCE(SUM(visible_at > ?2 AND receives > 0), 0),"
				       " COALESCE(SUM(visible_at > ?2 AND receives = 0), 0)"
				       " FROM sqs_messages WHERE qid = ?1", -1, &st, NULL) ||
		    sqlite3_bind_int64(st, 1, q.id) || sqlite3_bind_int64(st, 2, now) ||
		    sqlite3_step(st) != SQLITE_ROW) {
			store_error(r, db);
			goto fail;
		}
		if (wants(names, "ApproximateNumberOfMessages"))
			set_num(attrs, "ApproximateNumberOfMessages", sqlite3_column_int64(st, 0));
		if (wants(names, "ApproximateNumberOfMessagesNotVisible"))
			set_num(attrs, "ApproximateNumberOfMessagesNotVisible",
				sqlite3_column_int64(st, 1));
		if (wants(names, "ApproximateNumberOfMessagesDelayed"))
			set_num(attrs, "ApproximateNumberOfMessagesDelayed",
				sqlite3_column_int64(st, 2));
	}
	for (i = 0; i < sizeof(attr_ranges) / sizeof(attr_ranges[0]); i++)
		if (wants(names, attr_ranges[i].name))
			set_num(attrs, attr_ranges[i].name, *attr_field(&q, &attr_ranges[i]));
	if (wants(names, "CreatedTimestamp"))
		set_num(attrs, "CreatedTimestamp", q.created / 1000);
	if (wants(names, "LastModifiedTimestamp"))
		set_num(attrs, "LastModifiedTimestamp", q.modified / 1000);
	if (wants(names, "QueueArn")) {
		char arn[256];

		queue_arn(&q, arn, sizeof(arn));
		json_object_set_new(attrs, "QueueArn", json_string(arn));
	}
	if (q.redrive && wants(names, "RedrivePolicy"))
		json_object_set_new(attrs, "RedrivePolicy", json_string(q.redrive));
	if (wants(names, "SqsManagedSseEnabled") && !sbx_str(queue_extra(&q), "SqsManagedSseEnabled"))
		json_object_set_new(attrs, "SqsManagedSseEnabled", json_string("false"));
	for (i = 0; i < sizeof(extra_attrs) / sizeof(extra_attrs[0]); i++) {
		const char *ev = sbx_str(queue_extra(&q), extra_attrs[i].name);

		if (ev && wants(names, extra_attrs[i].name))
			json_object_set_new(attrs, extra_attrs[i].name, json_string(ev));
	}
	*out = json_object();
	if (json_object_size(attrs))
		json_object_set(*out, "Attributes", attrs);
	rc = 0;
fail:
	sqlite3_finalize(st);
	sbx_db_unlock(r->sbx);
	queue_cleanup(&q);
	json_decref(attrs);
	return rc;
}

static int op_set_queue_attributes(struct sbx_req *r, json_t *in, json_t **out)
{
	sqlite3 *db = sbx_db_lock(r->sbx);
	struct queue q;
	int rc = -1;

	if (queue_from_req(r, db, in, &q))
		goto fail;
	if (apply_attrs(r, db, json_object_get(in, "Attributes"), &q, NULL))
		goto fail;
	q.modified = sbx_now_ms();
	if (queue_save(db, &q)) {
		store_error(r, db);
		goto fail;
	}
	wake(r->sbx, q.id); /* a shorter wait or delay may change what long polls wait for */
	*out = json_object();
	rc = 0;
fail:
	sbx_db_unlock(r->sbx);
	queue_cleanup(&q);
	return rc;
}

/* ---- tags ---- */

static int tags_update(struct sbx_req *r, json_t *in, json_t **out, int add)
{
	sqlite3 *db = sbx_db_lock(r->sbx);
	struct queue q;
	sqlite3_stmt *st = NULL;
	json_t *tags = NULL;
	char *text = NULL;
	int rc = -1;

	if (queue_from_req(r, db, in, &q))
		goto fail;
	if (sqlite3_prepare_v2(db, "SELECT tags FROM sqs_queues WHERE id = ?1", -1, &st, NULL) ||
	    sqlite3_bind_int64(st, 1, q.id) || sqlite3_step(st) != SQLITE_ROW) {
		store_error(r, db);
		goto fail;
	}
	tags = json_loads(text_col(st, 0), 0, NULL);
	if (!tags)
		tags = json_object();
	sqlite3_finalize(st);
	st = NULL;
	if (add == 1) {
		json_t *given = json_object_get(in, "Tags");

		if (!json_is_object(given)) {
			sbx_error(r, 400, "InvalidParameterValue", "Tags must be a map.");
			goto fail;
		}
		json_object_update(tags, given);
	} else if (add == 0) {
		size_t i;
		json_t *k;

		json_array_foreach(json_object_get(in, "TagKeys"), i, k)
			if (json_is_string(k))
				json_object_del(tags, json_string_value(k));
	} else {
		*out = json_object();
		if (json_object_size(tags))
			json_object_set(*out, "Tags", tags);
		rc = 0;
		goto fail;
	}
	text = json_dumps(tags, JSON_COMPACT);
	if (!text || sqlite3_prepare_v2(db, "UPDATE sqs_queues SET tags = ?2 WHERE id = ?1", -1,
					&st, NULL) ||
	    sqlite3_bind_int64(st, 1, q.id) ||
	    sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC) || sqlite3_step(st) != SQLITE_DONE) {
		store_error(r, db);
		goto fail;
	}
	*out = json_object();
	rc = 0;
fail:
	sqlite3_finalize(st);
	sbx_db_unlock(r->sbx);
	queue_cleanup(&q);
	json_decref(tags);
	free(text);
	return rc;
}

static int op_tag_queue(struct sbx_req *r, json_t *in, json_t **out)
{
	return tags_update(r, in, out, 1);
}

static int op_untag_queue(struct sbx_req *r, json_t *in, json_t **out)
{
	return tags_update(r, in, out, 0);
}

static int op_list_queue_tags(struct sbx_req *r, json_t *in, json_t **out)
{
	return tags_update(r, in, out, -1);
}

/* ---- messages: send ---- */

/* One validated message to enqueue. */
struct outgoing {
	const char *body;
	json_t *attrs;           /* borrowed, NULL when none */
	long long delay;         /* seconds */
	char md5[33];
	char md5_attrs[33];      /* "" when no attributes */
	char mid[37];
};

/* Validate one message against q. Returns 0, or -1 after sbx_error. */
static int check_message(struct sbx_req *r, const struct queue *q, json_t *in,
			 struct outgoing *m)
{
	long long delay = q->delay;
	size_t size;
	int has;

	memset(m, 0, sizeof(*m));
	m->body = sbx_str(in, "MessageBody");
	if (!m->body)
		return sbx_error(r, 400, "MissingParameter",
				 "The request must contain the parameter MessageBody.");
	if (!*m->body)
		return sbx_error(r, 400, "InvalidParameterValue",
				 "The request must contain the parameter MessageBody.");
	has = get_int(in, "DelaySeconds", &delay);
	if (has < 0 || delay < 0 || delay > 900)
		return sbx_error(r, 400, "InvalidParameterValue",
				 "Value %lld for parameter DelaySeconds is invalid. Reason: "
				 "DelaySeconds must be >= 0 and <= 900.", delay);
	m->delay = delay;
	m->attrs = json_object_get(in, "MessageAttributes");
	if (m->attrs && (json_is_null(m->attrs) || json_object_size(m->attrs) == 0))
		m->attrs = NULL;
	size = strlen(m->body);
	if (check_msg_attrs(r, m->attrs, &size))
		return -1;
	if (size > (size_t)q->max_size)
		return sbx_error(r, 400, "InvalidParameterValue",
				 "One or more parameters are invalid. Reason: Message must be "
				 "shorter than %lld bytes.", q->max_size);
	md5_hex(m->body, strlen(m->body), m->md5);
	if (m->attrs && sbx_sqs_md5_attrs(m->attrs, m->md5_attrs))
		return sbx_error(r, 400, "InvalidParameterValue",
				 "The message attributes are invalid.");
	return 0;
}

/* Insert one message (lock held, inside the caller's transaction if any). */
static int insert_message(struct sbx *s, sqlite3 *db, long long qid, struct outgoing *m,
			  const char *sender)
{
	sqlite3_stmt *st = stmt(s, db, ST_INSERT);
	long long now = sbx_now_ms();
	char *attrs = NULL;
	int rc = -1;

	if (!st)
		return -1;
	if (m->attrs) {
		attrs = json_dumps(m->attrs, JSON_COMPACT);
		if (!attrs)
			goto fail;
	}
	sbx_uuid(m->mid);
	sqlite3_bind_int64(st, 1, qid);
	sqlite3_bind_text(st, 2, m->mid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, m->body, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, m->md5, -1, SQLITE_STATIC);
	if (attrs) {
		sqlite3_bind_text(st, 5, attrs, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, m->md5_attrs, -1, SQLITE_STATIC);
	}
	sqlite3_bind_int64(st, 7, now);
	sqlite3_bind_int64(st, 8, now + m->delay * 1000);
	sqlite3_bind_text(st, 9, sender, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	rc = 0;
fail:
	done(st);
	free(attrs);
	return rc;
}

static const char *sender_of(const struct sbx_req *r)
{
	return r->access_key && *r->access_key ? r->access_key : "AIDAAAAAAAAAAAAAAAAAA";
}

static int op_send_message(struct sbx_req *r, json_t *in, json_t **out)
{
	sqlite3 *db = sbx_db_lock(r->sbx);
	struct queue q;
	struct outgoing m;
	int rc = -1;

	if (queue_from_req(r, db, in, &q) || check_message(r, &q, in, &m))
		goto fail;
	if (insert_message(r->sbx, db, q.id, &m, sender_of(r))) {
		store_error(r, db);
		goto fail;
	}
	wake(r->sbx, q.id);
	*out = json_pack("{s:s,s:s}", "MessageId", m.mid, "MD5OfMessageBody", m.md5);
	if (*out && m.md5_attrs[0])
		json_object_set_new(*out, "MD5OfMessageAttributes", json_string(m.md5_attrs));
	rc = 0;
fail:
	sbx_db_unlock(r->sbx);
	queue_cleanup(&q);
	return rc;
}

/* Batch shape checks shared by the three batch operations. Returns 0 or -1. */
static int check_batch(struct sbx_req *r, json_t *entries, const char *entry_shape)
{
	size_t n = json_array_size(entries), i, j;

	if (!json_is_array(entries) || n == 0)
		return sbx_error(r, 400, "EmptyBatchRequest",
				 "There should be at least one %s in the request.", entry_shape);
	if (n > SQS_MAX_BATCH)
		return sbx_error(r, 400, "TooManyEntriesInBatchRequest",
				 "Maximum number of entries per request are 10. You have sent %zu.",
				 n);
	for (i = 0; i < n; i++) {
		const char *id = sbx_str(json_array_get(entries, i), "Id");
		size_t len = id ? strlen(id) : 0;
		int ok = len >= 1 && len <= 80;

		for (size_t k = 0; ok && k < len; k++) {
			char c = id[k];

			ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '-' || c == '_';
		}
		if (!ok)
			return sbx_error(r, 400, "InvalidBatchEntryId",
					 "A batch entry id can only contain alphanumeric characters, "
					 "hyphens and underscores. It can be at most 80 letters long.");
		for (j = 0; j < i; j++)
			if (strcmp(id, sbx_str(json_array_get(entries, j), "Id")) == 0)
				return sbx_error(r, 400, "BatchEntryIdsNotDistinct",
						 "Id %s repeated.", id);
	}
	return 0;
}

static json_t *failed_entry(const char *id, const struct sbx_req *r)
{
	return json_pack("{s:s,s:b,s:s,s:s}", "Id", id, "SenderFault", r->err_status < 500,
			 "Code", r->err_code, "Message", r->err_message);
}

static void clear_error(struct sbx_req *r)
{
	r->err_status = 0;
	r->err_code[0] = '\0';
	r->err_message[0] = '\0';
}

static int op_send_message_batch(struct sbx_req *r, json_t *in, json_t **out)
{
	json_t *entries = json_object_get(in, "Entries");
	sqlite3 *db = sbx_db_lock(r->sbx);
	struct queue q;
	json_t *ok = json_array(), *bad = json_array();
	size_t i, total = 0;
	json_t *e;
	int rc = -1, began = 0;

	if (queue_from_req(r, db, in, &q) ||
	    check_batch(r, entries, "SendMessageBatchRequestEntry"))
		goto fail;
	json_array_foreach(entries, i, e) {
		const char *body = sbx_str(e, "MessageBody");

		total += body ? strlen(body) : 0;
	}
	if (total > SQS_MAX_MESSAGE) {
		sbx_error(r, 400, "BatchRequestTooLong",
			  "Batch requests cannot be longer than 262144 bytes. You have sent %zu "
			  "bytes.", total);
		goto fail;
	}
	if (sbx_db_exec(r->sbx, db, "BEGIN")) {
		store_error(r, db);
		goto fail;
	}
	began = 1;
	json_array_foreach(entries, i, e) {
		struct outgoing m;
		const char *id = sbx_str(e, "Id");
		json_t *row;

		if (check_message(r, &q, e, &m)) {
			json_array_append_new(bad, failed_entry(id, r));
			clear_error(r);
			continue;
		}
		if (insert_message(r->sbx, db, q.id, &m, sender_of(r))) {
			store_error(r, db);
			goto fail;
		}
		row = json_pack("{s:s,s:s,s:s}", "Id", id, "MessageId", m.mid,
				"MD5OfMessageBody", m.md5);
		if (row && m.md5_attrs[0])
			json_object_set_new(row, "MD5OfMessageAttributes", json_string(m.md5_attrs));
		json_array_append_new(ok, row);
	}
	if (sbx_db_exec(r->sbx, db, "COMMIT")) {
		store_error(r, db);
		goto fail;
	}
	began = 0;
	wake(r->sbx, q.id);
	*out = json_pack("{s:O,s:O}", "Successful", ok, "Failed", bad);
	rc = 0;
fail:
	if (began)
		sbx_db_exec(r->sbx, db, "ROLLBACK");
	sbx_db_unlock(r->sbx);
	queue_cleanup(&q);
	json_decref(ok);
	json_decref(bad);
	return rc;
}

int sbx_sqs_send_locked(struct sbx *s, sqlite3 *db, const char *queue_arn, const char *body,
			json_t *msg_attrs, char *message_id_out)
{
	char name[96];
	struct queue q;
	struct outgoing m;
	int found;

	name_of(queue_arn, name, sizeof(name));
	found = queue_load(s, db, name, &q);
	if (found <= 0) {
		queue_cleanup(&q);
		return -1;
	}
	memset(&m, 0, sizeof(m));
	m.body = body;
	m.delay = q.delay;
	md5_hex(body, strlen(body), m.md5);
	if (msg_attrs && json_object_size(msg_attrs) && sbx_sqs_md5_attrs(msg_attrs, m.md5_attrs) == 0)
		m.attrs = msg_attrs;
	queue_cleanup(&q);
	if (insert_message(s, db, q.id, &m, SBX_ACCOUNT))
		return -1;
	if (message_id_out)
		memcpy(message_id_out, m.mid, 37);
	wake(s, q.id);
	return 0;
}

int sbx_sqs_send_internal(struct sbx *s, const char *queue_arn, const char *body,
			  char *message_id_out)
{
	sqlite3 *db = sbx_db_lock(s);
	int rc = sbx_sqs_send_locked(s, db, queue_arn, body, NULL, message_id_out);

	sbx_db_unlock(s);
	return rc;
}

/* ---- messages: receive ---- */

/* A receipt handle: "<queue id>.<row id>.<nonce>"; the nonce changes on every receive. */
static int parse_receipt(const char *h, long long *qid, long long *row, char *nonce, size_t n)
{
	char *end;
	const char *p = h;

	if (!h)
		return -1;
	errno = 0;
	*qid = strtoll(p, &end, 10);
	if (errno || end == p || *end != '.')
		return -1;
	p = end + 1;
	*row = strtoll(p, &end, 10);
	if (errno || end == p || *end != '.')
		return -1;
	p = end + 1;
	if (strlen(p) != 32 || strspn(p, "0123456789abcdef") != 32)
		return -1;
	copy_str(nonce, n, p);
	return 0;
}

static void make_nonce(char out[33])
{
	char u[37];
	size_t j = 0;

	sbx_uuid(u);
	for (size_t i = 0; u[i] && j < 32; i++)
		if (u[i] != '-')
			out[j++] = u[i];
	out[j] = '\0';
}

/* Does the requested name list select attribute name? "All", ".*", exact, "prefix.*". */
static int attr_selected(json_t *names, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(names, i, v) {
		const char *s = json_string_value(v);
		size_t len;

		if (!s)
			continue;
		if (strcmp(s, "All") == 0 || strcmp(s, ".*") == 0 || strcmp(s, name) == 0)
			return 1;
		len = strlen(s);
		if (len > 2 && strcmp(s + len - 2, ".*") == 0 && strncmp(name, s, len - 1) == 0)
			return 1;
	}
	return 0;
}

struct candidate {
	long long id, sent, receives, first_recv;
	char mid[37];
	char *body, *md5, *mattrs, *sender;
};

static void candidate_cleanup(struct candidate *c)
{
	free(c->body);
	free(c->md5);
	free(c->mattrs);
	free(c->sender);
	memset(c, 0, sizeof(*c));
}

/* Build one received message for the reply. */
static json_t *message_json(const struct queue *q, const struct candidate *c, const char *nonce,
			    long long now, json_t *sys_names, json_t *attr_names)
{
	char handle[128];
	json_t *m, *sys, *ma = NULL;

	snprintf(handle, sizeof(handle), "%lld.%lld.%s", q->id, c->id, nonce);
	m = json_pack("{s:s,s:s,s:s,s:s}", "MessageId", c->mid, "ReceiptHandle", handle,
		      "MD5OfBody", c->md5, "Body", c->body);
	if (!m)
		return NULL;
	sys = json_object();
	if (attr_selected(sys_names, "SenderId"))
		json_object_set_new(sys, "SenderId", json_string(c->sender));
	if (attr_selected(sys_names, "SentTimestamp"))
		set_num(sys, "SentTimestamp", c->sent);
	if (attr_selected(sys_names, "ApproximateReceiveCount"))
		set_num(sys, "ApproximateReceiveCount", c->receives + 1);
	if (attr_selected(sys_names, "ApproximateFirstReceiveTimestamp"))
		set_num(sys, "ApproximateFirstReceiveTimestamp", c->first_recv ? c->first_recv : now);
	if (json_object_size(sys))
		json_object_set(m, "Attributes", sys);
	json_decref(sys);
	if (c->mattrs) {
		json_t *all = json_loads(c->mattrs, 0, NULL);
		const char *key;
		json_t *val;
		char md5[33];

		ma = json_object();
		json_object_foreach(all, key, val)
			if (attr_selected(attr_names, key))
				json_object_set(ma, key, val);
		json_decref(all);
		if (json_object_size(ma) && sbx_sqs_md5_attrs(ma, md5) == 0) {
			json_object_set_new(m, "MD5OfMessageAttributes", json_string(md5));
			json_object_set(m, "MessageAttributes", ma);
		}
		json_decref(ma);
	}
	return m;
}

/* Move a message to the queue's dead-letter queue. Returns 1 moved, 0 no DLQ, -1 error. */
static int redrive(struct sbx *s, sqlite3 *db, const struct queue *q, long long row,
		   long long now)
{
	struct queue d;
	sqlite3_stmt *st;
	int found = queue_load(s, db, q->dlq, &d);
	int rc = -1;

	if (found <= 0) {
		queue_cleanup(&d);
		return found;
	}
	st = stmt(s, db, ST_MOVE);
	if (st) {
		sqlite3_bind_int64(st, 1, row);
		sqlite3_bind_int64(st, 2, d.id);
		sqlite3_bind_int64(st, 3, now);
		rc = sqlite3_step(st) == SQLITE_DONE ? 1 : -1;
		done(st);
	}
	queue_cleanup(&d);
	return rc;
}

/* One receive pass (lock held): up to max messages into msgs. Returns the number
 * received, or -1 on a store error. */
static int receive_pass(struct sbx_req *r, sqlite3 *db, const struct queue *q, long long max,
			long long vt, json_t *sys_names, json_t *attr_names, json_t *msgs)
{
	struct candidate c[SQS_MAX_BATCH];
	long long taken[SQS_MAX_BATCH];
	int ntaken = 0, moved = 0, pass;
	long long now = sbx_now_ms();

	memset(c, 0, sizeof(c));
	for (pass = 0; pass < 4 && ntaken < max; pass++) {
		sqlite3_stmt *st = stmt(r->sbx, db, ST_CANDIDATES);
		int n = 0, step, skipped = 0;

		if (!st)
			return -1;
		sqlite3_bind_int64(st, 1, q->id);
		sqlite3_bind_int64(st, 2, now);
		sqlite3_bind_int64(st, 3, max + ntaken); /* taken rows may reappear (vt 0) */
		while (n < SQS_MAX_BATCH && (step = sqlite3_step(st)) == SQLITE_ROW) {
			long long id = sqlite3_column_int64(st, 0);
			int dup = 0;

			for (int k = 0; k < ntaken; k++)
				dup |= taken[k] == id;
			if (dup)
				continue;
			c[n].id = id;
			copy_str(c[n].mid, sizeof(c[n].mid), text_col(st, 1));
			c[n].body = strdup(text_col(st, 2));
			c[n].md5 = strdup(text_col(st, 3));
			c[n].mattrs = sqlite3_column_type(st, 4) == SQLITE_NULL
					      ? NULL : strdup(text_col(st, 4));
			c[n].sent = sqlite3_column_int64(st, 5);
			c[n].receives = sqlite3_column_int64(st, 6);
			c[n].first_recv = sqlite3_column_int64(st, 7);
			c[n].sender = strdup(text_col(st, 8));
			n++;
		}
		done(st);
		if (n == 0)
			break;
		for (int i = 0; i < n; i++) {
			char nonce[33];
			sqlite3_stmt *up;
			json_t *m;

			if (!c[i].body || !c[i].md5 || !c[i].sender)
				goto fail;
			if (c[i].sent + q->retention * 1000 <= now) {
				up = stmt(r->sbx, db, ST_DELETE_ID);
				if (!up)
					goto fail;
				sqlite3_bind_int64(up, 1, c[i].id);
				step = sqlite3_step(up);
				done(up);
				if (step != SQLITE_DONE)
					goto fail;
				skipped++;
				continue;
			}
			if (q->max_receive > 0 && c[i].receives >= q->max_receive && q->dlq[0]) {
				int mv = redrive(r->sbx, db, q, c[i].id, now);

				if (mv < 0)
					goto fail;
				if (mv > 0) {
					moved = 1;
					skipped++;
					continue;
				}
			}
			if (ntaken >= max)
				continue;
			make_nonce(nonce);
			up = stmt(r->sbx, db, ST_RECEIVED);
			if (!up)
				goto fail;
			sqlite3_bind_int64(up, 1, c[i].id);
			sqlite3_bind_int64(up, 2, now + vt * 1000);
			sqlite3_bind_text(up, 3, nonce, -1, SQLITE_STATIC);
			sqlite3_bind_int64(up, 4, now);
			step = sqlite3_step(up);
			done(up);
			if (step != SQLITE_DONE)
				goto fail;
			m = message_json(q, &c[i], nonce, now, sys_names, attr_names);
			if (!m)
				goto fail;
			json_array_append_new(msgs, m);
			taken[ntaken++] = c[i].id;
		}
		for (int i = 0; i < n; i++)
			candidate_cleanup(&c[i]);
		if (!skipped)
			break;
	}
	if (moved)
		wake(r->sbx, -1); /* their dead-letter queues */
	return ntaken;
fail:
	for (int i = 0; i < SQS_MAX_BATCH; i++)
		candidate_cleanup(&c[i]);
	return -1;
}

/* The earliest time (epoch ms) a message of the queue becomes visible, or 0. Lock held. */
static long long next_visible(struct sbx *s, sqlite3 *db, long long qid, long long now)
{
	sqlite3_stmt *st = stmt(s, db, ST_NEXT_VISIBLE);
	long long t = 0;

	if (!st)
		return 0;
	sqlite3_bind_int64(st, 1, qid);
	sqlite3_bind_int64(st, 2, now);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		t = sqlite3_column_int64(st, 0);
	done(st);
	return t;
}

static void mono_deadline(struct timespec *ts, long long ms_from_now)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms_from_now / 1000;
	ts->tv_nsec += (ms_from_now % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static int op_receive_message(struct sbx_req *r, json_t *in, json_t **out)
{
	long long max = 1, vt = -1, wait = -1;
	json_t *sys_names = json_object_get(in, "MessageSystemAttributeNames");
	json_t *attr_names = json_object_get(in, "MessageAttributeNames");
	json_t *msgs = json_array(), *sys_merged = json_array();
	sqlite3 *db = sbx_db_lock(r->sbx);
	struct sqs_state *state = sqs_state(r->sbx);
	struct queue q;
	long long deadline;
	int rc = -1, n;

	memset(&q, 0, sizeof(q));
	json_array_extend(sys_merged, json_object_get(in, "AttributeNames"));
	json_array_extend(sys_merged, sys_names);
	if (get_int(in, "MaxNumberOfMessages", &max) < 0 || max < 1 || max > SQS_MAX_BATCH) {
		sbx_error(r, 400, "InvalidParameterValue",
			  "Value %lld for parameter MaxNumberOfMessages is invalid. Reason: Must be "
			  "between 1 and 10, if provided.", max);
		goto fail;
	}
	if (get_int(in, "WaitTimeSeconds", &wait) < 0 || wait > 20 ||
	    (json_object_get(in, "WaitTimeSeconds") && wait < 0)) {
		sbx_error(r, 400, "InvalidParameterValue",
			  "Value %lld for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 "
			  "and <= 20, if provided.", wait);
		goto fail;
	}
	if (get_int(in, "VisibilityTimeout", &vt) < 0 ||
	    (json_object_get(in, "VisibilityTimeout") && (vt < 0 || vt > 43200))) {
		sbx_error(r, 400, "InvalidParameterValue",
			  "Value %lld for parameter VisibilityTimeout is invalid. Reason: Must be "
			  ">= 0 and <= 43200, if provided.", vt);
		goto fail;
	}
	if (queue_from_req(r, db, in, &q))
		goto fail;
	if (vt < 0)
		vt = q.visibility;
	if (wait < 0)
		wait = q.wait;
	deadline = sbx_now_ms() + wait * 1000;
	for (;;) {
		long long now, next, until;
		struct timespec ts;
		char name[96];

		if (sbx_db_exec(r->sbx, db, "BEGIN")) {
			store_error(r, db);
			goto fail;
		}
		n = receive_pass(r, db, &q, max, vt, sys_merged, attr_names, msgs);
		if (n < 0) {
			sbx_db_exec(r->sbx, db, "ROLLBACK");
			store_error(r, db);
			goto fail;
		}
		if (sbx_db_exec(r->sbx, db, "COMMIT")) {
			sbx_db_exec(r->sbx, db, "ROLLBACK");
			store_error(r, db);
			goto fail;
		}
		now = sbx_now_ms();
		if (n > 0 || now >= deadline || !state || state->stopping ||
		    (r->interrupted && r->interrupted(r->interrupt_ctx)))
			break;
		next = next_visible(r->sbx, db, q.id, now);
		until = next && next < deadline ? next : deadline;
		mono_deadline(&ts, until - now);
		pthread_cond_timedwait(&state->cond[q.id % WAIT_SLOTS], sbx_db_mutex(r->sbx), &ts);
		if (state->stopping || (r->interrupted && r->interrupted(r->interrupt_ctx)))
			break;
		/* the queue may have been deleted or changed while we waited */
		copy_str(name, sizeof(name), q.name);
		queue_cleanup(&q);
		n = queue_load(r->sbx, db, name, &q);
		if (n < 0) {
			store_error(r, db);
			goto fail;
		}
		if (n == 0) {
			qdne(r);
			goto fail;
		}
		if (!json_object_get(in, "VisibilityTimeout"))
			vt = q.visibility; /* the queue's timeout as it is now */
	}
	*out = json_object();
	if (json_array_size(msgs))
		json_object_set(*out, "Messages", msgs);
	rc = 0;
fail:
	sbx_db_unlock(r->sbx);
	queue_cleanup(&q);
	json_decref(msgs);
	json_decref(sys_merged);
	return rc;
}

/* ---- messages: delete, visibility ---- */

/* Find the in-flight message a receipt handle names. Returns 1 found with a matching
 * nonce (row id in *row, visible_at in *vis), 0 stale (gone or received again),
 * -1 after sbx_error (malformed, another queue, store). Lock held. */
static int by_receipt(struct sbx_req *r, sqlite3 *db, const struct queue *q, const char *h,
		      long long *row, long long *vis)
{
	long long qid;
	char nonce[40];
	sqlite3_stmt *st;
	int step, rc;

	if (parse_receipt(h, &qid, row, nonce, sizeof(nonce)) || qid != q->id)
		return sbx_error(r, 400, "ReceiptHandleIsInvalid",
				 "The input receipt handle \"%s\" is not a valid receipt handle.",
				 h ? h : "");
	st = stmt(r->sbx, db, ST_BY_ID);
	if (!st)
		return store_error(r, db);
	sqlite3_bind_int64(st, 1, *row);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		rc = sqlite3_column_int64(st, 0) == q->id &&
		     strcmp(text_col(st, 1), nonce) == 0;
		*vis = sqlite3_column_int64(st, 2);
	} else if (step == SQLITE_DONE) {
		rc = 0;
	} else {
		done(st);
		return store_error(r, db);
	}
	done(st);
	return rc;
}

static int delete_one(struct sbx_req *r, sqlite3 *db, const struct queue *q, const char *h)
{
	long long row, vis;
	int found = by_receipt(r, db, q, h, &row, &vis);
	sqlite3_stmt *st;
	int step;

	if (found <= 0)
		return found; /* stale handles succeed, as on AWS */
	st = stmt(r->sbx, db, ST_DELETE_ID);
	if (!st)
		return store_error(r, db);
	sqlite3_bind_int64(st, 1, row);
	step = sqlite3_step(st);
	done(st);
	return step == SQLITE_DONE ? 0 : store_error(r, db);
}

static int change_one(struct sbx_req *r, sqlite3 *db, const struct queue *q, const char *h,
		      json_t *vt_json, long long now)
{
	long long row, vis, vt;
	int found, step;
	sqlite3_stmt *st;

	if (!vt_json || (json_is_integer(vt_json) ? (vt = json_integer_value(vt_json), 0)
				: (!json_is_string(vt_json) ||
				   parse_ll(json_string_value(vt_json), &vt))) ||
	    vt < 0 || vt > 43200)
		return sbx_error(r, 400, "InvalidParameterValue",
				 "Value for parameter VisibilityTimeout is invalid. Reason: Must be "
				 ">= 0 and <= 43200.");
	found = by_receipt(r, db, q, h, &row, &vis);
	if (found < 0)
		return -1;
	if (found == 0)
		return sbx_error(r, 400, "ReceiptHandleIsInvalid",
				 "The input receipt handle \"%s\" is not a valid receipt handle.", h);
	if (vis <= now)
		return sbx_error(r, 400, "MessageNotInflight", "The message referred to isn't in flight.");
	st = stmt(r->sbx, db, ST_SET_VISIBLE);
	if (!st)
		return store_error(r, db);
	sqlite3_bind_int64(st, 1, row);
	sqlite3_bind_int64(st, 2, now + vt * 1000);
	step = sqlite3_step(st);
	done(st);
	if (step != SQLITE_DONE)
		return store_error(r, db);
	if (vt == 0)
		wake(r->sbx, q->id);
	return 0;
}

static int op_delete_message(struct sbx_req *r, json_t *in, json_t **out)
{
	sqlite3 *db = sbx_db_lock(r->sbx);
	struct queue q;
	int rc = -1;

	if (queue_from_req(r, db, in, &q) ||
	    delete_one(r, db, &q, sbx_str(in, "ReceiptHandle")))
		goto fail;
	*out = json_object();
	rc = 0;
fail:
	sbx_db_unlock(r->sbx);
	queue_cleanup(&q);
	return rc;
}

static int op_change_visibility(struct sbx_req *r, json_t *in, json_t **out)
{
	sqlite3 *db = sbx_db_lock(r->sbx);
	struct queue q;
	int rc = -1;

	if (queue_from_req(r, db, in, &q) ||
	    change_one(r, db, &q, sbx_str(in, "ReceiptHandle"),
		       json_object_get(in, "VisibilityTimeout"), sbx_now_ms()))
		goto fail;
	*out = json_object();
	rc = 0;
fail:
	sbx_db_unlock(r->sbx);
	queue_cleanup(&q);
	return rc;
}

/* DeleteMessageBatch (change 0) and ChangeMessageVisibilityBatch (change 1). */
static int batch_handles(struct sbx_req *r, json_t *in, json_t **out, int change)
{
	json_t *entries = json_object_get(in, "Entries");
	sqlite3 *db = sbx_db_lock(r->sbx);
	struct queue q;
	json_t *ok = json_array(), *bad = json_array();
	long long now = sbx_now_ms();
	size_t i;
	json_t *e;
	int rc = -1, began = 0;

	if (queue_from_req(r, db, in, &q) ||
	    check_batch(r, entries, change ? "ChangeMessageVisibilityBatchRequestEntry"
					   : "DeleteMessageBatchRequestEntry"))
		goto fail;
	if (sbx_db_exec(r->sbx, db, "BEGIN")) {
		store_error(r, db);
		goto fail;
	}
	began = 1;
	json_array_foreach(entries, i, e) {
		const char *id = sbx_str(e, "Id");
		const char *h = sbx_str(e, "ReceiptHandle");
		int erc = change ? change_one(r, db, &q, h, json_object_get(e, "VisibilityTimeout"), now)
				 : delete_one(r, db, &q, h);

		if (erc) {
			if (r->err_status >= 500)
				goto fail;
			json_array_append_new(bad, failed_entry(id, r));
			clear_error(r);
		} else {
			json_array_append_new(ok, json_pack("{s:s}", "Id", id));
		}
	}
	if (sbx_db_exec(r->sbx, db, "COMMIT")) {
		store_error(r, db);
		goto fail;
	}
	began = 0;
	*out = json_pack("{s:O,s:O}", "Successful", ok, "Failed", bad);
	rc = 0;
fail:
	if (began)
		sbx_db_exec(r->sbx, db, "ROLLBACK");
	sbx_db_unlock(r->sbx);
	queue_cleanup(&q);
	json_decref(ok);
	json_decref(bad);
	return rc;
}

static int op_delete_message_batch(struct sbx_req *r, json_t *in, json_t **out)
{
	return batch_handles(r, in, out, 0);
}

static int op_change_visibility_batch(struct sbx_req *r, json_t *in, json_t **out)
{
	return batch_handles(r, in, out, 1);
}

static const struct sbx_op sqs_ops[] = {
	{ "CreateQueue", op_create_queue },
	{ "GetQueueUrl", op_get_queue_url },
	{ "DeleteQueue", op_delete_queue },
	{ "ListQueues", op_list_queues },
	{ "ListDeadLetterSourceQueues", op_list_dlq_sources },
	{ "PurgeQueue", op_purge_queue },
	{ "GetQueueAttributes", op_get_queue_attributes },
	{ "SetQueueAttributes", op_set_queue_attributes },
	{ "TagQueue", op_tag_queue },
	{ "UntagQueue", op_untag_queue },
	{ "ListQueueTags", op_list_queue_tags },
	{ "SendMessage", op_send_message },
	{ "SendMessageBatch", op_send_message_batch },
	{ "ReceiveMessage", op_receive_message },
	{ "DeleteMessage", op_delete_message },
	{ "DeleteMessageBatch", op_delete_message_batch },
	{ "ChangeMessageVisibility", op_change_visibility },
	{ "ChangeMessageVisibilityBatch", op_change_visibility_batch },
};

const struct sbx_service sbx_svc_sqs = {
	.name = "sqs",
	.schema = sqs_schema,
	.ops = sqs_ops,
	.nops = sizeof(sqs_ops) / sizeof(sqs_ops[0]),
	.init = sqs_init,
	.shutdown = sqs_shutdown,
	.quiesce = sqs_quiesce,
	.route = NULL,
};
