/* pfilter.c: payload filters compiled into a tree of nodes (and/or/not/path) whose paths hold conditions.
 * The semantics are in pfilter.h; the cost of an evaluation is a few hash lookups per path, no allocation. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "pfilter.h"

#include <pcre2.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

enum op { OP_EQ, OP_NE, OP_GT, OP_GTE, OP_LT, OP_LTE, OP_IN, OP_NIN, OP_EXISTS, OP_REGEX, OP_NOT };

struct cond {
	enum op op;
	json_t *val;              /* the operand ($in/$nin: an array); NULL for $exists, $regex, $not */
	bool exists;              /* $exists */
	pcre2_code *re;           /* $regex */
	pcre2_match_context *mctx;
	struct cond *sub;         /* $not: the operator expression it negates */
	size_t nsub;
};

struct seg {
	char *key;
	long idx; /* the segment as an array index, -1 if it is not one */
};

enum kind { K_AND, K_OR, K_NOT, K_PATH };

struct node {
	enum kind kind;
	struct node *kids; /* K_AND, K_OR; K_NOT has one (a K_AND) */
	size_t nkids;
	struct seg *segs;  /* K_PATH */
	size_t nsegs;
	struct cond *conds;
	size_t nconds;
};

struct pfilter {
	struct node root; /* K_AND of the top-level keys */
};

/* ---- compiling ---- */

struct cc {
	const char *root;
	char *err;
	int clauses;
};

#define LOC_MAX 2048

static int fail(struct cc *cc, const char *loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct cc *cc, const char *loc, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(cc->err, PFILTER_ERR_MAX, "%s%s%s: %s", cc->root, loc[0] ? "." : "", loc, msg);
	return -1;
}

/* loc + "." + name into out (truncated: a location only names the problem). */
static void loc_join(char out[LOC_MAX], const char *loc, const char *name)
{
	if (snprintf(out, LOC_MAX, "%s%s%s", loc, loc[0] ? "." : "", name) >= LOC_MAX)
		memcpy(out + LOC_MAX - 4, "...", 4);
}

static int count(struct cc *cc, const char *loc, int n)
{
	cc->clauses += n;
	if (cc->clauses > PFILTER_CLAUSES_MAX)
		return fail(cc, loc, "too many clauses (at most %d)", PFILTER_CLAUSES_MAX);
	return 0;
}

static void cond_dispose(struct cond *c)
{
	json_decref(c->val);
	pcre2_code_free(c->re);
	pcre2_match_context_free(c->mctx);
	for (size_t i = 0; i < c->nsub; i++)
		cond_dispose(&c->sub[i]);
	free(c->sub);
}

static void node_dispose(struct node *n)
{
	for (size_t i = 0; i < n->nkids; i++)
		node_dispose(&n->kids[i]);
	free(n->kids);
	for (size_t i = 0; i < n->nsegs; i++)
		free(n->segs[i].key);
	free(n->segs);
	for (size_t i = 0; i < n->nconds; i++)
		cond_dispose(&n->conds[i]);
	free(n->conds);
}

static bool is_op_expr(const json_t *v)
{
	const char *k;
	json_t *x;
	json_object_foreach((json_t *)v, k, x) {
		if (k[0] == '$')
			return true; /* then every key must be an operator (compile_ops) */
	}
	return false; /* not an object, or an object of fields ({} too): $eq */
}

static int compile_regex(struct cc *cc, const char *loc, const json_t *pat, const json_t *opts, struct cond *c)
{
	if (!json_is_string(pat))
		return fail(cc, loc, "must be a string");
	size_t len = json_string_length(pat);
	if (len > PFILTER_REGEX_MAX)
		return fail(cc, loc, "the pattern is longer than %d bytes", PFILTER_REGEX_MAX);
	uint32_t flags = PCRE2_UTF | PCRE2_NEVER_BACKSLASH_C;
	for (const char *o = opts ? json_string_value(opts) : ""; *o; o++)
		flags |= *o == 'i' ? PCRE2_CASELESS : *o == 'm' ? PCRE2_MULTILINE : *o == 's' ? PCRE2_DOTALL : PCRE2_EXTENDED;
	int code;
	PCRE2_SIZE off;
	c->re = pcre2_compile((PCRE2_SPTR)json_string_value(pat), len, flags, &code, &off, NULL);
	if (c->re == NULL) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(code, msg, sizeof msg);
		return fail(cc, loc, "invalid regular expression at offset %zu: %s", (size_t)off, (char *)msg);
	}
	pcre2_jit_compile(c->re, PCRE2_JIT_COMPLETE); /* the interpreter when JIT is not available */
	c->mctx = pcre2_match_context_create(NULL);
	pcre2_set_match_limit(c->mctx, PFILTER_MATCH_LIMIT);
	pcre2_set_depth_limit(c->mctx, PFILTER_DEPTH_LIMIT);
	pcre2_set_heap_limit(c->mctx, 8192); /* KiB */
	return 0;
}

static int compile_ops(struct cc *cc, const json_t *obj, const char *loc, int depth, struct cond **out, size_t *n);

/* One operator and its operand into c. */
static int compile_op(struct cc *cc, const json_t *obj, const char *op, const json_t *v, const char *loc,
		      int depth, struct cond *c)
{
	static const char *const names[] = {"$eq", "$ne", "$gt", "$gte", "$lt", "$lte",
					    "$in", "$nin", "$exists", "$regex", "$not"};
	size_t i = 0;
	while (i < sizeof names / sizeof names[0] && strcmp(names[i], op) != 0)
		i++;
	if (i == sizeof names / sizeof names[0])
		return fail(cc, loc, "unknown operator");
	c->op = (enum op)i;
	if (count(cc, loc, 1) < 0)
		return -1;
	switch (c->op) {
	case OP_EQ:
	case OP_NE:
		c->val = json_deep_copy(v);
		return 0;
	case OP_GT:
	case OP_GTE:
	case OP_LT:
	case OP_LTE:
		if (!json_is_number(v) && !json_is_string(v))
			return fail(cc, loc, "must be a number or string");
		c->val = json_deep_copy(v);
		return 0;
	case OP_IN:
	case OP_NIN:
		if (!json_is_array(v))
			return fail(cc, loc, "must be an array");
		if (count(cc, loc, (int)(json_array_size(v) < PFILTER_CLAUSES_MAX ? json_array_size(v)
										    : PFILTER_CLAUSES_MAX)) < 0)
			return -1;
		c->val = json_deep_copy(v);
		return 0;
	case OP_EXISTS:
		if (!json_is_boolean(v))
			return fail(cc, loc, "must be true or false");
		c->exists = json_is_true(v);
		return 0;
	case OP_REGEX: {
		const json_t *opts = json_object_get(obj, "$options");
		if (opts != NULL && (!json_is_string(opts) ||
				     strspn(json_string_value(opts), "imsx") != json_string_length(opts))) {
			char l[LOC_MAX];
			snprintf(l, sizeof l, "%.*s$options", (int)(strlen(loc) - strlen("$regex")), loc);
			return fail(cc, l, "must be a string of the flags i, m, s, x");
		}
		return compile_regex(cc, loc, v, opts, c);
	}
	case OP_NOT:
		if (!json_is_object(v) || !is_op_expr(v))
			return fail(cc, loc, "must be an operator expression such as {\"$gt\": 5}");
		return compile_ops(cc, v, loc, depth + 1, &c->sub, &c->nsub);
	}
	return -1;
}

/* An operator expression {"$gt": 1, "$lt": 9} into conditions (ANDed). */
static int compile_ops(struct cc *cc, const json_t *obj, const char *loc, int depth, struct cond **out, size_t *n)
{
	if (depth > PFILTER_DEPTH_MAX)
		return fail(cc, loc, "nested deeper than %d levels", PFILTER_DEPTH_MAX);
	*out = xcalloc(json_object_size(obj) + 1, sizeof **out);
	*n = 0;
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)obj, k, v) {
		char l[LOC_MAX];
		loc_join(l, loc, k);
		if (k[0] != '$')
			return fail(cc, l, "an operator expression cannot mix operators and field names");
		if (strcmp(k, "$options") == 0) {
			if (json_object_get(obj, "$regex") == NULL)
				return fail(cc, l, "$options needs $regex beside it");
			continue;
		}
		if (compile_op(cc, obj, k, v, l, depth, &(*out)[(*n)++]) < 0)
			return -1;
	}
	return 0;
}

/* "a.b.0" into segments. */
static int compile_segs(struct cc *cc, const char *path, const char *loc, struct node *nd)
{
	size_t len = strlen(path);
	if (len > PFILTER_PATH_MAX)
		return fail(cc, loc, "the path is longer than %d bytes", PFILTER_PATH_MAX);
	nd->segs = xcalloc(PFILTER_SEGS_MAX, sizeof *nd->segs);
	for (const char *p = path;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n == 0)
			return fail(cc, loc, "a path needs a name between every two dots");
		if (nd->nsegs == PFILTER_SEGS_MAX)
			return fail(cc, loc, "a path has at most %d segments", PFILTER_SEGS_MAX);
		struct seg *s = &nd->segs[nd->nsegs++];
		s->key = xstrndup(p, n);
		s->idx = -1;
		if (n <= 9 && strspn(s->key, "0123456789") == n && (n == 1 || s->key[0] != '0'))
			s->idx = strtol(s->key, NULL, 10);
		if (dot == NULL)
			return 0;
		p = dot + 1;
	}
}

static int compile_filter(struct cc *cc, const json_t *f, const char *loc, int depth, struct node *nd);

/* $and / $or: a non-empty array of filters. */
static int compile_list(struct cc *cc, const json_t *a, const char *loc, int depth, struct node *nd)
{
	if (!json_is_array(a) || json_array_size(a) == 0)
		return fail(cc, loc, "must be a non-empty array of filters");
	nd->kids = xcalloc(json_array_size(a), sizeof *nd->kids);
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) {
		char l[LOC_MAX], ix[24];
		snprintf(ix, sizeof ix, "%zu", i);
		loc_join(l, loc, ix);
		nd->nkids++;
		if (compile_filter(cc, v, l, depth + 1, &nd->kids[i]) < 0)
			return -1;
	}
	return 0;
}

static int compile_key(struct cc *cc, const char *k, const json_t *v, const char *loc, int depth, struct node *nd)
{
	char l[LOC_MAX];
	loc_join(l, loc, k);
	if (count(cc, l, 1) < 0)
		return -1;
	if (strcmp(k, "$and") == 0 || strcmp(k, "$or") == 0) {
		nd->kind = k[1] == 'a' ? K_AND : K_OR;
		return compile_list(cc, v, l, depth, nd);
	}
	if (strcmp(k, "$not") == 0) {
		nd->kind = K_NOT;
		nd->kids = xcalloc(1, sizeof *nd->kids);
		nd->nkids = 1;
		return compile_filter(cc, v, l, depth + 1, &nd->kids[0]);
	}
	if (k[0] == '$')
		return fail(cc, l, "unknown operator (a filter's keys are paths, $and, $or or $not)");
	nd->kind = K_PATH;
	if (compile_segs(cc, k, l, nd) < 0)
		return -1;
	if (is_op_expr(v))
		return compile_ops(cc, v, l, depth + 1, &nd->conds, &nd->nconds);
	nd->conds = xcalloc(1, sizeof *nd->conds);
	nd->nconds = 1;
	nd->conds[0].op = OP_EQ;
	nd->conds[0].val = json_deep_copy(v);
	return 0;
}

static int compile_filter(struct cc *cc, const json_t *f, const char *loc, int depth, struct node *nd)
{
	nd->kind = K_AND;
	if (!json_is_object(f))
		return fail(cc, loc, "must be an object");
	if (depth > PFILTER_DEPTH_MAX)
		return fail(cc, loc, "nested deeper than %d levels", PFILTER_DEPTH_MAX);
	nd->kids = xcalloc(json_object_size(f) + 1, sizeof *nd->kids);
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)f, k, v) {
		if (compile_key(cc, k, v, loc, depth, &nd->kids[nd->nkids++]) < 0)
			return -1;
	}
	return 0;
}

struct pfilter *pfilter_compile(const json_t *filter, const char *root, char err[PFILTER_ERR_MAX])
{
	struct cc cc = {.root = root, .err = err};
	struct pfilter *f = xcalloc(1, sizeof *f);
	err[0] = '\0';
	if (compile_filter(&cc, filter, "", 0, &f->root) < 0) {
		pfilter_free(f);
		return NULL;
	}
	return f;
}

struct pfilter *pfilter_compile_text(const char *text, size_t len, const char *root, char err[PFILTER_ERR_MAX])
{
	if (len > PFILTER_TEXT_MAX) {
		snprintf(err, PFILTER_ERR_MAX, "%s: longer than %d bytes of JSON", root, PFILTER_TEXT_MAX);
		return NULL;
	}
	json_error_t je;
	json_t *j = json_loadb(text, len, 0, &je);
	if (j == NULL) {
		snprintf(err, PFILTER_ERR_MAX, "%s: not JSON: %s", root, je.text);
		return NULL;
	}
	struct pfilter *f = pfilter_compile(j, root, err);
	json_decref(j);
	return f;
}

void pfilter_free(struct pfilter *f)
{
	if (f == NULL)
		return;
	node_dispose(&f->root);
	free(f);
}

/* ---- evaluating ---- */

/* One match data per thread, of one pair: pcre2_match only reports whether it matched. */
static pthread_key_t md_key;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static void md_free(void *p) { pcre2_match_data_free(p); }
static void md_init(void) { pthread_key_create(&md_key, md_free); }

static pcre2_match_data *thread_md(void)
{
	pthread_once(&md_once, md_init);
	pcre2_match_data *md = pthread_getspecific(md_key);
	if (md == NULL) {
		md = pcre2_match_data_create(1, NULL);
		if (md == NULL)
			fatalx("out of memory (pcre2 match data)");
		pthread_setspecific(md_key, md);
	}
	return md;
}

static int num_cmp(const json_t *a, const json_t *b)
{
	if (json_is_integer(a) && json_is_integer(b)) {
		json_int_t x = json_integer_value(a), y = json_integer_value(b);
		return (x > y) - (x < y);
	}
	double x = json_number_value(a), y = json_number_value(b);
	return (x > y) - (x < y);
}

static int str_cmp(const json_t *a, const json_t *b)
{
	size_t la = json_string_length(a), lb = json_string_length(b);
	int c = memcmp(json_string_value(a), json_string_value(b), la < lb ? la : lb);
	return c != 0 ? c : (la > lb) - (la < lb);
}

static bool val_eq(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return num_cmp(a, b) == 0;
	if (json_is_string(a) && json_is_string(b))
		return str_cmp(a, b) == 0;
	return json_equal((json_t *)a, (json_t *)b);
}

/* A positive test of one value ($ne and $nin test as $eq and $in; the caller negates). */
static bool test(const struct cond *c, const json_t *v)
{
	int r;
	switch (c->op) {
	case OP_EQ:
	case OP_NE:
		return val_eq(v, c->val);
	case OP_IN:
	case OP_NIN:
		for (size_t i = 0; i < json_array_size(c->val); i++)
			if (val_eq(v, json_array_get(c->val, i)))
				return true;
		return false;
	case OP_GT:
	case OP_GTE:
	case OP_LT:
	case OP_LTE:
		if (json_is_number(v) && json_is_number(c->val))
			r = num_cmp(v, c->val);
		else if (json_is_string(v) && json_is_string(c->val))
			r = str_cmp(v, c->val);
		else
			return false;
		return c->op == OP_GT ? r > 0 : c->op == OP_GTE ? r >= 0 : c->op == OP_LT ? r < 0 : r <= 0;
	case OP_REGEX:
		/* a limit reached (a negative code) counts as no match */
		return json_is_string(v) && pcre2_match(c->re, (PCRE2_SPTR)json_string_value(v), json_string_length(v),
							0, 0, thread_md(), c->mctx) >= 0;
	case OP_EXISTS:
		return true;
	case OP_NOT:
		break;
	}
	return false;
}

/* True if some value the path reaches from v passes the test. */
static bool visit(const json_t *v, const struct seg *s, size_t n, const struct cond *c)
{
	if (n == 0) {
		if (test(c, v))
			return true;
		if (c->op != OP_EXISTS && json_is_array(v))
			for (size_t i = 0; i < json_array_size(v); i++)
				if (test(c, json_array_get(v, i)))
					return true;
		return false;
	}
	if (json_is_object(v)) {
		const json_t *x = json_object_get(v, s->key);
		return x != NULL && visit(x, s + 1, n - 1, c);
	}
	if (!json_is_array(v))
		return false;
	if (s->idx >= 0) {
		const json_t *x = json_array_get(v, (size_t)s->idx);
		if (x != NULL && visit(x, s + 1, n - 1, c))
			return true;
	}
	for (size_t i = 0; i < json_array_size(v); i++) {
		const json_t *x = json_array_get(v, i);
		if (json_is_object(x) && visit(x, s, n, c))
			return true;
	}
	return false;
}

static bool cond_match(const struct node *nd, const struct cond *c, const json_t *doc)
{
	switch (c->op) {
	case OP_NE:
	case OP_NIN:
		return !visit(doc, nd->segs, nd->nsegs, c);
	case OP_EXISTS:
		return visit(doc, nd->segs, nd->nsegs, c) == c->exists;
	case OP_NOT:
		for (size_t i = 0; i < c->nsub; i++)
			if (!cond_match(nd, &c->sub[i], doc))
				return true;
		return false;
	case OP_EQ:
		if (json_is_null(c->val)) { /* null or missing, as MongoDB */
			static const struct cond any = {.op = OP_EXISTS};
			return !visit(doc, nd->segs, nd->nsegs, &any) || visit(doc, nd->segs, nd->nsegs, c);
		}
		return visit(doc, nd->segs, nd->nsegs, c);
	default:
		return visit(doc, nd->segs, nd->nsegs, c);
	}
}

static bool node_match(const struct node *nd, const json_t *doc)
{
	switch (nd->kind) {
	case K_AND:
		for (size_t i = 0; i < nd->nkids; i++)
			if (!node_match(&nd->kids[i], doc))
				return false;
		return true;
	case K_OR:
		for (size_t i = 0; i < nd->nkids; i++)
			if (node_match(&nd->kids[i], doc))
				return true;
		return false;
	case K_NOT:
		return !node_match(&nd->kids[0], doc);
	case K_PATH:
		for (size_t i = 0; i < nd->nconds; i++)
			if (!cond_match(nd, &nd->conds[i], doc))
				return false;
		return true;
	}
	return false;
}

bool pfilter_match(const struct pfilter *f, const json_t *payload)
{
	if (payload == NULL)
		return f->root.nkids == 0;
	return node_match(&f->root, payload);
}
