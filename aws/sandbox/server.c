/* server.c: the sandbox's HTTP server (libmicrohttpd, 127.0.0.1 only), its lifecycle and logger. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "iam_enforce.h"
#include "sbx_int.h"
#include "wire.h"

/* One request's state between libmicrohttpd's calls (freed in on_completed). */
struct req_ctx {
	char *uri;          /* raw request target, with the query */
	struct aws_buf body;
	int started;
	int too_big;
};

long long sbx_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sbx_iso_time(long long ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char base[24];

	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%s.%03dZ", base, (int)(ms % 1000));
}

void sbx_uuid(char out[37])
{
	unsigned char b[16];
	static const char hex[] = "0123456789abcdef";
	size_t got = 0;
	int o = 0;

	/* getrandom(2): the kernel's CSPRNG in one system call, no file descriptor */
	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);

		if (n <= 0 && errno != EINTR)
			break;
		if (n > 0)
			got += (size_t)n;
	}
	if (got < sizeof(b)) { /* never expected: fall back to time and address entropy */
		long long x = sbx_now_ms() ^ (long long)(size_t)&got;

		for (size_t i = got; i < sizeof(b); i++) {
			x = x * 6364136223846793005LL + 1442695040888963407LL;
			b[i] = (unsigned char)(x >> 33);
		}
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[o] = '\0';
}

void sbx_rand_chars(char *out, size_t n, const char *alphabet)
{
	size_t alen = strlen(alphabet);
	size_t i = 0;

	while (i < n) {
		char u[37];

		sbx_uuid(u);
		for (int j = 0; j < 36 && i < n; j++) {
			unsigned v;

			if (u[j] == '-' || j == 14 || j == 19)
				continue; /* fixed version and variant nibbles */
			v = (unsigned)(u[j] <= '9' ? u[j] - '0' : u[j] - 'a' + 10);
			if (j + 1 < 36 && u[j + 1] != '-') {
				unsigned w = (unsigned)(u[j + 1] <= '9' ? u[j + 1] - '0' : u[j + 1] - 'a' + 10);

				v = v * 16 + w;
				j++;
			}
			out[i++] = alphabet[v % alen];
		}
	}
	out[n] = '\0';
}

const char *sbx_str(json_t *in, const char *name)
{
	json_t *v = in ? json_object_get(in, name) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

long long sbx_int(json_t *in, const char *name, long long def)
{
	json_t *v = in ? json_object_get(in, name) : NULL;

	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v))
		return (long long)json_real_value(v);
	if (json_is_string(v)) {
		const char *str = json_string_value(v);
		char *end;
		long long n;

		errno = 0;
		n = strtoll(str, &end, 10);
		if (errno == 0 && end != str && *end == '\0')
			return n;
	}
	return def;
}

int sbx_bool(json_t *in, const char *name, int def)
{
	json_t *v = in ? json_object_get(in, name) : NULL;

	if (json_is_boolean(v))
		return json_is_true(v);
	if (json_is_string(v)) {
		if (strcasecmp(json_string_value(v), "true") == 0)
			return 1;
		if (strcasecmp(json_string_value(v), "false") == 0)
			return 0;
	}
	return def;
}

int sbx_error(struct sbx_req *r, int status, const char *code, const char *fmt, ...)
{
	va_list ap;

	r->err_status = status;
	snprintf(r->err_code, sizeof(r->err_code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(r->err_message, sizeof(r->err_message), fmt, ap);
	va_end(ap);
	/* messages echo the caller's bytes (a method, a name): replies need valid UTF-8 */
	sbx_wire_utf8_clean(r->err_message);
	return -1;
}

void sbx_log(struct sbx *s, const char *level, const char *fmt, ...)
{
	char when[32];
	va_list ap;

	if (!s || !s->log)
		return;
	sbx_iso_time(sbx_now_ms(), when);
	pthread_mutex_lock(&s->log_mu);
	fprintf(s->log, "%s %s ", when, level);
	va_start(ap, fmt);
	vfprintf(s->log, fmt, ap);
	va_end(ap);
	fputc('\n', s->log);
	fflush(s->log);
	pthread_mutex_unlock(&s->log_mu);
}

void sbx_set_state(struct sbx *s, const char *service, void *state)
{
	pthread_mutex_lock(&s->state_mu);
	for (int i = 0; i < s->nstates; i++) {
		if (strcmp(s->state_names[i], service) == 0) {
			s->states[i] = state;
			goto done;
		}
	}
	if (s->nstates < SBX_MAX_STATES) {
		s->state_names[s->nstates] = service;
		s->states[s->nstates++] = state;
	}
done:
	pthread_mutex_unlock(&s->state_mu);
}

void *sbx_get_state(struct sbx *s, const char *service)
{
	void *state = NULL;

	pthread_mutex_lock(&s->state_mu);
	for (int i = 0; i < s->nstates; i++)
		if (strcmp(s->state_names[i], service) == 0)
			state = s->states[i];
	pthread_mutex_unlock(&s->state_mu);
	return state;
}

int sbx_port(const struct sbx *s)
{
	return s->port;
}

const char *sbx_data_dir(const struct sbx *s)
{
	return s->data_dir;
}

const char *sbx_endpoint(const struct sbx *s)
{
	return s->endpoint;
}

const char *sbx_conn_header(void *conn, const char *name)
{
	const struct sbx_conn *c = conn;

	if (!c)
		return NULL;
	if (c->mhd)
		return MHD_lookup_connection_value(c->mhd, MHD_HEADER_KIND, name);
	for (int i = 0; i < c->n; i++)
		if (strcasecmp(c->names[i], name) == 0)
			return c->values[i];
	return NULL;
}

struct hdr_list {
	const char **names;
	const char **values;
	int n, max;
};

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
				      const char *value)
{
	struct hdr_list *l = cls;

	if (l->n < l->max) {
		l->names[l->n] = key;
		l->values[l->n] = value ? value : "";
		l->n++;
	}
	return MHD_YES;
}

int sbx_conn_headers(void *conn, const char **names, const char **values, int max)
{
	const struct sbx_conn *c = conn;
	struct hdr_list l = { names, values, 0, max };

	if (c && c->mhd)
		MHD_get_connection_values(c->mhd, MHD_HEADER_KIND, collect_header, &l);
	for (int i = 0; c && !c->mhd && i < c->n && l.n < max; i++, l.n++) {
		names[l.n] = c->names[i];
		values[l.n] = c->values[i];
	}
	return l.n;
}

/* API Gateway's REST API payload quota (10 MB), for the invoke URLs. */
#define SBX_MAX_BODY_INVOKE ((size_t)10 * 1024 * 1024)

/* The body cap for a request target: Lambda's function APIs take zips inline; an API's
 * invoke URL takes what API Gateway takes. */
static size_t body_cap(const char *uri)
{
	if (uri && strncmp(uri, "/restapis/", 10) == 0 && strstr(uri, "/_user_request_"))
		return SBX_MAX_BODY_INVOKE;
	return uri && strncmp(uri, "/2015-03-31/functions", 21) == 0 ? SBX_MAX_BODY_LAMBDA
								     : SBX_MAX_BODY;
}

/* Start of a request: keep the raw URI (path and query, still percent-encoded). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct req_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return NULL;
	ctx->uri = strdup(uri ? uri : "/");
	aws_buf_init(&ctx->body, body_cap(ctx->uri));
	return ctx;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct req_ctx *ctx = *con_cls;

	if (!ctx)
		return;
	aws_buf_cleanup(&ctx->body);
	free(ctx->uri);
	free(ctx);
	*con_cls = NULL;
}

/* Queue a response; takes body (malloc'd, may be NULL). */
static enum MHD_Result respond(struct MHD_Connection *conn, int status, char *body, size_t len,
			       const char *content_type, const struct sbx_http *h)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, body ? body : (char *)"",
					       body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	if (content_type)
		MHD_add_response_header(resp, "Content-Type", content_type);
	if (h) {
		MHD_add_response_header(resp, "x-amzn-RequestId", h->request_id);
		if (h->query_error[0])
			MHD_add_response_header(resp, "x-amzn-query-error", h->query_error);
		if (h->error_type[0])
			MHD_add_response_header(resp, "x-amzn-ErrorType", h->error_type);
		if (h->headers) {
			const char *k;
			json_t *v;

			json_object_foreach(h->headers, k, v) {
				size_t i;
				json_t *e;

				if (json_is_string(v))
					MHD_add_response_header(resp, k, json_string_value(v));
				json_array_foreach(v, i, e) /* a repeated header, e.g. Set-Cookie */
					if (json_is_string(e))
						MHD_add_response_header(resp, k, json_string_value(e));
			}
		}
	}
	ret = MHD_queue_response(conn, (unsigned int)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result respond_too_big(struct MHD_Connection *conn, size_t cap)
{
	char msg[160];
	int n = snprintf(msg, sizeof(msg),
			 "{\"__type\":\"RequestEntityTooLargeException\",\"message\":"
			 "\"Request body is larger than %zu bytes\"}", cap);
	char *body = strdup(msg);
	struct sbx_http h;

	memset(&h, 0, sizeof(h));
	sbx_uuid(h.request_id);
	snprintf(h.error_type, sizeof(h.error_type), "RequestEntityTooLargeException");
	return respond(conn, 413, body, body ? (size_t)n : 0, "application/json", &h);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct sbx *s = cls;
	struct req_ctx *ctx = *con_cls;
	struct sbx_http h;
	struct sbx_conn c = { conn, NULL, NULL, 0 };
	enum MHD_Result ret;
	char *q;

	if (!ctx)
		return MHD_NO;
	if (!ctx->started) {
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     "Content-Length");
		ctx->started = 1;
		if (cl) {
			char *end;
			unsigned long long n = strtoull(cl, &end, 10);

			if (end != cl && n > body_cap(ctx->uri)) {
				sbx_log(s, "WARN", "%s %s: body of %llu bytes refused (413)",
					method, url, n);
				return respond_too_big(conn, body_cap(ctx->uri));
			}
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!ctx->too_big &&
		    aws_buf_add(&ctx->body, upload_data, *upload_data_size) != 0)
			ctx->too_big = 1;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (ctx->too_big) {
		sbx_log(s, "WARN", "%s %s: body over the cap refused (413)", method, url);
		return respond_too_big(conn, body_cap(ctx->uri));
	}

	memset(&h, 0, sizeof(h));
	q = strchr(ctx->uri, '?');
	if (q)
		*q++ = '\0';
	h.method = method;
	h.path = ctx->uri;
	h.query = q ? q : "";
	h.body = ctx->body.data ? ctx->body.data : "";
	h.body_len = ctx->body.len;
	h.conn = &c;
	aws_buf_init(&h.out, 0);
	sbx_route(s, &h);
	{
		size_t len = h.out.len;
		char *body = len ? aws_buf_take(&h.out) : NULL;

		ret = respond(conn, h.status, body, body ? len : 0, h.content_type, &h);
	}
	json_decref(h.headers);
	aws_buf_cleanup(&h.out);
	return ret;
}

/* Create the listening socket on 127.0.0.1:port (clear errors for a busy port). */
static int listen_on(int port, int *port_out, char *errbuf, size_t errlen)
{
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		snprintf(errbuf, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (errno == EADDRINUSE)
			snprintf(errbuf, errlen, "port %d on 127.0.0.1 is already in use", port);
		else
			snprintf(errbuf, errlen, "cannot bind 127.0.0.1:%d: %s", port,
				 strerror(errno));
		goto fail;
	}
	if (listen(fd, 256) != 0) {
		snprintf(errbuf, errlen, "listen on 127.0.0.1:%d: %s", port, strerror(errno));
		goto fail;
	}
	if (getsockname(fd, (struct sockaddr *)&sa, &salen) == 0)
		*port_out = ntohs(sa.sin_port);
	else
		*port_out = port;
	return fd;
fail:
	close(fd);
	return -1;
}

/* Read DATA/keys.json for --strict-auth: {"AKID": "secret", ...} or
 * [{"AccessKeyId": .., "SecretAccessKey": ..}]. Missing: write the two local pairs, the
 * SDKs' customary test/test and the one cleanops' own commands use for the sandbox. */
static int load_keys(struct sbx *s, char *errbuf, size_t errlen)
{
	struct aws_buf path;
	json_error_t jerr;
	json_t *doc = NULL;
	int rc = -1;

	aws_buf_init(&path, 0);
	if (aws_buf_printf(&path, "%s/keys.json", s->data_dir) != 0)
		goto done;
	if (access(path.data, F_OK) != 0) {
		int fd = open(path.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		static const char def[] = "{\"test\": \"test\", \"cleanops-sandbox\": "
					  "\"cleanops-sandbox-secret\"}\n";

		if (fd < 0 || write(fd, def, sizeof(def) - 1) != (ssize_t)(sizeof(def) - 1)) {
			snprintf(errbuf, errlen, "cannot write %s: %s", path.data, strerror(errno));
			if (fd >= 0)
				close(fd);
			goto done;
		}
		close(fd);
	}
	doc = json_load_file(path.data, 0, &jerr);
	if (!doc) {
		snprintf(errbuf, errlen, "%s:%d: %s", path.data, jerr.line, jerr.text);
		goto done;
	}
	s->keys = json_object();
	if (json_is_array(doc)) {
		size_t i;
		json_t *e;

		json_array_foreach(doc, i, e) {
			const char *ak = sbx_str(e, "AccessKeyId"), *sk = sbx_str(e, "SecretAccessKey");

			if (ak && sk)
				json_object_set_new(s->keys, ak, json_string(sk));
		}
	} else if (json_is_object(doc)) {
		const char *k;
		json_t *v;

		json_object_foreach(doc, k, v)
			if (json_is_string(v))
				json_object_set(s->keys, k, v);
	} else {
		snprintf(errbuf, errlen, "%s: expected an object of access key -> secret", path.data);
		goto done;
	}
	rc = 0;
done:
	json_decref(doc);
	aws_buf_cleanup(&path);
	return rc;
}

/* mkdir -p with mode 0700 for the directories created. */
static int make_dirs(const char *dir)
{
	char tmp[4096];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (tmp[i] == '/' || tmp[i] == '\0') {
			char c = tmp[i];

			tmp[i] = '\0';
			if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
				return -1;
			tmp[i] = c;
		}
	}
	return 0;
}

static void free_sbx(struct sbx *s)
{
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	sbx_store_close(s);
	json_decref(s->keys);
	if (s->log)
		fclose(s->log);
	pthread_mutex_destroy(&s->log_mu);
	pthread_mutex_destroy(&s->db_mu);
	pthread_mutex_destroy(&s->state_mu);
	sbx_iam_enforce_cleanup(s);
	free(s->data_dir);
	free(s);
}

int sbx_start(const struct sbx_opts *opts, struct sbx **out, char *errbuf, size_t errlen)
{
	struct sbx *s = NULL;
	struct aws_buf path;
	int port = opts->port ? opts->port : SBX_DEFAULT_PORT;

	aws_buf_init(&path, 0);
	if (!opts->data_dir || !*opts->data_dir) {
		snprintf(errbuf, errlen, "no data directory given");
		goto fail;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(errbuf, errlen, "out of memory");
		goto fail;
	}
	s->listen_fd = -1;
	pthread_mutex_init(&s->log_mu, NULL);
	pthread_mutex_init(&s->db_mu, NULL);
	pthread_mutex_init(&s->state_mu, NULL);
	s->strict_auth = opts->strict_auth;
	s->enforce_iam = !opts->no_enforce_iam;
	if (sbx_iam_enforce_init(s) != 0) {
		snprintf(errbuf, errlen, "out of memory");
		goto fail;
	}
	s->data_dir = strdup(opts->data_dir);
	if (!s->data_dir || make_dirs(s->data_dir) != 0) {
		snprintf(errbuf, errlen, "cannot create data directory %s: %s", opts->data_dir,
			 strerror(errno));
		goto fail;
	}
	if (aws_buf_printf(&path, "%s/sandbox.log", s->data_dir) != 0)
		goto nomem;
	{
		int fd = open(path.data, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

		s->log = fd >= 0 ? fdopen(fd, "a") : NULL;
		if (!s->log) {
			snprintf(errbuf, errlen, "cannot open %s: %s", path.data, strerror(errno));
			if (fd >= 0)
				close(fd);
			goto fail;
		}
	}
	if (s->strict_auth && load_keys(s, errbuf, errlen) != 0)
		goto fail;
	if (!opts->headless) {
		s->listen_fd = listen_on(port, &s->port, errbuf, errlen);
		if (s->listen_fd < 0)
			goto fail;
	}
	snprintf(s->endpoint, sizeof(s->endpoint), "http://127.0.0.1:%d", s->port);
	if (sbx_store_open(s, errbuf, errlen) != 0)
		goto fail;
	for (int i = 0; sbx_services[i]; i++) {
		const struct sbx_service *svc = sbx_services[i];

		if (svc->init && svc->init(s) != 0) {
			snprintf(errbuf, errlen, "service %s failed to start (see %s/sandbox.log)",
				 svc->name, s->data_dir);
			goto fail_services;
		}
		s->ninit = i + 1;
	}
	if (opts->headless) {
		for (int i = s->ninit - 1; i >= 0; i--)
			if (sbx_services[i]->quiesce)
				sbx_services[i]->quiesce(s);
		sbx_log(s, "INFO", "headless (data %s)", s->data_dir);
		aws_buf_cleanup(&path);
		*out = s;
		return 0;
	}
	s->mhd = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
				  MHD_USE_ERROR_LOG,
				  (uint16_t)s->port, NULL, NULL, on_request, s,
				  MHD_OPTION_LISTEN_SOCKET, s->listen_fd,
				  MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)300,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1000,
				  MHD_OPTION_END);
	if (!s->mhd) {
		snprintf(errbuf, errlen, "cannot start the HTTP server on 127.0.0.1:%d", s->port);
		goto fail_services;
	}
	s->listen_fd = -1; /* the daemon owns it now */
	sbx_log(s, "INFO", "listening on %s (data %s%s%s)", s->endpoint, s->data_dir,
		s->strict_auth ? ", strict auth" : "", s->enforce_iam ? "" : ", IAM not enforced");
	aws_buf_cleanup(&path);
	*out = s;
	return 0;
nomem:
	snprintf(errbuf, errlen, "out of memory");
	goto fail;
fail_services:
	for (int i = s->ninit - 1; i >= 0; i--)
		if (sbx_services[i]->shutdown)
			sbx_services[i]->shutdown(s);
	s->ninit = 0;
fail:
	if (s) {
		sbx_log(s, "ERROR", "start failed: %s", errbuf);
		free_sbx(s);
	}
	aws_buf_cleanup(&path);
	return -1;
}

void sbx_stop(struct sbx *s)
{
	if (!s)
		return;
	sbx_log(s, "INFO", "stopping");
	/* long polls would hold MHD_stop_daemon's join for up to 20 s: end them first; the
	 * state they use stays until the shutdown hooks run after the join */
	for (int i = s->ninit - 1; i >= 0; i--)
		if (sbx_services[i]->quiesce)
			sbx_services[i]->quiesce(s);
	if (s->mhd) {
		MHD_stop_daemon(s->mhd); /* closes the listening socket, joins every thread */
		s->mhd = NULL;
	}
	for (int i = s->ninit - 1; i >= 0; i--)
		if (sbx_services[i]->shutdown)
			sbx_services[i]->shutdown(s);
	s->ninit = 0;
	sbx_log(s, "INFO", "stopped");
	free_sbx(s);
}
