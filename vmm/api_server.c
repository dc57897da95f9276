// SPDX-License-Identifier: Apache-2.0
/*
 * The API's UNIX socket on the main thread's loop. Every handler is short
 * and non-blocking (the guest runs on vCPU threads, disks on their own I/O
 * threads), so the API answers while the guest runs or a disk is slow; see
 * docs/architecture.md, Execution model.
 */
#include "api.h"
#include "log.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Beyond this, new clients wait in the listen backlog. */
#define API_MAX_CONNS 256
#define API_BACKLOG 128

struct api_conn {
	struct vmm_api_server *srv;
	int fd;
	struct vmm_api_http *http;
	bool reading; /* EPOLLIN subscribed (off while output is pending) */
	struct api_conn *prev, *next;
};

struct vmm_api_server {
	struct cvmm_loop *loop;
	struct vmm_api *api;
	int fd;
	char *path;
	struct api_conn *conns;
	unsigned int nr_conns;
	bool accepting;
};

static void listen_event(int fd, uint32_t events, void *opaque);

static void set_accepting(struct vmm_api_server *s, bool on)
{
	if (on != s->accepting && cvmm_loop_set_events(s->loop, s->fd, on ? EPOLLIN : 0) == 0)
		s->accepting = on;
}

static void conn_close(struct api_conn *c)
{
	struct vmm_api_server *s = c->srv;

	cvmm_loop_del(s->loop, c->fd);
	close(c->fd);
	vmm_api_http_destroy(c->http);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
	s->nr_conns--;
	set_accepting(s, true);
}

/* Send what is queued; read again only once it is all out, so a client that
 * pipelines without reading cannot grow our buffer. Returns false if c was
 * closed. */
static bool conn_flush(struct api_conn *c)
{
	size_t len;
	const char *out = vmm_api_http_output(c->http, &len);
	bool want_read;

	while (len) {
		ssize_t n = send(c->fd, out, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			conn_close(c);
			return false;
		}
		vmm_api_http_consume(c->http, (size_t)n);
		out = vmm_api_http_output(c->http, &len);
	}
	if (len == 0 && vmm_api_http_closing(c->http)) {
		conn_close(c);
		return false;
	}
	want_read = len == 0;
	if (cvmm_loop_set_events(c->srv->loop, c->fd, want_read ? EPOLLIN : EPOLLOUT) < 0) {
		conn_close(c);
		return false;
	}
	c->reading = want_read;
	return true;
}

static void conn_event(int fd, uint32_t events, void *opaque)
{
	struct api_conn *c = opaque;
	char buf[4096];
	ssize_t n;

	if (!c->reading) {
		conn_flush(c);
		return;
	}
	(void)events;
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	vmm_api_http_input(c->http, buf, (size_t)n);
	conn_flush(c);
}

static void listen_event(int fd, uint32_t events, void *opaque)
{
	struct vmm_api_server *s = opaque;

	(void)events;
	while (s->nr_conns < API_MAX_CONNS) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct api_conn *c;

		if (cfd < 0)
			return; /* EAGAIN, or a client that went away */
		c = calloc(1, sizeof(*c));
		if (!c || vmm_api_http_create(&c->http, s->api) < 0 ||
		    cvmm_loop_add(s->loop, cfd, EPOLLIN, conn_event, c) < 0) {
			vmm_log(VMM_LOG_ERROR, "API: cannot take a connection: %s", cvmm_err_msg());
			if (c)
				vmm_api_http_destroy(c->http);
			free(c);
			close(cfd);
			return;
		}
		c->srv = s;
		c->fd = cfd;
		c->reading = true;
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		s->nr_conns++;
	}
	set_accepting(s, false);
}

/* An existing path is ours to replace only if it is a socket nobody serves. */
static int sock_check_stale(const char *path, const struct sockaddr_un *addr)
{
	struct stat st;
	int fd, ret;

	if (lstat(path, &st) < 0)
		return errno == ENOENT
			   ? 0
			   : cvmm_err(errno, "--api-sock: %s: %s", path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return cvmm_err(EEXIST, "--api-sock: %s exists and is not a socket", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cvmm_err(errno, "--api-sock: socket: %s", strerror(errno));
	ret = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
	close(fd);
	if (ret == 0)
		return cvmm_err(EADDRINUSE, "--api-sock: %s is in use by another process", path);
	if (errno != ECONNREFUSED)
		return cvmm_err(errno, "--api-sock: %s: %s", path, strerror(errno));
	if (unlink(path) < 0)
		return cvmm_err(errno, "--api-sock: cannot remove stale %s: %s", path,
				strerror(errno));
	return 0;
}

int vmm_api_server_create(struct vmm_api_server **out, struct cvmm_loop *loop, const char *path,
			  struct vmm_api *api)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX}, tmp = {.sun_family = AF_UNIX};
	struct vmm_api_server *s;
	mode_t old_mask;
	size_t len = strlen(path);
	int ret;

	/* Room for the temporary name's ".<pid>" too (a pid has at most 10 digits). */
	if (len + 12 >= sizeof(addr.sun_path))
		return cvmm_err(ENAMETOOLONG, "--api-sock: %s: longer than %zu bytes", path,
				sizeof(addr.sun_path) - 13);
	memcpy(addr.sun_path, path, len + 1);
	memcpy(tmp.sun_path, path, len);
	snprintf(tmp.sun_path + len, sizeof(tmp.sun_path) - len, ".%d", (int)getpid());
	ret = sock_check_stale(path, &addr);
	if (ret < 0)
		return ret;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		free(s);
		return cvmm_err(ENOMEM, "out of memory");
	}
	s->loop = loop;
	s->api = api;
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		ret = cvmm_err(errno, "--api-sock: socket: %s", strerror(errno));
		goto fail;
	}
	/* Created 0600 from the start: no window where others could connect.
	 * Bound under a temporary name and renamed once listening, so that a
	 * client that waits for the path to appear never finds it refusing. */
	old_mask = umask(0177);
	ret = bind(s->fd, (const struct sockaddr *)&tmp, sizeof(tmp));
	umask(old_mask);
	if (ret < 0) {
		ret = cvmm_err(errno, "--api-sock: %s: %s", path, strerror(errno));
		goto fail;
	}
	if (listen(s->fd, API_BACKLOG) < 0 || rename(tmp.sun_path, path) < 0) {
		ret = cvmm_err(errno, "--api-sock: %s: %s", path, strerror(errno));
		unlink(tmp.sun_path);
		goto fail;
	}
	ret = cvmm_loop_add(loop, s->fd, EPOLLIN, listen_event, s);
	if (ret < 0) {
		unlink(path);
		goto fail;
	}
	s->accepting = true;
	*out = s;
	return 0;
fail:
	if (s->fd >= 0)
		close(s->fd);
	free(s->path);
	free(s);
	return ret;
}

void vmm_api_server_destroy(struct vmm_api_server *s)
{
	if (!s)
		return;
	while (s->conns)
		conn_close(s->conns);
	cvmm_loop_del(s->loop, s->fd);
	close(s->fd);
	unlink(s->path);
	free(s->path);
	free(s);
}
