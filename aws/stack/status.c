/* status.c: what the last run found, as a JSON report (status --json, deploy/destroy --json). */
#include "stack.h"

#include <string.h>

const char *stack_presence_name(enum stack_presence p)
{
	switch (p) {
	case STACK_MISSING:
		return "missing";
	case STACK_PRESENT:
		return "present";
	case STACK_DRIFTED:
		return "drifted";
	case STACK_NONE:
		return "not requested";
	case STACK_UNKNOWN:
		break;
	}
	return "unknown";
}

long stack_dead_letters(const struct stack *s)
{
	long n = 0;

	for (size_t i = 0; i < stack_count(s); i++) {
		const char *id = stack_resource_at(s, i)->id;

		if (strcmp(id, "dlq") == 0 || strcmp(id, "failures") == 0)
			n += stack_obs_at(s, i)->messages;
	}
	return n;
}

json_t *stack_report_json(const struct stack *s)
{
	json_t *doc, *arr = json_array();

	for (size_t i = 0; i < stack_count(s); i++) {
		const struct stack_resource *r = stack_resource_at(s, i);
		const struct stack_obs *o = stack_obs_at(s, i);
		json_t *e = json_pack("{ss ss ss ss ss}", "id", r->id, "kind", r->kind, "name", o->name,
				      "state", o->failed && o->presence == STACK_UNKNOWN ?
							"error" : stack_presence_name(o->presence),
				      "identifier", o->ident);

		if (o->detail[0])
			json_object_set_new(e, "detail", json_string(o->detail));
		if (strcmp(r->kind, "sqs queue") == 0 && o->presence != STACK_MISSING)
			json_object_set_new(e, "messages", json_integer(o->messages));
		if (o->action[0])
			json_object_set_new(e, "action", json_string(o->action));
		if (o->failed) {
			json_object_set_new(e, "error",
					    json_pack("{ss ss}", "code", o->err.code, "message",
						      o->err.message));
			json_object_set_new(e, "hint", json_string(o->hint));
		}
		json_object_set_new(e, "elapsed_s", json_real(o->elapsed_s));
		json_array_append_new(arr, e);
	}
	doc = json_pack("{ss ss ss ss sb sI ss}", "stack", stack_stack_name(s), "account", stack_account(s), "region",
			stack_region(s), "state_file", stack_state_path(s), "healthy", stack_healthy(s) && stack_dead_letters(s) == 0,
			"writes", (json_int_t)stack_writes(s), "invoke_url", stack_invoke_url(s));
	json_object_set_new(doc, "dead_letters", json_integer(stack_dead_letters(s)));
	json_object_set_new(doc, "resources", arr);
	if (stack_error(s)[0])
		json_object_set_new(doc, "error", json_string(stack_error(s)));
	return doc;
}
