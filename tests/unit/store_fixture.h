/* store_fixture.h: the store contract suite's fixture and shared helpers (store_fixture.c), for its files:
 * test_store.c (which builds the suite) and test_store_<subject>.c. Numbered ids: app n is "app_" followed by n in
 * 27 digits, endpoint n "ep_...", message n "msg_...", attempt n "atmpt_...". */
#ifndef HOOKD_STORE_FIXTURE_H
#define HOOKD_STORE_FIXTURE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <check.h>

#include "store.h"

/* The store under test: opened by store_setup, closed by store_teardown; a test may close and reopen it. */
extern struct store *st;
/* What the last insert_msg reported as the holder of the eventId ("" when none). */
extern char last_existing[ID_MAX];

/* The suite's checked fixture: a fresh store per test (store_fixture.c tells how), secrets sealed at rest. */
void store_setup(void);
void store_teardown(void);
/* Whether the store under test is SQLite (HOOKD_TEST_STORE unset, empty or sqlite:...). */
bool on_sqlite(void);
/* Open the test's store URL again; fails the test if it cannot. */
struct store *open_store(void);
/* The test's SQLite temp dir ("" on PostgreSQL). */
const char *store_fixture_dir(void);
/* A backend may have no per-job savepoints (store.h): then a job's writes are not undone alone. */
bool has_savepoints(void);

void mk_id(char out[ID_MAX], const char *prefix, int n);
const char *app_id_of(int n); /* a static buffer */
/* A job's savepoint (where the backend has them) and its end, kept (ok) or undone. */
void job_begin(void);
void job_end(bool ok);
/* A batch with one job in it, and its commit. */
void begin(void);
void commit(void);

/* App n (of the given uid, or none), endpoint n of app, message n of app: filled, not written. */
void app_init(struct app *a, int n, const char *uid);
void endpoint_init(struct endpoint *e, int n, int app, const char *uid);
void msg_init(struct message *m, int n, int app, const char *event_id);
/* Write in a batch of its own; return the store's rc. */
int put_app(int n, const char *uid);
int put_endpoint(struct endpoint *e);
int put_plain_endpoint(int n, int app);
/* Insert message n of app with deliveries to the given endpoint numbers (at most 8) due at due; their keys to
 * dkeys (may be NULL); returns the store's rc. */
int insert_msg(int n, int app, const char *event_id, const int *eps, size_t neps, int64_t due, int64_t *dkeys);
/* An outcome of delivery dkey: the new status, attempts and next time, with attempt att (of message msg to
 * endpoint ep of app; none when att is 0), answered 200 on success, 500 otherwise. */
struct outcome mk_outcome(int64_t dkey, int att, int msg, int ep, int app, int status, int attempts,
			  int64_t next);
/* Record outcomes in a batch of their own. */
void record(const struct outcome *o, size_t n);
/* The delivery counts of app n and endpoint n (0: any), by status. */
void counts_of(int app, int ep, int64_t c[5]);
int delivery_status(int64_t dkey);
void free_messages(struct message *v, size_t n);
void free_attempts(struct attempt *v, size_t n);

/* Each file's tests, added to the suite's contract case (test_store.c). */
void store_list_tests(TCase *tc);
void store_txn_tests(TCase *tc);
void store_task_tests(TCase *tc);
void store_misc_tests(TCase *tc);
void store_cluster_tests(TCase *tc);

#endif
