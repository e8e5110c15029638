/* svc_logs.c: CloudWatch Logs in the sandbox: groups, streams, PutLogEvents, GetLogEvents,
 * FilterLogEvents, retention; and sbx_logs_put_internal for the sandbox's own writers. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbx_int.h"

#define MAX_FILTER_TERMS 16
#define TWO_HOURS_MS (2LL * 3600 * 1000)
#define FOURTEEN_DAYS_MS (14LL * 86400 * 1000)

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS logs_groups (name TEXT PRIMARY KEY, created INTEGER NOT NULL,"
	" retention INTEGER);"
	"CREATE TABLE IF NOT EXISTS logs_streams (grp TEXT NOT NULL, name TEXT NOT NULL,"
	" created INTEGER NOT NULL, first_event INTEGER, last_event INTEGER,"
	" last_ingestion INTEGER, seq INTEGER NOT NULL DEFAULT 1, bytes INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (grp, name));"
	"CREATE TABLE IF NOT EXISTS logs_events (id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" grp TEXT NOT NULL, stream TEXT NOT NULL, ts INTEGER NOT NULL, ingestion INTEGER NOT NULL,"
	" message TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS logs_events_stream ON logs_events (grp, stream, ts, id);"
	"CREATE INDEX IF NOT EXISTS logs_events_group ON logs_events (grp, ts, id);";

static const int retention_days[] = { 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545,
				      731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 };

static int db_fail(struct sbx_req *r)
{
	return sbx_error(r, 500, "ServiceUnavailableException", "The sandbox's store failed");
}

static const char *need(struct sbx_req *r, json_t *in, const char *name)
{
	const char *v = sbx_str(in, name);

	if (!v || !*v) {
		sbx_error(r, 400, "InvalidParameterException",
			  "1 validation error detected: Value null at '%s' failed to satisfy "
			  "constraint: Member must not be null", name);
		return NULL;
	}
	return v;
}

static int group_exists(struct sbx *s, sqlite3 *db, const char *group)
{
	sqlite3_stmt *st = sbx_db_prep(s, db, "SELECT 1 FROM logs_groups WHERE name = ?1", "s", group);
	int found = st && sqlite3_step(st) == SQLITE_ROW;

	sqlite3_finalize(st);
	return found;
}

static int stream_exists(struct sbx *s, sqlite3 *db, const char *group, const char *stream)
{
	sqlite3_stmt *st = sbx_db_prep(s, db, "SELECT 1 FROM logs_streams WHERE grp = ?1 AND "
				       "name = ?2", "ss", group, stream);
	int found = st && sqlite3_step(st) == SQLITE_ROW;

	sqlite3_finalize(st);
	return found;
}

static int no_group(struct sbx_req *r)
{
	return sbx_error(r, 400, "ResourceNotFoundException", "The specified log group does not exist.");
}

static int no_stream(struct sbx_req *r)
{
	return sbx_error(r, 400, "ResourceNotFoundException",
			 "The specified log stream does not exist.");
}

/* limit member within [1, max], default def; -1 with InvalidParameterException. */
static int get_limit(struct sbx_req *r, json_t *in, long long def, long long max, long long *out)
{
	*out = sbx_int(in, "limit", def);
	if (*out < 1 || *out > max)
		return sbx_error(r, 400, "InvalidParameterException",
				 "1 validation error detected: Value at 'limit' failed to satisfy "
				 "constraint: Member must have value between 1 and %lld", max);
	return 0;
}

/* Offset tokens ("o<N>") for the describe calls. */
static int get_offset(struct sbx_req *r, json_t *in, long long *offset)
{
	const char *t = sbx_str(in, "nextToken");
	char *end;

	*offset = 0;
	if (!t)
		return 0;
	if (t[0] != 'o' || (*offset = strtoll(t + 1, &end, 10)) < 0 || *end || end == t + 1)
		return sbx_error(r, 400, "InvalidParameterException", "The specified nextToken is "
				 "invalid.");
	return 0;
}

static void set_offset_token(json_t *out, json_t *arr, long long offset, long long limit)
{
	if ((long long)json_array_size(arr) > limit) {
		char t[32];

		json_array_remove(arr, (size_t)limit);
		snprintf(t, sizeof(t), "o%lld", offset + limit);
		json_object_set_new(out, "nextToken", json_string(t));
	}
}

/* ---- groups ---- */

/* Create group (and stream when non-NULL) if missing. Lock held. Returns 0 or -1. */
static int ensure(struct sbx *s, sqlite3 *db, const char *group, const char *stream)
{
	long long now = sbx_now_ms();

	if (sbx_db_run(s, db, "INSERT OR IGNORE INTO logs_groups VALUES (?1, ?2, NULL)", "si",
		       group, now) < 0)
		return -1;
	if (stream && sbx_db_run(s, db, "INSERT OR IGNORE INTO logs_streams (grp, name, created) "
				 "VALUES (?1, ?2, ?3)", "ssi", group, stream, now) < 0)
		return -1;
	return 0;
}

static int create_log_group(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *name = need(r, in, "logGroupName");
	int n;

	if (!name)
		return -1;
	if (strlen(name) > 512)
		return sbx_error(r, 400, "InvalidParameterException",
				 "logGroupName must be at most 512 characters");
	n = sbx_db_run(r->sbx, sbx_db_lock(r->sbx), "INSERT OR IGNORE INTO logs_groups VALUES "
		       "(?1, ?2, NULL)", "si", name, sbx_now_ms());
	sbx_db_unlock(r->sbx);
	if (n < 0)
		return db_fail(r);
	if (n == 0)
		return sbx_error(r, 400, "ResourceAlreadyExistsException",
				 "The specified log group already exists");
	return 0;
}

static int delete_log_group(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *name = need(r, in, "logGroupName");
	sqlite3 *db;
	int n;

	if (!name)
		return -1;
	db = sbx_db_lock(r->sbx);
	sbx_db_exec(r->sbx, db, "BEGIN");
	n = sbx_db_run(r->sbx, db, "DELETE FROM logs_groups WHERE name = ?1", "s", name);
	if (n > 0 &&
	    (sbx_db_run(r->sbx, db, "DELETE FROM logs_streams WHERE grp = ?1", "s", name) < 0 ||
	     sbx_db_run(r->sbx, db, "DELETE FROM logs_events WHERE grp = ?1", "s", name) < 0))
		n = -1;
	sbx_db_exec(r->sbx, db, n < 0 ? "ROLLBACK" : "COMMIT");
	sbx_db_unlock(r->sbx);
	if (n < 0)
		return db_fail(r);
	if (n == 0)
		return no_group(r);
	return 0;
}

static int describe_log_groups(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *prefix = sbx_str(in, "logGroupNamePrefix");
	long long limit, offset;
	sqlite3 *db;
	sqlite3_stmt *st;
	json_t *arr;

	if (get_limit(r, in, 50, 50, &limit) != 0 || get_offset(r, in, &offset) != 0)
		return -1;
	db = sbx_db_lock(r->sbx);
	st = sbx_db_prep(r->sbx, db, "SELECT g.name, g.created, g.retention, (SELECT "
			 "coalesce(sum(bytes), 0) FROM logs_streams s WHERE s.grp = g.name) FROM "
			 "logs_groups g WHERE substr(g.name, 1, length(?1)) = ?1 ORDER BY g.name "
			 "LIMIT ?2 OFFSET ?3", "sii", prefix ? prefix : "", limit + 1, offset);
	arr = json_array();
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		char arn[700];
		json_t *g;

		snprintf(arn, sizeof(arn), "arn:aws:logs:%s:%s:log-group:%s", r->region, SBX_ACCOUNT,
			 sbx_col(st, 0));
		g = json_pack("{s:s, s:I, s:i, s:I}", "logGroupName", sbx_col(st, 0),
			      "creationTime", (json_int_t)sqlite3_column_int64(st, 1),
			      "metricFilterCount", 0,
			      "storedBytes", (json_int_t)sqlite3_column_int64(st, 3));
		json_object_set_new(g, "logGroupArn", json_string(arn));
		snprintf(arn + strlen(arn), sizeof(arn) - strlen(arn), ":*");
		json_object_set_new(g, "arn", json_string(arn));
		if (sqlite3_column_type(st, 2) != SQLITE_NULL)
			json_object_set_new(g, "retentionInDays",
					    json_integer(sqlite3_column_int64(st, 2)));
		json_array_append_new(arr, g);
	}
	sqlite3_finalize(st);
	sbx_db_unlock(r->sbx);
	*out = json_object();
	json_object_set_new(*out, "logGroups", arr);
	set_offset_token(*out, arr, offset, limit);
	return 0;
}

static int put_retention_policy(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *name = need(r, in, "logGroupName");
	long long days = sbx_int(in, "retentionInDays", -1);
	int ok = 0, n;

	if (!name)
		return -1;
	for (size_t i = 0; i < sizeof(retention_days) / sizeof(retention_days[0]); i++)
		ok |= retention_days[i] == days;
	if (!ok)
		return sbx_error(r, 400, "InvalidParameterException",
				 "1 validation error detected: Value '%lld' at 'retentionInDays' "
				 "failed to satisfy constraint: Member must satisfy enum value set",
				 days);
	n = sbx_db_run(r->sbx, sbx_db_lock(r->sbx), "UPDATE logs_groups SET retention = ?2 WHERE "
		       "name = ?1", "si", name, days);
	sbx_db_unlock(r->sbx);
	if (n < 0)
		return db_fail(r);
	return n == 0 ? no_group(r) : 0;
}

static int delete_retention_policy(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *name = need(r, in, "logGroupName");
	int n;

	if (!name)
		return -1;
	n = sbx_db_run(r->sbx, sbx_db_lock(r->sbx), "UPDATE logs_groups SET retention = NULL WHERE "
		       "name = ?1", "s", name);
	sbx_db_unlock(r->sbx);
	if (n < 0)
		return db_fail(r);
	return n == 0 ? no_group(r) : 0;
}

/* ---- streams ---- */

static int create_log_stream(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *group = need(r, in, "logGroupName");
	const char *stream = group ? need(r, in, "logStreamName") : NULL;
	sqlite3 *db;
	int rc = -1, n;

	if (!stream)
		return -1;
	if (strchr(stream, ':') || strchr(stream, '*'))
		return sbx_error(r, 400, "InvalidParameterException",
				 "logStreamName may not contain ':' or '*'");
	db = sbx_db_lock(r->sbx);
	if (!group_exists(r->sbx, db, group)) {
		no_group(r);
		goto done;
	}
	n = sbx_db_run(r->sbx, db, "INSERT OR IGNORE INTO logs_streams (grp, name, created) VALUES "
		       "(?1, ?2, ?3)", "ssi", group, stream, sbx_now_ms());
	if (n < 0)
		db_fail(r);
	else if (n == 0)
		sbx_error(r, 400, "ResourceAlreadyExistsException",
			  "The specified log stream already exists");
	else
		rc = 0;
done:
	sbx_db_unlock(r->sbx);
	return rc;
}

static int delete_log_stream(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *group = need(r, in, "logGroupName");
	const char *stream = group ? need(r, in, "logStreamName") : NULL;
	sqlite3 *db;
	int rc = -1, n;

	if (!stream)
		return -1;
	db = sbx_db_lock(r->sbx);
	if (!group_exists(r->sbx, db, group)) {
		no_group(r);
		goto done;
	}
	sbx_db_exec(r->sbx, db, "BEGIN");
	n = sbx_db_run(r->sbx, db, "DELETE FROM logs_streams WHERE grp = ?1 AND name = ?2", "ss",
		       group, stream);
	if (n > 0 && sbx_db_run(r->sbx, db, "DELETE FROM logs_events WHERE grp = ?1 AND "
				"stream = ?2", "ss", group, stream) < 0)
		n = -1;
	sbx_db_exec(r->sbx, db, n < 0 ? "ROLLBACK" : "COMMIT");
	if (n < 0)
		db_fail(r);
	else if (n == 0)
		no_stream(r);
	else
		rc = 0;
done:
	sbx_db_unlock(r->sbx);
	return rc;
}

static int describe_log_streams(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *group = need(r, in, "logGroupName");
	const char *prefix = sbx_str(in, "logStreamNamePrefix");
	const char *order = sbx_str(in, "orderBy");
	int desc = sbx_bool(in, "descending", 0);
	long long limit, offset;
	const char *sql;
	sqlite3 *db;
	sqlite3_stmt *st;
	json_t *arr;
	int by_time;

	if (!group || get_limit(r, in, 50, 50, &limit) != 0 || get_offset(r, in, &offset) != 0)
		return -1;
	if (order && strcmp(order, "LogStreamName") != 0 && strcmp(order, "LastEventTime") != 0)
		return sbx_error(r, 400, "InvalidParameterException",
				 "orderBy must be LogStreamName or LastEventTime");
	by_time = order && strcmp(order, "LastEventTime") == 0;
	if (by_time && prefix)
		return sbx_error(r, 400, "InvalidParameterException", "Cannot order by LastEventTime "
				 "with a logStreamNamePrefix.");
	if (by_time)
		sql = desc ? "SELECT * FROM logs_streams WHERE grp = ?1 AND substr(name, 1, "
			     "length(?2)) = ?2 ORDER BY coalesce(last_event, 0) DESC, name DESC "
			     "LIMIT ?3 OFFSET ?4" :
			     "SELECT * FROM logs_streams WHERE grp = ?1 AND substr(name, 1, "
			     "length(?2)) = ?2 ORDER BY coalesce(last_event, 0), name LIMIT ?3 OFFSET ?4";
	else
		sql = desc ? "SELECT * FROM logs_streams WHERE grp = ?1 AND substr(name, 1, "
			     "length(?2)) = ?2 ORDER BY name DESC LIMIT ?3 OFFSET ?4" :
			     "SELECT * FROM logs_streams WHERE grp = ?1 AND substr(name, 1, "
			     "length(?2)) = ?2 ORDER BY name LIMIT ?3 OFFSET ?4";
	db = sbx_db_lock(r->sbx);
	if (!group_exists(r->sbx, db, group)) {
		sbx_db_unlock(r->sbx);
		return no_group(r);
	}
	st = sbx_db_prep(r->sbx, db, sql, "ssii", group, prefix ? prefix : "", limit + 1, offset);
	arr = json_array();
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		char arn[1200], seq[32];
		json_t *o;

		snprintf(arn, sizeof(arn), "arn:aws:logs:%s:%s:log-group:%s:log-stream:%s", r->region,
			 SBX_ACCOUNT, sbx_col(st, 0), sbx_col(st, 1));
		snprintf(seq, sizeof(seq), "%020lld", (long long)sqlite3_column_int64(st, 6));
		o = json_pack("{s:s, s:I, s:s, s:s, s:I}", "logStreamName", sbx_col(st, 1),
			      "creationTime", (json_int_t)sqlite3_column_int64(st, 2), "arn", arn,
			      "uploadSequenceToken", seq,
			      "storedBytes", (json_int_t)sqlite3_column_int64(st, 7));
		if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
			json_object_set_new(o, "firstEventTimestamp",
					    json_integer(sqlite3_column_int64(st, 3)));
			json_object_set_new(o, "lastEventTimestamp",
					    json_integer(sqlite3_column_int64(st, 4)));
			json_object_set_new(o, "lastIngestionTime",
					    json_integer(sqlite3_column_int64(st, 5)));
		}
		json_array_append_new(arr, o);
	}
	sqlite3_finalize(st);
	sbx_db_unlock(r->sbx);
	*out = json_object();
	json_object_set_new(*out, "logStreams", arr);
	set_offset_token(*out, arr, offset, limit);
	return 0;
}

/* ---- events ---- */

/* Append one event (lock held, inside the caller's transaction). */
static int insert_event(struct sbx *s, sqlite3 *db, const char *group, const char *stream,
			long long ts, long long now, const char *message)
{
	if (sbx_db_run(s, db, "INSERT INTO logs_events (grp, stream, ts, ingestion, message) VALUES "
		       "(?1, ?2, ?3, ?4, ?5)", "ssiis", group, stream, ts, now, message) < 0)
		return -1;
	return sbx_db_run(s, db, "UPDATE logs_streams SET first_event = min(coalesce(first_event, "
			  "?3), ?3), last_event = max(coalesce(last_event, ?3), ?3), last_ingestion "
			  "= ?4, bytes = bytes + ?5 WHERE grp = ?1 AND name = ?2", "ssiii", group,
			  stream, ts, now, (long long)strlen(message)) < 0 ? -1 : 0;
}

/* Lines from the sandbox's own writers (the functions' output, START/END/REPORT) wait here
 * and go to the store together, in one transaction: when PENDING_MAX wait, when the oldest
 * waited PENDING_MS, before every Logs operation (so the API always shows every line put
 * before it) and at shutdown. A line a function prints costs a copy, not a commit.
 * Guarded by the store lock. */
#define PENDING_MAX 512
#define PENDING_MS 100

struct pending_line {
	char *group, *stream, *message;
	long long ts, ingestion;
};

struct logs_state {
	struct pending_line *lines;
	size_t n, cap;
};

/* Write the waiting lines (lock held). A line that cannot be written is logged and dropped. */
static void pending_flush_locked(struct sbx *s, sqlite3 *db, struct logs_state *st)
{
	const char *group = NULL, *stream = NULL;
	int ok;

	if (!st || st->n == 0)
		return;
	ok = sbx_db_exec(s, db, "BEGIN") == 0;
	for (size_t i = 0; ok && i < st->n; i++) {
		struct pending_line *l = &st->lines[i];

		if (!group || strcmp(group, l->group) != 0 || strcmp(stream, l->stream) != 0) {
			ok = ensure(s, db, l->group, l->stream) == 0;
			group = l->group;
			stream = l->stream;
		}
		ok = ok && insert_event(s, db, l->group, l->stream, l->ts, l->ingestion, l->message) == 0;
	}
	if (!ok || sbx_db_exec(s, db, "COMMIT") != 0) {
		sbx_db_exec(s, db, "ROLLBACK");
		sbx_log(s, "ERROR", "logs: %zu lines of the functions could not be stored", st->n);
	}
	for (size_t i = 0; i < st->n; i++) {
		free(st->lines[i].group);
		free(st->lines[i].stream);
		free(st->lines[i].message);
	}
	st->n = 0;
}

/* Write the waiting lines (takes the store lock). */
static void pending_flush(struct sbx *s)
{
	sqlite3 *db = sbx_db_lock(s);

	pending_flush_locked(s, db, sbx_get_state(s, "logs"));
	sbx_db_unlock(s);
}

int sbx_logs_put_internal(struct sbx *s, const char *group, const char *stream,
			  long long timestamp_ms, const char *message)
{
	sqlite3 *db = sbx_db_lock(s);
	struct logs_state *st = sbx_get_state(s, "logs");
	struct pending_line *l;
	int rc = -1;

	if (!st && (st = calloc(1, sizeof(*st))) != NULL)
		sbx_set_state(s, "logs", st);
	if (st && st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 64;
		struct pending_line *grown = realloc(st->lines, cap * sizeof(*grown));

		if (grown) {
			st->lines = grown;
			st->cap = cap;
		}
	}
	if (!st || st->n == st->cap)
		goto done;
	l = &st->lines[st->n];
	l->group = strdup(group);
	l->stream = strdup(stream);
	l->message = strdup(message);
	l->ts = timestamp_ms;
	l->ingestion = sbx_now_ms();
	if (!l->group || !l->stream || !l->message) {
		free(l->group);
		free(l->stream);
		free(l->message);
		goto done;
	}
	st->n++;
	rc = 0;
	if (st->n >= PENDING_MAX || l->ingestion - st->lines[0].ingestion >= PENDING_MS)
		pending_flush_locked(s, db, st);
done:
	sbx_db_unlock(s);
	return rc;
}

static void logs_shutdown(struct sbx *s)
{
	sqlite3 *db = sbx_db_lock(s);
	struct logs_state *st = sbx_get_state(s, "logs");

	pending_flush_locked(s, db, st);
	sbx_set_state(s, "logs", NULL);
	sbx_db_unlock(s);
	if (st) {
		free(st->lines);
		free(st);
	}
}

static int put_log_events(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *group = need(r, in, "logGroupName");
	const char *stream = group ? need(r, in, "logStreamName") : NULL;
	json_t *events = json_object_get(in, "logEvents");
	long long now = sbx_now_ms(), prev = 0, seq = 0;
	long long too_new = -1, too_old_end = -1;
	size_t i;
	json_t *e;
	sqlite3 *db;
	sqlite3_stmt *st;
	char token[32];
	int rc = -1;

	if (!stream)
		return -1;
	if (!json_is_array(events) || json_array_size(events) == 0 ||
	    json_array_size(events) > 10000)
		return sbx_error(r, 400, "InvalidParameterException",
				 "logEvents must hold from 1 to 10000 events");
	json_array_foreach(events, i, e) {
		json_t *ts = json_object_get(e, "timestamp");

		if (!json_is_integer(ts) || !json_is_string(json_object_get(e, "message")))
			return sbx_error(r, 400, "InvalidParameterException",
					 "each log event needs a timestamp (ms) and a message");
		if (i > 0 && json_integer_value(ts) < prev)
			return sbx_error(r, 400, "InvalidParameterException", "Log events in a single "
					 "PutLogEvents request must be in chronological order.");
		prev = json_integer_value(ts);
	}
	db = sbx_db_lock(r->sbx);
	if (!group_exists(r->sbx, db, group)) {
		no_group(r);
		goto done;
	}
	if (!stream_exists(r->sbx, db, group, stream)) {
		no_stream(r);
		goto done;
	}
	sbx_db_exec(r->sbx, db, "BEGIN");
	json_array_foreach(events, i, e) {
		long long ts = json_integer_value(json_object_get(e, "timestamp"));

		if (ts > now + TWO_HOURS_MS) {
			if (too_new < 0)
				too_new = (long long)i;
			continue;
		}
		if (ts < now - FOURTEEN_DAYS_MS) {
			too_old_end = (long long)i + 1;
			continue;
		}
		if (insert_event(r->sbx, db, group, stream, ts, now, sbx_str(e, "message")) != 0) {
			sbx_db_exec(r->sbx, db, "ROLLBACK");
			db_fail(r);
			goto done;
		}
	}
	if (sbx_db_run(r->sbx, db, "UPDATE logs_streams SET seq = seq + 1 WHERE grp = ?1 AND "
		       "name = ?2", "ss", group, stream) < 0) {
		sbx_db_exec(r->sbx, db, "ROLLBACK");
		db_fail(r);
		goto done;
	}
	sbx_db_exec(r->sbx, db, "COMMIT");
	st = sbx_db_prep(r->sbx, db, "SELECT seq FROM logs_streams WHERE grp = ?1 AND name = ?2",
			 "ss", group, stream);
	if (st && sqlite3_step(st) == SQLITE_ROW)
		seq = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	snprintf(token, sizeof(token), "%020lld", seq);
	*out = json_pack("{s:s}", "nextSequenceToken", token);
	if (too_new >= 0 || too_old_end >= 0) {
		json_t *info = json_object();

		if (too_new >= 0)
			json_object_set_new(info, "tooNewLogEventStartIndex", json_integer(too_new));
		if (too_old_end >= 0)
			json_object_set_new(info, "tooOldLogEventEndIndex", json_integer(too_old_end));
		json_object_set_new(*out, "rejectedLogEventsInfo", info);
	}
	rc = 0;
done:
	sbx_db_unlock(r->sbx);
	return rc;
}

/* A GetLogEvents position: "f/<ts>/<id>" (after) or "b/<ts>/<id>" (before). */
static int parse_pos(const char *t, char *dir, long long *ts, long long *id)
{
	char *end;

	if (!t || (t[0] != 'f' && t[0] != 'b') || t[1] != '/')
		return -1;
	*dir = t[0];
	*ts = strtoll(t + 2, &end, 10);
	if (*end != '/')
		return -1;
	*id = strtoll(end + 1, &end, 10);
	return *end ? -1 : 0;
}

static json_t *pos_token(char dir, long long ts, long long id)
{
	char t[64];

	snprintf(t, sizeof(t), "%c/%lld/%lld", dir, ts, id);
	return json_string(t);
}

static int get_log_events(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *group = need(r, in, "logGroupName");
	const char *stream = group ? need(r, in, "logStreamName") : NULL;
	const char *token = sbx_str(in, "nextToken");
	int from_head = sbx_bool(in, "startFromHead", 0);
	long long start = sbx_int(in, "startTime", LLONG_MIN);
	long long end = sbx_int(in, "endTime", LLONG_MAX);
	long long limit, ts = 0, id = 0;
	char dir = from_head ? 'f' : 'b';
	int backward;
	sqlite3 *db;
	sqlite3_stmt *st;
	json_t *arr;
	size_t n;

	if (!stream || get_limit(r, in, 10000, 10000, &limit) != 0)
		return -1;
	if (token && parse_pos(token, &dir, &ts, &id) != 0)
		return sbx_error(r, 400, "InvalidParameterException",
				 "The specified nextToken is invalid.");
	backward = dir == 'b';
	db = sbx_db_lock(r->sbx);
	if (!stream_exists(r->sbx, db, group, stream)) {
		sbx_db_unlock(r->sbx);
		return group_exists(r->sbx, db, group) ? no_stream(r) : no_group(r);
	}
	if (!token && backward) /* the newest events */
		st = sbx_db_prep(r->sbx, db, "SELECT ts, ingestion, message, id FROM logs_events WHERE "
				 "grp = ?1 AND stream = ?2 AND ts >= ?3 AND ts < ?4 ORDER BY ts DESC, "
				 "id DESC LIMIT ?5", "ssiii", group, stream, start, end, limit);
	else if (!token)
		st = sbx_db_prep(r->sbx, db, "SELECT ts, ingestion, message, id FROM logs_events WHERE "
				 "grp = ?1 AND stream = ?2 AND ts >= ?3 AND ts < ?4 ORDER BY ts, id "
				 "LIMIT ?5", "ssiii", group, stream, start, end, limit);
	else if (backward)
		st = sbx_db_prep(r->sbx, db, "SELECT ts, ingestion, message, id FROM logs_events WHERE "
				 "grp = ?1 AND stream = ?2 AND ts >= ?3 AND ts < ?4 AND (ts < ?6 OR "
				 "(ts = ?6 AND id < ?7)) ORDER BY ts DESC, id DESC LIMIT ?5", "ssiiiii",
				 group, stream, start, end, limit, ts, id);
	else
		st = sbx_db_prep(r->sbx, db, "SELECT ts, ingestion, message, id FROM logs_events WHERE "
				 "grp = ?1 AND stream = ?2 AND ts >= ?3 AND ts < ?4 AND (ts > ?6 OR "
				 "(ts = ?6 AND id > ?7)) ORDER BY ts, id LIMIT ?5", "ssiiiii", group,
				 stream, start, end, limit, ts, id);
	arr = json_array();
	{
		long long a_ts = 0, a_id = 0, z_ts = 0, z_id = 0; /* first and last row seen */

		while (st && sqlite3_step(st) == SQLITE_ROW) {
			long long ets = sqlite3_column_int64(st, 0), eid = sqlite3_column_int64(st, 3);
			json_t *ev = json_pack("{s:I, s:s, s:I}", "timestamp", (json_int_t)ets,
					       "message", sbx_col(st, 2),
					       "ingestionTime", (json_int_t)sqlite3_column_int64(st, 1));

			if (backward)
				json_array_insert_new(arr, 0, ev);
			else
				json_array_append_new(arr, ev);
			if (json_array_size(arr) == 1) {
				a_ts = ets;
				a_id = eid;
			}
			z_ts = ets;
			z_id = eid;
		}
		sqlite3_finalize(st);
		sbx_db_unlock(r->sbx);
		n = json_array_size(arr);
		*out = json_object();
		json_object_set_new(*out, "events", arr);
		if (n > 0) {
			/* forward reads oldest first, backward newest first */
			long long old_ts = backward ? z_ts : a_ts, old_id = backward ? z_id : a_id;
			long long new_ts = backward ? a_ts : z_ts, new_id = backward ? a_id : z_id;

			json_object_set_new(*out, "nextForwardToken", pos_token('f', new_ts, new_id));
			json_object_set_new(*out, "nextBackwardToken", pos_token('b', old_ts, old_id));
		} else if (token) {
			/* nothing more this way: the same token marks the end */
			json_object_set_new(*out, "nextForwardToken", backward ?
					    pos_token('f', ts, id - 1) : json_string(token));
			json_object_set_new(*out, "nextBackwardToken", backward ?
					    json_string(token) : pos_token('b', ts, id + 1));
		} else {
			json_object_set_new(*out, "nextForwardToken", pos_token('f', LLONG_MIN, 0));
			json_object_set_new(*out, "nextBackwardToken", pos_token('b', LLONG_MAX, 0));
		}
	}
	return 0;
}

/* A filter pattern as terms: all must appear ("-term": must not); quoted phrases kept. */
struct filter {
	char *terms[MAX_FILTER_TERMS];
	int negate[MAX_FILTER_TERMS];
	int n;
	char *buf;
};

static int filter_parse(struct sbx_req *r, const char *pattern, struct filter *f)
{
	char *p;

	memset(f, 0, sizeof(*f));
	if (!pattern)
		return 0;
	f->buf = strdup(pattern);
	if (!f->buf)
		return db_fail(r);
	p = f->buf;
	for (;;) {
		int neg = 0;
		char *start;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (*p == '{' || *p == '[')
			return sbx_error(r, 400, "InvalidParameterException", "The sandbox supports "
					 "plain-text filter patterns only (terms and \"phrases\")");
		if (*p == '-' && p[1] && p[1] != ' ') {
			neg = 1;
			p++;
		}
		if (*p == '"') {
			start = ++p;
			while (*p && *p != '"')
				p++;
		} else {
			start = p;
			while (*p && *p != ' ' && *p != '\t')
				p++;
		}
		if (f->n == MAX_FILTER_TERMS)
			return sbx_error(r, 400, "InvalidParameterException",
					 "Too many terms in the filter pattern");
		f->negate[f->n] = neg;
		f->terms[f->n++] = start;
		if (*p)
			*p++ = '\0';
	}
	return 0;
}

static int filter_match(const struct filter *f, const char *message)
{
	for (int i = 0; i < f->n; i++) {
		int found = f->terms[i][0] == '\0' || strstr(message, f->terms[i]) != NULL;

		if (found == f->negate[i])
			return 0;
	}
	return 1;
}

static int filter_log_events(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *group = need(r, in, "logGroupName");
	const char *prefix = sbx_str(in, "logStreamNamePrefix");
	json_t *names = json_object_get(in, "logStreamNames");
	const char *token = sbx_str(in, "nextToken");
	long long start = sbx_int(in, "startTime", LLONG_MIN);
	long long end = sbx_int(in, "endTime", LLONG_MAX);
	long long limit, ts = LLONG_MIN, id = 0, last_ts = 0, last_id = 0;
	struct filter f;
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	json_t *arr = NULL, *searched = NULL, *res = NULL;
	int rc = -1;

	if (!group || get_limit(r, in, 10000, 10000, &limit) != 0)
		return -1;
	if (names && prefix)
		return sbx_error(r, 400, "InvalidParameterException", "You cannot specify both "
				 "logStreamNames and logStreamNamePrefix.");
	if (token) {
		char dir;

		if (parse_pos(token, &dir, &ts, &id) != 0 || dir != 'f')
			return sbx_error(r, 400, "InvalidParameterException",
					 "The specified nextToken is invalid.");
	}
	if (filter_parse(r, sbx_str(in, "filterPattern"), &f) != 0)
		goto out;
	db = sbx_db_lock(r->sbx);
	if (!group_exists(r->sbx, db, group)) {
		sbx_db_unlock(r->sbx);
		no_group(r);
		goto out;
	}
	st = sbx_db_prep(r->sbx, db, "SELECT stream, ts, ingestion, message, id FROM logs_events "
			 "WHERE grp = ?1 AND ts >= ?2 AND ts < ?3 AND (ts > ?4 OR (ts = ?4 AND "
			 "id > ?5)) AND substr(stream, 1, length(?6)) = ?6 ORDER BY ts, id", "siiiis",
			 group, start, end, ts, id, prefix ? prefix : "");
	arr = json_array();
	searched = json_array();
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		const char *stream = sbx_col(st, 0);
		char event_id[48];

		if (json_is_array(names)) {
			size_t i;
			json_t *nm;
			int hit = 0;

			json_array_foreach(names, i, nm)
				hit |= json_is_string(nm) && strcmp(json_string_value(nm), stream) == 0;
			if (!hit)
				continue;
		}
		if (!filter_match(&f, sbx_col(st, 3)))
			continue;
		if ((long long)json_array_size(arr) == limit) {
			json_object_set_new(res = json_object(), "nextToken",
					    pos_token('f', last_ts, last_id));
			break;
		}
		last_ts = sqlite3_column_int64(st, 1);
		last_id = sqlite3_column_int64(st, 4);
		snprintf(event_id, sizeof(event_id), "%020lld%016lld", last_ts, last_id);
		json_array_append_new(arr, json_pack("{s:s, s:I, s:s, s:I, s:s}", "logStreamName",
						     stream, "timestamp", (json_int_t)last_ts,
						     "message", sbx_col(st, 3), "ingestionTime",
						     (json_int_t)sqlite3_column_int64(st, 2),
						     "eventId", event_id));
	}
	sqlite3_finalize(st);
	/* every stream of the group that was searched */
	st = sbx_db_prep(r->sbx, db, "SELECT name FROM logs_streams WHERE grp = ?1 AND "
			 "substr(name, 1, length(?2)) = ?2 ORDER BY name", "ss", group,
			 prefix ? prefix : "");
	while (st && sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(searched, json_pack("{s:s, s:b}", "logStreamName",
							  sbx_col(st, 0), "searchedCompletely", 1));
	sqlite3_finalize(st);
	sbx_db_unlock(r->sbx);
	if (!res)
		res = json_object();
	json_object_set_new(res, "events", arr);
	json_object_set_new(res, "searchedLogStreams", searched);
	arr = searched = NULL;
	*out = res;
	rc = 0;
out:
	json_decref(arr);
	json_decref(searched);
	free(f.buf);
	return rc;
}

/* Every operation first stores the lines still waiting, so it sees (and comes after) them. */
#define FLUSHED(fn)                                                        \
	static int fn##_flushed(struct sbx_req *r, json_t *in, json_t **out) \
	{                                                                  \
		pending_flush(r->sbx);                                      \
		return fn(r, in, out);                                     \
	}
FLUSHED(create_log_group)
FLUSHED(create_log_stream)
FLUSHED(delete_log_group)
FLUSHED(delete_log_stream)
FLUSHED(delete_retention_policy)
FLUSHED(describe_log_groups)
FLUSHED(describe_log_streams)
FLUSHED(filter_log_events)
FLUSHED(get_log_events)
FLUSHED(put_log_events)
FLUSHED(put_retention_policy)

static const struct sbx_op ops[] = {
	{ "CreateLogGroup", create_log_group_flushed },
	{ "CreateLogStream", create_log_stream_flushed },
	{ "DeleteLogGroup", delete_log_group_flushed },
	{ "DeleteLogStream", delete_log_stream_flushed },
	{ "DeleteRetentionPolicy", delete_retention_policy_flushed },
	{ "DescribeLogGroups", describe_log_groups_flushed },
	{ "DescribeLogStreams", describe_log_streams_flushed },
	{ "FilterLogEvents", filter_log_events_flushed },
	{ "GetLogEvents", get_log_events_flushed },
	{ "PutLogEvents", put_log_events_flushed },
	{ "PutRetentionPolicy", put_retention_policy_flushed },
};

const struct sbx_service sbx_svc_logs = {
	.name = "logs",
	.schema = schema,
	.ops = ops,
	.nops = sizeof(ops) / sizeof(ops[0]),
	.shutdown = logs_shutdown,
};
