/* netguard.c: the loopback rule for the sandbox's outbound HTTP. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "netguard.h"

/* Is host (as curl's URL parser gives it, IPv6 in brackets) a loopback literal? */
static int loopback_host(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	char v6[64];
	size_t n = strlen(host);

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (n > 2 && n < sizeof(v6) && host[0] == '[' && host[n - 1] == ']') {
		memcpy(v6, host + 1, n - 2);
		v6[n - 2] = '\0';
		host = v6;
	}
	return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/* The URL's host when its scheme is http or https (curl_free it), else NULL. */
static char *http_host(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL, *scheme = NULL;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    (strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0) &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		host = NULL;
	curl_free(scheme);
	curl_url_cleanup(u);
	return host;
}

int sbx_url_is_loopback(const char *url)
{
	char *host = url ? http_host(url) : NULL;
	int ok = host && loopback_host(host);

	curl_free(host);
	return ok;
}

int sbx_url_allowed(const char *url)
{
	const char *env = getenv(SBX_ALLOW_REMOTE_HTTP_ENV);
	char *host;
	int ok;

	if (!env || strcmp(env, "1") != 0)
		return sbx_url_is_loopback(url);
	host = url ? http_host(url) : NULL;
	ok = host != NULL;
	curl_free(host);
	return ok;
}
