/* receiver.c: a webhook receiver that trusts a body only once libhookd has verified its Standard Webhooks
 * signature. libmicrohttpd takes the POSTs; hookd_verify_lookup reads the headers straight from the connection
 * (MHD matches names case-insensitively, as libhookd asks), over the exact bytes received.
 *
 *   HOOKD_SECRET='whsec_NEW whsec_OLD' receiver [PORT]      listens on 127.0.0.1:PORT (default 8080)
 *
 * Several secrets, separated by spaces, are accepted at once: that is how a secret is rotated without a gap.
 * Answers 204 to a verified delivery, 401 with the reason otherwise, 413 to a body over 1 MiB, and prints one
 * line per request ("204 msg_..." or "401 signature mismatch"). Build: make (build/examples/receiver), or
 *   cc receiver.c $(pkg-config --cflags --libs hookd libmicrohttpd) -o receiver */
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <hookd.h>

#define BODY_MAX (1u << 20)

struct request {
	char *body;
	size_t len;
	bool too_big;
};

static const char *header_lookup(void *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Collect the body (bounded), then verify it whole: a signature covers every byte, so nothing is parsed or
 * acted on before. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *data, size_t *size, void **state)
{
	struct request *req = *state;
	(void)url, (void)version;
	if (strcmp(method, "POST") != 0)
		return answer(conn, 405, "POST only\n");
	if (req == NULL)
		return (*state = calloc(1, sizeof *req)) != NULL ? MHD_YES : MHD_NO;
	if (*size > 0) {
		char *grown = req->too_big || *size > BODY_MAX - req->len ? NULL : realloc(req->body, req->len + *size);
		if (grown != NULL) {
			memcpy(grown + req->len, data, *size);
			req->body = grown;
			req->len += *size;
		}
		req->too_big = grown == NULL;
		*size = 0;
		return MHD_YES;
	}
	if (req->too_big)
		return answer(conn, 413, "body too large\n");
	int rc = hookd_verify_lookup(cls, header_lookup, conn, req->body, req->len, (int64_t)time(NULL));
	if (rc != HOOKD_OK) {
		printf("401 %s\n", hookd_strerror(rc));
		return answer(conn, 401, hookd_strerror(rc));
	}
	/* Verified: from here on the body is the sender's. A real receiver would now dedupe on webhook-id. */
	printf("204 %s\n", header_lookup(conn, "webhook-id"));
	return answer(conn, 204, "");
}

static void on_done(void *cls, struct MHD_Connection *conn, void **state, enum MHD_RequestTerminationCode why)
{
	struct request *req = *state;
	(void)cls, (void)conn, (void)why;
	if (req != NULL)
		free(req->body);
	free(req);
	*state = NULL;
}

/* Every space-separated secret of $HOOKD_SECRET; each one is validated here, at startup. */
static struct hookd_config *configure(void)
{
	struct hookd_config *cfg = NULL;
	const char *env = getenv("HOOKD_SECRET");
	char *secrets = env != NULL ? strdup(env) : NULL, *save = NULL;
	int rc = secrets != NULL ? hookd_config_new("standard", NULL, &cfg) : HOOKD_ERR_NOMEM, n = 0;
	char *s = rc == HOOKD_OK ? strtok_r(secrets, " ", &save) : NULL;
	for (; s != NULL && rc == HOOKD_OK; s = strtok_r(NULL, " ", &save), n++)
		if ((rc = hookd_config_add_secret(cfg, s)) != HOOKD_OK)
			fprintf(stderr, "receiver: secret %d: %s\n", n + 1, hookd_strerror(rc));
	free(secrets);
	if (rc != HOOKD_OK || n == 0) {
		fprintf(stderr, "receiver: set HOOKD_SECRET to one or more whsec_ secrets, separated by spaces\n");
		hookd_config_free(cfg);
		return NULL;
	}
	return cfg;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct hookd_config *cfg = configure();
	sigset_t stop;
	int sig;
	if (cfg == NULL)
		return 2;
	addr.sin_port = htons((uint16_t)(argc > 1 ? atoi(argv[1]) : 8080));
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL); /* before MHD's thread starts, so that it inherits the mask */
	struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
						on_request, cfg, MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
						MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "receiver: cannot listen on 127.0.0.1:%u\n", ntohs(addr.sin_port));
		hookd_config_free(cfg);
		return 1;
	}
	printf("listening on 127.0.0.1:%u\n", ntohs(addr.sin_port));
	sigwait(&stop, &sig);
	MHD_stop_daemon(d);
	hookd_config_free(cfg);
	return 0;
}
