/* test_endpoint.c: real AWS hosts per partition, IAM's global endpoint, overrides, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "aws/client/endpoint.h"

/* Rows of our own, so this test does not depend on the services table. */
static const struct aws_service iam = {
	.name = "iam", .signing_name = "iam", .host_prefix = "iam", .env_key = "IAM",
	.config_key = "iam", .global = 1, .protocol = AWS_PROTO_QUERY,
};
static const struct aws_service sqs = {
	.name = "sqs", .signing_name = "sqs", .host_prefix = "sqs", .env_key = "SQS",
	.config_key = "sqs", .protocol = AWS_PROTO_JSON,
};
static const struct aws_service streams = {
	.name = "dynamodbstreams", .signing_name = "dynamodb", .host_prefix = "streams.dynamodb",
	.env_key = "DYNAMODB_STREAMS", .config_key = "dynamodb_streams",
	.protocol = AWS_PROTO_JSON,
};

static int clear_env(void **state)
{
	(void)state;
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_SQS");
	unsetenv("AWS_ENDPOINT_URL_IAM");
	unsetenv("AWS_ENDPOINT_URL_DYNAMODB_STREAMS");
	return 0;
}

struct host_case {
	const struct aws_service *svc;
	const char *region;
	const char *url;
	const char *signing_region;
};

static const struct host_case host_cases[] = {
	{ &sqs, "eu-west-1", "https://sqs.eu-west-1.amazonaws.com", "eu-west-1" },
	{ &sqs, "us-east-1", "https://sqs.us-east-1.amazonaws.com", "us-east-1" },
	{ &sqs, "cn-north-1", "https://sqs.cn-north-1.amazonaws.com.cn", "cn-north-1" },
	{ &sqs, "cn-northwest-1", "https://sqs.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1" },
	{ &streams, "ap-southeast-2", "https://streams.dynamodb.ap-southeast-2.amazonaws.com",
	  "ap-southeast-2" },
	{ &iam, "eu-west-1", "https://iam.amazonaws.com", "us-east-1" },
	{ &iam, NULL, "https://iam.amazonaws.com", "us-east-1" },
	{ &iam, "", "https://iam.amazonaws.com", "us-east-1" },
	{ &iam, "cn-northwest-1", "https://iam.cn-north-1.amazonaws.com.cn", "cn-north-1" },
	{ &iam, "us-gov-east-1", "https://iam.us-gov.amazonaws.com", "us-gov-west-1" },
};

static void test_real_hosts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof host_cases / sizeof host_cases[0]; i++) {
		const struct host_case *c = &host_cases[i];
		struct aws_endpoint e;
		struct aws_error err = { 0 };

		memset(&e, 0, sizeof e);
		if (aws_endpoint_resolve(c->svc, c->region, NULL, NULL, &e, &err))
			fail_msg("case %zu: %s", i, err.message);
		assert_string_equal(e.url, c->url);
		assert_string_equal(e.signing_region, c->signing_region);
		assert_int_equal(e.overridden, 0);
		aws_endpoint_cleanup(&e);
	}
}

struct override_case {
	const struct aws_service *svc;
	const char *region;
	const char *explicit_url;
	const char *url;
	const char *signing_region;
};

static const struct override_case override_cases[] = {
	{ &sqs, "eu-west-1", "http://127.0.0.1:4566", "http://127.0.0.1:4566", "eu-west-1" },
	{ &sqs, "eu-west-1", "http://127.0.0.1:4566/", "http://127.0.0.1:4566", "eu-west-1" },
	{ &sqs, "eu-west-1", "https://example.test//", "https://example.test", "eu-west-1" },
	{ &sqs, "eu-west-1", "http://localhost:4566/base/", "http://localhost:4566/base",
	  "eu-west-1" },
	/* no region with an override: us-east-1 */
	{ &sqs, NULL, "http://127.0.0.1:4566", "http://127.0.0.1:4566", "us-east-1" },
	{ &streams, NULL, "http://[::1]:8000", "http://[::1]:8000", "us-east-1" },
	/* IAM with an override signs in the client's region, not us-east-1 */
	{ &iam, "eu-west-1", "http://127.0.0.1:4566", "http://127.0.0.1:4566", "eu-west-1" },
	{ &iam, NULL, "http://127.0.0.1:4566", "http://127.0.0.1:4566", "us-east-1" },
	{ &iam, "cn-north-1", "HTTP://h:1", "HTTP://h:1", "cn-north-1" },
};

static void test_overrides(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof override_cases / sizeof override_cases[0]; i++) {
		const struct override_case *c = &override_cases[i];
		struct aws_endpoint e;
		struct aws_error err = { 0 };

		memset(&e, 0, sizeof e);
		if (aws_endpoint_resolve(c->svc, c->region, c->explicit_url, NULL, &e, &err))
			fail_msg("case %zu: %s", i, err.message);
		assert_string_equal(e.url, c->url);
		assert_string_equal(e.signing_region, c->signing_region);
		assert_int_equal(e.overridden, 1);
		aws_endpoint_cleanup(&e);
	}
}

static void test_explicit_beats_config_beats_host(void **state)
{
	char k_sqs[] = "sqs", u_sqs[] = "http://127.0.0.1:1111";
	char profile_url[] = "http://127.0.0.1:2222";
	struct aws_config_endpoint eps[] = { { k_sqs, u_sqs } };
	struct aws_config cfg;
	struct aws_endpoint e;
	struct aws_error err = { 0 };
	(void)state;

	memset(&cfg, 0, sizeof cfg);
	cfg.endpoints = eps;
	cfg.nendpoints = 1;
	cfg.endpoint_url = profile_url;

	/* the services section for sqs; the profile's endpoint_url for the others */
	assert_int_equal(aws_endpoint_resolve(&sqs, "eu-west-1", NULL, &cfg, &e, &err), 0);
	assert_string_equal(e.url, "http://127.0.0.1:1111");
	assert_int_equal(e.overridden, 1);
	aws_endpoint_cleanup(&e);
	assert_int_equal(aws_endpoint_resolve(&streams, "eu-west-1", NULL, &cfg, &e, &err), 0);
	assert_string_equal(e.url, "http://127.0.0.1:2222");
	aws_endpoint_cleanup(&e);

	/* the environment beats the config file; the service's own variable first */
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:3333", 1);
	assert_int_equal(aws_endpoint_resolve(&sqs, "eu-west-1", NULL, &cfg, &e, &err), 0);
	assert_string_equal(e.url, "http://127.0.0.1:3333");
	aws_endpoint_cleanup(&e);
	setenv("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:4444/", 1);
	assert_int_equal(aws_endpoint_resolve(&sqs, "eu-west-1", NULL, &cfg, &e, &err), 0);
	assert_string_equal(e.url, "http://127.0.0.1:4444");
	aws_endpoint_cleanup(&e);
	assert_int_equal(aws_endpoint_resolve(&iam, "eu-west-1", NULL, &cfg, &e, &err), 0);
	assert_string_equal(e.url, "http://127.0.0.1:3333");
	assert_string_equal(e.signing_region, "eu-west-1");
	aws_endpoint_cleanup(&e);

	/* explicit beats everything */
	assert_int_equal(aws_endpoint_resolve(&sqs, "eu-west-1", "http://127.0.0.1:5555", &cfg,
					      &e, &err), 0);
	assert_string_equal(e.url, "http://127.0.0.1:5555");
	aws_endpoint_cleanup(&e);

	/* ignore_configured_endpoints: env and config are ignored, explicit is not */
	cfg.ignore_configured_endpoints = 1;
	assert_int_equal(aws_endpoint_resolve(&sqs, "eu-west-1", NULL, &cfg, &e, &err), 0);
	assert_string_equal(e.url, "https://sqs.eu-west-1.amazonaws.com");
	assert_int_equal(e.overridden, 0);
	aws_endpoint_cleanup(&e);
	assert_int_equal(aws_endpoint_resolve(&sqs, "eu-west-1", "http://127.0.0.1:5555", &cfg,
					      &e, &err), 0);
	assert_string_equal(e.url, "http://127.0.0.1:5555");
	aws_endpoint_cleanup(&e);
	clear_env(NULL);
}

struct error_case {
	const struct aws_service *svc;
	const char *region;
	const char *explicit_url;
	const char *needle; /* in the message */
};

static const struct error_case error_cases[] = {
	{ &sqs, NULL, NULL, "AWS_REGION" },
	{ &sqs, "", NULL, "region" },
	{ &streams, NULL, NULL, "dynamodbstreams" },
	{ &sqs, "eu-west-1", "127.0.0.1:4566", "invalid endpoint URL" },
	{ &sqs, "eu-west-1", "ftp://127.0.0.1", "invalid endpoint URL" },
	{ &sqs, "eu-west-1", "http://", "invalid endpoint URL" },
	{ &sqs, "eu-west-1", "http:///path", "invalid endpoint URL" },
	{ &sqs, "eu-west-1", "http://:80", "invalid endpoint URL" },
	{ &sqs, "eu-west-1", "http://host name", "invalid endpoint URL" },
	{ &iam, "eu-west-1", "localhost", "invalid endpoint URL" },
	{ &sqs, "eu-west-1/x", NULL, "invalid region" },
	{ &sqs, "-eu", NULL, "invalid region" },
	{ &iam, "us east", NULL, "invalid region" },
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
		const struct error_case *c = &error_cases[i];
		struct aws_endpoint e;
		struct aws_error err = { 0 };

		memset(&e, 0x5a, sizeof e);
		if (aws_endpoint_resolve(c->svc, c->region, c->explicit_url, NULL, &e, &err) != -1)
			fail_msg("case %zu: resolved, want an error", i);
		assert_string_equal(err.code, AWS_ERR_CONFIG);
		if (!strstr(err.message, c->needle))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.message, c->needle);
		/* out is untouched on failure */
		assert_true(e.overridden == 0x5a5a5a5a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_real_hosts, clear_env),
		cmocka_unit_test_setup(test_overrides, clear_env),
		cmocka_unit_test_setup(test_explicit_beats_config_beats_host, clear_env),
		cmocka_unit_test_setup(test_errors, clear_env),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
