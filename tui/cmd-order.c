/* cmd-order.c: `cleanops order`: submit orders through the API, optionally follow them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/client/aws.h"
#include "aws/stack/api_url.h"
#include "aws/stack/names.h"
#include "aws/stack/order.h"
#include "cli.h"
#include "target.h"

/* Parse option name as a long in [lo, hi] (def when absent). Returns 0, or -1 after a message. */
static int opt_long(const struct cli_args *a, const char *name, long lo, long hi, long def,
		    long *out)
{
	const char *v = cli_get(a, name);
	char *end;
	long n;

	*out = def;
	if (!v)
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (!*v || *end || errno || n < lo || n > hi) {
		fprintf(stderr, "cleanops order: --%s must be a whole number from %ld to %ld\n",
			name, lo, hi);
		return -1;
	}
	*out = n;
	return 0;
}

/* --rate: a positive number of orders a second (0 or absent: unlimited). */
static int opt_rate(const struct cli_args *a, double *out)
{
	const char *v = cli_get(a, "rate");
	char *end;
	double r;

	*out = 0;
	if (!v)
		return 0;
	errno = 0;
	r = strtod(v, &end);
	if (!*v || *end || errno || r < 0 || r > 1e6) {
		fprintf(stderr, "cleanops order: --rate must be a number of orders a second\n");
		return -1;
	}
	*out = r;
	return 0;
}

static void print_human(const struct stack_order_result *r, int waited)
{
	printf("orders: %ld submitted, %ld accepted, %ld rejected, %ld failed in %.2f s",
	       r->submitted, r->accepted, r->rejected, r->failed, r->elapsed_s);
	if (r->elapsed_s > 0)
		printf(" (%.0f/s)", (double)r->submitted / r->elapsed_s);
	printf("\n");
	if (waited) {
		printf("followed: %ld stored in DynamoDB, %ld notified through SNS\n", r->stored,
		       r->notified);
		if (r->latencies)
			printf("latency POST to delivery (ms): p50 %.1f  p95 %.1f  p99 %.1f  max %.1f\n",
			       r->p50, r->p95, r->p99, r->max);
	}
}

static int order_exec(const struct cli_cmd *self, struct cli_args *a)
{
	struct stack_order_opts o;
	struct stack_order_result r;
	struct tui_target t;
	struct aws_client_opts copts;
	struct aws_client *c = NULL;
	struct aws_error err = {0};
	const char *stack = cli_get(a, "stack"), *wait = cli_get(a, "wait");
	int json = cli_has(a, "json");
	long count, conc, qty, wait_s = 0;
	char url[2048], errbuf[512];
	FILE *msgs;
	int rc = 1;

	(void)self;
	memset(&o, 0, sizeof(o));
	if (stack && !stack_name_valid(stack)) {
		fprintf(stderr, "cleanops order: invalid stack name '%s'\n", stack);
		return 2;
	}
	if (opt_long(a, "count", 1, 10000000, 1, &count) ||
	    opt_long(a, "concurrency", 1, 256, 4, &conc) ||
	    opt_long(a, "quantity", -1000000, 1000000, 1, &qty) || opt_rate(a, &o.rate))
		return 2;
	if (wait) {
		if (!*wait)
			wait_s = 60;
		else if (opt_long(a, "wait", 1, 86400, 60, &wait_s))
			return 2;
	}
	if (cli_has(a, "body") && (cli_has(a, "item") || cli_has(a, "customer") ||
				   cli_has(a, "quantity"))) {
		fprintf(stderr, "cleanops order: --body is sent as is; it excludes --item, "
				"--quantity and --customer\n");
		return 2;
	}
	o.stack = stack;
	o.count = count;
	o.concurrency = (int)conc;
	o.item = cli_get(a, "item");
	o.quantity = qty;
	o.customer = cli_get(a, "customer");
	o.body = cli_get(a, "body");
	o.wait_s = (int)wait_s;
	if (tui_target_resolve(a, &t, errbuf, sizeof(errbuf))) {
		fprintf(stderr, "error: ConfigError: %s\n", errbuf);
		return 1;
	}
	tui_target_opts(&t, &copts);
	if (aws_client_new(&copts, &c, &err))
		goto out;
	if (cli_get(a, "url") && *cli_get(a, "url")) {
		snprintf(url, sizeof(url), "%s", cli_get(a, "url"));
	} else if (stack_api_url(c, stack, url, sizeof(url), NULL, 0, &err)) {
		goto out;
	}
	o.url = url;
	if (stack_order_run(c, &o, &r, &err))
		goto out;
	if (json) {
		json_t *j = stack_order_result_json(&r, wait_s > 0);

		if (!j || json_dumpf(j, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER |
						 JSON_REAL_PRECISION(10))) {
			json_decref(j);
			goto out;
		}
		fputc('\n', stdout);
		json_decref(j);
	} else {
		print_human(&r, wait_s > 0);
	}
	msgs = json ? stderr : stdout;
	if (r.reject_msg[0])
		fprintf(msgs, "rejected: %s\n", r.reject_msg);
	if (r.fail_msg[0])
		fprintf(msgs, "failed: %s\n", r.fail_msg);
	if (wait_s > 0 && r.wait_msg[0] && (r.stored < r.accepted || r.notified < r.accepted))
		fprintf(msgs, "not followed to the end: %s\n", r.wait_msg);
	rc = r.accepted == r.submitted &&
	     (wait_s == 0 || (r.stored == r.accepted && r.notified == r.accepted)) ? 0 : 1;
out:
	if (err.code[0]) {
		fprintf(stderr, "error: %s: %s\n", err.code, err.message);
		if (t.is_sandbox && strcmp(err.code, AWS_ERR_NETWORK) == 0)
			fprintf(stderr, "hint: the sandbox is not running; start it with "
					"'cleanops sandbox start'\n");
	}
	aws_client_free(c);
	return rc;
}

const struct cli_cmd cmd_order = {
	.name = "order",
	.usage = "[--count N] [--rate R] [--concurrency C] [--item S] [--quantity Q] "
		 "[--customer S] [--body JSON] [--wait[=SEC]] [--json] [--url INVOKE_URL]",
	.summary = "submit orders through the API; with --wait follow them to DynamoDB and SNS",
	.options = "count=,rate=,concurrency=,item=,quantity=,customer=,body=,wait?,json,url=",
	.min_pos = 0,
	.max_pos = 0,
	.exec = order_exec,
};
