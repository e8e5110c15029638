/* endpoint.c: a service's URL and signing region: overrides, real AWS hosts, partitions. */
#include "endpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"

/* The region a client signs in when it has none and talks to an override. */
#define FALLBACK_REGION "us-east-1"

/* A region must be a host label (botocore validate_region_name). */
static int region_valid(const char *r)
{
	size_t n = strlen(r);

	if (n == 0 || n > 63 || r[0] == '-' || r[n - 1] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = r[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return 0;
	}
	return 1;
}

/* Nonzero when url is http:// or https:// with a host and no whitespace; *auth_end is
 * where its authority (host and port) ends. */
static int url_valid(const char *url, size_t *auth_end)
{
	size_t skip, hb, he;

	if (strncasecmp(url, "https://", 8) == 0)
		skip = 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		skip = 7;
	else
		return 0;
	for (size_t i = 0; url[i]; i++)
		if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f)
			return 0;
	/* The authority ends at the path, query or fragment; the host follows any userinfo. */
	he = skip + strcspn(url + skip, "/?#");
	hb = skip;
	for (size_t i = skip; i < he; i++)
		if (url[i] == '@')
			hb = i + 1;
	*auth_end = he;
	return he > hb && url[hb] != ':';
}

/* Check an override URL and copy it without trailing slashes. Returns a new string
 * (caller frees), or NULL with err. */
static char *override_url(const char *url, struct aws_error *err)
{
	size_t len = strlen(url), he = 0;
	char *res;

	if (!url_valid(url, &he)) {
		aws_error_set(err, 0, AWS_ERR_CONFIG,
			      "invalid endpoint URL '%s': expected http://HOST[:PORT] or "
			      "https://HOST[:PORT]", url);
		return NULL;
	}
	while (len > he && url[len - 1] == '/')
		len--;
	res = strndup(url, len);
	if (!res)
		aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
	return res;
}

int aws_endpoint_resolve(const struct aws_service *svc, const char *region,
			 const char *explicit_url, const struct aws_config *cfg,
			 struct aws_endpoint *out, struct aws_error *err)
{
	struct aws_endpoint e = { 0 };
	const char *over, *sign = NULL;
	struct aws_buf b;
	int rc = -1;

	aws_buf_init(&b, 0);
	if (region && !region[0])
		region = NULL;
	if (region && !region_valid(region)) {
		aws_error_set(err, 0, AWS_ERR_CONFIG,
			      "invalid region '%s': a region is letters, digits and '-' "
			      "(for example eu-west-1)", region);
		goto fail;
	}
	over = explicit_url && explicit_url[0]
		       ? explicit_url
		       : aws_config_endpoint(cfg, svc->config_key, svc->env_key);
	if (over) {
		e.url = override_url(over, err);
		if (!e.url)
			goto fail;
		e.overridden = 1;
		sign = region ? region : FALLBACK_REGION;
	} else if (svc->global) {
		/* One endpoint per partition (IAM). */
		if (region && strncmp(region, "cn-", 3) == 0) {
			if (aws_buf_printf(&b, "https://%s.cn-north-1.amazonaws.com.cn",
					   svc->host_prefix)) {
				aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
				goto fail;
			}
			sign = "cn-north-1";
		} else if (region && strncmp(region, "us-gov-", 7) == 0) {
			if (aws_buf_printf(&b, "https://%s.us-gov.amazonaws.com", svc->host_prefix)) {
				aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
				goto fail;
			}
			sign = "us-gov-west-1";
		} else {
			if (aws_buf_printf(&b, "https://%s.amazonaws.com", svc->host_prefix)) {
				aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
				goto fail;
			}
			sign = "us-east-1";
		}
	} else if (!region) {
		aws_error_set(err, 0, AWS_ERR_CONFIG,
			      "no region for %s: pass --region, set AWS_REGION or "
			      "AWS_DEFAULT_REGION, or add 'region = ...' to the profile in "
			      "~/.aws/config", svc->name);
		goto fail;
	} else {
		if (aws_buf_printf(&b, "https://%s.%s.amazonaws.com%s", svc->host_prefix, region,
				   strncmp(region, "cn-", 3) == 0 ? ".cn" : "")) {
			aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
			goto fail;
		}
		sign = region;
	}
	if (!e.url) {
		e.url = aws_buf_take(&b);
		if (!e.url) {
			aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
			goto fail;
		}
	}
	e.signing_region = strdup(sign);
	if (!e.signing_region) {
		aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
		goto fail;
	}
	*out = e;
	memset(&e, 0, sizeof e);
	rc = 0;
fail:
	aws_endpoint_cleanup(&e);
	aws_buf_cleanup(&b);
	return rc;
}

void aws_endpoint_cleanup(struct aws_endpoint *e)
{
	if (!e)
		return;
	free(e->url);
	free(e->signing_region);
	memset(e, 0, sizeof *e);
}
