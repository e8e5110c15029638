/* test_sigv4.c: SigV4 against the AWS test suite (one test per case) plus edge cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/client/buf.h"
#include "aws/client/sigv4.h"

/* The suite's fixed inputs (see ../shared/testdata/sigv4/README.md). */
#define SUITE_AK "AKIDEXAMPLE"
#define SUITE_SK "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SUITE_WHEN ((time_t)1440938160) /* 20150830T123600Z */
#define SUITE_TOKEN "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"
#define MAX_HDRS 32

struct suite_case {
	const char *name;   /* case name, also the file stem */
	const char *dir;    /* folder relative to the suite root */
	const char *token;  /* session token the harness adds as a header, or NULL */
	int stale_sreq;     /* the .sreq embeds another case's signature */
};

static const struct suite_case CASES[] = {
	{"get-header-key-duplicate", "get-header-key-duplicate", NULL, 0},
	{"get-header-value-multiline", "get-header-value-multiline", NULL, 0},
	{"get-header-value-order", "get-header-value-order", NULL, 0},
	{"get-header-value-trim", "get-header-value-trim", NULL, 0},
	{"get-unreserved", "get-unreserved", NULL, 0},
	{"get-utf8", "get-utf8", NULL, 0},
	{"get-vanilla", "get-vanilla", NULL, 0},
	{"get-vanilla-empty-query-key", "get-vanilla-empty-query-key", NULL, 0},
	{"get-vanilla-query", "get-vanilla-query", NULL, 0},
	{"get-vanilla-query-order-encoded", "get-vanilla-query-order-encoded", NULL, 0},
	{"get-vanilla-query-order-key", "get-vanilla-query-order-key", NULL, 0},
	{"get-vanilla-query-order-key-case", "get-vanilla-query-order-key-case", NULL, 0},
	{"get-vanilla-query-order-value", "get-vanilla-query-order-value", NULL, 0},
	{"get-vanilla-query-unreserved", "get-vanilla-query-unreserved", NULL, 0},
	{"get-vanilla-utf8-query", "get-vanilla-utf8-query", NULL, 0},
	/* the .req lacks the token header: the harness adds it (the .creq signs it) */
	{"get-vanilla-with-session-token", "get-vanilla-with-session-token", SUITE_TOKEN, 1},
	{"get-relative", "normalize-path/get-relative", NULL, 0},
	{"get-relative-relative", "normalize-path/get-relative-relative", NULL, 0},
	{"get-slash", "normalize-path/get-slash", NULL, 0},
	{"get-slash-dot-slash", "normalize-path/get-slash-dot-slash", NULL, 0},
	{"get-slash-pointless-dot", "normalize-path/get-slash-pointless-dot", NULL, 0},
	{"get-slashes", "normalize-path/get-slashes", NULL, 0},
	{"get-space", "normalize-path/get-space", NULL, 0},
	{"get-special-character", "normalize-path/get-special-character", NULL, 0},
	{"post-header-key-case", "post-header-key-case", NULL, 0},
	{"post-header-key-sort", "post-header-key-sort", NULL, 0},
	{"post-header-value-case", "post-header-value-case", NULL, 0},
	{"post-sts-header-after", "post-sts-token/post-sts-header-after", NULL, 0},
	{"post-sts-header-before", "post-sts-token/post-sts-header-before", NULL, 0},
	{"post-vanilla", "post-vanilla", NULL, 0},
	{"post-vanilla-empty-query-value", "post-vanilla-empty-query-value", NULL, 0},
	{"post-vanilla-query", "post-vanilla-query", NULL, 0},
	{"post-x-www-form-urlencoded", "post-x-www-form-urlencoded", NULL, 0},
	{"post-x-www-form-urlencoded-parameters", "post-x-www-form-urlencoded-parameters", NULL,
	 0},
};
#define NCASES (sizeof(CASES) / sizeof(CASES[0]))

/* ---- harness helpers ------------------------------------------------------------------- */

static void suite_root(char *out, size_t n)
{
	const char *root = getenv("ROOT");

	snprintf(out, n, "%s/../shared/testdata/sigv4", root && *root ? root : ".");
}

/* Read a whole case file; caller frees. Fails the test clearly when it is missing. */
static char *read_case_file(const struct suite_case *c, const char *ext)
{
	char root[1024], path[2048];
	struct aws_buf b;
	char chunk[4096];
	size_t n;
	FILE *f;

	suite_root(root, sizeof(root));
	snprintf(path, sizeof(path), "%s/%s/%s.%s", root, c->dir, c->name, ext);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("SigV4 suite file missing: %s (the suite lives in "
			 "${ROOT:-.}/../shared/testdata/sigv4; run from the repo root or set ROOT)",
			 path);
	aws_buf_init(&b, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(aws_buf_add(&b, chunk, n), 0);
	fclose(f);
	return aws_buf_take(&b);
}

/* A parsed .req: pointers into the file text, which parse_req edits in place. */
struct parsed_req {
	char *method, *path, *query;
	struct aws_sigv4_header hdrs[MAX_HDRS];
	size_t nhdrs;
	char *body;
	size_t body_len;
};

/*
 * Parse the suite's .req format: "METHOD target HTTP/1.1", "Name:value" lines (a folded
 * line starts with blanks: its newline becomes a space and the signer collapses the run),
 * an empty line, the body. The target is everything between the first and the last space
 * of the request line (get-space has a space in it). The harness maps the raw .req path to
 * the wire path deliberately: the suite's .creq is the raw path encoded ONCE, which is what
 * our non-S3 signer produces when handed the raw path as the wire path (it encodes the wire
 * path once more). A real client's wire path is already encoded, hence double encoding in
 * production (see test_double_encoding_of_wire_path).
 */
static void parse_req(char *text, struct parsed_req *r)
{
	char *line_end, *sp1, *sp2, *p, *q;

	memset(r, 0, sizeof(*r));
	line_end = strchr(text, '\n');
	assert_non_null(line_end);
	*line_end = '\0';
	sp1 = strchr(text, ' ');
	sp2 = strrchr(text, ' ');
	assert_true(sp1 && sp2 && sp2 > sp1);
	*sp1 = '\0';
	*sp2 = '\0';
	r->method = text;
	r->path = sp1 + 1;
	q = strchr(r->path, '?');
	if (q) {
		*q = '\0';
		r->query = q + 1;
	}
	/* unfold: a newline followed by a blank continues the previous header */
	for (p = line_end + 1; *p && !(p[0] == '\n' && p[-1] == '\n'); p++)
		if (p[0] == '\n' && (p[1] == ' ' || p[1] == '\t'))
			p[0] = ' ';
	p = line_end + 1;
	while (*p && *p != '\n') {
		char *colon, *eol = strchr(p, '\n');

		colon = strchr(p, ':');
		assert_non_null(colon);
		*colon = '\0';
		assert_true(r->nhdrs < MAX_HDRS - 1);
		r->hdrs[r->nhdrs].name = p;
		r->hdrs[r->nhdrs].value = colon + 1;
		r->nhdrs++;
		if (!eol)
			return;
		*eol = '\0';
		p = eol + 1;
	}
	if (*p == '\n') {
		r->body = p + 1;
		r->body_len = strlen(r->body);
	}
}

static void sign_suite_case(void **state)
{
	const struct suite_case *c = *state;
	char *req_text = read_case_file(c, "req");
	char *creq = read_case_file(c, "creq");
	char *sts = read_case_file(c, "sts");
	char *authz = read_case_file(c, "authz");
	char *sreq = read_case_file(c, "sreq");
	struct parsed_req r;
	struct aws_sigv4_request req;
	struct aws_sigv4_params p = {SUITE_AK, SUITE_SK, "us-east-1", "service", SUITE_WHEN};
	struct aws_sigv4_result res;
	struct aws_sigv4_auth parsed;
	char line[1024];

	parse_req(req_text, &r);
	if (c->token) {
		r.hdrs[r.nhdrs].name = "X-Amz-Security-Token";
		r.hdrs[r.nhdrs].value = c->token;
		r.nhdrs++;
	}
	memset(&req, 0, sizeof(req));
	req.method = r.method;
	req.path = r.path;
	req.query = r.query;
	req.headers = r.hdrs;
	req.nheaders = r.nhdrs;
	req.body = r.body;
	req.body_len = r.body_len;
	assert_int_equal(aws_sigv4_sign(&req, &p, &res), 0);
	assert_string_equal(res.canonical_request, creq);
	assert_string_equal(res.string_to_sign, sts);
	assert_string_equal(res.authorization, authz);
	assert_string_equal(res.signature, strrchr(authz, '=') + 1);

	/* the .sreq carries the same Authorization line (except the one stale file) */
	snprintf(line, sizeof(line), "Authorization: %s", authz);
	if (c->stale_sreq)
		assert_null(strstr(sreq, line));
	else
		assert_non_null(strstr(sreq, line));

	/* a verifier parsing our header and re-signing with the client's list agrees */
	assert_int_equal(aws_sigv4_parse_authorization(res.authorization, &parsed), 0);
	assert_string_equal(parsed.signed_headers, res.signed_headers);
	req.signed_headers = parsed.signed_headers;
	{
		struct aws_sigv4_result again;

		assert_int_equal(aws_sigv4_sign(&req, &p, &again), 0);
		assert_string_equal(again.signature, parsed.signature);
		aws_sigv4_result_cleanup(&again);
	}

	aws_sigv4_result_cleanup(&res);
	free(req_text);
	free(creq);
	free(sts);
	free(authz);
	free(sreq);
}

/* ---- edge cases ------------------------------------------------------------------------ */

/* Sign a GET with host + x-amz-date and return the canonical request; caller frees. */
static char *creq_of(const char *path, const char *query)
{
	struct aws_sigv4_header h[] = {
		{"Host", "example.amazonaws.com"},
		{"X-Amz-Date", "20150830T123600Z"},
	};
	struct aws_sigv4_request req = {"GET", path, query, h, 2, NULL, NULL, NULL, 0, 0};
	struct aws_sigv4_params p = {SUITE_AK, SUITE_SK, "us-east-1", "service", SUITE_WHEN};
	struct aws_sigv4_result res;
	char *out;

	assert_int_equal(aws_sigv4_sign(&req, &p, &res), 0);
	out = res.canonical_request;
	res.canonical_request = NULL;
	aws_sigv4_result_cleanup(&res);
	return out;
}

/* The second line (canonical URI) or third (canonical query) of a canonical request. */
static void assert_creq_line(const char *path, const char *query, int lineno,
			     const char *want)
{
	char *creq = creq_of(path, query);
	char *s = creq, *e;

	for (int i = 0; i < lineno; i++) {
		s = strchr(s, '\n');
		assert_non_null(s);
		s++;
	}
	e = strchr(s, '\n');
	assert_non_null(e);
	*e = '\0';
	assert_string_equal(s, want);
	free(creq);
}

static void test_unicode_paths(void **state)
{
	(void)state;
	/* raw UTF-8 on the "wire" is encoded once; the real, encoded wire path twice */
	assert_creq_line("/\xe1\x88\xb4", NULL, 1, "/%E1%88%B4");
	assert_creq_line("/%E1%88%B4", NULL, 1, "/%25E1%2588%25B4");
	assert_creq_line("/caf%C3%A9/men%C3%BC", NULL, 1, "/caf%25C3%25A9/men%25C3%25BC");
}

static void test_reserved_characters(void **state)
{
	(void)state;
	assert_creq_line("/a:b@c/$d!*'()+,;=", NULL, 1,
			 "/a%3Ab%40c/%24d%21%2A%27%28%29%2B%2C%3B%3D");
	assert_creq_line("/-._~AZaz09", NULL, 1, "/-._~AZaz09");
	assert_creq_line("", NULL, 1, "/");
	assert_creq_line("/a/./b/../c//d/", NULL, 1, "/a/c/d/");
	assert_creq_line("/../..", NULL, 1, "/");
	assert_creq_line("/a/b/.", NULL, 1, "/a/b");
	/* query: decoded then re-encoded, '+' is a literal plus, bad escapes are data */
	assert_creq_line("/", "k=a:b/c?d", 2, "k=a%3Ab%2Fc%3Fd");
	assert_creq_line("/", "k=a+b%20c%2fd%zz%4", 2, "k=a%2Bb%20c%2Fd%25zz%254");
	assert_creq_line("/", "%41%7E=%7e", 2, "A~=~");
}

static void test_uri_encode(void **state)
{
	struct aws_buf b;
	(void)state;
	aws_buf_init(&b, 0);
	assert_int_equal(aws_sigv4_uri_encode(&b, "a b/c~\xff", 7, 1), 0);
	assert_string_equal(aws_buf_str(&b), "a%20b/c~%FF");
	aws_buf_reset(&b);
	assert_int_equal(aws_sigv4_uri_encode(&b, "a/b=", 4, 0), 0);
	assert_string_equal(aws_buf_str(&b), "a%2Fb%3D");
	aws_buf_reset(&b);
	assert_int_equal(aws_sigv4_uri_encode(&b, "", 0, 0), 0);
	assert_string_equal(aws_buf_str(&b), "");
	aws_buf_cleanup(&b);
}

/* A Lambda Invoke path carries an encoded ARN: the signer encodes it again (%3A -> %253A).
 * Expected signature computed with botocore 1.43 SigV4Auth for the same inputs. */
static void test_double_encoding_of_wire_path(void **state)
{
	struct aws_sigv4_header h[] = {
		{"Content-Type", "application/json"},
		{"Host", "lambda.us-east-1.amazonaws.com"},
		{"X-Amz-Date", "20150830T123600Z"},
	};
	struct aws_sigv4_request req = {
		"POST",
		"/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction"
		"%3Aorder-writer/invocations",
		NULL, h, 3, NULL, NULL, "{\"k\":1}", 7, 0};
	struct aws_sigv4_params p = {SUITE_AK, SUITE_SK, "us-east-1", "lambda", SUITE_WHEN};
	struct aws_sigv4_result res;
	(void)state;

	assert_int_equal(aws_sigv4_sign(&req, &p, &res), 0);
	assert_non_null(strstr(res.canonical_request,
			       "\n/2015-03-31/functions/arn%253Aaws%253Alambda%253Aus-east-1%253A"
			       "000000000000%253Afunction%253Aorder-writer/invocations\n"));
	assert_string_equal(res.signature,
			    "40cc45f87a3018a74953c806f79ba2c3dc20c7d33cb91dd35090c52dbd841418");
	aws_sigv4_result_cleanup(&res);

	/* S3 rules: encoded once, not normalised */
	req.s3 = 1;
	req.path = "/bucket//a%3Ab/./c d";
	assert_int_equal(aws_sigv4_sign(&req, &p, &res), 0);
	assert_non_null(strstr(res.canonical_request, "\n/bucket//a%3Ab/./c%20d\n"));
	aws_sigv4_result_cleanup(&res);
}

static void test_query_repeated_and_empty(void **state)
{
	(void)state;
	assert_creq_line("/", "b=2&a=3&a=1&a=", 2, "a=&a=1&a=3&b=2");
	assert_creq_line("/", "acl", 2, "acl=");
	assert_creq_line("/", "x=&y", 2, "x=&y=");
	assert_creq_line("/", "&&a=1&", 2, "a=1");
	assert_creq_line("/", "", 2, "");
	assert_creq_line("/", "a=b=c", 2, "a=b%3Dc");
	/* sorted by encoded key bytes: uppercase before lowercase */
	assert_creq_line("/", "b=1&B=2&a-b=3&a=4", 2, "B=2&a=4&a-b=3&b=1");
}

static void test_header_canonicalisation(void **state)
{
	struct aws_sigv4_header h[] = {
		{"X-Amz-Date", "20150830T123600Z"},
		{"User-Agent", "cleanops/0.1"},
		{"Connection", "keep-alive"},
		{"Authorization", "AWS4-HMAC-SHA256 old"},
		{"x-b", " \t one  \t two \r\n three  "},
		{"Host", "example.amazonaws.com"},
		{"X-B", "four"},
		{"X-Amzn-Trace-Id", "Root=1"},
		{"x-empty", ""},
	};
	struct aws_sigv4_request req = {"GET", "/", NULL, h, 9, NULL, NULL, NULL, 0, 0};
	struct aws_sigv4_params p = {SUITE_AK, SUITE_SK, "us-east-1", "service", SUITE_WHEN};
	struct aws_sigv4_result res;
	(void)state;

	assert_int_equal(aws_sigv4_sign(&req, &p, &res), 0);
	assert_string_equal(res.signed_headers, "host;x-amz-date;x-b;x-empty");
	assert_string_equal(res.canonical_request,
			    "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n"
			    "x-b:one two three,four\nx-empty:\n\nhost;x-amz-date;x-b;x-empty\n"
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	aws_sigv4_result_cleanup(&res);
}

static void test_signed_headers_given(void **state)
{
	struct aws_sigv4_header h[] = {
		{"Host", "example.amazonaws.com"},
		{"User-Agent", "aws-cli/1.0"},
		{"X-Amz-Date", "20150830T123600Z"},
		{"X-Extra", "added by a proxy"},
	};
	struct aws_sigv4_request req = {"GET", "/", NULL, h, 4, "host;user-agent;x-amz-date",
					NULL, NULL, 0, 0};
	struct aws_sigv4_params p = {SUITE_AK, SUITE_SK, "us-east-1", "service", SUITE_WHEN};
	struct aws_sigv4_result res, other;
	(void)state;

	assert_int_equal(aws_sigv4_sign(&req, &p, &res), 0);
	assert_string_equal(res.signed_headers, "host;user-agent;x-amz-date");
	assert_non_null(strstr(res.canonical_request, "\nuser-agent:aws-cli/1.0\n"));
	assert_null(strstr(res.canonical_request, "x-extra"));

	/* the default list leaves user-agent out, so the signature differs */
	req.signed_headers = NULL;
	assert_int_equal(aws_sigv4_sign(&req, &p, &other), 0);
	assert_string_equal(other.signed_headers, "host;x-amz-date;x-extra");
	assert_string_not_equal(other.signature, res.signature);
	aws_sigv4_result_cleanup(&other);
	aws_sigv4_result_cleanup(&res);

	/* a listed header that is absent is bad input; out is left untouched */
	req.signed_headers = "host;x-amz-content-sha256;x-amz-date";
	memset(&res, 0x5a, sizeof(res));
	assert_int_equal(aws_sigv4_sign(&req, &p, &res), -1);
	assert_int_equal((unsigned char)res.signature[0], 0x5a);
}

static void test_session_token_and_payload_hash(void **state)
{
	struct aws_sigv4_header h[] = {
		{"Host", "sqs.us-east-1.amazonaws.com"},
		{"X-Amz-Date", "20150830T123600Z"},
		{"X-Amz-Security-Token", "FQoGZXIvYXdzEXAMPLE//token=="},
	};
	struct aws_sigv4_request req = {"POST", "/", NULL, h, 3, NULL, "UNSIGNED-PAYLOAD",
					"ignored", 7, 0};
	struct aws_sigv4_params p = {"ASIAEXAMPLE", SUITE_SK, "us-east-1", "sqs", SUITE_WHEN};
	struct aws_sigv4_result res;
	(void)state;

	assert_int_equal(aws_sigv4_sign(&req, &p, &res), 0);
	assert_string_equal(res.signed_headers, "host;x-amz-date;x-amz-security-token");
	assert_non_null(strstr(res.canonical_request,
			       "\nx-amz-security-token:FQoGZXIvYXdzEXAMPLE//token==\n"));
	assert_non_null(strstr(res.canonical_request, "\nUNSIGNED-PAYLOAD"));
	assert_non_null(strstr(res.string_to_sign, "\n20150830/us-east-1/sqs/aws4_request\n"));
	assert_int_equal(strncmp(res.authorization,
				 "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20150830/us-east-1/sqs/"
				 "aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, "
				 "Signature=", 123),
			 0);
	aws_sigv4_result_cleanup(&res);
}

static void test_bad_input(void **state)
{
	struct aws_sigv4_header h[] = {{"Host", "h"}};
	struct aws_sigv4_request req = {"GET", "/", NULL, h, 1, NULL, NULL, NULL, 0, 0};
	struct aws_sigv4_params p = {SUITE_AK, SUITE_SK, "us-east-1", "service", SUITE_WHEN};
	struct aws_sigv4_result res;
	(void)state;

	req.method = NULL;
	assert_int_equal(aws_sigv4_sign(&req, &p, &res), -1);
	req.method = "GET";
	req.nheaders = 0;
	assert_int_equal(aws_sigv4_sign(&req, &p, &res), -1);
	req.nheaders = 1;
	p.region = "";
	assert_int_equal(aws_sigv4_sign(&req, &p, &res), -1);
	p.region = "us-east-1";
	p.secret_access_key = NULL;
	assert_int_equal(aws_sigv4_sign(&req, &p, &res), -1);
	p.secret_access_key = SUITE_SK;
	assert_int_equal(aws_sigv4_sign(&req, &p, &res), 0);
	aws_sigv4_result_cleanup(&res);
	assert_null(res.canonical_request);
}

static void test_many_headers_and_pairs(void **state)
{
	/* more than fit on the signer's stack: the heap path must agree */
	struct aws_sigv4_header h[70];
	char names[70][16];
	struct aws_buf q;
	struct aws_sigv4_request req = {"GET", "/", NULL, h, 70, NULL, NULL, NULL, 0, 0};
	struct aws_sigv4_params p = {SUITE_AK, SUITE_SK, "us-east-1", "service", SUITE_WHEN};
	struct aws_sigv4_result res;
	(void)state;

	aws_buf_init(&q, 0);
	for (int i = 0; i < 70; i++) {
		snprintf(names[i], sizeof(names[i]), "X-H%02d", 69 - i);
		h[i].name = names[i];
		h[i].value = "v";
		assert_int_equal(aws_buf_printf(&q, "%sk%02d=%d", i ? "&" : "", 69 - i, i), 0);
	}
	req.query = aws_buf_str(&q);
	assert_int_equal(aws_sigv4_sign(&req, &p, &res), 0);
	assert_int_equal(strncmp(res.signed_headers, "x-h00;x-h01;x-h02;", 18), 0);
	assert_non_null(strstr(res.canonical_request, "\nk00=69&k01=68&"));
	aws_sigv4_result_cleanup(&res);
	aws_buf_cleanup(&q);
}

/* Thread body: sign the Lambda request 500 times; return how many signatures differed. */
static void *sign_many(void *arg)
{
	struct aws_sigv4_header h[] = {
		{"Content-Type", "application/json"},
		{"Host", "lambda.us-east-1.amazonaws.com"},
		{"X-Amz-Date", "20150830T123600Z"},
	};
	struct aws_sigv4_request req = {
		"POST",
		"/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction"
		"%3Aorder-writer/invocations",
		NULL, h, 3, NULL, NULL, "{\"k\":1}", 7, 0};
	struct aws_sigv4_params p = {SUITE_AK, SUITE_SK, "us-east-1", "lambda", SUITE_WHEN};
	struct aws_sigv4_result res;
	size_t *bad = arg;

	for (int i = 0; i < 500; i++) {
		if (aws_sigv4_sign(&req, &p, &res)) {
			(*bad)++;
			continue;
		}
		if (strcmp(res.signature, "40cc45f87a3018a74953c806f79ba2c3dc20c7d33cb91dd35090c52d"
					  "bd841418") != 0)
			(*bad)++;
		aws_sigv4_result_cleanup(&res);
	}
	return NULL;
}

/* The signer keeps no state: concurrent callers get the same answers. */
static void test_threads(void **state)
{
	pthread_t t[4];
	size_t bad[4] = {0, 0, 0, 0};
	(void)state;

	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, sign_many, &bad[i]), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(bad[i], 0);
	}
}

static void test_parse_authorization(void **state)
{
	struct aws_sigv4_auth a;
	static const char *const bad[] = {
		"",
		"AWS4-HMAC-SHA1 Credential=AK/20150830/us-east-1/s/aws4_request, SignedHeaders=host, "
		"Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
		"AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/s/aws4_request, SignedHeaders=host",
		"AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/aws4_request, SignedHeaders=host, "
		"Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
		"AWS4-HMAC-SHA256 Credential=AK/2015083/us-east-1/s/aws4_request, SignedHeaders=host, "
		"Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
		"AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/s/aws4_request/x, "
		"SignedHeaders=host, "
		"Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
		"AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/s/aws4_request, SignedHeaders=host, "
		"Signature=5FA00FA31553B73EBF1942676E86291E8372FF2A2260956D9B8AAE1D763FBF31",
		"AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/s/aws4_request, SignedHeaders=host, "
		"Signature=5fa00f",
		"AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/s/aws4_request, SignedHeaders=, "
		"Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
		"AWS4-HMAC-SHA256 Credential=/20150830/us-east-1/s/aws4_request, SignedHeaders=host, "
		"Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
		"AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/s/aws4_request, SignedHeaders=host, "
		"Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31, Extra=1",
		"AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/s/aws4_request, "
		"Credential=AK/20150830/us-east-1/s/aws4_request, SignedHeaders=host, "
		"Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
		"AWS4-HMAC-SHA256Credential=AK/20150830/us-east-1/s/aws4_request, SignedHeaders=host, "
		"Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
		"AWS4-HMAC-SHA256 garbage",
	};
	(void)state;

	assert_int_equal(
		aws_sigv4_parse_authorization(
			"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
			"aws4_request, SignedHeaders=host;x-amz-date, "
			"Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
			&a),
		0);
	assert_string_equal(a.access_key_id, "AKIDEXAMPLE");
	assert_string_equal(a.date, "20150830");
	assert_string_equal(a.region, "us-east-1");
	assert_string_equal(a.service, "service");
	assert_string_equal(a.signed_headers, "host;x-amz-date");
	assert_string_equal(a.signature,
			    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	/* no spaces after commas, fields in another order */
	assert_int_equal(
		aws_sigv4_parse_authorization(
			"AWS4-HMAC-SHA256 SignedHeaders=host,Signature="
			"5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31,"
			"Credential=AK/20150830/eu-west-1/sqs/aws4_request",
			&a),
		0);
	assert_string_equal(a.region, "eu-west-1");
	assert_string_equal(a.service, "sqs");
	assert_string_equal(a.signed_headers, "host");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&a, 0x5a, sizeof(a));
		if (aws_sigv4_parse_authorization(bad[i], &a) != -1)
			fail_msg("accepted malformed Authorization #%zu: %s", i, bad[i]);
		assert_int_equal((unsigned char)a.date[0], 0x5a);
	}
	assert_int_equal(aws_sigv4_parse_authorization(NULL, &a), -1);
}

static void test_dates_and_hash(void **state)
{
	char d[17], h[65];
	time_t t = 0;
	(void)state;

	aws_sigv4_amz_date(SUITE_WHEN, d);
	assert_string_equal(d, "20150830T123600Z");
	assert_int_equal(aws_sigv4_parse_amz_date("20150830T123600Z", &t), 0);
	assert_int_equal(t, SUITE_WHEN);
	assert_int_equal(aws_sigv4_parse_amz_date("20240229T235959Z", &t), 0);
	aws_sigv4_amz_date(t, d);
	assert_string_equal(d, "20240229T235959Z");
	assert_int_equal(aws_sigv4_parse_amz_date("20230229T000000Z", &t), -1);
	assert_int_equal(aws_sigv4_parse_amz_date("20150830T123600", &t), -1);
	assert_int_equal(aws_sigv4_parse_amz_date("2015-08-30T12:36:00Z", &t), -1);
	assert_int_equal(aws_sigv4_parse_amz_date("20151330T123600Z", &t), -1);
	assert_int_equal(aws_sigv4_parse_amz_date("20150830T246000Z", &t), -1);
	assert_int_equal(aws_sigv4_parse_amz_date("2015083OT123600Z", &t), -1);
	assert_int_equal(aws_sigv4_parse_amz_date(NULL, &t), -1);

	aws_sigv4_sha256_hex("", 0, h);
	assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	aws_sigv4_sha256_hex("Param1=value1", 13, h);
	assert_string_equal(h, "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
}

int main(void)
{
	static const struct CMUnitTest edge[] = {
		cmocka_unit_test(test_unicode_paths),
		cmocka_unit_test(test_reserved_characters),
		cmocka_unit_test(test_uri_encode),
		cmocka_unit_test(test_double_encoding_of_wire_path),
		cmocka_unit_test(test_query_repeated_and_empty),
		cmocka_unit_test(test_header_canonicalisation),
		cmocka_unit_test(test_signed_headers_given),
		cmocka_unit_test(test_session_token_and_payload_hash),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_many_headers_and_pairs),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_parse_authorization),
		cmocka_unit_test(test_dates_and_hash),
	};
	struct CMUnitTest suite[NCASES];
	int failed;

	/* one test per suite case, named after the case */
	for (size_t i = 0; i < NCASES; i++) {
		memset(&suite[i], 0, sizeof(suite[i]));
		suite[i].name = CASES[i].name;
		suite[i].test_func = sign_suite_case;
		suite[i].initial_state = (void *)&CASES[i];
	}
	failed = _cmocka_run_group_tests("sigv4_suite", suite, NCASES, NULL, NULL);
	failed += cmocka_run_group_tests_name("sigv4_edge_cases", edge, NULL, NULL);
	return failed ? 1 : 0;
}
