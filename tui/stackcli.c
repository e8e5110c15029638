/* stackcli.c: the engine on the command line: target, client, progress lines, failures. */
#include "stackcli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void on_event(const struct stack_event *ev, void *ctx)
{
	const struct stackcli *sc = ctx;
	const struct stack_obs *o = ev->obs;

	if (ev->kind == STACK_EV_INFO) {
		fprintf(stderr, "cleanops %s: %s\n", sc->cmd, ev->message);
		return;
	}
	if (!sc->progress)
		return;
	switch (ev->kind) {
	case STACK_EV_START:
		if (strcmp(ev->message, "reading") != 0)
			printf("  ..    %-22s %-40s %s\n", ev->res->kind, o->name, ev->message);
		break;
	case STACK_EV_DONE:
		printf("  %-5s %-22s %-40s %s (%.1fs)\n", o->action[0] ? "done" : "ok", ev->res->kind,
		       o->name, o->action[0] ? o->action : stack_presence_name(o->presence),
		       o->elapsed_s);
		break;
	case STACK_EV_FAILED:
	case STACK_EV_SKIPPED:
		printf("  FAIL  %-22s %-40s %s: %s\n", ev->res->kind, o->name, o->err.code,
		       o->err.message);
		break;
	case STACK_EV_INFO:
		break;
	}
	fflush(stdout);
}

int stackcli_open(struct stackcli *sc, const char *cmd, const struct cli_args *a, int progress)
{
	struct aws_client_opts opts;
	struct stack_opts so = { 0 };
	struct aws_error err = { 0 };
	char errbuf[512];

	memset(sc, 0, sizeof(*sc));
	sc->cmd = cmd;
	sc->json = cli_has(a, "json");
	sc->progress = progress && !sc->json;
	if (tui_target_resolve(a, &sc->target, errbuf, sizeof(errbuf))) {
		fprintf(stderr, "error: ConfigError: %s\n", errbuf);
		return 1;
	}
	tui_target_opts(&sc->target, &opts);
	if (aws_client_new(&opts, &sc->client, &err))
		goto fail;
	so.client = sc->client;
	so.stack = cli_get(a, "stack");
	so.email = cli_get(a, "email");
	so.zip_dir = cli_get(a, "zips");
	if (so.zip_dir && !*so.zip_dir)
		so.zip_dir = NULL;
	so.target_label = sc->target.label;
	so.endpoint = sc->target.endpoint[0] ? sc->target.endpoint : NULL;
	so.on_event = on_event;
	so.event_ctx = sc;
	if (stack_new(&so, &sc->stack, &err))
		goto fail;
	return 0;
fail:
	fprintf(stderr, "error: %s: %s\n", err.code, err.message);
	if (sc->target.is_sandbox && strcmp(err.code, AWS_ERR_NETWORK) == 0)
		fprintf(stderr, "hint: the sandbox is not running; start it with 'cleanops sandbox start'\n");
	stackcli_close(sc);
	return 1;
}

void stackcli_close(struct stackcli *sc)
{
	stack_free(sc->stack);
	aws_client_free(sc->client);
	sc->stack = NULL;
	sc->client = NULL;
}

int stackcli_print_failures(const struct stackcli *sc)
{
	int n = 0;

	if (stack_error(sc->stack)[0]) {
		fprintf(stderr, "error: %s\n", stack_error(sc->stack));
		n++;
	}
	for (size_t i = 0; i < stack_count(sc->stack); i++) {
		const struct stack_resource *r = stack_resource_at(sc->stack, i);
		const struct stack_obs *o = stack_obs_at(sc->stack, i);

		if (!o->failed || strcmp(o->err.code, "Skipped") == 0)
			continue;
		n++;
		fprintf(stderr, "error: %s %s: %s: %s\n", r->kind, o->name[0] ? o->name : r->base,
			o->err.code, o->err.message);
		if (o->hint[0])
			fprintf(stderr, "  what to do: %s\n", o->hint);
	}
	return n;
}

int stackcli_interactive(void)
{
	return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
}

void stackcli_print_json(const struct stackcli *sc)
{
	json_t *doc = stack_report_json(sc->stack);

	json_object_set_new(doc, "target", json_string(sc->target.label));
	json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(doc);
}
