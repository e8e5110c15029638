/* main.c: cleanops' entry point: dispatch to a subcommand row, or open the console. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "console.h"

extern const struct cli_cmd cmd_call;
extern const struct cli_cmd cmd_deploy;
extern const struct cli_cmd cmd_destroy;
extern const struct cli_cmd cmd_package;
extern const struct cli_cmd cmd_sandbox;
extern const struct cli_cmd cmd_status;
extern const struct cli_cmd cmd_order;
extern const struct cli_cmd cmd_watch;

const struct cli_cmd *const cli_cmds[] = {
	&cmd_call,
	&cmd_deploy,
	&cmd_destroy,
	&cmd_package,
	&cmd_sandbox,
	&cmd_status,
	&cmd_order,
	&cmd_watch,
	NULL,
};

static void print_help(FILE *f)
{
	fprintf(f, "cleanops %s: the operator console for the POC serverless order pipeline\n\n"
		   "usage: cleanops [COMMAND] [OPTIONS]\n\ncommands:\n", CLEANOPS_VERSION);
	for (int i = 0; cli_cmds[i]; i++)
		fprintf(f, "  %-9s %s\n", cli_cmds[i]->name, cli_cmds[i]->summary);
	fprintf(f, "\ncommon options: --target sandbox|aws, --endpoint URL, --region R, "
		   "--profile P, --stack NAME\n"
		   "'cleanops COMMAND --help' shows a command's usage.\n");
}

int main(int argc, char **argv)
{
	struct cli_args args;
	int rc;

	if ((argc < 2 || argv[1][0] == '-') && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) &&
	    (argc < 2 || (strcmp(argv[1], "--help") != 0 && strcmp(argv[1], "-h") != 0 &&
			  strcmp(argv[1], "--version") != 0)))
		return tui_console_run(argc, argv);
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		print_help(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("cleanops %s\n", CLEANOPS_VERSION);
		return 0;
	}
	for (int i = 0; cli_cmds[i]; i++) {
		const struct cli_cmd *cmd = cli_cmds[i];

		if (strcmp(cmd->name, argv[1]) != 0)
			continue;
		rc = cli_parse(cmd, argc - 2, argv + 2, &args);
		if (rc)
			return rc;
		if (cli_has(&args, "help")) {
			printf("usage: cleanops %s %s\n%s\n", cmd->name, cmd->usage, cmd->summary);
			return 0;
		}
		return cmd->exec(cmd, &args);
	}
	fprintf(stderr, "cleanops: unknown command '%s' (see 'cleanops --help')\n", argv[1]);
	return 2;
}
