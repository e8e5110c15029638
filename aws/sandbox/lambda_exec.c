/* lambda_exec.c: the sandbox's Lambda executor: warm pools of bootstrap processes, one
 * invocation per process at a time, timeouts, crashes, logs to CloudWatch Logs, Event queue. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "iam_enforce.h"
#include "lambda_int.h"
#include "sbx_int.h"

#define STATE_NAME "lambda.exec"
#define INIT_TIMEOUT_MS 10000LL
#define LOG_CAP ((size_t)256 * 1024)
#define LINE_MAX_BYTES 8192
#define ASYNC_WORKERS 4
#define ASYNC_WAIT_MS 30000L

/* One invocation in flight (lives on the invoker's stack). */
struct lx_inv {
	char id[37];
	char trace_id[128];
	const char *payload;
	size_t len;
	long long assigned_ms, dispatch_ms, deadline_ms;
	long long dispatch_us;
	int dispatched, done, error;
	char error_type[128];
	struct aws_buf result;
	struct aws_buf log;   /* this invocation's lines */
};

struct lx_fn;

/* One execution environment: a bootstrap process, its Runtime API listener, its logs. */
struct lx_env {
	struct lx_state *st;
	struct lx_fn *fn;
	struct lx_env *next;
	char revision[40];
	char group[128];
	char stream[128];
	char arn[192];
	int timeout_s;
	int memory_mb;
	pid_t pid;
	int fd;              /* stdout+stderr of the process (read end) */
	void *rapi;
	long long spawned_ms;
	long long spawned_us;
	long long init_us;   /* spawn to first /next; -1 until then */
	int init_reported;
	int dead, retire, refs;
	int reading;         /* the watcher is between read() and shipping the lines */
	int status;          /* wait status when dead */
	int init_error;
	char init_error_type[128];
	struct aws_buf init_error_body;
	struct lx_inv *inv;
};

/* A function's environments. */
struct lx_fn {
	char name[65];
	struct lx_env *envs;
	struct lx_fn *next;
};

/* Event invocations wait in the store, so an accepted one (202) survives kill -9 of the
 * sandbox: a worker claims the oldest unclaimed row and deletes it once the invocation ran
 * (at least once, as on AWS). Claims of a dead sandbox are void at start. */
static const char async_schema[] =
	"CREATE TABLE IF NOT EXISTS lambda_async(id INTEGER PRIMARY KEY,"
	" function TEXT NOT NULL, payload BLOB NOT NULL, created INTEGER NOT NULL,"
	" claimed INTEGER NOT NULL DEFAULT 0);"
	"UPDATE lambda_async SET claimed = 0 WHERE claimed != 0;";

struct lx_state {
	struct sbx *s;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_cond_t jobs_cv;   /* the async workers wait here, not on cv, which changes at
				   * every line and invocation: a job signals one, stopping wakes all */
	pthread_cond_t next_cv;   /* the Runtime API's /next long polls wait here: broadcast when an
				   * invocation is handed to an environment, one dies, or stopping */
	struct lx_fn *fns;
	int nenvs;
	int stopping;
	long long njobs;          /* unclaimed rows of lambda_async */
	pthread_t workers[ASYNC_WORKERS];
	int nworkers;
	char dir[PATH_MAX];      /* DATA/lambda */
	char real_dir[PATH_MAX]; /* the same, resolved (what /proc shows as a cwd) */
};

/* Now in microseconds (REPORT durations). */
static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static struct lx_state *state_of(struct sbx *s)
{
	return sbx_get_state(s, STATE_NAME);
}

static void deadline_ts(long long ms_from_now, struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += (time_t)(ms_from_now / 1000);
	ts->tv_nsec += (long)(ms_from_now % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Wait on the state's condition for at most ms (lock held). */
static void wait_ms(struct lx_state *st, long long ms)
{
	struct timespec ts;

	if (ms < 1)
		ms = 1;
	deadline_ts(ms, &ts);
	pthread_cond_timedwait(&st->cv, &st->mu, &ts);
}

/* ---- the pid file: environments a dead sandbox left behind are killed at start ---- */

/* Rewrite DATA/lambda/pids from the live environments (lock held). */
static void write_pids(struct lx_state *st)
{
	char path[PATH_MAX + 16], tmp[PATH_MAX + 32];
	FILE *f;

	snprintf(path, sizeof(path), "%s/pids", st->dir);
	snprintf(tmp, sizeof(tmp), "%s/pids.tmp", st->dir);
	f = fopen(tmp, "we");
	if (!f)
		return;
	for (struct lx_fn *fn = st->fns; fn; fn = fn->next)
		for (struct lx_env *e = fn->envs; e; e = e->next)
			if (!e->dead)
				fprintf(f, "%ld\n", (long)e->pid);
	if (fclose(f) == 0)
		rename(tmp, path);
}

/* Is pid an environment started by a sandbox on this data directory: its working
 * directory is under DATA/lambda and its environment has LAMBDA_TASK_ROOT there (so a
 * reused pid of another program, or a shell someone opened in that directory, is left
 * alone)? */
static int is_leftover(struct lx_state *st, long pid)
{
	char proc[64], cwd[PATH_MAX], env[16384];
	size_t dlen = strlen(st->dir), rlen = strlen(st->real_dir);
	ssize_t n;
	int fd, found = 0;

	if (pid <= 1 || pid == (long)getpid())
		return 0;
	snprintf(proc, sizeof(proc), "/proc/%ld/cwd", pid);
	n = readlink(proc, cwd, sizeof(cwd) - 1);
	if (n <= 0)
		return 0;
	cwd[n] = '\0';
	if (strncmp(cwd, st->real_dir, rlen) != 0 || cwd[rlen] != '/')
		return 0;
	snprintf(proc, sizeof(proc), "/proc/%ld/environ", pid);
	fd = open(proc, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	for (n = 0; (size_t)n < sizeof(env) - 1;) {
		ssize_t got = read(fd, env + n, sizeof(env) - 1 - (size_t)n);

		if (got <= 0)
			break;
		n += got;
	}
	close(fd);
	for (ssize_t i = 0; n > 0 && i < n && !found;) {
		const char *v = env + i;
		size_t len = strnlen(v, (size_t)(n - i));

		found = len > 17 + dlen && strncmp(v, "LAMBDA_TASK_ROOT=", 17) == 0 &&
			strncmp(v + 17, st->dir, dlen) == 0 && v[17 + dlen] == '/';
		i += (ssize_t)len + 1;
	}
	return found;
}

/* Kill a leftover environment and whatever it started (its process group when it leads
 * one). */
static void kill_leftover(struct lx_state *st, long pid)
{
	sbx_log(st->s, "INFO", "lambda: killing environment %ld left by a previous sandbox", pid);
	if (getpgid((pid_t)pid) != (pid_t)pid || kill(-(pid_t)pid, SIGKILL) != 0)
		kill((pid_t)pid, SIGKILL);
}

/* Kill the environments a sandbox on this data directory left behind when it died (kill -9,
 * a crash): those listed in DATA/lambda/pids, and, since the list may miss the newest (the
 * sandbox died right after a spawn, or the disk was full), every process /proc shows
 * running there. */
static void kill_leftovers(struct lx_state *st)
{
	char path[PATH_MAX + 16], line[64];
	FILE *f;
	DIR *d;
	struct dirent *de;

	snprintf(path, sizeof(path), "%s/pids", st->dir);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		char *end;
		long pid = strtol(line, &end, 10);

		if (end != line && is_leftover(st, pid))
			kill_leftover(st, pid);
	}
	if (f)
		fclose(f);
	unlink(path);
	d = opendir("/proc");
	while (d && (de = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (end != de->d_name && *end == '\0' && is_leftover(st, pid))
			kill_leftover(st, pid);
	}
	if (d)
		closedir(d);
}

/* ---- logs ---- */

/* Append a line to the invocation's own log, keeping its tail (lock held). */
static void inv_log(struct lx_inv *inv, const char *line)
{
	if (inv->log.len + strlen(line) + 1 > LOG_CAP) {
		size_t drop = inv->log.len / 2;

		memmove(inv->log.data, inv->log.data + drop, inv->log.len - drop + 1);
		inv->log.len -= drop;
	}
	if (aws_buf_adds(&inv->log, line) == 0)
		aws_buf_addc(&inv->log, '\n');
}

static _Atomic long long logs_denied_noted_ms;

/* Lambda writes a function's logs with its execution role: without logs:PutLogEvents on
 * the stream (IAM enforcement) the line is dropped, as AWS drops it. Returns 1 to write. */
static int may_log(struct sbx *s, const char *function_arn, const char *group,
		   const char *stream)
{
	char region[32] = "", res[512], why[1024];

	if (sscanf(function_arn, "arn:aws:lambda:%31[^:]:", region) != 1)
		snprintf(region, sizeof(region), "%s", SBX_DEFAULT_REGION);
	snprintf(res, sizeof(res), "arn:aws:logs:%s:%s:log-group:%s:log-stream:%s", region,
		 SBX_ACCOUNT, group, stream);
	if (sbx_iam_function_allows(s, function_arn, "logs:PutLogEvents", res, why, sizeof(why)))
		return 1;
	/* say why the logs stay empty, at most every 10 s */
	if (sbx_now_ms() - atomic_load(&logs_denied_noted_ms) >= 10000) {
		atomic_store(&logs_denied_noted_ms, sbx_now_ms());
		sbx_log(s, "WARN", "lambda: log lines dropped: %s", why);
	}
	return 0;
}

/* One line of the environment to CloudWatch Logs (no lock held). */
static void put_line(struct lx_env *e, const char *line)
{
	if (may_log(e->st->s, e->arn, e->group, e->stream))
		sbx_logs_put_internal(e->st->s, e->group, e->stream, sbx_now_ms(), line);
}

/* Peak resident memory of pid in MB (VmHWM), or 0. */
static int max_memory_mb(pid_t pid)
{
	char path[64], line[256];
	FILE *f;
	long kb = 0;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "VmHWM:", 6) == 0) {
			kb = strtol(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	return (int)((kb + 1023) / 1024);
}

/* ---- environments ---- */

static struct lx_fn *fn_get(struct lx_state *st, const char *name)
{
	struct lx_fn *fn;

	for (fn = st->fns; fn; fn = fn->next)
		if (strcmp(fn->name, name) == 0)
			return fn;
	fn = calloc(1, sizeof(*fn));
	if (!fn)
		return NULL;
	snprintf(fn->name, sizeof(fn->name), "%s", name);
	fn->next = st->fns;
	st->fns = fn;
	return fn;
}

/* Drop the environment from its function and free it (lock held, nobody refers to it). */
static void env_unlink(struct lx_env *e)
{
	struct lx_env **pp = &e->fn->envs;

	while (*pp && *pp != e)
		pp = &(*pp)->next;
	if (*pp)
		*pp = e->next;
	e->st->nenvs--;
}

/* Send one finished line of the process to the logs and to the running invocation. */
static void emit_line(struct lx_env *e, char *line, size_t len)
{
	struct lx_state *st = e->st;

	if (len && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	put_line(e, line);
	pthread_mutex_lock(&st->mu);
	/* lines read after the response still belong to it until END is written */
	if (e->inv && e->inv->dispatched)
		inv_log(e->inv, line);
	pthread_cond_broadcast(&st->cv);
	pthread_mutex_unlock(&st->mu);
}

/* Cut the bytes in buf into lines and emit them; keeps a partial line. */
static void split_lines(struct lx_env *e, char *buf, size_t *used)
{
	size_t start = 0;

	for (size_t i = 0; i < *used; i++) {
		if (buf[i] == '\n') {
			emit_line(e, buf + start, i - start);
			start = i + 1;
		}
	}
	if (start == 0 && *used == LINE_MAX_BYTES) { /* a line longer than the buffer */
		emit_line(e, buf, LINE_MAX_BYTES - 1);
		start = *used;
	}
	memmove(buf, buf + start, *used - start);
	*used -= start;
}

/* Read what is available and emit its lines; returns 0 at EOF or error, else 1. */
static int read_some(struct lx_env *e, char *buf, size_t *used)
{
	struct lx_state *st = e->st;
	ssize_t n;

	pthread_mutex_lock(&st->mu);
	e->reading = 1;
	pthread_mutex_unlock(&st->mu);
	n = read(e->fd, buf + *used, LINE_MAX_BYTES - *used);
	if (n > 0) {
		*used += (size_t)n;
		split_lines(e, buf, used);
	}
	pthread_mutex_lock(&st->mu);
	e->reading = 0;
	pthread_cond_broadcast(&st->cv);
	pthread_mutex_unlock(&st->mu);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 1;
	return n > 0;
}

/* The environment's watcher: ships its output line by line, notices its exit, cleans up. */
static void *env_reader(void *arg)
{
	struct lx_env *e = arg;
	struct lx_state *st = e->st;
	char buf[LINE_MAX_BYTES + 1];
	size_t used = 0;
	int eof = 0, status = 0;
	pid_t w = 0;

	for (;;) {
		struct pollfd p = { .fd = e->fd, .events = POLLIN };

		if (!eof) {
			int n = poll(&p, 1, 100);

			if (n > 0 && !read_some(e, buf, &used))
				eof = 1;
		} else {
			struct timespec ts = { 0, 20 * 1000000L };

			nanosleep(&ts, NULL);
		}
		w = waitpid(e->pid, &status, WNOHANG);
		if (w == e->pid || (w < 0 && errno == ECHILD))
			break;
	}
	/* the process is gone: ship what it wrote last (without waiting for grandchildren) */
	fcntl(e->fd, F_SETFL, O_NONBLOCK);
	while (!eof) {
		ssize_t n = read(e->fd, buf + used, LINE_MAX_BYTES - used);

		if (n <= 0)
			break;
		used += (size_t)n;
		split_lines(e, buf, &used);
	}
	if (used)
		emit_line(e, buf, used);
	kill(-e->pid, SIGKILL); /* whatever it started goes with it */
	sbx_log(st->s, "INFO", "lambda: environment of %s (pid %ld) ended (%s %d)", e->fn->name,
		(long)e->pid, WIFSIGNALED(status) ? "signal" : "exit",
		WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));

	pthread_mutex_lock(&st->mu);
	e->dead = 1;
	e->status = status;
	pthread_cond_broadcast(&st->cv);
	pthread_cond_broadcast(&st->next_cv);
	pthread_mutex_unlock(&st->mu);
	close(e->fd); /* after dead: invokers look at it only while it is not */
	lx_rapi_stop(e->rapi); /* wakes and joins its /next long poll (it sees dead) */
	pthread_mutex_lock(&st->mu);
	while (e->inv || e->refs)
		wait_ms(st, 200);
	aws_buf_cleanup(&e->init_error_body);
	env_unlink(e);
	write_pids(st);
	pthread_cond_broadcast(&st->cv);
	pthread_mutex_unlock(&st->mu); /* the last touch of st: stop may free it now */
	free(e);
	return NULL;
}

/* Append "NAME=value" and its NUL to b, counting it in *n. Returns 0 or -1. */
static int add_var(struct aws_buf *b, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int add_var(struct aws_buf *b, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = aws_buf_vprintf(b, fmt, ap);
	va_end(ap);
	if (rc == 0)
		rc = aws_buf_addc(b, '\0');
	if (rc == 0)
		(*n)++;
	return rc;
}

/* Passed through to the bootstrap when set (tests only: harmless to other binaries). */
static const char *const san_vars[] = { "ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS" };

/* Build the process environment into envp (strings in b, pointers into it). */
static char **build_envp(struct lx_state *st, const struct lx_config *c, const struct lx_env *e,
			 int port)
{
	struct aws_buf b;
	size_t n = 0;
	char **envp = NULL;
	const char *k;
	json_t *v;
	char *p, *end;

	aws_buf_init(&b, 0);
	if (c->vars)
		json_object_foreach(c->vars, k, v)
			if (json_is_string(v) &&
			    add_var(&b, &n, "%s=%s", k, json_string_value(v)) != 0)
				goto fail;
	if (add_var(&b, &n, "AWS_LAMBDA_RUNTIME_API=127.0.0.1:%d", port) ||
	    add_var(&b, &n, "_HANDLER=%s", c->handler) ||
	    add_var(&b, &n, "LAMBDA_TASK_ROOT=%s", c->code_dir) ||
	    add_var(&b, &n, "LAMBDA_RUNTIME_DIR=%s", c->code_dir) ||
	    add_var(&b, &n, "AWS_LAMBDA_FUNCTION_NAME=%s", c->name) ||
	    add_var(&b, &n, "AWS_LAMBDA_FUNCTION_VERSION=$LATEST") ||
	    add_var(&b, &n, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=%d", c->memory_mb) ||
	    add_var(&b, &n, "AWS_LAMBDA_LOG_GROUP_NAME=%s", e->group) ||
	    add_var(&b, &n, "AWS_LAMBDA_LOG_STREAM_NAME=%s", e->stream) ||
	    add_var(&b, &n, "AWS_LAMBDA_INITIALIZATION_TYPE=on-demand") ||
	    add_var(&b, &n, "AWS_REGION=%s", c->region) ||
	    add_var(&b, &n, "AWS_DEFAULT_REGION=%s", c->region) ||
	    add_var(&b, &n, "AWS_ACCESS_KEY_ID=%s", c->access_key) ||
	    add_var(&b, &n, "AWS_ACCESS_KEY=%s", c->access_key) ||
	    add_var(&b, &n, "AWS_SECRET_ACCESS_KEY=%s", c->secret_key) ||
	    add_var(&b, &n, "AWS_SESSION_TOKEN=%s", c->session_token) ||
	    add_var(&b, &n, "AWS_ENDPOINT_URL=%s", sbx_endpoint(st->s)) ||
	    add_var(&b, &n, "TZ=UTC") ||
	    add_var(&b, &n, "LANG=en_US.UTF-8") ||
	    add_var(&b, &n, "PATH=/usr/local/bin:/usr/bin:/bin:/opt/bin") ||
	    add_var(&b, &n, "LD_LIBRARY_PATH=%s:%s/lib", c->code_dir, c->code_dir))
		goto fail;
	/* a sanitizer build's test runner tells every process where its reports go */
	for (size_t i = 0; i < sizeof(san_vars) / sizeof(san_vars[0]); i++)
		if (getenv(san_vars[i]) &&
		    add_var(&b, &n, "%s=%s", san_vars[i], getenv(san_vars[i])) != 0)
			goto fail;
	/* one allocation: the pointer array, then the strings */
	envp = malloc((n + 1) * sizeof(char *) + b.len + 1);
	if (!envp)
		goto fail;
	p = (char *)(envp + n + 1);
	memcpy(p, b.data, b.len + 1);
	end = p + b.len;
	for (size_t i = 0; i < n && p < end; i++) {
		envp[i] = p;
		p += strlen(p) + 1;
	}
	envp[n] = NULL;
fail:
	aws_buf_cleanup(&b);
	return envp;
}

/* Start a new environment for c (lock held). Returns it, or NULL with why filled. */
static struct lx_env *spawn_env(struct lx_state *st, struct lx_fn *fn, const struct lx_config *c,
				char *why, size_t whylen)
{
	struct lx_env *e = calloc(1, sizeof(*e));
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, defs;
	char path[1100], hex[33], day[16];
	char *argv[2];
	char **envp = NULL;
	int fds[2] = { -1, -1 }, port = 0, rc, fa_ok = 0, attr_ok = 0;
	pthread_t th;
	time_t now = time(NULL);
	struct tm tm;

	if (!e) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	e->st = st;
	e->fn = fn;
	e->init_us = -1;
	e->timeout_s = c->timeout_s;
	e->memory_mb = c->memory_mb;
	aws_buf_init(&e->init_error_body, 0);
	snprintf(e->revision, sizeof(e->revision), "%s", c->revision);
	snprintf(e->arn, sizeof(e->arn), "%s", c->arn);
	snprintf(e->group, sizeof(e->group), "/aws/lambda/%s", c->name);
	gmtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y/%m/%d", &tm);
	{
		char u[37];
		int j = 0;

		sbx_uuid(u);
		for (int i = 0; u[i] && j < 32; i++)
			if (u[i] != '-')
				hex[j++] = u[i];
		hex[j] = '\0';
	}
	snprintf(e->stream, sizeof(e->stream), "%s/[$LATEST]%s", day, hex);
	e->rapi = lx_rapi_start(e, &port);
	if (!e->rapi) {
		snprintf(why, whylen, "cannot start the Runtime API listener");
		goto fail;
	}
	envp = build_envp(st, c, e, port);
	if (!envp || pipe2(fds, O_CLOEXEC) != 0) {
		snprintf(why, whylen, "out of resources: %s", strerror(errno));
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/bootstrap", c->code_dir);
	if (access(path, X_OK) != 0) {
		snprintf(why, whylen, "Couldn't find valid bootstrap(s): [%.300s]: %s", path,
			 strerror(errno));
		goto fail;
	}
	argv[0] = path;
	argv[1] = NULL;
	posix_spawn_file_actions_init(&fa);
	fa_ok = 1;
	posix_spawnattr_init(&attr);
	attr_ok = 1;
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	posix_spawn_file_actions_addchdir_np(&fa, c->code_dir);
	sigemptyset(&none);
	sigemptyset(&defs);
	sigaddset(&defs, SIGPIPE);
	sigaddset(&defs, SIGCHLD);
	sigaddset(&defs, SIGTERM);
	sigaddset(&defs, SIGINT);
	sigaddset(&defs, SIGHUP);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &defs);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&e->pid, path, &fa, &attr, argv, envp);
	if (rc != 0) {
		snprintf(why, whylen, "cannot run %.300s: %s", path, strerror(rc));
		goto fail;
	}
	close(fds[1]);
	fds[1] = -1;
	e->fd = fds[0];
	e->spawned_ms = sbx_now_ms();
	e->spawned_us = now_us();
	e->next = fn->envs;
	fn->envs = e;
	st->nenvs++;
	write_pids(st);
	if (pthread_create(&th, NULL, env_reader, e) != 0) {
		/* cannot watch it: kill it and let nothing refer to it */
		kill(-e->pid, SIGKILL);
		waitpid(e->pid, NULL, 0);
		env_unlink(e);
		fds[0] = e->fd;
		snprintf(why, whylen, "cannot start a thread");
		e->pid = 0;
		goto fail;
	}
	pthread_detach(th);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	free(envp);
	sbx_log(st->s, "INFO", "lambda: started environment of %s (pid %ld, runtime API port %d)",
		c->name, (long)e->pid, port);
	return e;
fail:
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	if (attr_ok)
		posix_spawnattr_destroy(&attr);
	free(envp);
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	if (e->rapi) {
		e->dead = 1;
		pthread_cond_broadcast(&st->next_cv);
		pthread_mutex_unlock(&st->mu);
		lx_rapi_stop(e->rapi);
		pthread_mutex_lock(&st->mu);
	}
	aws_buf_cleanup(&e->init_error_body);
	free(e);
	return NULL;
}

/* ---- the Runtime API side (called from runtime_api.c's connection threads) ---- */

int lx_env_next(struct lx_env *e, struct lx_next *n)
{
	struct lx_state *st = e->st;
	struct lx_inv *inv = NULL;
	char start[128];
	int rc = -1;

	pthread_mutex_lock(&st->mu);
	e->refs++;
	if (e->init_us < 0)
		e->init_us = now_us() - e->spawned_us;
	pthread_cond_broadcast(&st->cv);
	while (!e->dead && !st->stopping && !(e->inv && !e->inv->dispatched && !e->inv->done)) {
		struct timespec ts;

		deadline_ts(1000, &ts);
		pthread_cond_timedwait(&st->next_cv, &st->mu, &ts);
	}
	if (!e->dead && !st->stopping) {
		inv = e->inv;
		n->payload = malloc(inv->len + 1);
		if (n->payload) {
			memcpy(n->payload, inv->payload, inv->len);
			n->payload[inv->len] = '\0';
			n->len = inv->len;
			inv->dispatched = 1;
			inv->dispatch_ms = sbx_now_ms();
			inv->dispatch_us = now_us();
			inv->deadline_ms = inv->dispatch_ms + (long long)e->timeout_s * 1000;
			snprintf(n->request_id, sizeof(n->request_id), "%s", inv->id);
			snprintf(n->arn, sizeof(n->arn), "%s", e->arn);
			snprintf(n->trace_id, sizeof(n->trace_id), "%s", inv->trace_id);
			n->deadline_ms = inv->deadline_ms;
			snprintf(start, sizeof(start), "START RequestId: %s Version: $LATEST", inv->id);
			inv_log(inv, start);
			rc = 0;
		}
	}
	e->refs--;
	pthread_cond_broadcast(&st->cv);
	pthread_mutex_unlock(&st->mu);
	if (rc == 0)
		put_line(e, start);
	return rc;
}

/* The running invocation with this id (lock held), or NULL. */
static struct lx_inv *running(struct lx_env *e, const char *id)
{
	if (e->inv && e->inv->dispatched && !e->inv->done && strcmp(e->inv->id, id) == 0)
		return e->inv;
	return NULL;
}

int lx_env_response(struct lx_env *e, const char *id, const char *body, size_t len)
{
	struct lx_state *st = e->st;
	struct lx_inv *inv;
	int rc = -1;

	pthread_mutex_lock(&st->mu);
	inv = running(e, id);
	if (inv) {
		aws_buf_reset(&inv->result);
		aws_buf_add(&inv->result, body, len);
		inv->done = 1;
		rc = 0;
		pthread_cond_broadcast(&st->cv);
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

/* Fill an error result from a runtime's error post (lock held). */
static void set_error(struct lx_inv *inv, const char *type_hdr, const char *body, size_t len)
{
	json_error_t jerr;
	json_t *doc = len ? json_loadb(body, len, 0, &jerr) : NULL;
	const char *type = json_is_object(doc) ? sbx_str(doc, "errorType") : NULL;

	inv->error = 1;
	inv->done = 1;
	snprintf(inv->error_type, sizeof(inv->error_type), "%s",
		 type ? type : type_hdr ? type_hdr : "Runtime.Unknown");
	aws_buf_reset(&inv->result);
	if (json_is_object(doc)) {
		aws_buf_add(&inv->result, body, len);
	} else {
		json_t *e = json_pack("{s:s, s:s}", "errorMessage",
				      len ? "The runtime posted an error that is not JSON"
					  : "The runtime posted an error without a body",
				      "errorType", inv->error_type);
		char *text = e ? json_dumps(e, JSON_COMPACT) : NULL;

		if (text)
			aws_buf_adds(&inv->result, text);
		free(text);
		json_decref(e);
	}
	json_decref(doc);
}

int lx_env_error(struct lx_env *e, const char *id, const char *type_hdr, const char *body,
		 size_t len)
{
	struct lx_state *st = e->st;
	struct lx_inv *inv;
	int rc = -1;

	pthread_mutex_lock(&st->mu);
	inv = running(e, id);
	if (inv) {
		set_error(inv, type_hdr, body, len);
		rc = 0;
		pthread_cond_broadcast(&st->cv);
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int lx_env_init_error(struct lx_env *e, const char *type_hdr, const char *body, size_t len)
{
	struct lx_state *st = e->st;

	pthread_mutex_lock(&st->mu);
	e->init_error = 1;
	snprintf(e->init_error_type, sizeof(e->init_error_type), "%s",
		 type_hdr ? type_hdr : "Runtime.Unknown");
	aws_buf_reset(&e->init_error_body);
	aws_buf_add(&e->init_error_body, body, len);
	if (e->inv && !e->inv->done) {
		set_error(e->inv, type_hdr, body, len);
		snprintf(e->init_error_type, sizeof(e->init_error_type), "%s", e->inv->error_type);
	}
	e->retire = 1; /* never reuse an environment whose init failed */
	pthread_cond_broadcast(&st->cv);
	pthread_mutex_unlock(&st->mu);
	return 0;
}

/* ---- invocations ---- */

/* An environment of fn ready for an invocation of revision (lock held), or NULL. */
static struct lx_env *idle_env(struct lx_fn *fn, const char *revision)
{
	for (struct lx_env *e = fn->envs; e; e = e->next)
		if (!e->dead && !e->retire && !e->inv && !e->init_error &&
		    strcmp(e->revision, revision) == 0)
			return e;
	return NULL;
}

/* Live environments of fn (lock held). */
static int live_envs(struct lx_fn *fn)
{
	int n = 0;

	for (struct lx_env *e = fn->envs; e; e = e->next)
		if (!e->dead)
			n++;
	return n;
}

/* Environments of fn running an invocation (lock held). */
static int busy_envs(struct lx_fn *fn)
{
	int n = 0;

	for (struct lx_env *e = fn->envs; e; e = e->next)
		if (!e->dead && e->inv)
			n++;
	return n;
}

/* Retire one idle environment of another revision to make room (lock held). */
static int retire_stale(struct lx_fn *fn, const char *revision)
{
	for (struct lx_env *e = fn->envs; e; e = e->next)
		if (!e->dead && !e->retire && !e->inv && strcmp(e->revision, revision) != 0) {
			e->retire = 1;
			kill(-e->pid, SIGKILL);
			return 1;
		}
	return 0;
}

/* The error document of a failure the sandbox itself observed. */
static void own_error(struct lx_inv *inv, const char *type, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void own_error(struct lx_inv *inv, const char *type, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	json_t *doc;
	char *text;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	inv->error = 1;
	inv->done = 1;
	snprintf(inv->error_type, sizeof(inv->error_type), "%s", type);
	doc = json_pack("{s:s, s:s}", "errorType", type, "errorMessage", msg);
	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	aws_buf_reset(&inv->result);
	if (text)
		aws_buf_adds(&inv->result, text);
	free(text);
	json_decref(doc);
}

/* Log a line of the sandbox's own into the invocation (lock held) and remember it to ship. */
static void own_line(struct lx_inv *inv, struct aws_buf *ship, const char *line)
{
	inv_log(inv, line);
	if (aws_buf_adds(ship, line) == 0)
		aws_buf_addc(ship, '\n');
}

/* Run inv on e and write its START/END/REPORT lines (lock held on entry, released on
 * return). Returns the duration in ms. */
static long long run_on(struct lx_state *st, struct lx_env *e, struct lx_inv *inv,
			const struct lx_config *c)
{
	struct aws_buf ship;
	char line[512], ts[32];
	long long duration_us = 0, init_us = -1;
	int mem = 0, timed_out = 0;

	aws_buf_init(&ship, 0);
	e->inv = inv;
	inv->assigned_ms = sbx_now_ms();
	pthread_cond_broadcast(&st->cv);
	pthread_cond_broadcast(&st->next_cv);
	for (;;) {
		long long now = sbx_now_ms();

		if (inv->done)
			break;
		if (e->dead) {
			if (e->init_error && e->init_error_body.len)
				set_error(inv, e->init_error_type, e->init_error_body.data,
					  e->init_error_body.len);
			else if (WIFSIGNALED(e->status))
				own_error(inv, "Runtime.ExitError",
					  "RequestId: %s Error: Runtime exited with error: signal: %s",
					  inv->id, strsignal(WTERMSIG(e->status)));
			else
				own_error(inv, "Runtime.ExitError",
					  "RequestId: %s Error: Runtime exited with error: exit status %d",
					  inv->id, WEXITSTATUS(e->status));
			break;
		}
		if ((inv->dispatched && now >= inv->deadline_ms) ||
		    (!inv->dispatched && now >= inv->assigned_ms + INIT_TIMEOUT_MS +
		     (long long)c->timeout_s * 1000)) {
			mem = max_memory_mb(e->pid);
			kill(-e->pid, SIGKILL);
			e->retire = 1;
			timed_out = 1;
			own_error(inv, "Sandbox.Timedout",
				  "RequestId: %s Error: Task timed out after %d.00 seconds", inv->id,
				  c->timeout_s);
			break;
		}
		wait_ms(st, inv->dispatched ? inv->deadline_ms - now : 200);
	}
	/* let the reader ship what the process wrote before it answered */
	if (!e->dead && !timed_out) {
		long long until = sbx_now_ms() + 50;
		int pending = 0;

		while (((ioctl(e->fd, FIONREAD, &pending) == 0 && pending > 0) || e->reading) &&
		       sbx_now_ms() < until)
			wait_ms(st, 5);
	}
	if (!timed_out && !e->dead)
		mem = max_memory_mb(e->pid);
	if (!inv->dispatched) {
		/* it died or hung before asking for the invocation */
		inv->dispatch_ms = inv->assigned_ms;
		inv->dispatch_us = inv->assigned_ms * 1000;
		snprintf(line, sizeof(line), "START RequestId: %s Version: $LATEST", inv->id);
		own_line(inv, &ship, line);
	}
	duration_us = now_us() - inv->dispatch_us;
	if (!e->init_reported && e->init_us >= 0) {
		init_us = e->init_us;
		e->init_reported = 1;
	}
	if (timed_out) {
		sbx_iso_time(sbx_now_ms(), ts);
		snprintf(line, sizeof(line), "%s %s Task timed out after %d.00 seconds", ts, inv->id,
			 c->timeout_s);
		own_line(inv, &ship, line);
	} else if (e->dead && !e->init_error) {
		snprintf(line, sizeof(line), "%.*s", (int)(sizeof(line) - 1),
			 aws_buf_str(&inv->result));
		own_line(inv, &ship, line);
	}
	snprintf(line, sizeof(line), "END RequestId: %s", inv->id);
	own_line(inv, &ship, line);
	{
		long long billed = (duration_us + 999) / 1000;
		int n = snprintf(line, sizeof(line), "REPORT RequestId: %s\tDuration: %lld.%02lld ms\t"
				 "Billed Duration: %lld ms\tMemory Size: %d MB\tMax Memory Used: %d MB",
				 inv->id, duration_us / 1000, duration_us % 1000 / 10,
				 billed < 1 ? 1 : billed, c->memory_mb, mem ? mem : 1);

		if (init_us >= 0 && n > 0 && (size_t)n < sizeof(line))
			snprintf(line + n, sizeof(line) - (size_t)n, "\tInit Duration: %lld.%02lld ms",
				 init_us / 1000, init_us % 1000 / 10);
		own_line(inv, &ship, line);
	}
	e->inv = NULL;
	if (e->retire && !e->dead)
		kill(-e->pid, SIGKILL);
	pthread_cond_broadcast(&st->cv);
	/* ship the sandbox's own lines in order, outside the lock */
	{
		char group[128], stream[128], arn[192];
		char *p, *nl;

		snprintf(group, sizeof(group), "%s", e->group);
		snprintf(stream, sizeof(stream), "%s", e->stream);
		snprintf(arn, sizeof(arn), "%s", e->arn);
		pthread_mutex_unlock(&st->mu);
		for (p = may_log(st->s, arn, group, stream) ? ship.data : NULL; p && *p;
		     p = nl + 1) {
			nl = strchr(p, '\n');
			if (!nl)
				break;
			*nl = '\0';
			sbx_logs_put_internal(st->s, group, stream, sbx_now_ms(), p);
		}
	}
	aws_buf_cleanup(&ship);
	return duration_us / 1000;
}

/* Find or start an environment of c for an invocation (lock held; may wait until
 * give_up). Returns 0 with *out, 1 when one could not be started (why), 2 when there is
 * no capacity, -1 when the executor is stopping. */
static int acquire_env(struct lx_state *st, const struct lx_config *c, long long give_up,
		       struct lx_env **out, char *why, size_t whylen)
{
	struct lx_fn *fn = fn_get(st, c->name);
	int limit = c->concurrency >= 0 ? c->concurrency : LX_DEFAULT_CONCURRENCY;

	for (;;) {
		if (st->stopping || !fn)
			return -1;
		if (busy_envs(fn) < limit) {
			*out = idle_env(fn, c->revision);
			if (*out)
				return 0;
		}
		if (live_envs(fn) < limit) {
			*out = spawn_env(st, fn, c, why, whylen);
			return *out ? 0 : 1;
		}
		if (retire_stale(fn, c->revision))
			continue;
		if (sbx_now_ms() >= give_up)
			return 2;
		wait_ms(st, give_up - sbx_now_ms());
	}
}

int lx_exec_invoke(struct sbx *s, const struct lx_config *c, const char *payload, size_t len,
		   struct aws_buf *out, struct sbx_invoke_result *res, long wait_for_ms,
		   struct aws_buf *tail)
{
	struct lx_state *st = state_of(s);
	struct lx_inv inv;
	struct lx_env *e = NULL;
	char why[512] = "", group[128];
	long long give_up = sbx_now_ms() + (wait_for_ms > 0 ? wait_for_ms : 0);
	long long duration_ms = 0;
	int got, rc = -1;

	memset(res, 0, sizeof(*res));
	memset(&inv, 0, sizeof(inv));
	aws_buf_init(&inv.result, 0);
	aws_buf_init(&inv.log, 0);
	sbx_uuid(inv.id);
	{
		char hex[33];
		int j = 0;

		for (int i = 0; inv.id[i] && j < 32; i++)
			if (inv.id[i] != '-')
				hex[j++] = inv.id[i];
		hex[j] = '\0';
		snprintf(inv.trace_id, sizeof(inv.trace_id),
			 "Root=1-%08llx-%.24s;Parent=%.16s;Sampled=0",
			 (unsigned long long)time(NULL), hex, hex + 16);
	}
	inv.payload = payload ? payload : "";
	inv.len = payload ? len : 0;
	if (!st) {
		snprintf(res->error_type, sizeof(res->error_type), "ServiceException");
		goto done;
	}
	pthread_mutex_lock(&st->mu);
	got = acquire_env(st, c, give_up, &e, why, sizeof(why));
	if (got == 0) {
		duration_ms = run_on(st, e, &inv, c); /* unlocks */
	} else {
		pthread_mutex_unlock(&st->mu);
		if (got != 1) {
			res->throttled = got == 2;
			snprintf(res->error_type, sizeof(res->error_type), "%s",
				 got == 2 ? "TooManyRequestsException" : "ServiceException");
			goto done;
		}
		sbx_log(s, "WARN", "lambda: %s: %s", c->name, why);
		own_error(&inv, "Runtime.InvalidEntrypoint", "RequestId: %s Error: %s", inv.id, why);
		snprintf(group, sizeof(group), "/aws/lambda/%s", c->name);
		if (may_log(s, c->arn, group, "sandbox/errors"))
			sbx_logs_put_internal(s, group, "sandbox/errors", sbx_now_ms(),
					      aws_buf_str(&inv.result));
	}
	res->function_error = inv.error;
	snprintf(res->error_type, sizeof(res->error_type), "%s", inv.error ? inv.error_type : "");
	res->duration_ms = duration_ms;
	if (out) {
		aws_buf_reset(out);
		if (inv.result.len)
			aws_buf_add(out, inv.result.data, inv.result.len);
	}
	if (tail) {
		size_t from = inv.log.len > LX_TAIL_BYTES ? inv.log.len - LX_TAIL_BYTES : 0;

		aws_buf_reset(tail);
		if (inv.log.len)
			aws_buf_add(tail, inv.log.data + from, inv.log.len - from);
	}
	rc = 0;
done:
	aws_buf_cleanup(&inv.result);
	aws_buf_cleanup(&inv.log);
	return rc;
}

int sbx_lambda_invoke(struct sbx *s, const char *function, const char *payload, size_t len,
		      struct aws_buf *out, struct sbx_invoke_result *res, long wait_for_ms)
{
	struct lx_config c;
	int rc;

	memset(res, 0, sizeof(*res));
	if (lx_config_load(s, function, &c) != 0) {
		snprintf(res->error_type, sizeof(res->error_type), "ResourceNotFoundException");
		return -1;
	}
	rc = lx_exec_invoke(s, &c, payload, len, out, res, wait_for_ms, NULL);
	lx_config_cleanup(&c);
	return rc;
}

/* ---- Event invocations ---- */

/* Claim the oldest unclaimed Event invocation: fills *id, function and *payload (malloc'd,
 * NUL-terminated: the caller frees) and *len. Returns 0, 1 when there is none, -1 on a
 * store error (logged). */
static int claim_job(struct sbx *s, long long *id, char *function, size_t fn_len,
		     char **payload, size_t *len)
{
	sqlite3 *db = sbx_db_lock(s);
	sqlite3_stmt *st = sbx_db_prep(s, db, "SELECT id, function, payload FROM lambda_async"
				       " WHERE claimed = 0 ORDER BY id LIMIT 1", "");
	int rc = -1, step = SQLITE_ERROR;

	if (!st)
		goto done;
	step = sqlite3_step(st);
	if (step == SQLITE_DONE) {
		rc = 1;
		goto done;
	}
	if (step != SQLITE_ROW)
		goto done;
	*len = (size_t)sqlite3_column_bytes(st, 2);
	*payload = malloc(*len + 1);
	if (!*payload)
		goto done;
	if (*len)
		memcpy(*payload, sqlite3_column_blob(st, 2), *len);
	(*payload)[*len] = '\0';
	*id = sqlite3_column_int64(st, 0);
	snprintf(function, fn_len, "%s", sbx_col(st, 1));
	if (sbx_db_run(s, db, "UPDATE lambda_async SET claimed = 1 WHERE id = ?1", "i", *id) != 1) {
		free(*payload);
		*payload = NULL;
		goto done;
	}
	rc = 0;
done:
	if (rc < 0 && st) /* (a failed prepare is logged already) */
		sbx_log(s, "ERROR", "lambda: cannot read the Event invocation queue: %s",
			sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sbx_db_unlock(s);
	return rc;
}

static void *async_worker(void *arg)
{
	struct lx_state *st = arg;

	pthread_mutex_lock(&st->mu);
	while (!st->stopping) {
		struct sbx_invoke_result res;
		struct aws_buf out;
		char function[192];
		char *payload = NULL;
		size_t len = 0;
		long long id = 0;
		int got, stopped;

		if (st->njobs <= 0) {
			pthread_cond_wait(&st->jobs_cv, &st->mu);
			continue;
		}
		st->njobs--;
		pthread_mutex_unlock(&st->mu);
		got = claim_job(st->s, &id, function, sizeof(function), &payload, &len);
		if (got != 0) {
			/* none left (another worker took it), or the store failed: try it again */
			pthread_mutex_lock(&st->mu);
			if (got < 0) {
				st->njobs++;
				wait_ms(st, 1000);
			}
			continue;
		}
		aws_buf_init(&out, 0);
		if (sbx_lambda_invoke(st->s, function, payload, len, &out, &res,
				      ASYNC_WAIT_MS) != 0)
			sbx_log(st->s, "WARN", "lambda: Event invocation of %s not run (%s)",
				function, res.error_type);
		else if (res.function_error)
			sbx_log(st->s, "INFO", "lambda: Event invocation of %s failed: %s",
				function, res.error_type);
		aws_buf_cleanup(&out);
		free(payload);
		pthread_mutex_lock(&st->mu);
		stopped = st->stopping;
		pthread_mutex_unlock(&st->mu);
		/* one cut short by the sandbox stopping runs again at the next start */
		if (!stopped) {
			sqlite3 *db = sbx_db_lock(st->s);

			sbx_db_run(st->s, db, "DELETE FROM lambda_async WHERE id = ?1", "i", id);
			sbx_db_unlock(st->s);
		}
		pthread_mutex_lock(&st->mu);
	}
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

int lx_exec_enqueue(struct sbx *s, const char *function, const char *payload, size_t len)
{
	struct lx_state *st = state_of(s);
	sqlite3 *db;
	sqlite3_stmt *q;
	int rc = -1;

	if (!st)
		return -1;
	db = sbx_db_lock(s);
	q = sbx_db_prep(s, db, "INSERT INTO lambda_async(function, payload, created)"
			" VALUES(?1, ?2, ?3)", "s", function);
	if (q && sqlite3_bind_blob(q, 2, payload, (int)len, SQLITE_TRANSIENT) == SQLITE_OK &&
	    sqlite3_bind_int64(q, 3, sbx_now_ms()) == SQLITE_OK && sqlite3_step(q) == SQLITE_DONE)
		rc = 0;
	else
		sbx_log(s, "ERROR", "lambda: cannot queue an Event invocation of %s: %s", function,
			sqlite3_errmsg(db));
	sqlite3_finalize(q);
	sbx_db_unlock(s);
	if (rc != 0)
		return -1;
	pthread_mutex_lock(&st->mu);
	st->njobs++;
	pthread_cond_signal(&st->jobs_cv);
	pthread_mutex_unlock(&st->mu);
	return 0;
}

/* ---- lifecycle ---- */

void lx_exec_retire(struct sbx *s, const char *name)
{
	struct lx_state *st = state_of(s);

	if (!st)
		return;
	pthread_mutex_lock(&st->mu);
	for (struct lx_fn *fn = st->fns; fn; fn = fn->next) {
		if (strcmp(fn->name, name) != 0)
			continue;
		for (struct lx_env *e = fn->envs; e; e = e->next) {
			e->retire = 1;
			if (!e->inv && !e->dead)
				kill(-e->pid, SIGKILL);
		}
	}
	pthread_cond_broadcast(&st->cv);
	pthread_mutex_unlock(&st->mu);
}

int lx_exec_start(struct sbx *s)
{
	struct lx_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -1;
	st->s = s;
	pthread_mutex_init(&st->mu, NULL);
	pthread_cond_init(&st->cv, NULL);
	pthread_cond_init(&st->jobs_cv, NULL);
	pthread_cond_init(&st->next_cv, NULL);
	snprintf(st->dir, sizeof(st->dir), "%s/lambda", sbx_data_dir(s));
	if (mkdir(st->dir, 0700) != 0 && errno != EEXIST) {
		sbx_log(s, "ERROR", "lambda: cannot create %s: %s", st->dir, strerror(errno));
		goto fail;
	}
	if (!realpath(st->dir, st->real_dir))
		snprintf(st->real_dir, sizeof(st->real_dir), "%s", st->dir);
	kill_leftovers(st);
	{
		sqlite3 *db = sbx_db_lock(s);
		sqlite3_stmt *q = NULL;
		int ok = sbx_db_exec(s, db, async_schema) == 0;

		q = ok ? sbx_db_prep(s, db, "SELECT COUNT(*) FROM lambda_async", "") : NULL;
		if (q && sqlite3_step(q) == SQLITE_ROW)
			st->njobs = sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
		sbx_db_unlock(s);
		if (!ok)
			goto fail;
		if (st->njobs)
			sbx_log(s, "INFO", "lambda: %lld Event invocations resumed", st->njobs);
	}
	sbx_set_state(s, STATE_NAME, st); /* before the workers: they may invoke at once */
	for (int i = 0; i < ASYNC_WORKERS; i++) {
		if (pthread_create(&st->workers[i], NULL, async_worker, st) != 0)
			break;
		st->nworkers++;
	}
	return 0;
fail:
	pthread_mutex_destroy(&st->mu);
	pthread_cond_destroy(&st->cv);
	pthread_cond_destroy(&st->jobs_cv);
	pthread_cond_destroy(&st->next_cv);
	free(st);
	return -1;
}

void lx_exec_quiesce(struct sbx *s)
{
	struct lx_state *st = state_of(s);

	if (!st)
		return;
	pthread_mutex_lock(&st->mu);
	st->stopping = 1;
	for (struct lx_fn *fn = st->fns; fn; fn = fn->next)
		for (struct lx_env *e = fn->envs; e; e = e->next) {
			e->retire = 1;
			if (!e->dead)
				kill(-e->pid, SIGKILL);
		}
	pthread_cond_broadcast(&st->cv);
	pthread_cond_broadcast(&st->jobs_cv);
	pthread_cond_broadcast(&st->next_cv);
	pthread_mutex_unlock(&st->mu);
}

void lx_exec_stop(struct sbx *s)
{
	struct lx_state *st = state_of(s);
	long long until = sbx_now_ms() + 10000;

	if (!st)
		return;
	pthread_mutex_lock(&st->mu);
	st->stopping = 1;
	pthread_cond_broadcast(&st->cv);
	pthread_cond_broadcast(&st->jobs_cv);
	pthread_cond_broadcast(&st->next_cv);
	pthread_mutex_unlock(&st->mu);
	for (int i = 0; i < st->nworkers; i++)
		pthread_join(st->workers[i], NULL);
	pthread_mutex_lock(&st->mu);
	for (struct lx_fn *fn = st->fns; fn; fn = fn->next)
		for (struct lx_env *e = fn->envs; e; e = e->next) {
			e->retire = 1;
			if (!e->dead)
				kill(-e->pid, SIGKILL);
		}
	while (st->nenvs > 0 && sbx_now_ms() < until)
		wait_ms(st, 100);
	if (st->nenvs > 0)
		sbx_log(s, "WARN", "lambda: %d environments did not end in time", st->nenvs);
	while (st->fns) {
		struct lx_fn *fn = st->fns;

		st->fns = fn->next;
		if (!fn->envs)
			free(fn); /* a straggler keeps its function (a few bytes) */
	}
	pthread_mutex_unlock(&st->mu);
	sbx_set_state(s, STATE_NAME, NULL);
	if (st->nenvs == 0) {
		char path[PATH_MAX + 16];

		snprintf(path, sizeof(path), "%s/pids", st->dir);
		unlink(path);
		pthread_mutex_destroy(&st->mu);
		pthread_cond_destroy(&st->cv);
		pthread_cond_destroy(&st->jobs_cv);
		pthread_cond_destroy(&st->next_cv);
		free(st);
	}
}
