/* fuzz_sigv4.c: the SigV4 canonicaliser and its parsers (aws/client/sigv4.c).
 * Input (text lines): METHOD, PATH, QUERY ("" = none), SIGNED_HEADERS ("" = sign all),
 * then "Name: value" header lines up to an empty line, then the body. Every header value
 * is also fed to the Authorization and X-Amz-Date parsers. */
#include <stdio.h>
#include <string.h>

#include "aws/client/buf.h"
#include "aws/client/sigv4.h"
#include "fuzz.h"

#define MAX_HEADERS 64

/* The next line of *p (cut in place; *p moves past it), or NULL at the end. */
static char *next_line(char **p, char *end)
{
	char *line = *p, *nl;

	if (line >= end)
		return NULL;
	nl = memchr(line, '\n', (size_t)(end - line));
	if (nl) {
		*nl = '\0';
		*p = nl + 1;
	} else {
		*p = end;
	}
	return line;
}

/* The next line as a field: def when the input has ended or the line is empty. */
static const char *field(char **p, char *end, const char *def)
{
	char *line = next_line(p, end);

	return line && *line ? line : def;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aws_sigv4_header hdrs[MAX_HEADERS];
	struct aws_sigv4_request req;
	struct aws_sigv4_params p;
	struct aws_sigv4_result res;
	struct aws_sigv4_auth auth;
	struct aws_buf enc;
	char *copy = malloc(size + 1), *cur, *end, *line;
	const char *method, *path, *query, *signed_headers;
	size_t n = 0;
	time_t when;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	cur = copy;
	end = copy + size;
	method = field(&cur, end, "GET");
	path = field(&cur, end, "");
	query = field(&cur, end, NULL);
	signed_headers = field(&cur, end, NULL);
	for (line = next_line(&cur, end); line && *line && n < MAX_HEADERS;
	     line = next_line(&cur, end)) {
		char *colon = strchr(line, ':');

		if (!colon)
			continue;
		*colon = '\0';
		hdrs[n].name = line;
		hdrs[n].value = colon + 1 + (colon[1] == ' ');
		if (aws_sigv4_parse_authorization(hdrs[n].value, &auth) == 0)
			(void)strlen(auth.signed_headers);
		if (aws_sigv4_parse_amz_date(hdrs[n].value, &when) == 0) {
			char back[17];

			aws_sigv4_amz_date(when, back);
		}
		n++;
	}

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = path;
	req.query = query;
	req.headers = hdrs;
	req.nheaders = n;
	req.signed_headers = signed_headers;
	req.body = cur;
	req.body_len = (size_t)(end - cur);
	memset(&p, 0, sizeof(p));
	p.access_key_id = "AKIDEXAMPLE";
	p.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
	p.region = "us-east-1";
	p.service = "sqs";
	p.when = 1440938160;
	for (int s3 = 0; s3 < 2; s3++) {
		req.s3 = s3;
		if (aws_sigv4_sign(&req, &p, &res) == 0) {
			if (strlen(res.signature) != 64 || !res.canonical_request || !res.authorization)
				abort(); /* a success must be complete */
			aws_sigv4_result_cleanup(&res);
		}
	}
	aws_buf_init(&enc, 0);
	if (aws_sigv4_uri_encode(&enc, path, strlen(path), 1) == 0)
		aws_sigv4_uri_encode(&enc, cur, (size_t)(end - cur), 0);
	aws_buf_cleanup(&enc);
	free(copy);
	return 0;
}
