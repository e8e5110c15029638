/* service.h: services and their operations as rows (what each wire protocol needs). */
#ifndef CLEANOPS_AWS_SERVICE_H
#define CLEANOPS_AWS_SERVICE_H

#include <stddef.h>

enum aws_protocol {
	AWS_PROTO_JSON,      /* awsJson 1.0 / 1.1: POST /, X-Amz-Target */
	AWS_PROTO_REST_JSON, /* method + URI template per operation */
	AWS_PROTO_QUERY,     /* POST / form Action=..&Version=.., XML replies */
};

/* One operation. Only name is required; the other fields are hints a protocol uses.
 * Lists of pairs are comma-separated "a=b" strings; NULL means none. */
struct aws_op {
	const char *name;          /* "CreateQueue" */
	/* rest-json */
	const char *method;        /* "GET" */
	const char *uri;           /* "/2015-03-31/functions/{FunctionName}/configuration";
				    * {Name+} is a greedy label (slashes kept) */
	const char *query;         /* query parameters: "wire=Member,..." ("Marker=Marker") */
	const char *headers;       /* request headers: "X-Amz-Invocation-Type=InvocationType" */
	const char *payload;       /* member sent as the raw body ("Payload"), else JSON body */
	const char *out_headers;   /* response headers to members: "X-Amz-Function-Error=FunctionError" */
	const char *out_payload;   /* member that receives the raw response body ("Payload") */
	const char *out_status;    /* member that receives the HTTP status ("StatusCode") */
	const char *renames;       /* JSON body members renamed on the wire, both ways:
				    * "member=wire" ("integrationHttpMethod=httpMethod,items=item") */
	/* query protocol and XML replies */
	const char *shapes;        /* typing hints by member name, anywhere in input or output:
				    * "Name:list", "Name:map", "Name:map(Name,Value)" (map with
				    * those key/value element names), "Name:bool", "Name:int",
				    * "Name:flatlist" (list without .member), "Name:jsondoc" (a reply
				    * string of URL-encoded JSON that boto3 shows decoded: IAM
				    * policy documents) */
	/* pagination */
	const char *page_in;       /* input token member ("NextToken", "Marker", "ExclusiveStartKey") */
	const char *page_out;      /* output token member ("NextToken", "NextMarker", "LastEvaluatedKey") */
	const char *page_more;     /* output boolean that says more pages exist ("IsTruncated"), or NULL */
};

/* One service. */
struct aws_service {
	const char *name;          /* boto3 name: "dynamodbstreams" */
	const char *signing_name;  /* "dynamodb" */
	const char *host_prefix;   /* "streams.dynamodb": host <prefix>.<region>.amazonaws.com */
	const char *env_key;       /* AWS_ENDPOINT_URL_<env_key>: "DYNAMODB_STREAMS" */
	const char *config_key;    /* [services x] key: "dynamodb_streams" */
	int global;                /* IAM: https://iam.amazonaws.com, signed in us-east-1 */
	enum aws_protocol protocol;
	const char *json_version;  /* "1.0" / "1.1" (json) */
	const char *target_prefix; /* "AmazonSQS", "DynamoDB_20120810" (json) */
	const char *api_version;   /* query Version ("2010-03-31") */
	const char *xml_ns;        /* query reply namespace, for the sandbox */
	const struct aws_op *ops;
	size_t nops;
};

/* Every service cleanops knows, in a NULL-terminated array. */
extern const struct aws_service *const aws_services[];

/* Find a service by boto3 name (case-insensitive), or NULL. */
const struct aws_service *aws_service_find(const char *name);
/* Find an operation of a service by name (exact), or NULL. */
const struct aws_op *aws_service_op(const struct aws_service *svc, const char *op);

#endif
