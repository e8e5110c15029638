/* svc_apigateway.c: API Gateway REST (v1) control plane: rest APIs, resources, methods,
 * integrations, models, validators, deployments (snapshots) and stages, one JSON row per API. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apigw.h"
#include "sbx_int.h"

#define ID_CHARS "abcdefghijklmnopqrstuvwxyz0123456789"
#define MAX_SEGS 10
#define DEFAULT_LIMIT 25
#define MAX_LIMIT 500

/* One control-plane call as its handler sees it. */
struct call {
	struct sbx_req *r;
	sqlite3 *db;
	const char *seg[MAX_SEGS];  /* decoded path segments after /restapis */
	int nseg;
	json_t *in;                 /* the request body (object) */
	json_t *api;                /* the API's document when the path names one */
	int dirty;                  /* save api afterwards */
	json_t *out;                /* the reply (new reference), NULL for none */
};

typedef int (*handler_fn)(struct call *c);

/* A route: method and segment pattern ("*" a parameter), handler, success status. */
struct route_row {
	const char *method;
	const char *pattern;
	handler_fn fn;
	int status;
};

static long long now_s(void)
{
	return sbx_now_ms() / 1000;
}

char *sbx_apigw_unescape(const char *s, size_t n)
{
	char *o = malloc(n + 1);
	size_t j = 0;

	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			char hex[3] = { 0 };
			char *end;
			long v;

			if (i + 2 >= n) {
				free(o);
				return NULL;
			}
			hex[0] = s[i + 1];
			hex[1] = s[i + 2];
			v = strtol(hex, &end, 16);
			if (*end || !isxdigit((unsigned char)hex[0])) {
				free(o);
				return NULL;
			}
			o[j++] = (char)v;
			i += 2;
		} else {
			o[j++] = s[i];
		}
	}
	o[j] = '\0';
	return o;
}

/* ---- the store ---- */

static json_t *api_load(struct sbx_req *r, sqlite3 *db, const char *id)
{
	sqlite3_stmt *st = sbx_db_prep(r->sbx, db, "SELECT doc FROM apigw_apis WHERE id = ?1",
				       "s", id);
	json_t *api = NULL;

	if (!st) {
		sbx_error(r, 500, "InternalFailure", "The store failed");
		return NULL;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		api = json_loads(sbx_col(st, 0), 0, NULL);
	sqlite3_finalize(st);
	if (!api)
		sbx_error(r, 404, "NotFoundException", "Invalid API identifier specified %s:%s",
			  SBX_ACCOUNT, id);
	return api;
}

static int api_save(struct sbx_req *r, sqlite3 *db, json_t *api)
{
	char *text = json_dumps(api, JSON_COMPACT);
	int rc;

	if (!text)
		return sbx_error(r, 500, "InternalFailure", "Out of memory");
	rc = sbx_db_run(r->sbx, db, "INSERT OR REPLACE INTO apigw_apis (id, created, doc) VALUES "
			"(?1, ?2, ?3)", "sis", sbx_str(api, "id"),
			(long long)json_integer_value(json_object_get(api, "createdDate")), text);
	free(text);
	return rc < 0 ? sbx_error(r, 500, "InternalFailure", "The store failed") : 0;
}

/* ---- small helpers ---- */

static json_t *sub(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_object(v)) {
		v = json_object();
		json_object_set_new(obj, key, v);
	}
	return v;
}

/* Copy in[key] to obj[key] when present with the given JSON type. */
static void copy_member(json_t *obj, json_t *in, const char *key, json_type type)
{
	json_t *v = json_object_get(in, key);

	if (v && json_typeof(v) == type)
		json_object_set(obj, key, v);
	else if (v && type == JSON_TRUE && json_is_boolean(v))
		json_object_set(obj, key, v);
}

static int bad(struct call *c, const char *msg)
{
	return sbx_error(c->r, 400, "BadRequestException", "%s", msg);
}

static int not_found(struct call *c, const char *msg)
{
	return sbx_error(c->r, 404, "NotFoundException", "%s", msg);
}

/* Cut s at the next '&' and return what follows (NULL at the end). */
static char *next_amp(char *s)
{
	char *a = strchr(s, '&');

	if (!a)
		return NULL;
	*a = '\0';
	return a + 1;
}

/* A paged list reply {"item":[...], "position":..} from an object's values. */
static json_t *page(struct call *c, json_t *values)
{
	const char *pos = NULL, *lim = NULL;
	long offset = 0, limit = DEFAULT_LIMIT;
	json_t *out = json_object(), *items = json_array();
	char q[512];

	snprintf(q, sizeof(q), "%s", c->r->query ? c->r->query : "");
	for (char *tok = q; tok && *tok; tok = next_amp(tok)) {
		if (strncmp(tok, "position=", 9) == 0)
			pos = tok + 9;
		else if (strncmp(tok, "limit=", 6) == 0)
			lim = tok + 6;
	}
	if (pos) {
		char *end;

		offset = strtol(pos, &end, 10);
		if (*end || offset < 0)
			offset = 0;
	}
	if (lim) {
		char *end;

		limit = strtol(lim, &end, 10);
		if (*end || limit < 1)
			limit = DEFAULT_LIMIT;
		if (limit > MAX_LIMIT)
			limit = MAX_LIMIT;
	}
	for (size_t i = (size_t)offset; i < json_array_size(values) && (long)json_array_size(items) < limit; i++)
		json_array_append(items, json_array_get(values, i));
	json_object_set_new(out, "item", items);
	if ((size_t)(offset + limit) < json_array_size(values)) {
		char next[32];

		snprintf(next, sizeof(next), "%ld", offset + limit);
		json_object_set_new(out, "position", json_string(next));
	}
	return out;
}

/* The values of an object as a new array. */
static json_t *values_of(json_t *obj)
{
	json_t *a = json_array(), *v;
	const char *k;

	json_object_foreach(obj, k, v)
		json_array_append(a, v);
	return a;
}

/* Apply patchOperations to obj: replace/add set a string (booleans and numbers where the
 * member already has that type or is known to), remove deletes. Paths are JSON pointers. */
static int apply_patch(struct call *c, json_t *obj)
{
	static const char *const bools[] = { "validateRequestBody", "validateRequestParameters",
		"apiKeyRequired", "cacheClusterEnabled", "tracingEnabled",
		"disableExecuteApiEndpoint", NULL };
	json_t *ops = json_object_get(c->in, "patchOperations"), *op;
	size_t i;

	json_array_foreach(ops, i, op) {
		const char *verb = sbx_str(op, "op"), *path = sbx_str(op, "path");
		const char *value = sbx_str(op, "value");
		char buf[512], *parts[8];
		int n = 0;
		json_t *target = obj, *cur, *nv;

		if (!verb || !path || path[0] != '/')
			return bad(c, "Invalid patch operation specified");
		if (path[1] == '*')
			continue; /* stage method settings: accepted, not modelled */
		snprintf(buf, sizeof(buf), "%s", path + 1);
		parts[n++] = buf;
		for (char *p = buf; *p && n < 8; p++)
			if (*p == '/') {
				*p = '\0';
				parts[n++] = p + 1;
			}
		for (int k = 0; k < n; k++) { /* ~1 -> '/', ~0 -> '~' */
			char *w = parts[k];

			for (char *p = parts[k]; *p; p++) {
				if (p[0] == '~' && (p[1] == '1' || p[1] == '0')) {
					*w++ = p[1] == '1' ? '/' : '~';
					p++;
				} else {
					*w++ = *p;
				}
			}
			*w = '\0';
		}
		for (int k = 0; k < n - 1; k++)
			target = sub(target, parts[k]);
		if (strcmp(verb, "remove") == 0) {
			json_object_del(target, parts[n - 1]);
			continue;
		}
		if (strcmp(verb, "replace") != 0 && strcmp(verb, "add") != 0)
			return bad(c, "Invalid patch operation specified");
		cur = json_object_get(target, parts[n - 1]);
		nv = NULL;
		if (value && (strcmp(value, "true") == 0 || strcmp(value, "false") == 0)) {
			int known = json_is_boolean(cur) ||
				(n == 2 && strcmp(parts[0], "requestParameters") == 0 &&
				 strncmp(parts[1], "method.", 7) == 0);

			for (int b = 0; bools[b] && !known; b++)
				known = n == 1 && strcmp(bools[b], parts[0]) == 0;
			if (known)
				nv = json_boolean(value[0] == 't');
		}
		if (!nv && value && (json_is_integer(cur) || strcmp(parts[n - 1], "timeoutInMillis") == 0)) {
			char *end;
			long long v = strtoll(value, &end, 10);

			if (*end || !*value)
				return bad(c, "Invalid patch value: expected a number");
			nv = json_integer(v);
		}
		if (!nv)
			nv = value ? json_string(value) : json_null();
		json_object_set_new(target, parts[n - 1], nv);
	}
	return 0;
}

/* ---- rest APIs ---- */

static int create_rest_api(struct call *c)
{
	char id[11], root[11];
	const char *name = sbx_str(c->in, "name");
	json_t *api, *res;
	sqlite3_stmt *st;
	int taken;

	if (!name || !*name)
		return bad(c, "Invalid REST API name specified");
	do {
		sbx_rand_chars(id, 10, ID_CHARS);
		st = sbx_db_prep(c->r->sbx, c->db, "SELECT 1 FROM apigw_apis WHERE id = ?1", "s", id);
		if (!st)
			return sbx_error(c->r, 500, "InternalFailure", "The store failed");
		taken = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
	} while (taken);
	sbx_rand_chars(root, 10, ID_CHARS);
	api = json_pack("{s:s, s:s, s:I, s:s, s:s, s:o, s:b}", "id", id, "name", name,
			"createdDate", (json_int_t)now_s(), "apiKeySource", "HEADER",
			"rootResourceId", root, "endpointConfiguration",
			json_pack("{s:[s]}", "types", "EDGE"), "disableExecuteApiEndpoint", 0);
	if (!api)
		return sbx_error(c->r, 500, "InternalFailure", "Out of memory");
	copy_member(api, c->in, "description", JSON_STRING);
	copy_member(api, c->in, "version", JSON_STRING);
	copy_member(api, c->in, "endpointConfiguration", JSON_OBJECT);
	copy_member(api, c->in, "apiKeySource", JSON_STRING);
	copy_member(api, c->in, "binaryMediaTypes", JSON_ARRAY);
	copy_member(api, c->in, "tags", JSON_OBJECT);
	res = json_pack("{s:s, s:s, s:{}}", "id", root, "path", "/", "resourceMethods");
	json_object_set_new(sub(api, "resources"), root, res);
	sub(api, "models");
	sub(api, "requestValidators");
	sub(api, "stages");
	c->api = api;
	c->dirty = 1;
	return 0;
}

/* The public view of an API (no resources, stages, ...). */
static json_t *api_view(json_t *api)
{
	json_t *v = json_deep_copy(api);

	json_object_del(v, "resources");
	json_object_del(v, "models");
	json_object_del(v, "requestValidators");
	json_object_del(v, "stages");
	return v;
}

static int get_rest_api(struct call *c)
{
	c->out = api_view(c->api);
	return 0;
}

static int get_rest_apis(struct call *c)
{
	sqlite3_stmt *st = sbx_db_prep(c->r->sbx, c->db,
				       "SELECT doc FROM apigw_apis ORDER BY created, id", "");
	json_t *all = json_array();

	if (!st) {
		json_decref(all);
		return sbx_error(c->r, 500, "InternalFailure", "The store failed");
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *api = json_loads(sbx_col(st, 0), 0, NULL);

		if (api)
			json_array_append_new(all, api_view(api));
		json_decref(api);
	}
	sqlite3_finalize(st);
	c->out = page(c, all);
	json_decref(all);
	return 0;
}

static int delete_rest_api(struct call *c)
{
	const char *id = sbx_str(c->api, "id");

	if (sbx_db_run(c->r->sbx, c->db, "DELETE FROM apigw_apis WHERE id = ?1", "s", id) < 0 ||
	    sbx_db_run(c->r->sbx, c->db, "DELETE FROM apigw_deployments WHERE api_id = ?1", "s",
		       id) < 0)
		return sbx_error(c->r, 500, "InternalFailure", "The store failed");
	return 0;
}

static int update_rest_api(struct call *c)
{
	json_t *copy = api_view(c->api);
	const char *k;
	json_t *v;

	if (apply_patch(c, copy) != 0) {
		json_decref(copy);
		return -1;
	}
	json_object_set(copy, "id", json_object_get(c->api, "id"));
	json_object_set(copy, "rootResourceId", json_object_get(c->api, "rootResourceId"));
	json_object_foreach(copy, k, v)
		json_object_set(c->api, k, v);
	c->out = copy;
	c->dirty = 1;
	return 0;
}

/* ---- resources ---- */

static json_t *resource(struct call *c, const char *rid)
{
	json_t *res = json_object_get(json_object_get(c->api, "resources"), rid);

	if (!res)
		not_found(c, "Invalid Resource identifier specified");
	return res;
}

static int get_resources(struct call *c)
{
	json_t *all = values_of(json_object_get(c->api, "resources"));

	c->out = page(c, all);
	json_decref(all);
	return 0;
}

static int get_resource(struct call *c)
{
	json_t *res = resource(c, c->seg[2]);

	if (!res)
		return -1;
	c->out = json_incref(res);
	return 0;
}

static int valid_path_part(const char *p)
{
	size_t n = strlen(p);

	if (n == 0 || n > 512)
		return 0;
	if (p[0] == '{')
		return n > 2 && p[n - 1] == '}';
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)p[i]) && !strchr("._:-~@$&'()*,;=+!", p[i]))
			return 0;
	return 1;
}

static int create_resource(struct call *c)
{
	json_t *parent = resource(c, c->seg[2]), *res, *all, *v;
	const char *part = sbx_str(c->in, "pathPart"), *k, *ppath;
	char id[11], path[2048];

	if (!parent)
		return -1;
	if (!part || !valid_path_part(part))
		return bad(c, "Resource's path part only allow a-zA-Z0-9._- and curly braces at "
			   "the beginning and the end and an optional plus sign before the closing "
			   "brace.");
	all = json_object_get(c->api, "resources");
	json_object_foreach(all, k, v)
		if (strcmp(sbx_str(v, "parentId") ? sbx_str(v, "parentId") : "", c->seg[2]) == 0 &&
		    strcmp(sbx_str(v, "pathPart"), part) == 0)
			return sbx_error(c->r, 409, "ConflictException",
					 "Another resource with the same parent already has this "
					 "name: %s", part);
	ppath = sbx_str(parent, "path");
	snprintf(path, sizeof(path), "%s/%s", strcmp(ppath, "/") == 0 ? "" : ppath, part);
	sbx_rand_chars(id, 10, ID_CHARS);
	res = json_pack("{s:s, s:s, s:s, s:s, s:{}}", "id", id, "parentId", c->seg[2],
			"pathPart", part, "path", path, "resourceMethods");
	json_object_set_new(all, id, res);
	c->out = json_incref(res);
	c->dirty = 1;
	return 0;
}

/* Delete resource rid and every resource below it. */
static void delete_subtree(json_t *all, const char *rid)
{
	json_t *children = json_array(), *v;
	const char *k;
	size_t i;

	json_object_foreach(all, k, v) {
		const char *p = sbx_str(v, "parentId");

		if (p && strcmp(p, rid) == 0)
			json_array_append_new(children, json_string(k));
	}
	json_array_foreach(children, i, v)
		delete_subtree(all, json_string_value(v));
	json_object_del(all, rid);
	json_decref(children);
}

static int delete_resource(struct call *c)
{
	json_t *res = resource(c, c->seg[2]);

	if (!res)
		return -1;
	if (strcmp(c->seg[2], sbx_str(c->api, "rootResourceId")) == 0)
		return bad(c, "Cannot delete root resource");
	delete_subtree(json_object_get(c->api, "resources"), c->seg[2]);
	c->dirty = 1;
	return 0;
}

/* ---- methods ---- */

static int valid_http_method(const char *m)
{
	static const char *const all[] = { "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD",
		"OPTIONS", "ANY", NULL };

	for (int i = 0; all[i]; i++)
		if (strcmp(all[i], m) == 0)
			return 1;
	return 0;
}

static json_t *method(struct call *c)
{
	json_t *res = resource(c, c->seg[2]), *m;

	if (!res)
		return NULL;
	m = json_object_get(json_object_get(res, "resourceMethods"), c->seg[4]);
	if (!m)
		not_found(c, "Invalid Method identifier specified");
	return m;
}

static int put_method(struct call *c)
{
	json_t *res = resource(c, c->seg[2]), *m;
	const char *auth = sbx_str(c->in, "authorizationType");
	const char *vid = sbx_str(c->in, "requestValidatorId");

	if (!res)
		return -1;
	if (!valid_http_method(c->seg[4]))
		return bad(c, "Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,"
			   "PATCH,OPTIONS,HEAD,ANY");
	if (!auth)
		return bad(c, "Authorization type must be specified");
	if (json_object_get(json_object_get(res, "resourceMethods"), c->seg[4]))
		return sbx_error(c->r, 409, "ConflictException",
				 "Method already exists for this resource");
	if (vid && !json_object_get(json_object_get(c->api, "requestValidators"), vid))
		return bad(c, "Invalid Request Validator identifier specified");
	m = json_pack("{s:s, s:s, s:b}", "httpMethod", c->seg[4], "authorizationType", auth,
		      "apiKeyRequired", json_is_true(json_object_get(c->in, "apiKeyRequired")));
	copy_member(m, c->in, "authorizerId", JSON_STRING);
	copy_member(m, c->in, "operationName", JSON_STRING);
	copy_member(m, c->in, "requestParameters", JSON_OBJECT);
	copy_member(m, c->in, "requestModels", JSON_OBJECT);
	copy_member(m, c->in, "requestValidatorId", JSON_STRING);
	copy_member(m, c->in, "authorizationScopes", JSON_ARRAY);
	json_object_set_new(sub(res, "resourceMethods"), c->seg[4], m);
	c->out = json_incref(m);
	c->dirty = 1;
	return 0;
}

static int get_method(struct call *c)
{
	json_t *m = method(c);

	if (!m)
		return -1;
	c->out = json_incref(m);
	return 0;
}

static int delete_method(struct call *c)
{
	if (!method(c))
		return -1;
	json_object_del(json_object_get(resource(c, c->seg[2]), "resourceMethods"), c->seg[4]);
	c->dirty = 1;
	return 0;
}

static int update_method(struct call *c)
{
	json_t *m = method(c);

	if (!m || apply_patch(c, m) != 0)
		return -1;
	c->out = json_incref(m);
	c->dirty = 1;
	return 0;
}

/* ---- method responses ---- */

static int valid_status(const char *code)
{
	return strlen(code) == 3 && isdigit((unsigned char)code[0]) && code[0] >= '1' &&
	       code[0] <= '5' && isdigit((unsigned char)code[1]) && isdigit((unsigned char)code[2]);
}

static int put_method_response(struct call *c)
{
	json_t *m = method(c), *mr;

	if (!m)
		return -1;
	if (!valid_status(c->seg[6]))
		return bad(c, "Invalid Response status code specified");
	mr = json_pack("{s:s}", "statusCode", c->seg[6]);
	copy_member(mr, c->in, "responseParameters", JSON_OBJECT);
	copy_member(mr, c->in, "responseModels", JSON_OBJECT);
	json_object_set_new(sub(m, "methodResponses"), c->seg[6], mr);
	c->out = json_incref(mr);
	c->dirty = 1;
	return 0;
}

static json_t *method_response(struct call *c)
{
	json_t *m = method(c), *mr;

	if (!m)
		return NULL;
	mr = json_object_get(json_object_get(m, "methodResponses"), c->seg[6]);
	if (!mr)
		not_found(c, "Invalid Response status code specified");
	return mr;
}

static int get_method_response(struct call *c)
{
	json_t *mr = method_response(c);

	if (!mr)
		return -1;
	c->out = json_incref(mr);
	return 0;
}

static int delete_method_response(struct call *c)
{
	if (!method_response(c))
		return -1;
	json_object_del(json_object_get(method(c), "methodResponses"), c->seg[6]);
	c->dirty = 1;
	return 0;
}

/* ---- integrations ---- */

static int put_integration(struct call *c)
{
	static const char *const types[] = { "AWS", "AWS_PROXY", "HTTP", "HTTP_PROXY", "MOCK", NULL };
	static const char *const pass[] = { "WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER", NULL };
	json_t *m = method(c), *in;
	const char *type = sbx_str(c->in, "type"), *uri = sbx_str(c->in, "uri");
	const char *hm = sbx_str(c->in, "httpMethod"), *pb = sbx_str(c->in, "passthroughBehavior");
	int ok = 0;

	if (!m)
		return -1;
	for (int i = 0; type && types[i]; i++)
		ok |= strcmp(types[i], type) == 0;
	if (!ok)
		return bad(c, "Invalid integration type specified. Valid values are AWS, "
			   "AWS_PROXY, HTTP, HTTP_PROXY, MOCK");
	if (strcmp(type, "MOCK") != 0) {
		if (!hm || !*hm)
			return bad(c, "Enumeration value for HttpMethod must be non-empty");
		if (!uri || !*uri)
			return bad(c, "Invalid HTTP endpoint specified for URI");
		if (strncmp(type, "AWS", 3) == 0 && strncmp(uri, "arn:aws:apigateway:", 19) != 0)
			return bad(c, "AWS ARN for integration must contain path or action");
		if (strcmp(type, "AWS_PROXY") == 0 && !strstr(uri, ":lambda:path/"))
			return bad(c, "Integrations of type 'AWS_PROXY' currently only supports "
				   "Lambda function and Firehose stream invocations.");
	}
	if (pb) {
		ok = 0;
		for (int i = 0; pass[i]; i++)
			ok |= strcmp(pass[i], pb) == 0;
		if (!ok)
			return bad(c, "Invalid passthrough behavior specified");
	}
	in = json_pack("{s:s, s:s, s:I, s:s, s:[]}", "type", type, "passthroughBehavior",
		       pb ? pb : "WHEN_NO_MATCH", "timeoutInMillis",
		       (json_int_t)json_integer_value(json_object_get(c->in, "timeoutInMillis")),
		       "cacheNamespace", c->seg[2], "cacheKeyParameters");
	if (json_integer_value(json_object_get(in, "timeoutInMillis")) <= 0)
		json_object_set_new(in, "timeoutInMillis", json_integer(29000));
	copy_member(in, c->in, "httpMethod", JSON_STRING);
	copy_member(in, c->in, "uri", JSON_STRING);
	copy_member(in, c->in, "credentials", JSON_STRING);
	copy_member(in, c->in, "requestParameters", JSON_OBJECT);
	copy_member(in, c->in, "requestTemplates", JSON_OBJECT);
	copy_member(in, c->in, "contentHandling", JSON_STRING);
	copy_member(in, c->in, "connectionType", JSON_STRING);
	copy_member(in, c->in, "cacheKeyParameters", JSON_ARRAY);
	copy_member(in, c->in, "cacheNamespace", JSON_STRING);
	json_object_set_new(m, "methodIntegration", in);
	c->out = json_incref(in);
	c->dirty = 1;
	return 0;
}

static json_t *integration(struct call *c)
{
	json_t *m = method(c), *in;

	if (!m)
		return NULL;
	in = json_object_get(m, "methodIntegration");
	if (!in)
		not_found(c, "Invalid Integration identifier specified");
	return in;
}

static int get_integration(struct call *c)
{
	json_t *in = integration(c);

	if (!in)
		return -1;
	c->out = json_incref(in);
	return 0;
}

static int delete_integration(struct call *c)
{
	if (!integration(c))
		return -1;
	json_object_del(method(c), "methodIntegration");
	c->dirty = 1;
	return 0;
}

static int update_integration(struct call *c)
{
	json_t *in = integration(c);

	if (!in || apply_patch(c, in) != 0)
		return -1;
	c->out = json_incref(in);
	c->dirty = 1;
	return 0;
}

static int put_integration_response(struct call *c)
{
	json_t *in = integration(c), *ir;
	const char *pat = sbx_str(c->in, "selectionPattern");

	if (!in)
		return -1;
	if (!json_object_get(json_object_get(method(c), "methodResponses"), c->seg[7]))
		return not_found(c, "Invalid Response status code specified");
	ir = json_pack("{s:s}", "statusCode", c->seg[7]);
	if (pat)
		json_object_set_new(ir, "selectionPattern", json_string(pat));
	copy_member(ir, c->in, "responseTemplates", JSON_OBJECT);
	copy_member(ir, c->in, "responseParameters", JSON_OBJECT);
	copy_member(ir, c->in, "contentHandling", JSON_STRING);
	json_object_set_new(sub(in, "integrationResponses"), c->seg[7], ir);
	c->out = json_incref(ir);
	c->dirty = 1;
	return 0;
}

static json_t *integration_response(struct call *c)
{
	json_t *in = integration(c), *ir;

	if (!in)
		return NULL;
	ir = json_object_get(json_object_get(in, "integrationResponses"), c->seg[7]);
	if (!ir)
		not_found(c, "Invalid Response status code specified");
	return ir;
}

static int get_integration_response(struct call *c)
{
	json_t *ir = integration_response(c);

	if (!ir)
		return -1;
	c->out = json_incref(ir);
	return 0;
}

static int delete_integration_response(struct call *c)
{
	if (!integration_response(c))
		return -1;
	json_object_del(json_object_get(integration(c), "integrationResponses"), c->seg[7]);
	c->dirty = 1;
	return 0;
}

static int update_integration_response(struct call *c)
{
	json_t *ir = integration_response(c);

	if (!ir || apply_patch(c, ir) != 0)
		return -1;
	c->out = json_incref(ir);
	c->dirty = 1;
	return 0;
}

/* ---- models ---- */

static int create_model(struct call *c)
{
	json_t *models = sub(c->api, "models"), *m;
	const char *name = sbx_str(c->in, "name"), *schema = sbx_str(c->in, "schema");
	const char *ct = sbx_str(c->in, "contentType");
	char id[7];

	if (!name || !*name)
		return bad(c, "Model name must be non-empty");
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p))
			return bad(c, "Model name must be alphanumeric");
	if (!ct || !*ct)
		return bad(c, "Content type must be non-empty");
	if (schema) {
		json_t *doc = json_loads(schema, JSON_DECODE_ANY, NULL);

		if (!json_is_object(doc)) {
			json_decref(doc);
			return bad(c, "Invalid model specified: Validation Result: warnings : [], "
				   "errors : [Invalid model schema specified]");
		}
		json_decref(doc);
	}
	if (json_object_get(models, name))
		return sbx_error(c->r, 409, "ConflictException",
				 "Model name already exists for this REST API");
	sbx_rand_chars(id, 6, ID_CHARS);
	m = json_pack("{s:s, s:s, s:s}", "id", id, "name", name, "contentType", ct);
	copy_member(m, c->in, "schema", JSON_STRING);
	copy_member(m, c->in, "description", JSON_STRING);
	json_object_set_new(models, name, m);
	c->out = json_incref(m);
	c->dirty = 1;
	return 0;
}

static int get_models(struct call *c)
{
	json_t *all = values_of(json_object_get(c->api, "models"));

	c->out = page(c, all);
	json_decref(all);
	return 0;
}

static int get_model(struct call *c)
{
	json_t *m = json_object_get(json_object_get(c->api, "models"), c->seg[2]);

	if (!m)
		return sbx_error(c->r, 404, "NotFoundException", "Invalid model name specified: %s",
				 c->seg[2]);
	c->out = json_incref(m);
	return 0;
}

static int delete_model(struct call *c)
{
	if (get_model(c) != 0)
		return -1;
	json_decref(c->out);
	c->out = NULL;
	json_object_del(json_object_get(c->api, "models"), c->seg[2]);
	c->dirty = 1;
	return 0;
}

/* ---- request validators ---- */

static int create_request_validator(struct call *c)
{
	json_t *v;
	char id[7];

	sbx_rand_chars(id, 6, ID_CHARS);
	v = json_pack("{s:s, s:b, s:b}", "id", id, "validateRequestBody",
		      json_is_true(json_object_get(c->in, "validateRequestBody")),
		      "validateRequestParameters",
		      json_is_true(json_object_get(c->in, "validateRequestParameters")));
	copy_member(v, c->in, "name", JSON_STRING);
	json_object_set_new(sub(c->api, "requestValidators"), id, v);
	c->out = json_incref(v);
	c->dirty = 1;
	return 0;
}

static json_t *validator(struct call *c)
{
	json_t *v = json_object_get(json_object_get(c->api, "requestValidators"), c->seg[2]);

	if (!v)
		not_found(c, "Invalid Request Validator identifier specified");
	return v;
}

static int get_request_validators(struct call *c)
{
	json_t *all = values_of(json_object_get(c->api, "requestValidators"));

	c->out = page(c, all);
	json_decref(all);
	return 0;
}

static int get_request_validator(struct call *c)
{
	json_t *v = validator(c);

	if (!v)
		return -1;
	c->out = json_incref(v);
	return 0;
}

static int delete_request_validator(struct call *c)
{
	if (!validator(c))
		return -1;
	json_object_del(json_object_get(c->api, "requestValidators"), c->seg[2]);
	c->dirty = 1;
	return 0;
}

static int update_request_validator(struct call *c)
{
	json_t *v = validator(c);

	if (!v || apply_patch(c, v) != 0)
		return -1;
	json_object_set_new(v, "id", json_string(c->seg[2]));
	c->out = json_incref(v);
	c->dirty = 1;
	return 0;
}

/* ---- deployments and stages ---- */

static int deployment_exists(struct call *c, const char *id)
{
	sqlite3_stmt *st = sbx_db_prep(c->r->sbx, c->db, "SELECT 1 FROM apigw_deployments WHERE "
				       "api_id = ?1 AND id = ?2", "ss", sbx_str(c->api, "id"), id);
	int found;

	if (!st)
		return -1;
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

/* Create or point a stage at a deployment. */
static json_t *stage_put(struct call *c, const char *name, const char *deployment_id)
{
	json_t *stages = sub(c->api, "stages"), *st = json_object_get(stages, name);
	json_int_t now = (json_int_t)now_s();

	if (!st) {
		st = json_pack("{s:s, s:I, s:{}, s:b, s:b}", "stageName", name, "createdDate", now,
			       "methodSettings", "cacheClusterEnabled", 0, "tracingEnabled", 0);
		json_object_set_new(stages, name, st);
	}
	json_object_set_new(st, "deploymentId", json_string(deployment_id));
	json_object_set_new(st, "lastUpdatedDate", json_integer(now));
	c->dirty = 1;
	return st;
}

static int create_deployment(struct call *c)
{
	json_t *snap, *dep, *res, *m;
	const char *stage = sbx_str(c->in, "stageName"), *k, *mk;
	char id[7], *text;
	int methods = 0, rc;

	json_object_foreach(json_object_get(c->api, "resources"), k, res)
		json_object_foreach(json_object_get(res, "resourceMethods"), mk, m) {
			methods++;
			if (!json_object_get(m, "methodIntegration"))
				return bad(c, "No integration defined for method");
		}
	if (!methods)
		return bad(c, "The REST API doesn't contain any methods");
	do {
		sbx_rand_chars(id, 6, ID_CHARS);
		rc = deployment_exists(c, id);
	} while (rc == 1);
	if (rc < 0)
		return sbx_error(c->r, 500, "InternalFailure", "The store failed");
	snap = json_pack("{s:O, s:O, s:O}", "resources", json_object_get(c->api, "resources"),
			 "models", sub(c->api, "models"), "requestValidators",
			 sub(c->api, "requestValidators"));
	dep = json_pack("{s:s, s:I, s:o}", "id", id, "createdDate", (json_int_t)now_s(), "api",
			json_deep_copy(snap));
	json_decref(snap);
	copy_member(dep, c->in, "description", JSON_STRING);
	text = dep ? json_dumps(dep, JSON_COMPACT) : NULL;
	rc = text ? sbx_db_run(c->r->sbx, c->db, "INSERT INTO apigw_deployments (api_id, id, "
			       "created, doc) VALUES (?1, ?2, ?3, ?4)", "ssis",
			       sbx_str(c->api, "id"), id, now_s(), text) : -1;
	free(text);
	if (rc < 0) {
		json_decref(dep);
		return sbx_error(c->r, 500, "InternalFailure", "The store failed");
	}
	if (stage && *stage) {
		json_t *st = stage_put(c, stage, id);

		copy_member(st, c->in, "variables", JSON_OBJECT);
		if (sbx_str(c->in, "stageDescription"))
			json_object_set(st, "description", json_object_get(c->in, "stageDescription"));
	}
	json_object_del(dep, "api");
	c->out = dep;
	c->dirty = 1;
	return 0;
}

static json_t *deployment_view(const char *doc)
{
	json_t *d = json_loads(doc, 0, NULL);

	json_object_del(d, "api");
	return d;
}

static int get_deployments(struct call *c)
{
	sqlite3_stmt *st = sbx_db_prep(c->r->sbx, c->db, "SELECT doc FROM apigw_deployments "
				       "WHERE api_id = ?1 ORDER BY created, id", "s",
				       sbx_str(c->api, "id"));
	json_t *all = json_array();

	if (!st) {
		json_decref(all);
		return sbx_error(c->r, 500, "InternalFailure", "The store failed");
	}
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(all, deployment_view(sbx_col(st, 0)));
	sqlite3_finalize(st);
	c->out = page(c, all);
	json_decref(all);
	return 0;
}

static int get_deployment(struct call *c)
{
	sqlite3_stmt *st = sbx_db_prep(c->r->sbx, c->db, "SELECT doc FROM apigw_deployments "
				       "WHERE api_id = ?1 AND id = ?2", "ss",
				       sbx_str(c->api, "id"), c->seg[2]);

	if (!st)
		return sbx_error(c->r, 500, "InternalFailure", "The store failed");
	if (sqlite3_step(st) == SQLITE_ROW)
		c->out = deployment_view(sbx_col(st, 0));
	sqlite3_finalize(st);
	return c->out ? 0 : not_found(c, "Invalid Deployment identifier specified");
}

static int delete_deployment(struct call *c)
{
	const char *k;
	json_t *st;
	int rc = deployment_exists(c, c->seg[2]);

	if (rc < 0)
		return sbx_error(c->r, 500, "InternalFailure", "The store failed");
	if (rc == 0)
		return not_found(c, "Invalid Deployment identifier specified");
	json_object_foreach(json_object_get(c->api, "stages"), k, st)
		if (strcmp(sbx_str(st, "deploymentId"), c->seg[2]) == 0)
			return bad(c, "Active stages pointing to this deployment must be moved or "
				   "deleted");
	if (sbx_db_run(c->r->sbx, c->db, "DELETE FROM apigw_deployments WHERE api_id = ?1 AND "
		       "id = ?2", "ss", sbx_str(c->api, "id"), c->seg[2]) < 0)
		return sbx_error(c->r, 500, "InternalFailure", "The store failed");
	return 0;
}

static int create_stage(struct call *c)
{
	const char *name = sbx_str(c->in, "stageName"), *dep = sbx_str(c->in, "deploymentId");
	json_t *st;
	int rc;

	if (!name || !*name)
		return bad(c, "Stage name must be non-empty");
	if (!dep || !*dep)
		return bad(c, "Deployment id must be non-empty");
	if (json_object_get(json_object_get(c->api, "stages"), name))
		return sbx_error(c->r, 409, "ConflictException", "Stage already exists");
	rc = deployment_exists(c, dep);
	if (rc < 0)
		return sbx_error(c->r, 500, "InternalFailure", "The store failed");
	if (rc == 0)
		return bad(c, "Invalid deployment identifier specified");
	st = stage_put(c, name, dep);
	copy_member(st, c->in, "description", JSON_STRING);
	copy_member(st, c->in, "variables", JSON_OBJECT);
	copy_member(st, c->in, "tracingEnabled", JSON_TRUE);
	copy_member(st, c->in, "tags", JSON_OBJECT);
	c->out = json_incref(st);
	return 0;
}

static json_t *stage(struct call *c)
{
	json_t *st = json_object_get(json_object_get(c->api, "stages"), c->seg[2]);

	if (!st)
		not_found(c, "Invalid Stage identifier specified");
	return st;
}

static int get_stages(struct call *c)
{
	c->out = json_pack("{s:o}", "item", values_of(json_object_get(c->api, "stages")));
	return 0;
}

static int get_stage(struct call *c)
{
	json_t *st = stage(c);

	if (!st)
		return -1;
	c->out = json_incref(st);
	return 0;
}

static int delete_stage(struct call *c)
{
	if (!stage(c))
		return -1;
	json_object_del(json_object_get(c->api, "stages"), c->seg[2]);
	c->dirty = 1;
	return 0;
}

static int update_stage(struct call *c)
{
	json_t *st = stage(c);
	const char *dep;
	int rc;

	if (!st || apply_patch(c, st) != 0)
		return -1;
	dep = sbx_str(st, "deploymentId");
	rc = dep ? deployment_exists(c, dep) : 0;
	if (rc <= 0)
		return rc < 0 ? sbx_error(c->r, 500, "InternalFailure", "The store failed") :
			bad(c, "Invalid deployment identifier specified");
	json_object_set_new(st, "stageName", json_string(c->seg[2]));
	json_object_set_new(st, "lastUpdatedDate", json_integer((json_int_t)now_s()));
	c->out = json_incref(st);
	c->dirty = 1;
	return 0;
}

/* ---- routing ---- */

/* Segment patterns after /restapis: "*" matches any one segment. */
static const struct route_row routes[] = {
	{ "POST", "", create_rest_api, 201 },
	{ "GET", "", get_rest_apis, 200 },
	{ "GET", "*", get_rest_api, 200 },
	{ "DELETE", "*", delete_rest_api, 202 },
	{ "PATCH", "*", update_rest_api, 200 },
	{ "GET", "*/resources", get_resources, 200 },
	{ "GET", "*/resources/*", get_resource, 200 },
	{ "POST", "*/resources/*", create_resource, 201 },
	{ "DELETE", "*/resources/*", delete_resource, 202 },
	{ "PUT", "*/resources/*/methods/*", put_method, 201 },
	{ "GET", "*/resources/*/methods/*", get_method, 200 },
	{ "DELETE", "*/resources/*/methods/*", delete_method, 204 },
	{ "PATCH", "*/resources/*/methods/*", update_method, 200 },
	{ "PUT", "*/resources/*/methods/*/responses/*", put_method_response, 201 },
	{ "GET", "*/resources/*/methods/*/responses/*", get_method_response, 200 },
	{ "DELETE", "*/resources/*/methods/*/responses/*", delete_method_response, 204 },
	{ "PUT", "*/resources/*/methods/*/integration", put_integration, 201 },
	{ "GET", "*/resources/*/methods/*/integration", get_integration, 200 },
	{ "DELETE", "*/resources/*/methods/*/integration", delete_integration, 204 },
	{ "PATCH", "*/resources/*/methods/*/integration", update_integration, 200 },
	{ "PUT", "*/resources/*/methods/*/integration/responses/*", put_integration_response, 201 },
	{ "GET", "*/resources/*/methods/*/integration/responses/*", get_integration_response, 200 },
	{ "DELETE", "*/resources/*/methods/*/integration/responses/*",
	  delete_integration_response, 204 },
	{ "PATCH", "*/resources/*/methods/*/integration/responses/*",
	  update_integration_response, 200 },
	{ "POST", "*/models", create_model, 201 },
	{ "GET", "*/models", get_models, 200 },
	{ "GET", "*/models/*", get_model, 200 },
	{ "DELETE", "*/models/*", delete_model, 202 },
	{ "POST", "*/requestvalidators", create_request_validator, 201 },
	{ "GET", "*/requestvalidators", get_request_validators, 200 },
	{ "GET", "*/requestvalidators/*", get_request_validator, 200 },
	{ "DELETE", "*/requestvalidators/*", delete_request_validator, 202 },
	{ "PATCH", "*/requestvalidators/*", update_request_validator, 200 },
	{ "POST", "*/deployments", create_deployment, 201 },
	{ "GET", "*/deployments", get_deployments, 200 },
	{ "GET", "*/deployments/*", get_deployment, 200 },
	{ "DELETE", "*/deployments/*", delete_deployment, 202 },
	{ "POST", "*/stages", create_stage, 201 },
	{ "GET", "*/stages", get_stages, 200 },
	{ "GET", "*/stages/*", get_stage, 200 },
	{ "DELETE", "*/stages/*", delete_stage, 202 },
	{ "PATCH", "*/stages/*", update_stage, 200 },
};

static int pattern_matches(const char *pattern, const char *const *seg, int nseg)
{
	const char *p = pattern;
	int i = 0;

	while (*p) {
		size_t len = strcspn(p, "/");

		if (i >= nseg)
			return 0;
		if (!(len == 1 && p[0] == '*') &&
		    (strlen(seg[i]) != len || strncmp(p, seg[i], len) != 0))
			return 0;
		i++;
		p += len;
		if (*p == '/')
			p++;
	}
	return i == nseg;
}

/* Split rest (after "/restapis") into decoded segments. Returns the count, -1 if malformed. */
static int split(const char *rest, char **seg)
{
	int n = 0;

	while (*rest == '/')
		rest++;
	while (*rest) {
		size_t len = strcspn(rest, "/");

		if (n == MAX_SEGS)
			return -1;
		seg[n] = sbx_apigw_unescape(rest, len);
		if (!seg[n])
			return -1;
		n++;
		rest += len;
		while (*rest == '/')
			rest++;
	}
	return n;
}

static int route(struct sbx_req *r, int *status, struct aws_buf *body, const char **ct)
{
	const struct route_row *row = NULL;
	char *seg[MAX_SEGS] = { 0 };
	struct call c;
	int n, i;
	char *text;

	if (strncmp(r->path, "/restapis", 9) != 0 || (r->path[9] && r->path[9] != '/'))
		return 1;
	{
		const char *p = r->path[9] ? r->path + 10 : "", *s1 = p[0] ? strchr(p, '/') : NULL;
		const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;

		if (s2 && strncmp(s2, "/_user_request_", 15) == 0 &&
		    (s2[15] == '\0' || s2[15] == '/'))
			return sbx_apigw_invoke(r, p, status, body, ct);
	}
	memset(&c, 0, sizeof(c));
	c.r = r;
	n = split(r->path + 9, seg);
	if (n < 0) {
		sbx_error(r, 400, "BadRequestException", "Malformed request path");
		goto out;
	}
	c.nseg = n;
	for (i = 0; i < n; i++)
		c.seg[i] = seg[i];
	for (size_t k = 0; k < sizeof(routes) / sizeof(routes[0]); k++)
		if (strcmp(routes[k].method, r->method) == 0 &&
		    pattern_matches(routes[k].pattern, c.seg, n)) {
			row = &routes[k];
			break;
		}
	if (!row) {
		sbx_error(r, 404, "NotFoundException", "No API Gateway operation for %s %s",
			  r->method, r->path);
		goto out;
	}
	if (r->body_len) {
		c.in = json_loadb(r->body, r->body_len, 0, NULL);
		if (!json_is_object(c.in)) {
			sbx_error(r, 400, "BadRequestException", "The request body is not valid JSON");
			goto out;
		}
	} else {
		c.in = json_object();
	}
	c.db = sbx_db_lock(r->sbx);
	if (n >= 1) {
		c.api = api_load(r, c.db, c.seg[0]);
		if (!c.api) {
			sbx_db_unlock(r->sbx);
			goto out;
		}
	}
	if (row->fn(&c) == 0 && c.dirty)
		api_save(r, c.db, c.api);
	sbx_db_unlock(r->sbx);
	if (r->err_status)
		goto out;
	if (row->fn == create_rest_api)
		c.out = api_view(c.api);
	*status = row->status;
	*ct = "application/json";
	if (c.out) {
		text = json_dumps(c.out, JSON_COMPACT);
		if (!text || aws_buf_adds(body, text) != 0)
			sbx_error(r, 500, "InternalFailure", "Out of memory");
		free(text);
	}
	sbx_log(r->sbx, "INFO", "apigateway %s %s -> %d", r->method, r->path, *status);
out:
	if (r->err_status)
		sbx_log(r->sbx, "INFO", "apigateway %s %s -> %d %s", r->method, r->path,
			r->err_status, r->err_code);
	json_decref(c.in);
	json_decref(c.api);
	json_decref(c.out);
	for (i = 0; i < MAX_SEGS; i++)
		free(seg[i]);
	return 0;
}

/* The documents the last invocation loaded, parsed (per sandbox, under the store lock): an
 * invocation reads the stored texts (cheap) and parses them only when they differ from these,
 * so a change to the API or its stage is seen at once. The parsed documents are shared
 * read-only with the invocations; their reference counts change only under the lock. */
struct deployed_cache {
	char *api_text, *dep_text, *stage_name;
	json_t *stage, *api;
};

static void deployed_cache_clear(struct deployed_cache *c)
{
	free(c->api_text);
	free(c->dep_text);
	free(c->stage_name);
	json_decref(c->stage);
	json_decref(c->api);
	memset(c, 0, sizeof(*c));
}

/* The text of the one row sql (a string constant: it stays prepared) selects for a and b
 * (b may be NULL) into *text (new string, caller frees; NULL when there is no row).
 * Returns 0, or -1 when the store failed. */
static int doc_text(struct sbx *s, sqlite3 *db, const char *sql, const char *a, const char *b,
		    char **text)
{
	sqlite3_stmt *st = b ? sbx_db_stmt(s, db, sql, "ss", a, b) : sbx_db_stmt(s, db, sql, "s", a);

	*text = NULL;
	if (!st)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW && !(*text = strdup(sbx_col(st, 0)))) {
		sbx_db_done(s, st);
		return -1;
	}
	sbx_db_done(s, st);
	return 0;
}

int sbx_apigw_load_deployed(struct sbx *s, const char *api_id, const char *stage_name,
			    struct sbx_apigw_deployed *out)
{
	sqlite3 *db = sbx_db_lock(s);
	struct deployed_cache *c = sbx_get_state(s, "apigateway");
	char *api_text = NULL, *dep_text = NULL;
	json_t *api = NULL, *dep = NULL, *stage;
	int rc = -1, hit;

	memset(out, 0, sizeof(*out));
	if (!c && (c = calloc(1, sizeof(*c))) != NULL)
		sbx_set_state(s, "apigateway", c);
	if (doc_text(s, db, "SELECT doc FROM apigw_apis WHERE id = ?1", api_id, NULL, &api_text))
		goto done;
	hit = c && api_text && c->api_text && strcmp(c->api_text, api_text) == 0 &&
	      strcmp(c->stage_name, stage_name) == 0;
	if (hit) {
		stage = c->stage;
	} else {
		api = api_text ? json_loads(api_text, 0, NULL) : NULL;
		rc = 1;
		if (!api)
			goto done;
		stage = json_object_get(json_object_get(api, "stages"), stage_name);
	}
	rc = 2;
	if (!stage)
		goto done;
	if (doc_text(s, db, "SELECT doc FROM apigw_deployments WHERE api_id = ?1 AND id = ?2", api_id,
		     sbx_str(stage, "deploymentId") ? sbx_str(stage, "deploymentId") : "", &dep_text)) {
		rc = -1;
		goto done;
	}
	if (!dep_text)
		goto done;
	out->stage = json_incref(stage);
	if (hit && strcmp(c->dep_text, dep_text) == 0) {
		out->api = json_incref(c->api);
		rc = 0;
		goto done;
	}
	dep = json_loads(dep_text, 0, NULL);
	out->api = dep ? json_incref(json_object_get(dep, "api")) : NULL;
	if (!out->api)
		goto done;
	rc = 0;
	if (c) {
		deployed_cache_clear(c);
		c->stage_name = strdup(stage_name);
		if (c->stage_name) {
			c->api_text = api_text;
			c->dep_text = dep_text;
			api_text = dep_text = NULL;
			c->stage = json_incref(out->stage);
			c->api = json_incref(out->api);
		}
	}
done:
	sbx_db_unlock(s);
	free(api_text);
	free(dep_text);
	json_decref(api);
	json_decref(dep);
	if (rc != 0)
		sbx_apigw_deployed_cleanup(s, out);
	return rc;
}

static void apigw_shutdown(struct sbx *s)
{
	struct deployed_cache *c;

	sbx_db_lock(s);
	c = sbx_get_state(s, "apigateway");
	sbx_set_state(s, "apigateway", NULL);
	sbx_db_unlock(s);
	if (c) {
		deployed_cache_clear(c);
		free(c);
	}
}

void sbx_apigw_deployed_cleanup(struct sbx *s, struct sbx_apigw_deployed *d)
{
	if (!d->stage && !d->api)
		return;
	/* under the store lock, like every other count change of the shared documents: the
	 * last release then happens after the others without leaning on jansson's memory
	 * ordering (its decrement is a release without an acquire) */
	sbx_db_lock(s);
	json_decref(d->stage);
	json_decref(d->api);
	sbx_db_unlock(s);
	d->stage = NULL;
	d->api = NULL;
}

const struct sbx_service sbx_svc_apigateway = {
	.name = "apigateway",
	.schema = "CREATE TABLE IF NOT EXISTS apigw_apis (id TEXT PRIMARY KEY, created INTEGER "
		  "NOT NULL, doc TEXT NOT NULL);"
		  "CREATE TABLE IF NOT EXISTS apigw_deployments (api_id TEXT NOT NULL, id TEXT "
		  "NOT NULL, created INTEGER NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (api_id, id));",
	.ops = NULL,
	.nops = 0,
	.init = NULL,
	.shutdown = apigw_shutdown,
	.route = route,
};
