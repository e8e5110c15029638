/* engine.c: deploy / status reads / destroy, in parallel along the dependency graph (pthreads). */
#include "stack.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "names.h"
#include "package.h"
#include "policy.h"
#include "state.h"

/* snprintf that may truncate (names and messages are bounded; a cut is acceptable). */
static void sfmt(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void sfmt(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, n, fmt, ap);
	va_end(ap);
}

#define DEFAULT_WORKERS 4
#define GONE_LIMIT_MS 300000L

enum node_state { NODE_WAITING, NODE_RUNNING, NODE_DONE, NODE_FAILED, NODE_SKIPPED };

struct stack {
	struct aws_client *c;
	char stack[64];
	char email[320];
	int has_email;
	char zip_dir[2048];
	char bin_dir[2048];
	char account[32];
	char region[64];
	char label[700];
	char state_path[4096];
	char error[1024];
	char invoke_url[1024];
	json_t *policies; /* name -> rendered text */
	json_t *trust;    /* "lambda" / "apigateway" -> text */
	struct stack_resource rows[STACK_MAX_RESOURCES];
	char *extra[STACK_MAX_RESOURCES]; /* owned id/base strings of extra policy rows */
	size_t nextra;
	size_t n;
	int deps[STACK_MAX_RESOURCES][STACK_MAX_DEPS];
	int ndeps[STACK_MAX_RESOURCES];
	struct stack_obs obs[STACK_MAX_RESOURCES];
	char zip_path[STACK_PACKAGE_COUNT][4096];
	char zip_sha[STACK_PACKAGE_COUNT][48];
	pthread_mutex_t mu;      /* ids, state, writes, invoke_url */
	pthread_mutex_t ev_mu;   /* serialises events */
	json_t *ids;
	json_t *state;
	long writes;
	int workers;
	int quiet; /* no per-resource events (destroy's verification pass) */
	stack_event_fn on_event;
	void *ev_ctx;
};

/* ---- small services for resources.c ---- */

void stack_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int is_read_op(const char *op)
{
	return strncmp(op, "Get", 3) == 0 || strncmp(op, "List", 4) == 0 ||
	       strncmp(op, "Describe", 8) == 0;
}

int stack_call(struct stack *s, const char *service, const char *op, json_t *in, json_t **out,
	       struct stack_obs *o)
{
	json_t *res = NULL;
	int rc;

	if (!is_read_op(op)) {
		pthread_mutex_lock(&s->mu);
		s->writes++;
		pthread_mutex_unlock(&s->mu);
	}
	memset(&o->err, 0, sizeof(o->err));
	rc = aws_call(s->c, service, op, in, &res, &o->err);
	json_decref(in);
	if (rc == 0) {
		if (out)
			*out = res;
		else
			json_decref(res);
	}
	return rc;
}

struct aws_client *stack_aws(struct stack *s)
{
	return s->c;
}

void stack_rname(const struct stack *s, const char *base, char *out, size_t n)
{
	if (stack_name(s->stack, base, out, n))
		snprintf(out, n, "%s", base);
}

void stack_id_set(struct stack *s, const char *key, const char *value)
{
	pthread_mutex_lock(&s->mu);
	json_object_set_new(s->ids, key, json_string(value ? value : ""));
	pthread_mutex_unlock(&s->mu);
}

void stack_id_get(struct stack *s, const char *key, char *out, size_t n)
{
	const char *v;

	pthread_mutex_lock(&s->mu);
	v = json_string_value(json_object_get(s->ids, key));
	snprintf(out, n, "%s", v ? v : "");
	pthread_mutex_unlock(&s->mu);
}

const char *stack_policy_doc(const struct stack *s, const char *base)
{
	return json_string_value(json_object_get(s->policies, base));
}

const char *stack_trust_doc(const struct stack *s, const char *which)
{
	return json_string_value(json_object_get(s->trust, which));
}

const char *stack_email(const struct stack *s)
{
	return s->has_email ? s->email : NULL;
}

static int pkg_index(const char *fn_base)
{
	for (int i = 0; i < STACK_PACKAGE_COUNT; i++) {
		size_t n = strlen(fn_base);

		if (strncmp(stack_packages[i].zip, fn_base, n) == 0 &&
		    strcmp(stack_packages[i].zip + n, ".zip") == 0)
			return i;
	}
	return -1;
}

const char *stack_zip_path(const struct stack *s, const char *fn_base)
{
	int i = pkg_index(fn_base);

	return i < 0 ? NULL : s->zip_path[i];
}

const char *stack_zip_sha(const struct stack *s, const char *fn_base)
{
	int i = pkg_index(fn_base);

	return i < 0 || !s->zip_sha[i][0] ? NULL : s->zip_sha[i];
}

size_t stack_count(const struct stack *s)
{
	return s->n;
}

const struct stack_resource *stack_resource_at(const struct stack *s, size_t i)
{
	return i < s->n ? &s->rows[i] : NULL;
}

const struct stack_obs *stack_obs_at(const struct stack *s, size_t i)
{
	return i < s->n ? &s->obs[i] : NULL;
}

long stack_writes(const struct stack *s)
{
	return s->writes;
}

const char *stack_account(const struct stack *s)
{
	return s->account;
}

const char *stack_stack_name(const struct stack *s)
{
	return s->stack;
}

const char *stack_region(const struct stack *s)
{
	return s->region;
}

const char *stack_state_path(const struct stack *s)
{
	return s->state_path;
}

const char *stack_error(const struct stack *s)
{
	return s->error;
}

const char *stack_invoke_url(const struct stack *s)
{
	struct stack *m = (struct stack *)s;
	const char *id;

	pthread_mutex_lock(&m->mu);
	id = json_string_value(json_object_get(m->ids, "api.id"));
	if (!id || !*id)
		m->invoke_url[0] = '\0';
	else if (aws_client_endpoint_overridden(m->c, "apigateway"))
		snprintf(m->invoke_url, sizeof(m->invoke_url), "%s/restapis/%s/%s/_user_request_/",
			 aws_client_endpoint(m->c, "apigateway"), id, STACK_API_STAGE);
	else
		snprintf(m->invoke_url, sizeof(m->invoke_url),
			 "https://%s.execute-api.%s.amazonaws.com/%s/", id, m->region, STACK_API_STAGE);
	pthread_mutex_unlock(&m->mu);
	return m->invoke_url;
}

int stack_healthy(const struct stack *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct stack_obs *o = &s->obs[i];

		if (o->failed || (o->presence != STACK_PRESENT && o->presence != STACK_NONE))
			return 0;
		if (strcmp(s->rows[i].kind, "event source mapping") == 0 &&
		    strcmp(o->detail, "Enabled") != 0)
			return 0;
		if (strcmp(s->rows[i].kind, "lambda function") == 0 &&
		    strncmp(o->detail, "Active", 6) != 0)
			return 0;
	}
	return 1;
}

static void emit(struct stack *s, enum stack_event_kind kind, const struct stack_resource *r,
		 const struct stack_obs *o, const char *msg)
{
	struct stack_event ev = { .kind = kind, .res = r, .obs = o, .message = msg };

	if (!s->on_event || (s->quiet && kind != STACK_EV_INFO))
		return;
	pthread_mutex_lock(&s->ev_mu);
	s->on_event(&ev, s->ev_ctx);
	pthread_mutex_unlock(&s->ev_mu);
}

/* ---- the graph ---- */

static int find_row(const struct stack_resource *rows, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(rows[i].id, id) == 0)
			return (int)i;
	return -1;
}

int stack_graph_order(const struct stack_resource *rows, size_t n, size_t *order)
{
	int pending[STACK_MAX_RESOURCES], used[STACK_MAX_RESOURCES] = { 0 };
	size_t done = 0;

	if (n > STACK_MAX_RESOURCES)
		return -1;
	for (size_t i = 0; i < n; i++) {
		pending[i] = 0;
		for (int k = 0; k < STACK_MAX_DEPS && rows[i].deps[k]; k++) {
			if (find_row(rows, n, rows[i].deps[k]) < 0)
				return -1;
			pending[i]++;
		}
	}
	while (done < n) {
		size_t pick = n;

		for (size_t i = 0; i < n && pick == n; i++)
			if (!used[i] && pending[i] == 0)
				pick = i;
		if (pick == n)
			return -1; /* a cycle */
		used[pick] = 1;
		order[done++] = pick;
		for (size_t i = 0; i < n; i++)
			for (int k = 0; k < STACK_MAX_DEPS && rows[i].deps[k]; k++)
				if (strcmp(rows[i].deps[k], rows[pick].id) == 0)
					pending[i]--;
	}
	return 0;
}

/* ---- building the engine ---- */

static int dir_exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Find a data directory: given, else $env, else each of rel tried from the working directory
 * (the first only: a checkout) and from the binary's directory (a checkout, or an install
 * under PREFIX/bin with the data in PREFIX/share/cleanops). Fills out; returns 0 or -1. */
static int find_data_dir(const char *given, const char *env_name, const char *const *rel,
			 size_t nrel, char *out, size_t n)
{
	char exe[PATH_MAX], cand[PATH_MAX + 64];
	const char *env = getenv(env_name);
	ssize_t len;
	char *slash;

	if (given && *given) {
		snprintf(out, n, "%s", given);
		return dir_exists(out) ? 0 : -1;
	}
	if (env && *env) {
		snprintf(out, n, "%s", env);
		return dir_exists(out) ? 0 : -1;
	}
	if (dir_exists(rel[0])) {
		snprintf(out, n, "%s", rel[0]);
		return 0;
	}
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len <= 0)
		return -1;
	exe[len] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	for (size_t i = 0; i < nrel; i++) {
		snprintf(cand, sizeof(cand), "%s/%s", exe, rel[i]);
		if (dir_exists(cand)) {
			sfmt(out, n, "%s", cand);
			return 0;
		}
	}
	return -1;
}

/* Where policies/ is: opts, $CLEANOPS_POLICIES, ./policies, next to the binary or above it. */
static int find_policy_dir(const char *given, char *out, size_t n)
{
	static const char *const rel[] = { "policies", "../policies", "../../policies",
					   "../share/cleanops/policies" };

	return find_data_dir(given, "CLEANOPS_POLICIES", rel, sizeof(rel) / sizeof(rel[0]), out, n);
}

/* Where the Lambda zips are: opts, $CLEANOPS_ZIPS, ./build/lambda, next to the binary
 * (./cleanops in a checkout, BUILD/cleanops), or PREFIX/share/cleanops/lambda (make install). Defaults to build/lambda (where
 * `make package` puts them) when none exists yet. */
static void find_zip_dir(const char *given, char *out, size_t n)
{
	static const char *const rel[] = { "build/lambda", "lambda", "../share/cleanops/lambda" };

	if (find_data_dir(given, "CLEANOPS_ZIPS", rel, sizeof(rel) / sizeof(rel[0]), out, n))
		snprintf(out, n, "%s", given && *given ? given : "build/lambda");
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long len;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)len + 1);
		if (buf && fread(buf, 1, (size_t)len, f) == (size_t)len) {
			buf[len] = '\0';
		} else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

/* Render file into *text (new) or fill err. */
static int render_file(struct stack *s, const char *path, char **text, struct aws_error *err)
{
	char prefix[80], why[256];
	struct stack_policy_vars v = { s->region, s->account, s->stack, prefix };
	char *raw = read_file(path);
	json_t *check;

	if (strcmp(s->stack, STACK_DEFAULT) == 0)
		prefix[0] = '\0';
	else
		snprintf(prefix, sizeof(prefix), "%s-", s->stack);
	if (!raw)
		return aws_error_set(err, 0, "PolicyMissing", "cannot read %s", path);
	*text = stack_policy_render(raw, &v, why, sizeof(why));
	free(raw);
	if (!*text)
		return aws_error_set(err, 0, "PolicyTemplate", "%s: %s", path, why);
	check = json_loads(*text, 0, NULL);
	if (!check) {
		free(*text);
		*text = NULL;
		return aws_error_set(err, 0, "PolicyTemplate", "%s is not valid JSON", path);
	}
	json_decref(check);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_policies(struct stack *s, const char *given, struct aws_error *err)
{
	char dir[PATH_MAX], path[PATH_MAX + 300];
	char *names[STACK_MAX_RESOURCES];
	size_t nn = 0;
	struct dirent *de;
	DIR *d;
	int rc = -1;

	if (find_policy_dir(given, dir, sizeof(dir)))
		return aws_error_set(err, 0, "PolicyMissing",
				     "cannot find the policies/ directory (run from the repository, "
				     "or set CLEANOPS_POLICIES)");
	for (int i = 0; i < 2; i++) {
		const char *which = i ? "apigateway" : "lambda";
		char *text = NULL;

		snprintf(path, sizeof(path), "%s/trust/%s.json", dir, which);
		if (render_file(s, path, &text, err))
			return -1;
		json_object_set_new(s->trust, which, json_string(text));
		free(text);
	}
	d = opendir(dir);
	if (!d)
		return aws_error_set(err, 0, "PolicyMissing", "cannot read %s", dir);
	while ((de = readdir(d)) != NULL && nn < STACK_MAX_RESOURCES) {
		size_t len = strlen(de->d_name);

		if (len > 5 && strcmp(de->d_name + len - 5, ".json") == 0)
			names[nn++] = strndup(de->d_name, len - 5);
	}
	closedir(d);
	qsort(names, nn, sizeof(names[0]), cmp_str);
	for (size_t i = 0; i < nn; i++) {
		char *text = NULL;

		if (!names[i])
			goto out;
		snprintf(path, sizeof(path), "%s/%s.json", dir, names[i]);
		if (render_file(s, path, &text, err))
			goto out;
		json_object_set_new(s->policies, names[i], json_string(text));
		free(text);
		if (find_row(s->rows, s->n, names[i]) < 0) {
			int known = 0;

			for (size_t k = 0; k < s->n; k++)
				if (strcmp(s->rows[k].base, names[i]) == 0)
					known = 1;
			if (!known && s->n < STACK_MAX_RESOURCES && s->nextra + 1 < STACK_MAX_RESOURCES) {
				/* An extra customer-managed policy: a copy of the policy row. */
				struct stack_resource *r = &s->rows[s->n++];
				char *id = NULL;

				*r = stack_extra_policy_row;
				if (asprintf(&id, "policy-%s", names[i]) < 0)
					goto out;
				s->extra[s->nextra++] = id;
				s->extra[s->nextra++] = strdup(names[i]);
				r->id = id;
				r->base = s->extra[s->nextra - 1];
			}
		}
	}
	for (size_t k = 0; k < s->n; k++)
		if (strcmp(s->rows[k].kind, "iam policy") == 0 && !stack_policy_doc(s, s->rows[k].base)) {
			aws_error_set(err, 0, "PolicyMissing", "%s/%s.json is missing", dir,
				      s->rows[k].base);
			goto out;
		}
	rc = 0;
out:
	for (size_t i = 0; i < nn; i++)
		free(names[i]);
	return rc;
}

void stack_free(struct stack *s)
{
	if (!s)
		return;
	json_decref(s->policies);
	json_decref(s->trust);
	json_decref(s->ids);
	json_decref(s->state);
	for (size_t i = 0; i < s->nextra; i++)
		free(s->extra[i]);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->ev_mu);
	free(s);
}

int stack_new(const struct stack_opts *opts, struct stack **out, struct aws_error *err)
{
	struct stack *s = calloc(1, sizeof(*s));
	struct stack_obs o = { 0 };
	json_t *id = NULL;
	char dir[4096], why[512];
	int rc;

	if (!s)
		return aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->ev_mu, NULL);
	s->c = opts->client;
	s->on_event = opts->on_event;
	s->ev_ctx = opts->event_ctx;
	s->workers = opts->workers > 0 ? opts->workers : DEFAULT_WORKERS;
	snprintf(s->stack, sizeof(s->stack), "%s", opts->stack && *opts->stack ? opts->stack :
										  STACK_DEFAULT);
	if (!stack_name_valid(s->stack)) {
		aws_error_set(err, 0, "InvalidStackName",
			      "'%s' is not a stack name (1-32 letters, digits, '-', starting with a "
			      "letter)", s->stack);
		goto fail;
	}
	if (opts->email && *opts->email) {
		snprintf(s->email, sizeof(s->email), "%s", opts->email);
		s->has_email = 1;
	}
	find_zip_dir(opts->zip_dir, s->zip_dir, sizeof(s->zip_dir));
	if (opts->bin_dir)
		snprintf(s->bin_dir, sizeof(s->bin_dir), "%s", opts->bin_dir);
	else
		sfmt(s->bin_dir, sizeof(s->bin_dir), "%s/bin", s->zip_dir);
	for (int i = 0; i < STACK_PACKAGE_COUNT; i++)
		snprintf(s->zip_path[i], sizeof(s->zip_path[i]), "%s/%s", s->zip_dir,
			 stack_packages[i].zip);
	s->policies = json_object();
	s->trust = json_object();
	s->ids = json_object();
	snprintf(s->region, sizeof(s->region), "%s", aws_client_region(s->c));
	if (stack_call(s, "sts", "GetCallerIdentity", NULL, &id, &o)) {
		*err = o.err;
		goto fail;
	}
	snprintf(s->account, sizeof(s->account), "%s",
		 json_string_value(json_object_get(id, "Account")) ?
			 json_string_value(json_object_get(id, "Account")) : "");
	json_decref(id);
	memcpy(s->rows, stack_rows, stack_rows_count * sizeof(stack_rows[0]));
	s->n = stack_rows_count;
	if (load_policies(s, opts->policy_dir, err))
		goto fail;
	for (size_t i = 0; i < s->n; i++) {
		s->ndeps[i] = 0;
		for (int k = 0; k < STACK_MAX_DEPS && s->rows[i].deps[k]; k++) {
			int d = find_row(s->rows, s->n, s->rows[i].deps[k]);

			if (d < 0) {
				aws_error_set(err, 0, "InternalError", "row %s: unknown dependency %s",
					      s->rows[i].id, s->rows[i].deps[k]);
				goto fail;
			}
			s->deps[i][s->ndeps[i]++] = d;
		}
	}
	/* The state file of this target and stack. */
	if (opts->target_label && strcmp(opts->target_label, "aws") != 0)
		snprintf(s->label, sizeof(s->label), "%s", opts->target_label);
	else
		snprintf(s->label, sizeof(s->label), "aws-%s-%s", s->account, s->region);
	if (stack_state_dir(opts->state_dir, dir, sizeof(dir)) ||
	    stack_state_file(dir, s->label, s->stack, s->state_path, sizeof(s->state_path))) {
		aws_error_set(err, 0, "StateFile", "the state directory path is too long");
		goto fail;
	}
	rc = stack_state_load(s->state_path, &s->state, why, sizeof(why));
	if (rc < 0) {
		aws_error_set(err, 0, "StateFile", "%s", why);
		goto fail;
	}
	if (rc == 1) {
		char msg[1024];

		sfmt(msg, sizeof(msg), "state file %s is corrupt (%s): rebuilding it from the target",
			 s->state_path, why);
		emit(s, STACK_EV_INFO, NULL, NULL, msg);
		json_object_set_new(s->state, "rebuilt_from_corrupt", json_true());
	}
	s->writes = 0;
	*out = s;
	return 0;
fail:
	stack_free(s);
	return -1;
}

/* ---- the zips ---- */

static long long mtime_of(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 ? (long long)st.st_mtime : -1;
}

/* Build the zips when missing or older than the binaries; learn their CodeSha256. With
 * build 0 only learn the hashes of zips that exist. */
static int prepare_zips(struct stack *s, int build)
{
	int stale = 0;

	for (int i = 0; build && i < STACK_PACKAGE_COUNT; i++) {
		char bin[4200];
		long long zt = mtime_of(s->zip_path[i]), bt;

		snprintf(bin, sizeof(bin), "%s/%s", s->bin_dir, stack_packages[i].binary);
		bt = mtime_of(bin);
		if (zt < 0 || (bt >= 0 && bt > zt))
			stale = 1;
	}
	if (stale) {
		struct stack_package_result res[STACK_PACKAGE_COUNT];
		char why[1024];

		emit(s, STACK_EV_INFO, NULL, NULL, "building the Lambda zips");
		if (stack_package(s->bin_dir, s->zip_dir, res, why, sizeof(why))) {
			sfmt(s->error, sizeof(s->error),
				 "cannot build the Lambda zips: %s (run 'make' first, or give --zips DIR "
				 "holding POC-Lambda-1.zip and POC-Lambda-2.zip)",
				 why);
			return -1;
		}
	}
	for (int i = 0; i < STACK_PACKAGE_COUNT; i++) {
		long long size;

		s->zip_sha[i][0] = '\0';
		if (stack_code_sha256(s->zip_path[i], s->zip_sha[i], sizeof(s->zip_sha[i]), &size) &&
		    build) {
			sfmt(s->error, sizeof(s->error), "cannot read %s", s->zip_path[i]);
			return -1;
		}
	}
	return 0;
}

/* ---- the state file ---- */

static void state_record(struct stack *s, size_t i, enum stack_op op)
{
	const struct stack_obs *o = &s->obs[i];
	json_t *res, *before;
	char why[512], ts[32];
	time_t t = time(NULL);
	struct tm tm;

	pthread_mutex_lock(&s->mu);
	res = json_object_get(s->state, "resources");
	if (!res) {
		res = json_object();
		json_object_set_new(s->state, "resources", res);
	}
	before = json_deep_copy(s->state);
	if (o->presence == STACK_PRESENT || o->presence == STACK_DRIFTED)
		json_object_set_new(res, s->rows[i].id,
				    json_pack("{ss ss ss}", "kind", s->rows[i].kind, "name", o->name,
					      "id", o->ident));
	else if (o->presence == STACK_MISSING || o->presence == STACK_NONE)
		json_object_del(res, s->rows[i].id);
	json_object_set_new(s->state, "version", json_integer(1));
	json_object_set_new(s->state, "target", json_string(s->label));
	json_object_set_new(s->state, "stack", json_string(s->stack));
	json_object_set_new(s->state, "account", json_string(s->account));
	json_object_set_new(s->state, "region", json_string(s->region));
	if (!json_equal(before, s->state) || op == STACK_OP_DEPLOY) {
		if (!json_equal(before, s->state)) {
			gmtime_r(&t, &tm);
			strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
			json_object_set_new(s->state, "updated", json_string(ts));
			json_object_del(s->state, "rebuilt_from_corrupt");
			if (stack_state_save(s->state_path, s->state, why, sizeof(why)))
				snprintf(s->error, sizeof(s->error), "state file: %s", why);
		}
	}
	json_decref(before);
	pthread_mutex_unlock(&s->mu);
}

/* ---- running one resource ---- */

static int wait_gone(struct stack *s, const struct stack_resource *r, struct stack_obs *o)
{
	long delay = 200;

	for (long waited = 0; waited < GONE_LIMIT_MS; waited += delay) {
		struct stack_obs again = *o;

		if (r->read(s, r, &again)) {
			*o = again;
			return -1;
		}
		if (again.presence == STACK_MISSING || again.presence == STACK_NONE) {
			o->presence = STACK_MISSING;
			return 0;
		}
		stack_sleep_ms(delay);
		delay = delay * 2 > 2000 ? 2000 : delay * 2;
	}
	aws_error_set(&o->err, 0, "Timeout", "%s is still there after %ld s", o->name,
		      GONE_LIMIT_MS / 1000);
	return -1;
}

static int run_one(struct stack *s, size_t i, enum stack_op op)
{
	const struct stack_resource *r = &s->rows[i];
	struct stack_obs *o = &s->obs[i];
	double t0 = now_s();
	int rc;

	memset(o, 0, sizeof(*o));
	emit(s, STACK_EV_START, r, o, "reading");
	rc = r->read(s, r, o);
	if (rc == 0 && op == STACK_OP_DEPLOY) {
		if (o->presence == STACK_MISSING) {
			snprintf(o->action, sizeof(o->action), "create");
			emit(s, STACK_EV_START, r, o, "creating");
			rc = r->create(s, r, o);
		} else if (o->presence == STACK_DRIFTED) {
			snprintf(o->action, sizeof(o->action), "update");
			emit(s, STACK_EV_START, r, o, "updating");
			rc = r->update(s, r, o);
		}
		if (rc == 0 && o->presence != STACK_NONE) {
			if (o->action[0])
				emit(s, STACK_EV_START, r, o, "waiting until ready");
			rc = r->ready(s, r, o);
			if (rc == 0 && o->action[0]) {
				/* Read back what is there now, for the report and the state file. */
				char keep[16];

				snprintf(keep, sizeof(keep), "%s", o->action);
				o->detail[0] = '\0';
				rc = r->read(s, r, o);
				snprintf(o->action, sizeof(o->action), "%s", keep);
				if (rc == 0 && o->presence == STACK_DRIFTED && strcmp(r->id, "api-stage") != 0) {
					aws_error_set(&o->err, 0, "StillDifferent",
						      "%s still differs after the %s: %s", o->name,
						      o->action, o->detail);
					rc = -1;
				}
				if (rc == 0)
					o->presence = STACK_PRESENT;
			}
		}
	} else if (rc == 0 && op == STACK_OP_DESTROY &&
		   (o->presence == STACK_PRESENT || o->presence == STACK_DRIFTED)) {
		snprintf(o->action, sizeof(o->action), "delete");
		emit(s, STACK_EV_START, r, o, "deleting");
		rc = r->del(s, r, o);
		if (rc > 0) {
			rc = 0; /* goes with what it belongs to; the final check verifies */
			o->presence = STACK_MISSING;
		} else if (rc == 0) {
			emit(s, STACK_EV_START, r, o, "waiting until gone");
			rc = wait_gone(s, r, o);
		}
	}
	o->elapsed_s = now_s() - t0;
	if (rc) {
		o->failed = 1;
		if (!o->err.code[0])
			aws_error_set(&o->err, 0, "Failed", "%s failed", r->kind);
		if (!o->hint[0]) {
			if (strcmp(o->err.code, AWS_ERR_NETWORK) == 0)
				snprintf(o->hint, sizeof(o->hint),
					 "is the endpoint reachable? (sandbox: 'cleanops sandbox start')");
			else if (strstr(o->err.code, "AccessDenied") || strstr(o->err.code, "Unauthorized"))
				snprintf(o->hint, sizeof(o->hint),
					 "the credentials lack a permission: see the message");
			else
				snprintf(o->hint, sizeof(o->hint), "fix the cause and run the command again "
								   "(it continues where it stopped)");
		}
	}
	state_record(s, i, op);
	return rc;
}

/* ---- the scheduler ---- */

struct run {
	struct stack *s;
	enum stack_op op;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	enum node_state st[STACK_MAX_RESOURCES];
	int pending[STACK_MAX_RESOURCES];
	size_t ndone;
	int failures;
};

static void finish(struct run *run, size_t i, int failed);

/* Mark i skipped (a dependency failed) and pass it on. Called with run->mu held. */
static void skip(struct run *run, size_t i)
{
	struct stack *s = run->s;

	if (run->st[i] != NODE_WAITING)
		return;
	run->st[i] = NODE_SKIPPED;
	memset(&s->obs[i], 0, sizeof(s->obs[i]));
	s->obs[i].failed = 1;
	aws_error_set(&s->obs[i].err, 0, "Skipped", "not attempted: a resource it needs failed");
	snprintf(s->obs[i].hint, sizeof(s->obs[i].hint), "fix the failure above first");
	stack_rname(s, s->rows[i].base, s->obs[i].name, sizeof(s->obs[i].name));
	emit(s, STACK_EV_SKIPPED, &s->rows[i], &s->obs[i], "skipped");
	finish(run, i, 1);
}

/* Account for i's end. Called with run->mu held. */
static void finish(struct run *run, size_t i, int failed)
{
	struct stack *s = run->s;

	run->ndone++;
	if (failed)
		run->failures++;
	if (run->op == STACK_OP_DESTROY) {
		for (int k = 0; k < s->ndeps[i]; k++)
			run->pending[s->deps[i][k]]--;
		return;
	}
	for (size_t j = 0; j < s->n; j++)
		for (int k = 0; k < s->ndeps[j]; k++)
			if ((size_t)s->deps[j][k] == i) {
				run->pending[j]--;
				if (failed && run->op == STACK_OP_DEPLOY)
					skip(run, j);
			}
}

static void *worker(void *arg)
{
	struct run *run = arg;
	struct stack *s = run->s;

	pthread_mutex_lock(&run->mu);
	while (run->ndone < s->n) {
		size_t pick = s->n;
		int rc;

		for (size_t i = 0; i < s->n && pick == s->n; i++)
			if (run->st[i] == NODE_WAITING && run->pending[i] == 0)
				pick = i;
		if (pick == s->n) {
			pthread_cond_wait(&run->cv, &run->mu);
			continue;
		}
		run->st[pick] = NODE_RUNNING;
		pthread_mutex_unlock(&run->mu);
		rc = run_one(s, pick, run->op);
		emit(s, rc ? STACK_EV_FAILED : STACK_EV_DONE, &s->rows[pick], &s->obs[pick],
		     rc ? "failed" : "done");
		pthread_mutex_lock(&run->mu);
		run->st[pick] = rc ? NODE_FAILED : NODE_DONE;
		finish(run, pick, rc != 0);
		pthread_cond_broadcast(&run->cv);
	}
	pthread_cond_broadcast(&run->cv);
	pthread_mutex_unlock(&run->mu);
	return NULL;
}

static int run_graph(struct stack *s, enum stack_op op)
{
	struct run run = { .s = s, .op = op };
	pthread_t th[16];
	int nth = s->workers > 16 ? 16 : s->workers, started = 0;

	pthread_mutex_init(&run.mu, NULL);
	pthread_cond_init(&run.cv, NULL);
	for (size_t i = 0; i < s->n; i++) {
		run.st[i] = NODE_WAITING;
		run.pending[i] = op == STACK_OP_DESTROY ? 0 : s->ndeps[i];
	}
	if (op == STACK_OP_DESTROY)
		for (size_t i = 0; i < s->n; i++)
			for (int k = 0; k < s->ndeps[i]; k++)
				run.pending[s->deps[i][k]]++;
	for (int t = 0; t < nth; t++)
		if (pthread_create(&th[started], NULL, worker, &run) == 0)
			started++;
	if (started == 0)
		worker(&run);
	for (int t = 0; t < started; t++)
		pthread_join(th[t], NULL);
	pthread_cond_destroy(&run.cv);
	pthread_mutex_destroy(&run.mu);
	return run.failures ? -1 : 0;
}

int stack_run(struct stack *s, enum stack_op op)
{
	int rc;

	s->error[0] = '\0';
	if (prepare_zips(s, op == STACK_OP_DEPLOY))
		return -1; /* stack_error() says why */
	rc = run_graph(s, op);
	if (s->error[0])
		rc = -1; /* the state file could not be written: stack_error() says why */
	if (op == STACK_OP_DESTROY) {
		/* Verify: read everything again; whatever is still there is a failure. */
		int left = 0;

		s->quiet = 1;
		if (run_graph(s, STACK_OP_PLAN))
			rc = -1;
		s->quiet = 0;
		for (size_t i = 0; i < s->n; i++)
			if (s->obs[i].presence == STACK_PRESENT || s->obs[i].presence == STACK_DRIFTED) {
				left++;
				s->obs[i].failed = 1;
				aws_error_set(&s->obs[i].err, 0, "LeftBehind", "%s %s is still there",
					      s->rows[i].kind, s->obs[i].name);
				snprintf(s->obs[i].hint, sizeof(s->obs[i].hint),
					 "run 'cleanops destroy' again, or delete it by hand");
				snprintf(s->obs[i].action, sizeof(s->obs[i].action), "delete");
			} else if (!s->obs[i].failed) {
				snprintf(s->obs[i].action, sizeof(s->obs[i].action), "delete");
			}
		if (left)
			rc = -1;
		if (rc == 0)
			unlink(s->state_path);
	}
	return rc;
}
