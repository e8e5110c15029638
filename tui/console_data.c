/* console_data.c: the console's data adapter: AWS work on background threads, snapshots out. */
#include "console_data.h"

#include <errno.h>
#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aws/client/aws.h"
#include "aws/stack/names.h"

#include "aws/stack/api_url.h"
#include "aws/stack/monitor.h"
#include "aws/stack/order.h"
#include "aws/stack/stack.h"

extern char **environ;

/* The queues the poller watches, as rows: base name and the counters they feed. */
static const struct {
	const char *base;
	enum tui_counter_id visible;
	enum tui_counter_id inflight; /* TUI_C_COUNT: add in-flight to visible */
} watched_queues[] = {
	{ STACK_QUEUE, TUI_C_VISIBLE, TUI_C_INFLIGHT },
	{ STACK_DLQ, TUI_C_DLQ, TUI_C_COUNT },
	{ STACK_DELIVERIES, TUI_C_DELIVERIES, TUI_C_COUNT },
};
enum { NQUEUES = sizeof(watched_queues) / sizeof(watched_queues[0]) };
enum { RATE_WINDOW = 5 }; /* samples (one a second) a rate is averaged over */
enum { DLV_SEEN = 4096 };  /* orderIDs of recent deliveries remembered, to count each once */

/* Cached queue URLs of one thread, valid for one stack generation. */
struct qcache {
	unsigned gen;
	char url[NQUEUES][512];
};

struct tui_data {
	struct tui_target target;
	char self_exe[256];
	struct aws_client *client;      /* owned; created by the poll thread; short timeouts */
	struct aws_client *jclient;     /* owned; the job thread's, default timeouts */
	struct aws_client *mclient;     /* owned; the monitor's (long polls) */
	void *monitor;                  /* poll thread: the running struct stack_monitor */
	unsigned monitor_gen;           /* the stack generation it watches */
	double monitor_retry;           /* poll thread: when to try starting it again */
	long long l1_starts, l1_errors, l2_starts, l2_errors; /* from log lines (mu) */
	long long l2_published;         /* "published messageId" lines of POC-Lambda-2 (mu) */
	void *engine;                   /* the running struct stack (job thread), or NULL */
	int have_engine;                /* the stack engine decides "deployed" */
	long long items_at_start;       /* DynamoDB items when the running burst started */
	/* the running order job, as its callbacks (the order's threads) see it (mu) */
	int order_burst;                /* it is a burst: its status line shows the counts */
	long order_answered;            /* its answers already counted into "sent" */
	double order_woke;              /* when its progress last woke the UI */
	/* deliveries, whoever took them off the queue: the monitor's peeks and a burst's
	 * tracker (mu). Counted once per orderID: the FNV-1a hashes of the last DLV_SEEN
	 * orderIDs tell a delivery both saw */
	long long deliveries;
	unsigned long long dlv_seen[DLV_SEEN];
	int dlv_next;
	pthread_mutex_t mu;             /* guards snap, stack, region, job_*, stop */
	pthread_cond_t cond;            /* job queued, stop, or stack changed */
	struct tui_snapshot snap;
	char stack[40];
	unsigned stack_gen;             /* bumped when the stack changes */
	unsigned region_gen;            /* bumped when the region changes (clients rebuilt) */
	unsigned poll_region_gen;       /* poll thread: the region generation of client, mclient */
	unsigned job_region_gen;        /* job thread: the region generation of jclient */
	struct qcache pq, jq;           /* queue URLs: the poll thread's, the job thread's */
	int stop;
	int job_queued;
	enum tui_job_kind job_kind;
	struct tui_job_args job_args;
	int wake[2];
	pthread_t poll_thread, job_thread;
	int threads;
	/* poll thread only: the last RATE_WINDOW samples (a ring), so rates are averages over a
	 * few seconds: the monitor brings log lines in batches */
	double hist_t[RATE_WINDOW];
	long long hist[RATE_WINDOW][TUI_C_COUNT];
	int hist_n, hist_i;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wake the UI thread (mutex held or not; never blocks). */
static void wake_ui(struct tui_data *d)
{
	char c = 1;

	if (write(d->wake[1], &c, 1) < 0 && errno != EAGAIN) {
		/* the UI is gone or the pipe is full: either way nothing to do */
	}
}

/* Mark the snapshot changed and wake the UI. Mutex held. */
static void changed(struct tui_data *d)
{
	d->snap.version++;
	wake_ui(d);
}

/* Push a line at the front of list l (newest first). Mutex held. */
static void list_push(struct tui_list *l, const char *text)
{
	int n = l->n < TUI_LIST_MAX ? l->n + 1 : TUI_LIST_MAX;

	memmove(l->line[1], l->line[0], (size_t)(n - 1) * TUI_LINE_MAX);
	snprintf(l->line[0], TUI_LINE_MAX, "%s", text);
	l->n = n;
}

/* Count a delivery of order_id ("" when it has none) unless it was counted already.
 * Returns nonzero when it is new (then it goes on the panel too). Mutex held. */
static int delivery_new(struct tui_data *d, const char *order_id)
{
	unsigned long long h = 1469598103934665603ULL;

	if (order_id && *order_id) {
		for (const char *p = order_id; *p; p++) {
			h ^= (unsigned char)*p;
			h *= 1099511628211ULL;
		}
		h |= 1; /* 0 marks an empty slot */
		for (int i = 0; i < DLV_SEEN; i++)
			if (d->dlv_seen[i] == h)
				return 0;
		d->dlv_seen[d->dlv_next] = h;
		d->dlv_next = (d->dlv_next + 1) % DLV_SEEN;
	}
	d->deliveries++;
	return 1;
}

/* Add an event line with a wall-clock time stamp. Mutex held. */
static void event(struct tui_data *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void event(struct tui_data *d, const char *fmt, ...)
{
	char msg[TUI_LINE_MAX - 12], line[TUI_LINE_MAX];
	time_t t = time(NULL);
	struct tm tm;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	gmtime_r(&t, &tm);
	snprintf(line, sizeof(line), "%02d:%02d:%02d %s", tm.tm_hour, tm.tm_min, tm.tm_sec, msg);
	list_push(&d->snap.events, line);
	changed(d);
}

/* The stack's name for base (copied under the mutex). */
static void res_name(struct tui_data *d, const char *base, char *out, size_t n)
{
	char stack[40];

	pthread_mutex_lock(&d->mu);
	snprintf(stack, sizeof(stack), "%s", d->stack);
	pthread_mutex_unlock(&d->mu);
	if (stack_name(stack, base, out, n) != 0)
		snprintf(out, n, "%s", base);
}

/* ---- the sandbox ---- */

/* Run `SELF sandbox start` as a child (its output to /dev/null, the sandbox daemonises
 * itself) and wait for it. Returns its exit status, or -1. */
static int spawn_sandbox_start(const char *self)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none;
	char *argv[] = { (char *)"cleanops", (char *)"sandbox", (char *)"start", NULL };
	pid_t pid;
	int status = -1, rc;

	/* our threads block the terminal's signals; the sandbox must not inherit that */
	sigemptyset(&none);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = posix_spawn(&pid, self, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc != 0)
		return -1;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Make sure the sandbox runs (when it is the target) and point the target at its port. */
static void ensure_sandbox(struct tui_data *d)
{
	char dir[900];
	int port, rc;

	if (!d->target.is_sandbox || tui_sandbox_dir(dir, sizeof(dir)) != 0)
		return;
	pthread_mutex_lock(&d->mu);
	snprintf(d->snap.conn, sizeof(d->snap.conn), "starting the sandbox ...");
	changed(d);
	pthread_mutex_unlock(&d->mu);
	rc = spawn_sandbox_start(d->self_exe); /* a no-op when it already runs */
	port = tui_sandbox_port(dir);
	pthread_mutex_lock(&d->mu);
	if (rc != 0 || port == 0) {
		snprintf(d->snap.conn, sizeof(d->snap.conn),
			 "the sandbox did not start (see sandbox.log in %.180s)", dir);
		event(d, "sandbox start failed (exit %d)", rc);
	} else {
		snprintf(d->target.endpoint, sizeof(d->target.endpoint), "http://127.0.0.1:%d", port);
		snprintf(d->snap.target, sizeof(d->snap.target), "sandbox:%d", port);
		d->snap.conn[0] = '\0';
		event(d, "sandbox running at %s", d->target.endpoint);
	}
	pthread_mutex_unlock(&d->mu);
}

/* ---- the poller (live counters and lists) ---- */

/* One queue's URL into q->url[i] (cached per thread, asked with that thread's client c).
 * Returns 0, 1 when it does not exist, -1 on error. */
static int queue_url(struct tui_data *d, struct aws_client *c, struct qcache *q, int i,
		     struct aws_error *err)
{
	char name[128];
	json_t *in, *out = NULL;
	unsigned gen;
	int rc;

	pthread_mutex_lock(&d->mu);
	gen = d->stack_gen;
	pthread_mutex_unlock(&d->mu);
	if (gen != q->gen) {
		memset(q->url, 0, sizeof(q->url));
		q->gen = gen;
	}
	if (q->url[i][0])
		return 0;
	res_name(d, watched_queues[i].base, name, sizeof(name));
	in = json_pack("{s:s}", "QueueName", name);
	rc = aws_call(c, "sqs", "GetQueueUrl", in, &out, err);
	json_decref(in);
	if (rc != 0)
		return strstr(err->code, "NonExistentQueue") || strstr(err->code, "QueueDoesNotExist")
			? 1 : -1;
	snprintf(q->url[i], sizeof(q->url[i]), "%s",
		 json_string_value(json_object_get(out, "QueueUrl")) ?
		 json_string_value(json_object_get(out, "QueueUrl")) : "");
	json_decref(out);
	return q->url[i][0] ? 0 : -1;
}

/* A numeric queue attribute (they come as strings). */
static long long attr_num(json_t *attrs, const char *name)
{
	const char *s = json_string_value(json_object_get(attrs, name));
	char *end;
	long long v;

	if (!s)
		return 0;
	v = strtoll(s, &end, 10);
	return end == s ? 0 : v;
}

/* Sample the queues into vals/avail. Returns how many queues exist, or -1 on error. */
static int sample_queues(struct tui_data *d, long long *vals, int *avail, struct aws_error *err)
{
	int exist = 0;

	for (int i = 0; i < NQUEUES; i++) {
		json_t *in, *out = NULL, *attrs;
		int rc = queue_url(d, d->client, &d->pq, i, err);

		if (rc < 0)
			return -1;
		if (rc > 0)
			continue;
		in = json_pack("{s:s,s:[s,s]}", "QueueUrl", d->pq.url[i], "AttributeNames",
			       "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible");
		rc = aws_call(d->client, "sqs", "GetQueueAttributes", in, &out, err);
		json_decref(in);
		if (rc != 0) {
			d->pq.url[i][0] = '\0'; /* deleted meanwhile: look it up again */
			continue;
		}
		exist++;
		attrs = json_object_get(out, "Attributes");
		if (watched_queues[i].inflight == TUI_C_COUNT) {
			vals[watched_queues[i].visible] =
				attr_num(attrs, "ApproximateNumberOfMessages") +
				attr_num(attrs, "ApproximateNumberOfMessagesNotVisible");
		} else {
			vals[watched_queues[i].visible] = attr_num(attrs, "ApproximateNumberOfMessages");
			vals[watched_queues[i].inflight] =
				attr_num(attrs, "ApproximateNumberOfMessagesNotVisible");
			avail[watched_queues[i].inflight] = 1;
		}
		avail[watched_queues[i].visible] = 1;
		json_decref(out);
	}
	return exist;
}

/* The string of a DynamoDB attribute value ({"S": ...} or {"N": ...}), or "". */
static const char *ddb_str(json_t *item, const char *name)
{
	json_t *v = json_object_get(item, name);
	const char *s = json_string_value(json_object_get(v, "S"));

	if (!s)
		s = json_string_value(json_object_get(v, "N"));
	return s ? s : "";
}

static int by_received_desc(const void *a, const void *b)
{
	json_t *const *x = a, *const *y = b;

	return strcmp(ddb_str(*y, "receivedAt"), ddb_str(*x, "receivedAt"));
}

/* Sample the table: item count and the newest items. Returns 1 when the table exists,
 * 0 when not, -1 on error. */
static int sample_table(struct tui_data *d, long long *count, struct tui_list *items,
			struct aws_error *err)
{
	char table[128];
	json_t *in, *out = NULL, *arr;
	json_t *sorted[400];
	size_t n = 0;
	int rc;

	res_name(d, STACK_TABLE, table, sizeof(table));
	in = json_pack("{s:s,s:i}", "TableName", table, "Limit", 400);
	rc = aws_call(d->client, "dynamodb", "Scan", in, &out, err);
	json_decref(in);
	if (rc != 0)
		return strcmp(err->code, "ResourceNotFoundException") == 0 ? 0 : -1;
	arr = json_object_get(out, "Items");
	for (size_t i = 0; i < json_array_size(arr) && n < 400; i++)
		sorted[n++] = json_array_get(arr, i);
	qsort(sorted, n, sizeof(sorted[0]), by_received_desc);
	items->n = 0;
	for (size_t i = 0; i < n && items->n < TUI_LIST_MAX; i++) {
		const char *at = ddb_str(sorted[i], "receivedAt");

		snprintf(items->line[items->n++], TUI_LINE_MAX, "%.12s %.40s x%.6s  %.60s",
			 strlen(at) > 11 ? at + 11 : at, ddb_str(sorted[i], "item"),
			 ddb_str(sorted[i], "quantity"), ddb_str(sorted[i], "orderID"));
	}
	*count = json_integer_value(json_object_get(out, "Count"));
	if (json_object_get(out, "LastEvaluatedKey")) /* more than one page: the table's count */
		*count = -1;
	json_decref(out);
	if (*count < 0) {
		in = json_pack("{s:s}", "TableName", table);
		rc = aws_call(d->client, "dynamodb", "DescribeTable", in, &out, err);
		json_decref(in);
		if (rc == 0) {
			*count = json_integer_value(json_object_get(json_object_get(out, "Table"),
								    "ItemCount"));
			json_decref(out);
		}
	}
	return 1;
}

/* Fetch the account once (STS). Returns 0 or -1. */
static int fetch_account(struct tui_data *d, struct aws_error *err)
{
	json_t *out = NULL;
	const char *acct;

	if (aws_call(d->client, "sts", "GetCallerIdentity", NULL, &out, err) != 0)
		return -1;
	acct = json_string_value(json_object_get(out, "Account"));
	pthread_mutex_lock(&d->mu);
	snprintf(d->snap.account, sizeof(d->snap.account), "%s", acct ? acct : "?");
	changed(d);
	pthread_mutex_unlock(&d->mu);
	json_decref(out);
	return 0;
}

/* "HH:MM:SS" of epoch seconds t into out. */
static void clock_text(double t, char *out, size_t n)
{
	time_t secs = (time_t)t;
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(out, n, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The monitor's events (its threads, one at a time): into the panels' lists. */
static void on_monitor_event(const struct monitor_event *e, void *ctx)
{
	struct tui_data *d = ctx;
	char line[TUI_LINE_MAX], hms[16], fn1[128], fn2[128];

	clock_text(e->time, hms, sizeof(hms));
	res_name(d, STACK_FN_WRITER, fn1, sizeof(fn1));
	res_name(d, STACK_FN_NOTIFIER, fn2, sizeof(fn2));
	pthread_mutex_lock(&d->mu);
	switch (e->kind) {
	case MON_EV_ITEM:
		snprintf(line, sizeof(line), "%.8s %.180s", hms, e->detail);
		list_push(&d->snap.stream, line);
		break;
	case MON_EV_DELIVERY:
		if (!delivery_new(d, e->order_id)) { /* a burst's tracker took it already */
			pthread_mutex_unlock(&d->mu);
			return;
		}
		snprintf(line, sizeof(line), "%.8s %.180s", hms, e->detail);
		list_push(&d->snap.deliveries, line);
		break;
	case MON_EV_LOG: {
		int writer = strcmp(e->source, fn1) == 0, notifier = strcmp(e->source, fn2) == 0;
		int start = strncmp(e->detail, "START RequestId", 15) == 0;
		int error = strstr(e->detail, "ERROR") || strstr(e->detail, "errorType") ||
			    strstr(e->detail, "Task timed out");

		if (writer) {
			d->l1_starts += start;
			d->l1_errors += error;
		} else if (notifier) {
			d->l2_starts += start;
			d->l2_errors += error;
			d->l2_published += strstr(e->detail, " published messageId=") != NULL;
		}
		snprintf(line, sizeof(line), "%.8s %s %.170s", hms, writer ? "L1" : notifier ? "L2" : "??",
			 e->detail);
		list_push(&d->snap.logs, line);
		break;
	}
	case MON_EV_ERROR:
		snprintf(line, sizeof(line), "%.8s monitor: %.60s: %.110s", hms, e->source, e->detail);
		list_push(&d->snap.events, line);
		break;
	default:
		pthread_mutex_unlock(&d->mu);
		return;
	}
	changed(d);
	pthread_mutex_unlock(&d->mu);
}

/* (Re)start the monitor for the current stack when the stack changed. Poll thread. */
static void monitor_sync(struct tui_data *d)
{
	struct stack_monitor_opts o;
	struct stack_monitor *m = NULL;
	struct aws_error err = {0};
	char stack[40];
	unsigned gen;

	pthread_mutex_lock(&d->mu);
	gen = d->stack_gen;
	snprintf(stack, sizeof(stack), "%s", d->stack);
	pthread_mutex_unlock(&d->mu);
	if (!d->mclient || (d->monitor && gen == d->monitor_gen))
		return;
	if (!d->monitor && now_s() < d->monitor_retry)
		return;
	d->monitor_retry = now_s() + 10; /* after a failed start, try again in 10 s */
	stack_monitor_stop(d->monitor);
	d->monitor = NULL;
	memset(&o, 0, sizeof(o));
	o.stack = stack;
	o.deliveries = STACK_MON_PEEK; /* never take deliveries from a burst that follows them */
	o.sink = on_monitor_event;
	o.ctx = d;
	if (stack_monitor_start(d->mclient, &o, &m, &err) != 0) {
		pthread_mutex_lock(&d->mu);
		event(d, "monitor: %.60s: %.120s", err.code, err.message);
		pthread_mutex_unlock(&d->mu);
		return;
	}
	d->monitor = m;
	d->monitor_gen = gen;
	pthread_mutex_lock(&d->mu);
	d->snap.unavailable[0] = '\0';
	d->l1_starts = d->l1_errors = d->l2_starts = d->l2_errors = d->l2_published = 0;
	d->deliveries = 0;
	memset(d->dlv_seen, 0, sizeof(d->dlv_seen));
	changed(d);
	pthread_mutex_unlock(&d->mu);
}

/* The monitor's counters into vals/avail. */
static void monitor_counters(struct tui_data *d, long long *vals, int *avail)
{
	struct stack_monitor_snapshot ms;

	if (!d->monitor)
		return;
	stack_monitor_snapshot(d->monitor, &ms);
	vals[TUI_C_STREAM] = ms.items;
	avail[TUI_C_STREAM] = avail[TUI_C_DELIVERIES] = 1;
	pthread_mutex_lock(&d->mu);
	vals[TUI_C_DELIVERIES] = d->deliveries; /* the monitor's and a burst's, each once */
	vals[TUI_C_L1_INVOKE] = d->l1_starts;
	vals[TUI_C_L1_ERRORS] = d->l1_errors;
	vals[TUI_C_L2_INVOKE] = d->l2_starts;
	vals[TUI_C_L2_ERRORS] = d->l2_errors;
	vals[TUI_C_PUBLISHED] = d->l2_published;
	pthread_mutex_unlock(&d->mu);
	avail[TUI_C_L1_INVOKE] = avail[TUI_C_L1_ERRORS] = 1;
	avail[TUI_C_L2_INVOKE] = avail[TUI_C_L2_ERRORS] = avail[TUI_C_PUBLISHED] = 1;
}

/* One sample of everything; updates the snapshot when something changed. */
static void poll_once(struct tui_data *d)
{
	struct aws_error err = {0};
	long long vals[TUI_C_COUNT] = {0}, items_count = 0;
	int avail[TUI_C_COUNT] = {0};
	struct tui_list *items = calloc(1, sizeof(*items));
	int nq, table = 0, diff = 0, old;
	double t = now_s();

	if (!items)
		return;
	if (!d->snap.account[0] && fetch_account(d, &err) != 0)
		goto fail;
	nq = sample_queues(d, vals, avail, &err);
	if (nq < 0)
		goto fail;
	table = sample_table(d, &items_count, items, &err);
	if (table < 0)
		goto fail;
	if (table) {
		vals[TUI_C_ITEMS] = items_count;
		avail[TUI_C_ITEMS] = 1;
	}
	if (nq > 0 || table)
		monitor_sync(d);
	monitor_counters(d, vals, avail);
	old = d->hist_n < RATE_WINDOW ? 0 : d->hist_i; /* the oldest sample kept */
	pthread_mutex_lock(&d->mu);
	for (int i = 0; i < TUI_C_COUNT; i++) {
		struct tui_counter *c = &d->snap.counter[i];
		double rate;

		if (i == TUI_C_SENT) { /* counted by the job thread: only its rate here */
			vals[i] = c->value;
			avail[i] = c->avail;
		}
		if (c->avail != avail[i] || c->value != vals[i])
			diff = 1;
		rate = d->hist_n > 0 && t > d->hist_t[old] && vals[i] >= d->hist[old][i]
			? (double)(vals[i] - d->hist[old][i]) / (t - d->hist_t[old]) : 0;
		if (rate != c->rate) /* a rate falling back to 0 is drawn too */
			diff = 1;
		c->avail = avail[i];
		c->rate = rate;
		c->value = vals[i];
		d->hist[d->hist_i][i] = vals[i];
	}
	d->hist_t[d->hist_i] = t;
	d->hist_i = (d->hist_i + 1) % RATE_WINDOW;
	if (d->hist_n < RATE_WINDOW)
		d->hist_n++;
	if (d->snap.nspark == TUI_SPARK_MAX)
		memmove(d->snap.spark, d->snap.spark + 1, sizeof(int) * (TUI_SPARK_MAX - 1));
	else
		d->snap.nspark++;
	d->snap.spark[d->snap.nspark - 1] = (int)(vals[TUI_C_VISIBLE] + vals[TUI_C_INFLIGHT]);
	if (vals[TUI_C_VISIBLE] + vals[TUI_C_INFLIGHT] > 0)
		diff = 1; /* the sparkline moves */
	if (memcmp(&d->snap.items, items, sizeof(*items)) != 0) {
		d->snap.items = *items;
		diff = 1;
	}
	{
		int deployed = (nq == NQUEUES && table) ? 1 : 0;

		if ((!d->have_engine && d->snap.deployed != deployed) || d->snap.conn[0])
			diff = 1;
		if (!d->have_engine)
			d->snap.deployed = deployed;
	}
	if (d->snap.job == TUI_JOB_BURST && d->snap.job_running && table &&
	    items_count - d->items_at_start != d->snap.job_done) {
		d->snap.job_done = items_count - d->items_at_start; /* stored so far: real progress */
		diff = 1;
	}
	d->snap.conn[0] = '\0';
	if (diff)
		changed(d);
	pthread_mutex_unlock(&d->mu);
	free(items);
	return;
fail:
	pthread_mutex_lock(&d->mu);
	{
		char conn[256];

		snprintf(conn, sizeof(conn), "%.60s: %.190s", err.code[0] ? err.code : "error", err.message);
		if (strcmp(conn, d->snap.conn) != 0) {
			snprintf(d->snap.conn, sizeof(d->snap.conn), "%s", conn);
			changed(d);
		}
	}
	pthread_mutex_unlock(&d->mu);
	free(items);
}

/* Wait up to ms on the condition; returns nonzero when told to stop. */
static int wait_or_stop(struct tui_data *d, long ms)
{
	struct timespec ts;
	int stop;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&d->mu);
	if (!d->stop)
		pthread_cond_timedwait(&d->cond, &d->mu, &ts);
	stop = d->stop;
	pthread_mutex_unlock(&d->mu);
	return stop;
}

/* (Re)build the poll thread's clients when there are none or the region changed: the
 * short-timeout one for sampling and the monitor's. The monitor stops (poll_once starts it
 * again on the new clients). Returns 0, or -1 with the reason in the connection line. */
static int poll_clients(struct tui_data *d)
{
	struct aws_client_opts opts;
	struct aws_error err = {0};
	struct aws_client *c = NULL, *mc = NULL, *old;
	struct tui_target t;
	unsigned gen;

	pthread_mutex_lock(&d->mu);
	gen = d->region_gen;
	t = d->target;
	pthread_mutex_unlock(&d->mu);
	if (d->client && gen == d->poll_region_gen)
		return 0;
	tui_target_opts(&t, &opts);
	opts.connect_timeout_ms = 2000;
	opts.timeout_ms = 10000;
	opts.max_attempts = 1;
	if (aws_client_new(&opts, &c, &err) != 0) {
		pthread_mutex_lock(&d->mu);
		snprintf(d->snap.conn, sizeof(d->snap.conn), "%.250s", err.message);
		event(d, "no AWS client: %s", err.message);
		pthread_mutex_unlock(&d->mu);
		return -1;
	}
	opts.connect_timeout_ms = 0;
	opts.timeout_ms = 0;
	opts.max_attempts = 0;
	if (aws_client_new(&opts, &mc, &err) != 0)
		mc = NULL; /* no live monitor; the counters still sample */
	stack_monitor_stop(d->monitor);
	d->monitor = NULL;
	aws_client_free(d->mclient);
	d->mclient = mc;
	d->poll_region_gen = gen;
	d->hist_n = d->hist_i = 0; /* rates start over */
	pthread_mutex_lock(&d->mu);
	old = d->client;
	d->client = c;
	snprintf(d->snap.region, sizeof(d->snap.region), "%s", aws_client_region(c));
	if (old)
		event(d, "region %s: watching the stack there", d->snap.region);
	changed(d);
	pthread_cond_broadcast(&d->cond); /* the job thread may use the client now */
	pthread_mutex_unlock(&d->mu);
	aws_client_free(old);
	return 0;
}

static void *poll_main(void *arg)
{
	struct tui_data *d = arg;

	ensure_sandbox(d);
	do
		if (poll_clients(d) == 0)
			poll_once(d);
	while (!wait_or_stop(d, 1000));
	stack_monitor_stop(d->monitor);
	d->monitor = NULL;
	return NULL;
}

/* ---- jobs ---- */

/* Set the job's status line (and failure) and wake the UI. Mutex held. */
static void job_status(struct tui_data *d, int failed, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void job_status(struct tui_data *d, int failed, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->snap.job_status, sizeof(d->snap.job_status), fmt, ap);
	va_end(ap);
	d->snap.job_failed = failed;
	changed(d);
}

/* Purge the order queue. */
static int job_purge(struct tui_data *d, char *msg, size_t n)
{
	struct aws_error err = {0};
	json_t *in, *out = NULL;
	int rc;

	if (queue_url(d, d->jclient, &d->jq, 0, &err) != 0) {
		snprintf(msg, n, "purge failed: %.300s", err.message[0] ? err.message : "no queue");
		return -1;
	}
	in = json_pack("{s:s}", "QueueUrl", d->jq.url[0]);
	rc = aws_call(d->jclient, "sqs", "PurgeQueue", in, &out, &err);
	json_decref(in);
	json_decref(out);
	if (rc != 0) {
		snprintf(msg, n, "purge failed: %.60s: %.300s", err.code, err.message);
		return -1;
	}
	snprintf(msg, n, "queue purged");
	return 0;
}

/* Read (without deleting) up to 10 DLQ messages into the snapshot's dlq list; with
 * redrive, send each back to the order queue and delete it from the DLQ. */
static int job_dlq(struct tui_data *d, int redrive, char *msg, size_t n)
{
	struct aws_error err = {0};
	json_t *in, *out = NULL, *msgs;
	int moved = 0, rc = -1;

	if (queue_url(d, d->jclient, &d->jq, 1, &err) != 0 || queue_url(d, d->jclient, &d->jq, 0, &err) != 0) {
		snprintf(msg, n, "no dead-letter queue: %.300s", err.message);
		return -1;
	}
	in = json_pack("{s:s,s:i,s:i,s:i}", "QueueUrl", d->jq.url[1], "MaxNumberOfMessages", 10,
		       "VisibilityTimeout", redrive ? 30 : 0, "WaitTimeSeconds", 0);
	if (aws_call(d->jclient, "sqs", "ReceiveMessage", in, &out, &err) != 0) {
		json_decref(in);
		snprintf(msg, n, "receive failed: %.60s: %.300s", err.code, err.message);
		return -1;
	}
	json_decref(in);
	msgs = json_object_get(out, "Messages");
	pthread_mutex_lock(&d->mu);
	if (!redrive)
		d->snap.dlq.n = 0;
	for (size_t i = 0; !redrive && i < json_array_size(msgs); i++) {
		json_t *m = json_array_get(msgs, i);
		char line[TUI_LINE_MAX];

		snprintf(line, sizeof(line), "%.36s  %s",
			 json_string_value(json_object_get(m, "MessageId")) ?
			 json_string_value(json_object_get(m, "MessageId")) : "?",
			 json_string_value(json_object_get(m, "Body")) ?
			 json_string_value(json_object_get(m, "Body")) : "");
		list_push(&d->snap.dlq, line);
	}
	changed(d);
	pthread_mutex_unlock(&d->mu);
	for (size_t i = 0; redrive && i < json_array_size(msgs); i++) {
		json_t *m = json_array_get(msgs, i);
		json_t *o2 = NULL;

		in = json_pack("{s:s,s:s}", "QueueUrl", d->jq.url[0], "MessageBody",
			       json_string_value(json_object_get(m, "Body")) ?
			       json_string_value(json_object_get(m, "Body")) : "");
		rc = aws_call(d->jclient, "sqs", "SendMessage", in, &o2, &err);
		json_decref(in);
		json_decref(o2);
		if (rc != 0)
			break;
		in = json_pack("{s:s,s:s}", "QueueUrl", d->jq.url[1], "ReceiptHandle",
			       json_string_value(json_object_get(m, "ReceiptHandle")) ?
			       json_string_value(json_object_get(m, "ReceiptHandle")) : "");
		o2 = NULL;
		rc = aws_call(d->jclient, "sqs", "DeleteMessage", in, &o2, &err);
		json_decref(in);
		json_decref(o2);
		if (rc != 0)
			break;
		moved++;
	}
	json_decref(out);
	if (redrive && rc != 0 && json_array_size(msgs) > 0) {
		snprintf(msg, n, "redrive stopped after %d: %.60s: %.300s", moved, err.code, err.message);
		return -1;
	}
	if (redrive)
		snprintf(msg, n, "redrove %d message(s) to the order queue", moved);
	else
		snprintf(msg, n, "%zu message(s) in the dead-letter queue sample",
			 json_array_size(msgs));
	return 0;
}

/* Our state for one of the engine's resources. */
static enum tui_res_state res_state(enum stack_op op, const struct stack_obs *o)
{
	if (o->failed)
		return TUI_RES_FAILED;
	switch (o->presence) {
	case STACK_PRESENT:
	case STACK_NONE:
		return op == STACK_OP_DESTROY ? TUI_RES_FAILED : TUI_RES_DONE;
	case STACK_MISSING:
		return op == STACK_OP_DESTROY ? TUI_RES_ABSENT : TUI_RES_ABSENT;
	case STACK_DRIFTED:
		return TUI_RES_FAILED;
	default:
		return TUI_RES_UNKNOWN;
	}
}

/* Copy resource i's observation into the snapshot. Mutex held. */
static void res_copy(struct tui_data *d, struct stack *s, size_t i, enum stack_op op,
		     enum tui_res_state forced)
{
	const struct stack_resource *r = stack_resource_at(s, i);
	const struct stack_obs *o = stack_obs_at(s, i);
	struct tui_resource *t;

	if (i >= TUI_RES_MAX)
		return;
	if ((int)i >= d->snap.nres)
		d->snap.nres = (int)i + 1;
	t = &d->snap.res[i];
	snprintf(t->kind, sizeof(t->kind), "%s", r->kind);
	if (o && o->name[0])
		snprintf(t->name, sizeof(t->name), "%.95s", o->name);
	else if (stack_name(d->stack, r->base, t->name, sizeof(t->name)) != 0)
		snprintf(t->name, sizeof(t->name), "%s", r->base);
	t->state = forced != TUI_RES_UNKNOWN ? forced : o ? res_state(op, o) : TUI_RES_UNKNOWN;
	t->message[0] = '\0';
	if (o && o->failed)
		snprintf(t->message, sizeof(t->message), "%.60s: %.150s%s%.40s", o->err.code,
			 o->err.message, o->hint[0] ? " - " : "", o->hint);
	else if (o && o->presence == STACK_DRIFTED)
		snprintf(t->message, sizeof(t->message), "drifted: %.200s", o->detail);
	else if (o && op == STACK_OP_DESTROY && o->presence == STACK_PRESENT)
		snprintf(t->message, sizeof(t->message), "still there");
	if (o && strcmp(r->id, "sub-email") == 0 && strncmp(o->name, "email -> ", 9) == 0)
		snprintf(d->snap.email, sizeof(d->snap.email), "%.255s", o->name + 9);
	if (o && strcmp(r->id, "sub-email") == 0) /* the email hop shows its state */
		snprintf(d->snap.subscription, sizeof(d->snap.subscription), "%s",
			 o->presence == STACK_MISSING ? "none" : o->presence == STACK_NONE ? "no email"
			 : strstr(o->detail, "pending") ? "pending" : strstr(o->detail, "confirmed")
			 ? "confirmed" : "unknown");
}

/* The engine's progress callback (its worker threads, one call at a time). */
static void on_stack_event(const struct stack_event *ev, void *ctx)
{
	struct tui_data *d = ctx;
	struct stack *s = d->engine;

	pthread_mutex_lock(&d->mu);
	if (!ev->res || !s) {
		if (ev->message)
			event(d, "%s", ev->message);
		pthread_mutex_unlock(&d->mu);
		return;
	}
	for (size_t i = 0; i < stack_count(s); i++) {
		if (stack_resource_at(s, i) != ev->res)
			continue;
		if (ev->kind == STACK_EV_START) {
			res_copy(d, s, i, STACK_OP_PLAN, TUI_RES_WORKING);
		} else {
			enum stack_op op = d->snap.job == TUI_JOB_DESTROY ? STACK_OP_DESTROY
					   : STACK_OP_DEPLOY;

			res_copy(d, s, i, op, ev->kind == STACK_EV_SKIPPED ? TUI_RES_PENDING
					      : TUI_RES_UNKNOWN);
			if (ev->kind != STACK_EV_START)
				d->snap.job_done++;
			if (ev->kind == STACK_EV_FAILED)
				event(d, "%s %s failed: %.150s", ev->res->kind, d->snap.res[i].name,
				      ev->obs ? ev->obs->err.message : "");
		}
		break;
	}
	changed(d);
	pthread_mutex_unlock(&d->mu);
}

/* Plan, deploy or destroy the stack with the engine. */
static int job_engine(struct tui_data *d, enum stack_op op, const struct tui_job_args *a,
		      char *msg, size_t n)
{
	static const char *const verbs[] = { "status", "deploy", "cleanup" };
	struct stack_opts o;
	struct stack *s = NULL;
	struct aws_error err = {0};
	char stack[40];
	double t0 = now_s();
	int rc, failed = 0;

	memset(&o, 0, sizeof(o));
	pthread_mutex_lock(&d->mu);
	snprintf(stack, sizeof(stack), "%s", d->stack);
	pthread_mutex_unlock(&d->mu);
	o.client = d->jclient;
	o.stack = stack;
	o.email = a && a->email[0] ? a->email : NULL;
	o.target_label = d->target.label;
	o.endpoint = d->target.endpoint[0] ? d->target.endpoint : NULL;
	o.on_event = on_stack_event;
	o.event_ctx = d;
	if (stack_new(&o, &s, &err) != 0) {
		snprintf(msg, n, "%s failed: %.60s: %.300s", verbs[op], err.code, err.message);
		return -1;
	}
	pthread_mutex_lock(&d->mu);
	d->engine = s;
	d->snap.nres = 0;
	d->snap.job_total = (long)stack_count(s);
	for (size_t i = 0; i < stack_count(s); i++)
		res_copy(d, s, i, op, TUI_RES_PENDING);
	changed(d);
	pthread_mutex_unlock(&d->mu);
	rc = stack_run(s, op);
	pthread_mutex_lock(&d->mu);
	for (size_t i = 0; i < stack_count(s); i++) {
		res_copy(d, s, i, op, TUI_RES_UNKNOWN);
		if (stack_obs_at(s, i)->failed)
			failed++;
	}
	if (op == STACK_OP_PLAN)
		d->snap.deployed = stack_healthy(s) ? 1 : 0;
	else if (op == STACK_OP_DESTROY)
		d->snap.deployed = 0;
	else if (rc == 0)
		d->snap.deployed = 1;
	if (stack_account(s) && *stack_account(s))
		snprintf(d->snap.account, sizeof(d->snap.account), "%s", stack_account(s));
	d->engine = NULL;
	changed(d);
	pthread_mutex_unlock(&d->mu);
	if (op == STACK_OP_PLAN)
		snprintf(msg, n, "status: %s", stack_healthy(s) ? "deployed and healthy"
			 : "not (fully) deployed");
	else if (rc == 0)
		snprintf(msg, n, "%s complete in %.1f s%s", verbs[op], now_s() - t0,
			 op == STACK_OP_DESTROY ? ": nothing left" : "");
	else
		snprintf(msg, n, "%s failed: %d resource(s) failed%s", verbs[op], failed,
			 op == STACK_OP_DEPLOY ? " (r: retry)" : "");
	stack_free(s);
	return rc == 0 ? 0 : -1;
}

/* The order's progress (its worker threads and drain, one call at a time, the order's own
 * lock held: take only mu, and briefly). "sent" moves with every answer; a burst's status
 * line shows the counts. The UI is woken at most ten times a second, and for the last
 * answer: a fast burst must not turn into a redraw per order. */
static void on_order_progress(const struct stack_order_progress *p, void *ctx)
{
	struct tui_data *d = ctx;
	double t = now_s();
	int last;

	pthread_mutex_lock(&d->mu);
	last = p->answered == p->count && p->answered != d->order_answered; /* the last answer */
	d->snap.counter[TUI_C_SENT].value += p->answered - d->order_answered;
	d->order_answered = p->answered;
	if (d->order_burst) { /* short enough for 80 columns with the stored count after it */
		char failed[32] = "";

		if (p->failed)
			snprintf(failed, sizeof(failed), ", %ld failed", p->failed);
		snprintf(d->snap.job_status, sizeof(d->snap.job_status),
			 "burst: %ld/%ld sent, %ld accepted, %ld rejected%s, %ld delivered, stored",
			 p->answered, p->count, p->accepted, p->rejected, failed, p->notified);
	}
	d->snap.version++;
	if (t - d->order_woke >= 0.1 || last) {
		d->order_woke = t;
		wake_ui(d);
	}
	pthread_mutex_unlock(&d->mu);
}

/* A delivery the order's tracker took off the deliveries queue (its drain thread, the
 * order's lock held): the monitor's peek will never see it, so it is counted and shown
 * here, once per orderID. */
static void on_order_delivery(const struct stack_order_delivery *dl, void *ctx)
{
	struct tui_data *d = ctx;
	char line[TUI_LINE_MAX], hms[16], sum[TUI_LINE_MAX];
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	clock_text((double)ts.tv_sec, hms, sizeof(hms));
	stack_delivery_summary(dl->body, sum, sizeof(sum));
	if (dl->first)
		snprintf(line, sizeof(line), "%.8s (%.0f ms) %.150s", hms, dl->latency_ms, sum);
	else
		snprintf(line, sizeof(line), "%.8s %.180s", hms, sum);
	pthread_mutex_lock(&d->mu);
	if (delivery_new(d, dl->order_id)) {
		list_push(&d->snap.deliveries, line);
		d->snap.version++; /* the poll thread's next sample wakes the UI */
	}
	pthread_mutex_unlock(&d->mu);
}

/* Send one order or a burst through the API; a burst follows its orders to SNS for the
 * latency summary. Its callbacks move "sent", the status line and the deliveries live. */
static int job_order(struct tui_data *d, int burst, const struct tui_job_args *a, char *msg,
		     size_t n)
{
	struct stack_order_opts o;
	struct stack_order_result *r = calloc(1, sizeof(*r));
	struct aws_error err = {0};
	char url[1024], stack[40];
	int rc = -1;

	if (!r) {
		snprintf(msg, n, "out of memory");
		return -1;
	}
	pthread_mutex_lock(&d->mu);
	snprintf(stack, sizeof(stack), "%s", d->stack);
	pthread_mutex_unlock(&d->mu);
	if (stack_api_url(d->jclient, stack, url, sizeof(url), NULL, 0, &err) != 0) {
		snprintf(msg, n, "no API to send to: %.60s: %.300s", err.code, err.message);
		goto done;
	}
	memset(&o, 0, sizeof(o));
	o.url = url;
	o.stack = stack;
	o.count = burst ? a->count : 1;
	o.rate = burst ? a->rate : 0;
	o.concurrency = burst ? 4 : 1;
	o.item = a->item;
	o.quantity = a->quantity;
	o.customer = a->customer[0] ? a->customer : NULL;
	o.wait_s = burst ? 30 : 0;
	o.on_progress = on_order_progress;
	o.on_delivery = on_order_delivery;
	o.ctx = d;
	pthread_mutex_lock(&d->mu);
	d->order_burst = burst;
	d->order_answered = 0;
	d->order_woke = 0;
	d->items_at_start = d->snap.counter[TUI_C_ITEMS].value;
	d->snap.job_total = o.count;
	if (burst)
		job_status(d, 0, "burst: sending %ld orders at %.0f/s; stored", o.count, o.rate);
	else
		job_status(d, 0, "order: sending");
	pthread_mutex_unlock(&d->mu);
	if (stack_order_run(d->jclient, &o, r, &err) != 0) {
		snprintf(msg, n, "orders not sent: %.60s: %.300s", err.code, err.message);
		goto done;
	}
	pthread_mutex_lock(&d->mu);
	d->snap.job_done = burst ? r->stored : r->accepted;
	if (burst && r->latencies > 0)
		snprintf(d->snap.job_result, sizeof(d->snap.job_result),
			 "latency POST->SNS ms: p50 %.0f  p95 %.0f  p99 %.0f  max %.0f  (%ld samples)%s%.200s",
			 r->p50, r->p95, r->p99, r->max, r->latencies, r->wait_msg[0] ? "; " : "",
			 r->wait_msg);
	else if (burst)
		snprintf(d->snap.job_result, sizeof(d->snap.job_result),
			 "latency: no order was followed to its SNS delivery%s%.300s",
			 r->wait_msg[0] ? ": " : "", r->wait_msg);
	changed(d);
	pthread_mutex_unlock(&d->mu);
	if (r->rejected && !burst)
		snprintf(msg, n, "rejected by the API: %.300s", r->reject_msg);
	else if (r->failed && !burst)
		snprintf(msg, n, "failed: %.300s", r->fail_msg);
	else if (burst)
		snprintf(msg, n, "burst: %ld sent, %ld accepted, %ld rejected, %ld failed, %ld stored, "
			 "%ld notified in %.1f s", r->submitted, r->accepted, r->rejected, r->failed,
			 r->stored, r->notified, r->elapsed_s);
	else
		snprintf(msg, n, "order accepted");
	rc = r->accepted == r->submitted ? 0 : -1;
done:
	free(r);
	return rc;
}

/* ---- the sandbox mailbox ---- */

/* Newest first: Maildir file names start with the delivery time; compare past the '/'. */
static int by_name_desc(const void *a, const void *b)
{
	const char *x = strrchr(*(char *const *)a, '/'), *y = strrchr(*(char *const *)b, '/');

	return strcmp(y ? y : "", x ? x : "");
}

/* One message file: "Date  Subject | first body line" into line; a confirmation link into
 * link (when there is one and link is still empty). */
static void read_mail(const char *path, char *line, size_t n, char *link, size_t ln)
{
	char buf[512], subject[200] = "", date[64] = "", first[200] = "";
	int body = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	while (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\r\n")] = '\0';
		if (!body && buf[0] == '\0') {
			body = 1;
			continue;
		}
		if (!body && strncmp(buf, "Subject: ", 9) == 0)
			snprintf(subject, sizeof(subject), "%.190s", buf + 9);
		else if (!body && strncmp(buf, "Date: ", 6) == 0)
			snprintf(date, sizeof(date), "%.60s", buf + 6);
		else if (body && !first[0] && buf[0])
			snprintf(first, sizeof(first), "%.190s", buf);
		if (body && !link[0] && strstr(buf, "/sns/confirm?"))
			snprintf(link, ln, "%s", strstr(buf, "http") ? strstr(buf, "http") : buf);
	}
	fclose(f);
	snprintf(line, n, "%.31s  %.80s | %.80s", date, subject, first);
}

/* List the sandbox Maildir (new and cur), newest first, into the snapshot. */
static int job_mail(struct tui_data *d, char *msg, size_t n)
{
	static const char *const sub[] = { "new", "cur" };
	char dir[900], path[1200], *names[256], link[1024] = "";
	size_t count = 0;
	struct tui_list *l = calloc(1, sizeof(*l));

	if (!l || !d->target.is_sandbox || tui_sandbox_dir(dir, sizeof(dir)) != 0) {
		free(l);
		snprintf(msg, n, "not available: the mailbox exists only in the sandbox");
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		DIR *dd;
		struct dirent *e;

		snprintf(path, sizeof(path), "%s/maildir/%s", dir, sub[i]);
		dd = opendir(path);
		if (!dd)
			continue;
		for (e = readdir(dd); e && count < 256; e = readdir(dd)) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/maildir/%s/%s", dir, sub[i], e->d_name);
			names[count] = strdup(path);
			if (names[count])
				count++;
		}
		closedir(dd);
	}
	qsort(names, count, sizeof(names[0]), by_name_desc);
	for (size_t i = 0; i < count; i++) {
		if (l->n < TUI_LIST_MAX)
			read_mail(names[i], l->line[l->n++], TUI_LINE_MAX, link, sizeof(link));
		free(names[i]);
	}
	pthread_mutex_lock(&d->mu);
	d->snap.mail = *l;
	snprintf(d->snap.confirm_url, sizeof(d->snap.confirm_url), "%s", link);
	changed(d);
	pthread_mutex_unlock(&d->mu);
	free(l);
	snprintf(msg, n, "%zu message(s) in the sandbox mailbox%s", count,
		 link[0] ? "; c confirms the subscription" : "");
	return 0;
}

/* The value of query parameter name in url, URL-decoded (caller frees), or NULL. */
static char *query_value(const char *url, const char *name)
{
	size_t len = strlen(name);
	const char *p = strchr(url, '?');

	while (p && *p) {
		p++;
		if (strncmp(p, name, len) == 0 && p[len] == '=') {
			const char *v = p + len + 1;
			int vlen = (int)strcspn(v, "&");
			char *dec = curl_easy_unescape(NULL, v, vlen, NULL);
			char *out = dec ? strdup(dec) : NULL;

			curl_free(dec);
			return out;
		}
		p = strchr(p, '&');
	}
	return NULL;
}

/* Confirm the email subscription with the token of the newest confirmation mail
 * (SNS ConfirmSubscription, as clicking the link would). */
static int job_confirm(struct tui_data *d, char *msg, size_t n)
{
	char url[1024];
	char *topic, *token;
	struct aws_error err = {0};
	json_t *in, *out = NULL;
	int rc = -1;

	pthread_mutex_lock(&d->mu);
	snprintf(url, sizeof(url), "%s", d->snap.confirm_url);
	pthread_mutex_unlock(&d->mu);
	topic = query_value(url, "TopicArn");
	token = query_value(url, "Token");
	if (!topic || !token) {
		snprintf(msg, n, "no confirmation mail found (open the mailbox first)");
		goto done;
	}
	in = json_pack("{s:s,s:s}", "TopicArn", topic, "Token", token);
	rc = aws_call(d->jclient, "sns", "ConfirmSubscription", in, &out, &err);
	json_decref(in);
	json_decref(out);
	if (rc != 0)
		snprintf(msg, n, "confirm failed: %.60s: %.300s", err.code, err.message);
	else {
		snprintf(msg, n, "subscription confirmed");
		pthread_mutex_lock(&d->mu);
		snprintf(d->snap.subscription, sizeof(d->snap.subscription), "confirmed");
		pthread_mutex_unlock(&d->mu);
	}
done:
	free(topic);
	free(token);
	return rc;
}

/* Run one job on the job thread; the snapshot shows its progress and result. */
static void run_job(struct tui_data *d, enum tui_job_kind kind, const struct tui_job_args *a)
{
	char msg[512];
	int rc;

	msg[0] = '\0';
	switch (kind) {
	case TUI_JOB_PURGE:
		rc = job_purge(d, msg, sizeof(msg));
		break;
	case TUI_JOB_MAIL:
		rc = job_mail(d, msg, sizeof(msg));
		break;
	case TUI_JOB_CONFIRM:
		rc = job_confirm(d, msg, sizeof(msg));
		break;
	case TUI_JOB_DLQ_INSPECT:
	case TUI_JOB_REDRIVE:
		rc = job_dlq(d, kind == TUI_JOB_REDRIVE, msg, sizeof(msg));
		break;
	case TUI_JOB_PLAN:
	case TUI_JOB_DEPLOY:
	case TUI_JOB_DESTROY:
		rc = job_engine(d, kind == TUI_JOB_PLAN ? STACK_OP_PLAN : kind == TUI_JOB_DEPLOY
				? STACK_OP_DEPLOY : STACK_OP_DESTROY, a, msg, sizeof(msg));
		break;
	case TUI_JOB_ORDER:
	case TUI_JOB_BURST:
		rc = job_order(d, kind == TUI_JOB_BURST, a, msg, sizeof(msg));
		break;
	default:
		rc = 0;
		break;
	}
	(void)a;
	pthread_mutex_lock(&d->mu);
	if (kind == TUI_JOB_PLAN && rc != 0 && !d->have_engine) /* no engine: the poller decides */
		msg[0] = '\0';
	d->snap.job_running = 0;
	job_status(d, rc != 0, "%s", msg);
	event(d, "%s", msg);
	pthread_mutex_unlock(&d->mu);
}

/* The job thread's client (default timeouts: deploys wait long), rebuilt when the region
 * changed. Returns 0 or -1. */
static int job_client(struct tui_data *d, char *msg, size_t n)
{
	struct aws_client_opts opts;
	struct aws_error err = {0};
	struct tui_target t;
	unsigned gen;

	pthread_mutex_lock(&d->mu);
	t = d->target;
	gen = d->region_gen;
	pthread_mutex_unlock(&d->mu);
	if (d->jclient && gen == d->job_region_gen)
		return 0;
	aws_client_free(d->jclient);
	d->jclient = NULL;
	tui_target_opts(&t, &opts);
	if (aws_client_new(&opts, &d->jclient, &err) != 0) {
		snprintf(msg, n, "no AWS client: %.300s", err.message);
		return -1;
	}
	d->job_region_gen = gen;
	return 0;
}

static void *job_main(void *arg)
{
	struct tui_data *d = arg;

	pthread_mutex_lock(&d->mu);
	for (;;) {
		enum tui_job_kind kind;
		struct tui_job_args args;
		char msg[512];

		while (!d->stop && (!d->job_queued || !d->client))
			pthread_cond_wait(&d->cond, &d->mu);
		if (d->stop)
			break;
		kind = d->job_kind;
		args = d->job_args;
		d->job_queued = 0;
		pthread_mutex_unlock(&d->mu);
		if (job_client(d, msg, sizeof(msg)) != 0) {
			pthread_mutex_lock(&d->mu);
			d->snap.job_running = 0;
			job_status(d, 1, "%s", msg);
			continue;
		}
		run_job(d, kind, &args);
		pthread_mutex_lock(&d->mu);
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

/* ---- the public side (UI thread) ---- */

int tui_data_new(const struct tui_target *t, const char *stack, const char *self_exe,
		 struct tui_data **out, char *errbuf, size_t n)
{
	struct tui_data *d = calloc(1, sizeof(*d));
	sigset_t block, old;

	if (!d) {
		snprintf(errbuf, n, "out of memory");
		return -1;
	}
	d->target = *t;
	if (t->use_creds) { /* the static sandbox credentials: keep pointing at them */
		d->target.creds = t->creds;
	}
	snprintf(d->self_exe, sizeof(d->self_exe), "%s", self_exe);
	snprintf(d->stack, sizeof(d->stack), "%s", stack);
	snprintf(d->snap.stack, sizeof(d->snap.stack), "%s", stack);
	if (!t->is_sandbox && !t->endpoint[0] && t->profile[0]) /* the header names the profile */
		snprintf(d->snap.target, sizeof(d->snap.target), "aws (profile %.100s)", t->profile);
	else
		snprintf(d->snap.target, sizeof(d->snap.target), "%.127s", t->label);
	snprintf(d->snap.region, sizeof(d->snap.region), "%s", t->region);
	snprintf(d->snap.conn, sizeof(d->snap.conn), "connecting ...");
	snprintf(d->snap.subscription, sizeof(d->snap.subscription), "unknown");
	snprintf(d->snap.unavailable, sizeof(d->snap.unavailable),
		 "the live monitor starts when the stack's queue or table exists");
	d->snap.deployed = -1;
	d->snap.counter[TUI_C_SENT].avail = 1; /* counted here: orders this console sent */
	d->have_engine = 1;
	d->job_queued = 1; /* learn the stack's state first */
	d->job_kind = TUI_JOB_PLAN;
	d->snap.job = TUI_JOB_PLAN;
	d->snap.job_running = 1;
	d->wake[0] = d->wake[1] = -1;
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cond, NULL);
	if (pipe2(d->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
		snprintf(errbuf, n, "pipe: %s", strerror(errno));
		goto fail;
	}
	/* the threads (and the monitor's, which inherit their mask) leave SIGINT, SIGTERM,
	 * SIGHUP and SIGWINCH to the UI thread, whose poll() they must interrupt */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGWINCH);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	if (pthread_create(&d->poll_thread, NULL, poll_main, d) != 0) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		snprintf(errbuf, n, "cannot start the monitor thread");
		goto fail;
	}
	d->threads = 1;
	if (pthread_create(&d->job_thread, NULL, job_main, d) != 0) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		snprintf(errbuf, n, "cannot start the job thread");
		goto fail;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	d->threads = 2;
	*out = d;
	return 0;
fail:
	tui_data_free(d);
	return -1;
}

void tui_data_free(struct tui_data *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->mu);
	d->stop = 1;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->mu);
	if (d->threads >= 1)
		pthread_join(d->poll_thread, NULL);
	if (d->threads >= 2)
		pthread_join(d->job_thread, NULL);
	aws_client_free(d->client);
	aws_client_free(d->jclient);
	aws_client_free(d->mclient);
	if (d->wake[0] >= 0)
		close(d->wake[0]);
	if (d->wake[1] >= 0)
		close(d->wake[1]);
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

int tui_data_fd(const struct tui_data *d)
{
	return d->wake[0];
}

void tui_data_drain(struct tui_data *d)
{
	char buf[256];

	while (read(d->wake[0], buf, sizeof(buf)) > 0) {
	}
}

void tui_data_snapshot(struct tui_data *d, struct tui_snapshot *out)
{
	pthread_mutex_lock(&d->mu);
	*out = d->snap;
	pthread_mutex_unlock(&d->mu);
}

int tui_data_start_job(struct tui_data *d, enum tui_job_kind kind, const struct tui_job_args *args)
{
	static const char *const names[] = {
		[TUI_JOB_NONE] = "", [TUI_JOB_PLAN] = "status", [TUI_JOB_DEPLOY] = "deploy", [TUI_JOB_DESTROY] = "cleanup",
		[TUI_JOB_ORDER] = "order", [TUI_JOB_BURST] = "burst",
		[TUI_JOB_DLQ_INSPECT] = "DLQ inspect", [TUI_JOB_REDRIVE] = "redrive",
		[TUI_JOB_PURGE] = "purge", [TUI_JOB_MAIL] = "mailbox", [TUI_JOB_CONFIRM] = "confirm",
	};
	int rc = -1;

	pthread_mutex_lock(&d->mu);
	if (d->snap.job_running || d->job_queued)
		goto done;
	d->job_kind = kind;
	memset(&d->job_args, 0, sizeof(d->job_args));
	if (args)
		d->job_args = *args;
	d->job_queued = 1;
	d->snap.job = kind;
	d->snap.job_running = 1;
	d->snap.job_done = 0;
	d->snap.job_total = 0;
	d->snap.job_result[0] = '\0';
	job_status(d, 0, "%s: starting ...", names[kind]);
	pthread_cond_broadcast(&d->cond);
	rc = 0;
done:
	pthread_mutex_unlock(&d->mu);
	return rc;
}

/* Queue a status job (the engine learns the stack's state) unless a job runs. Mutex held. */
static void queue_plan(struct tui_data *d)
{
	if (d->snap.job_running || d->job_queued)
		return;
	d->job_queued = 1;
	d->job_kind = TUI_JOB_PLAN;
	d->snap.job = TUI_JOB_PLAN;
	d->snap.job_running = 1;
}

void tui_data_set_stack(struct tui_data *d, const char *stack, const char *region)
{
	int moved = 0;

	pthread_mutex_lock(&d->mu);
	if (strcmp(d->stack, stack) != 0) {
		snprintf(d->stack, sizeof(d->stack), "%s", stack);
		snprintf(d->snap.stack, sizeof(d->snap.stack), "%s", stack);
		moved = 1;
	}
	if (region && *region && strcmp(region, d->snap.region) != 0) {
		/* the clients are rebuilt for the new region by their threads */
		snprintf(d->target.region, sizeof(d->target.region), "%s", region);
		snprintf(d->snap.region, sizeof(d->snap.region), "%s", region);
		d->region_gen++;
		d->snap.counter[TUI_C_SENT].value = 0;
		moved = 1;
	}
	if (moved) {
		d->stack_gen++;
		d->snap.deployed = -1;
		d->snap.nres = 0;
		queue_plan(d);
		pthread_cond_broadcast(&d->cond);
		changed(d);
	}
	pthread_mutex_unlock(&d->mu);
}
