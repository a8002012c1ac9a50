/* main.c: main() and the command line: a table of subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_client.h"
#include "hookd.h"
#include "server.h"

static const char usage[] =
	"usage: hookd <command> [options]\n"
	"\n"
	"commands:\n"
	"  serve      run the webhook server\n"
	"  sign       sign a body read from stdin; print the headers to send\n"
	"  verify     verify a received body (stdin) and its headers; exit 0 and print ok, or 1\n"
	"  secret     make a new signing secret\n"
	"  endpoints  list, show, create, disable, enable or delete a running server's endpoints\n"
	"  messages   list, show or send messages\n"
	"  attempts   list delivery attempts\n"
	"  resend     send a message to an endpoint again\n"
	"  recover    resend an endpoint's failed messages since a time\n"
	"  version    print the version\n"
	"  help       show this help\n"
	"\n"
	"hookd serve [--listen ADDR:PORT] [--db sqlite:PATH] [--data DIR] [options]\n"
	"  --listen ADDR:PORT          where the API listens (default 127.0.0.1:8071)\n"
	"  --data DIR                  data directory (default ./data)\n"
	"  --db sqlite:PATH            database (default sqlite:DIR/hookd.db)\n"
	"  --token TOKEN               API bearer token (default: DIR/token, made at first start)\n"
	"  --retry-schedule LIST       delays between attempts (default 5s,5m,30m,2h,5h,10h,10h)\n"
	"  --retry-jitter F            +- fraction of each delay (default 0.2)\n"
	"  --throttled-min-delay D     least wait after a 429 or a timeout (default 60s)\n"
	"  --request-timeout D         per-request timeout (default 30s)\n"
	"  --drain-timeout D           how long SIGTERM waits for requests in flight (default 10s)\n"
	"  --max-body BYTES            API request body cap (default 1048576)\n"
	"  --max-inflight N            deliveries in flight, all endpoints (default 256)\n"
	"  --endpoint-inflight N       deliveries in flight per endpoint (default 32)\n"
	"  --http-threads N            API threads (default 2)\n"
	"  --disable-after D           disable an endpoint failing for this long (default 5d)\n"
	"  --breaker-failures N        failures in a row, lasting at least the cooldown, that pause an\n"
	"                              endpoint (default 10)\n"
	"  --breaker-cooldown D        pause before probing it again; doubles up to 10m (default 30s)\n"
	"  --operational-url URL       send operational webhooks (endpoint.disabled, ...) to URL\n"
	"  --public-url URL            how providers reach this server (for URL-signing schemes: twilio)\n"
	"  --operational-secret S      their signing secret (whsec_...; default: made and logged)\n"
	"  --retention D               purge payloads and response bodies older than this (default 90d)\n"
	"  --chore-interval D          how often background chores run (default 60s)\n"
	"  --log-level LEVEL           error, warn, info or debug (default info)\n"
	"Every option can also be set in the environment: --retry-schedule is HOOKD_RETRY_SCHEDULE.\n"
	"\n"
	"hookd sign --scheme S --secret K [--secret K2...] [--id ID] [--timestamp T] [options] < body\n"
	"hookd verify --scheme S --secret K [--secret K2...] --header 'Name: value'... [options] < body\n"
	"hookd secret new [--scheme S]\n"
	"  --scheme S                  standard (default), svix, ed25519, stripe, split, github, shopify,\n"
	"                              slack, twilio or hmac (see docs/signatures.md)\n"
	"  --url URL                   twilio: the URL signed (with its query); --content-type T (sign) says\n"
	"                              whether the body is a form\n"
	"  --secret K, --secret-file F a secret, or the first line of a file; repeat for rotation\n"
	"  --header-name N             the signature header (e.g. X-FC-Signature for a Stripe-like scheme)\n"
	"  --timestamp-header N, --id-header N, --prefix P, --hash sha256|sha512|sha1, --encoding hex|base64\n"
	"  --tolerance S               verify: seconds allowed into the past and the future ('none': no limit)\n"
	"  --max-age S, --max-future S verify: the same, one side at a time\n"
	"  --now T                     verify: the current unix time, for checking old deliveries\n"
	"Bodies are read as raw bytes, up to 16 MiB. verify exits 0 (ok), 1 (rejected, why on stderr) or 2.\n"
	"\n"
	"hookd endpoints list|get|create|disable|enable|delete --app APP [EP] [options]\n"
	"hookd messages list|get|send --app APP [MSG] [options]\n"
	"hookd attempts list --app APP (--endpoint EP | --msg MSG) [--status N]\n"
	"hookd resend --app APP --msg MSG --endpoint EP\n"
	"hookd recover --app APP --endpoint EP --since RFC3339 [--wait]\n"
	"hookd sources list | get SRC | requests SRC | replay SRC (--request REQ | --since RFC3339 [--wait])\n"
	"  --server URL                the server (default $HOOKD_SERVER, else http://127.0.0.1:8071)\n"
	"  --token TOKEN               API token (default $HOOKD_TOKEN, else the first line of ./data/token)\n"
	"  --json                      print the API's answer (one JSON document) instead of a table\n"
	"  --limit N                   list: at most N items, across pages (default 50)\n"
	"  endpoints create: --url URL [--event-type T]... [--channel C]... [--uid UID] [--description D]\n"
	"  messages list: [--event-type T]...; messages send: --event-type T [--data JSON | < payload]\n"
	"                              [--event-id ID] [--channel C]...\n"
	"  attempts list: --status 0-4 (success, pending, fail, sending, canceled)\n"
	"  recover: --wait follows the background task, progress on stderr, until it finishes\n"
	"These exit 0, 1 (the API answered an error: its code and detail on stderr), 2 (usage) or 3 (server\n"
	"unreachable). See docs/cli.md.\n";

static int cmd_serve(int argc, char **argv) { return server_main(argc, argv); }

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("hookd %s\n", HOOKD_VERSION);
	return 0;
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs(usage, stdout);
	return 0;
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{"serve", cmd_serve},
	{"sign", cli_sign},
	{"verify", cli_verify},
	{"secret", cli_secret},
	{"endpoints", cli_endpoints},
	{"messages", cli_messages},
	{"attempts", cli_attempts},
	{"resend", cli_resend},
	{"recover", cli_recover},
	{"sources", cli_sources},
	{"version", cmd_version},
	{"--version", cmd_version},
	{"help", cmd_help},
	{"--help", cmd_help},
	{"-h", cmd_help},
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 2, argv + 2);
	fprintf(stderr, "hookd: unknown command '%s' (see hookd --help)\n", argv[1]);
	return 2;
}
