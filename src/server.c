/* server.c: process lifecycle for `hookd serve`.
 * Signals are blocked in every thread and taken synchronously here with sigtimedwait, so no work happens in a
 * signal handler. The main thread also runs the small periodic chores. */
#include "server.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "apptoken.h"
#include "cache.h"
#include "commit.h"
#include "config.h"
#include "deliver.h"
#include "apiver.h"
#include "evtypes.h"
#include "hookd.h"
#include "log.h"
#include "node.h"
#include "metrics.h"
#include "opevents.h"
#include "queue.h"
#include "scheduler.h"
#include "seal.h"
#include "source.h"
#include "store.h"
#include "task.h"

#define IDEMPOTENCY_TTL_MS (12LL * 3600 * 1000)

static int mkdir_p(const char *path)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* The data dir must exist and be writable: check by creating a file in it. */
static int data_dir_ready(const char *dir)
{
	char probe[4200];
	if (mkdir_p(dir) < 0) {
		log_errorx("hookd: cannot create data directory %s: %s", dir, strerror(errno));
		return -1;
	}
	snprintf(probe, sizeof probe, "%s/.write-test", dir);
	int fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		log_errorx("hookd: data directory %s is not writable: %s", dir, strerror(errno));
		return -1;
	}
	close(fd);
	unlink(probe);
	return 0;
}

/* HOOKD_TOKEN, else <data>/token, else a new one written there (shown once). Returns malloc'd. */
static char *token_load(const struct config *cfg)
{
	if (cfg->token != NULL)
		return xstrdup(cfg->token);
	char path[4200], buf[256];
	snprintf(path, sizeof path, "%s/token", cfg->data_dir);
	FILE *f = fopen(path, "r");
	if (f != NULL) {
		char *line = fgets(buf, sizeof buf, f);
		fclose(f);
		if (line != NULL) {
			line[strcspn(line, "\r\n")] = '\0';
			if (strlen(line) >= 8)
				return xstrdup(line);
		}
	}
	char secret[128];
	if (hookd_secret_new(32, secret, sizeof secret) != HOOKD_OK)
		return NULL;
	/* "hk_" + the base64 body made URL- and header-safe */
	char *tok = xmalloc(strlen(secret) + 4);
	char *o = tok + sprintf(tok, "hk_");
	for (const char *p = secret + 6; *p; p++)
		if (*p != '=')
			*o++ = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	*o = '\0';
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || dprintf(fd, "%s\n", tok) < 0 || fsync(fd) < 0) {
		log_errorx("hookd: cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(tok);
		return NULL;
	}
	close(fd);
	log_notice("hookd: generated an API token (stored in %s): %s", path, tok);
	return tok;
}

/* The key sealing stored secrets (seal.h): --secret-key, else the first line of <data>/secret.key, else (make
 * true) a new one written there, 0600 and fsynced before any secret is sealed with it. 0, or -1 (said why). */
static int keys_load(const struct config *cfg, bool make)
{
	char path[4200], buf[256], err[256];
	const char *key = cfg->secret_key;
	snprintf(path, sizeof path, "%s/secret.key", cfg->data_dir);
	if (key == NULL) {
		FILE *f = fopen(path, "r");
		if (f != NULL) {
			struct stat sb;
			if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & 077) != 0)
				log_warnx("hookd: %s can be read by other users (chmod 600 it)", path);
			key = fgets(buf, sizeof buf, f);
			fclose(f);
			if (key == NULL) {
				log_errorx("hookd: %s is empty", path);
				return -1;
			}
		} else if (errno != ENOENT || !make) {
			log_errorx("hookd: no secret key: cannot read %s: %s (give --secret-key)", path,
				strerror(errno));
			return -1;
		}
	}
	if (key == NULL) {
		int fd = seal_key_new(buf) == 0 ? open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600) : -1;
		if (fd < 0 || dprintf(fd, "%s\n", buf) < 0 || fsync(fd) < 0) {
			log_errorx("hookd: cannot write %s: %s", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
		int dfd = open(cfg->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* the new name durable too */
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
		key = buf;
		log_info("hookd: generated the key that encrypts stored secrets, in %s: keep it (and give it to every "
			 "node sharing the database; docs/security.md)", path);
	}
	int rc = seal_keys_set(key, cfg->secret_key_previous, err, sizeof err);
	OPENSSL_cleanse(buf, sizeof buf);
	if (rc < 0) {
		log_errorx("hookd: %s (%s)", err, cfg->secret_key != NULL ? "--secret-key" : path);
		return -1;
	}
	return 0;
}

static int listen_on(const char *addr)
{
	char host[256], port_s[16];
	int port;
	if (config_split_listen(addr, host, sizeof host, &port) < 0) {
		log_errorx("hookd: invalid listen address '%s' (expected HOST:PORT)", addr);
		return -1;
	}
	snprintf(port_s, sizeof port_s, "%d", port);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *res;
	int gai = getaddrinfo(host, port_s, &hints, &res);
	if (gai != 0) {
		log_errorx("hookd: cannot listen on %s: %s", addr, gai_strerror(gai));
		return -1;
	}
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 1024) < 0) {
		log_errorx("hookd: cannot listen on %s: %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static int load_cache(struct store *st)
{
	struct app *apps = NULL;
	struct endpoint *eps = NULL;
	size_t napps = 0, neps = 0;
	if (st->w->apps_load(st, &apps, &napps) != STORE_OK ||
	    st->w->endpoints_load(st, &eps, &neps) != STORE_OK) {
		free(apps);
		free(eps);
		return -1;
	}
	cache_load(apps, napps, eps, neps);
	struct event_type *types = NULL;
	size_t ntypes = 0;
	if (st->w->event_types_load(st, &types, &ntypes) != STORE_OK)
		return -1;
	evtypes_load(types, ntypes);
	struct api_version *vers = NULL;
	size_t nvers = 0;
	if (st->w->api_versions_load(st, &vers, &nvers) != STORE_OK)
		return -1;
	apiver_load(vers, nvers);
	return sources_load(st);
}

/* ---- chores: expire idempotency records; purge payloads and response bodies past their retention ---- */

#define RETENTION_BATCH 1000 /* rows of each kind per committer job: a short job never holds up live writes */

struct chore {
	struct commit_job job;
	int busy; /* atomic */
	const struct config *cfg;
};

static int chores_stopping; /* atomic: a purge that found more does not queue itself again */

/* On a shared database, one node at a time runs a chore: STORE_CONFLICT from chore_lock means another node's
 * batch is at it now, and this round is skipped (the purges are idempotent; the next round catches up). */
static int chore_lock(struct store *st, const char *name)
{
	return st->w->chore_lock != NULL ? st->w->chore_lock(st, name) : STORE_OK;
}

static int purge_run(struct store *st, void *arg)
{
	(void)arg;
	int rc = chore_lock(st, "idempotency");
	if (rc != STORE_OK)
		return rc == STORE_CONFLICT ? STORE_OK : rc;
	rc = st->w->idem_purge(st, now_ms() - IDEMPOTENCY_TTL_MS);
	return rc == STORE_OK ? st->w->tokens_purge(st, now_ms()) : rc; /* app tokens past their expiry */
}

static void chore_done(void *arg, int rc)
{
	(void)rc;
	__atomic_store_n(&((struct chore *)arg)->busy, 0, __ATOMIC_RELEASE);
}

struct retention_chore {
	struct chore c;
	bool more; /* the last job filled a batch: run again at once, behind the writes queued meanwhile */
};

static int retention_run(struct store *st, void *arg)
{
	struct retention_chore *r = arg;
	int64_t now = now_ms(), keep = r->c.cfg->retention_ms;
	bool more_inbound = false;
	r->more = false;
	int rc = chore_lock(st, "retention");
	if (rc != STORE_OK)
		return rc == STORE_CONFLICT ? STORE_OK : rc;
	rc = st->w->retention_purge(st, now, keep, RETENTION_BATCH, &r->more);
	/* a received request also answers dedup lookups: it stays for the longest dedup window too */
	if (sources_max_window_ms() > keep)
		keep = sources_max_window_ms();
	if (rc == STORE_OK)
		rc = st->w->inreq_purge(st, now - keep, RETENTION_BATCH, &more_inbound);
	r->more |= more_inbound;
	return rc;
}

static void retention_done(void *arg, int rc)
{
	struct retention_chore *r = arg;
	if (rc == STORE_OK && r->more && !__atomic_load_n(&chores_stopping, __ATOMIC_ACQUIRE))
		commit_submit(&r->c.job); /* from the committer thread: it takes the queue lock only to add */
	else
		chore_done(&r->c, rc);
}

static void chore_submit(struct chore *c)
{
	if (__atomic_exchange_n(&c->busy, 1, __ATOMIC_ACQ_REL) == 0)
		commit_submit(&c->job);
}

/* Store-wide gauges for /metrics: the pending and failed deliveries, each counted from its partial index (once a
 * chore interval, not per scrape). */
static void gauges_refresh(struct store *st)
{
	int64_t c[5];
	if (st->q->delivery_counts(st, NULL, NULL, c) == STORE_OK) {
		METRIC_SET(dead_letter, c[DS_FAIL]);
		METRIC_SET(pending_stored, c[DS_PENDING]);
	}
}

static void wait_for_signal(const struct config *cfg, struct store *st)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* static: a last job may still be queued when we return, to be run by commit_stop */
	static struct chore purge;
	static struct retention_chore retention;
	purge = (struct chore){.job = {.run = purge_run, .done = chore_done}, .cfg = cfg};
	purge.job.arg = &purge;
	retention.c = (struct chore){.job = {.run = retention_run, .done = retention_done}, .cfg = cfg};
	retention.c.job.arg = &retention;
	gauges_refresh(st);
	/* on a shared database, the running tasks of nodes that died are taken over about once a lease time */
	int64_t next_chore = mono_ms() + cfg->chore_interval_ms, next_adopt = INT64_MAX;
	if (sched->shared)
		next_adopt = mono_ms() + cfg->lease_time_ms;
	for (;;) {
		int64_t now = mono_ms(), next = next_chore < next_adopt ? next_chore : next_adopt;
		int64_t wait = next > now ? next - now : 0;
		struct timespec ts = {.tv_sec = wait / 1000, .tv_nsec = (long)(wait % 1000) * 1000000};
		int sig = sigtimedwait(&set, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("hookd: %s received, draining", sig == SIGTERM ? "SIGTERM" : "SIGINT");
			break;
		}
		if (sig >= 0 || errno != EAGAIN)
			continue;
		if (mono_ms() >= next_chore) {
			chore_submit(&purge);
			chore_submit(&retention.c);
			gauges_refresh(st);
			next_chore = mono_ms() + cfg->chore_interval_ms;
		}
		if (mono_ms() >= next_adopt) {
			tasks_adopt(false);
			next_adopt = mono_ms() + cfg->lease_time_ms;
		}
	}
	__atomic_store_n(&chores_stopping, 1, __ATOMIC_RELEASE);
	tasks_stop();
	/* the chore jobs may still be queued: commit_stop runs them before returning */
}

static void block_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* The database URL for the logs: a password in it (postgres://user:PASSWORD@host, password=...) is masked. */
static void url_for_log(const char *url, char *out, size_t n)
{
	snprintf(out, n, "%s", url);
	char *s = strstr(out, "://"), *at = s != NULL ? strchr(s + 3, '@') : NULL;
	char *colon = at != NULL ? memchr(s + 3, ':', (size_t)(at - s - 3)) : NULL;
	if (colon != NULL)
		memset(colon + 1, '*', (size_t)(at - colon - 1));
	for (char *p = strstr(out, "password="); p != NULL; p = strstr(p + 9, "password="))
		memset(p + 9, '*', strcspn(p + 9, " &"));
}

/* What the SSRF guard lets deliveries reach beyond the public internet, and through what. */
static void guard_banner(const struct config *cfg)
{
	char nets[1024];
	netguard_allow_format(&cfg->guard, nets, sizeof nets);
	if (nets[0] != '\0')
		log_info("hookd: deliveries may reach %s despite the SSRF guard%s", nets,
			 netguard_allows_loopback(&cfg->guard) ? " (loopback deliveries are allowed)" : "");
	if (cfg->proxy != NULL) {
		char shown[1024];
		url_for_log(cfg->proxy, shown, sizeof shown);
		log_info("hookd: deliveries go through the proxy %s (the SSRF guard checks the proxy's address only)",
			 shown);
	}
	if (cfg->guard.require_https)
		log_info("hookd: http:// URLs are refused (--require-https)");
}

static int serve(struct config *cfg)
{
	char err[512];
	int status = 1, fd = -1;
	struct store *st = NULL, *st_out = NULL; /* st_out: the outcomes' lane's (commit.h) */
	char *token = NULL;
	struct api *api = NULL;
	if (data_dir_ready(cfg->data_dir) < 0 || (token = token_load(cfg)) == NULL)
		goto out;
	if ((fd = listen_on(cfg->listen)) < 0)
		goto out;
	if (node_init(cfg->data_dir) < 0 || keys_load(cfg, true) < 0)
		goto out;
	if ((st = store_open(cfg->db_url, err, sizeof err)) == NULL) {
		log_errorx("hookd: %s", err);
		goto out;
	}
	cache_init();
	apptoken_init();
	if (load_cache(st) < 0 || deliver_init(cfg) < 0 || sched_init(cfg, st, deliver_wake) < 0) {
		char shown[1024];
		url_for_log(cfg->db_url, shown, sizeof shown);
		log_errorx("hookd: cannot load state from %s", shown);
		goto out_deliver;
	}
	if (opevents_init(cfg, st, err, sizeof err) < 0) {
		log_errorx("hookd: %s", err);
		goto out_deliver;
	}
	commit_start(st, cfg->commit_wait_ms);
	/* several writers: outcomes commit on a connection of their own, beside ingest, not in its transactions */
	if (st->c != NULL && (st_out = store_open(cfg->db_url, err, sizeof err)) == NULL)
		log_warnx("hookd: outcomes commit with ingest: %s", err);
	if (st_out != NULL)
		commit_lane_start(COMMIT_OUTCOMES, st_out, COMMIT_OUTCOMES_WAIT_MS);
	sched->start();
	deliver_start();
	tasks_adopt(true); /* the tasks cut short by this node's last stop go on from their cursor */
	if ((api = api_start(cfg, st, fd, token)) == NULL) {
		log_errorx("hookd: cannot start the HTTP server on %s", cfg->listen);
		status = 1;
	} else {
		char shown[1024];
		url_for_log(cfg->db_url, shown, sizeof shown);
		log_info("hookd %s listening on http://%s (database %s)", HOOKD_VERSION, cfg->listen, shown);
		guard_banner(cfg);
		wait_for_signal(cfg, st);
		api_stop(api);
		fd = -1; /* closed by api_stop */
		status = 0;
	}
	deliver_stop();
	commit_stop(); /* the last outcomes: their retries reach the schedule, disposed below */
	queue_dispose();
	log_info("hookd: stopped");
out_deliver:
	sched->dispose();
	deliver_dispose();
	evtypes_dispose();
	apiver_dispose();
	sources_dispose();
	cache_dispose();
	apptoken_dispose();
out:
	store_close(st_out);
	store_close(st);
	seal_keys_clear();
	if (fd >= 0)
		close(fd);
	free(token);
	return status;
}

int server_main(int argc, char **argv)
{
	struct config cfg;
	char err[512];
	bool check = false;
	for (int i = 0; i < argc; i++) /* --check: validate the settings (flags, environment, file) and exit */
		if (strcmp(argv[i], "--check") == 0) {
			check = true;
			memmove(&argv[i], &argv[i + 1], (size_t)(argc - i - 1) * sizeof *argv);
			argc--;
			i--;
		}
	config_init(&cfg);
	if (config_load(&cfg, argc, argv, err, sizeof err) < 0) {
		fprintf(stderr, "hookd: %s\n", err);
		config_dispose(&cfg);
		return check ? 1 : 2;
	}
	if (check) {
		if (cfg.config_file != NULL)
			printf("hookd: configuration ok (%s)\n", cfg.config_file);
		else
			puts("hookd: configuration ok");
		config_dispose(&cfg);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	log_set_level((enum log_level)cfg.log_level);
	log_set_json(cfg.log_json);
	block_signals();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int status = serve(&cfg);
	curl_global_cleanup();
	config_dispose(&cfg);
	return status;
}

int server_rekey(int argc, char **argv)
{
	struct config cfg;
	char err[512];
	int status = 1;
	config_init(&cfg);
	if (config_load(&cfg, argc, argv, err, sizeof err) < 0) {
		fprintf(stderr, "hookd rekey: %s\n", err);
		config_dispose(&cfg);
		return 2;
	}
	log_set_level((enum log_level)cfg.log_level);
	log_set_json(cfg.log_json);
	struct store *st = NULL;
	int64_t values = 0;
	if (keys_load(&cfg, false) < 0)
		goto out;
	/* opening seals what is still plaintext (counted in its log line); rekey then moves the rest to the key */
	if ((st = store_open(cfg.db_url, err, sizeof err)) == NULL) {
		fprintf(stderr, "hookd rekey: %s\n", err);
		goto out;
	}
	if (st->w->secrets_reseal(st, SEAL_NOT_CURRENT, &values, err, sizeof err) != STORE_OK) {
		fprintf(stderr, "hookd rekey: %s\n", err);
		goto out;
	}
	printf("hookd rekey: %lld secrets re-encrypted with key id %s\n", (long long)values, seal_current_id());
	status = fflush(stdout) == 0 ? 0 : 1;
out:
	store_close(st);
	seal_keys_clear();
	config_dispose(&cfg);
	return status;
}
