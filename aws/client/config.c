/* config.c: the shared config/credentials files, env and credential_process, as botocore reads them. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

/* Files larger than this are not configuration files. */
#define CONFIG_FILE_CAP ((size_t)16 * 1024 * 1024)
/* The most a credential_process may print. */
#define PROCESS_OUTPUT_CAP ((size_t)1024 * 1024)

/* ---- errors and credentials --------------------------------------------------------- */

int aws_error_set(struct aws_error *err, int http_status, const char *code, const char *fmt, ...)
{
	char msg[sizeof err->message], cd[sizeof err->code];
	va_list ap;

	if (!err)
		return -1;
	/* Format first: the arguments (and code) may point into err itself. */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(cd, sizeof cd, "%s", code ? code : "");
	memset(err, 0, sizeof *err);
	err->http_status = http_status;
	memcpy(err->code, cd, sizeof cd);
	memcpy(err->message, msg, sizeof msg);
	return -1;
}

/* Free a secret string after wiping it. */
static void free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void aws_credentials_cleanup(struct aws_credentials *c)
{
	if (!c)
		return;
	free_secret(c->access_key_id);
	free_secret(c->secret_access_key);
	free_secret(c->session_token);
	memset(c, 0, sizeof *c);
}

/* ---- small helpers ------------------------------------------------------------------- */

/* An environment variable, or NULL when unset or empty. Borrowed. */
static const char *env_get(const char *name)
{
	const char *v = getenv(name);
	return v && v[0] ? v : NULL;
}

/* strdup that accepts NULL. Returns 0, or -1 on ENOMEM. */
static int dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -1;
}

/* Make room for need elements of size elem in *p (capacity *cap). Returns 0 or -1. */
static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *np;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, ncap * elem);
	if (!np)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* The [b, e) range of s without surrounding whitespace. */
static void trim(const char *s, size_t len, size_t *b, size_t *e)
{
	size_t i = 0, j = len;

	while (i < j && is_space(s[i]))
		i++;
	while (j > i && is_space(s[j - 1]))
		j--;
	*b = i;
	*e = j;
}

/* botocore's ensure_boolean for strings: "true" in any case. */
static int str_true(const char *v)
{
	return v && strcasecmp(v, "true") == 0;
}

/* ---- paths ----------------------------------------------------------------------------- */

/* os.path.expandvars then os.path.expanduser: $VAR and ${VAR} (unknown ones stay), then
 * a leading ~ or ~user. Returns a new string (caller frees) or NULL on ENOMEM. */
static char *expand_path(const char *in)
{
	struct aws_buf b, v;
	const char *p = in;
	char *mid = NULL, *res = NULL;

	aws_buf_init(&b, 0);
	aws_buf_init(&v, 0);
	while (*p) {
		const char *name = NULL;
		size_t nlen = 0, skip = 0;

		if (p[0] == '$' && p[1] == '{') {
			const char *close = strchr(p + 2, '}');
			if (close && close > p + 2) {
				name = p + 2;
				nlen = (size_t)(close - name);
				skip = nlen + 3;
			}
		} else if (p[0] == '$') {
			size_t k = 1;
			while (p[k] == '_' || (p[k] >= 'a' && p[k] <= 'z') ||
			       (p[k] >= 'A' && p[k] <= 'Z') || (p[k] >= '0' && p[k] <= '9'))
				k++;
			if (k > 1) {
				name = p + 1;
				nlen = k - 1;
				skip = k;
			}
		}
		if (name) {
			const char *val;
			aws_buf_reset(&v);
			if (aws_buf_add(&v, name, nlen))
				goto fail;
			val = getenv(aws_buf_str(&v));
			if (val) {
				if (aws_buf_adds(&b, val))
					goto fail;
			} else if (aws_buf_add(&b, p, skip)) {
				goto fail;
			}
			p += skip;
			continue;
		}
		if (aws_buf_addc(&b, *p))
			goto fail;
		p++;
	}
	mid = aws_buf_take(&b);
	if (!mid)
		goto fail;
	if (mid[0] == '~') {
		const char *slash = strchr(mid, '/');
		size_t ulen = slash ? (size_t)(slash - mid - 1) : strlen(mid) - 1;
		const char *home = NULL;

		if (ulen == 0) {
			home = getenv("HOME");
			if (!home) {
				struct passwd *pw = getpwuid(getuid());
				home = pw ? pw->pw_dir : NULL;
			}
		} else {
			struct passwd *pw;
			aws_buf_reset(&v);
			if (aws_buf_add(&v, mid + 1, ulen))
				goto fail;
			pw = getpwnam(aws_buf_str(&v));
			home = pw ? pw->pw_dir : NULL;
		}
		if (home) {
			aws_buf_reset(&b);
			if (aws_buf_adds(&b, home) || aws_buf_adds(&b, mid + 1 + ulen))
				goto fail;
			res = aws_buf_take(&b);
			goto fail;
		}
	}
	res = mid;
	mid = NULL;
fail:
	free(mid);
	aws_buf_cleanup(&b);
	aws_buf_cleanup(&v);
	return res;
}

/* ---- INI files, the way Python's RawConfigParser (and botocore on top) reads them ----- */

/* One key: a string value, or (value starting with a newline) nested sub-keys. */
struct ini_kv {
	char *key;            /* lowercased, like RawConfigParser.optionxform */
	char *value;          /* the joined value */
	struct ini_kv *sub;   /* nested "k = v" lines, keys as written */
	size_t nsub, capsub;
	int nested;
	int line;
	/* while parsing: the line number of every value line */
	int *lines;
	size_t nlines, caplines;
	struct aws_buf raw;
};

struct ini_section {
	char *name;
	struct ini_kv *kv;
	size_t nkv, capkv;
};

/* A parsed file. Sections in file order; [DEFAULT] keys apply to every section. */
struct ini {
	struct ini_section *sec;
	size_t nsec, capsec;
	struct ini_section defaults;
};

static void ini_kv_cleanup(struct ini_kv *kv)
{
	free(kv->key);
	if (kv->value) {
		explicit_bzero(kv->value, strlen(kv->value));
		free(kv->value);
	}
	for (size_t i = 0; i < kv->nsub; i++)
		ini_kv_cleanup(&kv->sub[i]);
	free(kv->sub);
	free(kv->lines);
	aws_buf_cleanup(&kv->raw);
}

static void ini_section_cleanup(struct ini_section *s)
{
	free(s->name);
	for (size_t i = 0; i < s->nkv; i++)
		ini_kv_cleanup(&s->kv[i]);
	free(s->kv);
}

static void ini_cleanup(struct ini *f)
{
	for (size_t i = 0; i < f->nsec; i++)
		ini_section_cleanup(&f->sec[i]);
	free(f->sec);
	ini_section_cleanup(&f->defaults);
	memset(f, 0, sizeof *f);
}

static struct ini_kv *section_find(const struct ini_section *s, const char *key)
{
	for (size_t i = 0; s && i < s->nkv; i++)
		if (strcmp(s->kv[i].key, key) == 0)
			return &s->kv[i];
	return NULL;
}

static struct ini_section *ini_find(const struct ini *f, const char *name)
{
	for (size_t i = 0; i < f->nsec; i++)
		if (strcmp(f->sec[i].name, name) == 0)
			return &f->sec[i];
	return NULL;
}

/* A key of section s (or of [DEFAULT] when s lacks it); NULL when s is NULL. */
static const struct ini_kv *ini_get_kv(const struct ini *f, const struct ini_section *s,
				       const char *key)
{
	const struct ini_kv *kv;

	if (!s)
		return NULL;
	kv = section_find(s, key);
	return kv ? kv : section_find(&f->defaults, key);
}

/* A plain (not nested) string value, or NULL. Borrowed. */
static const char *ini_get(const struct ini *f, const struct ini_section *s, const char *key)
{
	const struct ini_kv *kv = ini_get_kv(f, s, key);
	return kv && !kv->nested ? kv->value : NULL;
}

/* Append a value line (and its line number) to an option. Returns 0 or -1. */
static int kv_append(struct ini_kv *kv, const char *s, size_t len, int lineno, int first)
{
	if (grow((void **)&kv->lines, &kv->caplines, kv->nlines + 1, sizeof *kv->lines))
		return -1;
	kv->lines[kv->nlines++] = lineno;
	if (!first && aws_buf_addc(&kv->raw, '\n'))
		return -1;
	return aws_buf_add(&kv->raw, s, len);
}

/* Split a joined value into nested "k = v" pairs (botocore _parse_nested).
 * Returns 0, -1 on ENOMEM, or the line number of a line without '='. */
static int kv_parse_nested(struct ini_kv *kv)
{
	const char *p = kv->value;
	size_t idx = 0;

	for (;;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p), b, e;

		trim(p, len, &b, &e);
		if (e > b) {
			const char *eq = memchr(p + b, '=', e - b);
			struct ini_kv *sub = NULL;
			size_t kb, ke, vb, ve;
			char *key;

			if (!eq)
				return idx < kv->nlines ? kv->lines[idx] : kv->line;
			trim(p + b, (size_t)(eq - (p + b)), &kb, &ke);
			trim(eq + 1, (size_t)(p + e - eq - 1), &vb, &ve);
			key = strndup(p + b + kb, ke - kb);
			if (!key)
				return -1;
			/* Later duplicates win (a Python dict). */
			for (size_t i = 0; i < kv->nsub; i++)
				if (strcmp(kv->sub[i].key, key) == 0)
					sub = &kv->sub[i];
			if (sub) {
				free(key);
				free(sub->value);
			} else {
				if (grow((void **)&kv->sub, &kv->capsub, kv->nsub + 1,
					 sizeof *kv->sub)) {
					free(key);
					return -1;
				}
				sub = &kv->sub[kv->nsub++];
				memset(sub, 0, sizeof *sub);
				sub->key = key;
			}
			sub->line = idx < kv->nlines ? kv->lines[idx] : kv->line;
			sub->value = strndup(eq + 1 + vb, ve - vb);
			if (!sub->value)
				return -1;
		}
		if (!nl)
			break;
		p = nl + 1;
		idx++;
	}
	return 0;
}

/* Finish a section's options: join, strip the right, parse nested blocks.
 * Returns 0, -1 on ENOMEM, or a positive line number of a bad nested line. */
static int section_finish(struct ini_section *s)
{
	for (size_t i = 0; i < s->nkv; i++) {
		struct ini_kv *kv = &s->kv[i];
		size_t len;
		int rc;

		if (kv->value)
			continue;
		kv->value = aws_buf_take(&kv->raw);
		if (!kv->value)
			return -1;
		len = strlen(kv->value);
		while (len > 0 && is_space(kv->value[len - 1]))
			kv->value[--len] = '\0';
		if (kv->value[0] != '\n')
			continue;
		kv->nested = 1;
		rc = kv_parse_nested(kv);
		if (rc)
			return rc;
	}
	return 0;
}

/* Read a whole file into b. Returns 1 when read, 0 when it cannot be opened or is not a
 * regular file (botocore: missing files are fine), -1 when too large or unreadable. */
static int read_file(const char *path, struct aws_buf *b)
{
	char chunk[8192];
	struct stat st;
	FILE *fp = NULL;
	size_t n;
	int rc = -1;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	fp = fopen(path, "rb");
	if (!fp)
		return 0;
	for (;;) {
		n = fread(chunk, 1, sizeof chunk, fp);
		if (n == 0)
			break;
		if (aws_buf_add(b, chunk, n))
			goto fail;
	}
	if (ferror(fp))
		goto fail;
	if (aws_buf_add(b, "", 0))
		goto fail;
	rc = 1;
fail:
	explicit_bzero(chunk, sizeof chunk);
	fclose(fp);
	return rc;
}

/* Parse text (RawConfigParser semantics: full-line comments # and ;, '=' or ':'
 * delimiters, lowercased keys, indented continuation lines, duplicate sections or keys
 * are errors, then botocore's nested blocks). shown names the file in messages.
 * Returns 0 with *out filled (ini_cleanup frees it), or -1 with err. */
static int ini_parse(const char *text, size_t tlen, const char *shown, struct ini *out,
		     struct aws_error *err)
{
	struct ini f = { 0 };
	struct ini_section *cur = NULL;
	struct ini_kv *opt = NULL;
	size_t indent_level = 0, pos = 0;
	int lineno = 0, rc = -1, bad;

	while (pos < tlen) {
		size_t end = pos, next, b, e, ind;
		const char *line = text + pos;

		while (end < tlen && text[end] != '\n' && text[end] != '\r')
			end++;
		next = end;
		if (next < tlen && text[next] == '\r' && next + 1 < tlen && text[next + 1] == '\n')
			next += 2;
		else if (next < tlen)
			next++;
		pos = next;
		lineno++;
		trim(line, end - (size_t)(line - text), &b, &e);
		if (b == e) {
			/* An empty line inside a value is kept (rstripped at the end). */
			if (cur && opt && kv_append(opt, "", 0, lineno, 0)) {
				aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
				goto fail;
			}
			continue;
		}
		if (line[b] == '#' || line[b] == ';')
			continue;
		ind = b;
		if (cur && opt && ind > indent_level) {
			if (kv_append(opt, line + b, e - b, lineno, 0)) {
				aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
				goto fail;
			}
			continue;
		}
		indent_level = ind;
		if (line[b] == '[') {
			/* \[(?P<header>.+)\] matched at the start: up to the last ']'. */
			size_t close = e;
			while (close > b + 1 && line[close - 1] != ']')
				close--;
			if (close > b + 2) {
				char *name = strndup(line + b + 1, close - 1 - (b + 1));
				if (!name) {
					aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
					goto fail;
				}
				opt = NULL;
				if (strcmp(name, "DEFAULT") == 0) {
					free(name);
					cur = &f.defaults;
					continue;
				}
				if (ini_find(&f, name)) {
					aws_error_set(err, 0, AWS_ERR_CONFIG,
						      "%s:%d: section '%s' already exists", shown,
						      lineno, name);
					free(name);
					goto fail;
				}
				if (grow((void **)&f.sec, &f.capsec, f.nsec + 1, sizeof *f.sec)) {
					free(name);
					aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
					goto fail;
				}
				cur = &f.sec[f.nsec++];
				memset(cur, 0, sizeof *cur);
				cur->name = name;
				continue;
			}
		}
		if (!cur) {
			aws_error_set(err, 0, AWS_ERR_CONFIG,
				      "%s:%d: file contains no section headers", shown, lineno);
			goto fail;
		}
		{
			const char *d = line + b;
			size_t kb, ke;
			char *key;

			while (d < line + e && *d != '=' && *d != ':')
				d++;
			trim(line + b, (size_t)(d - (line + b)), &kb, &ke);
			if (d == line + e || ke == kb) {
				aws_error_set(err, 0, AWS_ERR_CONFIG,
					      "%s:%d: expected 'key = value' or '[section]'", shown,
					      lineno);
				goto fail;
			}
			key = strndup(line + b + kb, ke - kb);
			if (!key) {
				aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
				goto fail;
			}
			for (char *k = key; *k; k++)
				if (*k >= 'A' && *k <= 'Z')
					*k = (char)(*k - 'A' + 'a');
			if (section_find(cur, key)) {
				aws_error_set(err, 0, AWS_ERR_CONFIG,
					      "%s:%d: key '%s' already set in section '%s'", shown,
					      lineno, key, cur->name ? cur->name : "DEFAULT");
				free(key);
				goto fail;
			}
			if (grow((void **)&cur->kv, &cur->capkv, cur->nkv + 1, sizeof *cur->kv)) {
				free(key);
				aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
				goto fail;
			}
			opt = &cur->kv[cur->nkv++];
			memset(opt, 0, sizeof *opt);
			aws_buf_init(&opt->raw, 0);
			opt->key = key;
			opt->line = lineno;
			d++;
			while (d < line + e && is_space(*d))
				d++;
			if (kv_append(opt, d, (size_t)(line + e - d), lineno, 1)) {
				aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
				goto fail;
			}
		}
	}
	for (size_t i = 0; i <= f.nsec; i++) {
		bad = section_finish(i < f.nsec ? &f.sec[i] : &f.defaults);
		if (bad < 0) {
			aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
			goto fail;
		}
		if (bad > 0) {
			aws_error_set(err, 0, AWS_ERR_CONFIG,
				      "%s:%d: expected 'key = value' in an indented block", shown, bad);
			goto fail;
		}
	}
	*out = f;
	memset(&f, 0, sizeof f);
	rc = 0;
fail:
	ini_cleanup(&f);
	return rc;
}

/* Load and parse a file; a missing file is an empty one. */
static int ini_load(const char *path, const char *shown, struct ini *out, struct aws_error *err)
{
	struct aws_buf b;
	int rc = -1, r;

	aws_buf_init(&b, CONFIG_FILE_CAP);
	memset(out, 0, sizeof *out);
	r = read_file(path, &b);
	if (r < 0) {
		aws_error_set(err, 0, AWS_ERR_CONFIG, "%s: cannot read the file", shown);
		goto fail;
	}
	if (r == 0) {
		rc = 0;
		goto fail;
	}
	rc = ini_parse(b.data ? b.data : "", b.len, shown, out, err);
fail:
	if (b.data)
		explicit_bzero(b.data, b.len);
	aws_buf_cleanup(&b);
	return rc;
}

/* Python's shlex.split(s) (POSIX mode) when it gives exactly two words: the second as a
 * new string (caller frees). NULL for any other count, unbalanced quotes or ENOMEM. */
static char *second_word(const char *s)
{
	struct aws_buf w;
	int words = 0, inword = 0, ok = 0;
	char *res = NULL;

	aws_buf_init(&w, 0);
	for (const char *p = s;; p++) {
		if (*p == '\0' || is_space(*p)) {
			if (inword) {
				words++;
				if (words == 2) {
					res = aws_buf_take(&w);
					if (!res)
						goto fail;
				}
				aws_buf_reset(&w);
				inword = 0;
			}
			if (*p == '\0')
				break;
			continue;
		}
		inword = 1;
		if (*p == '\'') {
			const char *q = strchr(p + 1, '\'');
			if (!q)
				goto fail;
			if (aws_buf_add(&w, p + 1, (size_t)(q - p - 1)) || aws_buf_add(&w, "", 0))
				goto fail;
			p = q;
		} else if (*p == '"') {
			for (p++; *p != '"'; p++) {
				if (*p == '\0')
					goto fail;
				if (*p == '\\' && (p[1] == '\\' || p[1] == '"' || p[1] == '$' ||
						   p[1] == '`'))
					p++;
				if (aws_buf_addc(&w, *p))
					goto fail;
			}
			if (aws_buf_add(&w, "", 0))
				goto fail;
		} else if (*p == '\\') {
			if (p[1] == '\0')
				goto fail;
			p++;
			if (aws_buf_addc(&w, *p))
				goto fail;
		} else if (aws_buf_addc(&w, *p)) {
			goto fail;
		}
	}
	ok = words == 2;
fail:
	if (!ok) {
		free(res);
		res = NULL;
	}
	aws_buf_cleanup(&w);
	return res;
}

/* A name -> section map (botocore build_profile_map): later entries replace earlier. */
struct sec_map {
	char **names;
	const struct ini_section **secs;
	size_t n, cap, capsec;
};

static void sec_map_cleanup(struct sec_map *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->names[i]);
	free(m->names);
	free(m->secs);
	memset(m, 0, sizeof *m);
}

static int sec_map_add(struct sec_map *m, char *name, const struct ini_section *s)
{
	if (grow((void **)&m->names, &m->cap, m->n + 1, sizeof *m->names) ||
	    grow((void **)&m->secs, &m->capsec, m->n + 1, sizeof *m->secs)) {
		free(name);
		return -1;
	}
	m->names[m->n] = name;
	m->secs[m->n++] = s;
	return 0;
}

static const struct ini_section *sec_map_get(const struct sec_map *m, const char *name)
{
	for (size_t i = m->n; i > 0; i--)
		if (strcmp(m->names[i - 1], name) == 0)
			return m->secs[i - 1];
	return NULL;
}

/* Sort the config file's sections into profiles and services sections. Returns 0 or -1. */
static int build_maps(const struct ini *cfg, struct sec_map *profiles, struct sec_map *services)
{
	for (size_t i = 0; i < cfg->nsec; i++) {
		const struct ini_section *s = &cfg->sec[i];
		struct sec_map *m = NULL;
		char *name = NULL;

		if (strncmp(s->name, "profile", 7) == 0)
			m = profiles;
		else if (strncmp(s->name, "sso-session", 11) == 0)
			continue;
		else if (strncmp(s->name, "services", 8) == 0)
			m = services;
		if (m) {
			name = second_word(s->name);
			if (!name)
				continue; /* not two words (or ENOMEM): not a profile */
		} else if (strcmp(s->name, "default") == 0) {
			m = profiles;
			name = strdup("default");
			if (!name)
				return -1;
		} else {
			continue;
		}
		if (sec_map_add(m, name, s))
			return -1;
	}
	return 0;
}

/* ---- credential_process ------------------------------------------------------------- */

/* Parse an ISO 8601 time ("2024-05-01T12:00:00Z", fractions, "+02:00", "+0200", or a
 * date alone; no zone means UTC) into epoch seconds. Returns 0 or -1. */
static int parse_iso8601(const char *s, long long *out)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0, off = 0;
	time_t t;

	memset(&tm, 0, sizeof tm);
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return -1;
	s += n;
	if (*s == 'T' || *s == 't' || *s == ' ') {
		s++;
		n = 0;
		if (sscanf(s, "%2d:%2d%n", &h, &mi, &n) != 2 || n != 5)
			return -1;
		s += n;
		if (*s == ':') {
			n = 0;
			if (sscanf(s, ":%2d%n", &sec, &n) != 1 || n != 3)
				return -1;
			s += n;
			if (*s == '.' || *s == ',') {
				s++;
				if (*s < '0' || *s > '9')
					return -1;
				while (*s >= '0' && *s <= '9')
					s++;
			}
		}
		if (*s == 'Z' || *s == 'z') {
			s++;
		} else if (*s == '+' || *s == '-') {
			int sign = *s == '-' ? -1 : 1, oh, om = 0;
			s++;
			n = 0;
			if (sscanf(s, "%2d%n", &oh, &n) != 1 || n != 2)
				return -1;
			s += 2;
			if (*s == ':')
				s++;
			if (*s >= '0' && *s <= '9') {
				n = 0;
				if (sscanf(s, "%2d%n", &om, &n) != 1 || n != 2)
					return -1;
				s += 2;
			}
			if (oh > 23 || om > 59)
				return -1;
			off = sign * (oh * 3600 + om * 60);
		}
	}
	if (*s != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = (long long)t - off;
	return 0;
}

/* Run cmd through /bin/sh (stdin and stderr /dev/null), collecting stdout into b.
 * Returns 0 (with *status the wait status) or -1 with err. */
static int run_process(const char *cmd, struct aws_buf *b, int *status, struct aws_error *err)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	char chunk[4096];
	int fds[2] = { -1, -1 }, have_fa = 0, rc = -1, e;
	pid_t pid = -1;
	ssize_t n;

	if (pipe2(fds, O_CLOEXEC) != 0) {
		aws_error_set(err, 0, AWS_ERR_CONFIG, "credential_process: pipe: %s",
			      strerror(errno));
		goto fail;
	}
	if (posix_spawn_file_actions_init(&fa) != 0) {
		aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
		goto fail;
	}
	have_fa = 1;
	if (posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) ||
	    posix_spawn_file_actions_adddup2(&fa, fds[1], 1) ||
	    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0)) {
		aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
		goto fail;
	}
	e = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ);
	if (e != 0) {
		pid = -1;
		aws_error_set(err, 0, AWS_ERR_CONFIG, "credential_process: cannot run /bin/sh: %s",
			      strerror(e));
		goto fail;
	}
	close(fds[1]);
	fds[1] = -1;
	for (;;) {
		n = read(fds[0], chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			aws_error_set(err, 0, AWS_ERR_CONFIG,
				      "credential_process: cannot read its output: %s",
				      strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		if (aws_buf_add(b, chunk, (size_t)n)) {
			aws_error_set(err, 0, AWS_ERR_CONFIG,
				      "credential_process: output larger than %zu bytes",
				      PROCESS_OUTPUT_CAP);
			goto fail;
		}
	}
	rc = 0;
fail:
	explicit_bzero(chunk, sizeof chunk);
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	if (pid > 0) {
		int st = 0;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		*status = st;
	}
	if (have_fa)
		posix_spawn_file_actions_destroy(&fa);
	return rc;
}

/* A required string member of the process's JSON. */
static const char *json_str_member(json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

int aws_config_credential_process(const char *cmd, struct aws_credentials *out,
				  struct aws_error *err)
{
	struct aws_credentials c = { 0 };
	struct aws_buf b;
	json_t *doc = NULL, *ver, *tok, *exp;
	const char *ak, *sk;
	int status = 0, rc = -1;

	aws_buf_init(&b, PROCESS_OUTPUT_CAP);
	if (!cmd || !cmd[0]) {
		aws_error_set(err, 0, AWS_ERR_CONFIG, "credential_process: empty command");
		goto fail;
	}
	if (run_process(cmd, &b, &status, err))
		goto fail;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFEXITED(status))
			aws_error_set(err, 0, AWS_ERR_CONFIG,
				      "credential_process failed (exit status %d)",
				      WEXITSTATUS(status));
		else
			aws_error_set(err, 0, AWS_ERR_CONFIG,
				      "credential_process failed (killed by signal %d)",
				      WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		goto fail;
	}
	/* Never quote the output in a message: it holds secrets. */
	doc = json_loadb(b.data ? b.data : "", b.len, 0, NULL);
	if (!json_is_object(doc)) {
		aws_error_set(err, 0, AWS_ERR_CONFIG,
			      "credential_process: its output is not a JSON object");
		goto fail;
	}
	ver = json_object_get(doc, "Version");
	if (!ver || json_number_value(ver) != 1.0 ||
	    (json_is_integer(ver) && json_integer_value(ver) != 1)) {
		aws_error_set(err, 0, AWS_ERR_CONFIG,
			      "credential_process: unsupported or missing Version "
			      "(supported versions: 1)");
		goto fail;
	}
	ak = json_str_member(doc, "AccessKeyId");
	sk = json_str_member(doc, "SecretAccessKey");
	if (!ak || !sk) {
		aws_error_set(err, 0, AWS_ERR_CONFIG,
			      "credential_process: missing required key in its output: %s",
			      !ak ? "AccessKeyId" : "SecretAccessKey");
		goto fail;
	}
	tok = json_object_get(doc, "SessionToken");
	if (tok && !json_is_null(tok) && !json_is_string(tok)) {
		aws_error_set(err, 0, AWS_ERR_CONFIG,
			      "credential_process: SessionToken is not a string");
		goto fail;
	}
	exp = json_object_get(doc, "Expiration");
	if (exp && !json_is_null(exp)) {
		if (!json_is_string(exp) || parse_iso8601(json_string_value(exp), &c.expiration)) {
			aws_error_set(err, 0, AWS_ERR_CONFIG,
				      "credential_process: Expiration is not an ISO 8601 time");
			goto fail;
		}
	}
	if (dup_opt(&c.access_key_id, ak) || dup_opt(&c.secret_access_key, sk) ||
	    dup_opt(&c.session_token, json_is_string(tok) ? json_string_value(tok) : NULL)) {
		aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
		goto fail;
	}
	*out = c;
	memset(&c, 0, sizeof c);
	rc = 0;
fail:
	aws_credentials_cleanup(&c);
	json_decref(doc);
	if (b.data)
		explicit_bzero(b.data, b.len);
	aws_buf_cleanup(&b);
	return rc;
}

/* ---- loading -------------------------------------------------------------------------- */

/* Everything read from disk for one load. */
struct files {
	char *cfg_path, *cred_path;     /* expanded */
	const char *cfg_shown, *cred_shown; /* as configured, for messages */
	struct ini cfg, cred;
	struct sec_map profiles, services;
};

static void files_cleanup(struct files *f)
{
	free(f->cfg_path);
	free(f->cred_path);
	ini_cleanup(&f->cfg);
	ini_cleanup(&f->cred);
	sec_map_cleanup(&f->profiles);
	sec_map_cleanup(&f->services);
}

/* Find, read and parse both files. Returns 0 or -1 with err. */
static int files_load(struct files *f, struct aws_error *err)
{
	f->cfg_shown = env_get("AWS_CONFIG_FILE");
	if (!f->cfg_shown)
		f->cfg_shown = "~/.aws/config";
	f->cred_shown = env_get("AWS_SHARED_CREDENTIALS_FILE");
	if (!f->cred_shown)
		f->cred_shown = "~/.aws/credentials";
	f->cfg_path = expand_path(f->cfg_shown);
	f->cred_path = expand_path(f->cred_shown);
	if (!f->cfg_path || !f->cred_path)
		return aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
	if (ini_load(f->cfg_path, f->cfg_shown, &f->cfg, err) ||
	    ini_load(f->cred_path, f->cred_shown, &f->cred, err))
		return -1;
	if (build_maps(&f->cfg, &f->profiles, &f->services))
		return aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
	return 0;
}

/* A profile as botocore's session sees it: the config file's profile updated with the
 * credentials file's section of the same name. */
struct profile {
	const struct files *f;
	const struct ini_section *cfg;  /* may be NULL */
	const struct ini_section *cred; /* may be NULL */
};

static const char *profile_get(const struct profile *p, const char *key)
{
	const struct ini_kv *kv = ini_get_kv(&p->f->cred, p->cred, key);

	if (!kv)
		kv = ini_get_kv(&p->f->cfg, p->cfg, key);
	return kv && !kv->nested ? kv->value : NULL;
}

/* Static keys from one section (aws_access_key_id present): 1 found, 0 none, -1 err. */
static int creds_from_section(const struct ini *f, const struct ini_section *s,
			      const char *shown, const char *profile,
			      struct aws_credentials *out, struct aws_error *err)
{
	const char *ak = ini_get(f, s, "aws_access_key_id");
	const char *sk = ini_get(f, s, "aws_secret_access_key");
	const char *tok = ini_get(f, s, "aws_session_token");

	if (!ak)
		return 0;
	if (!sk)
		return aws_error_set(err, 0, AWS_ERR_CONFIG,
				     "%s: profile '%s' has aws_access_key_id but no "
				     "aws_secret_access_key", shown, profile);
	if (!tok)
		tok = ini_get(f, s, "aws_security_token");
	if (dup_opt(&out->access_key_id, ak) || dup_opt(&out->secret_access_key, sk) ||
	    dup_opt(&out->session_token, tok))
		return aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
	return 1;
}

/* The credential chain (botocore's order for what cleanops supports): the environment
 * (unless a profile was passed explicitly), the shared credentials file,
 * credential_process, the config file. Nothing found is not an error. */
static int load_credentials(const struct profile *p, const char *name, int explicit_profile,
			    struct aws_config *c, struct aws_error *err)
{
	const char *ak = env_get("AWS_ACCESS_KEY_ID");
	const char *proc;
	int r;

	c->credentials_source = "none";
	if (!explicit_profile && ak) {
		const char *sk = env_get("AWS_SECRET_ACCESS_KEY");
		const char *tok = env_get("AWS_SESSION_TOKEN");
		const char *exp = env_get("AWS_CREDENTIAL_EXPIRATION");

		if (!sk)
			return aws_error_set(err, 0, AWS_ERR_CONFIG,
					     "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY "
					     "is not");
		if (!tok)
			tok = env_get("AWS_SECURITY_TOKEN");
		if (exp && parse_iso8601(exp, &c->credentials.expiration))
			return aws_error_set(err, 0, AWS_ERR_CONFIG,
					     "AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 time");
		if (dup_opt(&c->credentials.access_key_id, ak) ||
		    dup_opt(&c->credentials.secret_access_key, sk) ||
		    dup_opt(&c->credentials.session_token, tok))
			return aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
		c->credentials_source = "environment";
		c->have_credentials = 1;
		return 0;
	}
	r = creds_from_section(&p->f->cred, p->cred, p->f->cred_shown, name, &c->credentials, err);
	if (r < 0)
		return -1;
	if (r > 0) {
		c->credentials_source = "shared-credentials-file";
		c->have_credentials = 1;
		return 0;
	}
	proc = profile_get(p, "credential_process");
	if (proc && proc[0]) {
		if (aws_config_credential_process(proc, &c->credentials, err)) {
			/* aws_error_set formats before it clears err, so this may quote it. */
			if (err)
				aws_error_set(err, 0, err->code, "profile '%s': %s", name,
					      err->message);
			return -1;
		}
		if (dup_opt(&c->credential_process, proc))
			return aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
		c->credentials_source = "credential-process";
		c->have_credentials = 1;
		return 0;
	}
	r = creds_from_section(&p->f->cfg, p->cfg, p->f->cfg_shown, name, &c->credentials, err);
	if (r < 0)
		return -1;
	if (r > 0) {
		c->credentials_source = "config-file";
		c->have_credentials = 1;
	}
	return 0;
}

/* The [services NAME] section's per-service endpoint_url entries. Returns 0 or -1. */
static int load_services(const struct files *f, const char *sname, const char *profile,
			 struct aws_config *c, struct aws_error *err)
{
	const struct ini_section *s = sec_map_get(&f->services, sname);
	size_t cap = 0;

	if (!s)
		return aws_error_set(err, 0, AWS_ERR_CONFIG,
				     "%s: profile '%s' uses services '%s' but there is no "
				     "[services %s] section", f->cfg_shown, profile, sname, sname);
	for (size_t pass = 0; pass < 2; pass++) {
		const struct ini_section *from = pass == 0 ? s : &f->cfg.defaults;

		for (size_t i = 0; i < from->nkv; i++) {
			const struct ini_kv *kv = &from->kv[i];
			const char *url = NULL;
			struct aws_config_endpoint *ep;

			if (pass == 1 && section_find(s, kv->key))
				continue;
			for (size_t j = 0; kv->nested && j < kv->nsub; j++)
				if (strcmp(kv->sub[j].key, "endpoint_url") == 0)
					url = kv->sub[j].value;
			if (!url)
				continue;
			if (grow((void **)&c->endpoints, &cap, c->nendpoints + 1,
				 sizeof *c->endpoints))
				return aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
			ep = &c->endpoints[c->nendpoints];
			if (dup_opt(&ep->key, kv->key))
				return aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
			if (dup_opt(&ep->url, url)) {
				free(ep->key);
				return aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
			}
			c->nendpoints++;
		}
	}
	return 0;
}

int aws_config_load(const char *profile, const char *region, struct aws_config *out,
		    struct aws_error *err)
{
	struct aws_config c = { 0 };
	struct files f = { 0 };
	struct profile p = { &f, NULL, NULL };
	const char *name, *v, *ign;
	int explicit_profile = profile && profile[0], rc = -1;

	c.credentials_source = "none";
	if (files_load(&f, err))
		goto fail;
	/* botocore: AWS_DEFAULT_PROFILE, then AWS_PROFILE. */
	name = explicit_profile ? profile : env_get("AWS_DEFAULT_PROFILE");
	if (!name)
		name = env_get("AWS_PROFILE");
	p.cfg = sec_map_get(&f.profiles, name ? name : "default");
	p.cred = ini_find(&f.cred, name ? name : "default");
	if (name && !p.cfg && !p.cred) {
		aws_error_set(err, 0, AWS_ERR_CONFIG, "profile '%s' not found in %s or %s", name,
			      f.cfg_shown, f.cred_shown);
		goto fail;
	}
	if (!name)
		name = "default";
	if (dup_opt(&c.profile, name)) {
		aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
		goto fail;
	}

	v = region && region[0] ? region : env_get("AWS_REGION");
	if (!v)
		v = env_get("AWS_DEFAULT_REGION");
	if (!v)
		v = profile_get(&p, "region");
	if (dup_opt(&c.region, v && v[0] ? v : NULL)) {
		aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
		goto fail;
	}

	v = env_get("AWS_CA_BUNDLE");
	if (!v)
		v = profile_get(&p, "ca_bundle");
	if (dup_opt(&c.ca_bundle, v && v[0] ? v : NULL)) {
		aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
		goto fail;
	}

	v = env_get("AWS_MAX_ATTEMPTS");
	if (!v)
		v = profile_get(&p, "max_attempts");
	if (v) {
		char *end;
		long n;

		errno = 0;
		n = strtol(v, &end, 10);
		while (is_space(*end))
			end++;
		if (errno || end == v || *end || n < 1 || n > 1000) {
			aws_error_set(err, 0, AWS_ERR_CONFIG,
				      "max_attempts must be a whole number from 1 to 1000 "
				      "(AWS_MAX_ATTEMPTS or the profile's max_attempts)");
			goto fail;
		}
		c.max_attempts = (int)n;
	}

	/* The environment, when set at all, beats the profile (even when empty). */
	ign = getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	c.ignore_configured_endpoints =
		str_true(ign ? ign : profile_get(&p, "ignore_configured_endpoint_urls"));

	v = profile_get(&p, "endpoint_url");
	if (dup_opt(&c.endpoint_url, v && v[0] ? v : NULL)) {
		aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
		goto fail;
	}
	v = profile_get(&p, "services");
	if (v && !c.ignore_configured_endpoints && load_services(&f, v, name, &c, err))
		goto fail;

	if (load_credentials(&p, name, explicit_profile, &c, err))
		goto fail;
	*out = c;
	memset(&c, 0, sizeof c);
	rc = 0;
fail:
	aws_config_cleanup(&c);
	files_cleanup(&f);
	return rc;
}

void aws_config_cleanup(struct aws_config *c)
{
	if (!c)
		return;
	free(c->profile);
	free(c->region);
	free(c->ca_bundle);
	free(c->endpoint_url);
	for (size_t i = 0; i < c->nendpoints; i++) {
		free(c->endpoints[i].key);
		free(c->endpoints[i].url);
	}
	free(c->endpoints);
	aws_credentials_cleanup(&c->credentials);
	free(c->credential_process);
	memset(c, 0, sizeof *c);
	c->credentials_source = "none";
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int aws_config_list_profiles(char ***names, size_t *n, struct aws_error *err)
{
	struct files f = { 0 };
	char **v = NULL;
	size_t nv = 0, cap = 0, w = 0;
	int rc = -1;

	if (files_load(&f, err))
		goto fail;
	for (size_t i = 0; i < f.profiles.n + f.cred.nsec; i++) {
		const char *s = i < f.profiles.n ? f.profiles.names[i]
						 : f.cred.sec[i - f.profiles.n].name;
		if (grow((void **)&v, &cap, nv + 1, sizeof *v) || dup_opt(&v[nv], s)) {
			aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
			goto fail;
		}
		nv++;
	}
	if (nv)
		qsort(v, nv, sizeof *v, cmp_str);
	for (size_t i = 0; i < nv; i++) {
		if (w > 0 && strcmp(v[w - 1], v[i]) == 0) {
			free(v[i]);
			continue;
		}
		v[w++] = v[i];
	}
	nv = w;
	if (!v) {
		v = malloc(sizeof *v);
		if (!v) {
			aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
			goto fail;
		}
	}
	*names = v;
	*n = nv;
	v = NULL;
	nv = 0;
	rc = 0;
fail:
	for (size_t i = 0; i < nv; i++)
		free(v[i]);
	free(v);
	files_cleanup(&f);
	return rc;
}

const char *aws_config_endpoint(const struct aws_config *c, const char *config_key,
				const char *env_key)
{
	char var[256];
	const char *v;

	if (c && c->ignore_configured_endpoints)
		return NULL;
	if (env_key) {
		snprintf(var, sizeof var, "AWS_ENDPOINT_URL_%s", env_key);
		v = env_get(var);
		if (v)
			return v;
	}
	v = env_get("AWS_ENDPOINT_URL");
	if (v)
		return v;
	if (!c)
		return NULL;
	for (size_t i = 0; config_key && i < c->nendpoints; i++)
		if (strcmp(c->endpoints[i].key, config_key) == 0)
			return c->endpoints[i].url;
	return c->endpoint_url;
}
