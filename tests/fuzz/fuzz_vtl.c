/* fuzz_vtl.c: the API Gateway mapping-template renderer (aws/sandbox/vtl.c).
 * Input parts (cut at "%%" lines): the template, $input.body, the params JSON, the context
 * JSON, the stage variables JSON (missing or invalid JSON: NULL). */
#include <jansson.h>
#include <string.h>

#include "aws/client/buf.h"
#include "aws/sandbox/vtl.h"
#include "fuzz.h"

static json_t *load(const struct fuzz_parts *p, int i)
{
	json_error_t jerr;

	return p->len[i] ? json_loadb(p->part[i], p->len[i], 0, &jerr) : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_parts p;
	struct sbx_vtl_ctx c;
	struct aws_buf out;
	char err[256];
	char *body;

	if (fuzz_split(data, size, &p) != 0)
		return 0;
	memset(&c, 0, sizeof(c));
	/* an exact-size copy of the body: the renderer must honour body_len */
	body = malloc(p.len[1] ? p.len[1] : 1);
	if (!body) {
		fuzz_parts_free(&p);
		return 0;
	}
	memcpy(body, p.part[1], p.len[1]);
	c.body = body;
	c.body_len = p.len[1];
	c.params = load(&p, 2);
	c.context = load(&p, 3);
	c.stage_vars = load(&p, 4);
	aws_buf_init(&out, (size_t)1 << 20); /* a template's output is capped like API Gateway's */
	err[0] = '\0';
	if (sbx_vtl_render(p.part[0], &c, &out, err, sizeof(err)) != 0 && !err[0])
		abort(); /* a failure always says why */
	aws_buf_cleanup(&out);
	json_decref(c.params);
	json_decref(c.context);
	json_decref(c.stage_vars);
	free(body);
	fuzz_parts_free(&p);
	return 0;
}
