/* config.h: configuration and credentials the way AWS SDKs resolve them. */
#ifndef CLEANOPS_AWS_CONFIG_H
#define CLEANOPS_AWS_CONFIG_H

#include "aws.h"

/* An endpoint from a [services NAME] section: the key is the service's config_key. */
struct aws_config_endpoint {
	char *key;
	char *url;
};

/* The resolved configuration. Owned strings; aws_config_cleanup() frees all. */
struct aws_config {
	char *profile;            /* the profile in use */
	char *region;             /* NULL when none was configured anywhere */
	char *ca_bundle;          /* AWS_CA_BUNDLE or the profile's ca_bundle, or NULL */
	int max_attempts;         /* AWS_MAX_ATTEMPTS or the profile's max_attempts, 0 = unset */
	char *endpoint_url;       /* profile-level endpoint_url, or NULL */
	struct aws_config_endpoint *endpoints; /* from the profile's services section */
	size_t nendpoints;
	int ignore_configured_endpoints; /* AWS_IGNORE_CONFIGURED_ENDPOINT_URLS / profile key */
	int have_credentials;
	struct aws_credentials credentials;
	char *credential_process; /* the command, when credentials came from one (to refresh) */
	const char *credentials_source; /* static string: "environment", "shared-credentials-file",
					 * "config-file", "credential-process", "explicit", "none" */
};

/* Resolve for profile (NULL: AWS_PROFILE, else "default") and region override (NULL:
 * AWS_REGION, AWS_DEFAULT_REGION, the profile). Credentials in botocore's order: the
 * environment (unless profile was passed explicitly), then the shared credentials
 * file, then the profile's credential_process, then static keys in the config file.
 * Missing files are fine; a corrupt file, or a named profile that exists nowhere, is
 * ConfigError naming the file and line. Returns 0 or -1 with err. */
int aws_config_load(const char *profile, const char *region, struct aws_config *out,
		    struct aws_error *err);
/* Free every string of a config. */
void aws_config_cleanup(struct aws_config *c);

/* Run a credential_process command (through /bin/sh) and read its JSON
 * ({"Version":1,"AccessKeyId":..,"SecretAccessKey":..,"SessionToken":..,"Expiration":..}).
 * Returns 0 with out filled (owned), or -1 with err (never including the output). */
int aws_config_credential_process(const char *cmd, struct aws_credentials *out,
				  struct aws_error *err);

/* The profile names found in the config and credentials files (for a chooser).
 * *names is a new array of new strings (caller frees each and the array). Returns 0 or -1. */
int aws_config_list_profiles(char ***names, size_t *n, struct aws_error *err);

/* The configured endpoint URL for a service (config_key, env_key) per the SDK order:
 * AWS_ENDPOINT_URL_<ENV_KEY>, AWS_ENDPOINT_URL, the services section, the profile's
 * endpoint_url. Borrowed from c or the environment; NULL when none. */
const char *aws_config_endpoint(const struct aws_config *c, const char *config_key,
				const char *env_key);

#endif
