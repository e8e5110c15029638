/* test_buf.c: the growable buffer: appends, formatting, the cap, take. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "aws/client/buf.h"

static void test_append_and_printf(void **state)
{
	struct aws_buf b;
	(void)state;
	aws_buf_init(&b, 0);
	assert_string_equal(aws_buf_str(&b), "");
	assert_int_equal(aws_buf_adds(&b, "abc"), 0);
	assert_int_equal(aws_buf_addc(&b, '-'), 0);
	assert_int_equal(aws_buf_printf(&b, "%d/%s", 42, "x"), 0);
	assert_string_equal(aws_buf_str(&b), "abc-42/x");
	assert_int_equal(b.len, 8);
	aws_buf_reset(&b);
	assert_string_equal(aws_buf_str(&b), "");
	aws_buf_cleanup(&b);
}

static void test_grows_large(void **state)
{
	struct aws_buf b;
	(void)state;
	aws_buf_init(&b, 0);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(aws_buf_adds(&b, "0123456789"), 0);
	assert_int_equal(b.len, 100000);
	assert_int_equal(b.data[99999], '9');
	aws_buf_cleanup(&b);
}

static void test_cap_frees(void **state)
{
	struct aws_buf b;
	(void)state;
	aws_buf_init(&b, 8);
	assert_int_equal(aws_buf_adds(&b, "12345678"), 0);
	assert_int_equal(aws_buf_addc(&b, 'x'), -1);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(aws_buf_printf(&b, "%s", "123456789"), -1);
	assert_null(b.data);
}

static void test_take(void **state)
{
	struct aws_buf b;
	char *s;
	(void)state;
	aws_buf_init(&b, 0);
	s = aws_buf_take(&b);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
	aws_buf_adds(&b, "hello");
	s = aws_buf_take(&b);
	assert_string_equal(s, "hello");
	assert_null(b.data);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_and_printf),
		cmocka_unit_test(test_grows_large),
		cmocka_unit_test(test_cap_frees),
		cmocka_unit_test(test_take),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
