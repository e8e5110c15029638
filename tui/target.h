/* target.h: which AWS the commands talk to: the sandbox, an AWS profile, or an endpoint. */
#ifndef CLEANOPS_TUI_TARGET_H
#define CLEANOPS_TUI_TARGET_H

#include "aws/client/aws.h"
#include "cli.h"

/* A resolved target. Plain data; no cleanup needed. */
struct tui_target {
	int is_sandbox;         /* the local sandbox */
	char endpoint[512];     /* "" on real AWS without overrides */
	char region[64];        /* "" when left to the config */
	char profile[128];      /* "" when left to the config */
	char label[640];        /* for headers and state files: "sandbox", "aws:eu-west-1", URL */
	struct aws_credentials creds; /* borrowed static strings for the sandbox, else unused */
	int use_creds;
};

/* The sandbox data directory: $XDG_STATE_HOME/cleanops/sandbox or
 * ~/.local/state/cleanops/sandbox (written into out). Returns 0 or -1 when too long. */
int tui_sandbox_dir(char *out, size_t n);
/* The port of the sandbox running on data dir (from its sandbox.port file), or 0. */
int tui_sandbox_port(const char *data_dir);

/* Resolve --target, --endpoint, --region, --profile and the environment (CLEANOPS_TARGET;
 * with no target and no AWS credentials anywhere: the sandbox). Returns 0, or -1 with a
 * message in errbuf. */
int tui_target_resolve(const struct cli_args *a, struct tui_target *t, char *errbuf, size_t n);
/* Are AWS credentials found for profile (NULL: AWS_PROFILE or "default") with region?
 * Returns 1 or 0; -1 with a message in errbuf when the config files are unreadable. Loads
 * the config as tui_target_resolve does (a profile's credential_process runs). */
int tui_target_have_credentials(const char *profile, const char *region, char *errbuf,
				size_t n);
/* Client options for a target (pointers into t; t must outlive the client). */
void tui_target_opts(const struct tui_target *t, struct aws_client_opts *opts);

#endif
