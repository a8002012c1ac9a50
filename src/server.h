/* server.h: `hookd serve`: start the store, the cache, the committer, the dispatcher and the API; run until
 * SIGTERM or SIGINT; then drain and stop in the reverse order. */
#ifndef HOOKD_SERVER_H
#define HOOKD_SERVER_H

/* argv starts after "serve". Returns the process exit status. */
int server_main(int argc, char **argv);
/* `hookd rekey`: argv (after "rekey") takes serve's settings (--data, --db, --secret-key, --secret-key-previous
 * matter); every stored secret not sealed with the current key is sealed with it, in one transaction. Prints how
 * many; returns 0, 1 (failed, one line on stderr) or 2 (usage). */
int server_rekey(int argc, char **argv);

#endif
