/* api_url.c: locate the stack's REST API by name and build its prod invoke URL. */
#include "api_url.h"

#include <stdio.h>
#include <string.h>

#include "names.h"

int stack_url_is_loopback(const char *url)
{
	const char *h = url ? strstr(url, "://") : NULL;

	if (!h)
		return 0;
	h += 3;
	return strncmp(h, "127.", 4) == 0 || strncmp(h, "localhost", 9) == 0 ||
	       strncmp(h, "[::1]", 5) == 0;
}

int stack_api_invoke_base(const char *endpoint, const char *region, const char *api_id,
			  const char *stage, char *out, size_t n)
{
	int len;

	if (endpoint && *endpoint) {
		size_t el = strlen(endpoint);

		while (el > 0 && endpoint[el - 1] == '/')
			el--;
		len = snprintf(out, n, "%.*s/restapis/%s/%s/_user_request_/", (int)el, endpoint,
			       api_id, stage);
	} else {
		len = snprintf(out, n, "https://%s.execute-api.%s.amazonaws.com/%s/", api_id,
			       region && *region ? region : "us-east-1", stage);
	}
	return len < 0 || (size_t)len >= n ? -1 : 0;
}

/* What the page callbacks look for and find. */
struct api_find {
	const char *name;
	char id[128];
	char path[512];
	int found;
};

static int api_page(json_t *page, void *ctx)
{
	struct api_find *f = ctx;
	json_t *items = json_object_get(page, "items"), *it;
	size_t i;

	json_array_foreach(items, i, it) {
		const char *name = json_string_value(json_object_get(it, "name"));
		const char *id = json_string_value(json_object_get(it, "id"));

		if (name && id && strcmp(name, f->name) == 0) {
			snprintf(f->id, sizeof(f->id), "%s", id);
			f->found = 1;
			return 1;
		}
	}
	return 0;
}

static int resource_page(json_t *page, void *ctx)
{
	struct api_find *f = ctx;
	json_t *items = json_object_get(page, "items"), *it;
	size_t i;

	json_array_foreach(items, i, it) {
		const char *path = json_string_value(json_object_get(it, "path"));

		if (path && json_object_get(json_object_get(it, "resourceMethods"), "POST")) {
			snprintf(f->path, sizeof(f->path), "%s", path);
			f->found = 1;
			return 1;
		}
	}
	return 0;
}

int stack_api_url(struct aws_client *c, const char *stack, char *out, size_t n,
		  char *api_id, size_t id_n, struct aws_error *err)
{
	struct api_find f;
	char name[128], base[1024];
	const char *ep = NULL;
	json_t *in = NULL;
	int rc = -1, len;

	memset(&f, 0, sizeof(f));
	if (stack_name(stack, STACK_API, name, sizeof(name)))
		return aws_error_set(err, 0, AWS_ERR_PARAM, "stack name too long");
	f.name = name;
	in = json_pack("{s:i}", "limit", 500);
	if (!in || aws_paginate(c, "apigateway", "GetRestApis", in, api_page, &f, 0, err))
		goto out;
	if (!f.found) {
		aws_error_set(err, 0, STACK_ERR_NO_API,
			      "no REST API named %s; deploy the stack first ('cleanops deploy')", name);
		goto out;
	}
	json_decref(in);
	in = json_pack("{s:s, s:i, s:[s]}", "restApiId", f.id, "limit", 500, "embed", "methods");
	f.found = 0;
	if (!in || aws_paginate(c, "apigateway", "GetResources", in, resource_page, &f, 0, err))
		goto out;
	if (aws_client_endpoint_overridden(c, "apigateway") &&
	    stack_url_is_loopback(aws_client_endpoint(c, "apigateway")))
		ep = aws_client_endpoint(c, "apigateway");
	len = -1;
	if (stack_api_invoke_base(ep, aws_client_region(c), f.id, STACK_API_STAGE, base,
				  sizeof(base)) == 0)
		len = snprintf(out, n, "%s%s", base, f.found && f.path[0] == '/' ? f.path + 1 : "");
	if (len < 0 || (size_t)len >= n) {
		aws_error_set(err, 0, AWS_ERR_PARAM, "invoke URL too long");
		goto out;
	}
	if (api_id)
		snprintf(api_id, id_n, "%s", f.id);
	rc = 0;
out:
	json_decref(in);
	return rc;
}
