// SPDX-License-Identifier: Apache-2.0
#include <cvmm/sys.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define LOOP_MAX_EVENTS 32

struct loop_sub {
	int fd;
	cvmm_loop_fn fn;
	void *opaque;
	struct loop_sub *next;
	bool dead; /* removed while a dispatch may still reference it */
};

struct cvmm_loop {
	int epfd;
	int stop_fd;
	atomic_bool stopping;
	struct loop_sub *subs;
	int dispatching;
};

int cvmm_loop_create(struct cvmm_loop **out)
{
	struct cvmm_loop *loop = calloc(1, sizeof(*loop));
	struct epoll_event ev = {.events = EPOLLIN};

	if (!loop)
		return cvmm_err(ENOMEM, "loop: out of memory");
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		int ret = cvmm_err(errno, "epoll_create1: %m");

		free(loop);
		return ret;
	}
	loop->stop_fd = cvmm_eventfd_open();
	if (loop->stop_fd < 0) {
		int ret = loop->stop_fd;

		close(loop->epfd);
		free(loop);
		return ret;
	}
	ev.data.ptr = NULL; /* NULL marks the stop eventfd */
	epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->stop_fd, &ev);
	*out = loop;
	return 0;
}

static void loop_reap(struct cvmm_loop *loop)
{
	struct loop_sub **pp = &loop->subs;

	while (*pp) {
		struct loop_sub *s = *pp;

		if (s->dead) {
			*pp = s->next;
			free(s);
		} else {
			pp = &s->next;
		}
	}
}

void cvmm_loop_destroy(struct cvmm_loop *loop)
{
	if (!loop)
		return;
	for (struct loop_sub *s = loop->subs; s; s = s->next)
		s->dead = true;
	loop_reap(loop);
	close(loop->stop_fd);
	close(loop->epfd);
	free(loop);
}

static struct loop_sub *loop_find(struct cvmm_loop *loop, int fd)
{
	for (struct loop_sub *s = loop->subs; s; s = s->next)
		if (!s->dead && s->fd == fd)
			return s;
	return NULL;
}

int cvmm_loop_add(struct cvmm_loop *loop, int fd, uint32_t events, cvmm_loop_fn fn, void *opaque)
{
	struct epoll_event ev = {.events = events};
	struct loop_sub *s;

	if (fd < 0 || !fn)
		return cvmm_err(EINVAL, "loop_add: bad fd or callback");
	if (loop_find(loop, fd))
		return cvmm_err(EEXIST, "loop_add: fd %d already subscribed", fd);
	s = calloc(1, sizeof(*s));
	if (!s)
		return cvmm_err(ENOMEM, "loop_add: out of memory");
	*s = (struct loop_sub){.fd = fd, .fn = fn, .opaque = opaque, .next = loop->subs};
	ev.data.ptr = s;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int ret = cvmm_err(errno, "epoll_ctl add fd %d: %m", fd);

		free(s);
		return ret;
	}
	loop->subs = s;
	return 0;
}

int cvmm_loop_del(struct cvmm_loop *loop, int fd)
{
	struct loop_sub *s = loop_find(loop, fd);

	if (!s)
		return cvmm_err(ENOENT, "loop_del: fd %d not subscribed", fd);
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	s->dead = true;
	if (!loop->dispatching)
		loop_reap(loop);
	return 0;
}

int cvmm_loop_set_events(struct cvmm_loop *loop, int fd, uint32_t events)
{
	struct loop_sub *s = loop_find(loop, fd);
	struct epoll_event ev = {.events = events};

	if (!s)
		return cvmm_err(ENOENT, "loop_set_events: fd %d not subscribed", fd);
	ev.data.ptr = s;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return cvmm_err(errno, "epoll_ctl mod fd %d: %m", fd);
	return 0;
}

int cvmm_loop_run_once(struct cvmm_loop *loop, int timeout_ms)
{
	struct epoll_event evs[LOOP_MAX_EVENTS];
	int n, ran = 0;

	n = epoll_wait(loop->epfd, evs, LOOP_MAX_EVENTS, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : cvmm_err(errno, "epoll_wait: %m");
	loop->dispatching++;
	for (int i = 0; i < n; i++) {
		struct loop_sub *s = evs[i].data.ptr;

		if (!s) {
			cvmm_eventfd_drain(loop->stop_fd, NULL);
			continue;
		}
		if (s->dead)
			continue;
		s->fn(s->fd, evs[i].events, s->opaque);
		ran++;
	}
	if (--loop->dispatching == 0)
		loop_reap(loop);
	return ran;
}

int cvmm_loop_run(struct cvmm_loop *loop)
{
	while (!atomic_load(&loop->stopping)) {
		int ret = cvmm_loop_run_once(loop, -1);

		if (ret < 0)
			return ret;
	}
	return 0;
}

static void *loop_thread(void *arg)
{
	struct cvmm_loop *loop = arg;
	int ret = cvmm_loop_run(loop);

	return (void *)(intptr_t)ret;
}

int cvmm_loop_thread_start(struct cvmm_loop *loop, const char *name, pthread_t *thread)
{
	char short_name[16];
	int ret = pthread_create(thread, NULL, loop_thread, loop);

	if (ret)
		return cvmm_err(ret, "cannot start thread %s: %s", name, strerror(ret));
	snprintf(short_name, sizeof(short_name), "%s", name);
	pthread_setname_np(*thread, short_name); /* cosmetic: a failure changes nothing */
	return 0;
}

void cvmm_loop_stop(struct cvmm_loop *loop)
{
	uint64_t one = 1;

	atomic_store(&loop->stopping, true);
	/* write(2) is async-signal-safe; cvmm_eventfd_signal() may set errno text. */
	if (write(loop->stop_fd, &one, sizeof(one)) < 0) {
		/* saturated counter: the loop is already awake */
	}
}
