// SPDX-License-Identifier: Apache-2.0
/* Sync engine: each request runs to completion on the device loop's thread
 * (the monitor gives every disk its own), so nothing is ever in flight. */
#include "blk_impl.h"

#include <unistd.h>

static int sync_init(struct cvmm_virtio_blk *b)
{
	(void)b;
	return 0;
}

static void sync_fini(struct cvmm_virtio_blk *b)
{
	(void)b;
}

static void sync_start(struct cvmm_virtio_blk *b, struct blk_req *req)
{
	uint8_t st = CVMM_VIRTIO_BLK_S_OK;

	switch (req->type) {
	case CVMM_VIRTIO_BLK_T_IN:
	case CVMM_VIRTIO_BLK_T_OUT:
		if (blk_rw_sync(b->fd, req->data, req->ndata, req->off, req->len,
				req->type == CVMM_VIRTIO_BLK_T_OUT) < 0)
			st = CVMM_VIRTIO_BLK_S_IOERR;
		break;
	case CVMM_VIRTIO_BLK_T_FLUSH:
		if (fdatasync(b->fd) < 0)
			st = CVMM_VIRTIO_BLK_S_IOERR;
		break;
	default: /* DISCARD, WRITE_ZEROES */
		for (unsigned int i = 0; i < req->nseg && st == CVMM_VIRTIO_BLK_S_OK; i++)
			st = blk_dz_seg_sync(b, req->type == CVMM_VIRTIO_BLK_T_DISCARD,
					     &req->segs[i]);
		break;
	}
	blk_complete(b, req, st);
}

static int sync_submit(struct cvmm_virtio_blk *b)
{
	(void)b;
	return 0;
}

static int sync_drain(struct cvmm_virtio_blk *b, bool complete)
{
	(void)b;
	(void)complete;
	return 0;
}

const struct blk_engine blk_engine_sync = {
    .init = sync_init,
    .fini = sync_fini,
    .start = sync_start,
    .submit = sync_submit,
    .drain = sync_drain,
};
