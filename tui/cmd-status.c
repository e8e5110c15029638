/* cmd-status.c: `cleanops status [--json]`: every resource present, missing or drifted; healthy or not. */
#include <stdio.h>
#include <string.h>

#include "stackcli.h"

static int status_exec(const struct cli_cmd *self, struct cli_args *a)
{
	struct stackcli sc;
	int rc, healthy;

	(void)self;
	if (stackcli_open(&sc, "status", a, 0))
		return 1;
	rc = stack_run(sc.stack, STACK_OP_PLAN);
	healthy = rc == 0 && stack_healthy(sc.stack) && stack_dead_letters(sc.stack) == 0;
	if (sc.json) {
		stackcli_print_json(&sc);
	} else {
		printf("stack %s on %s (account %s, %s): %s\n", stack_stack_name(sc.stack),
		       sc.target.label, stack_account(sc.stack), stack_region(sc.stack),
		       healthy ? "healthy" : "NOT healthy");
		for (size_t i = 0; i < stack_count(sc.stack); i++) {
			const struct stack_resource *r = stack_resource_at(sc.stack, i);
			const struct stack_obs *o = stack_obs_at(sc.stack, i);

			printf("  %-13s %-22s %-40s %s%s%s\n",
			       o->failed ? "ERROR" : stack_presence_name(o->presence), r->kind, o->name,
			       o->detail[0] ? o->detail : "", o->detail[0] && o->ident[0] ? "  " : "",
			       o->ident);
		}
		if (stack_invoke_url(sc.stack)[0])
			printf("invoke URL: %s\n", stack_invoke_url(sc.stack));
		if (stack_dead_letters(sc.stack) > 0)
			printf("dead letters: %ld message(s) in the dead-letter queues: orders that "
			       "failed for good (read them with 'cleanops call sqs ReceiveMessage')\n",
			       stack_dead_letters(sc.stack));
		else if (!healthy)
			printf("run 'cleanops deploy' to create or repair what is missing or drifted\n");
	}
	stackcli_print_failures(&sc);
	stackcli_close(&sc);
	return healthy ? 0 : 1;
}

const struct cli_cmd cmd_status = {
	.name = "status",
	.usage = "[--json] [--stack NAME] [--target T] [--endpoint URL]",
	.summary = "every resource of the stack: present, missing or drifted; exit 0 when healthy",
	.options = "json,zips=,email=",
	.min_pos = 0,
	.max_pos = 0,
	.exec = status_exec,
};
