/* cmd-package.c: `cleanops package [--out DIR] [--bin DIR]`: build the two Lambda zips. */
#include <stdio.h>

#include "aws/stack/package.h"
#include "cli.h"

#define DEFAULT_OUT "build/lambda"
#define DEFAULT_BIN "build/lambda/bin"

static int package_exec(const struct cli_cmd *self, struct cli_args *a)
{
	struct stack_package_result res[STACK_PACKAGE_COUNT] = { 0 };
	const char *out = cli_get(a, "out"), *bin = cli_get(a, "bin");
	char why[1024];

	(void)self;
	if (!out || !*out)
		out = DEFAULT_OUT;
	if (!bin || !*bin)
		bin = DEFAULT_BIN;
	if (stack_package(bin, out, res, why, sizeof(why))) {
		fprintf(stderr, "cleanops package: %s\n", why);
		return 1;
	}
	for (int i = 0; i < STACK_PACKAGE_COUNT; i++)
		printf("%s  %lld bytes  %d files  CodeSha256 %s\n", res[i].path, res[i].size,
		       res[i].files, res[i].sha256_b64);
	return 0;
}

const struct cli_cmd cmd_package = {
	.name = "package",
	.usage = "[--out DIR] [--bin DIR]",
	.summary = "build the Lambda zips POC-Lambda-1.zip and POC-Lambda-2.zip (default build/lambda/)",
	.options = "out=,bin=",
	.min_pos = 0,
	.max_pos = 0,
	.exec = package_exec,
};
