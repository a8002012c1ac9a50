/* fuzz_dedup.c: source_dedup_key, which reads the provider's event id out of every inbound body (a JSON pointer
 * into bytes nobody has validated yet). Any body: a key comes back, and it is either the body's hash or a
 * printable value of at most SOURCE_KEY_MAX bytes. The first input byte picks the pointer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const pointers[] = {"/id", "/data/object/id", "/a~1b/0", "/", "/0", "/~0/~"};

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	const char *ptr = pointers[data[0] % (sizeof pointers / sizeof pointers[0])];
	char *key = source_dedup_key(DEDUP_POINTER, ptr, NULL, (const char *)data + 1, size - 1);
	if (key == NULL)
		abort();
	bool hash = strncmp(key, "sha256:", 7) == 0 && strlen(key) == 7 + 64;
	if (!hash && (strlen(key) > SOURCE_KEY_MAX || !printable(key)))
		abort();
	free(key);
	return 0;
}
