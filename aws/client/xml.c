/* xml.c: query-protocol XML replies to JSON as botocore shapes them, and the shape hints. */
#include "protocol.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

/* Deepest element nesting we convert; AWS replies stay well under 20. */
#define XML_MAX_DEPTH 64

/* ---- shape hints ------------------------------------------------------------------- */

/* Copy [s, s+n) into out (size outn), truncating. */
static void copy_span(char *out, size_t outn, const char *s, size_t n)
{
	if (n >= outn)
		n = outn - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

/* Fill h from the kind text [k, k+n): "list", "map(K,V)", ... */
static void parse_kind(const char *k, size_t n, struct aws_shape_hint *h)
{
	copy_span(h->key, sizeof(h->key), "key", 3);
	copy_span(h->value, sizeof(h->value), "value", 5);
	if (n == 4 && memcmp(k, "list", 4) == 0) {
		h->kind = AWS_SHAPE_LIST;
	} else if (n == 8 && memcmp(k, "flatlist", 8) == 0) {
		h->kind = AWS_SHAPE_FLATLIST;
	} else if (n == 4 && memcmp(k, "bool", 4) == 0) {
		h->kind = AWS_SHAPE_BOOL;
	} else if (n == 3 && memcmp(k, "int", 3) == 0) {
		h->kind = AWS_SHAPE_INT;
	} else if (n == 6 && memcmp(k, "struct", 6) == 0) {
		h->kind = AWS_SHAPE_STRUCT;
	} else if (n == 7 && memcmp(k, "jsondoc", 7) == 0) {
		h->kind = AWS_SHAPE_JSONDOC;
	} else if (n >= 3 && memcmp(k, "map", 3) == 0) {
		const char *open = memchr(k, '(', n);
		const char *comma = open ? memchr(open, ',', n - (size_t)(open - k)) : NULL;
		const char *close = comma ? memchr(comma, ')', n - (size_t)(comma - k)) : NULL;

		h->kind = AWS_SHAPE_MAP;
		if (close) {
			copy_span(h->key, sizeof(h->key), open + 1, (size_t)(comma - open - 1));
			copy_span(h->value, sizeof(h->value), comma + 1, (size_t)(close - comma - 1));
		}
	}
}

enum aws_shape_kind aws_shape_hint(const char *hints, const char *name, size_t len,
				   struct aws_shape_hint *out)
{
	const char *p = hints;

	memset(out, 0, sizeof(*out));
	out->kind = AWS_SHAPE_NONE;
	while (p && *p) {
		/* One item runs to the next ',' outside parentheses. */
		const char *end = p;
		const char *colon;
		int paren = 0;

		while (*end && (paren || *end != ',')) {
			if (*end == '(')
				paren++;
			else if (*end == ')' && paren)
				paren--;
			end++;
		}
		colon = memchr(p, ':', (size_t)(end - p));
		if (colon && (size_t)(colon - p) == len && memcmp(p, name, len) == 0) {
			parse_kind(colon + 1, (size_t)(end - colon - 1), out);
			return out->kind;
		}
		p = *end ? end + 1 : end;
	}
	return out->kind;
}

/* ---- XML to JSON ------------------------------------------------------------------- */

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
	xmlInitParser();
}

static int is_element(const xmlNode *n)
{
	return n->type == XML_ELEMENT_NODE;
}

static int name_is(const xmlNode *n, const char *name)
{
	return strcmp((const char *)n->name, name) == 0;
}

/* The first child element called name, or NULL. */
static xmlNode *child_named(xmlNode *n, const char *name)
{
	for (xmlNode *c = n->children; c; c = c->next)
		if (is_element(c) && name_is(c, name))
			return c;
	return NULL;
}

/* The text directly inside n (text and CDATA; entity references are never expanded).
 * Returns a new reference, NULL on ENOMEM or invalid UTF-8. */
static json_t *leaf_text(const xmlNode *n)
{
	struct aws_buf b;
	json_t *s;

	aws_buf_init(&b, 0);
	for (const xmlNode *c = n->children; c; c = c->next) {
		if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content &&
		    aws_buf_adds(&b, (const char *)c->content) < 0)
			return NULL;
	}
	s = json_stringn(aws_buf_str(&b), b.len);
	aws_buf_cleanup(&b);
	return s;
}

static json_t *convert(xmlNode *n, const struct aws_shape_hint *h, const char *hints, int depth);

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* botocore's decode_quoted_jsondoc: percent-decode the text of n ('+' stays) and read
 * it as JSON; text that is not JSON stays a string. Returns a new reference or NULL. */
static json_t *convert_jsondoc(const xmlNode *n)
{
	json_t *s = leaf_text(n);
	const char *t = s ? json_string_value(s) : NULL;
	struct aws_buf b;
	json_t *doc;

	if (!t)
		return NULL;
	aws_buf_init(&b, 0);
	for (size_t i = 0; t[i]; i++) {
		int hi = t[i] == '%' ? hexval(t[i + 1]) : -1;
		int lo = hi >= 0 ? hexval(t[i + 2]) : -1;
		int rc;

		if (lo >= 0) {
			rc = aws_buf_addc(&b, (char)(hi * 16 + lo));
			i += 2;
		} else {
			rc = aws_buf_addc(&b, t[i]);
		}
		if (rc < 0) {
			json_decref(s);
			return NULL;
		}
	}
	doc = b.len ? json_loadb(b.data, b.len, JSON_DECODE_ANY, NULL) : NULL;
	aws_buf_cleanup(&b);
	if (!doc)
		return s;
	json_decref(s);
	return doc;
}

/* Children of n as an array: every child element is one item. */
static json_t *convert_list(xmlNode *n, const char *hints, int depth)
{
	struct aws_shape_hint none = { .kind = AWS_SHAPE_NONE };
	json_t *arr = json_array();

	if (!arr)
		return NULL;
	for (xmlNode *c = n->children; c; c = c->next) {
		if (!is_element(c))
			continue;
		if (json_array_append_new(arr, convert(c, &none, hints, depth + 1)) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

/* <entry><K/><V/></entry> children of n as an object. */
static json_t *convert_map(xmlNode *n, const char *kname, const char *vname, const char *hints,
			   int depth)
{
	struct aws_shape_hint none = { .kind = AWS_SHAPE_NONE };
	json_t *obj = json_object();

	if (!obj)
		return NULL;
	for (xmlNode *c = n->children; c; c = c->next) {
		xmlNode *k, *v;
		json_t *key, *val;
		int rc;

		if (!is_element(c))
			continue;
		k = child_named(c, kname);
		v = child_named(c, vname);
		if (!k)
			continue;
		key = leaf_text(k);
		val = v ? convert(v, &none, hints, depth + 1) : json_string("");
		if (!key || !val) {
			json_decref(key);
			json_decref(val);
			json_decref(obj);
			return NULL;
		}
		rc = json_object_set_new(obj, json_string_value(key), val);
		json_decref(key);
		if (rc < 0) {
			json_decref(obj);
			return NULL;
		}
	}
	return obj;
}

/* Nonzero when n has element children and every one is called name. */
static int all_children_named(const xmlNode *n, const char *name)
{
	int any = 0;

	for (const xmlNode *c = n->children; c; c = c->next) {
		if (!is_element(c))
			continue;
		if (!name_is(c, name))
			return 0;
		any = 1;
	}
	return any;
}

/* Nonzero when every child element is an <entry> holding <key> and <value>. */
static int looks_like_map(xmlNode *n)
{
	if (!all_children_named(n, "entry"))
		return 0;
	for (xmlNode *c = n->children; c; c = c->next)
		if (is_element(c) && (!child_named(c, "key") || !child_named(c, "value")))
			return 0;
	return 1;
}

static int has_element_children(const xmlNode *n)
{
	for (const xmlNode *c = n->children; c; c = c->next)
		if (is_element(c))
			return 1;
	return 0;
}

/* A structure: child elements by name; repeated names (or flatlist hints) become arrays. */
static json_t *convert_struct(xmlNode *n, const char *hints, int depth)
{
	json_t *obj = json_object();
	json_t *counts = json_object();

	if (!obj || !counts)
		goto fail;
	for (xmlNode *c = n->children; c; c = c->next) {
		const char *name = (const char *)c->name;

		if (is_element(c) &&
		    json_object_set_new(counts, name,
					json_integer(json_integer_value(json_object_get(counts, name)) + 1)) < 0)
			goto fail;
	}
	for (xmlNode *c = n->children; c; c = c->next) {
		const char *name = (const char *)c->name;
		struct aws_shape_hint h;
		json_t *val;

		if (!is_element(c))
			continue;
		aws_shape_hint(hints, name, strlen(name), &h);
		val = convert(c, &h, hints, depth + 1);
		if (!val)
			goto fail;
		if (h.kind == AWS_SHAPE_FLATLIST || json_integer_value(json_object_get(counts, name)) > 1) {
			json_t *arr = json_object_get(obj, name);

			if (!arr) {
				arr = json_array();
				if (json_object_set_new(obj, name, arr) < 0) {
					json_decref(val);
					goto fail;
				}
			}
			if (json_array_append_new(arr, val) < 0)
				goto fail;
		} else if (json_object_set_new(obj, name, val) < 0) {
			goto fail;
		}
	}
	json_decref(counts);
	return obj;
fail:
	json_decref(counts);
	json_decref(obj);
	return NULL;
}

/* Convert element n under hint h. Returns a new reference or NULL. */
static json_t *convert(xmlNode *n, const struct aws_shape_hint *h, const char *hints, int depth)
{
	if (depth > XML_MAX_DEPTH)
		return NULL;
	switch (h->kind) {
	case AWS_SHAPE_LIST:
		return convert_list(n, hints, depth);
	case AWS_SHAPE_MAP:
		return convert_map(n, h->key, h->value, hints, depth);
	case AWS_SHAPE_BOOL: {
		json_t *s = leaf_text(n);
		json_t *b = s ? json_boolean(strcmp(json_string_value(s), "true") == 0) : NULL;

		json_decref(s);
		return b;
	}
	case AWS_SHAPE_INT: {
		json_t *s = leaf_text(n);
		const char *t = s ? json_string_value(s) : NULL;
		char *end = NULL;
		long long v;

		if (!t)
			return NULL;
		errno = 0;
		v = strtoll(t, &end, 10);
		if (errno == 0 && end != t && *end == '\0') {
			json_decref(s);
			return json_integer(v);
		}
		return s; /* not a number: keep the text */
	}
	case AWS_SHAPE_STRUCT:
		return convert_struct(n, hints, depth);
	case AWS_SHAPE_JSONDOC:
		return convert_jsondoc(n);
	case AWS_SHAPE_FLATLIST: /* one item of a flattened list */
	case AWS_SHAPE_NONE:
		break;
	}
	if (!has_element_children(n))
		return leaf_text(n);
	if (all_children_named(n, "member"))
		return convert_list(n, hints, depth);
	if (looks_like_map(n))
		return convert_map(n, "key", "value", hints, depth);
	return convert_struct(n, hints, depth);
}

json_t *aws_xml_to_json(const char *xml, size_t len, const char *hints)
{
	xmlDoc *doc = NULL;
	xmlNode *root;
	json_t *out = NULL;
	struct aws_shape_hint h;

	if (!xml || len == 0 || len > INT_MAX)
		return NULL;
	pthread_once(&xml_once, xml_init);
	/* Hostile input: no network, no entity substitution, no DTD loading, no output. */
	doc = xmlReadMemory(xml, (int)len, "reply.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		goto done;
	/* AWS never sends a DTD; one is only ever there to define entities. */
	if (doc->intSubset || doc->extSubset)
		goto done;
	root = xmlDocGetRootElement(doc);
	if (!root)
		goto done;
	aws_shape_hint(hints, (const char *)root->name, strlen((const char *)root->name), &h);
	out = convert(root, &h, hints, 0);
done:
	if (doc)
		xmlFreeDoc(doc);
	return out;
}
