/* svc_sns.c: the sandbox's SNS: topics, subscriptions, and a thread that delivers publishes. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "aws/sandbox/sandbox.h"
#include "aws/sandbox/iam_enforce.h"
#include "aws/sandbox/netguard.h"
#include "aws/sandbox/sbx_int.h"
#include "aws/sandbox/sns.h"
#include "aws/sandbox/sqs.h"
#include "aws/sandbox/wire.h"

#define SNS_MAX_MESSAGE 262144
#define SNS_MAX_BATCH 10
#define SNS_PAGE 100
#define SNS_HTTP_ATTEMPTS 8
#define SNS_EMAIL_ATTEMPTS 5
#define SNS_HTTP_TIMEOUT_MS 5000L

/* Topics, subscriptions, and the deliveries still to make (written with the Publish). */
static const char sns_schema[] =
	"CREATE TABLE IF NOT EXISTS sns_topics("
	" arn TEXT PRIMARY KEY, name TEXT NOT NULL, attrs TEXT NOT NULL DEFAULT '{}',"
	" tags TEXT NOT NULL DEFAULT '[]', deleted_subs INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS sns_subs("
	" id INTEGER PRIMARY KEY, arn TEXT NOT NULL UNIQUE, topic TEXT NOT NULL,"
	" protocol TEXT NOT NULL, endpoint TEXT NOT NULL, pending INTEGER NOT NULL,"
	" token TEXT, authenticated INTEGER NOT NULL DEFAULT 0,"
	" attrs TEXT NOT NULL DEFAULT '{}');"
	"CREATE INDEX IF NOT EXISTS sns_subs_topic ON sns_subs(topic);"
	"CREATE TABLE IF NOT EXISTS sns_deliveries("
	" id INTEGER PRIMARY KEY, sub TEXT NOT NULL, topic TEXT NOT NULL, protocol TEXT NOT NULL,"
	" endpoint TEXT NOT NULL, kind TEXT NOT NULL, message_id TEXT NOT NULL,"
	" subject TEXT, body TEXT NOT NULL, attrs TEXT, raw INTEGER NOT NULL DEFAULT 0,"
	" attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS sns_deliveries_due ON sns_deliveries(next_at);";

/* The delivery thread's state. */
struct sns_state {
	pthread_t thread;
	pthread_cond_t cond;     /* on the store mutex: new deliveries or stop */
	atomic_int stopping;
	int started;
	unsigned counter;        /* Maildir file names */
};

static struct sns_state *sns_state(struct sbx *s)
{
	return sbx_get_state(s, "sns");
}

/* ---- small helpers ---- */

static const char *text_col(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? (const char *)t : "";
}

static int store_error(struct sbx_req *r, sqlite3 *db)
{
	sbx_log(r->sbx, "ERROR", "sns: store: %s", sqlite3_errmsg(db));
	return sbx_error(r, 500, "InternalError", "The sandbox store failed: %s",
			 sqlite3_errmsg(db));
}

static int invalid(struct sbx_req *r, const char *what)
{
	return sbx_error(r, 400, "InvalidParameter", "Invalid parameter: %s", what);
}

static int topic_not_found(struct sbx_req *r)
{
	return sbx_error(r, 404, "NotFound", "Topic does not exist");
}

static int sub_not_found(struct sbx_req *r)
{
	return sbx_error(r, 404, "NotFound", "Subscription does not exist");
}

/* A boolean member given as JSON or as "true"/"false". */
static int get_bool(json_t *in, const char *name)
{
	return sbx_bool(in, name, 0);
}

static void random_hex(char *out, size_t nbytes)
{
	unsigned char b[64];
	static const char hex[] = "0123456789abcdef";

	if (nbytes > sizeof(b))
		nbytes = sizeof(b);
	if (RAND_bytes(b, (int)nbytes) != 1) {
		char u[37];

		sbx_uuid(u);
		for (size_t i = 0; i < nbytes; i++)
			b[i] = (unsigned char)(u[i % 36] * 31 + i);
	}
	for (size_t i = 0; i < nbytes; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * nbytes] = '\0';
}

/* Topic ARN check: arn:aws:sns:REGION:ACCOUNT:NAME. */
static int valid_topic_arn(const char *arn)
{
	int colons = 0;

	if (!arn || strncmp(arn, "arn:aws:sns:", 12) != 0)
		return 0;
	for (const char *p = arn; *p; p++)
		colons += *p == ':';
	return colons == 5 && arn[strlen(arn) - 1] != ':';
}

static int valid_topic_name(const char *name)
{
	size_t len = strlen(name), base = len;

	if (len > 5 && strcmp(name + len - 5, ".fifo") == 0)
		base = len - 5;
	if (len < 1 || len > 256 || base < 1)
		return 0;
	for (size_t i = 0; i < base; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

/* Does the topic exist? 1 yes, 0 no, -1 store error. Lock held. attrs_out (may be NULL)
 * receives the attributes object (new reference). */
static int topic_get(struct sbx *s, sqlite3 *db, const char *arn, json_t **attrs_out,
		     long long *deleted)
{
	sqlite3_stmt *st;
	int rc = -1, step;

	st = sbx_db_stmt(s, db, "SELECT attrs, deleted_subs FROM sns_topics WHERE arn = ?1", NULL);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		if (attrs_out) {
			*attrs_out = json_loads(text_col(st, 0), 0, NULL);
			if (!*attrs_out)
				*attrs_out = json_object();
		}
		if (deleted)
			*deleted = sqlite3_column_int64(st, 1);
		rc = 1;
	} else if (step == SQLITE_DONE) {
		rc = 0;
	}
	sbx_db_done(s, st);
	return rc;
}

/* Run one statement with text parameters (NULL binds NULL). Returns 0 or -1. */
static int exec_text(sqlite3 *db, const char *sql, int n, const char *const *params)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	for (int i = 0; i < n; i++)
		if (params[i])
			sqlite3_bind_text(st, i + 1, params[i], -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_DONE)
		rc = 0;
	sqlite3_finalize(st);
	return rc;
}

static void wake_deliveries(struct sbx *s)
{
	struct sns_state *st = sns_state(s);

	if (st)
		pthread_cond_broadcast(&st->cond);
}

/* ---- topics ---- */

static const char *const topic_settable[] = {
	"DisplayName", "Policy", "DeliveryPolicy", "KmsMasterKeyId", "TracingConfig",
	"SignatureVersion", "ContentBasedDeduplication", "FifoTopic", "DataProtectionPolicy",
	"ArchivePolicy", "FifoThroughputScope",
};

/* Validate and store one topic attribute into attrs. Returns 0 or -1 after sbx_error. */
static int topic_attr_set(struct sbx_req *r, json_t *attrs, const char *name, const char *value)
{
	size_t i, n = sizeof(topic_settable) / sizeof(topic_settable[0]);

	for (i = 0; i < n; i++)
		if (strcmp(topic_settable[i], name) == 0)
			break;
	if (i == n)
		return invalid(r, "AttributeName");
	if ((strcmp(name, "Policy") == 0 || strcmp(name, "DeliveryPolicy") == 0) && *value) {
		json_t *j = json_loads(value, 0, NULL);
		int ok = json_is_object(j);

		json_decref(j);
		if (!ok)
			return sbx_error(r, 400, "InvalidParameter",
					 "Invalid parameter: %s: failed to parse JSON.", name);
	}
	json_object_set_new(attrs, name, json_string(value));
	return 0;
}

static int op_create_topic(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *name = sbx_str(in, "Name");
	json_t *given = json_object_get(in, "Attributes");
	json_t *attrs = json_object(), *tags = json_object_get(in, "Tags");
	sqlite3 *db = NULL;
	char arn[512];
	char *attrs_text = NULL, *tags_text = NULL;
	const char *key;
	json_t *val;
	int rc = -1, found;

	if (!name || !valid_topic_name(name)) {
		sbx_error(r, 400, "InvalidParameter", "Invalid parameter: Topic Name");
		goto fail;
	}
	json_object_foreach(given, key, val) {
		if (!json_is_string(val)) {
			invalid(r, "Attributes");
			goto fail;
		}
		if (topic_attr_set(r, attrs, key, json_string_value(val)))
			goto fail;
	}
	snprintf(arn, sizeof(arn), "arn:aws:sns:%s:%s:%s", r->region, SBX_ACCOUNT, name);
	db = sbx_db_lock(r->sbx);
	found = topic_get(r->sbx, db, arn, NULL, NULL);
	if (found < 0) {
		store_error(r, db);
		goto fail;
	}
	if (!found) {
		attrs_text = json_dumps(attrs, JSON_COMPACT);
		tags_text = json_is_array(tags) ? json_dumps(tags, JSON_COMPACT) : strdup("[]");
		const char *p[] = { arn, name, attrs_text, tags_text };

		if (!attrs_text || !tags_text ||
		    exec_text(db, "INSERT INTO sns_topics(arn, name, attrs, tags)"
				  " VALUES(?1, ?2, ?3, ?4)", 4, p)) {
			store_error(r, db);
			goto fail;
		}
	}
	*out = json_pack("{s:s}", "TopicArn", arn);
	rc = 0;
fail:
	if (db)
		sbx_db_unlock(r->sbx);
	json_decref(attrs);
	free(attrs_text);
	free(tags_text);
	return rc;
}

static int op_delete_topic(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *arn = sbx_str(in, "TopicArn");
	sqlite3 *db;
	const char *p[1];
	int rc = -1;

	if (!valid_topic_arn(arn))
		return invalid(r, "TopicArn");
	p[0] = arn;
	db = sbx_db_lock(r->sbx);
	if (sbx_db_exec(r->sbx, db, "BEGIN") ||
	    exec_text(db, "DELETE FROM sns_subs WHERE topic = ?1", 1, p) ||
	    exec_text(db, "DELETE FROM sns_topics WHERE arn = ?1", 1, p) ||
	    sbx_db_exec(r->sbx, db, "COMMIT")) {
		store_error(r, db);
		sbx_db_exec(r->sbx, db, "ROLLBACK");
		goto fail;
	}
	*out = json_object();
	rc = 0;
fail:
	sbx_db_unlock(r->sbx);
	return rc;
}

static int op_list_topics(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *token = sbx_str(in, "NextToken");
	sqlite3 *db = sbx_db_lock(r->sbx);
	sqlite3_stmt *st = NULL;
	json_t *topics = json_array();
	int rc = -1, n = 0, step;
	char last[512] = "";

	*out = NULL;
	if (sqlite3_prepare_v2(db, "SELECT arn FROM sns_topics WHERE arn > ?1 ORDER BY arn LIMIT ?2",
			       -1, &st, NULL) != SQLITE_OK) {
		store_error(r, db);
		goto fail;
	}
	sqlite3_bind_text(st, 1, token ? token : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, SNS_PAGE + 1);
	*out = json_object();
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == SNS_PAGE) {
			json_object_set_new(*out, "NextToken", json_string(last));
			break;
		}
		snprintf(last, sizeof(last), "%s", text_col(st, 0));
		json_array_append_new(topics, json_pack("{s:s}", "TopicArn", last));
		n++;
	}
	json_object_set(*out, "Topics", topics);
	rc = 0;
fail:
	sqlite3_finalize(st);
	sbx_db_unlock(r->sbx);
	json_decref(topics);
	return rc;
}

/* Subscription counts of a topic: confirmed, pending. Lock held. */
static int sub_counts(sqlite3 *db, const char *topic, long long *confirmed, long long *pending)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(db, "SELECT COALESCE(SUM(pending = 0), 0), COALESCE(SUM(pending), 0)"
			       " FROM sns_subs WHERE topic = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, topic, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			*confirmed = sqlite3_column_int64(st, 0);
			*pending = sqlite3_column_int64(st, 1);
			rc = 0;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

static void set_num(json_t *o, const char *key, long long v)
{
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "%lld", v);
	json_object_set_new(o, key, json_string(tmp));
}

static char *default_policy(const char *arn)
{
	json_t *p = json_pack(
		"{s:s,s:s,s:[{s:s,s:s,s:{s:s},s:[s,s,s,s,s,s,s,s],s:s,s:{s:{s:s}}}]}",
		"Version", "2008-10-17", "Id", "__default_policy_ID", "Statement",
		"Sid", "__default_statement_ID", "Effect", "Allow", "Principal", "AWS", "*",
		"Action", "SNS:GetTopicAttributes", "SNS:SetTopicAttributes",
		"SNS:AddPermission", "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
		"SNS:ListSubscriptionsByTopic", "SNS:Publish",
		"Resource", arn, "Condition", "StringEquals", "AWS:SourceOwner", SBX_ACCOUNT);
	char *text = p ? json_dumps(p, JSON_COMPACT) : NULL;

	json_decref(p);
	return text;
}

static int op_get_topic_attributes(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *arn = sbx_str(in, "TopicArn");
	sqlite3 *db;
	json_t *attrs = NULL, *res;
	long long deleted = 0, confirmed = 0, pending = 0;
	int found, rc = -1;

	if (!valid_topic_arn(arn))
		return invalid(r, "TopicArn");
	db = sbx_db_lock(r->sbx);
	found = topic_get(r->sbx, db, arn, &attrs, &deleted);
	if (found < 0 || (found && sub_counts(db, arn, &confirmed, &pending))) {
		store_error(r, db);
		goto fail;
	}
	if (!found) {
		topic_not_found(r);
		goto fail;
	}
	res = json_object();
	json_object_set_new(res, "TopicArn", json_string(arn));
	json_object_set_new(res, "Owner", json_string(SBX_ACCOUNT));
	json_object_set_new(res, "DisplayName", json_string(""));
	if (!json_object_get(attrs, "Policy")) {
		char *pol = default_policy(arn);

		json_object_set_new(res, "Policy", json_string(pol ? pol : "{}"));
		free(pol);
	}
	set_num(res, "SubscriptionsConfirmed", confirmed);
	set_num(res, "SubscriptionsPending", pending);
	set_num(res, "SubscriptionsDeleted", deleted);
	json_object_set_new(res, "EffectiveDeliveryPolicy",
			    json_string("{\"http\":{\"defaultHealthyRetryPolicy\":{\"minDelayTarget\":"
					"20,\"maxDelayTarget\":20,\"numRetries\":3,"
					"\"numMaxDelayRetries\":0,\"numNoDelayRetries\":0,"
					"\"numMinDelayRetries\":0,\"backoffFunction\":\"linear\"},"
					"\"disableSubscriptionOverrides\":false}}"));
	json_object_update(res, attrs);
	*out = json_pack("{s:o}", "Attributes", res);
	rc = 0;
fail:
	sbx_db_unlock(r->sbx);
	json_decref(attrs);
	return rc;
}

static int op_set_topic_attributes(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *arn = sbx_str(in, "TopicArn");
	const char *name = sbx_str(in, "AttributeName");
	const char *value = sbx_str(in, "AttributeValue");
	sqlite3 *db;
	json_t *attrs = NULL;
	char *text = NULL;
	int found, rc = -1;

	if (!valid_topic_arn(arn))
		return invalid(r, "TopicArn");
	if (!name)
		return invalid(r, "AttributeName");
	db = sbx_db_lock(r->sbx);
	found = topic_get(r->sbx, db, arn, &attrs, NULL);
	if (found < 0) {
		store_error(r, db);
		goto fail;
	}
	if (!found) {
		topic_not_found(r);
		goto fail;
	}
	if (topic_attr_set(r, attrs, name, value ? value : ""))
		goto fail;
	text = json_dumps(attrs, JSON_COMPACT);
	{
		const char *p[] = { arn, text };

		if (!text || exec_text(db, "UPDATE sns_topics SET attrs = ?2 WHERE arn = ?1", 2, p)) {
			store_error(r, db);
			goto fail;
		}
	}
	*out = json_object();
	rc = 0;
fail:
	sbx_db_unlock(r->sbx);
	json_decref(attrs);
	free(text);
	return rc;
}

/* ---- subscriptions ---- */

struct sub {
	long long id;
	char arn[600];
	char topic[512];
	char protocol[16];
	char *endpoint;
	int pending, authenticated;
	char token[130];
	json_t *attrs;
};

static void sub_cleanup(struct sub *u)
{
	free(u->endpoint);
	u->endpoint = NULL;
	json_decref(u->attrs);
	u->attrs = NULL;
}

static void sub_read(sqlite3_stmt *st, struct sub *u)
{
	u->id = sqlite3_column_int64(st, 0);
	snprintf(u->arn, sizeof(u->arn), "%s", text_col(st, 1));
	snprintf(u->topic, sizeof(u->topic), "%s", text_col(st, 2));
	snprintf(u->protocol, sizeof(u->protocol), "%s", text_col(st, 3));
	u->endpoint = strdup(text_col(st, 4));
	u->pending = sqlite3_column_int(st, 5);
	snprintf(u->token, sizeof(u->token), "%s", text_col(st, 6));
	u->authenticated = sqlite3_column_int(st, 7);
	u->attrs = json_loads(text_col(st, 8), 0, NULL);
	if (!u->attrs)
		u->attrs = json_object();
}

#define SUB_COLS "id, arn, topic, protocol, endpoint, pending, token, authenticated, attrs"

/* Load a subscription by a WHERE clause with one text parameter. 1 / 0 / -1. */
static int sub_load(sqlite3 *db, const char *where, const char *param, const char *param2,
		    struct sub *u)
{
	sqlite3_stmt *st = NULL;
	char sql[256];
	int rc = -1, step;

	memset(u, 0, sizeof(*u));
	snprintf(sql, sizeof(sql), "SELECT " SUB_COLS " FROM sns_subs WHERE %s", where);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
	if (param2)
		sqlite3_bind_text(st, 2, param2, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		sub_read(st, u);
		rc = 1;
	} else if (step == SQLITE_DONE) {
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

static const char *const sub_settable[] = {
	"RawMessageDelivery", "FilterPolicy", "FilterPolicyScope", "RedrivePolicy",
	"DeliveryPolicy", "SubscriptionRoleArn", "ReplayPolicy",
};

static int sub_attr_set(struct sbx_req *r, json_t *attrs, const char *name, const char *value)
{
	size_t i, n = sizeof(sub_settable) / sizeof(sub_settable[0]);

	for (i = 0; i < n; i++)
		if (strcmp(sub_settable[i], name) == 0)
			break;
	if (i == n)
		return invalid(r, "AttributeName");
	if (strcmp(name, "RawMessageDelivery") == 0) {
		if (strcasecmp(value, "true") != 0 && strcasecmp(value, "false") != 0)
			return invalid(r, "Attributes Reason: RawMessageDelivery: Invalid value "
					  "[not a boolean]. Must be true or false.");
		json_object_set_new(attrs, name,
				    json_string(strcasecmp(value, "true") == 0 ? "true" : "false"));
		return 0;
	}
	if ((strcmp(name, "FilterPolicy") == 0 || strcmp(name, "RedrivePolicy") == 0 ||
	     strcmp(name, "DeliveryPolicy") == 0) && *value) {
		json_t *j = json_loads(value, 0, NULL);
		int ok = json_is_object(j);

		json_decref(j);
		if (!ok)
			return sbx_error(r, 400, "InvalidParameter",
					 "Invalid parameter: %s: failed to parse JSON.", name);
	}
	if (*value)
		json_object_set_new(attrs, name, json_string(value));
	else
		json_object_del(attrs, name);
	return 0;
}

/* URL-escape text into out (appends). Returns 0 or -1. */
static int add_escaped(struct aws_buf *out, const char *text)
{
	char *e = curl_easy_escape(NULL, text, 0);
	int rc = e ? aws_buf_adds(out, e) : -1;

	curl_free(e);
	return rc;
}

static int confirm_link(struct sbx *s, const char *topic, const char *token, struct aws_buf *out)
{
	if (aws_buf_printf(out, "%s/sns/confirm?TopicArn=", sbx_endpoint(s)) ||
	    add_escaped(out, topic) || aws_buf_adds(out, "&Token=") || add_escaped(out, token))
		return -1;
	return 0;
}

static int unsubscribe_link(struct sbx *s, const char *sub_arn, struct aws_buf *out)
{
	if (aws_buf_printf(out, "%s/sns/unsubscribe?SubscriptionArn=", sbx_endpoint(s)) ||
	    add_escaped(out, sub_arn))
		return -1;
	return 0;
}

/* Queue one delivery row (lock held). Returns 0 or -1. */
static int enqueue_delivery(struct sbx *s, sqlite3 *db, const struct sub *u, const char *kind,
			    const char *message_id, const char *subject, const char *body,
			    const char *attrs, int raw)
{
	sqlite3_stmt *st;
	int rc = -1;

	st = sbx_db_stmt(s, db, "INSERT INTO sns_deliveries(sub, topic, protocol, endpoint, kind,"
			 " message_id, subject, body, attrs, raw, next_at)"
			 " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)", NULL);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, u->arn, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, u->topic, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, u->protocol, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, u->endpoint, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, message_id, -1, SQLITE_STATIC);
	if (subject)
		sqlite3_bind_text(st, 7, subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, body, -1, SQLITE_STATIC);
	if (attrs)
		sqlite3_bind_text(st, 9, attrs, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 10, raw);
	sqlite3_bind_int64(st, 11, sbx_now_ms());
	if (sqlite3_step(st) == SQLITE_DONE)
		rc = 0;
	sbx_db_done(s, st);
	return rc;
}

/* The confirmation request of a pending subscription (lock held). */
static int enqueue_confirmation(struct sbx *s, sqlite3 *db, const struct sub *u)
{
	struct aws_buf link = { 0 }, body = { 0 };
	char mid[37], ts[32];
	json_t *env = NULL;
	char *text = NULL;
	int rc = -1;

	sbx_uuid(mid);
	if (confirm_link(s, u->topic, u->token, &link))
		goto fail;
	if (strncmp(u->protocol, "email", 5) == 0) {
		if (aws_buf_printf(&body, "You have chosen to subscribe to the topic:\n%s\n\n"
				   "To confirm this subscription, click or visit the link below "
				   "(If this was in error no action is necessary):\n%s\n",
				   u->topic, aws_buf_str(&link)))
			goto fail;
		rc = enqueue_delivery(s, db, u, "SubscriptionConfirmation", mid,
				      "AWS Notification - Subscription Confirmation",
				      aws_buf_str(&body), NULL, 0);
		goto fail;
	}
	sbx_iso_time(sbx_now_ms(), ts);
	aws_buf_printf(&body, "You have chosen to subscribe to the topic %s.\nTo confirm the "
		       "subscription, visit the SubscribeURL included in this message.", u->topic);
	env = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
			"Type", "SubscriptionConfirmation", "MessageId", mid, "Token", u->token,
			"TopicArn", u->topic, "Message", aws_buf_str(&body),
			"SubscribeURL", aws_buf_str(&link), "Timestamp", ts,
			"SignatureVersion", "1", "Signature", "c2FuZGJveA==",
			"SigningCertURL", "http://127.0.0.1/sns/SimpleNotificationService.pem");
	text = env ? json_dumps(env, JSON_COMPACT) : NULL;
	if (text)
		rc = enqueue_delivery(s, db, u, "SubscriptionConfirmation", mid, NULL, text, NULL, 0);
fail:
	aws_buf_cleanup(&link);
	aws_buf_cleanup(&body);
	json_decref(env);
	free(text);
	return rc;
}

static int valid_endpoint(const char *protocol, const char *endpoint)
{
	if (strcmp(protocol, "sqs") == 0)
		return strncmp(endpoint, "arn:aws:sqs:", 12) == 0;
	if (strcmp(protocol, "http") == 0)
		return strncasecmp(endpoint, "http://", 7) == 0;
	if (strcmp(protocol, "https") == 0)
		return strncasecmp(endpoint, "https://", 8) == 0;
	if (strcmp(protocol, "email") == 0 || strcmp(protocol, "email-json") == 0)
		return strchr(endpoint, '@') != NULL && !strpbrk(endpoint, "\r\n<>");
	if (strcmp(protocol, "lambda") == 0)
		return strncmp(endpoint, "arn:aws:lambda:", 15) == 0;
	return -1;
}

static int op_subscribe(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *topic = sbx_str(in, "TopicArn");
	const char *protocol = sbx_str(in, "Protocol");
	const char *endpoint = sbx_str(in, "Endpoint");
	json_t *given = json_object_get(in, "Attributes");
	int return_arn = get_bool(in, "ReturnSubscriptionArn");
	sqlite3 *db = NULL;
	struct sub u;
	char *attrs_text = NULL;
	const char *key;
	json_t *val;
	int found, rc = -1, ok, began = 0;

	memset(&u, 0, sizeof(u));
	if (!valid_topic_arn(topic))
		return invalid(r, "TopicArn");
	if (!protocol)
		return invalid(r, "Protocol");
	if (!endpoint)
		return invalid(r, "Endpoint");
	ok = valid_endpoint(protocol, endpoint);
	if (ok < 0)
		return sbx_error(r, 400, "InvalidParameter",
				 "Invalid parameter: Amazon SNS does not support this protocol string: %s",
				 protocol);
	if (!ok)
		return sbx_error(r, 400, "InvalidParameter",
				 "Invalid parameter: Endpoint Reason: %s endpoint is not valid", protocol);
	db = sbx_db_lock(r->sbx);
	found = topic_get(r->sbx, db, topic, NULL, NULL);
	if (found < 0) {
		store_error(r, db);
		goto fail;
	}
	if (!found) {
		topic_not_found(r);
		goto fail;
	}
	{
		sqlite3_stmt *st = NULL;

		/* idempotent: the same topic, protocol and endpoint is the same subscription */
		if (sqlite3_prepare_v2(db, "SELECT " SUB_COLS " FROM sns_subs WHERE topic = ?1"
				       " AND protocol = ?2 AND endpoint = ?3", -1, &st, NULL)) {
			store_error(r, db);
			goto fail;
		}
		sqlite3_bind_text(st, 1, topic, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, protocol, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, endpoint, -1, SQLITE_STATIC);
		found = sqlite3_step(st) == SQLITE_ROW;
		if (found)
			sub_read(st, &u);
		sqlite3_finalize(st);
	}
	if (!found) {
		char id[37];
		int is_email = strncmp(protocol, "email", 5) == 0;
		int is_http = strncmp(protocol, "http", 4) == 0;

		sbx_uuid(id);
		snprintf(u.arn, sizeof(u.arn), "%s:%s", topic, id);
		snprintf(u.topic, sizeof(u.topic), "%s", topic);
		snprintf(u.protocol, sizeof(u.protocol), "%s", protocol);
		u.endpoint = strdup(endpoint);
		u.attrs = json_object();
		u.pending = is_email || is_http;
		if (u.pending)
			random_hex(u.token, 64);
		json_object_foreach(given, key, val) {
			if (!json_is_string(val)) {
				invalid(r, "Attributes");
				goto fail;
			}
			if (sub_attr_set(r, u.attrs, key, json_string_value(val)))
				goto fail;
		}
		attrs_text = json_dumps(u.attrs, JSON_COMPACT);
		if (!u.endpoint || !attrs_text)
			goto nomem;
		{
			sqlite3_stmt *st = NULL;
			int step;

			if (sbx_db_exec(r->sbx, db, "BEGIN")) {
				store_error(r, db);
				goto fail;
			}
			began = 1;
			if (sqlite3_prepare_v2(db, "INSERT INTO sns_subs(arn, topic, protocol, endpoint,"
					       " pending, token, attrs) VALUES(?1,?2,?3,?4,?5,?6,?7)",
					       -1, &st, NULL)) {
				store_error(r, db);
				goto fail;
			}
			sqlite3_bind_text(st, 1, u.arn, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, topic, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, protocol, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 4, endpoint, -1, SQLITE_STATIC);
			sqlite3_bind_int(st, 5, u.pending);
			if (u.pending)
				sqlite3_bind_text(st, 6, u.token, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 7, attrs_text, -1, SQLITE_STATIC);
			step = sqlite3_step(st);
			sqlite3_finalize(st);
			if (step != SQLITE_DONE ||
			    (u.pending && enqueue_confirmation(r->sbx, db, &u)) ||
			    sbx_db_exec(r->sbx, db, "COMMIT")) {
				store_error(r, db);
				goto fail;
			}
			began = 0;
		}
		if (u.pending)
			wake_deliveries(r->sbx);
	}
	*out = json_pack("{s:s}", "SubscriptionArn",
			 u.pending && !return_arn ? "pending confirmation" : u.arn);
	rc = 0;
	goto fail;
nomem:
	sbx_error(r, 500, "InternalError", "out of memory");
fail:
	if (began)
		sbx_db_exec(r->sbx, db, "ROLLBACK");
	if (db)
		sbx_db_unlock(r->sbx);
	sub_cleanup(&u);
	free(attrs_text);
	return rc;
}

/* Confirm the subscription of topic with token (lock held). Returns 1 confirmed (arn
 * copied to arn_out), 0 unknown token, -1 store error. */
static int confirm(sqlite3 *db, const char *topic, const char *token, int authenticated,
		   char *arn_out, size_t n)
{
	struct sub u;
	int found = sub_load(db, "topic = ?1 AND token = ?2", topic, token, &u);
	char auth[2] = { authenticated ? '1' : '0', '\0' };
	const char *p[] = { u.arn, auth };

	if (found <= 0) {
		sub_cleanup(&u);
		return found;
	}
	snprintf(arn_out, n, "%s", u.arn);
	if (u.pending && exec_text(db, "UPDATE sns_subs SET pending = 0, authenticated = ?2"
				       " WHERE arn = ?1", 2, p)) {
		sub_cleanup(&u);
		return -1;
	}
	sub_cleanup(&u);
	return 1;
}

static int op_confirm_subscription(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *topic = sbx_str(in, "TopicArn");
	const char *token = sbx_str(in, "Token");
	sqlite3 *db;
	char arn[600];
	int found;

	if (!valid_topic_arn(topic))
		return invalid(r, "TopicArn");
	if (!token || !*token)
		return invalid(r, "Token");
	db = sbx_db_lock(r->sbx);
	found = topic_get(r->sbx, db, topic, NULL, NULL);
	if (found > 0)
		found = confirm(db, topic, token, 1, arn, sizeof(arn)) > 0 ? 2 : 1;
	if (found < 0)
		store_error(r, db);
	sbx_db_unlock(r->sbx);
	if (found < 0)
		return -1;
	if (found == 0)
		return topic_not_found(r);
	if (found == 1)
		return invalid(r, "Token");
	*out = json_pack("{s:s}", "SubscriptionArn", arn);
	return 0;
}

/* Delete a subscription by ARN (lock held). Returns 1 deleted, 0 none, -1 error. */
static int unsubscribe(sqlite3 *db, const char *arn)
{
	struct sub u;
	int found = sub_load(db, "arn = ?1", arn, NULL, &u);
	const char *p1[] = { arn };
	const char *p2[] = { u.topic };

	if (found > 0 && (exec_text(db, "DELETE FROM sns_subs WHERE arn = ?1", 1, p1) ||
			  exec_text(db, "UPDATE sns_topics SET deleted_subs = deleted_subs + 1"
					" WHERE arn = ?1", 1, p2)))
		found = -1;
	sub_cleanup(&u);
	return found;
}

static int op_unsubscribe(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *arn = sbx_str(in, "SubscriptionArn");
	sqlite3 *db;
	int rc;

	if (!arn || strncmp(arn, "arn:aws:sns:", 12) != 0)
		return invalid(r, "SubscriptionArn");
	db = sbx_db_lock(r->sbx);
	rc = unsubscribe(db, arn);
	if (rc < 0)
		store_error(r, db);
	sbx_db_unlock(r->sbx);
	if (rc < 0)
		return -1;
	*out = json_object();
	return 0;
}

static int list_subs(struct sbx_req *r, json_t *in, json_t **out, const char *topic)
{
	const char *token = sbx_str(in, "NextToken");
	long long after = 0;
	sqlite3 *db = sbx_db_lock(r->sbx);
	sqlite3_stmt *st = NULL;
	json_t *subs = json_array();
	int rc = -1, n = 0, step;

	if (token && *token) {
		char *end;

		errno = 0;
		after = strtoll(token, &end, 10);
		if (errno || *end || after < 0) {
			invalid(r, "NextToken");
			goto fail;
		}
	}
	if (topic) {
		int found = topic_get(r->sbx, db, topic, NULL, NULL);

		if (found <= 0) {
			if (found < 0)
				store_error(r, db);
			else
				topic_not_found(r);
			goto fail;
		}
	}
	if (sqlite3_prepare_v2(db, "SELECT " SUB_COLS " FROM sns_subs WHERE id > ?1"
			       " AND (?2 IS NULL OR topic = ?2) ORDER BY id LIMIT ?3",
			       -1, &st, NULL) != SQLITE_OK) {
		store_error(r, db);
		goto fail;
	}
	sqlite3_bind_int64(st, 1, after);
	if (topic)
		sqlite3_bind_text(st, 2, topic, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, SNS_PAGE + 1);
	*out = json_object();
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct sub u;

		if (n == SNS_PAGE) {
			char tok[32];

			snprintf(tok, sizeof(tok), "%lld", after);
			json_object_set_new(*out, "NextToken", json_string(tok));
			break;
		}
		sub_read(st, &u);
		after = u.id;
		json_array_append_new(subs, json_pack("{s:s,s:s,s:s,s:s,s:s}",
			"SubscriptionArn", u.pending ? "PendingConfirmation" : u.arn,
			"Owner", SBX_ACCOUNT, "Protocol", u.protocol,
			"Endpoint", u.endpoint ? u.endpoint : "", "TopicArn", u.topic));
		sub_cleanup(&u);
		n++;
	}
	json_object_set(*out, "Subscriptions", subs);
	rc = 0;
fail:
	sqlite3_finalize(st);
	sbx_db_unlock(r->sbx);
	json_decref(subs);
	return rc;
}

static int op_list_subscriptions(struct sbx_req *r, json_t *in, json_t **out)
{
	return list_subs(r, in, out, NULL);
}

static int op_list_subscriptions_by_topic(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *topic = sbx_str(in, "TopicArn");

	if (!valid_topic_arn(topic))
		return invalid(r, "TopicArn");
	return list_subs(r, in, out, topic);
}

static int op_get_subscription_attributes(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *arn = sbx_str(in, "SubscriptionArn");
	sqlite3 *db;
	struct sub u;
	json_t *res;
	int found;

	if (!arn || strncmp(arn, "arn:aws:sns:", 12) != 0)
		return invalid(r, "SubscriptionArn");
	db = sbx_db_lock(r->sbx);
	found = sub_load(db, "arn = ?1", arn, NULL, &u);
	sbx_db_unlock(r->sbx);
	if (found <= 0) {
		sub_cleanup(&u);
		return found < 0 ? sbx_error(r, 500, "InternalError", "The sandbox store failed.")
				 : sub_not_found(r);
	}
	res = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
			"SubscriptionArn", u.arn, "TopicArn", u.topic, "Owner", SBX_ACCOUNT,
			"Protocol", u.protocol, "Endpoint", u.endpoint ? u.endpoint : "",
			"PendingConfirmation", u.pending ? "true" : "false",
			"ConfirmationWasAuthenticated", u.authenticated ? "true" : "false",
			"RawMessageDelivery", "false", "SubscriptionPrincipal",
			"arn:aws:iam::" SBX_ACCOUNT ":user/sandbox");
	json_object_update(res, u.attrs);
	sub_cleanup(&u);
	*out = json_pack("{s:o}", "Attributes", res);
	return 0;
}

static int op_set_subscription_attributes(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *arn = sbx_str(in, "SubscriptionArn");
	const char *name = sbx_str(in, "AttributeName");
	const char *value = sbx_str(in, "AttributeValue");
	sqlite3 *db;
	struct sub u;
	char *text = NULL;
	int found, rc = -1;

	if (!arn || strncmp(arn, "arn:aws:sns:", 12) != 0)
		return invalid(r, "SubscriptionArn");
	if (!name)
		return invalid(r, "AttributeName");
	db = sbx_db_lock(r->sbx);
	found = sub_load(db, "arn = ?1", arn, NULL, &u);
	if (found < 0) {
		store_error(r, db);
		goto fail;
	}
	if (!found) {
		sub_not_found(r);
		goto fail;
	}
	if (sub_attr_set(r, u.attrs, name, value ? value : ""))
		goto fail;
	text = json_dumps(u.attrs, JSON_COMPACT);
	{
		const char *p[] = { arn, text };

		if (!text || exec_text(db, "UPDATE sns_subs SET attrs = ?2 WHERE arn = ?1", 2, p)) {
			store_error(r, db);
			goto fail;
		}
	}
	*out = json_object();
	rc = 0;
fail:
	sbx_db_unlock(r->sbx);
	sub_cleanup(&u);
	free(text);
	return rc;
}

/* ---- tags ---- */

static int tags_op(struct sbx_req *r, json_t *in, json_t **out, int mode)
{
	const char *arn = sbx_str(in, "ResourceArn");
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	json_t *tags = NULL;
	char *text = NULL;
	int rc = -1, step;

	if (!valid_topic_arn(arn))
		return invalid(r, "ResourceArn");
	db = sbx_db_lock(r->sbx);
	if (sqlite3_prepare_v2(db, "SELECT tags FROM sns_topics WHERE arn = ?1", -1, &st, NULL)) {
		store_error(r, db);
		goto fail;
	}
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_DONE) {
		sbx_error(r, 404, "ResourceNotFound", "Resource does not exist");
		goto fail;
	}
	if (step != SQLITE_ROW) {
		store_error(r, db);
		goto fail;
	}
	tags = json_loads(text_col(st, 0), 0, NULL);
	if (!json_is_array(tags)) {
		json_decref(tags);
		tags = json_array();
	}
	if (mode == 0) {
		*out = json_pack("{s:O}", "Tags", tags);
		rc = 0;
		goto fail;
	}
	{
		json_t *list = json_object_get(in, mode == 1 ? "Tags" : "TagKeys");
		size_t i, j;
		json_t *v;

		json_array_foreach(list, i, v) {
			const char *k = mode == 1 ? sbx_str(v, "Key") : json_string_value(v);

			if (!k)
				continue;
			for (j = 0; j < json_array_size(tags); j++)
				if (strcmp(sbx_str(json_array_get(tags, j), "Key"), k) == 0) {
					json_array_remove(tags, j);
					break;
				}
			if (mode == 1)
				json_array_append_new(tags, json_pack("{s:s,s:s}", "Key", k, "Value",
						      sbx_str(v, "Value") ? sbx_str(v, "Value") : ""));
		}
	}
	text = json_dumps(tags, JSON_COMPACT);
	{
		const char *p[] = { arn, text };

		if (!text || exec_text(db, "UPDATE sns_topics SET tags = ?2 WHERE arn = ?1", 2, p)) {
			store_error(r, db);
			goto fail;
		}
	}
	*out = json_object();
	rc = 0;
fail:
	sqlite3_finalize(st);
	sbx_db_unlock(r->sbx);
	json_decref(tags);
	free(text);
	return rc;
}

static int op_tag_resource(struct sbx_req *r, json_t *in, json_t **out)
{
	return tags_op(r, in, out, 1);
}

static int op_untag_resource(struct sbx_req *r, json_t *in, json_t **out)
{
	return tags_op(r, in, out, -1);
}

static int op_list_tags(struct sbx_req *r, json_t *in, json_t **out)
{
	return tags_op(r, in, out, 0);
}

/* ---- publish ---- */

/* Validate MessageAttributes; returns the envelope form {"k":{"Type","Value"}} (new
 * reference, NULL when there are none) through *env. Returns 0 or -1 after sbx_error. */
static int check_attrs(struct sbx_req *r, json_t *attrs, json_t **env)
{
	const char *key;
	json_t *val;

	*env = NULL;
	if (!attrs || json_is_null(attrs) || json_object_size(attrs) == 0)
		return 0;
	if (!json_is_object(attrs))
		return invalid(r, "MessageAttributes");
	*env = json_object();
	json_object_foreach(attrs, key, val) {
		const char *type = sbx_str(val, "DataType");
		const char *sv = sbx_str(val, "StringValue");
		const char *bv = sbx_str(val, "BinaryValue");

		if (!type || !*type) {
			json_decref(*env);
			*env = NULL;
			return sbx_error(r, 400, "ParameterValueInvalid",
					 "The message attribute '%s' must contain non-empty message "
					 "attribute type.", key);
		}
		if (strncmp(type, "Binary", 6) == 0 ? !bv : !sv) {
			json_decref(*env);
			*env = NULL;
			return sbx_error(r, 400, "ParameterValueInvalid",
					 "The message attribute '%s' must contain non-empty message "
					 "attribute value for message attribute type '%s'.", key, type);
		}
		json_object_set_new(*env, key, json_pack("{s:s,s:s}", "Type", type, "Value",
							  strncmp(type, "Binary", 6) == 0 ? bv : sv));
	}
	return 0;
}

/* The standard notification envelope (caller frees). */
static char *envelope(struct sbx *s, const char *mid, const char *topic, const char *sub_arn,
		      const char *subject, const char *message, json_t *env_attrs)
{
	char ts[32];
	struct aws_buf unsub = { 0 };
	json_t *e;
	char *text = NULL;
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	char sig[128];

	sbx_iso_time(sbx_now_ms(), ts);
	if (unsubscribe_link(s, sub_arn, &unsub))
		return NULL;
	EVP_Digest(message, strlen(message), digest, &dl, EVP_sha256(), NULL);
	EVP_EncodeBlock((unsigned char *)sig, digest, (int)dl);
	e = json_pack("{s:s,s:s,s:s}", "Type", "Notification", "MessageId", mid, "TopicArn", topic);
	if (e && subject)
		json_object_set_new(e, "Subject", json_string(subject));
	if (e) {
		json_object_set_new(e, "Message", json_string(message));
		json_object_set_new(e, "Timestamp", json_string(ts));
		json_object_set_new(e, "SignatureVersion", json_string("1"));
		json_object_set_new(e, "Signature", json_string(sig));
		json_object_set_new(e, "SigningCertURL",
				    json_string("http://127.0.0.1/sns/SimpleNotificationService.pem"));
		json_object_set_new(e, "UnsubscribeURL", json_string(aws_buf_str(&unsub)));
		if (env_attrs)
			json_object_set(e, "MessageAttributes", env_attrs);
		text = json_dumps(e, JSON_COMPACT);
	}
	json_decref(e);
	aws_buf_cleanup(&unsub);
	return text;
}

/* One message to publish, checked (Publish, or one PublishBatch entry). */
struct pub {
	const char *message, *subject;  /* borrowed from the input */
	json_t *per_proto;              /* MessageStructure=json: the parsed body, or NULL */
	json_t *env_attrs;              /* the envelope's MessageAttributes, or NULL */
	char *attrs_text;               /* raw deliveries' attributes (JSON text), or NULL */
};

static void pub_cleanup(struct pub *p)
{
	json_decref(p->per_proto);
	json_decref(p->env_attrs);
	free(p->attrs_text);
	memset(p, 0, sizeof(*p));
}

/* Check Message, Subject, MessageStructure and MessageAttributes of in into *p (cleaned
 * with pub_cleanup either way). Returns 0, or -1 after sbx_error. */
static int pub_check(struct sbx_req *r, json_t *in, struct pub *p)
{
	const char *structure = sbx_str(in, "MessageStructure");
	json_t *attrs = json_object_get(in, "MessageAttributes");

	memset(p, 0, sizeof(*p));
	p->message = sbx_str(in, "Message");
	p->subject = sbx_str(in, "Subject");
	if (!p->message || !*p->message)
		return invalid(r, "Empty message");
	if (strlen(p->message) > SNS_MAX_MESSAGE)
		return invalid(r, "Message too long");
	if (p->subject) {
		size_t len = strlen(p->subject);

		if (!len || len >= 100)
			return invalid(r, "Subject");
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)p->subject[i] < 32 || p->subject[i] == 127)
				return invalid(r, "Subject");
	}
	if (structure && *structure) {
		if (strcmp(structure, "json") != 0)
			return invalid(r, "MessageStructure");
		p->per_proto = json_loads(p->message, 0, NULL);
		if (!json_is_object(p->per_proto))
			return invalid(r, "Message Structure - JSON message body failed to parse");
		if (!json_is_string(json_object_get(p->per_proto, "default")))
			return invalid(r, "Message Structure - No default entry in JSON message body");
	}
	if (check_attrs(r, attrs, &p->env_attrs))
		return -1;
	if (p->env_attrs && !(p->attrs_text = json_dumps(attrs, JSON_COMPACT)))
		return sbx_error(r, 500, "InternalError", "out of memory");
	return 0;
}

/* Queue p's deliveries (message id mid) to every confirmed subscription of topic, inside
 * the caller's open transaction (store lock held). *any becomes 1 when a delivery was
 * queued. Returns 0, or -1 after sbx_error. */
static int pub_enqueue(struct sbx_req *r, sqlite3 *db, const char *topic, const struct pub *p,
		       const char *mid, int *any)
{
	sqlite3_stmt *st;
	int step, rc = -1;

	st = sbx_db_stmt(r->sbx, db, "SELECT " SUB_COLS " FROM sns_subs WHERE topic = ?1"
			 " AND pending = 0 ORDER BY id", NULL);
	if (!st)
		return store_error(r, db);
	sqlite3_bind_text(st, 1, topic, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct sub u;
		const char *text = p->message;
		int raw, ok;
		char *body = NULL;

		sub_read(st, &u);
		if (p->per_proto) {
			json_t *v = json_object_get(p->per_proto, u.protocol);

			text = json_is_string(v) ? json_string_value(v)
						 : json_string_value(json_object_get(p->per_proto,
										     "default"));
		}
		raw = strcmp(sbx_str(u.attrs, "RawMessageDelivery") ?
			     sbx_str(u.attrs, "RawMessageDelivery") : "false", "true") == 0 &&
		      (strcmp(u.protocol, "sqs") == 0 || strncmp(u.protocol, "http", 4) == 0);
		if (!raw && strcmp(u.protocol, "email") != 0) {
			body = envelope(r->sbx, mid, topic, u.arn, p->subject, text, p->env_attrs);
			if (!body) {
				sub_cleanup(&u);
				sbx_error(r, 500, "InternalError", "out of memory");
				goto out;
			}
		}
		ok = enqueue_delivery(r->sbx, db, &u, "Notification", mid, p->subject,
				      body ? body : text, raw ? p->attrs_text : NULL, raw) == 0;
		free(body);
		sub_cleanup(&u);
		if (!ok) {
			store_error(r, db);
			goto out;
		}
		*any = 1;
	}
	if (step != SQLITE_DONE) {
		store_error(r, db);
		goto out;
	}
	rc = 0;
out:
	sbx_db_done(r->sbx, st);
	return rc;
}

/* Lock the store and look topic up: returns the locked handle, or NULL (unlocked) after
 * sbx_error when the store failed or the topic does not exist. */
static sqlite3 *lock_topic(struct sbx_req *r, const char *topic)
{
	sqlite3 *db = sbx_db_lock(r->sbx);
	int found = topic_get(r->sbx, db, topic, NULL, NULL);

	if (found > 0)
		return db;
	if (found < 0)
		store_error(r, db);
	else
		topic_not_found(r);
	sbx_db_unlock(r->sbx);
	return NULL;
}

static int op_publish(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *topic = sbx_str(in, "TopicArn");
	struct pub p = { 0 };
	sqlite3 *db = NULL;
	char mid[37];
	int rc = -1, began = 0, any = 0;

	if (!topic)
		topic = sbx_str(in, "TargetArn");
	if (!topic) {
		if (sbx_str(in, "PhoneNumber"))
			return invalid(r, "PhoneNumber Reason: SMS is not supported by the sandbox");
		return invalid(r, "TopicArn or TargetArn Reason: no value for required parameter");
	}
	if (!valid_topic_arn(topic))
		return invalid(r, "TopicArn");
	if (pub_check(r, in, &p))
		goto fail;
	sbx_uuid(mid);
	if (!(db = lock_topic(r, topic)))
		goto fail;
	if (sbx_db_exec(r->sbx, db, "BEGIN")) {
		store_error(r, db);
		goto fail;
	}
	began = 1;
	if (pub_enqueue(r, db, topic, &p, mid, &any))
		goto fail;
	if (sbx_db_exec(r->sbx, db, "COMMIT")) {
		store_error(r, db);
		goto fail;
	}
	began = 0;
	if (any)
		wake_deliveries(r->sbx);
	*out = json_pack("{s:s}", "MessageId", mid);
	rc = 0;
fail:
	if (began)
		sbx_db_exec(r->sbx, db, "ROLLBACK");
	if (db)
		sbx_db_unlock(r->sbx);
	pub_cleanup(&p);
	return rc;
}

static void clear_error(struct sbx_req *r)
{
	r->err_status = 0;
	r->err_code[0] = '\0';
	r->err_message[0] = '\0';
}

/* The shape checks of PublishBatchRequestEntries. Returns 0, or -1 after sbx_error. */
static int check_batch(struct sbx_req *r, json_t *entries)
{
	size_t n = json_array_size(entries), total = 0;

	if (!json_is_array(entries) || n == 0)
		return sbx_error(r, 400, "EmptyBatchRequest",
				 "The batch request doesn't contain any entries.");
	if (n > SNS_MAX_BATCH)
		return sbx_error(r, 400, "TooManyEntriesInBatchRequest",
				 "The batch request contains more entries than permissible.");
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(entries, i);
		const char *id = sbx_str(e, "Id"), *msg = sbx_str(e, "Message");
		size_t len = id ? strlen(id) : 0;
		int ok = len >= 1 && len <= 80;

		for (size_t k = 0; ok && k < len; k++) {
			char c = id[k];

			ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '-' || c == '_';
		}
		if (!ok)
			return sbx_error(r, 400, "InvalidBatchEntryId",
					 "The Id of a batch entry in a batch request doesn't abide by "
					 "the specification.");
		for (size_t j = 0; j < i; j++)
			if (strcmp(id, sbx_str(json_array_get(entries, j), "Id")) == 0)
				return sbx_error(r, 400, "BatchEntryIdsNotDistinct",
						 "Two or more batch entries in the request have the "
						 "same Id.");
		total += msg ? strlen(msg) : 0;
	}
	if (total > SNS_MAX_MESSAGE)
		return sbx_error(r, 400, "BatchRequestTooLong",
				 "The length of all the messages put together is more than the "
				 "limit.");
	return 0;
}

/* PublishBatch: each entry goes the Publish path; all of them commit in one transaction
 * before the answer. An entry that fails its checks is reported in Failed. */
static int op_publish_batch(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *topic = sbx_str(in, "TopicArn");
	json_t *entries = json_object_get(in, "PublishBatchRequestEntries");
	json_t *ok = NULL, *bad = NULL, *e;
	sqlite3 *db = NULL;
	size_t i;
	int rc = -1, began = 0, any = 0;

	if (!topic)
		return invalid(r, "TopicArn Reason: no value for required parameter");
	if (!valid_topic_arn(topic))
		return invalid(r, "TopicArn");
	if (check_batch(r, entries))
		return -1;
	ok = json_array();
	bad = json_array();
	if (!ok || !bad) {
		sbx_error(r, 500, "InternalError", "out of memory");
		goto fail;
	}
	if (!(db = lock_topic(r, topic)))
		goto fail;
	if (sbx_db_exec(r->sbx, db, "BEGIN")) {
		store_error(r, db);
		goto fail;
	}
	began = 1;
	json_array_foreach(entries, i, e) {
		const char *id = sbx_str(e, "Id");
		struct pub p;
		char mid[37];
		json_t *row;

		if (pub_check(r, e, &p)) {
			pub_cleanup(&p);
			row = json_pack("{s:s,s:s,s:s,s:b}", "Id", id, "Code", r->err_code,
					"Message", r->err_message, "SenderFault",
					r->err_status < 500);
			clear_error(r);
			if (!row || json_array_append_new(bad, row))
				goto nomem;
			continue;
		}
		sbx_uuid(mid);
		rc = pub_enqueue(r, db, topic, &p, mid, &any);
		pub_cleanup(&p);
		if (rc)
			goto fail;
		rc = -1;
		row = json_pack("{s:s,s:s}", "Id", id, "MessageId", mid);
		if (!row || json_array_append_new(ok, row))
			goto nomem;
	}
	if (sbx_db_exec(r->sbx, db, "COMMIT")) {
		store_error(r, db);
		goto fail;
	}
	began = 0;
	if (any)
		wake_deliveries(r->sbx);
	*out = json_pack("{s:O,s:O}", "Successful", ok, "Failed", bad);
	if (!*out)
		goto nomem;
	rc = 0;
	goto fail;
nomem:
	sbx_error(r, 500, "InternalError", "out of memory");
fail:
	if (began)
		sbx_db_exec(r->sbx, db, "ROLLBACK");
	if (db)
		sbx_db_unlock(r->sbx);
	json_decref(ok);
	json_decref(bad);
	return rc;
}

/* ---- the delivery thread ---- */

/* One delivery row, copied out of the store. */
struct delivery {
	long long id;
	int attempts, raw;
	char *sub, *topic, *protocol, *endpoint, *kind, *message_id, *subject, *body, *attrs;
};

static void delivery_cleanup(struct delivery *d)
{
	free(d->sub);
	free(d->topic);
	free(d->protocol);
	free(d->endpoint);
	free(d->kind);
	free(d->message_id);
	free(d->subject);
	free(d->body);
	free(d->attrs);
	memset(d, 0, sizeof(*d));
}

static char *dup_col(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? NULL : strdup(text_col(st, col));
}

static int xfer_abort(void *p, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct sns_state *st = p;

	(void)dt; (void)dn; (void)ut; (void)un;
	return atomic_load(&st->stopping) ? 1 : 0;
}

static size_t discard(char *ptr, size_t size, size_t n, void *ud)
{
	(void)ptr; (void)ud;
	return size * n;
}

/* POST one delivery to an HTTP/S endpoint. Returns 0 on a 2xx, -1 otherwise. */
static int deliver_http(struct sbx *s, struct sns_state *state, const struct delivery *d)
{
	CURL *c = NULL;
	struct curl_slist *hs = NULL;
	char line[768];
	long status = 0;
	int rc = -1;

	/* deliveries never leave the machine */
	if (!sbx_url_is_loopback(d->endpoint)) {
		sbx_log(s, "WARN", "sns: refusing delivery to non-loopback endpoint of %s", d->sub);
		return -1;
	}
	c = curl_easy_init();
	if (!c)
		return -1;
	hs = curl_slist_append(hs, "Content-Type: text/plain; charset=UTF-8");
	snprintf(line, sizeof(line), "x-amz-sns-message-type: %s", d->kind);
	hs = curl_slist_append(hs, line);
	snprintf(line, sizeof(line), "x-amz-sns-message-id: %s", d->message_id);
	hs = curl_slist_append(hs, line);
	snprintf(line, sizeof(line), "x-amz-sns-topic-arn: %s", d->topic);
	hs = curl_slist_append(hs, line);
	if (strcmp(d->kind, "Notification") == 0) {
		snprintf(line, sizeof(line), "x-amz-sns-subscription-arn: %s", d->sub);
		hs = curl_slist_append(hs, line);
	}
	if (d->raw)
		hs = curl_slist_append(hs, "x-amz-sns-rawdelivery: true");
	hs = curl_slist_append(hs, "User-Agent: Amazon Simple Notification Service Agent");
	hs = curl_slist_append(hs, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, d->endpoint);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, d->body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(d->body));
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, SNS_HTTP_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, xfer_abort);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, state);
	if (curl_easy_perform(c) == CURLE_OK &&
	    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
	    status >= 200 && status < 300)
		rc = 0;
	else
		sbx_log(s, "INFO", "sns: delivery %lld to %s failed (status %ld, attempt %d)",
			d->id, d->sub, status, d->attempts + 1);
	curl_slist_free_all(hs);
	curl_easy_cleanup(c);
	return rc;
}

/* RFC 2047 encode a header value when it is not plain ASCII. */
static int add_header_text(struct aws_buf *out, const char *text)
{
	int ascii = 1;
	char *enc;
	size_t len = strlen(text);
	int rc;

	for (const char *p = text; *p; p++)
		if ((unsigned char)*p >= 128 || (unsigned char)*p < 32)
			ascii = 0;
	if (ascii)
		return aws_buf_adds(out, text);
	enc = malloc(4 * ((len + 2) / 3) + 1);
	if (!enc)
		return -1;
	EVP_EncodeBlock((unsigned char *)enc, (const unsigned char *)text, (int)len);
	rc = aws_buf_printf(out, "=?UTF-8?B?%s?=", enc);
	free(enc);
	return rc;
}

/* Write one RFC 5322 message into DATA/maildir (tmp, then rename into new). */
static int deliver_email(struct sbx *s, struct sns_state *state, const struct delivery *d)
{
	struct aws_buf msg = { 0 }, path = { 0 }, final = { 0 };
	char date[64], mid[37], host[64] = "sandbox";
	struct timespec now;
	struct tm tm;
	const char *subject = d->subject ? d->subject : "AWS Notification Message";
	const char *dirs[] = { "", "/tmp", "/new", "/cur" };
	int fd = -1, rc = -1;
	size_t off = 0;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	sbx_uuid(mid);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		aws_buf_reset(&path);
		if (aws_buf_printf(&path, "%s/maildir%s", sbx_data_dir(s), dirs[i]))
			goto fail;
		if (mkdir(path.data, 0700) != 0 && errno != EEXIST)
			goto fail;
	}
	if (aws_buf_adds(&msg, "From: AWS Notifications <no-reply@sns.amazonaws.com>\n") ||
	    aws_buf_printf(&msg, "To: %s\nDate: %s\nSubject: ", d->endpoint, date) ||
	    add_header_text(&msg, subject) ||
	    aws_buf_printf(&msg, "\nMessage-ID: <%s@sns.sandbox.cleanops>\n"
			   "MIME-Version: 1.0\n"
			   "Content-Type: text/plain; charset=UTF-8\n"
			   "Content-Transfer-Encoding: 8bit\n"
			   "X-Amz-Sns-Message-Id: %s\nX-Amz-Sns-Topic-Arn: %s\n\n",
			   mid, d->message_id, d->topic) ||
	    aws_buf_adds(&msg, d->body))
		goto fail;
	if (strcmp(d->kind, "Notification") == 0) {
		if (aws_buf_adds(&msg, "\n\n--\nIf you wish to stop receiving notifications from "
				 "this topic, please click or visit the link below to "
				 "unsubscribe:\n") ||
		    unsubscribe_link(s, d->sub, &msg))
			goto fail;
	}
	if (aws_buf_addc(&msg, '\n'))
		goto fail;
	gethostname(host, sizeof(host) - 1);
	for (char *p = host; *p; p++)
		if (*p == '/' || *p == ':')
			*p = '_';
	aws_buf_reset(&path);
	if (aws_buf_printf(&path, "%s/maildir/tmp/%lld.M%ldP%dQ%u.%s", sbx_data_dir(s),
			   (long long)now.tv_sec, now.tv_nsec / 1000, (int)getpid(),
			   ++state->counter, host) ||
	    aws_buf_printf(&final, "%s/maildir/new/%lld.M%ldP%dQ%u.%s", sbx_data_dir(s),
			   (long long)now.tv_sec, now.tv_nsec / 1000, (int)getpid(),
			   state->counter, host))
		goto fail;
	fd = open(path.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	while (off < msg.len) {
		ssize_t w = write(fd, msg.data + off, msg.len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		off += (size_t)w;
	}
	if (fsync(fd) != 0)
		goto fail;
	off = (size_t)close(fd);
	fd = -1;
	if (off != 0)
		goto fail;
	if (rename(path.data, final.data) != 0)
		goto fail;
	rc = 0;
fail:
	if (fd >= 0)
		close(fd);
	if (rc && path.data)
		unlink(path.data);
	if (rc)
		sbx_log(s, "WARN", "sns: email delivery %lld failed: %s", d->id, strerror(errno));
	aws_buf_cleanup(&msg);
	aws_buf_cleanup(&path);
	aws_buf_cleanup(&final);
	return rc;
}

static void mono_deadline(struct timespec *ts, long long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Take the next due delivery (lock held). Returns 1 with *d, 0 none due (*next_at the
 * earliest pending time or 0), -1 store error. */
static int next_due(struct sbx *s, sqlite3 *db, struct delivery *d, long long *next_at)
{
	sqlite3_stmt *st;
	int rc = -1, step;

	*next_at = 0;
	st = sbx_db_stmt(s, db, "SELECT id, attempts, raw, sub, topic, protocol, endpoint, kind,"
			 " message_id, subject, body, attrs, next_at FROM sns_deliveries"
			 " ORDER BY next_at, id LIMIT 1", NULL);
	if (!st)
		return -1;
	step = sqlite3_step(st);
	if (step == SQLITE_DONE) {
		rc = 0;
	} else if (step == SQLITE_ROW) {
		long long at = sqlite3_column_int64(st, 12);

		if (at > sbx_now_ms()) {
			*next_at = at;
			rc = 0;
		} else {
			d->id = sqlite3_column_int64(st, 0);
			d->attempts = sqlite3_column_int(st, 1);
			d->raw = sqlite3_column_int(st, 2);
			d->sub = dup_col(st, 3);
			d->topic = dup_col(st, 4);
			d->protocol = dup_col(st, 5);
			d->endpoint = dup_col(st, 6);
			d->kind = dup_col(st, 7);
			d->message_id = dup_col(st, 8);
			d->subject = dup_col(st, 9);
			d->body = dup_col(st, 10);
			d->attrs = dup_col(st, 11);
			rc = d->sub && d->topic && d->protocol && d->endpoint && d->kind &&
			     d->message_id && d->body ? 1 : -1;
		}
	}
	sbx_db_done(s, st);
	return rc;
}

static int delivery_done(struct sbx *s, sqlite3 *db, long long id)
{
	return sbx_db_run(s, db, "DELETE FROM sns_deliveries WHERE id = ?1", "i", id) < 0 ? -1 : 0;
}

static int delivery_retry(struct sbx *s, sqlite3 *db, long long id, long long at)
{
	return sbx_db_run(s, db, "UPDATE sns_deliveries SET attempts = attempts + 1, next_at = ?2"
			  " WHERE id = ?1", "ii", id, at) < 0 ? -1 : 0;
}

/* Deliver one row to SQS inside the open transaction (lock held): the message and the
 * removal of the delivery row. Returns 0, or -1 when the store failed (the transaction may
 * have been undone: the caller rolls back what is left). */
static int deliver_sqs_one(struct sbx *s, sqlite3 *db, const struct delivery *d)
{
	json_t *attrs = d->attrs ? json_loads(d->attrs, 0, NULL) : NULL;
	char why[1024];
	int sent;

	/* SNS delivers as sns.amazonaws.com: the queue policy must let it send */
	if (!sbx_iam_queue_allows_service_locked(s, db, d->endpoint, "sns.amazonaws.com", d->topic,
						 "sqs:SendMessage", why, sizeof(why))) {
		sbx_log(s, "WARN", "sns: delivery to %s of %s refused (AccessDenied): %s; message "
			"dropped", d->endpoint, d->sub, why);
		sent = 0;
	} else {
		sent = sbx_sqs_send_locked(s, db, d->endpoint, d->body, attrs, NULL);
	}
	json_decref(attrs);
	if (sent && sqlite3_get_autocommit(db))
		return -1; /* the store failed and undid the transaction: the delivery stays due */
	if (sent)
		sbx_log(s, "WARN", "sns: queue %s of %s does not exist; message dropped",
			d->endpoint, d->sub);
	return delivery_done(s, db, d->id) ? -1 : 0;
}

/* Deliver to SQS inside the store (lock held): the message and the removal of the
 * delivery row commit together. The SQS deliveries due next (up to SNS_SQS_BATCH in all)
 * join the same transaction: one commit for them all, nothing acknowledged before it.
 * Returns 0, or -1 when the store failed (everything stays due). */
#define SNS_SQS_BATCH 32
static int deliver_sqs(struct sbx *s, sqlite3 *db, const struct delivery *first)
{
	int rc = -1;

	if (sbx_db_exec(s, db, "BEGIN"))
		return -1;
	if (deliver_sqs_one(s, db, first))
		goto out;
	for (int n = 1; n < SNS_SQS_BATCH; n++) {
		struct delivery d;
		long long next_at;
		int got, ok;

		memset(&d, 0, sizeof(d));
		got = next_due(s, db, &d, &next_at);
		if (got < 0) {
			delivery_cleanup(&d);
			goto out;
		}
		if (got == 0 || strcmp(d.protocol, "sqs") != 0) {
			delivery_cleanup(&d);
			break;
		}
		ok = deliver_sqs_one(s, db, &d) == 0;
		delivery_cleanup(&d);
		if (!ok)
			goto out;
	}
	if (sbx_db_exec(s, db, "COMMIT") == 0)
		rc = 0;
out:
	if (rc != 0 && !sqlite3_get_autocommit(db))
		sbx_db_exec(s, db, "ROLLBACK");
	return rc;
}

static void *delivery_main(void *arg)
{
	struct sbx *s = arg;
	struct sns_state *state = sns_state(s);
	sqlite3 *db = sbx_db_lock(s);

	while (!atomic_load(&state->stopping)) {
		struct delivery d;
		long long next_at = 0;
		int got, ok, max;

		memset(&d, 0, sizeof(d));
		got = next_due(s, db, &d, &next_at);
		if (got <= 0) {
			struct timespec ts;

			delivery_cleanup(&d);
			if (got < 0)
				next_at = sbx_now_ms() + 1000; /* store trouble: try again soon */
			if (next_at) {
				long long wait = next_at - sbx_now_ms();

				mono_deadline(&ts, wait > 0 ? wait : 0);
				pthread_cond_timedwait(&state->cond, sbx_db_mutex(s), &ts);
			} else {
				pthread_cond_wait(&state->cond, sbx_db_mutex(s));
			}
			continue;
		}
		if (strcmp(d.protocol, "sqs") == 0) {
			if (deliver_sqs(s, db, &d) != 0) {
				/* store trouble (a full disk): let the others have the store a
				 * while rather than retry at once */
				struct timespec ts;

				mono_deadline(&ts, 1000);
				pthread_cond_timedwait(&state->cond, sbx_db_mutex(s), &ts);
			}
			delivery_cleanup(&d);
			continue;
		}
		if (strcmp(d.protocol, "lambda") == 0) {
			sbx_log(s, "INFO", "sns: lambda deliveries are not supported yet (%s)", d.sub);
			delivery_done(s, db, d.id);
			delivery_cleanup(&d);
			continue;
		}
		sbx_db_unlock(s);
		if (strncmp(d.protocol, "email", 5) == 0) {
			ok = deliver_email(s, state, &d) == 0;
			max = SNS_EMAIL_ATTEMPTS;
		} else {
			ok = deliver_http(s, state, &d) == 0;
			max = SNS_HTTP_ATTEMPTS;
		}
		db = sbx_db_lock(s);
		if (ok || d.attempts + 1 >= max) {
			if (!ok)
				sbx_log(s, "WARN", "sns: giving up delivery %lld to %s after %d attempts",
					d.id, d.sub, d.attempts + 1);
			delivery_done(s, db, d.id);
		} else {
			long long backoff = 250LL << (d.attempts < 7 ? d.attempts : 7);

			delivery_retry(s, db, d.id, sbx_now_ms() + (backoff < 20000 ? backoff : 20000));
		}
		delivery_cleanup(&d);
	}
	sbx_db_unlock(s);
	return NULL;
}

static int sns_init(struct sbx *s)
{
	struct sns_state *st = calloc(1, sizeof(*st));
	pthread_condattr_t ca;

	if (!st)
		return -1;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&st->cond, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&st->stopping, 0);
	sbx_set_state(s, "sns", st);
	if (pthread_create(&st->thread, NULL, delivery_main, s) != 0) {
		sbx_set_state(s, "sns", NULL);
		pthread_cond_destroy(&st->cond);
		free(st);
		return -1;
	}
	st->started = 1;
	return 0;
}

static void sns_shutdown(struct sbx *s)
{
	struct sns_state *st = sns_state(s);

	if (!st)
		return;
	sbx_db_lock(s);
	atomic_store(&st->stopping, 1);
	pthread_cond_broadcast(&st->cond);
	sbx_db_unlock(s);
	if (st->started)
		pthread_join(st->thread, NULL);
	sbx_set_state(s, "sns", NULL);
	pthread_cond_destroy(&st->cond);
	free(st);
}

/* ---- the confirmation and unsubscribe links ---- */

/* The decoded value of key in a raw query string (caller frees), or NULL. */
static char *query_param(const char *query, const char *key)
{
	size_t klen = strlen(key);
	const char *p = query;

	while (p && *p) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);

		if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			char *raw = strndup(p + klen + 1, len - klen - 1);
			char *dec = NULL, *res = NULL;
			int olen = 0;

			if (!raw)
				return NULL;
			for (char *q = raw; *q; q++)
				if (*q == '+')
					*q = ' ';
			dec = curl_easy_unescape(NULL, raw, 0, &olen);
			if (dec)
				res = strndup(dec, (size_t)olen);
			curl_free(dec);
			free(raw);
			return res;
		}
		p = amp ? amp + 1 : NULL;
	}
	return NULL;
}

static void html_page(struct aws_buf *out, const char *title, const char *text, const char *arn)
{
	aws_buf_printf(out, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title>"
		       "</head><body><h1>%s</h1><p>%s</p>", title, title, text);
	if (arn) {
		aws_buf_adds(out, "<p>Your subscription's id is:<br><code>");
		sbx_wire_xml_escape(out, arn);
		aws_buf_adds(out, "</code></p>");
	}
	aws_buf_adds(out, "</body></html>\n");
}

int sbx_sns_http_confirm(struct sbx *s, const char *query, struct aws_buf *html_out)
{
	char *topic = query_param(query, "TopicArn");
	char *token = query_param(query, "Token");
	char arn[600];
	sqlite3 *db;
	int found = 0;

	if (topic && token) {
		db = sbx_db_lock(s);
		found = confirm(db, topic, token, 0, arn, sizeof(arn));
		sbx_db_unlock(s);
	}
	if (found > 0)
		html_page(html_out, "Subscription confirmed!",
			  "You have successfully subscribed.", arn);
	else
		html_page(html_out, "Subscription not confirmed",
			  "The link names no pending subscription (wrong topic or token).", NULL);
	free(topic);
	free(token);
	return found > 0 ? 0 : -1;
}

static int sns_route(struct sbx_req *r, int *status, struct aws_buf *body,
		     const char **content_type)
{
	if (strcmp(r->method, "GET") != 0)
		return 1;
	if (strcmp(r->path, "/sns/confirm") == 0) {
		*status = sbx_sns_http_confirm(r->sbx, r->query, body) == 0 ? 200 : 404;
		*content_type = "text/html; charset=utf-8";
		return 0;
	}
	if (strcmp(r->path, "/sns/unsubscribe") == 0) {
		char *arn = query_param(r->query, "SubscriptionArn");
		sqlite3 *db;
		int rc = -1;

		if (arn) {
			db = sbx_db_lock(r->sbx);
			rc = unsubscribe(db, arn);
			sbx_db_unlock(r->sbx);
		}
		if (rc > 0)
			html_page(body, "Subscription removed!",
				  "You will no longer receive notifications from this topic.", arn);
		else
			html_page(body, "Subscription not found",
				  "The link names no subscription.", NULL);
		*status = rc > 0 ? 200 : 404;
		*content_type = "text/html; charset=utf-8";
		free(arn);
		return 0;
	}
	return 1;
}

static const struct sbx_op sns_ops[] = {
	{ "CreateTopic", op_create_topic },
	{ "DeleteTopic", op_delete_topic },
	{ "ListTopics", op_list_topics },
	{ "GetTopicAttributes", op_get_topic_attributes },
	{ "SetTopicAttributes", op_set_topic_attributes },
	{ "Subscribe", op_subscribe },
	{ "ConfirmSubscription", op_confirm_subscription },
	{ "Unsubscribe", op_unsubscribe },
	{ "ListSubscriptions", op_list_subscriptions },
	{ "ListSubscriptionsByTopic", op_list_subscriptions_by_topic },
	{ "GetSubscriptionAttributes", op_get_subscription_attributes },
	{ "SetSubscriptionAttributes", op_set_subscription_attributes },
	{ "Publish", op_publish },
	{ "PublishBatch", op_publish_batch },
	{ "TagResource", op_tag_resource },
	{ "UntagResource", op_untag_resource },
	{ "ListTagsForResource", op_list_tags },
};

const struct sbx_service sbx_svc_sns = {
	.name = "sns",
	.schema = sns_schema,
	.ops = sns_ops,
	.nops = sizeof(sns_ops) / sizeof(sns_ops[0]),
	.init = sns_init,
	.shutdown = sns_shutdown,
	.route = sns_route,
};
