# aws/client: the AWS client library (explicit source list).
CLIENT_SRCS := \
	aws/client/buf.c
