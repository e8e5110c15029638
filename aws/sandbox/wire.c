/* wire.c: the query protocol on the sandbox side: form bodies to JSON, JSON results to XML. */
#include <ctype.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

/* Dotted segments a form key may have (the tree's depth). */
#define WIRE_MAX_SEGMENTS 32

/* How a member is typed by a hint. */
enum hint_kind { H_NONE, H_LIST, H_FLATLIST, H_MAP, H_FLATMAP, H_BOOL, H_INT };

struct hint {
	enum hint_kind kind;
	char key[32];   /* map key element name */
	char value[32]; /* map value element name */
	char elem[64];  /* SQS: the wire element name when it differs from the member */
};

/* SQS's query protocol flattens lists and maps under singular names. A row applies to
 * requests (form to JSON), to replies (JSON to XML) or to both: the reply-only rows must
 * never rename a request member (a request's QueueUrl is a plain member, not ListQueues'
 * flattened QueueUrls). */
enum { DIR_IN = 1, DIR_OUT = 2, DIR_BOTH = 3 };

struct sqs_name {
	const char *member;
	const char *wire;  /* "" for the batch entries, named after the operation */
	enum hint_kind kind;
	const char *key, *value;
	unsigned dir;
};

static const struct sqs_name sqs_names[] = {
	{ "Attributes", "Attribute", H_FLATMAP, "Name", "Value", DIR_BOTH },
	{ "MessageAttributes", "MessageAttribute", H_FLATMAP, "Name", "Value", DIR_BOTH },
	{ "MessageSystemAttributes", "MessageSystemAttribute", H_FLATMAP, "Name", "Value", DIR_BOTH },
	{ "Tags", "Tag", H_FLATMAP, "Key", "Value", DIR_BOTH },
	{ "AttributeNames", "AttributeName", H_FLATLIST, NULL, NULL, DIR_IN },
	{ "MessageAttributeNames", "MessageAttributeName", H_FLATLIST, NULL, NULL, DIR_IN },
	{ "MessageSystemAttributeNames", "MessageSystemAttributeName", H_FLATLIST, NULL, NULL,
	  DIR_IN },
	{ "TagKeys", "TagKey", H_FLATLIST, NULL, NULL, DIR_IN },
	{ "Entries", "", H_FLATLIST, NULL, NULL, DIR_IN },
	{ "QueueUrls", "QueueUrl", H_FLATLIST, NULL, NULL, DIR_OUT },
	{ "queueUrls", "QueueUrl", H_FLATLIST, NULL, NULL, DIR_OUT },
	{ "Messages", "Message", H_FLATLIST, NULL, NULL, DIR_OUT },
	{ "Failed", "BatchResultErrorEntry", H_FLATLIST, NULL, NULL, DIR_OUT },
	{ "Successful", "", H_FLATLIST, NULL, NULL, DIR_OUT },
	{ "DelaySeconds", NULL, H_INT, NULL, NULL, DIR_IN },
	{ "MaxNumberOfMessages", NULL, H_INT, NULL, NULL, DIR_IN },
	{ "VisibilityTimeout", NULL, H_INT, NULL, NULL, DIR_IN },
	{ "WaitTimeSeconds", NULL, H_INT, NULL, NULL, DIR_IN },
	{ "MaxResults", NULL, H_INT, NULL, NULL, DIR_IN },
};

/* Find member name in a hint list ("A:list,B:map(K,V),C:bool"). */
static void hint_lookup(const char *hints, const char *name, struct hint *h)
{
	size_t nlen = strlen(name);
	const char *p = hints;

	memset(h, 0, sizeof(*h));
	while (p && *p) {
		const char *colon = strchr(p, ':');
		const char *end;
		int depth = 0;

		if (!colon)
			return;
		for (end = colon; *end && (*end != ',' || depth); end++) {
			if (*end == '(')
				depth++;
			else if (*end == ')')
				depth--;
		}
		if ((size_t)(colon - p) == nlen && strncmp(p, name, nlen) == 0) {
			const char *kind = colon + 1;
			size_t klen = (size_t)(end - kind);

			if (klen >= 8 && strncmp(kind, "flatlist", 8) == 0)
				h->kind = H_FLATLIST;
			else if (klen >= 4 && strncmp(kind, "list", 4) == 0)
				h->kind = H_LIST;
			else if (klen >= 4 && strncmp(kind, "bool", 4) == 0)
				h->kind = H_BOOL;
			else if (klen >= 3 && strncmp(kind, "int", 3) == 0)
				h->kind = H_INT;
			else if (klen >= 3 && strncmp(kind, "map", 3) == 0) {
				const char *open = kind + 3, *comma, *close;

				h->kind = H_MAP;
				if (*open == '(' && (comma = memchr(open, ',', (size_t)(end - open))) &&
				    (close = memchr(comma, ')', (size_t)(end - comma)))) {
					snprintf(h->key, sizeof(h->key), "%.*s",
						 (int)(comma - open - 1), open + 1);
					snprintf(h->value, sizeof(h->value), "%.*s",
						 (int)(close - comma - 1), comma + 1);
				}
			}
			return;
		}
		p = *end ? end + 1 : end;
	}
}

/* The hint of a member in direction dir (DIR_IN or DIR_OUT): SQS's legacy names first,
 * then the operation's hints. */
static void member_hint(const char *service, const char *hints, const char *name,
			const char *op, unsigned dir, struct hint *h)
{
	if (service && strcmp(service, "sqs") == 0) {
		for (size_t i = 0; i < sizeof(sqs_names) / sizeof(sqs_names[0]); i++) {
			const struct sqs_name *n = &sqs_names[i];

			if (!(n->dir & dir) || strcmp(n->member, name) != 0)
				continue;
			memset(h, 0, sizeof(*h));
			h->kind = n->kind;
			if (n->key) {
				snprintf(h->key, sizeof(h->key), "%s", n->key);
				snprintf(h->value, sizeof(h->value), "%s", n->value);
			}
			if (n->wire && *n->wire)
				snprintf(h->elem, sizeof(h->elem), "%s", n->wire);
			else if (n->wire && strcmp(name, "Entries") == 0)
				snprintf(h->elem, sizeof(h->elem), "%sRequestEntry", op ? op : "");
			else if (n->wire)
				snprintf(h->elem, sizeof(h->elem), "%sResultEntry", op ? op : "");
			return;
		}
	}
	hint_lookup(hints, name, h);
}

/* SQS: the request member name for a flattened wire name ("Attribute" -> "Attributes"). */
static const char *sqs_member_for(const char *wire)
{
	size_t n = strlen(wire);

	for (size_t i = 0; i < sizeof(sqs_names) / sizeof(sqs_names[0]); i++) {
		const struct sqs_name *r = &sqs_names[i];

		if ((r->dir & DIR_IN) && r->wire && *r->wire && strcmp(r->wire, wire) == 0)
			return r->member;
	}
	if (n > 12 && strcmp(wire + n - 12, "RequestEntry") == 0)
		return "Entries";
	return NULL;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decode s[0..len) ('+' is a space) into a new string; NULL on a bad escape. */
static char *form_decode(const char *s, size_t len)
{
	char *out = malloc(len + 1);
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= len)
				goto bad;
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				goto bad;
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

static int is_index(const char *k)
{
	if (!*k)
		return 0;
	for (; *k; k++)
		if (!isdigit((unsigned char)*k))
			return 0;
	return 1;
}

/* Insert one decoded pair into the tree of segments. A key of more than WIRE_MAX_SEGMENTS
 * dotted segments is refused: AWS's deepest names have about six, and the tree is walked
 * (and freed) recursively. */
static int tree_put(json_t *root, char *key, const char *value)
{
	json_t *node = root;
	char *seg = key;
	int nseg = 1;

	for (const char *p = key; *p; p++)
		if (*p == '.' && ++nseg > WIRE_MAX_SEGMENTS)
			return -1;

	for (;;) {
		char *dot = strchr(seg, '.');
		json_t *child;

		if (!dot)
			break;
		*dot = '\0';
		child = json_object_get(node, seg);
		if (!json_is_object(child)) {
			child = json_object();
			if (!child || json_object_set_new(node, seg, child) != 0)
				return -1;
		}
		node = child;
		seg = dot + 1;
	}
	/* "Name=" (an empty list) never replaces members already seen */
	if (json_is_object(json_object_get(node, seg)))
		return 0;
	return json_object_set_new(node, seg, json_string(value));
}

static int cmp_index(const void *a, const void *b)
{
	long x = strtol(*(const char *const *)a, NULL, 10);
	long y = strtol(*(const char *const *)b, NULL, 10);

	return (x > y) - (x < y);
}

/* The numeric keys of obj in index order (caller frees the array, not the strings). */
static const char **sorted_indexes(json_t *obj, size_t *n)
{
	const char **keys = malloc((json_object_size(obj) + 1) * sizeof(*keys));
	const char *k;
	json_t *v;
	size_t i = 0;

	if (!keys)
		return NULL;
	json_object_foreach(obj, k, v)
		if (is_index(k))
			keys[i++] = k;
	qsort(keys, i, sizeof(*keys), cmp_index);
	*n = i;
	return keys;
}

static int all_indexes(json_t *obj)
{
	const char *k;
	json_t *v;

	if (json_object_size(obj) == 0)
		return 0;
	json_object_foreach(obj, k, v)
		if (!is_index(k))
			return 0;
	return 1;
}

struct conv {
	const char *service;
	const char *hints;
};

static json_t *normalize(const struct conv *c, json_t *node, const struct hint *h);

/* A list from an object of numeric keys. */
static json_t *to_list(const struct conv *c, json_t *obj)
{
	json_t *arr = json_array();
	size_t n = 0;
	const char **keys = sorted_indexes(obj, &n);
	struct hint none;

	memset(&none, 0, sizeof(none));
	if (!arr || !keys)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		json_t *v = normalize(c, json_object_get(obj, keys[i]), &none);

		if (!v || json_array_append_new(arr, v) != 0)
			goto fail;
	}
	free(keys);
	return arr;
fail:
	free(keys);
	json_decref(arr);
	return NULL;
}

/* A map from an object of numeric keys whose entries carry key and value elements. */
static json_t *to_map(const struct conv *c, json_t *obj, const struct hint *h)
{
	json_t *map = json_object();
	size_t n = 0;
	const char **keys = sorted_indexes(obj, &n);
	struct hint none;

	memset(&none, 0, sizeof(none));
	if (!map || !keys)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_object_get(obj, keys[i]);
		const char *kn = h->key[0] ? h->key : "key", *vn = h->value[0] ? h->value : "value";
		json_t *k, *v;

		if (!json_is_object(e))
			continue;
		if (!json_object_get(e, kn)) {
			static const char *const alt[][2] = { { "key", "value" }, { "Name", "Value" },
							      { "Key", "Value" } };

			for (size_t a = 0; a < 3; a++)
				if (json_object_get(e, alt[a][0])) {
					kn = alt[a][0];
					vn = alt[a][1];
					break;
				}
		}
		k = json_object_get(e, kn);
		if (!json_is_string(k))
			continue;
		v = json_object_get(e, vn);
		v = v ? normalize(c, v, &none) : json_string("");
		if (!v || json_object_set_new(map, json_string_value(k), v) != 0)
			goto fail;
	}
	free(keys);
	return map;
fail:
	free(keys);
	json_decref(map);
	return NULL;
}

/* Turn one node of the segment tree into the member's JSON value. Returns a new reference. */
static json_t *normalize(const struct conv *c, json_t *node, const struct hint *h)
{
	if (json_is_string(node)) {
		const char *v = json_string_value(node);

		switch (h->kind) {
		case H_LIST:
		case H_FLATLIST:
			if (!*v)
				return json_array();
			break;
		case H_MAP:
		case H_FLATMAP:
			if (!*v)
				return json_object();
			break;
		case H_BOOL:
			if (strcasecmp(v, "true") == 0)
				return json_true();
			if (strcasecmp(v, "false") == 0)
				return json_false();
			break;
		case H_INT: {
			char *end;
			long long n = strtoll(v, &end, 10);

			if (*v && *end == '\0')
				return json_integer(n);
			break;
		}
		default:
			break;
		}
		return json_incref(node);
	}
	if (!json_is_object(node))
		return json_incref(node);
	if (json_object_get(node, "member") && (json_object_size(node) == 1 || h->kind == H_LIST)) {
		json_t *m = json_object_get(node, "member");

		if (json_is_object(m)) {
			if (h->kind == H_MAP || h->kind == H_FLATMAP)
				return to_map(c, m, h);
			return to_list(c, m);
		}
	}
	if (json_object_get(node, "entry") && (json_object_size(node) == 1 || h->kind == H_MAP)) {
		json_t *m = json_object_get(node, "entry");

		if (json_is_object(m))
			return to_map(c, m, h);
	}
	if (all_indexes(node)) {
		if (h->kind == H_MAP || h->kind == H_FLATMAP)
			return to_map(c, node, h);
		return to_list(c, node);
	}
	{
		json_t *obj = json_object();
		const char *k;
		json_t *v;

		if (!obj)
			return NULL;
		json_object_foreach(node, k, v) {
			const char *name = k;
			struct hint sub;
			json_t *nv;

			/* only flattened request collections are renamed ("Attribute.1.Name" ->
			 * Attributes); a plain member ("QueueUrl=u") keeps its name */
			if (c->service && strcmp(c->service, "sqs") == 0 && json_is_object(v) &&
			    sqs_member_for(k))
				name = sqs_member_for(k);
			member_hint(c->service, c->hints, name, NULL, DIR_IN, &sub);
			nv = normalize(c, v, &sub);
			if (!nv || json_object_set_new(obj, name, nv) != 0) {
				json_decref(obj);
				return NULL;
			}
		}
		return obj;
	}
}

/* Walk the pairs of a form body; fn gets decoded key and value. Returns 0 or -1. */
static int form_walk(const char *body, size_t len,
		     int (*fn)(char *key, char *value, void *ctx), void *ctx)
{
	size_t i = 0;

	while (i < len) {
		size_t start = i, eq = (size_t)-1;
		char *k, *v;
		int rc;

		while (i < len && body[i] != '&') {
			if (body[i] == '=' && eq == (size_t)-1)
				eq = i;
			i++;
		}
		if (i > start) {
			size_t kend = eq == (size_t)-1 ? i : eq;

			k = form_decode(body + start, kend - start);
			v = eq == (size_t)-1 ? strdup("") : form_decode(body + eq + 1, i - eq - 1);
			rc = k && v ? fn(k, v, ctx) : -1;
			free(k);
			free(v);
			if (rc != 0)
				return -1;
		}
		i++;
	}
	return 0;
}

struct walk_ctx {
	json_t *tree;
	char *action;
	size_t action_len;
	char *version;
	size_t version_len;
};

static int put_pair(char *key, char *value, void *ctx)
{
	struct walk_ctx *w = ctx;

	if (strcmp(key, "Action") == 0) {
		snprintf(w->action, w->action_len, "%s", value);
		return 0;
	}
	if (strcmp(key, "Version") == 0) {
		snprintf(w->version, w->version_len, "%s", value);
		return 0;
	}
	if (!w->tree)
		return 0;
	return tree_put(w->tree, key, value);
}

void sbx_wire_form_action(const char *body, size_t len, char *action, size_t action_len,
			  char *version, size_t version_len)
{
	struct walk_ctx w = { NULL, action, action_len, version, version_len };

	action[0] = '\0';
	version[0] = '\0';
	if (form_walk(body, len, put_pair, &w) != 0) {
		action[0] = '\0';
		version[0] = '\0';
	}
}

json_t *sbx_wire_form_to_json(const char *body, size_t len, const char *service,
			      const char *hints, char *action, size_t action_len,
			      char *version, size_t version_len)
{
	struct walk_ctx w = { json_object(), action, action_len, version, version_len };
	struct conv c = { service, hints };
	struct hint none;
	json_t *out = NULL;

	action[0] = '\0';
	version[0] = '\0';
	memset(&none, 0, sizeof(none));
	if (!w.tree || form_walk(body, len, put_pair, &w) != 0)
		goto done;
	out = normalize(&c, w.tree, &none);
done:
	json_decref(w.tree);
	return out;
}

/* The length of the valid UTF-8 sequence at s (1 to 4), or 0 when s starts no valid sequence
 * (a stray continuation byte, an overlong form, a surrogate, past U+10FFFF, cut short). */
static size_t utf8_seq(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		return (s[1] & 0xC0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
		    (s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0))
			return 0;
		return 3;
	}
	if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80 ||
		    (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

void sbx_wire_utf8_clean(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		size_t n = utf8_seq(p);

		if (n == 0) {
			*p++ = '?';
			continue;
		}
		p += n;
	}
}

int sbx_wire_xml_escape(struct aws_buf *out, const char *s)
{
	const char *run = s;

	for (; *s; s++) {
		const char *rep = NULL;
		unsigned char ch = (unsigned char)*s;
		size_t n = utf8_seq((const unsigned char *)s);

		/* XML text must be valid UTF-8 without U+FFFE and U+FFFF: a caller's bytes echoed
		 * back (an unknown Action, say) may be neither */
		if (n == 0 || (n == 3 && ch == 0xEF && (unsigned char)s[1] == 0xBF &&
			       (unsigned char)s[2] >= 0xBE)) {
			rep = "?";
			n = 1;
		} else if (n > 1) {
			s += n - 1;
			continue;
		}
		switch (ch) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&apos;"; break;
		case '\r': rep = "&#xD;"; break;
		default:
			if (ch < 0x20 && ch != '\n' && ch != '\t')
				rep = "?"; /* not representable in XML 1.0 */
		}
		if (!rep)
			continue;
		if (aws_buf_add(out, run, (size_t)(s - run)) != 0 || aws_buf_adds(out, rep) != 0)
			return -1;
		run = s + n;
	}
	return aws_buf_add(out, run, (size_t)(s - run));
}

static int emit(struct aws_buf *out, const struct conv *c, const char *op, const char *name,
		json_t *v);

/* A scalar's text into out. */
static int emit_text(struct aws_buf *out, json_t *v)
{
	char num[64];

	if (json_is_string(v))
		return sbx_wire_xml_escape(out, json_string_value(v));
	if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		return aws_buf_adds(out, num);
	}
	if (json_is_real(v)) {
		snprintf(num, sizeof(num), "%.15g", json_real_value(v));
		return aws_buf_adds(out, num);
	}
	if (json_is_boolean(v))
		return aws_buf_adds(out, json_is_true(v) ? "true" : "false");
	return 0;
}

/* The members of a struct, each as an element. */
static int emit_members(struct aws_buf *out, const struct conv *c, const char *op, json_t *obj)
{
	const char *k;
	json_t *v;

	json_object_foreach(obj, k, v)
		if (emit(out, c, op, k, v) != 0)
			return -1;
	return 0;
}

/* One element <name>value</name> (or its flattened repetition), with hints for name. */
static int emit(struct aws_buf *out, const struct conv *c, const char *op, const char *name,
		json_t *v)
{
	struct hint h;
	const char *elem;

	if (json_is_null(v))
		return 0;
	member_hint(c->service, c->hints, name, op, DIR_OUT, &h);
	elem = h.elem[0] ? h.elem : name;
	if (json_is_array(v)) {
		size_t i;
		json_t *item;

		if (h.kind == H_FLATLIST) {
			json_array_foreach(v, i, item)
				if (emit(out, c, op, elem, item) != 0)
					return -1;
			return 0;
		}
		if (aws_buf_printf(out, "<%s>", elem) != 0)
			return -1;
		json_array_foreach(v, i, item) {
			if (aws_buf_adds(out, "<member>") != 0)
				return -1;
			if (json_is_object(item) ? emit_members(out, c, op, item) : emit_text(out, item))
				return -1;
			if (aws_buf_adds(out, "</member>") != 0)
				return -1;
		}
		return aws_buf_printf(out, "</%s>", elem);
	}
	if (json_is_object(v) && (h.kind == H_MAP || h.kind == H_FLATMAP)) {
		const char *kn = h.key[0] ? h.key : "key", *vn = h.value[0] ? h.value : "value";
		const char *k;
		json_t *mv;

		if (h.kind == H_MAP && aws_buf_printf(out, "<%s>", elem) != 0)
			return -1;
		json_object_foreach(v, k, mv) {
			if (aws_buf_printf(out, "<%s><%s>", h.kind == H_MAP ? "entry" : elem, kn) ||
			    sbx_wire_xml_escape(out, k) ||
			    aws_buf_printf(out, "</%s><%s>", kn, vn) ||
			    (json_is_object(mv) ? emit_members(out, c, op, mv) : emit_text(out, mv)) ||
			    aws_buf_printf(out, "</%s></%s>", vn, h.kind == H_MAP ? "entry" : elem))
				return -1;
		}
		return h.kind == H_MAP ? aws_buf_printf(out, "</%s>", elem) : 0;
	}
	if (aws_buf_printf(out, "<%s>", elem) != 0)
		return -1;
	if (json_is_object(v) ? emit_members(out, c, op, v) : emit_text(out, v))
		return -1;
	return aws_buf_printf(out, "</%s>", elem);
}

int sbx_wire_result_xml(struct aws_buf *out, const char *service, const char *op,
			const char *xmlns, json_t *result, const char *hints,
			const char *request_id)
{
	struct conv c = { service, hints };

	if (aws_buf_printf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<%sResponse", op) ||
	    (xmlns && *xmlns && (aws_buf_adds(out, " xmlns=\"") ||
				 sbx_wire_xml_escape(out, xmlns) || aws_buf_adds(out, "\""))) ||
	    aws_buf_adds(out, ">"))
		return -1;
	/* the wrapper is always there, empty or not: botocore reads <OpResult> of every
	 * operation with an output shape (KeyError 'TagResourceResult' without it) */
	if (json_is_object(result) && json_object_size(result) > 0) {
		if (aws_buf_printf(out, "<%sResult>", op) || emit_members(out, &c, op, result) ||
		    aws_buf_printf(out, "</%sResult>", op))
			return -1;
	} else if (aws_buf_printf(out, "<%sResult/>", op)) {
		return -1;
	}
	if (aws_buf_adds(out, "<ResponseMetadata><RequestId>") ||
	    sbx_wire_xml_escape(out, request_id ? request_id : "") ||
	    aws_buf_printf(out, "</RequestId></ResponseMetadata></%sResponse>\n", op))
		return -1;
	return 0;
}

int sbx_wire_error_xml(struct aws_buf *out, const char *xmlns, const char *type,
		       const char *code, const char *message, const char *request_id)
{
	if (aws_buf_adds(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse") ||
	    (xmlns && *xmlns && (aws_buf_adds(out, " xmlns=\"") ||
				 sbx_wire_xml_escape(out, xmlns) || aws_buf_adds(out, "\""))) ||
	    aws_buf_adds(out, "><Error><Type>") || sbx_wire_xml_escape(out, type) ||
	    aws_buf_adds(out, "</Type><Code>") || sbx_wire_xml_escape(out, code) ||
	    aws_buf_adds(out, "</Code><Message>") || sbx_wire_xml_escape(out, message) ||
	    aws_buf_adds(out, "</Message></Error><RequestId>") ||
	    sbx_wire_xml_escape(out, request_id ? request_id : "") ||
	    aws_buf_adds(out, "</RequestId></ErrorResponse>\n"))
		return -1;
	return 0;
}
