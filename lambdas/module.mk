# lambdas: the Runtime API client and the two functions.
LRT_SRCS :=
WRITER_SRCS :=
NOTIFIER_SRCS :=
lambdas:
.PHONY: lambdas
