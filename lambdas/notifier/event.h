/* event.h: DynamoDB stream events: records, attribute values to plain JSON, the message. */
#ifndef CLEANOPS_LRT_EVENT_H
#define CLEANOPS_LRT_EVENT_H

#include <jansson.h>
#include <stddef.h>

#include "aws/client/buf.h"

/* Nesting deeper than this (DynamoDB allows 32 levels) is refused. */
#define LRT_DDB_MAX_DEPTH 64

/* One record of a DynamoDB stream event, borrowed from the event's JSON. */
struct lrt_stream_record {
	const char *event_name;      /* "INSERT", "MODIFY", "REMOVE"; NULL when absent */
	const char *sequence_number; /* dynamodb.SequenceNumber; NULL when absent */
	json_t *new_image;           /* dynamodb.NewImage (borrowed); NULL when absent */
	json_t *keys;                /* dynamodb.Keys (borrowed); NULL when absent */
};

/* The records of a stream event ({"Records":[...]}). Returns 0 with *recs (caller frees the
 * array with free()) and *n, or -1 with why when the event is not one. */
int lrt_stream_records(json_t *event, struct lrt_stream_record **recs, size_t *n, char *why,
		       size_t whylen);

/* Append the plain JSON of a DynamoDB attribute map (NewImage: {"k":{"S":"v"}, ...}) to out:
 * S -> string, N -> the number exactly as written (a string if it is not JSON's number
 * grammar), BOOL, NULL, M -> object, L -> array, SS/NS/BS -> arrays, B -> its base64 string.
 * Object keys are sorted. indent 0 = compact, else that many spaces per level.
 * Returns 0, or -1 with why (a malformed attribute value; out is then unspecified). */
int lrt_ddb_image_json(json_t *image, int indent, struct aws_buf *out, char *why,
		       size_t whylen);

/* The one-line summary of an order image ("Order A-1: 3 x widget for cust-7"): control
 * characters become spaces; fields the image lacks are left out. Appends to out. */
int lrt_order_summary(json_t *image, struct aws_buf *out);

/* The SNS Publish input for one INSERT: TopicArn, Subject "New Order Notification",
 * MessageStructure "json", Message {"default": compact image JSON, "email": summary, a
 * blank line, the image JSON indented}. Returns a new reference, or NULL with why. */
json_t *lrt_publish_input(const char *topic_arn, json_t *image, char *why, size_t whylen);

#endif
