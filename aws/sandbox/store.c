/* store.c: the sandbox's store: one SQLite database (WAL) in the data directory, one mutex. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int sbx_db_exec(struct sbx *s, sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	sbx_log(s, "ERROR", "sqlite: %s (in: %.200s)", msg ? msg : sqlite3_errmsg(db), sql);
	sqlite3_free(msg);
	return -1;
}

static sqlite3_stmt *vprep(struct sbx *s, sqlite3 *db, const char *sql, const char *fmt,
			   va_list ap)
{
	sqlite3_stmt *st = NULL;
	int i = 1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		sbx_log(s, "ERROR", "sqlite: %s (in: %.200s)", sqlite3_errmsg(db), sql);
		return NULL;
	}
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
	int rc;

	va_start(ap, fmt);
	st = vprep(s, db, sql, fmt, ap);
	va_end(ap);
	if (!st)
		return -1;
	rc = sqlite3_step(st);
	while (rc == SQLITE_ROW)
		rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		sbx_log(s, "ERROR", "sqlite: %s (in: %.200s)", sqlite3_errmsg(db), sql);
		sqlite3_finalize(st);
		return -1;
	}
	rc = sqlite3_changes(db);
	sqlite3_finalize(st);
	return rc;
}

const char *sbx_col(sqlite3_stmt *st, int i)
{
	const unsigned char *v = sqlite3_column_text(st, i);

	return v ? (const char *)v : "";
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
		snprintf(errbuf, errlen, "cannot configure %s: %s", path.data, sqlite3_errmsg(s->db));
		goto done;
	}
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
	sqlite3_close_v2(s->db);
	s->db = NULL;
	pthread_mutex_unlock(&s->db_mu);
}
