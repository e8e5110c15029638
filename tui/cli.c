/* cli.c: the option parser shared by every subcommand. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

const char cli_common_options[] = "target=,endpoint=,region=,profile=,stack=,help";

/* Find name in an option spec; returns the kind ('=', '?', ' ') or 0 when absent. */
static char spec_kind(const char *spec, const char *name, size_t len)
{
	const char *p = spec;

	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		size_t base = n;
		char kind = ' ';

		if (n && (p[n - 1] == '=' || p[n - 1] == '?')) {
			kind = p[n - 1];
			base = n - 1;
		}
		if (base == len && strncmp(p, name, len) == 0)
			return kind;
		if (!end)
			break;
		p = end + 1;
	}
	return 0;
}

int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, struct cli_args *out)
{
	int only_pos = 0;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (only_pos || a[0] != '-' || a[1] != '-' || strcmp(a, "-") == 0) {
			if (a[0] == '-' && a[1] != '\0' && a[1] != '-' && !only_pos) {
				fprintf(stderr, "cleanops %s: unknown option '%s'\n", cmd->name, a);
				return cli_usage(cmd);
			}
			if (out->npos == CLI_MAX_POS) {
				fprintf(stderr, "cleanops %s: too many arguments\n", cmd->name);
				return 2;
			}
			out->pos[out->npos++] = a;
			continue;
		}
		if (a[2] == '\0') {
			only_pos = 1;
			continue;
		}
		const char *name = a + 2;
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		char kind = spec_kind(cmd->options ? cmd->options : "", name, len);

		if (!kind)
			kind = spec_kind(cli_common_options, name, len);
		if (!kind) {
			fprintf(stderr, "cleanops %s: unknown option '--%.*s'\n", cmd->name, (int)len, name);
			return cli_usage(cmd);
		}
		const char *value = "";
		if (kind == '=') {
			if (eq)
				value = eq + 1;
			else if (i + 1 < argc)
				value = argv[++i];
			else {
				fprintf(stderr, "cleanops %s: --%.*s needs a value\n", cmd->name, (int)len, name);
				return 2;
			}
		} else if (eq) {
			if (kind != '?') {
				fprintf(stderr, "cleanops %s: --%.*s takes no value\n", cmd->name, (int)len, name);
				return 2;
			}
			value = eq + 1;
		}
		if (out->nopts == CLI_MAX_OPTS) {
			fprintf(stderr, "cleanops %s: too many options\n", cmd->name);
			return 2;
		}
		/* names point into argv; terminate them by length on lookup */
		out->names[out->nopts] = name;
		out->values[out->nopts] = value;
		out->nopts++;
	}
	if (cli_has(out, "help"))
		return 0;
	if (out->npos < cmd->min_pos || (cmd->max_pos >= 0 && out->npos > cmd->max_pos)) {
		fprintf(stderr, "cleanops %s: wrong number of arguments\n", cmd->name);
		return cli_usage(cmd);
	}
	return 0;
}

/* Compare an option as given ("count=5" or "count") with a bare name. */
static int name_is(const char *given, const char *name)
{
	size_t n = strlen(name);

	return strncmp(given, name, n) == 0 && (given[n] == '\0' || given[n] == '=');
}

const char *cli_get(const struct cli_args *a, const char *name)
{
	const char *v = NULL;

	for (int i = 0; i < a->nopts; i++)
		if (name_is(a->names[i], name))
			v = a->values[i];
	return v;
}

int cli_has(const struct cli_args *a, const char *name)
{
	return cli_get(a, name) != NULL;
}

int cli_usage(const struct cli_cmd *cmd)
{
	fprintf(stderr, "usage: cleanops %s %s\n", cmd->name, cmd->usage);
	return 2;
}
