// SPDX-License-Identifier: Apache-2.0
/* io_uring engine: reads, writes and flushes complete on the event loop. */
#include "blk_impl.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static void blk_uring_cb(int fd, uint32_t events, void *opaque)
{
	struct cvmm_virtio_blk *b = opaque;
	struct cvmm_virtio_transport *t;

	(void)events;
	cvmm_eventfd_drain(fd, NULL);
	t = __atomic_load_n(&b->t, __ATOMIC_ACQUIRE);
	if (!t)
		return; /* reset already reaped everything */
	cvmm_virtio_lock(t);
	if (b->t == t) {
		blk_uring_reap(b, true, false);
		blk_process(b);
	}
	cvmm_virtio_unlock(t);
}

int blk_uring_init(struct cvmm_virtio_blk *b)
{
	int ret;

	if (!b->loop)
		return cvmm_err(EINVAL, "virtio-blk %s: the io_uring engine needs an event loop",
				b->path);
	ret = io_uring_queue_init(b->nreqs, &b->ring, 0);
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
	return cvmm_loop_add(b->loop, b->efd, EPOLLIN, blk_uring_cb, b);
}

void blk_uring_fini(struct cvmm_virtio_blk *b)
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

bool blk_uring_queue(struct cvmm_virtio_blk *b, struct blk_req *req)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);

	if (!sqe)
		return false;
	if (req->type == CVMM_VIRTIO_BLK_T_FLUSH)
		io_uring_prep_fsync(sqe, b->fd, IORING_FSYNC_DATASYNC);
	else if (req->type == CVMM_VIRTIO_BLK_T_OUT)
		io_uring_prep_writev(sqe, b->fd, req->data, (unsigned int)req->ndata, req->off);
	else
		io_uring_prep_readv(sqe, b->fd, req->data, (unsigned int)req->ndata, req->off);
	io_uring_sqe_set_data(sqe, req);
	b->inflight++;
	return true;
}

int blk_uring_submit(struct cvmm_virtio_blk *b)
{
	int ret;

	do
		ret = io_uring_submit(&b->ring);
	while (ret == -EINTR || ret == -EAGAIN);
	return ret < 0 ? cvmm_err(-ret, "%s", strerror(-ret)) : 0;
}

static void blk_uring_finish(struct cvmm_virtio_blk *b, struct blk_req *req, int res)
{
	bool write = req->type == CVMM_VIRTIO_BLK_T_OUT;
	uint8_t st = CVMM_VIRTIO_BLK_S_OK;

	if (res < 0) {
		st = CVMM_VIRTIO_BLK_S_IOERR;
	} else if (req->type != CVMM_VIRTIO_BLK_T_FLUSH && (size_t)res < req->len) {
		/* Short transfer: finish the rest synchronously. */
		struct iovec *iov = req->data;
		int n = req->ndata;

		blk_iov_advance(&iov, &n, (size_t)res);
		if (blk_rw_sync(b->fd, iov, n, req->off + (size_t)res, req->len - (size_t)res,
				write) < 0)
			st = CVMM_VIRTIO_BLK_S_IOERR;
	}
	if (st != CVMM_VIRTIO_BLK_S_OK)
		req->used_len = 1;
	blk_complete(b, req, st);
}

void blk_uring_reap(struct cvmm_virtio_blk *b, bool complete, bool wait)
{
	struct io_uring_cqe *cqe;

	while (b->inflight) {
		int ret =
		    wait ? io_uring_wait_cqe(&b->ring, &cqe) : io_uring_peek_cqe(&b->ring, &cqe);
		struct blk_req *req;
		int res;

		if (ret == -EINTR)
			continue;
		if (ret < 0)
			return;
		req = io_uring_cqe_get_data(cqe);
		res = cqe->res;
		io_uring_cqe_seen(&b->ring, cqe);
		b->inflight--;
		if (complete) {
			blk_uring_finish(b, req, res);
		} else {
			req->next = b->free;
			b->free = req;
		}
	}
}
