/* test_order_stats.c: order engine arithmetic: percentiles, the token bucket on a pinned
 * clock, answer classes, client-made UUIDs, delivery parsing, invoke URLs, the JSON report;
 * and the progress callback of a real run against a tiny loopback API. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "aws/stack/api_url.h"
#include "aws/stack/monitor.h"
#include "aws/stack/order.h"

static void test_percentiles(void **state)
{
	double v[100], one[1] = { 7.5 };
	static const struct { double p, want; } cases[] = {
		{ 50, 50 }, { 95, 95 }, { 99, 99 }, { 100, 100 }, { 1, 1 }, { 0.5, 1 }, { 0, 1 },
	};

	(void)state;
	for (int i = 0; i < 100; i++)
		v[i] = i + 1;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_true(stack_percentile(v, 100, cases[i].p) == cases[i].want);
	assert_true(stack_percentile(one, 1, 50) == 7.5);
	assert_true(stack_percentile(one, 1, 99) == 7.5);
	assert_true(stack_percentile(NULL, 0, 50) == 0);
	/* nearest rank on 10 values: p95 is the 10th, p50 the 5th */
	assert_true(stack_percentile(v, 10, 95) == 10);
	assert_true(stack_percentile(v, 10, 50) == 5);
}

static void test_bucket_paces(void **state)
{
	struct stack_bucket b;
	double t = 1000.0, sent_at[11];

	(void)state;
	/* 10 a second, burst 1: the first goes at once, then one every 100 ms */
	stack_bucket_init(&b, 10, 1, t);
	for (int i = 0; i < 11; i++)
		sent_at[i] = t + stack_bucket_reserve(&b, t); /* all reserved at the same instant */
	for (int i = 0; i < 11; i++)
		assert_true(fabs(sent_at[i] - (t + i * 0.1)) < 1e-9);
	/* 11 sends span 1.0 s: the rate holds */
	assert_true(fabs(sent_at[10] - sent_at[0] - 1.0) < 1e-9);
}

static void test_bucket_refills_and_caps(void **state)
{
	struct stack_bucket b;

	(void)state;
	stack_bucket_init(&b, 2, 3, 0);
	/* a full burst of 3 goes at once, the 4th waits half a second */
	assert_true(stack_bucket_reserve(&b, 0) == 0);
	assert_true(stack_bucket_reserve(&b, 0) == 0);
	assert_true(stack_bucket_reserve(&b, 0) == 0);
	assert_true(fabs(stack_bucket_reserve(&b, 0) - 0.5) < 1e-9);
	/* an idle minute saves up no more than the burst */
	for (int i = 0; i < 3; i++)
		assert_true(stack_bucket_reserve(&b, 60) == 0);
	assert_true(fabs(stack_bucket_reserve(&b, 60) - 0.5) < 1e-9);
	/* a clock that goes backwards gives nothing */
	assert_true(stack_bucket_reserve(&b, 59) > 0.5);
	/* no rate: never waits */
	stack_bucket_init(&b, 0, 1, 0);
	for (int i = 0; i < 1000; i++)
		assert_true(stack_bucket_reserve(&b, 0) == 0);
}

static void test_bucket_steady_rate(void **state)
{
	struct stack_bucket b;
	double now = 0;
	int sent = 0;

	(void)state;
	/* a sender that sleeps exactly as told sends rate * seconds (+ the first) */
	stack_bucket_init(&b, 250, 1, 0);
	while (now < 4.0) {
		now += stack_bucket_reserve(&b, now);
		if (now <= 4.0 + 1e-9)
			sent++;
	}
	assert_in_range(sent, 1000, 1001);
}

static void test_classify(void **state)
{
	static const struct { int answered, status; enum stack_order_outcome want; } cases[] = {
		{ 1, 200, STACK_ORDER_ACCEPTED }, { 1, 201, STACK_ORDER_ACCEPTED },
		{ 1, 400, STACK_ORDER_REJECTED }, { 1, 403, STACK_ORDER_REJECTED },
		{ 1, 429, STACK_ORDER_REJECTED }, { 1, 500, STACK_ORDER_FAILED },
		{ 1, 502, STACK_ORDER_FAILED },   { 1, 503, STACK_ORDER_FAILED },
		{ 0, 0, STACK_ORDER_FAILED },     { 0, 200, STACK_ORDER_FAILED },
		{ 1, 302, STACK_ORDER_FAILED },   { 1, 100, STACK_ORDER_FAILED },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(stack_order_classify(cases[i].answered, cases[i].status),
				 cases[i].want);
}

static void test_uuid4(void **state)
{
	unsigned char zero[16] = {0}, ff[16];
	char out[37];

	(void)state;
	memset(ff, 0xff, sizeof(ff));
	stack_uuid4(zero, out);
	assert_string_equal(out, "00000000-0000-4000-8000-000000000000");
	stack_uuid4(ff, out);
	assert_string_equal(out, "ffffffff-ffff-4fff-bfff-ffffffffffff");
	assert_int_equal(strlen(out), 36);
}

static void test_delivery_order_id(void **state)
{
	char id[96];

	(void)state;
	assert_int_equal(stack_delivery_order_id(
		"{\"orderID\":{\"S\":\"A-1\"},\"item\":{\"S\":\"w\"},\"quantity\":{\"N\":\"2\"}}",
		id, sizeof(id)), 0);
	assert_string_equal(id, "A-1");
	assert_int_equal(stack_delivery_order_id("{\"orderID\":\"B-2\"}", id, sizeof(id)), 0);
	assert_string_equal(id, "B-2");
	assert_int_equal(stack_delivery_order_id("not json", id, sizeof(id)), -1);
	assert_int_equal(stack_delivery_order_id("{\"item\":{\"S\":\"w\"}}", id, sizeof(id)), -1);
	assert_int_equal(stack_delivery_order_id("{\"orderID\":{\"N\":\"3\"}}", id, sizeof(id)), -1);
	assert_int_equal(stack_delivery_order_id("{\"orderID\":\"toolong\"}", id, 4), -1);
}

static void test_delivery_summary(void **state)
{
	static const struct { const char *body, *want; } cases[] = {
		{ "{\"orderID\":{\"S\":\"A-1\"},\"item\":{\"S\":\"w\"},\"quantity\":{\"N\":\"2\"}}",
		  "orderID=A-1 item=w quantity=2" },
		{ "{\"orderID\":\"B\",\"item\":\"gear\",\"quantity\":3,\"customerID\":\"c9\"}",
		  "orderID=B item=gear quantity=3 customerID=c9" },
		{ "{\"item\":\"x\"}", "orderID=? item=x quantity=?" },
		{ "not json\nat all", "not json at all" },
		{ "", "" },
	};
	char out[128], tiny[8];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		stack_delivery_summary(cases[i].body, out, sizeof(out));
		assert_string_equal(out, cases[i].want);
	}
	stack_delivery_summary(NULL, out, sizeof(out));
	assert_string_equal(out, "");
	stack_delivery_summary(cases[0].body, tiny, sizeof(tiny)); /* cut, terminated */
	assert_string_equal(tiny, "orderID");
}

/* ---- a run against a tiny API on loopback ---- */

enum { API_CONNS = 16, API_OK = 23, RUN_COUNT = 40 };

/* The API: answers POSTs on kept-alive connections, 200 to the first API_OK, 400 after. */
struct api {
	int lfd, port;
	atomic_int stop;
	int answered;
	pthread_t tid;
};

/* Answer every complete request in buf[0..*len) on fd; keep the rest. */
static void api_serve(struct api *a, int fd, char *buf, size_t *len)
{
	for (;;) {
		char *end, *cl, head[160];
		size_t hlen, blen = 0, rl;
		const char *body;
		int ok;

		buf[*len] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (!end)
			return;
		hlen = (size_t)(end - buf) + 4;
		cl = strcasestr(buf, "Content-Length:");
		if (cl && cl < end)
			blen = strtoul(cl + 15, NULL, 10);
		if (*len < hlen + blen)
			return;
		ok = a->answered++ < API_OK;
		body = ok ? "{\"MessageId\":\"m\"}" : "{\"message\":\"Invalid request body\"}";
		rl = (size_t)snprintf(head, sizeof(head), "HTTP/1.1 %s\r\nContent-Type: "
				      "application/json\r\nContent-Length: %zu\r\n\r\n%s",
				      ok ? "200 OK" : "400 Bad Request", strlen(body), body);
		if (write(fd, head, rl) != (ssize_t)rl)
			return;
		memmove(buf, buf + hlen + blen, *len - hlen - blen);
		*len -= hlen + blen;
	}
}

static void *api_main(void *arg)
{
	struct api *a = arg;
	struct pollfd p[API_CONNS + 1];
	static char bufs[API_CONNS][8192];
	size_t lens[API_CONNS] = {0};
	int n = 0;

	p[0].fd = a->lfd;
	p[0].events = POLLIN;
	while (!atomic_load(&a->stop)) {
		if (poll(p, (nfds_t)n + 1, 50) <= 0)
			continue;
		if ((p[0].revents & POLLIN) && n < API_CONNS) {
			int fd = accept(a->lfd, NULL, NULL);

			if (fd >= 0) {
				p[n + 1].fd = fd;
				p[n + 1].events = POLLIN;
				p[n + 1].revents = 0;
				lens[n++] = 0;
			}
		}
		for (int i = 0; i < n; i++) {
			ssize_t r;

			if (!(p[i + 1].revents & (POLLIN | POLLHUP)))
				continue;
			r = read(p[i + 1].fd, bufs[i] + lens[i], sizeof(bufs[i]) - 1 - lens[i]);
			if (r <= 0) { /* closed: drop it */
				close(p[i + 1].fd);
				p[i + 1] = p[n];
				memcpy(bufs[i], bufs[n - 1], lens[n - 1]);
				lens[i] = lens[n - 1];
				n--;
				i--;
				continue;
			}
			lens[i] += (size_t)r;
			api_serve(a, p[i + 1].fd, bufs[i], &lens[i]);
		}
	}
	for (int i = 0; i < n; i++)
		close(p[i + 1].fd);
	return NULL;
}

static int api_start(struct api *a)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	memset(a, 0, sizeof(*a));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a->lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (a->lfd < 0 || bind(a->lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(a->lfd, 16) || getsockname(a->lfd, (struct sockaddr *)&sa, &sl))
		return -1;
	a->port = ntohs(sa.sin_port);
	return pthread_create(&a->tid, NULL, api_main, a);
}

static void api_stop(struct api *a)
{
	atomic_store(&a->stop, 1);
	pthread_join(a->tid, NULL);
	close(a->lfd);
}

/* What the callback saw. */
struct seen_progress {
	atomic_int inside;   /* callers at once: must stay 0/1 */
	int overlaps, calls, backwards, inconsistent;
	struct stack_order_progress last;
};

static void on_progress(const struct stack_order_progress *p, void *ctx)
{
	struct seen_progress *s = ctx;

	if (atomic_fetch_add(&s->inside, 1) != 0)
		s->overlaps++;
	usleep(200); /* widen the window an unserialised second caller would hit */
	if (p->answered != s->last.answered + 1 || p->accepted < s->last.accepted ||
	    p->rejected < s->last.rejected)
		s->backwards++;
	if (p->accepted + p->rejected + p->failed != p->answered || p->count != RUN_COUNT)
		s->inconsistent++;
	s->last = *p;
	s->calls++;
	atomic_fetch_sub(&s->inside, 1);
}

static void test_progress_callback(void **state)
{
	struct api a;
	struct aws_credentials cr = { (char *)"AKIDTESTONLY", (char *)"x", NULL, 0 };
	struct aws_client_opts co;
	struct aws_client *c = NULL;
	struct aws_error err = {0};
	struct stack_order_opts o;
	struct stack_order_result r;
	struct seen_progress *s = calloc(1, sizeof(*s));
	char url[128];

	(void)state;
	assert_non_null(s);
	assert_int_equal(api_start(&a), 0);
	memset(&co, 0, sizeof(co));
	co.region = "us-east-1";
	co.credentials = &cr;
	co.max_attempts = 1;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/orders", a.port);
	co.endpoint = url;
	assert_int_equal(aws_client_new(&co, &c, &err), 0);
	memset(&o, 0, sizeof(o));
	o.url = url;
	o.count = RUN_COUNT;
	o.concurrency = 4;
	o.on_progress = on_progress;
	o.ctx = s;
	assert_int_equal(stack_order_run(c, &o, &r, &err), 0);
	api_stop(&a);
	aws_client_free(c);
	/* one call per answer, one at a time, counts only growing, the last one the result */
	assert_int_equal(s->calls, RUN_COUNT);
	assert_int_equal(s->overlaps, 0);
	assert_int_equal(s->backwards, 0);
	assert_int_equal(s->inconsistent, 0);
	assert_int_equal(r.accepted, API_OK);
	assert_int_equal(r.rejected, RUN_COUNT - API_OK);
	assert_int_equal(s->last.answered, RUN_COUNT);
	assert_int_equal(s->last.accepted, r.accepted);
	assert_int_equal(s->last.rejected, r.rejected);
	assert_int_equal(s->last.failed, 0);
	assert_string_equal(r.reject_msg, "400: Invalid request body");
	free(s);
}

static void test_invoke_urls(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(stack_api_invoke_base("http://127.0.0.1:4566", "us-east-1", "abc123",
					       "prod", out, sizeof(out)), 0);
	assert_string_equal(out, "http://127.0.0.1:4566/restapis/abc123/prod/_user_request_/");
	assert_int_equal(stack_api_invoke_base("http://localhost:9/", "x", "id", "prod", out,
					       sizeof(out)), 0);
	assert_string_equal(out, "http://localhost:9/restapis/id/prod/_user_request_/");
	assert_int_equal(stack_api_invoke_base(NULL, "eu-west-1", "a1b2c3", "prod", out,
					       sizeof(out)), 0);
	assert_string_equal(out, "https://a1b2c3.execute-api.eu-west-1.amazonaws.com/prod/");
	assert_int_equal(stack_api_invoke_base(NULL, "eu-west-1", "a1b2c3", "prod", out, 10), -1);
	assert_true(stack_url_is_loopback("http://127.0.0.1:4566"));
	assert_true(stack_url_is_loopback("http://localhost:4566"));
	assert_true(stack_url_is_loopback("http://[::1]:4566"));
	assert_false(stack_url_is_loopback("https://sqs.us-east-1.amazonaws.com"));
	assert_false(stack_url_is_loopback("http://10.0.0.1/127.0.0.1"));
	assert_false(stack_url_is_loopback(NULL));
}

static void test_result_json(void **state)
{
	struct stack_order_result r;
	json_t *j;
	char *s;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.submitted = 3;
	r.accepted = 2;
	r.rejected = 1;
	r.elapsed_s = 0.5;
	j = stack_order_result_json(&r, 0);
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_string_equal(s, "{\"submitted\":3,\"accepted\":2,\"rejected\":1,\"failed\":0,"
			       "\"elapsed_s\":0.5}");
	free(s);
	json_decref(j);
	r.stored = 2;
	r.notified = 2;
	r.latencies = 2;
	r.p50 = 1.5;
	r.p95 = r.p99 = r.max = 2.0;
	j = stack_order_result_json(&r, 1);
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_string_equal(s, "{\"submitted\":3,\"accepted\":2,\"rejected\":1,\"failed\":0,"
			       "\"stored\":2,\"notified\":2,\"elapsed_s\":0.5,\"latency_ms\":"
			       "{\"p50\":1.5,\"p95\":2.0,\"p99\":2.0,\"max\":2.0}}");
	free(s);
	json_decref(j);
	r.latencies = 0;
	j = stack_order_result_json(&r, 1);
	assert_true(json_is_null(json_object_get(json_object_get(j, "latency_ms"), "p99")));
	json_decref(j);
}

static void test_event_formats(void **state)
{
	struct monitor_event e;
	char line[256];
	json_t *j;

	(void)state;
	memset(&e, 0, sizeof(e));
	e.time = 1700000000.25;
	e.kind = MON_EV_DELIVERY;
	snprintf(e.source, sizeof(e.source), "POC-Deliveries");
	snprintf(e.order_id, sizeof(e.order_id), "A-1");
	snprintf(e.detail, sizeof(e.detail), "orderID=A-1 item=w quantity=1");
	j = monitor_event_json(&e);
	assert_string_equal(json_string_value(json_object_get(j, "time")),
			    "2023-11-14T22:13:20.250Z");
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "delivery");
	assert_string_equal(json_string_value(json_object_get(j, "orderID")), "A-1");
	json_decref(j);
	monitor_event_line(&e, line, sizeof(line));
	assert_non_null(strstr(line, "delivery POC-Deliveries: orderID=A-1"));
	assert_string_equal(monitor_event_kind_name(MON_EV_LOG), "log");
	assert_string_equal(monitor_event_kind_name((enum monitor_event_kind)99), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_percentiles),
		cmocka_unit_test(test_bucket_paces),
		cmocka_unit_test(test_bucket_refills_and_caps),
		cmocka_unit_test(test_bucket_steady_rate),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_uuid4),
		cmocka_unit_test(test_delivery_order_id),
		cmocka_unit_test(test_delivery_summary),
		cmocka_unit_test(test_progress_callback),
		cmocka_unit_test(test_invoke_urls),
		cmocka_unit_test(test_result_json),
		cmocka_unit_test(test_event_formats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
