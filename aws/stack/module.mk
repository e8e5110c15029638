# aws/stack: the pipeline as data, deploy/destroy engine, order submission, monitor
#.
STACK_FILES := \
	aws/stack/names.c \
	aws/stack/package.c \
	aws/stack/policy.c \
	aws/stack/resources.c \
	aws/stack/engine.c \
	aws/stack/state.c \
	aws/stack/status.c \
	aws/stack/api_url.c \
	aws/stack/order.c \
	aws/stack/monitor.c
STACK_SRCS := $(wildcard $(STACK_FILES))
