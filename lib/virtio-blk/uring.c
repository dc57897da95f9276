// SPDX-License-Identifier: Apache-2.0
/* io_uring engine: reads, writes, flushes, discards and write-zeroes are
 * submitted to the kernel and complete on the device loop. */
#include "blk_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

static void uring_reap(struct cvmm_virtio_blk *b, bool complete, bool wait);

static void uring_cb(int fd, uint32_t events, void *opaque)
{
	struct cvmm_virtio_blk *b = opaque;

	(void)events;
	cvmm_eventfd_drain(fd, NULL);
	pthread_mutex_lock(&b->lock);
	if (b->t) {
		uring_reap(b, true, false);
		blk_process(b); /* freed requests may take what waited */
	}
	pthread_mutex_unlock(&b->lock);
}

static int uring_init(struct cvmm_virtio_blk *b)
{
	/* A discard or write-zeroes request is up to BLK_MAX_DZ_SEG operations:
	 * size the completion queue for every operation that can be in flight. */
	struct io_uring_params p = {.flags = IORING_SETUP_CQSIZE,
				    .cq_entries = b->nreqs * BLK_MAX_DZ_SEG};
	int ret = io_uring_queue_init_params(b->nreqs, &b->ring, &p);

	if (ret < 0)
		return cvmm_err(-ret, "virtio-blk %s: io_uring_queue_init: %s", b->path,
				strerror(-ret));
	b->ring_ok = true;
	ret = cvmm_eventfd_open();
	if (ret < 0)
		return ret;
	b->efd = ret;
	ret = io_uring_register_eventfd(&b->ring, b->efd);
	if (ret < 0)
		return cvmm_err(-ret, "virtio-blk %s: io_uring_register_eventfd: %s", b->path,
				strerror(-ret));
	return cvmm_loop_add(b->loop, b->efd, EPOLLIN, uring_cb, b);
}

static void uring_fini(struct cvmm_virtio_blk *b)
{
	if (b->efd >= 0) {
		cvmm_loop_del(b->loop, b->efd);
		close(b->efd);
		b->efd = -1;
	}
	if (b->ring_ok)
		io_uring_queue_exit(&b->ring);
	b->ring_ok = false;
}

/* An SQE, submitting what is queued first if the ring is full. */
static struct io_uring_sqe *uring_sqe(struct cvmm_virtio_blk *b)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);

	if (!sqe && io_uring_submit(&b->ring) >= 0)
		sqe = io_uring_get_sqe(&b->ring);
	return sqe;
}

static void uring_start(struct cvmm_virtio_blk *b, struct blk_req *req)
{
	const int punch = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	bool rw = req->type == CVMM_VIRTIO_BLK_T_IN || req->type == CVMM_VIRTIO_BLK_T_OUT ||
		  req->type == CVMM_VIRTIO_BLK_T_FLUSH;
	unsigned int nops = rw ? 1 : req->nseg;

	req->pending = 0;
	for (unsigned int i = 0; i < nops; i++) {
		const struct blk_dz_seg *seg = &req->segs[i];
		struct io_uring_sqe *sqe;

		if (!rw && seg->num_sectors == 0)
			continue;
		sqe = uring_sqe(b);
		if (!sqe) {
			req->st = CVMM_VIRTIO_BLK_S_IOERR;
			break;
		}
		if (req->type == CVMM_VIRTIO_BLK_T_FLUSH)
			io_uring_prep_fsync(sqe, b->fd, IORING_FSYNC_DATASYNC);
		else if (req->type == CVMM_VIRTIO_BLK_T_OUT)
			io_uring_prep_writev(sqe, b->fd, req->data, (unsigned int)req->ndata,
					     req->off);
		else if (req->type == CVMM_VIRTIO_BLK_T_IN)
			io_uring_prep_readv(sqe, b->fd, req->data, (unsigned int)req->ndata,
					    req->off);
		else
			io_uring_prep_fallocate(sqe, b->fd,
						req->type == CVMM_VIRTIO_BLK_T_DISCARD ||
							(seg->flags & CVMM_VIRTIO_BLK_WZ_F_UNMAP)
						    ? punch
						    : FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
						seg->sector * BLK_SECTOR,
						(uint64_t)seg->num_sectors * BLK_SECTOR);
		req->ops[i] = (struct blk_op){.req = req, .seg = i};
		io_uring_sqe_set_data(sqe, &req->ops[i]);
		req->pending++;
		b->inflight++;
	}
	if (req->pending == 0)
		blk_complete(b, req, req->st);
}

/* A kernel short of resources (-EAGAIN) or with completions to reap first
 * (-EBUSY) keeps the SQEs queued: retry on the loop's next turn instead of
 * spinning here with the device lock held. */
static int uring_submit(struct cvmm_virtio_blk *b)
{
	int ret;

	do
		ret = io_uring_submit(&b->ring);
	while (ret == -EINTR);
	if (ret == -EAGAIN || ret == -EBUSY) {
		cvmm_eventfd_signal(b->kick_fd);
		return 0;
	}
	return ret < 0 ? cvmm_err(-ret, "io_uring submit: %s", strerror(-ret)) : 0;
}

/* What one finished host operation means for its request's status. */
static uint8_t uring_op_status(struct cvmm_virtio_blk *b, struct blk_op *op, int res)
{
	struct blk_req *req = op->req;

	switch (req->type) {
	case CVMM_VIRTIO_BLK_T_IN:
	case CVMM_VIRTIO_BLK_T_OUT:
		if (res < 0)
			return CVMM_VIRTIO_BLK_S_IOERR;
		if ((size_t)res < req->len) { /* short transfer: finish it here */
			struct iovec *iov = req->data;
			int n = req->ndata;

			blk_iov_advance(&iov, &n, (size_t)res);
			if (blk_rw_sync(b->fd, iov, n, req->off + (size_t)res,
					req->len - (size_t)res,
					req->type == CVMM_VIRTIO_BLK_T_OUT) < 0)
				return CVMM_VIRTIO_BLK_S_IOERR;
		}
		return CVMM_VIRTIO_BLK_S_OK;
	case CVMM_VIRTIO_BLK_T_FLUSH:
		return res < 0 ? CVMM_VIRTIO_BLK_S_IOERR : CVMM_VIRTIO_BLK_S_OK;
	default:
		/* The filesystem refused the fast way: the careful one, here. */
		if (res < 0)
			return blk_dz_seg_sync(b, req->type == CVMM_VIRTIO_BLK_T_DISCARD,
					       &req->segs[op->seg]);
		return CVMM_VIRTIO_BLK_S_OK;
	}
}

static void uring_op_done(struct cvmm_virtio_blk *b, struct blk_op *op, int res, bool complete)
{
	struct blk_req *req = op->req;

	if (complete) {
		uint8_t st = uring_op_status(b, op, res);

		if (st != CVMM_VIRTIO_BLK_S_OK)
			req->st = st;
	}
	if (--req->pending)
		return;
	if (complete)
		blk_complete(b, req, req->st);
	else
		blk_recycle(b, req);
}

/* Reap what has completed (everything, if wait). A failure while waiting
 * leaves requests in flight: uring_drain() makes that fatal. */
static int uring_reap_checked(struct cvmm_virtio_blk *b, bool complete, bool wait)
{
	const struct timespec backoff = {.tv_nsec = 1000000};
	struct io_uring_cqe *cqe;
	struct blk_op *op;
	int ret, res;

	while (b->inflight) {
		/* Waiting also submits what is still queued, so nothing the
		 * kernel never saw is waited for. -EAGAIN/-EBUSY: reap what is
		 * there (that is what -EBUSY asks for), else back off briefly. */
		ret = wait ? io_uring_submit_and_wait(&b->ring, 1) : 0;
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
			return cvmm_err(-ret, "io_uring wait: %s", strerror(-ret));
		ret = io_uring_peek_cqe(&b->ring, &cqe);
		if (ret == -EAGAIN) {
			if (!wait)
				return 0;
			nanosleep(&backoff, NULL);
			continue;
		}
		if (ret < 0)
			return cvmm_err(-ret, "io_uring completion: %s", strerror(-ret));
		op = io_uring_cqe_get_data(cqe);
		res = cqe->res;
		io_uring_cqe_seen(&b->ring, cqe);
		b->inflight--;
		uring_op_done(b, op, res, complete);
	}
	return 0;
}

static void uring_reap(struct cvmm_virtio_blk *b, bool complete, bool wait)
{
	if (uring_reap_checked(b, complete, wait) < 0) {
		b->dead = true;
		blk_fail(b, cvmm_err_msg());
	}
}

static int uring_drain(struct cvmm_virtio_blk *b, bool complete)
{
	int ret = uring_reap_checked(b, complete, true);

	if (ret < 0)
		b->dead = true;
	return ret;
}

const struct blk_engine blk_engine_uring = {
    .init = uring_init,
    .fini = uring_fini,
    .start = uring_start,
    .submit = uring_submit,
    .drain = uring_drain,
};
