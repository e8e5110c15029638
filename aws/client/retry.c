/* retry.c: botocore "standard" retry mode: classification, full-jitter backoff, the quota. */
#include "retry.h"

#include <stddef.h>
#include <string.h>

/* The quota's size and what a retry costs (botocore retries/standard.py). */
#define QUOTA_MAX 500
#define RETRY_COST 5
#define TIMEOUT_RETRY_COST 10
#define NO_RETRY_INCREMENT 1
#define MAX_BACKOFF 20.0

/* Error codes that are retried as transient whatever the status. */
static const char *const transient_codes[] = {
	"RequestTimeout",
	"RequestTimeoutException",
	"PriorRequestNotComplete",
	NULL,
};

/* The union of every code AWS uses for throttling (ThrottledRetryableChecker). */
static const char *const throttle_codes[] = {
	"Throttling",
	"ThrottlingException",
	"ThrottledException",
	"RequestThrottledException",
	"TooManyRequestsException",
	"ProvisionedThroughputExceededException",
	"TransactionInProgressException",
	"RequestLimitExceeded",
	"BandwidthLimitExceeded",
	"LimitExceededException",
	"RequestThrottled",
	"SlowDown",
	"PriorRequestNotComplete",
	"EC2ThrottledException",
	NULL,
};

/* Errors modeled as retryable in the services cleanops uses, and STS's special case. */
static const char *const modeled_codes[] = {
	"ReplicatedWriteConflictException", /* DynamoDB */
	"IDPCommunicationError",            /* STS */
	NULL,
};

static const int transient_statuses[] = { 500, 502, 503, 504 };

static int in_list(const char *const *list, const char *code)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(list[i], code) == 0)
			return 1;
	return 0;
}

enum aws_retry_kind aws_retry_classify(int http_status, const char *code, int network_error,
				       int timed_out)
{
	if (network_error)
		return timed_out ? AWS_RETRY_TIMEOUT : AWS_RETRY_TRANSIENT;
	if (code && code[0]) {
		if (in_list(throttle_codes, code))
			return AWS_RETRY_THROTTLE;
		if (in_list(transient_codes, code) || in_list(modeled_codes, code))
			return AWS_RETRY_TRANSIENT;
	}
	for (size_t i = 0; i < sizeof transient_statuses / sizeof transient_statuses[0]; i++)
		if (http_status == transient_statuses[i])
			return AWS_RETRY_TRANSIENT;
	return AWS_RETRY_NO;
}

double aws_retry_delay(int attempt, double rand01)
{
	double base = 1.0;

	if (!(rand01 >= 0.0)) /* negative or NaN */
		rand01 = 0.0;
	if (rand01 > 1.0)
		rand01 = 1.0;
	/* 2^(attempt-1), stopping once past the cap so large attempts cannot overflow. */
	for (int i = 1; i < attempt && base < MAX_BACKOFF; i++)
		base *= 2.0;
	if (base > MAX_BACKOFF)
		base = MAX_BACKOFF;
	return rand01 * base;
}

void aws_retry_quota_init(struct aws_retry_quota *q)
{
	pthread_mutex_init(&q->mu, NULL);
	q->tokens = QUOTA_MAX;
}

void aws_retry_quota_cleanup(struct aws_retry_quota *q)
{
	pthread_mutex_destroy(&q->mu);
}

int aws_retry_quota_acquire(struct aws_retry_quota *q, enum aws_retry_kind kind)
{
	int cost = kind == AWS_RETRY_TIMEOUT ? TIMEOUT_RETRY_COST : RETRY_COST;
	int taken = 0;

	pthread_mutex_lock(&q->mu);
	if (q->tokens >= cost) {
		q->tokens -= cost;
		taken = cost;
	}
	pthread_mutex_unlock(&q->mu);
	return taken;
}

void aws_retry_quota_success(struct aws_retry_quota *q, int cost_of_last_retry)
{
	int refund = cost_of_last_retry > 0 ? cost_of_last_retry : NO_RETRY_INCREMENT;

	pthread_mutex_lock(&q->mu);
	q->tokens += refund;
	if (q->tokens > QUOTA_MAX)
		q->tokens = QUOTA_MAX;
	pthread_mutex_unlock(&q->mu);
}
