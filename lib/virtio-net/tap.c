// SPDX-License-Identifier: Apache-2.0
/* TAP back end and the feature -> TUNSETOFFLOAD mapping. */
#include "net_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

struct cvmm_virtio_net_tap {
	struct cvmm_virtio_net_backend be;
	char name[IFNAMSIZ];
	int fd;
};

unsigned int cvmm_virtio_net_tun_offloads(uint64_t f)
{
	unsigned int flags = 0;

	/* The TAP driver accepts segmentation offloads only with checksums. */
	if (!(f & CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_GUEST_CSUM)))
		return 0;
	flags = TUN_F_CSUM;
	if (f & CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_GUEST_TSO4))
		flags |= TUN_F_TSO4;
	if (f & CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_GUEST_TSO6))
		flags |= TUN_F_TSO6;
	if (f & CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_GUEST_UFO))
		flags |= TUN_F_UFO;
	return flags;
}

static ssize_t tap_recv(void *opaque, const struct iovec *iov, int iovcnt)
{
	struct cvmm_virtio_net_tap *tap = opaque;
	ssize_t r;

	do
		r = readv(tap->fd, iov, iovcnt);
	while (r < 0 && errno == EINTR);
	/* A frame larger than iov still returns its full length (truncated). */
	return r < 0 ? -errno : r;
}

static ssize_t tap_send(void *opaque, const struct iovec *iov, int iovcnt)
{
	struct cvmm_virtio_net_tap *tap = opaque;
	ssize_t r;

	do
		r = writev(tap->fd, iov, iovcnt);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

static int tap_set_offload(void *opaque, unsigned int flags)
{
	struct cvmm_virtio_net_tap *tap = opaque;

	if (ioctl(tap->fd, TUNSETOFFLOAD, flags) < 0)
		return cvmm_err(errno, "tap %s: TUNSETOFFLOAD %#x: %m", tap->name, flags);
	return 0;
}

static const struct cvmm_virtio_net_backend_ops tap_ops = {
    .recv = tap_recv,
    .send = tap_send,
    .set_offload = tap_set_offload,
};

static int tap_attach(struct cvmm_virtio_net_tap *tap)
{
	struct ifreq ifr = {0};
	int hdr = CVMM_VIRTIO_NET_HDR_LEN;

	memcpy(ifr.ifr_name, tap->name, sizeof(tap->name));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(tap->fd, TUNSETIFF, &ifr) < 0) {
		if (errno == EINVAL)
			return cvmm_err(EINVAL, "tap %s: not a TAP interface", tap->name);
		if (errno == EBUSY)
			return cvmm_err(EBUSY, "tap %s: busy (open in another process)", tap->name);
		return cvmm_err(errno, "tap %s: cannot attach: %m", tap->name);
	}
	/* TUNSETIFF creates a missing interface; one we created is not
	 * persistent, and vanishes when we close it. */
	if (ioctl(tap->fd, TUNGETIFF, &ifr) < 0)
		return cvmm_err(errno, "tap %s: TUNGETIFF: %m", tap->name);
	if (!(ifr.ifr_flags & IFF_PERSIST))
		return cvmm_err(ENOENT,
				"tap %s: no such interface (create it: ip tuntap add %s mode tap)",
				tap->name, tap->name);
	if (ioctl(tap->fd, TUNSETVNETHDRSZ, &hdr) < 0)
		return cvmm_err(errno, "tap %s: TUNSETVNETHDRSZ: %m", tap->name);
	if (ioctl(tap->fd, TUNSETOFFLOAD, 0) < 0)
		return cvmm_err(errno, "tap %s: TUNSETOFFLOAD: %m", tap->name);
	return 0;
}

int cvmm_virtio_net_tap_open(struct cvmm_virtio_net_tap **out, const char *name)
{
	struct cvmm_virtio_net_tap *tap;
	int ret;

	if (!name || !*name)
		return cvmm_err(EINVAL, "tap: no interface name");
	if (strlen(name) >= IFNAMSIZ)
		return cvmm_err(ENAMETOOLONG, "tap %s: name longer than %d characters", name,
				IFNAMSIZ - 1);
	tap = calloc(1, sizeof(*tap));
	if (!tap)
		return cvmm_err(ENOMEM, "tap: out of memory");
	strcpy(tap->name, name);
	tap->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (tap->fd < 0) {
		ret = cvmm_err(errno, "tap %s: cannot open /dev/net/tun: %m", name);
		goto fail;
	}
	ret = tap_attach(tap);
	if (ret < 0)
		goto fail;
	tap->be = (struct cvmm_virtio_net_backend){.ops = &tap_ops, .opaque = tap, .fd = tap->fd};
	*out = tap;
	return 0;
fail:
	cvmm_virtio_net_tap_close(tap);
	return ret;
}

const struct cvmm_virtio_net_backend *cvmm_virtio_net_tap_backend(struct cvmm_virtio_net_tap *tap)
{
	return &tap->be;
}

void cvmm_virtio_net_tap_close(struct cvmm_virtio_net_tap *tap)
{
	if (!tap)
		return;
	if (tap->fd >= 0)
		close(tap->fd);
	free(tap);
}
