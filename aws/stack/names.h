/* names.h: the stack's resource names: the seed's names, prefixed for stacks other than POC. */
#ifndef CLEANOPS_STACK_NAMES_H
#define CLEANOPS_STACK_NAMES_H

#include <stddef.h>

#define STACK_DEFAULT "POC"

/* Base names of the pipeline's resources (the default stack uses them as they are). */
#define STACK_QUEUE "POC-Queue"
#define STACK_DLQ "POC-Queue-DLQ"
#define STACK_STREAM_FAILURES "POC-Stream-Failures"
#define STACK_DELIVERIES "POC-Deliveries"
#define STACK_TABLE "orders"
#define STACK_TOPIC "POC-Topic"
#define STACK_FN_WRITER "POC-Lambda-1"
#define STACK_FN_NOTIFIER "POC-Lambda-2"
#define STACK_API "POC-API"
#define STACK_API_STAGE "prod"
#define STACK_ROLE_WRITER "Lambda-SQS-DynamoDB"
#define STACK_ROLE_NOTIFIER "Lambda-DynamoDBStreams-SNS"
#define STACK_ROLE_API "APIGateway-SQS"

/* Write the stack's name for base into out: base itself for the default stack (or NULL/""),
 * else "<stack>-<base>". Returns 0, or -1 when out is too small. */
int stack_name(const char *stack, const char *base, char *out, size_t n);
/* Nonzero when stack is a valid stack name: 1-32 of [A-Za-z0-9-], starting with a letter. */
int stack_name_valid(const char *stack);

#endif
