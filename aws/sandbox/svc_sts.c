/* svc_sts.c: STS in the sandbox: GetCallerIdentity, AssumeRole, GetSessionToken. */
#include <stdio.h>
#include <string.h>

#include "sbx_int.h"

#define UPPER_ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
#define SECRET_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS sts_creds ("
	" access_key TEXT PRIMARY KEY, secret TEXT NOT NULL, token TEXT NOT NULL,"
	" role_arn TEXT, role_id TEXT, session TEXT, expires INTEGER NOT NULL);";

int sbx_sts_secret_for(struct sbx *s, const char *access_key, char *out, size_t n)
{
	sqlite3 *db = sbx_db_lock(s);
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(db, "SELECT secret FROM sts_creds WHERE access_key = ?1 AND "
			       "expires > ?2", -1, &st, NULL) != SQLITE_OK)
		goto done;
	sqlite3_bind_text(st, 1, access_key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, sbx_now_ms());
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
		rc = 0;
	}
done:
	sqlite3_finalize(st);
	sbx_db_unlock(s);
	return rc;
}

static int get_caller_identity(struct sbx_req *r, json_t *in, json_t **out)
{
	sqlite3 *db = sbx_db_lock(r->sbx);
	sqlite3_stmt *st = NULL;
	char arn[512], user_id[256];

	snprintf(arn, sizeof(arn), "arn:aws:iam::%s:root", SBX_ACCOUNT);
	snprintf(user_id, sizeof(user_id), "%s", SBX_ACCOUNT);
	if (r->access_key[0] &&
	    sqlite3_prepare_v2(db, "SELECT role_arn, role_id, session FROM sts_creds WHERE "
			       "access_key = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, r->access_key, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
			const char *role_arn = (const char *)sqlite3_column_text(st, 0);
			const char *role_id = (const char *)sqlite3_column_text(st, 1);
			const char *session = (const char *)sqlite3_column_text(st, 2);
			const char *name = strrchr(role_arn, '/');

			snprintf(arn, sizeof(arn), "arn:aws:sts::%s:assumed-role/%s/%s", SBX_ACCOUNT,
				 name ? name + 1 : role_arn, session ? session : "");
			snprintf(user_id, sizeof(user_id), "%s:%s", role_id ? role_id : "",
				 session ? session : "");
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	if (r->access_key[0] &&
	    sqlite3_prepare_v2(db, "SELECT u.arn, u.user_id FROM iam_access_keys k JOIN iam_users u"
			       " ON u.name = k.user WHERE k.access_key = ?1", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, r->access_key, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			snprintf(arn, sizeof(arn), "%s", (const char *)sqlite3_column_text(st, 0));
			snprintf(user_id, sizeof(user_id), "%s", (const char *)sqlite3_column_text(st, 1));
		}
		sqlite3_finalize(st);
	}
	sbx_db_unlock(r->sbx);
	*out = json_pack("{s:s, s:s, s:s}", "UserId", user_id, "Account", SBX_ACCOUNT, "Arn", arn);
	return 0;
}

/* New temporary credentials for role_arn (NULL: the caller's own session). */
static int issue_credentials(struct sbx_req *r, const char *role_arn, const char *role_id,
			     const char *session, long long duration_s, json_t **creds)
{
	char ak[21], sk[41], token[161], expires[32];
	long long exp_ms = sbx_now_ms() + duration_s * 1000;
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	memcpy(ak, "ASIA", 4);
	sbx_rand_chars(ak + 4, 16, UPPER_ALNUM);
	sbx_rand_chars(sk, 40, SECRET_CHARS);
	sbx_rand_chars(token, 160, SECRET_CHARS);
	sbx_iso_time(exp_ms, expires);
	db = sbx_db_lock(r->sbx);
	if (sqlite3_prepare_v2(db, "INSERT INTO sts_creds VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1,
			       &st, NULL) != SQLITE_OK)
		goto done;
	sqlite3_bind_text(st, 1, ak, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sk, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, token, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, role_arn, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, role_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, session, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, exp_ms);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto done;
	/* expired credentials are of no use to anyone */
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, "DELETE FROM sts_creds WHERE expires < ?1", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, sbx_now_ms() - 86400000LL);
		sqlite3_step(st);
	}
	rc = 0;
done:
	if (rc != 0)
		sbx_log(r->sbx, "ERROR", "sts: cannot store credentials: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sbx_db_unlock(r->sbx);
	if (rc != 0)
		return sbx_error(r, 500, "InternalFailure", "cannot store the credentials");
	*creds = json_pack("{s:s, s:s, s:s, s:s}", "AccessKeyId", ak, "SecretAccessKey", sk,
			   "SessionToken", token, "Expiration", expires);
	return 0;
}

static int assume_role(struct sbx_req *r, json_t *in, json_t **out)
{
	const char *role_arn = sbx_str(in, "RoleArn");
	const char *session = sbx_str(in, "RoleSessionName");
	long long duration = sbx_int(in, "DurationSeconds", 3600);
	const char *name;
	char role_id[64] = "", assumed[512], assumed_id[256];
	json_t *creds = NULL;
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	int found = 0;

	if (!role_arn || !session)
		return sbx_error(r, 400, "ValidationError",
				 "RoleArn and RoleSessionName are required");
	if (duration < 900 || duration > 43200)
		return sbx_error(r, 400, "ValidationError",
				 "DurationSeconds must be between 900 and 43200");
	name = strrchr(role_arn, '/');
	if (!name || strncmp(role_arn, "arn:aws:iam::", 13) != 0)
		return sbx_error(r, 400, "ValidationError", "%s is not a valid role ARN", role_arn);
	name++;
	db = sbx_db_lock(r->sbx);
	if (sqlite3_prepare_v2(db, "SELECT role_id FROM iam_roles WHERE arn = ?1", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, role_arn, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			snprintf(role_id, sizeof(role_id), "%s", (const char *)sqlite3_column_text(st, 0));
			found = 1;
		}
	}
	sqlite3_finalize(st);
	sbx_db_unlock(r->sbx);
	if (!found)
		return sbx_error(r, 403, "AccessDenied",
				 "User: arn:aws:iam::%s:root is not authorized to perform: "
				 "sts:AssumeRole on resource: %s", SBX_ACCOUNT, role_arn);
	if (issue_credentials(r, role_arn, role_id, session, duration, &creds) != 0)
		return -1;
	snprintf(assumed, sizeof(assumed), "arn:aws:sts::%s:assumed-role/%s/%s", SBX_ACCOUNT, name,
		 session);
	snprintf(assumed_id, sizeof(assumed_id), "%s:%s", role_id, session);
	*out = json_pack("{s:o, s:{s:s, s:s}}", "Credentials", creds, "AssumedRoleUser",
			 "AssumedRoleId", assumed_id, "Arn", assumed);
	return 0;
}

static int get_session_token(struct sbx_req *r, json_t *in, json_t **out)
{
	json_t *creds = NULL;
	long long duration = sbx_int(in, "DurationSeconds", 43200);

	if (duration < 900 || duration > 129600)
		return sbx_error(r, 400, "ValidationError",
				 "DurationSeconds must be between 900 and 129600");
	if (issue_credentials(r, NULL, NULL, NULL, duration, &creds) != 0)
		return -1;
	*out = json_pack("{s:o}", "Credentials", creds);
	return 0;
}

static const struct sbx_op ops[] = {
	{ "AssumeRole", assume_role },
	{ "GetCallerIdentity", get_caller_identity },
	{ "GetSessionToken", get_session_token },
};

const struct sbx_service sbx_svc_sts = {
	.name = "sts",
	.schema = schema,
	.ops = ops,
	.nops = sizeof(ops) / sizeof(ops[0]),
};
