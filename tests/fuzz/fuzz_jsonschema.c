/* fuzz_jsonschema.c: the JSON Schema draft-4 validator (aws/sandbox/jsonschema.c).
 * Input parts (cut at "%%" lines): the schema JSON, the instance JSON. */
#include <jansson.h>
#include <string.h>

#include "aws/sandbox/jsonschema.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_parts p;
	json_error_t jerr;
	json_t *schema, *instance;
	char err[256];
	int rc;

	if (fuzz_split(data, size, &p) != 0)
		return 0;
	schema = json_loadb(p.part[0], p.len[0], JSON_DECODE_ANY, &jerr);
	instance = json_loadb(p.part[1], p.len[1], JSON_DECODE_ANY, &jerr);
	if (schema && instance) {
		err[0] = '\0';
		rc = sbx_jsonschema_validate(schema, instance, err, sizeof(err));
		if (rc < -1 || rc > 1 || (rc != 0 && !err[0]))
			abort(); /* the documented results, and a reason for every failure */
		/* a schema validates itself as an instance too (a document is a document) */
		sbx_jsonschema_validate(schema, schema, err, sizeof(err));
	}
	json_decref(schema);
	json_decref(instance);
	fuzz_parts_free(&p);
	return 0;
}
