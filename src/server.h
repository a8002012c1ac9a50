/* server.h: `hookd serve`: start the store, the cache, the committer, the dispatcher and the API; run until
 * SIGTERM or SIGINT; then drain and stop in the reverse order. */
#ifndef HOOKD_SERVER_H
#define HOOKD_SERVER_H

/* argv starts after "serve". Returns the process exit status. */
int server_main(int argc, char **argv);

#endif
