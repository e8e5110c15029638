/* main.c: POC-Lambda-2 (notifier): DynamoDB stream batch -> SNS PublishBatch, one entry per
 * INSERT. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/client/aws.h"
#include "aws/client/buf.h"
#include "lambdas/notifier/event.h"
#include "lambdas/runtime/lrt.h"

#define NT_BATCH 10 /* PublishBatch takes at most 10 entries */

struct notifier {
	struct aws_client *aws; /* created once at init, reused by every invocation */
	const char *topic_arn;  /* TOPIC_ARN */
};

/* One log line on stderr; control characters become spaces. */
static void logf_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_line(const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	fprintf(stderr, "%s\n", line);
}

static void runtime_log(const char *line, void *ctx)
{
	(void)ctx;
	logf_line("runtime: %s", line);
}

/* The INSERT records waiting for one PublishBatch call (Id = the entry's index). */
struct batch {
	const struct lrt_stream_record *recs[NT_BATCH];
	json_t *entries;  /* PublishBatchRequestEntries */
	size_t n;
};

static const char *seq_of(const struct lrt_stream_record *r)
{
	return r->sequence_number ? r->sequence_number : "?";
}

/* Add r to b as an entry. Returns 0, or -1 when the record cannot be published (logged). */
static int batch_add(struct notifier *nt, struct batch *b, const struct lrt_stream_record *r)
{
	json_t *image = r->new_image ? r->new_image : r->keys, *in;
	char why[256], id[24];

	if (!image) {
		logf_line("sequenceNumber=%s reason=the record has no NewImage", seq_of(r));
		return -1;
	}
	in = lrt_publish_input(nt->topic_arn, image, why, sizeof(why));
	if (!in) {
		logf_line("sequenceNumber=%s reason=%s", seq_of(r), why);
		return -1;
	}
	snprintf(id, sizeof(id), "%zu", b->n);
	if (json_object_del(in, "TopicArn") || json_object_set_new(in, "Id", json_string(id))) {
		json_decref(in);
		logf_line("sequenceNumber=%s reason=out of memory", seq_of(r));
		return -1;
	}
	if (json_array_append_new(b->entries, in)) { /* in is released either way */
		logf_line("sequenceNumber=%s reason=out of memory", seq_of(r));
		return -1;
	}
	b->recs[b->n++] = r;
	return 0;
}

/* The entry of list (Successful or Failed) whose Id is id, or NULL. */
static json_t *entry_by_id(json_t *list, const char *id)
{
	json_t *e;
	size_t i;

	json_array_foreach(list, i, e)
		if (json_string_value(json_object_get(e, "Id")) &&
		    strcmp(json_string_value(json_object_get(e, "Id")), id) == 0)
			return e;
	return NULL;
}

/* Publish b's entries in one PublishBatch call and empty b. Every record gets its log line;
 * *first_failed becomes the first record (in batch order) that was not published, or stays
 * NULL. Returns the number published. */
static size_t batch_flush(struct notifier *nt, struct batch *b,
			  const struct lrt_stream_record **first_failed)
{
	struct aws_error err = { 0 };
	json_t *in, *out = NULL;
	size_t published = 0;
	int called;

	if (!b->n)
		return 0;
	in = json_pack("{s:s, s:O}", "TopicArn", nt->topic_arn, "PublishBatchRequestEntries",
		       b->entries);
	called = in && aws_call(nt->aws, "sns", "PublishBatch", in, &out, &err) == 0;
	for (size_t i = 0; i < b->n; i++) {
		const char *seq = seq_of(b->recs[i]);
		json_t *ok, *bad;
		char id[24];

		snprintf(id, sizeof(id), "%zu", i);
		ok = called ? entry_by_id(json_object_get(out, "Successful"), id) : NULL;
		bad = called ? entry_by_id(json_object_get(out, "Failed"), id) : NULL;
		if (ok && !bad) {
			const char *mid = json_string_value(json_object_get(ok, "MessageId"));

			logf_line("sequenceNumber=%s published messageId=%s", seq, mid ? mid : "?");
			published++;
			continue;
		}
		if (!in)
			logf_line("sequenceNumber=%s reason=out of memory", seq);
		else if (!called)
			logf_line("sequenceNumber=%s reason=PublishBatch failed: %s: %s", seq,
				  err.code, err.message);
		else if (bad)
			logf_line("sequenceNumber=%s reason=Publish failed: %s: %s", seq,
				  json_string_value(json_object_get(bad, "Code")) ?
					  json_string_value(json_object_get(bad, "Code")) : "?",
				  json_string_value(json_object_get(bad, "Message")) ?
					  json_string_value(json_object_get(bad, "Message")) : "");
		else
			logf_line("sequenceNumber=%s reason=PublishBatch answered nothing for entry %s",
				  seq, id);
		if (!*first_failed)
			*first_failed = b->recs[i];
	}
	json_decref(in);
	json_decref(out);
	json_array_clear(b->entries);
	b->n = 0;
	return published;
}

static int handle(const struct lrt_invocation *inv, const char *event, size_t len,
		  struct aws_buf *response, struct lrt_error *err, void *ctx)
{
	struct notifier *nt = ctx;
	struct lrt_stream_record *recs = NULL;
	const struct lrt_stream_record *failed = NULL;
	struct batch b = { .n = 0 };
	json_t *ev, *failures = NULL, *res = NULL;
	json_error_t jerr;
	char why[256], *text = NULL;
	size_t n = 0, published = 0;
	int rc = -1;

	ev = json_loadb(event, len, 0, &jerr);
	if (!ev) {
		snprintf(err->type, sizeof(err->type), "Runtime.InvalidEvent");
		snprintf(err->message, sizeof(err->message), "the event is not JSON: %s", jerr.text);
		goto out;
	}
	if (lrt_stream_records(ev, &recs, &n, why, sizeof(why))) {
		snprintf(err->type, sizeof(err->type), "Runtime.InvalidEvent");
		snprintf(err->message, sizeof(err->message), "%s", why);
		goto out;
	}
	failures = json_array();
	b.entries = json_array();
	if (!failures || !b.entries)
		goto nomem;
	/* INSERTs go out in PublishBatch calls of up to NT_BATCH. Lambda retries a stream batch
	 * from the lowest reported sequence number, so stop at the first record that was not
	 * published and report it alone: publishing later calls now would notify twice. */
	for (size_t i = 0; i < n && !failed; i++) {
		if (!recs[i].event_name || strcmp(recs[i].event_name, "INSERT") != 0)
			continue;
		if (batch_add(nt, &b, &recs[i])) {
			published += batch_flush(nt, &b, &failed);
			if (!failed)
				failed = &recs[i];
		} else if (b.n == NT_BATCH) {
			published += batch_flush(nt, &b, &failed);
		}
	}
	if (!failed)
		published += batch_flush(nt, &b, &failed);
	if (failed) {
		if (!failed->sequence_number) {
			snprintf(err->type, sizeof(err->type), "Runtime.InvalidEvent");
			snprintf(err->message, sizeof(err->message),
				 "record %zu failed and has no SequenceNumber",
				 (size_t)(failed - recs));
			goto out;
		}
		if (json_array_append_new(failures, json_pack("{s:s}", "itemIdentifier",
							      failed->sequence_number)))
			goto nomem;
	}
	logf_line("request %s: %zu records, %zu published, %zu failed", inv->request_id, n,
		  published, json_array_size(failures));
	res = json_pack("{s:O}", "batchItemFailures", failures);
	text = res ? json_dumps(res, JSON_COMPACT) : NULL;
	if (!text || aws_buf_adds(response, text))
		goto nomem;
	rc = 0;
	goto out;
nomem:
	snprintf(err->type, sizeof(err->type), "Runtime.OutOfMemory");
	snprintf(err->message, sizeof(err->message), "out of memory");
out:
	free(text);
	free(recs);
	json_decref(res);
	json_decref(failures);
	json_decref(b.entries);
	json_decref(ev);
	return rc;
}

int main(void)
{
	struct notifier nt = { 0 };
	struct aws_error err = { 0 };
	struct aws_client_opts opts = { 0 };
	struct lrt *rt = NULL;
	char why[256];
	int rc = 1;

	setvbuf(stderr, NULL, _IOLBF, 0);
	if (lrt_new(NULL, &rt, why, sizeof(why))) {
		logf_line("notifier: %s", why);
		return 1;
	}
	lrt_set_log(rt, runtime_log, NULL);
	nt.topic_arn = getenv("TOPIC_ARN");
	if (!nt.topic_arn || !*nt.topic_arn) {
		logf_line("notifier: init error: TOPIC_ARN is not set");
		lrt_init_error(rt, "Runtime.ConfigError", "TOPIC_ARN is not set");
		goto out;
	}
	if (aws_client_new(&opts, &nt.aws, &err)) {
		logf_line("notifier: init error: %s: %s", err.code, err.message);
		lrt_init_error(rt, "Runtime.ConfigError", err.message);
		goto out;
	}
	rc = lrt_run(rt, handle, &nt) == 1 ? 0 : 1;
out:
	aws_client_free(nt.aws);
	lrt_free(rt);
	return rc;
}
