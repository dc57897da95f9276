/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvmm-sys: error convention, fd helpers and an epoll event loop.
 *
 * Error convention (shared by every cvmm component): functions that can fail
 * return a negative errno value (or NULL with errno set where they return a
 * pointer). A human-readable message describing the last failure on the
 * calling thread can be read with cvmm_err_msg(); it is thread-local and is
 * overwritten by the next failure. Nothing in cvmm aborts on bad input.
 *
 * Threading: the error message is per thread. A cvmm_loop is driven by one
 * thread (the one calling cvmm_loop_run*()); subscriptions change on that
 * thread, or before it starts. Only cvmm_loop_stop() may be called from other
 * threads. A device that must not delay others gets a loop of its own, run by
 * cvmm_loop_thread_start().
 */
#ifndef CVMM_SYS_H
#define CVMM_SYS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Record a formatted message for this thread and return -errnum. The
 * arguments may include cvmm_err_msg(), to add context to a failure. */
int cvmm_err(int errnum, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Last message recorded on this thread ("" if none). Never NULL. */
const char *cvmm_err_msg(void);
/* Forget the last message on this thread. */
void cvmm_err_clear(void);

/* Non-blocking, close-on-exec eventfd. Returns fd or -errno. */
int cvmm_eventfd_open(void);
/* Add 1 to the eventfd counter. Returns 0 or -errno. */
int cvmm_eventfd_signal(int fd);
/* Read and reset the counter; *count may be NULL. Returns 0, -EAGAIN if it
 * was zero, or another -errno. */
int cvmm_eventfd_drain(int fd, uint64_t *count);

/* Non-blocking monotonic timerfd. Returns fd or -errno. */
int cvmm_timerfd_open(void);
/* Arm a timer: first expiry after initial_ns, then every interval_ns (0 for
 * one-shot). initial_ns == 0 disarms. Returns 0 or -errno. */
int cvmm_timerfd_arm(int fd, uint64_t initial_ns, uint64_t interval_ns);

/* Block the given signals in the calling thread and return a non-blocking
 * signalfd that reports them, or -errno. */
int cvmm_signalfd_open(const int *signals, size_t count);

/* Monotonic clock in nanoseconds. */
uint64_t cvmm_now_ns(void);

/* Read a whole regular file into a malloc'd buffer (at most max_size bytes).
 * Returns 0 and sets *data and *size, or -errno (-EFBIG if larger than max_size). */
int cvmm_file_read_all(const char *path, size_t max_size, uint8_t **data, size_t *size);

/* Map a whole regular file read-only (private), for large inputs of which
 * only parts are needed (an ELF kernel's loadable segments): pages are read
 * on first touch. Same checks and errors as cvmm_file_read_all(); an empty
 * file is -EINVAL. Release with cvmm_file_unmap(). */
int cvmm_file_map(const char *path, size_t max_size, const uint8_t **data, size_t *size);
void cvmm_file_unmap(const uint8_t *data, size_t size);

/*
 * Event loop. Subscribers are (fd, epoll events, callback, opaque). A
 * callback may add or remove subscribers, including itself.
 */
struct cvmm_loop;
typedef void (*cvmm_loop_fn)(int fd, uint32_t events, void *opaque);

int cvmm_loop_create(struct cvmm_loop **out);
/* Removes nothing from the fds it was given: callers own their fds. */
void cvmm_loop_destroy(struct cvmm_loop *loop);
/* -EEXIST if fd is already subscribed. */
int cvmm_loop_add(struct cvmm_loop *loop, int fd, uint32_t events, cvmm_loop_fn fn, void *opaque);
/* -ENOENT if fd is not subscribed. */
int cvmm_loop_del(struct cvmm_loop *loop, int fd);
/* Change the epoll events watched on a subscribed fd: 0 pauses it without
 * unsubscribing (backpressure: stop reading a host fd while the guest posts
 * no buffers), and restoring EPOLLIN resumes it. -ENOENT if not subscribed. */
int cvmm_loop_set_events(struct cvmm_loop *loop, int fd, uint32_t events);
/* Dispatch ready events once, waiting at most timeout_ms (-1: forever).
 * Returns the number of callbacks run, or -errno. */
int cvmm_loop_run_once(struct cvmm_loop *loop, int timeout_ms);
/* Dispatch until cvmm_loop_stop(). Returns 0 or -errno. */
int cvmm_loop_run(struct cvmm_loop *loop);
/* Make cvmm_loop_run() return; safe from any thread and signal handlers. */
void cvmm_loop_stop(struct cvmm_loop *loop);

/* Run cvmm_loop_run() on a new thread named name (at most 15 characters are
 * kept), e.g. a device's I/O thread. Stop it with cvmm_loop_stop() and
 * pthread_join(). Returns 0 or -errno. */
int cvmm_loop_thread_start(struct cvmm_loop *loop, const char *name, pthread_t *thread);

#ifdef __cplusplus
}
#endif
#endif
