/* esm.h: event source mappings (SQS and DynamoDB Streams pollers) inside the sandbox:
 * the parts esm.c, esm_sqs.c and esm_streams.c share, and the hooks tests replace. */
#ifndef CLEANOPS_SANDBOX_ESM_H
#define CLEANOPS_SANDBOX_ESM_H

#include <pthread.h>
#include <stddef.h>

#include "aws/client/buf.h"
#include "aws/sandbox/lambda.h"
#include "aws/sandbox/sandbox.h"

#define ESM_MAX_WORKERS 8
#define ESM_SQS_WORKERS 4      /* concurrent batches per SQS mapping (default concurrency) */

/* How the pollers invoke a function: sbx_lambda_invoke's contract. */
typedef int (*sbx_esm_invoke_fn)(struct sbx *s, const char *function, const char *payload,
				 size_t len, struct aws_buf *out, struct sbx_invoke_result *res,
				 long wait_ms);

/* Replace the invoker (unit tests); NULL restores sbx_lambda_invoke. Process-wide:
 * set it before sbx_start. While one is set every function name exists (its ARN is
 * made from the name). */
void sbx_esm_set_invoker(sbx_esm_invoke_fn fn);

enum esm_kind { ESM_SQS, ESM_STREAM };

/* A mapping's settings as its pollers use them. */
struct esm_config {
	char function_arn[256];
	int enabled;
	int batch_size;
	int window_s;            /* MaximumBatchingWindowInSeconds */
	int report_failures;     /* FunctionResponseTypes has ReportBatchItemFailures */
	int max_retry;           /* MaximumRetryAttempts, -1: until the record expires */
	int bisect;              /* BisectBatchOnFunctionError */
	int max_age;             /* MaximumRecordAgeInSeconds, -1: none */
	char destination[512];   /* OnFailure destination (an SQS queue ARN), "" when none */
	int max_concurrency;     /* SQS ScalingConfig.MaximumConcurrency, 0 when unset */
};

struct esm;

/* One mapping with its poller threads (owned by struct esm, freed at shutdown). */
struct esm_mapping {
	struct esm *esm;
	struct sbx *sbx;
	char uuid[37];
	char source_arn[512];
	char region[64];
	enum esm_kind kind;
	struct esm_config cfg;   /* guarded by the esm mutex */
	int deleted;             /* guarded: the pollers exit, the last one drops the row */
	int transition;          /* guarded: the store's State waits for a poller to settle it */
	int live;                /* guarded: pollers still running */
	int parked;              /* guarded: pollers waiting in sbx_esm_gate while disabled */
	int next_index;          /* guarded: the index the next SQS poller takes */
	int nthreads;
	pthread_t threads[ESM_MAX_WORKERS];
	char last_result[128];   /* guarded: what the store holds */
	struct esm_mapping *next;
};

/* ---- for the pollers (esm.c) ---- */

/* Wait until the mapping is enabled, then copy its settings into cfg. Settles a pending
 * State transition in the store. Returns 0 to poll, -1 when the poller must exit
 * (sandbox stopping or mapping deleted). */
int sbx_esm_gate(struct esm_mapping *m, struct esm_config *cfg);
/* Sleep up to ms unless the sandbox stops, the mapping changes or is deleted.
 * Returns 0, or -1 when the poller must exit. */
int sbx_esm_sleep(struct esm_mapping *m, long ms);
/* Nonzero when the poller must stop what it does (stopping, deleted, disabled). */
int sbx_esm_interrupted(struct esm_mapping *m);
/* A poller's number within its mapping (0, 1, ...), taken once at its start. */
int sbx_esm_worker_index(struct esm_mapping *m);
/* Record LastProcessingResult (written to the store when it changes). */
void sbx_esm_result(struct esm_mapping *m, const char *text);
/* A poller thread ends: the last one of a deleted mapping removes it from the store. */
void sbx_esm_worker_exit(struct esm_mapping *m);
/* Invoke the mapping's function synchronously with payload (through the invoker). */
int sbx_esm_invoke(struct esm_mapping *m, const struct esm_config *cfg, const char *payload,
		   size_t len, struct aws_buf *out, struct sbx_invoke_result *res);

/* Parse a function's partial batch response against the batch's item ids (messageId or
 * SequenceNumber). failed (n bytes) gets 1 for each reported item. Returns the number
 * of failed items (0: whole batch succeeded), or -1 when the response is invalid (the
 * whole batch failed): not JSON, batchItemFailures not a list, an entry without a
 * non-empty string itemIdentifier, or an id not in the batch. */
int sbx_esm_parse_failures(const char *resp, size_t len, const char *const *ids, size_t n,
			   unsigned char *failed);

/* Does the SQS queue (ARN, URL or name) exist? Returns 1, 0, or -1 (store error).
 * Store lock NOT held (esm_sqs.c). */
int sbx_esm_sqs_exists(struct sbx *s, const char *queue_arn);

/* Poller threads (arg: struct esm_mapping *). */
void *sbx_esm_sqs_worker(void *arg);
void *sbx_esm_stream_worker(void *arg);

/* Stream checkpoints (esm_streams.c), store lock NOT held: the committed sequence number
 * of a mapping ("" when none) and a commit. Return 0 (1: no checkpoint yet) or -1. */
int sbx_esm_checkpoint_get(struct sbx *s, const char *uuid, char *seq, size_t n);
int sbx_esm_checkpoint_set(struct sbx *s, const char *uuid, const char *seq);

/* A function was deleted: its mappings stay (as on AWS); invocations then fail and
 * are retried like throttles. Nothing to do today; kept for the Lambda service. */
void sbx_esm_function_deleted(struct sbx *s, const char *function_arn);

#endif
