/* cmd-deploy.c: `cleanops deploy [--email ADDR] [--yes] [--json] [--zips DIR]`: create or update the stack. */
#include <stdio.h>
#include <string.h>

#include "stackcli.h"

/* Show what deploy would change; returns the number of changes. */
static int print_plan(const struct stackcli *sc)
{
	int changes = 0;

	for (size_t i = 0; i < stack_count(sc->stack); i++) {
		const struct stack_resource *r = stack_resource_at(sc->stack, i);
		const struct stack_obs *o = stack_obs_at(sc->stack, i);
		const char *what = o->presence == STACK_MISSING ? "create" :
				   o->presence == STACK_DRIFTED ? "update" : NULL;

		if (!what)
			continue;
		if (!changes++)
			printf("deploy will change stack %s on %s:\n", stack_stack_name(sc->stack),
			       sc->target.label);
		if (o->presence == STACK_DRIFTED && o->detail[0])
			printf("  %-7s %-22s %s  (%s)\n", what, r->kind, o->name, o->detail);
		else
			printf("  %-7s %-22s %s\n", what, r->kind, o->name);
	}
	return changes;
}

static int deploy_exec(const struct cli_cmd *self, struct cli_args *a)
{
	struct stackcli sc;
	int rc = 1, created = 0, updated = 0, unchanged = 0;

	(void)self;
	if (stackcli_open(&sc, "deploy", a, 1))
		return 1;
	if (!cli_has(a, "yes") && !sc.json && stackcli_interactive()) {
		char answer[16] = "";

		sc.progress = 0;
		if (stack_run(sc.stack, STACK_OP_PLAN) && stackcli_print_failures(&sc))
			goto out;
		sc.progress = 1;
		if (print_plan(&sc) == 0) {
			printf("stack %s on %s: nothing to change\n", stack_stack_name(sc.stack),
			       sc.target.label);
		} else {
			printf("apply these changes? [y/N] ");
			fflush(stdout);
			if (!fgets(answer, sizeof(answer), stdin) ||
			    (answer[0] != 'y' && answer[0] != 'Y')) {
				printf("nothing changed\n");
				goto out;
			}
		}
	}
	if (!sc.json)
		printf("deploying stack %s on %s (account %s, %s)\n", stack_stack_name(sc.stack),
		       sc.target.label, stack_account(sc.stack), stack_region(sc.stack));
	rc = stack_run(sc.stack, STACK_OP_DEPLOY) ? 1 : 0;
	for (size_t i = 0; i < stack_count(sc.stack); i++) {
		const char *act = stack_obs_at(sc.stack, i)->action;

		if (strcmp(act, "create") == 0)
			created++;
		else if (strcmp(act, "update") == 0)
			updated++;
		else
			unchanged++;
	}
	if (sc.json) {
		stackcli_print_json(&sc);
		if (rc)
			stackcli_print_failures(&sc);
	} else if (rc) {
		stackcli_print_failures(&sc);
		fprintf(stderr, "deploy failed; the state so far is in %s. Fix the cause and run "
				"'cleanops deploy' again: it continues where it stopped.\n",
			stack_state_path(sc.stack));
	} else {
		printf("deployed: %d created, %d updated, %d unchanged; %ld write calls\n", created,
		       updated, unchanged, stack_writes(sc.stack));
		printf("invoke URL: %s\n", stack_invoke_url(sc.stack));
	}
out:
	stackcli_close(&sc);
	return rc;
}

const struct cli_cmd cmd_deploy = {
	.name = "deploy",
	.usage = "[--email ADDR] [--yes] [--json] [--zips DIR] [--stack NAME] [--target T] "
		 "[--endpoint URL]",
	.summary = "create or update the whole stack (idempotent; asks first on a terminal)",
	.options = "email=,yes,json,zips=",
	.min_pos = 0,
	.max_pos = 0,
	.exec = deploy_exec,
};
