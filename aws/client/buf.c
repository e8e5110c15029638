/* buf.c: the growable byte buffer (see buf.h). */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void aws_buf_init(struct aws_buf *b, size_t cap)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->cap = cap;
}

void aws_buf_cleanup(struct aws_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
}

void aws_buf_reset(struct aws_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* Make room for len more bytes plus the NUL. On failure the buffer is freed. */
static int grow(struct aws_buf *b, size_t len)
{
	size_t cap = b->cap ? b->cap : AWS_BUF_DEFAULT_CAP;
	size_t need, alloc;
	char *p;

	if (len > cap || b->len > cap - len)
		goto fail;
	need = b->len + len + 1;
	if (need <= b->alloc)
		return 0;
	alloc = b->alloc ? b->alloc : 64;
	while (alloc < need)
		alloc *= 2;
	p = realloc(b->data, alloc);
	if (!p)
		goto fail;
	b->data = p;
	b->alloc = alloc;
	return 0;
fail:
	aws_buf_cleanup(b);
	return -1;
}

int aws_buf_add(struct aws_buf *b, const void *data, size_t len)
{
	if (grow(b, len))
		return -1;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int aws_buf_adds(struct aws_buf *b, const char *s)
{
	return aws_buf_add(b, s, strlen(s));
}

int aws_buf_addc(struct aws_buf *b, char c)
{
	return aws_buf_add(b, &c, 1);
}

int aws_buf_vprintf(struct aws_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0 || grow(b, (size_t)n)) {
		aws_buf_cleanup(b);
		return -1;
	}
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int aws_buf_printf(struct aws_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = aws_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

char *aws_buf_take(struct aws_buf *b)
{
	char *p = b->data;

	if (!p)
		p = calloc(1, 1);
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	return p;
}

const char *aws_buf_str(const struct aws_buf *b)
{
	return b->data ? b->data : "";
}
