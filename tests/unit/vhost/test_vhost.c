// SPDX-License-Identifier: Apache-2.0
/* cvmm-vhost: errors name the device; with /dev/vhost-net present (the rig's
 * L1 loads vhost_net), rings are checked against guest RAM before the kernel
 * sees them and start/stop round-trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cvmm/sys.h>
#include <cvmm/vhost.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#define VHOST_NET "/dev/vhost-net"

static void test_open_missing(void **state)
{
	struct cvmm_vhost *v = NULL;

	(void)state;
	assert_int_equal(cvmm_vhost_open(&v, "/dev/cvmm-no-such-vhost"), -ENOENT);
	assert_non_null(strstr(cvmm_err_msg(), "/dev/cvmm-no-such-vhost"));
	assert_null(v);
}

static void test_open_not_vhost(void **state)
{
	struct cvmm_vhost *v = NULL;

	(void)state;
	assert_true(cvmm_vhost_open(&v, "/dev/null") < 0);
	assert_non_null(strstr(cvmm_err_msg(), "/dev/null"));
	assert_non_null(strstr(cvmm_err_msg(), "VHOST_SET_OWNER"));
}

static struct cvmm_vhost *open_net(void)
{
	struct cvmm_vhost *v = NULL;

	if (access(VHOST_NET, R_OK | W_OK) != 0)
		return NULL;
	assert_int_equal(cvmm_vhost_open(&v, VHOST_NET), 0);
	return v;
}

static void test_rings(void **state)
{
	struct cvmm_vhost *v = open_net();
	struct cvmm_mem *mem;
	int kick = cvmm_eventfd_open(), call = cvmm_eventfd_open();
	struct cvmm_vhost_vring r = {.size = 256,
				     .desc = 0x10000,
				     .avail = 0x11000,
				     .used = 0x12000,
				     .kick_fd = kick,
				     .call_fd = call};
	uint16_t base = 0xffff;

	(void)state;
	if (!v) {
		close(kick);
		close(call);
		skip();
	}
	/* VERSION_1 (bit 32) and EVENT_IDX (29) from any vhost-net we support. */
	assert_true(cvmm_vhost_features(v) & (1ULL << 32));
	assert_int_equal(cvmm_vhost_set_features(v, ~0ULL), 0);
	assert_int_equal(cvmm_vhost_vring_start(v, 0, &r), -EINVAL); /* no memory table */
	assert_int_equal(cvmm_mem_create(&mem, 1 << 20, NULL), 0);
	assert_int_equal(cvmm_vhost_set_mem(v, mem), 0);
	r.used = (1 << 20) - 8; /* ends past RAM */
	assert_int_equal(cvmm_vhost_vring_start(v, 0, &r), -EFAULT);
	r.used = 0x12000;
	r.size = 3;
	assert_int_equal(cvmm_vhost_vring_start(v, 0, &r), -EINVAL);
	r.size = 256;
	assert_int_equal(cvmm_vhost_vring_start(v, CVMM_VHOST_MAX_VRINGS, &r), -EINVAL);
	r.base = 7;
	assert_int_equal(cvmm_vhost_vring_start(v, 0, &r), 0);
	assert_int_equal(cvmm_vhost_vring_stop(v, 0, &base), 0);
	assert_int_equal(base, 7);
	/* Again, as after a guest reset. */
	r.base = 0;
	assert_int_equal(cvmm_vhost_vring_start(v, 0, &r), 0);
	assert_int_equal(cvmm_vhost_vring_stop(v, 0, NULL), 0);
	/* Not a TAP: vhost-net refuses it as a back end. */
	assert_true(cvmm_vhost_net_set_backend(v, 0, kick) < 0);
	assert_non_null(strstr(cvmm_err_msg(), VHOST_NET));
	cvmm_vhost_close(v);
	cvmm_mem_destroy(mem);
	close(kick);
	close(call);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open_missing),
	    cmocka_unit_test(test_open_not_vhost),
	    cmocka_unit_test(test_rings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
