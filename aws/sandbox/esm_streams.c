/* esm_streams.c: the DynamoDB Streams poller of an event source mapping: the shard in order,
 * checkpoints in the store, retries, bisection, and the on-failure destination. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sandbox/esm.h"
#include "aws/sandbox/sbx_int.h"
#include "aws/sandbox/iam_enforce.h"
#include "aws/sandbox/streams.h"

#define IDLE_POLL_MS 250      /* an idle shard waits for appends at most this long */
#define CLOSED_POLL_MS 1000
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 2000

/* One poller's position. */
struct shard_pos {
	struct esm_mapping *m;
	char shard[64];
	char cursor[SBX_SEQ_LEN];   /* the last committed sequence number, "" for none */
};

int sbx_esm_checkpoint_get(struct sbx *s, const char *uuid, char *seq, size_t n)
{
	sqlite3 *db = sbx_db_lock(s);
	sqlite3_stmt *st = sbx_db_stmt(s, db, "SELECT seq FROM esm_checkpoints WHERE uuid = ?",
				       "s", uuid);
	int rc = -1, step;

	if (st) {
		step = sqlite3_step(st);
		if (step == SQLITE_ROW) {
			snprintf(seq, n, "%s", sbx_col(st, 0));
			rc = 0;
		} else if (step == SQLITE_DONE) {
			snprintf(seq, n, "%s", "");
			rc = 1;
		}
	}
	sbx_db_done(s, st);
	sbx_db_unlock(s);
	return rc;
}

int sbx_esm_checkpoint_set(struct sbx *s, const char *uuid, const char *seq)
{
	sqlite3 *db = sbx_db_lock(s);
	int rc = sbx_db_run(s, db, "INSERT OR REPLACE INTO esm_checkpoints (uuid, seq) VALUES"
			    " (?, ?)", "ss", uuid, seq) == 1 ? 0 : -1;

	sbx_db_unlock(s);
	return rc;
}

static const char *seq_of(json_t *rec)
{
	const char *seq = json_string_value(json_object_get(json_object_get(rec, "dynamodb"),
							    "SequenceNumber"));

	return seq ? seq : "";
}

static long long created_ms(json_t *rec)
{
	json_t *t = json_object_get(json_object_get(rec, "dynamodb"), "ApproximateCreationDateTime");

	if (json_is_integer(t))
		return (long long)json_integer_value(t) * 1000;
	if (json_is_real(t))
		return (long long)(json_real_value(t) * 1000.0);
	return sbx_now_ms();
}

/* Commit the batch up to and including record i: the cursor and the stored checkpoint. */
static void commit(struct shard_pos *p, json_t *recs, size_t i)
{
	snprintf(p->cursor, sizeof(p->cursor), "%s", seq_of(json_array_get(recs, i)));
	if (sbx_esm_checkpoint_set(p->m->sbx, p->m->uuid, p->cursor) != 0)
		sbx_log(p->m->sbx, "ERROR", "esm %s: cannot store the checkpoint %s", p->m->uuid,
			p->cursor);
}

/* Discard records [lo, hi): the invocation record goes to the on-failure destination. */
static void discard(struct shard_pos *p, const struct esm_config *cfg, json_t *recs, size_t lo,
		    size_t hi, const char *condition, int attempts,
		    const struct sbx_invoke_result *res)
{
	struct esm_mapping *m = p->m;
	char rid[37], now[32], first[32], last[32], why[1024];
	json_t *doc, *resp;
	char *text;

	sbx_uuid(rid);
	sbx_iso_time(sbx_now_ms(), now);
	sbx_iso_time(created_ms(json_array_get(recs, lo)), first);
	sbx_iso_time(created_ms(json_array_get(recs, hi - 1)), last);
	resp = json_pack("{s:i, s:s}", "statusCode", 200, "executedVersion", "$LATEST");
	if (resp && res && res->function_error)
		json_object_set_new(resp, "functionError", json_string("Unhandled"));
	doc = json_pack("{s:{s:s, s:s, s:s, s:i}, s:o, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, "
			"s:i, s:s}}",
			"requestContext", "requestId", rid, "functionArn", cfg->function_arn,
			"condition", condition, "approximateInvokeCount", attempts,
			"responseContext", resp, "version", "1.0", "timestamp", now,
			"DDBStreamBatchInfo", "shardId", p->shard,
			"startSequenceNumber", seq_of(json_array_get(recs, lo)),
			"endSequenceNumber", seq_of(json_array_get(recs, hi - 1)),
			"approximateArrivalOfFirstRecord", first,
			"approximateArrivalOfLastRecord", last,
			"batchSize", (int)(hi - lo), "streamArn", m->source_arn);
	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	if (!cfg->destination[0])
		sbx_log(m->sbx, "WARN", "esm %s: discarded %zu records (%s), no on-failure "
			"destination", m->uuid, hi - lo, condition);
	else if (!sbx_iam_function_allows(m->sbx, cfg->function_arn, "sqs:SendMessage",
					  cfg->destination, why, sizeof(why)))
		sbx_log(m->sbx, "WARN", "esm %s: the failure record of %zu records is lost: %s",
			m->uuid, hi - lo, why);
	else if (!text || sbx_sqs_send_internal(m->sbx, cfg->destination, text, NULL) != 0)
		sbx_log(m->sbx, "ERROR", "esm %s: cannot send the failure record to %s", m->uuid,
			cfg->destination);
	else
		sbx_log(m->sbx, "INFO", "esm %s: discarded %zu records (%s) -> %s", m->uuid,
			hi - lo, condition, cfg->destination);
	free(text);
	json_decref(doc);
}

/* Invoke with records [lo, hi). Returns 0 ran (res says how), -1 not run. On success
 * with ReportBatchItemFailures, *first_failed is the index of the lowest reported record
 * (hi when none), or -1 when the response was invalid. */
static int invoke_range(struct shard_pos *p, const struct esm_config *cfg, json_t *recs,
			size_t lo, size_t hi, struct sbx_invoke_result *res, long *first_failed)
{
	json_t *slice = json_array(), *event;
	const char **ids = calloc(hi - lo, sizeof(*ids));
	unsigned char *failed = calloc(hi - lo, 1);
	struct aws_buf out;
	char *payload = NULL;
	int rc = -1, nf;

	aws_buf_init(&out, 0);
	memset(res, 0, sizeof(*res));
	*first_failed = (long)hi;
	if (!slice || !ids || !failed)
		goto done;
	for (size_t i = lo; i < hi; i++) {
		json_array_append(slice, json_array_get(recs, i));
		ids[i - lo] = seq_of(json_array_get(recs, i));
	}
	event = json_pack("{s:O}", "Records", slice);
	payload = event ? json_dumps(event, JSON_COMPACT) : NULL;
	json_decref(event);
	if (!payload)
		goto done;
	if (sbx_esm_invoke(p->m, cfg, payload, strlen(payload), &out, res) != 0)
		goto done;
	rc = 0;
	if (res->function_error || !cfg->report_failures)
		goto done;
	nf = sbx_esm_parse_failures(out.data ? out.data : "", out.len, ids, hi - lo, failed);
	if (nf < 0) {
		*first_failed = -1;
		goto done;
	}
	for (size_t i = 0; i < hi - lo; i++) {
		if (failed[i]) {
			*first_failed = (long)(lo + i);
			break;
		}
	}
done:
	aws_buf_cleanup(&out);
	free(payload);
	free(ids);
	free(failed);
	json_decref(slice);
	return rc;
}

/* Deliver records [lo, hi) of recs: retry, bisect, discard. Returns 0 when the range is
 * committed (delivered or discarded), -1 when the poller was interrupted first. */
static int run_batch(struct shard_pos *p, const struct esm_config *cfg, json_t *recs, size_t lo,
		     size_t hi)
{
	struct esm_mapping *m = p->m;
	struct sbx_invoke_result res;
	long backoff = BACKOFF_FIRST_MS;
	int attempts = 0;

	while (lo < hi) {
		long first_failed;
		int partial = 0;

		if (sbx_esm_interrupted(m))
			return -1;
		if (cfg->max_age >= 0) {
			size_t k = lo;
			long long oldest = sbx_now_ms() - (long long)cfg->max_age * 1000;

			while (k < hi && created_ms(json_array_get(recs, k)) < oldest)
				k++;
			if (k > lo) {
				discard(p, cfg, recs, lo, k, "RecordAgeExceeded", attempts, NULL);
				commit(p, recs, k - 1);
				lo = k;
				continue;
			}
		}
		if (invoke_range(p, cfg, recs, lo, hi, &res, &first_failed) != 0) {
			/* not run: throttles do not count against the retries */
			sbx_log(m->sbx, "WARN", "esm %s: invoke of %s not run (%s%s)", m->uuid,
				cfg->function_arn, res.throttled ? "throttled " : "", res.error_type);
			sbx_esm_result(m, "PROBLEM: Function call failed");
			if (sbx_esm_sleep(m, backoff) != 0)
				return -1;
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
			continue;
		}
		attempts++;
		if (!res.function_error && first_failed == (long)hi) {
			commit(p, recs, hi - 1);
			sbx_esm_result(m, "OK");
			return 0;
		}
		if (!res.function_error && first_failed >= 0) {
			/* partial: what precedes the lowest reported record is done */
			if ((size_t)first_failed > lo) {
				commit(p, recs, (size_t)first_failed - 1);
				lo = (size_t)first_failed;
			}
			partial = 1;
		}
		sbx_esm_result(m, "PROBLEM: Function call failed");
		if (!partial && cfg->bisect && hi - lo > 1) {
			size_t mid = lo + (hi - lo) / 2;

			sbx_log(m->sbx, "INFO", "esm %s: bisecting a failed batch of %zu", m->uuid,
				hi - lo);
			if (run_batch(p, cfg, recs, lo, mid) != 0)
				return -1;
			return run_batch(p, cfg, recs, mid, hi);
		}
		if (cfg->max_retry >= 0 && attempts > cfg->max_retry) {
			discard(p, cfg, recs, lo, hi, "RetryAttemptsExhausted", attempts, &res);
			commit(p, recs, hi - 1);
			return 0;
		}
		if (sbx_esm_sleep(m, backoff) != 0)
			return -1;
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
	}
	return 0;
}

/* The shard id of the stream (one shard per sandbox stream). */
static void shard_of(struct sbx *s, const char *arn, char *out, size_t n)
{
	sqlite3 *db = sbx_db_lock(s);
	sqlite3_stmt *st = sbx_db_stmt(s, db, "SELECT shard_id FROM ddb_streams WHERE arn = ?", "s",
				       arn);

	snprintf(out, n, "%s", st && sqlite3_step(st) == SQLITE_ROW ? sbx_col(st, 0) : "");
	sbx_db_done(s, st);
	sbx_db_unlock(s);
}

/* May the execution role read the stream (IAM enforcement)? AWS asks for GetRecords,
 * GetShardIterator and DescribeStream on the stream. A refusal is logged. */
static int stream_readable(struct esm_mapping *m, const struct esm_config *cfg)
{
	static const char *const actions[] = { "dynamodb:DescribeStream",
		"dynamodb:GetShardIterator", "dynamodb:GetRecords" };
	char why[1024];

	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (sbx_iam_function_allows(m->sbx, cfg->function_arn, actions[i], m->source_arn,
					    why, sizeof(why)))
			continue;
		sbx_log(m->sbx, "WARN", "esm %s: %s", m->uuid, why);
		return 0;
	}
	return 1;
}

void *sbx_esm_stream_worker(void *arg)
{
	struct shard_pos p;
	struct esm_config cfg;
	long long window_start = 0;
	unsigned long long seen = 0;   /* stream appends seen (sbx_streams_wait) */

	memset(&p, 0, sizeof(p));
	p.m = arg;
	shard_of(p.m->sbx, p.m->source_arn, p.shard, sizeof(p.shard));
	if (sbx_esm_checkpoint_get(p.m->sbx, p.m->uuid, p.cursor, sizeof(p.cursor)) < 0)
		p.cursor[0] = '\0';
	while (sbx_esm_gate(p.m, &cfg) == 0) {
		json_t *recs = NULL;
		char last[SBX_SEQ_LEN];
		int closed = 0, rc;
		size_t n;

		if (!stream_readable(p.m, &cfg)) {
			sbx_esm_result(p.m, "PROBLEM: Lambda does not have permission to read the "
				       "stream: the execution role is denied dynamodb:GetRecords");
			sbx_esm_sleep(p.m, CLOSED_POLL_MS);
			continue;
		}
		rc = sbx_streams_read(p.m->sbx, p.m->source_arn, p.cursor, cfg.batch_size, &recs,
				      last, &closed);
		if (rc == SBX_STREAMS_TRIMMED) {
			sbx_log(p.m->sbx, "WARN", "esm %s: records after %s expired; resuming at the "
				"trim horizon", p.m->uuid, p.cursor);
			p.cursor[0] = '\0';
			continue;
		}
		if (rc != 0) {
			sbx_esm_result(p.m, "PROBLEM: Lambda was unable to read the stream");
			sbx_esm_sleep(p.m, CLOSED_POLL_MS);
			continue;
		}
		n = json_array_size(recs);
		if (n == 0) {
			json_decref(recs);
			if (closed)
				sbx_esm_sleep(p.m, CLOSED_POLL_MS);
			else
				sbx_streams_wait(p.m->sbx, &seen, IDLE_POLL_MS);
			continue;
		}
		if (!p.shard[0])
			shard_of(p.m->sbx, p.m->source_arn, p.shard, sizeof(p.shard));
		if (n < (size_t)cfg.batch_size && cfg.window_s > 0) {
			long long now = sbx_now_ms(), left;

			if (!window_start)
				window_start = now;
			left = window_start + (long long)cfg.window_s * 1000 - now;
			if (left > 0) {
				json_decref(recs);
				sbx_esm_sleep(p.m, left < IDLE_POLL_MS ? (long)left : IDLE_POLL_MS);
				continue;
			}
		}
		window_start = 0;
		run_batch(&p, &cfg, recs, 0, n);
		json_decref(recs);
	}
	sbx_esm_worker_exit(p.m);
	return NULL;
}
