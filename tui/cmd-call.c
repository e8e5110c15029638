/* cmd-call.c: `cleanops call SERVICE OPERATION [JSON | -]`: one signed AWS API call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/client/aws.h"
#include "aws/client/buf.h"
#include "cli.h"
#include "target.h"

/* Read all of stdin into a new string (caller frees), or NULL. */
static char *read_stdin(void)
{
	struct aws_buf b;
	char chunk[65536];
	size_t n;

	aws_buf_init(&b, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		if (aws_buf_add(&b, chunk, n))
			return NULL;
	return aws_buf_take(&b);
}

static int call_exec(const struct cli_cmd *self, struct cli_args *a)
{
	struct tui_target t;
	struct aws_client_opts opts;
	struct aws_client *c = NULL;
	struct aws_error err = {0};
	json_t *in = NULL, *out = NULL;
	json_error_t jerr;
	char errbuf[512];
	char *text = NULL;
	int rc = 1;

	(void)self;
	if (a->npos == 3) {
		const char *src = a->pos[2];

		if (strcmp(src, "-") == 0) {
			text = read_stdin();
			src = text ? text : "";
		}
		in = json_loads(src, JSON_DECODE_ANY, &jerr);
		if (!in || !json_is_object(in)) {
			fprintf(stderr, "cleanops call: the input must be a JSON object%s%s\n",
				in ? "" : ": ", in ? "" : jerr.text);
			rc = 2;
			goto out;
		}
	}
	if (tui_target_resolve(a, &t, errbuf, sizeof(errbuf))) {
		fprintf(stderr, "error: ConfigError: %s\n", errbuf);
		goto out;
	}
	tui_target_opts(&t, &opts);
	if (aws_client_new(&opts, &c, &err) || aws_call(c, a->pos[0], a->pos[1], in, &out, &err)) {
		if (strcmp(err.code, AWS_ERR_UNKNOWN_OP) == 0) {
			fprintf(stderr, "cleanops call: %s\n", err.message);
			rc = 2;
		} else {
			fprintf(stderr, "error: %s: %s\n", err.code, err.message);
			if (t.is_sandbox && strcmp(err.code, AWS_ERR_NETWORK) == 0)
				fprintf(stderr, "hint: the sandbox is not running; start it with "
						"'cleanops sandbox start'\n");
		}
		goto out;
	}
	if (json_dumpf(out, stdout, JSON_INDENT(4) | JSON_PRESERVE_ORDER) == 0) {
		fputc('\n', stdout);
		rc = 0;
	}
out:
	json_decref(in);
	json_decref(out);
	free(text);
	aws_client_free(c);
	return rc;
}

const struct cli_cmd cmd_call = {
	.name = "call",
	.usage = "SERVICE OPERATION [JSON | -] [--endpoint URL] [--region R] [--profile P]",
	.summary = "make one signed AWS API call and print the response as JSON",
	.options = "",
	.min_pos = 2,
	.max_pos = 3,
	.exec = call_exec,
};
