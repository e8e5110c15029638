/* fuzz_xml.c: the XML -> JSON converter (aws/client/xml.c) and the hint parser.
 * Input: the first line is the hints (struct aws_op.shapes syntax, "" = none), the rest is
 * the XML document. */
#include <jansson.h>
#include <string.h>

#include "aws/client/protocol.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t hlen = nl ? (size_t)(nl - data) : 0;
	char *hints = malloc(hlen + 1);
	const char *xml = nl ? (const char *)nl + 1 : (const char *)data;
	size_t xlen = nl ? size - hlen - 1 : size;
	char *xcopy = malloc(xlen + 1);
	struct aws_shape_hint h;
	json_t *j;

	if (!hints || !xcopy)
		goto done;
	memcpy(hints, data, hlen);
	hints[hlen] = '\0';
	/* the converter reads exactly xlen bytes: give it a buffer without slack so ASan
	 * sees any read past the end */
	memcpy(xcopy, xml, xlen);
	j = aws_xml_to_json(xcopy, xlen, hlen ? hints : NULL);
	if (j) {
		char *text = json_dumps(j, JSON_COMPACT);

		free(text);
		json_decref(j);
	}
	aws_shape_hint(hints, "Member", 6, &h);
	aws_shape_hint(hints, hints, hlen < 64 ? hlen : 64, &h);
done:
	free(hints);
	free(xcopy);
	return 0;
}
