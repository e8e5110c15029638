/* names.c: the stack's resource names (see names.h). */
#include "names.h"

#include <stdio.h>
#include <string.h>

int stack_name(const char *stack, const char *base, char *out, size_t n)
{
	int len;

	if (!stack || !*stack || strcmp(stack, STACK_DEFAULT) == 0)
		len = snprintf(out, n, "%s", base);
	else
		len = snprintf(out, n, "%s-%s", stack, base);
	return len < 0 || (size_t)len >= n ? -1 : 0;
}

int stack_name_valid(const char *stack)
{
	size_t n = stack ? strlen(stack) : 0;

	if (n < 1 || n > 32)
		return 0;
	if (!((stack[0] >= 'A' && stack[0] <= 'Z') || (stack[0] >= 'a' && stack[0] <= 'z')))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = stack[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return 0;
	}
	return 1;
}
