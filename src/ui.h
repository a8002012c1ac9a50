/* ui.h: the web dashboard and app portal, embedded in the binary and served under /ui/ and /portal/ (docs/ui.md). */
#ifndef HOOKD_UI_H
#define HOOKD_UI_H

#include <stdbool.h>
#include <stddef.h>

struct req;

/* One file of the bundle, as scripts/ui-embed.mjs writes it into $(BUILD)/ui_assets.c at build time. */
struct ui_file {
	const char *name;         /* "index.html", "main-3FQ2ZK7A.js": no directories */
	const char *type;         /* its Content-Type */
	const char *etag;         /* hex, from a hash of the content; the ETag header quotes it */
	const unsigned char *gz;  /* gzip -9 of the content */
	size_t gz_len;
	const unsigned char *raw; /* the content, for a client that does not take gzip */
	size_t raw_len;
	bool immutable;           /* the name holds the content's hash: cacheable for a year */
};
extern const struct ui_file ui_files[];
extern const size_t ui_nfiles; /* 0: built with make UI=0 */

/* Answer r if its path is the UI's ("/", "/ui", "/ui/...", "/portal", "/portal/..."); false if it is not. */
bool ui_dispatch(struct req *r);

#endif
