/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvmm-virtio-rng: a virtio entropy device (device id 4) that fills the
 * guest's buffers from the host kernel's CSPRNG (getrandom(2)), plugged into
 * any cvmm-virtio transport.
 *
 * Usage: create the device, hand cvmm_virtio_rng_device() to a transport
 * (e.g. cvmm_virtio_mmio_create() with the same loop), and destroy the
 * transport before the device.
 *
 * Device: one request queue, no config space, features VERSION_1 (added by
 * the transport), INDIRECT_DESC and EVENT_IDX. Each chain's device-writable
 * buffers are filled in chain order with at most CVMM_VIRTIO_RNG_CHAIN_MAX
 * bytes and returned with used.len = the bytes written (the spec lets the
 * device use less than the whole buffer). Device-readable buffers are
 * ignored: the spec forbids them, they can carry nothing the device needs,
 * and a chain made only of them is returned with used.len 0 instead of
 * breaking the device. A malformed ring puts the device in NEEDS_RESET.
 *
 * Batches: one notification takes at most a queue's worth of chains and at
 * most CVMM_VIRTIO_RNG_BATCH_MAX bytes (the last chain of a batch may get
 * less than it asked for), then the device re-signals its own kick eventfd
 * on the loop and returns, so a guest that keeps asking cannot monopolise
 * the loop.
 *
 * getrandom(2) is called without flags: it blocks only until the host's
 * CSPRNG is first seeded (early host boot), never afterwards, so the device
 * may share a loop with other sources (cvmm gives it a loop of its own). Interrupted and short calls are retried.
 *
 * Threading: queue notifications and the batch continuation (kick) run on the
 * loop's thread; activate and reset come from the transport (a vCPU, under
 * the transport mutex). A device mutex serialises them; reset waits for at
 * most the chain being filled (a batch is cut short when a reset is pending).
 * Destroy only when no callback of the loop can run (on its thread, or while
 * it is not running).
 */
#ifndef CVMM_VIRTIO_RNG_H
#define CVMM_VIRTIO_RNG_H

#include <stdint.h>

#include <cvmm/ratelimit.h>
#include <cvmm/sys.h>
#include <cvmm/virtio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CVMM_VIRTIO_ID_RNG 4u

/* Most bytes written into one chain, and into all chains of one batch. */
#define CVMM_VIRTIO_RNG_CHAIN_MAX (64u * 1024)
#define CVMM_VIRTIO_RNG_BATCH_MAX (1024u * 1024)

struct cvmm_virtio_rng_opts {
	struct cvmm_loop *loop; /* required; must outlive the device */
	uint16_t queue_size;	/* power of two, 2..1024; 0: 256 */
	/* Limit on the bytes given (and chains served); copied. NULL:
	 * unlimited. A chain over the limit waits, popped, for the limiter's
	 * timer on the loop and holds up the queue; the guest sees a delay. */
	const struct cvmm_ratelimit_cfg *limit;
};

struct cvmm_virtio_rng;

/*
 * Build the device and subscribe its kick eventfd to o->loop. Checks once
 * that getrandom(2) works. Returns 0 or -errno: -EINVAL (no options, no loop,
 * bad queue size), -ENOMEM, -ENOSYS or another getrandom error, or an eventfd
 * or loop error; a message is recorded (cvmm_err_msg()).
 */
int cvmm_virtio_rng_create(struct cvmm_virtio_rng **out, const struct cvmm_virtio_rng_opts *o);

/* Description to hand to a transport; valid until destroy. */
const struct cvmm_virtio_device *cvmm_virtio_rng_device(struct cvmm_virtio_rng *r);

/* Counters since create: chains returned to the guest and random bytes given. */
struct cvmm_virtio_rng_stats {
	uint64_t requests, bytes;
};

/* Read the counters; any thread (each counter is read atomically). */
void cvmm_virtio_rng_stats(const struct cvmm_virtio_rng *r, struct cvmm_virtio_rng_stats *out);

/* Unsubscribe from the loop and free. Destroy the transport first. NULL is
 * ignored. */
void cvmm_virtio_rng_destroy(struct cvmm_virtio_rng *r);

#ifdef __cplusplus
}
#endif
#endif
