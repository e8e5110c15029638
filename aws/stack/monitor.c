/* monitor.c: the live monitor: one thread each for the queues' counts, the table's stream,
 * the deliveries queue and the functions' logs, producing events to a sink and a ring. */
#include "monitor.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "names.h"

#define RING 256
#define SEEN 512
#define MAX_SHARDS 32
#define DELIVERY_WAIT_S 3

struct stack_monitor {
	struct aws_client *c;
	enum stack_monitor_deliveries deliveries;
	monitor_event_fn sink;
	void *ctx;
	char table[128], deliveries_q[128], fn[2][128];
	pthread_mutex_t lk;      /* snapshot, ring, stop */
	pthread_cond_t cv;       /* signalled on stop */
	pthread_mutex_t emit_lk; /* serialises sink calls */
	int stop;
	struct stack_monitor_snapshot snap;
	struct monitor_event ring[RING];
	size_t ring_n, ring_head;
	pthread_t tids[4];
	int ntids;
};

/* Ids already reported (log event ids, peeked message ids): a small ring. */
struct seen {
	char ids[SEEN][80];
	size_t next;
};

static int seen_check_add(struct seen *s, const char *id)
{
	for (size_t i = 0; i < SEEN; i++)
		if (s->ids[i][0] && strcmp(s->ids[i], id) == 0)
			return 1;
	snprintf(s->ids[s->next], sizeof(s->ids[0]), "%s", id);
	s->next = (s->next + 1) % SEEN;
	return 0;
}

static double epoch_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *monitor_event_kind_name(enum monitor_event_kind k)
{
	static const char *const names[] = { "queue", "item", "delivery", "log", "error" };

	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "unknown";
}

/* RFC 3339 UTC with milliseconds. */
static void rfc3339(double t, char *out, size_t n)
{
	time_t s = (time_t)t;
	struct tm tm;
	char b[32];

	gmtime_r(&s, &tm);
	strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, n, "%s.%03dZ", b, (int)((t - (double)s) * 1000) % 1000);
}

json_t *monitor_event_json(const struct monitor_event *e)
{
	char ts[48];
	json_t *j;

	rfc3339(e->time, ts, sizeof(ts));
	j = json_pack("{s:s, s:s, s:s, s:s}", "time", ts, "kind", monitor_event_kind_name(e->kind),
		      "source", e->source, "detail", e->detail);
	if (j && e->order_id[0])
		json_object_set_new(j, "orderID", json_string(e->order_id));
	return j;
}

void monitor_event_line(const struct monitor_event *e, char *out, size_t n)
{
	time_t s = (time_t)e->time;
	struct tm tm;
	char b[16];

	localtime_r(&s, &tm);
	strftime(b, sizeof(b), "%H:%M:%S", &tm);
	snprintf(out, n, "%s.%03d %-8s %s: %s", b, (int)((e->time - (double)s) * 1000) % 1000,
		 monitor_event_kind_name(e->kind), e->source, e->detail);
}

/* Record an event: counters, ring, sink. */
static void emit(struct stack_monitor *m, enum monitor_event_kind kind, const char *source,
		 const char *order_id, const char *detail)
{
	struct monitor_event ev;
	size_t dl;

	memset(&ev, 0, sizeof(ev));
	ev.time = epoch_now();
	ev.kind = kind;
	snprintf(ev.source, sizeof(ev.source), "%s", source);
	snprintf(ev.order_id, sizeof(ev.order_id), "%s", order_id ? order_id : "");
	snprintf(ev.detail, sizeof(ev.detail), "%s", detail);
	for (dl = strlen(ev.detail); dl > 0 && (ev.detail[dl - 1] == '\n' ||
						ev.detail[dl - 1] == '\r'); dl--)
		ev.detail[dl - 1] = '\0';
	for (char *p = ev.detail; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	pthread_mutex_lock(&m->lk);
	switch (kind) {
	case MON_EV_ITEM: m->snap.items++; break;
	case MON_EV_DELIVERY: m->snap.deliveries++; break;
	case MON_EV_LOG: m->snap.logs++; break;
	case MON_EV_ERROR:
		m->snap.errors++;
		snprintf(m->snap.last_error, sizeof(m->snap.last_error), "%.100s: %.380s", ev.source,
			 ev.detail);
		break;
	default: break;
	}
	m->snap.updated = ev.time;
	m->ring[(m->ring_head + m->ring_n) % RING] = ev;
	if (m->ring_n < RING)
		m->ring_n++;
	else
		m->ring_head = (m->ring_head + 1) % RING;
	pthread_mutex_unlock(&m->lk);
	if (m->sink) {
		pthread_mutex_lock(&m->emit_lk);
		m->sink(&ev, m->ctx);
		pthread_mutex_unlock(&m->emit_lk);
	}
}

/* Report a failed call once per change of error code (last holds the previous code). */
static void call_failed(struct stack_monitor *m, const char *what, const struct aws_error *e,
			char *last, size_t n)
{
	char d[1200];

	if (strcmp(last, e->code) == 0)
		return;
	snprintf(last, n, "%s", e->code);
	snprintf(d, sizeof(d), "%s: %s", e->code, e->message);
	emit(m, MON_EV_ERROR, what, NULL, d);
}

/* Sleep up to s seconds or until stop. Returns nonzero when stopping. */
static int pause_s(struct stack_monitor *m, double s)
{
	struct timespec ts;
	double t;
	int stop;

	clock_gettime(CLOCK_REALTIME, &ts);
	t = (double)ts.tv_nsec / 1e9 + s;
	ts.tv_sec += (time_t)t;
	ts.tv_nsec = (long)((t - (double)(time_t)t) * 1e9);
	pthread_mutex_lock(&m->lk);
	if (!m->stop)
		pthread_cond_timedwait(&m->cv, &m->lk, &ts);
	stop = m->stop;
	pthread_mutex_unlock(&m->lk);
	return stop;
}

static int stopping(struct stack_monitor *m)
{
	int stop;

	pthread_mutex_lock(&m->lk);
	stop = m->stop;
	pthread_mutex_unlock(&m->lk);
	return stop;
}

/* A call whose input is built by json_pack (input stolen). Returns the output or NULL. */
static json_t *call(struct stack_monitor *m, const char *svc, const char *op, json_t *in,
		    struct aws_error *e)
{
	json_t *out = NULL;

	memset(e, 0, sizeof(*e));
	if (!in) {
		aws_error_set(e, 0, AWS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	if (aws_call(m->c, svc, op, in, &out, e))
		out = NULL;
	json_decref(in);
	return out;
}

/* The URL of queue name (into url), or -1. */
static int queue_url(struct stack_monitor *m, const char *name, char *url, size_t n,
		     struct aws_error *e)
{
	json_t *out = call(m, "sqs", "GetQueueUrl", json_pack("{s:s}", "QueueName", name), e);
	const char *u = json_string_value(json_object_get(out, "QueueUrl"));
	int rc = u ? 0 : -1;

	if (u)
		snprintf(url, n, "%s", u);
	json_decref(out);
	return rc;
}

static long attr_long(json_t *attrs, const char *name)
{
	const char *s = json_string_value(json_object_get(attrs, name));

	return s ? strtol(s, NULL, 10) : 0;
}

/* Thread: the three queues' counts every 2 s. */
static void *queues_thread(void *arg)
{
	struct stack_monitor *m = arg;
	char urls[3][1024] = { "", "", "" }, last[3][128] = { "", "", "" };

	do {
		for (int i = 0; i < 3; i++) {
			struct stack_queue_stat *q = &m->snap.queues[i];
			struct aws_error e;
			json_t *out, *attrs;
			long vis, fl;
			int changed;

			if (!urls[i][0] && queue_url(m, q->name, urls[i], sizeof(urls[i]), &e)) {
				call_failed(m, q->name, &e, last[i], sizeof(last[i]));
				continue;
			}
			out = call(m, "sqs", "GetQueueAttributes",
				   json_pack("{s:s, s:[s,s]}", "QueueUrl", urls[i], "AttributeNames",
					     "ApproximateNumberOfMessages",
					     "ApproximateNumberOfMessagesNotVisible"), &e);
			if (!out) {
				call_failed(m, q->name, &e, last[i], sizeof(last[i]));
				if (strcmp(e.code, "QueueDoesNotExist") == 0 ||
				    strstr(e.code, "NonExistentQueue"))
					urls[i][0] = '\0';
				continue;
			}
			last[i][0] = '\0';
			attrs = json_object_get(out, "Attributes");
			vis = attr_long(attrs, "ApproximateNumberOfMessages");
			fl = attr_long(attrs, "ApproximateNumberOfMessagesNotVisible");
			pthread_mutex_lock(&m->lk);
			changed = !q->known || q->visible != vis || q->in_flight != fl;
			q->known = 1;
			q->visible = vis;
			q->in_flight = fl;
			pthread_mutex_unlock(&m->lk);
			if (changed) {
				char d[128];

				snprintf(d, sizeof(d), "%ld visible, %ld in flight", vis, fl);
				emit(m, MON_EV_QUEUE, q->name, NULL, d);
			}
			json_decref(out);
		}
	} while (!pause_s(m, 2.0));
	return NULL;
}

/* The text of attribute key in an image, typed ({"S":..}, {"N":..}) as on the stream or
 * plain JSON as in the notifier's deliveries, into buf; NULL when absent. */
static const char *av_text(json_t *image, const char *key, char *buf, size_t n)
{
	json_t *v = json_object_get(image, key);
	const char *s;

	if (json_is_object(v)) {
		s = json_string_value(json_object_get(v, "S"));
		v = s ? json_object_get(v, "S") : json_object_get(v, "N");
	}
	if (json_is_string(v))
		snprintf(buf, n, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, n, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, n, "%g", json_real_value(v));
	else
		return NULL;
	return buf;
}

/* A summary of an order image: "orderID=.. item=.. quantity=..". */
static void image_summary(json_t *image, const char *prefix, char *out, size_t n)
{
	char b[4][300];
	const char *id = av_text(image, "orderID", b[0], sizeof(b[0]));
	const char *item = av_text(image, "item", b[1], sizeof(b[1]));
	const char *q = av_text(image, "quantity", b[2], sizeof(b[2]));
	const char *cust = av_text(image, "customerID", b[3], sizeof(b[3]));

	snprintf(out, n, "%s%sorderID=%s item=%s quantity=%s%s%s", prefix, *prefix ? " " : "",
		 id ? id : "?", item ? item : "?", q ? q : "?", cust ? " customerID=" : "",
		 cust ? cust : "");
}

/* A stream shard being read. */
struct shard {
	char id[128];
	char *iter; /* NULL once closed */
};

/* Drop the shards that are closed and read to the end (to make room). */
static void compact(struct shard *sh, int *nsh)
{
	int k = 0;

	for (int i = 0; i < *nsh; i++)
		if (sh[i].iter)
			sh[k++] = sh[i];
	*nsh = k;
}

/* Nonzero when shard id is in sh. */
static int known_shard(const struct shard *sh, int nsh, const char *id)
{
	for (int k = 0; id && k < nsh; k++)
		if (strcmp(sh[k].id, id) == 0)
			return 1;
	return 0;
}

/* Find the shards to read and get iterators for them: on the first discovery the open
 * shards from LATEST; later, new shards (open, or closed children of shards being read)
 * from TRIM_HORIZON. Shards closed before the start are never read. Returns 0 or -1. */
static int discover(struct stack_monitor *m, const char *arn, struct shard *sh, int *nsh,
		    int first, struct aws_error *e)
{
	json_t *out, *s;
	size_t i;

	out = call(m, "dynamodbstreams", "DescribeStream", json_pack("{s:s}", "StreamArn", arn), e);
	if (!out)
		return -1;
	json_array_foreach(json_object_get(json_object_get(out, "StreamDescription"), "Shards"),
			   i, s) {
		const char *id = json_string_value(json_object_get(s, "ShardId"));
		const char *parent = json_string_value(json_object_get(s, "ParentShardId"));
		json_t *range = json_object_get(s, "SequenceNumberRange"), *it;
		int closed = json_object_get(range, "EndingSequenceNumber") != NULL;

		if (!id || known_shard(sh, *nsh, id) ||
		    (closed && (first || !known_shard(sh, *nsh, parent))))
			continue;
		if (*nsh >= MAX_SHARDS)
			compact(sh, nsh);
		if (*nsh >= MAX_SHARDS)
			break;
		it = call(m, "dynamodbstreams", "GetShardIterator",
			  json_pack("{s:s, s:s, s:s}", "StreamArn", arn, "ShardId", id,
				    "ShardIteratorType", first ? "LATEST" : "TRIM_HORIZON"), e);
		if (!it)
			continue;
		snprintf(sh[*nsh].id, sizeof(sh[0].id), "%s", id);
		sh[*nsh].iter = strdup(json_string_value(json_object_get(it, "ShardIterator")) ?
				       json_string_value(json_object_get(it, "ShardIterator")) : "");
		(*nsh)++;
		json_decref(it);
	}
	json_decref(out);
	return 0;
}

/* Read one shard once. Returns how many records it gave, or -1 when its iterator is gone. */
static int read_shard(struct stack_monitor *m, struct shard *s, char *last, size_t lastn)
{
	struct aws_error e;
	json_t *out, *rec;
	const char *next;
	size_t i;
	int n = 0;

	out = call(m, "dynamodbstreams", "GetRecords",
		   json_pack("{s:s, s:i}", "ShardIterator", s->iter, "Limit", 100), &e);
	if (!out) {
		call_failed(m, m->table, &e, last, lastn);
		free(s->iter);
		s->iter = NULL;
		return -1;
	}
	last[0] = '\0';
	json_array_foreach(json_object_get(out, "Records"), i, rec) {
		const char *name = json_string_value(json_object_get(rec, "eventName"));
		json_t *db = json_object_get(rec, "dynamodb");
		json_t *img = json_object_get(db, "NewImage");
		char d[1024], id[96];

		if (!img)
			img = json_object_get(db, "Keys");
		image_summary(img, name ? name : "RECORD", d, sizeof(d));
		emit(m, MON_EV_ITEM, m->table, av_text(img, "orderID", id, sizeof(id)), d);
		n++;
	}
	next = json_string_value(json_object_get(out, "NextShardIterator"));
	free(s->iter);
	s->iter = next ? strdup(next) : NULL;
	json_decref(out);
	return s->iter ? n : -1;
}

/* Thread: the orders table's stream, read as its own consumer. */
static void *stream_thread(void *arg)
{
	struct stack_monitor *m = arg;
	struct shard sh[MAX_SHARDS];
	char arn[512] = "", last[128] = "";
	int nsh = 0, first = 1;
	double rediscover = 0;

	memset(sh, 0, sizeof(sh));
	while (!stopping(m)) {
		struct aws_error e;
		int got = 0, open = 0;

		if (!arn[0]) {
			json_t *out = call(m, "dynamodb", "DescribeTable",
					   json_pack("{s:s}", "TableName", m->table), &e);
			const char *a = json_string_value(json_object_get(
				json_object_get(out, "Table"), "LatestStreamArn"));

			if (a)
				snprintf(arn, sizeof(arn), "%s", a);
			else if (out)
				aws_error_set(&e, 0, "NoStream", "table %s has no stream", m->table);
			json_decref(out);
			if (!arn[0]) {
				call_failed(m, m->table, &e, last, sizeof(last));
				if (pause_s(m, 5.0))
					break;
				continue;
			}
		}
		if (epoch_now() >= rediscover) {
			if (discover(m, arn, sh, &nsh, first, &e)) {
				call_failed(m, m->table, &e, last, sizeof(last));
				arn[0] = '\0'; /* the table or its stream may have been replaced */
				if (pause_s(m, 5.0))
					break;
				continue;
			}
			first = 0;
			rediscover = epoch_now() + 30;
		}
		for (int k = 0; k < nsh; k++) {
			int r;

			if (!sh[k].iter)
				continue;
			r = read_shard(m, &sh[k], last, sizeof(last));
			if (r < 0)
				rediscover = 0; /* closed or expired: look for its children */
			else
				got += r;
			open += sh[k].iter != NULL;
		}
		if (!open)
			rediscover = epoch_now() + 1; /* nothing to read: look again shortly */
		if (!got && pause_s(m, 1.0))
			break;
	}
	for (int k = 0; k < nsh; k++)
		free(sh[k].iter);
	return NULL;
}

/* Thread: the deliveries queue (SNS raw deliveries of the NewImage). */
static void *deliveries_thread(void *arg)
{
	struct stack_monitor *m = arg;
	struct seen *seen = calloc(1, sizeof(*seen));
	char url[1024] = "", last[128] = "";
	int peek = m->deliveries == STACK_MON_PEEK;

	while (seen && !stopping(m)) {
		struct aws_error e;
		json_t *out, *msg;
		size_t i;

		if (!url[0] && queue_url(m, m->deliveries_q, url, sizeof(url), &e)) {
			call_failed(m, m->deliveries_q, &e, last, sizeof(last));
			if (pause_s(m, 5.0))
				break;
			continue;
		}
		out = call(m, "sqs", "ReceiveMessage",
			   json_pack("{s:s, s:i, s:i, s:i}", "QueueUrl", url, "MaxNumberOfMessages",
				     10, "WaitTimeSeconds", peek ? 0 : DELIVERY_WAIT_S,
				     "VisibilityTimeout", peek ? 0 : 30), &e);
		if (!out) {
			call_failed(m, m->deliveries_q, &e, last, sizeof(last));
			url[0] = '\0';
			if (pause_s(m, 5.0))
				break;
			continue;
		}
		last[0] = '\0';
		json_array_foreach(json_object_get(out, "Messages"), i, msg) {
			const char *body = json_string_value(json_object_get(msg, "Body"));
			const char *mid = json_string_value(json_object_get(msg, "MessageId"));
			json_t *img = body ? json_loads(body, 0, NULL) : NULL;
			char d[1024], id[96];

			if (peek && mid && seen_check_add(seen, mid)) {
				json_decref(img);
				continue;
			}
			if (img)
				image_summary(img, "", d, sizeof(d));
			else
				snprintf(d, sizeof(d), "%.1000s", body ? body : "");
			emit(m, MON_EV_DELIVERY, m->deliveries_q,
			     img ? av_text(img, "orderID", id, sizeof(id)) : NULL, d);
			json_decref(img);
			if (!peek)
				json_decref(call(m, "sqs", "DeleteMessage",
						 json_pack("{s:s, s:O}", "QueueUrl", url, "ReceiptHandle",
							   json_object_get(msg, "ReceiptHandle")), &e));
		}
		json_decref(out);
		if (peek && pause_s(m, 2.0))
			break;
	}
	free(seen);
	return NULL;
}

/* Thread: both functions' CloudWatch Logs, FilterLogEvents every 2 s from the start. */
static void *logs_thread(void *arg)
{
	struct stack_monitor *m = arg;
	struct seen *seen = calloc(1, sizeof(*seen));
	long long since[2];
	char last[2][128] = { "", "" };

	since[0] = since[1] = (long long)(epoch_now() * 1000);
	while (seen && !stopping(m)) {
		for (int f = 0; f < 2; f++) {
			char group[200], token[2048] = "";
			int pages = 0;

			snprintf(group, sizeof(group), "/aws/lambda/%s", m->fn[f]);
			do {
				struct aws_error e;
				json_t *in, *out, *ev;
				const char *nt;
				size_t i;

				in = json_pack("{s:s, s:I}", "logGroupName", group, "startTime",
					       (json_int_t)since[f]);
				if (in && token[0])
					json_object_set_new(in, "nextToken", json_string(token));
				out = call(m, "logs", "FilterLogEvents", in, &e);
				if (!out) {
					if (strcmp(e.code, "ResourceNotFoundException") != 0)
						call_failed(m, m->fn[f], &e, last[f], sizeof(last[f]));
					break;
				}
				last[f][0] = '\0';
				json_array_foreach(json_object_get(out, "events"), i, ev) {
					const char *id = json_string_value(json_object_get(ev, "eventId"));
					const char *msg = json_string_value(json_object_get(ev, "message"));
					json_int_t ts = json_integer_value(json_object_get(ev, "timestamp"));
					char key[80];

					snprintf(key, sizeof(key), "%s", id ? id : "");
					if (!id) /* no id: the timestamp and the message's start */
						snprintf(key, sizeof(key), "%lld:%.40s", (long long)ts,
							 msg ? msg : "");
					if (seen_check_add(seen, key))
						continue;
					if (ts > since[f])
						since[f] = ts;
					emit(m, MON_EV_LOG, m->fn[f], NULL, msg ? msg : "");
				}
				nt = json_string_value(json_object_get(out, "nextToken"));
				snprintf(token, sizeof(token), "%s", nt ? nt : "");
				json_decref(out);
			} while (token[0] && ++pages < 10 && !stopping(m));
		}
		if (pause_s(m, 2.0))
			break;
	}
	free(seen);
	return NULL;
}

int stack_monitor_start(struct aws_client *c, const struct stack_monitor_opts *o,
			struct stack_monitor **out, struct aws_error *err)
{
	static const char *const qbase[3] = { STACK_QUEUE, STACK_DLQ, STACK_STREAM_FAILURES };
	void *(*const fns[4])(void *) = { queues_thread, stream_thread, deliveries_thread,
					  logs_thread };
	struct stack_monitor *m = calloc(1, sizeof(*m));
	int bad = 0;

	if (!m)
		return aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
	m->c = c;
	m->deliveries = o->deliveries;
	m->sink = o->sink;
	m->ctx = o->ctx;
	bad |= stack_name(o->stack, STACK_TABLE, m->table, sizeof(m->table));
	bad |= stack_name(o->stack, STACK_DELIVERIES, m->deliveries_q, sizeof(m->deliveries_q));
	bad |= stack_name(o->stack, STACK_FN_WRITER, m->fn[0], sizeof(m->fn[0]));
	bad |= stack_name(o->stack, STACK_FN_NOTIFIER, m->fn[1], sizeof(m->fn[1]));
	for (int i = 0; i < 3; i++)
		bad |= stack_name(o->stack, qbase[i], m->snap.queues[i].name,
				  sizeof(m->snap.queues[i].name));
	if (bad) {
		free(m);
		return aws_error_set(err, 0, AWS_ERR_PARAM, "stack name too long");
	}
	pthread_mutex_init(&m->lk, NULL);
	pthread_mutex_init(&m->emit_lk, NULL);
	pthread_cond_init(&m->cv, NULL);
	for (int i = 0; i < 4; i++) {
		if (i == 2 && m->deliveries == STACK_MON_OFF)
			continue;
		if (pthread_create(&m->tids[m->ntids], NULL, fns[i], m) == 0)
			m->ntids++;
	}
	if (m->ntids == 0) {
		stack_monitor_stop(m);
		return aws_error_set(err, 0, AWS_ERR_NOMEM, "cannot start the monitor's threads");
	}
	*out = m;
	return 0;
}

void stack_monitor_snapshot(struct stack_monitor *m, struct stack_monitor_snapshot *out)
{
	pthread_mutex_lock(&m->lk);
	*out = m->snap;
	pthread_mutex_unlock(&m->lk);
}

size_t stack_monitor_recent(struct stack_monitor *m, struct monitor_event *out, size_t max)
{
	size_t n, skip;

	pthread_mutex_lock(&m->lk);
	n = m->ring_n < max ? m->ring_n : max;
	skip = m->ring_n - n;
	for (size_t i = 0; i < n; i++)
		out[i] = m->ring[(m->ring_head + skip + i) % RING];
	pthread_mutex_unlock(&m->lk);
	return n;
}

void stack_monitor_stop(struct stack_monitor *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lk);
	m->stop = 1;
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->lk);
	for (int i = 0; i < m->ntids; i++)
		pthread_join(m->tids[i], NULL);
	pthread_cond_destroy(&m->cv);
	pthread_mutex_destroy(&m->emit_lk);
	pthread_mutex_destroy(&m->lk);
	free(m);
}
