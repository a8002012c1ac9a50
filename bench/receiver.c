/* receiver.c: the benchmark's webhook receiver.
 *
 * libmicrohttpd on its internal epoll thread (or a pool of them), keep-alive. Every POST other than /reset is
 * a delivery: its receipt time (CLOCK_REALTIME, when the whole body is in) and the `sent_ns` and `seq` the load
 * generator put in the payload (a substring scan, not a JSON parse) are recorded, and the `webhook-id` header is
 * tracked per request path (one path per endpoint) in a fixed-size open-addressing table:
 *   --fail-first N   answer 503 to the first N requests of each (path, webhook-id)
 *   duplicates       a (path, webhook-id) seen again after it was answered 2xx
 *   --verify SECRET  check the Standard Webhooks v1 signature with libhookd (counted, never refused)
 *
 *   GET  /stats      counters and latency percentiles of (receipt - sent_ns) over the 2xx answers, JSON
 *   GET  /counters   the counters only (cheap enough to poll: no copy, no sort)
 *   GET  /receipts   "seq receipt_ns" lines: the first 2xx receipt of each seq below --capacity
 *   POST /reset      zero everything
 *
 * Memory is bounded by --capacity (distinct ids, latency samples and seqs); beyond it, ids go untracked
 * (table_full) and samples are dropped (counted). On start it prints {"port":N} on stdout.
 *
 *   receiver [--listen 127.0.0.1:PORT] [--capacity N] [--threads N] [--fail-first N] [--verify whsec_...]
 */
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "bench.h"
#include "hookd.h"

#define BODY_MAX (4u << 20)

struct entry {
	uint64_t h1, h2; /* h1 == 0: empty slot */
	uint32_t attempts;
	uint32_t oks;
};

struct req {
	char *body;
	size_t len, cap;
	bool too_big;
};

static struct {
	pthread_mutex_t mu;
	struct entry *table;
	size_t table_mask, table_used, table_limit;
	int64_t *samples; /* latency ns of 2xx answers */
	size_t nsamples, capacity;
	int64_t *receipts; /* first 2xx receipt per seq, 0 if none */
	uint64_t received, ok, failed_on_purpose, duplicates, distinct, distinct_ok, no_id, table_full;
	uint64_t verify_ok, verify_failed, parse_failed, samples_dropped, too_big;
	int64_t first_ns, last_ns;
	uint32_t fail_first;
	bool verify;
	uint8_t key[HOOKD_KEY_MAX];
	size_t keylen;
} st = {.mu = PTHREAD_MUTEX_INITIALIZER};

static struct MHD_Response *resp_ok, *resp_fail, *resp_empty;

static void *xmalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	if (p == NULL)
		die("out of memory (%zu bytes)", n);
	return p;
}

/* Two independent 64-bit hashes of "path\0id": 128 bits, so collisions are not a concern at these counts. */
static void hash2(const char *path, const char *id, uint64_t *h1, uint64_t *h2)
{
	uint64_t a = 1469598103934665603ULL, b = 0x9e3779b97f4a7c15ULL;
	for (int part = 0; part < 2; part++) {
		const unsigned char *s = (const unsigned char *)(part == 0 ? path : id);
		for (; *s; s++) {
			a = (a ^ *s) * 1099511628211ULL;
			b = (b + *s) * 0xff51afd7ed558ccdULL;
			b ^= b >> 29;
		}
		a = (a ^ 0xff) * 1099511628211ULL;
		b = (b + 0xff) * 0xc4ceb9fe1a85ec53ULL;
	}
	b ^= b >> 32;
	*h1 = a ? a : 1;
	*h2 = b;
}

/* The entry for (h1, h2), inserted if new; NULL when the table is full. Caller holds st.mu. */
static struct entry *lookup(uint64_t h1, uint64_t h2, bool *fresh)
{
	size_t i = (size_t)(h1 ^ (h2 >> 7)) & st.table_mask;
	for (;;) {
		struct entry *e = &st.table[i];
		if (e->h1 == 0) {
			if (st.table_used >= st.table_limit)
				return NULL;
			e->h1 = h1;
			e->h2 = h2;
			st.table_used++;
			*fresh = true;
			return e;
		}
		if (e->h1 == h1 && e->h2 == h2) {
			*fresh = false;
			return e;
		}
		i = (i + 1) & st.table_mask;
	}
}

/* The integer after "key": in body, or -1. */
static int64_t scan_int(const char *body, size_t len, const char *key)
{
	size_t kl = strlen(key);
	const char *end = body + len;
	const char *p = body;
	while ((p = memmem(p, (size_t)(end - p), key, kl)) != NULL) {
		p += kl;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p < end && *p == ':') {
			p++;
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			if (p >= end || *p < '0' || *p > '9')
				return -1;
			int64_t v = 0;
			while (p < end && *p >= '0' && *p <= '9' && v < INT64_MAX / 10)
				v = v * 10 + (*p++ - '0');
			return v;
		}
	}
	return -1;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int64_t pct(const int64_t *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

struct sbuf {
	char *s;
	size_t len, cap;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t ncap = b->cap * 2 + (size_t)n + 64;
		char *ns = realloc(b->s, ncap);
		if (ns == NULL)
			die("out of memory");
		b->s = ns;
		b->cap = ncap;
	}
}

/* The counters as JSON; with_latency adds the percentiles of the samples (a copy and a sort, outside the lock). */
static char *stats_json(bool with_latency, size_t *len)
{
	pthread_mutex_lock(&st.mu);
	size_t n = with_latency ? st.nsamples : 0;
	int64_t *v = malloc((n ? n : 1) * sizeof *v);
	if (v == NULL)
		die("out of memory");
	memcpy(v, st.samples, n * sizeof *v);
	struct sbuf b = {.s = xmalloc(2048), .cap = 2048};
	sb_printf(&b,
		  "{\"received\":%" PRIu64 ",\"ok\":%" PRIu64 ",\"failed_on_purpose\":%" PRIu64
		  ",\"duplicates\":%" PRIu64 ",\"distinct\":%" PRIu64 ",\"distinct_ok\":%" PRIu64 ",\"no_id\":%" PRIu64
		  ",\"table_full\":%" PRIu64 ",\"verify\":%s,\"verify_ok\":%" PRIu64 ",\"verify_failed\":%" PRIu64
		  ",\"parse_failed\":%" PRIu64 ",\"too_big\":%" PRIu64 ",\"first_ns\":%" PRId64 ",\"last_ns\":%" PRId64
		  ",\"samples_dropped\":%" PRIu64 ",\"capacity\":%zu",
		  st.received, st.ok, st.failed_on_purpose, st.duplicates, st.distinct, st.distinct_ok, st.no_id,
		  st.table_full, st.verify ? "true" : "false", st.verify_ok, st.verify_failed, st.parse_failed,
		  st.too_big, st.first_ns, st.last_ns, st.samples_dropped, st.capacity);
	pthread_mutex_unlock(&st.mu);
	if (with_latency) {
		qsort(v, n, sizeof *v, cmp_i64);
		double sum = 0;
		for (size_t i = 0; i < n; i++)
			sum += (double)v[i];
		sb_printf(&b,
			  ",\"lat_ns\":{\"count\":%zu,\"min\":%" PRId64 ",\"p50\":%" PRId64 ",\"p90\":%" PRId64
			  ",\"p99\":%" PRId64 ",\"p999\":%" PRId64 ",\"max\":%" PRId64 ",\"mean\":%.0f}",
			  n, n ? v[0] : 0, pct(v, n, 0.50), pct(v, n, 0.90), pct(v, n, 0.99), pct(v, n, 0.999),
			  n ? v[n - 1] : 0, n ? sum / (double)n : 0.0);
	}
	sb_printf(&b, "}\n");
	free(v);
	*len = b.len;
	return b.s;
}

static char *receipts_text(size_t *len)
{
	struct sbuf b = {.s = xmalloc(65536), .cap = 65536};
	pthread_mutex_lock(&st.mu);
	for (size_t i = 0; i < st.capacity; i++)
		if (st.receipts[i] != 0)
			sb_printf(&b, "%zu %" PRId64 "\n", i, st.receipts[i]);
	pthread_mutex_unlock(&st.mu);
	*len = b.len;
	return b.s;
}

static void reset_all(void)
{
	pthread_mutex_lock(&st.mu);
	memset(st.table, 0, (st.table_mask + 1) * sizeof *st.table);
	memset(st.receipts, 0, st.capacity * sizeof *st.receipts);
	st.table_used = st.nsamples = 0;
	st.received = st.ok = st.failed_on_purpose = st.duplicates = st.distinct = st.distinct_ok = 0;
	st.no_id = st.table_full = st.verify_ok = st.verify_failed = st.parse_failed = 0;
	st.samples_dropped = st.too_big = 0;
	st.first_ns = st.last_ns = 0;
	pthread_mutex_unlock(&st.mu);
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status, char *text, size_t len,
				  const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* One delivery, fully received: record it and pick the answer. */
static struct MHD_Response *deliver(struct MHD_Connection *c, const char *url, struct req *q, unsigned *status)
{
	int64_t now = real_ns();
	int64_t sent = scan_int(q->body ? q->body : "", q->len, "\"sent_ns\"");
	int64_t seq = scan_int(q->body ? q->body : "", q->len, "\"seq\"");
	const char *id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "webhook-id");
	int vrc = HOOKD_OK;
	if (st.verify) {
		const char *ts = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "webhook-timestamp");
		const char *sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "webhook-signature");
		vrc = hookd_verify_v1(st.key, st.keylen, id, ts, sig, q->body, q->len, now / 1000000000, 300);
	}
	bool ok = true;
	pthread_mutex_lock(&st.mu);
	st.received++;
	if (q->too_big)
		st.too_big++;
	if (sent < 0 || seq < 0)
		st.parse_failed++;
	if (st.verify) {
		if (vrc == HOOKD_OK)
			st.verify_ok++;
		else
			st.verify_failed++;
	}
	if (id != NULL && *id != '\0') {
		uint64_t h1, h2;
		bool fresh = false;
		hash2(url, id, &h1, &h2);
		struct entry *e = lookup(h1, h2, &fresh);
		if (e == NULL) {
			st.table_full++;
		} else {
			if (fresh)
				st.distinct++;
			if (e->attempts < st.fail_first) {
				ok = false;
				st.failed_on_purpose++;
			} else {
				if (e->oks > 0)
					st.duplicates++;
				else
					st.distinct_ok++;
				e->oks++;
			}
			e->attempts++;
		}
	} else {
		st.no_id++;
	}
	if (ok) {
		st.ok++;
		if (st.first_ns == 0)
			st.first_ns = now;
		st.last_ns = now;
		if (sent > 0) {
			if (st.nsamples < st.capacity)
				st.samples[st.nsamples++] = now - sent;
			else
				st.samples_dropped++;
		}
		if (seq >= 0 && (uint64_t)seq < st.capacity && st.receipts[seq] == 0)
			st.receipts[seq] = now;
	}
	pthread_mutex_unlock(&st.mu);
	*status = ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE;
	return ok ? resp_ok : resp_fail;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	(void)cls;
	(void)version;
	bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
	if (!post) {
		size_t len;
		char *text;
		if (strcmp(url, "/stats") == 0 || strcmp(url, "/counters") == 0) {
			text = stats_json(url[1] == 's', &len);
			return reply_text(c, MHD_HTTP_OK, text, len, "application/json");
		}
		if (strcmp(url, "/receipts") == 0) {
			text = receipts_text(&len);
			return reply_text(c, MHD_HTTP_OK, text, len, "text/plain");
		}
		return MHD_queue_response(c, MHD_HTTP_NOT_FOUND, resp_empty);
	}
	struct req *q = *con_cls;
	if (q == NULL) {
		q = xmalloc(sizeof *q);
		*con_cls = q;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;
		if (q->len + n > BODY_MAX) {
			q->too_big = true;
		} else {
			if (q->len + n + 1 > q->cap) {
				size_t ncap = q->cap ? q->cap : 4096;
				while (ncap < q->len + n + 1)
					ncap *= 2;
				char *nb = realloc(q->body, ncap);
				if (nb == NULL)
					die("out of memory");
				q->body = nb;
				q->cap = ncap;
			}
			memcpy(q->body + q->len, upload_data, n);
			q->len += n;
			q->body[q->len] = '\0';
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/reset") == 0) {
		reset_all();
		return MHD_queue_response(c, MHD_HTTP_OK, resp_ok);
	}
	unsigned status;
	struct MHD_Response *r = deliver(c, url, q, &status);
	return MHD_queue_response(c, status, r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	struct req *q = *con_cls;
	if (q != NULL) {
		free(q->body);
		free(q);
		*con_cls = NULL;
	}
}

static unsigned long parse_num(const char *flag, const char *s, unsigned long max)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v > max)
		die("%s: not a number in range: %s", flag, s);
	return v;
}

static void usage(void)
{
	fputs("usage: receiver [--listen 127.0.0.1:PORT] [--capacity N] [--threads N] [--fail-first N]\n"
	      "                [--verify whsec_...]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	bench_prog = "receiver";
	const char *listen_addr = "127.0.0.1:0";
	unsigned long capacity = 1u << 20, threads = 1, fail_first = 0;
	const char *secret = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (i + 1 >= argc)
			usage();
		const char *v = argv[++i];
		if (strcmp(a, "--listen") == 0)
			listen_addr = v;
		else if (strcmp(a, "--capacity") == 0)
			capacity = parse_num(a, v, 1ul << 28);
		else if (strcmp(a, "--threads") == 0)
			threads = parse_num(a, v, 64);
		else if (strcmp(a, "--fail-first") == 0)
			fail_first = parse_num(a, v, 1000000);
		else if (strcmp(a, "--verify") == 0)
			secret = v;
		else
			usage();
	}
	if (capacity < 16)
		capacity = 16;
	if (threads < 1)
		threads = 1;
	prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the orchestrator */

	st.capacity = capacity;
	st.fail_first = (uint32_t)fail_first;
	size_t slots = 1;
	while (slots < capacity * 2)
		slots <<= 1;
	st.table = xmalloc(slots * sizeof *st.table);
	st.table_mask = slots - 1;
	st.table_limit = capacity;
	st.samples = xmalloc(capacity * sizeof *st.samples);
	st.receipts = xmalloc(capacity * sizeof *st.receipts);
	if (secret != NULL) {
		if (hookd_secret_decode(secret, st.key, &st.keylen) != HOOKD_OK)
			die("--verify: not a valid whsec_ secret");
		st.verify = true;
	}

	char host[64];
	const char *colon = strrchr(listen_addr, ':');
	if (colon == NULL || (size_t)(colon - listen_addr) >= sizeof host)
		die("--listen: want HOST:PORT");
	memcpy(host, listen_addr, (size_t)(colon - listen_addr));
	host[colon - listen_addr] = '\0';
	struct sockaddr_in sa = {.sin_family = AF_INET};
	sa.sin_port = htons((uint16_t)parse_num("--listen port", colon + 1, 65535));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		die("--listen: not an IPv4 address: %s", host);

	static char ok_text[] = "ok", fail_text[] = "failing on purpose";
	resp_ok = MHD_create_response_from_buffer(strlen(ok_text), ok_text, MHD_RESPMEM_PERSISTENT);
	resp_fail = MHD_create_response_from_buffer(strlen(fail_text), fail_text, MHD_RESPMEM_PERSISTENT);
	resp_empty = MHD_create_response_from_buffer(0, ok_text, MHD_RESPMEM_PERSISTENT);
	if (resp_ok == NULL || resp_fail == NULL || resp_empty == NULL)
		die("MHD_create_response_from_buffer failed");

	/* The signals we wait for are blocked in every thread (MHD's inherit the mask). */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	struct MHD_Daemon *d;
	if (threads > 1)
		d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, &sa,
				     MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads, MHD_OPTION_NOTIFY_COMPLETED,
				     on_completed, NULL, MHD_OPTION_CONNECTION_LIMIT, (unsigned)8192,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_LISTEN_BACKLOG_SIZE,
				     (unsigned)1024, MHD_OPTION_END);
	else
		d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, &sa,
				     MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_CONNECTION_LIMIT,
				     (unsigned)8192, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
				     MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024, MHD_OPTION_END);
	if (d == NULL)
		die("cannot listen on %s", listen_addr);
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	printf("{\"port\":%u}\n", info ? (unsigned)info->port : (unsigned)ntohs(sa.sin_port));
	fflush(stdout);

	int sig = 0;
	while (sigwait(&set, &sig) != 0)
		;
	MHD_stop_daemon(d);
	MHD_destroy_response(resp_ok);
	MHD_destroy_response(resp_fail);
	MHD_destroy_response(resp_empty);
	free(st.table);
	free(st.samples);
	free(st.receipts);
	return 0;
}
