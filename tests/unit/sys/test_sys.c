// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <cvmm/sys.h>
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static void test_err_message(void **state)
{
	(void)state;
	assert_int_equal(cvmm_err(EINVAL, "field %s", "memory"), -EINVAL);
	assert_string_equal(cvmm_err_msg(), "field memory");
	assert_int_equal(cvmm_err(ENOENT, "--kernel: %s", cvmm_err_msg()), -ENOENT);
	assert_string_equal(cvmm_err_msg(), "--kernel: field memory");
	cvmm_err_clear();
	assert_string_equal(cvmm_err_msg(), "");
}

static void test_eventfd_counts(void **state)
{
	uint64_t n = 0;
	int fd = cvmm_eventfd_open();

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(cvmm_eventfd_drain(fd, &n), -EAGAIN);
	cvmm_eventfd_signal(fd);
	cvmm_eventfd_signal(fd);
	assert_int_equal(cvmm_eventfd_drain(fd, &n), 0);
	assert_int_equal(n, 2);
	close(fd);
}

struct self_remove {
	struct cvmm_loop *loop;
	int calls;
};

static void on_ready(int fd, uint32_t events, void *opaque)
{
	struct self_remove *sr = opaque;

	assert_true(events & EPOLLIN);
	cvmm_eventfd_drain(fd, NULL);
	sr->calls++;
	/* A callback may remove itself; the loop must not touch it afterwards. */
	assert_int_equal(cvmm_loop_del(sr->loop, fd), 0);
	cvmm_loop_stop(sr->loop);
}

static void test_loop_dispatch_and_stop(void **state)
{
	struct self_remove sr = {0};
	int fd = cvmm_eventfd_open();

	(void)state;
	assert_int_equal(cvmm_loop_create(&sr.loop), 0);
	assert_int_equal(cvmm_loop_add(sr.loop, fd, EPOLLIN, on_ready, &sr), 0);
	assert_int_equal(cvmm_loop_add(sr.loop, fd, EPOLLIN, on_ready, &sr), -EEXIST);
	cvmm_eventfd_signal(fd);
	assert_int_equal(cvmm_loop_run(sr.loop), 0);
	assert_int_equal(sr.calls, 1);
	assert_int_equal(cvmm_loop_del(sr.loop, fd), -ENOENT);
	cvmm_loop_destroy(sr.loop);
	close(fd);
}

static void test_timerfd_fires(void **state)
{
	struct cvmm_loop *loop;
	struct self_remove sr = {0};
	int fd = cvmm_timerfd_open();

	(void)state;
	assert_int_equal(cvmm_loop_create(&loop), 0);
	sr.loop = loop;
	assert_int_equal(cvmm_timerfd_arm(fd, 1000000, 0), 0);
	assert_int_equal(cvmm_loop_add(loop, fd, EPOLLIN, on_ready, &sr), 0);
	assert_int_equal(cvmm_loop_run(loop), 0);
	assert_int_equal(sr.calls, 1);
	cvmm_loop_destroy(loop);
	close(fd);
}

static void test_file_read_all_limits(void **state)
{
	uint8_t *data;
	size_t size;

	(void)state;
	assert_int_equal(cvmm_file_read_all("/nonexistent/x", 10, &data, &size), -ENOENT);
	assert_int_equal(cvmm_file_read_all("/dev/null", 10, &data, &size), -EINVAL);
	assert_int_equal(cvmm_file_read_all("/proc/self/exe", 10, &data, &size), -EFBIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_err_message),
	    cmocka_unit_test(test_eventfd_counts),
	    cmocka_unit_test(test_loop_dispatch_and_stop),
	    cmocka_unit_test(test_timerfd_fires),
	    cmocka_unit_test(test_file_read_all_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
