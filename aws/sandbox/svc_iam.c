/* svc_iam.c: IAM in the sandbox: policies and versions, roles, attachments, inline policies,
 * tags, users and access keys. Documents are stored as given and returned URL-encoded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/client/sigv4.h"
#include "sbx_int.h"

#define ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
#define SECRET_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
#define MAX_VERSIONS 5

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS iam_policies (arn TEXT PRIMARY KEY, name TEXT NOT NULL,"
	" path TEXT NOT NULL, policy_id TEXT NOT NULL, description TEXT,"
	" default_version TEXT NOT NULL, next_version INTEGER NOT NULL,"
	" created INTEGER NOT NULL, updated INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS iam_policy_versions (arn TEXT NOT NULL, version TEXT NOT NULL,"
	" document TEXT NOT NULL, created INTEGER NOT NULL, PRIMARY KEY (arn, version));"
	"CREATE TABLE IF NOT EXISTS iam_roles (name TEXT PRIMARY KEY COLLATE NOCASE,"
	" path TEXT NOT NULL, role_id TEXT NOT NULL, arn TEXT NOT NULL, trust TEXT NOT NULL,"
	" description TEXT, max_session INTEGER NOT NULL, created INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS iam_users (name TEXT PRIMARY KEY COLLATE NOCASE,"
	" path TEXT NOT NULL, user_id TEXT NOT NULL, arn TEXT NOT NULL, created INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS iam_inline (kind TEXT NOT NULL, owner TEXT NOT NULL COLLATE NOCASE,"
	" name TEXT NOT NULL, document TEXT NOT NULL, PRIMARY KEY (kind, owner, name));"
	"CREATE TABLE IF NOT EXISTS iam_attached (kind TEXT NOT NULL,"
	" owner TEXT NOT NULL COLLATE NOCASE, arn TEXT NOT NULL, seq INTEGER NOT NULL,"
	" PRIMARY KEY (kind, owner, arn));"
	"CREATE TABLE IF NOT EXISTS iam_tags (kind TEXT NOT NULL, owner TEXT NOT NULL COLLATE NOCASE,"
	" key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, owner, key));"
	"CREATE TABLE IF NOT EXISTS iam_access_keys (access_key TEXT PRIMARY KEY,"
	" user TEXT NOT NULL COLLATE NOCASE, secret TEXT NOT NULL, status TEXT NOT NULL,"
	" created INTEGER NOT NULL);";

int sbx_iam_secret_for(struct sbx *s, const char *access_key, char *out, size_t n)
{
	sqlite3 *db = sbx_db_lock(s);
	sqlite3_stmt *st = sbx_db_prep(s, db, "SELECT secret FROM iam_access_keys WHERE "
				       "access_key = ?1 AND status = 'Active'", "s", access_key);
	int rc = -1;

	if (st && sqlite3_step(st) == SQLITE_ROW) {
		snprintf(out, n, "%s", sbx_col(st, 0));
		rc = 0;
	}
	sqlite3_finalize(st);
	sbx_db_unlock(s);
	return rc;
}

/* ---- small helpers ---- */

static int db_fail(struct sbx_req *r)
{
	return sbx_error(r, 500, "ServiceFailure", "The sandbox's store failed the request");
}

/* A required string member, else a ValidationError. */
static const char *need(struct sbx_req *r, json_t *in, const char *name)
{
	const char *v = sbx_str(in, name);

	if (!v || !*v)
		sbx_error(r, 400, "ValidationError",
			  "1 validation error detected: Value null at '%c%s' failed to satisfy "
			  "constraint: Member must not be null", name[0] + 32, name + 1);
	return v && *v ? v : NULL;
}

/* A policy document must be JSON (an object). */
static int check_document(struct sbx_req *r, const char *doc)
{
	json_error_t jerr;
	json_t *j = json_loads(doc, 0, &jerr);
	int ok = json_is_object(j);

	json_decref(j);
	if (!ok)
		return sbx_error(r, 400, "MalformedPolicyDocument", "Syntax errors in policy.");
	return 0;
}

/* The document as IAM returns it: percent-encoded (boto3 decodes it). New reference. */
static json_t *encoded_doc(const char *doc)
{
	struct aws_buf b;
	json_t *v;

	aws_buf_init(&b, 0);
	if (aws_sigv4_uri_encode(&b, doc, strlen(doc), 0) != 0)
		return json_string(doc);
	v = json_string(aws_buf_str(&b));
	aws_buf_cleanup(&b);
	return v;
}

static json_t *iso(long long ms)
{
	char t[32];

	sbx_iso_time(ms, t);
	return json_string(t);
}

/* A normalised path: "/" when absent; must start and end with '/'. */
static const char *path_of(struct sbx_req *r, json_t *in)
{
	const char *p = sbx_str(in, "Path");

	if (!p || !*p)
		return "/";
	if (p[0] != '/' || p[strlen(p) - 1] != '/') {
		sbx_error(r, 400, "ValidationError", "The specified value for path is invalid. It "
			  "must begin and end with / and contain only alphanumeric characters "
			  "and/or / characters.");
		return NULL;
	}
	return p;
}

static void new_id(char out[22], const char *prefix)
{
	memcpy(out, prefix, 4);
	sbx_rand_chars(out + 4, 17, ID_CHARS);
}

/* Marker/MaxItems paging: offset and limit. */
static int paging(struct sbx_req *r, json_t *in, long long *offset, long long *limit)
{
	const char *m = sbx_str(in, "Marker");

	*limit = sbx_int(in, "MaxItems", 100);
	*offset = 0;
	if (*limit < 1 || *limit > 1000)
		return sbx_error(r, 400, "ValidationError", "MaxItems must be between 1 and 1000");
	if (m) {
		char *end;

		*offset = strtoll(m, &end, 10);
		if (*end || *offset < 0)
			return sbx_error(r, 400, "ValidationError", "Invalid Marker");
	}
	return 0;
}

/* Finish a paged list: IsTruncated and Marker, given one extra row was fetched. */
static void page_out(json_t *out, json_t *arr, long long offset, long long limit)
{
	if ((long long)json_array_size(arr) > limit) {
		char m[32];

		json_array_remove(arr, (size_t)limit);
		snprintf(m, sizeof(m), "%lld", offset + limit);
		json_object_set_new(out, "IsTruncated", json_true());
		json_object_set_new(out, "Marker", json_string(m));
	} else {
		json_object_set_new(out, "IsTruncated", json_false());
	}
}

/* Tags of kind/owner as [{Key, Value}], or NULL when none. */
static json_t *tags_of(struct sbx *s, sqlite3 *db, const char *kind, const char *owner)
{
	sqlite3_stmt *st = sbx_db_prep(s, db, "SELECT key, value FROM iam_tags WHERE kind = ?1 AND "
				       "owner = ?2 ORDER BY key", "ss", kind, owner);
	json_t *arr = json_array();

	while (st && sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(arr, json_pack("{s:s, s:s}", "Key", sbx_col(st, 0),
						     "Value", sbx_col(st, 1)));
	sqlite3_finalize(st);
	if (json_array_size(arr) == 0) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

/* Store the Tags member ([{Key, Value}]) on kind/owner. */
static int put_tags(struct sbx_req *r, sqlite3 *db, const char *kind, const char *owner,
		    json_t *tags)
{
	size_t i;
	json_t *t;

	if (tags && !json_is_array(tags))
		return sbx_error(r, 400, "ValidationError", "Tags must be a list");
	json_array_foreach(tags, i, t) {
		const char *k = sbx_str(t, "Key"), *v = sbx_str(t, "Value");

		if (!k || !*k)
			return sbx_error(r, 400, "ValidationError", "A tag needs a Key");
		if (sbx_db_run(r->sbx, db, "INSERT OR REPLACE INTO iam_tags VALUES (?1, ?2, ?3, ?4)",
			       "ssss", kind, owner, k, v ? v : "") < 0)
			return db_fail(r);
	}
	return 0;
}

/* ---- roles ---- */

#define ROLE_COLS "name, path, role_id, arn, trust, description, max_session, created"

static json_t *role_json(struct sbx *s, sqlite3 *db, sqlite3_stmt *st)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:I}", "RoleName", sbx_col(st, 0),
			      "Path", sbx_col(st, 1), "RoleId", sbx_col(st, 2), "Arn", sbx_col(st, 3),
			      "CreateDate", iso(sqlite3_column_int64(st, 7)),
			      "AssumeRolePolicyDocument", encoded_doc(sbx_col(st, 4)),
			      "MaxSessionDuration", (json_int_t)sqlite3_column_int64(st, 6));
	json_t *tags = tags_of(s, db, "role", sbx_col(st, 0));

	if (sqlite3_column_type(st, 5) != SQLITE_NULL)
		json_object_set_new(o, "Description", json_string(sbx_col(st, 5)));
	if (tags)
		json_object_set_new(o, "Tags", tags);
	return o;
}

/* The role named name as JSON, or NULL (NoSuchEntity set on r). Lock held. */
static json_t *find_role(struct sbx_req *r, sqlite3 *db, const char *name)
{
	sqlite3_stmt *st = sbx_db_prep(r->sbx, db, "SELECT " ROLE_COLS " FROM iam_roles WHERE name = ?1",
				       "s", name);
	json_t *o = NULL;

	if (!st) {
		db_fail(r);
		return NULL;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		o = role_json(r->sbx, db, st);
	else
		sbx_error(r, 404, "NoSuchEntity", "The role with name %s cannot be found.", name);
	sqlite3_finalize(st);
	return o;
}

static int create_role(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *name = need(r, in, "RoleName");
	const char *trust = name ? need(r, in, "AssumeRolePolicyDocument") : NULL;
	const char *path = trust ? path_of(r, in) : NULL;
	const char *desc = sbx_str(in, "Description");
	long long max_session = sbx_int(in, "MaxSessionDuration", 3600);
	char id[22], arn[512];
	sqlite3 *db;
	int rc = -1;

	if (!path)
		return -1;
	if (check_document(r, trust) != 0)
		return -1;
	if (max_session < 3600 || max_session > 43200)
		return sbx_error(r, 400, "ValidationError",
				 "MaxSessionDuration must be between 3600 and 43200");
	new_id(id, "AROA");
	snprintf(arn, sizeof(arn), "arn:aws:iam::%s:role%s%s", SBX_ACCOUNT, path, name);
	db = sbx_db_lock(r->sbx);
	sbx_db_exec(r->sbx, db, "BEGIN");
	switch (sbx_db_run(r->sbx, db, "INSERT OR IGNORE INTO iam_roles VALUES (?1, ?2, ?3, ?4, ?5,"
			   " ?6, ?7, ?8)", "ssssssii", name, path, id, arn,
			   trust, desc, max_session, sbx_now_ms())) {
	case 1:
		break;
	case 0:
		sbx_error(r, 409, "EntityAlreadyExists", "Role with name %s already exists.", name);
		goto done;
	default:
		db_fail(r);
		goto done;
	}
	if (put_tags(r, db, "role", name, json_object_get(in, "Tags")) != 0)
		goto done;
	*out = json_object();
	json_object_set_new(*out, "Role", find_role(r, db, name));
	rc = 0;
done:
	sbx_db_exec(r->sbx, db, rc == 0 ? "COMMIT" : "ROLLBACK");
	sbx_db_unlock(r->sbx);
	return rc;
}

static int get_role(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *name = need(r, in, "RoleName");
	json_t *role;

	if (!name)
		return -1;
	role = find_role(r, sbx_db_lock(r->sbx), name);
	sbx_db_unlock(r->sbx);
	if (!role)
		return -1;
	*out = json_pack("{s:o}", "Role", role);
	return 0;
}

static long long count_rows(struct sbx *s, sqlite3 *db, const char *sql, const char *a,
			    const char *b)
{
	sqlite3_stmt *st = sbx_db_prep(s, db, sql, b ? "ss" : "s", a, b);
	long long n = -1;

	if (st && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int delete_role(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *name = need(r, in, "RoleName");
	sqlite3 *db;
	int rc = -1;

	if (!name)
		return -1;
	db = sbx_db_lock(r->sbx);
	if (count_rows(r->sbx, db, "SELECT count(*) FROM iam_roles WHERE name = ?1", name, NULL) < 1) {
		sbx_error(r, 404, "NoSuchEntity", "The role with name %s cannot be found.", name);
		goto done;
	}
	if (count_rows(r->sbx, db, "SELECT count(*) FROM iam_attached WHERE kind = 'role' AND "
		       "owner = ?1", name, NULL) > 0) {
		sbx_error(r, 409, "DeleteConflict",
			  "Cannot delete entity, must detach all policies first.");
		goto done;
	}
	if (count_rows(r->sbx, db, "SELECT count(*) FROM iam_inline WHERE kind = 'role' AND "
		       "owner = ?1", name, NULL) > 0) {
		sbx_error(r, 409, "DeleteConflict", "Cannot delete entity, must delete policies first.");
		goto done;
	}
	sbx_db_exec(r->sbx, db, "BEGIN");
	if (sbx_db_run(r->sbx, db, "DELETE FROM iam_roles WHERE name = ?1", "s", name) < 0 ||
	    sbx_db_run(r->sbx, db, "DELETE FROM iam_tags WHERE kind = 'role' AND owner = ?1", "s",
		       name) < 0) {
		sbx_db_exec(r->sbx, db, "ROLLBACK");
		db_fail(r);
		goto done;
	}
	sbx_db_exec(r->sbx, db, "COMMIT");
	rc = 0;
done:
	sbx_db_unlock(r->sbx);
	return rc;
}

static int list_roles(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *prefix = sbx_str(in, "PathPrefix");
	long long offset, limit;
	sqlite3 *db;
	sqlite3_stmt *st;
	json_t *arr;

	if (paging(r, in, &offset, &limit) != 0)
		return -1;
	db = sbx_db_lock(r->sbx);
	st = sbx_db_prep(r->sbx, db, "SELECT " ROLE_COLS " FROM iam_roles WHERE substr(path, 1, "
			 "length(?1)) = ?1 ORDER BY name LIMIT ?2 OFFSET ?3", "sii",
			 prefix ? prefix : "/", limit + 1, offset);
	if (!st) {
		sbx_db_unlock(r->sbx);
		return db_fail(r);
	}
	arr = json_array();
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(arr, role_json(r->sbx, db, st));
	sqlite3_finalize(st);
	sbx_db_unlock(r->sbx);
	*out = json_object();
	json_object_set_new(*out, "Roles", arr);
	page_out(*out, arr, offset, limit);
	return 0;
}

static int update_assume_role_policy(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *name = need(r, in, "RoleName");
	const char *doc = name ? need(r, in, "PolicyDocument") : NULL;
	int n;

	if (!doc || check_document(r, doc) != 0)
		return -1;
	n = sbx_db_run(r->sbx, sbx_db_lock(r->sbx), "UPDATE iam_roles SET trust = ?2 WHERE name = ?1",
		       "ss", name, doc);
	sbx_db_unlock(r->sbx);
	if (n < 0)
		return db_fail(r);
	if (n == 0)
		return sbx_error(r, 404, "NoSuchEntity", "The role with name %s cannot be found.", name);
	return 0;
}

static int update_role(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *name = need(r, in, "RoleName");
	const char *desc = sbx_str(in, "Description");
	long long max_session = sbx_int(in, "MaxSessionDuration", 0);
	sqlite3 *db;
	int n;

	if (!name)
		return -1;
	if (max_session && (max_session < 3600 || max_session > 43200))
		return sbx_error(r, 400, "ValidationError",
				 "MaxSessionDuration must be between 3600 and 43200");
	db = sbx_db_lock(r->sbx);
	n = sbx_db_run(r->sbx, db, "UPDATE iam_roles SET description = coalesce(?2, description),"
		       " max_session = CASE WHEN ?3 > 0 THEN ?3 ELSE max_session END WHERE name = ?1",
		       "ssi", name, desc, max_session);
	sbx_db_unlock(r->sbx);
	if (n < 0)
		return db_fail(r);
	if (n == 0)
		return sbx_error(r, 404, "NoSuchEntity", "The role with name %s cannot be found.", name);
	return 0;
}

/* ---- managed policies ---- */

#define POLICY_COLS "p.arn, p.name, p.path, p.policy_id, p.description, p.default_version," \
	" p.created, p.updated," \
	" (SELECT count(*) FROM iam_attached a WHERE a.arn = p.arn)"

static json_t *policy_json(struct sbx *s, sqlite3 *db, sqlite3_stmt *st, int with_tags)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:i, s:b, s:o, s:o}",
			      "PolicyName", sbx_col(st, 1), "PolicyId", sbx_col(st, 3),
			      "Arn", sbx_col(st, 0), "Path", sbx_col(st, 2),
			      "DefaultVersionId", sbx_col(st, 5),
			      "AttachmentCount", (json_int_t)sqlite3_column_int64(st, 8),
			      "PermissionsBoundaryUsageCount", 0, "IsAttachable", 1,
			      "CreateDate", iso(sqlite3_column_int64(st, 6)),
			      "UpdateDate", iso(sqlite3_column_int64(st, 7)));

	if (sqlite3_column_type(st, 4) != SQLITE_NULL)
		json_object_set_new(o, "Description", json_string(sbx_col(st, 4)));
	if (with_tags) {
		json_t *tags = tags_of(s, db, "policy", sbx_col(st, 0));

		if (tags)
			json_object_set_new(o, "Tags", tags);
	}
	return o;
}

static json_t *find_policy(struct sbx_req *r, sqlite3 *db, const char *arn)
{
	sqlite3_stmt *st = sbx_db_prep(r->sbx, db, "SELECT " POLICY_COLS " FROM iam_policies p "
				       "WHERE p.arn = ?1", "s", arn);
	json_t *o = NULL;

	if (!st) {
		db_fail(r);
		return NULL;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		o = policy_json(r->sbx, db, st, 1);
	else
		sbx_error(r, 404, "NoSuchEntity", "Policy %s does not exist or is not attachable.", arn);
	sqlite3_finalize(st);
	return o;
}

static int create_policy(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *name = need(r, in, "PolicyName");
	const char *doc = name ? need(r, in, "PolicyDocument") : NULL;
	const char *path = doc ? path_of(r, in) : NULL;
	const char *desc = sbx_str(in, "Description");
	char id[22], arn[512];
	long long now = sbx_now_ms();
	sqlite3 *db;
	int rc = -1;

	if (!path || check_document(r, doc) != 0)
		return -1;
	new_id(id, "ANPA");
	snprintf(arn, sizeof(arn), "arn:aws:iam::%s:policy%s%s", SBX_ACCOUNT, path, name);
	db = sbx_db_lock(r->sbx);
	sbx_db_exec(r->sbx, db, "BEGIN");
	switch (sbx_db_run(r->sbx, db, "INSERT OR IGNORE INTO iam_policies VALUES (?1, ?2, ?3, ?4,"
			   " ?5, 'v1', 2, ?6, ?6)", "sssssi", arn, name, path, id, desc, now)) {
	case 1:
		break;
	case 0:
		sbx_error(r, 409, "EntityAlreadyExists", "A policy called %s already exists. "
			  "Duplicate names are not allowed.", name);
		goto done;
	default:
		db_fail(r);
		goto done;
	}
	if (sbx_db_run(r->sbx, db, "INSERT INTO iam_policy_versions VALUES (?1, 'v1', ?2, ?3)",
		       "ssi", arn, doc, now) < 0) {
		db_fail(r);
		goto done;
	}
	if (put_tags(r, db, "policy", arn, json_object_get(in, "Tags")) != 0)
		goto done;
	*out = json_object();
	json_object_set_new(*out, "Policy", find_policy(r, db, arn));
	rc = 0;
done:
	sbx_db_exec(r->sbx, db, rc == 0 ? "COMMIT" : "ROLLBACK");
	sbx_db_unlock(r->sbx);
	return rc;
}

static int get_policy(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *arn = need(r, in, "PolicyArn");
	json_t *p;

	if (!arn)
		return -1;
	p = find_policy(r, sbx_db_lock(r->sbx), arn);
	sbx_db_unlock(r->sbx);
	if (!p)
		return -1;
	*out = json_pack("{s:o}", "Policy", p);
	return 0;
}

static int delete_policy(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *arn = need(r, in, "PolicyArn");
	sqlite3 *db;
	int rc = -1;

	if (!arn)
		return -1;
	db = sbx_db_lock(r->sbx);
	if (count_rows(r->sbx, db, "SELECT count(*) FROM iam_policies WHERE arn = ?1", arn, NULL) < 1) {
		sbx_error(r, 404, "NoSuchEntity", "Policy %s was not found.", arn);
		goto done;
	}
	if (count_rows(r->sbx, db, "SELECT count(*) FROM iam_attached WHERE arn = ?1", arn, NULL) > 0) {
		sbx_error(r, 409, "DeleteConflict",
			  "Cannot delete a policy attached to entities.");
		goto done;
	}
	if (count_rows(r->sbx, db, "SELECT count(*) FROM iam_policy_versions v JOIN iam_policies p"
		       " ON p.arn = v.arn WHERE v.arn = ?1 AND v.version <> p.default_version",
		       arn, NULL) > 0) {
		sbx_error(r, 409, "DeleteConflict",
			  "This policy has more than one version. Before you delete a policy, you "
			  "must delete the policy's versions. The default version is deleted with "
			  "the policy.");
		goto done;
	}
	sbx_db_exec(r->sbx, db, "BEGIN");
	if (sbx_db_run(r->sbx, db, "DELETE FROM iam_policy_versions WHERE arn = ?1", "s", arn) < 0 ||
	    sbx_db_run(r->sbx, db, "DELETE FROM iam_policies WHERE arn = ?1", "s", arn) < 0 ||
	    sbx_db_run(r->sbx, db, "DELETE FROM iam_tags WHERE kind = 'policy' AND owner = ?1", "s",
		       arn) < 0) {
		sbx_db_exec(r->sbx, db, "ROLLBACK");
		db_fail(r);
		goto done;
	}
	sbx_db_exec(r->sbx, db, "COMMIT");
	rc = 0;
done:
	sbx_db_unlock(r->sbx);
	return rc;
}

static int list_policies(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *scope = sbx_str(in, "Scope");
	const char *prefix = sbx_str(in, "PathPrefix");
	int only_attached = sbx_bool(in, "OnlyAttached", 0);
	long long offset, limit;
	sqlite3 *db;
	sqlite3_stmt *st;
	json_t *arr;

	if (paging(r, in, &offset, &limit) != 0)
		return -1;
	*out = json_object();
	arr = json_array();
	json_object_set_new(*out, "Policies", arr);
	if (scope && strcmp(scope, "AWS") == 0) { /* AWS managed policies are not modelled */
		page_out(*out, arr, offset, limit);
		return 0;
	}
	db = sbx_db_lock(r->sbx);
	st = sbx_db_prep(r->sbx, db, "SELECT " POLICY_COLS " FROM iam_policies p WHERE "
			 "substr(p.path, 1, length(?1)) = ?1 AND (?2 = 0 OR EXISTS (SELECT 1 FROM "
			 "iam_attached a WHERE a.arn = p.arn)) ORDER BY p.name LIMIT ?3 OFFSET ?4",
			 "siii", prefix ? prefix : "/", (long long)only_attached, limit + 1, offset);
	while (st && sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(arr, policy_json(r->sbx, db, st, 0));
	sqlite3_finalize(st);
	sbx_db_unlock(r->sbx);
	if (!st)
		return db_fail(r);
	page_out(*out, arr, offset, limit);
	return 0;
}

static json_t *version_json(sqlite3_stmt *st, const char *default_version, int with_doc)
{
	json_t *o = json_pack("{s:s, s:b, s:o}", "VersionId", sbx_col(st, 0), "IsDefaultVersion",
			      strcmp(sbx_col(st, 0), default_version) == 0,
			      "CreateDate", iso(sqlite3_column_int64(st, 2)));

	if (with_doc)
		json_object_set_new(o, "Document", encoded_doc(sbx_col(st, 1)));
	return o;
}

/* The default version of a policy into out, or -1 with NoSuchEntity. Lock held. */
static int policy_default(struct sbx_req *r, sqlite3 *db, const char *arn, char *out, size_t n,
			  long long *next)
{
	sqlite3_stmt *st = sbx_db_prep(r->sbx, db, "SELECT default_version, next_version FROM "
				       "iam_policies WHERE arn = ?1", "s", arn);
	int rc = -1;

	if (st && sqlite3_step(st) == SQLITE_ROW) {
		snprintf(out, n, "%s", sbx_col(st, 0));
		if (next)
			*next = sqlite3_column_int64(st, 1);
		rc = 0;
	} else {
		sbx_error(r, 404, "NoSuchEntity", "Policy %s was not found.", arn);
	}
	sqlite3_finalize(st);
	return rc;
}

static int create_policy_version(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *arn = need(r, in, "PolicyArn");
	const char *doc = arn ? need(r, in, "PolicyDocument") : NULL;
	int set_default = sbx_bool(in, "SetAsDefault", 0);
	char def[16], version[24];
	long long next = 0, now = sbx_now_ms();
	sqlite3 *db;
	sqlite3_stmt *st;
	int rc = -1;

	if (!doc || check_document(r, doc) != 0)
		return -1;
	db = sbx_db_lock(r->sbx);
	if (policy_default(r, db, arn, def, sizeof(def), &next) != 0)
		goto done;
	if (count_rows(r->sbx, db, "SELECT count(*) FROM iam_policy_versions WHERE arn = ?1", arn,
		       NULL) >= MAX_VERSIONS) {
		sbx_error(r, 409, "LimitExceeded", "A managed policy can have up to %d versions. "
			  "Before you create a new version, you must delete an existing version.",
			  MAX_VERSIONS);
		goto done;
	}
	snprintf(version, sizeof(version), "v%lld", next);
	sbx_db_exec(r->sbx, db, "BEGIN");
	if (sbx_db_run(r->sbx, db, "INSERT INTO iam_policy_versions VALUES (?1, ?2, ?3, ?4)", "sssi",
		       arn, version, doc, now) < 0 ||
	    sbx_db_run(r->sbx, db, "UPDATE iam_policies SET next_version = next_version + 1,"
		       " updated = ?2, default_version = CASE WHEN ?3 THEN ?4 ELSE default_version END"
		       " WHERE arn = ?1", "siis", arn, now, (long long)set_default, version) < 0) {
		sbx_db_exec(r->sbx, db, "ROLLBACK");
		db_fail(r);
		goto done;
	}
	sbx_db_exec(r->sbx, db, "COMMIT");
	st = sbx_db_prep(r->sbx, db, "SELECT version, document, created FROM iam_policy_versions "
			 "WHERE arn = ?1 AND version = ?2", "ss", arn, version);
	if (st && sqlite3_step(st) == SQLITE_ROW)
		*out = json_pack("{s:o}", "PolicyVersion",
				 version_json(st, set_default ? version : def, 0));
	sqlite3_finalize(st);
	rc = 0;
done:
	sbx_db_unlock(r->sbx);
	return rc;
}

static int get_policy_version(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *arn = need(r, in, "PolicyArn");
	const char *version = arn ? need(r, in, "VersionId") : NULL;
	char def[16];
	sqlite3 *db;
	sqlite3_stmt *st;
	int rc = -1;

	if (!version)
		return -1;
	db = sbx_db_lock(r->sbx);
	if (policy_default(r, db, arn, def, sizeof(def), NULL) != 0)
		goto done;
	st = sbx_db_prep(r->sbx, db, "SELECT version, document, created FROM iam_policy_versions "
			 "WHERE arn = ?1 AND version = ?2", "ss", arn, version);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		*out = json_pack("{s:o}", "PolicyVersion", version_json(st, def, 1));
		rc = 0;
	} else {
		sbx_error(r, 404, "NoSuchEntity", "Policy %s version %s does not exist or is not "
			  "attachable.", arn, version);
	}
	sqlite3_finalize(st);
done:
	sbx_db_unlock(r->sbx);
	return rc;
}

static int list_policy_versions(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *arn = need(r, in, "PolicyArn");
	char def[16];
	long long offset, limit;
	sqlite3 *db;
	sqlite3_stmt *st;
	json_t *arr;
	int rc = -1;

	if (!arn || paging(r, in, &offset, &limit) != 0)
		return -1;
	db = sbx_db_lock(r->sbx);
	if (policy_default(r, db, arn, def, sizeof(def), NULL) != 0)
		goto done;
	st = sbx_db_prep(r->sbx, db, "SELECT version, document, created FROM iam_policy_versions "
			 "WHERE arn = ?1 ORDER BY CAST(substr(version, 2) AS INTEGER) DESC "
			 "LIMIT ?2 OFFSET ?3", "sii", arn, limit + 1, offset);
	arr = json_array();
	while (st && sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(arr, version_json(st, def, 0));
	sqlite3_finalize(st);
	*out = json_object();
	json_object_set_new(*out, "Versions", arr);
	page_out(*out, arr, offset, limit);
	rc = 0;
done:
	sbx_db_unlock(r->sbx);
	return rc;
}

static int delete_policy_version(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *arn = need(r, in, "PolicyArn");
	const char *version = arn ? need(r, in, "VersionId") : NULL;
	char def[16];
	sqlite3 *db;
	int rc = -1, n;

	if (!version)
		return -1;
	db = sbx_db_lock(r->sbx);
	if (policy_default(r, db, arn, def, sizeof(def), NULL) != 0)
		goto done;
	if (strcmp(def, version) == 0) {
		sbx_error(r, 409, "DeleteConflict", "Cannot delete the default version of a policy.");
		goto done;
	}
	n = sbx_db_run(r->sbx, db, "DELETE FROM iam_policy_versions WHERE arn = ?1 AND version = ?2",
		       "ss", arn, version);
	if (n < 0)
		db_fail(r);
	else if (n == 0)
		sbx_error(r, 404, "NoSuchEntity", "Policy %s version %s does not exist.", arn, version);
	else
		rc = 0;
done:
	sbx_db_unlock(r->sbx);
	return rc;
}

static int set_default_policy_version(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *arn = need(r, in, "PolicyArn");
	const char *version = arn ? need(r, in, "VersionId") : NULL;
	char def[16];
	sqlite3 *db;
	int rc = -1;

	if (!version)
		return -1;
	db = sbx_db_lock(r->sbx);
	if (policy_default(r, db, arn, def, sizeof(def), NULL) != 0)
		goto done;
	if (count_rows(r->sbx, db, "SELECT count(*) FROM iam_policy_versions WHERE arn = ?1 AND "
		       "version = ?2", arn, version) < 1) {
		sbx_error(r, 404, "NoSuchEntity", "Policy %s version %s does not exist.", arn, version);
		goto done;
	}
	if (sbx_db_run(r->sbx, db, "UPDATE iam_policies SET default_version = ?2, updated = ?3 "
		       "WHERE arn = ?1", "ssi", arn, version, sbx_now_ms()) < 0) {
		db_fail(r);
		goto done;
	}
	rc = 0;
done:
	sbx_db_unlock(r->sbx);
	return rc;
}

/* ---- attachments and inline policies (roles and users share the code) ---- */

/* Nonzero when the role or user named owner exists; else NoSuchEntity on r. */
static int owner_exists(struct sbx_req *r, sqlite3 *db, const char *kind, const char *owner)
{
	const char *sql = strcmp(kind, "role") == 0 ?
		"SELECT count(*) FROM iam_roles WHERE name = ?1" :
		"SELECT count(*) FROM iam_users WHERE name = ?1";

	if (count_rows(r->sbx, db, sql, owner, NULL) > 0)
		return 1;
	sbx_error(r, 404, "NoSuchEntity", "The %s with name %s cannot be found.", kind, owner);
	return 0;
}

static const char *owner_member(const char *kind)
{
	return strcmp(kind, "role") == 0 ? "RoleName" : "UserName";
}

static int attach(struct sbx_req *r, json_t *in, const char *kind)
{
	const char *owner = need(r, in, owner_member(kind));
	const char *arn = owner ? need(r, in, "PolicyArn") : NULL;
	sqlite3 *db;
	int rc = -1;

	if (!arn)
		return -1;
	db = sbx_db_lock(r->sbx);
	if (!owner_exists(r, db, kind, owner))
		goto done;
	/* AWS managed policies (arn:aws:iam::aws:policy/...) are taken as existing */
	if (strncmp(arn, "arn:aws:iam::aws:policy/", 24) != 0 &&
	    count_rows(r->sbx, db, "SELECT count(*) FROM iam_policies WHERE arn = ?1", arn, NULL) < 1) {
		sbx_error(r, 404, "NoSuchEntity", "Policy %s does not exist or is not attachable.", arn);
		goto done;
	}
	if (sbx_db_run(r->sbx, db, "INSERT OR IGNORE INTO iam_attached VALUES (?1, ?2, ?3, "
		       "(SELECT coalesce(max(seq), 0) + 1 FROM iam_attached))", "sss", kind, owner,
		       arn) < 0) {
		db_fail(r);
		goto done;
	}
	rc = 0;
done:
	sbx_db_unlock(r->sbx);
	return rc;
}

static int detach(struct sbx_req *r, json_t *in, const char *kind)
{
	const char *owner = need(r, in, owner_member(kind));
	const char *arn = owner ? need(r, in, "PolicyArn") : NULL;
	sqlite3 *db;
	int rc = -1, n;

	if (!arn)
		return -1;
	db = sbx_db_lock(r->sbx);
	if (!owner_exists(r, db, kind, owner))
		goto done;
	n = sbx_db_run(r->sbx, db, "DELETE FROM iam_attached WHERE kind = ?1 AND owner = ?2 AND "
		       "arn = ?3", "sss", kind, owner, arn);
	if (n < 0)
		db_fail(r);
	else if (n == 0)
		sbx_error(r, 404, "NoSuchEntity", "Policy %s was not found.", arn);
	else
		rc = 0;
done:
	sbx_db_unlock(r->sbx);
	return rc;
}

static int list_attached(struct sbx_req *r, json_t *in, json_t **out, const char *kind)
{
	const char *owner = need(r, in, owner_member(kind));
	long long offset, limit;
	sqlite3 *db;
	sqlite3_stmt *st;
	json_t *arr;
	int rc = -1;

	if (!owner || paging(r, in, &offset, &limit) != 0)
		return -1;
	db = sbx_db_lock(r->sbx);
	if (!owner_exists(r, db, kind, owner))
		goto done;
	st = sbx_db_prep(r->sbx, db, "SELECT arn FROM iam_attached WHERE kind = ?1 AND owner = ?2 "
			 "ORDER BY seq LIMIT ?3 OFFSET ?4", "ssii", kind, owner, limit + 1, offset);
	arr = json_array();
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		const char *arn = sbx_col(st, 0);
		const char *name = strrchr(arn, '/');

		json_array_append_new(arr, json_pack("{s:s, s:s}", "PolicyName", name ? name + 1 : arn,
						     "PolicyArn", arn));
	}
	sqlite3_finalize(st);
	*out = json_object();
	json_object_set_new(*out, "AttachedPolicies", arr);
	page_out(*out, arr, offset, limit);
	rc = 0;
done:
	sbx_db_unlock(r->sbx);
	return rc;
}

static int put_inline(struct sbx_req *r, json_t *in, const char *kind)
{
	const char *owner = need(r, in, owner_member(kind));
	const char *name = owner ? need(r, in, "PolicyName") : NULL;
	const char *doc = name ? need(r, in, "PolicyDocument") : NULL;
	sqlite3 *db;
	int rc = -1;

	if (!doc || check_document(r, doc) != 0)
		return -1;
	db = sbx_db_lock(r->sbx);
	if (!owner_exists(r, db, kind, owner))
		goto done;
	if (sbx_db_run(r->sbx, db, "INSERT OR REPLACE INTO iam_inline VALUES (?1, ?2, ?3, ?4)",
		       "ssss", kind, owner, name, doc) < 0) {
		db_fail(r);
		goto done;
	}
	rc = 0;
done:
	sbx_db_unlock(r->sbx);
	return rc;
}

static int get_inline(struct sbx_req *r, json_t *in, json_t **out, const char *kind)
{
	const char *member = owner_member(kind);
	const char *owner = need(r, in, member);
	const char *name = owner ? need(r, in, "PolicyName") : NULL;
	sqlite3 *db;
	sqlite3_stmt *st;
	int rc = -1;

	if (!name)
		return -1;
	db = sbx_db_lock(r->sbx);
	if (!owner_exists(r, db, kind, owner))
		goto done;
	st = sbx_db_prep(r->sbx, db, "SELECT owner, name, document FROM iam_inline WHERE kind = ?1 "
			 "AND owner = ?2 AND name = ?3", "sss", kind, owner, name);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		*out = json_pack("{s:s, s:s, s:o}", member, sbx_col(st, 0), "PolicyName",
				 sbx_col(st, 1), "PolicyDocument", encoded_doc(sbx_col(st, 2)));
		rc = 0;
	} else {
		sbx_error(r, 404, "NoSuchEntity", "The %s policy with name %s cannot be found.", kind,
			  name);
	}
	sqlite3_finalize(st);
done:
	sbx_db_unlock(r->sbx);
	return rc;
}

static int delete_inline(struct sbx_req *r, json_t *in, const char *kind)
{
	const char *owner = need(r, in, owner_member(kind));
	const char *name = owner ? need(r, in, "PolicyName") : NULL;
	sqlite3 *db;
	int rc = -1, n;

	if (!name)
		return -1;
	db = sbx_db_lock(r->sbx);
	if (!owner_exists(r, db, kind, owner))
		goto done;
	n = sbx_db_run(r->sbx, db, "DELETE FROM iam_inline WHERE kind = ?1 AND owner = ?2 AND "
		       "name = ?3", "sss", kind, owner, name);
	if (n < 0)
		db_fail(r);
	else if (n == 0)
		sbx_error(r, 404, "NoSuchEntity", "The %s policy with name %s cannot be found.", kind,
			  name);
	else
		rc = 0;
done:
	sbx_db_unlock(r->sbx);
	return rc;
}

static int list_inline(struct sbx_req *r, json_t *in, json_t **out, const char *kind)
{
	const char *owner = need(r, in, owner_member(kind));
	long long offset, limit;
	sqlite3 *db;
	sqlite3_stmt *st;
	json_t *arr;
	int rc = -1;

	if (!owner || paging(r, in, &offset, &limit) != 0)
		return -1;
	db = sbx_db_lock(r->sbx);
	if (!owner_exists(r, db, kind, owner))
		goto done;
	st = sbx_db_prep(r->sbx, db, "SELECT name FROM iam_inline WHERE kind = ?1 AND owner = ?2 "
			 "ORDER BY name LIMIT ?3 OFFSET ?4", "ssii", kind, owner, limit + 1, offset);
	arr = json_array();
	while (st && sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(arr, json_string(sbx_col(st, 0)));
	sqlite3_finalize(st);
	*out = json_object();
	json_object_set_new(*out, "PolicyNames", arr);
	page_out(*out, arr, offset, limit);
	rc = 0;
done:
	sbx_db_unlock(r->sbx);
	return rc;
}

static int attach_role_policy(struct sbx_req *r, json_t *in, json_t **out)
{
	return attach(r, in, "role");
}

static int detach_role_policy(struct sbx_req *r, json_t *in, json_t **out)
{
	return detach(r, in, "role");
}

static int list_attached_role_policies(struct sbx_req *r, json_t *in, json_t **out)
{
	return list_attached(r, in, out, "role");
}

static int put_role_policy(struct sbx_req *r, json_t *in, json_t **out)
{
	return put_inline(r, in, "role");
}

static int get_role_policy(struct sbx_req *r, json_t *in, json_t **out)
{
	return get_inline(r, in, out, "role");
}

static int delete_role_policy(struct sbx_req *r, json_t *in, json_t **out)
{
	return delete_inline(r, in, "role");
}

static int list_role_policies(struct sbx_req *r, json_t *in, json_t **out)
{
	return list_inline(r, in, out, "role");
}

static int attach_user_policy(struct sbx_req *r, json_t *in, json_t **out)
{
	return attach(r, in, "user");
}

static int detach_user_policy(struct sbx_req *r, json_t *in, json_t **out)
{
	return detach(r, in, "user");
}

static int list_attached_user_policies(struct sbx_req *r, json_t *in, json_t **out)
{
	return list_attached(r, in, out, "user");
}

static int put_user_policy(struct sbx_req *r, json_t *in, json_t **out)
{
	return put_inline(r, in, "user");
}

static int get_user_policy(struct sbx_req *r, json_t *in, json_t **out)
{
	return get_inline(r, in, out, "user");
}

static int delete_user_policy(struct sbx_req *r, json_t *in, json_t **out)
{
	return delete_inline(r, in, "user");
}

static int list_user_policies(struct sbx_req *r, json_t *in, json_t **out)
{
	return list_inline(r, in, out, "user");
}

static int list_entities_for_policy(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *arn = need(r, in, "PolicyArn");
	sqlite3 *db;
	sqlite3_stmt *st;
	json_t *roles, *users;

	if (!arn)
		return -1;
	roles = json_array();
	users = json_array();
	db = sbx_db_lock(r->sbx);
	st = sbx_db_prep(r->sbx, db, "SELECT a.kind, a.owner, coalesce(ro.role_id, u.user_id) FROM "
			 "iam_attached a LEFT JOIN iam_roles ro ON a.kind = 'role' AND ro.name = "
			 "a.owner LEFT JOIN iam_users u ON a.kind = 'user' AND u.name = a.owner "
			 "WHERE a.arn = ?1 ORDER BY a.seq", "s", arn);
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		int role = strcmp(sbx_col(st, 0), "role") == 0;

		json_array_append_new(role ? roles : users,
				      json_pack("{s:s, s:s}", role ? "RoleName" : "UserName",
						sbx_col(st, 1), role ? "RoleId" : "UserId",
						sbx_col(st, 2)));
	}
	sqlite3_finalize(st);
	sbx_db_unlock(r->sbx);
	*out = json_pack("{s:o, s:o, s:[], s:b}", "PolicyRoles", roles, "PolicyUsers", users,
			 "PolicyGroups", "IsTruncated", 0);
	return 0;
}

/* ---- tags ---- */

static int tag(struct sbx_req *r, json_t *in, const char *kind, const char *member)
{
	const char *owner = need(r, in, member);
	sqlite3 *db;
	int rc = -1;

	if (!owner)
		return -1;
	db = sbx_db_lock(r->sbx);
	if (strcmp(kind, "policy") == 0) {
		if (count_rows(r->sbx, db, "SELECT count(*) FROM iam_policies WHERE arn = ?1", owner,
			       NULL) < 1) {
			sbx_error(r, 404, "NoSuchEntity", "Policy %s was not found.", owner);
			goto done;
		}
	} else if (!owner_exists(r, db, kind, owner)) {
		goto done;
	}
	sbx_db_exec(r->sbx, db, "BEGIN");
	rc = put_tags(r, db, kind, owner, json_object_get(in, "Tags"));
	sbx_db_exec(r->sbx, db, rc == 0 ? "COMMIT" : "ROLLBACK");
done:
	sbx_db_unlock(r->sbx);
	return rc;
}

static int untag(struct sbx_req *r, json_t *in, const char *kind, const char *member)
{
	const char *owner = need(r, in, member);
	json_t *keys = json_object_get(in, "TagKeys");
	size_t i;
	json_t *k;
	sqlite3 *db;

	if (!owner)
		return -1;
	db = sbx_db_lock(r->sbx);
	json_array_foreach(keys, i, k)
		if (json_is_string(k))
			sbx_db_run(r->sbx, db, "DELETE FROM iam_tags WHERE kind = ?1 AND owner = ?2 AND "
				   "key = ?3", "sss", kind, owner, json_string_value(k));
	sbx_db_unlock(r->sbx);
	return 0;
}

static int list_tags(struct sbx_req *r, json_t *in, json_t **out, const char *kind,
		     const char *member)
{
	const char *owner = need(r, in, member);
	sqlite3 *db;
	json_t *tags;

	if (!owner)
		return -1;
	db = sbx_db_lock(r->sbx);
	if (strcmp(kind, "policy") != 0 && !owner_exists(r, db, kind, owner)) {
		sbx_db_unlock(r->sbx);
		return -1;
	}
	tags = tags_of(r->sbx, db, kind, owner);
	sbx_db_unlock(r->sbx);
	*out = json_pack("{s:o, s:b}", "Tags", tags ? tags : json_array(), "IsTruncated", 0);
	return 0;
}

static int tag_role(struct sbx_req *r, json_t *in, json_t **out)
{
	return tag(r, in, "role", "RoleName");
}

static int untag_role(struct sbx_req *r, json_t *in, json_t **out)
{
	return untag(r, in, "role", "RoleName");
}

static int list_role_tags(struct sbx_req *r, json_t *in, json_t **out)
{
	return list_tags(r, in, out, "role", "RoleName");
}

static int tag_policy(struct sbx_req *r, json_t *in, json_t **out)
{
	return tag(r, in, "policy", "PolicyArn");
}

static int untag_policy(struct sbx_req *r, json_t *in, json_t **out)
{
	return untag(r, in, "policy", "PolicyArn");
}

static int list_policy_tags(struct sbx_req *r, json_t *in, json_t **out)
{
	return list_tags(r, in, out, "policy", "PolicyArn");
}

/* ---- users and access keys ---- */

static json_t *user_json(sqlite3_stmt *st)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:o}", "UserName", sbx_col(st, 0), "Path",
			 sbx_col(st, 1), "UserId", sbx_col(st, 2), "Arn", sbx_col(st, 3),
			 "CreateDate", iso(sqlite3_column_int64(st, 4)));
}

static int create_user(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *name = need(r, in, "UserName");
	const char *path = name ? path_of(r, in) : NULL;
	char id[22], arn[512];
	sqlite3 *db;
	sqlite3_stmt *st;
	int n;

	if (!path)
		return -1;
	new_id(id, "AIDA");
	snprintf(arn, sizeof(arn), "arn:aws:iam::%s:user%s%s", SBX_ACCOUNT, path, name);
	db = sbx_db_lock(r->sbx);
	n = sbx_db_run(r->sbx, db, "INSERT OR IGNORE INTO iam_users VALUES (?1, ?2, ?3, ?4, ?5)",
		       "ssssi", name, path, id, arn, sbx_now_ms());
	if (n != 1) {
		sbx_db_unlock(r->sbx);
		if (n == 0)
			return sbx_error(r, 409, "EntityAlreadyExists",
					 "User with name %s already exists.", name);
		return db_fail(r);
	}
	put_tags(r, db, "user", name, json_object_get(in, "Tags"));
	st = sbx_db_prep(r->sbx, db, "SELECT name, path, user_id, arn, created FROM iam_users WHERE "
			 "name = ?1", "s", name);
	if (st && sqlite3_step(st) == SQLITE_ROW)
		*out = json_pack("{s:o}", "User", user_json(st));
	sqlite3_finalize(st);
	sbx_db_unlock(r->sbx);
	return 0;
}

static int get_user(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *name = sbx_str(in, "UserName");
	sqlite3 *db = sbx_db_lock(r->sbx);
	sqlite3_stmt *st;
	int rc = -1;

	if (!name) { /* the caller itself: the account's root in the sandbox */
		char arn[128];
		char when[32];

		sbx_db_unlock(r->sbx);
		snprintf(arn, sizeof(arn), "arn:aws:iam::%s:root", SBX_ACCOUNT);
		sbx_iso_time(0, when);
		*out = json_pack("{s:{s:s, s:s, s:s, s:s, s:s}}", "User", "UserName", "root", "Path",
				 "/", "UserId", SBX_ACCOUNT, "Arn", arn, "CreateDate", when);
		return 0;
	}
	st = sbx_db_prep(r->sbx, db, "SELECT name, path, user_id, arn, created FROM iam_users WHERE "
			 "name = ?1", "s", name);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		*out = json_pack("{s:o}", "User", user_json(st));
		rc = 0;
	} else {
		sbx_error(r, 404, "NoSuchEntity", "The user with name %s cannot be found.", name);
	}
	sqlite3_finalize(st);
	sbx_db_unlock(r->sbx);
	return rc;
}

static int delete_user(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *name = need(r, in, "UserName");
	sqlite3 *db;
	int rc = -1;

	if (!name)
		return -1;
	db = sbx_db_lock(r->sbx);
	if (!owner_exists(r, db, "user", name))
		goto done;
	if (count_rows(r->sbx, db, "SELECT (SELECT count(*) FROM iam_attached WHERE kind = 'user' "
		       "AND owner = ?1) + (SELECT count(*) FROM iam_inline WHERE kind = 'user' AND "
		       "owner = ?1) + (SELECT count(*) FROM iam_access_keys WHERE user = ?1)", name,
		       NULL) > 0) {
		sbx_error(r, 409, "DeleteConflict", "Cannot delete entity, must delete policies and "
			  "access keys first.");
		goto done;
	}
	if (sbx_db_run(r->sbx, db, "DELETE FROM iam_users WHERE name = ?1", "s", name) < 0 ||
	    sbx_db_run(r->sbx, db, "DELETE FROM iam_tags WHERE kind = 'user' AND owner = ?1", "s",
		       name) < 0) {
		db_fail(r);
		goto done;
	}
	rc = 0;
done:
	sbx_db_unlock(r->sbx);
	return rc;
}

static int list_users(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *prefix = sbx_str(in, "PathPrefix");
	long long offset, limit;
	sqlite3 *db;
	sqlite3_stmt *st;
	json_t *arr;

	if (paging(r, in, &offset, &limit) != 0)
		return -1;
	db = sbx_db_lock(r->sbx);
	st = sbx_db_prep(r->sbx, db, "SELECT name, path, user_id, arn, created FROM iam_users WHERE "
			 "substr(path, 1, length(?1)) = ?1 ORDER BY name LIMIT ?2 OFFSET ?3", "sii",
			 prefix ? prefix : "/", limit + 1, offset);
	arr = json_array();
	while (st && sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(arr, user_json(st));
	sqlite3_finalize(st);
	sbx_db_unlock(r->sbx);
	*out = json_object();
	json_object_set_new(*out, "Users", arr);
	page_out(*out, arr, offset, limit);
	return 0;
}

static int create_access_key(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *user = need(r, in, "UserName");
	char ak[21], sk[41], when[32];
	long long now = sbx_now_ms();
	sqlite3 *db;
	int rc = -1;

	if (!user)
		return -1;
	memcpy(ak, "AKIA", 4);
	sbx_rand_chars(ak + 4, 16, ID_CHARS);
	sbx_rand_chars(sk, 40, SECRET_CHARS);
	sbx_iso_time(now, when);
	db = sbx_db_lock(r->sbx);
	if (!owner_exists(r, db, "user", user))
		goto done;
	if (count_rows(r->sbx, db, "SELECT count(*) FROM iam_access_keys WHERE user = ?1", user,
		       NULL) >= 2) {
		sbx_error(r, 409, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2");
		goto done;
	}
	if (sbx_db_run(r->sbx, db, "INSERT INTO iam_access_keys VALUES (?1, ?2, ?3, 'Active', ?4)",
		       "sssi", ak, user, sk, now) < 0) {
		db_fail(r);
		goto done;
	}
	*out = json_pack("{s:{s:s, s:s, s:s, s:s, s:s}}", "AccessKey", "UserName", user,
			 "AccessKeyId", ak, "Status", "Active", "SecretAccessKey", sk,
			 "CreateDate", when);
	rc = 0;
done:
	sbx_db_unlock(r->sbx);
	return rc;
}

static int delete_access_key(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *ak = need(r, in, "AccessKeyId");
	int n;

	if (!ak)
		return -1;
	n = sbx_db_run(r->sbx, sbx_db_lock(r->sbx), "DELETE FROM iam_access_keys WHERE "
		       "access_key = ?1", "s", ak);
	sbx_db_unlock(r->sbx);
	if (n < 0)
		return db_fail(r);
	if (n == 0)
		return sbx_error(r, 404, "NoSuchEntity", "The Access Key with id %s cannot be found.",
				 ak);
	return 0;
}

static int update_access_key(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *ak = need(r, in, "AccessKeyId");
	const char *status = ak ? need(r, in, "Status") : NULL;
	int n;

	if (!status)
		return -1;
	if (strcmp(status, "Active") != 0 && strcmp(status, "Inactive") != 0)
		return sbx_error(r, 400, "ValidationError", "Status must be Active or Inactive");
	n = sbx_db_run(r->sbx, sbx_db_lock(r->sbx), "UPDATE iam_access_keys SET status = ?2 WHERE "
		       "access_key = ?1", "ss", ak, status);
	sbx_db_unlock(r->sbx);
	if (n < 0)
		return db_fail(r);
	if (n == 0)
		return sbx_error(r, 404, "NoSuchEntity", "The Access Key with id %s cannot be found.",
				 ak);
	return 0;
}

static int list_access_keys(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *user = sbx_str(in, "UserName");
	sqlite3 *db = sbx_db_lock(r->sbx);
	sqlite3_stmt *st = sbx_db_prep(r->sbx, db, "SELECT user, access_key, status, created FROM "
				       "iam_access_keys WHERE ?1 IS NULL OR user = ?1 ORDER BY created",
				       "s", user);
	json_t *arr = json_array();

	while (st && sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:o}", "UserName",
						     sbx_col(st, 0), "AccessKeyId", sbx_col(st, 1),
						     "Status", sbx_col(st, 2), "CreateDate",
						     iso(sqlite3_column_int64(st, 3))));
	sqlite3_finalize(st);
	sbx_db_unlock(r->sbx);
	*out = json_pack("{s:o, s:b}", "AccessKeyMetadata", arr, "IsTruncated", 0);
	return 0;
}

/* Sorted by name (the router scans them linearly). */
static const struct sbx_op ops[] = {
	{ "AttachRolePolicy", attach_role_policy },
	{ "AttachUserPolicy", attach_user_policy },
	{ "CreateAccessKey", create_access_key },
	{ "CreatePolicy", create_policy },
	{ "CreatePolicyVersion", create_policy_version },
	{ "CreateRole", create_role },
	{ "CreateUser", create_user },
	{ "DeleteAccessKey", delete_access_key },
	{ "DeletePolicy", delete_policy },
	{ "DeletePolicyVersion", delete_policy_version },
	{ "DeleteRole", delete_role },
	{ "DeleteRolePolicy", delete_role_policy },
	{ "DeleteUser", delete_user },
	{ "DeleteUserPolicy", delete_user_policy },
	{ "DetachRolePolicy", detach_role_policy },
	{ "DetachUserPolicy", detach_user_policy },
	{ "GetPolicy", get_policy },
	{ "GetPolicyVersion", get_policy_version },
	{ "GetRole", get_role },
	{ "GetRolePolicy", get_role_policy },
	{ "GetUser", get_user },
	{ "GetUserPolicy", get_user_policy },
	{ "ListAccessKeys", list_access_keys },
	{ "ListAttachedRolePolicies", list_attached_role_policies },
	{ "ListAttachedUserPolicies", list_attached_user_policies },
	{ "ListEntitiesForPolicy", list_entities_for_policy },
	{ "ListPolicies", list_policies },
	{ "ListPolicyTags", list_policy_tags },
	{ "ListPolicyVersions", list_policy_versions },
	{ "ListRolePolicies", list_role_policies },
	{ "ListRoleTags", list_role_tags },
	{ "ListRoles", list_roles },
	{ "ListUserPolicies", list_user_policies },
	{ "ListUsers", list_users },
	{ "PutRolePolicy", put_role_policy },
	{ "PutUserPolicy", put_user_policy },
	{ "SetDefaultPolicyVersion", set_default_policy_version },
	{ "TagPolicy", tag_policy },
	{ "TagRole", tag_role },
	{ "UntagPolicy", untag_policy },
	{ "UntagRole", untag_role },
	{ "UpdateAccessKey", update_access_key },
	{ "UpdateAssumeRolePolicy", update_assume_role_policy },
	{ "UpdateRole", update_role },
};

const struct sbx_service sbx_svc_iam = {
	.name = "iam",
	.schema = schema,
	.ops = ops,
	.nops = sizeof(ops) / sizeof(ops[0]),
};
