/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvmm-virtio-blk: a virtio block device (device id 2) backed by a raw image
 * file, plugged into any cvmm-virtio transport.
 *
 * Usage: create the device, hand cvmm_virtio_blk_device() to a transport
 * (e.g. cvmm_virtio_mmio_create()), and destroy the transport before the
 * device. On poweroff/SIGTERM call cvmm_virtio_blk_flush() (or destroy).
 *
 * Requests: IN, OUT, FLUSH, GET_ID, DISCARD, WRITE_ZEROES. A bad request
 * completes with a status byte (UNSUPP for an unknown type or flags, IOERR for
 * a short header, data not a multiple of 512 bytes, a range past the end, a
 * write/discard on a read-only disk, a failed host I/O). Only a chain with no
 * device-writable byte for the status, or a malformed ring, puts the device
 * in NEEDS_RESET.
 *
 * Engines (an internal ops table): SYNC runs preadv/pwritev/fdatasync/
 * fallocate on the guest buffers on the loop's thread, one request at a
 * time; give such a device a loop of its own on its own thread
 * (cvmm_loop_thread_start()) so that a slow image delays nothing else.
 * IO_URING submits reads, writes, flushes and (per segment) discard and
 * write-zeroes fallocates to an io_uring whose completion eventfd is
 * watched on the loop, with at most max_inflight requests in flight; where
 * the filesystem refuses a fallocate, that segment falls back to the
 * synchronous path on the loop's thread. GET_ID is a memory copy.
 * Each notification takes at most one queue's worth of requests; the rest
 * waits for the loop's next turn.
 *
 * Cache modes: WRITEBACK makes FLUSH an fdatasync of the image, so what the
 * guest flushed survives a host crash. UNSAFE completes FLUSH at once: data
 * the guest believes durable may be lost if the host loses power.
 *
 * Locking: the image gets an open-file-description lock (F_OFD_SETLK): a
 * write lock when read-write, a read lock when read-only, so a second
 * read-write open of the same image (from any process) fails with -EBUSY.
 *
 * Threading: queue notifications, io_uring completions and the batch
 * continuation run on the loop's thread; activate and reset come from the
 * transport (a vCPU). A device lock serialises them. Reset waits until the
 * kernel owns no request of the device (it never returns with I/O in
 * flight); if that cannot be established the device is dead: NEEDS_RESET,
 * and activation is refused until destroy. cvmm_virtio_blk_flush() may be
 * called from any thread. Destroy only when no loop callback can run.
 */
#ifndef CVMM_VIRTIO_BLK_H
#define CVMM_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include <cvmm/ratelimit.h>
#include <cvmm/sys.h>
#include <cvmm/virtio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CVMM_VIRTIO_ID_BLOCK 2u

/* Feature bits. */
#define CVMM_VIRTIO_BLK_F_SIZE_MAX 1
#define CVMM_VIRTIO_BLK_F_SEG_MAX 2
#define CVMM_VIRTIO_BLK_F_RO 5
#define CVMM_VIRTIO_BLK_F_BLK_SIZE 6
#define CVMM_VIRTIO_BLK_F_FLUSH 9
#define CVMM_VIRTIO_BLK_F_DISCARD 13
#define CVMM_VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types and status values. */
#define CVMM_VIRTIO_BLK_T_IN 0u
#define CVMM_VIRTIO_BLK_T_OUT 1u
#define CVMM_VIRTIO_BLK_T_FLUSH 4u
#define CVMM_VIRTIO_BLK_T_GET_ID 8u
#define CVMM_VIRTIO_BLK_T_DISCARD 11u
#define CVMM_VIRTIO_BLK_T_WRITE_ZEROES 13u
#define CVMM_VIRTIO_BLK_S_OK 0u
#define CVMM_VIRTIO_BLK_S_IOERR 1u
#define CVMM_VIRTIO_BLK_S_UNSUPP 2u
#define CVMM_VIRTIO_BLK_ID_BYTES 20u
#define CVMM_VIRTIO_BLK_WZ_F_UNMAP 1u

/* Config space offsets (struct virtio_blk_config), little-endian. */
#define CVMM_VIRTIO_BLK_CFG_CAPACITY 0
#define CVMM_VIRTIO_BLK_CFG_SIZE_MAX 8
#define CVMM_VIRTIO_BLK_CFG_SEG_MAX 12
#define CVMM_VIRTIO_BLK_CFG_BLK_SIZE 20
#define CVMM_VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS 36
#define CVMM_VIRTIO_BLK_CFG_MAX_DISCARD_SEG 40
#define CVMM_VIRTIO_BLK_CFG_DISCARD_ALIGN 44
#define CVMM_VIRTIO_BLK_CFG_MAX_WZ_SECTORS 48
#define CVMM_VIRTIO_BLK_CFG_MAX_WZ_SEG 52
#define CVMM_VIRTIO_BLK_CFG_WZ_MAY_UNMAP 56
#define CVMM_VIRTIO_BLK_CFG_SIZE 60

enum cvmm_virtio_blk_engine {
	CVMM_VIRTIO_BLK_ENGINE_SYNC = 0,
	CVMM_VIRTIO_BLK_ENGINE_IO_URING = 1,
};

enum cvmm_virtio_blk_cache {
	CVMM_VIRTIO_BLK_CACHE_WRITEBACK = 0, /* FLUSH = fdatasync (default) */
	CVMM_VIRTIO_BLK_CACHE_UNSAFE = 1,    /* FLUSH completes without syncing */
};

struct cvmm_virtio_blk_opts {
	const char *path;   /* raw image file (or block device) */
	bool read_only;	    /* open O_RDONLY, offer VIRTIO_BLK_F_RO */
	const char *serial; /* GET_ID string; first 20 bytes used; NULL: "" */
	enum cvmm_virtio_blk_engine engine;
	enum cvmm_virtio_blk_cache cache;
	struct cvmm_loop *loop;	   /* required; must outlive the device */
	uint16_t queue_size;	   /* power of two, 2..1024; 0: 256 */
	unsigned int max_inflight; /* IO_URING only, 1..queue_size; 0: 64 (or queue_size) */
	/* Limit on reads and writes (bytes and operations; other requests are
	 * not counted); copied. NULL: unlimited. A request over the limit waits,
	 * already popped, for the limiter's timer on the loop, and blocks the
	 * queue behind it; the guest sees only the delay. */
	const struct cvmm_ratelimit_cfg *limit;
};

struct cvmm_virtio_blk;

/*
 * Open and lock the image and build the device. The capacity is the image
 * size rounded down to 512 bytes. Returns 0 or -errno: -EBUSY (with a
 * message naming the file) if another open holds a conflicting lock,
 * -EINVAL for bad options, -ENOENT/-EACCES... from open, or io_uring setup
 * errors.
 */
int cvmm_virtio_blk_create(struct cvmm_virtio_blk **out, const struct cvmm_virtio_blk_opts *o);

/* Description to hand to a transport; valid until destroy. */
const struct cvmm_virtio_device *cvmm_virtio_blk_device(struct cvmm_virtio_blk *b);

/* Change the limits while running (see cvmm_ratelimit_update(); NULL leaves
 * a bucket as it is). -EINVAL if the device was created without a limit or a
 * bucket is bad. Any thread. */
int cvmm_virtio_blk_set_limit(struct cvmm_virtio_blk *b, const struct cvmm_ratelimit_bucket *bytes,
			      const struct cvmm_ratelimit_bucket *ops);

/* Requests completed since create: reads and writes with their data bytes,
 * flushes, other types (GET_ID, DISCARD, WRITE_ZEROES), and errors (any
 * request completed with a status other than OK, counted there only). */
struct cvmm_virtio_blk_stats {
	uint64_t read_ops, read_bytes;
	uint64_t write_ops, write_bytes;
	uint64_t flush_ops, other_ops;
	uint64_t errors;
};

/* Read the counters (each exact, not a snapshot of all). Any thread. */
void cvmm_virtio_blk_stats(const struct cvmm_virtio_blk *b, struct cvmm_virtio_blk_stats *out);

/* Capacity in 512-byte sectors. Any thread. */
uint64_t cvmm_virtio_blk_capacity(const struct cvmm_virtio_blk *b);

/*
 * Replace the backing image while the device runs (a media change). The new
 * file is opened and locked in the device's mode first (a failure changes
 * nothing: -errno, -EBUSY if locked elsewhere, which includes the current
 * image when read-write); then, under the device lock, requests in flight
 * on the old image are completed, one waiting for the rate limiter that
 * would fall past the new end fails with IOERR, the capacity becomes the
 * new size, and a driver is sent a configuration-change interrupt. The old
 * image is closed, not flushed. -EIO if the device lost track of in-flight
 * requests. Any thread.
 */
int cvmm_virtio_blk_swap_image(struct cvmm_virtio_blk *b, const char *path);

/*
 * For poweroff/SIGTERM: wait for in-flight requests (completing them to the
 * guest) and fdatasync the image, whatever the cache mode. Returns 0, -errno
 * from fdatasync, or -EIO if the device lost track of requests in flight.
 */
int cvmm_virtio_blk_flush(struct cvmm_virtio_blk *b);

/* Flush, then release the lock, io_uring and file. Destroy the transport
 * first. */
void cvmm_virtio_blk_destroy(struct cvmm_virtio_blk *b);

#ifdef __cplusplus
}
#endif
#endif
