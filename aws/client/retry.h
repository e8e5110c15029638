/* retry.h: the SDKs' "standard" retry mode: what to retry, how long to wait, the quota. */
#ifndef CLEANOPS_AWS_RETRY_H
#define CLEANOPS_AWS_RETRY_H

#include <pthread.h>

enum aws_retry_kind {
	AWS_RETRY_NO = 0,
	AWS_RETRY_TRANSIENT,  /* 5xx, RequestTimeout..., connection errors */
	AWS_RETRY_THROTTLE,   /* throttling codes */
	AWS_RETRY_TIMEOUT,    /* connect/read timeouts: cost 10 from the quota */
};

/* Classify a failed attempt. network_error: nonzero when no response came
 * (timed_out: nonzero when it was a timeout). code may be NULL or "". */
enum aws_retry_kind aws_retry_classify(int http_status, const char *code, int network_error,
				       int timed_out);

/* Seconds to wait before retry number attempt (1 = the first retry):
 * rand01 * min(2^(attempt-1), 20). rand01 in [0,1). */
double aws_retry_delay(int attempt, double rand01);

/* The retry quota, one per client: a token bucket of 500. */
struct aws_retry_quota {
	pthread_mutex_t mu;
	int tokens;
};
void aws_retry_quota_init(struct aws_retry_quota *q);
void aws_retry_quota_cleanup(struct aws_retry_quota *q);
/* Take the cost of a retry (5, or 10 for timeouts). Returns the cost taken, or 0 when
 * the bucket cannot pay (then do not retry). */
int aws_retry_quota_acquire(struct aws_retry_quota *q, enum aws_retry_kind kind);
/* After a success: refund cost_of_last_retry, or 1 when there was no retry (cap 500). */
void aws_retry_quota_success(struct aws_retry_quota *q, int cost_of_last_retry);

#endif
