/* state.c: the state file: load (corrupt files detected), atomic save (temp + rename), 0600. */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A state file larger than this is taken as corrupt (and rewritten from the reads). */
#define STATE_MAX_BYTES (1024 * 1024)

int stack_state_dir(const char *dir, char *out, size_t n)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	int len;

	if (dir && *dir)
		len = snprintf(out, n, "%s", dir);
	else if (xdg && *xdg)
		len = snprintf(out, n, "%s/cleanops", xdg);
	else
		len = snprintf(out, n, "%s/.local/state/cleanops", home && *home ? home : ".");
	return len < 0 || (size_t)len >= n ? -1 : 0;
}

int stack_state_file(const char *dir, const char *label, const char *stack, char *out, size_t n)
{
	char clean[256];
	size_t j = 0;
	int len;

	for (size_t i = 0; label[i] && j + 1 < sizeof(clean); i++) {
		char c = label[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == '.' || c == '-' || c == '_';

		if (ok)
			clean[j++] = c;
		else if (j && clean[j - 1] != '_')
			clean[j++] = '_';
	}
	clean[j] = '\0';
	len = snprintf(out, n, "%s/stack-%s-%s.json", dir, clean, stack);
	return len < 0 || (size_t)len >= n ? -1 : 0;
}

int stack_state_load(const char *path, json_t **out, char *why, size_t whylen)
{
	json_error_t jerr;
	struct stat st;
	json_t *j;

	if (access(path, F_OK) != 0) {
		if (errno != ENOENT) {
			snprintf(why, whylen, "%s: %s", path, strerror(errno));
			return -1;
		}
		*out = json_object();
		return 0;
	}
	if (stat(path, &st) == 0 && st.st_size > STATE_MAX_BYTES) {
		/* names and identifiers of a few dozen resources: never near this */
		snprintf(why, whylen, "larger than %d bytes", STATE_MAX_BYTES);
		*out = json_object();
		return 1;
	}
	j = json_load_file(path, 0, &jerr);
	if (!j || !json_is_object(j) || !json_is_object(json_object_get(j, "resources"))) {
		if (j)
			snprintf(why, whylen, "not a cleanops state document");
		else
			snprintf(why, whylen, "line %d: %s", jerr.line, jerr.text);
		json_decref(j);
		*out = json_object();
		return 1;
	}
	*out = j;
	return 0;
}

/* mkdir -p path with mode 0700. */
static int make_dirs(const char *path)
{
	char tmp[4096];
	size_t n = strlen(path);

	if (n >= sizeof(tmp))
		return -1;
	memcpy(tmp, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
			return -1;
		tmp[i] = i == n ? '\0' : '/';
	}
	return 0;
}

int stack_state_save(const char *path, json_t *state, char *why, size_t whylen)
{
	char dir[4096], tmp[4200];
	const char *slash = strrchr(path, '/');
	char *text = NULL;
	int fd = -1, rc = -1;
	size_t len, off = 0;

	if (slash && (size_t)(slash - path) < sizeof(dir)) {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
		if (dir[0] && make_dirs(dir)) {
			snprintf(why, whylen, "cannot create %s: %s", dir, strerror(errno));
			goto out;
		}
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	text = json_dumps(state, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	len = strlen(text);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(why, whylen, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			snprintf(why, whylen, "cannot write %s: %s", tmp, strerror(errno));
			goto out;
		}
		off += (size_t)w;
	}
	if (write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
		snprintf(why, whylen, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) != 0) {
		snprintf(why, whylen, "cannot rename %s: %s", tmp, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc)
		unlink(tmp);
	free(text);
	return rc;
}
