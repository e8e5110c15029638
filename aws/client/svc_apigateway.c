/* svc_apigateway.c: API Gateway REST v1 (rest-json) operation rows, generated from botocore. */
/* Written by tests/tools/services_gen.py --write: change its operation list, not this file.
 * Rows are sorted by name: aws_service_op() bisects them. */
#include "services_list.h"

static const struct aws_op ops[] = {
	{
		.name = "CreateDeployment",
		.method = "POST",
		.uri = "/restapis/{restApiId}/deployments",
	},
	{ .name = "CreateModel", .method = "POST", .uri = "/restapis/{restApiId}/models" },
	{
		.name = "CreateRequestValidator",
		.method = "POST",
		.uri = "/restapis/{restApiId}/requestvalidators",
	},
	{
		.name = "CreateResource",
		.method = "POST",
		.uri = "/restapis/{restApiId}/resources/{parentId}",
	},
	{ .name = "CreateRestApi", .method = "POST", .uri = "/restapis" },
	{ .name = "CreateStage", .method = "POST", .uri = "/restapis/{restApiId}/stages" },
	{
		.name = "DeleteDeployment",
		.method = "DELETE",
		.uri = "/restapis/{restApiId}/deployments/{deploymentId}",
	},
	{
		.name = "DeleteIntegration",
		.method = "DELETE",
		.uri = "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}"
			"/integration",
	},
	{
		.name = "DeleteIntegrationResponse",
		.method = "DELETE",
		.uri = "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}"
			"/integration/responses/{statusCode}",
	},
	{
		.name = "DeleteMethod",
		.method = "DELETE",
		.uri = "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}",
	},
	{
		.name = "DeleteMethodResponse",
		.method = "DELETE",
		.uri = "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}"
			"/responses/{statusCode}",
	},
	{
		.name = "DeleteModel",
		.method = "DELETE",
		.uri = "/restapis/{restApiId}/models/{modelName}",
	},
	{
		.name = "DeleteRequestValidator",
		.method = "DELETE",
		.uri = "/restapis/{restApiId}/requestvalidators/{requestValidatorId}",
	},
	{
		.name = "DeleteResource",
		.method = "DELETE",
		.uri = "/restapis/{restApiId}/resources/{resourceId}",
	},
	{ .name = "DeleteRestApi", .method = "DELETE", .uri = "/restapis/{restApiId}" },
	{
		.name = "DeleteStage",
		.method = "DELETE",
		.uri = "/restapis/{restApiId}/stages/{stageName}",
	},
	{ .name = "GetAccount", .method = "GET", .uri = "/account" },
	{
		.name = "GetDeployment",
		.method = "GET",
		.uri = "/restapis/{restApiId}/deployments/{deploymentId}",
		.query = "embed=embed",
	},
	{
		.name = "GetDeployments",
		.method = "GET",
		.uri = "/restapis/{restApiId}/deployments",
		.query = "position=position,limit=limit",
		.renames = "items<item",
		.page_in = "position",
		.page_out = "position",
	},
	{
		.name = "GetIntegration",
		.method = "GET",
		.uri = "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}"
			"/integration",
	},
	{
		.name = "GetIntegrationResponse",
		.method = "GET",
		.uri = "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}"
			"/integration/responses/{statusCode}",
	},
	{
		.name = "GetMethod",
		.method = "GET",
		.uri = "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}",
	},
	{
		.name = "GetMethodResponse",
		.method = "GET",
		.uri = "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}"
			"/responses/{statusCode}",
	},
	{
		.name = "GetModel",
		.method = "GET",
		.uri = "/restapis/{restApiId}/models/{modelName}",
		.query = "flatten=flatten",
	},
	{
		.name = "GetModels",
		.method = "GET",
		.uri = "/restapis/{restApiId}/models",
		.query = "position=position,limit=limit",
		.renames = "items<item",
		.page_in = "position",
		.page_out = "position",
	},
	{
		.name = "GetRequestValidator",
		.method = "GET",
		.uri = "/restapis/{restApiId}/requestvalidators/{requestValidatorId}",
	},
	{
		.name = "GetRequestValidators",
		.method = "GET",
		.uri = "/restapis/{restApiId}/requestvalidators",
		.query = "position=position,limit=limit",
		.renames = "items<item",
		.page_in = "position",
		.page_out = "position",
	},
	{
		.name = "GetResource",
		.method = "GET",
		.uri = "/restapis/{restApiId}/resources/{resourceId}",
		.query = "embed=embed",
	},
	{
		.name = "GetResources",
		.method = "GET",
		.uri = "/restapis/{restApiId}/resources",
		.query = "position=position,limit=limit,embed=embed",
		.renames = "items<item",
		.page_in = "position",
		.page_out = "position",
	},
	{ .name = "GetRestApi", .method = "GET", .uri = "/restapis/{restApiId}" },
	{
		.name = "GetRestApis",
		.method = "GET",
		.uri = "/restapis",
		.query = "position=position,limit=limit",
		.renames = "items<item",
		.page_in = "position",
		.page_out = "position",
	},
	{ .name = "GetStage", .method = "GET", .uri = "/restapis/{restApiId}/stages/{stageName}" },
	{
		.name = "GetStages",
		.method = "GET",
		.uri = "/restapis/{restApiId}/stages",
		.query = "deploymentId=deploymentId",
	},
	{
		.name = "GetTags",
		.method = "GET",
		.uri = "/tags/{resourceArn}",
		.query = "position=position,limit=limit",
	},
	{
		.name = "PutIntegration",
		.method = "PUT",
		.uri = "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}"
			"/integration",
		.renames = "integrationHttpMethod>httpMethod",
	},
	{
		.name = "PutIntegrationResponse",
		.method = "PUT",
		.uri = "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}"
			"/integration/responses/{statusCode}",
	},
	{
		.name = "PutMethod",
		.method = "PUT",
		.uri = "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}",
	},
	{
		.name = "PutMethodResponse",
		.method = "PUT",
		.uri = "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}"
			"/responses/{statusCode}",
	},
	{ .name = "TagResource", .method = "PUT", .uri = "/tags/{resourceArn}" },
	{
		.name = "UntagResource",
		.method = "DELETE",
		.uri = "/tags/{resourceArn}",
		.query = "tagKeys=tagKeys",
	},
	{ .name = "UpdateAccount", .method = "PATCH", .uri = "/account" },
	{
		.name = "UpdateDeployment",
		.method = "PATCH",
		.uri = "/restapis/{restApiId}/deployments/{deploymentId}",
	},
	{
		.name = "UpdateIntegration",
		.method = "PATCH",
		.uri = "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}"
			"/integration",
	},
	{
		.name = "UpdateIntegrationResponse",
		.method = "PATCH",
		.uri = "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}"
			"/integration/responses/{statusCode}",
	},
	{
		.name = "UpdateMethod",
		.method = "PATCH",
		.uri = "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}",
	},
	{
		.name = "UpdateMethodResponse",
		.method = "PATCH",
		.uri = "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}"
			"/responses/{statusCode}",
	},
	{
		.name = "UpdateModel",
		.method = "PATCH",
		.uri = "/restapis/{restApiId}/models/{modelName}",
	},
	{
		.name = "UpdateRequestValidator",
		.method = "PATCH",
		.uri = "/restapis/{restApiId}/requestvalidators/{requestValidatorId}",
	},
	{
		.name = "UpdateResource",
		.method = "PATCH",
		.uri = "/restapis/{restApiId}/resources/{resourceId}",
	},
	{ .name = "UpdateRestApi", .method = "PATCH", .uri = "/restapis/{restApiId}" },
	{
		.name = "UpdateStage",
		.method = "PATCH",
		.uri = "/restapis/{restApiId}/stages/{stageName}",
	},
};

const struct aws_service aws_svc_apigateway = {
	.name = "apigateway",
	.signing_name = "apigateway",
	.host_prefix = "apigateway",
	.env_key = "API_GATEWAY",
	.config_key = "api_gateway",
	.global = 0,
	.protocol = AWS_PROTO_REST_JSON,
	.api_version = "2015-07-09",
	.ops = ops,
	.nops = sizeof ops / sizeof ops[0],
};
