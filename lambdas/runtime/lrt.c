/* lrt.c: the Lambda Runtime API client over one reused libcurl handle, and the loop. */
#include "lrt.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define API_VERSION "2018-06-01"
#define POST_TIMEOUT_MS 60000L
#define CONNECT_TIMEOUT_MS 1000L
#define BACKOFF_FIRST_MS 10L
#define BACKOFF_MAX_MS 1000L
#define POST_ATTEMPTS 5

/* The /next headers we keep, matched case-insensitively. */
enum lrt_hdr { H_REQUEST_ID, H_DEADLINE, H_ARN, H_TRACE, H_CLIENT_CONTEXT, H_COGNITO, H_COUNT };

static const char *const hdr_names[H_COUNT] = {
	[H_REQUEST_ID] = "lambda-runtime-aws-request-id",
	[H_DEADLINE] = "lambda-runtime-deadline-ms",
	[H_ARN] = "lambda-runtime-invoked-function-arn",
	[H_TRACE] = "lambda-runtime-trace-id",
	[H_CLIENT_CONTEXT] = "lambda-runtime-client-context",
	[H_COGNITO] = "lambda-runtime-cognito-identity",
};

struct lrt {
	CURL *curl;
	char *base;              /* "http://host:port/2018-06-01" */
	struct aws_buf body;     /* the last response body (the event after /next) */
	char *hdr[H_COUNT];      /* the last /next headers (owned), NULL when absent */
	int hdr_oom;             /* a header could not be stored */
	lrt_log_fn log;
	void *log_ctx;
	char errbuf[CURL_ERROR_SIZE];
};

long long lrt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void logf_rt(struct lrt *rt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_rt(struct lrt *rt, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!rt->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	rt->log(line, rt->log_ctx);
}

static size_t on_body(char *data, size_t size, size_t n, void *userp)
{
	struct aws_buf *b = userp;

	if (aws_buf_add(b, data, size * n))
		return 0; /* over the cap: curl aborts with CURLE_WRITE_ERROR */
	return size * n;
}

static void clear_headers(struct lrt *rt)
{
	for (int i = 0; i < H_COUNT; i++) {
		free(rt->hdr[i]);
		rt->hdr[i] = NULL;
	}
	rt->hdr_oom = 0;
}

/* Keep the headers named in hdr_names; a new status line starts a fresh set. */
static size_t on_header(char *data, size_t size, size_t n, void *userp)
{
	struct lrt *rt = userp;
	size_t len = size * n, name_len, vlen;
	const char *colon, *v;

	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		clear_headers(rt);
		return len;
	}
	colon = memchr(data, ':', len);
	if (!colon)
		return len;
	name_len = (size_t)(colon - data);
	v = colon + 1;
	vlen = len - name_len - 1;
	while (vlen && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' ' ||
			v[vlen - 1] == '\t'))
		vlen--;
	for (int i = 0; i < H_COUNT; i++) {
		if (strlen(hdr_names[i]) != name_len || strncasecmp(data, hdr_names[i], name_len))
			continue;
		free(rt->hdr[i]);
		rt->hdr[i] = strndup(v, vlen);
		if (!rt->hdr[i])
			rt->hdr_oom = 1;
		break;
	}
	return len;
}

int lrt_new(const char *api, struct lrt **out, char *why, size_t whylen)
{
	struct lrt *rt = NULL;
	struct aws_buf base;

	aws_buf_init(&base, 4096);
	if (!api)
		api = getenv("AWS_LAMBDA_RUNTIME_API");
	if (!api || !*api) {
		if (why)
			snprintf(why, whylen, "AWS_LAMBDA_RUNTIME_API is not set");
		goto fail;
	}
	if (strpbrk(api, "/ \t\r\n?#")) {
		if (why)
			snprintf(why, whylen, "AWS_LAMBDA_RUNTIME_API is not host:port: %s", api);
		goto fail;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		if (why)
			snprintf(why, whylen, "curl_global_init failed");
		goto fail;
	}
	rt = calloc(1, sizeof(*rt));
	if (!rt || aws_buf_printf(&base, "http://%s/" API_VERSION, api))
		goto nomem;
	rt->base = aws_buf_take(&base);
	rt->curl = curl_easy_init();
	if (!rt->base || !rt->curl)
		goto nomem;
	aws_buf_init(&rt->body, LRT_MAX_EVENT);
	*out = rt;
	return 0;
nomem:
	if (why)
		snprintf(why, whylen, "out of memory");
fail:
	aws_buf_cleanup(&base);
	lrt_free(rt);
	return -1;
}

void lrt_free(struct lrt *rt)
{
	if (!rt)
		return;
	if (rt->curl)
		curl_easy_cleanup(rt->curl);
	clear_headers(rt);
	aws_buf_cleanup(&rt->body);
	free(rt->base);
	free(rt);
}

void lrt_set_log(struct lrt *rt, lrt_log_fn log, void *ctx)
{
	rt->log = log;
	rt->log_ctx = ctx;
}

/* Reset the handle for one request to path (appended to the base URL). */
static int prepare(struct lrt *rt, const char *path)
{
	struct aws_buf url;
	int rc = -1;

	aws_buf_init(&url, 8192);
	if (aws_buf_printf(&url, "%s%s", rt->base, path))
		goto out;
	curl_easy_reset(rt->curl); /* keeps the live connection */
	aws_buf_reset(&rt->body);
	rt->errbuf[0] = '\0';
	curl_easy_setopt(rt->curl, CURLOPT_URL, url.data);
	curl_easy_setopt(rt->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(rt->curl, CURLOPT_NOPROXY, "*");
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(rt->curl, CURLOPT_PROTOCOLS_STR, "http");
#endif
	curl_easy_setopt(rt->curl, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(rt->curl, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(rt->curl, CURLOPT_ERRORBUFFER, rt->errbuf);
	curl_easy_setopt(rt->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(rt->curl, CURLOPT_WRITEDATA, &rt->body);
	rc = 0;
out:
	aws_buf_cleanup(&url);
	return rc;
}

/* Perform the prepared request. Returns the HTTP status, or -1 (logged) when none came. */
static long perform(struct lrt *rt, const char *what)
{
	CURLcode cc;
	long status = 0;

	cc = curl_easy_perform(rt->curl);
	if (cc != CURLE_OK) {
		logf_rt(rt, "runtime API %s failed: %s", what,
			rt->errbuf[0] ? rt->errbuf : curl_easy_strerror(cc));
		return -1;
	}
	curl_easy_getinfo(rt->curl, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

int lrt_next(struct lrt *rt, struct lrt_invocation *inv, const char **event, size_t *len)
{
	long status;
	char *end = NULL;
	long long deadline = 0;
	const char *trace;

	clear_headers(rt);
	if (prepare(rt, "/runtime/invocation/next"))
		return -1;
	curl_easy_setopt(rt->curl, CURLOPT_TIMEOUT_MS, 0L); /* a long poll: never time out */
	curl_easy_setopt(rt->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(rt->curl, CURLOPT_HEADERDATA, rt);
	status = perform(rt, "/next");
	if (status < 0)
		return -1;
	if (status == 500) {
		logf_rt(rt, "runtime API /next answered 500: the runtime must exit");
		return 1;
	}
	if (status != 200) {
		logf_rt(rt, "runtime API /next answered %ld: %.200s", status, aws_buf_str(&rt->body));
		return -1;
	}
	if (rt->hdr_oom || !rt->hdr[H_REQUEST_ID] || !rt->hdr[H_REQUEST_ID][0]) {
		logf_rt(rt, "runtime API /next gave no Lambda-Runtime-Aws-Request-Id");
		return -1;
	}
	if (rt->hdr[H_DEADLINE]) {
		errno = 0;
		deadline = strtoll(rt->hdr[H_DEADLINE], &end, 10);
		if (errno || end == rt->hdr[H_DEADLINE] || *end || deadline < 0)
			deadline = 0;
	}
	trace = rt->hdr[H_TRACE] ? rt->hdr[H_TRACE] : "";
	if (*trace)
		setenv("_X_AMZN_TRACE_ID", trace, 1);
	else
		unsetenv("_X_AMZN_TRACE_ID");
	inv->request_id = rt->hdr[H_REQUEST_ID];
	inv->deadline_ms = deadline;
	inv->function_arn = rt->hdr[H_ARN] ? rt->hdr[H_ARN] : "";
	inv->trace_id = trace;
	inv->client_context = rt->hdr[H_CLIENT_CONTEXT] ? rt->hdr[H_CLIENT_CONTEXT] : "";
	inv->cognito_identity = rt->hdr[H_COGNITO] ? rt->hdr[H_COGNITO] : "";
	*event = aws_buf_str(&rt->body);
	*len = rt->body.len;
	return 0;
}

/* POST body to path with content_type. Returns the HTTP status or -1 (no answer). */
static long post(struct lrt *rt, const char *path, const char *content_type,
		 const char *extra_header, const char *body, size_t len)
{
	struct curl_slist *h = NULL, *t;
	char ct[128];
	long status = -1;

	if (prepare(rt, path))
		return -1;
	snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
	t = curl_slist_append(h, ct);
	if (!t)
		goto out;
	h = t;
	t = curl_slist_append(h, "Expect:");
	if (!t)
		goto out;
	h = t;
	if (extra_header) {
		t = curl_slist_append(h, extra_header);
		if (!t)
			goto out;
		h = t;
	}
	curl_easy_setopt(rt->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(rt->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(rt->curl, CURLOPT_POSTFIELDS, body ? body : "");
	curl_easy_setopt(rt->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(rt->curl, CURLOPT_TIMEOUT_MS, POST_TIMEOUT_MS);
	status = perform(rt, path);
	if (status >= 0 && status != 202)
		logf_rt(rt, "runtime API POST %s answered %ld: %.200s", path, status,
			aws_buf_str(&rt->body));
out:
	curl_slist_free_all(h);
	return status;
}

/* "/runtime/invocation/<escaped id>/<what>" into out. Returns 0 or -1. */
static int invocation_path(struct lrt *rt, const char *request_id, const char *what,
			   struct aws_buf *out)
{
	char *esc = curl_easy_escape(rt->curl, request_id, 0);
	int rc;

	if (!esc)
		return -1;
	rc = aws_buf_printf(out, "/runtime/invocation/%s/%s", esc, what);
	curl_free(esc);
	return rc;
}

static int status_rc(long status)
{
	if (status == 202)
		return 0;
	return status == 500 ? 1 : -1;
}

/* Post the response and return the HTTP status (-1: no answer). */
static long respond_status(struct lrt *rt, const char *request_id, const char *body, size_t len)
{
	struct aws_buf path;
	long status = -1;

	aws_buf_init(&path, 8192);
	if (invocation_path(rt, request_id, "response", &path) == 0)
		status = post(rt, path.data, "application/json", NULL, body, len);
	aws_buf_cleanup(&path);
	return status;
}

int lrt_respond(struct lrt *rt, const char *request_id, const char *body, size_t len)
{
	return status_rc(respond_status(rt, request_id, body, len));
}

/* The ErrorRequest body for err. Returns a new string (caller frees) or NULL. */
static char *error_body(const char *type, const char *message)
{
	json_t *j = json_pack("{s:s, s:s, s:[]}", "errorMessage", message, "errorType", type,
			      "stackTrace");
	char *s;

	if (!j) /* message or type not UTF-8: keep the type, replace the text */
		j = json_pack("{s:s, s:s, s:[]}", "errorMessage", "(error text not UTF-8)",
			      "errorType", "Runtime.HandlerError", "stackTrace");
	if (!j)
		return NULL;
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

static long fail_status(struct lrt *rt, const char *request_id, const struct lrt_error *err)
{
	struct aws_buf path;
	const char *type = err && err->type[0] ? err->type : "Runtime.HandlerError";
	const char *msg = err && err->message[0] ? err->message : "the handler failed";
	char *body = error_body(type, msg);
	long status = -1;

	aws_buf_init(&path, 8192);
	if (!body || invocation_path(rt, request_id, "error", &path))
		goto out;
	status = post(rt, path.data, "application/vnd.aws.lambda.error+json", NULL, body,
		      strlen(body));
out:
	aws_buf_cleanup(&path);
	free(body);
	return status;
}

int lrt_fail(struct lrt *rt, const char *request_id, const struct lrt_error *err)
{
	return status_rc(fail_status(rt, request_id, err));
}

int lrt_init_error(struct lrt *rt, const char *type, const char *message)
{
	char *body = error_body(type, message);
	char hdr[192];
	long status;

	if (!body)
		return -1;
	snprintf(hdr, sizeof(hdr), "Lambda-Runtime-Function-Error-Type: %s", type);
	status = post(rt, "/runtime/init/error", "application/vnd.aws.lambda.error+json", hdr,
		      body, strlen(body));
	free(body);
	return status == 202 ? 0 : -1;
}

/* Deliver one result, retrying only when no answer came (a restarting endpoint).
 * Returns 1 when the runtime must exit, else 0. */
static int deliver(struct lrt *rt, const char *request_id, int failed, const struct aws_buf *resp,
		   const struct lrt_error *err)
{
	long delay = BACKOFF_FIRST_MS, status = -1;

	for (int attempt = 0; attempt < POST_ATTEMPTS; attempt++) {
		if (attempt) {
			sleep_ms(delay);
			delay = delay * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay * 2;
		}
		if (failed) {
			status = fail_status(rt, request_id, err);
		} else {
			status = respond_status(rt, request_id, resp->data ? resp->data : "",
						resp->len);
			if (status == 413) {
				struct lrt_error big = { .type = "Function.ResponseSizeTooLarge" };

				snprintf(big.message, sizeof(big.message),
					 "the response (%zu bytes) is over the limit", resp->len);
				status = fail_status(rt, request_id, &big);
			}
		}
		if (status >= 0)
			break;
	}
	if (status < 0)
		logf_rt(rt, "request %s: gave up posting its result", request_id);
	return status == 500;
}

int lrt_run(struct lrt *rt, lrt_handler_fn handler, void *ctx)
{
	struct aws_buf resp;
	long delay = BACKOFF_FIRST_MS;
	int failures = 0, rc;

	aws_buf_init(&resp, LRT_MAX_EVENT);
	for (;;) {
		struct lrt_invocation inv;
		struct lrt_error err;
		const char *event;
		size_t len;
		char *id;
		int hrc;

		rc = lrt_next(rt, &inv, &event, &len);
		if (rc == 1)
			break;
		if (rc < 0) {
			if (++failures >= LRT_MAX_FAILURES) {
				logf_rt(rt, "runtime API: %d failures in a row, exiting", failures);
				rc = -1;
				break;
			}
			sleep_ms(delay);
			delay = delay * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay * 2;
			continue;
		}
		failures = 0;
		delay = BACKOFF_FIRST_MS;
		memset(&err, 0, sizeof(err));
		aws_buf_reset(&resp);
		hrc = handler(&inv, event, len, &resp, &err, ctx);
		/* keep the id apart from the header store while posting */
		id = strdup(inv.request_id);
		if (!id) {
			logf_rt(rt, "out of memory");
			rc = -1;
			break;
		}
		rc = deliver(rt, id, hrc != 0, &resp, &err);
		free(id);
		if (rc) {
			rc = 1;
			break;
		}
	}
	aws_buf_cleanup(&resp);
	return rc;
}
