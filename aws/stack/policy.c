/* policy.c: the policy template renderer (pure: text in, text out). */
#include "policy.h"

#include <stdio.h>
#include <string.h>

#include "aws/client/buf.h"

/* Find placeholder name (len bytes): 0 and *val (NULL when no value was given; "" allowed
 * for Prefix only), or -1 when it is not one of ours. */
static int var_value(const struct stack_policy_vars *v, const char *name, size_t len,
		     const char **val)
{
	static const char *const names[] = { "Region", "Account", "Stack", "Prefix" };
	const char *values[] = { v->region, v->account, v->stack, v->prefix };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i]) != len || memcmp(names[i], name, len) != 0)
			continue;
		*val = values[i];
		if (i == 3 && !*val)
			*val = "";
		if (*val && !**val && i != 3)
			*val = NULL;
		return 0;
	}
	return -1;
}

char *stack_policy_render(const char *tmpl, const struct stack_policy_vars *v, char *why,
			  size_t whylen)
{
	struct aws_buf b;
	const char *p = tmpl;

	aws_buf_init(&b, 0);
	if (aws_buf_adds(&b, ""))
		goto nomem;
	while (*p) {
		const char *start = strstr(p, "${");
		const char *end, *val;

		if (!start) {
			if (aws_buf_adds(&b, p))
				goto nomem;
			break;
		}
		if (aws_buf_add(&b, p, (size_t)(start - p)))
			goto nomem;
		end = strchr(start + 2, '}');
		if (!end) {
			snprintf(why, whylen, "unterminated placeholder at offset %zu",
				 (size_t)(start - tmpl));
			goto fail;
		}
		if (var_value(v, start + 2, (size_t)(end - start - 2), &val)) {
			snprintf(why, whylen, "unknown placeholder %.*s", (int)(end - start + 1), start);
			goto fail;
		}
		if (!val) {
			snprintf(why, whylen, "no value for %.*s", (int)(end - start + 1), start);
			goto fail;
		}
		if (aws_buf_adds(&b, val))
			goto nomem;
		p = end + 1;
	}
	return aws_buf_take(&b);
nomem:
	snprintf(why, whylen, "out of memory");
fail:
	aws_buf_cleanup(&b);
	return NULL;
}
