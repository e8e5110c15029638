/* fuzz_router.c: the sandbox's request router and the service handlers behind it
 * (aws/sandbox/router.c), driven without a socket: a headless sandbox on a temporary data
 * directory (created once; long polls and Lambda environments quiesced), and each input's
 * requests passed to sbx_route() the way server.c passes them.
 * Input: up to 8 requests cut at "%%" lines, each
 *     METHOD TARGET            (TARGET: the raw path, optionally ?query)
 *     Name: value              (headers, up to an empty line)
 *
 *     body
 * Every input starts from an empty store, so a finding replays from its file alone. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "aws/client/protocol.h"
#include "aws/sandbox/sbx_int.h"
#include "fuzz.h"

#define MAX_HEADERS 32

static struct sbx *sandbox;
static char data_dir[256];
static char **tables; /* every table of the store, emptied before each input */
static int ntables;

/* Remove dir and what is under it (the sandbox writes files and one level of folders). */
static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	if (!d)
		return;
	for (e = readdir(d); e; e = readdir(d)) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (unlink(path) != 0)
			remove_tree(path);
	}
	closedir(d);
	rmdir(dir);
}

static void stop_sandbox(void)
{
	sbx_stop(sandbox);
	sandbox = NULL;
	for (int i = 0; i < ntables; i++)
		free(tables[i]);
	free(tables);
	remove_tree(data_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sbx_opts opts;
	char err[512];
	const char *tmp = getenv("TMPDIR");
	sqlite3 *db;
	sqlite3_stmt *st;

	/* memory-backed when there is /dev/shm: the store writes on every request */
	if (!tmp || !*tmp)
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(data_dir, sizeof(data_dir), "%s/cleanops-fuzz-router-XXXXXX", tmp);
	if (!mkdtemp(data_dir)) {
		perror("fuzz_router: mkdtemp");
		abort();
	}
	memset(&opts, 0, sizeof(opts));
	opts.data_dir = data_dir;
	opts.headless = 1;
	if (sbx_start(&opts, &sandbox, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_router: cannot start the sandbox: %s\n", err);
		abort();
	}
	atexit(stop_sandbox);
	db = sbx_db_lock(sandbox);
	/* durability is no concern here: speed the per-input reset up */
	sbx_db_exec(sandbox, db, "PRAGMA synchronous=OFF;");
	st = sbx_db_prep(sandbox, db, "SELECT name FROM sqlite_master WHERE type = 'table'"
			 " AND name NOT LIKE 'sqlite_%'", "");
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		char **grown = realloc(tables, (size_t)(ntables + 1) * sizeof(*tables));

		if (!grown)
			break;
		tables = grown;
		tables[ntables] = strdup(sbx_col(st, 0));
		if (!tables[ntables])
			break;
		ntables++;
	}
	sqlite3_finalize(st);
	sbx_db_unlock(sandbox);
	return 0;
}

/* Empty every table (foreign keys off meanwhile, so the order does not matter), and now
 * and then the sandbox's log, which would otherwise grow by megabytes a minute. */
static void reset_store(void)
{
	static unsigned long inputs;
	sqlite3 *db = sbx_db_lock(sandbox);
	char sql[256];

	if (++inputs % 1024 == 0) {
		char log[300];

		snprintf(log, sizeof(log), "%s/sandbox.log", data_dir);
		if (truncate(log, 0) != 0)
			perror("fuzz_router: truncate the log");
	}

	sbx_db_exec(sandbox, db, "PRAGMA foreign_keys=OFF; BEGIN;");
	for (int i = 0; i < ntables; i++) {
		snprintf(sql, sizeof(sql), "DELETE FROM \"%s\";", tables[i]);
		sbx_db_exec(sandbox, db, sql);
	}
	sbx_db_exec(sandbox, db, "COMMIT; PRAGMA foreign_keys=ON;");
	sbx_db_unlock(sandbox);
}

/* Every AWS API reply must be readable by cleanops' own client: JSON that parses, XML that
 * is well-formed, and an error must have a body. Not checked: API invocations
 * (/_user_request_/), whose reply is whatever the API's templates make of it. */
static void check_reply(const struct sbx_http *h)
{
	const char *ct = h->content_type ? h->content_type : "";
	json_error_t jerr;

	if (strstr(h->path, "/_user_request_"))
		return;
	if (!h->out.len) {
		if (h->status >= 400) {
			fprintf(stderr, "fuzz_router: %d error reply without a body\n", h->status);
			abort(); /* every protocol's error names its code in the body */
		}
		return;
	}
	if (strstr(ct, "json")) {
		json_t *j = json_loadb(h->out.data, h->out.len, JSON_DECODE_ANY, &jerr);

		if (!j) {
			fprintf(stderr, "fuzz_router: %d reply is not JSON (%s): %.500s\n", h->status,
				jerr.text, h->out.data);
			abort();
		}
		json_decref(j);
	} else if (strstr(ct, "xml")) {
		json_t *j = aws_xml_to_json(h->out.data, h->out.len, NULL);

		if (!j) {
			fprintf(stderr, "fuzz_router: %d reply is not well-formed XML: %.500s\n",
				h->status, h->out.data);
			abort();
		}
		json_decref(j);
	}
}

/* Parse one request (text, cut in place) and route it. */
static void one_request(char *text, size_t len)
{
	const char *names[MAX_HEADERS], *values[MAX_HEADERS];
	struct sbx_conn conn = { NULL, names, values, 0 };
	struct sbx_http h;
	char *end = text + len, *line = text, *nl, *sp, *q, *body;
	size_t body_len;

	nl = memchr(line, '\n', len);
	if (nl)
		*nl = '\0';
	memset(&h, 0, sizeof(h));
	sp = strchr(line, ' ');
	if (sp)
		*sp++ = '\0';
	h.method = line;
	h.path = sp ? sp : "/";
	q = sp ? strchr(sp, '?') : NULL;
	if (q)
		*q++ = '\0';
	h.query = q ? q : "";
	line = nl ? nl + 1 : end;
	while (line < end) {
		char *colon;

		nl = memchr(line, '\n', (size_t)(end - line));
		if (nl)
			*nl = '\0';
		if (!*line) { /* the empty line: the body follows */
			line = nl ? nl + 1 : end;
			break;
		}
		colon = strchr(line, ':');
		if (colon && conn.n < MAX_HEADERS) {
			*colon = '\0';
			names[conn.n] = line;
			values[conn.n++] = colon + 1 + (colon[1] == ' ');
		}
		line = nl ? nl + 1 : end;
	}
	/* the body as the server hands it over: its own buffer, NUL-terminated */
	body_len = (size_t)(end - line);
	body = malloc(body_len + 1);
	if (!body)
		return;
	memcpy(body, line, body_len);
	body[body_len] = '\0';
	h.body = body;
	h.body_len = body_len;
	h.conn = &conn;
	aws_buf_init(&h.out, 0);
	sbx_route(sandbox, &h);
	if (h.status < 100 || h.status > 599)
		abort(); /* the router always answers: an error reply at worst */
	check_reply(&h);
	if (getenv("FUZZ_ROUTER_TRACE")) /* to check what a seed reaches */
		fprintf(stderr, "%s %s -> %d %.300s\n", h.method, h.path, h.status,
			aws_buf_str(&h.out));
	json_decref(h.headers);
	aws_buf_cleanup(&h.out);
	free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_parts p;

	if (!sandbox || fuzz_split(data, size, &p) != 0)
		return 0;
	reset_store();
	for (int i = 0; i < p.n; i++)
		one_request(p.part[i], p.len[i]);
	fuzz_parts_free(&p);
	return 0;
}
