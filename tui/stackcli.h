/* stackcli.h: what deploy, status and destroy share: open the engine on the target, print progress. */
#ifndef CLEANOPS_TUI_STACKCLI_H
#define CLEANOPS_TUI_STACKCLI_H

#include "aws/stack/stack.h"
#include "cli.h"
#include "target.h"

/* An open engine on the resolved target. */
struct stackcli {
	struct tui_target target;
	struct aws_client *client;
	struct stack *stack;
	int json;     /* --json: no progress, one document on stdout */
	int progress; /* print per-resource progress lines */
	const char *cmd;
};

/* Resolve the target, build the client and the engine (with --stack, --email, --zips).
 * Returns 0, or 1 after printing the reason to stderr. */
int stackcli_open(struct stackcli *sc, const char *cmd, const struct cli_args *a, int progress);
/* Free what stackcli_open made. */
void stackcli_close(struct stackcli *sc);
/* Print every failed resource: what, the AWS error, what to do (stderr). Returns failures. */
int stackcli_print_failures(const struct stackcli *sc);
/* Nonzero when stdin and stdout are terminals (ask before changing anything). */
int stackcli_interactive(void);
/* Print the report (--json) to stdout. */
void stackcli_print_json(const struct stackcli *sc);

#endif
