/* test_esm.c: event source mappings against a private sandbox with a fake invoker: partial
 * batch responses, redrive, disable, delete, stream retries, failure records, checkpoints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <ftw.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "aws/sandbox/esm.h"
#include "aws/sandbox/sbx_int.h"

extern const struct sbx_service sbx_svc_esm;

/* ---- sbx_esm_parse_failures: AWS-FACTS section 18's success and failure cases ---- */

struct pf_case {
	const char *name;
	const char *resp;
	int want;              /* failures, or -1 for an invalid response */
	const char *failed;    /* expected flags for ids a, b, c ("010") */
};

static const struct pf_case pf_cases[] = {
	{ "empty response", "", 0, "000" },
	{ "null response", "null", 0, "000" },
	{ "no member", "{}", 0, "000" },
	{ "null list", "{\"batchItemFailures\":null}", 0, "000" },
	{ "empty list", "{\"batchItemFailures\":[]}", 0, "000" },
	{ "one", "{\"batchItemFailures\":[{\"itemIdentifier\":\"b\"}]}", 1, "010" },
	{ "two, repeated", "{\"batchItemFailures\":[{\"itemIdentifier\":\"c\"},"
	  "{\"itemIdentifier\":\"a\"},{\"itemIdentifier\":\"c\"}]}", 2, "101" },
	{ "not json", "{batch", -1, "000" },
	{ "list not a list", "{\"batchItemFailures\":{}}", -1, "000" },
	{ "empty id", "{\"batchItemFailures\":[{\"itemIdentifier\":\"\"}]}", -1, "000" },
	{ "null id", "{\"batchItemFailures\":[{\"itemIdentifier\":null}]}", -1, "000" },
	{ "wrong key", "{\"batchItemFailures\":[{\"id\":\"a\"}]}", -1, "000" },
	{ "unknown id", "{\"batchItemFailures\":[{\"itemIdentifier\":\"z\"}]}", -1, "000" },
};

static void test_parse_failures(void **state)
{
	static const char *const ids[] = { "a", "b", "c" };

	(void)state;
	for (size_t i = 0; i < sizeof(pf_cases) / sizeof(pf_cases[0]); i++) {
		unsigned char failed[3];
		char got[4];
		int rc = sbx_esm_parse_failures(pf_cases[i].resp, strlen(pf_cases[i].resp), ids, 3,
						failed);

		for (int k = 0; k < 3; k++)
			got[k] = failed[k] ? '1' : '0';
		got[3] = '\0';
		if (rc != pf_cases[i].want || strcmp(got, pf_cases[i].failed) != 0)
			fail_msg("%s: rc %d flags %s", pf_cases[i].name, rc, got);
	}
}

/* ---- the fake function ---- */

static pthread_mutex_t fk_mu = PTHREAD_MUTEX_INITIALIZER;
static json_t *fk_bodies;      /* SQS bodies processed successfully -> times */
static int fk_fail_calls;      /* invocations of the failing function */
static int fk_stream_records;  /* stream records delivered to the good function */
static json_t *fk_seqs;        /* their sequence numbers -> times */
static int fk_inflight, fk_max_inflight; /* concurrent invocations of the SQS function */

static int fake_invoke(struct sbx *s, const char *function, const char *payload, size_t len,
		       struct aws_buf *out, struct sbx_invoke_result *res, long wait_ms)
{
	json_t *ev = json_loadb(payload, len, 0, NULL);
	json_t *recs = json_object_get(ev, "Records");
	json_t *failures = json_array();
	json_t *rec, *reply;
	size_t i;
	char *text;

	(void)s;
	(void)wait_ms;
	memset(res, 0, sizeof(*res));
	if (json_object_get(json_array_get(recs, 0), "messageId")) {
		pthread_mutex_lock(&fk_mu);
		if (++fk_inflight > fk_max_inflight)
			fk_max_inflight = fk_inflight;
		pthread_mutex_unlock(&fk_mu);
		usleep(20000); /* long enough for the pollers to overlap */
		pthread_mutex_lock(&fk_mu);
		fk_inflight--;
		pthread_mutex_unlock(&fk_mu);
	}
	pthread_mutex_lock(&fk_mu);
	if (strstr(function, "fail")) {
		fk_fail_calls++;
		res->function_error = 1;
		snprintf(res->error_type, sizeof(res->error_type), "Boom");
		aws_buf_adds(out, "{\"errorType\":\"Boom\",\"errorMessage\":\"always\"}");
	} else {
		json_array_foreach(recs, i, rec) {
			const char *body = json_string_value(json_object_get(rec, "body"));
			json_t *dd = json_object_get(rec, "dynamodb");

			if (dd) {
				const char *seq = json_string_value(json_object_get(dd, "SequenceNumber"));

				fk_stream_records++;
				json_object_set_new(fk_seqs, seq, json_integer(
					json_integer_value(json_object_get(fk_seqs, seq)) + 1));
			} else if (body && strcmp(body, "poison") == 0) {
				json_array_append_new(failures, json_pack("{s:O}", "itemIdentifier",
						      json_object_get(rec, "messageId")));
			} else if (body) {
				json_object_set_new(fk_bodies, body, json_integer(
					json_integer_value(json_object_get(fk_bodies, body)) + 1));
			}
		}
		reply = json_pack("{s:o}", "batchItemFailures", failures);
		failures = NULL;
		text = json_dumps(reply, 0);
		json_decref(reply);
		aws_buf_adds(out, text);
		free(text);
	}
	pthread_mutex_unlock(&fk_mu);
	json_decref(failures);
	json_decref(ev);
	return 0;
}

/* ---- a private sandbox ---- */

static const char *no_header(const struct sbx_req *r, const char *name)
{
	(void)r;
	(void)name;
	return NULL;
}

static void req_init(struct sbx_req *r, struct sbx *s)
{
	memset(r, 0, sizeof(*r));
	r->sbx = s;
	r->method = "POST";
	r->path = "/";
	r->query = "";
	r->body = "";
	r->region = SBX_DEFAULT_REGION;
	r->access_key = "";
	r->request_id = "00000000-0000-0000-0000-000000000000";
	r->header = no_header;
}

/* Call service svc's op with in (a JSON text); returns the output (new) or NULL. */
static json_t *call(struct sbx *s, const char *svc, const char *op, json_t *in)
{
	struct sbx_req r;
	json_t *out = NULL;

	req_init(&r, s);
	for (int i = 0; sbx_services[i]; i++) {
		if (strcmp(sbx_services[i]->name, svc) != 0)
			continue;
		for (size_t k = 0; k < sbx_services[i]->nops; k++)
			if (strcmp(sbx_services[i]->ops[k].name, op) == 0) {
				r.service = svc;
				r.op = op;
				if (sbx_services[i]->ops[k].fn(&r, in, &out) != 0) {
					fprintf(stderr, "%s %s: %s %s\n", svc, op, r.err_code,
						r.err_message);
					json_decref(out);
					out = NULL;
				}
			}
	}
	json_decref(in);
	return out;
}

/* An event-source-mapping request; *status gets the HTTP status (or the error's). */
static json_t *esm(struct sbx *s, const char *method, const char *path, const char *query,
		   json_t *in, int *status, char *code, size_t codelen)
{
	struct sbx_req r;
	struct aws_buf body;
	const char *ct = NULL;
	char *text = in ? json_dumps(in, 0) : NULL;
	json_t *out = NULL;

	req_init(&r, s);
	r.method = method;
	r.path = path;
	r.query = query;
	r.body = text ? text : "";
	r.body_len = text ? strlen(text) : 0;
	aws_buf_init(&body, 0);
	*status = 0;
	assert_int_equal(sbx_svc_esm.route(&r, status, &body, &ct), 0);
	if (r.err_status) {
		*status = r.err_status;
		snprintf(code, codelen, "%s", r.err_code);
	} else {
		code[0] = '\0';
		out = json_loads(body.data ? body.data : "", 0, NULL);
	}
	aws_buf_cleanup(&body);
	free(text);
	json_decref(in);
	return out;
}

static int free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Remove a test's data directory. */
static void rm_tree(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static struct sbx *start(const char *dir)
{
	struct sbx_opts o;
	struct sbx *s = NULL;
	char err[256];

	memset(&o, 0, sizeof(o));
	o.port = free_port();
	o.data_dir = dir;
	if (sbx_start(&o, &s, err, sizeof(err)) != 0)
		fail_msg("sbx_start: %s", err);
	return s;
}

/* ApproximateNumberOfMessages + NotVisible of queue q. */
static long queue_count(struct sbx *s, const char *q)
{
	json_t *out = call(s, "sqs", "GetQueueAttributes", json_pack("{s:s,s:[s,s]}", "QueueUrl", q,
			   "AttributeNames", "ApproximateNumberOfMessages",
			   "ApproximateNumberOfMessagesNotVisible"));
	json_t *a = json_object_get(out, "Attributes");
	long n = strtol(json_string_value(json_object_get(a, "ApproximateNumberOfMessages")),
			NULL, 10) +
		 strtol(json_string_value(json_object_get(a, "ApproximateNumberOfMessagesNotVisible")),
			NULL, 10);

	json_decref(out);
	return n;
}

static void send_msg(struct sbx *s, const char *q, const char *body)
{
	json_decref(call(s, "sqs", "SendMessage", json_pack("{s:s,s:s}", "QueueUrl", q,
			 "MessageBody", body)));
}

static size_t ok_bodies(void)
{
	size_t n;

	pthread_mutex_lock(&fk_mu);
	n = json_object_size(fk_bodies);
	pthread_mutex_unlock(&fk_mu);
	return n;
}

/* The mapping's State (or "" when it is gone). */
static void mapping_state(struct sbx *s, const char *uuid, char *out, size_t n)
{
	char path[128], code[96];
	int status;
	json_t *m;

	snprintf(path, sizeof(path), "/2015-03-31/event-source-mappings/%s", uuid);
	m = esm(s, "GET", path, "", NULL, &status, code, sizeof(code));
	snprintf(out, n, "%s", status == 200 ? json_string_value(json_object_get(m, "State")) : "");
	json_decref(m);
}

static void wait_state(struct sbx *s, const char *uuid, const char *want)
{
	char st[32] = "";

	for (int i = 0; i < 200; i++) {
		mapping_state(s, uuid, st, sizeof(st));
		if (strcmp(st, want) == 0)
			return;
		usleep(25000);
	}
	fail_msg("mapping %s: State %s, want %s", uuid, st, want);
}

#define DLQ "arn:aws:sqs:us-east-1:000000000000:dlq"
#define MAIN "arn:aws:sqs:us-east-1:000000000000:main"
#define ONFAIL "arn:aws:sqs:us-east-1:000000000000:onfail"
#define ESMP "/2015-03-31/event-source-mappings"

static void test_sqs_mapping(void **state)
{
	char dir[] = "/tmp/test_esm_XXXXXX";
	struct sbx *s;
	json_t *m;
	char uuid[37], path[128], code[96], st[32];
	int status, i;
	long long deadline;

	(void)state;
	assert_non_null(mkdtemp(dir));
	fk_bodies = json_object();
	s = start(dir);
	json_decref(call(s, "sqs", "CreateQueue", json_pack("{s:s}", "QueueName", "dlq")));
	json_decref(call(s, "sqs", "CreateQueue", json_pack("{s:s, s:{s:s, s:s}}", "QueueName",
			 "main", "Attributes", "VisibilityTimeout", "1", "RedrivePolicy",
			 "{\"deadLetterTargetArn\":\"" DLQ "\",\"maxReceiveCount\":\"2\"}")));

	/* validation */
	m = esm(s, "POST", ESMP, "", json_pack("{s:s,s:s}", "FunctionName", "ok",
		"EventSourceArn", "arn:aws:sqs:us-east-1:000000000000:nope"), &status, code,
		sizeof(code));
	assert_int_equal(status, 400);
	assert_string_equal(code, "InvalidParameterValueException");
	m = esm(s, "POST", ESMP, "", json_pack("{s:s,s:s,s:i}", "FunctionName", "ok",
		"EventSourceArn", MAIN, "BatchSize", 50), &status, code, sizeof(code));
	assert_int_equal(status, 400);

	m = esm(s, "POST", ESMP, "", json_pack("{s:s,s:s,s:[s],s:{s:i}}", "FunctionName", "ok",
		"EventSourceArn", MAIN, "FunctionResponseTypes", "ReportBatchItemFailures",
		"ScalingConfig", "MaximumConcurrency", 2), &status, code, sizeof(code));
	assert_int_equal(status, 202);
	assert_string_equal(json_string_value(json_object_get(m, "State")), "Creating");
	assert_int_equal(json_integer_value(json_object_get(m, "BatchSize")), 10);
	snprintf(uuid, sizeof(uuid), "%s", json_string_value(json_object_get(m, "UUID")));
	json_decref(m);
	wait_state(s, uuid, "Enabled");
	m = esm(s, "POST", ESMP, "", json_pack("{s:s,s:s}", "FunctionName", "ok",
		"EventSourceArn", MAIN), &status, code, sizeof(code));
	assert_int_equal(status, 409);
	assert_string_equal(code, "ResourceConflictException");

	/* 20 good messages and a poison one: the poison ends in the DLQ, no good one twice */
	for (i = 0; i < 20; i++) {
		char body[24];

		snprintf(body, sizeof(body), "order-%d", i);
		send_msg(s, MAIN, body);
	}
	send_msg(s, MAIN, "poison");
	deadline = sbx_now_ms() + 20000;
	while ((ok_bodies() < 20 || queue_count(s, DLQ) < 1) && sbx_now_ms() < deadline)
		usleep(50000);
	assert_int_equal(ok_bodies(), 20);
	assert_int_equal(queue_count(s, DLQ), 1);
	pthread_mutex_lock(&fk_mu);
	assert_true(fk_max_inflight >= 1 && fk_max_inflight <= 2); /* MaximumConcurrency */
	pthread_mutex_unlock(&fk_mu);
	pthread_mutex_lock(&fk_mu);
	{
		const char *k;
		json_t *v;

		json_object_foreach(fk_bodies, k, v)
			if (json_integer_value(v) != 1)
				fail_msg("%s delivered %lld times", k, (long long)json_integer_value(v));
	}
	pthread_mutex_unlock(&fk_mu);
	deadline = sbx_now_ms() + 5000;
	while (queue_count(s, MAIN) > 0 && sbx_now_ms() < deadline)
		usleep(50000);
	assert_int_equal(queue_count(s, MAIN), 0);

	/* list with a filter */
	m = esm(s, "GET", ESMP, "EventSourceArn=arn%3Aaws%3Asqs%3Aus-east-1%3A000000000000%3Amain",
		NULL, &status, code, sizeof(code));
	assert_int_equal(status, 200);
	assert_int_equal(json_array_size(json_object_get(m, "EventSourceMappings")), 1);
	json_decref(m);

	/* disabled: nothing consumed */
	snprintf(path, sizeof(path), ESMP "/%s", uuid);
	m = esm(s, "PUT", path, "", json_pack("{s:b}", "Enabled", 0), &status, code, sizeof(code));
	assert_int_equal(status, 202);
	assert_string_equal(json_string_value(json_object_get(m, "State")), "Disabling");
	json_decref(m);
	wait_state(s, uuid, "Disabled");
	send_msg(s, MAIN, "while-disabled");
	usleep(2500000);
	assert_int_equal(ok_bodies(), 20);
	assert_int_equal(queue_count(s, MAIN), 1);
	m = esm(s, "PUT", path, "", json_pack("{s:b}", "Enabled", 1), &status, code, sizeof(code));
	json_decref(m);
	deadline = sbx_now_ms() + 10000;
	while (ok_bodies() < 21 && sbx_now_ms() < deadline)
		usleep(50000);
	assert_int_equal(ok_bodies(), 21);

	/* delete: Deleting, then gone */
	m = esm(s, "DELETE", path, "", NULL, &status, code, sizeof(code));
	assert_int_equal(status, 202);
	assert_string_equal(json_string_value(json_object_get(m, "State")), "Deleting");
	json_decref(m);
	wait_state(s, uuid, "");
	mapping_state(s, uuid, st, sizeof(st));
	assert_string_equal(st, "");
	sbx_stop(s);
	rm_tree(dir);
	json_decref(fk_bodies);
}

static void test_stream_mapping(void **state)
{
	char dir[] = "/tmp/test_esm_XXXXXX";
	struct sbx *s;
	json_t *t, *m, *msg, *rec, *info;
	char stream[512], code[96], uuid_ok[37];
	int status, i, covered, nrec;
	long long deadline;

	(void)state;
	assert_non_null(mkdtemp(dir));
	fk_seqs = json_object();
	s = start(dir);
	json_decref(call(s, "sqs", "CreateQueue", json_pack("{s:s}", "QueueName", "onfail")));
	t = call(s, "dynamodb", "CreateTable", json_pack("{s:s, s:[{s:s,s:s}], s:[{s:s,s:s}],"
		 " s:s, s:{s:b, s:s}}", "TableName", "orders", "AttributeDefinitions",
		 "AttributeName", "id", "AttributeType", "S", "KeySchema", "AttributeName", "id",
		 "KeyType", "HASH", "BillingMode", "PAY_PER_REQUEST", "StreamSpecification",
		 "StreamEnabled", 1, "StreamViewType", "NEW_IMAGE"));
	assert_non_null(t);
	snprintf(stream, sizeof(stream), "%s", json_string_value(json_object_get(
		 json_object_get(t, "TableDescription"), "LatestStreamArn")));
	json_decref(t);

	m = esm(s, "POST", ESMP, "", json_pack("{s:s,s:s}", "FunctionName", "ok",
		"EventSourceArn", stream), &status, code, sizeof(code));
	assert_int_equal(status, 400); /* StartingPosition is required */
	m = esm(s, "POST", ESMP, "", json_pack("{s:s,s:s,s:s,s:i,s:{s:{s:s}}}", "FunctionName",
		"always-fail", "EventSourceArn", stream, "StartingPosition", "TRIM_HORIZON",
		"MaximumRetryAttempts", 1, "DestinationConfig", "OnFailure", "Destination", ONFAIL),
		&status, code, sizeof(code));
	assert_int_equal(status, 202);
	assert_int_equal(json_integer_value(json_object_get(m, "BatchSize")), 100);
	json_decref(m);
	m = esm(s, "POST", ESMP, "", json_pack("{s:s,s:s,s:s,s:[s]}", "FunctionName", "ok",
		"EventSourceArn", stream, "StartingPosition", "TRIM_HORIZON",
		"FunctionResponseTypes", "ReportBatchItemFailures"), &status, code, sizeof(code));
	assert_int_equal(status, 202);
	snprintf(uuid_ok, sizeof(uuid_ok), "%s", json_string_value(json_object_get(m, "UUID")));
	json_decref(m);

	for (i = 0; i < 3; i++) {
		char id[16];

		snprintf(id, sizeof(id), "o%d", i);
		json_decref(call(s, "dynamodb", "PutItem", json_pack("{s:s, s:{s:{s:s}}}",
				 "TableName", "orders", "Item", "id", "S", id)));
	}
	/* the poller may cut the 3 records into several batches (it wakes on the first
	 * append): collect failure records until they cover all 3 */
	deadline = sbx_now_ms() + 15000;
	covered = 0;
	nrec = 0;
	while (covered < 3 && sbx_now_ms() < deadline) {
		json_t *out = call(s, "sqs", "ReceiveMessage", json_pack("{s:s,s:i,s:i}", "QueueUrl",
				   ONFAIL, "WaitTimeSeconds", 1, "MaxNumberOfMessages", 10));
		size_t k;

		json_array_foreach(json_object_get(out, "Messages"), k, rec) {
			msg = json_loads(json_string_value(json_object_get(rec, "Body")), 0, NULL);
			assert_non_null(msg);
			assert_string_equal(json_string_value(json_object_get(json_object_get(msg,
					    "requestContext"), "condition")), "RetryAttemptsExhausted");
			assert_int_equal(json_integer_value(json_object_get(json_object_get(msg,
					 "requestContext"), "approximateInvokeCount")), 2);
			info = json_object_get(msg, "DDBStreamBatchInfo");
			covered += (int)json_integer_value(json_object_get(info, "batchSize"));
			assert_string_equal(json_string_value(json_object_get(info, "streamArn")),
					    stream);
			assert_string_equal(json_string_value(json_object_get(msg, "version")), "1.0");
			json_decref(msg);
			nrec++;
		}
		json_decref(out);
	}
	assert_int_equal(covered, 3);
	pthread_mutex_lock(&fk_mu);
	assert_int_equal(fk_fail_calls, 2 * nrec);
	pthread_mutex_unlock(&fk_mu);

	/* the good mapping got the 3 records once; after a restart nothing is re-delivered */
	deadline = sbx_now_ms() + 5000;
	while (fk_stream_records < 3 && sbx_now_ms() < deadline)
		usleep(20000);
	sbx_stop(s);
	assert_int_equal(fk_stream_records, 3);
	s = start(dir);
	json_decref(call(s, "dynamodb", "PutItem", json_pack("{s:s, s:{s:{s:s}}}", "TableName",
			 "orders", "Item", "id", "S", "o9")));
	deadline = sbx_now_ms() + 5000;
	while (fk_stream_records < 4 && sbx_now_ms() < deadline)
		usleep(20000);
	usleep(300000);
	pthread_mutex_lock(&fk_mu);
	assert_int_equal(fk_stream_records, 4);
	assert_int_equal(json_object_size(fk_seqs), 4);
	pthread_mutex_unlock(&fk_mu);
	sbx_stop(s);
	rm_tree(dir);
	json_decref(fk_seqs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_failures),
		cmocka_unit_test(test_sqs_mapping),
		cmocka_unit_test(test_stream_mapping),
	};

	sbx_esm_set_invoker(fake_invoke);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
