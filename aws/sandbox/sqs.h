/* sqs.h: SQS internals the sandbox's other services use (SNS deliveries, tests). */
#ifndef CLEANOPS_SANDBOX_SQS_H
#define CLEANOPS_SANDBOX_SQS_H

#include <jansson.h>
#include <sqlite3.h>

#include "aws/sandbox/sandbox.h"

/* Enqueue body on the queue with this ARN (or URL, or bare name) with the caller
 * HOLDING the store lock (db from sbx_db_lock). msg_attrs (borrowed, may be NULL) is
 * an SQS MessageAttributes object {"name":{"DataType":..,"StringValue"|"BinaryValue":..}}.
 * Wakes long polls. Returns 0, or -1 when the queue does not exist or the store failed.
 * message_id_out may be NULL (37 bytes). Runs in the caller's transaction, if any. */
int sbx_sqs_send_locked(struct sbx *s, sqlite3 *db, const char *queue_arn, const char *body,
			json_t *msg_attrs, char *message_id_out);

/* MD5 of SQS message attributes the way AWS computes MD5OfMessageAttributes (names
 * sorted; length-prefixed name, type, transport byte and value). attrs is borrowed.
 * Writes 33 bytes of lowercase hex into out. Returns 0, or -1 for a malformed attribute. */
int sbx_sqs_md5_attrs(json_t *attrs, char out[33]);

/* Wake every long poll, so that internal ones re-check their interrupted() hook (a mapping
 * deleted or disabled). Takes the store lock: call it without. */
void sbx_sqs_wake_all(struct sbx *s);

#endif
