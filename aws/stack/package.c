/* package.c: build the Lambda zips the way aws-lambda-cpp's packager does, reproducibly. */
#include "package.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zip.h>

#include "aws/client/buf.h"

extern char **environ;

const struct stack_function_pkg stack_packages[STACK_PACKAGE_COUNT] = {
	{ "POC-Lambda-1.zip", "order-writer" },
	{ "POC-Lambda-2.zip", "notifier" },
};

/* 1980-01-01 00:00:00 in MS-DOS form: the earliest time a zip entry can carry. */
#define DOS_TIME 0x0000
#define DOS_DATE 0x0021
#define LDD_MAX_OUTPUT ((size_t)1024 * 1024)
#define MAX_ENTRIES 256

/* One zip entry: name inside the zip, and either a file to copy or bytes in memory. */
struct entry {
	char *name;       /* owned */
	char *src;        /* owned; NULL when data is used */
	const char *data; /* borrowed bytes (the bootstrap script) */
	size_t len;
};

struct plan {
	struct entry e[MAX_ENTRIES];
	int n;
	char *loader;     /* basename of the dynamic loader, NULL for a static binary (owned) */
	struct aws_buf bootstrap;
};

static void plan_cleanup(struct plan *p)
{
	for (int i = 0; i < p->n; i++) {
		free(p->e[i].name);
		free(p->e[i].src);
	}
	free(p->loader);
	aws_buf_cleanup(&p->bootstrap);
	memset(p, 0, sizeof(*p));
}

static int plan_add(struct plan *p, const char *name, const char *src, char *why, size_t whylen)
{
	if (p->n == MAX_ENTRIES) {
		snprintf(why, whylen, "too many libraries (over %d)", MAX_ENTRIES);
		return -1;
	}
	for (int i = 0; i < p->n; i++)
		if (strcmp(p->e[i].name, name) == 0)
			return 0; /* ldd lists each library once; be safe anyway */
	p->e[p->n].name = strdup(name);
	p->e[p->n].src = src ? strdup(src) : NULL;
	if (!p->e[p->n].name || (src && !p->e[p->n].src)) {
		free(p->e[p->n].name);
		free(p->e[p->n].src);
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	p->n++;
	return 0;
}

/* Run `ldd binary` and append its standard output to out. Returns 0 or -1 with why. */
static int run_ldd(const char *binary, struct aws_buf *out, char *why, size_t whylen)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = { "ldd", (char *)binary, NULL };
	char chunk[4096];
	int fds[2] = { -1, -1 }, status = 0, rc = -1, spawned = 0, serr;
	pid_t pid = -1;
	ssize_t n;

	if (pipe(fds)) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	posix_spawn_file_actions_addclose(&fa, fds[1]);
	serr = posix_spawnp(&pid, "ldd", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (serr) {
		snprintf(why, whylen, "cannot run ldd: %s", strerror(serr));
		goto out;
	}
	spawned = 1;
	while ((n = read(fds[0], chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || aws_buf_add(out, chunk, (size_t)n)) {
			snprintf(why, whylen, "reading ldd's output failed");
			goto out;
		}
	}
	rc = 0;
out:
	close(fds[0]);
	if (spawned) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (rc == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
			snprintf(why, whylen, "ldd %s failed (is it a dynamic executable?)", binary);
			rc = -1;
		}
	}
	return rc;
}

/* Read one ldd line: "\tname => /path (0x..)", "\t/lib64/ld-linux-x86-64.so.2 (0x..)",
 * "\tlinux-vdso.so.1 (0x..)" or "\tname => not found". Adds lib/ entries to p. */
static int ldd_line(struct plan *p, char *line, char *why, size_t whylen)
{
	char *arrow, *path, *sp, name[PATH_MAX], entry[PATH_MAX + 8];
	const char *base;

	while (*line == ' ' || *line == '\t')
		line++;
	if (!*line)
		return 0;
	arrow = strstr(line, " => ");
	if (arrow) {
		*arrow = '\0';
		snprintf(name, sizeof(name), "%s", line);
		path = arrow + 4;
		if (strncmp(path, "not found", 9) == 0) {
			snprintf(why, whylen, "ldd: %s not found", name);
			return -1;
		}
		sp = strstr(path, " (0x");
		if (sp)
			*sp = '\0';
		if (!*path) /* "linux-vdso.so.1 =>  (0x...)" on old glibc */
			return 0;
	} else {
		sp = strstr(line, " (0x");
		if (sp)
			*sp = '\0';
		if (line[0] != '/') /* linux-vdso.so.1: in the kernel, not a file */
			return 0;
		path = line;
		base = strrchr(path, '/') + 1;
		snprintf(name, sizeof(name), "%s", base);
		if (strncmp(base, "ld-", 3) == 0 || strstr(base, "/ld-")) {
			free(p->loader);
			p->loader = strdup(base);
			if (!p->loader) {
				snprintf(why, whylen, "out of memory");
				return -1;
			}
		}
	}
	if (strchr(name, '/')) /* a DT_NEEDED given as a path: keep its file name */
		snprintf(name, sizeof(name), "%s", strrchr(name, '/') + 1);
	if (access(path, R_OK)) {
		snprintf(why, whylen, "ldd resolved %s to %s, which cannot be read", name, path);
		return -1;
	}
	snprintf(entry, sizeof(entry), "lib/%s", name);
	return plan_add(p, entry, path, why, whylen);
}

/* The bootstrap: runs the binary through the bundled loader with the bundled libraries,
 * from the script's own directory (so LAMBDA_TASK_ROOT need not be set, layers work). */
static int write_bootstrap(struct plan *p, const char *name)
{
	struct aws_buf *b = &p->bootstrap;

	if (aws_buf_printf(b,
			   "#!/bin/sh\n"
			   "# bootstrap: run %s with the glibc and libraries bundled in lib/.\n"
			   "case $0 in */*) d=${0%%/*} ;; *) d=. ;; esac\n"
			   "if [ -z \"${AWS_CA_BUNDLE:-}\" ] && [ -r /etc/pki/tls/certs/ca-bundle.crt ]; "
			   "then\n"
			   "\texport AWS_CA_BUNDLE=/etc/pki/tls/certs/ca-bundle.crt\n"
			   "fi\n",
			   name))
		return -1;
	if (p->loader)
		return aws_buf_printf(b, "exec \"$d/lib/%s\" --library-path \"$d/lib\" \"$d/bin/%s\" \"$@\"\n",
				      p->loader, name);
	return aws_buf_printf(b, "exec \"$d/bin/%s\" \"$@\"\n", name);
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/* Write the planned entries, sorted, to path. Returns 0 or -1 with why. */
static int write_zip(struct plan *p, const char *path, char *why, size_t whylen)
{
	zip_t *za;
	int zerr = 0;

	unlink(path);
	za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
	if (!za) {
		zip_error_t ze;

		zip_error_init_with_code(&ze, zerr);
		snprintf(why, whylen, "%s: %s", path, zip_error_strerror(&ze));
		zip_error_fini(&ze);
		return -1;
	}
	qsort(p->e, (size_t)p->n, sizeof(p->e[0]), cmp_entry);
	for (int i = 0; i < p->n; i++) {
		zip_source_t *src = p->e[i].src ? zip_source_file(za, p->e[i].src, 0, -1)
						: zip_source_buffer(za, p->e[i].data, p->e[i].len, 0);
		zip_int64_t idx;

		if (!src)
			goto zfail;
		idx = zip_file_add(za, p->e[i].name, src, ZIP_FL_ENC_UTF_8);
		if (idx < 0) {
			zip_source_free(src);
			goto zfail;
		}
		if (zip_file_set_external_attributes(za, (zip_uint64_t)idx, 0, ZIP_OPSYS_UNIX,
						     (zip_uint32_t)(S_IFREG | 0755) << 16) ||
		    zip_file_set_dostime(za, (zip_uint64_t)idx, DOS_TIME, DOS_DATE, 0) ||
		    zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_DEFLATE, 6))
			goto zfail;
	}
	if (zip_close(za)) {
		snprintf(why, whylen, "%s: %s", path, zip_strerror(za));
		zip_discard(za);
		unlink(path);
		return -1;
	}
	return 0;
zfail:
	snprintf(why, whylen, "%s: %s", path, zip_strerror(za));
	zip_discard(za);
	unlink(path);
	return -1;
}

int stack_code_sha256(const char *path, char *out, size_t outlen, long long *size)
{
	unsigned char md[EVP_MAX_MD_SIZE], chunk[65536];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = NULL;
	long long total = 0;
	FILE *f = NULL;
	size_t n;
	int rc = -1;

	if (outlen < 45)
		return -1;
	f = fopen(path, "rb");
	ctx = EVP_MD_CTX_new();
	if (!f || !ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		goto out;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (!EVP_DigestUpdate(ctx, chunk, n))
			goto out;
		total += (long long)n;
	}
	if (ferror(f) || !EVP_DigestFinal_ex(ctx, md, &mdlen))
		goto out;
	EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
	*size = total;
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	if (f)
		fclose(f);
	return rc;
}

int stack_package_one(const char *binary, const char *zip_path, struct stack_package_result *res,
		      char *why, size_t whylen)
{
	struct plan p;
	struct aws_buf ldd, tmp;
	char real[PATH_MAX], entry[PATH_MAX + 8];
	const char *name;
	char *line, *nl;
	int rc = -1;

	if (whylen)
		why[0] = '\0';
	memset(&p, 0, sizeof(p));
	aws_buf_init(&p.bootstrap, 64 * 1024);
	aws_buf_init(&ldd, LDD_MAX_OUTPUT);
	aws_buf_init(&tmp, PATH_MAX + 32);
	errno = 0;
	if (!realpath(binary, real) || access(real, X_OK)) {
		snprintf(why, whylen, "%s: %s", binary, errno ? strerror(errno) : "not executable");
		goto out;
	}
	name = strrchr(real, '/') + 1;
	snprintf(entry, sizeof(entry), "bin/%s", name);
	if (plan_add(&p, entry, real, why, whylen) || run_ldd(real, &ldd, why, whylen))
		goto out;
	for (line = ldd.data; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (strstr(line, "statically linked"))
			continue;
		if (ldd_line(&p, line, why, whylen))
			goto out;
	}
	if (write_bootstrap(&p, name) || plan_add(&p, "bootstrap", NULL, why, whylen)) {
		if (!why[0])
			snprintf(why, whylen, "out of memory");
		goto out;
	}
	p.e[p.n - 1].data = p.bootstrap.data;
	p.e[p.n - 1].len = p.bootstrap.len;
	if (aws_buf_printf(&tmp, "%s.tmp.%ld", zip_path, (long)getpid())) {
		snprintf(why, whylen, "path too long: %s", zip_path);
		goto out;
	}
	if (write_zip(&p, tmp.data, why, whylen))
		goto out;
	if (rename(tmp.data, zip_path)) {
		snprintf(why, whylen, "rename to %s: %s", zip_path, strerror(errno));
		unlink(tmp.data);
		goto out;
	}
	snprintf(res->path, sizeof(res->path), "%s", zip_path);
	res->files = p.n;
	if (stack_code_sha256(zip_path, res->sha256_b64, sizeof(res->sha256_b64), &res->size)) {
		snprintf(why, whylen, "%s: cannot read it back", zip_path);
		goto out;
	}
	rc = 0;
out:
	aws_buf_cleanup(&ldd);
	aws_buf_cleanup(&tmp);
	plan_cleanup(&p);
	return rc;
}

/* mkdir -p dir. Returns 0 or -1 with why. */
static int make_dirs(const char *dir, char *why, size_t whylen)
{
	char path[PATH_MAX];
	size_t len;

	len = (size_t)snprintf(path, sizeof(path), "%s", dir);
	if (len >= sizeof(path)) {
		snprintf(why, whylen, "path too long: %s", dir);
		return -1;
	}
	for (char *s = path + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			goto fail;
		*s = '/';
	}
	if (mkdir(path, 0755) && errno != EEXIST)
		goto fail;
	return 0;
fail:
	snprintf(why, whylen, "mkdir %s: %s", path, strerror(errno));
	return -1;
}

int stack_package(const char *bin_dir, const char *out_dir, struct stack_package_result *res,
		  char *why, size_t whylen)
{
	char bin[PATH_MAX], zip[PATH_MAX];

	if (whylen)
		why[0] = '\0';
	if (make_dirs(out_dir, why, whylen))
		return -1;
	for (int i = 0; i < STACK_PACKAGE_COUNT; i++) {
		if ((size_t)snprintf(bin, sizeof(bin), "%s/%s", bin_dir, stack_packages[i].binary) >=
			    sizeof(bin) ||
		    (size_t)snprintf(zip, sizeof(zip), "%s/%s", out_dir, stack_packages[i].zip) >=
			    sizeof(zip)) {
			snprintf(why, whylen, "path too long");
			return -1;
		}
		if (stack_package_one(bin, zip, &res[i], why, whylen))
			return -1;
	}
	return 0;
}
