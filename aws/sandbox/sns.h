/* sns.h: the sandbox SNS's HTTP entry points besides the query API (confirmation links). */
#ifndef CLEANOPS_SANDBOX_SNS_H
#define CLEANOPS_SANDBOX_SNS_H

#include "aws/client/buf.h"
#include "aws/sandbox/sandbox.h"

/* Confirm a pending subscription from the link SNS mailed or POSTed: query is the raw
 * query string "TopicArn=...&Token=..." (percent-encoded). Appends a small HTML page
 * to html_out either way. Takes the store lock itself. Returns 0 when the subscription
 * is (now) confirmed, -1 when the token or topic is unknown or the store failed. */
int sbx_sns_http_confirm(struct sbx *s, const char *query, struct aws_buf *html_out);

#endif
