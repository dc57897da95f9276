/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to cvmm-virtio-blk. */
#ifndef CVMM_VIRTIO_BLK_IMPL_H
#define CVMM_VIRTIO_BLK_IMPL_H

#include <cvmm/virtio-blk.h>
#include <liburing.h>

#define BLK_SECTOR 512u
#define BLK_MAX_DZ_SEG 16u	      /* discard / write-zeroes segments per request */
#define BLK_MAX_DZ_SECTORS (1u << 22) /* 2 GiB per segment */

struct blk_req {
	struct cvmm_virtq_chain chain;
	struct iovec *data; /* data part of the chain, for preadv/pwritev */
	int ndata;
	uint8_t *status; /* host pointer to the guest's status byte */
	uint32_t used_len;
	uint32_t type;
	uint64_t off;
	size_t len;
	struct blk_req *next; /* free list */
};

struct cvmm_virtio_blk {
	struct cvmm_virtio_device dev;
	char *path;
	int fd;
	bool ro;
	enum cvmm_virtio_blk_engine engine;
	enum cvmm_virtio_blk_cache cache;
	uint64_t capacity; /* sectors */
	uint8_t serial[CVMM_VIRTIO_BLK_ID_BYTES];
	uint8_t config[CVMM_VIRTIO_BLK_CFG_SIZE];
	struct cvmm_loop *loop;
	/* Set by activate, cleared by reset (atomic: read unlocked by loop callbacks). */
	struct cvmm_virtio_transport *t;
	struct cvmm_virtq *vq;
	bool failed; /* asked the transport for a reset */
	struct blk_req *reqs;
	unsigned int nreqs;
	struct blk_req *free;
	unsigned int inflight;
	struct io_uring ring;
	bool ring_ok;
	int efd;
};

/* request.c */
void blk_process(struct cvmm_virtio_blk *b);
void blk_complete(struct cvmm_virtio_blk *b, struct blk_req *req, uint8_t status);
/* Drop the first bytes of an iovec array. */
void blk_iov_advance(struct iovec **iov, int *n, size_t bytes);
int blk_rw_sync(int fd, struct iovec *iov, int n, uint64_t off, size_t len, bool write);

/* uring.c */
int blk_uring_init(struct cvmm_virtio_blk *b);
void blk_uring_fini(struct cvmm_virtio_blk *b);
/* Queue req (IN, OUT or FLUSH); false if no SQE was available. */
bool blk_uring_queue(struct cvmm_virtio_blk *b, struct blk_req *req);
int blk_uring_submit(struct cvmm_virtio_blk *b);
/* Reap completions; wait for all in flight if wait. complete: push them to the
 * guest, else just recycle the requests. */
void blk_uring_reap(struct cvmm_virtio_blk *b, bool complete, bool wait);

#endif
