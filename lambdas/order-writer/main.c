/* main.c: POC-Lambda-1 (order-writer): SQS batch -> idempotent PutItem per valid order. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/client/aws.h"
#include "aws/client/buf.h"
#include "lambdas/order-writer/order.h"
#include "lambdas/runtime/lrt.h"

struct writer {
	struct aws_client *aws; /* created once at init, reused by every invocation */
	const char *table;      /* ORDERS_TABLE */
};

/* One log line on stderr (Lambda ships stderr to CloudWatch Logs); control characters
 * in the text become spaces so a line stays a line. */
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

/* Store one record. Returns 0 when stored (or already stored), -1 when it failed (logged). */
static int write_record(struct writer *w, const struct lrt_sqs_record *r, long long now_ms)
{
	struct lrt_order o = { 0 };
	struct aws_error err = { 0 };
	json_t *item = NULL, *in = NULL, *out = NULL;
	char why[512];
	int rc = -1;

	if (!r->body) {
		logf_line("messageId=%s reason=the record has no body", r->message_id);
		goto done;
	}
	if (lrt_order_parse(r->body, r->body_len, &o, why, sizeof(why))) {
		logf_line("messageId=%s reason=invalid order: %s", r->message_id, why);
		goto done;
	}
	item = lrt_order_item(&o, r->body, r->body_len, r->message_id,
			      r->sent_ms ? r->sent_ms : now_ms);
	if (item)
		in = json_pack("{s:s, s:o, s:s}", "TableName", w->table, "Item", item,
			       "ConditionExpression", "attribute_not_exists(orderID)");
	if (!in) {
		logf_line("messageId=%s reason=out of memory", r->message_id);
		goto done;
	}
	if (aws_call(w->aws, "dynamodb", "PutItem", in, &out, &err) == 0) {
		logf_line("messageId=%s orderID=%s stored", r->message_id,
			  o.order_id ? o.order_id : r->message_id);
		rc = 0;
	} else if (strcmp(err.code, "ConditionalCheckFailedException") == 0) {
		logf_line("messageId=%s orderID=%s already stored", r->message_id,
			  o.order_id ? o.order_id : r->message_id);
		rc = 0;
	} else {
		logf_line("messageId=%s reason=PutItem failed: %s: %s", r->message_id, err.code,
			  err.message);
	}
done:
	json_decref(in);
	json_decref(out);
	lrt_order_cleanup(&o);
	return rc;
}

static int handle(const struct lrt_invocation *inv, const char *event, size_t len,
		  struct aws_buf *response, struct lrt_error *err, void *ctx)
{
	struct writer *w = ctx;
	struct lrt_sqs_record *recs = NULL;
	json_t *ev, *failures = NULL, *res = NULL;
	json_error_t jerr;
	long long now = lrt_now_ms();
	char why[256], *text = NULL;
	size_t n = 0;
	int rc = -1;

	ev = json_loadb(event, len, 0, &jerr);
	if (!ev) {
		snprintf(err->type, sizeof(err->type), "Runtime.InvalidEvent");
		snprintf(err->message, sizeof(err->message), "the event is not JSON: %s", jerr.text);
		goto out;
	}
	if (lrt_sqs_records(ev, &recs, &n, why, sizeof(why))) {
		snprintf(err->type, sizeof(err->type), "Runtime.InvalidEvent");
		snprintf(err->message, sizeof(err->message), "%s", why);
		goto out;
	}
	/* a record without a messageId cannot be reported: fail the whole batch */
	for (size_t i = 0; i < n; i++) {
		if (!recs[i].message_id) {
			snprintf(err->type, sizeof(err->type), "Runtime.InvalidEvent");
			snprintf(err->message, sizeof(err->message),
				 "record %zu has no messageId", i);
			goto out;
		}
	}
	failures = json_array();
	if (!failures)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		if (write_record(w, &recs[i], now) == 0)
			continue;
		if (json_array_append_new(failures,
					  json_pack("{s:s}", "itemIdentifier", recs[i].message_id)))
			goto nomem;
	}
	logf_line("request %s: %zu records, %zu failed", inv->request_id, n,
		  json_array_size(failures));
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
	struct writer w = { 0 };
	struct aws_error err = { 0 };
	struct aws_client_opts opts = { 0 };
	struct lrt *rt = NULL;
	char why[256];
	int rc = 1;

	setvbuf(stderr, NULL, _IOLBF, 0);
	if (lrt_new(NULL, &rt, why, sizeof(why))) {
		logf_line("order-writer: %s", why);
		return 1;
	}
	lrt_set_log(rt, runtime_log, NULL);
	w.table = getenv("ORDERS_TABLE");
	if (!w.table || !*w.table) {
		logf_line("order-writer: init error: ORDERS_TABLE is not set");
		lrt_init_error(rt, "Runtime.ConfigError", "ORDERS_TABLE is not set");
		goto out;
	}
	if (aws_client_new(&opts, &w.aws, &err)) {
		logf_line("order-writer: init error: %s: %s", err.code, err.message);
		lrt_init_error(rt, "Runtime.ConfigError", err.message);
		goto out;
	}
	rc = lrt_run(rt, handle, &w) == 1 ? 0 : 1;
out:
	aws_client_free(w.aws);
	lrt_free(rt);
	return rc;
}
