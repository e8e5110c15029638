/* fuzz_event.c: the notifier's stream-event parser (lambdas/notifier/event.c): records,
 * attribute values to plain JSON (compact and indented), the summary and the SNS input. */
#include <jansson.h>
#include <string.h>

#include "aws/client/buf.h"
#include "fuzz.h"
#include "lambdas/notifier/event.h"

/* A reason must be one printable line: the notifier logs it. */
static void check_why(int failed, const char *why)
{
	if (!failed)
		return;
	if (!why[0])
		abort();
	for (const char *c = why; *c; c++)
		if ((unsigned char)*c < 0x20)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *event = json_loadb((const char *)data, size, 0, &jerr);
	struct lrt_stream_record *recs = NULL;
	size_t n = 0;
	char why[160];

	if (!event)
		return 0;
	why[0] = '\0';
	if (lrt_stream_records(event, &recs, &n, why, sizeof(why)) != 0) {
		check_why(1, why);
	} else {
		for (size_t i = 0; i < n; i++) {
			json_t *images[2] = { recs[i].new_image, recs[i].keys };

			for (int k = 0; k < 2; k++) {
				struct aws_buf out;
				json_t *pub;

				if (!images[k])
					continue;
				for (int indent = 0; indent <= 2; indent += 2) {
					aws_buf_init(&out, 0);
					why[0] = '\0';
					check_why(lrt_ddb_image_json(images[k], indent, &out, why,
								     sizeof(why)) != 0, why);
					aws_buf_cleanup(&out);
				}
				aws_buf_init(&out, 0);
				lrt_order_summary(images[k], &out);
				aws_buf_cleanup(&out);
				why[0] = '\0';
				pub = lrt_publish_input("arn:aws:sns:us-east-1:000000000000:t", images[k],
							why, sizeof(why));
				check_why(!pub, why);
				json_decref(pub);
			}
		}
		free(recs);
	}
	json_decref(event);
	return 0;
}
