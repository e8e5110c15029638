/* buf.h: a growable byte buffer with a size cap (owning), used across cleanops. */
#ifndef CLEANOPS_AWS_BUF_H
#define CLEANOPS_AWS_BUF_H

#include <stdarg.h>
#include <stddef.h>

/* Default cap for a buffer: 64 MiB. */
#define AWS_BUF_DEFAULT_CAP ((size_t)64 * 1024 * 1024)

/* An owning, NUL-terminated byte buffer. Zero-initialise or aws_buf_init() it;
 * aws_buf_cleanup() frees it. After a failed append the buffer has freed its
 * contents (len 0, data NULL) so callers need no extra cleanup. */
struct aws_buf {
	char *data;   /* NUL-terminated when non-NULL */
	size_t len;   /* bytes used, not counting the NUL */
	size_t alloc; /* bytes allocated */
	size_t cap;   /* maximum len; 0 means AWS_BUF_DEFAULT_CAP */
};

/* Initialise an empty buffer that may grow to cap bytes (0: the default cap). */
void aws_buf_init(struct aws_buf *b, size_t cap);
/* Free the contents; the buffer is empty and reusable afterwards. */
void aws_buf_cleanup(struct aws_buf *b);
/* Empty the buffer, keeping its allocation. */
void aws_buf_reset(struct aws_buf *b);
/* Append len bytes. Returns 0, or -1 (buffer freed) on overflow of the cap or ENOMEM. */
int aws_buf_add(struct aws_buf *b, const void *data, size_t len);
/* Append a NUL-terminated string. Same returns as aws_buf_add. */
int aws_buf_adds(struct aws_buf *b, const char *s);
/* Append one byte. Same returns as aws_buf_add. */
int aws_buf_addc(struct aws_buf *b, char c);
/* Append printf-formatted text. Same returns as aws_buf_add. */
int aws_buf_printf(struct aws_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* va_list form of aws_buf_printf. */
int aws_buf_vprintf(struct aws_buf *b, const char *fmt, va_list ap);
/* Take the contents (caller frees with free()); the buffer is left empty.
 * Returns an empty allocated string when the buffer is empty, NULL on ENOMEM. */
char *aws_buf_take(struct aws_buf *b);
/* The contents as a C string; "" when empty. Borrowed: valid until the next change. */
const char *aws_buf_str(const struct aws_buf *b);

#endif
