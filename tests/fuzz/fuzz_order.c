/* fuzz_order.c: the order-writer's parsers (lambdas/order-writer/order.c): the input as an
 * order body, then as an SQS event whose records' bodies are parsed as orders. */
#include <jansson.h>
#include <string.h>

#include "fuzz.h"
#include "lambdas/order-writer/order.h"

static void one_order(const char *body, size_t len, const char *message_id, long long sent_ms)
{
	struct lrt_order o;
	char why[160] = "";

	if (lrt_order_parse(body, len, &o, why, sizeof(why)) == 0) {
		json_t *item = lrt_order_item(&o, body, len, message_id ? message_id : "m-1",
					      sent_ms);

		if (!item)
			abort(); /* a valid order always has an item */
		json_decref(item);
		lrt_order_cleanup(&o);
	} else {
		if (!why[0])
			abort(); /* a refusal says why */
		for (const char *c = why; *c; c++)
			if ((unsigned char)*c < 0x20)
				abort(); /* in one line: the reason goes to the function's log */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = malloc(size ? size : 1);
	json_t *event;
	json_error_t jerr;
	struct lrt_sqs_record *recs = NULL;
	size_t n = 0;
	char why[160], ts[32];

	if (!body)
		return 0;
	/* the body need not be NUL-terminated: an exact-size copy lets ASan catch overreads */
	memcpy(body, data, size);
	one_order(body, size, NULL, 0);
	free(body);

	event = json_loadb((const char *)data, size, 0, &jerr);
	if (event && lrt_sqs_records(event, &recs, &n, why, sizeof(why)) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (recs[i].body)
				one_order(recs[i].body, recs[i].body_len, recs[i].message_id,
					  recs[i].sent_ms);
			lrt_rfc3339_ms(recs[i].sent_ms, ts, sizeof(ts));
		}
		free(recs);
	}
	json_decref(event);
	return 0;
}
