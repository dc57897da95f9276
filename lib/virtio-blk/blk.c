// SPDX-License-Identifier: Apache-2.0
/* virtio-blk device: image setup, config space and device ops. */
#include "blk_impl.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLK_DEFAULT_QUEUE 256u
#define BLK_DEFAULT_INFLIGHT 64u
#define BLK_SIZE_MAX (1u << 20) /* largest single buffer we advertise */

static void put_le32(uint8_t *cfg, unsigned int off, uint32_t v)
{
	v = htole32(v);
	memcpy(cfg + off, &v, 4);
}

static void blk_build_config(struct cvmm_virtio_blk *b)
{
	uint64_t cap = htole64(b->capacity);

	memset(b->config, 0, sizeof(b->config));
	memcpy(b->config + CVMM_VIRTIO_BLK_CFG_CAPACITY, &cap, 8);
	put_le32(b->config, CVMM_VIRTIO_BLK_CFG_SIZE_MAX, BLK_SIZE_MAX);
	/* Two descriptors of a chain carry the header and the status. */
	put_le32(b->config, CVMM_VIRTIO_BLK_CFG_SEG_MAX, b->dev.queue_max_size - 2u);
	put_le32(b->config, CVMM_VIRTIO_BLK_CFG_BLK_SIZE, BLK_SECTOR);
	put_le32(b->config, CVMM_VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS, BLK_MAX_DZ_SECTORS);
	put_le32(b->config, CVMM_VIRTIO_BLK_CFG_MAX_DISCARD_SEG, BLK_MAX_DZ_SEG);
	put_le32(b->config, CVMM_VIRTIO_BLK_CFG_DISCARD_ALIGN, 4096 / BLK_SECTOR);
	put_le32(b->config, CVMM_VIRTIO_BLK_CFG_MAX_WZ_SECTORS, BLK_MAX_DZ_SECTORS);
	put_le32(b->config, CVMM_VIRTIO_BLK_CFG_MAX_WZ_SEG, BLK_MAX_DZ_SEG);
	b->config[CVMM_VIRTIO_BLK_CFG_WZ_MAY_UNMAP] = 1;
}

static void blk_config_read(void *opaque, uint32_t off, void *data, uint32_t len)
{
	struct cvmm_virtio_blk *b = opaque;

	memcpy(data, b->config + off, len);
}

static void blk_free_all(struct cvmm_virtio_blk *b)
{
	b->free = NULL;
	for (unsigned int i = 0; i < b->nreqs; i++) {
		b->reqs[i].next = b->free;
		b->free = &b->reqs[i];
	}
}

static int blk_activate(void *opaque, struct cvmm_virtio_transport *t, uint64_t features,
			struct cvmm_virtq *const *queues, unsigned int nr)
{
	struct cvmm_virtio_blk *b = opaque;

	(void)features;
	(void)nr;
	b->vq = queues[0];
	b->failed = false;
	blk_free_all(b);
	__atomic_store_n(&b->t, t, __ATOMIC_RELEASE);
	return 0;
}

static void blk_reset(void *opaque)
{
	struct cvmm_virtio_blk *b = opaque;

	/* The kernel may still be writing guest buffers: wait, drop results. */
	if (b->engine == CVMM_VIRTIO_BLK_ENGINE_IO_URING)
		blk_uring_reap(b, false, true);
	__atomic_store_n(&b->t, NULL, __ATOMIC_RELEASE);
	b->vq = NULL;
	b->failed = false;
	blk_free_all(b);
}

static void blk_queue_notify(void *opaque, unsigned int q)
{
	(void)q;
	blk_process(opaque);
}

static const struct cvmm_virtio_device_ops blk_ops = {
    .config_read = blk_config_read,
    .activate = blk_activate,
    .reset = blk_reset,
    .queue_notify = blk_queue_notify,
};

static int blk_lock_image(struct cvmm_virtio_blk *b)
{
	struct flock fl = {
	    .l_type = b->ro ? F_RDLCK : F_WRLCK,
	    .l_whence = SEEK_SET,
	};

	if (fcntl(b->fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	if (errno == EAGAIN || errno == EACCES)
		return cvmm_err(EBUSY, "virtio-blk: %s is locked by another user of the image",
				b->path);
	return cvmm_err(errno, "virtio-blk: cannot lock %s: %m", b->path);
}

static int blk_check_opts(const struct cvmm_virtio_blk_opts *o, uint16_t *qsz, unsigned int *reqs)
{
	if (!o || !o->path)
		return cvmm_err(EINVAL, "virtio-blk: no image path");
	*qsz = o->queue_size ? o->queue_size : BLK_DEFAULT_QUEUE;
	if (*qsz < 2 || *qsz > 1024 || (*qsz & (*qsz - 1)))
		return cvmm_err(EINVAL,
				"virtio-blk: queue size %u is not a power of two in 2..1024", *qsz);
	if (o->engine != CVMM_VIRTIO_BLK_ENGINE_IO_URING) {
		*reqs = 1;
		return 0;
	}
	*reqs = o->max_inflight ? o->max_inflight
				: (*qsz < BLK_DEFAULT_INFLIGHT ? *qsz : BLK_DEFAULT_INFLIGHT);
	if (*reqs > *qsz)
		return cvmm_err(EINVAL, "virtio-blk: max_inflight %u exceeds queue size %u", *reqs,
				*qsz);
	return 0;
}

int cvmm_virtio_blk_create(struct cvmm_virtio_blk **out, const struct cvmm_virtio_blk_opts *o)
{
	struct cvmm_virtio_blk *b;
	unsigned int nreqs = 0;
	uint16_t qsz = 0;
	off_t size;
	int ret;

	ret = blk_check_opts(o, &qsz, &nreqs);
	if (ret < 0)
		return ret;
	b = calloc(1, sizeof(*b));
	if (!b)
		return cvmm_err(ENOMEM, "virtio-blk: out of memory");
	b->fd = -1;
	b->efd = -1;
	b->ro = o->read_only;
	b->engine = o->engine;
	b->cache = o->cache;
	b->loop = o->loop;
	b->path = strdup(o->path);
	b->nreqs = nreqs;
	b->reqs = calloc(nreqs, sizeof(*b->reqs));
	if (!b->path || !b->reqs) {
		ret = cvmm_err(ENOMEM, "virtio-blk: out of memory");
		goto fail;
	}
	for (unsigned int i = 0; i < nreqs; i++) {
		struct iovec *iov = calloc(2u * qsz, sizeof(*iov));

		if (!iov) {
			ret = cvmm_err(ENOMEM, "virtio-blk: out of memory");
			goto fail;
		}
		cvmm_virtq_chain_init(&b->reqs[i].chain, iov, qsz);
		b->reqs[i].data = iov + qsz;
	}
	blk_free_all(b);
	if (o->serial)
		memcpy(b->serial, o->serial, strnlen(o->serial, sizeof(b->serial)));
	b->fd = open(o->path, (b->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (b->fd < 0) {
		ret = cvmm_err(errno, "virtio-blk: cannot open %s: %m", o->path);
		goto fail;
	}
	ret = blk_lock_image(b);
	if (ret < 0)
		goto fail;
	size = lseek(b->fd, 0, SEEK_END);
	if (size < 0) {
		ret = cvmm_err(errno, "virtio-blk: cannot size %s: %m", o->path);
		goto fail;
	}
	b->capacity = (uint64_t)size / BLK_SECTOR;
	b->dev = (struct cvmm_virtio_device){
	    .device_id = CVMM_VIRTIO_ID_BLOCK,
	    .features = CVMM_VIRTIO_BIT(CVMM_VIRTIO_BLK_F_SIZE_MAX) |
			CVMM_VIRTIO_BIT(CVMM_VIRTIO_BLK_F_SEG_MAX) |
			CVMM_VIRTIO_BIT(CVMM_VIRTIO_BLK_F_BLK_SIZE) |
			CVMM_VIRTIO_BIT(CVMM_VIRTIO_BLK_F_FLUSH) |
			CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_INDIRECT_DESC) |
			CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_EVENT_IDX) |
			(b->ro ? CVMM_VIRTIO_BIT(CVMM_VIRTIO_BLK_F_RO)
			       : CVMM_VIRTIO_BIT(CVMM_VIRTIO_BLK_F_DISCARD) |
				     CVMM_VIRTIO_BIT(CVMM_VIRTIO_BLK_F_WRITE_ZEROES)),
	    .nr_queues = 1,
	    .queue_max_size = qsz,
	    .config_size = CVMM_VIRTIO_BLK_CFG_SIZE,
	    .ops = &blk_ops,
	    .opaque = b,
	};
	blk_build_config(b);
	if (b->engine == CVMM_VIRTIO_BLK_ENGINE_IO_URING) {
		ret = blk_uring_init(b);
		if (ret < 0)
			goto fail;
	}
	*out = b;
	return 0;
fail:
	cvmm_virtio_blk_destroy(b);
	return ret;
}

const struct cvmm_virtio_device *cvmm_virtio_blk_device(struct cvmm_virtio_blk *b)
{
	return &b->dev;
}

uint64_t cvmm_virtio_blk_capacity(const struct cvmm_virtio_blk *b)
{
	return b->capacity;
}

int cvmm_virtio_blk_flush(struct cvmm_virtio_blk *b)
{
	struct cvmm_virtio_transport *t = __atomic_load_n(&b->t, __ATOMIC_ACQUIRE);

	if (t && b->engine == CVMM_VIRTIO_BLK_ENGINE_IO_URING) {
		cvmm_virtio_lock(t);
		if (b->t == t) {
			blk_uring_reap(b, true, true);
			cvmm_virtio_notify_used(t, 0);
		}
		cvmm_virtio_unlock(t);
	}
	if (b->fd >= 0 && !b->ro && fdatasync(b->fd) < 0)
		return cvmm_err(errno, "virtio-blk: fdatasync %s: %m", b->path);
	return 0;
}

void cvmm_virtio_blk_destroy(struct cvmm_virtio_blk *b)
{
	if (!b)
		return;
	if (b->fd >= 0)
		cvmm_virtio_blk_flush(b);
	if (b->ring_ok && b->inflight)
		blk_uring_reap(b, false, true);
	blk_uring_fini(b);
	if (b->fd >= 0)
		close(b->fd); /* also drops the OFD lock */
	for (unsigned int i = 0; b->reqs && i < b->nreqs; i++)
		free(b->reqs[i].chain.iov);
	free(b->reqs);
	free(b->path);
	free(b);
}
