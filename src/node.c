/* node.c: this process's node id, kept and locked in the data directory (node.h). */
#include "node.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "id.h"

static char id[ID_MAX];
static int lock_fd = -1; /* held open (and locked) until the process ends */

static bool valid(const char *s)
{
	size_t n = strlen(s);
	if (n < 6 || n >= ID_MAX || strncmp(s, "node_", 5) != 0)
		return false;
	for (size_t i = 5; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	return true;
}

int node_init(const char *data_dir)
{
	char path[4200], buf[ID_MAX + 2] = "";
	snprintf(path, sizeof path, "%s/node", data_dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "hookd: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		fprintf(stderr, "hookd: another hookd is running on the data directory %s (%s is locked)\n", data_dir,
			path);
		close(fd);
		return -1;
	}
	ssize_t n = read(fd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (valid(buf)) {
		memcpy(id, buf, strlen(buf) + 1); /* valid(): shorter than ID_MAX */
	} else {
		id_new("node_", id);
		char line[ID_MAX + 1];
		int len = snprintf(line, sizeof line, "%s\n", id);
		if (ftruncate(fd, 0) < 0 || pwrite(fd, line, (size_t)len, 0) != len || fsync(fd) < 0) {
			fprintf(stderr, "hookd: %s: %s\n", path, strerror(errno));
			close(fd);
			return -1;
		}
	}
	lock_fd = fd;
	return 0;
}

const char *node_id(void) { return id; }
