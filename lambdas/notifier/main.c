/* main.c: POC-Lambda-2 (notifier): DynamoDB stream batch -> one SNS Publish per INSERT. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/client/aws.h"
#include "aws/client/buf.h"
#include "lambdas/notifier/event.h"
#include "lambdas/runtime/lrt.h"

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

/* Publish one INSERT. Returns 0, or -1 (logged). */
static int publish(struct notifier *nt, const struct lrt_stream_record *r)
{
	struct aws_error err = { 0 };
	json_t *image = r->new_image ? r->new_image : r->keys, *in = NULL, *out = NULL;
	const char *seq = r->sequence_number ? r->sequence_number : "?";
	char why[256];
	int rc = -1;

	if (!image) {
		logf_line("sequenceNumber=%s reason=the record has no NewImage", seq);
		return -1;
	}
	in = lrt_publish_input(nt->topic_arn, image, why, sizeof(why));
	if (!in) {
		logf_line("sequenceNumber=%s reason=%s", seq, why);
		return -1;
	}
	if (aws_call(nt->aws, "sns", "Publish", in, &out, &err) == 0) {
		logf_line("sequenceNumber=%s published messageId=%s", seq,
			  json_string_value(json_object_get(out, "MessageId")) ?
				  json_string_value(json_object_get(out, "MessageId")) : "?");
		rc = 0;
	} else {
		logf_line("sequenceNumber=%s reason=Publish failed: %s: %s", seq,
			  err.code, err.message);
	}
	json_decref(in);
	json_decref(out);
	return rc;
}

static int handle(const struct lrt_invocation *inv, const char *event, size_t len,
		  struct aws_buf *response, struct lrt_error *err, void *ctx)
{
	struct notifier *nt = ctx;
	struct lrt_stream_record *recs = NULL;
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
	if (!failures)
		goto nomem;
	/* Lambda retries a stream batch from the lowest reported sequence number, so stop at
	 * the first failure: publishing later records now would notify them twice. */
	for (size_t i = 0; i < n; i++) {
		if (!recs[i].event_name || strcmp(recs[i].event_name, "INSERT") != 0)
			continue;
		if (publish(nt, &recs[i]) == 0) {
			published++;
			continue;
		}
		if (!recs[i].sequence_number) {
			snprintf(err->type, sizeof(err->type), "Runtime.InvalidEvent");
			snprintf(err->message, sizeof(err->message),
				 "record %zu failed and has no SequenceNumber", i);
			goto out;
		}
		if (json_array_append_new(failures, json_pack("{s:s}", "itemIdentifier",
							      recs[i].sequence_number)))
			goto nomem;
		break;
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
