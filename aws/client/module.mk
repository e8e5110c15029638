# aws/client: the AWS client library (explicit list; files not written yet are skipped).
CLIENT_FILES := \
	aws/client/buf.c \
	aws/client/sigv4.c \
	aws/client/config.c \
	aws/client/endpoint.c \
	aws/client/retry.c \
	aws/client/http.c \
	aws/client/protocol.c \
	aws/client/xml.c \
	aws/client/query.c \
	aws/client/services.c \
	aws/client/svc_sqs.c \
	aws/client/svc_dynamodb.c \
	aws/client/svc_dynamodbstreams.c \
	aws/client/svc_sns.c \
	aws/client/svc_iam.c \
	aws/client/svc_sts.c \
	aws/client/svc_lambda.c \
	aws/client/svc_apigateway.c \
	aws/client/svc_logs.c \
	aws/client/client.c
CLIENT_SRCS := $(wildcard $(CLIENT_FILES))
