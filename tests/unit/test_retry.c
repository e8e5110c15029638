/* test_retry.c: "standard" retry mode: what is retried, the backoff bounds, the quota. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "aws/client/retry.h"

struct classify_case {
	int status;
	const char *code;
	int network_error, timed_out;
	enum aws_retry_kind want;
};

static const struct classify_case classify_cases[] = {
	/* transient statuses, whatever the code */
	{ 500, "InternalError", 0, 0, AWS_RETRY_TRANSIENT },
	{ 502, NULL, 0, 0, AWS_RETRY_TRANSIENT },
	{ 503, "", 0, 0, AWS_RETRY_TRANSIENT },
	{ 504, "GatewayTimeout", 0, 0, AWS_RETRY_TRANSIENT },
	{ 501, "NotImplemented", 0, 0, AWS_RETRY_NO },
	{ 505, NULL, 0, 0, AWS_RETRY_NO },
	{ 509, NULL, 0, 0, AWS_RETRY_NO }, /* legacy mode only */
	/* transient codes */
	{ 400, "RequestTimeout", 0, 0, AWS_RETRY_TRANSIENT },
	{ 408, "RequestTimeoutException", 0, 0, AWS_RETRY_TRANSIENT },
	/* in both lists: throttling wins */
	{ 400, "PriorRequestNotComplete", 0, 0, AWS_RETRY_THROTTLE },
	/* modeled retryable / special cases */
	{ 409, "ReplicatedWriteConflictException", 0, 0, AWS_RETRY_TRANSIENT },
	{ 400, "IDPCommunicationError", 0, 0, AWS_RETRY_TRANSIENT },
	/* every throttling code */
	{ 400, "Throttling", 0, 0, AWS_RETRY_THROTTLE },
	{ 400, "ThrottlingException", 0, 0, AWS_RETRY_THROTTLE },
	{ 400, "ThrottledException", 0, 0, AWS_RETRY_THROTTLE },
	{ 400, "RequestThrottledException", 0, 0, AWS_RETRY_THROTTLE },
	{ 429, "TooManyRequestsException", 0, 0, AWS_RETRY_THROTTLE },
	{ 400, "ProvisionedThroughputExceededException", 0, 0, AWS_RETRY_THROTTLE },
	{ 400, "TransactionInProgressException", 0, 0, AWS_RETRY_THROTTLE },
	{ 400, "RequestLimitExceeded", 0, 0, AWS_RETRY_THROTTLE },
	{ 400, "BandwidthLimitExceeded", 0, 0, AWS_RETRY_THROTTLE },
	{ 400, "LimitExceededException", 0, 0, AWS_RETRY_THROTTLE },
	{ 403, "RequestThrottled", 0, 0, AWS_RETRY_THROTTLE },
	{ 503, "SlowDown", 0, 0, AWS_RETRY_THROTTLE },
	{ 400, "EC2ThrottledException", 0, 0, AWS_RETRY_THROTTLE },
	/* near misses are not retried: IAM's LimitExceeded, SNS's Throttled, bare 429 */
	{ 409, "LimitExceeded", 0, 0, AWS_RETRY_NO },
	{ 400, "Throttled", 0, 0, AWS_RETRY_NO },
	{ 429, NULL, 0, 0, AWS_RETRY_NO },
	{ 400, "throttling", 0, 0, AWS_RETRY_NO },
	/* other 4xx never */
	{ 400, "ValidationException", 0, 0, AWS_RETRY_NO },
	{ 400, "ConditionalCheckFailedException", 0, 0, AWS_RETRY_NO },
	{ 403, "AccessDenied", 0, 0, AWS_RETRY_NO },
	{ 404, "ResourceNotFoundException", 0, 0, AWS_RETRY_NO },
	{ 409, "ResourceConflictException", 0, 0, AWS_RETRY_NO },
	{ 200, NULL, 0, 0, AWS_RETRY_NO },
	/* no response at all */
	{ 0, "NetworkError", 1, 0, AWS_RETRY_TRANSIENT },
	{ 0, NULL, 1, 0, AWS_RETRY_TRANSIENT },
	{ 0, "RequestTimeout", 1, 1, AWS_RETRY_TIMEOUT },
	{ 0, NULL, 1, 1, AWS_RETRY_TIMEOUT },
};

static void test_classify_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof classify_cases / sizeof classify_cases[0]; i++) {
		const struct classify_case *c = &classify_cases[i];
		enum aws_retry_kind got =
			aws_retry_classify(c->status, c->code, c->network_error, c->timed_out);
		if (got != c->want)
			fail_msg("case %zu (%d %s net=%d timeout=%d): got %d, want %d", i,
				 c->status, c->code ? c->code : "(null)", c->network_error,
				 c->timed_out, (int)got, (int)c->want);
	}
}

static void test_delay_bounds(void **state)
{
	/* attempt -> the cap min(2^(attempt-1), 20) */
	static const struct { int attempt; double cap; } caps[] = {
		{ 1, 1 }, { 2, 2 }, { 3, 4 }, { 4, 8 }, { 5, 16 }, { 6, 20 }, { 7, 20 },
		{ 30, 20 }, { 1000, 20 }, { 2147483647, 20 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
		double lo = aws_retry_delay(caps[i].attempt, 0.0);
		double mid = aws_retry_delay(caps[i].attempt, 0.5);
		double hi = aws_retry_delay(caps[i].attempt, 0.999999);

		assert_true(lo == 0.0);
		assert_true(fabs(mid - caps[i].cap / 2) < 1e-9);
		assert_true(hi < caps[i].cap);
		assert_true(hi > caps[i].cap * 0.9999);
	}
	/* full jitter: the delay scales with rand01 */
	assert_true(fabs(aws_retry_delay(3, 0.25) - 1.0) < 1e-9);
	/* out-of-range input stays within the cap */
	assert_true(aws_retry_delay(2, -1.0) == 0.0);
	assert_true(aws_retry_delay(2, 5.0) <= 2.0);
	assert_true(aws_retry_delay(2, NAN) == 0.0);
	assert_true(aws_retry_delay(0, 0.5) == 0.5);
}

static void test_quota_arithmetic(void **state)
{
	struct aws_retry_quota q;
	(void)state;

	aws_retry_quota_init(&q);
	assert_int_equal(q.tokens, 500);
	assert_int_equal(aws_retry_quota_acquire(&q, AWS_RETRY_TRANSIENT), 5);
	assert_int_equal(q.tokens, 495);
	assert_int_equal(aws_retry_quota_acquire(&q, AWS_RETRY_THROTTLE), 5);
	assert_int_equal(q.tokens, 490);
	assert_int_equal(aws_retry_quota_acquire(&q, AWS_RETRY_TIMEOUT), 10);
	assert_int_equal(q.tokens, 480);
	/* a success after retries refunds what the last retry took */
	aws_retry_quota_success(&q, 10);
	assert_int_equal(q.tokens, 490);
	/* a success without retries refunds 1 */
	aws_retry_quota_success(&q, 0);
	assert_int_equal(q.tokens, 491);
	/* never above 500 */
	aws_retry_quota_success(&q, 5);
	aws_retry_quota_success(&q, 5);
	assert_int_equal(q.tokens, 500);
	aws_retry_quota_success(&q, 0);
	assert_int_equal(q.tokens, 500);
	aws_retry_quota_cleanup(&q);
}

static void test_quota_exhaustion(void **state)
{
	struct aws_retry_quota q;
	int n = 0;
	(void)state;

	aws_retry_quota_init(&q);
	while (aws_retry_quota_acquire(&q, AWS_RETRY_TRANSIENT) == 5)
		n++;
	assert_int_equal(n, 100);
	assert_int_equal(q.tokens, 0);
	assert_int_equal(aws_retry_quota_acquire(&q, AWS_RETRY_TIMEOUT), 0);

	/* 5 tokens pay a transient retry but not a timeout */
	aws_retry_quota_success(&q, 5);
	assert_int_equal(aws_retry_quota_acquire(&q, AWS_RETRY_TIMEOUT), 0);
	assert_int_equal(q.tokens, 5);
	assert_int_equal(aws_retry_quota_acquire(&q, AWS_RETRY_TRANSIENT), 5);
	assert_int_equal(aws_retry_quota_acquire(&q, AWS_RETRY_TRANSIENT), 0);
	/* exactly 10 pays a timeout */
	aws_retry_quota_success(&q, 10);
	assert_int_equal(aws_retry_quota_acquire(&q, AWS_RETRY_TIMEOUT), 10);
	assert_int_equal(q.tokens, 0);
	aws_retry_quota_cleanup(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify_table),
		cmocka_unit_test(test_delay_bounds),
		cmocka_unit_test(test_quota_arithmetic),
		cmocka_unit_test(test_quota_exhaustion),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
