# aws/sandbox: the local AWS-compatible endpoint (explicit list; files not written yet are skipped).
SANDBOX_FILES := \
	aws/sandbox/server.c \
	aws/sandbox/router.c \
	aws/sandbox/store.c \
	aws/sandbox/services.c \
	aws/sandbox/wire.c \
	aws/sandbox/netguard.c \
	aws/sandbox/svc_sts.c \
	aws/sandbox/svc_iam.c \
	aws/sandbox/iam_policy.c \
	aws/sandbox/iam_enforce.c \
	aws/sandbox/svc_sqs.c \
	aws/sandbox/svc_dynamodb.c \
	aws/sandbox/ddb_expr.c \
	aws/sandbox/svc_streams.c \
	aws/sandbox/svc_sns.c \
	aws/sandbox/svc_logs.c \
	aws/sandbox/svc_lambda.c \
	aws/sandbox/lambda_exec.c \
	aws/sandbox/runtime_api.c \
	aws/sandbox/esm.c \
	aws/sandbox/esm_sqs.c \
	aws/sandbox/esm_streams.c \
	aws/sandbox/svc_apigateway.c \
	aws/sandbox/apigw_invoke.c \
	aws/sandbox/vtl.c \
	aws/sandbox/jsonschema.c
SANDBOX_SRCS := $(wildcard $(SANDBOX_FILES))
