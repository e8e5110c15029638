/* stack.h: the pipeline as data (resource rows) and the deploy / status / destroy engine. */
#ifndef CLEANOPS_STACK_STACK_H
#define CLEANOPS_STACK_STACK_H

#include <jansson.h>
#include <stddef.h>

#include "aws/client/aws.h"

#define STACK_MAX_DEPS 8
#define STACK_MAX_RESOURCES 48

/* What the engine is asked to do. */
enum stack_op {
	STACK_OP_PLAN,    /* read only: the live state of every resource (status, deploy's plan) */
	STACK_OP_DEPLOY,  /* create what is missing, update what differs, wait until ready */
	STACK_OP_DESTROY, /* delete in reverse dependency order and wait until gone */
};

/* What a read found. */
enum stack_presence {
	STACK_UNKNOWN,  /* not read (a dependency failed) or the read failed */
	STACK_MISSING,  /* not there */
	STACK_PRESENT,  /* there and as it should be */
	STACK_DRIFTED,  /* there but different (detail says how) */
	STACK_NONE,     /* not wanted (the email subscription without --email): healthy */
};

/* One resource's observation and outcome. Plain data. */
struct stack_obs {
	enum stack_presence presence;
	char name[256];     /* its AWS name */
	char ident[1024];   /* ARN, URL or id, when known */
	char detail[512];   /* drift description, mapping state, confirmation state */
	char action[16];    /* what deploy/destroy did: "", "create", "update", "delete" */
	int failed;         /* the step failed: err and hint say why */
	struct aws_error err;
	char hint[256];     /* what to do about a failure */
	double elapsed_s;
	long messages;      /* sqs queues: messages waiting at the last read (visible and
			     * in flight); 0 otherwise */
};

struct stack;

/* A resource kind/instance: a const row. Every function returns 0, or -1 with o->err (and
 * o->hint) filled. read sets o->presence (and name, ident, detail); it never writes.
 * del may return 1: "deleted together with a resource it belongs to" (no wait). */
struct stack_resource {
	const char *id;    /* "queue", "fn-writer" ... (unique; used in the state file) */
	const char *kind;  /* "sqs queue", "lambda function" ... */
	const char *base;  /* the seed's name (prefixed for other stacks) */
	const char *arg;   /* kind-specific: the trust document, the policy file ... */
	const char *const *list;  /* kind-specific list (policies a role attaches), or NULL */
	const char *deps[STACK_MAX_DEPS]; /* ids this one needs first, NULL-terminated */
	int (*read)(struct stack *s, const struct stack_resource *r, struct stack_obs *o);
	int (*create)(struct stack *s, const struct stack_resource *r, struct stack_obs *o);
	int (*update)(struct stack *s, const struct stack_resource *r, struct stack_obs *o);
	int (*del)(struct stack *s, const struct stack_resource *r, struct stack_obs *o);
	int (*ready)(struct stack *s, const struct stack_resource *r, struct stack_obs *o);
};

/* The fixed rows, in a valid dependency order (extra policies are appended at run time). */
extern const struct stack_resource stack_rows[];
extern const size_t stack_rows_count;

/* Progress, delivered from worker threads (serialised: one call at a time). */
enum stack_event_kind {
	STACK_EV_INFO,    /* a message about the whole run (message) */
	STACK_EV_START,   /* a resource's step starts (message: "reading", "creating" ...) */
	STACK_EV_DONE,    /* a resource is finished (obs) */
	STACK_EV_FAILED,  /* a resource failed (obs: err, hint) */
	STACK_EV_SKIPPED, /* not attempted: a dependency failed */
};
struct stack_event {
	enum stack_event_kind kind;
	const struct stack_resource *res; /* NULL for INFO */
	const struct stack_obs *obs;      /* DONE / FAILED / SKIPPED */
	const char *message;
};
typedef void (*stack_event_fn)(const struct stack_event *ev, void *ctx);

/* How to build an engine. Strings are borrowed for the engine's life. */
struct stack_opts {
	struct aws_client *client;  /* borrowed */
	const char *stack;          /* stack name; NULL = "POC" */
	const char *email;          /* operator address for the email subscription, or NULL */
	const char *zip_dir;        /* the Lambda zips; NULL = found (engine.c find_zip_dir) */
	const char *bin_dir;        /* the binaries; NULL = zip_dir/bin */
	const char *policy_dir;     /* NULL: $CLEANOPS_POLICIES, ./policies, next to the binary */
	const char *state_dir;      /* NULL: $XDG_STATE_HOME/cleanops or ~/.local/state/cleanops */
	const char *target_label;   /* "sandbox", an endpoint URL, "aws" (account/region added) */
	const char *endpoint;       /* the endpoint override, or NULL on real AWS */
	int workers;                /* threads; 0 = 4 */
	stack_event_fn on_event;    /* may be NULL */
	void *event_ctx;
};

/* Build an engine: learns the account (STS), renders the policies, loads the state file
 * (a corrupt one is reported through on_event and rebuilt). Returns 0 and *out (free with
 * stack_free), or -1 with err filled (code and message) . */
int stack_new(const struct stack_opts *opts, struct stack **out, struct aws_error *err);
/* Free an engine. NULL is a no-op. */
void stack_free(struct stack *s);

/* Run op over every resource, in parallel along the dependency graph. Deploy builds the
 * zips first when missing or stale. Returns 0 when every resource succeeded (destroy:
 * and nothing is left), -1 otherwise (see stack_obs_at). */
int stack_run(struct stack *s, enum stack_op op);

/* The resources of this engine (rows plus extra policies) and their last observations. */
size_t stack_count(const struct stack *s);
const struct stack_resource *stack_resource_at(const struct stack *s, size_t i);
const struct stack_obs *stack_obs_at(const struct stack *s, size_t i);
/* Write calls (create/update/delete/put...) issued since stack_new. */
long stack_writes(const struct stack *s);
/* The account id, the region, the state file's path (borrowed). */
const char *stack_account(const struct stack *s);
const char *stack_stack_name(const struct stack *s);
const char *stack_region(const struct stack *s);
const char *stack_state_path(const struct stack *s);
/* The API's invoke URL ("" until a read found the API): sandbox and other endpoints:
 * ENDPOINT/restapis/{id}/prod/_user_request_/; AWS: https://{id}.execute-api.R.amazonaws.com/prod/ */
const char *stack_invoke_url(const struct stack *s);
/* Nonzero when the last PLAN found everything healthy (present, not drifted, mappings
 * enabled). */
int stack_healthy(const struct stack *s);
/* Messages waiting in the dead-letter queues (POC-Queue-DLQ and POC-Stream-Failures) at the
 * last read: orders that failed for good. status counts them as not healthy. */
long stack_dead_letters(const struct stack *s);

/* Names of presence values and the report of the last run as JSON (new reference):
 * {"stack","target state file","account","region","healthy","writes","invoke_url",
 *  "resources":[{"id","kind","name","id_value","state","detail","action","error","hint"}]}. */
const char *stack_presence_name(enum stack_presence p);
json_t *stack_report_json(const struct stack *s);

/* The dependency graph as indices (for tests): fills order[] with a topological order of
 * n rows given by their deps; returns 0, or -1 on a cycle or an unknown dependency. */
int stack_graph_order(const struct stack_resource *rows, size_t n, size_t *order);

/* A run-level failure of the last stack_new/stack_run (zips, policies), or "" (borrowed). */
const char *stack_error(const struct stack *s);

/* --- used by resources.c (internal to aws/stack) --- */
/* The row extra policy files are made from (id and base filled in at run time). */
extern const struct stack_resource stack_extra_policy_row;
/* The engine's client (borrowed). */
struct aws_client *stack_aws(struct stack *s);
/* One counted AWS call: steals in (may be NULL); 0 and *out (caller decrefs; out may be
 * NULL to discard), or -1 with o->err filled. */
int stack_call(struct stack *s, const char *service, const char *op, json_t *in, json_t **out,
	       struct stack_obs *o);
/* The stack's name for base ("POC-Queue" or "X-POC-Queue") into out. */
void stack_rname(const struct stack *s, const char *base, char *out, size_t n);
/* Shared identifiers between rows (thread-safe): set key (copied) / get into out ("" none). */
void stack_id_set(struct stack *s, const char *key, const char *value);
void stack_id_get(struct stack *s, const char *key, char *out, size_t n);
/* The rendered policy document for policy name base (borrowed), or NULL. */
const char *stack_policy_doc(const struct stack *s, const char *base);
/* The trust document for "lambda" / "apigateway" (borrowed), or NULL. */
const char *stack_trust_doc(const struct stack *s, const char *which);
/* The email address (or NULL), the zip path and CodeSha256 for a function (or NULL). */
const char *stack_email(const struct stack *s);
const char *stack_zip_path(const struct stack *s, const char *fn_base);
const char *stack_zip_sha(const struct stack *s, const char *fn_base);
/* Sleep ms milliseconds (waits between polls). */
void stack_sleep_ms(long ms);

#endif
