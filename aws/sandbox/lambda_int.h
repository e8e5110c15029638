/* lambda_int.h: private parts of the sandbox's Lambda (svc_lambda.c, lambda_exec.c, runtime_api.c). */
#ifndef CLEANOPS_SANDBOX_LAMBDA_INT_H
#define CLEANOPS_SANDBOX_LAMBDA_INT_H

#include <jansson.h>
#include <stddef.h>

#include "aws/client/buf.h"
#include "lambda.h"
#include "sandbox.h"

#define LX_DEFAULT_CONCURRENCY 4
#define LX_TAIL_BYTES 4096

/* What an environment needs to run one function (a snapshot taken per invocation). */
struct lx_config {
	char name[65];
	char arn[192];
	char handler[256];
	char code_dir[1024];      /* DATA/lambda/<name>/<hex sha> (unpacked zip) */
	char region[32];
	char revision[40];        /* RevisionId: environments of another revision are stale */
	char access_key[32];      /* the role's credentials */
	char secret_key[64];
	char session_token[200];
	int timeout_s;
	int memory_mb;
	int concurrency;          /* reserved concurrency, -1 when none set */
	json_t *vars;             /* Environment.Variables (new reference, may be NULL) */
};

/* svc_lambda.c: load a function's snapshot by name or ARN. Returns 0, or -1 when no such
 * function. Release with lx_config_cleanup. */
int lx_config_load(struct sbx *s, const char *function, struct lx_config *c);
/* Release what lx_config_load took. */
void lx_config_cleanup(struct lx_config *c);

/* lambda_exec.c: the executor (process pool, one invocation per process at a time). */
/* Start it (sandbox init): kill environments a dead sandbox left behind. Returns 0 or -1. */
int lx_exec_start(struct sbx *s);
/* Make every wait of an invocation end soon (sandbox stop, before the HTTP join). */
void lx_exec_quiesce(struct sbx *s);
/* Stop it: kill every process and wait for them. */
void lx_exec_stop(struct sbx *s);
/* Stop the environments of function name (update, delete): idle ones now, busy ones when
 * their invocation ends. */
void lx_exec_retire(struct sbx *s, const char *name);
/* Run one invocation of c. Same contract as sbx_lambda_invoke; tail (may be NULL) receives
 * the invocation's log lines (the last LX_TAIL_BYTES of them). */
int lx_exec_invoke(struct sbx *s, const struct lx_config *c, const char *payload, size_t len,
		   struct aws_buf *out, struct sbx_invoke_result *res, long wait_ms,
		   struct aws_buf *tail);
/* Queue an Event invocation of function (copied). Returns 0 or -1. */
int lx_exec_enqueue(struct sbx *s, const char *function, const char *payload, size_t len);

/* One environment as runtime_api.c sees it (opaque). */
struct lx_env;

/* An invocation handed to the runtime by /next (payload malloc'd: the caller frees). */
struct lx_next {
	char request_id[37];
	char arn[192];
	char trace_id[128];
	long long deadline_ms;
	char *payload;
	size_t len;
};

/* lambda_exec.c, for runtime_api.c: block until env has an invocation. Returns 0 with *n
 * filled, or -1 when the environment is ending (answer 500 so the runtime exits). */
int lx_env_next(struct lx_env *env, struct lx_next *n);
/* The runtime's response for request id. Returns 0 (202), -1 unknown request (400). */
int lx_env_response(struct lx_env *env, const char *id, const char *body, size_t len);
/* The runtime's error for request id (type_hdr: Lambda-Runtime-Function-Error-Type or NULL). */
int lx_env_error(struct lx_env *env, const char *id, const char *type_hdr, const char *body,
		 size_t len);
/* The runtime failed to initialise (returned to the invocation waiting for it). */
int lx_env_init_error(struct lx_env *env, const char *type_hdr, const char *body, size_t len);

/* runtime_api.c: a Runtime API listener on 127.0.0.1:<ephemeral> serving env. Returns the
 * daemon and *port, or NULL. Stop it with lx_rapi_stop after lx_env_next callers woke. */
void *lx_rapi_start(struct lx_env *env, int *port);
/* Stop a listener (joins its connection threads). */
void lx_rapi_stop(void *daemon);

#endif
