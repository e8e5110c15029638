/* netguard.h: where the sandbox's outbound HTTP (SNS deliveries, API Gateway HTTP
 * integrations) may go: loopback only, unless the operator allows more. */
#ifndef CLEANOPS_SANDBOX_NETGUARD_H
#define CLEANOPS_SANDBOX_NETGUARD_H

/* The environment variable that, set to "1", lets API Gateway HTTP integrations reach
 * hosts other than loopback. */
#define SBX_ALLOW_REMOTE_HTTP_ENV "CLEANOPS_SANDBOX_ALLOW_REMOTE_HTTP"

/* 1 when url is an http(s) URL whose host is a loopback literal (127.0.0.0/8, ::1) or
 * "localhost", else 0 (also for a URL that does not parse). */
int sbx_url_is_loopback(const char *url);

/* 1 when the sandbox may send a request to url: loopback, or any http(s) URL when
 * SBX_ALLOW_REMOTE_HTTP_ENV is "1". */
int sbx_url_allowed(const char *url);

#endif
