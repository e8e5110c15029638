/* esm.c: Lambda event source mappings in the sandbox: the rest-json control plane under
 * /2015-03-31/event-source-mappings, the store rows, and the lifecycle of the pollers. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/sandbox/esm.h"
#include "aws/sandbox/iam_enforce.h"
#include "aws/sandbox/sbx_int.h"
#include "aws/sandbox/sqs.h"
#include "aws/sandbox/streams.h"

/* The Lambda service (svc_lambda.c) may not be linked in yet: weak references, checked. */
#pragma weak sbx_lambda_invoke
#pragma weak sbx_lambda_arn

#define ESM_PATH "/2015-03-31/event-source-mappings"
#define STATE_KEY "lambda-esm"
#define INVOKE_WAIT_MS 30000L

static const char esm_schema[] =
	"CREATE TABLE IF NOT EXISTS esm_mappings("
	" uuid TEXT PRIMARY KEY, kind TEXT NOT NULL, function_arn TEXT NOT NULL,"
	" source_arn TEXT NOT NULL, config TEXT NOT NULL, state TEXT NOT NULL,"
	" reason TEXT NOT NULL, last_result TEXT NOT NULL, modified INTEGER NOT NULL,"
	" created INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS esm_checkpoints(uuid TEXT PRIMARY KEY, seq TEXT NOT NULL);";

#define ROW_COLS "uuid, kind, function_arn, source_arn, config, state, reason, last_result," \
	" modified"

/* Every mapping of one sandbox. */
struct esm {
	struct sbx *sbx;
	pthread_mutex_t mu;
	pthread_cond_t cond;     /* CLOCK_MONOTONIC; broadcast on any change */
	int stopping;
	struct esm_mapping *list;
};

static sbx_esm_invoke_fn invoker;

void sbx_esm_set_invoker(sbx_esm_invoke_fn fn)
{
	invoker = fn;
}

void sbx_esm_function_deleted(struct sbx *s, const char *function_arn)
{
	(void)s;
	(void)function_arn;
}

/* ---- small helpers ---- */

static void mono_deadline(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* The region field of an ARN into out ("" when malformed). */
static void arn_region(const char *arn, char *out, size_t n)
{
	const char *p = arn;
	size_t len;

	out[0] = '\0';
	for (int i = 0; i < 3 && p; i++) {
		p = strchr(p, ':');
		if (p)
			p++;
	}
	if (!p)
		return;
	len = strcspn(p, ":");
	if (len >= n)
		len = n - 1;
	memcpy(out, p, len);
	out[len] = '\0';
}

static int is_sqs_arn(const char *arn)
{
	return strncmp(arn, "arn:aws:sqs:", 12) == 0;
}

static int is_stream_arn(const char *arn)
{
	return strncmp(arn, "arn:aws:dynamodb:", 17) == 0 && strstr(arn, "/stream/") != NULL;
}

/* Percent-decode a query value (with '+' as space). Returns a malloc'd string. */
static char *url_decode(const char *p, size_t len)
{
	char *out = malloc(len + 1);
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '%' && i + 2 < len && isxdigit((unsigned char)p[i + 1]) &&
		    isxdigit((unsigned char)p[i + 2])) {
			char hex[3] = { p[i + 1], p[i + 2], '\0' };
			char *end;
			long v = strtol(hex, &end, 16);

			if (end == hex + 2) {
				out[o++] = (char)v;
				i += 2;
				continue;
			}
		}
		out[o++] = p[i] == '+' ? ' ' : p[i];
	}
	out[o] = '\0';
	return out;
}

/* A query parameter's decoded value (caller frees), or NULL when absent. */
static char *query_param(const char *query, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = query;

	while (p && *p) {
		size_t len = strcspn(p, "&");

		if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=')
			return url_decode(p + nlen + 1, len - nlen - 1);
		p += len;
		if (*p == '&')
			p++;
	}
	return NULL;
}

static struct esm *esm_of(struct sbx *s)
{
	return sbx_get_state(s, STATE_KEY);
}

static struct esm_mapping *find_mapping(struct esm *e, const char *uuid)
{
	for (struct esm_mapping *m = e->list; m; m = m->next)
		if (!m->deleted && strcmp(m->uuid, uuid) == 0)
			return m;
	return NULL;
}

/* The function's ARN (name, partial or full ARN) into out. Returns 0 or -1. */
static int function_arn(struct sbx *s, const char *name, char *out, size_t n)
{
	if (invoker) {
		/* a test's invoker: every function exists */
		if (strncmp(name, "arn:", 4) == 0)
			snprintf(out, n, "%s", name);
		else
			snprintf(out, n, "arn:aws:lambda:%s:%s:function:%s", SBX_DEFAULT_REGION,
				 SBX_ACCOUNT, name);
		return 0;
	}
	if (!sbx_lambda_arn)
		return -1;
	return sbx_lambda_arn(s, name, out, n);
}

/* ---- the settings ---- */

static int cfg_int(json_t *config, const char *name, int def)
{
	json_t *v = json_object_get(config, name);

	return json_is_integer(v) ? (int)json_integer_value(v) : def;
}

/* The pollers' view of a stored config object. */
static void cfg_from_json(json_t *config, const char *farn, struct esm_config *c)
{
	json_t *types = json_object_get(config, "FunctionResponseTypes");
	const char *dest = json_string_value(json_object_get(
		json_object_get(json_object_get(config, "DestinationConfig"), "OnFailure"),
		"Destination"));
	size_t i;
	json_t *v;

	memset(c, 0, sizeof(*c));
	snprintf(c->function_arn, sizeof(c->function_arn), "%s", farn);
	c->enabled = !json_is_false(json_object_get(config, "Enabled"));
	c->batch_size = cfg_int(config, "BatchSize", 10);
	c->window_s = cfg_int(config, "MaximumBatchingWindowInSeconds", 0);
	c->max_retry = cfg_int(config, "MaximumRetryAttempts", -1);
	c->max_age = cfg_int(config, "MaximumRecordAgeInSeconds", -1);
	c->bisect = json_is_true(json_object_get(config, "BisectBatchOnFunctionError"));
	json_array_foreach(types, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), "ReportBatchItemFailures") == 0)
			c->report_failures = 1;
	snprintf(c->destination, sizeof(c->destination), "%s", dest ? dest : "");
	c->max_concurrency = cfg_int(json_object_get(config, "ScalingConfig"),
				     "MaximumConcurrency", 0);
}

static int bad(struct sbx_req *r, const char *fmt, const char *arg)
{
	char msg[400];

	snprintf(msg, sizeof(msg), fmt, arg);
	return sbx_error(r, 400, "InvalidParameterValueException", "%s", msg);
}

/* Copy the members of in an operation accepts into config (create: every member). */
static int apply_input(struct sbx_req *r, json_t *in, json_t *config, int create)
{
	static const char *const ints[] = { "BatchSize", "MaximumBatchingWindowInSeconds",
					    "MaximumRetryAttempts", "MaximumRecordAgeInSeconds",
					    "ParallelizationFactor" };
	static const char *const bools[] = { "Enabled", "BisectBatchOnFunctionError" };
	json_t *v;

	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		v = json_object_get(in, ints[i]);
		if (!v || json_is_null(v))
			continue;
		if (!json_is_integer(v))
			return bad(r, "%s must be an integer.", ints[i]);
		json_object_set(config, ints[i], v);
	}
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		v = json_object_get(in, bools[i]);
		if (!v || json_is_null(v))
			continue;
		if (!json_is_boolean(v))
			return bad(r, "%s must be a boolean.", bools[i]);
		json_object_set(config, bools[i], v);
	}
	v = json_object_get(in, "FunctionResponseTypes");
	if (v && !json_is_null(v)) {
		size_t i;
		json_t *t;

		if (!json_is_array(v))
			return bad(r, "%s must be a list.", "FunctionResponseTypes");
		json_array_foreach(v, i, t)
			if (!json_is_string(t) ||
			    strcmp(json_string_value(t), "ReportBatchItemFailures") != 0)
				return bad(r, "Unsupported FunctionResponseType: %s",
					   json_is_string(t) ? json_string_value(t) : "?");
		json_object_set(config, "FunctionResponseTypes", v);
	}
	v = json_object_get(in, "DestinationConfig");
	if (v && !json_is_null(v)) {
		if (!json_is_object(v))
			return bad(r, "%s must be an object.", "DestinationConfig");
		json_object_set(config, "DestinationConfig", v);
	}
	v = json_object_get(in, "ScalingConfig");
	if (v && !json_is_null(v))
		json_object_set(config, "ScalingConfig", v);
	if (json_object_get(in, "StartingPositionTimestamp") ||
	    json_object_get(in, "TumblingWindowInSeconds") ||
	    json_object_get(in, "FilterCriteria"))
		return bad(r, "%s is not supported by the sandbox.",
			   json_object_get(in, "FilterCriteria") ? "FilterCriteria"
			   : json_object_get(in, "TumblingWindowInSeconds") ? "TumblingWindowInSeconds"
			   : "StartingPositionTimestamp");
	if (create) {
		v = json_object_get(in, "StartingPosition");
		if (v && !json_is_null(v))
			json_object_set(config, "StartingPosition", v);
	}
	return 0;
}

/* Check the merged config of a mapping of kind (after apply_input), filling defaults. */
static int validate(struct sbx_req *r, json_t *config, enum esm_kind kind, int create)
{
	static const char *const stream_only[] = { "StartingPosition", "MaximumRetryAttempts",
						   "BisectBatchOnFunctionError",
						   "MaximumRecordAgeInSeconds", "DestinationConfig",
						   "ParallelizationFactor" };
	int batch, window;
	json_t *v;

	if (!json_object_get(config, "BatchSize"))
		json_object_set_new(config, "BatchSize", json_integer(kind == ESM_SQS ? 10 : 100));
	if (!json_object_get(config, "MaximumBatchingWindowInSeconds"))
		json_object_set_new(config, "MaximumBatchingWindowInSeconds", json_integer(0));
	batch = cfg_int(config, "BatchSize", 10);
	window = cfg_int(config, "MaximumBatchingWindowInSeconds", 0);
	if (batch < 1 || batch > 10000)
		return sbx_error(r, 400, "InvalidParameterValueException",
				 "BatchSize %d is out of range: it must be between 1 and 10000.",
				 batch);
	if (window < 0 || window > 300)
		return sbx_error(r, 400, "InvalidParameterValueException",
				 "MaximumBatchingWindowInSeconds %d is out of range: it must be "
				 "between 0 and 300.", window);
	if (kind == ESM_SQS) {
		for (size_t i = 0; i < sizeof(stream_only) / sizeof(stream_only[0]); i++)
			if (json_object_get(config, stream_only[i]))
				return bad(r, "Unsupported %s parameter for the given event source "
					   "mapping type.", stream_only[i]);
		if (batch > 10 && window < 1)
			return bad(r, "%s", "Maximum batch window in seconds must be greater than 0 "
				   "if maximum batch size is greater than 10");
		v = json_object_get(config, "ScalingConfig");
		if (v) {
			json_t *mc = json_object_get(v, "MaximumConcurrency");

			if (mc && (!json_is_integer(mc) || json_integer_value(mc) < 2 ||
				   json_integer_value(mc) > 1000))
				return bad(r, "%s", "ScalingConfig.MaximumConcurrency must be between "
					   "2 and 1000.");
		}
		return 0;
	}
	if (json_object_get(config, "ScalingConfig"))
		return bad(r, "Unsupported %s parameter for the given event source mapping type.",
			   "ScalingConfig");
	v = json_object_get(config, "StartingPosition");
	if (create && !v)
		return bad(r, "%s", "1 validation error detected: Value null at 'startingPosition' "
			   "failed to satisfy constraint: Member must not be null");
	if (!json_is_string(v) || (strcmp(json_string_value(v), "TRIM_HORIZON") != 0 &&
				   strcmp(json_string_value(v), "LATEST") != 0))
		return bad(r, "Unsupported starting position for a DynamoDB stream: %s",
			   json_is_string(v) ? json_string_value(v) : "?");
	if (!json_object_get(config, "MaximumRetryAttempts"))
		json_object_set_new(config, "MaximumRetryAttempts", json_integer(-1));
	if (!json_object_get(config, "MaximumRecordAgeInSeconds"))
		json_object_set_new(config, "MaximumRecordAgeInSeconds", json_integer(-1));
	if (!json_object_get(config, "BisectBatchOnFunctionError"))
		json_object_set_new(config, "BisectBatchOnFunctionError", json_false());
	if (!json_object_get(config, "ParallelizationFactor"))
		json_object_set_new(config, "ParallelizationFactor", json_integer(1));
	if (cfg_int(config, "MaximumRetryAttempts", -1) < -1 ||
	    cfg_int(config, "MaximumRetryAttempts", -1) > 10000)
		return bad(r, "%s", "MaximumRetryAttempts must be between -1 and 10000.");
	{
		int age = cfg_int(config, "MaximumRecordAgeInSeconds", -1);

		if (age != -1 && (age < 60 || age > 604800))
			return bad(r, "%s", "MaximumRecordAgeInSeconds must be -1 or between 60 and "
				   "604800.");
	}
	if (cfg_int(config, "ParallelizationFactor", 1) < 1 ||
	    cfg_int(config, "ParallelizationFactor", 1) > 10)
		return bad(r, "%s", "ParallelizationFactor must be between 1 and 10.");
	v = json_object_get(config, "DestinationConfig");
	if (v) {
		json_t *of = json_object_get(v, "OnFailure");
		const char *dest = json_string_value(json_object_get(of, "Destination"));

		if (of && !json_is_object(of))
			return bad(r, "%s", "DestinationConfig.OnFailure must be an object.");
		if (dest && *dest && !is_sqs_arn(dest))
			return bad(r, "The sandbox supports SQS queue destinations only: %s", dest);
	}
	return 0;
}

/* ---- store rows ---- */

/* The API shape of a row read with ROW_COLS (new reference, NULL on no memory). */
static json_t *row_json(sqlite3_stmt *st)
{
	json_t *config = json_loads(sbx_col(st, 4), 0, NULL);
	json_t *out = json_is_object(config) ? config : json_object();

	if (out != config)
		json_decref(config);
	if (!out)
		return NULL;
	json_object_del(out, "Enabled");
	json_object_set_new(out, "UUID", json_string(sbx_col(st, 0)));
	json_object_set_new(out, "FunctionArn", json_string(sbx_col(st, 2)));
	json_object_set_new(out, "EventSourceArn", json_string(sbx_col(st, 3)));
	json_object_set_new(out, "State", json_string(sbx_col(st, 5)));
	json_object_set_new(out, "StateTransitionReason", json_string(sbx_col(st, 6)));
	json_object_set_new(out, "LastProcessingResult", json_string(sbx_col(st, 7)));
	json_object_set_new(out, "LastModified",
			    json_real((double)sqlite3_column_int64(st, 8) / 1000.0));
	if (!json_object_get(out, "FunctionResponseTypes"))
		json_object_set_new(out, "FunctionResponseTypes", json_array());
	if (strcmp(sbx_col(st, 1), "stream") == 0 && !json_object_get(out, "DestinationConfig"))
		json_object_set_new(out, "DestinationConfig", json_pack("{s:{}}", "OnFailure"));
	return out;
}

/* Load one row by UUID (lock held): *out its API shape, config/kind/function its parts
 * (each may be NULL). Returns 1 found, 0 not found, -1 store error. */
static int row_load(struct sbx *s, sqlite3 *db, const char *uuid, json_t **out,
		    json_t **config, char *kind, size_t kn, char *farn, size_t fn,
		    char *state, size_t sn)
{
	sqlite3_stmt *st = sbx_db_prep(s, db, "SELECT " ROW_COLS " FROM esm_mappings"
				       " WHERE uuid = ?", "s", uuid);
	int rc;

	if (!st)
		return -1;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return rc == SQLITE_DONE ? 0 : -1;
	}
	if (out)
		*out = row_json(st);
	if (config)
		*config = json_loads(sbx_col(st, 4), 0, NULL);
	if (kind)
		snprintf(kind, kn, "%s", sbx_col(st, 1));
	if (farn)
		snprintf(farn, fn, "%s", sbx_col(st, 2));
	if (state)
		snprintf(state, sn, "%s", sbx_col(st, 5));
	sqlite3_finalize(st);
	return 1;
}

static int store_error(struct sbx_req *r)
{
	return sbx_error(r, 500, "ServiceException", "The sandbox store failed");
}

static int not_found(struct sbx_req *r, const char *uuid)
{
	return sbx_error(r, 404, "ResourceNotFoundException",
			 "The resource you requested does not exist. (Service: Lambda, Status "
			 "Code: 404, Request ID: %s) UUID %s", r->request_id, uuid);
}

/* After a write under the store lock: mapping uuid as the API shows it into *out (new,
 * caller decrefs) and the lock released (*db = NULL). Returns 0, or -1 with the lock still
 * held in *db (the caller answers store_error). */
static int reload_unlock(struct sbx *s, sqlite3 **db, const char *uuid, json_t **out)
{
	if (row_load(s, *db, uuid, out, NULL, NULL, 0, NULL, 0, NULL, 0) != 1 || !*out)
		return -1;
	sbx_db_unlock(s);
	*db = NULL;
	return 0;
}

/* ---- the pollers' lifecycle ---- */

static void start_workers(struct esm *e, struct esm_mapping *m)
{
	int want = m->kind == ESM_SQS ? ESM_SQS_WORKERS : 1;

	for (int i = 0; i < want; i++) {
		if (pthread_create(&m->threads[m->nthreads], NULL,
				   m->kind == ESM_SQS ? sbx_esm_sqs_worker : sbx_esm_stream_worker,
				   m) != 0) {
			sbx_log(e->sbx, "ERROR", "esm %s: cannot start a poller thread", m->uuid);
			break;
		}
		m->nthreads++;
		m->live++;
	}
}

/* Make and start the in-memory mapping (esm mutex NOT held). */
static struct esm_mapping *mapping_add(struct esm *e, const char *uuid, const char *kind,
				       const char *farn, const char *source, json_t *config,
				       const char *last_result, int transition)
{
	struct esm_mapping *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->esm = e;
	m->sbx = e->sbx;
	snprintf(m->uuid, sizeof(m->uuid), "%s", uuid);
	snprintf(m->source_arn, sizeof(m->source_arn), "%s", source);
	arn_region(source, m->region, sizeof(m->region));
	m->kind = strcmp(kind, "sqs") == 0 ? ESM_SQS : ESM_STREAM;
	cfg_from_json(config, farn, &m->cfg);
	snprintf(m->last_result, sizeof(m->last_result), "%s", last_result);
	m->transition = transition;
	pthread_mutex_lock(&e->mu);
	m->next = e->list;
	e->list = m;
	start_workers(e, m);
	pthread_mutex_unlock(&e->mu);
	return m;
}

/* Write the settled State of a mapping whose State is in transition. */
static void settle(struct esm_mapping *m, int enabled)
{
	sqlite3 *db = sbx_db_lock(m->sbx);

	sbx_db_run(m->sbx, db, "UPDATE esm_mappings SET state = ? WHERE uuid = ? AND state IN"
		   " ('Creating', 'Updating', 'Enabling', 'Disabling')", "ss",
		   enabled ? "Enabled" : "Disabled", m->uuid);
	sbx_db_unlock(m->sbx);
}

static int must_exit(struct esm_mapping *m)
{
	return m->esm->stopping || m->deleted;
}

int sbx_esm_gate(struct esm_mapping *m, struct esm_config *cfg)
{
	struct esm *e = m->esm;

	pthread_mutex_lock(&e->mu);
	for (;;) {
		if (must_exit(m)) {
			pthread_mutex_unlock(&e->mu);
			return -1;
		}
		/* Enabled is settled by the first poller here; Disabled only by the last one,
		 * so that a Disabled mapping has no receive or invocation in flight */
		if (m->transition && (m->cfg.enabled || m->parked + 1 >= m->live)) {
			int enabled = m->cfg.enabled;

			m->transition = 0;
			pthread_mutex_unlock(&e->mu);
			settle(m, enabled);
			pthread_mutex_lock(&e->mu);
			continue;
		}
		if (m->cfg.enabled)
			break;
		m->parked++;
		pthread_cond_wait(&e->cond, &e->mu);
		m->parked--;
	}
	*cfg = m->cfg;
	pthread_mutex_unlock(&e->mu);
	return 0;
}

int sbx_esm_sleep(struct esm_mapping *m, long ms)
{
	struct esm *e = m->esm;
	struct timespec ts;
	int rc;

	mono_deadline(&ts, ms);
	pthread_mutex_lock(&e->mu);
	if (!must_exit(m) && !m->transition)
		pthread_cond_timedwait(&e->cond, &e->mu, &ts);
	rc = must_exit(m) ? -1 : 0;
	pthread_mutex_unlock(&e->mu);
	return rc;
}

int sbx_esm_interrupted(struct esm_mapping *m)
{
	int rc;

	pthread_mutex_lock(&m->esm->mu);
	rc = must_exit(m) || !m->cfg.enabled;
	pthread_mutex_unlock(&m->esm->mu);
	return rc;
}

int sbx_esm_worker_index(struct esm_mapping *m)
{
	int i;

	pthread_mutex_lock(&m->esm->mu);
	i = m->next_index++;
	pthread_mutex_unlock(&m->esm->mu);
	return i;
}

void sbx_esm_result(struct esm_mapping *m, const char *text)
{
	sqlite3 *db;
	int same;

	pthread_mutex_lock(&m->esm->mu);
	same = strcmp(m->last_result, text) == 0;
	if (!same)
		snprintf(m->last_result, sizeof(m->last_result), "%s", text);
	pthread_mutex_unlock(&m->esm->mu);
	if (same)
		return;
	db = sbx_db_lock(m->sbx);
	sbx_db_run(m->sbx, db, "UPDATE esm_mappings SET last_result = ? WHERE uuid = ?", "ss",
		   text, m->uuid);
	sbx_db_unlock(m->sbx);
}

void sbx_esm_worker_exit(struct esm_mapping *m)
{
	int last;

	pthread_mutex_lock(&m->esm->mu);
	m->live--;
	last = m->deleted && m->live == 0;
	pthread_mutex_unlock(&m->esm->mu);
	if (last) {
		sqlite3 *db = sbx_db_lock(m->sbx);

		sbx_db_run(m->sbx, db, "DELETE FROM esm_mappings WHERE uuid = ?", "s", m->uuid);
		sbx_db_run(m->sbx, db, "DELETE FROM esm_checkpoints WHERE uuid = ?", "s", m->uuid);
		sbx_db_unlock(m->sbx);
		sbx_log(m->sbx, "INFO", "esm %s: deleted", m->uuid);
	}
}

int sbx_esm_invoke(struct esm_mapping *m, const struct esm_config *cfg, const char *payload,
		   size_t len, struct aws_buf *out, struct sbx_invoke_result *res)
{
	sbx_esm_invoke_fn fn = invoker ? invoker : sbx_lambda_invoke;

	memset(res, 0, sizeof(*res));
	if (!fn) {
		snprintf(res->error_type, sizeof(res->error_type), "Sandbox.LambdaMissing");
		return -1;
	}
	return fn(m->sbx, cfg->function_arn, payload, len, out, res, INVOKE_WAIT_MS);
}

int sbx_esm_parse_failures(const char *resp, size_t len, const char *const *ids, size_t n,
			   unsigned char *failed)
{
	json_t *doc, *list, *e;
	size_t i;
	int count = 0, rc = -1;

	memset(failed, 0, n);
	while (len > 0 && (resp[len - 1] == ' ' || resp[len - 1] == '\n' ||
			   resp[len - 1] == '\r' || resp[len - 1] == '\t'))
		len--;
	if (len == 0)
		return 0;
	doc = json_loadb(resp, len, JSON_DECODE_ANY, NULL);
	if (!doc)
		return -1;
	list = json_is_object(doc) ? json_object_get(doc, "batchItemFailures") : NULL;
	if (!list || json_is_null(list)) {
		rc = 0;
		goto done;
	}
	if (!json_is_array(list))
		goto done;
	json_array_foreach(list, i, e) {
		const char *id = json_string_value(json_object_get(e, "itemIdentifier"));
		size_t k;

		if (!json_is_object(e) || !id || !*id)
			goto done;
		for (k = 0; k < n; k++)
			if (strcmp(ids[k], id) == 0)
				break;
		if (k == n)
			goto done;
		if (!failed[k])
			count++;
		failed[k] = 1;
	}
	rc = count;
done:
	if (rc < 0)
		memset(failed, 0, n);
	json_decref(doc);
	return rc;
}

/* ---- the operations ---- */

static int reply(struct sbx_req *r, int code, json_t *doc, int *status, struct aws_buf *body)
{
	char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
	int rc = 0;

	if (!text || aws_buf_adds(body, text) != 0)
		rc = sbx_error(r, 500, "ServiceException", "The reply could not be written");
	else
		*status = code;
	free(text);
	return rc;
}

/* Does the event source exist? Returns 0, or -1 after sbx_error. */
static int check_source(struct sbx_req *r, const char *arn, enum esm_kind *kind)
{
	if (is_sqs_arn(arn)) {
		*kind = ESM_SQS;
		if (sbx_esm_sqs_exists(r->sbx, arn) != 1)
			return bad(r, "Error occurred while ReceiveMessage. SQS Error Code: "
				   "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: "
				   "The specified queue does not exist (%s).", arn);
		return 0;
	}
	if (is_stream_arn(arn)) {
		char seq[SBX_SEQ_LEN];

		*kind = ESM_STREAM;
		if (sbx_streams_latest(r->sbx, arn, seq) != 0)
			return bad(r, "Stream not found: %s", arn);
		return 0;
	}
	return bad(r, "Unsupported event source: %s (the sandbox maps SQS queues and DynamoDB "
		   "streams)", arn);
}

/* The destination queue must exist. Returns 0, or -1 after sbx_error. */
static int check_destination(struct sbx_req *r, json_t *config)
{
	const char *dest = json_string_value(json_object_get(
		json_object_get(json_object_get(config, "DestinationConfig"), "OnFailure"),
		"Destination"));

	if (dest && *dest && sbx_esm_sqs_exists(r->sbx, dest) != 1)
		return bad(r, "The destination queue does not exist: %s", dest);
	return 0;
}

/* Lambda reads the source with the function's execution role: it must allow what the
 * pollers call (IAM enforcement), else AWS refuses the mapping. Returns 0, or -1 after
 * sbx_error (the first action missing is logged with IAM's reason). */
static int check_execution_role(struct sbx_req *r, const char *farn, enum esm_kind kind,
				const char *source)
{
	static const char *const sqs[] = { "ReceiveMessage", "DeleteMessage",
		"GetQueueAttributes" };
	static const char *const streams[] = { "GetRecords", "GetShardIterator",
		"DescribeStream", "ListStreams" };
	const char *const *acts = kind == ESM_SQS ? sqs : streams;
	size_t n = kind == ESM_SQS ? sizeof(sqs) / sizeof(sqs[0]) :
		   sizeof(streams) / sizeof(streams[0]);
	char action[64], why[1024];

	for (size_t i = 0; i < n; i++) {
		snprintf(action, sizeof(action), "%s:%s", kind == ESM_SQS ? "sqs" : "dynamodb",
			 acts[i]);
		if (sbx_iam_function_allows(r->sbx, farn, action, source, why, sizeof(why)))
			continue;
		sbx_log(r->sbx, "INFO", "esm: mapping %s -> %s refused: %s", source, farn, why);
		if (kind == ESM_SQS)
			return bad(r, "The function execution role does not have permissions to "
				   "call %s on SQS", acts[i]);
		return bad(r, "Cannot access stream %s. Please ensure the role can perform the "
			   "GetRecords, GetShardIterator, DescribeStream, and ListStreams Actions on "
			   "your stream in IAM.", source);
	}
	return 0;
}

static int op_create(struct sbx_req *r, json_t *in, int *status, struct aws_buf *body)
{
	struct esm *e = esm_of(r->sbx);
	const char *fname = sbx_str(in, "FunctionName");
	const char *source = sbx_str(in, "EventSourceArn");
	json_t *config = json_object(), *out = NULL;
	char farn[256], uuid[37], seq[SBX_SEQ_LEN] = "";
	enum esm_kind kind = ESM_SQS;
	sqlite3_stmt *st;
	sqlite3 *db = NULL;
	char *ctext = NULL;
	long long now = sbx_now_ms();
	int rc = -1, step;

	if (!fname || !*fname) {
		bad(r, "%s", "1 validation error detected: Value null at 'functionName' failed to "
		    "satisfy constraint: Member must not be null");
		goto done;
	}
	if (!source || !*source) {
		bad(r, "%s", "The sandbox needs an EventSourceArn (an SQS queue or a DynamoDB "
		    "stream).");
		goto done;
	}
	if (function_arn(r->sbx, fname, farn, sizeof(farn)) != 0) {
		sbx_error(r, 404, "ResourceNotFoundException", "Function not found: %s", fname);
		goto done;
	}
	if (check_source(r, source, &kind) || apply_input(r, in, config, 1) ||
	    validate(r, config, kind, 1) || check_destination(r, config) ||
	    check_execution_role(r, farn, kind, source))
		goto done;
	if (kind == ESM_STREAM &&
	    strcmp(json_string_value(json_object_get(config, "StartingPosition")), "LATEST") == 0 &&
	    sbx_streams_latest(r->sbx, source, seq) != 0) {
		bad(r, "Stream not found: %s", source);
		goto done;
	}
	if (!json_object_get(config, "Enabled"))
		json_object_set_new(config, "Enabled", json_true());
	ctext = json_dumps(config, JSON_COMPACT);
	if (!ctext) {
		store_error(r);
		goto done;
	}
	sbx_uuid(uuid);
	db = sbx_db_lock(r->sbx);
	st = sbx_db_prep(r->sbx, db, "SELECT uuid FROM esm_mappings WHERE function_arn = ? AND"
			 " source_arn = ?", "ss", farn, source);
	if (!st) {
		store_error(r);
		goto done;
	}
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		sbx_error(r, 409, "ResourceConflictException",
			  "An event source mapping with %s arn (\" %s \") and function (\" %s \") "
			  "already exists. Please update or delete the existing mapping with UUID %s",
			  kind == ESM_SQS ? "SQS" : "DynamoDB", source, fname, sbx_col(st, 0));
		sqlite3_finalize(st);
		goto done;
	}
	sqlite3_finalize(st);
	if (sbx_db_exec(r->sbx, db, "BEGIN") ||
	    sbx_db_run(r->sbx, db, "INSERT INTO esm_mappings (uuid, kind, function_arn, source_arn,"
		       " config, state, reason, last_result, modified, created) VALUES"
		       " (?, ?, ?, ?, ?, 'Creating', 'USER_INITIATED', 'No records processed', ?, ?)",
		       "sssssii", uuid, kind == ESM_SQS ? "sqs" : "stream", farn, source, ctext,
		       now, now) != 1 ||
	    (kind == ESM_STREAM && seq[0] &&
	     sbx_db_run(r->sbx, db, "INSERT OR REPLACE INTO esm_checkpoints (uuid, seq) VALUES"
			" (?, ?)", "ss", uuid, seq) != 1) ||
	    sbx_db_exec(r->sbx, db, "COMMIT")) {
		sbx_db_exec(r->sbx, db, "ROLLBACK");
		store_error(r);
		goto done;
	}
	if (reload_unlock(r->sbx, &db, uuid, &out)) {
		store_error(r);
		goto done;
	}
	if (!mapping_add(e, uuid, kind == ESM_SQS ? "sqs" : "stream", farn, source, config,
			 "No records processed", 1))
		sbx_log(r->sbx, "ERROR", "esm %s: out of memory starting its pollers", uuid);
	sbx_log(r->sbx, "INFO", "esm %s: %s -> %s", uuid, source, farn);
	rc = reply(r, 202, out, status, body);
done:
	if (db)
		sbx_db_unlock(r->sbx);
	free(ctext);
	json_decref(config);
	json_decref(out);
	return rc;
}

static int op_get(struct sbx_req *r, const char *uuid, int *status, struct aws_buf *body)
{
	sqlite3 *db = sbx_db_lock(r->sbx);
	json_t *out = NULL;
	int found = row_load(r->sbx, db, uuid, &out, NULL, NULL, 0, NULL, 0, NULL, 0), rc;

	sbx_db_unlock(r->sbx);
	if (found < 0)
		rc = store_error(r);
	else if (found == 0)
		rc = not_found(r, uuid);
	else
		rc = reply(r, 200, out, status, body);
	json_decref(out);
	return rc;
}

static int op_update(struct sbx_req *r, const char *uuid, json_t *in, int *status,
		     struct aws_buf *body)
{
	struct esm *e = esm_of(r->sbx);
	sqlite3 *db = NULL;
	json_t *config = NULL, *out = NULL;
	char kind[16], farn[256], state[32], source[512];
	const char *fname = sbx_str(in, "FunctionName");
	const char *next_state;
	struct esm_mapping *m;
	char *ctext = NULL;
	int found, was_enabled, rc = -1;

	if (fname && *fname && function_arn(r->sbx, fname, farn, sizeof(farn)) != 0) {
		sbx_error(r, 404, "ResourceNotFoundException", "Function not found: %s", fname);
		goto done;
	}
	db = sbx_db_lock(r->sbx);
	found = row_load(r->sbx, db, uuid, &out, &config, kind, sizeof(kind),
			 fname && *fname ? NULL : farn, sizeof(farn), state, sizeof(state));
	if (found <= 0 || !json_is_object(config)) {
		found < 0 ? store_error(r) : not_found(r, uuid);
		goto done;
	}
	snprintf(source, sizeof(source), "%s", json_string_value(json_object_get(out,
					       "EventSourceArn")));
	json_decref(out);
	out = NULL;
	if (strcmp(state, "Enabled") != 0 && strcmp(state, "Disabled") != 0) {
		sbx_error(r, 400, "ResourceInUseException",
			  "Cannot update the event source mapping because it is in use (State %s).",
			  state);
		goto done;
	}
	was_enabled = !json_is_false(json_object_get(config, "Enabled"));
	sbx_db_unlock(r->sbx);
	db = NULL;
	/* validation may look at the queues and streams (their own locks) */
	if (apply_input(r, in, config, 0) ||
	    validate(r, config, strcmp(kind, "sqs") == 0 ? ESM_SQS : ESM_STREAM, 0) ||
	    check_destination(r, config) ||
	    (fname && *fname && check_execution_role(r, farn, strcmp(kind, "sqs") == 0 ?
						     ESM_SQS : ESM_STREAM, source)))
		goto done;
	if (fname && *fname && strcmp(farn, "") != 0) {
		/* changing the function: the pair must stay unique */
		db = sbx_db_lock(r->sbx);
		sqlite3_stmt *st = sbx_db_prep(r->sbx, db, "SELECT uuid FROM esm_mappings WHERE"
					       " function_arn = ? AND source_arn = ? AND uuid != ?",
					       "sss", farn, source, uuid);
		int step = st ? sqlite3_step(st) : SQLITE_ERROR;

		sqlite3_finalize(st);
		sbx_db_unlock(r->sbx);
		db = NULL;
		if (step == SQLITE_ROW) {
			sbx_error(r, 409, "ResourceConflictException",
				  "An event source mapping with this event source and function (%s) "
				  "already exists.", farn);
			goto done;
		}
	}
	if ((json_is_false(json_object_get(config, "Enabled")) ? 0 : 1) != was_enabled)
		next_state = was_enabled ? "Disabling" : "Enabling";
	else
		next_state = "Updating";
	ctext = json_dumps(config, JSON_COMPACT);
	if (!ctext) {
		store_error(r);
		goto done;
	}
	db = sbx_db_lock(r->sbx);
	if (sbx_db_run(r->sbx, db, "UPDATE esm_mappings SET config = ?, function_arn = ?,"
		       " state = ?, modified = ? WHERE uuid = ?", "sssis", ctext, farn, next_state,
		       sbx_now_ms(), uuid) != 1 ||
	    reload_unlock(r->sbx, &db, uuid, &out)) {
		store_error(r);
		goto done;
	}
	pthread_mutex_lock(&e->mu);
	m = find_mapping(e, uuid);
	if (m) {
		cfg_from_json(config, farn, &m->cfg);
		m->transition = 1;
		pthread_cond_broadcast(&e->cond);
	}
	pthread_mutex_unlock(&e->mu);
	if (m)
		sbx_sqs_wake_all(r->sbx); /* a poller in a long poll sees the change now */
	if (!m) {
		db = sbx_db_lock(r->sbx);
		sbx_db_run(r->sbx, db, "UPDATE esm_mappings SET state = ? WHERE uuid = ?", "ss",
			   json_is_false(json_object_get(config, "Enabled")) ? "Disabled" : "Enabled",
			   uuid);
		sbx_db_unlock(r->sbx);
		db = NULL;
	}
	rc = reply(r, 202, out, status, body);
done:
	if (db)
		sbx_db_unlock(r->sbx);
	free(ctext);
	json_decref(config);
	json_decref(out);
	return rc;
}

static int op_delete(struct sbx_req *r, const char *uuid, int *status, struct aws_buf *body)
{
	struct esm *e = esm_of(r->sbx);
	sqlite3 *db = sbx_db_lock(r->sbx);
	json_t *out = NULL;
	struct esm_mapping *m;
	char state[32];
	int found = row_load(r->sbx, db, uuid, NULL, NULL, NULL, 0, NULL, 0, state,
			     sizeof(state));
	int rc = -1;

	if (found <= 0) {
		found < 0 ? store_error(r) : not_found(r, uuid);
		goto done;
	}
	if (strcmp(state, "Deleting") == 0) {
		sbx_error(r, 400, "ResourceInUseException",
			  "Cannot delete the event source mapping because it is being deleted.");
		goto done;
	}
	if (sbx_db_run(r->sbx, db, "UPDATE esm_mappings SET state = 'Deleting', modified = ?"
		       " WHERE uuid = ?", "is", sbx_now_ms(), uuid) != 1 ||
	    reload_unlock(r->sbx, &db, uuid, &out)) {
		store_error(r);
		goto done;
	}
	pthread_mutex_lock(&e->mu);
	m = find_mapping(e, uuid);
	if (m) {
		m->deleted = 1;
		if (m->live == 0)
			m = NULL; /* no poller left to drop the row */
		pthread_cond_broadcast(&e->cond);
	}
	pthread_mutex_unlock(&e->mu);
	if (m)
		sbx_sqs_wake_all(r->sbx); /* a poller in a long poll exits now */
	if (!m) {
		db = sbx_db_lock(r->sbx);
		sbx_db_run(r->sbx, db, "DELETE FROM esm_mappings WHERE uuid = ?", "s", uuid);
		sbx_db_run(r->sbx, db, "DELETE FROM esm_checkpoints WHERE uuid = ?", "s", uuid);
	}
	rc = reply(r, 202, out, status, body);
done:
	if (db)
		sbx_db_unlock(r->sbx);
	json_decref(out);
	return rc;
}

static int op_list(struct sbx_req *r, int *status, struct aws_buf *body)
{
	char *source = query_param(r->query, "EventSourceArn");
	char *fname = query_param(r->query, "FunctionName");
	char *marker = query_param(r->query, "Marker");
	char *maxs = query_param(r->query, "MaxItems");
	char farn[256] = "";
	long offset = 0, max = 100;
	json_t *list = json_array(), *out = NULL;
	sqlite3 *db = NULL;
	sqlite3_stmt *st;
	char *end;
	long n = 0;
	int step, rc = -1;

	if (maxs) {
		max = strtol(maxs, &end, 10);
		if (*maxs == '\0' || *end != '\0' || max < 1 || max > 10000) {
			bad(r, "MaxItems must be between 1 and 10000: %s", maxs);
			goto done;
		}
	}
	if (marker && *marker) {
		offset = strtol(marker, &end, 10);
		if (*end != '\0' || offset < 0) {
			bad(r, "Invalid Marker: %s", marker);
			goto done;
		}
	}
	if (fname && *fname && function_arn(r->sbx, fname, farn, sizeof(farn)) != 0) {
		if (strncmp(fname, "arn:", 4) == 0)
			snprintf(farn, sizeof(farn), "%s", fname);
		else
			snprintf(farn, sizeof(farn), "arn:aws:lambda:%s:%s:function:%s", r->region,
				 SBX_ACCOUNT, fname);
	}
	db = sbx_db_lock(r->sbx);
	st = sbx_db_prep(r->sbx, db, "SELECT " ROW_COLS " FROM esm_mappings WHERE"
			 " (?1 = '' OR source_arn = ?1) AND (?2 = '' OR function_arn = ?2)"
			 " ORDER BY created, uuid LIMIT ?3 OFFSET ?4", "ssii",
			 source ? source : "", farn, (long long)max + 1, (long long)offset);
	if (!st) {
		store_error(r);
		goto done;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW && n < max) {
		json_array_append_new(list, row_json(st));
		n++;
	}
	sqlite3_finalize(st);
	sbx_db_unlock(r->sbx);
	db = NULL;
	out = json_pack("{s:O}", "EventSourceMappings", list);
	if (out && step == SQLITE_ROW) {
		char next[32];

		snprintf(next, sizeof(next), "%ld", offset + n);
		json_object_set_new(out, "NextMarker", json_string(next));
	}
	rc = reply(r, 200, out, status, body);
done:
	if (db)
		sbx_db_unlock(r->sbx);
	free(source);
	free(fname);
	free(marker);
	free(maxs);
	json_decref(list);
	json_decref(out);
	return rc;
}

/* The request body as a JSON object (new reference), or NULL after sbx_error. */
static json_t *body_json(struct sbx_req *r)
{
	json_t *in;

	if (r->body_len == 0)
		return json_object();
	in = json_loadb(r->body, r->body_len, 0, NULL);
	if (!json_is_object(in)) {
		json_decref(in);
		sbx_error(r, 400, "InvalidRequestContentException",
			  "Could not parse request body into json");
		return NULL;
	}
	return in;
}

/* Write the error sbx_error() set the way Lambda does: {"Type":"User","message":..} with
 * an x-amzn-ErrorType header (when the router gives us response headers). */
static void lambda_error(struct sbx_req *r, int *status, struct aws_buf *body)
{
	json_t *doc;
	char *text;

	if (!r->err_status || !r->resp_headers)
		return;
	doc = json_pack("{s:s, s:s}", "Type", r->err_status >= 500 ? "Service" : "User",
			"message", r->err_message);
	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	aws_buf_reset(body);
	if (text)
		aws_buf_adds(body, text);
	free(text);
	json_decref(doc);
	json_object_set_new(r->resp_headers, "x-amzn-ErrorType", json_string(r->err_code));
	*status = r->err_status;
	sbx_log(r->sbx, "INFO", "lambda %s %.200s -> %d %s", r->method, r->path, r->err_status,
		r->err_code);
	r->err_status = 0;
}

static void method_not_allowed(struct sbx_req *r)
{
	sbx_error(r, 405, "MethodNotAllowedException", "Method %s is not allowed here", r->method);
}

static int route_op(struct sbx_req *r, int *status, struct aws_buf *body,
		    const char **content_type);

static int esm_route(struct sbx_req *r, int *status, struct aws_buf *body,
		     const char **content_type)
{
	int rc = route_op(r, status, body, content_type);

	if (rc == 0)
		lambda_error(r, status, body);
	return rc;
}

static int route_op(struct sbx_req *r, int *status, struct aws_buf *body,
		    const char **content_type)
{
	size_t plen = strlen(ESM_PATH);
	const char *rest;
	char uuid[64];
	json_t *in;
	size_t len;

	if (strncmp(r->path, ESM_PATH, plen) != 0)
		return 1;
	rest = r->path + plen;
	if (*rest && *rest != '/')
		return 1;
	if (*rest == '/')
		rest++;
	len = strcspn(rest, "/");
	if (rest[len] == '/' && rest[len + 1] != '\0')
		return 1;
	if (len >= sizeof(uuid)) {
		not_found(r, "(too long)");
		return 0;
	}
	memcpy(uuid, rest, len);
	uuid[len] = '\0';
	*content_type = "application/json";
	if (!esm_of(r->sbx)) {
		sbx_error(r, 503, "ServiceException", "Event source mappings are not running");
		return 0;
	}
	if (!uuid[0]) {
		if (strcmp(r->method, "POST") == 0) {
			in = body_json(r);
			if (in)
				op_create(r, in, status, body);
			json_decref(in);
		} else if (strcmp(r->method, "GET") == 0) {
			op_list(r, status, body);
		} else {
			method_not_allowed(r);
		}
		return 0;
	}
	if (strcmp(r->method, "GET") == 0) {
		op_get(r, uuid, status, body);
	} else if (strcmp(r->method, "PUT") == 0) {
		in = body_json(r);
		if (in)
			op_update(r, uuid, in, status, body);
		json_decref(in);
	} else if (strcmp(r->method, "DELETE") == 0) {
		op_delete(r, uuid, status, body);
	} else {
		method_not_allowed(r);
	}
	return 0;
}

/* ---- start and stop ---- */

static int esm_init(struct sbx *s)
{
	struct esm *e = calloc(1, sizeof(*e));
	pthread_condattr_t ca;
	sqlite3 *db;
	sqlite3_stmt *st;
	json_t *rows = json_array();
	size_t i;
	json_t *row;

	if (!e || !rows) {
		free(e);
		json_decref(rows);
		return -1;
	}
	e->sbx = s;
	pthread_mutex_init(&e->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->cond, &ca);
	pthread_condattr_destroy(&ca);
	sbx_set_state(s, STATE_KEY, e);
	db = sbx_db_lock(s);
	sbx_db_run(s, db, "DELETE FROM esm_checkpoints WHERE uuid IN (SELECT uuid FROM"
		   " esm_mappings WHERE state = 'Deleting')", "");
	sbx_db_run(s, db, "DELETE FROM esm_mappings WHERE state = 'Deleting'", "");
	st = sbx_db_prep(s, db, "SELECT uuid, kind, function_arn, source_arn, config, state,"
			 " last_result FROM esm_mappings ORDER BY created", "");
	while (st && sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(rows, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
			"uuid", sbx_col(st, 0), "kind", sbx_col(st, 1), "function", sbx_col(st, 2),
			"source", sbx_col(st, 3), "config", sbx_col(st, 4), "state", sbx_col(st, 5),
			"last", sbx_col(st, 6)));
	sqlite3_finalize(st);
	sbx_db_unlock(s);
	json_array_foreach(rows, i, row) {
		const char *state = sbx_str(row, "state");
		json_t *config = json_loads(sbx_str(row, "config"), 0, NULL);

		mapping_add(e, sbx_str(row, "uuid"), sbx_str(row, "kind"), sbx_str(row, "function"),
			    sbx_str(row, "source"), config, sbx_str(row, "last"),
			    strcmp(state, "Enabled") != 0 && strcmp(state, "Disabled") != 0);
		json_decref(config);
	}
	if (json_array_size(rows))
		sbx_log(s, "INFO", "esm: resumed %zu event source mappings", json_array_size(rows));
	json_decref(rows);
	return 0;
}

/* Before the HTTP server joins: the pollers stop taking work (shutdown joins them). */
static void esm_quiesce(struct sbx *s)
{
	struct esm *e = esm_of(s);

	if (!e)
		return;
	pthread_mutex_lock(&e->mu);
	e->stopping = 1;
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->mu);
	sbx_sqs_wake_all(s); /* SQS pollers in a long poll */
}

static void esm_shutdown(struct sbx *s)
{
	struct esm *e = esm_of(s);
	struct esm_mapping *m, *next;

	if (!e)
		return;
	esm_quiesce(s);
	for (m = e->list; m; m = m->next)
		for (int i = 0; i < m->nthreads; i++)
			pthread_join(m->threads[i], NULL);
	sbx_set_state(s, STATE_KEY, NULL);
	for (m = e->list; m; m = next) {
		next = m->next;
		free(m);
	}
	pthread_cond_destroy(&e->cond);
	pthread_mutex_destroy(&e->mu);
	free(e);
}

const struct sbx_service sbx_svc_esm = {
	.name = "lambda",
	.schema = esm_schema,
	.ops = NULL,
	.nops = 0,
	.init = esm_init,
	.shutdown = esm_shutdown,
	.route = esm_route,
	.quiesce = esm_quiesce,
};
