/* loadgen.c: the benchmark's HTTP load generator.
 *
 * POSTs JSON bodies in the Svix MessageIn shape
 *   {"eventType":"bench.event"[,"deliverAt":"..."],"payload":{"sent_ns":<CLOCK_REALTIME ns>,"seq":<n>,"pad":"xx.."}}
 * padded to --size bytes, with `Authorization: Bearer <token>`, over keep-alive HTTP/1.1 connections.
 *
 *   closed loop (default)  --concurrency C senders, each sending its next request when the previous answer is in,
 *                          until --count requests are done; latency = request written -> answer read.
 *   open loop (--rate R)   request i is due at start + i/R; it goes out on an idle connection (up to
 *                          --concurrency of them), or waits for one; latency = due time -> answer read, so a
 *                          slow server is not hidden by a generator that waits for it (coordinated omission).
 *
 * Engines: "epoll" (default): a single-threaded non-blocking HTTP/1.1 client, cheap enough that it is not the
 * bottleneck; "curl": libcurl multi with one easy handle per sender (the client library hookd's dispatcher
 * uses), for the "raw libcurl multi" limit.
 *
 * --sign whsec_... makes it a Standard Webhooks sender (the inbound scenario, POST /in/{source}): each request
 * also carries webhook-id "bench_<seq>", webhook-timestamp and webhook-signature, signed with libhookd.
 * --idempotency PREFIX gives each request an Idempotency-Key of its own ("PREFIX-<seq>"), as the Svix SDKs do.
 *
 * Prints one JSON object on stdout: count, ok (2xx), status counts, errors (non-2xx by status and "io"), elapsed,
 * rate, latency percentiles, how late the open loop sent, first send and last answer times (CLOCK_REALTIME ns),
 * the generator's own CPU seconds. --acks FILE writes "seq sent_ns done_ns status" per request.
 * Exit status: 0 when every request was answered (whatever the status), 3 on --timeout, 2 on bad usage.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>

#include "bench.h"
#include "hookd.h"
#include <unistd.h>

#include <arpa/inet.h>

/* ---- options and shared state ------------------------------------------------------------------------------ */

static struct {
	const char *url;
	char host[64];
	unsigned port;
	char path[512];
	const char *token;
	const char *event_type;
	const char *deliver_at;
	const char *acks;
	const char *engine;
	const char *sign; /* a whsec_ secret: sign each request as a Standard Webhooks sender */
	const char *idem; /* a prefix: each request gets an Idempotency-Key of its own (prefix-seq), as the SDKs send */
	uint8_t key[HOOKD_KEY_MAX];
	size_t keylen;
	long count;
	long concurrency;
	double rate; /* 0: closed loop */
	long size;
	long seq_start;
	double timeout_s;
} opt = {.event_type = "bench.event", .engine = "epoll", .count = 1000, .concurrency = 64, .size = 1024,
	 .timeout_s = 300};

struct sample {
	int64_t sent_ns;  /* CLOCK_REALTIME, written into the body */
	int64_t done_ns;  /* CLOCK_REALTIME, answer complete */
	int64_t lat_ns;   /* monotonic: start (closed) or due time (open) -> answer */
	int64_t lag_ns;   /* open loop: actual send - due time */
	int status;       /* HTTP status, 0 for an I/O error */
};

static struct sample *samples;
static long issued, completed;
static int64_t t0_mono, first_send_rt, last_done_rt;
static long status_counts[600];
static long io_errors;
static long reconnects;
static char *pad_src;
static volatile sig_atomic_t interrupted;

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);
	if (p == NULL)
		die("out of memory");
	return p;
}

/* Due time (monotonic ns) of request i in the open loop. */
static int64_t due_ns(long i)
{
	return t0_mono + (int64_t)((double)i * 1e9 / opt.rate);
}

/* The body of request seq into out (capacity cap); returns its length. */
static size_t make_body(char *out, size_t cap, long seq, int64_t sent_ns)
{
	char head[512];
	int hl;
	if (opt.deliver_at)
		hl = snprintf(head, sizeof head,
			      "{\"eventType\":\"%s\",\"deliverAt\":\"%s\",\"payload\":{\"sent_ns\":%" PRId64
			      ",\"seq\":%ld,\"pad\":\"",
			      opt.event_type, opt.deliver_at, sent_ns, seq);
	else
		hl = snprintf(head, sizeof head, "{\"eventType\":\"%s\",\"payload\":{\"sent_ns\":%" PRId64 ",\"seq\":%ld,\"pad\":\"",
			      opt.event_type, sent_ns, seq);
	if (hl < 0 || (size_t)hl >= sizeof head)
		die("body head too long");
	const char tail[] = "\"}}";
	long padn = opt.size - hl - (long)(sizeof tail - 1);
	if (padn < 0)
		padn = 0;
	size_t need = (size_t)hl + (size_t)padn + sizeof tail;
	if (need > cap)
		die("body buffer too small");
	memcpy(out, head, (size_t)hl);
	memcpy(out + hl, pad_src, (size_t)padn);
	memcpy(out + hl + padn, tail, sizeof tail);
	return (size_t)hl + (size_t)padn + sizeof tail - 1;
}

static void record(long i, int status, int64_t start_mono, int64_t due_mono, int64_t send_mono)
{
	int64_t now = mono_ns();
	struct sample *s = &samples[i];
	s->done_ns = real_ns();
	s->status = status;
	s->lat_ns = now - (opt.rate > 0 ? due_mono : start_mono);
	s->lag_ns = opt.rate > 0 ? send_mono - due_mono : 0;
	if (status > 0 && status < 600)
		status_counts[status]++;
	else
		io_errors++;
	last_done_rt = s->done_ns;
	completed++;
}

/* ---- epoll engine --------------------------------------------------------------------------------------------- */

enum cstate { C_IDLE, C_CONNECTING, C_WRITING, C_READING };

struct conn {
	int fd;
	enum cstate state;
	bool want_out;
	long req;              /* index of the request in flight, -1 if none */
	int64_t start, due;    /* monotonic */
	char *wbuf;
	size_t wcap, wlen, woff;
	char *rbuf;
	size_t rcap, rlen;
	long served;           /* requests completed on this connection */
	struct conn *next_idle;
};

static struct conn *conns;
static struct conn *idle_head;
static int epfd;
static struct sockaddr_in dest;

static void push_idle(struct conn *c)
{
	c->state = C_IDLE;
	c->req = -1;
	c->next_idle = idle_head;
	idle_head = c;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->want_out = false;
	c->rlen = 0;
	c->served = 0;
}

static void set_events(struct conn *c, bool out)
{
	if (c->want_out == out)
		return;
	struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0u), .data.ptr = c};
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));
	c->want_out = out;
}

/* The request in flight on c failed at the transport level: record it, drop the connection. */
static void conn_fail(struct conn *c)
{
	if (c->req >= 0)
		record(c->req, 0, c->start, c->due, c->start);
	conn_close(c);
	push_idle(c);
}

static bool try_parse(struct conn *c);

static void try_write(struct conn *c)
{
	while (c->woff < c->wlen) {
		ssize_t n = write(c->fd, c->wbuf + c->woff, c->wlen - c->woff);
		if (n > 0) {
			c->woff += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			set_events(c, true);
			return;
		}
		conn_fail(c);
		return;
	}
	set_events(c, false);
	c->state = C_READING;
	if (c->rlen > 0) /* an answer that came before the request was all written */
		try_parse(c);
}

static bool conn_open(struct conn *c)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->fd = fd;
	c->want_out = true;
	c->rlen = 0;
	c->served = 0;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&dest, sizeof dest) < 0 && errno != EINPROGRESS) {
		conn_close(c);
		return false;
	}
	reconnects++;
	return true;
}

/* The Standard Webhooks headers of request seq (lines ending in CRLF) into out. */
static void sign_headers(char *out, size_t cap, long seq, int64_t ts, const char *body, size_t blen)
{
	char id[32], v1[HOOKD_SIG_V1_LEN];
	snprintf(id, sizeof id, "bench_%ld", seq);
	if (hookd_sign_v1(opt.key, opt.keylen, id, ts, body, blen, v1, sizeof v1) != HOOKD_OK)
		die("signing failed");
	snprintf(out, cap, "webhook-id: %s\r\nwebhook-timestamp: %" PRId64 "\r\nwebhook-signature: %s\r\n", id, ts,
		 v1);
}

/* Put request i on idle connection c. */
static void start_request(struct conn *c, long i)
{
	int64_t now = mono_ns();
	int64_t sent = real_ns();
	if (first_send_rt == 0)
		first_send_rt = sent;
	c->req = i;
	c->start = now;
	c->due = opt.rate > 0 ? due_ns(i) : now;
	samples[i].sent_ns = sent;
	char *body = c->wbuf + 1024;
	size_t blen = make_body(body, c->wcap - 1024, opt.seq_start + i, sent);
	char head[1024], sig[256] = "", idem[160] = "";
	if (opt.sign != NULL)
		sign_headers(sig, sizeof sig, opt.seq_start + i, sent / 1000000000, body, blen);
	if (opt.idem != NULL)
		snprintf(idem, sizeof idem, "Idempotency-Key: %s-%ld\r\n", opt.idem, opt.seq_start + i);
	int hl = snprintf(head, sizeof head,
			  "POST %s HTTP/1.1\r\nHost: %s:%u\r\nAuthorization: Bearer %s\r\n"
			  "Content-Type: application/json\r\nContent-Length: %zu\r\n%s%s\r\n",
			  opt.path, opt.host, opt.port, opt.token ? opt.token : "", blen, sig, idem);
	if (hl < 0 || hl >= (int)sizeof head)
		die("request head too long");
	/* head goes right before the body in wbuf, which keeps 1024 bytes free for it */
	char *start = body - hl;
	memcpy(start, head, (size_t)hl);
	c->wlen = (size_t)hl + blen;
	memmove(c->wbuf, start, c->wlen);
	c->woff = 0;
	issued++;
	if (c->fd < 0) {
		if (!conn_open(c)) {
			conn_fail(c);
			return;
		}
		c->state = C_CONNECTING;
		return;
	}
	c->state = C_WRITING;
	try_write(c);
}

/* Length of a complete chunked body at p (n bytes), or 0 if not complete yet, -1 if malformed. */
static long chunked_len(const char *p, size_t n)
{
	size_t off = 0;
	for (;;) {
		const char *eol = memmem(p + off, n - off, "\r\n", 2);
		if (eol == NULL)
			return 0;
		char *end;
		unsigned long sz = strtoul(p + off, &end, 16);
		if (end == p + off)
			return -1;
		off = (size_t)(eol - p) + 2;
		if (sz == 0) {
			/* trailers, then an empty line */
			for (;;) {
				const char *e2 = memmem(p + off, n - off, "\r\n", 2);
				if (e2 == NULL)
					return 0;
				size_t linelen = (size_t)(e2 - (p + off));
				off = (size_t)(e2 - p) + 2;
				if (linelen == 0)
					return (long)off;
			}
		}
		if (n - off < sz + 2)
			return 0;
		off += sz + 2;
	}
}

/* Is the answer in c->rbuf complete? Then record it and return true (conn is idle or closed after). */
static bool try_parse(struct conn *c)
{
	const char *hend = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
	if (hend == NULL)
		return false;
	size_t hlen = (size_t)(hend - c->rbuf) + 4;
	int status = 0;
	if (c->rlen < 12 || strncmp(c->rbuf, "HTTP/1.", 7) != 0) {
		conn_fail(c);
		return true;
	}
	status = atoi(c->rbuf + 9);
	long clen = -1;
	bool chunked = false, close_after = strncmp(c->rbuf, "HTTP/1.0", 8) == 0;
	const char *line = memchr(c->rbuf, '\n', hlen);
	while (line != NULL && (size_t)(line - c->rbuf) + 1 < hlen) {
		line++;
		if (strncasecmp(line, "content-length:", 15) == 0)
			clen = strtol(line + 15, NULL, 10);
		else if (strncasecmp(line, "transfer-encoding:", 18) == 0) {
			const char *e = memchr(line, '\r', hlen - (size_t)(line - c->rbuf));
			if (e && memmem(line, (size_t)(e - line), "chunked", 7))
				chunked = true;
		} else if (strncasecmp(line, "connection:", 11) == 0) {
			const char *e = memchr(line, '\r', hlen - (size_t)(line - c->rbuf));
			if (e && memmem(line, (size_t)(e - line), "close", 5))
				close_after = true;
		}
		line = memchr(line, '\n', hlen - (size_t)(line - c->rbuf));
	}
	size_t total;
	if (chunked) {
		long bl = chunked_len(c->rbuf + hlen, c->rlen - hlen);
		if (bl < 0) {
			conn_fail(c);
			return true;
		}
		if (bl == 0)
			return false;
		total = hlen + (size_t)bl;
	} else if (clen >= 0) {
		if (c->rlen < hlen + (size_t)clen)
			return false;
		total = hlen + (size_t)clen;
	} else if (status == 204 || status == 304 || (status >= 100 && status < 200)) {
		total = hlen;
	} else {
		return false; /* body until close: recorded on EOF */
	}
	if (status >= 100 && status < 200) { /* an interim answer: drop it, keep reading */
		memmove(c->rbuf, c->rbuf + total, c->rlen - total);
		c->rlen -= total;
		return try_parse(c);
	}
	record(c->req, status, c->start, c->due, c->start);
	c->served++;
	memmove(c->rbuf, c->rbuf + total, c->rlen - total);
	c->rlen -= total;
	if (close_after)
		conn_close(c);
	push_idle(c);
	return true;
}

static void on_readable(struct conn *c)
{
	for (;;) {
		if (c->rcap - c->rlen < 4096) {
			size_t ncap = c->rcap * 2;
			char *nb = realloc(c->rbuf, ncap);
			if (nb == NULL)
				die("out of memory");
			c->rbuf = nb;
			c->rcap = ncap;
		}
		ssize_t n = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen - 1);
		if (n > 0) {
			c->rlen += (size_t)n;
			if (c->state == C_READING && try_parse(c))
				return;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		/* EOF or error */
		if (c->state == C_READING && c->rlen > 0) {
			/* a body delimited by the close */
			const char *hend = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
			if (hend != NULL && strncmp(c->rbuf, "HTTP/1.", 7) == 0) {
				record(c->req, atoi(c->rbuf + 9), c->start, c->due, c->start);
				conn_close(c);
				push_idle(c);
				return;
			}
		}
		if (c->state == C_IDLE) { /* the server closed an idle keep-alive connection */
			conn_close(c);
			return;
		}
		conn_fail(c);
		return;
	}
}

static void on_event(struct conn *c, uint32_t ev)
{
	if (c->fd < 0)
		return;
	if (c->state == C_CONNECTING) {
		int err = 0;
		socklen_t el = sizeof err;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err != 0) {
			conn_fail(c);
			return;
		}
		if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
			c->state = C_WRITING;
			try_write(c);
		}
		return;
	}
	if ((ev & EPOLLOUT) && c->state == C_WRITING)
		try_write(c);
	if (c->fd >= 0 && (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		on_readable(c);
}

static int run_epoll(void)
{
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1: %s", strerror(errno));
	int tfd = -1;
	if (opt.rate > 0) {
		tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
		if (tfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev) < 0)
			die("timerfd: %s", strerror(errno));
	}
	conns = xcalloc((size_t)opt.concurrency, sizeof *conns);
	size_t wcap = (size_t)opt.size + 2048 + (opt.deliver_at ? strlen(opt.deliver_at) : 0);
	for (long i = opt.concurrency - 1; i >= 0; i--) {
		struct conn *c = &conns[i];
		c->fd = -1;
		c->wcap = wcap;
		c->wbuf = xcalloc(1, wcap);
		c->rcap = 16384;
		c->rbuf = xcalloc(1, c->rcap);
		push_idle(c);
	}
	t0_mono = mono_ns();
	int64_t deadline = t0_mono + (int64_t)(opt.timeout_s * 1e9);
	struct epoll_event evs[256];
	int64_t armed = -1;
	while (completed < opt.count && !interrupted) {
		int64_t now = mono_ns();
		if (now > deadline)
			return 3;
		/* hand out work to idle connections */
		while (idle_head != NULL && issued < opt.count) {
			if (opt.rate > 0 && due_ns(issued) > now)
				break;
			struct conn *c = idle_head;
			idle_head = c->next_idle;
			start_request(c, issued);
		}
		if (opt.rate <= 0 && idle_head != NULL && issued < opt.count)
			continue; /* (a connection that failed at once is idle again) */
		int timeout_ms = 100;
		if (opt.rate > 0 && issued < opt.count && idle_head != NULL) {
			int64_t due = due_ns(issued);
			if (due != armed) {
				struct itimerspec its = {.it_value = {.tv_sec = due / 1000000000,
								      .tv_nsec = due % 1000000000}};
				timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
				armed = due;
			}
		}
		int n = epoll_wait(epfd, evs, 256, timeout_ms);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (int k = 0; k < n; k++) {
			if (evs[k].data.ptr == NULL) {
				uint64_t x;
				if (read(tfd, &x, sizeof x) < 0) { /* spurious */
				}
				armed = -1;
				continue;
			}
			on_event(evs[k].data.ptr, evs[k].events);
		}
	}
	return interrupted ? 3 : 0;
}

/* ---- libcurl multi engine ------------------------------------------------------------------------------------ */

struct cx {
	CURL *easy;
	long req;
	int64_t start, due;
	char *body;
	struct cx *next_idle;
};

static size_t discard(char *p, size_t sz, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return sz * n;
}

static int run_curl(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die("curl_global_init failed");
	CURLM *multi = curl_multi_init();
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, opt.concurrency * 2);
	char url[700], auth[600];
	snprintf(url, sizeof url, "http://%s:%u%s", opt.host, opt.port, opt.path);
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", opt.token ? opt.token : "");
	struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, auth);
	hdrs = curl_slist_append(hdrs, "Expect:");
	struct cx *cxs = xcalloc((size_t)opt.concurrency, sizeof *cxs);
	struct cx *idle = NULL;
	size_t bcap = (size_t)opt.size + 1024 + (opt.deliver_at ? strlen(opt.deliver_at) : 0);
	for (long i = opt.concurrency - 1; i >= 0; i--) {
		struct cx *x = &cxs[i];
		x->easy = curl_easy_init();
		x->body = xcalloc(1, bcap);
		x->req = -1;
		curl_easy_setopt(x->easy, CURLOPT_URL, url);
		curl_easy_setopt(x->easy, CURLOPT_POST, 1L);
		curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, discard);
		curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(x->easy, CURLOPT_TCP_NODELAY, 1L);
		curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
		x->next_idle = idle;
		idle = x;
	}
	t0_mono = mono_ns();
	int64_t deadline = t0_mono + (int64_t)(opt.timeout_s * 1e9);
	int running = 0;
	while (completed < opt.count && !interrupted) {
		int64_t now = mono_ns();
		if (now > deadline)
			return 3;
		while (idle != NULL && issued < opt.count) {
			if (opt.rate > 0 && due_ns(issued) > now)
				break;
			struct cx *x = idle;
			idle = x->next_idle;
			long i = issued++;
			int64_t sent = real_ns();
			if (first_send_rt == 0)
				first_send_rt = sent;
			samples[i].sent_ns = sent;
			size_t blen = make_body(x->body, bcap, opt.seq_start + i, sent);
			curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->body);
			curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
			x->req = i;
			x->start = mono_ns();
			x->due = opt.rate > 0 ? due_ns(i) : x->start;
			curl_multi_add_handle(multi, x->easy);
		}
		curl_multi_perform(multi, &running);
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(multi, &left)) != NULL) {
			if (m->msg != CURLMSG_DONE)
				continue;
			struct cx *x;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			long code = 0;
			if (m->data.result == CURLE_OK)
				curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
			record(x->req, (int)code, x->start, x->due, x->start);
			curl_multi_remove_handle(multi, x->easy);
			x->req = -1;
			x->next_idle = idle;
			idle = x;
		}
		if (idle != NULL && issued < opt.count && opt.rate <= 0)
			continue;
		int timeout_ms = 100;
		if (opt.rate > 0 && issued < opt.count && idle != NULL) {
			int64_t wait = due_ns(issued) - mono_ns();
			timeout_ms = wait <= 0 ? 0 : (int)(wait / 1000000);
		}
		curl_multi_poll(multi, NULL, 0, timeout_ms, NULL);
	}
	for (long i = 0; i < opt.concurrency; i++) {
		curl_multi_remove_handle(multi, cxs[i].easy);
		curl_easy_cleanup(cxs[i].easy);
		free(cxs[i].body);
	}
	free(cxs);
	curl_slist_free_all(hdrs);
	curl_multi_cleanup(multi);
	curl_global_cleanup();
	return interrupted ? 3 : 0;
}

/* ---- results -------------------------------------------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static double pct_ms(const int64_t *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);
	return (double)v[i < n ? i : n - 1] / 1e6;
}

static void print_results(int rc, int64_t elapsed_ns)
{
	size_t n = 0, nl = 0;
	int64_t *lat = xcalloc((size_t)opt.count, sizeof *lat);
	int64_t *lag = xcalloc((size_t)opt.count, sizeof *lag);
	double sum = 0;
	long ok = 0;
	for (long i = 0; i < opt.count; i++) {
		if (samples[i].done_ns == 0)
			continue;
		if (samples[i].status >= 200 && samples[i].status < 300) {
			lat[n++] = samples[i].lat_ns;
			sum += (double)samples[i].lat_ns;
			ok++;
		}
		if (opt.rate > 0)
			lag[nl++] = samples[i].lag_ns;
	}
	qsort(lat, n, sizeof *lat, cmp_i64);
	qsort(lag, nl, sizeof *lag, cmp_i64);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
		     (double)ru.ru_stime.tv_usec / 1e6;
	double el = (double)elapsed_ns / 1e9;
	printf("{\"engine\":\"%s\",\"mode\":\"%s\",\"count\":%ld,\"concurrency\":%ld,\"target_rate\":%g,\"size\":%ld,"
	       "\"issued\":%ld,\"completed\":%ld,\"ok\":%ld,\"timed_out\":%s,\"elapsed_s\":%.6f,\"rate\":%.1f,",
	       opt.engine, opt.rate > 0 ? "open" : "closed", opt.count, opt.concurrency, opt.rate, opt.size, issued,
	       completed, ok, rc == 3 ? "true" : "false", el, el > 0 ? (double)completed / el : 0.0);
	printf("\"status\":{");
	const char *sep = "";
	for (int s = 0; s < 600; s++)
		if (status_counts[s]) {
			printf("%s\"%d\":%ld", sep, s, status_counts[s]);
			sep = ",";
		}
	printf("},\"errors\":{");
	sep = "";
	for (int s = 0; s < 600; s++)
		if (status_counts[s] && (s < 200 || s >= 300)) {
			printf("%s\"%d\":%ld", sep, s, status_counts[s]);
			sep = ",";
		}
	if (io_errors)
		printf("%s\"io\":%ld", sep, io_errors);
	printf("},\"connections_opened\":%ld,", reconnects);
	printf("\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f,\"mean\":%.3f},",
	       pct_ms(lat, n, 0.5), pct_ms(lat, n, 0.9), pct_ms(lat, n, 0.99), pct_ms(lat, n, 0.999),
	       n ? (double)lat[n - 1] / 1e6 : 0.0, n ? sum / (double)n / 1e6 : 0.0);
	printf("\"send_lag_ms\":{\"p99\":%.3f,\"max\":%.3f},", pct_ms(lag, nl, 0.99),
	       nl ? (double)lag[nl - 1] / 1e6 : 0.0);
	printf("\"first_send_ns\":%" PRId64 ",\"last_done_ns\":%" PRId64 ",\"cpu_s\":%.3f}\n", first_send_rt,
	       last_done_rt, cpu);
	fflush(stdout);
	free(lat);
	free(lag);
	if (opt.acks) {
		FILE *f = fopen(opt.acks, "w");
		if (f == NULL)
			die("--acks %s: %s", opt.acks, strerror(errno));
		for (long i = 0; i < opt.count; i++)
			if (samples[i].done_ns)
				fprintf(f, "%ld %" PRId64 " %" PRId64 " %d\n", opt.seq_start + i, samples[i].sent_ns,
					samples[i].done_ns, samples[i].status);
		if (fclose(f) != 0)
			die("--acks %s: %s", opt.acks, strerror(errno));
	}
}

/* ---- main ------------------------------------------------------------------------------------------------------ */

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void parse_url(const char *url)
{
	if (strncmp(url, "http://", 7) != 0)
		die("--url: only http://HOST:PORT/PATH");
	const char *h = url + 7;
	const char *colon = strchr(h, ':');
	const char *slash = strchr(h, '/');
	if (colon == NULL || (slash != NULL && colon > slash) || (size_t)(colon - h) >= sizeof opt.host)
		die("--url: want http://HOST:PORT/PATH");
	memcpy(opt.host, h, (size_t)(colon - h));
	opt.host[colon - h] = '\0';
	opt.port = (unsigned)strtoul(colon + 1, NULL, 10);
	snprintf(opt.path, sizeof opt.path, "%s", slash ? slash : "/");
	dest.sin_family = AF_INET;
	dest.sin_port = htons((uint16_t)opt.port);
	if (opt.port == 0 || opt.port > 65535 || inet_pton(AF_INET, opt.host, &dest.sin_addr) != 1)
		die("--url: want an IPv4 address and a port: %s", url);
}

static double num(const char *flag, const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *s == '\0' || *end != '\0' || v < 0)
		die("%s: not a number >= 0: %s", flag, s);
	return v;
}

static void usage(void)
{
	fputs("usage: loadgen --url http://127.0.0.1:PORT/PATH [--token T] [--count N] [--concurrency C]\n"
	      "               [--rate R] [--size BYTES] [--seq-start S] [--event-type T] [--deliver-at RFC3339]\n"
	      "               [--engine epoll|curl] [--timeout SECONDS] [--acks FILE] [--sign whsec_...]\n"
	      "               [--idempotency PREFIX]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	bench_prog = "loadgen";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (i + 1 >= argc)
			usage();
		const char *v = argv[++i];
		if (strcmp(a, "--url") == 0)
			opt.url = v;
		else if (strcmp(a, "--token") == 0)
			opt.token = v;
		else if (strcmp(a, "--count") == 0)
			opt.count = (long)num(a, v);
		else if (strcmp(a, "--concurrency") == 0)
			opt.concurrency = (long)num(a, v);
		else if (strcmp(a, "--rate") == 0)
			opt.rate = num(a, v);
		else if (strcmp(a, "--size") == 0)
			opt.size = (long)num(a, v);
		else if (strcmp(a, "--seq-start") == 0)
			opt.seq_start = (long)num(a, v);
		else if (strcmp(a, "--event-type") == 0)
			opt.event_type = v;
		else if (strcmp(a, "--deliver-at") == 0)
			opt.deliver_at = v;
		else if (strcmp(a, "--engine") == 0)
			opt.engine = v;
		else if (strcmp(a, "--timeout") == 0)
			opt.timeout_s = num(a, v);
		else if (strcmp(a, "--acks") == 0)
			opt.acks = v;
		else if (strcmp(a, "--sign") == 0)
			opt.sign = v;
		else if (strcmp(a, "--idempotency") == 0)
			opt.idem = v;
		else
			usage();
	}
	if (opt.url == NULL)
		usage();
	parse_url(opt.url);
	if (opt.count < 1 || opt.concurrency < 1 || opt.concurrency > 10000 || opt.size > (64l << 20))
		die("--count and --concurrency must be >= 1 (concurrency <= 10000), --size <= 64 MiB");
	if (strcmp(opt.engine, "epoll") != 0 && strcmp(opt.engine, "curl") != 0)
		die("--engine: epoll or curl");
	if (opt.sign != NULL && (strcmp(opt.engine, "epoll") != 0 ||
				 hookd_secret_decode(opt.sign, opt.key, &opt.keylen) != HOOKD_OK))
		die("--sign: a whsec_ secret, with the epoll engine");
	if (opt.idem != NULL && (strcmp(opt.engine, "epoll") != 0 || strlen(opt.idem) > 100))
		die("--idempotency: a prefix of at most 100 bytes, with the epoll engine");
	if (strlen(opt.event_type) > 200 || (opt.deliver_at && strlen(opt.deliver_at) > 100) ||
	    (opt.token && strlen(opt.token) > 500))
		die("--event-type, --deliver-at or --token too long");
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	samples = xcalloc((size_t)opt.count, sizeof *samples);
	pad_src = xcalloc(1, (size_t)opt.size + 1);
	memset(pad_src, 'x', (size_t)opt.size);
	int rc = strcmp(opt.engine, "curl") == 0 ? run_curl() : run_epoll();
	int64_t elapsed = mono_ns() - t0_mono;
	print_results(rc, elapsed);
	return rc;
}
