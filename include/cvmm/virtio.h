/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvmm-virtio: hardened virtqueues, a transport-neutral device interface and
 * the virtio-mmio (version 2, "modern") transport.
 *
 * Layers:
 *   - struct cvmm_virtq: one virtqueue. The device side pops descriptor
 *     chains, reads/writes their buffers and pushes used elements. The ring
 *     format (split today) sits behind an internal ops table chosen when the
 *     queue is enabled, so a packed ring can be added without changing the
 *     device-facing calls below: devices only see chains (an opaque id plus
 *     iovecs), push(chain, len) and needs_notify().
 *   - struct cvmm_virtio_device: what a device (virtio-blk, ...) plugs into
 *     a transport: id, features, config size, queues and an ops table.
 *   - struct cvmm_virtio_transport: what a device calls back into (raise a
 *     used-buffer interrupt, signal a config change, declare the device
 *     broken). virtio-mmio implements it; a PCI transport could too.
 *
 * Guest memory: every guest address goes through <cvmm/memory.h>. Rings are
 * validated in full (size and alignment) when a queue is enabled; each
 * descriptor buffer is checked with cvmm_mem_ptr() when its chain is popped.
 * A malformed ring makes pop fail and the queue "broken"; it never makes the
 * host read or write outside guest RAM, crash or loop.
 *
 * Byte order: virtio 1.x structures are little-endian; this component
 * supports little-endian hosts only (build-time check).
 *
 * Threading (the execution model of docs/architecture.md):
 *   - Register accesses come from vCPU threads. A transport serialises them
 *     with an internal mutex, and runs the device's control ops (config
 *     access, activate, reset) under it. InterruptStatus and Status reads do
 *     not take it (atomics), so an interrupt handler never waits on a device.
 *   - Queue notifications (ioeventfd, or a QueueNotify register write, which
 *     the transport turns into a signal of the same eventfd) run the device's
 *     queue_notify on the thread driving the transport's cvmm_loop, never on a
 *     vCPU, and without the transport mutex.
 *   - The device synchronises its data path with activate/reset itself (its
 *     own lock), and may call cvmm_virtio_notify_used(), _config_changed() and
 *     _fail() from any thread with its lock held; they never take the
 *     transport mutex, so the order transport mutex -> device lock is safe.
 *   - A cvmm_virtq itself is not thread-safe: between activate and reset it
 *     belongs to the device's data path.
 */
#ifndef CVMM_VIRTIO_H
#define CVMM_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <cvmm/memory.h>
#include <cvmm/sys.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Device-independent feature bits (virtio 1.x section 6). */
#define CVMM_VIRTIO_F_INDIRECT_DESC 28
#define CVMM_VIRTIO_F_EVENT_IDX 29
#define CVMM_VIRTIO_F_VERSION_1 32
#define CVMM_VIRTIO_F_RING_PACKED 34
#define CVMM_VIRTIO_BIT(f) (1ULL << (f))

/* Device status bits. */
#define CVMM_VIRTIO_STATUS_ACKNOWLEDGE 1u
#define CVMM_VIRTIO_STATUS_DRIVER 2u
#define CVMM_VIRTIO_STATUS_DRIVER_OK 4u
#define CVMM_VIRTIO_STATUS_FEATURES_OK 8u
#define CVMM_VIRTIO_STATUS_NEEDS_RESET 64u
#define CVMM_VIRTIO_STATUS_FAILED 128u

/* Largest queue size the split ring allows. */
#define CVMM_VIRTQ_MAX_SIZE 32768u

/* Split-ring descriptor flags (for simulated drivers and tests). */
#define CVMM_VIRTQ_DESC_F_NEXT 1u
#define CVMM_VIRTQ_DESC_F_WRITE 2u
#define CVMM_VIRTQ_DESC_F_INDIRECT 4u
#define CVMM_VIRTQ_AVAIL_F_NO_INTERRUPT 1u

/* ------------------------------------------------------------------ */
/* Virtqueue                                                           */
/* ------------------------------------------------------------------ */

struct cvmm_virtq;

/*
 * One popped descriptor chain. The caller owns the struct and the iovec
 * storage (set up with cvmm_virtq_chain_init()); pop fills it. iov[0 ..
 * nr_readable) are the device-readable buffers in chain order, followed by
 * nr_writable device-writable ones. iov_base are host pointers into guest RAM,
 * valid as long as the cvmm_mem lives; the guest may change their contents at
 * any time, so copy before validating. Zero-length descriptors are skipped.
 * A chain stays valid until it is pushed; several may be in flight at once
 * (one struct each).
 */
struct cvmm_virtq_chain {
	struct iovec *iov; /* caller storage */
	uint32_t iov_cap;  /* entries in iov; chains needing more are refused */
	uint32_t nr_readable;
	uint32_t nr_writable;
	uint64_t readable_len; /* bytes in the readable buffers */
	uint64_t writable_len; /* bytes in the writable buffers */
	uint16_t id;	       /* ring token for push (split: head index) */
	uint16_t ndesc;	       /* descriptors the chain used in the ring */
	/* Cursors of cvmm_virtq_chain_read()/_write(). */
	uint32_t rd_seg, wr_seg;
	size_t rd_off, wr_off;
	uint64_t read;	  /* bytes consumed so far by cvmm_virtq_chain_read() */
	uint64_t written; /* bytes produced so far by cvmm_virtq_chain_write() */
};

/*
 * Create a disabled queue over mem that accepts sizes up to max_size (a power
 * of two, 1..CVMM_VIRTQ_MAX_SIZE). mem must outlive the queue.
 * Returns 0 or -EINVAL/-ENOMEM.
 */
int cvmm_virtq_create(struct cvmm_virtq **out, const struct cvmm_mem *mem, uint16_t max_size);
void cvmm_virtq_destroy(struct cvmm_virtq *vq);

uint16_t cvmm_virtq_max_size(const struct cvmm_virtq *vq);

/* Driver-side configuration, only while disabled (-EBUSY otherwise). The
 * values are checked by cvmm_virtq_enable(), not here. */
int cvmm_virtq_set_size(struct cvmm_virtq *vq, uint32_t size);
/* desc: descriptor table; driver: avail ring; device: used ring. */
int cvmm_virtq_set_addr(struct cvmm_virtq *vq, uint64_t desc, uint64_t driver, uint64_t device);
uint32_t cvmm_virtq_size(const struct cvmm_virtq *vq);
void cvmm_virtq_addr(const struct cvmm_virtq *vq, uint64_t *desc, uint64_t *driver,
		     uint64_t *device);

/*
 * Validate the configuration and start processing with the negotiated
 * features (EVENT_IDX is honoured; RING_PACKED is refused with -ENOTSUP).
 * Checks: size a power of two in 1..max_size; descriptor table 16-byte
 * aligned, avail ring 2-byte aligned, used ring 4-byte aligned; every ring,
 * event fields included, entirely inside guest RAM. Ring indices start at 0.
 * Returns 0, -EINVAL (bad size/alignment), -EFAULT (ring outside RAM) with a
 * message, or -EBUSY if already enabled.
 */
int cvmm_virtq_enable(struct cvmm_virtq *vq, uint64_t features);
bool cvmm_virtq_ready(const struct cvmm_virtq *vq);
/* True once pop has found the ring malformed; cleared by reset. */
bool cvmm_virtq_broken(const struct cvmm_virtq *vq);
/* Stop processing but keep the driver configuration (QueueReady = 0). */
void cvmm_virtq_disable(struct cvmm_virtq *vq);
/* Disable and forget the driver configuration (size back to max_size). */
void cvmm_virtq_reset(struct cvmm_virtq *vq);

/* Prepare a chain struct to receive pops into iov[0..iov_cap). Use
 * iov_cap >= cvmm_virtq_max_size() to accept every legal chain. */
void cvmm_virtq_chain_init(struct cvmm_virtq_chain *chain, struct iovec *iov, uint32_t iov_cap);

/*
 * Pop the next available chain. Returns 1 with *chain filled, 0 if the ring
 * is empty, or a negative errno if the queue is disabled or the ring is
 * malformed; the queue is then broken and every later pop fails with -EIO
 * until reset. The caller (device) should then call cvmm_virtio_fail().
 *
 * Refused (-EINVAL unless noted): avail->idx more than size ahead of the
 * last index seen; head or next index >= table size; a buffer not inside
 * guest RAM (-EFAULT); a chain with more descriptors than its table holds
 * (loop); more buffers than the queue size or than chain->iov_cap
 * (-E2BIG); a device-readable buffer after a device-writable one; an
 * indirect descriptor that also has NEXT set, lies inside an indirect table
 * (nested), or whose table is empty, not a multiple of 16 bytes, has more
 * entries than the queue size, or is outside RAM (-EFAULT). The WRITE flag of an
 * indirect descriptor is ignored, as the spec requires.
 *
 * With EVENT_IDX, an empty pop publishes avail_event = last index seen and
 * re-checks, so the driver notifies for anything added after an empty pop.
 */
int cvmm_virtq_pop(struct cvmm_virtq *vq, struct cvmm_virtq_chain *chain);

/* Return a chain to the driver as used, len = bytes written into its
 * writable buffers. The used index is published with release ordering after
 * the element. Returns 0 or -EIO if the queue is disabled or broken. */
int cvmm_virtq_push(struct cvmm_virtq *vq, const struct cvmm_virtq_chain *chain, uint32_t len);

/*
 * Whether the driver wants a used-buffer notification for what was pushed
 * since the previous call: honours used_event (EVENT_IDX) or
 * VRING_AVAIL_F_NO_INTERRUPT. Has a full barrier between the used index
 * store and the read of the driver's suppression field. False if nothing was
 * pushed since the last call.
 */
bool cvmm_virtq_needs_notify(struct cvmm_virtq *vq);

/* Copy up to len bytes from the readable buffers at the read cursor into
 * dst and advance it. Returns the bytes copied (< len at the end). */
size_t cvmm_virtq_chain_read(struct cvmm_virtq_chain *chain, void *dst, size_t len);
/* Copy up to len bytes into the writable buffers at the write cursor.
 * Returns the bytes copied (< len when they are full). */
size_t cvmm_virtq_chain_write(struct cvmm_virtq_chain *chain, const void *src, size_t len);
/*
 * Describe bytes [offset, offset+len) of the readable (writable == false) or
 * writable buffers as at most cap iovecs in iov (for preadv/pwritev/io_uring).
 * Cursors are not used or moved. Returns the number of iovecs, -ERANGE if the
 * range exceeds the buffers, -E2BIG if cap is too small.
 */
int cvmm_virtq_chain_iov(const struct cvmm_virtq_chain *chain, bool writable, uint64_t offset,
			 uint64_t len, struct iovec *iov, uint32_t cap);

/* ------------------------------------------------------------------ */
/* Device interface (transport-neutral)                                */
/* ------------------------------------------------------------------ */

struct cvmm_virtio_transport;

/* Log sink for guest-caused errors: one line, no trailing newline. */
typedef void (*cvmm_virtio_log_fn)(void *opaque, const char *line);

/*
 * Device ops. config_read, config_write, activate and reset are called with
 * the transport mutex held, from the thread that made the register access
 * (a vCPU) or that destroys the transport; they must be brief, except that
 * reset waits for requests the host still owns. queue_notify is called on
 * the transport loop's thread without the transport mutex (see Threading).
 */
struct cvmm_virtio_device_ops {
	/* Read config bytes [offset, offset+len); the transport has checked the
	 * range against config_size; len is 1, 2, 4 or 8. */
	void (*config_read)(void *opaque, uint32_t offset, void *data, uint32_t len);
	/* Write config bytes (checked as above). May be NULL: writes ignored. */
	void (*config_write)(void *opaque, uint32_t offset, const void *data, uint32_t len);
	/* DRIVER_OK was set: start. queues[0..nr) are all the device's queues
	 * (check cvmm_virtq_ready() for which the driver enabled); the pointers
	 * stay valid until reset. features are the negotiated ones. t is the
	 * transport to call back. A negative return makes the transport set
	 * NEEDS_RESET. */
	int (*activate)(void *opaque, struct cvmm_virtio_transport *t, uint64_t features,
			struct cvmm_virtq *const *queues, unsigned int nr);
	/* The driver reset the device (status 0) after activate, or the
	 * transport is being destroyed: stop all use of queues and guest memory
	 * and forget the transport before returning. */
	void (*reset)(void *opaque);
	/* The driver notified queue index q (< nr_queues). Runs on the loop
	 * thread; it may race with reset, so the device checks under its own
	 * lock that it is active and that queue q is ready. It handles at most
	 * one batch (about a queue's worth) and then yields to the loop. */
	void (*queue_notify)(void *opaque, unsigned int q);
};

struct cvmm_virtio_device {
	uint32_t device_id;	 /* virtio device id (2 = block) */
	uint64_t features;	 /* offered; the transport adds VERSION_1 */
	unsigned int nr_queues;	 /* 1..CVMM_VIRTIO_MAX_QUEUES */
	uint16_t queue_max_size; /* power of two, <= CVMM_VIRTQ_MAX_SIZE */
	uint32_t config_size;	 /* bytes of device config space */
	const struct cvmm_virtio_device_ops *ops;
	void *opaque;
	/* Bit q set: queue q is processed outside the device model (an in-kernel
	 * vhost worker). The transport does not watch its notify eventfd and
	 * never calls queue_notify for it; the device takes the eventfd with
	 * cvmm_virtio_queue_notify_fd() and hands it to that worker, and relays
	 * the worker's interrupts with cvmm_virtio_raise_used(). 0 for a device
	 * that processes its queues itself. */
	uint64_t external_queues;
};

#define CVMM_VIRTIO_MAX_QUEUES 64u

/*
 * Calls a device makes on its transport, between activate and the end of
 * reset, from any thread (serialised by the device's own lock).
 */
/* After pushing used elements on queue q: raise the used-buffer interrupt if
 * cvmm_virtq_needs_notify() says the driver wants one. Returns 0 or -errno. */
int cvmm_virtio_notify_used(struct cvmm_virtio_transport *t, unsigned int q);
/*
 * For external queues (see external_queues): the eventfd the driver's
 * notifications for queue q land on (a KVM ioeventfd, and QueueNotify
 * register writes), owned by the transport and valid until it is destroyed.
 * Returns fd or -EINVAL if q is not an external queue.
 */
int cvmm_virtio_queue_notify_fd(struct cvmm_virtio_transport *t, unsigned int q);
/*
 * Raise a used-buffer interrupt unconditionally (InterruptStatus bit 0, then
 * the interrupt eventfd). For external queues, whose worker has already
 * applied the driver's suppression (EVENT_IDX, NO_INTERRUPT) before
 * signalling its call eventfd: the device relays that eventfd here, because
 * the virtio-mmio driver ignores an interrupt whose status bit is clear.
 */
void cvmm_virtio_raise_used(struct cvmm_virtio_transport *t);
/* The device configuration changed: bump the generation and interrupt. */
int cvmm_virtio_config_changed(struct cvmm_virtio_transport *t);
/* The device cannot go on (malformed ring, ...): set NEEDS_RESET, raise a
 * config-change interrupt, stop delivering notifications to the device, and
 * log one (rate-limited) line. */
void cvmm_virtio_fail(struct cvmm_virtio_transport *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------------ */
/* virtio-mmio transport (version 2)                                   */
/* ------------------------------------------------------------------ */

#define CVMM_VIRTIO_MMIO_SIZE 0x200u	    /* bytes of the MMIO window */
#define CVMM_VIRTIO_MMIO_NOTIFY 0x50u	    /* QueueNotify offset (ioeventfd) */
#define CVMM_VIRTIO_MMIO_CONFIG 0x100u	    /* device config space offset */
#define CVMM_VIRTIO_MMIO_VENDOR 0x4d4d5643u /* "CVMM" */

struct cvmm_virtio_mmio;

struct cvmm_virtio_mmio_opts {
	const struct cvmm_mem *mem;	      /* guest RAM; must outlive it */
	const struct cvmm_virtio_device *dev; /* copied; ops/opaque must outlive it */
	/* Required: the loop that watches the per-queue notify eventfds (their
	 * callbacks run the device's queue_notify). Must outlive the transport;
	 * give a device that may block its own loop on its own thread. */
	struct cvmm_loop *loop;
	const char *name;	/* prefix of log lines, e.g. "virtio-blk0" */
	cvmm_virtio_log_fn log; /* NULL: stderr */
	void *log_opaque;
};

/*
 * Create a transport for one device. Creates the irq eventfd and one notify
 * eventfd per queue, subscribed to o->loop. Returns 0 or -errno (-EINVAL for
 * no loop or a bad device description, e.g. config_size > 0x100 or
 * queue_max_size not a power of two).
 */
int cvmm_virtio_mmio_create(struct cvmm_virtio_mmio **out, const struct cvmm_virtio_mmio_opts *o);
/* Reset the device if active, unsubscribe and close the eventfds. Call it
 * on the loop's thread or while the loop is not running. */
void cvmm_virtio_mmio_destroy(struct cvmm_virtio_mmio *m);

/*
 * Guest accesses to the window, offset relative to its base (the monitor's
 * MMIO bus calls these from the vCPU thread). Registers below 0x100 take
 * 4-byte aligned 4-byte accesses; config space takes 1, 2, 4 or 8 bytes
 * within config_size. Anything else is ignored and reads as zeros. Never
 * fails: guest mistakes are ignored or put the device in NEEDS_RESET.
 * A QueueNotify write signals the queue's notify eventfd (no device code
 * runs in the calling thread); a Status write of 0 resets the device and
 * waits until the host owns no request of it.
 */
void cvmm_virtio_mmio_read(struct cvmm_virtio_mmio *m, uint64_t offset, void *data, uint32_t len);
void cvmm_virtio_mmio_write(struct cvmm_virtio_mmio *m, uint64_t offset, const void *data,
			    uint32_t len);

/* Eventfd signalled on each interrupt (InterruptStatus bit 0: used buffer,
 * bit 1: config change). Register it as a KVM irqfd. Owned by the transport. */
int cvmm_virtio_mmio_irq_fd(const struct cvmm_virtio_mmio *m);
/* Eventfd for queue q: register it as a KVM ioeventfd at base + 0x50, 4 bytes,
 * datamatch q. Owned by the transport. Returns fd or -EINVAL. */
int cvmm_virtio_mmio_notify_fd(const struct cvmm_virtio_mmio *m, unsigned int q);
/* Current device status as the driver reads it (NEEDS_RESET included). */
uint32_t cvmm_virtio_mmio_status(struct cvmm_virtio_mmio *m);
/* Generic transport handle of this device (for device-side calls). */
struct cvmm_virtio_transport *cvmm_virtio_mmio_transport(struct cvmm_virtio_mmio *m);

#ifdef __cplusplus
}
#endif
#endif
