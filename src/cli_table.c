/* cli_table.c: the client subcommands' output: tables and field lines for people, the API's JSON for scripts
 * (--json), and nothing from a peer that could drive the terminal. */
#include <inttypes.h>
#include <jansson.h>
#include <locale.h>
#include <wchar.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_client.h"
#include "cli_client_int.h"
#include "util.h"

/* Text from the server, on one line and without control characters (a peer must not drive the terminal). */
void client_put_clean(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)s[i];
		fputc(ch < 0x20 || ch == 0x7f ? ' ' : ch, f);
	}
}

/* ---- output ---- */

/* --json: the answer's body as it came, one document (an empty answer is {}). */
int client_print_raw(const struct reply *r)
{
	if (r->body.len == 0)
		fputs("{}", stdout);
	else
		fwrite(r->body.data, 1, r->body.len, stdout);
	if (r->body.len == 0 || r->body.data[r->body.len - 1] != '\n')
		fputc('\n', stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}

int client_print_json(const json_t *j)
{
	if (json_dumpf(j, stdout, JSON_COMPACT) != 0)
		return 1;
	fputc('\n', stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* A value as a table cell, malloc'd: strings as they are, lists of strings joined with commas, "-" for null,
 * absent or empty, anything else as compact JSON; control characters become spaces. */
static char *cell_text(const json_t *v, bool ms)
{
	struct buf b;
	buf_init(&b, CLIENT_REPLY_MAX);
	if (json_is_string(v)) {
		buf_append(&b, json_string_value(v), json_string_length(v));
	} else if (json_is_integer(v)) {
		char n[32];
		snprintf(n, sizeof n, "%" JSON_INTEGER_FORMAT "%s", json_integer_value(v), ms ? "ms" : "");
		buf_append(&b, n, strlen(n));
	} else if (json_is_boolean(v)) {
		buf_append(&b, json_is_true(v) ? "true" : "false", json_is_true(v) ? 4 : 5);
	} else if (json_is_array(v) && json_array_size(v) > 0) {
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) {
			char *s = cell_text(e, false);
			if (i > 0)
				buf_append(&b, ",", 1);
			buf_append(&b, s, strlen(s));
			free(s);
		}
	} else if (v != NULL && !json_is_null(v) && !json_is_array(v)) {
		char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		if (s != NULL)
			buf_append(&b, s, strlen(s));
		free(s);
	}
	if (b.len == 0)
		buf_append(&b, "-", 1);
	for (size_t i = 0; i < b.len; i++)
		if ((unsigned char)b.data[i] < 0x20 || b.data[i] == 0x7f)
			b.data[i] = ' ';
	return b.data;
}

/* The columns a UTF-8 string takes on a terminal: wcwidth(3) of each code point in the C library's C.UTF-8
 * locale (wide CJK and emoji 2, combining marks 0), used for this thread only (uselocale), so that nothing else
 * changes with it; without that locale, or for a byte that is not UTF-8, one column per code point. */
static size_t display_width(const char *s)
{
	static locale_t utf8 = (locale_t)0;
	static bool tried;
	if (!tried) {
		tried = true;
		utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	}
	locale_t old = utf8 != (locale_t)0 ? uselocale(utf8) : (locale_t)0;
	size_t w = 0, len = strlen(s);
	mbstate_t st;
	memset(&st, 0, sizeof st);
	while (len > 0) {
		wchar_t wc;
		size_t n = utf8 != (locale_t)0 ? mbrtowc(&wc, s, len, &st) : (size_t)-1;
		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) { /* not UTF-8 here: a byte, unless a continuation */
			memset(&st, 0, sizeof st);
			w += ((unsigned char)*s & 0xc0) != 0x80;
			n = 1;
		} else {
			int cw = wcwidth(wc);
			w += cw < 0 ? 1 : (size_t)cw;
		}
		s += n;
		len -= n;
	}
	if (old != (locale_t)0)
		uselocale(old);
	return w;
}

/* The rows (objects) as aligned columns under a header, padded by display width (not bytes); the last column
 * is not padded. */
int client_print_table(const json_t *rows, const struct column *cols, size_t ncols)
{
	size_t nrows = json_array_size(rows), width[CLIENT_COLS_MAX] = {0};
	if (ncols > CLIENT_COLS_MAX)
		ncols = CLIENT_COLS_MAX;
	char **cells = xcalloc((nrows + 1) * ncols, sizeof *cells);
	for (size_t k = 0; k < ncols; k++) {
		cells[k] = xstrdup(cols[k].title);
		for (size_t i = 0; i < nrows; i++)
			cells[(i + 1) * ncols + k] = cell_text(json_object_get(json_array_get(rows, i), cols[k].field),
								cols[k].ms);
		for (size_t i = 0; i <= nrows; i++) {
			size_t n = display_width(cells[i * ncols + k]);
			width[k] = n > width[k] ? n : width[k];
		}
	}
	for (size_t i = 0; i <= nrows; i++) {
		for (size_t k = 0; k < ncols; k++) {
			const char *s = cells[i * ncols + k];
			if (k + 1 < ncols)
				printf("%s%*s  ", s, (int)(width[k] - display_width(s)), "");
			else
				printf("%s\n", s);
		}
	}
	for (size_t i = 0; i < (nrows + 1) * ncols; i++)
		free(cells[i]);
	free(cells);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* One object as "field  value" lines, in the answer's order. */
int client_print_object(const json_t *obj)
{
	const char *key;
	json_t *v;
	size_t width = 0;
	json_object_foreach((json_t *)obj, key, v) {
		size_t n = strlen(key);
		width = n > width ? n : width;
	}
	json_object_foreach((json_t *)obj, key, v) {
		char *s = cell_text(v, strcmp(key, "responseDurationMs") == 0);
		client_put_clean(stdout, key, strlen(key));
		for (size_t n = strlen(key); n < width + 2; n++)
			fputc(' ', stdout);
		fputs(s, stdout);
		fputc('\n', stdout);
		free(s);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

/* The answer of a call for one object: raw with --json, else as field lines. */
int client_show_object(const struct client *c, const struct reply *r, const json_t *obj)
{
	if (c->json)
		return client_print_raw(r);
	if (!json_is_object(obj)) {
		fprintf(stderr, "hookd: %s answered %ld without the object expected\n", c->base, r->status);
		return 1;
	}
	return client_print_object(obj);
}
