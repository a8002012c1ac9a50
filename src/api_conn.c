/* api_conn.c: the API's connections against slow and flooding clients.
 *
 * libmicrohttpd's own timeout is an idle timeout that every byte resets: a client sending a header byte every
 * few seconds holds its connection for ever, and a few thousand of them fill --max-connections. So each
 * connection also has a deadline here, that bytes do not move:
 *   - receiving: a request must arrive whole (request line, headers, body) within --receive-timeout, counted from
 *     the connection's start for its first request and from the request line for the next ones;
 *   - answering (the request is in, or its write waits for the commit): none;
 *   - idle (answered, kept alive): the next request line must come within API_IDLE_S.
 * When the open connections reach three quarters of --max-connections, those receiving or idle get at most
 * PRESSURE_MS in their phase instead, so that new clients find room. A watchdog thread shuts down the socket of
 * a connection past its deadline; libmicrohttpd then reads the end of the stream and closes the connection as
 * usual. The fd stays libmicrohttpd's: it calls conn_event(CLOSED), which takes the connection out of the list
 * under the same lock the watchdog holds, before it closes the fd, so a shutdown never reaches a reused fd.
 * --max-connections-per-ip is libmicrohttpd's (MHD_OPTION_PER_IP_CONNECTION_LIMIT).
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "api.h"
#include "log.h"
#include "metrics.h"

#define PRESSURE_MS 1000
#define KILLED INT64_MIN /* the deadline of a connection the watchdog shut down */
/* Descriptors kept for everything but API connections: deliveries (about two per transfer in flight, with the
 * connection cache), the database, logs, the listening socket. */
#define FD_RESERVE 256

enum phase { RECEIVING, ANSWERING, IDLE };

struct conn {
	struct conn *prev, *next;
	int fd;
	int phase;        /* enum phase; written by the connection's libmicrohttpd thread only */
	int64_t since;    /* mono ms, the phase's start (atomic) */
	int64_t deadline; /* mono ms; 0: none; KILLED (atomic: the watchdog sets KILLED by compare-and-swap) */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv;
static struct conn *head; /* open connections, under mu */
static int nconn;
static int pressure_at; /* open connections from which PRESSURE_MS applies */
static int64_t receive_ms;
static bool running;
static pthread_t thread;

/* Move c's deadline to d, unless the watchdog killed it: false then. */
static bool deadline_set(struct conn *c, int64_t d)
{
	int64_t old = __atomic_load_n(&c->deadline, __ATOMIC_ACQUIRE);
	do {
		if (old == KILLED)
			return false;
	} while (!__atomic_compare_exchange_n(&c->deadline, &old, d, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	return true;
}

static void phase_begin(struct conn *c, enum phase p, int64_t limit_ms)
{
	int64_t now = mono_ms();
	c->phase = p;
	__atomic_store_n(&c->since, now, __ATOMIC_RELAXED);
	deadline_set(c, limit_ms > 0 ? now + limit_ms : 0);
}

void api_conn_event(void *cls, struct MHD_Connection *mc, void **socket_context,
		    enum MHD_ConnectionNotificationCode code)
{
	(void)cls;
	struct conn *c = *socket_context;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *fd = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
		c = xcalloc(1, sizeof *c);
		c->fd = fd != NULL ? fd->connect_fd : -1;
		phase_begin(c, RECEIVING, receive_ms);
		pthread_mutex_lock(&mu);
		c->next = head;
		if (head != NULL)
			head->prev = c;
		head = c;
		nconn++;
		pthread_mutex_unlock(&mu);
		*socket_context = c;
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED && c != NULL) {
		pthread_mutex_lock(&mu);
		if (c->prev != NULL)
			c->prev->next = c->next;
		else
			head = c->next;
		if (c->next != NULL)
			c->next->prev = c->prev;
		nconn--;
		pthread_mutex_unlock(&mu);
		free(c);
		*socket_context = NULL;
	}
}

static struct conn *conn_of(struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *i = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return i != NULL ? i->socket_context : NULL;
}

void api_conn_request(struct MHD_Connection *mc)
{
	struct conn *c = conn_of(mc);
	if (c != NULL && c->phase == IDLE) /* the first request keeps the deadline counted from the connection's start */
		phase_begin(c, RECEIVING, receive_ms);
}

bool api_conn_received(struct MHD_Connection *mc)
{
	struct conn *c = conn_of(mc);
	if (c == NULL)
		return true;
	c->phase = ANSWERING;
	return deadline_set(c, 0);
}

void api_conn_answered(struct MHD_Connection *mc)
{
	struct conn *c = conn_of(mc);
	if (c != NULL)
		phase_begin(c, IDLE, API_IDLE_S * 1000LL);
}

/* Shut down every connection past its deadline; how many. Under mu. */
static int sweep(int64_t now)
{
	bool pressure = nconn >= pressure_at;
	int killed = 0;
	for (struct conn *c = head; c != NULL; c = c->next) {
		int64_t d = __atomic_load_n(&c->deadline, __ATOMIC_ACQUIRE);
		if (d == 0 || d == KILLED)
			continue;
		int64_t due = d;
		if (pressure && __atomic_load_n(&c->since, __ATOMIC_RELAXED) + PRESSURE_MS < due)
			due = __atomic_load_n(&c->since, __ATOMIC_RELAXED) + PRESSURE_MS;
		if (now < due || !__atomic_compare_exchange_n(&c->deadline, &d, KILLED, false, __ATOMIC_ACQ_REL,
							     __ATOMIC_ACQUIRE))
			continue; /* not due, or its phase just changed: judged again at the next sweep */
		if (c->fd >= 0)
			shutdown(c->fd, SHUT_RDWR); /* libmicrohttpd reads the end of the stream and closes it */
		killed++;
	}
	return killed;
}

static void *watchdog(void *arg)
{
	(void)arg;
	/* a tenth of the shortest limit, so that a deadline is kept within 10 % (and 20-250 ms) */
	int64_t period = receive_ms / 10 < PRESSURE_MS / 10 ? receive_ms / 10 : PRESSURE_MS / 10;
	period = period < 20 ? 20 : period > 250 ? 250 : period;
	int64_t logged = mono_ms(), unlogged = 0;
	pthread_mutex_lock(&mu);
	while (running) {
		struct timespec ts = mono_after_ns(period * 1000000);
		pthread_cond_timedwait(&cv, &mu, &ts);
		if (!running)
			break;
		int64_t now = mono_ms();
		int killed = sweep(now);
		METRIC_SET(http_connections, nconn);
		if (killed > 0)
			METRIC_ADD(http_closed_slow, (uint64_t)killed);
		unlogged += killed;
		if (unlogged > 0 && now - logged >= 60000) { /* an attack is one line a minute, not one per connection */
			log_info("api: closed %lld connections that did not send their request in time (%d open)",
				 (long long)unlogged, nconn);
			unlogged = 0;
			logged = now;
		}
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

unsigned api_conn_limit(const struct config *cfg)
{
	rlim_t want = (rlim_t)cfg->max_connections + 2 * (rlim_t)cfg->max_inflight + FD_RESERVE;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return (unsigned)cfg->max_connections;
	if (rl.rlim_cur < want && rl.rlim_cur != RLIM_INFINITY) { /* raise the soft limit as far as needed and allowed */
		struct rlimit up = {rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max, rl.rlim_max};
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl.rlim_cur = up.rlim_cur;
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want)
		return (unsigned)cfg->max_connections;
	long room = (long)rl.rlim_cur - 2L * cfg->max_inflight - FD_RESERVE;
	unsigned n = room < 16 ? 16 : (unsigned)room;
	log_warnx("api: the open file limit (%llu, ulimit -n) leaves room for %u API connections, not the %d of "
		  "--max-connections: raise it (LimitNOFILE= under systemd)",
		  (unsigned long long)rl.rlim_cur, n, cfg->max_connections);
	return n;
}

void api_conn_start(const struct config *cfg, unsigned max_connections)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cv, &ca);
	pthread_condattr_destroy(&ca);
	receive_ms = cfg->receive_timeout_ms;
	pressure_at = (int)(max_connections - max_connections / 4);
	running = true;
	if (pthread_create(&thread, NULL, watchdog, NULL) != 0)
		fatalx("api: cannot start the connection watchdog");
}

void api_conn_stop(void)
{
	pthread_mutex_lock(&mu);
	if (!running) {
		pthread_mutex_unlock(&mu);
		return;
	}
	running = false;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	pthread_join(thread, NULL);
	pthread_cond_destroy(&cv);
}
