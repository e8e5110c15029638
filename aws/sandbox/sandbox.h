/* sandbox.h: the sandbox's internal interface: the server, requests, services, the store. */
#ifndef CLEANOPS_SANDBOX_H
#define CLEANOPS_SANDBOX_H

#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>

#include "aws/client/buf.h"

#define SBX_ACCOUNT "000000000000"
#define SBX_DEFAULT_PORT 4566
#define SBX_DEFAULT_REGION "us-east-1"

/* How to run a sandbox (borrowed strings). */
struct sbx_opts {
	int port;              /* 0: SBX_DEFAULT_PORT */
	const char *data_dir;  /* required: created 0700 when missing */
	int strict_auth;       /* verify SigV4 against the configured key pairs */
	int no_enforce_iam;    /* hardening issue: IAM evaluation off */
	int headless;          /* no socket and no HTTP server: callers drive sbx_route()
				* themselves (the fuzzer); long polls return at once */
};

/* One running sandbox (opaque outside aws/sandbox). */
struct sbx;

/* Start: open the store, create every service's schema, run init hooks, listen on
 * 127.0.0.1:port. Returns 0 and *out, or -1 with a message in errbuf. */
int sbx_start(const struct sbx_opts *opts, struct sbx **out, char *errbuf, size_t errlen);
/* Wake every long poll (quiesce hooks), stop listening and join the HTTP threads, stop
 * every background thread (shutdown hooks), close the store. */
void sbx_stop(struct sbx *s);
/* The port it listens on. */
int sbx_port(const struct sbx *s);
/* The data directory (borrowed). */
const char *sbx_data_dir(const struct sbx *s);
/* "http://127.0.0.1:PORT" (borrowed). */
const char *sbx_endpoint(const struct sbx *s);

/* The one logger: a line to DATA/sandbox.log with time and level. Never logs secrets. */
void sbx_log(struct sbx *s, const char *level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The store: one SQLite database (WAL) under the data directory, one connection,
 * guarded by one mutex. sbx_db_lock() returns the connection with the lock held;
 * sbx_db_unlock() releases it. Keep the lock for one request's work, never across
 * waits or network calls. Use explicit BEGIN/COMMIT for multi-statement writes. */
sqlite3 *sbx_db_lock(struct sbx *s);
void sbx_db_unlock(struct sbx *s);
/* The mutex itself, for condition variables (long polls) that wait on store changes. */
pthread_mutex_t *sbx_db_mutex(struct sbx *s);
/* Run SQL without results under the held lock. Returns 0 or -1 (logged). */
int sbx_db_exec(struct sbx *s, sqlite3 *db, const char *sql);

/* One request as a service handler sees it (all borrowed, valid during the call). */
struct sbx_req {
	struct sbx *sbx;
	const char *method;
	const char *path;       /* raw path as received (percent-encoded) */
	const char *query;      /* raw query string or "" */
	const char *body;
	size_t body_len;
	const char *service;    /* "sqs", "dynamodb", "dynamodbstreams", "sns", ... */
	const char *op;         /* "SendMessage" */
	const char *region;     /* from the credential scope, else SBX_DEFAULT_REGION */
	const char *access_key; /* the caller's access key id, "" when unsigned */
	const char *request_id; /* a fresh UUID */
	const char *(*header)(const struct sbx_req *r, const char *name); /* NULL when absent */
	void *conn;             /* the server's connection, for header() */
	/* the error a handler set with sbx_error() */
	int err_status;
	char err_code[96];
	char err_message[512];
	/* rest-json route hooks: extra response headers to send (name -> JSON string), or
	 * NULL for other protocols; owned by the router */
	json_t *resp_headers;
	/* internal callers (an event source mapping's poller): a long poll returns early, with
	 * what it has, once interrupted(interrupt_ctx) is nonzero. Called with the store lock
	 * held, so it must not take it. NULL for HTTP requests. */
	int (*interrupted)(void *ctx);
	void *interrupt_ctx;
};

/* A handler's error: sets status, code and message on r. Returns -1. */
int sbx_error(struct sbx_req *r, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* An operation: input members as JSON (boto3's names: for query-protocol services the
 * router turns the form into this JSON using aws/client's operation shapes), output
 * members as JSON (a new reference in *out; the router writes JSON or XML). Returns 0,
 * or -1 after sbx_error(). in is borrowed and never NULL. */
typedef int (*sbx_op_fn)(struct sbx_req *r, json_t *in, json_t **out);

struct sbx_op {
	const char *name;
	sbx_op_fn fn;
};

/* A service of the sandbox: a const row in aws/sandbox/services.c. */
struct sbx_service {
	const char *name;          /* aws/client's service name ("sqs") */
	const char *schema;        /* SQL run at start (CREATE TABLE IF NOT EXISTS ...), or NULL */
	const struct sbx_op *ops;
	size_t nops;
	int (*init)(struct sbx *s);      /* background threads, state; NULL if none */
	void (*shutdown)(struct sbx *s); /* stop them; NULL if none */
	/* rest-json services route by path themselves: returns 0 when handled (status,
	 * body written), 1 when the path is not theirs. NULL for other protocols. */
	int (*route)(struct sbx_req *r, int *status, struct aws_buf *body,
		     const char **content_type);
	/* sbx_stop, before the HTTP server joins its threads: end every wait a handler may be
	 * in (long polls) and make new ones return at once. Handlers still run, so free
	 * nothing here (that is shutdown's job, after the join). NULL if none. */
	void (*quiesce)(struct sbx *s);
};

/* Every sandbox service, NULL-terminated (services.c). */
extern const struct sbx_service *const sbx_services[];

/* Per-service private state hung on the sandbox (set in init, read by handlers). */
void sbx_set_state(struct sbx *s, const char *service, void *state);
void *sbx_get_state(struct sbx *s, const char *service);

/* Helpers for handlers. */
/* The string member name of in, or NULL when absent or not a string. */
const char *sbx_str(json_t *in, const char *name);
/* A fresh UUID v4 (lowercase) into out (37 bytes). */
void sbx_uuid(char out[37]);
/* Now as epoch milliseconds. */
long long sbx_now_ms(void);

/* Cross-service calls inside the sandbox (implemented by the owning service). */
/* SQS: enqueue body on the queue with this ARN (SNS deliveries, failure destinations).
 * Returns 0, or -1 when the queue does not exist. message_id_out may be NULL (37 bytes). */
int sbx_sqs_send_internal(struct sbx *s, const char *queue_arn, const char *body,
			  char *message_id_out);
/* CloudWatch Logs: append one event to group/stream, creating both when missing. */
int sbx_logs_put_internal(struct sbx *s, const char *group, const char *stream,
			  long long timestamp_ms, const char *message);

#endif
