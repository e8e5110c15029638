/* streams.h: DynamoDB Streams inside the sandbox: the write path used by svc_dynamodb.c and
 * the read API for the Lambda stream poller. */
#ifndef CLEANOPS_SBX_STREAMS_H
#define CLEANOPS_SBX_STREAMS_H

#include <jansson.h>
#include <sqlite3.h>
#include <stddef.h>

#include "aws/sandbox/sandbox.h"

/* Results of sbx_streams_read besides 0 (ok) and -1 (error). */
#define SBX_STREAMS_NOT_FOUND (-2) /* no such stream */
#define SBX_STREAMS_TRIMMED (-3)   /* records after after_seq were trimmed (24 h retention) */

/* A sequence number as text: 21 digits, zero-padded (+ NUL). */
#define SBX_SEQ_LEN 22

/* ---- write path: store lock held, inside the caller's transaction ---- */

/* Create an open stream (one shard) for a table. Writes the stream ARN (arn, 256+ bytes
 * recommended), its label (32 bytes) and its row id. key_schema is borrowed. Returns 0 or -1. */
int sbx_streams_create(struct sbx *s, sqlite3 *db, const char *region, const char *table,
		       json_t *key_schema, const char *view_type, char *arn, size_t arnlen,
		       char label[32], long long *stream_id);
/* Close (disable) a stream: its shard gets an EndingSequenceNumber. Returns 0 or -1. */
int sbx_streams_close(struct sbx *s, sqlite3 *db, long long stream_id);
/* Append one record (event_name INSERT, MODIFY or REMOVE) with the images the stream's
 * view type asks for. keys, old_image and new_image are borrowed (images may be NULL).
 * Returns 0 or -1. */
int sbx_streams_append(struct sbx *s, sqlite3 *db, long long stream_id, const char *region,
		       const char *view_type, const char *event_name, json_t *keys,
		       json_t *old_image, json_t *new_image);

/* ---- read path for the Lambda stream poller (takes the store lock itself) ---- */

/* Read up to limit (1..10000) records of the stream with sequence numbers after after_seq
 * (NULL or "": from the oldest retained record). *records is a new JSON array of records
 * shaped as GetRecords returns them plus "eventSourceARN" (caller decrefs). last_seq gets
 * the last returned sequence number (after_seq, or "" when none was returned). *closed is
 * 1 when the stream is disabled and nothing is left to read. after_seq may point at
 * last_seq (the poller's cursor). Returns 0, -1,
 * SBX_STREAMS_NOT_FOUND or SBX_STREAMS_TRIMMED. */
int sbx_streams_read(struct sbx *s, const char *stream_arn, const char *after_seq, int limit,
		     json_t **records, char last_seq[SBX_SEQ_LEN], int *closed);
/* The stream's last written sequence number ("" when it has none yet), for a poller that
 * starts at LATEST. Returns 0, -1 or SBX_STREAMS_NOT_FOUND. */
int sbx_streams_latest(struct sbx *s, const char *stream_arn, char seq[SBX_SEQ_LEN]);

/* Wait up to timeout_ms for records appended to any stream after *seen (a counter the
 * caller keeps; start it at 0: the first call then returns at once). Updates *seen.
 * Takes the store lock itself; returns at once when the Streams service is not running.
 * For pollers that would otherwise sleep a fixed interval. (Added for the ESM poller.) */
void sbx_streams_wait(struct sbx *s, unsigned long long *seen, long timeout_ms);

#endif
