/* store.c: the sandbox's store: one SQLite database (WAL) in the data directory, one mutex. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sbx_int.h"

sqlite3 *sbx_db_lock(struct sbx *s)
{
	pthread_mutex_lock(&s->db_mu);
	return s->db;
}

void sbx_db_unlock(struct sbx *s)
{
	pthread_mutex_unlock(&s->db_mu);
}

pthread_mutex_t *sbx_db_mutex(struct sbx *s)
{
	return &s->db_mu;
}

/* Statements sbx_db_run, sbx_db_exec and sbx_db_stmt run stay prepared (SQLite takes about
 * as long to parse a statement as to run it): a direct-mapped table by the SQL text's
 * address, each entry checked against the text itself. Per sandbox, guarded by the store
 * lock. A slot lent out (sbx_db_stmt until sbx_db_done, or inside sbx_db_run) is busy: a
 * nested use of the same slot (the same statement re-entrantly, or two texts sharing the
 * slot) gets a statement of its own, finalized when given back. */
#define STMT_SLOTS 256

struct stmt_cache {
	sqlite3 *db;
	int nbusy;
	sqlite3_stmt *st[STMT_SLOTS];
	unsigned char busy[STMT_SLOTS];
};

static void stmt_cache_clear(struct stmt_cache *c)
{
	for (int i = 0; i < STMT_SLOTS; i++) {
		sqlite3_finalize(c->st[i]);
		c->st[i] = NULL;
		c->busy[i] = 0;
	}
	c->nbusy = 0;
}

static sqlite3_stmt *stmt_prepare(struct sbx *s, sqlite3 *db, const char *sql,
				  unsigned int flags)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v3(db, sql, -1, flags, &st, NULL) != SQLITE_OK) {
		sbx_log(s, "ERROR", "sqlite: %s (in: %.200s)", sqlite3_errmsg(db), sql);
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

/* The prepared statement for sql, reset and unbound, or NULL (logged). Lock held. Borrowed
 * (give it back with stmt_put before unlocking): *slot is its cache slot, or -1 for a
 * statement of its own (a busy slot, or no cache), which stmt_put finalizes. */
static sqlite3_stmt *stmt_get(struct sbx *s, sqlite3 *db, const char *sql, int *slot)
{
	struct stmt_cache *c = sbx_get_state(s, "store");
	size_t i = ((uintptr_t)sql >> 3) % STMT_SLOTS;
	sqlite3_stmt *st;

	*slot = -1;
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return stmt_prepare(s, db, sql, 0);
		sbx_set_state(s, "store", c);
	}
	if (c->db != db) {
		if (c->nbusy)
			return stmt_prepare(s, db, sql, 0);
		stmt_cache_clear(c);
		c->db = db;
	}
	if (c->busy[i])
		return stmt_prepare(s, db, sql, 0);
	st = c->st[i];
	if (!st || strcmp(sqlite3_sql(st), sql) != 0) {
		sqlite3_finalize(st);
		c->st[i] = NULL;
		st = stmt_prepare(s, db, sql, SQLITE_PREPARE_PERSISTENT);
		if (!st)
			return NULL;
		c->st[i] = st;
	}
	c->busy[i] = 1;
	c->nbusy++;
	*slot = (int)i;
	return st;
}

/* Give back a statement stmt_get lent out (NULL is ignored). */
static void stmt_put(struct sbx *s, sqlite3_stmt *st, int slot)
{
	struct stmt_cache *c;

	if (!st)
		return;
	if (slot < 0) {
		sqlite3_finalize(st);
		return;
	}
	c = sbx_get_state(s, "store");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	c->busy[slot] = 0;
	c->nbusy--;
}

int sbx_db_exec(struct sbx *s, sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (!strchr(sql, ';')) { /* one statement (BEGIN, COMMIT ...): the cached way */
		int slot, rc;
		sqlite3_stmt *st = stmt_get(s, db, sql, &slot);

		if (!st)
			return -1;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			;
		if (rc == SQLITE_DONE) {
			stmt_put(s, st, slot);
			return 0;
		}
		sbx_log(s, "ERROR", "sqlite: %s (in: %.200s)", sqlite3_errmsg(db), sql);
		stmt_put(s, st, slot);
		return -1;
	}
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	sbx_log(s, "ERROR", "sqlite: %s (in: %.200s)", msg ? msg : sqlite3_errmsg(db), sql);
	sqlite3_free(msg);
	return -1;
}

/* Bind the arguments fmt describes ('s' text or NULL, 'i' long long) to ?1, ?2 ... */
static void vbind(sqlite3_stmt *st, const char *fmt, va_list ap)
{
	int i = 1;

	for (const char *f = fmt ? fmt : ""; *f; f++, i++) {
		if (*f == 's') {
			const char *v = va_arg(ap, const char *);

			if (v)
				sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
			else
				sqlite3_bind_null(st, i);
		} else {
			sqlite3_bind_int64(st, i, va_arg(ap, long long));
		}
	}
}

static sqlite3_stmt *vprep(struct sbx *s, sqlite3 *db, const char *sql, const char *fmt,
			   va_list ap)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		sbx_log(s, "ERROR", "sqlite: %s (in: %.200s)", sqlite3_errmsg(db), sql);
		return NULL;
	}
	vbind(st, fmt, ap);
	return st;
}

sqlite3_stmt *sbx_db_prep(struct sbx *s, sqlite3 *db, const char *sql, const char *fmt, ...)
{
	va_list ap;
	sqlite3_stmt *st;

	va_start(ap, fmt);
	st = vprep(s, db, sql, fmt, ap);
	va_end(ap);
	return st;
}

int sbx_db_run(struct sbx *s, sqlite3 *db, const char *sql, const char *fmt, ...)
{
	va_list ap;
	sqlite3_stmt *st;
	int rc, slot;

	st = stmt_get(s, db, sql, &slot);
	if (!st)
		return -1;
	va_start(ap, fmt);
	vbind(st, fmt, ap);
	va_end(ap);
	rc = sqlite3_step(st);
	while (rc == SQLITE_ROW)
		rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		sbx_log(s, "ERROR", "sqlite: %s (in: %.200s)", sqlite3_errmsg(db), sql);
		stmt_put(s, st, slot);
		return -1;
	}
	rc = sqlite3_changes(db);
	stmt_put(s, st, slot);
	return rc;
}

sqlite3_stmt *sbx_db_stmt(struct sbx *s, sqlite3 *db, const char *sql, const char *fmt, ...)
{
	va_list ap;
	sqlite3_stmt *st;
	int slot;

	st = stmt_get(s, db, sql, &slot);
	if (!st)
		return NULL;
	va_start(ap, fmt);
	vbind(st, fmt, ap);
	va_end(ap);
	return st;
}

void sbx_db_done(struct sbx *s, sqlite3_stmt *st)
{
	struct stmt_cache *c = sbx_get_state(s, "store");

	if (!st)
		return;
	if (c)
		for (int i = 0; i < STMT_SLOTS; i++)
			if (c->st[i] == st && c->busy[i]) {
				stmt_put(s, st, i);
				return;
			}
	sqlite3_finalize(st);
}

const char *sbx_col(sqlite3_stmt *st, int i)
{
	const unsigned char *v = sqlite3_column_text(st, i);

	return v ? (const char *)v : "";
}

/* Refuse a damaged database (PRAGMA quick_check: every page's structure, O(size): 0.4 s
 * for 240 MB here) before anything writes to it, so the file stays as it was for whoever
 * repairs or restores it. Returns 0, or -1 with errbuf naming the file. */
static int check_integrity(sqlite3 *db, const char *path, char *errbuf, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &st, NULL);
	const char *what;

	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	what = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
	if (what && strcmp(what, "ok") == 0) {
		sqlite3_finalize(st);
		return 0;
	}
	snprintf(errbuf, errlen, "%s is corrupt (%s); it was left as it is: restore a copy, or "
		 "move it away to start with an empty sandbox", path,
		 what ? what : sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return -1;
}

int sbx_store_open(struct sbx *s, char *errbuf, size_t errlen)
{
	struct aws_buf path;
	int rc = -1;

	aws_buf_init(&path, 0);
	if (aws_buf_printf(&path, "%s/sandbox.db", s->data_dir) != 0) {
		snprintf(errbuf, errlen, "out of memory");
		goto done;
	}
	/* 0600 whatever the process umask: SQLite gives its -wal and -shm files the mode of
	 * the database file, and the store holds the issued secret keys */
	{
		int fd = open(path.data, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

		if (fd < 0 || fchmod(fd, 0600) != 0) {
			snprintf(errbuf, errlen, "cannot open %s: %s", path.data, strerror(errno));
			if (fd >= 0)
				close(fd);
			goto done;
		}
		close(fd);
	}
	/* our own mutex serialises use of the one connection */
	if (sqlite3_open_v2(path.data, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(errbuf, errlen, "cannot open %s: %s", path.data,
			 s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto done;
	}
	sqlite3_busy_timeout(s->db, 5000);
	/* WAL + synchronous=NORMAL: a commit survives kill -9 of this process (only an OS
	 * crash or power loss may drop the last transactions). */
	if (sbx_db_exec(s, s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
			"PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;") != 0) {
		int code = sqlite3_errcode(s->db);

		if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
			check_integrity(s->db, path.data, errbuf, errlen); /* says it is corrupt */
		else
			snprintf(errbuf, errlen, "cannot configure %s: %s", path.data,
				 sqlite3_errmsg(s->db));
		goto done;
	}
	if (check_integrity(s->db, path.data, errbuf, errlen) != 0)
		goto done;
	for (int i = 0; sbx_services[i]; i++) {
		const char *schema = sbx_services[i]->schema;

		if (schema && sbx_db_exec(s, s->db, schema) != 0) {
			snprintf(errbuf, errlen, "schema of %s failed: %s", sbx_services[i]->name,
				 sqlite3_errmsg(s->db));
			goto done;
		}
	}
	rc = 0;
done:
	if (rc != 0 && s->db) {
		sqlite3_close(s->db);
		s->db = NULL;
	}
	aws_buf_cleanup(&path);
	return rc;
}

void sbx_store_close(struct sbx *s)
{
	if (!s->db)
		return;
	pthread_mutex_lock(&s->db_mu);
	{
		struct stmt_cache *c = sbx_get_state(s, "store");

		if (c) {
			stmt_cache_clear(c);
			free(c);
			sbx_set_state(s, "store", NULL);
		}
	}
	sqlite3_close_v2(s->db);
	s->db = NULL;
	pthread_mutex_unlock(&s->db_mu);
}
