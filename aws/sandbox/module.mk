# aws/sandbox: the local AWS-compatible endpoint.
SANDBOX_SRCS :=
