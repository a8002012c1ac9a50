/* main.c: main() and the command line: a table of subcommands, each with its help. `hookd --help` prints every
 * section; `hookd help CMD`, `hookd CMD --help` and `hookd CMD -h` print one. serve's section comes from the
 * settings table (config.h), as does the README's settings table (`hookd serve --help-markdown`). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_client.h"
#include "config.h"
#include "hookd.h"
#include "server.h"

static const char sig_help[] =
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
	"Bodies are read as raw bytes, up to 16 MiB. verify exits 0 (ok), 1 (rejected, why on stderr) or 2.\n";

/* The client commands: each one's usage and own option lines; they share client_common. */
static const struct {
	const char *name, *usage, *options;
} client_help[] = {
	{"endpoints", "hookd endpoints list|get|create|disable|enable|delete --app APP [EP] [options]\n",
	 "  endpoints create: --url URL [--event-type T]... [--channel C]... [--uid UID] [--description D]\n"},
	{"messages", "hookd messages list|get|send --app APP [MSG] [options]\n",
	 "  messages list: [--event-type T]... [--since TIME]; messages send: --event-type T [--data JSON | < payload]\n"
	 "                              [--event-id ID] [--channel C]...\n"},
	{"apps", "hookd apps list | get APP | create --name NAME [--uid UID] | delete APP\n", ""},
	{"event-types", "hookd event-types list | get NAME | create NAME --description D\n", ""},
	{"test", "hookd test --app APP EP [--event-type T]   (also hookd send-example)\n",
	 "  test: sends the event type's example (default webhook.test) to one endpoint\n"},
	{"attempts", "hookd attempts list --app APP (--endpoint EP | --msg MSG) [--status S]\n",
	 "  attempts list: --status success|pending|fail|sending|canceled (or 0-4); the table shows each\n"
	 "                              attempt's error and the pending pair's next attempt\n"},
	{"resend", "hookd resend --app APP --msg MSG --endpoint EP\n", ""},
	{"recover", "hookd recover --app APP --endpoint EP --since TIME [--wait]\n",
	 "  recover: --wait follows the background task, progress on stderr, until it finishes\n"},
	{"sources", "hookd sources list | get SRC | requests SRC | replay SRC (--request REQ | --since TIME [--wait])\n",
	 "  sources replay: --request REQ sends one received request again; --since T every one since then,\n"
	 "                              as a background task (--wait follows it)\n"},
};

static const char client_common[] =
	"  --server URL                the server (default $HOOKD_SERVER, else http://127.0.0.1:8071)\n"
	"  --token TOKEN               API token (default $HOOKD_TOKEN, else the first line of ./data/token)\n"
	"  --json                      print the API's answer (one JSON document) instead of a table\n"
	"  --limit N                   list: at most N items, across pages (default 50)\n"
	"  TIME                        2026-11-23T10:00:00Z, 2026-11-23 (midnight UTC), or an age: 90s, 30m,\n"
	"                              1h, 2d, 1w\n";

static const char client_exits[] =
	"These exit 0, 1 (the API answered an error: its code and detail on stderr), 2 (usage) or 3 (server\n"
	"unreachable). See docs/cli.md.\n";

static void help_sig(FILE *f) { fputs(sig_help, f); }

/* One client command's section, or (name NULL) all of them as one. */
static void help_client_section(FILE *f, const char *name)
{
	size_t n = sizeof client_help / sizeof client_help[0];
	for (size_t i = 0; i < n; i++)
		if (name == NULL || strcmp(client_help[i].name, name) == 0)
			fputs(client_help[i].usage, f);
	fputs(client_common, f);
	for (size_t i = 0; i < n; i++)
		if (name == NULL || strcmp(client_help[i].name, name) == 0)
			fputs(client_help[i].options, f);
	fputs(client_exits, f);
}

static void help_endpoints(FILE *f) { help_client_section(f, "endpoints"); }
static void help_messages(FILE *f) { help_client_section(f, "messages"); }
static void help_attempts(FILE *f) { help_client_section(f, "attempts"); }
static void help_resend(FILE *f) { help_client_section(f, "resend"); }
static void help_recover(FILE *f) { help_client_section(f, "recover"); }
static void help_sources(FILE *f) { help_client_section(f, "sources"); }
static void help_apps(FILE *f) { help_client_section(f, "apps"); }
static void help_event_types(FILE *f) { help_client_section(f, "event-types"); }
static void help_test(FILE *f) { help_client_section(f, "test"); }

static void help_client_all(FILE *f) { help_client_section(f, NULL); }

static void help_version(FILE *f) { fputs("hookd version\n  print the version (also hookd --version)\n", f); }

static void help_help(FILE *f)
{
	fputs("hookd help [COMMAND]\n"
	      "  every command's help, or one command's (also hookd COMMAND --help, hookd COMMAND -h)\n",
	      f);
}

static int cmd_serve(int argc, char **argv)
{
	if (argc == 1 && strcmp(argv[0], "--help-markdown") == 0) { /* for make docs-settings; not in the help */
		config_markdown(stdout);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	return server_main(argc, argv);
}

static void help_rekey(FILE *f)
{
	fputs("hookd rekey [--data DIR] [--db URL] [--secret-key KEY] [--secret-key-previous KEYS]\n"
	      "  re-encrypt every stored secret with the current key (--secret-key, else DIR/secret.key), reading\n"
	      "  values sealed with the previous keys; prints how many it rewrote (docs/security.md)\n",
	      f);
}

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("hookd %s\n", HOOKD_VERSION);
	return 0;
}

static int cmd_help(int argc, char **argv);

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	void (*help)(FILE *f);
	const char *summary; /* NULL: an alias, not listed */
} commands[] = {
	{"serve", cmd_serve, config_help, "run the webhook server"},
	{"rekey", server_rekey, help_rekey, "re-encrypt the stored secrets with the current secret key"},
	{"sign", cli_sign, help_sig, "sign a body read from stdin; print the headers to send"},
	{"verify", cli_verify, help_sig, "verify a received body (stdin) and its headers; exit 0 and print ok, or 1"},
	{"secret", cli_secret, help_sig, "make a new signing secret"},
	{"apps", cli_apps, help_apps, "list, show, create or delete applications"},
	{"event-types", cli_event_types, help_event_types, "list, show or create event types"},
	{"test", cli_test, help_test, "send an example message to one endpoint (also: send-example)"},
	{"send-example", cli_send_example, help_test, NULL},
	{"endpoints", cli_endpoints, help_endpoints,
	 "list, show, create, disable, enable or delete a running server's endpoints"},
	{"messages", cli_messages, help_messages, "list, show or send messages"},
	{"attempts", cli_attempts, help_attempts, "list delivery attempts"},
	{"resend", cli_resend, help_resend, "send a message to an endpoint again"},
	{"recover", cli_recover, help_recover, "resend an endpoint's failed messages since a time"},
	{"sources", cli_sources, help_sources, "list inbound sources and their received requests; replay them"},
	{"listen", cli_listen, cli_listen_help, "forward an app's messages to a local URL, signed (local development)"},
	{"version", cmd_version, help_version, "print the version"},
	{"--version", cmd_version, help_version, NULL},
	{"help", cmd_help, help_help, "show this help, or one command's: hookd help COMMAND"},
	{"--help", cmd_help, help_help, NULL},
	{"-h", cmd_help, help_help, NULL},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const struct command *command_find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* Everything: the commands, then each section once (sign, verify and secret share theirs; so do the client
 * commands). */
static void help_all(FILE *f)
{
	fputs("usage: hookd <command> [options]\n\ncommands:\n", f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (commands[i].summary != NULL)
			fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fputs("\n", f);
	config_help(f);
	fputs("\n", f);
	help_rekey(f);
	fputs("\n", f);
	help_sig(f);
	fputs("\n", f);
	help_client_section(f, NULL);
}

/* ---- generated documents: the man page and the completion scripts (make man, make completion) ---- */

/* A help section, verbatim, escaped for roff. */
static void man_verbatim(FILE *f, void (*help)(FILE *))
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	if (m == NULL)
		return;
	help(m);
	fclose(m);
	fputs(".PP\n.nf\n", f);
	bool bol = true;
	for (const char *p = text; *p != '\0'; p++) {
		if (bol && (*p == '.' || *p == '\''))
			fputs("\\&", f);
		if (*p == '\\')
			fputs("\\e", f);
		else if (*p == '-')
			fputs("\\-", f);
		else
			fputc(*p, f);
		bol = *p == '\n';
	}
	fputs(".fi\n", f);
	free(text);
}

static void help_man(FILE *f)
{
	fprintf(f, ".TH HOOKD 1 \"\" \"hookd %s\" \"User Commands\"\n"
		   ".SH NAME\nhookd \\- a webhook server (Svix\\-compatible API), its command line and signing tools\n"
		   ".SH SYNOPSIS\n.B hookd\n.I command\n[options]\n.SH DESCRIPTION\n"
		   "hookd accepts messages over an HTTP API and delivers them, signed, to the endpoints of each "
		   "application, retrying on failure. The client commands talk to a running server; sign, verify "
		   "and secret work offline. \\fBhookd\\fR \\fIcommand\\fR \\fB\\-\\-help\\fR prints one command's help.\n"
		   ".SH COMMANDS\n",
		HOOKD_VERSION);
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (commands[i].summary != NULL)
			fprintf(f, ".TP\n.B %s\n%s\n", commands[i].name, commands[i].summary);
	fputs(".SH SERVE OPTIONS\n.B hookd serve\n[\\fB\\-\\-check\\fR] [options]\n.PP\n"
	      "\\fB\\-\\-check\\fR validates the settings (flags, environment, config file) and exits 0, or 1 with a "
	      "one\\-line error. Precedence: flag, then environment, then the config file (\\fB\\-\\-config\\fR: "
	      "\\fIname = value\\fR lines with the flags' names, # comments), then the default. Durations: 500ms, 5s, "
	      "2m, 1h, 5d.\n",
	      f);
	config_man(f);
	fputs(".SH CLIENT COMMANDS\n", f);
	man_verbatim(f, help_client_all);
	fputs(".SH SIGNING\n", f);
	man_verbatim(f, help_sig);
	fputs(".SH REKEY\n", f);
	man_verbatim(f, help_rekey);
	fputs(".SH ENVIRONMENT\nEvery serve option has its variable (above). The client commands read "
	      "\\fBHOOKD_SERVER\\fR and \\fBHOOKD_TOKEN\\fR.\n"
	      ".SH FILES\n.TP\n.I DATA/token\nthe API token hookd made at first start (the client commands read "
	      "./data/token)\n.TP\n.I DATA/secret.key\nthe key that encrypts stored secrets\n.TP\n"
	      ".I /etc/hookd/hookd.conf\na config file, when given with \\-\\-config (packaging/)\n"
	      ".SH EXIT STATUS\nClient commands: 0 ok, 1 an API error, 2 usage, 3 server unreachable. serve \\-\\-check: "
	      "0 or 1. verify: 0 ok, 1 rejected, 2 usage.\n"
	      ".SH SEE ALSO\nThe docs/ directory of the source: api.md, cli.md, operations.md, signatures.md.\n",
	      f);
}

/* The client groups, for completion: the commands that have verbs or client flags. */
static bool is_client(const struct command *c)
{
	return c->help == help_endpoints || c->help == help_messages || c->help == help_attempts ||
	       c->help == help_resend || c->help == help_recover || c->help == help_sources || c->help == help_apps ||
	       c->help == help_event_types || c->help == help_test;
}

/* A command's verbs (line 1) and flags (line 2), from the tables that parse them. */
static void command_words(const struct command *c, char *verbs, size_t vn, char *flagw, size_t fn)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	verbs[0] = flagw[0] = '\0';
	if (m == NULL)
		return;
	if (is_client(c))
		cli_client_words(m, c->name);
	else if (c->run == cli_sign || c->run == cli_verify || c->run == cli_secret)
		fprintf(m, "%s\n", c->run == cli_secret ? "new" : ""), cli_sig_words(m, c->name);
	else if (c->run == cli_listen)
		fputs("\n--app --forward --event-types --server --url --token --consumer --uid \n", m);
	else if (c->run == cmd_serve || c->run == server_rekey) {
		fputs("\n", m);
		for (size_t i = 0; i < config_nsettings; i++)
			fprintf(m, "--%s ", config_settings[i].name);
		fputs(c->run == cmd_serve ? "--check \n" : "\n", m);
	} else if (c->run == cmd_help) {
		for (size_t i = 0; i < NCOMMANDS; i++)
			if (commands[i].summary != NULL)
				fprintf(m, "%s ", commands[i].name);
		fputs("\n\n", m);
	} else
		fputs("\n\n", m);
	fclose(m);
	char *nl = strchr(text, '\n');
	if (nl != NULL) {
		snprintf(verbs, vn, "%.*s", (int)(nl - text), text);
		snprintf(flagw, fn, "%s", nl + 1);
		flagw[strcspn(flagw, "\n")] = '\0';
	}
	free(text);
}

static void help_completion(FILE *f, bool zsh)
{
	char verbs[512], flagw[8192];
	fputs(zsh ? "#compdef hookd\n# zsh completion for hookd (generated: hookd help --completion zsh)\n_hookd() {\n"
		    "  if (( CURRENT == 2 )); then\n    compadd -- "
		  : "# bash completion for hookd (generated: hookd help --completion bash)\n_hookd() {\n"
		    "  local cur=${COMP_WORDS[COMP_CWORD]} verbs= words=\n  if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
		    "    COMPREPLY=($(compgen -W \"",
	      f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (commands[i].name[0] != '-')
			fprintf(f, "%s ", commands[i].name);
	fputs(zsh ? "\n    return\n  fi\n  local -a verbs opts\n" /* not "words": zsh's own array of the command line */
		    "  case $words[2] in\n"
		  : "\" -- \"$cur\"))\n    return\n  fi\n  case ${COMP_WORDS[1]} in\n",
	      f);
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (commands[i].name[0] == '-')
			continue;
		command_words(&commands[i], verbs, sizeof verbs, flagw, sizeof flagw);
		if (zsh)
			fprintf(f, "    %s) verbs=(%s) opts=(%s--help) ;;\n", commands[i].name, verbs, flagw);
		else
			fprintf(f, "    %s) verbs=\"%s\" words=\"%s--help\" ;;\n", commands[i].name, verbs, flagw);
	}
	fputs(zsh ? "  esac\n  if (( CURRENT == 3 && ${#verbs} > 0 )); then\n    compadd -- $verbs\n  else\n"
		    "    compadd -- $opts\n  fi\n}\n_hookd \"$@\"\n"
		  : "  esac\n  if [ \"$COMP_CWORD\" -eq 2 ] && [ -n \"$verbs\" ]; then\n"
		    "    COMPREPLY=($(compgen -W \"$verbs\" -- \"$cur\"))\n  else\n"
		    "    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n  fi\n}\ncomplete -F _hookd hookd\n",
	      f);
}

static int cmd_help(int argc, char **argv)
{
	if (argc == 1 && strcmp(argv[0], "--man") == 0) { /* for make man; not in the help */
		help_man(stdout);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (argc == 2 && strcmp(argv[0], "--completion") == 0 &&
	    (strcmp(argv[1], "bash") == 0 || strcmp(argv[1], "zsh") == 0)) { /* for make completion */
		help_completion(stdout, strcmp(argv[1], "zsh") == 0);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (argc == 0) {
		help_all(stdout);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	const struct command *c = command_find(argv[0]);
	if (c == NULL || argc > 1) {
		fprintf(stderr, argc > 1 ? "hookd help: expected one command, not '%s' (see hookd --help)\n"
					 : "hookd help: unknown command '%s' (see hookd --help)\n",
			argv[argc > 1 ? 1 : 0]);
		return 2;
	}
	c->help(stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* --help or -h anywhere among a command's arguments. */
static int wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		help_all(stderr);
		return 2;
	}
	const struct command *c = command_find(argv[1]);
	if (c == NULL) {
		fprintf(stderr, "hookd: unknown command '%s' (see hookd --help)\n", argv[1]);
		return 2;
	}
	if (c->run != cmd_help && wants_help(argc - 2, argv + 2)) {
		c->help(stdout);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	return c->run(argc - 2, argv + 2);
}
