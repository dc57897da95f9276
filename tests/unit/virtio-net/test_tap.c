// SPDX-License-Identifier: Apache-2.0
/* The TAP back end against real interfaces, made persistent here as
 * `ip tuntap add` would (skipped without the privilege to create them): an
 * existing TAP attaches; a missing one is reported and not left behind; a
 * TUN is refused; a second user gets "busy". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cvmm/virtio-net.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Create (persist = 1) or delete (0) a persistent TUN/TAP device. */
static int make_persistent(const char *name, short type, int persist)
{
	struct ifreq ifr = {0};
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC), ret = -1;

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = type | IFF_NO_PI | (type == IFF_TAP ? IFF_VNET_HDR : 0);
	if (ioctl(fd, TUNSETIFF, &ifr) == 0 && ioctl(fd, TUNSETPERSIST, persist) == 0)
		ret = 0;
	close(fd);
	return ret;
}

static void test_tap_backend(void **state)
{
	char tap[IFNAMSIZ], tun[IFNAMSIZ], missing[IFNAMSIZ];
	struct cvmm_virtio_net_tap *t = NULL, *t2 = NULL;

	(void)state;
	snprintf(tap, sizeof(tap), "cvmmut%d", (int)getpid() % 100000);
	snprintf(tun, sizeof(tun), "cvmmun%d", (int)getpid() % 100000);
	snprintf(missing, sizeof(missing), "cvmmux%d", (int)getpid() % 100000);
	if (make_persistent(tap, IFF_TAP, 1) < 0)
		skip(); /* no CAP_NET_ADMIN or no tun driver */
	assert_int_equal(make_persistent(tun, IFF_TUN, 1), 0);

	assert_int_equal(cvmm_virtio_net_tap_open(&t, tap), 0);
	assert_true(cvmm_virtio_net_tap_backend(t)->fd >= 0);
	assert_int_equal(cvmm_virtio_net_tap_open(&t2, tap), -EBUSY);
	assert_non_null(strstr(cvmm_err_msg(), "busy"));
	cvmm_virtio_net_tap_close(t);
	/* Released on close: attachable again. */
	assert_int_equal(cvmm_virtio_net_tap_open(&t, tap), 0);
	cvmm_virtio_net_tap_close(t);

	assert_int_equal(cvmm_virtio_net_tap_open(&t, tun), -EINVAL);
	assert_non_null(strstr(cvmm_err_msg(), "not a TAP"));
	assert_int_equal(cvmm_virtio_net_tap_open(&t, missing), -ENOENT);
	assert_non_null(strstr(cvmm_err_msg(), missing));
	assert_int_equal(if_nametoindex(missing), 0); /* not created behind our back */

	assert_int_equal(make_persistent(tap, IFF_TAP, 0), 0);
	assert_int_equal(make_persistent(tun, IFF_TUN, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tap_backend),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
