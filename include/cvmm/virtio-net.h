/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvmm-virtio-net: a virtio network device (device id 1, one queue pair)
 * with a pluggable back end, plugged into any cvmm-virtio transport.
 *
 * Back ends: a TAP interface (cvmm_virtio_net_tap_open()), or any struct
 * cvmm_virtio_net_backend (tests use a socketpair). Frames cross the back end
 * with the 12-byte struct virtio_net_hdr_v1 in front, as a TAP opened with
 * IFF_VNET_HDR and TUNSETVNETHDRSZ 12 exchanges them.
 *
 * Features offered: VERSION_1, RING_EVENT_IDX, RING_INDIRECT_DESC, MRG_RXBUF,
 * CSUM, GUEST_CSUM, GUEST_TSO4, GUEST_TSO6, GUEST_UFO, HOST_TSO4, HOST_TSO6,
 * HOST_UFO, STATUS (link always up), MAC and MTU when given. The back end's
 * receive offloads follow what the driver acked (set_offload at activation,
 * 0 after every reset).
 *
 * Data path (userspace): on the device's loop.
 *   RX: the back end's fd is read only while the driver has posted room for
 *   the largest frame the acked features allow (rx_need: 65562 bytes with a
 *   guest GSO feature, else 12 + 14 + max(mtu, 1500)), or every buffer its
 *   ring can hold when that is less (frames that fit are still taken; larger
 *   ones are dropped). With MRG_RXBUF a frame
 *   spans as many chains as it needs and num_buffers says how many; without
 *   it each chain must hold rx_need bytes. A frame never half lands: it is
 *   read straight into the chains and pushed only whole; a frame larger than
 *   the room is dropped (rx_drop_oversize) and its chains reused. A chain
 *   that cannot take a frame (smaller than the header, or than rx_need
 *   without MRG_RXBUF, or with device-readable buffers) is returned with
 *   used length 0 (rx_drop_bad_buffer). With no room posted, the back end's
 *   fd is paused (cvmm_loop_set_events(.., 0)) until the next RX
 *   notification. The header goes to the guest with num_buffers set, and
 *   flags cleared unless GUEST_CSUM was acked.
 *   TX: each chain (header + frame) is sent with one writev; the header is
 *   copied and checked first and the copy is what the back end gets. Dropped
 *   and counted, the device going on: a chain of more than 65562 bytes
 *   (tx_drop_oversize), shorter than the header plus an Ethernet header
 *   (tx_drop_short), a header with unknown flags, a GSO type the driver did
 *   not negotiate, a zero gso_size or a checksum range outside the frame
 *   (tx_drop_bad_header), a frame the back end refuses (tx_drop_backend).
 *   Each notification handles at most one queue's worth of frames per
 *   direction, then yields to the loop.
 *   A malformed ring puts the device in NEEDS_RESET (cvmm_virtio_fail()).
 *
 * Rate limits (optional, userspace only): one limiter per direction (bytes
 * and frames). A blocked TX stops popping its queue; a blocked RX holds the
 * frame it has read (unpushed) and stops reading the back end; both resume
 * on their limiter's timerfd, on the device's loop.
 *
 * vhost (opts.vhost_path, TAP back end only): the kernel moves the frames.
 * Both queues are external queues of the transport (their notify eventfds
 * are vhost's kick fds). The device keeps the config space and the control
 * path: activate sets the features (acked & what vhost offers), memory
 * table, rings and back end; reset detaches the back end (waiting for the
 * kernel) and stops the rings, and the next activate starts again. vhost's
 * call eventfd is watched on the device's loop and relayed with
 * cvmm_virtio_raise_used() (the virtio-mmio driver ignores an interrupt
 * whose InterruptStatus bit is clear): one wake-up of the loop's thread per
 * interrupt. The counters stay 0 (the kernel keeps its own).
 *
 * Threading: queue notifications, the back end's fd, the limiters' timers,
 * vhost's call eventfd and the batch continuation run on the loop's thread;
 * activate and reset come from the transport (a vCPU). A device lock
 * serialises them; reset cuts a batch short and never returns while the
 * device (or vhost) may still touch guest buffers. Give the device a loop of
 * its own on its own thread: back-end syscalls run on it.
 * cvmm_virtio_net_stats() may be called from any thread.
 */
#ifndef CVMM_VIRTIO_NET_H
#define CVMM_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <cvmm/memory.h>
#include <cvmm/ratelimit.h>
#include <cvmm/sys.h>
#include <cvmm/virtio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CVMM_VIRTIO_ID_NET 1u

/* Feature bits (virtio 1.x section 5.1.3). */
#define CVMM_VIRTIO_NET_F_CSUM 0
#define CVMM_VIRTIO_NET_F_GUEST_CSUM 1
#define CVMM_VIRTIO_NET_F_MTU 3
#define CVMM_VIRTIO_NET_F_MAC 5
#define CVMM_VIRTIO_NET_F_GUEST_TSO4 7
#define CVMM_VIRTIO_NET_F_GUEST_TSO6 8
#define CVMM_VIRTIO_NET_F_GUEST_ECN 9
#define CVMM_VIRTIO_NET_F_GUEST_UFO 10
#define CVMM_VIRTIO_NET_F_HOST_TSO4 11
#define CVMM_VIRTIO_NET_F_HOST_TSO6 12
#define CVMM_VIRTIO_NET_F_HOST_ECN 13
#define CVMM_VIRTIO_NET_F_HOST_UFO 14
#define CVMM_VIRTIO_NET_F_MRG_RXBUF 15
#define CVMM_VIRTIO_NET_F_STATUS 16

/* struct virtio_net_hdr_v1 (12 bytes, little-endian). */
#define CVMM_VIRTIO_NET_HDR_LEN 12u
#define CVMM_VIRTIO_NET_HDR_F_NEEDS_CSUM 1u
#define CVMM_VIRTIO_NET_HDR_F_DATA_VALID 2u
#define CVMM_VIRTIO_NET_HDR_GSO_NONE 0u
#define CVMM_VIRTIO_NET_HDR_GSO_TCPV4 1u
#define CVMM_VIRTIO_NET_HDR_GSO_UDP 3u
#define CVMM_VIRTIO_NET_HDR_GSO_TCPV6 4u
#define CVMM_VIRTIO_NET_HDR_GSO_ECN 0x80u
/* Largest header + frame either way: a 64 KiB GSO frame plus headers. */
#define CVMM_VIRTIO_NET_MAX_FRAME 65562u

/* Config space (struct virtio_net_config), little-endian. */
#define CVMM_VIRTIO_NET_CFG_MAC 0
#define CVMM_VIRTIO_NET_CFG_STATUS 6
#define CVMM_VIRTIO_NET_CFG_MAX_PAIRS 8
#define CVMM_VIRTIO_NET_CFG_MTU 10
#define CVMM_VIRTIO_NET_CFG_SIZE 12
#define CVMM_VIRTIO_NET_S_LINK_UP 1u

/* Queue indices. */
#define CVMM_VIRTIO_NET_RXQ 0u
#define CVMM_VIRTIO_NET_TXQ 1u

/* TUNSETOFFLOAD flags the back end should enable for features the driver
 * acked (GUEST_CSUM -> TUN_F_CSUM; GUEST_TSO4/TSO6/UFO -> TUN_F_TSO4/TSO6/
 * UFO, only together with GUEST_CSUM, as the TAP driver requires). */
unsigned int cvmm_virtio_net_tun_offloads(uint64_t features);

/*
 * A back end: a pollable fd plus three calls, all made on the device's loop
 * thread with the device lock held. Frames carry the 12-byte header first.
 */
struct cvmm_virtio_net_backend_ops {
	/* Receive one frame into iov. Returns its full length (larger than the
	 * iovecs when it did not fit: what landed is then to be discarded),
	 * -EAGAIN when none is waiting, or another -errno (that frame is lost). */
	ssize_t (*recv)(void *opaque, const struct iovec *iov, int iovcnt);
	/* Send one frame. Returns bytes sent or -errno (the frame is dropped). */
	ssize_t (*send)(void *opaque, const struct iovec *iov, int iovcnt);
	/* Apply TUN_F_* receive offloads (see cvmm_virtio_net_tun_offloads()).
	 * May be NULL: the back end never hands over offloaded frames. */
	int (*set_offload)(void *opaque, unsigned int tun_flags);
};

struct cvmm_virtio_net_backend {
	const struct cvmm_virtio_net_backend_ops *ops;
	void *opaque;
	/* Readable (EPOLLIN) when recv would not return -EAGAIN; non-blocking.
	 * With vhost, the TAP fd handed to VHOST_NET_SET_BACKEND. */
	int fd;
};

/* A TAP back end. */
struct cvmm_virtio_net_tap;

/*
 * Attach to the existing TAP interface name (created beforehand, e.g. with
 * `ip tuntap add NAME mode tap`): IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, vnet
 * header of 12 bytes, no offloads, non-blocking. Returns 0 or -errno with a
 * message naming the interface: -ENOENT (no such interface), -EINVAL (it
 * is not a TAP, e.g. a TUN or another kind of interface), -EBUSY (another
 * process has it open), -EPERM/-EACCES, -ENAMETOOLONG.
 */
int cvmm_virtio_net_tap_open(struct cvmm_virtio_net_tap **out, const char *name);
/* The back end to pass in cvmm_virtio_net_opts; valid until close. */
const struct cvmm_virtio_net_backend *cvmm_virtio_net_tap_backend(struct cvmm_virtio_net_tap *tap);
/* Close the TAP fd (the interface stays: it belongs to its creator). */
void cvmm_virtio_net_tap_close(struct cvmm_virtio_net_tap *tap);

struct cvmm_virtio_net_opts {
	const struct cvmm_virtio_net_backend *backend; /* required; copied */
	struct cvmm_loop *loop;	     /* required; must outlive the device */
	const struct cvmm_mem *mem;  /* guest RAM; required with vhost_path */
	const uint8_t *mac;	     /* 6 bytes, offered as VIRTIO_NET_F_MAC; NULL: none */
	uint16_t mtu;		     /* 68..65535 offered as VIRTIO_NET_F_MTU; 0: none */
	uint16_t queue_size;	     /* power of two, 2..512; 0: 256 */
	/* Non-NULL (e.g. "/dev/vhost-net"): the kernel moves the frames; the
	 * back end's fd must be a TAP fd (from cvmm_virtio_net_tap_open()). */
	const char *vhost_path;
	/* Limits (bytes and frames, headers not counted); copied. NULL:
	 * unlimited. Refused (-EINVAL) with vhost_path. */
	const struct cvmm_ratelimit_cfg *rx_limit;
	const struct cvmm_ratelimit_cfg *tx_limit;
};

struct cvmm_virtio_net;

/*
 * Build the device. With vhost_path, open it (cvmm-vhost) now, so that a
 * missing or refusing /dev/vhost-net is reported before any guest runs.
 * Returns 0 or -errno with a message: -EINVAL for bad options (naming the
 * field), errors of cvmm_vhost_open() (naming the path), -ENOMEM.
 */
int cvmm_virtio_net_create(struct cvmm_virtio_net **out, const struct cvmm_virtio_net_opts *o);

/* Description to hand to a transport; valid until destroy. */
const struct cvmm_virtio_device *cvmm_virtio_net_device(struct cvmm_virtio_net *n);

/* Change one direction's limits while running (cvmm_ratelimit_update(): a
 * held frame is retried under the new settings; NULL leaves a bucket as it
 * is). -EINVAL if the device was created without that limit or a bucket is
 * bad. Any thread. */
int cvmm_virtio_net_set_limit(struct cvmm_virtio_net *n, bool rx,
			      const struct cvmm_ratelimit_bucket *bytes,
			      const struct cvmm_ratelimit_bucket *ops);

/* Per-device counters since create (frames and bytes exclude the header). */
struct cvmm_virtio_net_stats {
	uint64_t rx_frames, rx_bytes;
	uint64_t tx_frames, tx_bytes;
	uint64_t rx_drop_oversize;   /* frame larger than the room posted */
	uint64_t rx_drop_bad_buffer; /* chains returned unused (see above) */
	uint64_t rx_drop_backend;    /* back-end receive errors */
	uint64_t tx_drop_oversize;
	uint64_t tx_drop_short;
	uint64_t tx_drop_bad_header;
	uint64_t tx_drop_backend;
};

/* Read the counters; any thread (each counter is read atomically). */
void cvmm_virtio_net_stats(const struct cvmm_virtio_net *n, struct cvmm_virtio_net_stats *out);

/* Destroy the transport first; then no loop callback of the device may run. */
void cvmm_virtio_net_destroy(struct cvmm_virtio_net *n);

#ifdef __cplusplus
}
#endif
#endif
