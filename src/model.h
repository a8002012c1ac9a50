/* model.h: the objects hookd keeps: applications, endpoints, messages, deliveries, attempts. */
#ifndef HOOKD_MODEL_H
#define HOOKD_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "backoff.h"
#include "id.h"
#include "util.h"

struct app {
	char id[ID_MAX];        /* app_... */
	char *uid;              /* NULL if none */
	char *name;
	json_t *metadata;       /* an object of strings, never NULL once loaded */
	int64_t throttle_rate;  /* messages/s, 0 = none */
	int64_t created_ms, updated_ms;
};

struct endpoint {
	char id[ID_MAX];        /* ep_... */
	char app_id[ID_MAX];
	char *uid;              /* NULL if none */
	char *url;
	char *description;      /* "" by default */
	bool disabled;
	struct strlist event_types; /* v == NULL: every type */
	struct strlist channels;    /* v == NULL: every message */
	char *secret;           /* "whsec_<base64>" */
	json_t *metadata;       /* object, never NULL once loaded */
	json_t *headers;        /* object of custom headers, never NULL once loaded */
	int64_t throttle_rate;  /* 0 = none */
	int64_t created_ms, updated_ms;
	char *scheme;           /* signature scheme (libhookd's names); NULL: "standard" */
	json_t *scheme_options; /* {header, timestampHeader, idHeader, prefix, hash, encoding}, or NULL */
	json_t *old_secrets;    /* rotation: [{"key": ..., "expiresAt": unix ms}], or NULL */
	bool fifo;              /* ordering "fifo": one message at a time, in acceptance order */
	int64_t failing_since;  /* unix ms it began failing, as loaded at start-up (0: not failing) */
	/* retrySchedule (hookd's addition), held inline so that copying the struct copies it */
	bool has_retry;         /* false: the server's --retry-schedule */
	int retry_steps;        /* retries after the first attempt; 0: none */
	int64_t retry_ms[BACKOFF_MAX_STEPS]; /* delay before retry i+1 */
	char *payload_filter;   /* payloadFilter as compact JSON text, or NULL (every payload) */
	char *transformation;   /* Lua code of the transformation, or NULL */
	bool transformation_enabled;
	char *api_version;      /* apiVersion the endpoint is pinned to, or NULL (the newest) */
};

struct message {
	char id[ID_MAX];        /* msg_... */
	char app_id[ID_MAX];
	char *event_type;
	char *event_id;         /* NULL if none */
	struct strlist channels;
	struct strlist tags;
	char *payload;          /* compact JSON text of the payload object; NULL once expunged */
	size_t payload_len;
	int64_t created_ms;
	int64_t deliver_at_ms;  /* 0: at once */
	int64_t retention_ms;   /* payloadRetentionPeriod; 0: the server's --retention (written, not read back) */
	char *content_type;     /* NULL: application/json (inbound forwarding keeps the provider's) */
	char *extra_headers;    /* JSON object of headers to send (inbound forwarding), or NULL */
};

/* A request received at /in/{source}: what hookd recorded of it. */
struct inreq {
	char id[ID_MAX];        /* inr_... */
	char source_id[ID_MAX];
	char *dedup_key;
	char *method;
	char *headers;          /* JSON object text */
	char *body;             /* raw bytes, NULL when not kept (failed verification) */
	size_t body_len;
	int64_t received_ms;
	int verify_rc;          /* HOOKD_OK or a hookd_err */
	bool duplicate;
	char msg_id[ID_MAX];    /* the forwarded message, "" if none */
	int64_t fwd[3];         /* deliveries of that message: success, pending, failed or canceled (lists only) */
};
void inreq_dispose(struct inreq *r);

/* An app-scoped token (the app portal's, Svix's Authentication API): stored by the SHA-256 of the token only. */
enum app_cap { /* Svix's AppPortalCapability */
	CAP_VIEW = 1 << 0,            /* ViewBase: read the app's endpoints, messages, attempts, figures, event types */
	CAP_VIEW_SECRET = 1 << 1,     /* ViewEndpointSecret */
	CAP_MANAGE_SECRET = 1 << 2,   /* ManageEndpointSecret: rotate */
	CAP_MANAGE_TRANSFORM = 1 << 3, /* ManageTransformations */
	CAP_CREATE_ATTEMPTS = 1 << 4, /* CreateAttempts: resend, recover, replay, send an example */
	CAP_MANAGE_ENDPOINT = 1 << 5, /* ManageEndpoint: create, change, delete endpoints and their headers */
	CAP_ALL = (1 << 6) - 1,
};
#define APP_TOKEN_HASH_MAX 65 /* hex SHA-256 and its NUL */
struct app_token {
	char hash[APP_TOKEN_HASH_MAX];
	char app_id[ID_MAX];
	char *session_id;           /* NULL if none */
	unsigned caps;              /* enum app_cap bits */
	struct strlist feature_flags; /* event types with one of these flags are visible to it */
	int64_t expires_ms, created_ms;
};
void app_token_dispose(struct app_token *t);

/* Status of a delivery (one message to one endpoint) and of an attempt; numbers are Svix's. */
enum delivery_status {
	DS_SUCCESS = 0,
	DS_PENDING = 1,
	DS_FAIL = 2,
	DS_SENDING = 3,
	DS_CANCELED = 4,
};
const char *delivery_status_text(int status);

enum trigger_type { TRIGGER_SCHEDULED = 0, TRIGGER_MANUAL = 1 };

#define ATTEMPT_RESPONSE_MAX 20000
#define ATTEMPT_RESP_HDRS_MAX 8192 /* bytes of an answer's header lines kept */
#define ATTEMPT_RESP_HDRS_N 64     /* and at most this many of them */

struct attempt {
	char id[ID_MAX];        /* atmpt_... */
	char msg_id[ID_MAX];
	char endpoint_id[ID_MAX];
	char app_id[ID_MAX];
	char *url;
	int status_code;        /* 0 when no HTTP response (network error, timeout) */
	int64_t duration_ms;
	char *response;         /* body up to ATTEMPT_RESPONSE_MAX bytes, or the network error text */
	size_t response_len;
	char *request_body;     /* the body as sent when handlers made it differ from the payload, else NULL */
	char *request_headers;  /* the headers as sent, a JSON object (sensitive values "[redacted]"), sealed when it
				 * holds a custom header value (request_headers_secret), or NULL */
	char *response_headers; /* the answer's headers, a JSON object (bounded: ATTEMPT_RESP_HDRS_*), or NULL */
	char *request_method;   /* the method when a handler chose another than POST ("PUT"), else NULL */
	int status;             /* DS_SUCCESS or DS_FAIL */
	int trigger;            /* enum trigger_type */
	int64_t created_ms;
};

/* What the per-endpoint figures need of an attempt. */
struct attempt_fig {
	int64_t created_ms, duration_ms;
	int status_code, status;
};

/* A delivery as the dispatcher needs it. */
struct delivery {
	int64_t dkey;          /* the store's key for this delivery */
	char msg_id[ID_MAX];
	char endpoint_id[ID_MAX];
	char app_id[ID_MAX];
	int status;             /* enum delivery_status */
	int attempts;           /* attempts made so far */
	int trigger;            /* TRIGGER_MANUAL: one attempt, never retried */
	int64_t next_ms;        /* when it is due (unix ms) */
};

/* A message as one endpoint has it: the message and its (scheduled) delivery there. */
struct endpoint_msg {
	struct delivery d;
	struct message m;
};

/* The result of one attempt, recorded by the committer: an attempt row plus the delivery's new state. */
struct outcome {
	int64_t dkey;          /* delivery */
	struct attempt attempt; /* attempt.id[0] == '\0': no attempt row (e.g. canceled before sending) */
	int new_status;         /* DS_SUCCESS, DS_PENDING (retry at next_ms), DS_FAIL, DS_CANCELED */
	int attempts;           /* attempts made, this one included */
	int64_t next_ms;
};

/* An entry of the event type registry (Svix EventTypeOut). */
struct event_type {
	char *name;             /* 1-256 of [a-zA-Z0-9-_.] */
	char *description;      /* "" by default */
	bool archived;          /* "deleted" without expunge: kept, but not offered to endpoints */
	bool deprecated;
	json_t *schemas;        /* {"1": JSON schema, ...} or NULL */
	char *feature_flag;     /* NULL if none */
	char *group_name;       /* NULL if none */
	int64_t created_ms, updated_ms;
};

/* A payload version (api-version, apiver.h): names sort in time order (bytewise); downgrade is the Lua handler
 * that turns a payload of this version's shape into the next older version's (NULL: none, the oldest). */
#define API_VERSION_NAME_MAX 64
struct api_version {
	char *name;             /* 1-64 of [A-Za-z0-9._-] */
	char *downgrade;
	int64_t created_ms;
};

/* A background task (Svix BackgroundTaskOut): work done in batches after the call that started it answered. */
enum task_status { TASK_RUNNING = 0, TASK_FINISHED = 1, TASK_FAILED = 2 };
const char *task_status_text(int status);

#define TASK_PARAMS_MAX 2048
struct task {
	char id[ID_MAX];        /* qtask_... */
	char kind[32];          /* "endpoint.recover", "endpoint.replay" */
	int status;             /* enum task_status */
	char app_id[ID_MAX];
	char endpoint_id[ID_MAX];
	int64_t since_ms, until_ms; /* messages created in [since, until) */
	int64_t processed;      /* deliveries queued so far */
	int64_t created_ms, updated_ms;
	/* The cursor, committed with each batch, so that a task cut short resumes where it was (task.c). */
	int64_t after_key;      /* recover: the last delivery key done (0: none yet) */
	char after_id[ID_MAX];  /* replay: the last message id done ("": none yet) */
	char params[TASK_PARAMS_MAX]; /* the task's own parameters as JSON text (bulk-replay's filters), "" if none */
};

void app_dispose(struct app *a);
void app_copy(struct app *dst, const struct app *src);
void endpoint_dispose(struct endpoint *e);
/* A poller sink (api_poll.c): an endpoint whose URL is "poll:" (or "poll:" and a name). It takes no deliveries:
 * its app's messages that pass its filters wait for its consumers to pull them. */
bool endpoint_is_poller(const struct endpoint *e);
#define POLLER_URL_PREFIX "poll:"
void endpoint_copy(struct endpoint *dst, const struct endpoint *src);
/* An endpoint's retrySchedule as stored: a JSON array of ms, or NULL for the server's ("[]" is no retries). */
json_t *endpoint_retry_to_json(const struct endpoint *e);
/* Back from storage: NULL is the server's schedule; entries that are not whole ms >= 0 are skipped. */
void endpoint_retry_from_json(struct endpoint *e, const json_t *a);
void message_dispose(struct message *m);
void attempt_dispose(struct attempt *a);
void event_type_dispose(struct event_type *t);
void event_type_copy(struct event_type *dst, const struct event_type *src);
void api_version_dispose(struct api_version *v);
void api_version_copy(struct api_version *dst, const struct api_version *src);

#endif
