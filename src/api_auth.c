/* api_auth.c: who is calling, and Svix's Authentication API: app-scoped tokens for the app portal.
 *
 * The operator's token (--token) can do everything. An app-scoped token (apptoken.h) works only on its own app's
 * routes (app/{app}/...), on reading event types and background tasks of its app, and on logging itself out; each
 * route names the capability it needs (struct route's cap; Svix's AppPortalCapability names). Anything else is 403
 * `forbidden`. Tokens are written through the committer like every write, so a 2xx means the token is stored. */
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "apptoken.h"
#include "cache.h"
#include "id.h"
#include "registry.h"

#define DEFAULT_EXPIRY_S (7 * 24 * 3600)
#define MAX_EXPIRY_S (7 * 24 * 3600)
#define SESSION_MAX 256

int api_auth_identify(struct req *r, const unsigned char operator_hash[32])
{
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	unsigned char got[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)h + 7, strlen(h + 7), got);
	if (CRYPTO_memcmp(got, operator_hash, sizeof got) == 0)
		return 1;
	if (!apptoken_looks_like(h + 7))
		return 0;
	int rc = apptoken_check(api_store(), h + 7, &r->tok);
	return rc == STORE_OK ? 2 : rc == STORE_NOTFOUND ? 0 : -1;
}

bool api_auth_permits(struct req *r, const struct route *rt)
{
	if (rt->cap == 0 || (r->tok.caps & rt->cap) != rt->cap)
		return false;
	if (strncmp(rt->pattern, "app/", 4) == 0) {
		char id[ID_MAX];
		if (cache_app_resolve(r->seg[1], id) != STORE_OK || strcmp(id, r->tok.app_id) != 0)
			return false;
	}
	return true;
}

bool api_auth_sees_flag(const struct req *r, const char *feature_flag)
{
	return r->tok.app_id[0] == '\0' || feature_flag == NULL || strlist_contains(&r->tok.feature_flags, feature_flag);
}

/* ---- app-portal-access, dashboard-access ---- */

static const struct {
	const char *name;
	unsigned cap;
} cap_names[] = {
	{"ViewBase", CAP_VIEW},
	{"ViewEndpointSecret", CAP_VIEW_SECRET},
	{"ManageEndpointSecret", CAP_MANAGE_SECRET},
	{"ManageTransformations", CAP_MANAGE_TRANSFORM},
	{"CreateAttempts", CAP_CREATE_ATTEMPTS},
	{"ManageEndpoint", CAP_MANAGE_ENDPOINT},
};

struct access_op {
	struct app_token t;
	struct app *new_app; /* the body's `application`, created with the token; NULL if the app exists */
	char token[APPTOKEN_LEN + 1];
};

static int access_run(struct store *st, struct req *r)
{
	struct access_op *op = r->op;
	if (op->new_app != NULL) {
		int rc = st->w->app_put(st, op->new_app);
		if (rc == STORE_CONFLICT)
			api_error(r, 409, "conflict", "An application with this uid already exists");
		if (rc != STORE_OK)
			return rc;
		commit_change(&r->job, &(struct change){.kind = CHANGE_APP_PUT, .app = op->new_app});
	}
	return st->w->token_put(st, &op->t);
}

static void access_cleanup(struct req *r)
{
	struct access_op *op = r->op;
	if (op == NULL)
		return;
	app_token_dispose(&op->t);
	if (op->new_app != NULL) {
		app_dispose(op->new_app);
		free(op->new_app);
	}
	explicit_bzero(op->token, sizeof op->token);
	free(op);
}

/* The portal's address for a token: in the fragment, which browsers never send to a server or put in a log;
 * theme ("&logo=..&color=..&mode=..", or "") follows it. */
static char *portal_url(const char *token, const char *app_id, const char *theme)
{
	const struct config *c = api_config();
	const char *base = c->public_url != NULL && *c->public_url != '\0' ? c->public_url : NULL;
	size_t n = base != NULL ? strlen(base) : strlen(c->listen) + 7;
	size_t len = n + strlen(token) + strlen(app_id) + strlen(theme) + 24;
	char *url = xmalloc(len);
	/* the page reads the token and its app from the fragment, which no browser sends to a server */
	if (base != NULL)
		snprintf(url, len, "%.*s/portal/#key=%s&app=%s%s", (int)(base[n - 1] == '/' ? n - 1 : n), base, token,
			 app_id, theme);
	else
		snprintf(url, len, "http://%s/portal/#key=%s&app=%s%s", c->listen, token, app_id, theme);
	return url;
}

/* ---- the portal's theme (hookd's extension): {logoUrl, primaryColor, darkMode} ---- */

#define LOGO_URL_MAX 2048

static void pct_append(char *out, size_t *o, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~", *p) != NULL) {
			out[(*o)++] = (char)*p;
		} else {
			out[(*o)++] = '%';
			out[(*o)++] = hex[*p >> 4];
			out[(*o)++] = hex[*p & 15];
		}
	}
	out[*o] = '\0';
}

static bool color_valid(const char *c)
{
	size_t n = strlen(c);
	return (n == 4 || n == 7) && c[0] == '#' && strspn(c + 1, "0123456789abcdefABCDEF") == n - 1;
}

/* An https: URL of printable ASCII (the page puts it in an <img>; the portal's CSP allows https: images). */
static bool logo_valid(const char *u)
{
	if (strncasecmp(u, "https://", 8) != 0 || u[8] == '\0' || u[8] == '/')
		return false;
	for (const char *p = u; *p != '\0'; p++)
		if (*p <= ' ' || *p > '~')
			return false;
	return true;
}

/* The body's theme as the url fragment's tail (malloc'd; "" when there is none). Nothing is stored: the
 * platform gives it with each link, and the app's metadata gives the defaults (docs/ui.md, "Theming"). */
static char *parse_theme(json_t *body, struct verr *ve)
{
	json_t *t = json_object_get(body, "theme");
	char *out = xcalloc(1, LOGO_URL_MAX * 3 + 64);
	if (t == NULL || json_is_null(t))
		return out;
	if (!json_is_object(t)) {
		verr_add(ve, "theme", "value is not a valid dict", "type_error.dict");
		return out;
	}
	const char *logo = NULL, *color = NULL, *mode = NULL;
	size_t o = 0;
	if (jfield_string(t, "logoUrl", 1, LOGO_URL_MAX, ve, &logo)) {
		if (!logo_valid(logo)) {
			verr_add(ve, "logoUrl", "the logo must be an https: URL", "value_error");
		} else {
			o += (size_t)sprintf(out + o, "&logo=");
			pct_append(out, &o, logo);
		}
	}
	if (jfield_string(t, "primaryColor", 1, 16, ve, &color)) {
		if (!color_valid(color)) {
			verr_add(ve, "primaryColor", "a color is #rgb or #rrggbb", "value_error");
		} else {
			o += (size_t)sprintf(out + o, "&color=");
			pct_append(out, &o, color);
		}
	}
	if (jfield_string(t, "darkMode", 1, 8, ve, &mode)) {
		if (strcmp(mode, "auto") != 0 && strcmp(mode, "light") != 0 && strcmp(mode, "dark") != 0)
			verr_add(ve, "darkMode", "one of auto, light, dark", "value_error");
		else
			o += (size_t)sprintf(out + o, "&mode=%s", mode);
	}
	return out;
}

/* The token's capabilities from `capabilities` or `readOnly`: ViewBase always; everything when neither says. */
static unsigned parse_caps(json_t *body, struct verr *ve)
{
	json_t *a = json_object_get(body, "capabilities");
	bool ro = false;
	jfield_bool(body, "readOnly", ve, &ro);
	if (a == NULL || json_is_null(a))
		return ro ? CAP_VIEW : CAP_ALL;
	if (!json_is_array(a)) {
		verr_add(ve, "capabilities", "value is not a valid list", "type_error.list");
		return 0;
	}
	unsigned caps = CAP_VIEW;
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) {
		size_t k = 0, n = sizeof cap_names / sizeof cap_names[0];
		while (k < n && !(json_is_string(v) && strcmp(json_string_value(v), cap_names[k].name) == 0))
			k++;
		if (k == n)
			verr_add(ve, "capabilities", "unknown capability (ViewBase, ViewEndpointSecret, "
				 "ManageEndpointSecret, ManageTransformations, CreateAttempts, ManageEndpoint)", "value_error");
		else
			caps |= cap_names[k].cap;
	}
	return ro ? CAP_VIEW : caps;
}

static bool flag_valid(const char *s) { return *s != '\0' && strlen(s) <= 256; }

static void portal_access(struct req *r, bool with_body)
{
	json_t *body = with_body ? api_body_object(r) : json_object();
	if (body == NULL)
		return;
	struct verr ve = {0};
	struct access_op *op = xcalloc(1, sizeof *op);
	int64_t expiry = DEFAULT_EXPIRY_S;
	if (!jfield_int(body, "expiry", 1, MAX_EXPIRY_S, &ve, &expiry) && !verr_any(&ve))
		expiry = DEFAULT_EXPIRY_S; /* absent or null */
	const char *session = NULL;
	if (jfield_string(body, "sessionId", 1, SESSION_MAX, &ve, &session))
		op->t.session_id = xstrdup(session);
	jfield_strlist(body, "featureFlags", 100, flag_valid, &ve, &op->t.feature_flags);
	op->t.caps = parse_caps(body, &ve);
	char *theme = parse_theme(body, &ve);

	struct app a = {0};
	if (cache_app_get(r->seg[2], &a) == STORE_OK) {
		memcpy(op->t.app_id, a.id, ID_MAX);
	} else if (json_is_object(json_object_get(body, "application")) && !verr_any(&ve)) {
		/* Svix: the app named by the path is created from `application` when it does not exist */
		op->new_app = xcalloc(1, sizeof *op->new_app);
		api_app_parse(json_object_get(body, "application"), op->new_app, false, &ve);
		if (op->new_app->uid == NULL && !id_is("app_", r->seg[2]) && uid_valid(r->seg[2]))
			op->new_app->uid = xstrdup(r->seg[2]);
		if (id_is("app_", r->seg[2]))
			snprintf(op->new_app->id, ID_MAX, "%s", r->seg[2]);
		else
			id_new("app_", op->new_app->id);
		op->new_app->created_ms = op->new_app->updated_ms = now_ms();
		memcpy(op->t.app_id, op->new_app->id, ID_MAX);
	} else if (!verr_any(&ve)) {
		json_decref(body);
		r->op = op;
		r->cleanup = access_cleanup;
		free(theme);
		api_not_found(r);
		return;
	}
	app_dispose(&a);
	json_decref(body);
	r->op = op;
	r->cleanup = access_cleanup;
	if (verr_any(&ve)) {
		free(theme);
		api_reply(r, 422, verr_body(&ve));
		return;
	}
	apptoken_new(op->token, op->t.hash);
	op->t.created_ms = now_ms();
	op->t.expires_ms = op->t.created_ms + expiry * 1000;
	char *url = portal_url(op->token, op->t.app_id, theme);
	free(theme);
	api_reply_json(r, 200, json_pack("{s:s%, s:s}", "url", url, strlen(url), "token", op->token));
	r->resp_sealed = true;
	explicit_bzero(url, strlen(url));
	free(url);
	r->run = access_run;
	api_submit(r);
}

void api_auth_portal_access(struct req *r) { portal_access(r, true); }
void api_auth_dashboard_access(struct req *r) { portal_access(r, false); }

/* ---- expire-all, logout ---- */

struct expire_op {
	char app_id[ID_MAX];
	struct strlist sessions;
	int64_t expires_ms;
	char hash[APP_TOKEN_HASH_MAX]; /* logout: the one token */
};

static int expire_run(struct store *st, struct req *r)
{
	struct expire_op *op = r->op;
	if (op->hash[0] != '\0') {
		int rc = st->w->token_delete(st, op->hash);
		return rc == STORE_NOTFOUND ? STORE_OK : rc; /* logged out twice at once: out either way */
	}
	return st->w->tokens_expire(st, op->app_id, &op->sessions, op->expires_ms);
}

static void expire_after(struct req *r)
{
	struct expire_op *op = r->op;
	apptoken_forget(op->hash[0] != '\0' ? op->hash : NULL, op->app_id);
}

static void expire_cleanup(struct req *r)
{
	struct expire_op *op = r->op;
	if (op != NULL)
		strlist_dispose(&op->sessions);
	free(op);
}

static void expire_submit(struct req *r, struct expire_op *op)
{
	r->op = op;
	r->cleanup = expire_cleanup;
	r->after = expire_after;
	r->run = expire_run;
	api_reply(r, 204, NULL);
	api_submit(r);
}

static bool session_valid(const char *s) { return *s != '\0' && strlen(s) <= SESSION_MAX; }

void api_auth_expire_all(struct req *r)
{
	char id[ID_MAX];
	if (cache_app_resolve(r->seg[2], id) != STORE_OK) {
		api_not_found(r);
		return;
	}
	json_t *body = r->body.len > 0 ? api_body_object(r) : json_object();
	if (body == NULL)
		return;
	struct verr ve = {0};
	struct expire_op *op = xcalloc(1, sizeof *op);
	int64_t expiry = 0;
	if (!jfield_int(body, "expiry", 0, MAX_EXPIRY_S, &ve, &expiry))
		expiry = 0;
	jfield_strlist(body, "sessionIds", 1000, session_valid, &ve, &op->sessions);
	json_decref(body);
	if (verr_any(&ve)) {
		expire_cleanup(&(struct req){.op = op});
		api_reply(r, 422, verr_body(&ve));
		return;
	}
	memcpy(op->app_id, id, ID_MAX);
	op->expires_ms = now_ms() + expiry * 1000;
	expire_submit(r, op);
}

void api_auth_logout(struct req *r)
{
	if (r->tok.app_id[0] == '\0') {
		api_error(r, 403, "forbidden", "only an app-scoped token can log out; the operator's token is --token");
		return;
	}
	struct expire_op *op = xcalloc(1, sizeof *op);
	memcpy(op->app_id, r->tok.app_id, ID_MAX);
	memcpy(op->hash, r->tok.hash, sizeof op->hash);
	expire_submit(r, op);
}
