/* wire.h: the query protocol on the sandbox side: form bodies to JSON, JSON results to XML. */
#ifndef CLEANOPS_SANDBOX_WIRE_H
#define CLEANOPS_SANDBOX_WIRE_H

#include <jansson.h>
#include <stddef.h>

#include "aws/client/buf.h"

/* Decode a form body ("a=b&c.member.1=d") into the input members as boto3 names them:
 * Name.member.N -> arrays, Name.entry.N.key/value -> objects, Name.N -> flat lists,
 * Name.Sub -> objects. hints uses aws/client's struct aws_op.shapes syntax ("X:list,
 * Y:map(Name,Value),Z:bool,W:int,V:flatlist"), may be NULL. service "sqs" applies SQS's
 * legacy flattened names (Attribute.N.Name -> Attributes, AttributeName.N -> AttributeNames).
 * Action and Version are taken out into action/version ("" when absent).
 * Returns a new reference, or NULL when the body is not a valid form (bad escapes). */
json_t *sbx_wire_form_to_json(const char *body, size_t len, const char *service,
			      const char *hints, char *action, size_t action_len,
			      char *version, size_t version_len);

/* Find Action and Version in a form body without decoding the rest ("" when absent). */
void sbx_wire_form_action(const char *body, size_t len, char *action, size_t action_len,
			  char *version, size_t version_len);

/* Append the XML reply of op: <OpResponse xmlns><OpResult>members</OpResult>
 * <ResponseMetadata><RequestId>id</RequestId></ResponseMetadata></OpResponse>.
 * An empty (or NULL) result still gets its wrapper, as <OpResult/>.
 * result (borrowed) is the handler's output object; arrays become <member> lists, objects
 * hinted as maps <entry><key/><value/></entry>, booleans true/false. Returns 0 or -1. */
int sbx_wire_result_xml(struct aws_buf *out, const char *service, const char *op,
			const char *xmlns, json_t *result, const char *hints,
			const char *request_id);

/* Append <ErrorResponse xmlns><Error><Type/><Code/><Message/></Error><RequestId/>.
 * Returns 0 or -1. */
int sbx_wire_error_xml(struct aws_buf *out, const char *xmlns, const char *type,
		       const char *code, const char *message, const char *request_id);

/* Append s with the XML special characters escaped (text and attribute safe); bytes XML
 * cannot carry (control characters, invalid UTF-8) become '?'. */
int sbx_wire_xml_escape(struct aws_buf *out, const char *s);

/* Replace, in place, every byte of s that is not part of valid UTF-8 with '?': for text
 * that echoes a caller's bytes into a JSON reply (jansson refuses invalid UTF-8). */
void sbx_wire_utf8_clean(char *s);

#endif
