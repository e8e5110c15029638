/* cmd-watch.c: `cleanops watch`: the live monitor's events as lines (or JSON lines). */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "aws/client/aws.h"
#include "aws/stack/monitor.h"
#include "aws/stack/names.h"
#include "cli.h"
#include "target.h"

/* Sink: one line per event on stdout, flushed so pipes see it at once. */
static void print_event(const struct monitor_event *ev, void *ctx)
{
	const int *json = ctx;

	if (*json) {
		json_t *j = monitor_event_json(ev);

		if (j && json_dumpf(j, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) == 0)
			fputc('\n', stdout);
		json_decref(j);
	} else {
		char line[1600];

		monitor_event_line(ev, line, sizeof(line));
		puts(line);
	}
	fflush(stdout);
}

static int watch_exec(const struct cli_cmd *self, struct cli_args *a)
{
	struct stack_monitor_opts mo;
	struct stack_monitor *m = NULL;
	struct tui_target t;
	struct aws_client_opts copts;
	struct aws_client *c = NULL;
	struct aws_error err = {0};
	const char *stack = cli_get(a, "stack");
	int json = cli_has(a, "json"), sig = 0, rc = 1;
	char errbuf[512];
	sigset_t set;

	(void)self;
	if (stack && !stack_name_valid(stack)) {
		fprintf(stderr, "cleanops watch: invalid stack name '%s'\n", stack);
		return 2;
	}
	/* Block the stop signals before any thread starts, so only sigwait below sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (tui_target_resolve(a, &t, errbuf, sizeof(errbuf))) {
		fprintf(stderr, "error: ConfigError: %s\n", errbuf);
		return 1;
	}
	tui_target_opts(&t, &copts);
	copts.timeout_ms = 30000; /* above the monitor's long polls */
	memset(&mo, 0, sizeof(mo));
	mo.stack = stack;
	mo.deliveries = cli_has(a, "peek") ? STACK_MON_PEEK : STACK_MON_CONSUME;
	mo.sink = print_event;
	mo.ctx = &json;
	if (aws_client_new(&copts, &c, &err) || stack_monitor_start(c, &mo, &m, &err))
		goto out;
	if (!json)
		fprintf(stderr, "watching stack %s on %s; Ctrl-C stops\n",
			stack ? stack : STACK_DEFAULT, t.label);
	while (sigwait(&set, &sig) != 0)
		;
	rc = 0;
out:
	stack_monitor_stop(m);
	if (err.code[0])
		fprintf(stderr, "error: %s: %s\n", err.code, err.message);
	aws_client_free(c);
	return rc;
}

const struct cli_cmd cmd_watch = {
	.name = "watch",
	.usage = "[--json] [--peek]",
	.summary = "print the stack's live events (queues, stream, deliveries, logs) until Ctrl-C",
	.options = "json,peek",
	.min_pos = 0,
	.max_pos = 0,
	.exec = watch_exec,
};
