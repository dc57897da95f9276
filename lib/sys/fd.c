// SPDX-License-Identifier: Apache-2.0
#include <cvmm/sys.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

int cvmm_eventfd_open(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	return fd < 0 ? cvmm_err(errno, "eventfd: %m") : fd;
}

int cvmm_eventfd_signal(int fd)
{
	uint64_t one = 1;

	/* EAGAIN means the counter is saturated: the reader is woken anyway. */
	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return cvmm_err(errno, "eventfd write: %m");
	return 0;
}

int cvmm_eventfd_drain(int fd, uint64_t *count)
{
	uint64_t val;

	if (read(fd, &val, sizeof(val)) != sizeof(val))
		return errno == EAGAIN ? -EAGAIN : cvmm_err(errno, "eventfd read: %m");
	if (count)
		*count = val;
	return 0;
}

int cvmm_timerfd_open(void)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	return fd < 0 ? cvmm_err(errno, "timerfd: %m") : fd;
}

int cvmm_timerfd_arm(int fd, uint64_t initial_ns, uint64_t interval_ns)
{
	struct itimerspec its = {
	    .it_value = {.tv_sec = initial_ns / 1000000000ULL,
			 .tv_nsec = initial_ns % 1000000000ULL},
	    .it_interval = {.tv_sec = interval_ns / 1000000000ULL,
			    .tv_nsec = interval_ns % 1000000000ULL},
	};

	if (timerfd_settime(fd, 0, &its, NULL) < 0)
		return cvmm_err(errno, "timerfd_settime: %m");
	return 0;
}

int cvmm_signalfd_open(const int *signals, size_t count)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	for (size_t i = 0; i < count; i++)
		if (sigaddset(&set, signals[i]) < 0)
			return cvmm_err(EINVAL, "bad signal number %d", signals[i]);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return cvmm_err(EINVAL, "pthread_sigmask failed");
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return fd < 0 ? cvmm_err(errno, "signalfd: %m") : fd;
}

uint64_t cvmm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Open path as a regular file of at most max_size bytes; returns the fd. */
static int file_open_checked(const char *path, size_t max_size, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return cvmm_err(errno, "%s: %m", path);
	if (fstat(fd, st) < 0)
		ret = cvmm_err(errno, "%s: %m", path);
	else if (!S_ISREG(st->st_mode))
		ret = cvmm_err(EINVAL, "%s: not a regular file", path);
	else if ((uint64_t)st->st_size > max_size)
		ret = cvmm_err(EFBIG, "%s: larger than %zu bytes", path, max_size);
	else
		return fd;
	close(fd);
	return ret;
}

int cvmm_file_map(const char *path, size_t max_size, const uint8_t **data, size_t *size)
{
	struct stat st;
	void *p;
	int fd = file_open_checked(path, max_size, &st);

	if (fd < 0)
		return fd;
	if (st.st_size == 0) {
		close(fd);
		return cvmm_err(EINVAL, "%s: empty file", path);
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return cvmm_err(errno, "%s: mmap: %m", path);
	*data = p;
	*size = (size_t)st.st_size;
	return 0;
}

void cvmm_file_unmap(const uint8_t *data, size_t size)
{
	if (data)
		munmap((void *)data, size);
}

int cvmm_file_read_all(const char *path, size_t max_size, uint8_t **data, size_t *size)
{
	struct stat st;
	uint8_t *buf;
	size_t done = 0;
	int ret = 0, fd = file_open_checked(path, max_size, &st);

	if (fd < 0)
		return fd;
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		close(fd);
		return cvmm_err(ENOMEM, "%s: out of memory", path);
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n <= 0) {
			ret = cvmm_err(n < 0 ? errno : EIO, "%s: read failed", path);
			free(buf);
			break;
		}
		done += (size_t)n;
	}
	close(fd);
	if (ret == 0) {
		*data = buf;
		*size = done;
	}
	return ret;
}
