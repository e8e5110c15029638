/* package.h: the Lambda zips (provided.al2023): bootstrap, binary and its bundled libraries. */
#ifndef CLEANOPS_STACK_PACKAGE_H
#define CLEANOPS_STACK_PACKAGE_H

#include <stddef.h>

/* The functions the stack ships, as rows: zip name and the binary it carries. */
struct stack_function_pkg {
	const char *zip;    /* "POC-Lambda-1.zip" (whatever the stack name) */
	const char *binary; /* "order-writer", found in the binaries' directory */
};
#define STACK_PACKAGE_COUNT 2
extern const struct stack_function_pkg stack_packages[STACK_PACKAGE_COUNT];

/* What one built zip is. */
struct stack_package_result {
	char path[4096];       /* the zip's path */
	long long size;        /* bytes */
	char sha256_b64[48];   /* CodeSha256: base64 of the SHA-256 of the zip's bytes */
	int files;             /* entries in the zip */
};

/* Build zip_path for the executable binary: bootstrap (mode 0755) at the root, the binary
 * in bin/, and in lib/ every shared library ldd resolves for it plus the dynamic loader,
 * so it runs on any x86-64/arm64 Linux (Amazon Linux 2023 included) whatever its glibc.
 * Reproducible: sorted entries, fixed timestamps (1980-01-01), fixed modes; the same
 * inputs give the same bytes. Written to a temporary file, then renamed into place.
 * Runs the `ldd` program. Returns 0 and fills *res, or -1 with a reason in why. */
int stack_package_one(const char *binary, const char *zip_path, struct stack_package_result *res,
		      char *why, size_t whylen);

/* Build every zip of stack_packages from the binaries in bin_dir into out_dir (created
 * when missing). res must have STACK_PACKAGE_COUNT rows. Returns 0, or -1 with why. */
int stack_package(const char *bin_dir, const char *out_dir, struct stack_package_result *res,
		  char *why, size_t whylen);

/* CodeSha256 of a file: base64 SHA-256 into out (at least 45 bytes), and its size.
 * Returns 0, or -1 when the file cannot be read. */
int stack_code_sha256(const char *path, char *out, size_t outlen, long long *size);

#endif
