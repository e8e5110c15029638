/* services_list.h: the service rows, one per svc_*.c file, that services.c lists. */
#ifndef CLEANOPS_AWS_SERVICES_LIST_H
#define CLEANOPS_AWS_SERVICES_LIST_H

#include "service.h"

extern const struct aws_service aws_svc_sqs;             /* svc_sqs.c: awsJson 1.0 */
extern const struct aws_service aws_svc_dynamodb;        /* svc_dynamodb.c: awsJson 1.0 */
extern const struct aws_service aws_svc_dynamodbstreams; /* svc_dynamodbstreams.c: awsJson 1.0 */
extern const struct aws_service aws_svc_sns;             /* svc_sns.c: query */
extern const struct aws_service aws_svc_iam;             /* svc_iam.c: query, global */
extern const struct aws_service aws_svc_sts;             /* svc_sts.c: query */
extern const struct aws_service aws_svc_lambda;          /* svc_lambda.c: rest-json */
extern const struct aws_service aws_svc_apigateway;      /* svc_apigateway.c: rest-json */
extern const struct aws_service aws_svc_logs;            /* svc_logs.c: awsJson 1.1 */

#endif
