/* test_stack_state.c: the state file: path rules, atomic 0600 save, corrupt files detected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "aws/stack/state.h"

static char tmpdir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_stack_state.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_paths(void **state)
{
	static const struct {
		const char *label, *stack, *want;
	} cases[] = {
		{ "sandbox", "POC", "/d/stack-sandbox-POC.json" },
		{ "http://127.0.0.1:4566", "dev", "/d/stack-http_127.0.0.1_4566-dev.json" },
		{ "aws-123456789012-eu-west-1", "POC", "/d/stack-aws-123456789012-eu-west-1-POC.json" },
	};
	char out[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(stack_state_file("/d", cases[i].label, cases[i].stack, out,
						  sizeof(out)), 0);
		assert_string_equal(out, cases[i].want);
	}
	assert_int_equal(stack_state_file("/d", "sandbox", "POC", out, 8), -1);
	setenv("XDG_STATE_HOME", "/x/state", 1);
	assert_int_equal(stack_state_dir(NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "/x/state/cleanops");
	unsetenv("XDG_STATE_HOME");
	setenv("HOME", "/home/u", 1);
	assert_int_equal(stack_state_dir(NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "/home/u/.local/state/cleanops");
	assert_int_equal(stack_state_dir("/given", out, sizeof(out)), 0);
	assert_string_equal(out, "/given");
}

static void test_save_load(void **state)
{
	char path[512], why[256];
	json_t *doc = json_pack("{si s{s{ss}}}", "version", 1, "resources", "queue", "name",
				"POC-Queue");
	json_t *back = NULL;
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/new/dir/stack-sandbox-POC.json", tmpdir);
	assert_int_equal(stack_state_load(path, &back, why, sizeof(why)), 0); /* absent: {} */
	assert_int_equal(json_object_size(back), 0);
	json_decref(back);
	assert_int_equal(stack_state_save(path, doc, why, sizeof(why)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stack_state_load(path, &back, why, sizeof(why)), 0);
	assert_true(json_equal(doc, back));
	json_decref(back);
	json_decref(doc);
}

static void test_corrupt(void **state)
{
	static const char *const bodies[] = { "{\"resources\": [trunc", "[]", "{\"version\":1}", "" };
	char path[512], why[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/corrupt.json", tmpdir);
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		FILE *f = fopen(path, "w");
		json_t *back = NULL;

		assert_non_null(f);
		fputs(bodies[i], f);
		fclose(f);
		why[0] = '\0';
		assert_int_equal(stack_state_load(path, &back, why, sizeof(why)), 1);
		assert_non_null(back);
		assert_int_equal(json_object_size(back), 0);
		assert_true(why[0] != '\0');
		json_decref(back);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_corrupt),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
