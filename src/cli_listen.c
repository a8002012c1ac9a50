/* cli_listen.c: hookd listen: an app's messages forwarded to a local URL, for local development (like
 * `svix listen`, `stripe listen`). It only makes outbound calls to hookd, so it works from a laptop hookd cannot
 * reach: it upserts a poller sink (an endpoint with a poll: URL, by uid), reads it as a consumer of its own
 * (api_poll.c), and posts each message to --forward signed with the sink's secret as hookd signs (Standard
 * Webhooks, libhookd). The consumer's cursor moves past a message only once it was forwarded (any answer from
 * the local URL; a failure is retried, then given up on and said so), so a restart continues where it stopped.
 * SIGINT or SIGTERM: the message being forwarded is abandoned (it comes again next time), the cursor is
 * committed, exit 0. */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_client.h"
#include "cli_client_int.h"
#include "hookd.h"
#include "util.h"

#define LISTEN_UID_DEFAULT "hookd-listen"
#define LISTEN_BATCH 50
#define LISTEN_IDLE_MS 500       /* between two reads that found nothing */
#define LISTEN_DOWN_MS 2000      /* between two reads while hookd cannot be reached */
#define FORWARD_TRIES 4          /* a failing local URL: the first try and three retries */
#define FORWARD_BACKOFF_MS 500   /* before the first retry; doubles */
#define FORWARD_TIMEOUT_S 30L
#define FORWARD_REPLY_MAX 65536u /* what is read of the local answer (only its status is shown) */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Sleep ms, or less if a signal asks to stop. */
static void nap(long ms)
{
	for (; ms > 0 && !stop; ms -= 50) {
		struct timespec ts = {0, (ms < 50 ? ms : 50) * 1000000L};
		nanosleep(&ts, NULL);
	}
}

struct listen {
	struct client c;
	const char *forward, *uid, *consumer, *types;
	char sink[64];
	uint8_t key[HOOKD_KEY_MAX];
	size_t keylen;
	CURL *out; /* the local URL's handle, reused */
	char acked[64];   /* the cursor hookd has committed for us ("" before the first commit) */
	char pending[64]; /* the position to commit next: forwarded (or given up on) up to here */
};

static const char usage[] =
	"hookd listen --app APP --forward URL [--event-types T,T...] [--uid UID] [--consumer ID]\n"
	"             [--server URL] [--token TOKEN]\n"
	"  --server URL (or --url URL), --token TOKEN: as for the other client commands (hookd help endpoints)\n"
	"Forwards the app's messages to a local URL, signed with the sink's secret (Standard Webhooks), one line\n"
	"per message with the local answer. It upserts a poller sink (an endpoint with a poll: URL, uid UID,\n"
	"default hookd-listen, filtered by --event-types) and reads it as consumer ID (default hookd-listen):\n"
	"only outbound calls to hookd, so it works from a machine hookd cannot reach. A failing local URL is\n"
	"retried 3 times with backoff, then given up on (said so); the cursor moves past a message once it was\n"
	"forwarded or given up on, so a restart continues where the last run stopped. Ctrl-C stops (exit 0).\n";

void cli_listen_help(FILE *f) { fputs(usage, f); }

static int parse(struct listen *l, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *eq = strchr(a, '=');
		size_t n = eq != NULL ? (size_t)(eq - a) : strlen(a);
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(usage, stdout);
			return -1;
		}
		/* --url: another name of --server (listen has no endpoint URL to take) */
		static const char *const names[] = {"--app", "--forward", "--event-types", "--uid", "--consumer",
						    "--server", "--url", "--token"};
		const char **dst[] = {&l->c.app, &l->forward, &l->types, &l->uid, &l->consumer, &l->c.server,
				      &l->c.server, &l->c.token_flag};
		size_t k = 0;
		while (k < sizeof names / sizeof names[0] && (strlen(names[k]) != n || strncmp(a, names[k], n) != 0))
			k++;
		if (k == sizeof names / sizeof names[0])
			return cli_usage("listen", "unknown option '%.*s'", (int)n, a);
		const char *v = eq != NULL ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
		if (v == NULL)
			return cli_usage("listen", "%s needs a value", names[k]);
		*dst[k] = v;
	}
	if (l->c.app == NULL || l->forward == NULL)
		return cli_usage("listen", "--app and --forward are required");
	if (strncmp(l->forward, "http://", 7) != 0 && strncmp(l->forward, "https://", 8) != 0)
		return cli_usage("listen", "--forward '%s': expected an http:// or https:// URL", l->forward);
	if (l->uid == NULL)
		l->uid = LISTEN_UID_DEFAULT;
	if (l->consumer == NULL)
		l->consumer = LISTEN_UID_DEFAULT;
	return 0;
}

/* An endpoint with the uid that is not a poller sink must not become one: it is someone's real endpoint. */
static int sink_check(struct listen *l)
{
	char *path = client_path(&l->c, "app", l->c.app, "endpoint", l->uid, NULL);
	struct reply r;
	int rc = client_request(&l->c, "GET", path, NULL, NULL, &r);
	free(path);
	if (rc == 0 && r.status == 200) {
		json_t *j = json_loadb(r.body.data, r.body.len, 0, NULL);
		const char *url = str_or(json_object_get(j, "url"), "");
		if (strncmp(url, "poll:", 5) != 0) {
			fprintf(stderr, "hookd listen: endpoint %s of app %s is not a poller sink (url %s); pick another --uid\n",
				l->uid, l->c.app, url);
			rc = 1;
		}
		json_decref(j);
	}
	buf_dispose(&r.body);
	return rc; /* another answer (404: no such endpoint yet, or no such app) is the PUT's to report */
}

/* The sink, upserted by uid (PUT creates it), and its secret. */
static int sink_open(struct listen *l)
{
	int rc = sink_check(l);
	if (rc != 0)
		return rc;
	/* PUT replaces the whole endpoint: the uid must be in the body too, or the next run would not find it */
	json_t *body = json_pack("{s:s,s:s,s:s}", "url", "poll:hookd-listen", "uid", l->uid, "description",
				 "hookd listen");
	if (l->types != NULL) {
		json_t *t = json_array();
		char *copy = xstrdup(l->types), *save = NULL;
		for (char *s = strtok_r(copy, ",", &save); s != NULL; s = strtok_r(NULL, ",", &save))
			json_array_append_new(t, json_string(s));
		free(copy);
		json_object_set_new(body, "filterTypes", t);
	}
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	char *path = client_path(&l->c, "app", l->c.app, "endpoint", l->uid, NULL);
	struct reply r;
	json_t *j = NULL;
	rc = client_call(&l->c, "PUT", path, NULL, text, &r, &j);
	free(text);
	free(path);
	buf_dispose(&r.body);
	if (rc == 0)
		snprintf(l->sink, sizeof l->sink, "%s", str_or(json_object_get(j, "id"), ""));
	json_decref(j);
	if (rc != 0)
		return rc;
	path = client_path(&l->c, "app", l->c.app, "endpoint", l->sink, "secret", NULL);
	rc = client_call(&l->c, "GET", path, NULL, NULL, &r, &j);
	free(path);
	buf_dispose(&r.body);
	if (rc == 0 && hookd_secret_decode(str_or(json_object_get(j, "key"), ""), l->key, &l->keylen) != HOOKD_OK) {
		fputs("hookd listen: the sink's secret is not a Standard Webhooks secret\n", stderr);
		rc = 1;
	}
	json_decref(j);
	return rc;
}

static size_t on_local(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)size;
	size_t *got = ud;
	*got += n;
	return *got > FORWARD_REPLY_MAX ? 0 : n;
}

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	(void)ud, (void)a, (void)b, (void)c, (void)d;
	return stop ? 1 : 0; /* abandon a forward on Ctrl-C */
}

/* One POST to the local URL: its status (0: no answer, why in err). */
static long forward_once(struct listen *l, const char *id, const char *body, char *err, size_t errlen, long *ms)
{
	char sig[HOOKD_SIG_V1_LEN], h[3][160];
	int64_t ts = (int64_t)time(NULL);
	hookd_sign_v1(l->key, l->keylen, id, ts, body, strlen(body), sig, sizeof sig);
	snprintf(h[0], sizeof h[0], "webhook-id: %s", id);
	snprintf(h[1], sizeof h[1], "webhook-timestamp: %lld", (long long)ts);
	snprintf(h[2], sizeof h[2], "webhook-signature: %s", sig);
	struct curl_slist *hs = curl_slist_append(NULL, "Content-Type: application/json");
	for (int i = 0; i < 3; i++)
		hs = curl_slist_append(hs, h[i]);
	hs = curl_slist_append(hs, "Expect:");
	char ebuf[CURL_ERROR_SIZE] = "";
	size_t got = 0;
	CURL *c = l->out;
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, l->forward);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "hookd-listen/" HOOKD_VERSION);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, FORWARD_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_local);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	int64_t t0 = mono_us();
	CURLcode rc = curl_easy_perform(c);
	*ms = (long)((mono_us() - t0) / 1000);
	long status = 0;
	if (rc == CURLE_OK || rc == CURLE_WRITE_ERROR)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status == 0)
		snprintf(err, errlen, "%s", ebuf[0] ? ebuf : curl_easy_strerror(rc));
	curl_slist_free_all(hs);
	return status;
}

/* Forward one message with retries, printing its line. False if a stop cut it short (not forwarded). */
static bool forward(struct listen *l, const json_t *m)
{
	const char *id = str_or(json_object_get(m, "id"), "");
	const char *type = str_or(json_object_get(m, "eventType"), "");
	char *body = json_dumps(json_object_get(m, "payload"), JSON_COMPACT);
	long delay = FORWARD_BACKOFF_MS;
	bool done = false;
	for (int t = 1; t <= FORWARD_TRIES && !stop; t++) {
		char err[CURL_ERROR_SIZE] = "";
		long ms = 0, status = forward_once(l, id, body != NULL ? body : "{}", err, sizeof err, &ms);
		if (stop)
			break;
		bool ok = status >= 200 && status < 300;
		if (status != 0)
			printf("%s  %-24s -> %ld (%ld ms)", id, type, status, ms);
		else
			printf("%s  %-24s -> error: %s (%ld ms)", id, type, err, ms);
		if (ok || t == FORWARD_TRIES) {
			printf(ok ? "\n" : ", given up after %d attempts\n", t);
			done = true;
		} else {
			printf(", retry %d in %ld ms\n", t, delay);
		}
		fflush(stdout);
		if (done)
			break;
		nap(delay);
		delay *= 2;
	}
	free(body);
	return done;
}

/* Read the next batch, committing l->pending first (when it moved). 0, or an exit status; *batch the answer. */
static int poll_next(struct listen *l, int limit, json_t **batch)
{
	struct buf q;
	char lim[16];
	buf_init(&q, 4096);
	snprintf(lim, sizeof lim, "%d", limit);
	client_query_add(&l->c, &q, "limit", lim);
	if (l->pending[0] != '\0' && strcmp(l->pending, l->acked) != 0)
		client_query_add(&l->c, &q, "iterator", l->pending);
	char *path = client_path(&l->c, "app", l->c.app, "poller", l->sink, "consumer", l->consumer, NULL);
	struct reply r;
	*batch = NULL;
	int rc = client_call(&l->c, "GET", path, q.data != NULL ? q.data : "", NULL, &r, batch);
	free(path);
	buf_dispose(&q);
	buf_dispose(&r.body);
	if (rc == 0)
		snprintf(l->acked, sizeof l->acked, "%s", l->pending);
	return rc;
}

static int listen_loop(struct listen *l)
{
	printf("hookd listen: app %s, sink %s, consumer %s -> %s (Ctrl-C stops)\n", l->c.app, l->sink, l->consumer,
	       l->forward);
	fflush(stdout);
	while (!stop) {
		json_t *batch;
		int rc = poll_next(l, LISTEN_BATCH, &batch);
		if (rc == 3) { /* hookd unreachable: try again */
			nap(LISTEN_DOWN_MS);
			continue;
		}
		if (rc != 0)
			return rc;
		json_t *data = json_object_get(batch, "data");
		size_t i, n = json_array_size(data);
		for (i = 0; i < n && !stop; i++) {
			if (!forward(l, json_array_get(data, i)))
				break;
			snprintf(l->pending, sizeof l->pending, "%s", str_or(json_object_get(json_array_get(data, i), "id"), ""));
		}
		if (i == n) /* the whole batch: the answer's position (past the messages the sink's filters skip) */
			snprintf(l->pending, sizeof l->pending, "%s", str_or(json_object_get(batch, "iterator"), ""));
		bool idle = n == 0 && json_is_true(json_object_get(batch, "done"));
		json_decref(batch);
		if (idle)
			nap(LISTEN_IDLE_MS);
	}
	/* commit what was done: a read of one more message, whose answer is dropped (it comes again next time) */
	if (l->pending[0] != '\0' && strcmp(l->pending, l->acked) != 0) {
		json_t *batch;
		int rc = poll_next(l, 1, &batch);
		json_decref(batch);
		if (rc != 0)
			return rc;
	}
	printf("hookd listen: stopped\n");
	return 0;
}

int cli_listen(int argc, char **argv)
{
	struct listen l = {0};
	snprintf(l.c.cmd, sizeof l.c.cmd, "listen");
	int rc = parse(&l, argc, argv);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	struct sigaction sa = {0};
	sa.sa_handler = on_signal; /* no SA_RESTART: a nap ends at once */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	l.out = curl_easy_init();
	if ((rc = client_open(&l.c)) == 0 && (rc = sink_open(&l)) == 0)
		rc = listen_loop(&l);
	if (l.out != NULL)
		curl_easy_cleanup(l.out);
	explicit_bzero(l.key, sizeof l.key);
	client_dispose(&l.c);
	return rc;
}
