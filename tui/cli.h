/* cli.h: subcommands as rows, and the shared option parser of the command line. */
#ifndef CLEANOPS_TUI_CLI_H
#define CLEANOPS_TUI_CLI_H

#include <stddef.h>

#define CLI_MAX_POS 16
#define CLI_MAX_OPTS 32

/* Parsed arguments: positionals and --options, in any order. Strings borrowed from argv. */
struct cli_args {
	const char *pos[CLI_MAX_POS];
	int npos;
	const char *names[CLI_MAX_OPTS];
	const char *values[CLI_MAX_OPTS]; /* "" for a flag given without a value */
	int nopts;
};

/* One subcommand: a const row (tmux's cmd-*.c style). */
struct cli_cmd {
	const char *name;     /* "call" */
	const char *usage;    /* "SERVICE OPERATION [JSON | -]" */
	const char *summary;  /* one line for --help */
	const char *options;  /* its own options: "count=,rate=,wait?,json" (= takes a value,
			       * ? takes an optional =value, bare: a flag) */
	int min_pos, max_pos; /* positional argument counts */
	int (*exec)(const struct cli_cmd *self, struct cli_args *args);
};

/* The options every command takes (target, endpoint, region, profile, stack). */
extern const char cli_common_options[];

/* Parse argv (after the subcommand name) against cmd's options plus the common ones.
 * Returns 0, or 2 after printing a usage error to stderr. */
int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, struct cli_args *out);
/* The value of option name, "" for a bare flag, or NULL when absent (last one wins). */
const char *cli_get(const struct cli_args *a, const char *name);
/* Nonzero when option name was given. */
int cli_has(const struct cli_args *a, const char *name);
/* Print "usage: cleanops NAME USAGE" to stderr and return 2. */
int cli_usage(const struct cli_cmd *cmd);

/* The table of every subcommand, NULL-terminated. */
extern const struct cli_cmd *const cli_cmds[];

#endif
