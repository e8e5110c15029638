/* svc_lambda.c: Lambda's control plane in the sandbox (rest-json 2015-03-31): functions,
 * code (zip unpacked with libzip), Invoke, permissions, reserved concurrency. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zip.h>

#include "iam_enforce.h"
#include "lambda_int.h"
#include "sbx_int.h"
#include "wire.h"

#define ZIP_CAP ((size_t)50 * 1024 * 1024)          /* direct upload limit */
#define UNZIPPED_CAP ((zip_uint64_t)262144000)      /* 250 MB unzipped */
#define PAYLOAD_CAP ((size_t)6 * 1024 * 1024)
#define ASYNC_PAYLOAD_CAP ((size_t)1024 * 1024)
#define ENV_CAP 4096
#define INVOKE_WAIT_MS 3000L
#define FOREVER_MS 4102444800000LL                  /* 2100-01-01: role credentials */

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS lambda_functions (name TEXT PRIMARY KEY,"
	" config TEXT NOT NULL, code_hex TEXT NOT NULL, access_key TEXT NOT NULL,"
	" secret TEXT NOT NULL, token TEXT NOT NULL, concurrency INTEGER, policy TEXT,"
	" tags TEXT, created INTEGER NOT NULL);";

static const char *const reserved_vars[] = {
	"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
	"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
	"AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
	"AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY",
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
};

static const char *const runtimes[] = { "provided.al2023", "provided.al2", "provided" };

/* One REST exchange: the reply (doc or raw body) or a Lambda error. */
struct lreq {
	struct sbx_req *r;
	struct aws_buf *body;   /* raw reply (Invoke), written directly */
	int status;
	json_t *doc;            /* JSON reply (new reference) or NULL */
	int raw;
	int err;
	char code[64];
	char msg[512];
	const char *reason;     /* TooManyRequestsException's Reason, or NULL */
};

static int lerr(struct lreq *q, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int lerr(struct lreq *q, int status, const char *code, const char *fmt, ...)
{
	va_list ap;

	q->err = 1;
	q->status = status;
	snprintf(q->code, sizeof(q->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(q->msg, sizeof(q->msg), fmt, ap);
	va_end(ap);
	sbx_wire_utf8_clean(q->msg); /* it may echo the caller's bytes: JSON needs UTF-8 */
	return -1;
}

static int db_fail(struct lreq *q)
{
	return lerr(q, 500, "ServiceException", "The sandbox's store failed the request");
}

static int not_found(struct lreq *q, const char *arn)
{
	return lerr(q, 404, "ResourceNotFoundException", "Function not found: %s", arn);
}

static void set_header(struct lreq *q, const char *name, const char *value)
{
	if (q->r->resp_headers)
		json_object_set_new(q->r->resp_headers, name, json_string(value));
}

/* ---- small helpers ---- */

/* Percent-decode src into out (n bytes). Returns 0 or -1 when too long or malformed. */
static int url_decode(const char *src, size_t len, char *out, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = src[i];

		if (c == '%') {
			char hx[3];
			char *end;
			long v;

			if (i + 2 >= len)
				return -1;
			hx[0] = src[i + 1];
			hx[1] = src[i + 2];
			hx[2] = '\0';
			v = strtol(hx, &end, 16);
			if (end != hx + 2)
				return -1;
			c = (char)v;
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (o + 1 >= n)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

/* The decoded value of query parameter name into out; returns 1 found, 0 absent. */
static int query_param(const char *query, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	const char *p = query;

	while (p && *p) {
		size_t len = strcspn(p, "&");

		if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=')
			return url_decode(p + nl + 1, len - nl - 1, out, n) == 0;
		p += len;
		if (*p == '&')
			p++;
	}
	return 0;
}

/* A function name out of a name, "name:qualifier", a partial or a full ARN. Returns 0, or
 * -1 when it cannot be a function name. */
static int function_name(const char *in, char out[65])
{
	const char *p = strstr(in, ":function:");
	size_t len;

	p = p ? p + 10 : in;
	len = strcspn(p, ":");
	if (len == 0 || len > 64)
		return -1;
	for (size_t i = 0; i < len; i++) {
		char c = p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return -1;
	}
	memcpy(out, p, len);
	out[len] = '\0';
	return 0;
}

/* The qualifier of "name:QUALIFIER" or an ARN with one, into out ("" when none). */
static void function_qualifier(const char *in, char *out, size_t n)
{
	const char *p = strstr(in, ":function:");
	const char *colon;

	p = p ? p + 10 : in;
	colon = strchr(p, ':');
	snprintf(out, n, "%s", colon ? colon + 1 : "");
}

static void make_arn(const char *region, const char *name, char *out, size_t n)
{
	snprintf(out, n, "arn:aws:lambda:%s:%s:function:%s", region, SBX_ACCOUNT, name);
}

/* Lambda's LastModified: "2024-01-31T12:00:00.000+0000". */
static void last_modified(char out[40])
{
	char iso[32];

	sbx_iso_time(sbx_now_ms(), iso);
	snprintf(out, 40, "%.23s+0000", iso);
}

/* base64 of SHA-256 (CodeSha256) and the hex form (file names) of data. */
static void code_sha(const char *data, size_t len, char b64[48], char hex[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)data, len, md);
	EVP_EncodeBlock((unsigned char *)b64, md, SHA256_DIGEST_LENGTH);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* Decode base64 text into a new buffer (caller frees). Returns NULL when invalid. */
static unsigned char *b64_decode(const char *text, size_t *out_len)
{
	size_t len = strlen(text), pad = 0;
	unsigned char *out;
	int n;

	if (len == 0 || len % 4 != 0 || len > INT_MAX)
		return NULL;
	out = malloc(len / 4 * 3 + 1);
	if (!out)
		return NULL;
	n = EVP_DecodeBlock(out, (const unsigned char *)text, (int)len);
	if (n < 0) {
		free(out);
		return NULL;
	}
	if (text[len - 1] == '=')
		pad++;
	if (text[len - 2] == '=')
		pad++;
	*out_len = (size_t)n - pad;
	return out;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

/* rm -r dir (no symlinks followed). */
static void rm_tree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* mkdir -p of the directories of path below base (base exists). Returns 0 or -1. */
static int make_parents(const char *path, size_t base_len)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(tmp))
		return -1;
	memcpy(tmp, path, n + 1);
	for (size_t i = base_len + 1; i < n; i++) {
		if (tmp[i] == '/') {
			tmp[i] = '\0';
			if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
				return -1;
			tmp[i] = '/';
		}
	}
	return 0;
}

/* A zip entry name that stays inside the directory: relative, no ".." component. */
static int safe_entry_name(const char *name)
{
	const char *p = name;

	if (!*name || name[0] == '/' || name[0] == '\\' || strchr(name, '\\'))
		return 0;
	while (*p) {
		size_t len = strcspn(p, "/");

		if (len == 2 && p[0] == '.' && p[1] == '.')
			return 0;
		p += len;
		if (*p == '/')
			p++;
	}
	return 1;
}

/* Extract one regular file or symlink entry i of za to path. Returns 0 or -1. */
static int extract_entry(zip_t *za, zip_uint64_t i, const char *path, mode_t mode,
			 zip_uint64_t size)
{
	zip_file_t *zf = zip_fopen_index(za, i, 0);
	char buf[65536];
	zip_int64_t n;
	zip_uint64_t written = 0;
	int fd = -1, rc = -1;

	if (!zf)
		return -1;
	if (S_ISLNK(mode)) {
		char target[PATH_MAX];

		n = size < sizeof(target) ? zip_fread(zf, target, size) : -1;
		if (n < 0 || (zip_uint64_t)n != size)
			goto done;
		target[n] = '\0';
		if (!safe_entry_name(target) || symlink(target, path) != 0)
			goto done;
		rc = 0;
		goto done;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		goto done;
	for (;;) {
		n = zip_fread(zf, buf, sizeof(buf));
		if (n <= 0)
			break;
		written += (zip_uint64_t)n;
		if (written > size || write(fd, buf, (size_t)n) != n)
			goto done; /* never more than the size the unzipped-size cap counted */
	}
	/* the owner's bits only: the code is the operator's, like the rest of the data dir */
	if (n < 0 || fchmod(fd, (mode & 0700) ? (mode & 0700) : 0600) != 0)
		goto done;
	rc = 0;
done:
	if (fd >= 0)
		close(fd);
	zip_fclose(zf);
	return rc;
}

/* Unpack the zip in data into dir (atomically: a temporary directory renamed), keeping
 * the unix modes. Returns 0, or -1 with the Lambda error set. */
static int unpack_zip(struct lreq *q, const char *data, size_t len, const char *dir)
{
	char tmp[PATH_MAX + 16], path[PATH_MAX + 32], rnd[9];
	zip_error_t zerr;
	zip_source_t *src = NULL;
	zip_t *za = NULL;
	zip_uint64_t total = 0;
	zip_int64_t n;
	int rc = -1;

	if (access(dir, F_OK) == 0)
		return 0;
	sbx_rand_chars(rnd, 8, "abcdefghijklmnopqrstuvwxyz0123456789");
	snprintf(tmp, sizeof(tmp), "%.3000s.tmp-%s", dir, rnd);
	zip_error_init(&zerr);
	src = zip_source_buffer_create(data, len, 0, &zerr);
	za = src ? zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &zerr) : NULL;
	if (!za) {
		lerr(q, 400, "InvalidParameterValueException", "Could not unzip uploaded file. "
		     "Please check your file, then try to upload again.");
		goto done;
	}
	if (mkdir(tmp, 0700) != 0) {
		lerr(q, 500, "ServiceException", "cannot create %s", tmp);
		goto done;
	}
	n = zip_get_num_entries(za, 0);
	for (zip_int64_t i = 0; i < n; i++) {
		zip_stat_t sb;
		zip_uint8_t opsys;
		zip_uint32_t attr;
		mode_t mode = 0;
		size_t nl;

		if (zip_stat_index(za, (zip_uint64_t)i, 0, &sb) != 0 || !(sb.valid & ZIP_STAT_NAME)) {
			lerr(q, 400, "InvalidParameterValueException", "Could not unzip uploaded "
			     "file. Please check your file, then try to upload again.");
			goto done;
		}
		if (!safe_entry_name(sb.name)) {
			lerr(q, 502, "InvalidZipFileException", "The zip file entry '%.200s' would be "
			     "extracted outside the function's directory", sb.name);
			goto done;
		}
		total += sb.size;
		if (total > UNZIPPED_CAP) {
			lerr(q, 400, "InvalidParameterValueException", "Unzipped size must be "
			     "smaller than %llu bytes", (unsigned long long)UNZIPPED_CAP);
			goto done;
		}
		if (zip_file_get_external_attributes(za, (zip_uint64_t)i, 0, &opsys, &attr) == 0 &&
		    opsys == ZIP_OPSYS_UNIX)
			mode = (mode_t)(attr >> 16);
		if (snprintf(path, sizeof(path), "%s/%s", tmp, sb.name) >= (int)sizeof(path) ||
		    make_parents(path, strlen(tmp)) != 0)
			goto io_fail;
		nl = strlen(sb.name);
		if (sb.name[nl - 1] == '/' || S_ISDIR(mode)) {
			if (mkdir(path, 0700) != 0 && errno != EEXIST)
				goto io_fail;
			continue;
		}
		if (extract_entry(za, (zip_uint64_t)i, path, mode, sb.size) != 0)
			goto io_fail;
	}
	if (rename(tmp, dir) != 0 && access(dir, F_OK) != 0)
		goto io_fail;
	rc = 0;
	goto done;
io_fail:
	lerr(q, 502, "InvalidZipFileException", "Could not unpack the uploaded zip file: %s",
	     strerror(errno));
done:
	if (za)
		zip_discard(za);
	else if (src)
		zip_source_free(src);
	zip_error_fini(&zerr);
	if (rc != 0 || access(tmp, F_OK) == 0)
		rm_tree(tmp);
	return rc;
}

/* Decode Code.ZipFile, store DATA/lambda/<name>/<hex>.zip and unpack it next to it.
 * Fills the SHA (base64 and hex) and the size. Returns 0 or -1 (error set). */
static int store_code(struct lreq *q, const char *name, json_t *code, char b64[48],
		      char hex[65], long long *size)
{
	const char *zip64 = sbx_str(code, "ZipFile");
	unsigned char *zipdata = NULL;
	size_t zlen = 0;
	char dir[PATH_MAX], path[PATH_MAX + 80];
	int fd = -1, rc = -1;

	if (!json_is_object(code) || !zip64) {
		if (code && (sbx_str(code, "S3Bucket") || sbx_str(code, "ImageUri")))
			return lerr(q, 400, "InvalidParameterValueException", "The sandbox takes "
				    "function code as Code.ZipFile only");
		return lerr(q, 400, "InvalidParameterValueException",
			    "Please provide a source for function code.");
	}
	if (strlen(zip64) / 4 * 3 > ZIP_CAP)
		return lerr(q, 413, "RequestTooLargeException", "Request must be smaller than "
			    "%zu bytes for the CreateFunction operation", ZIP_CAP);
	zipdata = b64_decode(zip64, &zlen);
	if (!zipdata)
		return lerr(q, 400, "InvalidParameterValueException",
			    "Could not unzip uploaded file. Please check your file, then try to "
			    "upload again.");
	code_sha((const char *)zipdata, zlen, b64, hex);
	snprintf(dir, sizeof(dir), "%s/lambda", sbx_data_dir(q->r->sbx));
	mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/lambda/%s", sbx_data_dir(q->r->sbx), name);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		lerr(q, 500, "ServiceException", "cannot create the function's directory");
		goto done;
	}
	snprintf(path, sizeof(path), "%s/%s.zip", dir, hex);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, zipdata, zlen) != (ssize_t)zlen) {
		lerr(q, 500, "ServiceException", "cannot store the function's code");
		goto done;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, hex);
	if (unpack_zip(q, (const char *)zipdata, zlen, path) != 0)
		goto done;
	*size = (long long)zlen;
	rc = 0;
done:
	if (fd >= 0)
		close(fd);
	free(zipdata);
	return rc;
}

/* The stable access key of function name's session of role (derived from both) and its
 * persisted secret and token in STS's credentials, so a call from the function maps back
 * to the role; the session is named after the function, as on AWS. Lock held. */
static void role_credentials(struct sbx *s, sqlite3 *db, const char *role, const char *name,
			     char ak[32], char sk[64], char token[200])
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned char md[SHA256_DIGEST_LENGTH];
	struct aws_buf seed;
	sqlite3_stmt *st;
	char role_id[64] = "";

	aws_buf_init(&seed, 0);
	aws_buf_printf(&seed, "cleanops-lambda-role\n%s\n%s", role, name);
	SHA256((const unsigned char *)aws_buf_str(&seed), seed.len, md);
	aws_buf_cleanup(&seed);
	memcpy(ak, "ASIA", 4);
	for (int i = 0; i < 16; i++)
		ak[4 + i] = b32[md[i] % 32];
	ak[20] = '\0';
	sbx_rand_chars(sk, 40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
	sbx_rand_chars(token, 160,
		       "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
	st = sbx_db_prep(s, db, "SELECT secret, token FROM sts_creds WHERE access_key = ?1", "s", ak);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		snprintf(sk, 64, "%s", sbx_col(st, 0));
		snprintf(token, 200, "%s", sbx_col(st, 1));
		sqlite3_finalize(st);
		return;
	}
	sqlite3_finalize(st);
	st = sbx_db_prep(s, db, "SELECT role_id FROM iam_roles WHERE arn = ?1", "s", role);
	if (st && sqlite3_step(st) == SQLITE_ROW)
		snprintf(role_id, sizeof(role_id), "%s", sbx_col(st, 0));
	sqlite3_finalize(st);
	sbx_db_run(s, db, "INSERT OR REPLACE INTO sts_creds VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
		   "ssssssi", ak, sk, token, role, role_id, name, FOREVER_MS);
}

/* ---- validation ---- */

/* The execution role must be a role ARN and (IAM enforcement) a role of the sandbox's IAM
 * whose trust policy lets lambda.amazonaws.com assume it. Store lock NOT held. */
static int check_role(struct lreq *q, const char *role)
{
	if (!role || strncmp(role, "arn:aws:iam::", 13) != 0 || !strstr(role, ":role/") ||
	    !sbx_iam_role_trusts(q->r->sbx, role, "lambda.amazonaws.com"))
		return lerr(q, 400, "InvalidParameterValueException",
			    "The role defined for the function cannot be assumed by Lambda.");
	return 0;
}

static int check_runtime(struct lreq *q, const char *rt)
{
	for (size_t i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]); i++)
		if (strcmp(rt, runtimes[i]) == 0)
			return 0;
	return lerr(q, 400, "InvalidParameterValueException", "The runtime parameter of %s is "
		    "not supported by the sandbox (it runs provided.al2023 and provided.al2 "
		    "functions)", rt);
}

static int valid_var_name(const char *k)
{
	if (!((k[0] >= 'a' && k[0] <= 'z') || (k[0] >= 'A' && k[0] <= 'Z')) || !k[1])
		return 0;
	for (const char *p = k + 1; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	return 1;
}

/* Environment {Variables {}}: names, reserved names, 4 KB. Returns 0 or -1. */
static int check_environment(struct lreq *q, json_t *env)
{
	json_t *vars = json_object_get(env, "Variables");
	const char *k;
	json_t *v;
	size_t total = 0;

	if (!env)
		return 0;
	if (!json_is_object(env) || (vars && !json_is_object(vars)))
		return lerr(q, 400, "InvalidParameterValueException",
			    "Environment must be {\"Variables\": {...}}");
	json_object_foreach(vars, k, v) {
		if (!json_is_string(v) || !valid_var_name(k))
			return lerr(q, 400, "InvalidParameterValueException",
				    "1 validation error detected: Value at 'environment.variables' "
				    "failed to satisfy constraint: Map keys must satisfy constraint: "
				    "[Member must satisfy regular expression pattern: "
				    "[a-zA-Z]([a-zA-Z0-9_])+]");
		for (size_t i = 0; i < sizeof(reserved_vars) / sizeof(reserved_vars[0]); i++)
			if (strcmp(k, reserved_vars[i]) == 0)
				return lerr(q, 400, "InvalidParameterValueException",
					    "Lambda was unable to configure your environment "
					    "variables because the environment variables you have "
					    "provided contains reserved keys that are currently not "
					    "supported for modification. Reserved keys used in this "
					    "request: %s", k);
		total += strlen(k) + strlen(json_string_value(v));
	}
	if (total > ENV_CAP)
		return lerr(q, 400, "InvalidParameterValueException",
			    "Lambda was unable to configure your environment variables because the "
			    "environment variables you have provided exceeded the 4KB limit.");
	return 0;
}

/* Timeout 1..900 and MemorySize 128..10240 when present. */
static int check_limits(struct lreq *q, json_t *in)
{
	json_t *t = json_object_get(in, "Timeout"), *m = json_object_get(in, "MemorySize");

	if (t && (!json_is_integer(t) || json_integer_value(t) < 1 || json_integer_value(t) > 900))
		return lerr(q, 400, "InvalidParameterValueException", "1 validation error "
			    "detected: Value '%lld' at 'timeout' failed to satisfy constraint: "
			    "Member must have value between 1 and 900",
			    (long long)json_integer_value(t));
	if (m && (!json_is_integer(m) || json_integer_value(m) < 128 ||
		  json_integer_value(m) > 10240))
		return lerr(q, 400, "InvalidParameterValueException", "1 validation error "
			    "detected: Value '%lld' at 'memorySize' failed to satisfy constraint: "
			    "Member must have value between 128 and 10240",
			    (long long)json_integer_value(m));
	return 0;
}

/* ---- the store ---- */

/* The function's row: config (new reference), and the other columns when wanted. Lock held.
 * Returns 0, or -1 when there is no such function. */
static int load_row(struct sbx *s, sqlite3 *db, const char *name, json_t **config,
		    long long *concurrency, json_t **policy, json_t **tags)
{
	sqlite3_stmt *st = sbx_db_prep(s, db, "SELECT config, concurrency, policy, tags FROM "
				       "lambda_functions WHERE name = ?1", "s", name);
	int rc = -1;

	if (st && sqlite3_step(st) == SQLITE_ROW) {
		json_error_t jerr;

		*config = json_loads(sbx_col(st, 0), 0, &jerr);
		if (concurrency)
			*concurrency = sqlite3_column_type(st, 1) == SQLITE_NULL ? -1 :
				sqlite3_column_int64(st, 1);
		if (policy)
			*policy = sqlite3_column_type(st, 2) == SQLITE_NULL ? NULL :
				json_loads(sbx_col(st, 2), 0, &jerr);
		if (tags)
			*tags = sqlite3_column_type(st, 3) == SQLITE_NULL ? NULL :
				json_loads(sbx_col(st, 3), 0, &jerr);
		rc = *config ? 0 : -1;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Write config (and the code hex when non-NULL). Lock held. Returns 0 or -1. */
static int save_config(struct sbx *s, sqlite3 *db, const char *name, json_t *config,
		       const char *hex)
{
	char *text = json_dumps(config, JSON_COMPACT);
	int n;

	if (!text)
		return -1;
	if (hex)
		n = sbx_db_run(s, db, "UPDATE lambda_functions SET config = ?2, code_hex = ?3 WHERE "
			       "name = ?1", "sss", name, text, hex);
	else
		n = sbx_db_run(s, db, "UPDATE lambda_functions SET config = ?2 WHERE name = ?1",
			       "ss", name, text);
	free(text);
	return n == 1 ? 0 : -1;
}

static void new_revision(json_t *config)
{
	char id[37], lm[40];

	sbx_uuid(id);
	last_modified(lm);
	json_object_set_new(config, "RevisionId", json_string(id));
	json_object_set_new(config, "LastModified", json_string(lm));
	json_object_set_new(config, "LastUpdateStatus", json_string("Successful"));
	json_object_set_new(config, "State", json_string("Active"));
}

/* The RevisionId precondition of updates. */
static int check_revision(struct lreq *q, json_t *in, json_t *config)
{
	const char *want = sbx_str(in, "RevisionId");
	const char *have = sbx_str(config, "RevisionId");

	if (want && have && strcmp(want, have) != 0)
		return lerr(q, 412, "PreconditionFailedException", "The Revision Id provided does "
			    "not match the latest Revision Id. Call the GetFunction/GetAlias API to "
			    "retrieve the latest Revision Id");
	return 0;
}

/* ---- operations ---- */

static int create_function(struct lreq *q, json_t *in)
{
	struct sbx *s = q->r->sbx;
	const char *fname = sbx_str(in, "FunctionName"), *role = sbx_str(in, "Role");
	const char *runtime = sbx_str(in, "Runtime"), *handler = sbx_str(in, "Handler");
	const char *ptype = sbx_str(in, "PackageType");
	json_t *env = json_object_get(in, "Environment"), *arch = json_object_get(in, "Architectures");
	json_t *config = NULL, *tags = json_object_get(in, "Tags"), *arch_default;
	char name[65], arn[192], b64[48], hex[65], lm[40], rev[37], ak[32], sk[64], token[200];
	char *cfg_text = NULL, *tags_text = NULL;
	long long size = 0;
	sqlite3 *db;
	int n, rc = -1;

	if (!fname || function_name(fname, name) != 0)
		return lerr(q, 400, "InvalidParameterValueException", "1 validation error detected:"
			    " Value '%.100s' at 'functionName' failed to satisfy constraint: Member "
			    "must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?"
			    "([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)"
			    "(:(\\$LATEST|[a-zA-Z0-9-_]+))?", fname ? fname : "null");
	if (ptype && strcmp(ptype, "Zip") != 0)
		return lerr(q, 400, "InvalidParameterValueException",
			    "The sandbox runs Zip functions only");
	if (check_role(q, role) || check_environment(q, env) || check_limits(q, in))
		return -1;
	if (!runtime || !handler)
		return lerr(q, 400, "InvalidParameterValueException", "Runtime and Handler are "
			    "mandatory parameters for functions created with Zip Package Type");
	if (check_runtime(q, runtime))
		return -1;
	if (arch && (!json_is_array(arch) || json_array_size(arch) != 1 ||
		     !json_is_string(json_array_get(arch, 0))))
		return lerr(q, 400, "InvalidParameterValueException",
			    "Architectures must name exactly one architecture");
	db = sbx_db_lock(s);
	n = load_row(s, db, name, &config, NULL, NULL, NULL) == 0;
	sbx_db_unlock(s);
	json_decref(config);
	config = NULL;
	if (n)
		return lerr(q, 409, "ResourceConflictException", "Function already exist: %s", name);
	if (store_code(q, name, json_object_get(in, "Code"), b64, hex, &size) != 0)
		return -1;
	make_arn(q->r->region, name, arn, sizeof(arn));
	last_modified(lm);
	sbx_uuid(rev);
	arch_default = arch ? NULL : json_pack("[s]", "x86_64");
	config = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:I, s:s, s:s, s:s,"
			   " s:{s:s}, s:s, s:s, s:s, s:s, s:O, s:{s:i}, s:{s:s, s:s},"
			   " s:{s:s, s:s}}",
			   "FunctionName", name, "FunctionArn", arn, "Runtime", runtime,
			   "Role", role, "Handler", handler, "CodeSize", size,
			   "Description", sbx_str(in, "Description") ? sbx_str(in, "Description") : "",
			   "Timeout", sbx_int(in, "Timeout", 3), "MemorySize",
			   sbx_int(in, "MemorySize", 128), "LastModified", lm, "CodeSha256", b64,
			   "Version", "$LATEST", "TracingConfig", "Mode", "PassThrough",
			   "RevisionId", rev, "State", "Active", "LastUpdateStatus", "Successful",
			   "PackageType", "Zip", "Architectures",
			   arch ? arch : arch_default, "EphemeralStorage", "Size", 512,
			   "LoggingConfig", "LogFormat", "Text", "LogGroup", "",
			   "SnapStart", "ApplyOn", "None", "OptimizationStatus", "Off");
	json_decref(arch_default); /* the pack took its own reference, or failed */
	if (!config)
		return db_fail(q);
	{
		char group[128];

		snprintf(group, sizeof(group), "/aws/lambda/%s", name);
		json_object_set_new(json_object_get(config, "LoggingConfig"), "LogGroup",
				    json_string(group));
	}
	if (env)
		json_object_set_new(config, "Environment",
				    json_pack("{s:o}", "Variables",
					      json_object_get(env, "Variables") ?
					      json_deep_copy(json_object_get(env, "Variables")) :
					      json_object()));
	cfg_text = json_dumps(config, JSON_COMPACT);
	tags_text = json_is_object(tags) ? json_dumps(tags, JSON_COMPACT) : NULL;
	db = sbx_db_lock(s);
	role_credentials(s, db, role, name, ak, sk, token);
	n = cfg_text ? sbx_db_run(s, db, "INSERT OR IGNORE INTO lambda_functions (name, config, "
				  "code_hex, access_key, secret, token, concurrency, policy, tags, "
				  "created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, NULL, ?7, ?8)",
				  "sssssssi", name, cfg_text, hex, ak, sk, token, tags_text,
				  sbx_now_ms()) : -1;
	sbx_db_unlock(s);
	if (n < 0) {
		db_fail(q);
		goto done;
	}
	if (n == 0) {
		lerr(q, 409, "ResourceConflictException", "Function already exist: %s", name);
		goto done;
	}
	sbx_log(s, "INFO", "lambda: created %s (%lld bytes, %s)", name, size, b64);
	q->status = 201;
	q->doc = config;
	config = NULL;
	rc = 0;
done:
	free(cfg_text);
	free(tags_text);
	json_decref(config);
	return rc;
}

/* Load a function's config for an operation; -1 with ResourceNotFoundException. */
static int get_config(struct lreq *q, const char *name, json_t **config, long long *conc,
		      json_t **policy, json_t **tags)
{
	struct sbx *s = q->r->sbx;
	sqlite3 *db = sbx_db_lock(s);
	int rc = load_row(s, db, name, config, conc, policy, tags);
	char arn[192];

	sbx_db_unlock(s);
	if (rc != 0) {
		make_arn(q->r->region, name, arn, sizeof(arn));
		return not_found(q, arn);
	}
	return 0;
}

static int get_function(struct lreq *q, const char *name)
{
	json_t *config = NULL, *tags = NULL;
	long long conc = -1;
	char loc[512];

	if (get_config(q, name, &config, &conc, NULL, &tags) != 0)
		return -1;
	snprintf(loc, sizeof(loc), "%s/_cleanops/lambda/%s/code.zip", sbx_endpoint(q->r->sbx),
		 name);
	q->doc = json_pack("{s:o, s:{s:s, s:s}}", "Configuration", config, "Code",
			   "RepositoryType", "S3", "Location", loc);
	if (tags)
		json_object_set_new(q->doc, "Tags", tags);
	if (conc >= 0)
		json_object_set_new(q->doc, "Concurrency",
				    json_pack("{s:I}", "ReservedConcurrentExecutions", conc));
	return q->doc ? 0 : db_fail(q);
}

static int get_configuration(struct lreq *q, const char *name)
{
	json_t *config = NULL;

	if (get_config(q, name, &config, NULL, NULL, NULL) != 0)
		return -1;
	q->doc = config;
	return 0;
}

static int update_code(struct lreq *q, const char *name, json_t *in)
{
	struct sbx *s = q->r->sbx;
	json_t *config = NULL;
	char b64[48], hex[65];
	long long size = 0;
	sqlite3 *db;
	int rc = -1;

	if (get_config(q, name, &config, NULL, NULL, NULL) != 0)
		return -1;
	if (check_revision(q, in, config) || store_code(q, name, in, b64, hex, &size))
		goto done;
	if (sbx_bool(in, "DryRun", 0)) {
		q->doc = config;
		config = NULL;
		rc = 0;
		goto done;
	}
	json_object_set_new(config, "CodeSha256", json_string(b64));
	json_object_set_new(config, "CodeSize", json_integer(size));
	new_revision(config);
	db = sbx_db_lock(s);
	rc = save_config(s, db, name, config, hex);
	sbx_db_unlock(s);
	if (rc != 0) {
		db_fail(q);
		goto done;
	}
	lx_exec_retire(s, name);
	sbx_log(s, "INFO", "lambda: new code for %s (%lld bytes, %s)", name, size, b64);
	q->doc = config;
	config = NULL;
done:
	json_decref(config);
	return rc;
}

static int update_configuration(struct lreq *q, const char *name, json_t *in)
{
	struct sbx *s = q->r->sbx;
	json_t *config = NULL, *env = json_object_get(in, "Environment");
	const char *role = sbx_str(in, "Role"), *runtime = sbx_str(in, "Runtime");
	static const char *const copied[] = { "Handler", "Description", "Timeout", "MemorySize" };
	char ak[32], sk[64], token[200];
	sqlite3 *db;
	int rc = -1;

	if (get_config(q, name, &config, NULL, NULL, NULL) != 0)
		return -1;
	if (check_revision(q, in, config) || (role && check_role(q, role)) ||
	    check_environment(q, env) || check_limits(q, in) ||
	    (runtime && check_runtime(q, runtime)))
		goto done;
	for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++) {
		json_t *v = json_object_get(in, copied[i]);

		if (v)
			json_object_set(config, copied[i], v);
	}
	if (role)
		json_object_set_new(config, "Role", json_string(role));
	if (runtime)
		json_object_set_new(config, "Runtime", json_string(runtime));
	if (env)
		json_object_set_new(config, "Environment",
				    json_pack("{s:o}", "Variables",
					      json_object_get(env, "Variables") ?
					      json_deep_copy(json_object_get(env, "Variables")) :
					      json_object()));
	new_revision(config);
	db = sbx_db_lock(s);
	rc = save_config(s, db, name, config, NULL);
	if (rc == 0 && role) {
		role_credentials(s, db, role, name, ak, sk, token);
		rc = sbx_db_run(s, db, "UPDATE lambda_functions SET access_key = ?2, secret = ?3, "
				"token = ?4 WHERE name = ?1", "ssss", name, ak, sk, token) == 1 ? 0 : -1;
	}
	sbx_db_unlock(s);
	if (rc != 0) {
		db_fail(q);
		goto done;
	}
	lx_exec_retire(s, name);
	q->doc = config;
	config = NULL;
done:
	json_decref(config);
	return rc;
}

/* The event source mappings' hook (esm.c), when that part of the sandbox is linked in. */
extern void sbx_esm_function_deleted(struct sbx *s, const char *function_arn)
	__attribute__((weak));

static int delete_function(struct lreq *q, const char *name)
{
	struct sbx *s = q->r->sbx;
	json_t *config = NULL;
	char dir[PATH_MAX], arn[192];
	sqlite3 *db;
	int n;

	if (get_config(q, name, &config, NULL, NULL, NULL) != 0)
		return -1;
	snprintf(arn, sizeof(arn), "%s", sbx_str(config, "FunctionArn") ?
		 sbx_str(config, "FunctionArn") : name);
	json_decref(config);
	db = sbx_db_lock(s);
	n = sbx_db_run(s, db, "DELETE FROM lambda_functions WHERE name = ?1", "s", name);
	sbx_db_unlock(s);
	if (n < 0)
		return db_fail(q);
	if (n == 0)
		return not_found(q, arn);
	lx_exec_retire(s, name);
	snprintf(dir, sizeof(dir), "%s/lambda/%s", sbx_data_dir(s), name);
	rm_tree(dir);
	if (sbx_esm_function_deleted)
		sbx_esm_function_deleted(s, arn);
	sbx_log(s, "INFO", "lambda: deleted %s", name);
	q->status = 204;
	return 0;
}

static int list_functions(struct lreq *q)
{
	struct sbx *s = q->r->sbx;
	char marker[128] = "", max_text[32];
	long long max = 50;
	json_t *arr = json_array();
	sqlite3 *db;
	sqlite3_stmt *st;
	long long n = 0;
	char last[65] = "";
	int more = 0;

	if (query_param(q->r->query, "MaxItems", max_text, sizeof(max_text))) {
		char *end;

		max = strtoll(max_text, &end, 10);
		if (*end || end == max_text || max < 1 || max > 10000) {
			json_decref(arr);
			return lerr(q, 400, "InvalidParameterValueException", "1 validation error "
				    "detected: Value at 'maxItems' failed to satisfy constraint: "
				    "Member must have value between 1 and 10000");
		}
	}
	query_param(q->r->query, "Marker", marker, sizeof(marker));
	db = sbx_db_lock(s);
	st = sbx_db_prep(s, db, "SELECT name, config FROM lambda_functions WHERE name > ?1 "
			 "ORDER BY name LIMIT ?2", "si", marker, max + 1);
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		json_error_t jerr;

		if (n == max) {
			more = 1;
			break;
		}
		json_array_append_new(arr, json_loads(sbx_col(st, 1), 0, &jerr));
		snprintf(last, sizeof(last), "%s", sbx_col(st, 0));
		n++;
	}
	sqlite3_finalize(st);
	sbx_db_unlock(s);
	q->doc = json_pack("{s:o}", "Functions", arr);
	if (more && q->doc)
		json_object_set_new(q->doc, "NextMarker", json_string(last));
	return q->doc ? 0 : db_fail(q);
}

/* Invoke: RequestResponse, Event, DryRun; X-Amz-Function-Error; LogType Tail. */
static int invoke(struct lreq *q, const char *fname, const char *name)
{
	struct sbx_req *r = q->r;
	const char *type = r->header(r, "X-Amz-Invocation-Type");
	const char *log_type = r->header(r, "X-Amz-Log-Type");
	char qualifier[64] = "", arn[192];
	struct lx_config c;
	struct sbx_invoke_result res;
	struct aws_buf tail;
	json_error_t jerr;
	int rc = -1;

	function_qualifier(fname, qualifier, sizeof(qualifier));
	if (!qualifier[0])
		query_param(r->query, "Qualifier", qualifier, sizeof(qualifier));
	make_arn(r->region, name, arn, sizeof(arn));
	if (!type)
		type = "RequestResponse";
	if (strcmp(type, "RequestResponse") != 0 && strcmp(type, "Event") != 0 &&
	    strcmp(type, "DryRun") != 0)
		return lerr(q, 400, "InvalidParameterValueException", "1 validation error detected:"
			    " Value '%.40s' at 'invocationType' failed to satisfy constraint: Member "
			    "must satisfy enum value set: [Event, RequestResponse, DryRun]", type);
	if (lx_config_load(r->sbx, name, &c) != 0)
		return not_found(q, arn);
	if (qualifier[0] && strcmp(qualifier, "$LATEST") != 0) {
		lerr(q, 404, "ResourceNotFoundException", "Function not found: %s:%s", arn,
		     qualifier);
		goto done;
	}
	if (r->body_len > (strcmp(type, "Event") == 0 ? ASYNC_PAYLOAD_CAP : PAYLOAD_CAP)) {
		lerr(q, 413, "RequestTooLargeException", "Request must be smaller than %zu bytes "
		     "for the InvokeFunction operation", strcmp(type, "Event") == 0 ?
		     ASYNC_PAYLOAD_CAP : PAYLOAD_CAP);
		goto done;
	}
	if (r->body_len) {
		json_t *doc = json_loadb(r->body, r->body_len, JSON_DECODE_ANY, &jerr);

		if (!doc) {
			lerr(q, 400, "InvalidRequestContentException",
			     "Could not parse request body into json: Could not parse payload into "
			     "json: %s", jerr.text);
			goto done;
		}
		json_decref(doc);
	}
	q->raw = 1;
	set_header(q, "X-Amz-Executed-Version", "$LATEST");
	if (strcmp(type, "DryRun") == 0) {
		q->status = 204;
		rc = 0;
		goto done;
	}
	if (strcmp(type, "Event") == 0) {
		if (lx_exec_enqueue(r->sbx, name, r->body_len ? r->body : "{}",
				    r->body_len ? r->body_len : 2) != 0) {
			lerr(q, 500, "ServiceException", "The Event invocation could not be queued");
			goto done;
		}
		q->status = 202;
		rc = 0;
		goto done;
	}
	aws_buf_init(&tail, 0);
	if (lx_exec_invoke(r->sbx, &c, r->body_len ? r->body : "{}", r->body_len ? r->body_len : 2,
			   q->body, &res, c.concurrency == 0 ? 0 : INVOKE_WAIT_MS,
			   log_type && strcmp(log_type, "Tail") == 0 ? &tail : NULL) != 0) {
		aws_buf_cleanup(&tail);
		if (res.throttled) {
			lerr(q, 429, "TooManyRequestsException", "Rate Exceeded.");
			q->reason = c.concurrency >= 0 ?
				"ReservedFunctionConcurrentInvocationLimitExceeded" :
				"ConcurrentInvocationLimitExceeded";
			set_header(q, "Retry-After", "1");
		} else {
			lerr(q, 500, "ServiceException", "The invocation could not be run: %s",
			     res.error_type);
		}
		goto done;
	}
	if (res.function_error)
		set_header(q, "X-Amz-Function-Error", "Unhandled");
	if (log_type && strcmp(log_type, "Tail") == 0) {
		char *enc = malloc(tail.len / 3 * 4 + 8);

		if (enc) {
			EVP_EncodeBlock((unsigned char *)enc, (const unsigned char *)aws_buf_str(&tail),
					(int)tail.len);
			set_header(q, "X-Amz-Log-Result", enc);
			free(enc);
		}
	}
	aws_buf_cleanup(&tail);
	q->status = 200;
	rc = 0;
done:
	lx_config_cleanup(&c);
	return rc;
}

/* ---- permissions ---- */

static int add_permission(struct lreq *q, const char *name, json_t *in)
{
	struct sbx *s = q->r->sbx;
	const char *sid = sbx_str(in, "StatementId"), *action = sbx_str(in, "Action");
	const char *principal = sbx_str(in, "Principal"), *src = sbx_str(in, "SourceArn");
	const char *src_acct = sbx_str(in, "SourceAccount");
	json_t *config = NULL, *policy = NULL, *stmt = NULL, *cond, *arr, *e;
	char *text = NULL, rev[37];
	size_t i;
	sqlite3 *db;
	int rc = -1;

	if (!sid || !action || !principal)
		return lerr(q, 400, "InvalidParameterValueException",
			    "StatementId, Action and Principal are required");
	if (get_config(q, name, &config, NULL, &policy, NULL) != 0)
		return -1;
	if (!policy)
		policy = json_pack("{s:s, s:s, s:[]}", "Version", "2012-10-17", "Id", "default",
				   "Statement");
	arr = json_object_get(policy, "Statement");
	json_array_foreach(arr, i, e)
		if (strcmp(sbx_str(e, "Sid") ? sbx_str(e, "Sid") : "", sid) == 0) {
			lerr(q, 409, "ResourceConflictException", "The statement id (%s) provided "
			     "already exists. Please provide a new statement id, or remove the "
			     "existing statement.", sid);
			goto done;
		}
	stmt = json_pack("{s:s, s:s, s:o, s:s, s:s}", "Sid", sid, "Effect", "Allow", "Principal",
			 strcmp(principal, "*") == 0 ? json_string("*") :
			 strchr(principal, '.') ? json_pack("{s:s}", "Service", principal) :
			 json_pack("{s:s}", "AWS", principal),
			 "Action", action, "Resource", sbx_str(config, "FunctionArn"));
	if (!stmt) {
		db_fail(q);
		goto done;
	}
	cond = json_object();
	if (src)
		json_object_set_new(cond, "ArnLike", json_pack("{s:s}", "AWS:SourceArn", src));
	if (src_acct)
		json_object_set_new(cond, "StringEquals",
				    json_pack("{s:s}", "AWS:SourceAccount", src_acct));
	if (json_object_size(cond))
		json_object_set_new(stmt, "Condition", cond);
	else
		json_decref(cond);
	json_array_append(arr, stmt);
	sbx_uuid(rev);
	json_object_set_new(config, "RevisionId", json_string(rev));
	text = json_dumps(policy, JSON_COMPACT);
	db = sbx_db_lock(s);
	rc = text && sbx_db_run(s, db, "UPDATE lambda_functions SET policy = ?2 WHERE name = ?1",
				"ss", name, text) == 1 && save_config(s, db, name, config, NULL) == 0 ?
		0 : -1;
	sbx_db_unlock(s);
	free(text);
	if (rc != 0) {
		db_fail(q);
		goto done;
	}
	text = json_dumps(stmt, JSON_COMPACT);
	q->doc = json_pack("{s:s}", "Statement", text ? text : "{}");
	free(text);
	q->status = 201;
done:
	json_decref(stmt);
	json_decref(policy);
	json_decref(config);
	return rc;
}

static int get_policy(struct lreq *q, const char *name)
{
	json_t *config = NULL, *policy = NULL;
	char *text;

	if (get_config(q, name, &config, NULL, &policy, NULL) != 0)
		return -1;
	if (!policy || json_array_size(json_object_get(policy, "Statement")) == 0) {
		json_decref(config);
		json_decref(policy);
		return lerr(q, 404, "ResourceNotFoundException",
			    "The resource you requested does not exist.");
	}
	text = json_dumps(policy, JSON_COMPACT);
	q->doc = json_pack("{s:s, s:s}", "Policy", text ? text : "{}", "RevisionId",
			   sbx_str(config, "RevisionId") ? sbx_str(config, "RevisionId") : "");
	free(text);
	json_decref(config);
	json_decref(policy);
	return q->doc ? 0 : db_fail(q);
}

static int remove_permission(struct lreq *q, const char *name, const char *sid)
{
	struct sbx *s = q->r->sbx;
	json_t *config = NULL, *policy = NULL, *arr, *e;
	char *text = NULL;
	size_t i;
	sqlite3 *db;
	int found = -1, rc = -1;

	if (get_config(q, name, &config, NULL, &policy, NULL) != 0)
		return -1;
	arr = json_object_get(policy, "Statement");
	json_array_foreach(arr, i, e)
		if (found < 0 && strcmp(sbx_str(e, "Sid") ? sbx_str(e, "Sid") : "", sid) == 0)
			found = (int)i;
	if (found < 0) {
		lerr(q, 404, "ResourceNotFoundException", "Statement %s is not found in resource "
		     "policy.", sid);
		goto done;
	}
	json_array_remove(arr, (size_t)found);
	text = json_array_size(arr) ? json_dumps(policy, JSON_COMPACT) : NULL;
	db = sbx_db_lock(s);
	rc = sbx_db_run(s, db, "UPDATE lambda_functions SET policy = ?2 WHERE name = ?1", "ss",
			name, text) == 1 ? 0 : -1;
	sbx_db_unlock(s);
	if (rc != 0) {
		db_fail(q);
		goto done;
	}
	q->status = 204;
done:
	free(text);
	json_decref(config);
	json_decref(policy);
	return rc;
}

/* ---- concurrency ---- */

static int concurrency(struct lreq *q, const char *name, json_t *in)
{
	struct sbx *s = q->r->sbx;
	const char *m = q->r->method;
	json_t *config = NULL, *v = json_object_get(in, "ReservedConcurrentExecutions");
	long long conc = -1;
	sqlite3 *db;
	int n;

	if (get_config(q, name, &config, &conc, NULL, NULL) != 0)
		return -1;
	json_decref(config);
	if (strcmp(m, "GET") == 0) {
		q->doc = conc >= 0 ? json_pack("{s:I}", "ReservedConcurrentExecutions", conc) :
			json_object();
		return 0;
	}
	if (strcmp(m, "PUT") == 0) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 1000)
			return lerr(q, 400, "InvalidParameterValueException", "1 validation error "
				    "detected: Value at 'reservedConcurrentExecutions' failed to "
				    "satisfy constraint: Member must have value between 0 and 1000");
		conc = json_integer_value(v);
	}
	db = sbx_db_lock(s);
	n = strcmp(m, "PUT") == 0 ?
		sbx_db_run(s, db, "UPDATE lambda_functions SET concurrency = ?2 WHERE name = ?1",
			   "si", name, conc) :
		sbx_db_run(s, db, "UPDATE lambda_functions SET concurrency = NULL WHERE name = ?1",
			   "s", name);
	sbx_db_unlock(s);
	if (n != 1)
		return db_fail(q);
	if (strcmp(m, "PUT") == 0)
		q->doc = json_pack("{s:I}", "ReservedConcurrentExecutions", conc);
	else
		q->status = 204;
	return 0;
}

/* ---- routing ---- */

/* Split "/NAME[/rest]" after a prefix: the decoded name into fname, the rest. */
static int split_name(const char *p, char *fname, size_t n, const char **rest)
{
	size_t len;

	if (*p != '/')
		return -1;
	p++;
	len = strcspn(p, "/");
	if (len == 0 || url_decode(p, len, fname, n) != 0)
		return -1;
	*rest = p + len;
	return 0;
}

/* Bodies from this size on are checked for an inline zip (CreateFunction, UpdateFunctionCode). */
#define BIG_BODY (1024 * 1024)

/* A function's code arrives as one base64 string of up to 70 MB ("ZipFile"), which jansson
 * lexes a byte at a time (about 0.5 s for a 23 MB zip). Parse the body without it and put
 * it back as a string: the value is copied once, checked to be plain base64 (no escapes).
 * Returns the object (new reference), or NULL when the body is not of that shape: the
 * caller then parses it the ordinary way. */
static json_t *load_code_body(const char *body, size_t len)
{
	static const char key[] = "\"ZipFile\"";
	unsigned char b64_table[256] = { 0 }; /* 1 for the base64 alphabet */
	const char *k = memmem(body, len, key, sizeof(key) - 1), *end = body + len, *v, *e;
	json_t *in = NULL, *code, *zip;
	char *rest;
	size_t vlen;

	if (len < BIG_BODY || !k ||
	    memmem(k + 1, (size_t)(end - k - 1), key, sizeof(key) - 1)) /* exactly one */
		return NULL;
	for (v = k + sizeof(key) - 1; v < end && *v && strchr(" \t\r\n", *v); v++)
		;
	if (v >= end || *v++ != ':')
		return NULL;
	while (v < end && *v && strchr(" \t\r\n", *v))
		v++;
	if (v >= end || *v++ != '"' || !(e = memchr(v, '"', (size_t)(end - v))))
		return NULL;
	vlen = (size_t)(e - v);
	for (const char *c = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
	     *c; c++)
		b64_table[(unsigned char)*c] = 1;
	for (size_t i = 0; i < vlen; i++)
		if (!b64_table[(unsigned char)v[i]])
			return NULL;
	rest = malloc(len - vlen);
	if (!rest)
		return NULL;
	memcpy(rest, body, (size_t)(v - body));
	memcpy(rest + (v - body), e, (size_t)(end - e));
	in = json_loadb(rest, len - vlen, 0, NULL);
	free(rest);
	code = json_object_get(in, "Code");
	if (!json_is_object(code))
		code = in;
	zip = json_object_get(code, "ZipFile");
	if (!json_is_object(in) || !json_is_string(zip) || json_string_length(zip) != 0 ||
	    json_object_set_new(code, "ZipFile", json_stringn_nocheck(v, vlen)) != 0) {
		json_decref(in);
		return NULL;
	}
	return in;
}

/* Dispatch one Lambda REST request (q->err set on failure). */
static void dispatch(struct lreq *q, const char *path)
{
	struct sbx_req *r = q->r;
	const char *m = r->method, *rest = "";
	char fname[512], name[65];
	json_t *in = NULL;
	json_error_t jerr;
	int conc_path = 0;

	if (strncmp(path, "/2015-03-31/functions", 21) == 0) {
		path += 21;
	} else {
		path += 21; /* "/2017-10-31/functions" and "/2019-09-30/functions" */
		conc_path = 1;
	}
	if (!conc_path && (!*path || strcmp(path, "/") == 0)) {
		if (strcmp(m, "GET") == 0) {
			list_functions(q);
			return;
		}
		if (strcmp(m, "POST") != 0) {
			lerr(q, 405, "InvalidParameterValueException", "Method not allowed");
			return;
		}
	} else if (split_name(path, fname, sizeof(fname), &rest) != 0 ||
		   function_name(fname, name) != 0) {
		lerr(q, 400, "InvalidParameterValueException", "1 validation error detected: Value "
		     "at 'functionName' failed to satisfy constraint: Member must satisfy regular "
		     "expression pattern");
		return;
	}
	if (strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0) {
		if (!(rest && strcmp(rest, "/invocations") == 0)) {
			in = r->body_len ? load_code_body(r->body, r->body_len) : json_object();
			if (!in && r->body_len)
				in = json_loadb(r->body, r->body_len, 0, &jerr);
			if (!json_is_object(in)) {
				json_decref(in);
				lerr(q, 400, "InvalidRequestContentException",
				     "Could not parse request body into json");
				return;
			}
		}
	}
	if (!in)
		in = json_object();
	if (conc_path) {
		if (strcmp(rest, "/concurrency") == 0)
			concurrency(q, name, in);
		else
			lerr(q, 404, "ResourceNotFoundException", "Unknown path");
	} else if (!*path || strcmp(path, "/") == 0) {
		create_function(q, in);
	} else if (!*rest && strcmp(m, "GET") == 0) {
		get_function(q, name);
	} else if (!*rest && strcmp(m, "DELETE") == 0) {
		delete_function(q, name);
	} else if (strcmp(rest, "/configuration") == 0 && strcmp(m, "GET") == 0) {
		get_configuration(q, name);
	} else if (strcmp(rest, "/configuration") == 0 && strcmp(m, "PUT") == 0) {
		update_configuration(q, name, in);
	} else if (strcmp(rest, "/code") == 0 && strcmp(m, "PUT") == 0) {
		update_code(q, name, in);
	} else if (strcmp(rest, "/invocations") == 0 && strcmp(m, "POST") == 0) {
		invoke(q, fname, name);
	} else if (strcmp(rest, "/policy") == 0 && strcmp(m, "POST") == 0) {
		add_permission(q, name, in);
	} else if (strcmp(rest, "/policy") == 0 && strcmp(m, "GET") == 0) {
		get_policy(q, name);
	} else if (strncmp(rest, "/policy/", 8) == 0 && strcmp(m, "DELETE") == 0) {
		char sid[256];

		if (url_decode(rest + 8, strlen(rest + 8), sid, sizeof(sid)) != 0)
			lerr(q, 400, "InvalidParameterValueException", "Invalid StatementId");
		else
			remove_permission(q, name, sid);
	} else if (strcmp(rest, "/concurrency") == 0 && strcmp(m, "GET") == 0) {
		concurrency(q, name, in);
	} else {
		lerr(q, 404, "UnknownOperationException", "Operation %s %s is not supported by the "
		     "sandbox's Lambda", m, r->path);
	}
	json_decref(in);
}

static int lambda_route(struct sbx_req *r, int *status, struct aws_buf *body,
			const char **content_type)
{
	const char *path = r->path;
	struct lreq q;

	if (strncmp(path, "/2015-03-31/functions", 21) != 0 &&
	    strncmp(path, "/2017-10-31/functions/", 22) != 0 &&
	    strncmp(path, "/2019-09-30/functions/", 22) != 0)
		return 1;
	if (path[21] && path[21] != '/' && path[21] != '?')
		return 1;
	memset(&q, 0, sizeof(q));
	q.r = r;
	q.body = body;
	q.status = 200;
	r->service = "lambda";
	dispatch(&q, path);
	*content_type = "application/json";
	if (q.err) {
		json_t *doc = json_pack("{s:s, s:s}", "Type", q.status >= 500 ? "Service" : "User",
					"message", q.msg);
		char *text;

		if (doc && q.reason)
			json_object_set_new(doc, "Reason", json_string(q.reason));
		text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
		json_decref(q.doc);
		aws_buf_reset(body);
		if (text)
			aws_buf_adds(body, text);
		free(text);
		json_decref(doc);
		set_header(&q, "x-amzn-ErrorType", q.code);
		*status = q.status;
		sbx_log(r->sbx, "INFO", "lambda %s %.200s -> %d %s", r->method, r->path, q.status,
			q.code);
		return 0;
	}
	if (q.doc) {
		char *text = json_dumps(q.doc, JSON_COMPACT);

		aws_buf_reset(body);
		if (text)
			aws_buf_adds(body, text);
		free(text);
		json_decref(q.doc);
	}
	*status = q.status;
	return 0;
}

/* ---- what the rest of the sandbox calls ---- */

int lx_config_load(struct sbx *s, const char *function, struct lx_config *c)
{
	char name[65];
	sqlite3 *db;
	sqlite3_stmt *st;
	json_t *cfg = NULL;
	json_error_t jerr;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	c->concurrency = -1;
	if (function_name(function, name) != 0)
		return -1;
	db = sbx_db_lock(s);
	st = sbx_db_prep(s, db, "SELECT config, code_hex, access_key, secret, token, concurrency "
			 "FROM lambda_functions WHERE name = ?1", "s", name);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		cfg = json_loads(sbx_col(st, 0), 0, &jerr);
		snprintf(c->code_dir, sizeof(c->code_dir), "%s/lambda/%s/%s", sbx_data_dir(s), name,
			 sbx_col(st, 1));
		snprintf(c->access_key, sizeof(c->access_key), "%s", sbx_col(st, 2));
		snprintf(c->secret_key, sizeof(c->secret_key), "%s", sbx_col(st, 3));
		snprintf(c->session_token, sizeof(c->session_token), "%s", sbx_col(st, 4));
		if (sqlite3_column_type(st, 5) != SQLITE_NULL)
			c->concurrency = (int)sqlite3_column_int64(st, 5);
	}
	sqlite3_finalize(st);
	sbx_db_unlock(s);
	if (!cfg)
		return -1;
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->arn, sizeof(c->arn), "%s", sbx_str(cfg, "FunctionArn") ?
		 sbx_str(cfg, "FunctionArn") : "");
	snprintf(c->handler, sizeof(c->handler), "%s", sbx_str(cfg, "Handler") ?
		 sbx_str(cfg, "Handler") : "");
	snprintf(c->revision, sizeof(c->revision), "%s", sbx_str(cfg, "RevisionId") ?
		 sbx_str(cfg, "RevisionId") : "");
	{
		/* arn:aws:lambda:REGION:... */
		const char *p = c->arn + (strncmp(c->arn, "arn:aws:lambda:", 15) == 0 ? 15 : 0);
		size_t len = strcspn(p, ":");

		snprintf(c->region, sizeof(c->region), "%.*s", (int)len, p);
		if (!c->region[0])
			snprintf(c->region, sizeof(c->region), "%s", SBX_DEFAULT_REGION);
	}
	c->timeout_s = (int)sbx_int(cfg, "Timeout", 3);
	c->memory_mb = (int)sbx_int(cfg, "MemorySize", 128);
	c->vars = json_object_get(json_object_get(cfg, "Environment"), "Variables");
	json_incref(c->vars);
	rc = 0;
	json_decref(cfg);
	return rc;
}

void lx_config_cleanup(struct lx_config *c)
{
	json_decref(c->vars);
	c->vars = NULL;
}

int sbx_lambda_arn(struct sbx *s, const char *function, char *out, size_t n)
{
	struct lx_config c;

	if (lx_config_load(s, function, &c) != 0)
		return -1;
	snprintf(out, n, "%s", c.arn);
	lx_config_cleanup(&c);
	return 0;
}

static int lambda_init(struct sbx *s)
{
	return lx_exec_start(s);
}

static void lambda_quiesce(struct sbx *s)
{
	lx_exec_quiesce(s);
}

static void lambda_shutdown(struct sbx *s)
{
	lx_exec_stop(s);
}

const struct sbx_service sbx_svc_lambda = {
	.name = "lambda",
	.schema = schema,
	.ops = NULL,
	.nops = 0,
	.init = lambda_init,
	.shutdown = lambda_shutdown,
	.route = lambda_route,
	.quiesce = lambda_quiesce,
};
