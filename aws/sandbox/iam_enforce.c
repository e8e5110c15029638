/* iam_enforce.c: IAM enforcement in the sandbox. A request's access key names its caller:
 * the operator (all-powerful) or an STS role session, held to the role's attached and inline
 * policies and, for SQS, to the queue policy too (either may allow, any explicit Deny wins).
 * Each service operation maps to its IAM action and resource ARN; a refusal takes the
 * service's own shape. Compiled policies are cached per role and queue and dropped after
 * every IAM write or queue change. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iam_enforce.h"
#include "iam_policy.h"
#include "sbx_int.h"

#define NBUCKETS 256
#define MAX_ENTRIES 4096
#define LOAD_TRIES 3
#define APIGW_SESSION "BackplaneAssumeRoleSession"

/* One cached fact. 'k': the caller behind an access key; 'r': a role's identity and trust
 * policies; 'q': a queue's policy; 'f': a function's execution role. */
struct entry {
	struct entry *next;
	char kind;
	char *key;
	int known;                      /* the role / queue / function exists (or: key is a role) */
	char role_arn[256];             /* 'k', 'f' */
	char session[128];              /* 'k' */
	struct iam_policy_set *set;     /* 'r': identity policies; 'q': the queue policy or NULL */
	struct iam_policy_set *trust;   /* 'r' */
};

struct sbx_iam {
	pthread_mutex_t mu;
	unsigned long gen;              /* bumped by every invalidation */
	struct entry *b[NBUCKETS];
	size_t count;
};

/* AWS managed policies the sandbox knows (others attached grant nothing, logged). */
static const struct {
	const char *arn;
	const char *doc;
} managed[] = {
	{ "arn:aws:iam::aws:policy/AdministratorAccess",
	  "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}" },
	{ "arn:aws:iam::aws:policy/PowerUserAccess",
	  "{\"Statement\":[{\"Effect\":\"Allow\",\"NotAction\":[\"iam:*\",\"organizations:*\","
	  "\"account:*\"],\"Resource\":\"*\"}]}" },
	{ "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
	  "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"logs:CreateLogGroup\","
	  "\"logs:CreateLogStream\",\"logs:PutLogEvents\"],\"Resource\":\"*\"}]}" },
	{ "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
	  "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"sqs:ReceiveMessage\","
	  "\"sqs:DeleteMessage\",\"sqs:GetQueueAttributes\",\"logs:CreateLogGroup\","
	  "\"logs:CreateLogStream\",\"logs:PutLogEvents\"],\"Resource\":\"*\"}]}" },
	{ "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole",
	  "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"dynamodb:DescribeStream\","
	  "\"dynamodb:GetRecords\",\"dynamodb:GetShardIterator\",\"dynamodb:ListStreams\","
	  "\"logs:CreateLogGroup\",\"logs:CreateLogStream\",\"logs:PutLogEvents\"],"
	  "\"Resource\":\"*\"}]}" },
	{ "arn:aws:iam::aws:policy/AmazonSQSFullAccess",
	  "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"sqs:*\",\"Resource\":\"*\"}]}" },
	{ "arn:aws:iam::aws:policy/AmazonSNSFullAccess",
	  "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"sns:*\",\"Resource\":\"*\"}]}" },
	{ "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess",
	  "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"dynamodb:*\",\"Resource\":\"*\"}]}" },
	{ "arn:aws:iam::aws:policy/CloudWatchLogsFullAccess",
	  "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"logs:*\",\"Resource\":\"*\"}]}" },
};

/* ---- the cache ---- */

static unsigned hash(char kind, const char *key)
{
	unsigned h = 2166136261u ^ (unsigned char)kind;

	for (const char *p = key; *p; p++) {
		h ^= (unsigned char)*p;
		h *= 16777619u;
	}
	return h % NBUCKETS;
}

static void entry_free(struct entry *e)
{
	if (!e)
		return;
	iam_policy_set_free(e->set);
	iam_policy_set_free(e->trust);
	free(e->key);
	free(e);
}

/* Drop every entry (cache mutex held). */
static void flush(struct sbx_iam *c)
{
	for (int i = 0; i < NBUCKETS; i++) {
		while (c->b[i]) {
			struct entry *e = c->b[i];

			c->b[i] = e->next;
			entry_free(e);
		}
	}
	c->count = 0;
	c->gen++;
}

static struct entry *find(struct sbx_iam *c, char kind, const char *key)
{
	for (struct entry *e = c->b[hash(kind, key)]; e; e = e->next)
		if (e->kind == kind && strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

int sbx_iam_enforce_init(struct sbx *s)
{
	struct sbx_iam *c = calloc(1, sizeof(*c));

	if (!c)
		return -1;
	pthread_mutex_init(&c->mu, NULL);
	s->iam = c;
	return 0;
}

void sbx_iam_enforce_cleanup(struct sbx *s)
{
	if (!s->iam)
		return;
	flush(s->iam);
	pthread_mutex_destroy(&s->iam->mu);
	free(s->iam);
	s->iam = NULL;
}

void sbx_iam_after_write(struct sbx *s, const char *service, const char *op)
{
	int drop = 0;

	if (!s->iam)
		return;
	if (strcmp(service, "iam") == 0)
		drop = strncmp(op, "Get", 3) != 0 && strncmp(op, "List", 4) != 0;
	else if (strcmp(service, "lambda") == 0)
		drop = 1;  /* the router calls it for function writes only (a role may change) */
	else if (strcmp(service, "sqs") == 0)
		drop = strcmp(op, "CreateQueue") == 0 || strcmp(op, "DeleteQueue") == 0 ||
		       strcmp(op, "SetQueueAttributes") == 0 || strcmp(op, "AddPermission") == 0 ||
		       strcmp(op, "RemovePermission") == 0;
	if (!drop)
		return;
	pthread_mutex_lock(&s->iam->mu);
	flush(s->iam);
	pthread_mutex_unlock(&s->iam->mu);
}

/* ---- loading from the store (cache mutex NOT held; db: the locked store) ---- */

/* Compile doc into *set (created on first use); log what the sandbox cannot honour. */
static void add_doc(struct sbx *s, struct iam_policy_set **set, const char *doc,
		    const char *source, const char *owner)
{
	char err[256];
	int conds = 0;

	if (!*set)
		*set = iam_policy_set_new();
	if (!*set)
		return;
	if (iam_policy_set_add(*set, doc, source, &conds, err, sizeof(err)) != 0)
		sbx_log(s, "WARN", "iam: %s of %s is not a valid policy (%s): it grants nothing",
			source, owner, err);
	else if (conds)
		sbx_log(s, "INFO", "iam: %s of %s: %d statement(s) carry a Condition, which the "
			"sandbox does not evaluate (treated as met)", source, owner, conds);
}

static void load_key(struct sbx *s, sqlite3 *db, struct entry *e)
{
	sqlite3_stmt *st = sbx_db_prep(s, db, "SELECT role_arn, session FROM sts_creds WHERE "
				       "access_key = ?1", "s", e->key);

	if (st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL &&
	    *sbx_col(st, 0)) {
		e->known = 1;
		snprintf(e->role_arn, sizeof(e->role_arn), "%s", sbx_col(st, 0));
		snprintf(e->session, sizeof(e->session), "%s", sbx_col(st, 1));
	}
	sqlite3_finalize(st);
}

static void load_role(struct sbx *s, sqlite3 *db, struct entry *e)
{
	sqlite3_stmt *st = sbx_db_prep(s, db, "SELECT name, trust FROM iam_roles WHERE arn = ?1",
				       "s", e->key);
	char name[128] = "", source[300];

	if (st && sqlite3_step(st) == SQLITE_ROW) {
		e->known = 1;
		snprintf(name, sizeof(name), "%s", sbx_col(st, 0));
		add_doc(s, &e->trust, sbx_col(st, 1), "trust policy", e->key);
	}
	sqlite3_finalize(st);
	if (!e->known) {
		sbx_log(s, "INFO", "iam: role %s is not in the sandbox's IAM: its sessions may do "
			"nothing and no service may assume it", e->key);
		return;
	}
	e->set = iam_policy_set_new();
	st = sbx_db_prep(s, db, "SELECT a.arn, v.document FROM iam_attached a LEFT JOIN "
			 "iam_policies p ON p.arn = a.arn LEFT JOIN iam_policy_versions v ON "
			 "v.arn = p.arn AND v.version = p.default_version WHERE a.kind = 'role' "
			 "AND a.owner = ?1 ORDER BY a.seq", "s", name);
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		const char *arn = sbx_col(st, 0), *doc = NULL;

		if (sqlite3_column_type(st, 1) != SQLITE_NULL)
			doc = sbx_col(st, 1);
		for (size_t i = 0; !doc && i < sizeof(managed) / sizeof(managed[0]); i++)
			if (strcmp(managed[i].arn, arn) == 0)
				doc = managed[i].doc;
		snprintf(source, sizeof(source), "%s", arn);
		if (doc)
			add_doc(s, &e->set, doc, source, e->key);
		else
			sbx_log(s, "WARN", "iam: policy %s attached to %s is unknown to the "
				"sandbox: it grants nothing", arn, e->key);
	}
	sqlite3_finalize(st);
	st = sbx_db_prep(s, db, "SELECT name, document FROM iam_inline WHERE kind = 'role' AND "
			 "owner = ?1 ORDER BY name", "s", name);
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		snprintf(source, sizeof(source), "inline policy %s", sbx_col(st, 0));
		add_doc(s, &e->set, sbx_col(st, 1), source, e->key);
	}
	sqlite3_finalize(st);
}

static void load_queue(struct sbx *s, sqlite3 *db, struct entry *e)
{
	sqlite3_stmt *st = sbx_db_prep(s, db, "SELECT extra FROM sqs_queues WHERE name = ?1", "s",
				       e->key);

	if (st && sqlite3_step(st) == SQLITE_ROW) {
		json_t *extra = json_loads(sbx_col(st, 0), 0, NULL);
		const char *pol = json_string_value(json_object_get(extra, "Policy"));

		e->known = 1;
		if (pol && *pol)
			add_doc(s, &e->set, pol, "queue policy", e->key);
		json_decref(extra);
	}
	sqlite3_finalize(st);
}

static void load_function(struct sbx *s, sqlite3 *db, struct entry *e)
{
	const char *p = strstr(e->key, ":function:");
	char name[160];
	sqlite3_stmt *st;

	snprintf(name, sizeof(name), "%s", p ? p + 10 : e->key);
	name[strcspn(name, ":")] = '\0';
	st = sbx_db_prep(s, db, "SELECT config FROM lambda_functions WHERE name = ?1", "s", name);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		json_t *cfg = json_loads(sbx_col(st, 0), 0, NULL);
		const char *role = json_string_value(json_object_get(cfg, "Role"));

		if (role) {
			e->known = 1;
			snprintf(e->role_arn, sizeof(e->role_arn), "%s", role);
		}
		json_decref(cfg);
	}
	sqlite3_finalize(st);
}

/* The entry (kind, key), loaded when missing. Returns it with the cache mutex HELD (the
 * caller unlocks), or NULL (mutex not held) when out of memory. db: the store when the
 * caller holds its lock, else NULL. */
static struct entry *entry_get(struct sbx *s, sqlite3 *db, char kind, const char *key)
{
	struct sbx_iam *c = s->iam;
	struct entry *e, *fresh = NULL;
	unsigned long gen = 0;

	pthread_mutex_lock(&c->mu);
	for (int tries = 0;; tries++) {
		sqlite3 *d;

		e = find(c, kind, key);
		if (e) {
			entry_free(fresh);
			return e;
		}
		/* keep what was loaded unless an invalidation came meanwhile */
		if (fresh && (c->gen == gen || tries > LOAD_TRIES))
			break;
		gen = c->gen;
		pthread_mutex_unlock(&c->mu);
		entry_free(fresh);
		fresh = calloc(1, sizeof(*fresh));
		if (fresh)
			fresh->key = strdup(key);
		if (!fresh || !fresh->key) {
			free(fresh);
			return NULL;
		}
		fresh->kind = kind;
		d = db ? db : sbx_db_lock(s);
		if (kind == 'k')
			load_key(s, d, fresh);
		else if (kind == 'r')
			load_role(s, d, fresh);
		else if (kind == 'q')
			load_queue(s, d, fresh);
		else
			load_function(s, d, fresh);
		if (!db)
			sbx_db_unlock(s);
		pthread_mutex_lock(&c->mu);
	}
	if (c->count >= MAX_ENTRIES)
		flush(c);
	fresh->next = c->b[hash(kind, key)];
	c->b[hash(kind, key)] = fresh;
	c->count++;
	return fresh;
}

/* ---- decisions ---- */

struct outcome {
	enum iam_decision d;
	int by_resource;        /* the deciding explicit deny is in the resource policy */
	char which[200];
};

/* The queue name of an SQS ARN, or NULL when resource is no queue ARN. */
static const char *queue_name(const char *resource)
{
	const char *p;

	if (strncmp(resource, "arn:aws:sqs:", 12) != 0)
		return NULL;
	p = strrchr(resource, ':');
	return p && p[1] ? p + 1 : NULL;
}

/* Decide action on resource for a session of role_arn (identity policies, then the queue
 * policy for a queue). A role the sandbox's IAM does not hold (never created, or deleted
 * since the session began) has no policies: everything is denied. Returns 0 with *o
 * filled, -1 when out of memory. */
static int decide_role(struct sbx *s, const char *role_arn, const char *session_arn,
		       const char *action, const char *resource, struct outcome *o)
{
	struct iam_request req = { action, resource, NULL };
	struct iam_principal who = { role_arn, session_arn, SBX_ACCOUNT, NULL };
	const char *qname = strncmp(action, "sqs:", 4) == 0 ? queue_name(resource) : NULL;
	struct entry *e = entry_get(s, NULL, 'r', role_arn);
	enum iam_decision rd;
	char rwhich[200];

	memset(o, 0, sizeof(*o));
	if (!e)
		return -1;
	if (!e->known) {
		pthread_mutex_unlock(&s->iam->mu);
		o->d = IAM_IMPLICIT_DENY;
		snprintf(o->which, sizeof(o->which), "(no such role)");
		return 0;
	}
	o->d = iam_policy_eval(e->set, &req, o->which, sizeof(o->which));
	pthread_mutex_unlock(&s->iam->mu);
	if (!qname || o->d == IAM_EXPLICIT_DENY)
		return 0;
	e = entry_get(s, NULL, 'q', qname);
	if (!e)
		return -1;
	req.principal = &who;
	rd = e->set ? iam_policy_eval(e->set, &req, rwhich, sizeof(rwhich)) : IAM_IMPLICIT_DENY;
	pthread_mutex_unlock(&s->iam->mu);
	if (rd == IAM_EXPLICIT_DENY || (rd == IAM_ALLOW && o->d != IAM_ALLOW)) {
		o->d = rd;
		o->by_resource = 1;
		snprintf(o->which, sizeof(o->which), "%s", rwhich);
	}
	return 0;
}

static void session_arn_of(const char *role_arn, const char *session, char *out, size_t n)
{
	const char *name = strrchr(role_arn, '/');

	snprintf(out, n, "arn:aws:sts::%s:assumed-role/%s/%s", SBX_ACCOUNT,
		 name ? name + 1 : role_arn, session);
}

/* AWS's reason for a refusal (the text after "User: X is not authorized to perform: ..."). */
static void reason(char *out, size_t n, const char *user, const char *action_text,
		   const char *resource, const struct outcome *o)
{
	if (o->d == IAM_EXPLICIT_DENY)
		snprintf(out, n, "User: %s is not authorized to perform: %s on resource: %s "
			 "with an explicit deny in %s", user, action_text, resource,
			 o->by_resource ? "a resource-based policy" : "an identity-based policy");
	else
		snprintf(out, n, "User: %s is not authorized to perform: %s on resource: %s "
			 "because no identity-based policy allows the %s action", user, action_text,
			 resource, action_text);
}

/* ---- operations to actions and resources ---- */

/* One request being checked: each (operation, resource) pair of it goes through check(). */
struct checker {
	struct sbx_req *r;
	const struct rule *rule;
	const char *role_arn;
	char session_arn[300];
};

typedef int (*resources_fn)(struct checker *c, json_t *in);

/* How a service's requests are checked and refused. */
struct rule {
	const char *service;     /* the sandbox's service name */
	const char *prefix;      /* IAM's service prefix */
	int status;
	const char *code;
	int lower;               /* SQS writes the action in lower case in its message */
	const char *msg_prefix;  /* the prefix as the message shows it (SNS: "SNS") */
	resources_fn resources;
};

static int check(struct checker *c, const char *op, const char *resource)
{
	char action[160], shown[160], why[1400];
	struct outcome o;
	int rc;

	snprintf(action, sizeof(action), "%s:%s", c->rule->prefix, op);
	rc = decide_role(c->r->sbx, c->role_arn, c->session_arn, action, resource, &o);
	if (rc < 0)
		return sbx_error(c->r, 500, "InternalFailure", "The policy cache failed");
	if (o.d == IAM_ALLOW)
		return 0;
	snprintf(shown, sizeof(shown), "%s:%s", c->rule->msg_prefix, op);
	if (c->rule->lower)
		for (char *p = shown; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
	reason(why, sizeof(why), c->session_arn, shown, resource, &o);
	sbx_log(c->r->sbx, "INFO", "iam: denied %s on %s for %s (%s%s)", action, resource,
		c->session_arn, o.d == IAM_EXPLICIT_DENY ? "explicit deny " : "no allow",
		o.which);
	return sbx_error(c->r, c->rule->status, c->rule->code, "%s", why);
}

static const char *str_or(json_t *in, const char *name, const char *def)
{
	const char *v = sbx_str(in, name);

	return v && *v ? v : def;
}

static void table_arn(struct checker *c, const char *table, char *out, size_t n)
{
	if (strncmp(table, "arn:", 4) == 0)
		snprintf(out, n, "%s", table);
	else
		snprintf(out, n, "arn:aws:dynamodb:%s:%s:table/%s", c->r->region, SBX_ACCOUNT,
			 table);
}

static int ddb_resources(struct checker *c, json_t *in)
{
	const char *op = c->r->op, *table = sbx_str(in, "TableName"), *k;
	char arn[600];
	json_t *v;
	size_t i;

	if (strcmp(op, "BatchGetItem") == 0 || strcmp(op, "BatchWriteItem") == 0) {
		json_object_foreach(json_object_get(in, "RequestItems"), k, v) {
			table_arn(c, k, arn, sizeof(arn));
			if (check(c, op, arn))
				return -1;
		}
		return 0;
	}
	if (strcmp(op, "TransactWriteItems") == 0 || strcmp(op, "TransactGetItems") == 0) {
		static const char *const kinds[][2] = { { "Put", "PutItem" },
			{ "Update", "UpdateItem" }, { "Delete", "DeleteItem" },
			{ "ConditionCheck", "ConditionCheckItem" }, { "Get", "GetItem" } };

		json_array_foreach(json_object_get(in, "TransactItems"), i, v) {
			for (size_t j = 0; j < sizeof(kinds) / sizeof(kinds[0]); j++) {
				json_t *item = json_object_get(v, kinds[j][0]);

				if (!item)
					continue;
				table_arn(c, str_or(item, "TableName", ""), arn, sizeof(arn));
				if (check(c, kinds[j][1], arn))
					return -1;
			}
		}
		return 0;
	}
	if (table && *table)
		table_arn(c, table, arn, sizeof(arn));
	else
		snprintf(arn, sizeof(arn), "*");
	return check(c, op, arn);
}

static int streams_resources(struct checker *c, json_t *in)
{
	const char *arn = sbx_str(in, "StreamArn"), *it = sbx_str(in, "ShardIterator");
	char res[600] = "*";

	if (arn && *arn)
		snprintf(res, sizeof(res), "%s", arn);
	else if (it && strchr(it, '|'))
		snprintf(res, sizeof(res), "%.*s", (int)(strchr(it, '|') - it), it);
	return check(c, c->r->op, res);
}

static int sqs_resources(struct checker *c, json_t *in)
{
	const char *op = c->r->op, *url = sbx_str(in, "QueueUrl"), *name = sbx_str(in, "QueueName");
	char qname[128] = "", arn[300] = "*";
	static const char *const batch[][2] = { { "SendMessageBatch", "SendMessage" },
		{ "DeleteMessageBatch", "DeleteMessage" },
		{ "ChangeMessageVisibilityBatch", "ChangeMessageVisibility" } };

	for (size_t i = 0; i < sizeof(batch) / sizeof(batch[0]); i++)
		if (strcmp(op, batch[i][0]) == 0)
			op = batch[i][1];
	if (url && *url) {
		size_t len = strcspn(url, "?");
		const char *p;

		while (len > 0 && url[len - 1] == '/')
			len--;
		p = url + len;
		while (p > url && p[-1] != '/' && p[-1] != ':')
			p--;
		snprintf(qname, sizeof(qname), "%.*s", (int)(url + len - p), p);
	} else if (name && *name) {
		snprintf(qname, sizeof(qname), "%s", name);
	}
	if (qname[0])
		snprintf(arn, sizeof(arn), "arn:aws:sqs:%s:%s:%s", c->r->region, SBX_ACCOUNT,
			 qname);
	return check(c, op, arn);
}

static int sns_resources(struct checker *c, json_t *in)
{
	const char *topic = sbx_str(in, "TopicArn"), *target = sbx_str(in, "TargetArn");
	const char *sub = sbx_str(in, "SubscriptionArn"), *res = sbx_str(in, "ResourceArn");
	const char *name = sbx_str(in, "Name"), *op = c->r->op;
	char arn[600] = "*";

	/* IAM has no sns:PublishBatch action: a batch is authorized as sns:Publish. */
	if (strcmp(op, "PublishBatch") == 0)
		op = "Publish";
	if (topic && *topic)
		snprintf(arn, sizeof(arn), "%s", topic);
	else if (target && *target)
		snprintf(arn, sizeof(arn), "%s", target);
	else if (res && *res)
		snprintf(arn, sizeof(arn), "%s", res);
	else if (sub && strncmp(sub, "arn:", 4) == 0 && strrchr(sub, ':'))
		snprintf(arn, sizeof(arn), "%.*s", (int)(strrchr(sub, ':') - sub), sub);
	else if (strcmp(c->r->op, "CreateTopic") == 0 && name)
		snprintf(arn, sizeof(arn), "arn:aws:sns:%s:%s:%s", c->r->region, SBX_ACCOUNT, name);
	return check(c, op, arn);
}

static int logs_resources(struct checker *c, json_t *in)
{
	const char *group = sbx_str(in, "logGroupName"), *stream = sbx_str(in, "logStreamName");
	const char *ident = sbx_str(in, "logGroupIdentifier");
	char arn[800] = "*";

	if ((!group || !*group) && ident && *ident) {
		if (strncmp(ident, "arn:", 4) == 0)
			snprintf(arn, sizeof(arn), "%s", ident);
		else
			group = ident;
	}
	if (group && *group && stream && *stream)
		snprintf(arn, sizeof(arn), "arn:aws:logs:%s:%s:log-group:%s:log-stream:%s",
			 c->r->region, SBX_ACCOUNT, group, stream);
	else if (group && *group)
		snprintf(arn, sizeof(arn), "arn:aws:logs:%s:%s:log-group:%s:*", c->r->region,
			 SBX_ACCOUNT, group);
	return check(c, c->r->op, arn);
}

static int iam_resources(struct checker *c, json_t *in)
{
	const char *role = sbx_str(in, "RoleName"), *user = sbx_str(in, "UserName");
	const char *pol = sbx_str(in, "PolicyArn"), *pname = sbx_str(in, "PolicyName");
	char arn[600] = "*";

	if (role && *role)
		snprintf(arn, sizeof(arn), "arn:aws:iam::%s:role/%s", SBX_ACCOUNT, role);
	else if (user && *user)
		snprintf(arn, sizeof(arn), "arn:aws:iam::%s:user/%s", SBX_ACCOUNT, user);
	else if (pol && *pol)
		snprintf(arn, sizeof(arn), "%s", pol);
	else if (strcmp(c->r->op, "CreatePolicy") == 0 && pname && *pname)
		snprintf(arn, sizeof(arn), "arn:aws:iam::%s:policy/%s", SBX_ACCOUNT, pname);
	return check(c, c->r->op, arn);
}

static int sts_resources(struct checker *c, json_t *in)
{
	/* GetCallerIdentity needs no permission, on AWS as here */
	if (strcmp(c->r->op, "GetCallerIdentity") == 0)
		return 0;
	return check(c, c->r->op, str_or(in, "RoleArn", "*"));
}

static const struct rule rules[] = {
	{ "dynamodb", "dynamodb", 400, "AccessDeniedException", 0, "dynamodb", ddb_resources },
	{ "dynamodbstreams", "dynamodb", 400, "AccessDeniedException", 0, "dynamodb",
	  streams_resources },
	{ "sqs", "sqs", 403, "AccessDenied", 1, "sqs", sqs_resources },
	{ "sns", "sns", 403, "AuthorizationError", 0, "SNS", sns_resources },
	{ "logs", "logs", 400, "AccessDeniedException", 0, "logs", logs_resources },
	{ "iam", "iam", 403, "AccessDenied", 0, "iam", iam_resources },
	{ "sts", "sts", 403, "AccessDenied", 0, "sts", sts_resources },
};

int sbx_iam_authorize_role(struct sbx_req *r, const char *role_arn, const char *session,
			   json_t *in)
{
	struct checker c;

	if (!r->sbx->enforce_iam || !r->sbx->iam || !role_arn || !*role_arn)
		return 0;
	memset(&c, 0, sizeof(c));
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (strcmp(rules[i].service, r->service) == 0)
			c.rule = &rules[i];
	if (!c.rule)
		return 0;
	c.r = r;
	c.role_arn = role_arn;
	session_arn_of(role_arn, session && *session ? session : APIGW_SESSION, c.session_arn,
		       sizeof(c.session_arn));
	return c.rule->resources(&c, in);
}

int sbx_iam_authorize(struct sbx_req *r, json_t *in)
{
	struct entry *e;
	char role[256], session[128];

	if (!r->sbx->enforce_iam || !r->sbx->iam || !r->access_key || !r->access_key[0])
		return 0;
	e = entry_get(r->sbx, NULL, 'k', r->access_key);
	if (!e)
		return sbx_error(r, 500, "InternalFailure", "The policy cache failed");
	if (!e->known) {
		/* not a role session: the operator (or an IAM user) may do anything */
		pthread_mutex_unlock(&r->sbx->iam->mu);
		return 0;
	}
	snprintf(role, sizeof(role), "%s", e->role_arn);
	snprintf(session, sizeof(session), "%s", e->session);
	pthread_mutex_unlock(&r->sbx->iam->mu);
	return sbx_iam_authorize_role(r, role, session, in);
}

/* ---- for the sandbox's own callers ---- */

int sbx_iam_role_trusts(struct sbx *s, const char *role_arn, const char *service)
{
	struct iam_principal who = { NULL, NULL, NULL, service };
	struct iam_request req = { "sts:AssumeRole", role_arn, &who };
	struct entry *e;
	int ok, known;

	if (!s->enforce_iam || !s->iam)
		return 1;
	if (!role_arn || !*role_arn)
		return 0;
	e = entry_get(s, NULL, 'r', role_arn);
	if (!e)
		return 1;
	/* a trust policy names no Resource: the role itself is the resource */
	known = e->known;
	ok = known && iam_policy_eval(e->trust, &req, NULL, 0) == IAM_ALLOW;
	pthread_mutex_unlock(&s->iam->mu);
	if (!ok)
		sbx_log(s, "INFO", "iam: %s may not assume %s (%s)", service, role_arn,
			known ? "trust policy" : "no such role");
	return ok;
}

int sbx_iam_function_allows(struct sbx *s, const char *function_arn, const char *action,
			    const char *resource, char *why, size_t n)
{
	struct entry *e;
	struct outcome o;
	char role[256], session_arn[300];
	const char *name;

	if (n)
		why[0] = '\0';
	if (!s->enforce_iam || !s->iam)
		return 1;
	e = entry_get(s, NULL, 'f', function_arn);
	if (!e)
		return 1;
	if (!e->known) {
		pthread_mutex_unlock(&s->iam->mu);
		return 1;
	}
	snprintf(role, sizeof(role), "%s", e->role_arn);
	pthread_mutex_unlock(&s->iam->mu);
	name = strstr(function_arn, ":function:");
	session_arn_of(role, name ? name + 10 : function_arn, session_arn, sizeof(session_arn));
	if (decide_role(s, role, session_arn, action, resource, &o) != 0) {
		snprintf(why, n, "the policy cache failed");
		return 0;
	}
	if (o.d == IAM_ALLOW)
		return 1;
	reason(why, n, session_arn, action, resource, &o);
	return 0;
}

int sbx_iam_queue_allows_service_locked(struct sbx *s, sqlite3 *db, const char *queue_arn,
					const char *service, const char *source_arn,
					const char *action, char *why, size_t n)
{
	struct iam_principal who = { NULL, NULL, SBX_ACCOUNT, service };
	struct iam_request req = { action, queue_arn, &who };
	const char *qname = queue_name(queue_arn);
	struct entry *e;
	struct outcome o;

	(void)source_arn; /* aws:SourceArn conditions are not evaluated (logged at compile) */
	if (n)
		why[0] = '\0';
	if (!s->enforce_iam || !s->iam || !qname)
		return 1;
	e = entry_get(s, db, 'q', qname);
	if (!e)
		return 1;
	memset(&o, 0, sizeof(o));
	o.by_resource = 1;
	if (!e->known)
		o.d = IAM_ALLOW;  /* no such queue: the caller reports that */
	else if (e->set)
		o.d = iam_policy_eval(e->set, &req, o.which, sizeof(o.which));
	/* else a queue without any policy: only its own account's identities may use it, so
	 * a service principal is refused, as AWS refuses it (o.d stays IAM_IMPLICIT_DENY) */
	pthread_mutex_unlock(&s->iam->mu);
	if (o.d == IAM_ALLOW)
		return 1;
	if (o.d == IAM_EXPLICIT_DENY)
		reason(why, n, service, action, queue_arn, &o);
	else
		snprintf(why, n, "User: %s is not authorized to perform: %s on resource: %s "
			 "because no resource-based policy allows the %s action", service, action,
			 queue_arn, action);
	return 0;
}
