/* iam_policy.c: a pure IAM policy evaluator. Documents compile into flat statements (the
 * strings stay in the parsed JSON the set keeps); a decision walks them once: any matching
 * Deny wins, else any matching Allow, else the implicit deny. Condition blocks are not
 * evaluated: a statement with one applies as if its condition held (the caller is told how
 * many there are, to log it). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iam_policy.h"

enum principal_kind { P_NONE, P_PRINCIPAL, P_NOT_PRINCIPAL };

/* A pattern list: Action, Resource or a Principal's AWS / Service values (borrowed from
 * the document the set keeps). */
struct plist {
	const char **v;
	size_t n;
};

struct stmt {
	int deny;
	int not_action;
	struct plist actions;
	int not_resource;
	int any_resource;            /* no Resource nor NotResource: the policy's own resource */
	struct plist resources;
	enum principal_kind pkind;
	int principal_any;           /* "*" or {"AWS": "*"} */
	struct plist aws;
	struct plist services;
	char label[160];
};

struct iam_policy_set {
	json_t *docs;                /* the parsed documents, which own every string */
	struct stmt *st;
	size_t n, cap;
};

int iam_wildcard_match(const char *p, const char *t, int nocase)
{
	const char *star = NULL, *resume = NULL;

	while (*t) {
		char pc = *p, tc = *t;

		if (nocase) {
			if (pc >= 'A' && pc <= 'Z')
				pc = (char)(pc - 'A' + 'a');
			if (tc >= 'A' && tc <= 'Z')
				tc = (char)(tc - 'A' + 'a');
		}
		if (pc == '*') {
			star = p++;
			resume = t;
		} else if (pc && (pc == '?' || pc == tc)) {
			p++;
			t++;
		} else if (star) {
			p = star + 1;
			t = ++resume;
		} else {
			return 0;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

struct iam_policy_set *iam_policy_set_new(void)
{
	struct iam_policy_set *set = calloc(1, sizeof(*set));

	if (!set)
		return NULL;
	set->docs = json_array();
	if (!set->docs) {
		free(set);
		return NULL;
	}
	return set;
}

static void plist_cleanup(struct plist *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void stmt_cleanup(struct stmt *s)
{
	plist_cleanup(&s->actions);
	plist_cleanup(&s->resources);
	plist_cleanup(&s->aws);
	plist_cleanup(&s->services);
}

void iam_policy_set_free(struct iam_policy_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++)
		stmt_cleanup(&set->st[i]);
	free(set->st);
	json_decref(set->docs);
	free(set);
}

size_t iam_policy_set_count(const struct iam_policy_set *set)
{
	return set ? set->n : 0;
}

/* A string or a list of strings into l (borrowed). Returns 0, or -1 when v is neither. */
static int plist_from(json_t *v, struct plist *l)
{
	size_t i;
	json_t *e;

	l->v = NULL;
	l->n = 0;
	if (json_is_string(v)) {
		l->v = malloc(sizeof(*l->v));
		if (!l->v)
			return -1;
		l->v[0] = json_string_value(v);
		l->n = 1;
		return 0;
	}
	if (!json_is_array(v) || json_array_size(v) == 0)
		return -1;
	l->v = calloc(json_array_size(v), sizeof(*l->v));
	if (!l->v)
		return -1;
	json_array_foreach(v, i, e) {
		if (!json_is_string(e)) {
			plist_cleanup(l);
			return -1;
		}
		l->v[l->n++] = json_string_value(e);
	}
	return 0;
}

/* Principal or NotPrincipal: "*", or {"AWS": .., "Service": .., ...}. */
static int principal_from(json_t *v, struct stmt *s, char *err, size_t errlen)
{
	json_t *aws, *svc;

	if (json_is_string(v)) {
		if (strcmp(json_string_value(v), "*") != 0) {
			snprintf(err, errlen, "Principal must be \"*\" or an object");
			return -1;
		}
		s->principal_any = 1;
		return 0;
	}
	if (!json_is_object(v)) {
		snprintf(err, errlen, "Principal must be \"*\" or an object");
		return -1;
	}
	aws = json_object_get(v, "AWS");
	svc = json_object_get(v, "Service");
	if ((aws && plist_from(aws, &s->aws) != 0) || (svc && plist_from(svc, &s->services) != 0)) {
		snprintf(err, errlen, "Principal values must be strings or lists of strings");
		return -1;
	}
	for (size_t i = 0; i < s->aws.n; i++)
		if (strcmp(s->aws.v[i], "*") == 0)
			s->principal_any = 1;
	return 0;
}

/* Compile one statement object. Returns 0 or -1 with err. */
static int stmt_compile(json_t *js, const char *source, size_t index, struct stmt *s,
			int *has_condition, char *err, size_t errlen)
{
	const char *effect = json_string_value(json_object_get(js, "Effect"));
	const char *sid = json_string_value(json_object_get(js, "Sid"));
	json_t *act = json_object_get(js, "Action"), *nact = json_object_get(js, "NotAction");
	json_t *res = json_object_get(js, "Resource"), *nres = json_object_get(js, "NotResource");
	json_t *pr = json_object_get(js, "Principal"), *npr = json_object_get(js, "NotPrincipal");

	memset(s, 0, sizeof(*s));
	if (sid && *sid)
		snprintf(s->label, sizeof(s->label), "%s#%s", source, sid);
	else
		snprintf(s->label, sizeof(s->label), "%s#%zu", source, index);
	if (!json_is_object(js)) {
		snprintf(err, errlen, "statement %zu is not an object", index);
		return -1;
	}
	if (!effect || (strcmp(effect, "Allow") != 0 && strcmp(effect, "Deny") != 0)) {
		snprintf(err, errlen, "%s: Effect must be Allow or Deny", s->label);
		return -1;
	}
	s->deny = strcmp(effect, "Deny") == 0;
	if (!act == !nact) {
		snprintf(err, errlen, "%s: exactly one of Action and NotAction is required",
			 s->label);
		return -1;
	}
	if (res && nres) {
		snprintf(err, errlen, "%s: Resource and NotResource exclude each other", s->label);
		return -1;
	}
	if (pr && npr) {
		snprintf(err, errlen, "%s: Principal and NotPrincipal exclude each other",
			 s->label);
		return -1;
	}
	s->not_action = nact != NULL;
	if (plist_from(act ? act : nact, &s->actions) != 0) {
		snprintf(err, errlen, "%s: Action must be a string or a list of strings", s->label);
		goto fail;
	}
	s->not_resource = nres != NULL;
	s->any_resource = !res && !nres;
	if (!s->any_resource && plist_from(res ? res : nres, &s->resources) != 0) {
		snprintf(err, errlen, "%s: Resource must be a string or a list of strings",
			 s->label);
		goto fail;
	}
	s->pkind = pr ? P_PRINCIPAL : npr ? P_NOT_PRINCIPAL : P_NONE;
	if (s->pkind != P_NONE && principal_from(pr ? pr : npr, s, err, errlen) != 0)
		goto fail;
	*has_condition = json_object_get(js, "Condition") != NULL;
	return 0;
fail:
	stmt_cleanup(s);
	return -1;
}

int iam_policy_set_add(struct iam_policy_set *set, const char *doc, const char *source,
		       int *conditions, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loads(doc ? doc : "", 0, &jerr), *stmts, *one = NULL;
	size_t count, start = set->n, conds = 0;

	if (!json_is_object(root)) {
		snprintf(err, errlen, "%s: the document is not a JSON object", source);
		goto fail;
	}
	stmts = json_object_get(root, "Statement");
	if (json_is_object(stmts)) {
		one = json_array();
		if (!one || json_array_append(one, stmts) != 0) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		stmts = one;
	}
	if (!json_is_array(stmts)) {
		snprintf(err, errlen, "%s: Statement must be an object or a list", source);
		goto fail;
	}
	count = json_array_size(stmts);
	if (set->n + count > set->cap) {
		size_t cap = set->cap ? set->cap : 8;
		struct stmt *grown;

		while (cap < set->n + count)
			cap *= 2;
		grown = realloc(set->st, cap * sizeof(*grown));
		if (!grown) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		set->st = grown;
		set->cap = cap;
	}
	for (size_t i = 0; i < count; i++) {
		int cond = 0;

		if (stmt_compile(json_array_get(stmts, i), source, i, &set->st[set->n], &cond, err,
				 errlen) != 0)
			goto fail;
		set->n++;
		conds += (size_t)cond;
	}
	/* the strings live in root (and one borrows from it): the set keeps both */
	if (json_array_append_new(set->docs, root) != 0 ||
	    (one && json_array_append_new(set->docs, one) != 0)) {
		root = NULL;
		one = NULL;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (conditions)
		*conditions = (int)conds;
	return 0;
fail:
	while (set->n > start)
		stmt_cleanup(&set->st[--set->n]);
	json_decref(one);
	json_decref(root);
	return -1;
}

static int plist_match(const struct plist *l, const char *text, int nocase)
{
	for (size_t i = 0; i < l->n; i++)
		if (iam_wildcard_match(l->v[i], text, nocase))
			return 1;
	return 0;
}

/* Does an AWS principal value name the account ("000000000000" or its root ARN)? */
static int names_account(const char *v, const char *account)
{
	size_t n = strlen(account);

	if (strcmp(v, account) == 0)
		return 1;
	return strncmp(v, "arn:aws:iam::", 13) == 0 && strncmp(v + 13, account, n) == 0 &&
	       strcmp(v + 13 + n, ":root") == 0;
}

/* Is p among the principals the statement names? An account principal delegates to the
 * account's own identity policies: it names every principal of the account for a Deny,
 * and grants nothing by itself for an Allow. */
static int principal_named(const struct stmt *s, const struct iam_principal *p)
{
	if (s->principal_any)
		return 1;
	for (size_t i = 0; i < s->aws.n; i++) {
		const char *v = s->aws.v[i];

		if ((p->role_arn && strcmp(v, p->role_arn) == 0) ||
		    (p->session_arn && strcmp(v, p->session_arn) == 0))
			return 1;
		if (s->deny && p->account && !p->service && names_account(v, p->account))
			return 1;
	}
	for (size_t i = 0; i < s->services.n; i++)
		if (p->service && strcmp(s->services.v[i], p->service) == 0)
			return 1;
	return 0;
}

static int stmt_applies(const struct stmt *s, const struct iam_request *req)
{
	int hit;

	hit = plist_match(&s->actions, req->action, 1);
	if (hit == s->not_action)
		return 0;
	if (!s->any_resource) {
		hit = plist_match(&s->resources, req->resource, 0);
		if (hit == s->not_resource)
			return 0;
	}
	if (req->principal) {
		if (s->pkind == P_NONE)
			return 0;
		hit = principal_named(s, req->principal);
		if (hit != (s->pkind == P_PRINCIPAL))
			return 0;
	}
	return 1;
}

enum iam_decision iam_policy_eval(const struct iam_policy_set *set,
				  const struct iam_request *req, char *which, size_t n)
{
	const struct stmt *allow = NULL;

	if (which && n)
		which[0] = '\0';
	for (size_t i = 0; set && i < set->n; i++) {
		const struct stmt *s = &set->st[i];

		if (!stmt_applies(s, req))
			continue;
		if (s->deny) {
			if (which && n)
				snprintf(which, n, "%s", s->label);
			return IAM_EXPLICIT_DENY;
		}
		if (!allow)
			allow = s;
	}
	if (!allow)
		return IAM_IMPLICIT_DENY;
	if (which && n)
		snprintf(which, n, "%s", allow->label);
	return IAM_ALLOW;
}
