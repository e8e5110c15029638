/* esm_sqs.c: the SQS poller of an event source mapping: receive, invoke with the SQS event,
 * delete what succeeded, leave the rest to the visibility timeout and the queue's redrive. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sandbox/esm.h"
#include "aws/sandbox/iam_enforce.h"

#define SQS_RECEIVE_MAX 10
#define IDLE_WAIT_S 1        /* long poll of an idle poller: bounds how long an IAM change takes to
                              * reach it (a change of the mapping itself ends the poll at once) */
#define PROBLEM_PAUSE_MS 1000

static const char *no_header(const struct sbx_req *r, const char *name)
{
	(void)r;
	(void)name;
	return NULL;
}

static int poll_interrupted(void *m)
{
	return sbx_esm_interrupted(m);
}

/* Run an SQS operation of this sandbox as an internal request (no HTTP). *out gets a new
 * reference. A long poll of poller (NULL: not a poll) ends early when its mapping is
 * deleted or disabled. Returns 0, or -1 with the error code in err. Store lock NOT held. */
static int sqs_call(struct sbx *s, struct esm_mapping *poller, const char *region,
		    const char *op, json_t *in, json_t **out, char *err, size_t errlen)
{
	const struct sbx_service *svc = NULL;
	struct sbx_req r;
	char request_id[37];

	*out = NULL;
	for (int i = 0; sbx_services[i]; i++)
		if (strcmp(sbx_services[i]->name, "sqs") == 0)
			svc = sbx_services[i];
	for (size_t i = 0; svc && i < svc->nops; i++) {
		if (strcmp(svc->ops[i].name, op) != 0)
			continue;
		memset(&r, 0, sizeof(r));
		sbx_uuid(request_id);
		r.sbx = s;
		r.method = "POST";
		r.path = "/";
		r.query = "";
		r.body = "";
		r.service = "sqs";
		r.op = op;
		r.region = region && *region ? region : SBX_DEFAULT_REGION;
		r.access_key = "";
		r.request_id = request_id;
		r.header = no_header;
		if (poller) {
			r.interrupted = poll_interrupted;
			r.interrupt_ctx = poller;
		}
		if (svc->ops[i].fn(&r, in, out) == 0)
			return 0;
		json_decref(*out);
		*out = NULL;
		snprintf(err, errlen, "%s", r.err_code[0] ? r.err_code : "InternalFailure");
		return -1;
	}
	snprintf(err, errlen, "SqsMissing");
	return -1;
}

int sbx_esm_sqs_exists(struct sbx *s, const char *queue_arn)
{
	json_t *in = json_pack("{s:s, s:[s]}", "QueueUrl", queue_arn, "AttributeNames",
			       "VisibilityTimeout");
	json_t *out = NULL;
	char err[96];
	int rc;

	if (!in)
		return -1;
	rc = sqs_call(s, NULL, NULL, "GetQueueAttributes", in, &out, err, sizeof(err));
	json_decref(in);
	json_decref(out);
	if (rc == 0)
		return 1;
	return strcmp(err, "QueueDoesNotExist") == 0 ? 0 : -1;
}

/* SQS message attributes as the event shows them: lower camel case, list members. */
static json_t *event_attributes(json_t *attrs)
{
	json_t *out = json_object();
	const char *name;
	json_t *a;

	json_object_foreach(attrs, name, a) {
		json_t *e = json_pack("{s:[], s:[], s:O*}", "stringListValues", "binaryListValues",
				      "dataType", json_object_get(a, "DataType"));

		if (!e)
			continue;
		if (json_object_get(a, "StringValue"))
			json_object_set(e, "stringValue", json_object_get(a, "StringValue"));
		if (json_object_get(a, "BinaryValue"))
			json_object_set(e, "binaryValue", json_object_get(a, "BinaryValue"));
		json_object_set_new(out, name, e);
	}
	return out;
}

/* One SQS event record from a received message (new reference). */
static json_t *event_record(const struct esm_mapping *m, json_t *msg)
{
	json_t *attrs = json_object_get(msg, "Attributes");
	json_t *sys = json_object();
	static const char *const names[] = { "ApproximateReceiveCount", "SentTimestamp",
					     "SenderId", "ApproximateFirstReceiveTimestamp" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		json_t *v = json_object_get(attrs, names[i]);

		if (v)
			json_object_set(sys, names[i], v);
	}
	return json_pack("{s:O*, s:O*, s:O*, s:o, s:o, s:O*, s:s, s:s, s:s}",
			 "messageId", json_object_get(msg, "MessageId"),
			 "receiptHandle", json_object_get(msg, "ReceiptHandle"),
			 "body", json_object_get(msg, "Body"),
			 "attributes", sys,
			 "messageAttributes",
			 event_attributes(json_object_get(msg, "MessageAttributes")),
			 "md5OfBody", json_object_get(msg, "MD5OfBody"),
			 "eventSource", "aws:sqs",
			 "eventSourceARN", m->source_arn,
			 "awsRegion", m->region);
}

/* Receive up to cfg->batch_size messages into msgs: a long poll while idle, then drain
 * what is ready (or keep polling until the batching window closes). Returns the number
 * received, or -1 when the queue cannot be read. */
static int receive_batch(struct esm_mapping *m, const struct esm_config *cfg, json_t *msgs)
{
	long long deadline = 0;
	char err[96];

	while (json_array_size(msgs) < (size_t)cfg->batch_size) {
		size_t have = json_array_size(msgs);
		int want = cfg->batch_size - (int)have;
		int wait = 0;
		json_t *in, *out = NULL;
		json_t *got;

		if (have == 0) {
			wait = IDLE_WAIT_S;
		} else if (cfg->window_s > 0) {
			long long left = deadline - sbx_now_ms();

			if (left <= 0)
				break;
			wait = left >= 1000 ? (int)(left / 1000) : 1;
			if (wait > 20)
				wait = 20;
		}
		if (want > SQS_RECEIVE_MAX)
			want = SQS_RECEIVE_MAX;
		in = json_pack("{s:s, s:i, s:i, s:[s], s:[s]}", "QueueUrl", m->source_arn,
			       "MaxNumberOfMessages", want, "WaitTimeSeconds", wait,
			       "MessageSystemAttributeNames", "All", "MessageAttributeNames", "All");
		if (!in)
			return -1;
		if (sqs_call(m->sbx, m, m->region, "ReceiveMessage", in, &out, err, sizeof(err))) {
			json_decref(in);
			if (have)
				break;
			sbx_log(m->sbx, "WARN", "esm %s: ReceiveMessage failed: %s", m->uuid, err);
			return -1;
		}
		json_decref(in);
		got = json_object_get(out, "Messages");
		json_array_extend(msgs, got);
		json_decref(out);
		if (have == 0 && json_array_size(msgs) == 0)
			return 0;
		if (have == 0)
			deadline = sbx_now_ms() + (long long)cfg->window_s * 1000;
		if (json_array_size(got) == 0 && cfg->window_s == 0)
			break;
		if (sbx_esm_interrupted(m))
			break;
	}
	return (int)json_array_size(msgs);
}

/* May the function's execution role do action on the queue (IAM enforcement)? Logs a
 * refusal (worker 0 only, so a mapping logs it once per pause). */
static int execution_role_may(struct esm_mapping *m, const struct esm_config *cfg, int index,
			      const char *action)
{
	char why[1024];

	if (sbx_iam_function_allows(m->sbx, cfg->function_arn, action, m->source_arn, why,
				    sizeof(why)))
		return 1;
	if (index == 0)
		sbx_log(m->sbx, "WARN", "esm %s: %s", m->uuid, why);
	return 0;
}

/* Delete the messages of msgs whose keep flag is 0 (DeleteMessageBatch, 10 at a time). */
static void delete_done(struct esm_mapping *m, const struct esm_config *cfg, json_t *msgs,
			const unsigned char *keep)
{
	size_t n = json_array_size(msgs), i = 0;
	char err[96];

	/* without sqs:DeleteMessage the messages come back after the visibility timeout */
	if (!execution_role_may(m, cfg, 0, "sqs:DeleteMessage"))
		return;
	while (i < n) {
		json_t *entries = json_array();
		json_t *in, *out = NULL;

		for (; i < n && json_array_size(entries) < SQS_RECEIVE_MAX; i++) {
			char id[16];

			if (keep && keep[i])
				continue;
			snprintf(id, sizeof(id), "m%zu", i);
			json_array_append_new(entries, json_pack("{s:s, s:O*}", "Id", id,
				"ReceiptHandle", json_object_get(json_array_get(msgs, i),
								 "ReceiptHandle")));
		}
		if (json_array_size(entries) == 0) {
			json_decref(entries);
			break;
		}
		in = json_pack("{s:s, s:o}", "QueueUrl", m->source_arn, "Entries", entries);
		if (!in || sqs_call(m->sbx, NULL, m->region, "DeleteMessageBatch", in, &out, err,
				    sizeof(err)))
			sbx_log(m->sbx, "WARN", "esm %s: DeleteMessageBatch failed", m->uuid);
		else if (json_array_size(json_object_get(out, "Failed")))
			sbx_log(m->sbx, "WARN", "esm %s: %zu deletes failed (receipt expired)",
				m->uuid, json_array_size(json_object_get(out, "Failed")));
		json_decref(in);
		json_decref(out);
	}
}

/* Make msgs visible again at once (ChangeMessageVisibilityBatch 0, 10 at a time). */
static void release(struct esm_mapping *m, json_t *msgs)
{
	size_t n = json_array_size(msgs);
	char err[96];

	for (size_t i = 0; i < n;) {
		json_t *entries = json_array();
		json_t *in, *out = NULL;

		for (; i < n && json_array_size(entries) < SQS_RECEIVE_MAX; i++) {
			char id[16];

			snprintf(id, sizeof(id), "m%zu", i);
			json_array_append_new(entries, json_pack("{s:s, s:O*, s:i}", "Id", id,
				"ReceiptHandle", json_object_get(json_array_get(msgs, i),
								 "ReceiptHandle"),
				"VisibilityTimeout", 0));
		}
		in = json_pack("{s:s, s:o}", "QueueUrl", m->source_arn, "Entries", entries);
		if (!in || sqs_call(m->sbx, NULL, m->region, "ChangeMessageVisibilityBatch", in, &out,
				    err, sizeof(err)))
			sbx_log(m->sbx, "WARN", "esm %s: cannot release a batch: %s", m->uuid, err);
		json_decref(in);
		json_decref(out);
	}
}

/* Invoke the function with one batch and settle its messages. */
static void process(struct esm_mapping *m, const struct esm_config *cfg, json_t *msgs)
{
	size_t n = json_array_size(msgs);
	json_t *records = json_array(), *event = NULL;
	const char **ids = calloc(n ? n : 1, sizeof(*ids));
	unsigned char *failed = calloc(n ? n : 1, 1);
	struct sbx_invoke_result res;
	struct aws_buf out;
	char *payload = NULL;
	size_t i;
	json_t *msg;
	int nf;

	aws_buf_init(&out, 0);
	if (!records || !ids || !failed)
		goto done;
	json_array_foreach(msgs, i, msg) {
		json_array_append_new(records, event_record(m, msg));
		ids[i] = json_string_value(json_object_get(msg, "MessageId"));
		if (!ids[i])
			ids[i] = "";
	}
	event = json_pack("{s:O}", "Records", records);
	payload = event ? json_dumps(event, JSON_COMPACT) : NULL;
	if (!payload)
		goto done;
	if (sbx_esm_invoke(m, cfg, payload, strlen(payload), &out, &res) != 0) {
		/* not run (throttled, function missing): the messages come back after the
		 * visibility timeout, as on AWS */
		sbx_log(m->sbx, "WARN", "esm %s: invoke of %s not run (%s%s)", m->uuid,
			cfg->function_arn, res.throttled ? "throttled " : "", res.error_type);
		sbx_esm_result(m, "PROBLEM: Function call failed");
		sbx_esm_sleep(m, PROBLEM_PAUSE_MS);
		goto done;
	}
	if (res.function_error) {
		sbx_log(m->sbx, "INFO", "esm %s: %zu messages failed (%s); left to the visibility "
			"timeout", m->uuid, n, res.error_type);
		sbx_esm_result(m, "PROBLEM: Function call failed");
		goto done;
	}
	if (!cfg->report_failures) {
		delete_done(m, cfg, msgs, NULL);
		sbx_esm_result(m, "OK");
		goto done;
	}
	nf = sbx_esm_parse_failures(out.data ? out.data : "", out.len, ids, n, failed);
	if (nf < 0) {
		sbx_log(m->sbx, "INFO", "esm %s: invalid batchItemFailures response: the whole batch "
			"of %zu failed", m->uuid, n);
		sbx_esm_result(m, "PROBLEM: Function call failed");
		goto done;
	}
	delete_done(m, cfg, msgs, failed);
	if (nf)
		sbx_log(m->sbx, "INFO", "esm %s: %d of %zu messages reported failed", m->uuid, nf, n);
	sbx_esm_result(m, "OK");
done:
	aws_buf_cleanup(&out);
	free(payload);
	free(ids);
	free(failed);
	json_decref(event);
	json_decref(records);
}

void *sbx_esm_sqs_worker(void *arg)
{
	struct esm_mapping *m = arg;
	struct esm_config cfg;
	int index;

	index = sbx_esm_worker_index(m);
	while (sbx_esm_gate(m, &cfg) == 0) {
		json_t *msgs;

		if (cfg.max_concurrency > 0 && index >= cfg.max_concurrency) {
			/* over ScalingConfig.MaximumConcurrency: idle until the setting changes */
			sbx_esm_sleep(m, PROBLEM_PAUSE_MS);
			continue;
		}
		if (!execution_role_may(m, &cfg, index, "sqs:ReceiveMessage")) {
			sbx_esm_result(m, "PROBLEM: Lambda does not have permission to read the "
				       "queue: the execution role is denied sqs:ReceiveMessage");
			sbx_esm_sleep(m, PROBLEM_PAUSE_MS);
			continue;
		}
		msgs = json_array();
		int n = msgs ? receive_batch(m, &cfg, msgs) : -1;

		if (n < 0) {
			sbx_esm_result(m, "PROBLEM: Lambda was unable to read the queue");
			sbx_esm_sleep(m, PROBLEM_PAUSE_MS);
		} else if (n > 0 && sbx_esm_interrupted(m)) {
			/* disabled or deleted while receiving: give the batch back untouched */
			release(m, msgs);
		} else if (n > 0) {
			process(m, &cfg, msgs);
		}
		json_decref(msgs);
	}
	sbx_esm_worker_exit(m);
	return NULL;
}
