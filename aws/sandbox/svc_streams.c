/* svc_streams.c: DynamoDB Streams in the sandbox: one shard per stream, records appended
 * in the writer's transaction, opaque expiring iterators, 24-hour retention. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/sandbox/ddb_expr.h"
#include "aws/sandbox/sbx_int.h"
#include "aws/sandbox/streams.h"

#define DAY_MS (24LL * 3600 * 1000)
#define ITERATOR_TTL_MS (15LL * 60 * 1000)
#define MAX_READ_BYTES (1024 * 1024)

/* Per-sandbox state: when records were last trimmed. */
struct streams_state {
	pthread_mutex_t mu;
	long long last_trim_ms;
	pthread_cond_t appended;          /* on the store mutex: broadcast by each append */
	unsigned long long generation;    /* appends so far (store lock held) */
};

/* A stream row. */
struct stream {
	long long id;
	char arn[512];
	char region[64];
	char table[256];
	char label[32];
	char view[32];
	char shard[64];
	char key_schema[1024];
	long long created_ms, start_seq, end_seq, trimmed_seq;
	int closed;
};

/* A positive env integer, else def. */
static long long env_ms(const char *name, long long def)
{
	const char *v = getenv(name);
	char *end;
	long long x;
	if (!v || !*v)
		return def;
	x = strtoll(v, &end, 10);
	return *end == '\0' && x > 0 ? x : def;
}

static long long retention_ms(void)
{
	return env_ms("CLEANOPS_SBX_STREAM_RETENTION_MS", DAY_MS);
}

static long long iterator_ttl_ms(void)
{
	return env_ms("CLEANOPS_SBX_ITERATOR_TTL_MS", ITERATOR_TTL_MS);
}

static void seq_str(long long seq, char out[SBX_SEQ_LEN])
{
	snprintf(out, SBX_SEQ_LEN, "%021lld", seq);
}

/* Parse a sequence number (digits only). Returns 0 or -1. */
static int seq_parse(const char *s, long long *out)
{
	char *end;
	long long v;
	if (!s || !*s || strlen(s) > 21 || strspn(s, "0123456789") != strlen(s))
		return -1;
	v = strtoll(s, &end, 10);
	if (*end || v < 0)
		return -1;
	*out = v;
	return 0;
}

/* Drop records older than the retention (at most a few times a minute). Lock held. */
static void trim(struct sbx *s, sqlite3 *db)
{
	struct streams_state *ss = sbx_get_state(s, "dynamodbstreams");
	long long now = sbx_now_ms(), keep = retention_ms();
	long long every = keep / 4 < 60000 ? keep / 4 : 60000;
	long long cutoff = now - keep;
	if (!ss)
		return;
	pthread_mutex_lock(&ss->mu);
	if (now - ss->last_trim_ms < every) {
		pthread_mutex_unlock(&ss->mu);
		return;
	}
	ss->last_trim_ms = now;
	pthread_mutex_unlock(&ss->mu);
	sbx_db_run(s, db, "UPDATE ddb_streams SET trimmed_seq = (SELECT max(seq) FROM ddb_records r"
		   " WHERE r.sid = ddb_streams.id AND r.created_ms < ?1) WHERE EXISTS (SELECT 1"
		   " FROM ddb_records r WHERE r.sid = ddb_streams.id AND r.created_ms < ?1)",
		   "i", cutoff);
	sbx_db_run(s, db, "DELETE FROM ddb_records WHERE created_ms < ?", "i", cutoff);
	sbx_db_run(s, db, "DELETE FROM ddb_streams WHERE disabled_ms IS NOT NULL AND"
		   " disabled_ms < ?", "i", cutoff);
}

static int stream_load_by(struct sbx *s, sqlite3 *db, const char *where, const char *arn,
			  long long id, struct stream *out)
{
#define STREAM_SELECT "SELECT id, arn, region, table_name, label, view, shard_id," \
	" key_schema, created_ms, start_seq, end_seq, trimmed_seq FROM ddb_streams WHERE "
	/* the hot lookup (by ARN) stays prepared: its text is a constant */
	static const char by_arn[] = STREAM_SELECT "arn = ?";
	char sql[512];
	sqlite3_stmt *st;
	int rc = 1;

	if (arn && strcmp(where, "arn = ?") == 0) {
		st = sbx_db_stmt(s, db, by_arn, "s", arn);
	} else {
		snprintf(sql, sizeof(sql), STREAM_SELECT "%s", where);
		st = arn ? sbx_db_prep(s, db, sql, "s", arn) : sbx_db_prep(s, db, sql, "i", id);
	}
#undef STREAM_SELECT
	if (!st)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		out->id = sqlite3_column_int64(st, 0);
		snprintf(out->arn, sizeof(out->arn), "%s", sbx_col(st, 1));
		snprintf(out->region, sizeof(out->region), "%s", sbx_col(st, 2));
		snprintf(out->table, sizeof(out->table), "%s", sbx_col(st, 3));
		snprintf(out->label, sizeof(out->label), "%s", sbx_col(st, 4));
		snprintf(out->view, sizeof(out->view), "%s", sbx_col(st, 5));
		snprintf(out->shard, sizeof(out->shard), "%s", sbx_col(st, 6));
		snprintf(out->key_schema, sizeof(out->key_schema), "%s", sbx_col(st, 7));
		out->created_ms = sqlite3_column_int64(st, 8);
		out->start_seq = sqlite3_column_int64(st, 9);
		out->closed = sqlite3_column_type(st, 10) != SQLITE_NULL;
		out->end_seq = sqlite3_column_int64(st, 10);
		out->trimmed_seq = sqlite3_column_int64(st, 11);
		rc = 0;
	}
	sbx_db_done(s, st); /* finalizes an uncached one */
	return rc;
}

static int stream_load(struct sbx *s, sqlite3 *db, const char *arn, struct stream *out)
{
	if (!arn)
		return 1;
	return stream_load_by(s, db, "arn = ?", arn, 0, out);
}

/* The next sequence number the store will hand out. */
static long long next_seq(struct sbx *s, sqlite3 *db)
{
	sqlite3_stmt *st = sbx_db_prep(s, db, "SELECT seq FROM sqlite_sequence WHERE name ="
				       " 'ddb_records'", NULL);
	long long v = 0;
	if (st && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v + 1;
}

/* The last sequence number of stream id, or 0 when it has no records. */
static long long last_seq_of(struct sbx *s, sqlite3 *db, long long id)
{
	sqlite3_stmt *st = sbx_db_prep(s, db, "SELECT max(seq) FROM ddb_records WHERE sid = ?",
				       "i", id);
	long long v = 0;
	if (st && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* ---- write path ---- */

int sbx_streams_create(struct sbx *s, sqlite3 *db, const char *region, const char *table,
		       json_t *key_schema, const char *view_type, char *arn, size_t arnlen,
		       char label[32], long long *stream_id)
{
	long long now = sbx_now_ms();
	char *ks = json_dumps(key_schema, JSON_COMPACT);
	char shard[64], hex[9];
	int rc = -1;
	if (!ks)
		return -1;
	sbx_rand_chars(hex, 8, "0123456789abcdef");
	for (int tries = 0; tries < 1000; tries++, now++) {
		char full[32];
		struct stream existing;
		sbx_iso_time(now, full);
		full[strlen(full) - 1] = '\0'; /* labels carry no zone designator */
		snprintf(label, 32, "%s", full);
		snprintf(arn, arnlen, "arn:aws:dynamodb:%s:%s:table/%s/stream/%s", region,
			 SBX_ACCOUNT, table, label);
		if (stream_load(s, db, arn, &existing) == 1)
			break;
	}
	snprintf(shard, sizeof(shard), "shardId-%020lld-%s", now, hex);
	if (sbx_db_run(s, db, "INSERT INTO ddb_streams (arn, region, table_name, label, view,"
		       " key_schema, shard_id, created_ms, start_seq) VALUES (?,?,?,?,?,?,?,?,?)",
		       "sssssssii", arn, region, table, label, view_type, ks, shard, now,
		       next_seq(s, db)) != 1)
		goto done;
	*stream_id = sqlite3_last_insert_rowid(db);
	sbx_log(s, "INFO", "streams: created %s", arn);
	rc = 0;
done:
	free(ks);
	return rc;
}

int sbx_streams_close(struct sbx *s, sqlite3 *db, long long stream_id)
{
	long long last = last_seq_of(s, db, stream_id);
	return sbx_db_run(s, db, "UPDATE ddb_streams SET end_seq = CASE WHEN ?1 > 0 THEN ?1 ELSE"
			  " start_seq END, disabled_ms = ?2 WHERE id = ?3 AND end_seq IS NULL",
			  "iii", last, sbx_now_ms(), stream_id) < 0 ? -1 : 0;
}

int sbx_streams_append(struct sbx *s, sqlite3 *db, long long stream_id, const char *region,
		       const char *view_type, const char *event_name, json_t *keys,
		       json_t *old_image, json_t *new_image)
{
	long long now = sbx_now_ms();
	json_t *rec = NULL, *dd;
	char id[37], hexid[33];
	char *text = NULL;
	size_t size = sbx_ddb_item_size(keys);
	int want_new = strcmp(view_type, "NEW_IMAGE") == 0 ||
		       strcmp(view_type, "NEW_AND_OLD_IMAGES") == 0;
	int want_old = strcmp(view_type, "OLD_IMAGE") == 0 ||
		       strcmp(view_type, "NEW_AND_OLD_IMAGES") == 0;
	int rc = -1, o = 0;

	sbx_uuid(id);
	for (int i = 0; id[i]; i++)
		if (id[i] != '-')
			hexid[o++] = id[i];
	hexid[o] = '\0';
	dd = json_pack("{s:I, s:O}", "ApproximateCreationDateTime", (json_int_t)(now / 1000),
		       "Keys", keys);
	if (!dd)
		goto done;
	if (want_new && new_image) {
		json_object_set(dd, "NewImage", new_image);
		size += sbx_ddb_item_size(new_image);
	}
	if (want_old && old_image) {
		json_object_set(dd, "OldImage", old_image);
		size += sbx_ddb_item_size(old_image);
	}
	json_object_set_new(dd, "SizeBytes", json_integer((json_int_t)size));
	json_object_set_new(dd, "StreamViewType", json_string(view_type));
	rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "eventID", hexid, "eventName",
			event_name, "eventVersion", "1.1", "eventSource", "aws:dynamodb",
			"awsRegion", region, "dynamodb", dd);
	if (!rec)
		goto done;
	text = json_dumps(rec, JSON_COMPACT);
	if (!text)
		goto done;
	if (sbx_db_run(s, db, "INSERT INTO ddb_records (sid, created_ms, record) VALUES (?,?,?)",
		       "iis", stream_id, now, text) != 1)
		goto done;
	trim(s, db);
	{
		/* wake pollers (they run once the writer's transaction ends and unlocks) */
		struct streams_state *ss = sbx_get_state(s, "dynamodbstreams");

		if (ss) {
			ss->generation++;
			pthread_cond_broadcast(&ss->appended);
		}
	}
	rc = 0;
done:
	free(text);
	json_decref(rec);
	return rc;
}

/* ---- reading ---- */

/* Read up to limit records of st from position pos (a sequence number) into arr.
 * *next: the position after the last record returned (pos when none). *more: 1 when
 * records at or after *next exist. Lock held. Returns 0 or -1. */
static int read_records(struct sbx *s, sqlite3 *db, const struct stream *st, long long pos,
			long long limit, int with_arn, json_t *arr, long long *next, int *more)
{
	sqlite3_stmt *q = sbx_db_stmt(s, db, "SELECT seq, record FROM ddb_records WHERE sid = ?"
				      " AND seq >= ? ORDER BY seq LIMIT ?", "iii", st->id, pos,
				      limit + 1);
	long long n = 0, bytes = 0;
	int rc;
	*next = pos;
	*more = 0;
	if (!q)
		return -1;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		long long seq = sqlite3_column_int64(q, 0);
		json_t *rec;
		char seqs[SBX_SEQ_LEN];
		if (n >= limit || bytes >= MAX_READ_BYTES) {
			*more = 1;
			break;
		}
		rec = json_loadb((const char *)sqlite3_column_text(q, 1),
				 (size_t)sqlite3_column_bytes(q, 1), 0, NULL);
		if (!rec) {
			sbx_db_done(s, q);
			return -1;
		}
		seq_str(seq, seqs);
		json_object_set_new(json_object_get(rec, "dynamodb"), "SequenceNumber",
				    json_string(seqs));
		if (with_arn)
			json_object_set_new(rec, "eventSourceARN", json_string(st->arn));
		json_array_append_new(arr, rec);
		bytes += sqlite3_column_bytes(q, 1);
		n++;
		*next = seq + 1;
	}
	sbx_db_done(s, q);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static long long horizon(const struct stream *st)
{
	return st->trimmed_seq + 1 > st->start_seq ? st->trimmed_seq + 1 : st->start_seq;
}

int sbx_streams_read(struct sbx *s, const char *stream_arn, const char *after_seq, int limit,
		     json_t **records, char last_seq[SBX_SEQ_LEN], int *closed)
{
	sqlite3 *db = sbx_db_lock(s);
	struct stream st;
	json_t *arr = NULL;
	long long pos, after = 0, next;
	int more, rc = -1, found;

	char after_copy[SBX_SEQ_LEN];

	/* after_seq may alias last_seq: copy it before writing */
	snprintf(after_copy, sizeof(after_copy), "%s", after_seq ? after_seq : "");
	after_seq = after_copy;
	*records = NULL;
	*closed = 0;
	snprintf(last_seq, SBX_SEQ_LEN, "%s", after_copy);
	trim(s, db);
	found = stream_load(s, db, stream_arn, &st);
	if (found != 0) {
		rc = found > 0 ? SBX_STREAMS_NOT_FOUND : -1;
		goto done;
	}
	if (after_seq && *after_seq) {
		if (seq_parse(after_seq, &after))
			goto done;
		if (after + 1 <= st.trimmed_seq) {
			rc = SBX_STREAMS_TRIMMED;
			goto done;
		}
		pos = after + 1;
	} else {
		pos = horizon(&st);
	}
	arr = json_array();
	if (!arr)
		goto done;
	if (limit < 1)
		limit = 1;
	if (limit > 10000)
		limit = 10000;
	if (read_records(s, db, &st, pos, limit, 1, arr, &next, &more))
		goto done;
	if (next != pos)
		seq_str(next - 1, last_seq);
	*closed = st.closed && !more;
	*records = arr;
	arr = NULL;
	rc = 0;
done:
	sbx_db_unlock(s);
	json_decref(arr);
	return rc;
}

int sbx_streams_latest(struct sbx *s, const char *stream_arn, char seq[SBX_SEQ_LEN])
{
	sqlite3 *db = sbx_db_lock(s);
	struct stream st;
	int found = stream_load(s, db, stream_arn, &st), rc;
	seq[0] = '\0';
	if (found == 0) {
		long long last = last_seq_of(s, db, st.id);
		if (last > 0)
			seq_str(last, seq);
		rc = 0;
	} else {
		rc = found > 0 ? SBX_STREAMS_NOT_FOUND : -1;
	}
	sbx_db_unlock(s);
	return rc;
}

/* ---- iterators: "ARN|SHARD|POSITION|ISSUED_MS|CHECK" ---- */

static uint32_t fnv1a(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 16777619u;
	}
	return h;
}

static json_t *iterator_new(const struct stream *st, long long pos)
{
	char body[700], full[720];
	int n = snprintf(body, sizeof(body), "%s|%s|%lld|%lld", st->arn, st->shard, pos,
			 sbx_now_ms());
	if (n < 0 || (size_t)n >= sizeof(body))
		return NULL;
	snprintf(full, sizeof(full), "%s|%08x", body, fnv1a(body, (size_t)n));
	return json_string(full);
}

struct iter {
	char arn[512];
	char shard[64];
	long long pos, issued;
};

/* Parse and check an iterator's form. Returns 0 or -1. */
static int iterator_parse(const char *text, struct iter *it)
{
	const char *bar[4];
	const char *p;
	char *end;
	unsigned long check;
	int n = 0;
	size_t len;
	if (!text || (len = strlen(text)) > 700 || len < 10)
		return -1;
	/* the last four separators (an ARN holds no '|') */
	for (p = text + len; p > text && n < 4; p--)
		if (p[-1] == '|')
			bar[n++] = p - 1;
	if (n != 4 || strchr(text, '|') != bar[3])
		return -1;
	check = strtoul(bar[0] + 1, &end, 16);
	if (*end || end - (bar[0] + 1) != 8 || check != fnv1a(text, (size_t)(bar[0] - text)))
		return -1;
	if ((size_t)(bar[3] - text) >= sizeof(it->arn) ||
	    (size_t)(bar[2] - bar[3] - 1) >= sizeof(it->shard))
		return -1;
	memcpy(it->arn, text, (size_t)(bar[3] - text));
	it->arn[bar[3] - text] = '\0';
	memcpy(it->shard, bar[3] + 1, (size_t)(bar[2] - bar[3] - 1));
	it->shard[bar[2] - bar[3] - 1] = '\0';
	it->pos = strtoll(bar[2] + 1, &end, 10);
	if (end != bar[1])
		return -1;
	it->issued = strtoll(bar[1] + 1, &end, 10);
	if (end != bar[0])
		return -1;
	return 0;
}

/* ---- operations ---- */

static int verr(struct sbx_req *r, const char *msg)
{
	return sbx_error(r, 400, "ValidationException", "%s", msg);
}

static int internal(struct sbx_req *r)
{
	return sbx_error(r, 500, "InternalServerError", "Internal server error");
}

static int stream_missing(struct sbx_req *r, const char *arn)
{
	return sbx_error(r, 400, "ResourceNotFoundException",
			 "Requested resource not found: Stream: %s not found", arn ? arn : "null");
}

static int list_streams(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *table = sbx_str(in, "TableName");
	const char *start = sbx_str(in, "ExclusiveStartStreamArn");
	long long limit = sbx_int(in, "Limit", 100), after = 0, n = 0;
	json_t *arr = json_array(), *res = NULL, *last = NULL;
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (!arr)
		return internal(r);
	if (limit < 1 || limit > 100) {
		json_decref(arr);
		return verr(r, "1 validation error detected: Value at 'limit' failed to satisfy "
			    "constraint: Member must have value between 1 and 100");
	}
	db = sbx_db_lock(r->sbx);
	trim(r->sbx, db);
	if (start) {
		struct stream ss;
		if (stream_load(r->sbx, db, start, &ss) != 0) {
			stream_missing(r, start);
			goto done;
		}
		after = ss.id;
	}
	st = sbx_db_prep(r->sbx, db, "SELECT arn, table_name, label FROM ddb_streams WHERE"
			 " region = ?1 AND (?2 IS NULL OR table_name = ?2) AND id > ?3 ORDER BY id",
			 "ssi", r->region, table, after);
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		json_t *row;
		if (n == limit) {
			last = json_object_get(json_array_get(arr, json_array_size(arr) - 1),
					       "StreamArn");
			break;
		}
		row = json_pack("{s:s, s:s, s:s}", "StreamArn", sbx_col(st, 0), "TableName",
				sbx_col(st, 1), "StreamLabel", sbx_col(st, 2));
		if (!row) {
			internal(r);
			goto done;
		}
		json_array_append_new(arr, row);
		n++;
	}
	if (table && n == 0) {
		sqlite3_stmt *t = sbx_db_prep(r->sbx, db, "SELECT 1 FROM ddb_tables WHERE region = ?"
					      " AND name = ?", "ss", r->region, table);
		int exists = t && sqlite3_step(t) == SQLITE_ROW;
		sqlite3_finalize(t);
		if (!exists) {
			sbx_error(r, 400, "ResourceNotFoundException",
				  "Requested resource not found: Table: %s not found", table);
			goto done;
		}
	}
	res = json_pack("{s:O}", "Streams", arr);
	if (!res) {
		internal(r);
		goto done;
	}
	if (last)
		json_object_set(res, "LastEvaluatedStreamArn", last);
	*out = res;
	rc = 0;
done:
	sqlite3_finalize(st);
	sbx_db_unlock(r->sbx);
	json_decref(arr);
	return rc;
}

static int describe_stream(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *arn = sbx_str(in, "StreamArn");
	const char *after_shard = sbx_str(in, "ExclusiveStartShardId");
	struct stream st;
	json_t *shards, *range, *ks, *desc;
	char seqs[SBX_SEQ_LEN];
	sqlite3 *db;
	int found;

	if (!arn)
		return verr(r, "1 validation error detected: Value null at 'streamArn' failed to "
			    "satisfy constraint: Member must not be null");
	db = sbx_db_lock(r->sbx);
	trim(r->sbx, db);
	found = stream_load(r->sbx, db, arn, &st);
	sbx_db_unlock(r->sbx);
	if (found)
		return found > 0 ? stream_missing(r, arn) : internal(r);
	shards = json_array();
	seq_str(st.start_seq, seqs);
	range = json_pack("{s:s}", "StartingSequenceNumber", seqs);
	if (!shards || !range) {
		json_decref(shards);
		json_decref(range);
		return internal(r);
	}
	if (st.closed) {
		seq_str(st.end_seq, seqs);
		json_object_set_new(range, "EndingSequenceNumber", json_string(seqs));
	}
	if (!after_shard || strcmp(after_shard, st.shard) != 0)
		json_array_append_new(shards, json_pack("{s:s, s:O}", "ShardId", st.shard,
							"SequenceNumberRange", range));
	json_decref(range);
	ks = json_loads(st.key_schema, 0, NULL);
	desc = json_pack("{s:s, s:s, s:s, s:s, s:f, s:s, s:o, s:o}", "StreamArn", st.arn,
			 "StreamLabel", st.label, "StreamStatus", st.closed ? "DISABLED" : "ENABLED",
			 "StreamViewType", st.view, "CreationRequestDateTime",
			 (double)st.created_ms / 1000.0, "TableName", st.table,
			 "KeySchema", ks ? ks : json_array(), "Shards", shards);
	if (!desc)
		return internal(r);
	*out = json_pack("{s:o}", "StreamDescription", desc);
	return *out ? 0 : internal(r);
}

static int get_shard_iterator(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *arn = sbx_str(in, "StreamArn");
	const char *shard = sbx_str(in, "ShardId");
	const char *type = sbx_str(in, "ShardIteratorType");
	const char *seqtext = sbx_str(in, "SequenceNumber");
	struct stream st;
	sqlite3 *db;
	long long pos = 0, seq = 0;
	json_t *it;
	int found, at, afterp;

	if (!arn || !shard || !type)
		return verr(r, "1 validation error detected: StreamArn, ShardId and "
			    "ShardIteratorType must not be null");
	at = strcmp(type, "AT_SEQUENCE_NUMBER") == 0;
	afterp = strcmp(type, "AFTER_SEQUENCE_NUMBER") == 0;
	if (!at && !afterp && strcmp(type, "TRIM_HORIZON") != 0 && strcmp(type, "LATEST") != 0)
		return verr(r, "1 validation error detected: Value at 'shardIteratorType' failed to "
			    "satisfy constraint: Member must satisfy enum value set: [TRIM_HORIZON, "
			    "LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER]");
	if ((at || afterp) && !seqtext)
		return sbx_error(r, 400, "ValidationException", "Must specify a SequenceNumber for "
				 "iterator type %s", type);
	if (!at && !afterp && seqtext)
		return sbx_error(r, 400, "ValidationException", "Must not specify a SequenceNumber "
				 "for iterator type %s", type);
	if ((at || afterp) && seq_parse(seqtext, &seq))
		return sbx_error(r, 400, "ValidationException", "Invalid SequenceNumber: %s",
				 seqtext);
	db = sbx_db_lock(r->sbx);
	trim(r->sbx, db);
	found = stream_load(r->sbx, db, arn, &st);
	if (found) {
		sbx_db_unlock(r->sbx);
		return found > 0 ? stream_missing(r, arn) : internal(r);
	}
	if (strcmp(shard, st.shard) != 0) {
		sbx_db_unlock(r->sbx);
		return sbx_error(r, 400, "ResourceNotFoundException", "Requested resource not "
				 "found: Shard does not exist");
	}
	if (strcmp(type, "TRIM_HORIZON") == 0) {
		pos = horizon(&st);
	} else if (strcmp(type, "LATEST") == 0) {
		long long last = last_seq_of(r->sbx, db, st.id);
		pos = st.closed ? st.end_seq + 1 : (last ? last + 1 : next_seq(r->sbx, db));
		if (pos < st.start_seq)
			pos = st.start_seq;
	} else {
		pos = at ? seq : seq + 1;
		if (seq < st.start_seq || (st.closed && seq > st.end_seq)) {
			sbx_db_unlock(r->sbx);
			return sbx_error(r, 400, "ValidationException", "Invalid SequenceNumber: %s "
					 "is outside the shard's sequence number range", seqtext);
		}
		if (seq <= st.trimmed_seq) {
			sbx_db_unlock(r->sbx);
			return sbx_error(r, 400, "TrimmedDataAccessException", "The requested "
					 "sequence number %s is beyond the trim horizon of the stream",
					 seqtext);
		}
	}
	sbx_db_unlock(r->sbx);
	it = iterator_new(&st, pos);
	if (!it)
		return internal(r);
	*out = json_pack("{s:o}", "ShardIterator", it);
	return *out ? 0 : internal(r);
}

static int get_records(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *text = sbx_str(in, "ShardIterator");
	long long limit = sbx_int(in, "Limit", 1000), now = sbx_now_ms(), ttl = iterator_ttl_ms();
	struct iter it;
	struct stream st;
	json_t *arr = NULL, *res = NULL;
	sqlite3 *db;
	long long next;
	int more, found, rc = -1;

	if (!text)
		return verr(r, "1 validation error detected: Value null at 'shardIterator' failed "
			    "to satisfy constraint: Member must not be null");
	if (limit < 1 || limit > 1000)
		return sbx_error(r, 400, "ValidationException", "1 validation error detected: Value "
				 "'%lld' at 'limit' failed to satisfy constraint: Member must have "
				 "value less than or equal to 1000", limit);
	if (iterator_parse(text, &it))
		return verr(r, "Invalid ShardIterator");
	if (now - it.issued > ttl)
		return sbx_error(r, 400, "ExpiredIteratorException", "Iterator expired. The iterator "
				 "was created at time %lld while right now it is %lld which is "
				 "further in the future than the tolerated delay of %lld milliseconds.",
				 it.issued, now, ttl);
	db = sbx_db_lock(r->sbx);
	trim(r->sbx, db);
	found = stream_load(r->sbx, db, it.arn, &st);
	if (found) {
		sbx_db_unlock(r->sbx);
		return found > 0 ? stream_missing(r, it.arn) : internal(r);
	}
	if (strcmp(it.shard, st.shard) != 0) {
		sbx_db_unlock(r->sbx);
		return verr(r, "Invalid ShardIterator");
	}
	if (it.pos <= st.trimmed_seq) {
		sbx_db_unlock(r->sbx);
		return sbx_error(r, 400, "TrimmedDataAccessException", "The operation attempted to "
				 "read past the oldest stream record in a shard");
	}
	arr = json_array();
	if (!arr || read_records(r->sbx, db, &st, it.pos, limit, 0, arr, &next, &more)) {
		sbx_db_unlock(r->sbx);
		internal(r);
		goto done;
	}
	sbx_db_unlock(r->sbx);
	res = json_pack("{s:O}", "Records", arr);
	if (!res) {
		internal(r);
		goto done;
	}
	/* a closed shard read to its end has no next iterator */
	if (!(st.closed && !more)) {
		json_t *nit = iterator_new(&st, next);
		if (!nit) {
			internal(r);
			goto done;
		}
		json_object_set_new(res, "NextShardIterator", nit);
	}
	*out = res;
	res = NULL;
	rc = 0;
done:
	json_decref(arr);
	json_decref(res);
	return rc;
}

void sbx_streams_wait(struct sbx *s, unsigned long long *seen, long timeout_ms)
{
	struct streams_state *ss;
	struct timespec ts;

	sbx_db_lock(s);
	ss = sbx_get_state(s, "dynamodbstreams");
	if (ss && ss->generation == *seen && timeout_ms > 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += timeout_ms / 1000;
		ts.tv_nsec += (timeout_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&ss->appended, sbx_db_mutex(s), &ts);
	}
	if (ss)
		*seen = ss->generation;
	sbx_db_unlock(s);
}

static int streams_init(struct sbx *s)
{
	struct streams_state *ss = calloc(1, sizeof(*ss));
	pthread_condattr_t ca;
	if (!ss)
		return -1;
	pthread_mutex_init(&ss->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ss->appended, &ca);
	pthread_condattr_destroy(&ca);
	sbx_set_state(s, "dynamodbstreams", ss);
	return 0;
}

static void streams_shutdown(struct sbx *s)
{
	struct streams_state *ss = sbx_get_state(s, "dynamodbstreams");
	if (!ss)
		return;
	sbx_db_lock(s); /* no waiter may be between its check and its wait */
	sbx_set_state(s, "dynamodbstreams", NULL);
	sbx_db_unlock(s);
	pthread_cond_destroy(&ss->appended);
	pthread_mutex_destroy(&ss->mu);
	free(ss);
}

static const struct sbx_op ops[] = {
	{"DescribeStream", describe_stream},
	{"GetRecords", get_records},
	{"GetShardIterator", get_shard_iterator},
	{"ListStreams", list_streams},
};

const struct sbx_service sbx_svc_streams = {
	.name = "dynamodbstreams",
	.schema = NULL, /* the tables live in svc_dynamodb.c's schema */
	.ops = ops,
	.nops = sizeof(ops) / sizeof(ops[0]),
	.init = streams_init,
	.shutdown = streams_shutdown,
	.route = NULL,
};
