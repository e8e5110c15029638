/* vtl.h: a pure renderer for API Gateway mapping templates (the Velocity subset real APIs use). */
#ifndef CLEANOPS_SANDBOX_VTL_H
#define CLEANOPS_SANDBOX_VTL_H

#include <jansson.h>
#include <stddef.h>

#include "aws/client/buf.h"

/* What a template sees (all borrowed; valid during the call). */
struct sbx_vtl_ctx {
	const char *body;     /* $input.body: the raw payload (request or backend response) */
	size_t body_len;
	json_t *params;       /* $input.params(): {"path":{},"querystring":{},"header":{}} or NULL */
	json_t *context;      /* $context: {"requestId":..,"identity":{"sourceIp":..},..} or NULL */
	json_t *stage_vars;   /* $stageVariables, or NULL */
};

/* Render tmpl into out (appended). Supports literal text, ## and #* *# comments,
 * references ($x, $!x, ${x}) with properties, methods and [index], $input.body/json/path/
 * params, $util.urlEncode/urlDecode/escapeJavaScript/base64Encode/base64Decode/parseJson,
 * $context.*, $stageVariables.*, #set, #if/#elseif/#else/#end, #foreach (with
 * $foreach.hasNext/index/count), string/number/boolean/list literals and the usual
 * operators. Anything else (unknown variables, methods or directives such as #macro) is an
 * error, never silently wrong output. Returns 0, or -1 with a one-line reason in err.
 * Pure: no I/O, no clock, no globals. */
int sbx_vtl_render(const char *tmpl, const struct sbx_vtl_ctx *c, struct aws_buf *out,
		   char *err, size_t errlen);

#endif
