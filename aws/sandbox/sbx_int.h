/* sbx_int.h: the sandbox core's private parts, shared by server.c, store.c and router.c. */
#ifndef CLEANOPS_SANDBOX_INT_H
#define CLEANOPS_SANDBOX_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>

#include "aws/client/buf.h"
#include "sandbox.h"

#define SBX_MAX_STATES 32
#define SBX_MAX_BODY ((size_t)16 * 1024 * 1024)
/* Lambda's function APIs take a 50 MB zip inline (base64): AWS caps those requests at
 * 69905067 bytes */
#define SBX_MAX_BODY_LAMBDA ((size_t)69905067)

struct sbx {
	char *data_dir;
	int port;
	int strict_auth;
	char endpoint[64];
	void *mhd;                  /* struct MHD_Daemon */
	int listen_fd;
	FILE *log;
	pthread_mutex_t log_mu;
	sqlite3 *db;
	pthread_mutex_t db_mu;
	pthread_mutex_t state_mu;
	const char *state_names[SBX_MAX_STATES];
	void *states[SBX_MAX_STATES];
	int nstates;
	json_t *keys;               /* strict auth: {"AKID": "secret"} */
	int ninit;                  /* services whose init hook ran (in sbx_services order) */
	int enforce_iam;            /* role sessions are held to their policies (iam_enforce.c) */
	struct sbx_iam *iam;        /* its policy cache */
};

/* Where a request's headers come from: what sbx_http.conn and sbx_req.conn point to. The
 * server wraps its libmicrohttpd connection; a caller without a socket (the fuzzer) holds
 * the headers in memory instead. */
struct sbx_conn {
	void *mhd;                 /* struct MHD_Connection, or NULL: the headers below */
	const char *const *names;  /* in arrival order (borrowed) */
	const char *const *values;
	int n;
};

/* One HTTP exchange as the router sees it (in: borrowed; out: owned by the caller). */
struct sbx_http {
	const char *method;
	const char *path;   /* raw */
	const char *query;  /* raw, "" when none */
	const char *body;
	size_t body_len;
	void *conn;         /* struct sbx_conn */
	/* out */
	int status;
	struct aws_buf out;
	const char *content_type;
	char request_id[37];
	char query_error[160];  /* x-amzn-query-error value, "" when none */
	char error_type[96];    /* x-amzn-ErrorType value (rest-json), "" when none */
	json_t *headers;        /* extra response headers (name -> string) or NULL; owned here */
};

/* Route and answer one request (fills the out members). Never fails: errors become
 * the protocol's error reply. */
void sbx_route(struct sbx *s, struct sbx_http *h);

/* A request header of the connection (case-insensitive), or NULL. */
const char *sbx_conn_header(void *conn, const char *name);
/* Every request header in arrival order: fills names/values (borrowed) up to max;
 * returns the count. */
int sbx_conn_headers(void *conn, const char **names, const char **values, int max);

/* Open the store (DATA/sandbox.db) and run every schema. Returns 0 or -1 (errbuf). */
int sbx_store_open(struct sbx *s, char *errbuf, size_t errlen);
/* Close the store. */
void sbx_store_close(struct sbx *s);

/* Prepare sql (lock held) and bind the varargs by fmt: 's' text (NULL binds NULL),
 * 'i' long long. Returns the statement (caller finalizes) or NULL (logged). */
sqlite3_stmt *sbx_db_prep(struct sbx *s, sqlite3 *db, const char *sql, const char *fmt, ...);
/* Prepare, bind and step a statement to completion. Returns the changed row count or -1. */
int sbx_db_run(struct sbx *s, sqlite3 *db, const char *sql, const char *fmt, ...);
/* Like sbx_db_prep, but the statement stays prepared for the next use of the same sql (a
 * string constant): borrowed, give it back with sbx_db_done before unlocking the store;
 * never finalize it. Returns NULL on failure (logged). */
sqlite3_stmt *sbx_db_stmt(struct sbx *s, sqlite3 *db, const char *sql, const char *fmt, ...);
/* Give back a statement from sbx_db_stmt (reset and unbound for the next use); NULL is
 * ignored. */
void sbx_db_done(struct sbx *s, sqlite3_stmt *st);
/* A column as a string ("" for NULL; borrowed until the next step). */
const char *sbx_col(sqlite3_stmt *st, int i);

/* IAM: the secret of an access key created with CreateAccessKey (svc_iam.c), or of
 * temporary credentials from STS AssumeRole (svc_sts.c). Returns 0 or -1. */
int sbx_iam_secret_for(struct sbx *s, const char *access_key, char *out, size_t n);
int sbx_sts_secret_for(struct sbx *s, const char *access_key, char *out, size_t n);

/* Small JSON input helpers for handlers of query services, whose numbers and booleans
 * may arrive as strings: the integer member name (number or decimal string), else def. */
long long sbx_int(json_t *in, const char *name, long long def);
/* Boolean member: true/false or "true"/"false", else def. */
int sbx_bool(json_t *in, const char *name, int def);
/* n random characters from alphabet (NUL-terminated into out, n+1 bytes). */
void sbx_rand_chars(char *out, size_t n, const char *alphabet);
/* Format epoch milliseconds as ISO-8601 UTC with milliseconds ("...T..:..:..(.mmm)Z"). */
void sbx_iso_time(long long ms, char out[32]);

#endif
