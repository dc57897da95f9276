/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to cvmm-virtio-blk. */
#ifndef CVMM_VIRTIO_BLK_IMPL_H
#define CVMM_VIRTIO_BLK_IMPL_H

#include <cvmm/virtio-blk.h>
#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>

#define BLK_SECTOR 512u
#define BLK_MAX_DZ_SEG 16u	      /* discard / write-zeroes segments per request */
#define BLK_MAX_DZ_SECTORS (1u << 22) /* 2 GiB per segment */

struct blk_dz_seg {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

struct blk_req;

/* One host operation of a request (io_uring user data): a request is one
 * read, write or flush, or one fallocate per discard/write-zeroes segment. */
struct blk_op {
	struct blk_req *req;
	unsigned int seg;
};

struct blk_req {
	struct cvmm_virtq_chain chain;
	struct iovec *data; /* data part of the chain, for preadv/pwritev */
	int ndata;
	uint8_t *status; /* host pointer to the guest's status byte */
	uint32_t used_len;
	uint32_t type;
	uint64_t off;
	size_t len;
	/* DISCARD / WRITE_ZEROES: the segments, copied from the guest once. */
	struct blk_dz_seg segs[BLK_MAX_DZ_SEG];
	unsigned int nseg;
	struct blk_op ops[BLK_MAX_DZ_SEG];
	unsigned int pending; /* host operations not completed yet */
	uint8_t st;	      /* status so far */
	struct blk_req *next; /* free list */
};

struct cvmm_virtio_blk;

/*
 * An I/O engine. start() takes a checked request and completes it through
 * blk_complete(), at once or later from the engine's own loop event.
 * All are called with the device lock held, on the device loop's thread
 * (drain() also from reset and flush).
 */
struct blk_engine {
	int (*init)(struct cvmm_virtio_blk *b);
	void (*fini)(struct cvmm_virtio_blk *b);
	void (*start)(struct cvmm_virtio_blk *b, struct blk_req *req);
	/* Hand what start() queued to the kernel. 0 or -errno. */
	int (*submit)(struct cvmm_virtio_blk *b);
	/* Wait until the kernel owns no request; complete them to the guest,
	 * or just recycle them when !complete. -errno if that cannot be made
	 * sure of: the device is then dead and keeps those requests. */
	int (*drain)(struct cvmm_virtio_blk *b, bool complete);
};

extern const struct blk_engine blk_engine_sync __attribute__((visibility("hidden")));
extern const struct blk_engine blk_engine_uring __attribute__((visibility("hidden")));

/*
 * Locking: `lock` guards everything below it. The data path (notify, kick
 * and completion callbacks) runs on the loop thread; activate and reset come
 * from the transport (a vCPU) and take the same lock. reset_pending cuts a
 * sync batch short, so reset waits for the request being executed; with
 * io_uring it then waits for every operation in flight.
 */
struct cvmm_virtio_blk {
	struct cvmm_virtio_device dev;
	const struct blk_engine *engine;
	char *path;
	int fd;
	bool ro;
	enum cvmm_virtio_blk_cache cache;
	uint64_t capacity; /* sectors; written under lock and cfg_lock */
	uint8_t serial[CVMM_VIRTIO_BLK_ID_BYTES];
	/* config and capacity: a vCPU's config read takes only this lock,
	 * which is never held across I/O (lock, below, may be). */
	pthread_mutex_t cfg_lock;
	uint8_t config[CVMM_VIRTIO_BLK_CFG_SIZE];
	struct cvmm_loop *loop;
	int kick_fd; /* resumes processing after a full batch */
	atomic_bool reset_pending;
	pthread_mutex_t lock;
	struct cvmm_virtio_transport *t; /* set by activate, cleared by reset */
	struct cvmm_virtq *vq;
	struct cvmm_ratelimit *rl; /* NULL: unlimited */
	struct blk_req *parked;	   /* popped, waiting for the limiter */
	bool failed;		   /* asked the transport for a reset */
	bool dead;		   /* lost track of requests the kernel owns: never again */
	struct blk_req *reqs;
	unsigned int nreqs;
	struct blk_req *free;
	/* io_uring engine */
	struct io_uring ring;
	bool ring_ok;
	unsigned int inflight; /* operations the kernel owns */
	int efd;
	/* Completed requests, for cvmm_virtio_blk_stats() from any thread. */
	atomic_uint_fast64_t st_read_ops, st_read_bytes, st_write_ops, st_write_bytes, st_flush_ops,
	    st_other_ops, st_errors;
};

/* request.c */
void blk_process(struct cvmm_virtio_blk *b);
void blk_complete(struct cvmm_virtio_blk *b, struct blk_req *req, uint8_t status);
void blk_recycle(struct cvmm_virtio_blk *b, struct blk_req *req);
void blk_fail(struct cvmm_virtio_blk *b, const char *what);
/* Drop the first bytes of an iovec array. */
void blk_iov_advance(struct iovec **iov, int *n, size_t bytes);
int blk_rw_sync(int fd, struct iovec *iov, int n, uint64_t off, size_t len, bool write);
/* One discard/write-zeroes segment, synchronously (also the io_uring
 * engine's fallback when a filesystem refuses the fast way). */
uint8_t blk_dz_seg_sync(struct cvmm_virtio_blk *b, bool discard, const struct blk_dz_seg *seg);

#endif
