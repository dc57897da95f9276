// SPDX-License-Identifier: Apache-2.0
/* Request parsing, batching and the helpers both engines share. */
#include "blk_impl.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

struct blk_hdr {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
};

void blk_iov_advance(struct iovec **iov, int *n, size_t bytes)
{
	while (bytes && *n) {
		if (bytes >= (*iov)->iov_len) {
			bytes -= (*iov)->iov_len;
			(*iov)++;
			(*n)--;
		} else {
			(*iov)->iov_base = (uint8_t *)(*iov)->iov_base + bytes;
			(*iov)->iov_len -= bytes;
			bytes = 0;
		}
	}
}

int blk_rw_sync(int fd, struct iovec *iov, int n, uint64_t off, size_t len, bool write)
{
	size_t done = 0;

	while (done < len) {
		int cnt = n > IOV_MAX ? IOV_MAX : n;
		ssize_t r = write ? pwritev(fd, iov, cnt, (off_t)(off + done))
				  : preadv(fd, iov, cnt, (off_t)(off + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO; /* the image shrank under us */
		done += (size_t)r;
		blk_iov_advance(&iov, &n, (size_t)r);
	}
	return 0;
}

void blk_recycle(struct cvmm_virtio_blk *b, struct blk_req *req)
{
	req->next = b->free;
	b->free = req;
}

static void blk_count(atomic_uint_fast64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

void blk_complete(struct cvmm_virtio_blk *b, struct blk_req *req, uint8_t status)
{
	if (status != CVMM_VIRTIO_BLK_S_OK) {
		req->used_len = 1;
		blk_count(&b->st_errors, 1);
	} else if (req->type == CVMM_VIRTIO_BLK_T_IN) {
		blk_count(&b->st_read_ops, 1);
		blk_count(&b->st_read_bytes, req->len);
	} else if (req->type == CVMM_VIRTIO_BLK_T_OUT) {
		blk_count(&b->st_write_ops, 1);
		blk_count(&b->st_write_bytes, req->len);
	} else if (req->type == CVMM_VIRTIO_BLK_T_FLUSH) {
		blk_count(&b->st_flush_ops, 1);
	} else {
		blk_count(&b->st_other_ops, 1);
	}
	*req->status = status;
	/* A queue the guest broke refuses the push; the request is still ours. */
	cvmm_virtq_push(b->vq, &req->chain, req->used_len);
	blk_recycle(b, req);
}

void blk_fail(struct cvmm_virtio_blk *b, const char *what)
{
	b->failed = true;
	cvmm_virtio_fail(b->t, "%s: %s", b->path, what);
}

static bool blk_range_ok(const struct cvmm_virtio_blk *b, uint64_t sector, uint64_t sectors)
{
	return sector <= b->capacity && sectors <= b->capacity - sector;
}

/* IN/OUT: check and describe the data; returns a status, OK if ready to run. */
static uint8_t blk_prepare_rw(struct cvmm_virtio_blk *b, struct blk_req *req, bool write,
			      uint64_t sector)
{
	struct cvmm_virtq_chain *c = &req->chain;
	uint64_t len = write ? c->readable_len - sizeof(struct blk_hdr) : c->writable_len - 1;
	int n;

	if (write && b->ro)
		return CVMM_VIRTIO_BLK_S_IOERR;
	if (len % BLK_SECTOR || !blk_range_ok(b, sector, len / BLK_SECTOR))
		return CVMM_VIRTIO_BLK_S_IOERR;
	n = cvmm_virtq_chain_iov(c, !write, write ? sizeof(struct blk_hdr) : 0, len, req->data,
				 b->dev.queue_max_size);
	if (n < 0)
		return CVMM_VIRTIO_BLK_S_IOERR;
	req->ndata = n;
	req->off = sector * BLK_SECTOR;
	req->len = len;
	if (!write)
		req->used_len = (uint32_t)(len + 1);
	return CVMM_VIRTIO_BLK_S_OK;
}

/* DISCARD/WRITE_ZEROES: copy every segment once (the guest may change them
 * meanwhile) and check them all before anything runs. */
static uint8_t blk_prepare_dz(struct cvmm_virtio_blk *b, struct blk_req *req, bool discard)
{
	uint64_t payload = req->chain.readable_len - sizeof(struct blk_hdr);
	uint64_t nseg = payload / sizeof(req->segs[0]);

	if (b->ro || payload == 0 || payload % sizeof(req->segs[0]))
		return CVMM_VIRTIO_BLK_S_IOERR;
	if (nseg > BLK_MAX_DZ_SEG)
		return CVMM_VIRTIO_BLK_S_UNSUPP;
	cvmm_virtq_chain_read(&req->chain, req->segs, nseg * sizeof(req->segs[0]));
	for (uint64_t i = 0; i < nseg; i++) {
		struct blk_dz_seg *s = &req->segs[i];

		s->sector = le64toh(s->sector);
		s->num_sectors = le32toh(s->num_sectors);
		s->flags = le32toh(s->flags);
		if ((s->flags & ~CVMM_VIRTIO_BLK_WZ_F_UNMAP) || (discard && s->flags))
			return CVMM_VIRTIO_BLK_S_UNSUPP;
		if (s->num_sectors > BLK_MAX_DZ_SECTORS ||
		    !blk_range_ok(b, s->sector, s->num_sectors))
			return CVMM_VIRTIO_BLK_S_IOERR;
	}
	req->nseg = (unsigned int)nseg;
	return CVMM_VIRTIO_BLK_S_OK;
}

static const uint8_t blk_zeros[65536];

static int blk_write_zeroes_slow(struct cvmm_virtio_blk *b, uint64_t off, uint64_t len)
{
	while (len) {
		size_t chunk = len < sizeof(blk_zeros) ? len : sizeof(blk_zeros);
		ssize_t r = pwrite(b->fd, blk_zeros, chunk, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
	return 0;
}

uint8_t blk_dz_seg_sync(struct cvmm_virtio_blk *b, bool discard, const struct blk_dz_seg *seg)
{
	const int punch = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	off_t off = (off_t)(seg->sector * BLK_SECTOR);
	off_t len = (off_t)seg->num_sectors * BLK_SECTOR;

	if (len == 0)
		return CVMM_VIRTIO_BLK_S_OK;
	if (discard) {
		/* Discard is a hint: a filesystem without hole punching is fine. */
		if (fallocate(b->fd, punch, off, len) == 0 || errno == EOPNOTSUPP)
			return CVMM_VIRTIO_BLK_S_OK;
		return CVMM_VIRTIO_BLK_S_IOERR;
	}
	if ((seg->flags & CVMM_VIRTIO_BLK_WZ_F_UNMAP) && fallocate(b->fd, punch, off, len) == 0)
		return CVMM_VIRTIO_BLK_S_OK;
	if (fallocate(b->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off, len) == 0)
		return CVMM_VIRTIO_BLK_S_OK;
	return blk_write_zeroes_slow(b, (uint64_t)off, (uint64_t)len) == 0
		   ? CVMM_VIRTIO_BLK_S_OK
		   : CVMM_VIRTIO_BLK_S_IOERR;
}

/* Reads and writes pass the limiter first; one it refuses waits, parked,
 * for the limiter's timer (blk_limit_timer) and holds up the queue. */
static void blk_start_limited(struct cvmm_virtio_blk *b, struct blk_req *req)
{
	int ret = b->rl ? cvmm_ratelimit_consume(b->rl, req->len, 1) : 0;

	if (ret == -EAGAIN) {
		b->parked = req;
		return;
	}
	if (ret < 0) { /* the timer cannot be armed: refuse rather than exceed */
		blk_complete(b, req, CVMM_VIRTIO_BLK_S_IOERR);
		return;
	}
	b->engine->start(b, req);
}

/* Parse one popped request and complete it, or hand it to the engine. */
static void blk_handle(struct cvmm_virtio_blk *b, struct blk_req *req)
{
	struct cvmm_virtq_chain *c = &req->chain;
	struct iovec *last;
	struct blk_hdr h;
	uint8_t st;
	size_t n;

	if (c->writable_len == 0) {
		blk_recycle(b, req);
		blk_fail(b, "request without a status byte");
		return;
	}
	last = &c->iov[c->nr_readable + c->nr_writable - 1];
	req->status = (uint8_t *)last->iov_base + last->iov_len - 1;
	req->used_len = 1;
	req->len = 0;
	req->nseg = 0;
	req->st = CVMM_VIRTIO_BLK_S_OK;
	if (cvmm_virtq_chain_read(c, &h, sizeof(h)) != sizeof(h)) {
		blk_complete(b, req, CVMM_VIRTIO_BLK_S_IOERR);
		return;
	}
	req->type = le32toh(h.type);
	switch (req->type) {
	case CVMM_VIRTIO_BLK_T_IN:
	case CVMM_VIRTIO_BLK_T_OUT:
		st = blk_prepare_rw(b, req, req->type == CVMM_VIRTIO_BLK_T_OUT, le64toh(h.sector));
		if (st == CVMM_VIRTIO_BLK_S_OK && req->len) {
			blk_start_limited(b, req);
			return;
		}
		break;
	case CVMM_VIRTIO_BLK_T_FLUSH:
		st = CVMM_VIRTIO_BLK_S_OK;
		if (b->cache == CVMM_VIRTIO_BLK_CACHE_UNSAFE)
			break;
		blk_start_limited(b, req); /* one operation, no bytes */
		return;
	case CVMM_VIRTIO_BLK_T_GET_ID:
		n = c->writable_len - 1 < sizeof(b->serial) ? c->writable_len - 1
							    : sizeof(b->serial);
		req->used_len = (uint32_t)(cvmm_virtq_chain_write(c, b->serial, n) + 1);
		st = CVMM_VIRTIO_BLK_S_OK;
		break;
	case CVMM_VIRTIO_BLK_T_DISCARD:
	case CVMM_VIRTIO_BLK_T_WRITE_ZEROES:
		st = blk_prepare_dz(b, req, req->type == CVMM_VIRTIO_BLK_T_DISCARD);
		if (st == CVMM_VIRTIO_BLK_S_OK) {
			blk_start_limited(b, req); /* one operation, no bytes */
			return;
		}
		break;
	default:
		st = CVMM_VIRTIO_BLK_S_UNSUPP;
		break;
	}
	blk_complete(b, req, st);
}

/*
 * Take at most one batch (a queue's worth) of requests, then yield: the kick
 * eventfd brings us back after the loop has served its other sources. Every
 * way out hands what was queued to the kernel, so nothing queued is left
 * unsubmitted behind a malformed entry.
 */
void blk_process(struct cvmm_virtio_blk *b)
{
	unsigned int budget = b->dev.queue_max_size;
	struct blk_req *req;
	int ret;

	if (!b->t || !b->vq || b->failed || b->dead) {
		/* A submit the kernel deferred (-EAGAIN) still owes what was
		 * queued before the device failed; a reset's drain retries it. */
		if (b->t && !b->dead)
			(void)b->engine->submit(b);
		return;
	}
	if (b->parked) {
		req = b->parked;
		b->parked = NULL;
		blk_start_limited(b, req);
	}
	while (!b->parked && (req = b->free) && !atomic_load(&b->reset_pending)) {
		if (budget == 0) {
			cvmm_eventfd_signal(b->kick_fd);
			break;
		}
		ret = cvmm_virtq_pop(b->vq, &req->chain);
		if (ret == 0)
			break;
		if (ret < 0) {
			blk_fail(b, cvmm_err_msg());
			break;
		}
		budget--;
		b->free = req->next;
		blk_handle(b, req);
		if (b->failed)
			break;
	}
	ret = b->engine->submit(b);
	if (ret < 0 && !b->failed)
		blk_fail(b, cvmm_err_msg());
	cvmm_virtio_notify_used(b->t, 0);
}
