/* cli_http.c: the client subcommands' transport: the server and token, one libcurl easy handle per run (reused
 * across the pages of a list so that the connection is kept), paths and queries, and the API's error answers
 * printed on one line. */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "cli_client.h"
#include "cli_client_int.h"
#include "hookd.h"
#include "util.h"

#define PAGE_MAX 250         /* the API's largest ?limit= */
#define TOKEN_FILE "data/token"
#define TOKEN_MAX 4096
#define CONNECT_TIMEOUT 10L  /* seconds */
#define REQUEST_TIMEOUT 120L /* seconds, one request */


/* The first line of ./data/token, where hookd serve keeps the token it made; NULL if there is none. */
static char *token_from_file(void)
{
	char line[TOKEN_MAX + 2];
	FILE *f = fopen(TOKEN_FILE, "r");
	if (f == NULL)
		return NULL;
	bool got = fgets(line, sizeof line, f) != NULL;
	fclose(f);
	size_t n = got ? strcspn(line, "\r\n") : 0;
	char *t = n > 0 && n <= TOKEN_MAX ? xstrndup(line, n) : NULL;
	explicit_bzero(line, sizeof line);
	return t;
}

/* The server and token from the flags, the environment or the defaults; the curl handle and its headers. */
int client_open(struct client *c)
{
	const char *server = c->server;
	if (server == NULL)
		server = getenv("HOOKD_SERVER");
	if (server == NULL || server[0] == '\0')
		server = CLIENT_DEFAULT_SERVER;
	if (strncasecmp(server, "http://", 7) != 0 && strncasecmp(server, "https://", 8) != 0)
		return cli_usage(c->cmd, "--server '%s': expected an http:// or https:// URL", server);
	size_t n = strlen(server);
	while (n > 0 && server[n - 1] == '/')
		n--;
	c->base = xstrndup(server, n);

	const char *tok = c->token_flag;
	if (tok == NULL)
		tok = getenv("HOOKD_TOKEN");
	c->token_from = c->token_flag != NULL ? "--token" : "$HOOKD_TOKEN";
	if (tok != NULL && tok[0] != '\0') {
		c->token = xstrdup(tok);
	} else {
		c->token = token_from_file();
		c->token_from = c->token != NULL ? "./" TOKEN_FILE : NULL;
	}
	if (c->token != NULL && strpbrk(c->token, "\r\n") != NULL)
		return cli_usage(c->cmd, "the token contains a line break");

	c->curl = curl_easy_init();
	if (c->curl == NULL) {
		fprintf(stderr, "hookd %s: cannot start libcurl\n", c->cmd);
		return 1;
	}
	c->headers = curl_slist_append(c->headers, "Accept: application/json");
	c->headers = curl_slist_append(c->headers, "Content-Type: application/json");
	c->headers = curl_slist_append(c->headers, "Expect:"); /* no 100-continue round trip for big bodies */
	if (c->token != NULL) {
		size_t len = strlen(c->token) + 32;
		char *h = xmalloc(len);
		snprintf(h, len, "Authorization: Bearer %s", c->token);
		c->headers = curl_slist_append(c->headers, h);
		explicit_bzero(h, len);
		free(h);
	}
	return 0;
}

void client_dispose(struct client *c)
{
	if (c->token != NULL) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	curl_slist_free_all(c->headers);
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	free(c->base);
	strlist_dispose(&c->event_types);
	strlist_dispose(&c->channels);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	(void)size; /* always 1 */
	return buf_append(ud, p, n) < 0 ? 0 : n;
}

/* Percent-encoded, malloc'd. */
static char *escape(struct client *c, const char *s)
{
	char *e = curl_easy_escape(c->curl, s, 0);
	if (e == NULL) {
		fputs("hookd: out of memory\n", stderr);
		exit(1);
	}
	char *out = xstrdup(e);
	curl_free(e);
	return out;
}

/* "app/<app>/endpoint/<ep>": the segments, each percent-encoded, joined; NULL ends the list. */
char *client_path(struct client *c, ...)
{
	struct buf b;
	va_list ap;
	buf_init(&b, CLIENT_REPLY_MAX);
	va_start(ap, c);
	for (const char *s; (s = va_arg(ap, const char *)) != NULL;) {
		char *e = escape(c, s);
		if (b.len > 0)
			buf_append(&b, "/", 1);
		buf_append(&b, e, strlen(e));
		free(e);
	}
	va_end(ap);
	return b.data;
}

/* "&key=value" onto a query string (the first without "&"). */
void client_query_add(struct client *c, struct buf *q, const char *key, const char *value)
{
	char *e = escape(c, value);
	if (q->len > 0)
		buf_append(q, "&", 1);
	buf_append(q, key, strlen(key));
	buf_append(q, "=", 1);
	buf_append(q, e, strlen(e));
	free(e);
}

/* One request. Returns 0 with the answer in r (any status; the caller disposes r->body), or the exit status after
 * a message: 3 when the server cannot be reached, 1 when its answer is over the cap. */
int client_request(struct client *c, const char *method, const char *path, const char *query, const char *body,
		   struct reply *r)
{
	struct buf url;
	buf_init(&url, CLIENT_REPLY_MAX);
	buf_append(&url, c->base, strlen(c->base));
	buf_append(&url, "/api/v1/", 8);
	buf_append(&url, path, strlen(path));
	if (query != NULL && query[0] != '\0') {
		buf_append(&url, "?", 1);
		buf_append(&url, query, strlen(query));
	}
	buf_init(&r->body, CLIENT_REPLY_MAX);
	r->status = 0;
	c->errbuf[0] = '\0';

	CURL *h = c->curl;
	curl_easy_reset(h); /* keeps the connection */
	curl_easy_setopt(h, CURLOPT_URL, url.data);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "hookd/" HOOKD_VERSION);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, REQUEST_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r->body);
	if (body != NULL) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	}
	CURLcode rc = curl_easy_perform(h);
	buf_dispose(&url);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
		return 0;
	}
	if (r->body.toobig) {
		fprintf(stderr, "hookd: the answer from %s is larger than %u bytes\n", c->base, CLIENT_REPLY_MAX);
		return 1;
	}
	if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL)
		return cli_usage(c->cmd, "--server '%s': %s", c->base, c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
	long oserr = 0;
	curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &oserr);
	fprintf(stderr, "hookd: cannot reach %s: %s\n", c->base,
		oserr != 0 ? strerror((int)oserr) : c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
	return 3;
}

/* A 422 detail's "loc" as "url" or "query.limit": a leading "body" says nothing when a field follows it. */
static void print_loc(const json_t *loc)
{
	size_t k, first = json_array_size(loc) > 1 && strcmp(str_or(json_array_get(loc, 0), ""), "body") == 0;
	json_t *part;
	json_array_foreach((json_t *)loc, k, part) {
		if (k < first)
			continue;
		if (k > first)
			fputc('.', stderr);
		if (json_is_string(part))
			client_put_clean(stderr, json_string_value(part), 100);
		else if (json_is_integer(part))
			fprintf(stderr, "%" JSON_INTEGER_FORMAT, json_integer_value(part));
	}
}

/* An error answer on one line: "hookd: 404 not_found: Entity not found"; a 422's details as "loc: msg; ...". */
static void print_api_error(const struct reply *r, const char *hint)
{
	json_t *j = r->body.len > 0 ? json_loadb(r->body.data, r->body.len, 0, NULL) : NULL;
	const char *code = json_string_value(json_object_get(j, "code"));
	json_t *detail = json_object_get(j, "detail");
	fprintf(stderr, "hookd: %ld", r->status);
	if (code != NULL) {
		fputc(' ', stderr);
		client_put_clean(stderr, code, 100);
	}
	if (json_is_string(detail)) {
		fputs(": ", stderr);
		client_put_clean(stderr, json_string_value(detail), 1000);
	} else if (json_is_array(detail)) {
		size_t i;
		json_t *d, *loc;
		json_array_foreach(detail, i, d) {
			fputs(i == 0 ? ": " : "; ", stderr);
			loc = json_object_get(d, "loc");
			print_loc(loc);
			const char *msg = json_string_value(json_object_get(d, "msg"));
			if (msg != NULL) {
				fputs(json_array_size(loc) > 0 ? ": " : "", stderr);
				client_put_clean(stderr, msg, 300);
			}
			if (i == 9 && json_array_size(detail) > 10) {
				fprintf(stderr, "; and %zu more", json_array_size(detail) - 10);
				break;
			}
		}
	} else if (code == NULL && r->body.len > 0) {
		fputs(": ", stderr);
		client_put_clean(stderr, r->body.data, 200);
	}
	if (hint != NULL)
		fprintf(stderr, " (%s)", hint);
	fputc('\n', stderr);
	json_decref(j);
}

/* A request whose answer must be 2xx: an error answer is printed (1); a body is parsed into *out when out is not
 * NULL (NULL for an empty body). The caller disposes r->body. */
int client_call(struct client *c, const char *method, const char *path, const char *query, const char *body,
		struct reply *r, json_t **out)
{
	if (out != NULL)
		*out = NULL;
	int rc = client_request(c, method, path, query, body, r);
	if (rc != 0)
		return rc;
	if (r->status < 200 || r->status > 299) {
		char hint[256];
		if (r->status == 401 && c->token_from == NULL)
			snprintf(hint, sizeof hint, "no token sent: looked for --token, $HOOKD_TOKEN and ./%s", TOKEN_FILE);
		else if (r->status == 401)
			snprintf(hint, sizeof hint, "the token from %s was refused; looked for --token, then $HOOKD_TOKEN, "
						    "then ./%s", c->token_from, TOKEN_FILE);
		print_api_error(r, r->status == 401 ? hint : NULL);
		return 1;
	}
	if (out == NULL || r->body.len == 0)
		return 0;
	json_error_t err;
	*out = json_loadb(r->body.data, r->body.len, 0, &err);
	if (*out == NULL) {
		fprintf(stderr, "hookd: %s answered %ld with a body that is not JSON (%s)\n", c->base, r->status,
			err.text);
		return 1;
	}
	return 0;
}

/* ---- lists ---- */

/* Every page of a list, following iterator until done or --limit items; filter is the query without limit and
 * iterator. *out gets the last page with all the items in "data", so that iterator and done still say where to
 * go on from. */
int client_list(struct client *c, const char *path, const struct buf *filter, json_t **out)
{
	json_t *all = json_array(), *page = NULL;
	char *iterator = NULL;
	int rc = 0;
	*out = NULL;
	while (json_array_size(all) < (size_t)c->limit) {
		size_t want = (size_t)c->limit - json_array_size(all);
		char n[32];
		struct buf q;
		struct reply r;
		snprintf(n, sizeof n, "%zu", want < PAGE_MAX ? want : PAGE_MAX);
		buf_init(&q, CLIENT_REPLY_MAX);
		if (filter->len > 0)
			buf_append(&q, filter->data, filter->len);
		client_query_add(c, &q, "limit", n);
		if (iterator != NULL)
			client_query_add(c, &q, "iterator", iterator);
		json_decref(page);
		rc = client_call(c, "GET", path, q.data, NULL, &r, &page);
		buf_dispose(&q);
		buf_dispose(&r.body);
		if (rc != 0)
			break;
		json_t *data = json_object_get(page, "data");
		if (!json_is_array(data)) {
			fprintf(stderr, "hookd: %s answered a list without \"data\"\n", c->base);
			rc = 1;
			break;
		}
		json_array_extend(all, data);
		const char *next = json_string_value(json_object_get(page, "iterator"));
		if (json_is_true(json_object_get(page, "done")) || next == NULL || json_array_size(data) == 0)
			break;
		free(iterator);
		iterator = xstrdup(next);
	}
	free(iterator);
	if (rc != 0) {
		json_decref(page);
		json_decref(all);
		return rc;
	}
	while (json_array_size(all) > (size_t)c->limit)
		json_array_remove(all, json_array_size(all) - 1);
	json_object_set_new(page, "data", all);
	*out = page;
	return 0;
}