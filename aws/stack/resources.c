/* resources.c: the pipeline as data: one row per resource, with its read/create/update/delete/ready. */
#include "stack.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "names.h"

/* snprintf that may truncate (names and messages are bounded; a cut is acceptable). */
static void sfmt(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void sfmt(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, n, fmt, ap);
	va_end(ap);
}

#define FN_TIMEOUT 10
#define FN_MEMORY 128
#define QUEUE_VISIBILITY (6 * FN_TIMEOUT)
#define WAIT_LIMIT_MS 300000L
#define ASSUME_LIMIT_MS 60000L
#define POLL_FIRST_MS 50L
#define POLL_MAX_MS 1000L

/* The next poll delay: doubling from POLL_FIRST_MS up to POLL_MAX_MS. */
static long next_delay(long d)
{
	return d * 2 > POLL_MAX_MS ? POLL_MAX_MS : d * 2;
}

/* ---- small helpers ---- */

static int err_is(const struct stack_obs *o, const char *code)
{
	return strcmp(o->err.code, code) == 0 || strstr(o->err.code, code) != NULL;
}

/* Forget a failure that turned out to be an answer ("not found"). */
static void err_clear(struct stack_obs *o)
{
	memset(&o->err, 0, sizeof(o->err));
	o->hint[0] = '\0';
}

static void hint(struct stack_obs *o, const char *text)
{
	if (!o->hint[0])
		snprintf(o->hint, sizeof(o->hint), "%s", text);
}

/* Nonzero when o's error is one of codes ("A|B": any of A, B, each as err_is takes it). */
static int err_in(const struct stack_obs *o, const char *codes)
{
	char code[64];

	while (*codes) {
		size_t n = strcspn(codes, "|");

		snprintf(code, sizeof(code), "%.*s", (int)n, codes);
		if (err_is(o, code))
			return 1;
		codes += n + (codes[n] == '|');
	}
	return 0;
}

/* stack_call where a failure with one of codes is an answer, not an error: 0 when the call
 * succeeded (*out as stack_call gives it), 1 when it failed with one of codes (error and hint
 * forgotten), -1 on any other failure. Steals in. */
static int call_tolerating(struct stack *s, const char *service, const char *op, json_t *in,
			   json_t **out, struct stack_obs *o, const char *codes)
{
	if (stack_call(s, service, op, in, out, o) == 0)
		return 0;
	if (!err_in(o, codes))
		return -1;
	err_clear(o);
	return 1;
}

/* An operation whose failure with one of codes means it is already done (a create of what
 * exists, a delete of what is gone): 0 with o's error and hint cleared, or -1. Steals in. */
static int call_done_unless(struct stack *s, const char *service, const char *op, json_t *in,
			    struct stack_obs *o, const char *codes)
{
	if (call_tolerating(s, service, op, in, NULL, o, codes) < 0)
		return -1;
	err_clear(o);
	return 0;
}

/* A resource's describe call: 0 with o->presence STACK_PRESENT and *out (caller decrefs), or
 * STACK_MISSING when it failed with one of codes (*out untouched); -1 on any other failure.
 * Steals in. */
static int call_describe(struct stack *s, const char *service, const char *op, json_t *in,
			 json_t **out, struct stack_obs *o, const char *codes)
{
	int rc = call_tolerating(s, service, op, in, out, o, codes);

	if (rc < 0)
		return -1;
	o->presence = rc ? STACK_MISSING : STACK_PRESENT;
	return 0;
}

static void arn(struct stack *s, const char *svc, const char *res, char *out, size_t n)
{
	snprintf(out, n, "arn:aws:%s:%s:%s:%s", svc, stack_region(s), stack_account(s), res);
}

static void role_arn(struct stack *s, const char *base, char *out, size_t n)
{
	char name[256];

	stack_rname(s, base, name, sizeof(name));
	snprintf(out, n, "arn:aws:iam::%s:role/%s", stack_account(s), name);
}

static void queue_arn(struct stack *s, const char *base, char *out, size_t n)
{
	char name[256];

	stack_rname(s, base, name, sizeof(name));
	arn(s, "sqs", name, out, n);
}

static void topic_arn(struct stack *s, char *out, size_t n)
{
	char got[1024], name[256];

	stack_id_get(s, "topic.arn", got, sizeof(got));
	if (got[0]) {
		snprintf(out, n, "%s", got);
		return;
	}
	stack_rname(s, STACK_TOPIC, name, sizeof(name));
	arn(s, "sns", name, out, n);
}

static const char *jstr(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

/* Decode %XX (IAM returns documents URL-encoded); new string, caller frees. */
static char *url_decode(const char *in)
{
	size_t n = strlen(in);
	char *out = malloc(n + 1), *w = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (in[i] == '%' && i + 2 < n) {
			char hex[3] = { in[i + 1], in[i + 2], 0 };
			char *end;
			long v = strtol(hex, &end, 16);

			if (*end == '\0') {
				*w++ = (char)v;
				i += 2;
				continue;
			}
		}
		*w++ = in[i] == '+' ? ' ' : in[i];
	}
	*w = '\0';
	return out;
}

/* Nonzero when two JSON texts (possibly URL-encoded) are the same document. */
static int docs_equal(const char *a, const char *b)
{
	json_t *ja = json_loads(a, 0, NULL), *jb = json_loads(b, 0, NULL);
	int eq;

	if (!ja && a[0] == '%') {
		char *d = url_decode(a);

		ja = d ? json_loads(d, 0, NULL) : NULL;
		free(d);
	}
	eq = ja && jb && json_equal(ja, jb);
	json_decref(ja);
	json_decref(jb);
	return eq;
}

/* A document given as object or (URL-encoded) string, compared with text. */
static int doc_value_equal(json_t *v, const char *text)
{
	json_t *want;
	int eq;

	if (json_is_string(v))
		return docs_equal(json_string_value(v), text);
	want = json_loads(text, 0, NULL);
	eq = want && v && json_equal(v, want);
	json_decref(want);
	return eq;
}

/* A created resource's identifier: o->ident from field of the reply out, kept in the state
 * under idkey too. Decrefs out. */
static void keep_ident(struct stack *s, struct stack_obs *o, json_t *out, const char *field,
		       const char *idkey)
{
	snprintf(o->ident, sizeof(o->ident), "%s", jstr(out, field));
	stack_id_set(s, idkey, o->ident);
	json_decref(out);
}

static void drift(struct stack_obs *o, const char *what)
{
	size_t len = strlen(o->detail);

	o->presence = STACK_DRIFTED;
	snprintf(o->detail + len, sizeof(o->detail) - len, "%s%s", len ? "; " : "", what);
}

/* Nonzero when a failure is IAM's eventual consistency: a role or policy just created
 * is not usable yet by Lambda ("cannot be assumed", "does not have permissions to call
 * ReceiveMessage"), API Gateway ("unable to assume", "Invalid ARN") or an SQS queue policy
 * naming a new role; or a Lambda update still in progress. */
static int is_propagation(const struct stack_obs *o)
{
	static const char *const words[] = { "assume", "permission", "execution role",
					     "Invalid ARN", "Invalid principal" };

	if (err_is(o, "ResourceConflict"))
		return 1;
	if (!err_is(o, "InvalidParameterValue") && !err_is(o, "BadRequest") &&
	    !err_is(o, "InvalidAttributeValue"))
		return 0;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasestr(o->err.message, words[i]))
			return 1;
	return 0;
}

/* stack_call, retried with backoff (1, 2, 4, 8, 8 ... s) for up to about a minute while
 * is_propagation says the failure is IAM catching up. Steals in. */
static int call_propagating(struct stack *s, const char *service, const char *op, json_t *in,
			    json_t **out, struct stack_obs *o)
{
	long waited = 0, delay = 1000;

	for (;;) {
		json_incref(in);
		if (stack_call(s, service, op, in, out, o) == 0) {
			json_decref(in);
			return 0;
		}
		if (!is_propagation(o) || waited >= ASSUME_LIMIT_MS)
			break;
		stack_sleep_ms(delay);
		waited += delay;
		delay = delay * 2 > 8000 ? 8000 : delay * 2;
	}
	json_decref(in);
	if (is_propagation(o))
		hint(o, "IAM has not made the new role or policy usable yet: run deploy again in a "
			"minute");
	return -1;
}

/* ---- IAM managed policies ---- */

static void policy_arn(struct stack *s, const struct stack_resource *r, char *out, size_t n)
{
	char name[256];

	stack_rname(s, r->base, name, sizeof(name));
	snprintf(out, n, "arn:aws:iam::%s:policy/%s", stack_account(s), name);
}

static int policy_read(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	json_t *out = NULL, *ver = NULL;
	const char *doc = stack_policy_doc(s, r->base);
	char parn[1024];
	int rc = -1;

	stack_rname(s, r->base, o->name, sizeof(o->name));
	policy_arn(s, r, parn, sizeof(parn));
	if (call_describe(s, "iam", "GetPolicy", json_pack("{ss}", "PolicyArn", parn), &out, o,
			  "NoSuchEntity"))
		return -1;
	if (o->presence == STACK_MISSING)
		return 0;
	snprintf(o->ident, sizeof(o->ident), "%s", parn);
	if (stack_call(s, "iam", "GetPolicyVersion",
		       json_pack("{ss ss}", "PolicyArn", parn, "VersionId",
				 jstr(json_object_get(out, "Policy"), "DefaultVersionId")),
		       &ver, o))
		goto out;
	if (!doc || !doc_value_equal(json_object_get(json_object_get(ver, "PolicyVersion"), "Document"),
				     doc))
		drift(o, "document differs from policies/");
	rc = 0;
out:
	json_decref(out);
	json_decref(ver);
	return rc;
}

static int policy_create(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	const char *doc = stack_policy_doc(s, r->base);

	hint(o, "check the document in policies/ and that the credentials may iam:CreatePolicy");
	return stack_call(s, "iam", "CreatePolicy",
			  json_pack("{ss ss}", "PolicyName", o->name, "PolicyDocument", doc ? doc : "{}"),
			  NULL, o);
}

static int policy_update(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	json_t *out = NULL, *vers;
	const char *doc = stack_policy_doc(s, r->base);
	char parn[1024];
	int rc = -1;

	policy_arn(s, r, parn, sizeof(parn));
	if (stack_call(s, "iam", "ListPolicyVersions", json_pack("{ss}", "PolicyArn", parn), &out, o))
		goto out;
	vers = json_object_get(out, "Versions");
	if (json_array_size(vers) >= 5) {
		/* IAM keeps 5 versions: drop the oldest that is not the default. */
		const char *oldest = NULL, *oldest_date = NULL;
		size_t i;
		json_t *v;

		json_array_foreach(vers, i, v) {
			if (json_is_true(json_object_get(v, "IsDefaultVersion")))
				continue;
			if (!oldest || strcmp(jstr(v, "CreateDate"), oldest_date) < 0) {
				oldest = jstr(v, "VersionId");
				oldest_date = jstr(v, "CreateDate");
			}
		}
		if (oldest && stack_call(s, "iam", "DeletePolicyVersion",
					 json_pack("{ss ss}", "PolicyArn", parn, "VersionId", oldest),
					 NULL, o))
			goto out;
	}
	rc = stack_call(s, "iam", "CreatePolicyVersion",
			json_pack("{ss ss sb}", "PolicyArn", parn, "PolicyDocument", doc ? doc : "{}",
				  "SetAsDefault", 1),
			NULL, o);
out:
	json_decref(out);
	return rc;
}

static int policy_delete(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	json_t *out = NULL, *v;
	char parn[1024];
	size_t i;
	int rc = -1;

	policy_arn(s, r, parn, sizeof(parn));
	if (stack_call(s, "iam", "ListEntitiesForPolicy", json_pack("{ss}", "PolicyArn", parn), &out, o))
		goto out;
	json_array_foreach(json_object_get(out, "PolicyRoles"), i, v)
		if (call_tolerating(s, "iam", "DetachRolePolicy",
				    json_pack("{ss ss}", "RoleName", jstr(v, "RoleName"), "PolicyArn",
					      parn),
				    NULL, o, "NoSuchEntity") < 0)
			goto out;
	json_decref(out);
	out = NULL;
	if (stack_call(s, "iam", "ListPolicyVersions", json_pack("{ss}", "PolicyArn", parn), &out, o))
		goto out;
	json_array_foreach(json_object_get(out, "Versions"), i, v)
		if (!json_is_true(json_object_get(v, "IsDefaultVersion")) &&
		    stack_call(s, "iam", "DeletePolicyVersion",
			       json_pack("{ss ss}", "PolicyArn", parn, "VersionId", jstr(v, "VersionId")),
			       NULL, o))
			goto out;
	err_clear(o);
	rc = stack_call(s, "iam", "DeletePolicy", json_pack("{ss}", "PolicyArn", parn), NULL, o);
out:
	json_decref(out);
	return rc;
}

/* ---- IAM roles ---- */

static const char *const writer_policies[] = { "Lambda-Write-DynamoDB", "Lambda-Read-SQS", NULL };
static const char *const notifier_policies[] = { "Lambda-SNS-Publish", "Lambda-DynamoDBStreams-Read",
						 NULL };
static const char *const api_policies[] = { "APIGateway-SQS-Send", NULL };

/* Attached policy names of role into a new array (caller decrefs), or NULL on failure. */
static json_t *role_attached(struct stack *s, const char *role, struct stack_obs *o)
{
	json_t *out = NULL, *names = json_array(), *v;
	size_t i;

	if (stack_call(s, "iam", "ListAttachedRolePolicies", json_pack("{ss}", "RoleName", role), &out,
		       o)) {
		json_decref(names);
		return NULL;
	}
	json_array_foreach(json_object_get(out, "AttachedPolicies"), i, v)
		json_array_append_new(names, json_string(jstr(v, "PolicyName")));
	json_decref(out);
	return names;
}

static int name_in(json_t *arr, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (strcmp(json_string_value(v), name) == 0)
			return 1;
	return 0;
}

static int role_read(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	json_t *out = NULL, *att = NULL, *role;
	const char *trust = stack_trust_doc(s, r->arg);
	int rc = -1;

	stack_rname(s, r->base, o->name, sizeof(o->name));
	if (call_describe(s, "iam", "GetRole", json_pack("{ss}", "RoleName", o->name), &out, o,
			  "NoSuchEntity"))
		return -1;
	if (o->presence == STACK_MISSING)
		return 0;
	role = json_object_get(out, "Role");
	snprintf(o->ident, sizeof(o->ident), "%s", jstr(role, "Arn"));
	stack_id_set(s, r->id, o->ident);
	if (!trust || !doc_value_equal(json_object_get(role, "AssumeRolePolicyDocument"), trust))
		drift(o, "trust policy differs");
	att = role_attached(s, o->name, o);
	if (!att)
		goto out;
	for (size_t i = 0; r->list && r->list[i]; i++) {
		char pname[256], msg[320];

		stack_rname(s, r->list[i], pname, sizeof(pname));
		if (!name_in(att, pname)) {
			snprintf(msg, sizeof(msg), "%s not attached", pname);
			drift(o, msg);
		}
	}
	rc = 0;
out:
	json_decref(out);
	json_decref(att);
	return rc;
}

static int role_attach_all(struct stack *s, const struct stack_resource *r, struct stack_obs *o,
			   json_t *have)
{
	for (size_t i = 0; r->list && r->list[i]; i++) {
		char pname[256], parn[1024];

		stack_rname(s, r->list[i], pname, sizeof(pname));
		if (have && name_in(have, pname))
			continue;
		snprintf(parn, sizeof(parn), "arn:aws:iam::%s:policy/%s", stack_account(s), pname);
		if (stack_call(s, "iam", "AttachRolePolicy",
			       json_pack("{ss ss}", "RoleName", o->name, "PolicyArn", parn), NULL, o))
			return -1;
	}
	return 0;
}

static int role_create(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	json_t *out = NULL;
	int rc;

	hint(o, "check that the credentials may iam:CreateRole and iam:AttachRolePolicy");
	if (stack_call(s, "iam", "CreateRole",
		       json_pack("{ss ss}", "RoleName", o->name, "AssumeRolePolicyDocument",
				 stack_trust_doc(s, r->arg)),
		       &out, o))
		return -1;
	snprintf(o->ident, sizeof(o->ident), "%s", jstr(json_object_get(out, "Role"), "Arn"));
	stack_id_set(s, r->id, o->ident);
	json_decref(out);
	rc = role_attach_all(s, r, o, NULL);
	return rc;
}

static int role_update(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	json_t *att;
	int rc = -1;

	if (strstr(o->detail, "trust") &&
	    stack_call(s, "iam", "UpdateAssumeRolePolicy",
		       json_pack("{ss ss}", "RoleName", o->name, "PolicyDocument",
				 stack_trust_doc(s, r->arg)),
		       NULL, o))
		return -1;
	att = role_attached(s, o->name, o);
	if (att)
		rc = role_attach_all(s, r, o, att);
	json_decref(att);
	return rc;
}

static int role_delete(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	json_t *out = NULL, *v;
	size_t i;
	int rc = -1;

	(void)r;
	if (stack_call(s, "iam", "ListAttachedRolePolicies", json_pack("{ss}", "RoleName", o->name),
		       &out, o))
		goto out;
	json_array_foreach(json_object_get(out, "AttachedPolicies"), i, v)
		if (stack_call(s, "iam", "DetachRolePolicy",
			       json_pack("{ss ss}", "RoleName", o->name, "PolicyArn", jstr(v, "PolicyArn")),
			       NULL, o))
			goto out;
	json_decref(out);
	out = NULL;
	if (stack_call(s, "iam", "ListRolePolicies", json_pack("{ss}", "RoleName", o->name), &out, o))
		goto out;
	json_array_foreach(json_object_get(out, "PolicyNames"), i, v)
		if (stack_call(s, "iam", "DeleteRolePolicy",
			       json_pack("{ss ss}", "RoleName", o->name, "PolicyName", json_string_value(v)),
			       NULL, o))
			goto out;
	rc = stack_call(s, "iam", "DeleteRole", json_pack("{ss}", "RoleName", o->name), NULL, o);
out:
	json_decref(out);
	return rc;
}

/* ---- DynamoDB table ---- */

static int table_read(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	json_t *out = NULL, *t, *spec;
	const char *status;
	int rc = -1;

	stack_rname(s, r->base, o->name, sizeof(o->name));
	if (call_describe(s, "dynamodb", "DescribeTable", json_pack("{ss}", "TableName", o->name),
			  &out, o, "ResourceNotFound"))
		return -1;
	if (o->presence == STACK_MISSING)
		return 0;
	t = json_object_get(out, "Table");
	status = jstr(t, "TableStatus");
	snprintf(o->ident, sizeof(o->ident), "%s", jstr(t, "TableArn"));
	if (strcmp(status, "DELETING") == 0) {
		o->presence = STACK_MISSING;
		snprintf(o->detail, sizeof(o->detail), "deleting");
		rc = 0;
		goto out;
	}
	snprintf(o->detail, sizeof(o->detail), "%s", status);
	spec = json_object_get(t, "StreamSpecification");
	if (!json_is_true(json_object_get(spec, "StreamEnabled")) ||
	    strcmp(jstr(spec, "StreamViewType"), "NEW_IMAGE") != 0)
		drift(o, "stream is not NEW_IMAGE");
	stack_id_set(s, "table.arn", o->ident);
	stack_id_set(s, "table.stream", jstr(t, "LatestStreamArn"));
	stack_id_set(s, "table.status", status);
	rc = 0;
out:
	json_decref(out);
	return rc;
}

static int table_create(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	(void)r;
	hint(o, "check that the credentials may dynamodb:CreateTable");
	return stack_call(s, "dynamodb", "CreateTable",
			  json_pack("{ss s[{ss ss}] s[{ss ss}] ss s{sb ss}}", "TableName", o->name,
				    "KeySchema", "AttributeName", "orderID", "KeyType", "HASH",
				    "AttributeDefinitions", "AttributeName", "orderID", "AttributeType",
				    "S", "BillingMode", "PAY_PER_REQUEST", "StreamSpecification",
				    "StreamEnabled", 1, "StreamViewType", "NEW_IMAGE"),
			  NULL, o);
}

static int table_update(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	(void)r;
	return stack_call(s, "dynamodb", "UpdateTable",
			  json_pack("{ss s{sb ss}}", "TableName", o->name, "StreamSpecification",
				    "StreamEnabled", 1, "StreamViewType", "NEW_IMAGE"),
			  NULL, o);
}

static int table_ready(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	for (long waited = 0, delay = POLL_FIRST_MS; waited < WAIT_LIMIT_MS;
	     waited += delay, delay = next_delay(delay)) {
		char status[64], stream[1024];

		if (table_read(s, r, o))
			return -1;
		stack_id_get(s, "table.status", status, sizeof(status));
		stack_id_get(s, "table.stream", stream, sizeof(stream));
		if (o->presence != STACK_MISSING && strcmp(status, "ACTIVE") == 0 && stream[0])
			return 0;
		stack_sleep_ms(delay);
	}
	aws_error_set(&o->err, 0, "Timeout", "table %s is not ACTIVE with a stream after %ld s",
		      o->name, WAIT_LIMIT_MS / 1000);
	return -1;
}

static int table_delete(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	(void)r;
	return stack_call(s, "dynamodb", "DeleteTable", json_pack("{ss}", "TableName", o->name), NULL,
			  o);
}

/* ---- SQS queues ---- */

/* SQS's "no such queue" (JSON protocol, query protocol). */
#define QUEUE_GONE "QueueDoesNotExist|NonExistentQueue"

/* The attributes queue row r should have (new object). */
static json_t *queue_want(struct stack *s, const struct stack_resource *r)
{
	json_t *a = json_object();
	char me[512], other[512], tarn[512], pol[4096];

	queue_arn(s, r->base, me, sizeof(me));
	if (strcmp(r->id, "queue") == 0) {
		char api_role[512], writer_role[512];

		queue_arn(s, STACK_DLQ, other, sizeof(other));
		role_arn(s, STACK_ROLE_API, api_role, sizeof(api_role));
		role_arn(s, STACK_ROLE_WRITER, writer_role, sizeof(writer_role));
		json_object_set_new(a, "VisibilityTimeout", json_sprintf("%d", QUEUE_VISIBILITY));
		json_object_set_new(a, "RedrivePolicy",
				    json_sprintf("{\"deadLetterTargetArn\":\"%s\",\"maxReceiveCount\":5}",
						 other));
		snprintf(pol, sizeof(pol),
			 "{\"Version\":\"2012-10-17\",\"Statement\":["
			 "{\"Sid\":\"ApiSends\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"%s\"},"
			 "\"Action\":\"sqs:SendMessage\",\"Resource\":\"%s\"},"
			 "{\"Sid\":\"WriterReceives\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"%s\"},"
			 "\"Action\":[\"sqs:ReceiveMessage\",\"sqs:DeleteMessage\","
			 "\"sqs:GetQueueAttributes\",\"sqs:ChangeMessageVisibility\"],"
			 "\"Resource\":\"%s\"}]}",
			 api_role, me, writer_role, me);
		json_object_set_new(a, "Policy", json_string(pol));
	} else if (strcmp(r->id, "deliveries") == 0) {
		topic_arn(s, tarn, sizeof(tarn));
		snprintf(pol, sizeof(pol),
			 "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"TopicDelivers\","
			 "\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"sns.amazonaws.com\"},"
			 "\"Action\":\"sqs:SendMessage\",\"Resource\":\"%s\",\"Condition\":"
			 "{\"ArnEquals\":{\"aws:SourceArn\":\"%s\"}}}]}",
			 me, tarn);
		json_object_set_new(a, "Policy", json_string(pol));
	} else {
		json_object_set_new(a, "MessageRetentionPeriod", json_string("1209600"));
	}
	return a;
}

/* Nonzero when attribute value have matches want (JSON documents compared as JSON; numbers
 * in JSON given as strings or numbers alike). */
static int attr_equal(const char *key, const char *have, const char *want)
{
	json_t *jh, *jw;
	int eq;

	if (strcmp(key, "RedrivePolicy") != 0 && strcmp(key, "Policy") != 0)
		return strcmp(have, want) == 0;
	if (strcmp(key, "Policy") == 0)
		return docs_equal(have, want);
	jh = json_loads(have, 0, NULL);
	jw = json_loads(want, 0, NULL);
	eq = jh && jw &&
	     strcmp(jstr(jh, "deadLetterTargetArn"), jstr(jw, "deadLetterTargetArn")) == 0;
	if (eq) {
		json_t *h = json_object_get(jh, "maxReceiveCount");
		long hv = json_is_string(h) ? strtol(json_string_value(h), NULL, 10) :
					      (long)json_integer_value(h);

		eq = hv == (long)json_integer_value(json_object_get(jw, "maxReceiveCount"));
	}
	json_decref(jh);
	json_decref(jw);
	return eq;
}

static int queue_read(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	json_t *out = NULL, *attrs = NULL, *want = NULL, *have, *v;
	const char *key;
	char idkey[64];

	stack_rname(s, r->base, o->name, sizeof(o->name));
	if (call_describe(s, "sqs", "GetQueueUrl", json_pack("{ss}", "QueueName", o->name), &out, o,
			  QUEUE_GONE))
		return -1;
	if (o->presence == STACK_MISSING)
		return 0;
	snprintf(o->ident, sizeof(o->ident), "%s", jstr(out, "QueueUrl"));
	json_decref(out);
	snprintf(idkey, sizeof(idkey), "%s.url", r->id);
	stack_id_set(s, idkey, o->ident);
	if (call_describe(s, "sqs", "GetQueueAttributes",
			  json_pack("{ss s[s]}", "QueueUrl", o->ident, "AttributeNames", "All"),
			  &attrs, o, QUEUE_GONE))
		return -1;
	if (o->presence == STACK_MISSING)
		return 0;
	have = json_object_get(attrs, "Attributes");
	snprintf(idkey, sizeof(idkey), "%s.arn", r->id);
	stack_id_set(s, idkey, jstr(have, "QueueArn"));
	o->messages = strtol(jstr(have, "ApproximateNumberOfMessages"), NULL, 10) +
		      strtol(jstr(have, "ApproximateNumberOfMessagesNotVisible"), NULL, 10);
	if (o->messages > 0 && (strcmp(r->id, "dlq") == 0 || strcmp(r->id, "failures") == 0))
		snprintf(o->detail, sizeof(o->detail), "%ld message%s waiting: orders that failed",
			 o->messages, o->messages == 1 ? "" : "s");
	want = queue_want(s, r);
	json_object_foreach(want, key, v) {
		char msg[128];

		if (!attr_equal(key, jstr(have, key), json_string_value(v))) {
			snprintf(msg, sizeof(msg), "%s differs", key);
			drift(o, msg);
		}
	}
	json_decref(attrs);
	json_decref(want);
	return 0;
}

static int queue_create(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	json_t *out = NULL;
	char key[64];

	hint(o, "check that the credentials may sqs:CreateQueue; a queue deleted less than 60 s "
		"ago cannot be created again yet: retry in a minute");
	if (call_propagating(s, "sqs", "CreateQueue",
		       json_pack("{ss so}", "QueueName", o->name, "Attributes", queue_want(s, r)), &out,
		       o))
		return -1;
	snprintf(key, sizeof(key), "%s.url", r->id);
	keep_ident(s, o, out, "QueueUrl", key);
	return 0;
}

static int queue_update(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	return call_propagating(s, "sqs", "SetQueueAttributes",
			  json_pack("{ss so}", "QueueUrl", o->ident, "Attributes", queue_want(s, r)), NULL,
			  o);
}

static int queue_ready(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	char key[64], have[512];

	(void)o;
	snprintf(key, sizeof(key), "%s.arn", r->id);
	stack_id_get(s, key, have, sizeof(have));
	if (!have[0]) {
		queue_arn(s, r->base, have, sizeof(have));
		stack_id_set(s, key, have);
	}
	return 0;
}

static int queue_delete(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	(void)r;
	return stack_call(s, "sqs", "DeleteQueue", json_pack("{ss}", "QueueUrl", o->ident), NULL, o);
}

/* ---- SNS topic and subscriptions ---- */

struct find_ctx {
	const char *suffix;
	char found[1024];
};

static int topic_page(json_t *page, void *ctx)
{
	struct find_ctx *f = ctx;
	size_t i, n = strlen(f->suffix);
	json_t *v;

	json_array_foreach(json_object_get(page, "Topics"), i, v) {
		const char *a = jstr(v, "TopicArn");
		size_t al = strlen(a);

		if (al > n && a[al - n - 1] == ':' && strcmp(a + al - n, f->suffix) == 0) {
			snprintf(f->found, sizeof(f->found), "%s", a);
			return 1;
		}
	}
	return 0;
}

static int topic_read(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	struct find_ctx f = { 0 };

	stack_rname(s, r->base, o->name, sizeof(o->name));
	f.suffix = o->name;
	if (aws_paginate(stack_aws(s), "sns", "ListTopics", NULL, topic_page, &f, 0, &o->err))
		return -1;
	o->presence = f.found[0] ? STACK_PRESENT : STACK_MISSING;
	snprintf(o->ident, sizeof(o->ident), "%s", f.found);
	if (f.found[0])
		stack_id_set(s, "topic.arn", f.found);
	return 0;
}

static int topic_create(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	json_t *out = NULL;

	(void)r;
	if (stack_call(s, "sns", "CreateTopic", json_pack("{ss}", "Name", o->name), &out, o))
		return -1;
	keep_ident(s, o, out, "TopicArn", "topic.arn");
	return 0;
}

static int topic_delete(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	(void)r;
	return stack_call(s, "sns", "DeleteTopic", json_pack("{ss}", "TopicArn", o->ident), NULL, o);
}

struct sub_ctx {
	const char *protocol;
	const char *endpoint; /* NULL: any */
	json_t *found;        /* array of matching subscriptions (new) */
};

static int sub_page(json_t *page, void *ctx)
{
	struct sub_ctx *c = ctx;
	size_t i;
	json_t *v;

	json_array_foreach(json_object_get(page, "Subscriptions"), i, v)
		if (strcmp(jstr(v, "Protocol"), c->protocol) == 0 &&
		    (!c->endpoint || strcmp(jstr(v, "Endpoint"), c->endpoint) == 0))
			json_array_append(c->found, v);
	return 0;
}

/* The subscriptions of the topic with protocol (and endpoint): 0 and c->found, or -1. A
 * missing topic gives an empty list. */
static int subs_find(struct stack *s, struct sub_ctx *c, struct stack_obs *o)
{
	char tarn[1024], key[16] = "topic.arn";
	json_t *in;
	int rc;

	stack_id_get(s, key, tarn, sizeof(tarn));
	c->found = json_array();
	if (!tarn[0])
		return 0;
	in = json_pack("{ss}", "TopicArn", tarn);
	rc = aws_paginate(stack_aws(s), "sns", "ListSubscriptionsByTopic", in, sub_page, c, 0,
			  &o->err);
	json_decref(in);
	if (rc && err_is(o, "NotFound")) {
		err_clear(o);
		rc = 0;
	}
	return rc;
}

static int subq_read(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	char qarn[512];
	struct sub_ctx c = { .protocol = "sqs" };
	json_t *attrs = NULL;
	int rc = -1;

	(void)r;
	queue_arn(s, STACK_DELIVERIES, qarn, sizeof(qarn));
	sfmt(o->name, sizeof(o->name), "sqs -> %s", qarn);
	c.endpoint = qarn;
	if (subs_find(s, &c, o))
		goto out;
	if (json_array_size(c.found) == 0) {
		o->presence = STACK_MISSING;
		rc = 0;
		goto out;
	}
	snprintf(o->ident, sizeof(o->ident), "%s", jstr(json_array_get(c.found, 0), "SubscriptionArn"));
	o->presence = STACK_PRESENT;
	if (stack_call(s, "sns", "GetSubscriptionAttributes",
		       json_pack("{ss}", "SubscriptionArn", o->ident), &attrs, o))
		goto out;
	if (strcmp(jstr(json_object_get(attrs, "Attributes"), "RawMessageDelivery"), "true") != 0)
		drift(o, "RawMessageDelivery is not true");
	rc = 0;
out:
	json_decref(c.found);
	json_decref(attrs);
	return rc;
}

static int subq_create(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	char qarn[512], tarn[1024];

	(void)r;
	queue_arn(s, STACK_DELIVERIES, qarn, sizeof(qarn));
	topic_arn(s, tarn, sizeof(tarn));
	return stack_call(s, "sns", "Subscribe",
			  json_pack("{ss ss ss s{ss} sb}", "TopicArn", tarn, "Protocol", "sqs",
				    "Endpoint", qarn, "Attributes", "RawMessageDelivery", "true",
				    "ReturnSubscriptionArn", 1),
			  NULL, o);
}

static int subq_update(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	(void)r;
	return stack_call(s, "sns", "SetSubscriptionAttributes",
			  json_pack("{ss ss ss}", "SubscriptionArn", o->ident, "AttributeName",
				    "RawMessageDelivery", "AttributeValue", "true"),
			  NULL, o);
}

static int sub_delete(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	(void)r;
	if (strncmp(o->ident, "arn:", 4) != 0)
		return 1; /* a pending email subscription goes with its topic: no wait */
	return call_done_unless(s, "sns", "Unsubscribe",
				json_pack("{ss}", "SubscriptionArn", o->ident), o, "NotFound");
}

static int sube_read(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	const char *email = stack_email(s);
	struct sub_ctx c = { .protocol = "email", .endpoint = email };
	json_t *attrs = NULL, *sub;
	const char *sarn;
	int rc = -1;

	(void)r;
	snprintf(o->name, sizeof(o->name), "email -> %s", email ? email : "(any)");
	if (subs_find(s, &c, o))
		goto out;
	if (json_array_size(c.found) == 0) {
		o->presence = email ? STACK_MISSING : STACK_NONE;
		if (!email)
			snprintf(o->detail, sizeof(o->detail), "not requested (deploy --email ADDR)");
		rc = 0;
		goto out;
	}
	sub = json_array_get(c.found, 0);
	sarn = jstr(sub, "SubscriptionArn");
	snprintf(o->name, sizeof(o->name), "email -> %s", jstr(sub, "Endpoint"));
	snprintf(o->ident, sizeof(o->ident), "%s", strncmp(sarn, "arn:", 4) == 0 ? sarn : "");
	o->presence = STACK_PRESENT;
	if (strncmp(sarn, "arn:", 4) != 0) {
		snprintf(o->detail, sizeof(o->detail), "pending confirmation");
		rc = 0;
		goto out;
	}
	if (stack_call(s, "sns", "GetSubscriptionAttributes",
		       json_pack("{ss}", "SubscriptionArn", sarn), &attrs, o))
		goto out;
	snprintf(o->detail, sizeof(o->detail), "%s",
		 strcmp(jstr(json_object_get(attrs, "Attributes"), "PendingConfirmation"), "true") == 0 ?
			 "pending confirmation (open the link in the email)" :
			 "confirmed");
	rc = 0;
out:
	json_decref(c.found);
	json_decref(attrs);
	return rc;
}

static int sube_create(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	char tarn[1024];
	json_t *out = NULL;

	(void)r;
	if (!stack_email(s))
		return 0;
	topic_arn(s, tarn, sizeof(tarn));
	if (stack_call(s, "sns", "Subscribe",
		       json_pack("{ss ss ss sb}", "TopicArn", tarn, "Protocol", "email", "Endpoint",
				 stack_email(s), "ReturnSubscriptionArn", 1),
		       &out, o))
		return -1;
	snprintf(o->ident, sizeof(o->ident), "%s", jstr(out, "SubscriptionArn"));
	snprintf(o->detail, sizeof(o->detail), "pending confirmation (open the link in the email)");
	json_decref(out);
	return 0;
}

/* ---- CloudWatch Logs groups ---- */

static void log_group_name(struct stack *s, const struct stack_resource *r, char *out, size_t n)
{
	char fn[256];

	stack_rname(s, r->base, fn, sizeof(fn));
	sfmt(out, n, "/aws/lambda/%s", fn);
}

static int log_read(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	json_t *out = NULL, *v;
	size_t i;

	log_group_name(s, r, o->name, sizeof(o->name));
	if (stack_call(s, "logs", "DescribeLogGroups", json_pack("{ss}", "logGroupNamePrefix", o->name),
		       &out, o))
		return -1;
	o->presence = STACK_MISSING;
	json_array_foreach(json_object_get(out, "logGroups"), i, v)
		if (strcmp(jstr(v, "logGroupName"), o->name) == 0) {
			o->presence = STACK_PRESENT;
			snprintf(o->ident, sizeof(o->ident), "%s", jstr(v, "arn"));
		}
	json_decref(out);
	return 0;
}

static int log_create(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	(void)r;
	return call_done_unless(s, "logs", "CreateLogGroup",
				json_pack("{ss}", "logGroupName", o->name), o, "ResourceAlreadyExists");
}

static int log_delete(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	(void)r;
	return call_done_unless(s, "logs", "DeleteLogGroup",
				json_pack("{ss}", "logGroupName", o->name), o, "ResourceNotFound");
}

/* ---- Lambda functions ---- */

/* The function's configuration as it should be (new object, no code). */
static json_t *fn_want(struct stack *s, const struct stack_resource *r)
{
	char role[512], val[1024];
	json_t *env = json_object();

	role_arn(s, r->arg, role, sizeof(role));
	if (strcmp(r->id, "fn-writer") == 0) {
		stack_rname(s, STACK_TABLE, val, sizeof(val));
		json_object_set_new(env, "ORDERS_TABLE", json_string(val));
	} else {
		topic_arn(s, val, sizeof(val));
		json_object_set_new(env, "TOPIC_ARN", json_string(val));
	}
	return json_pack("{ss ss ss si si s{so}}", "Role", role, "Runtime", "provided.al2023",
			 "Handler", "bootstrap", "Timeout", FN_TIMEOUT, "MemorySize", FN_MEMORY,
			 "Environment", "Variables", env);
}

static int fn_read(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	json_t *out = NULL, *cfg, *want, *v;
	const char *key, *sha = stack_zip_sha(s, r->base);

	stack_rname(s, r->base, o->name, sizeof(o->name));
	if (call_describe(s, "lambda", "GetFunction", json_pack("{ss}", "FunctionName", o->name),
			  &out, o, "ResourceNotFound"))
		return -1;
	if (o->presence == STACK_MISSING)
		return 0;
	cfg = json_object_get(out, "Configuration");
	snprintf(o->ident, sizeof(o->ident), "%s", jstr(cfg, "FunctionArn"));
	stack_id_set(s, r->id, o->ident);
	snprintf(o->detail, sizeof(o->detail), "%s%s%s", jstr(cfg, "State"),
		 json_object_get(cfg, "LastUpdateStatus") ? " / " : "", jstr(cfg, "LastUpdateStatus"));
	want = fn_want(s, r);
	json_object_foreach(want, key, v) {
		json_t *have = json_object_get(cfg, key);

		if (strcmp(key, "Environment") == 0) {
			json_t *hv = json_object_get(have, "Variables");

			if (!hv || !json_equal(hv, json_object_get(v, "Variables")))
				drift(o, "config: Environment differs");
		} else if (!have || !json_equal(have, v)) {
			char msg[96];

			snprintf(msg, sizeof(msg), "config: %s differs", key);
			drift(o, msg);
		}
	}
	if (sha && strcmp(sha, jstr(cfg, "CodeSha256")) != 0)
		drift(o, "code: CodeSha256 differs from the zip");
	json_decref(out);
	json_decref(want);
	return 0;
}

/* The zip's bytes as base64 (new string, caller frees), or NULL with o->err. */
static char *zip_b64(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	const char *path = stack_zip_path(s, r->base);
	FILE *f = path ? fopen(path, "rb") : NULL;
	unsigned char *raw = NULL;
	char *b64 = NULL;
	long len;

	if (!f) {
		aws_error_set(&o->err, 0, "ZipMissing", "no zip for %s (%s)", o->name,
			      path ? path : "unknown");
		hint(o, "run 'make' (builds the Lambda binaries) then 'cleanops package'");
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		goto fail;
	if (len > 50L * 1024 * 1024) { /* Lambda's direct upload limit (and int for the encoder) */
		aws_error_set(&o->err, 0, "ZipTooLarge", "%s is %ld bytes, over Lambda's 50 MB "
			      "for a zip sent inline", path, len);
		fclose(f);
		return NULL;
	}
	raw = malloc((size_t)len + 1);
	b64 = malloc(((size_t)len + 2) / 3 * 4 + 1);
	if (!raw || !b64 || fread(raw, 1, (size_t)len, f) != (size_t)len)
		goto fail;
	EVP_EncodeBlock((unsigned char *)b64, raw, (int)len);
	free(raw);
	fclose(f);
	return b64;
fail:
	aws_error_set(&o->err, 0, "ZipUnreadable", "cannot read %s", path);
	free(raw);
	free(b64);
	fclose(f);
	return NULL;
}

static int fn_call_retry(struct stack *s, const char *op, json_t *in, json_t **out,
			 struct stack_obs *o)
{
	return call_propagating(s, "lambda", op, in, out, o);
}

static int fn_create(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	json_t *in = fn_want(s, r), *out = NULL;
	char *code = zip_b64(s, r, o);

	if (!code) {
		json_decref(in);
		return -1;
	}
	json_object_set_new(in, "FunctionName", json_string(o->name));
	json_object_set_new(in, "Code", json_pack("{s:s}", "ZipFile", code));
	/* The zip bundles binaries built here: the function runs on this architecture. */
#if defined(__aarch64__)
	json_object_set_new(in, "Architectures", json_pack("[s]", "arm64"));
#else
	json_object_set_new(in, "Architectures", json_pack("[s]", "x86_64"));
#endif
	free(code);
	if (fn_call_retry(s, "CreateFunction", in, &out, o))
		return -1;
	keep_ident(s, o, out, "FunctionArn", r->id);
	return 0;
}

static int fn_wait(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	for (long waited = 0, delay = POLL_FIRST_MS; waited < WAIT_LIMIT_MS;
	     waited += delay, delay = next_delay(delay)) {
		json_t *out = NULL, *cfg;
		const char *state, *upd;
		int done, failed;

		if (stack_call(s, "lambda", "GetFunctionConfiguration",
			       json_pack("{ss}", "FunctionName", o->name), &out, o))
			return -1;
		cfg = json_object_get(out, "Configuration");
		if (!cfg)
			cfg = out;
		state = jstr(cfg, "State");
		upd = jstr(cfg, "LastUpdateStatus");
		done = (!*state || strcmp(state, "Active") == 0) &&
		       (!*upd || strcmp(upd, "Successful") == 0);
		failed = strcmp(state, "Failed") == 0 || strcmp(upd, "Failed") == 0;
		if (failed)
			aws_error_set(&o->err, 0, "FunctionFailed", "%s: %s", o->name,
				      jstr(cfg, "StateReason")[0] ? jstr(cfg, "StateReason") :
								     jstr(cfg, "LastUpdateStatusReason"));
		json_decref(out);
		if (failed) {
			hint(o, "see the function's state reason; fix and deploy again");
			return -1;
		}
		if (done)
			return 0;
		stack_sleep_ms(delay);
	}
	(void)r;
	aws_error_set(&o->err, 0, "Timeout", "%s did not become Active", o->name);
	return -1;
}

static int fn_update(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	if (strstr(o->detail, "code:")) {
		char *code = zip_b64(s, r, o);
		json_t *in;

		if (!code)
			return -1;
		in = json_pack("{ss ss}", "FunctionName", o->name, "ZipFile", code);
		free(code);
		if (fn_call_retry(s, "UpdateFunctionCode", in, NULL, o) || fn_wait(s, r, o))
			return -1;
	}
	if (strstr(o->detail, "config:")) {
		json_t *in = fn_want(s, r);

		json_object_set_new(in, "FunctionName", json_string(o->name));
		if (fn_call_retry(s, "UpdateFunctionConfiguration", in, NULL, o))
			return -1;
	}
	return 0;
}

static int fn_delete(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	(void)r;
	return call_done_unless(s, "lambda", "DeleteFunction",
				json_pack("{ss}", "FunctionName", o->name), o, "ResourceNotFound");
}

/* ---- event source mappings ---- */

/* The mapping's settings (new object), without FunctionName/EventSourceArn. */
static json_t *esm_want(struct stack *s, const struct stack_resource *r)
{
	json_t *w = json_pack("{si s[s]}", "BatchSize", 10, "FunctionResponseTypes",
			      "ReportBatchItemFailures");

	if (strcmp(r->id, "esm-stream") == 0) {
		char farn[512];

		queue_arn(s, STACK_STREAM_FAILURES, farn, sizeof(farn));
		json_object_set_new(w, "MaximumRetryAttempts", json_integer(3));
		json_object_set_new(w, "BisectBatchOnFunctionError", json_true());
		json_object_set_new(w, "DestinationConfig",
				    json_pack("{s{ss}}", "OnFailure", "Destination", farn));
	}
	return w;
}

static void esm_source(struct stack *s, const struct stack_resource *r, char *out, size_t n)
{
	if (strcmp(r->id, "esm-stream") == 0)
		stack_id_get(s, "table.stream", out, n);
	else
		queue_arn(s, STACK_QUEUE, out, n);
}

/* The mappings of the row's function whose source is of the row's kind (new array). */
static int esm_list(struct stack *s, const struct stack_resource *r, struct stack_obs *o,
		    json_t **found)
{
	char fn[256];
	json_t *out = NULL, *v;
	size_t i;
	int gone;

	*found = json_array();
	stack_rname(s, r->base, fn, sizeof(fn));
	gone = call_tolerating(s, "lambda", "ListEventSourceMappings",
			       json_pack("{ss}", "FunctionName", fn), &out, o, "ResourceNotFound");
	if (gone)
		return gone > 0 ? 0 : -1;
	json_array_foreach(json_object_get(out, "EventSourceMappings"), i, v) {
		const char *src = jstr(v, "EventSourceArn");
		int stream = strstr(src, ":dynamodb:") != NULL;

		if (stream == (strcmp(r->id, "esm-stream") == 0))
			json_array_append(*found, v);
	}
	json_decref(out);
	return 0;
}

static int esm_read(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	json_t *found = NULL, *m, *want = NULL, *v;
	const char *key;
	char src[1024], fn[256];
	int rc = -1;

	stack_rname(s, r->base, fn, sizeof(fn));
	esm_source(s, r, src, sizeof(src));
	sfmt(o->name, sizeof(o->name), "%s -> %s",
		 strcmp(r->id, "esm-stream") == 0 ? "orders stream" : "queue", fn);
	if (esm_list(s, r, o, &found))
		goto out;
	if (json_array_size(found) == 0) {
		o->presence = STACK_MISSING;
		rc = 0;
		goto out;
	}
	m = json_array_get(found, 0);
	snprintf(o->ident, sizeof(o->ident), "%s", jstr(m, "UUID"));
	snprintf(o->detail, sizeof(o->detail), "%s", jstr(m, "State"));
	stack_id_set(s, r->id, o->ident);
	o->presence = STACK_PRESENT;
	if (src[0] && strcmp(jstr(m, "EventSourceArn"), src) != 0)
		drift(o, "source: EventSourceArn is not the current one");
	want = esm_want(s, r);
	json_object_foreach(want, key, v) {
		json_t *have = json_object_get(m, key);
		char msg[96];

		if (strcmp(key, "DestinationConfig") == 0) {
			if (strcmp(jstr(json_object_get(have, "OnFailure"), "Destination"),
				   jstr(json_object_get(v, "OnFailure"), "Destination")) == 0)
				continue;
		} else if (have && json_equal(have, v)) {
			continue;
		}
		snprintf(msg, sizeof(msg), "%s differs", key);
		drift(o, msg);
	}
	rc = 0;
out:
	json_decref(found);
	json_decref(want);
	return rc;
}

static int esm_create(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	json_t *in = esm_want(s, r), *out = NULL;
	char src[1024], fn[256];

	stack_rname(s, r->base, fn, sizeof(fn));
	esm_source(s, r, src, sizeof(src));
	json_object_set_new(in, "FunctionName", json_string(fn));
	json_object_set_new(in, "EventSourceArn", json_string(src));
	if (strcmp(r->id, "esm-stream") == 0)
		json_object_set_new(in, "StartingPosition", json_string("TRIM_HORIZON"));
	if (fn_call_retry(s, "CreateEventSourceMapping", in, &out, o))
		return -1;
	keep_ident(s, o, out, "UUID", r->id);
	return 0;
}

static int esm_delete_all(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	json_t *found = NULL, *v;
	size_t i;
	int rc = -1;

	if (esm_list(s, r, o, &found))
		goto out;
	json_array_foreach(found, i, v)
		if (call_tolerating(s, "lambda", "DeleteEventSourceMapping",
				    json_pack("{ss}", "UUID", jstr(v, "UUID")), NULL, o,
				    "ResourceNotFound") < 0)
			goto out;
	err_clear(o);
	rc = 0;
out:
	json_decref(found);
	return rc;
}

static int esm_update(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	json_t *in;

	if (strstr(o->detail, "source:")) {
		/* The source cannot be changed in place (a re-created table has a new stream). */
		if (esm_delete_all(s, r, o))
			return -1;
		for (long waited = 0; waited < WAIT_LIMIT_MS; waited += 500) {
			json_t *found = NULL;
			size_t n;

			if (esm_list(s, r, o, &found))
				return -1;
			n = json_array_size(found);
			json_decref(found);
			if (n == 0)
				break;
			stack_sleep_ms(500);
		}
		return esm_create(s, r, o);
	}
	in = esm_want(s, r);
	json_object_set_new(in, "UUID", json_string(o->ident));
	return fn_call_retry(s, "UpdateEventSourceMapping", in, NULL, o);
}

static int esm_ready(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	for (long waited = 0, delay = POLL_FIRST_MS; waited < WAIT_LIMIT_MS;
	     waited += delay, delay = next_delay(delay)) {
		json_t *out = NULL;
		char state[64];

		if (stack_call(s, "lambda", "GetEventSourceMapping", json_pack("{ss}", "UUID", o->ident),
			       &out, o))
			return -1;
		snprintf(state, sizeof(state), "%s", jstr(out, "State"));
		json_decref(out);
		snprintf(o->detail, sizeof(o->detail), "%s", state);
		if (strcmp(state, "Enabled") == 0 || !state[0])
			return 0;
		if (strcmp(state, "Disabled") == 0) {
			aws_error_set(&o->err, 0, "MappingDisabled", "the mapping %s is Disabled",
				      o->ident);
			hint(o, "enable it: cleanops call lambda UpdateEventSourceMapping "
				"'{\"UUID\":\"...\",\"Enabled\":true}'");
			return -1;
		}
		stack_sleep_ms(delay);
	}
	(void)r;
	aws_error_set(&o->err, 0, "Timeout", "mapping %s did not become Enabled", o->ident);
	return -1;
}

/* ---- API Gateway ---- */

#define API_TEMPLATE "Action=SendMessage&MessageBody=$util.urlEncode($input.body)"

static json_t *order_schema(void)
{
	return json_pack("{ss ss ss s{s{ss si si} s{ss si si} s{ss} s{ss}} s[s] sb}",
			 "$schema", "http://json-schema.org/draft-04/schema#", "title", "Order", "type",
			 "object", "properties", "item", "type", "string", "minLength", 1, "maxLength",
			 256, "quantity", "type", "integer", "minimum", 1, "maximum", 10000, "orderID",
			 "type", "string", "customerID", "type", "string", "required", "item",
			 "additionalProperties", 0);
}

struct api_find {
	const char *name;
	json_t *ids; /* array of ids */
};

static int api_page(json_t *page, void *ctx)
{
	struct api_find *f = ctx;
	size_t i;
	json_t *v;

	json_array_foreach(json_object_get(page, "items"), i, v)
		if (strcmp(jstr(v, "name"), f->name) == 0)
			json_array_append_new(f->ids, json_string(jstr(v, "id")));
	return 0;
}

static int api_ids(struct stack *s, const char *name, json_t **ids, struct stack_obs *o)
{
	struct api_find f = { .name = name, .ids = json_array() };

	json_t *in = json_pack("{si}", "limit", 500);
	int rc;

	*ids = f.ids;
	rc = aws_paginate(stack_aws(s), "apigateway", "GetRestApis", in, api_page, &f, 0, &o->err);
	json_decref(in);
	return rc;
}

static int api_root(struct stack *s, const char *id, char *root, size_t n, struct stack_obs *o)
{
	json_t *out = NULL, *v;
	size_t i;

	root[0] = '\0';
	if (stack_call(s, "apigateway", "GetResources", json_pack("{ss si}", "restApiId", id, "limit", 500),
		       &out, o))
		return -1;
	json_array_foreach(json_object_get(out, "items"), i, v)
		if (strcmp(jstr(v, "path"), "/") == 0)
			snprintf(root, n, "%s", jstr(v, "id"));
	json_decref(out);
	return 0;
}

static void api_uri(struct stack *s, char *out, size_t n)
{
	char q[256];

	stack_rname(s, STACK_QUEUE, q, sizeof(q));
	snprintf(out, n, "arn:aws:apigateway:%s:sqs:path/%s/%s", stack_region(s), stack_account(s), q);
}

/* Compare the live API's parts with what they should be; notes drift on o. */
static int api_check(struct stack *s, const char *id, const char *root, struct stack_obs *o)
{
	json_t *models = NULL, *vals = NULL, *method = NULL, *schema = order_schema(), *v, *integ;
	int have_model = 0, have_val = 0, gone, rc = -1;
	char uri[512], role[512];
	size_t i;

	if (stack_call(s, "apigateway", "GetModels", json_pack("{ss}", "restApiId", id), &models, o))
		goto out;
	json_array_foreach(json_object_get(models, "items"), i, v)
		if (strcmp(jstr(v, "name"), "Order") == 0)
			have_model = 1;
	if (have_model) {
		char *want = json_dumps(schema, JSON_COMPACT);

		json_array_foreach(json_object_get(models, "items"), i, v)
			if (strcmp(jstr(v, "name"), "Order") == 0 && want &&
			    !docs_equal(jstr(v, "schema"), want))
				drift(o, "model: Order schema differs");
		free(want);
	} else {
		drift(o, "model: Order missing");
	}
	if (stack_call(s, "apigateway", "GetRequestValidators", json_pack("{ss}", "restApiId", id),
		       &vals, o))
		goto out;
	json_array_foreach(json_object_get(vals, "items"), i, v)
		if (strcmp(jstr(v, "name"), "body") == 0 &&
		    json_is_true(json_object_get(v, "validateRequestBody"))) {
			have_val = 1;
			stack_id_set(s, "api.validator", jstr(v, "id"));
		}
	if (!have_val)
		drift(o, "validator: body validator missing");
	gone = call_tolerating(s, "apigateway", "GetMethod",
			       json_pack("{ss ss ss}", "restApiId", id, "resourceId", root,
					 "httpMethod", "POST"),
			       &method, o, "NotFound");
	if (gone < 0)
		goto out;
	if (gone) {
		drift(o, "method: POST missing");
		rc = 0;
		goto out;
	}
	integ = json_object_get(method, "methodIntegration");
	api_uri(s, uri, sizeof(uri));
	role_arn(s, STACK_ROLE_API, role, sizeof(role));
	if (strcmp(jstr(json_object_get(method, "requestModels"), "application/json"), "Order") != 0 ||
	    !json_object_get(method, "requestValidatorId") || !integ ||
	    strcmp(jstr(integ, "uri"), uri) != 0 || strcmp(jstr(integ, "credentials"), role) != 0 ||
	    strcmp(jstr(integ, "passthroughBehavior"), "NEVER") != 0 ||
	    strcmp(jstr(json_object_get(integ, "requestTemplates"), "application/json"), API_TEMPLATE) !=
		    0 ||
	    json_object_size(json_object_get(integ, "integrationResponses")) < 3 ||
	    json_object_size(json_object_get(method, "methodResponses")) < 3)
		drift(o, "method: POST differs");
	rc = 0;
out:
	json_decref(models);
	json_decref(vals);
	json_decref(method);
	json_decref(schema);
	return rc;
}

static int api_read(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	json_t *ids = NULL;
	char root[64];
	const char *id;
	int rc = -1;

	stack_rname(s, r->base, o->name, sizeof(o->name));
	if (api_ids(s, o->name, &ids, o))
		goto out;
	if (json_array_size(ids) == 0) {
		o->presence = STACK_MISSING;
		stack_id_set(s, "api.id", "");
		rc = 0;
		goto out;
	}
	id = json_string_value(json_array_get(ids, 0));
	snprintf(o->ident, sizeof(o->ident), "%s", id);
	stack_id_set(s, "api.id", id);
	o->presence = STACK_PRESENT;
	if (json_array_size(ids) > 1)
		drift(o, "several APIs have this name");
	if (api_root(s, id, root, sizeof(root), o))
		goto out;
	stack_id_set(s, "api.root", root);
	rc = api_check(s, id, root, o);
out:
	json_decref(ids);
	return rc;
}

/* Make every part of the API what it should be (the API itself exists: api.id). */
static int api_converge(struct stack *s, struct stack_obs *o)
{
	char id[128], root[64], uri[512], role[512], val[128];
	json_t *schema = order_schema();
	char *schema_text = json_dumps(schema, JSON_COMPACT);
	int rc = -1;

	stack_id_get(s, "api.id", id, sizeof(id));
	stack_id_get(s, "api.root", root, sizeof(root));
	api_uri(s, uri, sizeof(uri));
	role_arn(s, STACK_ROLE_API, role, sizeof(role));
	if (!schema_text)
		goto out;
	if (strstr(o->detail, "model: Order missing") || !o->detail[0]) {
		if (stack_call(s, "apigateway", "CreateModel",
			       json_pack("{ss ss ss ss}", "restApiId", id, "name", "Order", "contentType",
					 "application/json", "schema", schema_text),
			       NULL, o))
			goto out;
	} else if (strstr(o->detail, "model:")) {
		if (stack_call(s, "apigateway", "UpdateModel",
			       json_pack("{ss ss s[{ss ss ss}]}", "restApiId", id, "modelName", "Order",
					 "patchOperations", "op", "replace", "path", "/schema", "value",
					 schema_text),
			       NULL, o))
			goto out;
	}
	stack_id_get(s, "api.validator", val, sizeof(val));
	if (!val[0]) {
		json_t *out = NULL;

		if (stack_call(s, "apigateway", "CreateRequestValidator",
			       json_pack("{ss ss sb sb}", "restApiId", id, "name", "body",
					 "validateRequestBody", 1, "validateRequestParameters", 0),
			       &out, o))
			goto out;
		snprintf(val, sizeof(val), "%s", jstr(out, "id"));
		stack_id_set(s, "api.validator", val);
		json_decref(out);
	}
	if (strstr(o->detail, "method: POST differs") &&
	    stack_call(s, "apigateway", "DeleteMethod",
		       json_pack("{ss ss ss}", "restApiId", id, "resourceId", root, "httpMethod", "POST"),
		       NULL, o))
		goto out;
	if (!o->detail[0] || strstr(o->detail, "method:")) {
		static const char *const codes[] = { "200", "400", "500" };
		static const char *const patterns[] = { "", "4\\d{2}", "5\\d{2}" };

		if (stack_call(s, "apigateway", "PutMethod",
			       json_pack("{ss ss ss ss ss s{ss}}", "restApiId", id, "resourceId", root,
					 "httpMethod", "POST", "authorizationType", "NONE",
					 "requestValidatorId", val, "requestModels", "application/json",
					 "Order"),
			       NULL, o))
			goto out;
		if (call_propagating(s, "apigateway", "PutIntegration",
			       json_pack("{ss ss ss ss ss ss ss s{ss} s{ss} ss}", "restApiId", id,
					 "resourceId", root, "httpMethod", "POST", "type", "AWS",
					 "integrationHttpMethod", "POST", "uri", uri, "credentials", role,
					 "requestParameters", "integration.request.header.Content-Type",
					 "'application/x-www-form-urlencoded'", "requestTemplates",
					 "application/json", API_TEMPLATE, "passthroughBehavior", "NEVER"),
			       NULL, o))
			goto out;
		for (int i = 0; i < 3; i++) {
			json_t *ir;

			if (stack_call(s, "apigateway", "PutMethodResponse",
				       json_pack("{ss ss ss ss s{ss}}", "restApiId", id, "resourceId", root,
						 "httpMethod", "POST", "statusCode", codes[i],
						 "responseModels", "application/json", "Empty"),
				       NULL, o))
				goto out;
			ir = json_pack("{ss ss ss ss}", "restApiId", id, "resourceId", root, "httpMethod",
				       "POST", "statusCode", codes[i]);
			/* 200 passes SQS's SendMessageResponse through (JSON on AWS, XML in some
			 * emulators): a $input.path template would fail where the body is XML. */
			if (i > 0)
				json_object_set_new(ir, "selectionPattern", json_string(patterns[i]));
			if (stack_call(s, "apigateway", "PutIntegrationResponse", ir, NULL, o))
				goto out;
		}
	}
	stack_id_set(s, "api.changed", "1");
	rc = 0;
out:
	if (rc)
		hint(o, "check the API in the API Gateway console; 'cleanops destroy' and deploy "
			"again rebuilds it");
	free(schema_text);
	json_decref(schema);
	return rc;
}

static int api_create(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	json_t *out = NULL;
	char root[64];

	(void)r;
	if (stack_call(s, "apigateway", "CreateRestApi",
		       json_pack("{ss ss s{s[s]}}", "name", o->name, "description",
				 "cleanops order intake", "endpointConfiguration", "types", "REGIONAL"),
		       &out, o))
		return -1;
	keep_ident(s, o, out, "id", "api.id");
	stack_id_set(s, "api.validator", "");
	if (api_root(s, o->ident, root, sizeof(root), o))
		return -1;
	stack_id_set(s, "api.root", root);
	o->detail[0] = '\0';
	return api_converge(s, o);
}

static int api_update(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	(void)r;
	return api_converge(s, o);
}

static int api_delete(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	json_t *ids = NULL, *v;
	size_t i;
	int rc = -1;

	(void)r;
	if (api_ids(s, o->name, &ids, o))
		goto out;
	json_array_foreach(ids, i, v) {
		/* DeleteRestApi is limited to one call every 30 s per account on AWS. */
		for (long waited = 0;; waited += 5000) {
			if (stack_call(s, "apigateway", "DeleteRestApi",
				       json_pack("{ss}", "restApiId", json_string_value(v)), NULL, o) == 0 ||
			    err_is(o, "NotFound"))
				break;
			if (!err_is(o, "TooManyRequests") || waited > 120000)
				goto out;
			stack_sleep_ms(5000);
		}
		err_clear(o);
	}
	rc = 0;
out:
	json_decref(ids);
	return rc;
}

static int stage_read(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	char id[128], changed[8];
	json_t *out = NULL;

	snprintf(o->name, sizeof(o->name), "%s", r->base);
	stack_id_get(s, "api.id", id, sizeof(id));
	if (!id[0]) {
		o->presence = STACK_MISSING;
		return 0;
	}
	if (call_describe(s, "apigateway", "GetStage",
			  json_pack("{ss ss}", "restApiId", id, "stageName", r->base), &out, o,
			  "NotFound"))
		return -1;
	if (o->presence == STACK_MISSING)
		return 0;
	snprintf(o->ident, sizeof(o->ident), "%s", stack_invoke_url(s));
	stack_id_get(s, "api.changed", changed, sizeof(changed));
	if (changed[0])
		drift(o, "the API changed since the last deployment");
	json_decref(out);
	return 0;
}

static int stage_deploy(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	char id[128];

	stack_id_get(s, "api.id", id, sizeof(id));
	if (stack_call(s, "apigateway", "CreateDeployment",
		       json_pack("{ss ss ss}", "restApiId", id, "stageName", r->base, "description",
				 "cleanops deploy"),
		       NULL, o))
		return -1;
	stack_id_set(s, "api.changed", "");
	snprintf(o->ident, sizeof(o->ident), "%s", stack_invoke_url(s));
	return 0;
}

/* The stage goes with its API. */
static int with_parent(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	(void)s;
	(void)r;
	(void)o;
	return 1;
}

static int noop(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	(void)s;
	(void)r;
	(void)o;
	return 0;
}

/* ---- the rows ---- */

#define POLICY_ROW(ident, file)                                                               \
	{ .id = ident, .kind = "iam policy", .base = file, .read = policy_read,                 \
	  .create = policy_create, .update = policy_update, .del = policy_delete, .ready = noop }

const struct stack_resource stack_rows[] = {
	POLICY_ROW("policy-write-ddb", "Lambda-Write-DynamoDB"),
	POLICY_ROW("policy-read-sqs", "Lambda-Read-SQS"),
	POLICY_ROW("policy-streams-read", "Lambda-DynamoDBStreams-Read"),
	POLICY_ROW("policy-sns-publish", "Lambda-SNS-Publish"),
	POLICY_ROW("policy-api-send", "APIGateway-SQS-Send"),
	{ .id = "role-writer", .kind = "iam role", .base = STACK_ROLE_WRITER, .arg = "lambda",
	  .list = writer_policies, .deps = { "policy-write-ddb", "policy-read-sqs" },
	  .read = role_read, .create = role_create, .update = role_update, .del = role_delete,
	  .ready = noop },
	{ .id = "role-notifier", .kind = "iam role", .base = STACK_ROLE_NOTIFIER, .arg = "lambda",
	  .list = notifier_policies, .deps = { "policy-streams-read", "policy-sns-publish" },
	  .read = role_read, .create = role_create, .update = role_update, .del = role_delete,
	  .ready = noop },
	{ .id = "role-api", .kind = "iam role", .base = STACK_ROLE_API, .arg = "apigateway",
	  .list = api_policies, .deps = { "policy-api-send" }, .read = role_read,
	  .create = role_create, .update = role_update, .del = role_delete, .ready = noop },
	{ .id = "table", .kind = "dynamodb table", .base = STACK_TABLE, .read = table_read,
	  .create = table_create, .update = table_update, .del = table_delete, .ready = table_ready },
	{ .id = "dlq", .kind = "sqs queue", .base = STACK_DLQ, .read = queue_read,
	  .create = queue_create, .update = queue_update, .del = queue_delete, .ready = queue_ready },
	{ .id = "queue", .kind = "sqs queue", .base = STACK_QUEUE,
	  .deps = { "dlq", "role-writer", "role-api" }, .read = queue_read, .create = queue_create,
	  .update = queue_update, .del = queue_delete, .ready = queue_ready },
	{ .id = "failures", .kind = "sqs queue", .base = STACK_STREAM_FAILURES, .read = queue_read,
	  .create = queue_create, .update = queue_update, .del = queue_delete, .ready = queue_ready },
	{ .id = "topic", .kind = "sns topic", .base = STACK_TOPIC, .read = topic_read,
	  .create = topic_create, .update = noop, .del = topic_delete, .ready = noop },
	{ .id = "deliveries", .kind = "sqs queue", .base = STACK_DELIVERIES, .deps = { "topic" },
	  .read = queue_read, .create = queue_create, .update = queue_update, .del = queue_delete,
	  .ready = queue_ready },
	{ .id = "sub-deliveries", .kind = "sns subscription", .base = "deliveries",
	  .deps = { "topic", "deliveries" }, .read = subq_read, .create = subq_create,
	  .update = subq_update, .del = sub_delete, .ready = noop },
	{ .id = "sub-email", .kind = "sns subscription", .base = "email", .deps = { "topic" },
	  .read = sube_read, .create = sube_create, .update = noop, .del = sub_delete,
	  .ready = noop },
	{ .id = "log-writer", .kind = "log group", .base = STACK_FN_WRITER, .read = log_read,
	  .create = log_create, .update = noop, .del = log_delete, .ready = noop },
	{ .id = "log-notifier", .kind = "log group", .base = STACK_FN_NOTIFIER, .read = log_read,
	  .create = log_create, .update = noop, .del = log_delete, .ready = noop },
	{ .id = "fn-writer", .kind = "lambda function", .base = STACK_FN_WRITER,
	  .arg = STACK_ROLE_WRITER, .deps = { "role-writer", "table", "log-writer" },
	  .read = fn_read, .create = fn_create, .update = fn_update, .del = fn_delete,
	  .ready = fn_wait },
	{ .id = "fn-notifier", .kind = "lambda function", .base = STACK_FN_NOTIFIER,
	  .arg = STACK_ROLE_NOTIFIER, .deps = { "role-notifier", "topic", "log-notifier" },
	  .read = fn_read, .create = fn_create, .update = fn_update, .del = fn_delete,
	  .ready = fn_wait },
	{ .id = "esm-queue", .kind = "event source mapping", .base = STACK_FN_WRITER,
	  .deps = { "fn-writer", "queue" }, .read = esm_read, .create = esm_create,
	  .update = esm_update, .del = esm_delete_all, .ready = esm_ready },
	{ .id = "esm-stream", .kind = "event source mapping", .base = STACK_FN_NOTIFIER,
	  .deps = { "fn-notifier", "table", "failures" }, .read = esm_read, .create = esm_create,
	  .update = esm_update, .del = esm_delete_all, .ready = esm_ready },
	{ .id = "api", .kind = "rest api", .base = STACK_API, .deps = { "role-api", "queue" },
	  .read = api_read, .create = api_create, .update = api_update, .del = api_delete,
	  .ready = noop },
	{ .id = "api-stage", .kind = "api stage", .base = STACK_API_STAGE, .deps = { "api" },
	  .read = stage_read, .create = stage_deploy, .update = stage_deploy, .del = with_parent,
	  .ready = noop },
};
const size_t stack_rows_count = sizeof(stack_rows) / sizeof(stack_rows[0]);

/* A row for an extra policy file (policies/NAME.json not in the table above). */
const struct stack_resource stack_extra_policy_row = POLICY_ROW("policy-extra", "");
