/* iam_policy.h: a pure IAM policy evaluator: policy documents compiled into a set, a request
 * (action, resource, optionally the principal for resource policies) in, a decision out. */
#ifndef CLEANOPS_SANDBOX_IAM_POLICY_H
#define CLEANOPS_SANDBOX_IAM_POLICY_H

#include <stddef.h>

/* What a set of statements says about one request. */
enum iam_decision {
	IAM_IMPLICIT_DENY = 0, /* no statement allows it */
	IAM_ALLOW = 1,         /* an Allow statement matches and no Deny does */
	IAM_EXPLICIT_DENY = 2  /* a Deny statement matches (it wins over every Allow) */
};

/* Who asks, as a resource policy's Principal is matched against it (borrowed strings;
 * any member may be NULL). */
struct iam_principal {
	const char *role_arn;    /* "arn:aws:iam::ACCOUNT:role/NAME" */
	const char *session_arn; /* "arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION" */
	const char *account;     /* "000000000000" */
	const char *service;     /* a service principal: "sns.amazonaws.com" */
};

/* One request to decide (borrowed). principal NULL: the set holds identity policies,
 * whose statements name no Principal; else a resource policy, whose statements apply
 * only to the principals they name. */
struct iam_request {
	const char *action;   /* "dynamodb:PutItem" (compared case-insensitively) */
	const char *resource; /* an ARN (compared case-sensitively) */
	const struct iam_principal *principal;
};

/* The compiled statements of any number of documents (opaque). */
struct iam_policy_set;

/* A new empty set (decides IAM_IMPLICIT_DENY for everything), or NULL when out of memory.
 * The caller frees it with iam_policy_set_free(). */
struct iam_policy_set *iam_policy_set_new(void);
/* Free a set and everything compiled into it (NULL is fine). */
void iam_policy_set_free(struct iam_policy_set *set);
/* Compile the JSON document doc (borrowed) into set; source names it in notes (say
 * "policy/NAME"). *conditions (may be NULL) gets the number of its statements carrying a
 * Condition, which the evaluator ignores (treats as met). Returns 0, or -1 with the reason
 * in err (errlen bytes) and set unchanged: not JSON, no Statement, an Effect other than
 * Allow/Deny, neither or both of Action/NotAction, a non-string Action or Resource. */
int iam_policy_set_add(struct iam_policy_set *set, const char *doc, const char *source,
		       int *conditions, char *err, size_t errlen);
/* How many statements the set holds. */
size_t iam_policy_set_count(const struct iam_policy_set *set);
/* Decide req against set. which (may be NULL, n bytes) gets "source#Sid" (or
 * "source#N", N counting from 0) of the deciding statement, "" when none decides. Cost:
 * linear in the statements and their patterns; no allocation. */
enum iam_decision iam_policy_eval(const struct iam_policy_set *set,
				  const struct iam_request *req, char *which, size_t n);

/* IAM's wildcard match: '*' any run of characters (also none), '?' exactly one.
 * nocase: compare ASCII letters case-insensitively (actions). Returns 1 on a match. */
int iam_wildcard_match(const char *pattern, const char *text, int nocase);

#endif
