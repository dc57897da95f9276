// SPDX-License-Identifier: Apache-2.0
/* The hybrid back end: UNIX sockets at uds_path and "<uds_path>_<port>". */
#include "vsock_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int uds_addr(struct sockaddr_un *sa, const char *path, const char *suffix)
{
	*sa = (struct sockaddr_un){.sun_family = AF_UNIX};
	if ((size_t)snprintf(sa->sun_path, sizeof(sa->sun_path), "%s%s", path, suffix) >=
	    sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

/* A socket file nobody listens on is left by a dead monitor: replace it.
 * Anything else at path is the user's and stays. */
static int uds_clear_stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, ret;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : cvmm_err(errno, "uds_path: %s: %m", path);
	if (!S_ISSOCK(st.st_mode))
		return cvmm_err(EEXIST, "uds_path: %s exists and is not a socket", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cvmm_err(errno, "uds_path: socket: %m");
	ret = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (ret == 0)
		return cvmm_err(EADDRINUSE, "uds_path: %s is in use by a live listener", path);
	if (errno != ECONNREFUSED)
		return cvmm_err(errno, "uds_path: %s: %m", path);
	if (unlink(path) < 0)
		return cvmm_err(errno, "uds_path: cannot remove the stale socket %s: %m", path);
	return 0;
}

int vsock_uds_listen(struct cvmm_virtio_vsock *v, const char *path)
{
	struct sockaddr_un sa;
	int fd, ret;

	/* The longest peer path is "<path>_4294967295". */
	if (uds_addr(&sa, path, "_4294967295") < 0 || uds_addr(&sa, path, "") < 0)
		return cvmm_err(ENAMETOOLONG, "uds_path: %s is too long for a UNIX socket", path);
	ret = uds_clear_stale(path, &sa);
	if (ret < 0)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cvmm_err(errno, "uds_path: socket: %m");
	if (bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 128) < 0) {
		ret = cvmm_err(errno, "uds_path: %s: %m", path);
		close(fd);
		return ret;
	}
	v->uds_path = strdup(path);
	if (!v->uds_path) {
		unlink(path);
		close(fd);
		return cvmm_err(ENOMEM, "virtio-vsock: out of memory");
	}
	v->listen_fd = fd;
	return 0;
}

int vsock_uds_connect(struct cvmm_virtio_vsock *v, uint32_t port, int type)
{
	struct sockaddr_un sa;
	char suffix[16];
	int fd;

	snprintf(suffix, sizeof(suffix), "_%u", port);
	if (uds_addr(&sa, v->uds_path, suffix) < 0)
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A message is sent whole or not at all: room for the largest one the
	 * credit allows (the kernel caps this at wmem_max; past it, EMSGSIZE). */
	if (type == SOCK_SEQPACKET)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v->buf_alloc, sizeof(v->buf_alloc));
	/* A UNIX connect completes at once or fails (EAGAIN: backlog full):
	 * the guest never waits on a host listener. */
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}
