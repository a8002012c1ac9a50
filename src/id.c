/* id.c: time-sortable ids. 20 bytes (6 bytes unix ms, 2 bytes per-ms counter, 12 random bytes, all
 * big-endian) written as 27 fixed-width base62 digits in ASCII order, so comparing two ids as strings compares
 * their numbers, which puts them in creation order. */
#include "id.h"

#include <pthread.h>
#include <string.h>

#include <openssl/rand.h>

#include "log.h"
#include "util.h"

#define ID_RAW_LEN 20
#define ID_RAND_OFF 8
#define ID_MS_MAX ((INT64_C(1) << 48) - 1)
#define ID_COUNTER_MAX 0xffff
#define UID_MAX 256

/* ASCII order: '0' < 'A' < 'a', so string order equals numeric order. */
static const char base62_digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static pthread_mutex_t id_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t id_last_ms = -1;
static unsigned id_counter;

#define ID_LIMBS (ID_RAW_LEN / 4)

/* Divide the big-endian number in n (32-bit limbs) by 62 in place; returns the remainder. Limbs rather than
 * bytes: an id is made per message and per attempt, and this is a quarter of the divisions. */
static unsigned divmod62(uint32_t n[ID_LIMBS])
{
	uint64_t rem = 0;
	for (int i = 0; i < ID_LIMBS; i++) {
		uint64_t cur = rem << 32 | n[i];
		n[i] = (uint32_t)(cur / 62);
		rem = cur % 62;
	}
	return (unsigned)rem;
}

static void encode62(const uint8_t raw[ID_RAW_LEN], char out[ID_BODY_LEN])
{
	uint32_t n[ID_LIMBS];
	for (int i = 0; i < ID_LIMBS; i++)
		n[i] = (uint32_t)raw[4 * i] << 24 | (uint32_t)raw[4 * i + 1] << 16 | (uint32_t)raw[4 * i + 2] << 8 |
		       raw[4 * i + 3];
	for (int i = ID_BODY_LEN - 1; i >= 0; i--)
		out[i] = base62_digits[divmod62(n)];
}

static int digit62(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 36;
	return -1;
}

/* 27 base62 digits -> 20 bytes; -1 on a bad digit or a value that needs more than 160 bits
 * (62^27 > 2^160, so some 27-digit strings are too big to be ids). */
static int decode62(const char *s, uint8_t raw[ID_RAW_LEN])
{
	memset(raw, 0, ID_RAW_LEN);
	for (int i = 0; i < ID_BODY_LEN; i++) {
		int d = digit62(s[i]);
		if (d < 0)
			return -1;
		unsigned carry = (unsigned)d;
		for (int j = ID_RAW_LEN - 1; j >= 0; j--) {
			unsigned cur = raw[j] * 62u + carry;
			raw[j] = (uint8_t)cur;
			carry = cur >> 8;
		}
		if (carry != 0)
			return -1;
	}
	return 0;
}

static void id_write(const char *prefix, int64_t ms, unsigned counter, char out[ID_MAX])
{
	uint8_t raw[ID_RAW_LEN];
	size_t plen = strlen(prefix);
	if (plen + ID_BODY_LEN + 1 > ID_MAX)
		fatalx("id prefix too long: %s", prefix);
	for (int i = 0; i < 6; i++)
		raw[i] = (uint8_t)(ms >> (40 - 8 * i));
	raw[6] = (uint8_t)(counter >> 8);
	raw[7] = (uint8_t)counter;
	if (RAND_bytes(raw + ID_RAND_OFF, ID_RAW_LEN - ID_RAND_OFF) != 1)
		fatalx("RAND_bytes failed");
	memcpy(out, prefix, plen);
	encode62(raw, out + plen);
	out[plen + ID_BODY_LEN] = '\0';
}

static int64_t clamp_ms(int64_t ms)
{
	return ms < 0 ? 0 : ms > ID_MS_MAX ? ID_MS_MAX : ms;
}

void id_new(const char *prefix, char out[ID_MAX])
{
	int64_t ms = clamp_ms(now_ms());
	pthread_mutex_lock(&id_lock);
	/* Within one ms (or if the clock stepped back) stay on the last ms and count; when the counter runs out,
	 * borrow the next ms. Either way (ms, counter) grows strictly, which orders the ids. */
	if (ms <= id_last_ms) {
		ms = id_last_ms;
		if (++id_counter > ID_COUNTER_MAX) {
			ms = clamp_ms(ms + 1);
			id_counter = 0;
		}
	} else {
		id_counter = 0;
	}
	id_last_ms = ms;
	unsigned counter = id_counter;
	pthread_mutex_unlock(&id_lock);
	id_write(prefix, ms, counter, out);
}

void id_floor(const char *prefix, int64_t ms, char out[ID_MAX])
{
	uint8_t raw[ID_RAW_LEN] = {0};
	size_t plen = strlen(prefix);
	if (plen + ID_BODY_LEN + 1 > ID_MAX)
		fatalx("id prefix too long: %s", prefix);
	ms = clamp_ms(ms);
	for (int i = 0; i < 6; i++)
		raw[i] = (uint8_t)(ms >> (40 - 8 * i));
	memcpy(out, prefix, plen);
	encode62(raw, out + plen);
	out[plen + ID_BODY_LEN] = '\0';
}

void id_new_at(const char *prefix, int64_t ms, char out[ID_MAX])
{
	/* Deliberately outside the monotonic state: a made-up time must not drag later id_new() calls forward. */
	id_write(prefix, clamp_ms(ms), 0, out);
}

static bool id_parse(const char *prefix, const char *s, uint8_t raw[ID_RAW_LEN])
{
	if (prefix == NULL || s == NULL)
		return false;
	size_t plen = strlen(prefix);
	if (strncmp(s, prefix, plen) != 0 || strnlen(s + plen, ID_BODY_LEN + 1) != ID_BODY_LEN)
		return false;
	return decode62(s + plen, raw) == 0;
}

int64_t id_time_ms(const char *prefix, const char *id)
{
	uint8_t raw[ID_RAW_LEN];
	if (!id_parse(prefix, id, raw))
		return -1;
	int64_t ms = 0;
	for (int i = 0; i < 6; i++)
		ms = ms << 8 | raw[i];
	return ms;
}

bool id_is(const char *prefix, const char *s)
{
	uint8_t raw[ID_RAW_LEN];
	return id_parse(prefix, s, raw);
}

static bool uid_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
	       c == '.';
}

bool uid_valid(const char *s)
{
	if (s == NULL)
		return false;
	size_t n = 0;
	for (; s[n] != '\0'; n++)
		if (n == UID_MAX || !uid_char(s[n]))
			return false;
	return n > 0;
}
