/* sigv4_bench.c: signatures per second of aws_sigv4_sign on a fixed SQS JSON request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/client/sigv4.h"

/* The request tests/bench/sigv4_botocore.py signs too (keep the two in step). */
#define BENCH_AK "AKIDEXAMPLE"
#define BENCH_SK "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define BENCH_TOKEN "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHG" \
	"BuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8ph" \
	"UZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7Z" \
	"D0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
#define BENCH_BODY "{\"QueueUrl\":\"https://sqs.us-east-1.amazonaws.com/000000000000/orders\"," \
	"\"MessageBody\":\"{\\\"orderId\\\":\\\"o-1001\\\",\\\"amount\\\":42}\"}"
#define BENCH_WHEN ((time_t)1440938160) /* 20150830T123600Z */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	char date[17], clen[16], sig[65];
	struct aws_sigv4_header h[6] = {
		{"Host", "sqs.us-east-1.amazonaws.com"},
		{"Content-Type", "application/x-amz-json-1.0"},
		{"X-Amz-Target", "AmazonSQS.SendMessage"},
		{"Content-Length", clen},
		{"X-Amz-Date", date},
		{"X-Amz-Security-Token", BENCH_TOKEN},
	};
	struct aws_sigv4_request req = {"POST", "/", NULL, h, 6, NULL, NULL, BENCH_BODY,
					sizeof(BENCH_BODY) - 1, 0};
	struct aws_sigv4_params p = {BENCH_AK, BENCH_SK, "us-east-1", "sqs", BENCH_WHEN};
	struct aws_sigv4_result res;
	double secs = 2.0, t0, t1;
	long n = 0;
	char *end;

	if (argc > 1) {
		secs = strtod(argv[1], &end);
		if (end == argv[1] || *end || secs <= 0) {
			fprintf(stderr, "usage: sigv4_bench [seconds]\n");
			return 2;
		}
	}
	snprintf(clen, sizeof(clen), "%zu", sizeof(BENCH_BODY) - 1);
	sig[0] = '\0';
	t0 = now();
	do {
		for (int i = 0; i < 1024; i++) {
			aws_sigv4_amz_date(p.when, date);
			if (aws_sigv4_sign(&req, &p, &res)) {
				fprintf(stderr, "sigv4_bench: signing failed\n");
				return 1;
			}
			memcpy(sig, res.signature, sizeof(sig));
			aws_sigv4_result_cleanup(&res);
		}
		n += 1024;
		t1 = now();
	} while (t1 - t0 < secs);
	printf("signature %s\n", sig);
	printf("rate %.0f\n", (double)n / (t1 - t0));
	return 0;
}
