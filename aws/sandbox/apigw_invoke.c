/* apigw_invoke.c: API Gateway REST (v1) invocation: resource and method matching, request
 * validation, mapping templates, MOCK / AWS (SQS, Lambda) / AWS_PROXY / HTTP / HTTP_PROXY
 * integrations. */
#include <ctype.h>
#include <curl/curl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "aws/client/service.h"
#include "aws/client/sigv4.h"
#include "apigw.h"
#include "iam_enforce.h"
#include "jsonschema.h"
#include "lambda.h"
#include "netguard.h"
#include "sbx_int.h"
#include "vtl.h"
#include "wire.h"

/* The Lambda service may not be linked in: a weak reference, checked before use. */
#pragma weak sbx_lambda_invoke

#define SQS_XML_NS "http://queue.amazonaws.com/doc/2012-11-05/"
#define MAX_SEGS 64
#define MAX_HEADERS 128
#define LAMBDA_WAIT_MS 30000

/* One invocation in flight. */
struct inv {
	struct sbx_req *r;
	const char *api_id;
	const char *stage_name;
	char *user_path;            /* decoded, starts with '/' */
	struct sbx_apigw_deployed dep;
	json_t *resource;           /* borrowed from dep.api */
	json_t *method;             /* borrowed */
	json_t *integration;        /* borrowed */
	json_t *params;             /* {"path":{},"querystring":{},"header":{}} */
	json_t *multi_query;        /* name -> [values] */
	json_t *multi_headers;      /* name -> [values] */
	json_t *context;
	/* the backend's answer */
	int backend_status;
	struct aws_buf backend;
	char error_message[512];    /* Lambda errorMessage, for selection patterns */
	int is_lambda;
	/* the reply */
	int *status;
	struct aws_buf *body;
	const char **ct;
};

/* Content types of replies built at run time (the router reads them right after we return). */
static _Thread_local char reply_ct[256];

static void reply(struct inv *v, int status, const char *message)
{
	json_t *doc = json_pack("{s:s}", "message", message);
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;

	aws_buf_reset(v->body);
	if (text)
		aws_buf_adds(v->body, text);
	free(text);
	json_decref(doc);
	*v->status = status;
	*v->ct = "application/json";
	if (v->r->resp_headers) {
		const char *type = status == 400 ? "BadRequestException" :
			status == 403 && strcmp(message, "Forbidden") == 0 ? "ForbiddenException" :
			status == 403 ? "MissingAuthenticationTokenException" :
			status == 404 ? "NotFoundException" :
			status == 415 ? "UnsupportedMediaTypeException" :
			status == 429 ? "ThrottlingException" : "InternalServerErrorException";

		json_object_set_new(v->r->resp_headers, "x-amzn-ErrorType", json_string(type));
	}
}

/* 500 with the reason in the log: what AWS answers when the gateway itself fails. */
static int internal(struct inv *v, const char *why)
{
	sbx_log(v->r->sbx, "ERROR", "apigateway %s/%s %s %s: %s", v->api_id, v->stage_name,
		v->r->method, v->user_path ? v->user_path : "", why);
	reply(v, 500, "Internal server error");
	return -1;
}

/* Decode a query-string component ('+' is a space); caller frees. */
static char *form_unescape(const char *s, size_t n)
{
	char *t = sbx_apigw_unescape(s, n);

	if (!t)
		t = strndup(s, n);
	for (char *p = t; p && *p; p++)
		if (*p == '+')
			*p = ' ';
	return t;
}

/* ---- request parts ---- */

static void collect_query(struct inv *v)
{
	const char *q = v->r->query ? v->r->query : "";
	json_t *single = json_object_get(v->params, "querystring");

	while (*q) {
		size_t len = strcspn(q, "&"), klen = strcspn(q, "=");
		char *k, *val;

		if (klen > len)
			klen = len;
		if (len) {
			k = form_unescape(q, klen);
			val = klen < len ? form_unescape(q + klen + 1, len - klen - 1) : strdup("");
			if (k && val && *k) {
				json_t *list = json_object_get(v->multi_query, k);

				if (!list) {
					list = json_array();
					json_object_set_new(v->multi_query, k, list);
				}
				json_array_append_new(list, json_string(val));
				json_object_set_new(single, k, json_string(val));
			}
			free(k);
			free(val);
		}
		q += len;
		if (*q == '&')
			q++;
	}
}

static void collect_headers(struct inv *v)
{
	const char *names[MAX_HEADERS], *values[MAX_HEADERS];
	json_t *single = json_object_get(v->params, "header");
	int n = v->r->conn ? sbx_conn_headers(v->r->conn, names, values, MAX_HEADERS) : 0;

	for (int i = 0; i < n; i++) {
		json_t *list = json_object_get(v->multi_headers, names[i]);

		if (!list) {
			list = json_array();
			json_object_set_new(v->multi_headers, names[i], list);
		}
		json_array_append_new(list, json_string(values[i]));
		json_object_set_new(single, names[i], json_string(values[i]));
	}
}

static const char *header(struct inv *v, const char *name)
{
	return v->r->header ? v->r->header(v->r, name) : NULL;
}

/* The request's media type without parameters, lowercased ("application/json" default). */
static void media_type(struct inv *v, char *out, size_t n)
{
	const char *ct = header(v, "Content-Type");
	size_t i = 0;

	if (!ct || !*ct)
		ct = "application/json";
	while (ct[i] && ct[i] != ';' && !isspace((unsigned char)ct[i]) && i + 1 < n) {
		out[i] = (char)tolower((unsigned char)ct[i]);
		i++;
	}
	out[i] = '\0';
}

/* ---- matching ---- */

/* Split a path into up to max segments (empty ones dropped) pointing into buf. */
static int split_path(char *buf, char **seg, int max)
{
	int n = 0;

	for (char *p = buf; *p;) {
		while (*p == '/')
			*p++ = '\0';
		if (!*p)
			break;
		if (n == max)
			return -1;
		seg[n++] = p;
		while (*p && *p != '/')
			p++;
	}
	return n;
}

/* Match request segments against a resource path. Returns 1 and a rank string (one
 * character per resource segment: '0' literal, '1' {param}, '2' {greedy+}) and the path
 * parameters in params, 0 when it does not match. */
static int match_resource(const char *rpath, char **req, int nreq, char *rank, size_t rank_n,
			  json_t *params)
{
	char buf[2048];
	char *seg[MAX_SEGS];
	int n, i;

	snprintf(buf, sizeof(buf), "%s", rpath);
	n = split_path(buf, seg, MAX_SEGS);
	if (n < 0 || (size_t)n + 1 > rank_n)
		return 0;
	for (i = 0; i < n; i++) {
		size_t len = strlen(seg[i]);

		if (seg[i][0] == '{' && len > 3 && seg[i][len - 2] == '+' && i == n - 1) {
			struct aws_buf rest = { 0 };

			if (i >= nreq)
				return 0;
			for (int k = i; k < nreq; k++) {
				if (k > i)
					aws_buf_addc(&rest, '/');
				aws_buf_adds(&rest, req[k]);
			}
			seg[i][len - 2] = '\0';
			json_object_set_new(params, seg[i] + 1, json_string(aws_buf_str(&rest)));
			aws_buf_cleanup(&rest);
			rank[i] = '2';
			rank[i + 1] = '\0';
			return 1;
		}
		if (i >= nreq)
			return 0;
		if (seg[i][0] == '{' && len > 2 && seg[i][len - 1] == '}') {
			seg[i][len - 1] = '\0';
			json_object_set_new(params, seg[i] + 1, json_string(req[i]));
			rank[i] = '1';
		} else if (strcmp(seg[i], req[i]) == 0) {
			rank[i] = '0';
		} else {
			return 0;
		}
	}
	rank[n] = '\0';
	return n == nreq;
}

/* Find the resource and method for the request. Returns 0, or -1 (reply written). */
static int find_route(struct inv *v)
{
	char buf[4096], best_rank[MAX_SEGS + 2] = "";
	char *req[MAX_SEGS];
	json_t *resources = json_object_get(v->dep.api, "resources"), *res, *best_params = NULL;
	const char *k;
	int n;

	snprintf(buf, sizeof(buf), "%s", v->user_path);
	n = split_path(buf, req, MAX_SEGS);
	json_object_foreach(resources, k, res) {
		char rank[MAX_SEGS + 2];
		json_t *p = json_object();

		if (n >= 0 && match_resource(sbx_str(res, "path"), req, n, rank, sizeof(rank), p) &&
		    (!v->resource || strcmp(rank, best_rank) < 0)) {
			v->resource = res;
			snprintf(best_rank, sizeof(best_rank), "%s", rank);
			json_decref(best_params);
			best_params = p;
		} else {
			json_decref(p);
		}
	}
	if (v->resource) {
		json_t *methods = json_object_get(v->resource, "resourceMethods");

		v->method = json_object_get(methods, v->r->method);
		if (!v->method)
			v->method = json_object_get(methods, "ANY");
	}
	if (!v->method) {
		json_decref(best_params);
		reply(v, 403, "Missing Authentication Token");
		return -1;
	}
	json_object_set_new(v->params, "path", best_params);
	v->integration = json_object_get(v->method, "methodIntegration");
	return 0;
}

/* ---- validation ---- */

static int validate(struct inv *v)
{
	const char *vid = sbx_str(v->method, "requestValidatorId");
	json_t *val = vid ? json_object_get(json_object_get(v->dep.api, "requestValidators"), vid)
			  : NULL;
	json_t *reqp = json_object_get(v->method, "requestParameters"), *flag;
	const char *k;

	if (!val)
		return 0;
	if (json_is_true(json_object_get(val, "validateRequestParameters"))) {
		struct aws_buf missing = { 0 };

		json_object_foreach(reqp, k, flag) {
			static const char *const where[][2] = { { "method.request.header.", "header" },
				{ "method.request.querystring.", "querystring" },
				{ "method.request.path.", "path" } };

			if (!json_is_true(flag))
				continue;
			for (size_t i = 0; i < 3; i++) {
				size_t pl = strlen(where[i][0]);
				const char *name = k + pl;
				json_t *m;
				int found = 0;

				if (strncmp(k, where[i][0], pl) != 0)
					continue;
				m = json_object_get(v->params, where[i][1]);
				if (i == 0) {
					const char *hk;
					json_t *hv;

					json_object_foreach(m, hk, hv)
						found |= strcasecmp(hk, name) == 0;
				} else {
					found = json_object_get(m, name) != NULL;
				}
				if (!found) {
					aws_buf_adds(&missing, missing.len ? ", " : "");
					aws_buf_adds(&missing, name);
				}
			}
		}
		if (missing.len) {
			char msg[1024];

			snprintf(msg, sizeof(msg), "Missing required request parameters: [%s]",
				 aws_buf_str(&missing));
			aws_buf_cleanup(&missing);
			reply(v, 400, msg);
			return -1;
		}
	}
	if (json_is_true(json_object_get(val, "validateRequestBody"))) {
		json_t *models = json_object_get(v->method, "requestModels");
		char mt[128];
		const char *name;
		json_t *model, *schema, *body;
		char err[256];
		int rc;

		media_type(v, mt, sizeof(mt));
		name = sbx_str(models, mt);
		if (!name)
			name = sbx_str(models, "$default");
		if (!name || strcmp(name, "Empty") == 0)
			return 0;
		model = json_object_get(json_object_get(v->dep.api, "models"), name);
		if (!model)
			return internal(v, "the method's request model does not exist");
		schema = json_loads(sbx_str(model, "schema") ? sbx_str(model, "schema") : "{}", 0,
				    NULL);
		if (!schema)
			return internal(v, "the request model's schema is not JSON");
		body = json_loadb(v->r->body ? v->r->body : "", v->r->body_len, JSON_DECODE_ANY,
				  NULL);
		rc = body ? sbx_jsonschema_validate(schema, body, err, sizeof(err)) : 1;
		json_decref(schema);
		json_decref(body);
		if (rc < 0) {
			char why[400];

			snprintf(why, sizeof(why), "model %s cannot be used: %s", name, err);
			return internal(v, why);
		}
		if (rc > 0) {
			sbx_log(v->r->sbx, "INFO", "apigateway %s/%s %s %s: request body does not "
				"match model %s: %s", v->api_id, v->stage_name, v->r->method,
				v->user_path, name, body ? err : "not JSON");
			reply(v, 400, "Invalid request body");
			return -1;
		}
	}
	return 0;
}

/* ---- templates ---- */

static int render(struct inv *v, const char *tmpl, const char *body, size_t len,
		  struct aws_buf *out)
{
	struct sbx_vtl_ctx c;
	char err[300];
	int rc;

	c.body = body;
	c.body_len = len;
	c.params = v->params;
	c.context = v->context;
	/* a copy: the template takes references, and the stage is shared between invocations */
	c.stage_vars = json_deep_copy(json_object_get(v->dep.stage, "variables"));
	rc = sbx_vtl_render(tmpl, &c, out, err, sizeof(err));
	json_decref(c.stage_vars);
	if (rc != 0) {
		char why[400];

		snprintf(why, sizeof(why), "mapping template failed: %s", err);
		return internal(v, why);
	}
	return 0;
}

/* The integration request body: the template for the content type, or the raw body as
 * passthroughBehavior allows. Returns 0, or -1 (reply written). */
static int request_payload(struct inv *v, struct aws_buf *out)
{
	json_t *templates = json_object_get(v->integration, "requestTemplates");
	const char *pb = sbx_str(v->integration, "passthroughBehavior");
	const char *tmpl;
	char mt[128];

	media_type(v, mt, sizeof(mt));
	tmpl = sbx_str(templates, mt);
	if (tmpl)
		return render(v, tmpl, v->r->body, v->r->body_len, out);
	if (!pb)
		pb = "WHEN_NO_MATCH";
	if (strcmp(pb, "NEVER") == 0 ||
	    (strcmp(pb, "WHEN_NO_TEMPLATES") == 0 && json_object_size(templates) > 0)) {
		reply(v, 415, "Unsupported Media Type");
		return -1;
	}
	if (v->r->body_len && aws_buf_add(out, v->r->body, v->r->body_len) != 0)
		return internal(v, "out of memory");
	return 0;
}

/* ---- context ---- */

static void build_context(struct inv *v)
{
	char when[64], path[2200];
	long long ms = sbx_now_ms();
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	const char *ua = header(v, "User-Agent");

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%d/%b/%Y:%H:%M:%S +0000", &tm);
	snprintf(path, sizeof(path), "/%s%s", v->stage_name, v->user_path);
	v->context = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s,"
			       " s:{s:s, s:s, s:n}}",
			       "requestId", v->r->request_id, "extendedRequestId", v->r->request_id,
			       "stage", v->stage_name, "apiId", v->api_id,
			       "resourcePath", sbx_str(v->resource, "path"),
			       "resourceId", sbx_str(v->resource, "id"),
			       "httpMethod", v->r->method, "requestTime", when,
			       "requestTimeEpoch", (json_int_t)ms, "accountId", SBX_ACCOUNT,
			       "path", path, "protocol", "HTTP/1.1",
			       "identity", "sourceIp", "127.0.0.1", "userAgent", ua ? ua : "",
			       "accountId");
	json_object_set_new(v->context, "domainName", json_string("127.0.0.1"));
}

/* ---- request parameters (static values and method.request.* mappings) ---- */

/* integration.request.{header,querystring,path}.NAME from the integration's
 * requestParameters into hdrs / query / path (objects; path may be NULL: not mapped). */
static void integration_params(struct inv *v, json_t *hdrs, json_t *query, json_t *path)
{
	json_t *rp = json_object_get(v->integration, "requestParameters"), *src;
	const char *k;

	json_object_foreach(rp, k, src) {
		const char *from = json_string_value(src);
		json_t *dest = NULL, *val = NULL;
		const char *name = NULL;
		size_t n;

		if (!from)
			continue;
		if (strncmp(k, "integration.request.header.", 27) == 0) {
			dest = hdrs;
			name = k + 27;
		} else if (strncmp(k, "integration.request.querystring.", 32) == 0) {
			dest = query;
			name = k + 32;
		} else if (path && strncmp(k, "integration.request.path.", 25) == 0) {
			dest = path;
			name = k + 25;
		} else {
			continue;
		}
		n = strlen(from);
		if (n >= 2 && from[0] == '\'' && from[n - 1] == '\'') {
			val = json_stringn(from + 1, n - 2);
		} else if (strncmp(from, "method.request.", 15) == 0) {
			static const char *const where[][2] = { { "header.", "header" },
				{ "querystring.", "querystring" }, { "path.", "path" } };

			for (size_t i = 0; i < 3 && !val; i++) {
				size_t pl = strlen(where[i][0]);

				if (strncmp(from + 15, where[i][0], pl) == 0) {
					json_t *m = json_object_get(v->params, where[i][1]);
					json_t *x = json_object_get(m, from + 15 + pl);

					if (!x && i == 0) {
						const char *hk;
						json_t *hv;

						json_object_foreach(m, hk, hv)
							if (strcasecmp(hk, from + 15 + pl) == 0)
								x = hv;
					}
					val = x ? json_incref(x) : NULL;
				}
			}
		} else if (strncmp(from, "context.", 8) == 0) {
			json_t *x = json_object_get(v->context, from + 8);

			val = json_is_string(x) ? json_incref(x) : NULL;
		}
		if (val)
			json_object_set_new(dest, name, val);
	}
}

static const char *obj_get_ci(json_t *obj, const char *name)
{
	const char *k;
	json_t *x;

	json_object_foreach(obj, k, x)
		if (strcasecmp(k, name) == 0)
			return json_string_value(x);
	return NULL;
}

/* Add a response header value (steals val): a name seen before (in any case) becomes an
 * array, sent as repeated header lines, as a proxy passes Set-Cookie and the like. */
static void header_add(json_t *hdrs, const char *name, json_t *val)
{
	const char *k;
	json_t *old;

	if (!val)
		return;
	json_object_foreach(hdrs, k, old) {
		if (strcasecmp(k, name) != 0)
			continue;
		if (json_is_array(old)) {
			json_array_append_new(old, val);
		} else {
			json_t *list = json_pack("[O]", old);

			json_array_append_new(list, val);
			json_object_set_new(hdrs, k, list);
		}
		return;
	}
	json_object_set_new(hdrs, name, val);
}

/* Whether a Lambda proxy response's multiValueHeaders list the pair name: value (API Gateway
 * then sends it once, from that list). */
static int multi_has(json_t *multi, const char *name, json_t *value)
{
	const char *k;
	json_t *list, *e;
	size_t i;

	json_object_foreach(multi, k, list)
		if (strcasecmp(k, name) == 0)
			json_array_foreach(list, i, e)
				if (json_equal(e, value))
					return 1;
	return 0;
}

/* ---- integrations ---- */

/* Call an SQS action inside the sandbox the way the query protocol would, leaving the
 * XML reply (or error) as the backend's answer. form is the decoded-on-demand form body. */
static int call_sqs(struct inv *v, const char *action, const char *queue_path, json_t *query,
		    const char *form, size_t form_len)
{
	const struct sbx_service *svc = NULL;
	const struct aws_service *cs = aws_service_find("sqs");
	const struct aws_op *cop;
	const struct sbx_op *op = NULL;
	struct sbx_req sub;
	struct aws_buf all = { 0 };
	json_t *in = NULL, *out = NULL, *qv;
	char form_action[128] = "", version[32], region[64];
	const char *k, *role = sbx_str(v->integration, "credentials");
	int rc = -1;

	for (int i = 0; sbx_services[i]; i++)
		if (strcmp(sbx_services[i]->name, "sqs") == 0)
			svc = sbx_services[i];
	if (!svc)
		return internal(v, "the sandbox has no SQS");
	/* the form: query-string parameters, then the body */
	json_object_foreach(query, k, qv) {
		struct aws_buf e = { 0 };

		aws_buf_adds(&all, all.len ? "&" : "");
		aws_sigv4_uri_encode(&e, k, strlen(k), 0);
		aws_buf_adds(&all, aws_buf_str(&e));
		aws_buf_reset(&e);
		aws_buf_addc(&all, '=');
		aws_sigv4_uri_encode(&e, json_string_value(qv), json_string_length(qv), 0);
		aws_buf_adds(&all, aws_buf_str(&e));
		aws_buf_cleanup(&e);
	}
	if (form_len) {
		aws_buf_adds(&all, all.len ? "&" : "");
		aws_buf_add(&all, form, form_len);
	}
	sbx_wire_form_action(all.data ? all.data : "", all.len, form_action, sizeof(form_action),
			     version, sizeof(version));
	if (!action || !*action)
		action = form_action;
	v->backend_status = 400;
	aws_buf_reset(&v->backend);
	memset(&sub, 0, sizeof(sub));
	sub = *v->r;
	sub.service = "sqs";
	sub.op = action;
	sub.access_key = "";
	sub.err_status = 0;
	sub.err_code[0] = '\0';
	sub.err_message[0] = '\0';
	if (sscanf(sbx_str(v->integration, "uri") ? sbx_str(v->integration, "uri") : "",
		   "arn:aws:apigateway:%63[^:]:", region) == 1)
		sub.region = region;
	if (role && !sbx_iam_role_trusts(v->r->sbx, role, "apigateway.amazonaws.com")) {
		rc = internal(v, "Execution failed due to configuration error: API Gateway does "
			      "not have permission to assume the provided role");
		goto done;
	}
	if (!*action) {
		sbx_error(&sub, 400, "MissingAction", "The request must contain the parameter Action");
		goto error_reply;
	}
	for (size_t i = 0; i < svc->nops; i++)
		if (strcmp(svc->ops[i].name, action) == 0)
			op = &svc->ops[i];
	cop = cs ? aws_service_op(cs, action) : NULL;
	if (!op) {
		sbx_error(&sub, 400, "InvalidAction", "The action %s is not valid for this endpoint.",
			  action);
		goto error_reply;
	}
	in = sbx_wire_form_to_json(all.data ? all.data : "", all.len, "sqs",
				   cop ? cop->shapes : NULL, form_action, sizeof(form_action),
				   version, sizeof(version));
	if (!in) {
		sbx_error(&sub, 400, "MalformedQueryString", "The request body is not a valid form");
		goto error_reply;
	}
	if (queue_path) {
		char url[512];

		snprintf(url, sizeof(url), "%s/%s", sbx_endpoint(v->r->sbx), queue_path);
		json_object_set_new(in, "QueueUrl", json_string(url));
	}
	/* the call is made with the integration's credentials role (IAM enforcement) */
	if (sbx_iam_authorize_role(&sub, role, NULL, in) != 0)
		goto error_reply;
	if (op->fn(&sub, in, &out) != 0) {
		if (!sub.err_status)
			sbx_error(&sub, 500, "InternalFailure", "The request processing has failed");
		goto error_reply;
	}
	if (sbx_wire_result_xml(&v->backend, "sqs", action, SQS_XML_NS, out ? out : json_object(),
				cop ? cop->shapes : NULL, v->r->request_id) != 0) {
		rc = internal(v, "the SQS reply could not be written");
		goto done;
	}
	v->backend_status = 200;
	rc = 0;
	goto done;
error_reply:
	v->backend_status = sub.err_status;
	/* the query protocol's legacy codes for what a SendMessage most often meets */
	if (strcmp(sub.err_code, "QueueDoesNotExist") == 0)
		snprintf(sub.err_code, sizeof(sub.err_code), "AWS.SimpleQueueService.NonExistentQueue");
	else if (strcmp(sub.err_code, "UnsupportedOperation") == 0)
		snprintf(sub.err_code, sizeof(sub.err_code),
			 "AWS.SimpleQueueService.UnsupportedOperation");
	sbx_wire_error_xml(&v->backend, SQS_XML_NS, sub.err_status >= 500 ? "Receiver" : "Sender",
			   sub.err_code, sub.err_message, v->r->request_id);
	rc = 0;
done:
	json_decref(in);
	json_decref(out);
	aws_buf_cleanup(&all);
	return rc;
}

/* The Lambda function named in an integration URI (".../functions/ARN/invocations"). */
static int lambda_function(const char *uri, char *out, size_t n)
{
	const char *p = strstr(uri, "/functions/"), *e;

	if (!p)
		return -1;
	p += 11;
	e = strstr(p, "/invocations");
	if (!e || (size_t)(e - p) >= n)
		return -1;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
	return 0;
}

static int call_lambda(struct inv *v, const char *payload, size_t len)
{
	char fn[256];
	struct sbx_invoke_result res;

	if (lambda_function(sbx_str(v->integration, "uri"), fn, sizeof(fn)) != 0)
		return internal(v, "the integration URI names no Lambda function");
	if (!sbx_lambda_invoke)
		return internal(v, "the sandbox has no Lambda");
	aws_buf_reset(&v->backend);
	if (sbx_lambda_invoke(v->r->sbx, fn, payload, len, &v->backend, &res, LAMBDA_WAIT_MS) != 0) {
		sbx_log(v->r->sbx, "ERROR", "apigateway: Lambda %s could not run (%s%s)", fn,
			res.error_type, res.throttled ? ", throttled" : "");
		reply(v, res.throttled ? 429 : 500, res.throttled ? "Rate Exceeded." :
		      "Internal server error");
		return -1;
	}
	v->is_lambda = 1;
	v->backend_status = 200;
	if (res.function_error) {
		json_t *e = json_loadb(aws_buf_str(&v->backend), v->backend.len, 0, NULL);

		snprintf(v->error_message, sizeof(v->error_message), "%s",
			 sbx_str(e, "errorMessage") ? sbx_str(e, "errorMessage") : res.error_type);
		json_decref(e);
	}
	return 0;
}

/* AWS: the service and path/action of arn:aws:apigateway:REGION:SERVICE:path|action/REST. */
static int integration_aws(struct inv *v, struct aws_buf *payload)
{
	const char *uri = sbx_str(v->integration, "uri");
	char svc[64], kind[16];
	const char *p = uri;
	json_t *hdrs, *query;
	int rc;

	for (int i = 0; i < 4 && p; i++) {
		p = strchr(p, ':');
		p = p ? p + 1 : NULL;
	}
	if (!p || sscanf(p, "%63[^:]:%15[^/]", svc, kind) != 2)
		return internal(v, "the integration URI is not an API Gateway service ARN");
	p = strchr(p, '/');
	p = p ? p + 1 : "";
	if (strcmp(svc, "lambda") == 0)
		return call_lambda(v, payload->data ? payload->data : "", payload->len);
	if (strcmp(svc, "sqs") != 0) {
		char why[160];

		snprintf(why, sizeof(why), "AWS integrations with %s are not supported by the sandbox",
			 svc);
		return internal(v, why);
	}
	hdrs = json_object();
	query = json_object();
	integration_params(v, hdrs, query, NULL);
	{
		const char *ct = obj_get_ci(hdrs, "Content-Type");
		int is_form = ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0;
		const char *body = is_form ? payload->data : NULL;
		size_t body_len = is_form ? payload->len : 0;

		if (strcmp(kind, "path") == 0)
			rc = call_sqs(v, NULL, p, query, body, body_len);
		else if (strcmp(kind, "action") == 0)
			rc = call_sqs(v, p, NULL, query, body, body_len);
		else
			rc = internal(v, "the integration URI is neither path nor action");
	}
	json_decref(hdrs);
	json_decref(query);
	return rc;
}

/* Translate a Java regex's shorthand classes (\\d \\w \\s and negations) to POSIX ERE
 * and anchor it ("^(...)$"), as Java's String.matches() matches the whole string. */
static void java_to_posix(const char *pat, struct aws_buf *out)
{
	static const char *const cls[][3] = { { "d", "0-9", "[^0-9]" },
		{ "w", "[:alnum:]_", "[^[:alnum:]_]" }, { "s", "[:space:]", "[^[:space:]]" } };
	int in_bracket = 0;

	aws_buf_adds(out, "^(");
	for (const char *p = pat; *p; p++) {
		int done = 0;

		if (p[0] == '\\' && p[1]) {
			for (size_t i = 0; i < 3 && !done; i++) {
				char lower = (char)tolower((unsigned char)p[1]);

				if (lower != cls[i][0][0])
					continue;
				done = 1;
				if (isupper((unsigned char)p[1]))
					aws_buf_adds(out, cls[i][2]);
				else if (in_bracket)
					aws_buf_adds(out, cls[i][1]);
				else
					aws_buf_printf(out, "[%s]", cls[i][1]);
			}
			if (!done) {
				aws_buf_addc(out, p[0]);
				aws_buf_addc(out, p[1]);
			}
			p++;
			continue;
		}
		if (*p == '[' && !in_bracket)
			in_bracket = 1;
		else if (*p == ']' && in_bracket && p[-1] != '[' && !(p[-1] == '^' && p[-2] == '['))
			in_bracket = 0;
		aws_buf_addc(out, *p);
	}
	aws_buf_adds(out, ")$");
}

/* Match a selection pattern against s as Java's String.matches does (whole string). */
static int pattern_matches(struct inv *v, const char *pattern, const char *s)
{
	struct aws_buf anchored = { 0 };
	regex_t re;
	int rc;

	java_to_posix(pattern, &anchored);
	if (regcomp(&re, aws_buf_str(&anchored), REG_EXTENDED | REG_NOSUB) != 0) {
		sbx_log(v->r->sbx, "WARN", "apigateway: selectionPattern '%s' is not a POSIX "
			"regex; it never matches", pattern);
		aws_buf_cleanup(&anchored);
		return 0;
	}
	aws_buf_cleanup(&anchored);
	rc = regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return rc;
}

/* Pick the integration response, render it and write the method response. */
static int integration_response(struct inv *v)
{
	json_t *irs = json_object_get(v->integration, "integrationResponses"), *ir, *chosen = NULL;
	json_t *dflt = NULL, *templates, *rp;
	const char *k, *tmpl = NULL, *accept = header(v, "Accept");
	char status_text[16];
	const char *subject = status_text;
	char *end;
	long st;

	snprintf(status_text, sizeof(status_text), "%d", v->backend_status);
	if (v->is_lambda)
		subject = v->error_message;
	json_object_foreach(irs, k, ir) {
		const char *pat = sbx_str(ir, "selectionPattern");

		if (!pat || !*pat) {
			if (!dflt)
				dflt = ir;
			continue;
		}
		if (!chosen && (!v->is_lambda || subject[0]) && pattern_matches(v, pat, subject))
			chosen = ir;
	}
	if (!chosen)
		chosen = dflt;
	if (!chosen)
		return internal(v, "no integration response matches and none is the default");
	st = strtol(sbx_str(chosen, "statusCode") ? sbx_str(chosen, "statusCode") : "", &end, 10);
	if (*end || st < 100 || st > 599)
		return internal(v, "the integration response has no valid status code");
	templates = json_object_get(chosen, "responseTemplates");
	if (accept && sbx_str(templates, accept))
		tmpl = sbx_str(templates, accept);
	if (!tmpl)
		tmpl = sbx_str(templates, "application/json");
	if (!tmpl && json_object_size(templates) > 0) {
		json_t *first;

		json_object_foreach(templates, k, first) {
			tmpl = json_string_value(first);
			break;
		}
	}
	aws_buf_reset(v->body);
	if (tmpl && *tmpl) {
		if (render(v, tmpl, v->backend.data ? v->backend.data : "", v->backend.len,
			   v->body) != 0)
			return -1;
	} else if (!tmpl && v->backend.len) {
		aws_buf_add(v->body, v->backend.data, v->backend.len);
	}
	*v->status = (int)st;
	*v->ct = "application/json";
	rp = json_object_get(chosen, "responseParameters");
	json_object_foreach(rp, k, ir) {
		const char *val = json_string_value(ir);
		size_t n = val ? strlen(val) : 0;

		if (strncmp(k, "method.response.header.", 23) != 0 || n < 2 || val[0] != '\'' ||
		    val[n - 1] != '\'')
			continue;
		if (strcasecmp(k + 23, "Content-Type") == 0) {
			snprintf(reply_ct, sizeof(reply_ct), "%.*s", (int)(n - 2), val + 1);
			*v->ct = reply_ct;
		} else if (v->r->resp_headers) {
			json_object_set_new(v->r->resp_headers, k + 23, json_stringn(val + 1, n - 2));
		}
	}
	return 0;
}

/* AWS_PROXY: the proxy event in, {statusCode, headers, body, isBase64Encoded} out. */
static int integration_proxy(struct inv *v)
{
	json_t *ev, *resp = NULL, *hdrs;
	char *text;
	const char *body;
	int rc = -1;
	long long code;

	ev = json_pack("{s:s, s:s, s:s, s:O, s:O, s:O, s:O, s:O, s:n, s:O, s:b}",
		       "resource", sbx_str(v->resource, "path"), "path", v->user_path,
		       "httpMethod", v->r->method,
		       "headers", json_object_get(v->params, "header"),
		       "multiValueHeaders", v->multi_headers,
		       "queryStringParameters", json_object_get(v->params, "querystring"),
		       "multiValueQueryStringParameters", v->multi_query,
		       "pathParameters", json_object_get(v->params, "path"),
		       "stageVariables", "requestContext", v->context, "isBase64Encoded", 0);
	if (!ev)
		return internal(v, "out of memory");
	if (json_object_size(v->multi_query) == 0) {
		json_object_set_new(ev, "queryStringParameters", json_null());
		json_object_set_new(ev, "multiValueQueryStringParameters", json_null());
	}
	if (json_object_size(json_object_get(v->params, "path")) == 0)
		json_object_set_new(ev, "pathParameters", json_null());
	if (json_object_size(json_object_get(v->dep.stage, "variables")))
		json_object_set_new(ev, "stageVariables", /* a copy: the stage is shared */
				    json_deep_copy(json_object_get(v->dep.stage, "variables")));
	json_object_set_new(ev, "body", v->r->body_len ?
			    json_stringn(v->r->body, v->r->body_len) : json_null());
	if (v->r->body_len && !json_is_string(json_object_get(ev, "body"))) {
		/* not UTF-8: hand it over base64-encoded as API Gateway does for binary */
		struct aws_buf b64 = { 0 };
		struct sbx_vtl_ctx c = { v->r->body, v->r->body_len, NULL, NULL, NULL };

		sbx_vtl_render("$util.base64Encode($input.body)", &c, &b64, NULL, 0);
		json_object_set_new(ev, "body", json_string(aws_buf_str(&b64)));
		json_object_set_new(ev, "isBase64Encoded", json_true());
		aws_buf_cleanup(&b64);
	}
	text = json_dumps(ev, JSON_COMPACT);
	json_decref(ev);
	if (!text)
		return internal(v, "out of memory");
	rc = call_lambda(v, text, strlen(text));
	free(text);
	if (rc != 0)
		return -1;
	if (v->error_message[0] || !(resp = json_loadb(v->backend.data ? v->backend.data : "",
						       v->backend.len, 0, NULL)) ||
	    !json_is_object(resp)) {
		json_decref(resp);
		sbx_log(v->r->sbx, "ERROR", "apigateway %s/%s: Malformed Lambda proxy response%s%s",
			v->api_id, v->stage_name, v->error_message[0] ? ": " : "", v->error_message);
		reply(v, 502, "Internal server error");
		return -1;
	}
	code = json_is_integer(json_object_get(resp, "statusCode")) ?
		json_integer_value(json_object_get(resp, "statusCode")) :
		sbx_str(resp, "statusCode") ? strtoll(sbx_str(resp, "statusCode"), NULL, 10) : 200;
	if (!json_object_get(resp, "statusCode"))
		code = 200;
	if (code < 100 || code > 599) {
		json_decref(resp);
		sbx_log(v->r->sbx, "ERROR", "apigateway: Malformed Lambda proxy response (statusCode)");
		reply(v, 502, "Internal server error");
		return -1;
	}
	aws_buf_reset(v->body);
	body = sbx_str(resp, "body");
	if (body && json_is_true(json_object_get(resp, "isBase64Encoded"))) {
		struct aws_buf raw = { 0 };
		struct sbx_vtl_ctx c = { body, strlen(body), NULL, NULL, NULL };

		if (sbx_vtl_render("$util.base64Decode($input.body)", &c, &raw, NULL, 0) != 0) {
			json_decref(resp);
			reply(v, 502, "Internal server error");
			return -1;
		}
		aws_buf_add(v->body, raw.data ? raw.data : "", raw.len);
		aws_buf_cleanup(&raw);
	} else if (body) {
		aws_buf_adds(v->body, body);
	}
	hdrs = json_object_get(resp, "headers");
	*v->ct = "application/json";
	if (v->r->resp_headers) {
		const char *hk;
		json_t *hv;

		size_t i;
		json_t *e;

		json_object_foreach(hdrs, hk, hv)
			if (json_is_string(hv) && strcasecmp(hk, "Content-Type") != 0 &&
			    strcasecmp(hk, "Content-Length") != 0 &&
			    !multi_has(json_object_get(resp, "multiValueHeaders"), hk, hv))
				header_add(v->r->resp_headers, hk, json_copy(hv));
		json_object_foreach(json_object_get(resp, "multiValueHeaders"), hk, hv)
			if (strcasecmp(hk, "Content-Type") != 0 && strcasecmp(hk, "Content-Length") != 0)
				json_array_foreach(hv, i, e)
					if (json_is_string(e))
						header_add(v->r->resp_headers, hk, json_copy(e));
	}
	if (obj_get_ci(hdrs, "Content-Type")) {
		snprintf(reply_ct, sizeof(reply_ct), "%s", obj_get_ci(hdrs, "Content-Type"));
		*v->ct = reply_ct;
	} else {
		const char *mk;
		json_t *list;

		json_object_foreach(json_object_get(resp, "multiValueHeaders"), mk, list) {
			json_t *last = json_array_get(list, json_array_size(list) - 1);

			if (strcasecmp(mk, "Content-Type") == 0 && json_is_string(last)) {
				snprintf(reply_ct, sizeof(reply_ct), "%s", json_string_value(last));
				*v->ct = reply_ct;
			}
		}
	}
	*v->status = (int)code;
	json_decref(resp);
	return 0;
}

/* ---- HTTP and HTTP_PROXY ---- */

#define HTTP_TIMEOUT_MS 29000L
#define HTTP_MAX_BODY ((size_t)10 * 1024 * 1024)

/* Where curl writes the backend's answer. */
struct http_sink {
	struct aws_buf *headers;  /* raw lines of the final response */
	struct aws_buf *body;
	int overflow;
};

static size_t http_on_body(char *ptr, size_t size, size_t n, void *ud)
{
	struct http_sink *s = ud;
	size_t len = size * n;

	if (s->body->len + len > HTTP_MAX_BODY || aws_buf_add(s->body, ptr, len) != 0) {
		s->overflow = 1;
		return 0;
	}
	return len;
}

static size_t http_on_header(char *ptr, size_t size, size_t n, void *ud)
{
	struct http_sink *s = ud;
	size_t len = size * n;

	/* a new status line (after a 1xx) starts the final response's headers over */
	if (len >= 5 && strncmp(ptr, "HTTP/", 5) == 0)
		aws_buf_reset(s->headers);
	else if (aws_buf_add(s->headers, ptr, len) != 0)
		return 0;
	return len;
}

/* Hop-by-hop and framing headers a proxy never forwards. */
static int hop_header(const char *name)
{
	static const char *const hop[] = { "Host", "Connection", "Content-Length",
		"Transfer-Encoding", "Expect", "Keep-Alive", "Upgrade", "TE", "Trailer",
		"Proxy-Connection", "Proxy-Authorization", "Proxy-Authenticate", NULL };

	for (size_t i = 0; hop[i]; i++)
		if (strcasecmp(name, hop[i]) == 0)
			return 1;
	return 0;
}

/* The backend URL: the integration uri with each {name} (or {name+}) replaced by the
 * mapped integration.request.path value, else the method's path parameter of that name
 * (encoded, '/' kept), then extra_query (raw, may be "") and query's pairs appended.
 * Returns 0, or -1 (reply written). */
static int http_url(struct inv *v, json_t *path, const char *extra_query, json_t *query,
		    struct aws_buf *out)
{
	const char *uri = sbx_str(v->integration, "uri"), *p, *k;
	int has_query;
	json_t *qv;

	if (!uri || !*uri)
		return internal(v, "the HTTP integration has no uri");
	for (p = uri; *p;) {
		const char *close = *p == '{' ? strchr(p, '}') : NULL;
		char name[256];
		const char *val;
		size_t n;

		if (!close) {
			aws_buf_addc(out, *p++);
			continue;
		}
		n = (size_t)(close - p - 1);
		if (n && p[n] == '+')
			n--;
		snprintf(name, sizeof(name), "%.*s", (int)(n < sizeof(name) ? n : sizeof(name) - 1),
			 p + 1);
		val = json_string_value(json_object_get(path, name));
		if (!val)
			val = json_string_value(json_object_get(json_object_get(v->params, "path"),
								name));
		if (!val) {
			char why[400];

			snprintf(why, sizeof(why), "the integration uri's {%s} has no value", name);
			return internal(v, why);
		}
		aws_sigv4_uri_encode(out, val, strlen(val), 1);
		p = close + 1;
	}
	has_query = strchr(aws_buf_str(out), '?') != NULL;
	if (extra_query && *extra_query) {
		aws_buf_adds(out, has_query ? "&" : "?");
		aws_buf_adds(out, extra_query);
		has_query = 1;
	}
	json_object_foreach(query, k, qv) {
		aws_buf_adds(out, has_query ? "&" : "?");
		has_query = 1;
		aws_sigv4_uri_encode(out, k, strlen(k), 0);
		aws_buf_addc(out, '=');
		aws_sigv4_uri_encode(out, json_string_value(qv), json_string_length(qv), 0);
	}
	return 0;
}

/* Append a raw line to a curl header list. Returns 0 or -1 (out of memory). */
static int add_raw(struct curl_slist **list, const char *line)
{
	struct curl_slist *tmp = curl_slist_append(*list, line);

	if (!tmp)
		return -1;
	*list = tmp;
	return 0;
}

/* Add "Name: value" to a curl header list ("Name;" sends an empty value). Returns 0 or -1 (out of memory). */
static int add_header(struct curl_slist **list, const char *name, const char *value)
{
	struct aws_buf line = { 0 };
	int rc;

	aws_buf_printf(&line, value && *value ? "%s: %s" : "%s;", name, value ? value : "");
	rc = line.data ? add_raw(list, line.data) : -1;
	aws_buf_cleanup(&line);
	return rc;
}

/* The headers sent to the backend: for HTTP_PROXY the client's (hop-by-hop ones
 * dropped), for HTTP a Content-Type and API Gateway's User-Agent; then the mapped
 * integration.request.header values, which win. Returns the list (curl_slist_free_all)
 * or NULL when out of memory. */
static struct curl_slist *http_headers(struct inv *v, int proxy, json_t *mapped)
{
	struct curl_slist *list = NULL;
	const char *k, *ct = header(v, "Content-Type");
	json_t *x, *vals;
	char ua[128];
	int fail = 0;

	if (proxy) {
		json_object_foreach(v->multi_headers, k, vals) {
			size_t i;

			if (hop_header(k) || obj_get_ci(mapped, k))
				continue;
			json_array_foreach(vals, i, x)
				fail |= add_header(&list, k, json_string_value(x));
		}
	} else {
		snprintf(ua, sizeof(ua), "AmazonAPIGateway_%s", v->api_id);
		if (!obj_get_ci(mapped, "Content-Type"))
			fail |= add_header(&list, "Content-Type", ct && *ct ? ct : "application/json");
		if (!obj_get_ci(mapped, "User-Agent"))
			fail |= add_header(&list, "User-Agent", ua);
		if (!obj_get_ci(mapped, "Accept"))
			fail |= add_header(&list, "Accept", "application/json");
	}
	json_object_foreach(mapped, k, x)
		if (!hop_header(k))
			fail |= add_header(&list, k, json_string_value(x));
	/* curl adds none of its own: no 100-continue, no form content type, no Accept */
	fail |= add_raw(&list, "Expect:");
	if (proxy && !ct && !obj_get_ci(mapped, "Content-Type"))
		fail |= add_raw(&list, "Content-Type:");
	if (proxy && !header(v, "Accept") && !obj_get_ci(mapped, "Accept"))
		fail |= add_raw(&list, "Accept:");
	if (fail) {
		curl_slist_free_all(list);
		return NULL;
	}
	return list;
}

/* Send one request to the backend with the integration's httpMethod ("ANY": the
 * client's) and timeoutInMillis. The answer lands in v->backend_status, v->backend and
 * resp_headers (raw "Name: value" lines). Returns 0, or -1 (reply written: 504 when the
 * backend is too slow, 500 when the URL is refused or the backend cannot be reached). */
static int http_send(struct inv *v, const char *url, struct curl_slist *hdrs,
		     const char *body, size_t body_len, struct aws_buf *resp_headers)
{
	const char *method = sbx_str(v->integration, "httpMethod");
	json_t *tm = json_object_get(v->integration, "timeoutInMillis");
	long timeout = json_is_integer(tm) ? (long)json_integer_value(tm) : HTTP_TIMEOUT_MS;
	struct http_sink sink = { resp_headers, &v->backend, 0 };
	char errbuf[CURL_ERROR_SIZE] = "", why[CURL_ERROR_SIZE + 64];
	long status = 0;
	CURLcode cc;
	CURL *c;

	if (!method || !*method || strcmp(method, "ANY") == 0)
		method = v->r->method;
	if (timeout < 50 || timeout > HTTP_TIMEOUT_MS)
		timeout = HTTP_TIMEOUT_MS;
	if (!sbx_url_allowed(url)) {
		sbx_log(v->r->sbx, "WARN", "apigateway %s/%s %s %s: refusing the HTTP integration: "
			"its endpoint is not loopback (%s=1 allows any host)", v->api_id,
			v->stage_name, v->r->method, v->user_path, SBX_ALLOW_REMOTE_HTTP_ENV);
		reply(v, 500, "Internal server error");
		return -1;
	}
	c = curl_easy_init();
	if (!c)
		return internal(v, "cannot create an HTTP handle");
	aws_buf_reset(&v->backend);
	aws_buf_reset(resp_headers);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, http_on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &sink);
	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (body_len || strcmp(method, "GET") != 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	cc = curl_easy_perform(c);
	if (cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (cc == CURLE_OPERATION_TIMEDOUT) {
		sbx_log(v->r->sbx, "ERROR", "apigateway %s/%s %s %s: the HTTP endpoint did not "
			"answer within %ld ms", v->api_id, v->stage_name, v->r->method, v->user_path,
			timeout);
		reply(v, 504, "Endpoint request timed out");
		return -1;
	}
	if (cc != CURLE_OK) {
		snprintf(why, sizeof(why), "Execution failed due to configuration error: %s",
			 sink.overflow ? "the endpoint's response is too large" :
			 errbuf[0] ? errbuf : curl_easy_strerror(cc));
		return internal(v, why);
	}
	v->backend_status = (int)status;
	return 0;
}

/* HTTP: the mapped request (template payload, mapped headers, query and path) to the
 * integration's uri; integration responses are then picked by the status code. */
static int integration_http(struct inv *v, struct aws_buf *payload)
{
	json_t *hdrs = json_object(), *query = json_object(), *path = json_object();
	struct aws_buf url = { 0 }, resp_headers = { 0 };
	struct curl_slist *list = NULL;
	int rc = -1;

	integration_params(v, hdrs, query, path);
	if (http_url(v, path, "", query, &url) != 0)
		goto done;
	list = http_headers(v, 0, hdrs);
	if (!list) {
		internal(v, "out of memory");
		goto done;
	}
	rc = http_send(v, aws_buf_str(&url), list, payload->data, payload->len, &resp_headers);
done:
	curl_slist_free_all(list);
	aws_buf_cleanup(&url);
	aws_buf_cleanup(&resp_headers);
	json_decref(hdrs);
	json_decref(query);
	json_decref(path);
	return rc;
}

/* Copy the backend's response headers (raw lines) to the reply, framing and hop-by-hop
 * ones aside; repeated names are joined with ", ". Content-Type becomes the reply's. */
static void proxy_reply_headers(struct inv *v, const char *raw)
{
	*v->ct = "application/json";
	while (*raw) {
		size_t len = strcspn(raw, "\r\n"), nlen = strcspn(raw, ":");
		char name[256];
		const char *val;
		size_t vlen;

		if (nlen < len && nlen > 0 && nlen < sizeof(name)) {
			memcpy(name, raw, nlen);
			name[nlen] = '\0';
			val = raw + nlen + 1;
			vlen = len - nlen - 1;
			while (vlen && (*val == ' ' || *val == '\t')) {
				val++;
				vlen--;
			}
			while (vlen && (val[vlen - 1] == ' ' || val[vlen - 1] == '\t'))
				vlen--;
			if (strcasecmp(name, "Content-Type") == 0) {
				snprintf(reply_ct, sizeof(reply_ct), "%.*s", (int)vlen, val);
				*v->ct = reply_ct;
			} else if (v->r->resp_headers && !hop_header(name) &&
				   strcasecmp(name, "Date") != 0 && strcasecmp(name, "Server") != 0) {
				header_add(v->r->resp_headers, name, json_stringn(val, vlen));
			}
		}
		raw += len;
		while (*raw == '\r' || *raw == '\n')
			raw++;
	}
}

/* HTTP_PROXY: the client's method, query string, headers and body to the uri (path
 * parameters substituted); the backend's status, headers and body back unchanged. */
static int integration_http_proxy(struct inv *v)
{
	json_t *hdrs = json_object(), *query = json_object(), *path = json_object();
	struct aws_buf url = { 0 }, resp_headers = { 0 };
	struct curl_slist *list = NULL;
	int rc = -1;

	integration_params(v, hdrs, query, path);
	if (http_url(v, path, v->r->query, query, &url) != 0)
		goto done;
	list = http_headers(v, 1, hdrs);
	if (!list) {
		internal(v, "out of memory");
		goto done;
	}
	rc = http_send(v, aws_buf_str(&url), list, v->r->body, v->r->body_len, &resp_headers);
	if (rc != 0)
		goto done;
	aws_buf_reset(v->body);
	if (v->backend.len)
		aws_buf_add(v->body, v->backend.data, v->backend.len);
	proxy_reply_headers(v, aws_buf_str(&resp_headers));
	*v->status = v->backend_status;
done:
	curl_slist_free_all(list);
	aws_buf_cleanup(&url);
	aws_buf_cleanup(&resp_headers);
	json_decref(hdrs);
	json_decref(query);
	json_decref(path);
	return rc;
}

/* MOCK: the rendered request template's statusCode picks the integration response. */
static int integration_mock(struct inv *v, struct aws_buf *payload)
{
	json_t *doc = payload->len ? json_loadb(payload->data, payload->len, 0, NULL) : NULL;
	json_t *code = json_object_get(doc, "statusCode");

	v->backend_status = json_is_integer(code) ? (int)json_integer_value(code) : 200;
	json_decref(doc);
	aws_buf_reset(&v->backend);
	return 0;
}

int sbx_apigw_invoke(struct sbx_req *r, const char *path, int *status, struct aws_buf *body,
		     const char **content_type)
{
	struct inv v;
	struct aws_buf payload = { 0 };
	char api_id[64] = "", stage[128] = "";
	const char *p = path, *rest, *type;
	int rc;

	memset(&v, 0, sizeof(v));
	v.r = r;
	v.status = status;
	v.body = body;
	v.ct = content_type;
	v.api_id = api_id;
	v.stage_name = stage;
	v.params = json_pack("{s:{}, s:{}, s:{}}", "path", "querystring", "header");
	v.multi_query = json_object();
	v.multi_headers = json_object();
	{
		size_t n = strcspn(p, "/");

		snprintf(api_id, sizeof(api_id), "%.*s", (int)(n < 63 ? n : 63), p);
		p += n + (p[n] == '/');
		n = strcspn(p, "/");
		snprintf(stage, sizeof(stage), "%.*s", (int)(n < 127 ? n : 127), p);
		p += n;
	}
	rest = p + strlen("/_user_request_");
	v.user_path = *rest ? sbx_apigw_unescape(rest, strlen(rest)) : strdup("/");
	if (!v.user_path) {
		reply(&v, 400, "Bad request path");
		goto done;
	}
	rc = sbx_apigw_load_deployed(r->sbx, api_id, stage, &v.dep);
	if (rc == 1) {
		reply(&v, 404, "Not Found");
		goto done;
	}
	if (rc == 2) {
		reply(&v, 403, "Forbidden");
		goto done;
	}
	if (rc < 0) {
		internal(&v, "the store failed");
		goto done;
	}
	collect_query(&v);
	collect_headers(&v);
	if (find_route(&v) != 0)
		goto done;
	build_context(&v);
	if (validate(&v) != 0)
		goto done;
	if (!v.integration) {
		internal(&v, "the method has no integration");
		goto done;
	}
	type = sbx_str(v.integration, "type");
	if (strcmp(type, "AWS_PROXY") == 0) {
		integration_proxy(&v);
		goto done;
	}
	if (strcmp(type, "HTTP_PROXY") == 0) {
		integration_http_proxy(&v);
		goto done;
	}
	if (strcmp(type, "MOCK") != 0 && strcmp(type, "AWS") != 0 && strcmp(type, "HTTP") != 0) {
		internal(&v, "the integration type is not supported by the sandbox");
		goto done;
	}
	if (request_payload(&v, &payload) != 0)
		goto done;
	if (strcmp(type, "MOCK") == 0)
		rc = integration_mock(&v, &payload);
	else if (strcmp(type, "HTTP") == 0)
		rc = integration_http(&v, &payload);
	else
		rc = integration_aws(&v, &payload);
	if (rc != 0)
		goto done;
	integration_response(&v);
done:
	sbx_log(r->sbx, "INFO", "apigateway invoke %s/%s %s %s -> %d", api_id, stage, r->method,
		v.user_path ? v.user_path : "", *status);
	aws_buf_cleanup(&payload);
	aws_buf_cleanup(&v.backend);
	sbx_apigw_deployed_cleanup(r->sbx, &v.dep);
	json_decref(v.params);
	json_decref(v.multi_query);
	json_decref(v.multi_headers);
	json_decref(v.context);
	free(v.user_path);
	return 0;
}
