/* cmd-destroy.c: `cleanops destroy [--yes] [--json]`: delete every resource of the stack, verify none is left. */
#include <stdio.h>
#include <string.h>

#include "stackcli.h"

static int destroy_exec(const struct cli_cmd *self, struct cli_args *a)
{
	struct stackcli sc;
	int rc = 1, deleted = 0;

	(void)self;
	if (stackcli_open(&sc, "destroy", a, 1))
		return 1;
	if (!cli_has(a, "yes") && !sc.json && stackcli_interactive()) {
		char answer[128] = "";
		int present = 0;

		sc.progress = 0;
		stack_run(sc.stack, STACK_OP_PLAN);
		sc.progress = 1;
		for (size_t i = 0; i < stack_count(sc.stack); i++) {
			const struct stack_obs *o = stack_obs_at(sc.stack, i);

			if (o->presence != STACK_PRESENT && o->presence != STACK_DRIFTED)
				continue;
			if (!present++)
				printf("destroy will delete from %s:\n", sc.target.label);
			printf("  %-22s %s\n", stack_resource_at(sc.stack, i)->kind, o->name);
		}
		if (!present)
			printf("nothing of stack %s found on %s; checking again while destroying\n",
			       stack_stack_name(sc.stack), sc.target.label);
		printf("type the stack name (%s) to delete it: ", stack_stack_name(sc.stack));
		fflush(stdout);
		if (!fgets(answer, sizeof(answer), stdin))
			answer[0] = '\0';
		answer[strcspn(answer, "\r\n")] = '\0';
		if (strcmp(answer, stack_stack_name(sc.stack)) != 0) {
			printf("not the stack name; nothing deleted\n");
			goto out;
		}
	}
	if (!sc.json)
		printf("destroying stack %s on %s\n", stack_stack_name(sc.stack), sc.target.label);
	rc = stack_run(sc.stack, STACK_OP_DESTROY) ? 1 : 0;
	if (sc.json)
		stackcli_print_json(&sc);
	if (rc) {
		stackcli_print_failures(&sc);
		fprintf(stderr, "destroy did not finish; run 'cleanops destroy' again\n");
	} else if (!sc.json) {
		for (size_t i = 0; i < stack_count(sc.stack); i++)
			if (stack_writes(sc.stack) && stack_obs_at(sc.stack, i)->action[0])
				deleted++;
		printf("destroyed: nothing of stack %s is left on %s (%ld delete calls)\n",
		       stack_stack_name(sc.stack), sc.target.label, stack_writes(sc.stack));
	}
out:
	stackcli_close(&sc);
	return rc;
}

const struct cli_cmd cmd_destroy = {
	.name = "destroy",
	.usage = "[--yes] [--json] [--stack NAME] [--target T] [--endpoint URL]",
	.summary = "delete every resource of the stack (found by name too) and verify none is left",
	.options = "yes,json",
	.min_pos = 0,
	.max_pos = 0,
	.exec = destroy_exec,
};
