/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvmm-vhost: the control path of an in-kernel vhost device (vhost-net,
 * vhost-vsock, ...): ownership, feature negotiation, the guest memory table,
 * and per-virtqueue setup (size, base index, ring addresses, kick and call
 * eventfds). The kernel then processes the virtqueues itself; the device
 * model keeps its config space and decides when to start and stop.
 *
 * Typical use by a device model, at activation (the driver set DRIVER_OK):
 *   cvmm_vhost_set_features(v, acked);       (acked & what the driver offers)
 *   cvmm_vhost_set_mem(v, mem);
 *   for each queue: cvmm_vhost_vring_start(v, i, &ring);
 *   then the device-specific start (cvmm_vhost_net_set_backend(), or an
 *   ioctl on cvmm_vhost_fd() such as VHOST_VSOCK_SET_RUNNING);
 * and at reset: the device-specific stop, then cvmm_vhost_vring_stop() for
 * each queue. A later activation starts again from set_features.
 *
 * Ring addresses are guest-physical; they are translated to host addresses
 * through cvmm_mem_ptr(), so a ring outside guest RAM is refused (-EFAULT)
 * and never handed to the kernel. The memory table lists the regions of
 * cvmm_mem_region_get(). The kernel then reads and writes guest RAM on its
 * own, within that table.
 *
 * Errors: negative errno with a message naming the device path and the
 * operation (cvmm_err_msg()).
 *
 * Threading: no internal lock. Calls for one struct cvmm_vhost must not run
 * concurrently (a device model makes them under its own lock); different
 * instances are independent. The eventfds are the caller's: the kick eventfd
 * is signalled by the driver's notifications (a KVM ioeventfd), the call
 * eventfd by the kernel when the driver wants an interrupt.
 */
#ifndef CVMM_VHOST_H
#define CVMM_VHOST_H

#include <stdint.h>

#include <cvmm/memory.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Queues per instance this component handles (vhost-net uses 2, vsock 2). */
#define CVMM_VHOST_MAX_VRINGS 8u

struct cvmm_vhost;

/*
 * Open the vhost character device at path (e.g. "/dev/vhost-net") and make
 * this process its owner (VHOST_SET_OWNER: the kernel worker then accesses
 * this process's memory). Reads the features the driver offers.
 * Returns 0 or -errno: from open (-ENOENT: no such device, the module is not
 * loaded; -EACCES), or from the ioctls, each with a message naming path.
 */
int cvmm_vhost_open(struct cvmm_vhost **out, const char *path);
/* Close the device: the kernel stops every ring and drops its references to
 * the back ends and eventfds. NULL is ignored. */
void cvmm_vhost_close(struct cvmm_vhost *v);

/* The open vhost fd, for device-specific ioctls (e.g. VHOST_VSOCK_SET_GUEST_CID).
 * Owned by v. */
int cvmm_vhost_fd(const struct cvmm_vhost *v);
/* Feature bits the vhost driver offers (VHOST_GET_FEATURES, read at open). */
uint64_t cvmm_vhost_features(const struct cvmm_vhost *v);

/* Enable features & cvmm_vhost_features(v) (VHOST_SET_FEATURES): bits the
 * driver does not offer are left out, never an error. Returns 0 or -errno. */
int cvmm_vhost_set_features(struct cvmm_vhost *v, uint64_t features);

/* Hand the kernel the guest memory map: every region of mem (gpa, size,
 * host address). mem must outlive the rings started with it. 0 or -errno. */
int cvmm_vhost_set_mem(struct cvmm_vhost *v, const struct cvmm_mem *mem);

/* One virtqueue as the driver configured it. */
struct cvmm_vhost_vring {
	uint16_t size;	/* entries: a power of two, 1..32768 */
	uint16_t base;	/* next available index to process (0 after enable) */
	uint64_t desc;	/* guest-physical descriptor table */
	uint64_t avail; /* driver (avail) ring */
	uint64_t used;	/* device (used) ring */
	int kick_fd;	/* eventfd the driver's notifications signal */
	int call_fd;	/* eventfd the kernel signals to interrupt the driver */
};

/*
 * Start queue i (< CVMM_VHOST_MAX_VRINGS) on the memory given to
 * cvmm_vhost_set_mem(): VHOST_SET_VRING_NUM, _BASE, _ADDR, _KICK, _CALL.
 * Each ring, its event fields included, must lie in guest RAM (-EFAULT
 * otherwise; nothing is handed to the kernel then); -EINVAL for a bad size or
 * index, or before set_mem. Call it while the queue has no back end (vhost
 * refuses to resize a running ring: -EBUSY).
 */
int cvmm_vhost_vring_start(struct cvmm_vhost *v, unsigned int i, const struct cvmm_vhost_vring *r);
/*
 * Stop queue i (VHOST_GET_VRING_BASE, after the device-specific stop, e.g.
 * cvmm_vhost_net_set_backend(v, i, -1)) and unbind its eventfds; *base (may
 * be NULL) gets the next available index the kernel would have processed.
 * Returns 0 or -errno.
 */
int cvmm_vhost_vring_stop(struct cvmm_vhost *v, unsigned int i, uint16_t *base);

/*
 * vhost-net: attach queue i to a back end (a TAP fd opened with
 * IFF_VNET_HDR, whose vnet header size matches the negotiated header), or
 * detach it with fd == -1. Detaching waits until the kernel has finished
 * with the queue: after it returns, the kernel no longer touches the ring or
 * its buffers. Returns 0 or -errno.
 */
int cvmm_vhost_net_set_backend(struct cvmm_vhost *v, unsigned int i, int fd);

#ifdef __cplusplus
}
#endif
#endif
