/* test_config.c: config and credential resolution against temporary files, as botocore does it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws/client/config.h"

extern char **environ;

/* The temporary directory of the running test and its two files. */
static char dir[256];
static char cfg_path[300];
static char cred_path[300];

/* Every variable the resolution reads. */
static const char *const env_vars[] = {
	"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
	"AWS_CREDENTIAL_EXPIRATION", "AWS_CA_BUNDLE", "AWS_MAX_ATTEMPTS", "AWS_ENDPOINT_URL",
	"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", NULL,
};

static void clear_env(void)
{
	char name[256];

	for (size_t i = 0; env_vars[i]; i++)
		unsetenv(env_vars[i]);
	/* AWS_ENDPOINT_URL_<SERVICE>: whatever the environment had */
	for (int again = 1; again;) {
		again = 0;
		for (char **e = environ; *e; e++) {
			if (strncmp(*e, "AWS_ENDPOINT_URL_", 17) == 0) {
				size_t n = strcspn(*e, "=");
				snprintf(name, sizeof name, "%.*s", (int)n, *e);
				unsetenv(name);
				again = 1;
				break;
			}
		}
	}
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/cleanops-test-config-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(cfg_path, sizeof cfg_path, "%s/config", dir);
	snprintf(cred_path, sizeof cred_path, "%s/credentials", dir);
	clear_env();
	setenv("AWS_CONFIG_FILE", cfg_path, 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", cred_path, 1);
	return 0;
}

static int teardown(void **state)
{
	char extra[400];
	(void)state;
	snprintf(extra, sizeof extra, "%s/tilde.ini", dir);
	unlink(extra);
	unlink(cfg_path);
	unlink(cred_path);
	rmdir(dir);
	clear_env();
	return 0;
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* Load, expecting success. */
static void load_ok(const char *profile, const char *region, struct aws_config *c)
{
	struct aws_error err = { 0 };

	memset(c, 0, sizeof *c);
	if (aws_config_load(profile, region, c, &err))
		fail_msg("aws_config_load: %s: %s", err.code, err.message);
}

/* Load, expecting a ConfigError whose message contains needle. */
static void load_fails(const char *profile, const char *needle, struct aws_error *err)
{
	struct aws_config c;

	memset(err, 0, sizeof *err);
	memset(&c, 0x5a, sizeof c);
	if (aws_config_load(profile, NULL, &c, err) != -1)
		fail_msg("aws_config_load succeeded, want an error containing '%s'", needle);
	assert_string_equal(err->code, AWS_ERR_CONFIG);
	if (!strstr(err->message, needle))
		fail_msg("message '%s' lacks '%s'", err->message, needle);
	assert_true(c.max_attempts == 0x5a5a5a5a); /* out untouched */
}

static void test_no_files(void **state)
{
	struct aws_config c;
	(void)state;

	load_ok(NULL, NULL, &c);
	assert_string_equal(c.profile, "default");
	assert_null(c.region);
	assert_null(c.ca_bundle);
	assert_int_equal(c.max_attempts, 0);
	assert_int_equal(c.have_credentials, 0);
	assert_string_equal(c.credentials_source, "none");
	assert_null(aws_config_endpoint(&c, "sqs", "SQS"));
	aws_config_cleanup(&c);
}

static void test_env_credentials_win(void **state)
{
	struct aws_config c;
	(void)state;

	write_file(cred_path, "[default]\naws_access_key_id = AKFILE\n"
			      "aws_secret_access_key = skfile\n");
	setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "skenv", 1);
	setenv("AWS_SESSION_TOKEN", "tokenv", 1);
	load_ok(NULL, NULL, &c);
	assert_string_equal(c.credentials_source, "environment");
	assert_int_equal(c.have_credentials, 1);
	assert_string_equal(c.credentials.access_key_id, "AKENV");
	assert_string_equal(c.credentials.secret_access_key, "skenv");
	assert_string_equal(c.credentials.session_token, "tokenv");
	assert_int_equal(c.credentials.expiration, 0);
	aws_config_cleanup(&c);

	/* AWS_PROFILE leaves the environment first ... */
	write_file(cred_path, "[default]\naws_access_key_id = AKFILE\n"
			      "aws_secret_access_key = skfile\n"
			      "[dev]\naws_access_key_id = AKDEV\naws_secret_access_key = skdev\n");
	setenv("AWS_PROFILE", "dev", 1);
	load_ok(NULL, NULL, &c);
	assert_string_equal(c.profile, "dev");
	assert_string_equal(c.credentials.access_key_id, "AKENV");
	aws_config_cleanup(&c);

	/* ... but an explicit profile takes its own credentials (botocore drops the env
	 * provider when a profile is passed, like `aws --profile dev`) */
	load_ok("dev", NULL, &c);
	assert_string_equal(c.credentials_source, "shared-credentials-file");
	assert_string_equal(c.credentials.access_key_id, "AKDEV");
	assert_null(c.credentials.session_token);
	aws_config_cleanup(&c);
}

static void test_env_partial_credentials(void **state)
{
	struct aws_error err;
	(void)state;

	setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
	load_fails(NULL, "AWS_SECRET_ACCESS_KEY", &err);
	/* an empty variable is an unset one */
	setenv("AWS_ACCESS_KEY_ID", "", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "x", 1);
	{
		struct aws_config c;
		load_ok(NULL, NULL, &c);
		assert_int_equal(c.have_credentials, 0);
		aws_config_cleanup(&c);
	}
	write_file(cred_path, "[default]\naws_access_key_id = AK\n");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	load_fails(NULL, "aws_secret_access_key", &err);
}

static void test_credentials_file_over_config_file(void **state)
{
	struct aws_config c;
	(void)state;

	write_file(cfg_path, "[default]\nregion = eu-west-1\naws_access_key_id = AKCFG\n"
			     "aws_secret_access_key = skcfg\naws_session_token = tokcfg\n");
	write_file(cred_path, "[default]\naws_access_key_id = AKCRED\n"
			      "aws_secret_access_key = skcred\n");
	load_ok(NULL, NULL, &c);
	assert_string_equal(c.credentials_source, "shared-credentials-file");
	assert_string_equal(c.credentials.access_key_id, "AKCRED");
	assert_null(c.credentials.session_token);
	assert_string_equal(c.region, "eu-west-1");
	aws_config_cleanup(&c);

	unlink(cred_path);
	load_ok(NULL, NULL, &c);
	assert_string_equal(c.credentials_source, "config-file");
	assert_string_equal(c.credentials.access_key_id, "AKCFG");
	assert_string_equal(c.credentials.secret_access_key, "skcfg");
	assert_string_equal(c.credentials.session_token, "tokcfg");
	aws_config_cleanup(&c);
}

static void test_section_names_per_file(void **state)
{
	struct aws_config c;
	struct aws_error err;
	(void)state;

	/* config: [profile x] is profile x; a bare [x] is not a profile */
	write_file(cfg_path, "[dev]\nregion = wrong-1\n"
			     "[profile dev]\nregion = eu-west-1\n"
			     "[profile   \"two words\"]\nregion = ap-south-1\n"
			     "[stray]\nregion = wrong-2\n");
	/* credentials: [x] is profile x; [profile y] is a profile named "profile y" */
	write_file(cred_path, "[prod]\naws_access_key_id = AKPROD\naws_secret_access_key = s\n"
			      "[profile qa]\naws_access_key_id = AKQA\naws_secret_access_key = s\n");
	load_ok("dev", NULL, &c);
	assert_string_equal(c.region, "eu-west-1");
	aws_config_cleanup(&c);
	load_ok("two words", NULL, &c);
	assert_string_equal(c.region, "ap-south-1");
	aws_config_cleanup(&c);
	load_ok("prod", NULL, &c);
	assert_string_equal(c.credentials.access_key_id, "AKPROD");
	assert_null(c.region);
	aws_config_cleanup(&c);
	load_ok("profile qa", NULL, &c);
	assert_string_equal(c.credentials.access_key_id, "AKQA");
	aws_config_cleanup(&c);
	load_fails("qa", "profile 'qa' not found in ", &err);
	assert_non_null(strstr(err.message, cfg_path));
	assert_non_null(strstr(err.message, cred_path));
	load_fails("stray", "profile 'stray' not found", &err);
	/* a named default must exist too; an unnamed one need not */
	load_fails("default", "profile 'default' not found", &err);
	setenv("AWS_PROFILE", "nope", 1);
	load_fails(NULL, "profile 'nope' not found", &err);
}

static void test_profile_precedence(void **state)
{
	struct aws_config c;
	(void)state;

	write_file(cfg_path, "[default]\nregion = r-default\n[profile a]\nregion = r-a\n"
			     "[profile b]\nregion = r-b\n[profile c]\nregion = r-c\n");
	load_ok(NULL, NULL, &c);
	assert_string_equal(c.profile, "default");
	assert_string_equal(c.region, "r-default");
	aws_config_cleanup(&c);
	setenv("AWS_PROFILE", "a", 1);
	load_ok(NULL, NULL, &c);
	assert_string_equal(c.profile, "a");
	assert_string_equal(c.region, "r-a");
	aws_config_cleanup(&c);
	load_ok("b", NULL, &c);
	assert_string_equal(c.profile, "b");
	assert_string_equal(c.region, "r-b");
	aws_config_cleanup(&c);
	/* botocore reads AWS_DEFAULT_PROFILE before AWS_PROFILE */
	setenv("AWS_DEFAULT_PROFILE", "c", 1);
	load_ok(NULL, NULL, &c);
	assert_string_equal(c.profile, "c");
	aws_config_cleanup(&c);
}

static void test_region_order(void **state)
{
	struct aws_config c;
	(void)state;

	write_file(cfg_path, "[default]\nregion = from-config\n");
	load_ok(NULL, NULL, &c);
	assert_string_equal(c.region, "from-config");
	aws_config_cleanup(&c);
	/* the credentials file's section joins the profile (botocore merges them) */
	write_file(cred_path, "[default]\nregion = from-credentials\n");
	load_ok(NULL, NULL, &c);
	assert_string_equal(c.region, "from-credentials");
	aws_config_cleanup(&c);
	setenv("AWS_DEFAULT_REGION", "from-default-region", 1);
	load_ok(NULL, NULL, &c);
	assert_string_equal(c.region, "from-default-region");
	aws_config_cleanup(&c);
	setenv("AWS_REGION", "from-region", 1);
	load_ok(NULL, NULL, &c);
	assert_string_equal(c.region, "from-region");
	aws_config_cleanup(&c);
	load_ok(NULL, "explicit-1", &c);
	assert_string_equal(c.region, "explicit-1");
	aws_config_cleanup(&c);
	/* empty means unset */
	setenv("AWS_REGION", "", 1);
	load_ok(NULL, "", &c);
	assert_string_equal(c.region, "from-default-region");
	aws_config_cleanup(&c);
}

static void test_session_tokens(void **state)
{
	struct aws_config c;
	(void)state;

	write_file(cred_path, "[default]\naws_access_key_id = AK\naws_secret_access_key = SK\n"
			      "aws_session_token = TOKEN\n"
			      "[old]\naws_access_key_id = AK2\naws_secret_access_key = SK2\n"
			      "aws_security_token = LEGACY\n");
	load_ok(NULL, NULL, &c);
	assert_string_equal(c.credentials.session_token, "TOKEN");
	aws_config_cleanup(&c);
	load_ok("old", NULL, &c);
	assert_string_equal(c.credentials.session_token, "LEGACY");
	aws_config_cleanup(&c);
	setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "SKENV", 1);
	setenv("AWS_CREDENTIAL_EXPIRATION", "2030-01-02T03:04:05Z", 1);
	load_ok(NULL, NULL, &c);
	assert_null(c.credentials.session_token);
	assert_int_equal(c.credentials.expiration, 1893553445LL);
	aws_config_cleanup(&c);
}

#define PROC_JSON(exp) "{\"Version\": 1, \"AccessKeyId\": \"AKPROC\", " \
	"\"SecretAccessKey\": \"SKPROC\", \"SessionToken\": \"TKPROC\", \"Expiration\": " exp "}"

static void test_credential_process(void **state)
{
	struct aws_config c;
	struct aws_credentials cr = { 0 };
	struct aws_error err = { 0 };
	(void)state;

	write_file(cfg_path, "[default]\n"
			     "credential_process = printf '%s' '" PROC_JSON("\"2030-01-02T03:04:05Z\"")
			     "'\n"
			     "aws_access_key_id = AKCFG\naws_secret_access_key = SKCFG\n");
	load_ok(NULL, NULL, &c);
	/* botocore runs credential_process before the config file's static keys */
	assert_string_equal(c.credentials_source, "credential-process");
	assert_string_equal(c.credentials.access_key_id, "AKPROC");
	assert_string_equal(c.credentials.secret_access_key, "SKPROC");
	assert_string_equal(c.credentials.session_token, "TKPROC");
	assert_int_equal(c.credentials.expiration, 1893553445LL);
	assert_non_null(c.credential_process);
	assert_non_null(strstr(c.credential_process, "printf"));
	aws_config_cleanup(&c);

	/* the credentials file's static keys come first */
	write_file(cred_path, "[default]\naws_access_key_id = AKCRED\naws_secret_access_key = S\n");
	load_ok(NULL, NULL, &c);
	assert_string_equal(c.credentials.access_key_id, "AKCRED");
	assert_null(c.credential_process);
	aws_config_cleanup(&c);

	/* Expiration forms: offsets, fractions, none; no SessionToken */
	assert_int_equal(aws_config_credential_process(
				 "echo '" PROC_JSON("\"2030-01-02T03:04:05.123+02:00\"") "'", &cr,
				 &err), 0);
	assert_int_equal(cr.expiration, 1893546245LL);
	aws_credentials_cleanup(&cr);
	assert_int_equal(aws_config_credential_process(
				 "echo '" PROC_JSON("null") "'", &cr, &err), 0);
	assert_int_equal(cr.expiration, 0);
	aws_credentials_cleanup(&cr);
	assert_int_equal(aws_config_credential_process(
				 "echo '{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\","
				 "\"Expiration\":\"2030-01-02\"}'", &cr, &err), 0);
	assert_null(cr.session_token);
	assert_int_equal(cr.expiration, 1893542400LL);
	aws_credentials_cleanup(&cr);
}

/* A failing process: the error never repeats its output or any secret in it. */
static void test_credential_process_failures(void **state)
{
	static const struct {
		const char *cmd;
		const char *needle;
	} cases[] = {
		{ "echo SECRETOUTPUT; echo SECRETERR >&2; exit 3", "exit status 3" },
		{ "echo 'not json SECRETOUTPUT'", "not a JSON object" },
		{ "echo '{\"Version\":2,\"AccessKeyId\":\"SECRETOUTPUT\","
		  "\"SecretAccessKey\":\"SECRETOUTPUT\"}'", "Version" },
		{ "echo '{\"AccessKeyId\":\"SECRETOUTPUT\",\"SecretAccessKey\":\"SECRETOUTPUT\"}'",
		  "Version" },
		{ "echo '{\"Version\":1,\"AccessKeyId\":\"SECRETOUTPUT\"}'", "SecretAccessKey" },
		{ "echo '{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"SECRETOUTPUT\","
		  "\"Expiration\":\"SECRETOUTPUT\"}'", "Expiration" },
		{ "kill -9 $$", "signal 9" },
		{ "/nonexistent/SECRETOUTPUT-helper", "exit status 127" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct aws_credentials cr = { 0 };
		struct aws_error err = { 0 };

		if (aws_config_credential_process(cases[i].cmd, &cr, &err) != -1)
			fail_msg("case %zu succeeded", i);
		assert_string_equal(err.code, AWS_ERR_CONFIG);
		if (!strstr(err.message, cases[i].needle))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.message, cases[i].needle);
		if (strstr(err.message, "SECRET"))
			fail_msg("case %zu leaks: '%s'", i, err.message);
		assert_null(cr.access_key_id);
	}

	/* through the profile: the load fails and names the profile */
	write_file(cfg_path, "[profile p]\ncredential_process = echo SECRETOUTPUT; exit 1\n");
	{
		struct aws_error err;
		load_fails("p", "profile 'p': credential_process failed", &err);
		assert_null(strstr(err.message, "SECRET"));
	}
}

static void test_corrupt_files_name_file_and_line(void **state)
{
	static const struct {
		const char *text;
		const char *where; /* ":LINE:" after the path */
		const char *what;
	} cases[] = {
		{ "[default]\nregion = eu-west-1\n\nthis line is wrong\n", ":4:", "key = value" },
		{ "region = eu-west-1\n", ":1:", "no section headers" },
		{ "# comment\n\n[default]\n[default]\n", ":4:", "section 'default' already exists" },
		{ "[default]\nregion = a\nREGION = b\n", ":3:", "key 'region' already set" },
		{ "[default]\n= x\n", ":2:", "key = value" },
		{ "[services s]\nsqs =\n  endpoint_url = http://h:1\n\n  bogus\n", ":5:",
		  "indented block" },
		{ "[default\nregion = a\n", ":1:", "no section headers" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct aws_error err;
		char want[400];

		write_file(cfg_path, cases[i].text);
		snprintf(want, sizeof want, "%s%s", cfg_path, cases[i].where);
		load_fails(NULL, want, &err);
		if (!strstr(err.message, cases[i].what))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.message, cases[i].what);
	}
	/* the credentials file is named when it is the broken one */
	write_file(cfg_path, "[default]\n");
	write_file(cred_path, "[default]\naws_access_key_id = AK\nnonsense\n");
	{
		struct aws_error err;
		char want[400];
		snprintf(want, sizeof want, "%s:3:", cred_path);
		load_fails(NULL, want, &err);
		assert_null(strstr(err.message, "AK")); /* no values quoted */
	}
}

/* A file under ~ is shown as configured (~/...) in messages. */
static void test_tilde_paths(void **state)
{
	char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	char path[400];
	struct aws_error err;
	struct aws_config c;
	(void)state;

	setenv("HOME", dir, 1);
	snprintf(path, sizeof path, "%s/tilde.ini", dir);
	write_file(path, "[default]\nregion = from-tilde\n");
	setenv("AWS_CONFIG_FILE", "~/tilde.ini", 1);
	load_ok(NULL, NULL, &c);
	assert_string_equal(c.region, "from-tilde");
	aws_config_cleanup(&c);
	write_file(path, "[default]\nregion = a\n\n\n[x\n");
	load_fails(NULL, "~/tilde.ini:5:", &err);
	unlink(path);
	if (home)
		setenv("HOME", home, 1);
	free(home);
}

static void test_ini_syntax_like_botocore(void **state)
{
	struct aws_config c;
	(void)state;

	write_file(cfg_path, "# leading comment\n"
			     "; another\n"
			     "\n"
			     "[DEFAULT]\n"
			     "ca_bundle = /from/defaults.pem\n"
			     "[default]  \n"
			     "   # indented comment\n"
			     "Region:eu-central-1\n"           /* ':' and upper case key */
			     "max_attempts   =   7   \n"
			     "endpoint_url = http://h:1/x # not a comment\n"
			     "[profile other]\n"
			     "region = other-1\n"
			     "ca_bundle = /own.pem\n");
	load_ok(NULL, NULL, &c);
	assert_string_equal(c.region, "eu-central-1");
	assert_int_equal(c.max_attempts, 7);
	assert_string_equal(c.endpoint_url, "http://h:1/x # not a comment");
	assert_string_equal(c.ca_bundle, "/from/defaults.pem");
	aws_config_cleanup(&c);
	load_ok("other", NULL, &c);
	assert_string_equal(c.ca_bundle, "/own.pem");
	aws_config_cleanup(&c);

	/* CRLF files */
	write_file(cfg_path, "[default]\r\nregion = crlf-1\r\n");
	load_ok(NULL, NULL, &c);
	assert_string_equal(c.region, "crlf-1");
	aws_config_cleanup(&c);
}

static void test_ca_bundle_and_max_attempts(void **state)
{
	struct aws_config c;
	struct aws_error err;
	(void)state;

	write_file(cfg_path, "[default]\nca_bundle = /p.pem\nmax_attempts = 4\n");
	load_ok(NULL, NULL, &c);
	assert_string_equal(c.ca_bundle, "/p.pem");
	assert_int_equal(c.max_attempts, 4);
	aws_config_cleanup(&c);
	setenv("AWS_CA_BUNDLE", "/env.pem", 1);
	setenv("AWS_MAX_ATTEMPTS", "9", 1);
	load_ok(NULL, NULL, &c);
	assert_string_equal(c.ca_bundle, "/env.pem");
	assert_int_equal(c.max_attempts, 9);
	aws_config_cleanup(&c);
	setenv("AWS_MAX_ATTEMPTS", "three", 1);
	load_fails(NULL, "max_attempts", &err);
	setenv("AWS_MAX_ATTEMPTS", "0", 1);
	load_fails(NULL, "max_attempts", &err);
}

static void test_services_section(void **state)
{
	struct aws_config c;
	struct aws_error err;
	(void)state;

	write_file(cfg_path, "[default]\n"
			     "region = us-east-1\n"
			     "services = local\n"
			     "endpoint_url = http://127.0.0.1:9999\n"
			     "[services local]\n"
			     "sqs =\n"
			     "  endpoint_url = http://127.0.0.1:4566\n"
			     "\n"
			     "  # a comment inside the block\n"
			     "  Other_Key = kept\n"
			     "dynamodb_streams =\n"
			     "    endpoint_url=http://127.0.0.1:4567\n"
			     "    endpoint_url = http://127.0.0.1:4568\n" /* later wins */
			     "[services unused]\n"
			     "sqs =\n"
			     "  endpoint_url = http://wrong\n");
	load_ok(NULL, NULL, &c);
	assert_int_equal(c.nendpoints, 2);
	assert_string_equal(aws_config_endpoint(&c, "sqs", "SQS"), "http://127.0.0.1:4566");
	assert_string_equal(aws_config_endpoint(&c, "dynamodb_streams", "DYNAMODB_STREAMS"),
			    "http://127.0.0.1:4568");
	/* no entry: the profile's endpoint_url */
	assert_string_equal(aws_config_endpoint(&c, "iam", "IAM"), "http://127.0.0.1:9999");
	/* the environment beats the file; the service's variable beats the global one */
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1000", 1);
	assert_string_equal(aws_config_endpoint(&c, "sqs", "SQS"), "http://127.0.0.1:1000");
	setenv("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:2000", 1);
	assert_string_equal(aws_config_endpoint(&c, "sqs", "SQS"), "http://127.0.0.1:2000");
	assert_string_equal(aws_config_endpoint(&c, "iam", "IAM"), "http://127.0.0.1:1000");
	aws_config_cleanup(&c);

	/* a profile pointing at a missing section */
	write_file(cfg_path, "[default]\nservices = gone\n");
	load_fails(NULL, "[services gone]", &err);
}

static void test_ignore_configured_endpoints(void **state)
{
	struct aws_config c;
	(void)state;

	write_file(cfg_path, "[default]\nendpoint_url = http://127.0.0.1:9999\n"
			     "[profile ign]\nendpoint_url = http://127.0.0.1:9999\n"
			     "ignore_configured_endpoint_urls = TRUE\nservices = gone\n");
	setenv("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:2000", 1);
	setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
	load_ok(NULL, NULL, &c);
	assert_int_equal(c.ignore_configured_endpoints, 1);
	assert_null(aws_config_endpoint(&c, "sqs", "SQS"));
	assert_null(aws_config_endpoint(&c, "iam", "IAM"));
	aws_config_cleanup(&c);

	/* from the profile (the missing services section does not matter then) */
	unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	load_ok("ign", NULL, &c);
	assert_int_equal(c.ignore_configured_endpoints, 1);
	assert_null(aws_config_endpoint(&c, "sqs", "SQS"));
	aws_config_cleanup(&c);

	/* the environment, even "false", beats the profile */
	setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false", 1);
	{
		struct aws_error err;
		load_fails("ign", "[services gone]", &err);
	}
	write_file(cfg_path, "[default]\nendpoint_url = http://127.0.0.1:9999\n"
			     "ignore_configured_endpoint_urls = true\n");
	load_ok(NULL, NULL, &c);
	assert_int_equal(c.ignore_configured_endpoints, 0);
	assert_string_equal(aws_config_endpoint(&c, "sqs", "SQS"), "http://127.0.0.1:2000");
	unsetenv("AWS_ENDPOINT_URL_SQS");
	assert_string_equal(aws_config_endpoint(&c, "sqs", "SQS"), "http://127.0.0.1:9999");
	aws_config_cleanup(&c);
}

static void test_list_profiles(void **state)
{
	char **names = NULL;
	size_t n = 0;
	struct aws_error err = { 0 };
	static const char *const want[] = { "a", "b", "c", "default", "profile z" };
	(void)state;

	assert_int_equal(aws_config_list_profiles(&names, &n, &err), 0);
	assert_int_equal(n, 0);
	free(names);

	write_file(cfg_path, "[default]\n[profile b]\n[profile a]\n[services x]\n[other]\n"
			     "[sso-session s]\n");
	write_file(cred_path, "[c]\n[a]\n[default]\n[profile z]\n");
	assert_int_equal(aws_config_list_profiles(&names, &n, &err), 0);
	assert_int_equal(n, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(names[i], want[i]);
		free(names[i]);
	}
	free(names);

	write_file(cred_path, "oops\n");
	assert_int_equal(aws_config_list_profiles(&names, &n, &err), -1);
	assert_string_equal(err.code, AWS_ERR_CONFIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_credentials_win, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_partial_credentials, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credentials_file_over_config_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_section_names_per_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_profile_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_region_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credential_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credential_process_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_files_name_file_and_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tilde_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ini_syntax_like_botocore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ca_bundle_and_max_attempts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_services_section, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ignore_configured_endpoints, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_profiles, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
