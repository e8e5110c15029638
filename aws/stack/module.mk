# aws/stack: the pipeline as data, deploy/destroy engine, monitor.
STACK_SRCS := \
	aws/stack/package.c
