// SPDX-License-Identifier: Apache-2.0
/* Request parsing and synchronous execution. */
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

struct blk_dz_seg {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
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

void blk_complete(struct cvmm_virtio_blk *b, struct blk_req *req, uint8_t status)
{
	*req->status = status;
	cvmm_virtq_push(b->vq, &req->chain, req->used_len);
	req->next = b->free;
	b->free = req;
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

static uint8_t blk_dz_one(struct cvmm_virtio_blk *b, bool discard, uint64_t off, uint64_t len,
			  bool unmap)
{
	const int punch = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;

	if (discard) {
		/* Discard is a hint: a filesystem without hole punching is fine. */
		if (fallocate(b->fd, punch, (off_t)off, (off_t)len) == 0 || errno == EOPNOTSUPP)
			return CVMM_VIRTIO_BLK_S_OK;
		return CVMM_VIRTIO_BLK_S_IOERR;
	}
	if (unmap && fallocate(b->fd, punch, (off_t)off, (off_t)len) == 0)
		return CVMM_VIRTIO_BLK_S_OK;
	if (fallocate(b->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) ==
	    0)
		return CVMM_VIRTIO_BLK_S_OK;
	return blk_write_zeroes_slow(b, off, len) == 0 ? CVMM_VIRTIO_BLK_S_OK
						       : CVMM_VIRTIO_BLK_S_IOERR;
}

static uint8_t blk_discard_zeroes(struct cvmm_virtio_blk *b, struct blk_req *req, bool discard)
{
	struct blk_dz_seg segs[BLK_MAX_DZ_SEG];
	uint64_t payload = req->chain.readable_len - sizeof(struct blk_hdr);
	uint64_t nseg = payload / sizeof(segs[0]);
	uint8_t st;

	if (b->ro || payload == 0 || payload % sizeof(segs[0]))
		return CVMM_VIRTIO_BLK_S_IOERR;
	if (nseg > BLK_MAX_DZ_SEG)
		return CVMM_VIRTIO_BLK_S_UNSUPP;
	/* Copy all segments first: the guest may change them meanwhile. */
	cvmm_virtq_chain_read(&req->chain, segs, nseg * sizeof(segs[0]));
	for (uint64_t i = 0; i < nseg; i++) {
		uint32_t flags = le32toh(segs[i].flags);
		uint32_t num = le32toh(segs[i].num_sectors);
		uint64_t sector = le64toh(segs[i].sector);

		if ((flags & ~CVMM_VIRTIO_BLK_WZ_F_UNMAP) || (discard && flags))
			return CVMM_VIRTIO_BLK_S_UNSUPP;
		if (num > BLK_MAX_DZ_SECTORS || !blk_range_ok(b, sector, num))
			return CVMM_VIRTIO_BLK_S_IOERR;
	}
	for (uint64_t i = 0; i < nseg; i++) {
		uint64_t len = (uint64_t)le32toh(segs[i].num_sectors) * BLK_SECTOR;

		if (!len)
			continue;
		st = blk_dz_one(b, discard, le64toh(segs[i].sector) * BLK_SECTOR, len,
				le32toh(segs[i].flags) & CVMM_VIRTIO_BLK_WZ_F_UNMAP);
		if (st != CVMM_VIRTIO_BLK_S_OK)
			return st;
	}
	return CVMM_VIRTIO_BLK_S_OK;
}

/* Run or queue one popped request. */
static void blk_handle(struct cvmm_virtio_blk *b, struct blk_req *req)
{
	struct cvmm_virtq_chain *c = &req->chain;
	struct iovec *last;
	struct blk_hdr h;
	uint8_t st;
	size_t n;

	if (c->writable_len == 0) {
		req->next = b->free;
		b->free = req;
		b->failed = true;
		cvmm_virtio_fail(b->t, "virtio-blk %s: request %u has no status byte", b->path,
				 c->id);
		return;
	}
	last = &c->iov[c->nr_readable + c->nr_writable - 1];
	req->status = (uint8_t *)last->iov_base + last->iov_len - 1;
	req->used_len = 1;
	if (cvmm_virtq_chain_read(c, &h, sizeof(h)) != sizeof(h)) {
		blk_complete(b, req, CVMM_VIRTIO_BLK_S_IOERR);
		return;
	}
	req->type = le32toh(h.type);
	switch (req->type) {
	case CVMM_VIRTIO_BLK_T_IN:
	case CVMM_VIRTIO_BLK_T_OUT: {
		bool write = req->type == CVMM_VIRTIO_BLK_T_OUT;

		st = blk_prepare_rw(b, req, write, le64toh(h.sector));
		if (st != CVMM_VIRTIO_BLK_S_OK || req->len == 0)
			break;
		if (!write)
			req->used_len = (uint32_t)(req->len + 1);
		if (b->engine == CVMM_VIRTIO_BLK_ENGINE_IO_URING && blk_uring_queue(b, req))
			return;
		if (blk_rw_sync(b->fd, req->data, req->ndata, req->off, req->len, write) < 0) {
			req->used_len = 1;
			st = CVMM_VIRTIO_BLK_S_IOERR;
		}
		break;
	}
	case CVMM_VIRTIO_BLK_T_FLUSH:
		st = CVMM_VIRTIO_BLK_S_OK;
		if (b->cache == CVMM_VIRTIO_BLK_CACHE_UNSAFE)
			break;
		if (b->engine == CVMM_VIRTIO_BLK_ENGINE_IO_URING && blk_uring_queue(b, req))
			return;
		if (fdatasync(b->fd) < 0)
			st = CVMM_VIRTIO_BLK_S_IOERR;
		break;
	case CVMM_VIRTIO_BLK_T_GET_ID:
		n = c->writable_len - 1 < sizeof(b->serial) ? c->writable_len - 1
							    : sizeof(b->serial);
		req->used_len = (uint32_t)(cvmm_virtq_chain_write(c, b->serial, n) + 1);
		st = CVMM_VIRTIO_BLK_S_OK;
		break;
	case CVMM_VIRTIO_BLK_T_DISCARD:
	case CVMM_VIRTIO_BLK_T_WRITE_ZEROES:
		st = blk_discard_zeroes(b, req, req->type == CVMM_VIRTIO_BLK_T_DISCARD);
		break;
	default:
		st = CVMM_VIRTIO_BLK_S_UNSUPP;
		break;
	}
	blk_complete(b, req, st);
}

void blk_process(struct cvmm_virtio_blk *b)
{
	struct blk_req *req;
	int ret;

	if (!b->t || !b->vq || b->failed)
		return;
	while ((req = b->free)) {
		ret = cvmm_virtq_pop(b->vq, &req->chain);
		if (ret == 0)
			break;
		if (ret < 0) {
			b->failed = true;
			cvmm_virtio_fail(b->t, "virtio-blk %s: %s", b->path, cvmm_err_msg());
			return;
		}
		b->free = req->next;
		blk_handle(b, req);
		if (b->failed)
			return;
	}
	if (b->engine == CVMM_VIRTIO_BLK_ENGINE_IO_URING && blk_uring_submit(b) < 0) {
		b->failed = true;
		cvmm_virtio_fail(b->t, "virtio-blk %s: io_uring submit: %s", b->path,
				 cvmm_err_msg());
		return;
	}
	cvmm_virtio_notify_used(b->t, 0);
}
