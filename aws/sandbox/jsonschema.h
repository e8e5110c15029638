/* jsonschema.h: a pure JSON Schema draft-4 validator (the subset API Gateway models use). */
#ifndef CLEANOPS_SANDBOX_JSONSCHEMA_H
#define CLEANOPS_SANDBOX_JSONSCHEMA_H

#include <jansson.h>
#include <stddef.h>

/* Validate instance against schema (both borrowed). Supported keywords: type, enum,
 * required, properties, additionalProperties, patternProperties, minProperties,
 * maxProperties, items (schema or array), additionalItems, minItems, maxItems,
 * uniqueItems, minLength, maxLength (Unicode code points), pattern (POSIX ERE,
 * unanchored), minimum, maximum, exclusiveMinimum/Maximum (draft-4 booleans),
 * multipleOf, allOf, anyOf, oneOf, not; $schema, id, title, description, default,
 * definitions and unknown keywords are ignored. Returns 0 when valid, 1 when not (why in
 * err), -1 when the schema itself cannot be used ($ref, a bad pattern, a malformed
 * keyword; why in err). Pure: no I/O, no globals. */
int sbx_jsonschema_validate(json_t *schema, json_t *instance, char *err, size_t errlen);

#endif
