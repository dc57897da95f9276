// SPDX-License-Identifier: Apache-2.0
#include "log.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_fd = -1;
static atomic_int log_level = VMM_LOG_OFF;
static bool log_show_level, log_show_origin;
static char log_id[VMM_API_MAX_ID + 1];

int vmm_log_open(const char *path, enum vmm_log_level level, bool show_level, bool show_origin,
		 const char *id)
{
	int fd = STDERR_FILENO, old;

	if (path) {
		/* Non-blocking: a slow or stuck FIFO reader loses lines, it never
		 * stalls the thread that logs. */
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0600);
		if (fd < 0)
			return cvmm_err(errno, "cannot open '%s': %s", path,
					errno == ENXIO ? "a FIFO with no reader" : strerror(errno));
	}
	log_show_level = show_level;
	log_show_origin = show_origin;
	snprintf(log_id, sizeof(log_id), "%s", id);
	atomic_store(&log_level, level);
	old = atomic_exchange(&log_fd, fd);
	if (old > STDERR_FILENO)
		close(old);
	return 0;
}

void vmm_log_close(void)
{
	int old = atomic_exchange(&log_fd, -1);

	atomic_store(&log_level, VMM_LOG_OFF);
	if (old > STDERR_FILENO)
		close(old);
}

void vmm_log_at(enum vmm_log_level level, const char *file, int line, const char *fmt, ...)
{
	char buf[1024];
	struct timespec ts;
	struct tm tm;
	size_t n;
	va_list ap;
	int fd = atomic_load(&log_fd);

	if (fd < 0 || level == VMM_LOG_OFF || level > (enum vmm_log_level)atomic_load(&log_level))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, ".%06ldZ [%s", ts.tv_nsec / 1000, log_id);
	if (log_show_level)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, ":%s", vmm_api_level_name(level));
	if (log_show_origin)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, ":%s:%d", file, line);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "] ");
	va_start(ap, fmt);
	if (n < sizeof(buf))
		n += (size_t)vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	if (n >= sizeof(buf) - 1)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	(void)!write(fd, buf, n);
}
