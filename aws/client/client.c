/* client.c: aws_call: build, sign, send, retry and read one AWS API call for any service. */
#include "aws.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "endpoint.h"
#include "http.h"
#include "protocol.h"
#include "retry.h"
#include "service.h"
#include "sigv4.h"

#define MAX_SERVICES 32

struct aws_client {
	struct aws_config cfg;
	char *region;
	char *explicit_endpoint;
	const struct aws_service *svcs[MAX_SERVICES];
	struct aws_endpoint eps[MAX_SERVICES];
	int ep_ok[MAX_SERVICES];
	struct aws_error ep_err[MAX_SERVICES];
	size_t nsvcs;
	pthread_mutex_t cred_mu; /* guards cfg.credentials when credential_process refreshes */
	struct aws_http *http;
	struct aws_retry_quota quota;
	long connect_timeout_ms;
	long timeout_ms;
	int max_attempts;
};

const char *aws_client_version(void)
{
	return CLEANOPS_VERSION;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Copy src credentials into dst (owned). Returns 0 or -1. */
static int creds_copy(struct aws_credentials *dst, const struct aws_credentials *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->access_key_id = dup_or_null(src->access_key_id);
	dst->secret_access_key = dup_or_null(src->secret_access_key);
	dst->session_token = src->session_token && *src->session_token ? strdup(src->session_token)
									 : NULL;
	dst->expiration = src->expiration;
	if (!dst->access_key_id || !dst->secret_access_key ||
	    (src->session_token && *src->session_token && !dst->session_token)) {
		aws_credentials_cleanup(dst);
		return -1;
	}
	return 0;
}

int aws_client_new(const struct aws_client_opts *opts, struct aws_client **out,
		   struct aws_error *err)
{
	static const struct aws_client_opts none;
	struct aws_client *c;
	const char *ca;

	if (!opts)
		opts = &none;
	c = calloc(1, sizeof(*c));
	if (!c)
		return aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
	pthread_mutex_init(&c->cred_mu, NULL);
	aws_retry_quota_init(&c->quota);
	if (aws_config_load(opts->profile, opts->region, &c->cfg, err))
		goto fail;
	if (opts->credentials) {
		aws_credentials_cleanup(&c->cfg.credentials);
		free(c->cfg.credential_process);
		c->cfg.credential_process = NULL;
		if (creds_copy(&c->cfg.credentials, opts->credentials)) {
			aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
			goto fail;
		}
		c->cfg.have_credentials = 1;
		c->cfg.credentials_source = "explicit";
	}
	c->region = dup_or_null(c->cfg.region);
	c->explicit_endpoint = dup_or_null(opts->endpoint);
	if (!c->region && (opts->endpoint || aws_config_endpoint(&c->cfg, "", "")))
		c->region = strdup("us-east-1");
	for (size_t i = 0; aws_services[i] && c->nsvcs < MAX_SERVICES; i++) {
		size_t k = c->nsvcs++;

		c->svcs[k] = aws_services[i];
		c->ep_ok[k] = aws_endpoint_resolve(aws_services[i], c->region, c->explicit_endpoint,
						   &c->cfg, &c->eps[k], &c->ep_err[k]) == 0;
		if (!c->ep_ok[k] && opts->endpoint) {
			/* an explicit endpoint that does not parse is the caller's error now */
			*err = c->ep_err[k];
			goto fail;
		}
	}
	ca = opts->ca_bundle ? opts->ca_bundle : c->cfg.ca_bundle;
	c->http = aws_http_new(ca);
	if (!c->http) {
		aws_error_set(err, 0, AWS_ERR_CONFIG, "cannot initialise libcurl");
		goto fail;
	}
	c->connect_timeout_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : 3000;
	c->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : (opts->timeout_ms < 0 ? 0 : 60000);
	c->max_attempts = opts->max_attempts > 0 ? opts->max_attempts
			  : c->cfg.max_attempts > 0 ? c->cfg.max_attempts : 3;
	*out = c;
	return 0;
fail:
	aws_client_free(c);
	return -1;
}

void aws_client_free(struct aws_client *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nsvcs; i++)
		if (c->ep_ok[i])
			aws_endpoint_cleanup(&c->eps[i]);
	aws_http_free(c->http);
	aws_config_cleanup(&c->cfg);
	aws_retry_quota_cleanup(&c->quota);
	pthread_mutex_destroy(&c->cred_mu);
	free(c->region);
	free(c->explicit_endpoint);
	free(c);
}

const char *aws_client_region(const struct aws_client *c)
{
	return c->region ? c->region : "";
}

static int svc_index(const struct aws_client *c, const struct aws_service *svc)
{
	for (size_t i = 0; i < c->nsvcs; i++)
		if (c->svcs[i] == svc)
			return (int)i;
	return -1;
}

const char *aws_client_endpoint(const struct aws_client *c, const char *service)
{
	const struct aws_service *svc = aws_service_find(service);
	int i = svc ? svc_index(c, svc) : -1;

	return i >= 0 && c->ep_ok[i] ? c->eps[i].url : NULL;
}

int aws_client_endpoint_overridden(const struct aws_client *c, const char *service)
{
	const struct aws_service *svc = aws_service_find(service);
	int i = svc ? svc_index(c, svc) : -1;

	return i >= 0 && c->ep_ok[i] && c->eps[i].overridden;
}

/* Copy the current credentials (refreshing from credential_process when they expire
 * within five minutes). Returns 0 with out owned by the caller, or -1 with err. */
static int creds_get(struct aws_client *c, struct aws_credentials *out, struct aws_error *err)
{
	int rc = -1;

	pthread_mutex_lock(&c->cred_mu);
	if (c->cfg.credential_process && c->cfg.credentials.expiration &&
	    c->cfg.credentials.expiration - 300 < (long long)time(NULL)) {
		struct aws_credentials fresh = {0};

		if (aws_config_credential_process(c->cfg.credential_process, &fresh, err))
			goto out;
		aws_credentials_cleanup(&c->cfg.credentials);
		c->cfg.credentials = fresh;
	}
	if (!c->cfg.have_credentials || !c->cfg.credentials.access_key_id) {
		aws_error_set(err, 0, AWS_ERR_CONFIG,
			      "no AWS credentials found (environment, shared credentials file, "
			      "config file profile '%s', credential_process)",
			      c->cfg.profile ? c->cfg.profile : "default");
		goto out;
	}
	if (creds_copy(out, &c->cfg.credentials)) {
		aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&c->cred_mu);
	return rc;
}

/* Split an endpoint URL into "scheme://host[:port]" (the Host header value is what
 * follows "://") and its base path (no trailing slash). Returns 0 or -1. */
static int split_url(const char *url, struct aws_buf *origin, struct aws_buf *host,
		     struct aws_buf *base)
{
	const char *p = strstr(url, "://");
	const char *slash;

	if (!p)
		return -1;
	p += 3;
	slash = strchr(p, '/');
	if (!slash)
		slash = p + strlen(p);
	if (aws_buf_add(origin, url, (size_t)(slash - url)) || aws_buf_add(host, p, (size_t)(slash - p)))
		return -1;
	{
		size_t n = strlen(slash);

		while (n > 0 && slash[n - 1] == '/')
			n--;
		if (aws_buf_add(base, slash, n))
			return -1;
	}
	/* drop a default port from the Host header: curl does, and so must the signature */
	if (host->len > 4 && strncmp(url, "https", 5) == 0 &&
	    strcmp(host->data + host->len - 4, ":443") == 0)
		host->data[host->len -= 4] = '\0';
	else if (host->len > 3 && strncmp(url, "http:", 5) == 0 &&
		 strcmp(host->data + host->len - 3, ":80") == 0)
		host->data[host->len -= 3] = '\0';
	return 0;
}

/* A thread's random number in [0,1) for backoff jitter. */
static double rand01(void)
{
	static _Thread_local unsigned long long s;

	if (!s) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		s = (unsigned long long)ts.tv_nsec ^ ((unsigned long long)(uintptr_t)&s << 16) ^
		    (unsigned long long)ts.tv_sec;
		if (!s)
			s = 88172645463325252ULL;
	}
	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return (double)(s >> 11) / 9007199254740992.0;
}

static void sleep_seconds(double secs)
{
	struct timespec ts;

	if (secs <= 0)
		return;
	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* One signed attempt. Returns 0 with resp filled, or -1 with err (no response). */
static int attempt(struct aws_client *c, const struct aws_service *svc,
		   const struct aws_endpoint *ep, const struct aws_wire *w,
		   const struct aws_credentials *cr, struct aws_http_response *resp,
		   struct aws_error *err)
{
	struct aws_buf origin, host, base, url;
	struct aws_sigv4_header sh[24];
	struct aws_sigv4_result sig = {0};
	char amzdate[17], payload_hash[65];
	char *lines[24];
	size_t nh = 0, nl = 0;
	const char *path;
	int rc = -1;

	aws_buf_init(&origin, 4096);
	aws_buf_init(&host, 4096);
	aws_buf_init(&base, 4096);
	aws_buf_init(&url, 0);
	memset(lines, 0, sizeof(lines));
	if (split_url(ep->url, &origin, &host, &base)) {
		aws_error_set(err, 0, AWS_ERR_CONFIG, "bad endpoint URL '%s'", ep->url);
		goto out;
	}
	/* the wire path, below the endpoint's own base path */
	if (aws_buf_adds(&base, w->path)) {
		aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
		goto out;
	}
	path = aws_buf_str(&base);
	aws_sigv4_amz_date(time(NULL), amzdate);
	aws_sigv4_sha256_hex(w->body.data ? w->body.data : "", w->body.len, payload_hash);

	sh[nh++] = (struct aws_sigv4_header){"Host", aws_buf_str(&host)};
	sh[nh++] = (struct aws_sigv4_header){"X-Amz-Date", amzdate};
	sh[nh++] = (struct aws_sigv4_header){"X-Amz-Content-Sha256", payload_hash};
	if (cr->session_token)
		sh[nh++] = (struct aws_sigv4_header){"X-Amz-Security-Token", cr->session_token};
	for (int i = 0; i < w->nheaders && nh < 20; i++)
		sh[nh++] = (struct aws_sigv4_header){w->names[i], w->values[i]};

	{
		struct aws_sigv4_request sreq = {
			.method = w->method,
			.path = path,
			.query = w->query,
			.headers = sh,
			.nheaders = nh,
			.payload_hash = payload_hash,
		};
		struct aws_sigv4_params sp = {
			.access_key_id = cr->access_key_id,
			.secret_access_key = cr->secret_access_key,
			.region = ep->signing_region,
			.service = svc->signing_name,
			.when = time(NULL),
		};

		if (aws_sigv4_parse_amz_date(amzdate, &sp.when) || aws_sigv4_sign(&sreq, &sp, &sig)) {
			aws_error_set(err, 0, AWS_ERR_PARAM, "cannot sign the request");
			goto out;
		}
	}
	for (size_t i = 0; i < nh; i++) {
		struct aws_buf l;

		aws_buf_init(&l, 0);
		if (aws_buf_printf(&l, "%s: %s", sh[i].name, sh[i].value)) {
			aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
			goto out;
		}
		lines[nl++] = aws_buf_take(&l);
	}
	{
		struct aws_buf l;

		aws_buf_init(&l, 0);
		if (aws_buf_printf(&l, "Authorization: %s", sig.authorization)) {
			aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
			goto out;
		}
		lines[nl++] = aws_buf_take(&l);
	}
	{
		int has_ct = 0;

		for (int i = 0; i < w->nheaders; i++)
			has_ct |= strcasecmp(w->names[i], "Content-Type") == 0;
		if (!has_ct) /* keep curl from adding a form content type to a bare POST */
			lines[nl++] = strdup("Content-Type:");
	}
	if (aws_buf_printf(&url, "%s%s%s%s", aws_buf_str(&origin), path, w->query ? "?" : "",
			   w->query ? w->query : "")) {
		aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
		goto out;
	}
	{
		struct aws_http_request hreq = {
			.method = w->method,
			.url = aws_buf_str(&url),
			.headers = (const char *const *)lines,
			.body = w->body.data,
			.body_len = w->body.len,
			.connect_timeout_ms = c->connect_timeout_ms,
			.timeout_ms = c->timeout_ms,
		};

		rc = aws_http_do(c->http, &hreq, resp, 0, err);
	}
out:
	for (size_t i = 0; i < nl; i++)
		free(lines[i]);
	aws_sigv4_result_cleanup(&sig);
	aws_buf_cleanup(&origin);
	aws_buf_cleanup(&host);
	aws_buf_cleanup(&base);
	aws_buf_cleanup(&url);
	return rc;
}

int aws_call(struct aws_client *c, const char *service, const char *operation,
	     json_t *input, json_t **output, struct aws_error *err)
{
	const struct aws_service *svc = aws_service_find(service);
	const struct aws_op *op;
	struct aws_credentials cr = {0};
	struct aws_wire w;
	int idx, rc = -1, last_cost = 0;

	memset(&w, 0, sizeof(w));
	if (!svc)
		return aws_error_set(err, 0, AWS_ERR_UNKNOWN_OP, "unknown service '%s'", service);
	op = aws_service_op(svc, operation);
	if (!op)
		return aws_error_set(err, 0, AWS_ERR_UNKNOWN_OP, "unknown operation '%s' for %s",
				     operation, svc->name);
	idx = svc_index(c, svc);
	if (idx < 0)
		return aws_error_set(err, 0, AWS_ERR_UNKNOWN_OP, "service '%s' not configured", service);
	if (!c->ep_ok[idx]) {
		*err = c->ep_err[idx];
		return -1;
	}
	if (input && !json_is_object(input))
		return aws_error_set(err, 0, AWS_ERR_PARAM, "the input must be a JSON object");
	if (aws_proto_build(svc, op, input, &w, err))
		return -1;
	if (creds_get(c, &cr, err))
		goto out;
	for (int n = 1;; n++) {
		struct aws_http_response resp;
		struct aws_error e = {0};
		enum aws_retry_kind kind;
		int got;

		got = attempt(c, svc, &c->eps[idx], &w, &cr, &resp, &e) == 0;
		if (got && aws_proto_parse(svc, op, &resp, output, &e) == 0) {
			aws_http_response_cleanup(&resp);
			aws_retry_quota_success(&c->quota, last_cost);
			rc = 0;
			break;
		}
		aws_http_response_cleanup(&resp);
		kind = aws_retry_classify(e.http_status, e.code, !got,
					  !got && strcmp(e.code, AWS_ERR_TIMEOUT) == 0);
		if (kind == AWS_RETRY_NO || n >= c->max_attempts ||
		    !(last_cost = aws_retry_quota_acquire(&c->quota, kind))) {
			if (err)
				*err = e;
			break;
		}
		sleep_seconds(aws_retry_delay(n, rand01()));
	}
out:
	aws_credentials_cleanup(&cr);
	aws_wire_cleanup(&w);
	return rc;
}

int aws_paginate(struct aws_client *c, const char *service, const char *operation,
		 json_t *input, aws_page_fn page, void *ctx, int max_pages,
		 struct aws_error *err)
{
	const struct aws_service *svc = aws_service_find(service);
	const struct aws_op *op = svc ? aws_service_op(svc, operation) : NULL;
	json_t *in;
	int rc = -1;

	if (!op)
		return aws_error_set(err, 0, AWS_ERR_UNKNOWN_OP, "unknown operation '%s.%s'",
				     service, operation);
	in = input ? json_deep_copy(input) : json_object();
	if (!in)
		return aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
	for (int n = 0; max_pages <= 0 || n < max_pages; n++) {
		json_t *out = NULL, *tok;
		int stop;

		if (aws_call(c, service, operation, in, &out, err))
			goto done;
		stop = page(out, ctx);
		tok = op->page_out ? json_object_get(out, op->page_out) : NULL;
		if (op->page_more && !json_is_true(json_object_get(out, op->page_more)))
			tok = NULL;
		if (tok && json_is_string(tok) && op->page_in) {
			json_t *prev = json_object_get(in, op->page_in);

			/* GetLogEvents ends when the token comes back unchanged */
			if (prev && json_equal(prev, tok))
				tok = NULL;
		}
		if (stop || !tok || json_is_null(tok) || !op->page_in) {
			json_decref(out);
			rc = 0;
			goto done;
		}
		json_object_set(in, op->page_in, tok);
		json_decref(out);
	}
	rc = 0;
done:
	json_decref(in);
	return rc;
}

int aws_http_request(struct aws_client *c, const char *method, const char *url,
		     const char *const *headers, const char *body, size_t body_len,
		     int *status, char **body_out, struct aws_error *err)
{
	struct aws_http_response resp;
	struct aws_http_request req = {
		.method = method,
		.url = url,
		.headers = headers,
		.body = body,
		.body_len = body_len,
		.connect_timeout_ms = c->connect_timeout_ms,
		.timeout_ms = c->timeout_ms,
	};
	int rc = aws_http_do(c->http, &req, &resp, 0, err);

	if (rc == 0) {
		*status = resp.status;
		if (body_out)
			*body_out = aws_buf_take(&resp.body);
	}
	aws_http_response_cleanup(&resp);
	return rc;
}
