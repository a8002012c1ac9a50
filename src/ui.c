/* ui.c: serves the embedded web UI: "/" -> /ui/, the operator dashboard under /ui/, the app portal (the same
 * bundle; the page picks its mode from the path) under /portal/. Files are pre-compressed; no token is needed
 * for them, as they hold no data: every data call the page makes goes to /api/v1 with its token. */
#include "ui.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "util.h"

/* No inline script or style, nothing from another origin; frame-ancestors last, from the caller. The portal
 * also shows the platform's logo, an https: image named by its link (docs/ui.md, "Theming"): images carry no
 * script and the page sends them no data (connect-src stays 'self'; Referrer-Policy no-referrer). */
#define CSP_HEAD "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:"
#define CSP_TAIL "; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; " \
	"frame-ancestors "

static const struct ui_file *find(const char *name)
{
	for (size_t i = 0; i < ui_nfiles; i++)
		if (strcmp(ui_files[i].name, name) == 0)
			return &ui_files[i];
	return NULL;
}

/* Does Accept-Encoding take gzip? Any "gzip" or "*" item whose q is not 0. */
static bool takes_gzip(const char *ae)
{
	if (ae == NULL)
		return false;
	for (const char *p = ae; *p != '\0';) {
		p += strspn(p, " \t,");
		size_t n = strcspn(p, " \t;,");
		bool name = (n == 4 && strncasecmp(p, "gzip", 4) == 0) || (n == 1 && *p == '*');
		const char *end = p + strcspn(p, ",");
		const char *q = strstr(p, "q=");
		bool zero = q != NULL && q < end && strtod(q + 2, NULL) <= 0.0;
		if (name && !zero)
			return true;
		p = end;
	}
	return false;
}

/* Does If-None-Match name this file's hash, in either encoding's tag (or "*")? A list may hold it among others. */
static bool etag_matches(const char *inm, const char *hash)
{
	if (inm == NULL)
		return false;
	inm += strspn(inm, " \t");
	return strcmp(inm, "*") == 0 || strstr(inm, hash) != NULL;
}

/* The ETag is the content's hash, with "-gz" for the gzip'd bytes: each representation has its own. */
static void add_headers(struct MHD_Response *resp, const struct ui_file *f, bool portal, bool gz)
{
	char etag[64];
	snprintf(etag, sizeof etag, "\"%s%s\"", f->etag, gz ? "-gz" : "");
	const char *fa = portal ? api_config()->portal_frame_ancestors : "'none'";
	if (fa == NULL)
		fa = "'none'";
	size_t n = sizeof CSP_HEAD CSP_TAIL " https:" + strlen(fa); /* the setting is at most 1 KiB (config.c) */
	char *csp = xmalloc(n);
	snprintf(csp, n, "%s%s%s%s", CSP_HEAD, portal ? " https:" : "", CSP_TAIL, fa);
	MHD_add_response_header(resp, "Content-Security-Policy", csp); /* copied */
	free(csp);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "ETag", etag);
	MHD_add_response_header(resp, "Vary", "Accept-Encoding");
	MHD_add_response_header(resp, "Cache-Control",
				f->immutable ? "public, max-age=31536000, immutable" : "no-cache");
}

static void serve(struct req *r, const struct ui_file *f, bool portal)
{
	const char *inm = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "If-None-Match");
	struct MHD_Response *resp;
	bool gz = takes_gzip(MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Accept-Encoding"));
	if (etag_matches(inm, f->etag)) {
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		r->status = 304;
	} else {
		resp = MHD_create_response_from_buffer(gz ? f->gz_len : f->raw_len, (void *)(gz ? f->gz : f->raw),
						       MHD_RESPMEM_PERSISTENT);
		if (resp != NULL) {
			MHD_add_response_header(resp, "Content-Type", f->type);
			if (gz)
				MHD_add_response_header(resp, "Content-Encoding", "gzip");
		}
		r->status = 200;
	}
	if (resp == NULL) {
		api_error(r, 500, "internal_error", "out of memory");
		return;
	}
	add_headers(resp, f, portal, gz);
	r->mhd_resp = resp;
	r->ready = true;
}

static void redirect(struct req *r, const char *to)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (resp == NULL) {
		api_error(r, 500, "internal_error", "out of memory");
		return;
	}
	MHD_add_response_header(resp, "Location", to);
	r->status = 302;
	r->mhd_resp = resp;
	r->ready = true;
}

bool ui_dispatch(struct req *r)
{
	const char *path = r->url;
	bool get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
	const char *rest;
	bool portal = false;
	if (strcmp(path, "/") == 0 || strcmp(path, "/ui") == 0 || strcmp(path, "/portal") == 0) {
		if (!get)
			return false; /* 404, as before */
		redirect(r, strcmp(path, "/portal") == 0 ? "/portal/" : "/ui/");
		return true;
	}
	if (strncmp(path, "/ui/", 4) == 0) {
		rest = path + 4;
	} else if (strncmp(path, "/portal/", 8) == 0) {
		rest = path + 8;
		portal = true;
	} else {
		return false;
	}
	if (!get) {
		api_error(r, 405, "method_not_allowed", "Method not allowed");
		return true;
	}
	if (ui_nfiles == 0) {
		api_error(r, 404, "not_found", "the web UI is not built into this hookd (it was built with make UI=0)");
		return true;
	}
	const struct ui_file *f = *rest == '\0' ? find("index.html") : find(rest);
	if (f == NULL) {
		const char *last = strrchr(rest, '/');
		last = last != NULL ? last + 1 : rest;
		if (strchr(last, '.') == NULL) /* a client-side route: the page reads it */
			f = find("index.html");
	}
	if (f == NULL) {
		api_error(r, 404, "not_found", "no such file in the web UI");
		return true;
	}
	serve(r, f, portal);
	return true;
}
