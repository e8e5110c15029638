/* order.c: the order submission engine: rate-limited parallel POSTs, then following each
 * accepted order to its DynamoDB item and its SNS delivery. */
#include "order.h"

#include <errno.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "names.h"

#define ID_MAX 96

/* One order being sent and followed. */
struct ord {
	char id[ID_MAX];  /* "" when unknown (raw body without orderID and no MessageId back) */
	double t_post;    /* monotonic seconds */
	double t_deliv;
	unsigned char outcome; /* 0 pending, else enum stack_order_outcome + 1 */
	unsigned char stored, notified, indexed;
};

/* A run: shared by the workers, the delivery drain and the follower. */
struct run {
	struct aws_client *c;
	const struct stack_order_opts *o;
	struct stack_order_result *r;
	pthread_mutex_t lk;
	pthread_cond_t cv;
	struct ord *ords;
	long next;               /* next order to send */
	long answered;
	struct stack_bucket bucket;
	size_t *slots;           /* open-addressing table of order index + 1, keyed by id */
	size_t nslots;
	char deliveries_url[1024];
	char table[128];
	long long start_epoch_ms;
	int stop;
};

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long long epoch_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_s(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

enum stack_order_outcome stack_order_classify(int answered, int status)
{
	if (!answered || status >= 500 || status < 200)
		return STACK_ORDER_FAILED;
	if (status >= 400)
		return STACK_ORDER_REJECTED;
	if (status < 300)
		return STACK_ORDER_ACCEPTED;
	return STACK_ORDER_FAILED;
}

double stack_percentile(const double *sorted, size_t n, double p)
{
	double want;
	size_t rank;

	if (n == 0)
		return 0;
	want = p / 100.0 * (double)n;
	rank = want <= 0 ? 0 : (size_t)want; /* ceil, without libm */
	if ((double)rank < want)
		rank++;
	if (rank < 1)
		rank = 1;
	return sorted[rank <= n ? rank - 1 : n - 1];
}

void stack_bucket_init(struct stack_bucket *b, double rate, double burst, double now)
{
	b->rate = rate;
	b->burst = burst < 1 ? 1 : burst;
	b->tokens = b->burst;
	b->last = now;
}

double stack_bucket_reserve(struct stack_bucket *b, double now)
{
	if (b->rate <= 0)
		return 0;
	if (now > b->last) {
		b->tokens += (now - b->last) * b->rate;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
		b->last = now;
	}
	b->tokens -= 1;
	return b->tokens >= 0 ? 0 : -b->tokens / b->rate;
}

void stack_uuid4(const unsigned char rnd[16], char out[37])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char u[16];
	size_t o = 0;

	memcpy(u, rnd, 16);
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[u[i] >> 4];
		out[o++] = hex[u[i] & 15];
	}
	out[o] = '\0';
}

/* The text of attribute key in an image, typed ({"S":..}, {"N":..}) or plain, or NULL. */
static const char *image_text(json_t *image, const char *key, char *buf, size_t n)
{
	json_t *v = json_object_get(image, key);

	if (json_is_object(v))
		v = json_object_get(v, "S") ? json_object_get(v, "S") : json_object_get(v, "N");
	if (json_is_string(v))
		snprintf(buf, n, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, n, "%lld", (long long)json_integer_value(v));
	else
		return NULL;
	return buf;
}

void stack_delivery_summary(const char *body, char *out, size_t n)
{
	json_t *j = body ? json_loads(body, 0, NULL) : NULL;
	char b[4][128];

	if (n == 0)
		return;
	if (json_is_object(j)) {
		const char *id = image_text(j, "orderID", b[0], sizeof(b[0]));
		const char *item = image_text(j, "item", b[1], sizeof(b[1]));
		const char *q = image_text(j, "quantity", b[2], sizeof(b[2]));
		const char *cust = image_text(j, "customerID", b[3], sizeof(b[3]));

		snprintf(out, n, "orderID=%s item=%s quantity=%s%s%s", id ? id : "?",
			 item ? item : "?", q ? q : "?", cust ? " customerID=" : "", cust ? cust : "");
	} else {
		snprintf(out, n, "%s", body ? body : "");
		for (char *p = out; *p; p++)
			if (*p == '\n' || *p == '\r' || *p == '\t')
				*p = ' ';
	}
	json_decref(j);
}

int stack_delivery_order_id(const char *body, char *out, size_t n)
{
	json_t *j = json_loads(body, 0, NULL);
	json_t *v = json_object_get(j, "orderID");
	const char *s;
	int rc = -1;

	if (json_is_object(v))
		v = json_object_get(v, "S");
	s = json_string_value(v);
	if (s && *s && strlen(s) < n) {
		memcpy(out, s, strlen(s) + 1);
		rc = 0;
	}
	json_decref(j);
	return rc;
}

/* FNV-1a, for the id table. */
static size_t id_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

/* Add order i to the id table (lock held). Duplicates (a raw body's fixed orderID) keep
 * the first order. */
static void id_add(struct run *x, long i)
{
	size_t m = x->nslots - 1, k = id_hash(x->ords[i].id) & m;

	if (!x->ords[i].id[0] || x->ords[i].indexed)
		return;
	while (x->slots[k]) {
		if (strcmp(x->ords[x->slots[k] - 1].id, x->ords[i].id) == 0)
			return;
		k = (k + 1) & m;
	}
	x->slots[k] = (size_t)i + 1;
	x->ords[i].indexed = 1;
}

/* The order with this id, or NULL (lock held). */
static struct ord *id_find(struct run *x, const char *id)
{
	size_t m = x->nslots - 1, k = id_hash(id) & m;

	while (x->slots[k]) {
		if (strcmp(x->ords[x->slots[k] - 1].id, id) == 0)
			return &x->ords[x->slots[k] - 1];
		k = (k + 1) & m;
	}
	return NULL;
}

/* Find a MessageId in an SQS answer (JSON at any depth, or XML). Returns 0 or -1. */
static int find_message_id(json_t *j, const char *text, char *out, size_t n)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_object(j)) {
		json_object_foreach(j, key, v) {
			if (strcmp(key, "MessageId") == 0 && json_is_string(v)) {
				snprintf(out, n, "%s", json_string_value(v));
				return 0;
			}
			if (find_message_id(v, NULL, out, n) == 0)
				return 0;
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			if (find_message_id(v, NULL, out, n) == 0)
				return 0;
	}
	if (text) {
		const char *a = strstr(text, "<MessageId>"), *b;

		if (a && (b = strstr(a + 11, "</MessageId>")) && (size_t)(b - a - 11) < n) {
			memcpy(out, a + 11, (size_t)(b - a - 11));
			out[b - a - 11] = '\0';
			return 0;
		}
	}
	return -1;
}

/* The body of order i (caller frees), or NULL. */
static char *order_body(const struct stack_order_opts *o, const char *id)
{
	json_t *j;
	char *s;

	if (o->body)
		return strdup(o->body);
	j = json_pack("{s:s, s:s, s:I}", "orderID", id, "item", o->item ? o->item : "widget",
		      "quantity", (json_int_t)(o->quantity > 0 ? o->quantity : 1));
	if (j && o->customer)
		json_object_set_new(j, "customerID", json_string(o->customer));
	s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	return s;
}

/* The API's message of a rejection: {"message": ...} or the body itself. */
static void reject_message(int status, const char *resp, char *out, size_t n)
{
	json_t *j = resp ? json_loads(resp, 0, NULL) : NULL;
	const char *m = json_string_value(json_object_get(j, "message"));

	if (!m)
		m = json_string_value(json_object_get(j, "Message"));
	snprintf(out, n, "%d: %s", status, m ? m : resp && *resp ? resp : "(empty answer)");
	json_decref(j);
}

/* Tell the caller the counts (lock held, so calls are serialised and never go back). */
static void report_progress(struct run *x)
{
	struct stack_order_progress p;

	if (!x->o->on_progress)
		return;
	p.count = x->o->count;
	p.answered = x->answered;
	p.accepted = x->r->accepted;
	p.rejected = x->r->rejected;
	p.failed = x->r->failed;
	p.notified = x->r->notified;
	x->o->on_progress(&p, x->o->ctx);
}

/* One answer: classify and record it. */
static void record_answer(struct run *x, long i, int answered, int status, const char *resp,
			  const struct aws_error *e)
{
	enum stack_order_outcome oc = stack_order_classify(answered, status);
	struct stack_order_result *r = x->r;
	struct ord *d = &x->ords[i];
	json_t *j = NULL;
	char mid[ID_MAX] = "";

	if (oc == STACK_ORDER_ACCEPTED && !d->id[0] && resp) {
		j = json_loads(resp, 0, NULL);
		if (find_message_id(j, resp, mid, sizeof(mid)) != 0)
			mid[0] = '\0';
	}
	pthread_mutex_lock(&x->lk);
	d->outcome = (unsigned char)(oc + 1);
	x->answered++;
	if (oc == STACK_ORDER_ACCEPTED) {
		r->accepted++;
		if (!d->id[0] && mid[0]) {
			snprintf(d->id, sizeof(d->id), "%s", mid);
			id_add(x, i);
		}
	} else if (oc == STACK_ORDER_REJECTED) {
		r->rejected++;
		if (!r->reject_msg[0])
			reject_message(status, resp, r->reject_msg, sizeof(r->reject_msg));
	} else {
		r->failed++;
		if (!r->fail_msg[0]) {
			if (answered)
				reject_message(status, resp, r->fail_msg, sizeof(r->fail_msg));
			else
				snprintf(r->fail_msg, sizeof(r->fail_msg), "%s: %.300s", e->code, e->message);
		}
	}
	report_progress(x);
	pthread_mutex_unlock(&x->lk);
	json_decref(j);
}

static void *worker(void *arg)
{
	struct run *x = arg;
	static const char *const hdrs[] = { "Content-Type: application/json",
					    "Accept: application/json", NULL };

	for (;;) {
		struct aws_error e = {0};
		char *body, *resp = NULL;
		double delay = 0;
		int status = 0, answered;
		long i;

		pthread_mutex_lock(&x->lk);
		i = x->next < x->o->count ? x->next++ : -1;
		if (i >= 0 && x->o->rate > 0)
			delay = stack_bucket_reserve(&x->bucket, mono_now());
		pthread_mutex_unlock(&x->lk);
		if (i < 0)
			break;
		sleep_s(delay);
		body = order_body(x->o, x->ords[i].id);
		pthread_mutex_lock(&x->lk); /* the drain reads it for the live latency */
		x->ords[i].t_post = mono_now();
		pthread_mutex_unlock(&x->lk);
		answered = body && aws_http_request(x->c, "POST", x->o->url, hdrs, body,
						    strlen(body), &status, &resp, &e) == 0;
		if (!body)
			aws_error_set(&e, 0, AWS_ERR_NOMEM, "out of memory");
		record_answer(x, i, answered, status, resp, &e);
		free(body);
		free(resp);
	}
	return NULL;
}

/* Wait on the run's condition variable for up to s seconds, or until stop (lock held). */
static void timed_wait(struct run *x, double s)
{
	struct timespec ts;
	double t;

	clock_gettime(CLOCK_REALTIME, &ts);
	t = (double)ts.tv_nsec / 1e9 + s;
	ts.tv_sec += (time_t)t;
	ts.tv_nsec = (long)((t - (double)(time_t)t) * 1e9);
	pthread_cond_timedwait(&x->cv, &x->lk, &ts);
}

/* One delivery: match it to an order, or decide it is stale. Returns nonzero to delete
 * (and then tells the caller's on_delivery about it). */
static int delivery_seen(struct run *x, json_t *msg, double now)
{
	const char *body = json_string_value(json_object_get(msg, "Body"));
	const char *mid = json_string_value(json_object_get(msg, "MessageId"));
	const char *sent = json_string_value(json_object_get(json_object_get(msg, "Attributes"),
							     "SentTimestamp"));
	struct stack_order_delivery dl = { mid ? mid : "", "", body ? body : "", 0, 0, 0 };
	char id[ID_MAX] = "";
	struct ord *d = NULL;

	if (body && stack_delivery_order_id(body, id, sizeof(id)) == 0)
		dl.order_id = id;
	pthread_mutex_lock(&x->lk);
	if (id[0])
		d = id_find(x, id);
	if (d) {
		dl.ours = 1;
		if (!d->notified) {
			d->notified = 1;
			d->stored = 1; /* delivered from the table's stream: it is stored */
			d->t_deliv = now;
			x->r->notified++;
			dl.first = 1;
			dl.latency_ms = (now - d->t_post) * 1000.0;
			pthread_cond_broadcast(&x->cv);
		}
	} else if (!sent || strtoll(sent, NULL, 10) >= x->start_epoch_ms - 60000) {
		pthread_mutex_unlock(&x->lk);
		return 0; /* someone else's, recent: leave it to them */
	}
	/* ours, or from before this run: nobody follows it any more */
	if (x->o->on_delivery)
		x->o->on_delivery(&dl, x->o->ctx);
	if (dl.first) /* after the delivery itself, so a caller's counts include it */
		report_progress(x);
	pthread_mutex_unlock(&x->lk);
	return 1;
}

/* The deliveries drain: long polls until stop. */
static void *drain(void *arg)
{
	struct run *x = arg;
	int stop;

	do {
		struct aws_error e = {0};
		json_t *in, *out = NULL, *msg;
		size_t i;

		in = json_pack("{s:s, s:i, s:i, s:i, s:[s]}", "QueueUrl", x->deliveries_url,
			       "MaxNumberOfMessages", 10, "WaitTimeSeconds", 1,
			       "VisibilityTimeout", 5, "AttributeNames", "SentTimestamp");
		if (in && aws_call(x->c, "sqs", "ReceiveMessage", in, &out, &e) == 0) {
			double now = mono_now();

			json_array_foreach(json_object_get(out, "Messages"), i, msg) {
				json_t *din;

				if (!delivery_seen(x, msg, now))
					continue;
				din = json_pack("{s:s, s:O}", "QueueUrl", x->deliveries_url,
						"ReceiptHandle", json_object_get(msg, "ReceiptHandle"));
				if (din) {
					json_t *dout = NULL;

					aws_call(x->c, "sqs", "DeleteMessage", din, &dout, &e);
					json_decref(dout);
				}
				json_decref(din);
			}
		} else {
			pthread_mutex_lock(&x->lk);
			if (!x->stop)
				timed_wait(x, 1.0);
			pthread_mutex_unlock(&x->lk);
		}
		json_decref(in);
		json_decref(out);
		pthread_mutex_lock(&x->lk);
		stop = x->stop;
		pthread_mutex_unlock(&x->lk);
	} while (!stop);
	return NULL;
}

/* Mark the orders whose items a (Batch)GetItem answer holds as stored. */
static void mark_stored(struct run *x, json_t *items)
{
	json_t *it;
	size_t i;

	pthread_mutex_lock(&x->lk);
	json_array_foreach(items, i, it) {
		const char *id = json_string_value(json_object_get(json_object_get(it, "orderID"),
								   "S"));
		struct ord *d = id ? id_find(x, id) : NULL;

		if (d)
			d->stored = 1;
	}
	pthread_mutex_unlock(&x->lk);
}

/* Note the first error of following (main thread only). */
static void follow_error(struct run *x, const char *op, const struct aws_error *e)
{
	if (!x->r->wait_msg[0])
		snprintf(x->r->wait_msg, sizeof(x->r->wait_msg), "%s %s: %s: %.300s", op,
			 x->table, e->code, e->message);
}

/* Look up the items of orders idx[0..n-1] (n <= 100): one BatchGetItem, or, when that is
 * refused, one GetItem each. Unprocessed keys simply stay pending for the next round. */
static void lookup_batch(struct run *x, const long *idx, int n)
{
	struct aws_error e = {0};
	json_t *keys = json_array(), *in, *out = NULL;

	for (int k = 0; keys && k < n; k++)
		json_array_append_new(keys, json_pack("{s:{s:s}}", "orderID", "S",
						      x->ords[idx[k]].id));
	in = keys ? json_pack("{s:{s:{s:o, s:s, s:b}}}", "RequestItems", x->table, "Keys", keys,
			      "ProjectionExpression", "orderID", "ConsistentRead", 1) : NULL;
	if (in && aws_call(x->c, "dynamodb", "BatchGetItem", in, &out, &e) == 0) {
		mark_stored(x, json_object_get(json_object_get(out, "Responses"), x->table));
		goto out;
	}
	follow_error(x, "BatchGetItem", &e);
	for (int k = 0; k < n; k++) {
		json_t *gin, *gout = NULL, *items;

		memset(&e, 0, sizeof(e));
		gin = json_pack("{s:s, s:{s:{s:s}}, s:b, s:s}", "TableName", x->table, "Key",
				"orderID", "S", x->ords[idx[k]].id, "ConsistentRead", 1,
				"ProjectionExpression", "orderID");
		if (gin && aws_call(x->c, "dynamodb", "GetItem", gin, &gout, &e) == 0) {
			items = json_pack("[O]", json_object_get(gout, "Item"));
			if (items && json_object_get(gout, "Item"))
				mark_stored(x, items);
			json_decref(items);
		} else {
			follow_error(x, "GetItem", &e);
		}
		json_decref(gin);
		json_decref(gout);
	}
out:
	json_decref(in);
	json_decref(out);
}

/* One round over the accepted orders neither stored nor notified, 100 keys a call.
 * Returns how many accepted orders are still not both stored and notified. */
static long follow_round(struct run *x)
{
	long pending = 0, idx[100];
	int n = 0;

	for (long i = 0; i < x->o->count; i++) {
		struct ord *d = &x->ords[i];
		int need;

		pthread_mutex_lock(&x->lk);
		need = d->outcome == STACK_ORDER_ACCEPTED + 1 && d->indexed && !d->stored;
		pthread_mutex_unlock(&x->lk);
		if (need)
			idx[n++] = i;
		if (n == 100 || (n > 0 && i == x->o->count - 1)) {
			lookup_batch(x, idx, n);
			n = 0;
		}
	}
	pthread_mutex_lock(&x->lk);
	for (long i = 0; i < x->o->count; i++) {
		struct ord *d = &x->ords[i];

		/* only the first of orders sharing an id (a raw body's) and only orders with an
		 * id can be followed; summarise() accounts for the others */
		if (d->outcome == STACK_ORDER_ACCEPTED + 1 && d->indexed &&
		    !(d->stored && d->notified))
			pending++;
	}
	pthread_mutex_unlock(&x->lk);
	return pending;
}

/* Follow until every accepted order is stored and notified, or the deadline. */
static void follow(struct run *x)
{
	double deadline = mono_now() + x->o->wait_s, backoff = 0.2;

	while (follow_round(x) > 0) {
		double left = deadline - mono_now();

		if (left <= 0) {
			if (!x->r->wait_msg[0])
				snprintf(x->r->wait_msg, sizeof(x->r->wait_msg),
					 "gave up after waiting %d s", x->o->wait_s);
			break;
		}
		pthread_mutex_lock(&x->lk);
		timed_wait(x, backoff < left ? backoff : left);
		pthread_mutex_unlock(&x->lk);
		backoff = backoff * 1.5 > 2.0 ? 2.0 : backoff * 1.5;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Count stored orders and compute the latency percentiles. */
static int summarise(struct run *x)
{
	struct stack_order_result *r = x->r;
	double *lat = malloc(sizeof(double) * (size_t)x->o->count);
	size_t n = 0;
	long untracked = 0;

	if (!lat)
		return -1;
	r->stored = r->notified = 0;
	for (long i = 0; i < x->o->count; i++) {
		struct ord *d = &x->ords[i];
		struct ord *twin = d->indexed || !d->id[0] ? NULL : id_find(x, d->id);

		if (d->outcome != STACK_ORDER_ACCEPTED + 1)
			continue;
		if (twin) { /* the same orderID sent again: it shares the first one's fate */
			d->stored = twin->stored;
			d->notified = twin->notified;
			d->t_deliv = twin->t_deliv;
		}
		untracked += !d->id[0];
		r->stored += d->stored;
		r->notified += d->notified;
		if (d->notified)
			lat[n++] = (d->t_deliv - d->t_post) * 1000.0;
	}
	if (untracked && x->o->wait_s > 0)
		snprintf(r->wait_msg, sizeof(r->wait_msg), "%ld accepted order(s) had no orderID and "
			 "the API's answer no MessageId to follow them by", untracked);
	qsort(lat, n, sizeof(double), cmp_double);
	r->latencies = (long)n;
	r->p50 = stack_percentile(lat, n, 50);
	r->p95 = stack_percentile(lat, n, 95);
	r->p99 = stack_percentile(lat, n, 99);
	r->max = n ? lat[n - 1] : 0;
	free(lat);
	return 0;
}

/* Make the ids (client side, UUID v4) and the id table. */
static int prepare(struct run *x, struct aws_error *err)
{
	const struct stack_order_opts *o = x->o;
	size_t want = 16;

	while (want < (size_t)o->count * 2)
		want <<= 1;
	x->ords = calloc((size_t)o->count, sizeof(*x->ords));
	x->slots = calloc(want, sizeof(*x->slots));
	x->nslots = want;
	if (!x->ords || !x->slots)
		return aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory for %ld orders",
				     o->count);
	for (long i = 0; i < o->count; i++) {
		unsigned char rnd[16];

		if (o->body) {
			/* a raw body: its orderID if it has one, else the SQS message id later */
			if (stack_delivery_order_id(o->body, x->ords[i].id, ID_MAX) != 0)
				x->ords[i].id[0] = '\0';
		} else {
			if (RAND_bytes(rnd, sizeof(rnd)) != 1)
				return aws_error_set(err, 0, AWS_ERR_CONFIG, "no random bytes");
			stack_uuid4(rnd, x->ords[i].id);
		}
		id_add(x, i);
	}
	return 0;
}

/* Resolve the table name and the deliveries queue's URL. */
static int resolve_follow(struct run *x, struct aws_error *err)
{
	char qname[128];
	const char *url;
	json_t *in = NULL, *out = NULL;
	int rc = -1;

	if (stack_name(x->o->stack, STACK_TABLE, x->table, sizeof(x->table)) ||
	    stack_name(x->o->stack, STACK_DELIVERIES, qname, sizeof(qname))) {
		aws_error_set(err, 0, AWS_ERR_PARAM, "stack name too long");
		goto out;
	}
	in = json_pack("{s:s}", "QueueName", qname);
	if (!in || aws_call(x->c, "sqs", "GetQueueUrl", in, &out, err))
		goto out;
	url = json_string_value(json_object_get(out, "QueueUrl"));
	if (!url) {
		aws_error_set(err, 0, AWS_ERR_PARSE, "GetQueueUrl %s: no QueueUrl", qname);
		goto out;
	}
	snprintf(x->deliveries_url, sizeof(x->deliveries_url), "%s", url);
	rc = 0;
out:
	json_decref(in);
	json_decref(out);
	return rc;
}

int stack_order_run(struct aws_client *c, const struct stack_order_opts *o,
		    struct stack_order_result *r, struct aws_error *err)
{
	struct run x;
	pthread_t *tids = NULL, dtid;
	int nthreads = 0, drain_on = 0, conc, rc = -1;
	double t0;

	memset(&x, 0, sizeof(x));
	memset(r, 0, sizeof(*r));
	x.c = c;
	x.o = o;
	x.r = r;
	pthread_mutex_init(&x.lk, NULL);
	pthread_cond_init(&x.cv, NULL);
	if (o->count < 1 || !o->url) {
		aws_error_set(err, 0, AWS_ERR_PARAM, "nothing to send");
		goto out;
	}
	conc = o->concurrency < 1 ? 1 : o->concurrency > 256 ? 256 : o->concurrency;
	if (conc > o->count)
		conc = (int)o->count;
	x.start_epoch_ms = epoch_ms();
	if (prepare(&x, err))
		goto out;
	if (o->wait_s > 0) {
		if (resolve_follow(&x, err))
			goto out;
		if (pthread_create(&dtid, NULL, drain, &x) == 0)
			drain_on = 1;
	}
	tids = calloc((size_t)conc, sizeof(*tids));
	if (!tids) {
		aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
		goto out;
	}
	t0 = mono_now();
	stack_bucket_init(&x.bucket, o->rate, 1, t0);
	for (; nthreads < conc; nthreads++)
		if (pthread_create(&tids[nthreads], NULL, worker, &x))
			break;
	if (nthreads == 0)
		worker(&x); /* no threads to be had: send from here */
	for (int i = 0; i < nthreads; i++)
		pthread_join(tids[i], NULL);
	nthreads = 0;
	r->submitted = o->count;
	r->elapsed_s = mono_now() - t0;
	if (o->wait_s > 0)
		follow(&x);
	rc = summarise(&x);
	if (rc)
		aws_error_set(err, 0, AWS_ERR_NOMEM, "out of memory");
out:
	for (int i = 0; i < nthreads; i++)
		pthread_join(tids[i], NULL);
	if (drain_on) {
		pthread_mutex_lock(&x.lk);
		x.stop = 1;
		pthread_cond_broadcast(&x.cv);
		pthread_mutex_unlock(&x.lk);
		pthread_join(dtid, NULL);
	}
	free(tids);
	free(x.ords);
	free(x.slots);
	pthread_cond_destroy(&x.cv);
	pthread_mutex_destroy(&x.lk);
	return rc;
}

/* A number rounded to 3 decimals (ms for seconds, µs for ms): enough, and readable. */
static json_t *num3(double v)
{
	return json_real((double)(long long)(v * 1000.0 + (v < 0 ? -0.5 : 0.5)) / 1000.0);
}

json_t *stack_order_result_json(const struct stack_order_result *r, int waited)
{
	json_t *j = json_object(), *lat;

	if (!j)
		return NULL;
	json_object_set_new(j, "submitted", json_integer(r->submitted));
	json_object_set_new(j, "accepted", json_integer(r->accepted));
	json_object_set_new(j, "rejected", json_integer(r->rejected));
	json_object_set_new(j, "failed", json_integer(r->failed));
	if (waited) {
		json_object_set_new(j, "stored", json_integer(r->stored));
		json_object_set_new(j, "notified", json_integer(r->notified));
	}
	json_object_set_new(j, "elapsed_s", num3(r->elapsed_s));
	if (waited) {
		lat = json_object();
		json_object_set_new(lat, "p50", r->latencies ? num3(r->p50) : json_null());
		json_object_set_new(lat, "p95", r->latencies ? num3(r->p95) : json_null());
		json_object_set_new(lat, "p99", r->latencies ? num3(r->p99) : json_null());
		json_object_set_new(lat, "max", r->latencies ? num3(r->max) : json_null());
		json_object_set_new(j, "latency_ms", lat);
	}
	return j;
}
