/* protocol.h: the four wire protocols: build a request from JSON, read a reply into JSON. */
#ifndef CLEANOPS_AWS_PROTOCOL_H
#define CLEANOPS_AWS_PROTOCOL_H

#include <jansson.h>

#include "aws.h"
#include "buf.h"
#include "http.h"
#include "service.h"

/* An unsigned request, ready for signing and sending. Owned: aws_wire_cleanup(). */
struct aws_wire {
	char *method;                /* "POST" */
	char *path;                  /* percent-encoded once, starts with '/' */
	char *query;                 /* encoded query without '?', or NULL */
	struct aws_buf body;
	/* extra headers, besides Host, X-Amz-Date, X-Amz-Content-Sha256, the token and
	 * Authorization, which the client adds: */
	char *names[16];
	char *values[16];
	int nheaders;
};
void aws_wire_cleanup(struct aws_wire *w);

/* Build the wire request for op from input (borrowed; NULL = {}).
 * Returns 0, or -1 with err (ParamValidation for missing path labels, bad types). */
int aws_proto_build(const struct aws_service *svc, const struct aws_op *op, json_t *input,
		    struct aws_wire *out, struct aws_error *err);

/* Read a response. For 2xx: returns 0 and *out (new reference) shaped as boto3 shows it.
 * For any other status: returns -1 with err filled from the protocol's error shape
 * (JSON __type / x-amzn-query-error, rest-json x-amzn-ErrorType, XML <Error><Code>),
 * the HTTP status and the request id. A body that cannot be read: -1, ResponseParseError. */
int aws_proto_parse(const struct aws_service *svc, const struct aws_op *op,
		    const struct aws_http_response *resp, json_t **out, struct aws_error *err);

/* XML to JSON as botocore shapes it: <member> children become arrays, <entry> key/value
 * children objects, leaves strings; hints (struct aws_op.shapes syntax) force lists,
 * maps, booleans and integers. Returns a new reference or NULL when not well-formed. */
json_t *aws_xml_to_json(const char *xml, size_t len, const char *hints);

/* What a typing hint (struct aws_op.shapes) says about one member name. */
enum aws_shape_kind {
	AWS_SHAPE_NONE,
	AWS_SHAPE_LIST,     /* "Name:list": Name.member.N, <member> items */
	AWS_SHAPE_FLATLIST, /* "Name:flatlist": Name.N, repeated <Name> elements */
	AWS_SHAPE_MAP,      /* "Name:map" or "Name:map(K,V)": entry.N.K / entry.N.V */
	AWS_SHAPE_BOOL,     /* "Name:bool" */
	AWS_SHAPE_INT,      /* "Name:int" */
	AWS_SHAPE_STRUCT,   /* "Name:struct": an empty element reads as {} */
	AWS_SHAPE_JSONDOC,  /* "Name:jsondoc": URL-encoded JSON text, read as JSON (IAM
			     * policies); in input an object is sent as its JSON text */
};
struct aws_shape_hint {
	enum aws_shape_kind kind;
	char key[64];   /* map key element name ("key" unless given) */
	char value[64]; /* map value element name ("value" unless given) */
};
/* Look up the hint for member name (len bytes) in hints (NULL: none). Fills *out
 * (kind AWS_SHAPE_NONE when there is no hint) and returns out->kind. */
enum aws_shape_kind aws_shape_hint(const char *hints, const char *name, size_t len,
				   struct aws_shape_hint *out);

/* Serialise input to the query form "Action=Op&Version=V&..." (appended to out).
 * Returns 0 or -1 with err. */
int aws_query_serialize(const struct aws_service *svc, const struct aws_op *op, json_t *input,
			struct aws_buf *out, struct aws_error *err);

#endif
