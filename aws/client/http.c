/* http.c: HTTP over libcurl: a pool of easy handles keeps connections alive across calls. */
#include "http.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define POOL_MAX 32
/* Response header block cap: AWS answers with a few hundred bytes of headers; curl 7.88
 * caps one header line at 100 KB but not their number. */
#define AWS_HTTP_MAX_HEADERS ((size_t)1024 * 1024)

/* The CA bundle on Amazon Linux (and RHEL): used when curl's built-in path is absent,
 * as it is for a Debian libcurl bundled into a Lambda zip. */
#define AL_CA_BUNDLE "/etc/pki/tls/certs/ca-bundle.crt"

struct aws_http {
	pthread_mutex_t mu;
	CURL *idle[POOL_MAX]; /* handles with live connections, ready for reuse */
	int nidle;
	char *ca_bundle;      /* NULL: curl's default store */
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_rc;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

/* The system CA bundles we know, Amazon Linux (the Lambda runtime) first. */
static const char *const known_ca_bundles[] = {
	AL_CA_BUNDLE,
	"/etc/ssl/certs/ca-certificates.crt", /* Debian, Ubuntu, Alpine */
	"/etc/ssl/ca-bundle.pem",             /* openSUSE */
	"/etc/ssl/cert.pem",                  /* macOS, BSDs */
};

/* curl's compiled-in CA file or path when it exists: NULL (leave curl's default). Else the
 * first known system bundle that exists (a curl built for one system runs on another: the
 * functions' static libcurl looks for Amazon Linux's), else NULL. Returns a new string or
 * NULL. */
static char *default_ca_bundle(void)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	size_t i;

	if (v && v->cainfo && access(v->cainfo, R_OK) == 0)
		return NULL;
	if (v && v->capath && access(v->capath, R_OK) == 0)
		return NULL;
	for (i = 0; i < sizeof(known_ca_bundles) / sizeof(known_ca_bundles[0]); i++)
		if (access(known_ca_bundles[i], R_OK) == 0)
			return strdup(known_ca_bundles[i]);
	return NULL;
}

struct aws_http *aws_http_new(const char *ca_bundle)
{
	struct aws_http *h;

	pthread_once(&global_once, global_init);
	if (global_rc)
		return NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	pthread_mutex_init(&h->mu, NULL);
	h->ca_bundle = ca_bundle && *ca_bundle ? strdup(ca_bundle) : default_ca_bundle();
	return h;
}

void aws_http_free(struct aws_http *h)
{
	if (!h)
		return;
	for (int i = 0; i < h->nidle; i++)
		curl_easy_cleanup(h->idle[i]);
	pthread_mutex_destroy(&h->mu);
	free(h->ca_bundle);
	free(h);
}

/* Take an idle handle (its connections stay open), or make a new one. */
static CURL *handle_get(struct aws_http *h)
{
	CURL *c = NULL;

	pthread_mutex_lock(&h->mu);
	if (h->nidle > 0)
		c = h->idle[--h->nidle];
	pthread_mutex_unlock(&h->mu);
	if (c) {
		curl_easy_reset(c); /* keeps live connections and caches */
		return c;
	}
	return curl_easy_init();
}

/* Return a handle to the pool, or close it when the pool is full. */
static void handle_put(struct aws_http *h, CURL *c)
{
	pthread_mutex_lock(&h->mu);
	if (h->nidle < POOL_MAX) {
		h->idle[h->nidle++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&h->mu);
	if (c)
		curl_easy_cleanup(c);
}

struct sink {
	struct aws_buf *buf;
	size_t max;
	int overflow;
};

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	struct sink *s = ctx;
	size_t len = size * n;

	if (s->buf->len + len > s->max || aws_buf_add(s->buf, data, len)) {
		s->overflow = 1;
		return 0;
	}
	return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
	struct aws_buf *b = ctx;
	size_t len = size * n;

	/* a new status line (after 100 Continue or a redirect) starts a new header block */
	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0)
		aws_buf_reset(b);
	if (aws_buf_add(b, data, len))
		return 0;
	return len;
}

int aws_http_do(struct aws_http *h, const struct aws_http_request *req,
		struct aws_http_response *resp, size_t max_body, struct aws_error *err)
{
	struct curl_slist *hdrs = NULL, *tmp;
	struct sink sink;
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLcode cc;
	CURL *c;
	long status = 0;
	int rc = -1;

	aws_buf_init(&resp->headers, AWS_HTTP_MAX_HEADERS);
	aws_buf_init(&resp->body, 0);
	resp->status = 0;
	c = handle_get(h);
	if (!c)
		return aws_error_set(err, 0, AWS_ERR_NOMEM, "cannot create an HTTP handle");
	for (const char *const *p = req->headers; p && *p; p++) {
		tmp = curl_slist_append(hdrs, *p);
		if (!tmp) {
			aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
			goto out;
		}
		hdrs = tmp;
	}
	/* never 100-continue; no curl-chosen content type */
	tmp = curl_slist_append(hdrs, "Expect:");
	if (tmp)
		hdrs = tmp;
	sink.buf = &resp->body;
	sink.max = max_body ? max_body : AWS_BUF_DEFAULT_CAP;
	sink.overflow = 0;

	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &resp->headers);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 req->connect_timeout_ms > 0 ? req->connect_timeout_ms : 3000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 0L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, NULL);
	if (h->ca_bundle)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_bundle);
	if (strcmp(req->method, "GET") == 0) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(req->method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		if (strcmp(req->method, "POST") != 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	}

	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		const char *why = errbuf[0] ? errbuf : curl_easy_strerror(cc);

		if (sink.overflow)
			aws_error_set(err, 0, AWS_ERR_PARSE, "response body larger than %zu bytes",
				      sink.max);
		else if (cc == CURLE_OPERATION_TIMEDOUT)
			aws_error_set(err, 0, AWS_ERR_TIMEOUT, "%s", why);
		else
			aws_error_set(err, 0, AWS_ERR_NETWORK, "%s", why);
		/* a failed transfer's connection is suspect: do not reuse the handle */
		curl_easy_cleanup(c);
		c = NULL;
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	resp->status = (int)status;
	if (!resp->body.data)
		aws_buf_adds(&resp->body, "");
	rc = 0;
out:
	curl_slist_free_all(hdrs);
	if (c) {
		curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
		handle_put(h, c);
	}
	return rc;
}

void aws_http_response_cleanup(struct aws_http_response *r)
{
	aws_buf_cleanup(&r->headers);
	aws_buf_cleanup(&r->body);
}

int aws_http_header(const struct aws_http_response *r, const char *name, char *out, size_t n)
{
	const char *p = aws_buf_str(&r->headers);
	size_t len = strlen(name);

	if (n)
		out[0] = '\0';
	while (*p) {
		const char *eol = strpbrk(p, "\r\n");
		size_t linelen = eol ? (size_t)(eol - p) : strlen(p);

		if (linelen > len && p[len] == ':' && strncasecmp(p, name, len) == 0) {
			const char *v = p + len + 1;
			const char *end = p + linelen;

			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
				end--;
			if (n) {
				size_t vlen = (size_t)(end - v);

				if (vlen >= n)
					vlen = n - 1;
				memcpy(out, v, vlen);
				out[vlen] = '\0';
			}
			return 0;
		}
		p += linelen;
		while (*p == '\r' || *p == '\n')
			p++;
	}
	return -1;
}
