/* fuzz.h: what every fuzz target shares: the libFuzzer entry points and a splitter that cuts
 * one input into NUL-terminated parts at "%%" lines, so a seed file stays readable text. */
#ifndef CLEANOPS_FUZZ_H
#define CLEANOPS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_MAX_PARTS 8

/* The parts of one input. Owned: fuzz_parts_free(). */
struct fuzz_parts {
	char *copy;                  /* the input, NUL-terminated, cut in place */
	char *part[FUZZ_MAX_PARTS];  /* NUL-terminated; missing parts are "" */
	size_t len[FUZZ_MAX_PARTS];  /* bytes before the NUL (a part may hold NULs) */
	int n;                       /* parts actually present */
};

/* Cut data at each "\n%%\n" into at most FUZZ_MAX_PARTS parts (the last part keeps any
 * further separators). Returns 0, or -1 when out of memory. */
static inline int fuzz_split(const uint8_t *data, size_t size, struct fuzz_parts *p)
{
	static const char sep[] = "\n%%\n";
	char *cur, *end;

	memset(p, 0, sizeof(*p));
	p->copy = malloc(size + 1);
	if (!p->copy)
		return -1;
	if (size)
		memcpy(p->copy, data, size);
	p->copy[size] = '\0';
	cur = p->copy;
	end = p->copy + size;
	while (p->n < FUZZ_MAX_PARTS) {
		char *hit = p->n + 1 < FUZZ_MAX_PARTS ?
			memmem(cur, (size_t)(end - cur), sep, sizeof(sep) - 1) : NULL;

		p->part[p->n] = cur;
		if (!hit) {
			p->len[p->n++] = (size_t)(end - cur);
			break;
		}
		*hit = '\0';
		p->len[p->n++] = (size_t)(hit - cur);
		cur = hit + sizeof(sep) - 1;
	}
	for (int i = p->n; i < FUZZ_MAX_PARTS; i++)
		p->part[i] = end; /* the final NUL: an empty string */
	return 0;
}

static inline void fuzz_parts_free(struct fuzz_parts *p)
{
	free(p->copy);
	p->copy = NULL;
}

#endif
