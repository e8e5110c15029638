/* protocol.c: awsJson, rest-json and query: requests from JSON input, replies and errors to JSON. */
#include "protocol.h"
#include "sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


void aws_wire_cleanup(struct aws_wire *w)
{
	free(w->method);
	free(w->path);
	free(w->query);
	aws_buf_cleanup(&w->body);
	for (int i = 0; i < w->nheaders; i++) {
		free(w->names[i]);
		free(w->values[i]);
	}
	memset(w, 0, sizeof(*w));
}

/* ---- small helpers ----------------------------------------------------------------- */

static int nomem(struct aws_error *err)
{
	return aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
}

/* Add a header (copied). Returns 0 or -1 with err. */
static int wire_header(struct aws_wire *w, const char *name, const char *value,
		       struct aws_error *err)
{
	int n = w->nheaders;

	if (n >= (int)(sizeof(w->names) / sizeof(w->names[0])))
		return aws_error_set(err, 0, AWS_ERR_PARAM, "too many request headers");
	w->names[n] = strdup(name);
	w->values[n] = strdup(value);
	if (!w->names[n] || !w->values[n]) {
		free(w->names[n]);
		free(w->values[n]);
		w->names[n] = w->values[n] = NULL;
		return nomem(err);
	}
	w->nheaders = n + 1;
	return 0;
}

/* One "a=b" pair of a comma-separated list ("a>b" and "a<b" for one-way renames). */
struct pair {
	const char *a;
	size_t alen;
	const char *b;
	size_t blen;
	char sep; /* '=', '>' or '<' */
};

/* Read the next pair of list at *p; returns 1 and advances, or 0 at the end. */
static int next_pair(const char **p, struct pair *out)
{
	const char *s = *p;
	const char *end, *eq;

	while (s && *s) {
		end = strchr(s, ',');
		if (!end)
			end = s + strlen(s);
		eq = s + strcspn(s, "=<>,");
		*p = *end ? end + 1 : end;
		if (eq < end) {
			out->sep = *eq;
			out->a = s;
			out->alen = (size_t)(eq - s);
			out->b = eq + 1;
			out->blen = (size_t)(end - eq - 1);
			return 1;
		}
		s = *p;
	}
	return 0;
}

/* A scalar as text: strings as they are, numbers, true/false. Returns a new string
 * (caller frees), or NULL when v is not a scalar or on ENOMEM. */
static char *scalar_text(const json_t *v)
{
	char num[64];

	switch (json_typeof(v)) {
	case JSON_STRING:
		return strndup(json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		return strdup(num);
	case JSON_REAL:
		snprintf(num, sizeof(num), "%.17g", json_real_value(v));
		return strdup(num);
	case JSON_TRUE:
		return strdup("true");
	case JSON_FALSE:
		return strdup("false");
	default:
		return NULL;
	}
}

/* A copy of obj with keys renamed by renames ("member=wire" pairs; to_wire picks the
 * direction; "member>wire" renames requests only, "member<wire" replies only), also
 * inside objects held in arrays (list items). Other values shared.
 * Returns a new reference or NULL. */
static json_t *renamed(json_t *obj, const char *renames, int to_wire, int depth)
{
	json_t *out = json_object();
	const char *key;
	json_t *val;

	if (!out || depth > 32)
		goto fail;
	json_object_foreach(obj, key, val) {
		const char *p = renames;
		const char *name = key;
		size_t nlen = strlen(key);
		struct pair pr;
		json_t *nv;

		while (next_pair(&p, &pr)) {
			const char *from = to_wire ? pr.a : pr.b;
			size_t flen = to_wire ? pr.alen : pr.blen;

			if ((to_wire && pr.sep == '<') || (!to_wire && pr.sep == '>'))
				continue;
			if (strlen(key) == flen && memcmp(key, from, flen) == 0) {
				name = to_wire ? pr.b : pr.a;
				nlen = to_wire ? pr.blen : pr.alen;
				break;
			}
		}
		if (json_is_array(val)) {
			size_t i;
			json_t *item;

			nv = json_array();
			json_array_foreach(val, i, item) {
				json_t *ni = json_is_object(item) ? renamed(item, renames, to_wire, depth + 1)
								  : json_incref(item);

				if (json_array_append_new(nv, ni) < 0)
					break;
			}
			if (nv && json_array_size(nv) != json_array_size(val)) {
				json_decref(nv);
				nv = NULL;
			}
		} else {
			nv = json_incref(val);
		}
		if (json_object_setn_new(out, name, nlen, nv) < 0)
			goto fail;
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

/* obj without its null members (botocore skips None). Returns a new reference (obj
 * itself when it has none), or NULL on ENOMEM. */
static json_t *without_nulls(json_t *obj)
{
	const char *key;
	json_t *val, *copy;
	void *tmp;
	int any = 0;

	json_object_foreach(obj, key, val)
		any |= json_is_null(val);
	if (!any)
		return json_incref(obj);
	copy = json_copy(obj);
	if (!copy)
		return NULL;
	json_object_foreach_safe(copy, tmp, key, val)
		if (json_is_null(val))
			json_object_del(copy, key);
	return copy;
}

/* Remove null members from v's objects, recursively (botocore drops None members
 * from what it parsed). Modifies v in place. */
static void drop_nulls(json_t *v, int depth)
{
	const char *key;
	json_t *val;
	void *tmp;
	size_t i;

	if (depth > 64)
		return;
	if (json_is_object(v)) {
		json_object_foreach_safe(v, tmp, key, val) {
			if (json_is_null(val))
				json_object_del(v, key);
			else
				drop_nulls(val, depth + 1);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, val)
			drop_nulls(val, depth + 1);
	}
}

/* Strip a JSON error type to its code: after the last '#', before the first ':'. */
static void set_code(struct aws_error *err, const char *type)
{
	const char *hash = strrchr(type, '#');
	const char *s = hash ? hash + 1 : type;
	size_t n = strcspn(s, ":");

	snprintf(err->code, sizeof(err->code), "%.*s", (int)n, s);
}

/* The standard reason phrase of an HTTP status ("" when unknown). */
static const char *reason_phrase(int status)
{
	static const struct {
		int status;
		const char *text;
	} phrases[] = {
		{ 400, "Bad Request" },           { 401, "Unauthorized" },
		{ 403, "Forbidden" },             { 404, "Not Found" },
		{ 405, "Method Not Allowed" },    { 409, "Conflict" },
		{ 413, "Payload Too Large" },     { 415, "Unsupported Media Type" },
		{ 429, "Too Many Requests" },     { 500, "Internal Server Error" },
		{ 501, "Not Implemented" },       { 502, "Bad Gateway" },
		{ 503, "Service Unavailable" },   { 504, "Gateway Timeout" },
	};

	for (size_t i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++)
		if (phrases[i].status == status)
			return phrases[i].text;
	return "";
}

/* Start an error from a reply: status, code = the status as text, the reason as the
 * message, the x-amzn-RequestId header. */
static void error_init(struct aws_error *err, const struct aws_http_response *resp)
{
	char rid[sizeof(err->request_id)];

	memset(err, 0, sizeof(*err));
	err->http_status = resp->status;
	snprintf(err->code, sizeof(err->code), "%d", resp->status);
	snprintf(err->message, sizeof(err->message), "%s", reason_phrase(resp->status));
	if (aws_http_header(resp, "x-amzn-RequestId", rid, sizeof(rid)) == 0)
		snprintf(err->request_id, sizeof(err->request_id), "%s", rid);
}

/* botocore's generic-error test: a 5xx with an empty or HTML body says nothing. */
static int generic_error(const struct aws_http_response *resp)
{
	const char *b = aws_buf_str(&resp->body);

	if (resp->status < 500)
		return 0;
	while (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n')
		b++;
	return *b == '\0' || strncmp(b, "<html>", 6) == 0;
}

/* Copy a JSON string member of obj (first of k1, k2 present) into out. */
static void copy_member(char *out, size_t n, json_t *obj, const char *k1, const char *k2)
{
	json_t *v = json_object_get(obj, k1);

	if (!v && k2)
		v = json_object_get(obj, k2);
	if (json_is_string(v))
		snprintf(out, n, "%s", json_string_value(v));
}

/* Parse a JSON body: empty -> {}. Returns a new reference or NULL when not JSON. */
static json_t *json_body(const struct aws_http_response *resp)
{
	const char *b = aws_buf_str(&resp->body);
	size_t i = 0;

	while (i < resp->body.len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n'))
		i++;
	if (i == resp->body.len)
		return json_object();
	return json_loadb(b, resp->body.len, JSON_DECODE_ANY, NULL);
}

/* Fill err from a JSON error reply (awsJson and rest-json). Returns -1. */
static int json_error(const struct aws_http_response *resp, int rest, struct aws_error *err)
{
	struct aws_error local;
	struct aws_error *e = err ? err : &local;
	char etype[sizeof(e->code)];
	json_t *body = NULL;

	error_init(e, resp);
	if (generic_error(resp))
		return -1;
	body = json_body(resp);
	if (!json_is_object(body)) {
		/* Not JSON: botocore keeps the text as the message; a proxy's HTML page
		 * says no more than the status, so its reason phrase stays. */
		const char *b = aws_buf_str(&resp->body);

		b += strspn(b, " \t\r\n");
		if (*b && *b != '<')
			snprintf(e->message, sizeof(e->message), "%s", b);
		json_decref(body);
		return -1;
	}
	copy_member(e->message, sizeof(e->message), body, "message", "Message");
	if (json_is_string(json_object_get(body, "__type")))
		set_code(e, json_string_value(json_object_get(body, "__type")));
	if (rest) {
		if (aws_http_header(resp, "x-amzn-ErrorType", etype, sizeof(etype)) == 0 && etype[0])
			set_code(e, etype);
		else if (json_is_string(json_object_get(body, "code")))
			set_code(e, json_string_value(json_object_get(body, "code")));
		else if (json_is_string(json_object_get(body, "Code")))
			set_code(e, json_string_value(json_object_get(body, "Code")));
	}
	json_decref(body);
	return -1;
}

/* ---- awsJson ----------------------------------------------------------------------- */

static int build_json(const struct aws_service *svc, const struct aws_op *op, json_t *input,
		      struct aws_wire *w, struct aws_error *err)
{
	char target[256];
	char ctype[64];
	json_t *body;
	char *text;

	snprintf(target, sizeof(target), "%s.%s", svc->target_prefix ? svc->target_prefix : "",
		 op->name);
	snprintf(ctype, sizeof(ctype), "application/x-amz-json-%s",
		 svc->json_version ? svc->json_version : "1.0");
	if (wire_header(w, "X-Amz-Target", target, err) < 0 ||
	    wire_header(w, "Content-Type", ctype, err) < 0)
		return -1;
	/* SQS is query-compatible: boto3 announces it. */
	if (strcmp(svc->name, "sqs") == 0 && wire_header(w, "x-amzn-query-mode", "true", err) < 0)
		return -1;
	if (!input)
		return aws_buf_adds(&w->body, "{}") < 0 ? nomem(err) : 0;
	body = without_nulls(input);
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text)
		return nomem(err);
	if (aws_buf_adds(&w->body, text) < 0) {
		free(text);
		return nomem(err);
	}
	free(text);
	return 0;
}

static int parse_json(const struct aws_http_response *resp, json_t **out, struct aws_error *err)
{
	json_t *body;

	if (resp->status < 200 || resp->status > 299)
		return json_error(resp, 0, err);
	body = json_body(resp);
	if (!json_is_object(body)) {
		json_decref(body);
		return aws_error_set(err, resp->status, AWS_ERR_PARSE, "the reply is not a JSON object");
	}
	drop_nulls(body, 0);
	*out = body;
	return 0;
}

/* ---- rest-json --------------------------------------------------------------------- */

/* Fill the URI template into w->path (and a static "?a=b" part into query).
 * Label members are removed from body. */
static int fill_uri(const struct aws_op *op, json_t *input, json_t *body, struct aws_buf *path,
		    struct aws_buf *query, struct aws_error *err)
{
	const char *p = op->uri;

	while (*p && *p != '?') {
		const char *close;
		char name[128];
		size_t n;
		int greedy;
		json_t *v;
		char *text;
		int rc;

		if (*p != '{') {
			n = strcspn(p, "{?");
			if (aws_buf_add(path, p, n) < 0)
				return nomem(err);
			p += n;
			continue;
		}
		close = strchr(p, '}');
		if (!close)
			return aws_error_set(err, 0, AWS_ERR_PARAM, "bad URI template %s", op->uri);
		n = (size_t)(close - p - 1);
		greedy = n > 0 && p[n] == '+';
		snprintf(name, sizeof(name), "%.*s", (int)(n - (size_t)greedy), p + 1);
		v = json_object_get(input, name);
		if (!v || json_is_null(v))
			return aws_error_set(err, 0, AWS_ERR_PARAM,
					     "Missing required parameter in input: \"%s\"", name);
		text = scalar_text(v);
		if (!text || !*text) {
			free(text);
			return aws_error_set(err, 0, AWS_ERR_PARAM,
					     "Invalid value for parameter %s: must be a non-empty string",
					     name);
		}
		rc = aws_sigv4_uri_encode(path, text, strlen(text), greedy);
		free(text);
		if (rc < 0)
			return nomem(err);
		json_object_del(body, name);
		p = close + 1;
	}
	if (*p == '?' && p[1] && aws_buf_adds(query, p + 1) < 0)
		return nomem(err);
	return 0;
}

/* Append "&key=value" (the '&' only when query is not empty), both encoded. */
static int query_add(struct aws_buf *query, const char *key, size_t klen, const json_t *v,
		     struct aws_error *err)
{
	char *text = scalar_text(v);
	int rc;

	if (!text)
		return aws_error_set(err, 0, AWS_ERR_PARAM, "query parameter %.*s must be a scalar",
				     (int)klen, key);
	rc = (query->len && aws_buf_addc(query, '&') < 0) ||
	     aws_sigv4_uri_encode(query, key, klen, 0) < 0 || aws_buf_addc(query, '=') < 0 ||
	     aws_sigv4_uri_encode(query, text, strlen(text), 0) < 0;
	free(text);
	return rc ? nomem(err) : 0;
}

/* op->query: members to query parameters (arrays repeat the key, objects add their
 * own keys as botocore does for maps). Used members are removed from body. */
static int fill_query(const struct aws_op *op, json_t *input, json_t *body, struct aws_buf *query,
		      struct aws_error *err)
{
	const char *p = op->query;
	struct pair pr;

	while (next_pair(&p, &pr)) {
		char member[128];
		json_t *v;
		size_t i;
		const char *k;
		json_t *item;

		snprintf(member, sizeof(member), "%.*s", (int)pr.blen, pr.b);
		v = json_object_get(input, member);
		if (!v || json_is_null(v))
			continue;
		json_object_del(body, member);
		if (json_is_array(v)) {
			json_array_foreach(v, i, item)
				if (query_add(query, pr.a, pr.alen, item, err) < 0)
					return -1;
		} else if (json_is_object(v)) {
			json_object_foreach(v, k, item)
				if (query_add(query, k, strlen(k), item, err) < 0)
					return -1;
		} else if (query_add(query, pr.a, pr.alen, v, err) < 0) {
			return -1;
		}
	}
	return 0;
}

/* op->headers: members to request headers (lists joined with ','). */
static int fill_headers(const struct aws_op *op, json_t *input, json_t *body, struct aws_wire *w,
			struct aws_error *err)
{
	const char *p = op->headers;
	struct pair pr;

	while (next_pair(&p, &pr)) {
		char member[128], name[128];
		struct aws_buf val;
		json_t *v;
		int rc = 0;

		snprintf(member, sizeof(member), "%.*s", (int)pr.blen, pr.b);
		snprintf(name, sizeof(name), "%.*s", (int)pr.alen, pr.a);
		v = json_object_get(input, member);
		if (!v || json_is_null(v))
			continue;
		json_object_del(body, member);
		aws_buf_init(&val, 0);
		if (json_is_array(v)) {
			size_t i;
			json_t *item;

			if (json_array_size(v) == 0)
				continue; /* botocore sends no header for an empty list */
			json_array_foreach(v, i, item) {
				char *t = scalar_text(item);

				rc = !t || (i && aws_buf_addc(&val, ',') < 0) || aws_buf_adds(&val, t) < 0;
				free(t);
				if (rc)
					break;
			}
		} else {
			char *t = scalar_text(v);

			rc = !t || aws_buf_adds(&val, t) < 0;
			free(t);
		}
		if (rc) {
			aws_buf_cleanup(&val);
			return aws_error_set(err, 0, AWS_ERR_PARAM, "header member %s must be a scalar",
					     member);
		}
		rc = wire_header(w, name, aws_buf_str(&val), err);
		aws_buf_cleanup(&val);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Dump v as compact JSON onto buf. */
static int add_json(struct aws_buf *buf, json_t *v, struct aws_error *err)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	int rc;

	if (!text)
		return nomem(err);
	rc = aws_buf_adds(buf, text);
	free(text);
	return rc < 0 ? nomem(err) : 0;
}

static int build_rest(const struct aws_service *svc, const struct aws_op *op, json_t *input,
		      struct aws_wire *w, struct aws_error *err)
{
	struct aws_buf path, query;
	json_t *empty = NULL;
	json_t *body = NULL;
	json_t *wirebody = NULL;
	int rc = -1;

	aws_buf_init(&path, 0);
	aws_buf_init(&query, 0);
	if (!op->method || !op->uri) {
		aws_error_set(err, 0, AWS_ERR_UNKNOWN_OP, "%s has no HTTP binding", op->name);
		goto done;
	}
	if (!input) {
		empty = json_object();
		input = empty;
	}
	body = without_nulls(input);
	if (body && body == input) {
		json_decref(body);
		body = json_copy(input);
	}
	/* body is a shallow copy: members not placed elsewhere go in the JSON body */
	if (!body) {
		nomem(err);
		goto done;
	}
	if (fill_uri(op, input, body, &path, &query, err) < 0 ||
	    fill_query(op, input, body, &query, err) < 0 ||
	    fill_headers(op, input, body, w, err) < 0)
		goto done;
	if (strcmp(svc->name, "apigateway") == 0 &&
	    wire_header(w, "Accept", "application/json", err) < 0)
		goto done;
	if (op->payload) {
		/* The raw body, no Content-Type (as boto3 sends Lambda Invoke). */
		json_t *v = json_object_get(input, op->payload);

		if (json_is_string(v)) {
			if (aws_buf_add(&w->body, json_string_value(v), json_string_length(v)) < 0) {
				nomem(err);
				goto done;
			}
		} else if (v && !json_is_null(v) && add_json(&w->body, v, err) < 0) {
			goto done;
		}
	} else if (json_object_size(body) ||
		   strcmp(op->method, "POST") == 0 || strcmp(op->method, "PUT") == 0 ||
		   strcmp(op->method, "PATCH") == 0) {
		wirebody = op->renames ? renamed(body, op->renames, 1, 0) : json_incref(body);
		if (!wirebody) {
			nomem(err);
			goto done;
		}
		if (add_json(&w->body, wirebody, err) < 0 ||
		    wire_header(w, "Content-Type", "application/json", err) < 0)
			goto done;
	}
	w->method = strdup(op->method);
	w->path = aws_buf_take(&path);
	if (query.len)
		w->query = aws_buf_take(&query);
	if (!w->method || !w->path || (query.len && !w->query)) {
		nomem(err);
		goto done;
	}
	rc = 0;
done:
	json_decref(wirebody);
	json_decref(body);
	json_decref(empty);
	aws_buf_cleanup(&path);
	aws_buf_cleanup(&query);
	return rc;
}

static int parse_rest(const struct aws_op *op, const struct aws_http_response *resp, json_t **out,
		      struct aws_error *err)
{
	json_t *res = NULL;
	const char *p;
	struct pair pr;

	if (resp->status < 200 || resp->status > 299)
		return json_error(resp, 1, err);
	if (op->out_payload) {
		res = json_object();
		if (!res || json_object_set_new(res, op->out_payload,
						json_stringn(aws_buf_str(&resp->body), resp->body.len)) < 0)
			goto bad;
	} else {
		json_t *body = json_body(resp);

		if (!json_is_object(body)) {
			json_decref(body);
			goto bad;
		}
		drop_nulls(body, 0);
		res = op->renames ? renamed(body, op->renames, 0, 0) : json_incref(body);
		json_decref(body);
		if (!res)
			goto bad;
	}
	p = op->out_headers;
	while (next_pair(&p, &pr)) {
		/* X-Amz-Log-Result carries 4 KB of log, base64: 5.5 KB. */
		enum { VALUE_MAX = 16384 };
		char name[128], member[128];
		char *value = malloc(VALUE_MAX);
		int rc = 0;

		if (!value)
			goto bad;
		snprintf(name, sizeof(name), "%.*s", (int)pr.alen, pr.a);
		snprintf(member, sizeof(member), "%.*s", (int)pr.blen, pr.b);
		if (aws_http_header(resp, name, value, VALUE_MAX) == 0)
			rc = json_object_set_new(res, member, json_string(value));
		free(value);
		if (rc < 0)
			goto bad;
	}
	if (op->out_status && json_object_set_new(res, op->out_status, json_integer(resp->status)) < 0)
		goto bad;
	*out = res;
	return 0;
bad:
	json_decref(res);
	return aws_error_set(err, resp->status, AWS_ERR_PARSE, "the reply cannot be read");
}

/* ---- query (XML replies) ----------------------------------------------------------- */

static int build_query(const struct aws_service *svc, const struct aws_op *op, json_t *input,
		       struct aws_wire *w, struct aws_error *err)
{
	if (wire_header(w, "Content-Type", "application/x-www-form-urlencoded; charset=utf-8", err) < 0)
		return -1;
	return aws_query_serialize(svc, op, input, &w->body, err);
}

/* The request id of an XML reply: RequestId / RequestID in obj. */
static void xml_request_id(struct aws_error *e, json_t *obj)
{
	copy_member(e->request_id, sizeof(e->request_id), obj, "RequestId", "RequestID");
}

static int xml_error(const struct aws_op *op, const struct aws_http_response *resp,
		     struct aws_error *err)
{
	struct aws_error local;
	struct aws_error *e = err ? err : &local;
	json_t *doc, *error;

	error_init(e, resp);
	if (generic_error(resp))
		return -1;
	doc = aws_xml_to_json(aws_buf_str(&resp->body), resp->body.len, NULL);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return -1;
	}
	/* <ErrorResponse><Error>..</Error><RequestId/> or <Response><Errors><Error>.. */
	error = json_object_get(doc, "Error");
	if (!error && json_is_object(json_object_get(doc, "Errors")))
		error = json_object_get(json_object_get(doc, "Errors"), "Error");
	if (json_is_array(error))
		error = json_array_get(error, 0);
	if (json_is_object(error)) {
		copy_member(e->code, sizeof(e->code), error, "Code", NULL);
		copy_member(e->message, sizeof(e->message), error, "Message", "message");
	}
	xml_request_id(e, doc);
	(void)op;
	json_decref(doc);
	return -1;
}

static int parse_query(const struct aws_op *op, const struct aws_http_response *resp,
		       json_t **out, struct aws_error *err)
{
	char result[160];
	json_t *doc, *res;

	if (resp->status < 200 || resp->status > 299)
		return xml_error(op, resp, err);
	if (resp->body.len == 0) {
		*out = json_object();
		return *out ? 0 : nomem(err);
	}
	doc = aws_xml_to_json(aws_buf_str(&resp->body), resp->body.len, op->shapes);
	if (!doc)
		return aws_error_set(err, resp->status, AWS_ERR_PARSE, "the reply is not XML");
	snprintf(result, sizeof(result), "%sResult", op->name);
	res = json_object_get(doc, result);
	res = json_is_object(res) ? json_incref(res) : json_object();
	json_decref(doc);
	if (!res)
		return nomem(err);
	*out = res;
	return 0;
}

/* ---- entry points ------------------------------------------------------------------ */

int aws_proto_build(const struct aws_service *svc, const struct aws_op *op, json_t *input,
		    struct aws_wire *out, struct aws_error *err)
{
	struct aws_wire w;
	int rc;

	memset(&w, 0, sizeof(w));
	aws_buf_init(&w.body, 0);
	if (input && !json_is_object(input)) {
		aws_error_set(err, 0, AWS_ERR_PARAM, "%s input must be a JSON object", op->name);
		return -1;
	}
	switch (svc->protocol) {
	case AWS_PROTO_JSON:
		rc = build_json(svc, op, input, &w, err);
		break;
	case AWS_PROTO_REST_JSON:
		rc = build_rest(svc, op, input, &w, err);
		break;
	case AWS_PROTO_QUERY:
		rc = build_query(svc, op, input, &w, err);
		break;
	default:
		rc = aws_error_set(err, 0, AWS_ERR_UNKNOWN_OP, "unknown protocol");
		break;
	}
	if (rc == 0 && !w.method) {
		w.method = strdup("POST");
		w.path = strdup("/");
		if (!w.method || !w.path)
			rc = nomem(err);
	}
	if (rc < 0) {
		aws_wire_cleanup(&w);
		return -1;
	}
	*out = w;
	return 0;
}

int aws_proto_parse(const struct aws_service *svc, const struct aws_op *op,
		    const struct aws_http_response *resp, json_t **out, struct aws_error *err)
{
	switch (svc->protocol) {
	case AWS_PROTO_JSON:
		return parse_json(resp, out, err);
	case AWS_PROTO_REST_JSON:
		return parse_rest(op, resp, out, err);
	case AWS_PROTO_QUERY:
		return parse_query(op, resp, out, err);
	}
	return aws_error_set(err, resp->status, AWS_ERR_UNKNOWN_OP, "unknown protocol");
}
