/* services.c: the table of every sandbox service (rows live in svc_*.c). */
#include <stddef.h>

#include "sandbox.h"

/* A service file written in parallel may be missing from the tree for a while; a weak
 * reference would not pull its object out of the static library, so include the rows
 * of the files that exist, checked at compile time. */
#if __has_include("svc_sts.c")
extern const struct sbx_service sbx_svc_sts;
#define ROW_STS &sbx_svc_sts,
#else
#define ROW_STS
#endif
#if __has_include("svc_iam.c")
extern const struct sbx_service sbx_svc_iam;
#define ROW_IAM &sbx_svc_iam,
#else
#define ROW_IAM
#endif
#if __has_include("svc_logs.c")
extern const struct sbx_service sbx_svc_logs;
#define ROW_LOGS &sbx_svc_logs,
#else
#define ROW_LOGS
#endif
#if __has_include("svc_sqs.c")
extern const struct sbx_service sbx_svc_sqs;
#define ROW_SQS &sbx_svc_sqs,
#else
#define ROW_SQS
#endif
#if __has_include("svc_sns.c")
extern const struct sbx_service sbx_svc_sns;
#define ROW_SNS &sbx_svc_sns,
#else
#define ROW_SNS
#endif
#if __has_include("svc_dynamodb.c")
extern const struct sbx_service sbx_svc_dynamodb;
#define ROW_DDB &sbx_svc_dynamodb,
#else
#define ROW_DDB
#endif
#if __has_include("svc_streams.c")
extern const struct sbx_service sbx_svc_streams;
#define ROW_STREAMS &sbx_svc_streams,
#else
#define ROW_STREAMS
#endif

/* Order matters: schemas and init hooks run in this order, shutdown hooks in reverse. */
const struct sbx_service *const sbx_services[] = {
	ROW_STS ROW_IAM ROW_LOGS ROW_SQS ROW_DDB ROW_STREAMS ROW_SNS
	NULL,
};
