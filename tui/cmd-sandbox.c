/* cmd-sandbox.c: `cleanops sandbox start|stop|status`: run the local AWS sandbox. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aws/sandbox/sandbox.h"
#include "cli.h"

#define NOTIFY_ENV "CLEANOPS_SANDBOX_NOTIFY_FD"

/* snprintf's result as 0, or -1 when the text did not fit (or failed). */
static int fits(int len, size_t n)
{
	return len < 0 || (size_t)len >= n ? -1 : 0;
}

/* DIR/name into out. Returns 0, or -1 when the path does not fit. */
static int data_file(char *out, size_t n, const char *dir, const char *name)
{
	return fits(snprintf(out, n, "%s/%s", dir, name), n);
}

/* The data directory: --data, else $XDG_STATE_HOME/cleanops/sandbox, else
 * ~/.local/state/cleanops/sandbox; created 0700. Returns 0 or -1 (printed). */
static int data_dir(const struct cli_args *a, char *out, size_t n)
{
	const char *d = cli_get(a, "data");
	const char *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	char tmp[PATH_MAX];
	size_t len;
	int rc;

	if (d && *d)
		rc = snprintf(out, n, "%s", d);
	else if (xdg && *xdg)
		rc = snprintf(out, n, "%s/cleanops/sandbox", xdg);
	else if (home && *home)
		rc = snprintf(out, n, "%s/.local/state/cleanops/sandbox", home);
	else {
		fprintf(stderr, "cleanops sandbox: no --data, XDG_STATE_HOME or HOME\n");
		return -1;
	}
	len = strlen(out);
	/* room for the longest file name inside it ("/sandbox.port.PID.tmp") */
	if (fits(rc, n) != 0 || len + 40 >= sizeof(tmp)) {
		fprintf(stderr, "cleanops sandbox: the data directory path is too long\n");
		return -1;
	}
	memcpy(tmp, out, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0700) != 0 && errno != EEXIST) {
			fprintf(stderr, "cleanops sandbox: cannot create %s: %s\n", tmp, strerror(errno));
			return -1;
		}
		tmp[i] = out[i];
	}
	return 0;
}

/* Write path atomically (temporary file + rename), mode 0600. */
static int write_atomic(const char *path, const char *text)
{
	char tmp[PATH_MAX];
	FILE *f;
	int ok;

	if (fits(snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()), sizeof(tmp)))
		return -1;
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fchmod(fileno(f), 0600);
	ok = fputs(text, f) >= 0;
	ok = (fflush(f) == 0) && ok && fsync(fileno(f)) == 0;
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Read a small decimal number from DIR/name; returns it or -1. */
static long read_number(const char *dir, const char *name)
{
	char path[PATH_MAX], buf[32];
	FILE *f;
	long v = -1;

	if (data_file(path, sizeof(path), dir, name))
		return -1;
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f)) {
		char *end;

		errno = 0;
		v = strtol(buf, &end, 10);
		if (errno || end == buf || v <= 0)
			v = -1;
	}
	fclose(f);
	return v;
}

/* Nonzero when pid is a live cleanops process (guards against a recycled pid). */
static int pid_alive(long pid)
{
	char path[64], cmd[256];
	FILE *f;
	size_t n;

	if (pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno == ESRCH))
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (f) { /* a zombie is gone for our purposes */
		char st[256];

		if (fgets(st, sizeof(st), f)) {
			char *rp = strrchr(st, ')');

			if (rp && rp[1] == ' ' && rp[2] == 'Z') {
				fclose(f);
				return 0;
			}
		}
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	f = fopen(path, "r");
	if (!f)
		return 1; /* no /proc: trust the pid file */
	n = fread(cmd, 1, sizeof(cmd) - 1, f);
	fclose(f);
	cmd[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (cmd[i] == '\0')
			cmd[i] = ' ';
	return strstr(cmd, "sandbox") != NULL;
}

/* Nonzero when the sandbox on port answers its health check. */
static int endpoint_answers(int port)
{
	struct sockaddr_in sa;
	static const char req[] = "GET /_cleanops/health HTTP/1.0\r\n\r\n";
	char buf[64];
	struct pollfd pfd;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int ok = 0;
	ssize_t n;

	if (fd < 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto done;
	if (write(fd, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1))
		goto done;
	pfd.fd = fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 2000) <= 0)
		goto done;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n > 12) {
		buf[n] = '\0';
		ok = strncmp(buf, "HTTP/1.", 7) == 0 && strncmp(buf + 9, "200", 3) == 0;
	}
done:
	close(fd);
	return ok;
}

static int parse_port(const struct cli_args *a, int *port)
{
	const char *p = cli_get(a, "port");
	char *end;
	long v;

	*port = SBX_DEFAULT_PORT;
	if (!p)
		return 0;
	errno = 0;
	v = strtol(p, &end, 10);
	if (errno || end == p || *end || v < 1 || v > 65535) {
		fprintf(stderr, "cleanops sandbox: --port wants a number from 1 to 65535\n");
		return -1;
	}
	*port = (int)v;
	return 0;
}

static void remove_files(const char *dir)
{
	char path[PATH_MAX];

	if (data_file(path, sizeof(path), dir, "sandbox.pid") == 0)
		unlink(path);
	if (data_file(path, sizeof(path), dir, "sandbox.port") == 0)
		unlink(path);
}

/* Tell the starting parent how it went (when started in the background). */
static void notify(const char *msg)
{
	const char *fds = getenv(NOTIFY_ENV);
	char *end;
	long fd;

	if (!fds)
		return;
	fd = strtol(fds, &end, 10);
	if (*end || fd < 0)
		return;
	if (write((int)fd, msg, strlen(msg)) < 0) {
		/* the parent is gone: nothing to tell */
	}
	close((int)fd);
	unsetenv(NOTIFY_ENV);
}

/* Run the sandbox in this process until SIGTERM or SIGINT. */
static int run_foreground(const char *dir, int port, int strict, int no_iam)
{
	struct sbx_opts opts;
	struct sbx *s = NULL;
	char err[512], path[PATH_MAX], text[64];
	sigset_t set;
	int sig = 0;

	umask(077); /* the store and logs are the user's alone */
	/* the sandbox never uses the operator's AWS credentials: nothing it starts inherits
	 * them (run in the foreground, /proc/PID/environ still shows what it was given) */
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_SECURITY_TOKEN");
	memset(&opts, 0, sizeof(opts));
	opts.port = port;
	opts.data_dir = dir;
	opts.strict_auth = strict;
	opts.no_enforce_iam = no_iam;
	/* every thread the sandbox starts inherits this mask; only sigwait() sees them */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (sbx_start(&opts, &s, err, sizeof(err)) != 0) {
		char msg[600];

		snprintf(msg, sizeof(msg), "error %s\n", err);
		notify(msg);
		fprintf(stderr, "cleanops sandbox: %s\n", err);
		return 1;
	}
	snprintf(text, sizeof(text), "%d\n", sbx_port(s));
	if (data_file(path, sizeof(path), dir, "sandbox.port") == 0 &&
	    write_atomic(path, text) == 0) {
		snprintf(text, sizeof(text), "%ld\n", (long)getpid());
		if (data_file(path, sizeof(path), dir, "sandbox.pid") != 0 ||
		    write_atomic(path, text) != 0)
			path[0] = '\0';
	} else {
		path[0] = '\0';
	}
	if (!path[0] || access(path, F_OK) != 0) {
		sbx_log(s, "ERROR", "cannot write the pid and port files in %s", dir);
		notify("error cannot write the pid and port files\n");
		sbx_stop(s);
		return 1;
	}
	if (getenv(NOTIFY_ENV)) {
		notify("ready\n");
	} else {
		printf("%s\n", sbx_endpoint(s));
		fflush(stdout);
	}
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
		sbx_log(s, "INFO", "SIGHUP ignored");
	sbx_log(s, "INFO", "signal %d: shutting down", sig);
	remove_files(dir);
	sbx_stop(s);
	return 0;
}

/* Start a detached foreground sandbox and wait until it answers. */
static int start_background(const char *dir, int port, int strict, int no_iam)
{
	char portarg[16], logpath[PATH_MAX], fdtext[16], msg[600];
	int pfd[2];
	pid_t child;
	size_t got = 0;
	long long deadline;

	snprintf(portarg, sizeof(portarg), "%d", port);
	if (data_file(logpath, sizeof(logpath), dir, "sandbox.log") != 0) {
		fprintf(stderr, "cleanops sandbox: the data directory path is too long\n");
		return 1;
	}
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		fprintf(stderr, "cleanops sandbox: pipe: %s\n", strerror(errno));
		return 1;
	}
	child = fork();
	if (child < 0) {
		fprintf(stderr, "cleanops sandbox: fork: %s\n", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return 1;
	}
	if (child == 0) {
		char *argv[12];
		int argc = 0;
		int nul = open("/dev/null", O_RDONLY);
		int log = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);

		setsid();
		if (nul >= 0)
			dup2(nul, 0);
		if (log >= 0) {
			dup2(log, 1);
			dup2(log, 2);
		}
		/* the daemon never uses the operator's AWS credentials: exec it without them
		 * (an unsetenv after exec would leave them in /proc/PID/environ) */
		unsetenv("AWS_SECRET_ACCESS_KEY");
		unsetenv("AWS_SESSION_TOKEN");
		unsetenv("AWS_SECURITY_TOKEN");
		fcntl(pfd[1], F_SETFD, 0); /* keep the notify end across exec */
		snprintf(fdtext, sizeof(fdtext), "%d", pfd[1]);
		setenv(NOTIFY_ENV, fdtext, 1);
		argv[argc++] = (char *)"cleanops";
		argv[argc++] = (char *)"sandbox";
		argv[argc++] = (char *)"start";
		argv[argc++] = (char *)"--foreground";
		argv[argc++] = (char *)"--port";
		argv[argc++] = portarg;
		argv[argc++] = (char *)"--data";
		argv[argc++] = (char *)dir;
		if (strict)
			argv[argc++] = (char *)"--strict-auth";
		if (no_iam)
			argv[argc++] = (char *)"--no-enforce-iam";
		argv[argc] = NULL;
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(pfd[1]);
	/* wait for "ready" or "error ..." (or EOF if it died) */
	deadline = (long long)time(NULL) + 30;
	for (;;) {
		struct pollfd p = { pfd[0], POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, 1000) < 0 && errno != EINTR)
			break;
		if (p.revents) {
			n = read(pfd[0], msg + got, sizeof(msg) - 1 - got);
			if (n <= 0)
				break;
			got += (size_t)n;
			if (memchr(msg, '\n', got) || got == sizeof(msg) - 1)
				break;
		}
		if ((long long)time(NULL) > deadline)
			break;
	}
	close(pfd[0]);
	msg[got] = '\0';
	if (strncmp(msg, "ready", 5) != 0) {
		char *nl = strchr(msg, '\n');
		int status;

		if (nl)
			*nl = '\0';
		if (waitpid(child, &status, WNOHANG) == 0) {
			kill(child, SIGTERM);
			waitpid(child, &status, 0);
		}
		fprintf(stderr, "cleanops sandbox: %s\n",
			strncmp(msg, "error ", 6) == 0 ? msg + 6 :
			"the sandbox did not start (see sandbox.log in the data directory)");
		return 1;
	}
	/* it says ready: check that the endpoint answers before we say so */
	for (int i = 0; i < 100; i++) {
		if (endpoint_answers(port)) {
			printf("http://127.0.0.1:%d\n", port);
			return 0;
		}
		{
			struct timespec ts = { 0, 50 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
	}
	fprintf(stderr, "cleanops sandbox: started but http://127.0.0.1:%d does not answer\n", port);
	return 1;
}

static int sandbox_start(const struct cli_args *a, const char *dir)
{
	long pid = read_number(dir, "sandbox.pid");
	long running_port = read_number(dir, "sandbox.port");
	int port;

	if (parse_port(a, &port) != 0)
		return 2;
	if (pid > 0 && pid_alive(pid) && running_port > 0) {
		if (cli_has(a, "port") && running_port != port) {
			fprintf(stderr, "cleanops sandbox: already running on port %ld for %s (pid %ld); "
				"stop it first\n", running_port, dir, pid);
			return 1;
		}
		fprintf(stderr, "cleanops sandbox: already running (pid %ld)\n", pid);
		printf("http://127.0.0.1:%ld\n", running_port);
		return 0;
	}
	if (cli_has(a, "foreground"))
		return run_foreground(dir, port, cli_has(a, "strict-auth"),
				      cli_has(a, "no-enforce-iam"));
	return start_background(dir, port, cli_has(a, "strict-auth"),
				cli_has(a, "no-enforce-iam"));
}

static int sandbox_stop(const char *dir)
{
	long pid = read_number(dir, "sandbox.pid");

	if (pid <= 0 || !pid_alive(pid)) {
		remove_files(dir);
		printf("not running (data %s)\n", dir);
		return 0;
	}
	if (kill((pid_t)pid, SIGTERM) != 0 && errno != ESRCH) {
		fprintf(stderr, "cleanops sandbox: cannot signal pid %ld: %s\n", pid, strerror(errno));
		return 1;
	}
	/* shutdown wakes long polls first, then waits for the requests still in flight */
	for (int i = 0; i < 600 && pid_alive(pid); i++) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	if (pid_alive(pid)) {
		fprintf(stderr, "cleanops sandbox: pid %ld did not stop in 30 s; killing it\n", pid);
		kill((pid_t)pid, SIGKILL);
	}
	remove_files(dir);
	printf("stopped (data %s)\n", dir);
	return 0;
}

static int sandbox_status(const char *dir)
{
	long pid = read_number(dir, "sandbox.pid");
	long port = read_number(dir, "sandbox.port");

	if (pid > 0 && pid_alive(pid) && port > 0) {
		printf("running: http://127.0.0.1:%ld (pid %ld%s), data %s\n", port, pid,
		       endpoint_answers((int)port) ? "" : ", not answering", dir);
		return 0;
	}
	printf("not running, data %s\n", dir);
	return 0;
}

static int exec_sandbox(const struct cli_cmd *self, struct cli_args *a)
{
	char dir[PATH_MAX];
	const char *what = a->pos[0];

	if (data_dir(a, dir, sizeof(dir)) != 0)
		return 1;
	if (strcmp(what, "start") == 0)
		return sandbox_start(a, dir);
	if (strcmp(what, "stop") == 0)
		return sandbox_stop(dir);
	if (strcmp(what, "status") == 0)
		return sandbox_status(dir);
	fprintf(stderr, "cleanops sandbox: unknown action '%s' (start, stop or status)\n", what);
	return cli_usage(self);
}

const struct cli_cmd cmd_sandbox = {
	.name = "sandbox",
	.usage = "start|stop|status [--port N] [--data DIR] [--strict-auth] [--no-enforce-iam] [--foreground]",
	.summary = "run the local AWS-compatible sandbox (default http://127.0.0.1:4566)",
	.options = "port=,data=,strict-auth,no-enforce-iam,foreground",
	.min_pos = 1,
	.max_pos = 1,
	.exec = exec_sandbox,
};
