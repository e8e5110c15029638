/* router.c: route a request to a service operation the way SDKs address AWS, and answer
 * in the protocol's own shape (JSON, query/XML, rest-json), errors included. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "aws/client/service.h"
#include "aws/client/sigv4.h"
#include "iam_enforce.h"
#include "sbx_int.h"
#include "wire.h"

#define SQS_QUERY_VERSION "2012-11-05"
#define SQS_XML_NS "http://queue.amazonaws.com/doc/2012-11-05/"

enum proto { P_JSON, P_QUERY, P_REST };

/* What the router learnt about one request. */
struct route {
	enum proto proto;
	const struct aws_service *client_svc;   /* aws/client's row, or NULL */
	const struct sbx_service *svc;          /* the sandbox's row, or NULL */
	const char *json_ct;                    /* "application/x-amz-json-1.0" */
	const char *xml_ns;
	char service[64];
	char op[128];
	char scope_service[64];
	char region[64];
	char access_key[129];
};

/* SQS's legacy query error codes (x-amzn-query-error and query replies). */
static const struct {
	const char *code, *legacy;
} sqs_legacy[] = {
	{ "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue" },
	{ "QueueNameExists", "QueueAlreadyExists" },
	{ "QueueDeletedRecently", "AWS.SimpleQueueService.QueueDeletedRecently" },
	{ "PurgeQueueInProgress", "AWS.SimpleQueueService.PurgeQueueInProgress" },
	{ "TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest" },
	{ "EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest" },
	{ "BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct" },
	{ "InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId" },
	{ "BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong" },
	{ "UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation" },
	{ "MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight" },
	{ "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid" },
};

static const char *sqs_legacy_code(const char *code)
{
	for (size_t i = 0; i < sizeof(sqs_legacy) / sizeof(sqs_legacy[0]); i++)
		if (strcmp(sqs_legacy[i].code, code) == 0)
			return sqs_legacy[i].legacy;
	return NULL;
}

static const struct sbx_service *sandbox_service(const char *name)
{
	for (int i = 0; sbx_services[i]; i++)
		if (strcmp(sbx_services[i]->name, name) == 0)
			return sbx_services[i];
	return NULL;
}

static const struct sbx_op *service_op(const struct sbx_service *svc, const char *op)
{
	if (!svc)
		return NULL;
	for (size_t i = 0; i < svc->nops; i++)
		if (strcmp(svc->ops[i].name, op) == 0)
			return &svc->ops[i];
	return NULL;
}

/* Copy the Credential scope's parts out of an Authorization header (no validation:
 * any credentials are accepted unless strict auth is on). */
static void parse_scope(const char *auth, struct route *rt)
{
	const char *p = auth ? strstr(auth, "Credential=") : NULL;
	char cred[512];
	char *parts[5];
	int n = 0;
	size_t len;

	if (!p)
		return;
	p += strlen("Credential=");
	len = strcspn(p, ", ");
	if (len >= sizeof(cred))
		return;
	memcpy(cred, p, len);
	cred[len] = '\0';
	parts[n++] = cred;
	for (char *c = cred; *c && n < 5; c++) {
		if (*c == '/') {
			*c = '\0';
			parts[n++] = c + 1;
		}
	}
	if (n < 4)
		return;
	snprintf(rt->access_key, sizeof(rt->access_key), "%.128s", parts[0]);
	snprintf(rt->region, sizeof(rt->region), "%.63s", parts[2]);
	snprintf(rt->scope_service, sizeof(rt->scope_service), "%.63s", parts[3]);
}

static const char *req_header(const struct sbx_req *r, const char *name)
{
	return sbx_conn_header(r->conn, name);
}

/* Write a JSON error: {"__type": "com.amazonaws.<svc>#Code", "message": ...}. */
static void json_error(struct sbx_http *h, const struct route *rt, int status, const char *code,
		       const char *message)
{
	json_t *doc;
	char type[192], clean[1024];
	char *text;

	snprintf(type, sizeof(type), "com.amazonaws.%s#%s", rt->service[0] ? rt->service : "sandbox",
		 code);
	/* the message may echo the caller's bytes (an unknown operation): JSON needs UTF-8 */
	snprintf(clean, sizeof(clean), "%s", message);
	sbx_wire_utf8_clean(clean);
	doc = json_pack("{s:s, s:s}", "__type", type, "message", clean);
	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	aws_buf_reset(&h->out);
	if (text)
		aws_buf_adds(&h->out, text);
	free(text);
	json_decref(doc);
	h->status = status;
	h->content_type = rt->json_ct ? rt->json_ct : "application/x-amz-json-1.0";
	if (strcmp(rt->service, "sqs") == 0) {
		const char *legacy = sqs_legacy_code(code);

		snprintf(h->query_error, sizeof(h->query_error), "%s;%s", legacy ? legacy : code,
			 status >= 500 ? "Receiver" : "Sender");
	}
}

static void query_error(struct sbx_http *h, const struct route *rt, int status, const char *code,
			const char *message)
{
	const char *wire_code = code;

	if (strcmp(rt->service, "sqs") == 0 && sqs_legacy_code(code))
		wire_code = sqs_legacy_code(code);
	aws_buf_reset(&h->out);
	sbx_wire_error_xml(&h->out, rt->xml_ns, status >= 500 ? "Receiver" : "Sender", wire_code,
			   message, h->request_id);
	h->status = status;
	h->content_type = "text/xml";
}

/* rest-json and unknown requests: {"message": ...} with x-amzn-ErrorType. */
static void rest_error(struct sbx_http *h, int status, const char *code, const char *message)
{
	json_t *doc = json_pack("{s:s, s:s}", "message", message, "code", code);
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	aws_buf_reset(&h->out);
	if (text)
		aws_buf_adds(&h->out, text);
	free(text);
	json_decref(doc);
	h->status = status;
	h->content_type = "application/json";
	snprintf(h->error_type, sizeof(h->error_type), "%s", code);
}

static void proto_error(struct sbx_http *h, const struct route *rt, int status, const char *code,
			const char *message)
{
	if (rt->proto == P_QUERY)
		query_error(h, rt, status, code, message);
	else if (rt->proto == P_JSON)
		json_error(h, rt, status, code, message);
	else
		rest_error(h, status, code, message);
}

/* Strict auth: recompute the signature with the client's SignedHeaders and our secret.
 * Returns 0 when it matches, else -1 with the error written. */
static int verify_signature(struct sbx *s, struct sbx_http *h, const struct route *rt)
{
	const char *auth = sbx_conn_header(h->conn, "Authorization");
	const char *amz_date = sbx_conn_header(h->conn, "X-Amz-Date");
	const char *names[128], *values[128];
	struct aws_sigv4_header hdrs[128];
	struct aws_sigv4_auth a;
	struct aws_sigv4_request req;
	struct aws_sigv4_params p;
	struct aws_sigv4_result res;
	char secret[256];
	const char *ks;
	time_t when;
	int n, ok;

	if (!auth || aws_sigv4_parse_authorization(auth, &a) != 0) {
		proto_error(h, rt, 403, "IncompleteSignature",
			    "Authorization header requires a valid AWS4-HMAC-SHA256 signature");
		return -1;
	}
	ks = json_string_value(json_object_get(s->keys, a.access_key_id));
	if (ks)
		snprintf(secret, sizeof(secret), "%s", ks);
	else if (sbx_iam_secret_for(s, a.access_key_id, secret, sizeof(secret)) != 0 &&
		 sbx_sts_secret_for(s, a.access_key_id, secret, sizeof(secret)) != 0) {
		proto_error(h, rt, 403, "InvalidClientTokenId",
			    "The security token included in the request is invalid.");
		return -1;
	}
	if (!amz_date || aws_sigv4_parse_amz_date(amz_date, &when) != 0) {
		proto_error(h, rt, 403, "IncompleteSignature", "X-Amz-Date header is missing or malformed");
		return -1;
	}
	n = sbx_conn_headers(h->conn, names, values, 128);
	for (int i = 0; i < n; i++) {
		hdrs[i].name = names[i];
		hdrs[i].value = values[i];
	}
	memset(&req, 0, sizeof(req));
	req.method = h->method;
	req.path = h->path;
	req.query = h->query[0] ? h->query : NULL;
	req.headers = hdrs;
	req.nheaders = (size_t)n;
	req.signed_headers = a.signed_headers;
	/* hash the body we received: a client's X-Amz-Content-Sha256 that does not match it
	 * then fails the signature (only UNSIGNED-PAYLOAD is taken as sent) */
	req.payload_hash = sbx_conn_header(h->conn, "X-Amz-Content-Sha256");
	if (req.payload_hash && strcmp(req.payload_hash, "UNSIGNED-PAYLOAD") != 0)
		req.payload_hash = NULL;
	req.body = h->body;
	req.body_len = h->body_len;
	memset(&p, 0, sizeof(p));
	p.access_key_id = a.access_key_id;
	p.secret_access_key = secret;
	p.region = a.region;
	p.service = a.service;
	p.when = when;
	if (aws_sigv4_sign(&req, &p, &res) != 0) {
		proto_error(h, rt, 403, "SignatureDoesNotMatch", "The request could not be signed");
		return -1;
	}
	ok = strcmp(res.signature, a.signature) == 0;
	aws_sigv4_result_cleanup(&res);
	if (!ok) {
		sbx_log(s, "WARN", "signature mismatch for access key %s (%s %s)",
			a.access_key_id, h->method, h->path);
		proto_error(h, rt, 403, "SignatureDoesNotMatch",
			    "The request signature we calculated does not match the signature you "
			    "provided. Check your AWS Secret Access Key and signing method.");
		return -1;
	}
	return 0;
}

/* Pick the service for a JSON request from X-Amz-Target "<prefix>.<Op>". */
static int route_json(const char *target, struct route *rt)
{
	const char *dot = strrchr(target, '.');
	size_t plen;

	if (!dot)
		return -1;
	plen = (size_t)(dot - target);
	snprintf(rt->op, sizeof(rt->op), "%s", dot + 1);
	for (int i = 0; aws_services[i]; i++) {
		const struct aws_service *cs = aws_services[i];

		if (cs->protocol != AWS_PROTO_JSON || !cs->target_prefix)
			continue;
		if (strlen(cs->target_prefix) == plen && strncmp(cs->target_prefix, target, plen) == 0) {
			rt->client_svc = cs;
			snprintf(rt->service, sizeof(rt->service), "%s", cs->name);
			rt->json_ct = cs->json_version && strcmp(cs->json_version, "1.1") == 0 ?
				"application/x-amz-json-1.1" : "application/x-amz-json-1.0";
			return 0;
		}
	}
	return -1;
}

/* Pick the service for a query request: the credential scope, else the Version. */
static int route_query(const char *version, struct route *rt)
{
	const struct aws_service *cs = NULL;

	if (rt->scope_service[0]) {
		cs = aws_service_find(rt->scope_service);
		if (cs && cs->protocol != AWS_PROTO_QUERY && strcmp(cs->name, "sqs") != 0)
			cs = NULL;
	}
	for (int i = 0; !cs && version[0] && aws_services[i]; i++) {
		const struct aws_service *c = aws_services[i];

		if ((c->protocol == AWS_PROTO_QUERY || strcmp(c->name, "sqs") == 0) &&
		    c->api_version && strcmp(c->api_version, version) == 0)
			cs = c;
	}
	if (!cs)
		return -1;
	rt->client_svc = cs;
	snprintf(rt->service, sizeof(rt->service), "%s", cs->name);
	rt->xml_ns = cs->xml_ns;
	if (strcmp(cs->name, "sqs") == 0)
		rt->xml_ns = SQS_XML_NS;
	return 0;
}

/* Call the handler and write its output (or its error) in the protocol's shape. */
static void dispatch(struct sbx *s, struct sbx_http *h, struct route *rt, struct sbx_req *r,
		     json_t *in)
{
	const struct sbx_op *op = service_op(rt->svc, rt->op);
	const struct aws_op *cop = rt->client_svc ? aws_service_op(rt->client_svc, rt->op) : NULL;
	json_t *out = NULL;
	long long t0 = sbx_now_ms();
	int rc;

	if (!op) {
		char msg[256];

		snprintf(msg, sizeof(msg), "Operation %s is not supported by the sandbox's %s",
			 rt->op, rt->service);
		if (rt->proto == P_QUERY)
			query_error(h, rt, 400, "InvalidAction", msg);
		else
			json_error(h, rt, 400, "UnknownOperationException", msg);
		sbx_log(s, "INFO", "%s %s -> 400 unknown operation", rt->service, rt->op);
		return;
	}
	r->service = rt->service;
	r->op = op->name;
	rc = sbx_iam_authorize(r, in);
	if (rc == 0) {
		rc = op->fn(r, in, &out);
		if (rc == 0)
			sbx_iam_after_write(s, rt->service, rt->op);
	}
	if (rc != 0) {
		if (!r->err_status)
			sbx_error(r, 500, "InternalFailure", "The request processing has failed");
		proto_error(h, rt, r->err_status, r->err_code, r->err_message);
		sbx_log(s, "INFO", "%s %s -> %d %s (%lld ms)", rt->service, rt->op, r->err_status,
			r->err_code, sbx_now_ms() - t0);
		json_decref(out);
		return;
	}
	if (!out)
		out = json_object();
	aws_buf_reset(&h->out);
	if (rt->proto == P_QUERY) {
		if (sbx_wire_result_xml(&h->out, rt->service, rt->op, rt->xml_ns, out,
					cop ? cop->shapes : NULL, h->request_id) != 0)
			goto nomem;
		h->content_type = "text/xml";
	} else {
		char *text = json_dumps(out, JSON_COMPACT);

		if (!text || aws_buf_adds(&h->out, text) != 0) {
			free(text);
			goto nomem;
		}
		free(text);
		h->content_type = rt->json_ct;
	}
	h->status = 200;
	json_decref(out);
	return;
nomem:
	json_decref(out);
	proto_error(h, rt, 500, "InternalFailure", "The reply could not be written");
}

/* GET /_cleanops/health: what the start command polls. */
static void health(struct sbx *s, struct sbx_http *h)
{
	json_t *names = json_array();
	json_t *doc;
	char *text;

	for (int i = 0; sbx_services[i]; i++)
		json_array_append_new(names, json_string(sbx_services[i]->name));
	doc = json_pack("{s:s, s:s, s:s, s:o}", "status", "running", "endpoint", s->endpoint,
			"dataDir", s->data_dir, "services", names);
	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	if (text)
		aws_buf_adds(&h->out, text);
	free(text);
	json_decref(doc);
	h->status = 200;
	h->content_type = "application/json";
}

void sbx_route(struct sbx *s, struct sbx_http *h)
{
	struct route rt;
	struct sbx_req r;
	const char *target = sbx_conn_header(h->conn, "X-Amz-Target");
	const char *ctype = sbx_conn_header(h->conn, "Content-Type");
	json_t *in = NULL;
	const char *user_req = strncmp(h->path, "/restapis/", 10) == 0 ?
		strstr(h->path, "/_user_request_") : NULL;
	int invoke = user_req && (user_req[15] == '\0' || user_req[15] == '/');

	memset(&rt, 0, sizeof(rt));
	sbx_uuid(h->request_id);
	parse_scope(sbx_conn_header(h->conn, "Authorization"), &rt);
	memset(&r, 0, sizeof(r));
	r.sbx = s;
	r.method = h->method;
	r.path = h->path;
	r.query = h->query;
	r.body = h->body;
	r.body_len = h->body_len;
	r.region = rt.region[0] ? rt.region : SBX_DEFAULT_REGION;
	r.access_key = rt.access_key;
	r.request_id = h->request_id;
	r.header = req_header;
	r.conn = h->conn;
	r.service = "";
	r.op = "";

	if (invoke) {
		/* API Gateway invocations: unsigned, any body and headers (apigw_invoke.c) */
		rt.proto = P_REST;
	} else if (target) {
		rt.proto = P_JSON;
		rt.json_ct = ctype && strstr(ctype, "json-1.1") ? "application/x-amz-json-1.1" :
			"application/x-amz-json-1.0";
		if (route_json(target, &rt) != 0) {
			json_error(h, &rt, 400, "UnknownOperationException",
				   "The X-Amz-Target header names no service of the sandbox");
			sbx_log(s, "INFO", "unknown target '%.100s' -> 400", target);
			return;
		}
	} else if ((strcmp(h->method, "POST") == 0 && ctype &&
		    strncasecmp(ctype, "application/x-www-form-urlencoded", 33) == 0) ||
		   (strcmp(h->method, "GET") == 0 && strstr(h->query, "Action="))) {
		char action[128], version[32];
		const char *form = strcmp(h->method, "GET") == 0 ? h->query : h->body;
		size_t form_len = strcmp(h->method, "GET") == 0 ? strlen(h->query) : h->body_len;

		rt.proto = P_QUERY;
		sbx_wire_form_action(form, form_len, action, sizeof(action), version, sizeof(version));
		snprintf(rt.op, sizeof(rt.op), "%s", action);
		if (route_query(version, &rt) != 0) {
			query_error(h, &rt, 400, action[0] ? "InvalidAction" : "MissingAction",
				    action[0] ? "No service of the sandbox answers this Version"
					      : "The request must contain the parameter Action");
			return;
		}
		if (!action[0]) {
			query_error(h, &rt, 400, "MissingAction",
				    "The request must contain the parameter Action");
			return;
		}
	} else if (strcmp(h->method, "GET") == 0 && strcmp(h->path, "/_cleanops/health") == 0) {
		health(s, h);
		return;
	} else {
		rt.proto = P_REST;
		snprintf(rt.service, sizeof(rt.service), "%s", rt.scope_service);
	}

	if (s->strict_auth && !invoke && verify_signature(s, h, &rt) != 0)
		return;

	if (rt.proto == P_REST) {
		r.service = rt.service;
		if (!h->headers)
			h->headers = json_object();
		r.resp_headers = h->headers;
		for (int i = 0; sbx_services[i]; i++) {
			const struct sbx_service *svc = sbx_services[i];
			const char *ct = "application/json";
			int status = 200;

			if (!svc->route)
				continue;
			aws_buf_reset(&h->out);
			if (svc->route(&r, &status, &h->out, &ct) == 0) {
				/* a function's role may have changed: drop the cached roles */
				if (!invoke && strncmp(h->path, "/2015-03-31/functions", 21) == 0 &&
				    (strcmp(h->method, "PUT") == 0 || strcmp(h->method, "DELETE") == 0 ||
				     strcmp(h->path + 21, "") == 0 || strcmp(h->path + 21, "/") == 0))
					sbx_iam_after_write(s, "lambda", h->method);
				if (r.err_status) {
					rest_error(h, r.err_status, r.err_code, r.err_message);
				} else {
					h->status = status;
					h->content_type = ct;
				}
				return;
			}
		}
		aws_buf_reset(&h->out);
		rest_error(h, 404, "UnknownOperationException", "No sandbox service answers this path");
		sbx_log(s, "INFO", "%s %.200s -> 404", h->method, h->path);
		return;
	}

	rt.svc = sandbox_service(rt.service);
	if (rt.proto == P_JSON) {
		json_error_t jerr;

		if (h->body_len == 0)
			in = json_object();
		else
			in = json_loadb(h->body, h->body_len, 0, &jerr);
		if (!json_is_object(in)) {
			json_error(h, &rt, 400, "SerializationException",
				   in ? "The request body must be a JSON object"
				      : "Start of structure or map found where not expected, or "
					"the body is not valid JSON");
			sbx_log(s, "INFO", "%s %s -> 400 SerializationException", rt.service, rt.op);
			goto done;
		}
	} else {
		const struct aws_op *cop = aws_service_op(rt.client_svc, rt.op);
		char action[128], version[32];
		const char *form = strcmp(h->method, "GET") == 0 ? h->query : h->body;
		size_t form_len = strcmp(h->method, "GET") == 0 ? strlen(h->query) : h->body_len;

		in = sbx_wire_form_to_json(form, form_len, rt.service, cop ? cop->shapes : NULL,
					   action, sizeof(action), version, sizeof(version));
		if (!in) {
			query_error(h, &rt, 400, "MalformedQueryString",
				    "The request body is not a valid form");
			goto done;
		}
	}
	dispatch(s, h, &rt, &r, in);
done:
	json_decref(in);
}
