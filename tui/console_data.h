/* console_data.h: the console's one data adapter: background threads, snapshots, commands. */
#ifndef CLEANOPS_TUI_CONSOLE_DATA_H
#define CLEANOPS_TUI_CONSOLE_DATA_H

#include <stddef.h>

#include "target.h"

/* Sizes of the snapshot's bounded lists and rings. */
enum {
	TUI_LIST_MAX = 64,      /* lines kept per panel (newest first) */
	TUI_LINE_MAX = 200,     /* bytes per line */
	TUI_SPARK_MAX = 120,    /* queue-depth samples kept */
	TUI_RES_MAX = 40,       /* resources shown in progress lists */
};

/* The counters of the pipeline's hops, as rows of the snapshot's counter array. */
enum tui_counter_id {
	TUI_C_SENT,        /* orders sent from this console */
	TUI_C_VISIBLE,     /* queue: messages visible */
	TUI_C_INFLIGHT,    /* queue: messages in flight */
	TUI_C_DLQ,         /* dead-letter queue depth */
	TUI_C_L1_INVOKE,   /* POC-Lambda-1 invocations */
	TUI_C_L1_ERRORS,   /* POC-Lambda-1 errors */
	TUI_C_ITEMS,       /* DynamoDB items */
	TUI_C_STREAM,      /* stream records */
	TUI_C_L2_INVOKE,   /* POC-Lambda-2 invocations */
	TUI_C_L2_ERRORS,   /* POC-Lambda-2 errors */
	TUI_C_PUBLISHED,   /* SNS publishes, from POC-Lambda-2's log lines */
	TUI_C_DELIVERIES,  /* SNS deliveries seen (peeked on the deliveries queue) */
	TUI_C_COUNT
};

/* One counter: avail is 0 when nothing measures it (shown as "n/a", never invented). */
struct tui_counter {
	int avail;
	long long value;
	double rate; /* per second, over the last sample interval */
};

/* A bounded list of text lines, newest first. */
struct tui_list {
	int n;
	char line[TUI_LIST_MAX][TUI_LINE_MAX];
};

/* Progress state of a resource or step. */
enum tui_res_state { TUI_RES_UNKNOWN, TUI_RES_ABSENT, TUI_RES_PENDING, TUI_RES_WORKING,
		     TUI_RES_DONE, TUI_RES_FAILED };

/* One resource as deploy/destroy/status report it. */
struct tui_resource {
	char kind[32];      /* "queue", "table", "role" ... */
	char name[96];      /* the stack-prefixed name */
	enum tui_res_state state;
	char message[256];  /* the AWS error message when failed */
};

/* What the background job (deploy, order, burst ...) is doing. */
enum tui_job_kind { TUI_JOB_NONE, TUI_JOB_PLAN, TUI_JOB_DEPLOY, TUI_JOB_DESTROY, TUI_JOB_ORDER, TUI_JOB_BURST,
		    TUI_JOB_DLQ_INSPECT, TUI_JOB_REDRIVE, TUI_JOB_PURGE, TUI_JOB_MAIL,
		    TUI_JOB_CONFIRM };

/* The whole state the UI draws: a plain copy, immutable once handed over. */
struct tui_snapshot {
	unsigned long long version;  /* bumped on every change */
	char target[128];            /* "sandbox", "aws", an endpoint URL */
	char account[32];            /* from STS, "" until known */
	char region[64];
	char stack[40];
	char conn[256];              /* "" when connected, else what is wrong / happening */
	int deployed;                /* -1 unknown, 0 not deployed, 1 deployed */
	char unavailable[256];       /* "not available: ..." for missing subsystems, or "" */
	struct tui_counter counter[TUI_C_COUNT];
	int spark[TUI_SPARK_MAX];    /* queue depth samples, oldest first */
	int nspark;
	struct tui_list items;       /* newest DynamoDB items */
	struct tui_list stream;      /* stream records */
	struct tui_list deliveries;  /* SNS deliveries */
	struct tui_list logs;        /* Lambda logs (both functions) */
	struct tui_list events;      /* console events */
	struct tui_list dlq;         /* DLQ messages from the last inspect */
	char subscription[128];      /* the email subscription's state */
	char email[256];             /* the subscribed address, when the stack has one */
	struct tui_list mail;        /* sandbox Maildir: newest messages (date, subject, line) */
	char confirm_url[1024];      /* the newest subscription confirmation link, or "" */
	struct tui_resource res[TUI_RES_MAX]; /* resources of the stack (status or progress) */
	int nres;
	enum tui_job_kind job;       /* the running or last job */
	int job_running;
	int job_failed;
	long job_done, job_total;    /* progress */
	char job_status[256];        /* one line: what it does now / how it ended */
	char job_result[512];        /* e.g. the burst's latency summary */
};

/* Arguments of a job; strings are copied. */
struct tui_job_args {
	char email[256];
	char item[257];
	long quantity;
	char customer[128];
	long count;
	double rate;
	int dlq_redrive_all;
};

/* The adapter (opaque): owns the client, the threads and the current snapshot. */
struct tui_data;

/* Start the adapter for target t and stack (copied): starts the sandbox when t is the
 * sandbox and it is not running, and the monitor. Never blocks on the network: the work
 * happens on its threads. Returns 0 and *out (free with tui_data_free), or -1 with errbuf. */
int tui_data_new(const struct tui_target *t, const char *stack, const char *self_exe,
		 struct tui_data **out, char *errbuf, size_t n);
/* Stop the threads (waits for them; a running job's current AWS call finishes) and free. */
void tui_data_free(struct tui_data *d);
/* A file descriptor that becomes readable when the snapshot changed; drain it with
 * tui_data_drain before taking the snapshot. */
int tui_data_fd(const struct tui_data *d);
/* Empty the wake-up descriptor (never blocks). */
void tui_data_drain(struct tui_data *d);
/* Copy the current snapshot into out (a short mutex hold; no I/O). */
void tui_data_snapshot(struct tui_data *d, struct tui_snapshot *out);
/* Queue job kind with args (copied; may be NULL) on the job thread. Returns 0, or -1 when
 * a job is already running (the snapshot says which). Never blocks. */
int tui_data_start_job(struct tui_data *d, enum tui_job_kind kind, const struct tui_job_args *args);
/* Change the stack or region the adapter watches (wizard input); copied. */
void tui_data_set_stack(struct tui_data *d, const char *stack, const char *region);

#endif
