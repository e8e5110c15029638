/* svc_iam.c: AWS IAM (query, XML replies) operation rows, generated from botocore. */
/* Written by tests/tools/services_gen.py --write: change its operation list, not this file.
 * Rows are sorted by name: aws_service_op() bisects them. */
#include "services_list.h"

static const struct aws_op ops[] = {
	{ .name = "AttachRolePolicy" },
	{ .name = "AttachUserPolicy" },
	{ .name = "CreateAccessKey", .shapes = "AccessKey:struct" },
	{
		.name = "CreatePolicy",
		.shapes = "AttachmentCount:int,IsAttachable:bool,PermissionsBoundaryUsageCount:int,"
			"Policy:struct,Tags:list",
	},
	{
		.name = "CreatePolicyVersion",
		.shapes = "Document:jsondoc,IsDefaultVersion:bool,PolicyVersion:struct,"
			"SetAsDefault:bool",
	},
	{
		.name = "CreateRole",
		.shapes = "AssumeRolePolicyDocument:jsondoc,MaxSessionDuration:int,"
			"PermissionsBoundary:struct,Role:struct,RoleLastUsed:struct,Tags:list",
	},
	{ .name = "CreateUser", .shapes = "PermissionsBoundary:struct,Tags:list,User:struct" },
	{ .name = "DeleteAccessKey" },
	{ .name = "DeletePolicy" },
	{ .name = "DeletePolicyVersion" },
	{ .name = "DeleteRole" },
	{ .name = "DeleteRolePolicy" },
	{ .name = "DeleteUser" },
	{ .name = "DeleteUserPolicy" },
	{ .name = "DetachRolePolicy" },
	{ .name = "DetachUserPolicy" },
	{
		.name = "GetPolicy",
		.shapes = "AttachmentCount:int,IsAttachable:bool,PermissionsBoundaryUsageCount:int,"
			"Policy:struct,Tags:list",
	},
	{
		.name = "GetPolicyVersion",
		.shapes = "Document:jsondoc,IsDefaultVersion:bool,PolicyVersion:struct",
	},
	{
		.name = "GetRole",
		.shapes = "AssumeRolePolicyDocument:jsondoc,MaxSessionDuration:int,"
			"PermissionsBoundary:struct,Role:struct,RoleLastUsed:struct,Tags:list",
	},
	{ .name = "GetRolePolicy", .shapes = "PolicyDocument:jsondoc" },
	{ .name = "GetUser", .shapes = "PermissionsBoundary:struct,Tags:list,User:struct" },
	{ .name = "GetUserPolicy", .shapes = "PolicyDocument:jsondoc" },
	{
		.name = "ListAccessKeys",
		.shapes = "AccessKeyMetadata:list,IsTruncated:bool,MaxItems:int",
		.page_in = "Marker",
		.page_out = "Marker",
		.page_more = "IsTruncated",
	},
	{
		.name = "ListAttachedRolePolicies",
		.shapes = "AttachedPolicies:list,IsTruncated:bool,MaxItems:int",
		.page_in = "Marker",
		.page_out = "Marker",
		.page_more = "IsTruncated",
	},
	{
		.name = "ListAttachedUserPolicies",
		.shapes = "AttachedPolicies:list,IsTruncated:bool,MaxItems:int",
		.page_in = "Marker",
		.page_out = "Marker",
		.page_more = "IsTruncated",
	},
	{
		.name = "ListEntitiesForPolicy",
		.shapes = "IsTruncated:bool,MaxItems:int,PolicyGroups:list,PolicyRoles:list,"
			"PolicyUsers:list",
		.page_in = "Marker",
		.page_out = "Marker",
		.page_more = "IsTruncated",
	},
	{
		.name = "ListPolicies",
		.shapes = "AttachmentCount:int,IsAttachable:bool,IsTruncated:bool,MaxItems:int,"
			"OnlyAttached:bool,PermissionsBoundaryUsageCount:int,Policies:list,"
			"Tags:list",
		.page_in = "Marker",
		.page_out = "Marker",
		.page_more = "IsTruncated",
	},
	{
		.name = "ListPolicyTags",
		.shapes = "IsTruncated:bool,MaxItems:int,Tags:list",
		.page_in = "Marker",
		.page_out = "Marker",
		.page_more = "IsTruncated",
	},
	{
		.name = "ListPolicyVersions",
		.shapes = "Document:jsondoc,IsDefaultVersion:bool,IsTruncated:bool,MaxItems:int,"
			"Versions:list",
		.page_in = "Marker",
		.page_out = "Marker",
		.page_more = "IsTruncated",
	},
	{
		.name = "ListRolePolicies",
		.shapes = "IsTruncated:bool,MaxItems:int,PolicyNames:list",
		.page_in = "Marker",
		.page_out = "Marker",
		.page_more = "IsTruncated",
	},
	{
		.name = "ListRoleTags",
		.shapes = "IsTruncated:bool,MaxItems:int,Tags:list",
		.page_in = "Marker",
		.page_out = "Marker",
		.page_more = "IsTruncated",
	},
	{
		.name = "ListRoles",
		.shapes = "AssumeRolePolicyDocument:jsondoc,IsTruncated:bool,MaxItems:int,"
			"MaxSessionDuration:int,PermissionsBoundary:struct,RoleLastUsed:struct,"
			"Roles:list,Tags:list",
		.page_in = "Marker",
		.page_out = "Marker",
		.page_more = "IsTruncated",
	},
	{
		.name = "ListUserPolicies",
		.shapes = "IsTruncated:bool,MaxItems:int,PolicyNames:list",
		.page_in = "Marker",
		.page_out = "Marker",
		.page_more = "IsTruncated",
	},
	{
		.name = "ListUsers",
		.shapes = "IsTruncated:bool,MaxItems:int,PermissionsBoundary:struct,Tags:list,"
			"Users:list",
		.page_in = "Marker",
		.page_out = "Marker",
		.page_more = "IsTruncated",
	},
	{ .name = "PutRolePolicy" },
	{ .name = "PutUserPolicy" },
	{ .name = "TagPolicy", .shapes = "Tags:list" },
	{ .name = "TagRole", .shapes = "Tags:list" },
	{ .name = "UntagPolicy", .shapes = "TagKeys:list" },
	{ .name = "UntagRole", .shapes = "TagKeys:list" },
	{ .name = "UpdateAccessKey" },
	{ .name = "UpdateAssumeRolePolicy" },
	{ .name = "UpdateRole", .shapes = "MaxSessionDuration:int" },
};

const struct aws_service aws_svc_iam = {
	.name = "iam",
	.signing_name = "iam",
	.host_prefix = "iam",
	.env_key = "IAM",
	.config_key = "iam",
	.global = 1,
	.protocol = AWS_PROTO_QUERY,
	.api_version = "2010-05-08",
	.xml_ns = "https://iam.amazonaws.com/doc/2010-05-08/",
	.ops = ops,
	.nops = sizeof ops / sizeof ops[0],
};
