/* policy.h: render the IAM policy templates of policies/ (${Region} ${Account} ${Stack} ${Prefix}). */
#ifndef CLEANOPS_STACK_POLICY_H
#define CLEANOPS_STACK_POLICY_H

#include <stddef.h>

/* The values a template may name. All borrowed; prefix is "" for the default stack. */
struct stack_policy_vars {
	const char *region;
	const char *account;
	const char *stack;
	const char *prefix;
};

/* Render tmpl: every ${Region}, ${Account}, ${Stack}, ${Prefix} replaced by its value. Pure.
 * Returns a new string (caller frees), or NULL with a reason in why (an unknown or
 * unterminated placeholder, a missing value, out of memory). */
char *stack_policy_render(const char *tmpl, const struct stack_policy_vars *v, char *why,
			  size_t whylen);

#endif
