/* runtime_api.c: the Lambda Runtime API (2018-06-01) one environment's process talks to. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lambda_int.h"

#define RAPI_PREFIX "/2018-06-01/runtime/"
#define RAPI_MAX_BODY ((size_t)6 * 1024 * 1024 + 1024)

/* One request's state between libmicrohttpd's calls. */
struct rapi_req {
	struct aws_buf body;
	int started;
	int too_big;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status, const char *body,
			     const struct lx_next *n)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t len = n ? n->len : strlen(body);
	char deadline[32];

	resp = MHD_create_response_from_buffer(len, n ? (void *)n->payload : (void *)body,
					       MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "application/json");
	if (n) {
		snprintf(deadline, sizeof(deadline), "%lld", n->deadline_ms);
		MHD_add_response_header(resp, "Lambda-Runtime-Aws-Request-Id", n->request_id);
		MHD_add_response_header(resp, "Lambda-Runtime-Deadline-Ms", deadline);
		MHD_add_response_header(resp, "Lambda-Runtime-Invoked-Function-Arn", n->arn);
		MHD_add_response_header(resp, "Lambda-Runtime-Trace-Id", n->trace_id);
	}
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result error_reply(struct MHD_Connection *conn, unsigned int status,
				   const char *type, const char *message)
{
	char body[512];

	snprintf(body, sizeof(body), "{\"errorMessage\":\"%s\",\"errorType\":\"%s\"}", message, type);
	return reply(conn, status, body, NULL);
}

/* Route one complete request. */
static enum MHD_Result handle(struct lx_env *env, struct MHD_Connection *conn, const char *url,
			      const char *method, const struct aws_buf *body)
{
	const char *rest, *data = body->data ? body->data : "";
	const char *type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						       "Lambda-Runtime-Function-Error-Type");
	char id[128];
	size_t idlen;

	if (strncmp(url, RAPI_PREFIX, strlen(RAPI_PREFIX)) != 0)
		return error_reply(conn, 404, "NotFound", "Unknown Runtime API path");
	rest = url + strlen(RAPI_PREFIX);
	if (strcmp(rest, "invocation/next") == 0 && strcmp(method, "GET") == 0) {
		struct lx_next n;
		enum MHD_Result ret;

		memset(&n, 0, sizeof(n));
		if (lx_env_next(env, &n) != 0)
			return error_reply(conn, 500, "Runtime.ExitError",
					   "The environment is shutting down");
		ret = reply(conn, 200, NULL, &n);
		free(n.payload);
		return ret;
	}
	if (strcmp(rest, "init/error") == 0 && strcmp(method, "POST") == 0) {
		lx_env_init_error(env, type, data, body->len);
		return reply(conn, 202, "{\"status\":\"OK\"}", NULL);
	}
	if (strncmp(rest, "invocation/", 11) != 0 || strcmp(method, "POST") != 0)
		return error_reply(conn, 404, "NotFound", "Unknown Runtime API path");
	rest += 11;
	idlen = strcspn(rest, "/");
	if (idlen == 0 || idlen >= sizeof(id))
		return error_reply(conn, 400, "InvalidRequestID", "Invalid request ID");
	memcpy(id, rest, idlen);
	id[idlen] = '\0';
	rest += idlen;
	if (strcmp(rest, "/response") == 0) {
		if (lx_env_response(env, id, data, body->len) != 0)
			return error_reply(conn, 400, "InvalidRequestID", "Invalid request ID");
		return reply(conn, 202, "{\"status\":\"OK\"}", NULL);
	}
	if (strcmp(rest, "/error") == 0) {
		if (lx_env_error(env, id, type, data, body->len) != 0)
			return error_reply(conn, 400, "InvalidRequestID", "Invalid request ID");
		return reply(conn, 202, "{\"status\":\"OK\"}", NULL);
	}
	return error_reply(conn, 404, "NotFound", "Unknown Runtime API path");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct rapi_req *rq = *con_cls;

	if (!rq) {
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		aws_buf_init(&rq->body, RAPI_MAX_BODY);
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!rq->too_big && aws_buf_add(&rq->body, upload_data, *upload_data_size) != 0)
			rq->too_big = 1;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rq->too_big)
		return error_reply(conn, 413, "RequestEntityTooLarge",
				   "The response is larger than Lambda's 6 MB limit");
	return handle(cls, conn, url, method, &rq->body);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct rapi_req *rq = *con_cls;

	if (!rq)
		return;
	aws_buf_cleanup(&rq->body);
	free(rq);
	*con_cls = NULL;
}

void *lx_rapi_start(struct lx_env *env, int *port)
{
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	struct MHD_Daemon *d;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 16) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &salen) != 0)
		goto fail;
	d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
			     0, NULL, NULL, on_request, env,
			     MHD_OPTION_LISTEN_SOCKET, fd,
			     MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)16,
			     MHD_OPTION_END);
	if (!d)
		goto fail;
	*port = ntohs(sa.sin_port);
	return d;
fail:
	close(fd);
	return NULL;
}

void lx_rapi_stop(void *daemon)
{
	if (daemon)
		MHD_stop_daemon(daemon);
}
