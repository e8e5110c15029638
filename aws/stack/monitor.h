/* monitor.h: the live monitor shared by `watch` and the console: background threads that
 * turn the stack's queues, table stream, deliveries and function logs into events. */
#ifndef CLEANOPS_STACK_MONITOR_H
#define CLEANOPS_STACK_MONITOR_H

#include <jansson.h>
#include <stddef.h>

#include "aws/client/aws.h"

/* What an event is about. */
enum monitor_event_kind {
	MON_EV_QUEUE,    /* a queue's counts changed (source: queue name) */
	MON_EV_ITEM,     /* a record on the orders table's stream (source: table) */
	MON_EV_DELIVERY, /* an SNS delivery on the deliveries queue (source: queue) */
	MON_EV_LOG,      /* a function's log line (source: function name) */
	MON_EV_ERROR,    /* the monitor could not read something (source: what) */
};

/* One event. Plain data, copied freely. */
struct monitor_event {
	double time;                /* epoch seconds when the monitor saw it */
	enum monitor_event_kind kind;
	char source[128];
	char order_id[96];          /* the order it concerns, "" when none */
	char detail[1024];          /* one line, human-readable */
};

/* "queue", "item", "delivery", "log", "error". */
const char *monitor_event_kind_name(enum monitor_event_kind k);
/* The event as a JSON object (new reference): time (RFC 3339 UTC, ms), kind, source,
 * detail, and orderID when known. */
json_t *monitor_event_json(const struct monitor_event *e);
/* Pure: one line for a terminal: "HH:MM:SS.mmm kind     source: detail" into out. */
void monitor_event_line(const struct monitor_event *e, char *out, size_t n);

/* Called for every event, from the monitor's threads, one call at a time (serialised);
 * ev is borrowed for the call. It must not call stack_monitor_stop(). */
typedef void (*monitor_event_fn)(const struct monitor_event *ev, void *ctx);

/* How the deliveries queue is read. */
enum stack_monitor_deliveries {
	STACK_MON_CONSUME, /* receive and delete (default; do not run beside `order --wait`) */
	STACK_MON_PEEK,    /* receive with VisibilityTimeout 0, never delete (polled every 2 s) */
	STACK_MON_OFF,
};

/* What to watch. Strings are copied. */
struct stack_monitor_opts {
	const char *stack;                     /* NULL: the default stack */
	enum stack_monitor_deliveries deliveries;
	monitor_event_fn sink;                   /* may be NULL (then read the ring buffer) */
	void *ctx;
};

/* Counters of one queue. */
struct stack_queue_stat {
	char name[128];
	int known;            /* the attributes were read at least once */
	long visible;         /* ApproximateNumberOfMessages */
	long in_flight;       /* ApproximateNumberOfMessagesNotVisible */
};

/* A consistent copy of the monitor's counters. Plain data. */
struct stack_monitor_snapshot {
	struct stack_queue_stat queues[3]; /* POC-Queue, its DLQ, POC-Stream-Failures */
	long items, deliveries, logs, errors; /* events seen of each kind since the start */
	char last_error[512];
	double updated;                    /* epoch seconds of the last change */
};

struct stack_monitor;

/* Start the monitor's threads (queues every 2 s; the stream as its own consumer from
 * LATEST, 1 s idle wait; deliveries by long poll; logs by FilterLogEvents every 2 s).
 * Returns 0 and *out (stop and free with stack_monitor_stop), or -1 with err filled. */
int stack_monitor_start(struct aws_client *c, const struct stack_monitor_opts *o,
			struct stack_monitor **out, struct aws_error *err);
/* Copy the current counters into out. */
void stack_monitor_snapshot(struct stack_monitor *m, struct stack_monitor_snapshot *out);
/* Copy up to max of the most recent events (oldest first; the monitor keeps the last 256)
 * into out. Returns how many were copied. */
size_t stack_monitor_recent(struct stack_monitor *m, struct monitor_event *out, size_t max);
/* Stop the threads (within one long poll, about 3 s at most) and free m. NULL: no-op. */
void stack_monitor_stop(struct stack_monitor *m);

#endif
