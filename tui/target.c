/* target.c: choose the target of a command: the sandbox, real AWS, or a given endpoint. */
#include "target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/client/config.h"

/* Credentials the sandbox accepts (any are, unless strict signing is on). */
static char sbx_key[] = "cleanops-sandbox";
static char sbx_secret[] = "cleanops-sandbox-secret";

int tui_sandbox_dir(char *out, size_t n)
{
	const char *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	int len;

	if (xdg && *xdg)
		len = snprintf(out, n, "%s/cleanops/sandbox", xdg);
	else
		len = snprintf(out, n, "%s/.local/state/cleanops/sandbox", home ? home : ".");
	return len < 0 || (size_t)len >= n ? -1 : 0;
}

int tui_sandbox_port(const char *data_dir)
{
	char path[1024], buf[32];
	FILE *f;
	long port = 0;

	if (snprintf(path, sizeof(path), "%s/sandbox.port", data_dir) >= (int)sizeof(path))
		return 0;
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f)) {
		char *end;

		port = strtol(buf, &end, 10);
		if (end == buf || port <= 0 || port > 65535)
			port = 0;
	}
	fclose(f);
	return (int)port;
}

static int is_loopback_url(const char *url)
{
	return strstr(url, "://127.") || strstr(url, "://localhost") || strstr(url, "://[::1]");
}

int tui_target_resolve(const struct cli_args *a, struct tui_target *t, char *errbuf, size_t n)
{
	const char *target = cli_get(a, "target");
	const char *endpoint = cli_get(a, "endpoint");
	const char *region = cli_get(a, "region");
	const char *profile = cli_get(a, "profile");
	struct aws_config cfg;
	struct aws_error err = {0};
	int have_creds = 0;

	memset(t, 0, sizeof(*t));
	if (!target || !*target)
		target = getenv("CLEANOPS_TARGET");
	if (target && *target && strcmp(target, "sandbox") != 0 && strcmp(target, "aws") != 0) {
		snprintf(errbuf, n, "unknown target '%s' (sandbox or aws)", target);
		return -1;
	}
	if (region)
		snprintf(t->region, sizeof(t->region), "%s", region);
	if (profile)
		snprintf(t->profile, sizeof(t->profile), "%s", profile);
	if (aws_config_load(profile, region, &cfg, &err) == 0) {
		have_creds = cfg.have_credentials;
		aws_config_cleanup(&cfg);
	} else if (!target || strcmp(target, "sandbox") != 0) {
		snprintf(errbuf, n, "%s", err.message);
		return -1;
	}
	if (endpoint && *endpoint) {
		snprintf(t->endpoint, sizeof(t->endpoint), "%s", endpoint);
		snprintf(t->label, sizeof(t->label), "%s", endpoint);
		if (!have_creds && is_loopback_url(endpoint))
			t->use_creds = 1;
	} else if ((target && strcmp(target, "sandbox") == 0) || (!target && !have_creds)) {
		char dir[900];
		int port;

		if (tui_sandbox_dir(dir, sizeof(dir))) {
			snprintf(errbuf, n, "sandbox data directory path too long");
			return -1;
		}
		port = tui_sandbox_port(dir);
		snprintf(t->endpoint, sizeof(t->endpoint), "http://127.0.0.1:%d", port ? port : 4566);
		snprintf(t->label, sizeof(t->label), "sandbox");
		t->is_sandbox = 1;
		t->use_creds = 1;
		if (!region)
			snprintf(t->region, sizeof(t->region), "us-east-1");
	} else {
		snprintf(t->label, sizeof(t->label), "aws");
	}
	if (t->use_creds) {
		t->creds.access_key_id = sbx_key;
		t->creds.secret_access_key = sbx_secret;
	}
	return 0;
}

int tui_target_have_credentials(const char *profile, const char *region, char *errbuf,
				size_t n)
{
	struct aws_config cfg;
	struct aws_error err = {0};
	int have;

	if (aws_config_load(profile, region, &cfg, &err) != 0) {
		snprintf(errbuf, n, "%s", err.message);
		return -1;
	}
	have = cfg.have_credentials ? 1 : 0;
	aws_config_cleanup(&cfg);
	return have;
}

void tui_target_opts(const struct tui_target *t, struct aws_client_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->endpoint = t->endpoint[0] ? t->endpoint : NULL;
	opts->region = t->region[0] ? t->region : NULL;
	opts->profile = t->profile[0] ? t->profile : NULL;
	opts->credentials = t->use_creds ? &t->creds : NULL;
}
