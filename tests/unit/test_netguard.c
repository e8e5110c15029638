/* test_netguard.c: where the sandbox's outbound HTTP may go (loopback only, unless allowed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "aws/sandbox/netguard.h"

static void test_loopback_hosts(void **state)
{
	(void)state;
	assert_int_equal(sbx_url_is_loopback("http://127.0.0.1:8080/x"), 1);
	assert_int_equal(sbx_url_is_loopback("https://127.254.3.9/"), 1);
	assert_int_equal(sbx_url_is_loopback("http://localhost/hook"), 1);
	assert_int_equal(sbx_url_is_loopback("http://LOCALHOST:9/"), 1);
	assert_int_equal(sbx_url_is_loopback("http://[::1]:8000/p?q=1"), 1);
}

static void test_other_hosts(void **state)
{
	(void)state;
	assert_int_equal(sbx_url_is_loopback("http://10.0.0.1/"), 0);
	assert_int_equal(sbx_url_is_loopback("http://128.0.0.1/"), 0);
	assert_int_equal(sbx_url_is_loopback("http://127.0.0.1.example.com/"), 0);
	assert_int_equal(sbx_url_is_loopback("http://127.attacker.net/"), 0);
	assert_int_equal(sbx_url_is_loopback("http://[::2]/"), 0);
	assert_int_equal(sbx_url_is_loopback("http://localhost.example.com/"), 0);
	assert_int_equal(sbx_url_is_loopback("ftp://127.0.0.1/"), 0);
	assert_int_equal(sbx_url_is_loopback("file:///etc/passwd"), 0);
	assert_int_equal(sbx_url_is_loopback("127.0.0.1/no-scheme"), 0);
	assert_int_equal(sbx_url_is_loopback(""), 0);
	assert_int_equal(sbx_url_is_loopback(NULL), 0);
}

static void test_allow_env(void **state)
{
	(void)state;
	unsetenv(SBX_ALLOW_REMOTE_HTTP_ENV);
	assert_int_equal(sbx_url_allowed("http://192.0.2.1/"), 0);
	assert_int_equal(sbx_url_allowed("http://127.0.0.1/"), 1);
	setenv(SBX_ALLOW_REMOTE_HTTP_ENV, "yes", 1);
	assert_int_equal(sbx_url_allowed("http://192.0.2.1/"), 0);
	setenv(SBX_ALLOW_REMOTE_HTTP_ENV, "1", 1);
	assert_int_equal(sbx_url_allowed("http://192.0.2.1/"), 1);
	assert_int_equal(sbx_url_allowed("https://example.com/x"), 1);
	assert_int_equal(sbx_url_allowed("ftp://example.com/x"), 0);
	assert_int_equal(sbx_url_allowed("not a url"), 0);
	/* the allowance is API Gateway's: the plain loopback check ignores it */
	assert_int_equal(sbx_url_is_loopback("http://192.0.2.1/"), 0);
	unsetenv(SBX_ALLOW_REMOTE_HTTP_ENV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback_hosts),
		cmocka_unit_test(test_other_hosts),
		cmocka_unit_test(test_allow_env),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
