// SPDX-License-Identifier: Apache-2.0
/* virtio-blk device: image setup, config space and device ops. */
#include "blk_impl.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
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

/* cvmm_virtio_blk_swap_image() rewrites the capacity. */
static void blk_config_read(void *opaque, uint32_t off, void *data, uint32_t len)
{
	struct cvmm_virtio_blk *b = opaque;

	pthread_mutex_lock(&b->cfg_lock);
	memcpy(data, b->config + off, len);
	pthread_mutex_unlock(&b->cfg_lock);
}

static void blk_free_all(struct cvmm_virtio_blk *b)
{
	b->free = NULL;
	for (unsigned int i = 0; i < b->nreqs; i++)
		blk_recycle(b, &b->reqs[i]);
}

static int blk_activate(void *opaque, struct cvmm_virtio_transport *t, uint64_t features,
			struct cvmm_virtq *const *queues, unsigned int nr)
{
	struct cvmm_virtio_blk *b = opaque;
	int ret = 0;

	(void)features;
	(void)nr;
	pthread_mutex_lock(&b->lock);
	if (b->dead) {
		ret = cvmm_err(EIO, "virtio-blk %s: lost track of in-flight I/O earlier", b->path);
	} else {
		b->vq = queues[0];
		b->t = t;
		b->failed = false;
		blk_free_all(b);
		/* Notifications before DRIVER_OK were dropped: look now. */
		cvmm_eventfd_signal(b->kick_fd);
	}
	pthread_mutex_unlock(&b->lock);
	return ret;
}

/* Never returns while the kernel may still write into guest buffers. */
static void blk_reset(void *opaque)
{
	struct cvmm_virtio_blk *b = opaque;

	atomic_store(&b->reset_pending, true);
	pthread_mutex_lock(&b->lock);
	if (b->engine->drain(b, false) < 0)
		blk_fail(b, cvmm_err_msg()); /* dead: activate refuses from now on */
	b->t = NULL;
	b->vq = NULL;
	b->parked = NULL; /* never started: blk_free_all() takes it back */
	b->failed = false;
	if (!b->dead)
		blk_free_all(b);
	atomic_store(&b->reset_pending, false);
	pthread_mutex_unlock(&b->lock);
}

static void blk_run(struct cvmm_virtio_blk *b)
{
	pthread_mutex_lock(&b->lock);
	blk_process(b);
	pthread_mutex_unlock(&b->lock);
}

static void blk_queue_notify(void *opaque, unsigned int q)
{
	(void)q;
	blk_run(opaque);
}

static void blk_kick(int fd, uint32_t events, void *opaque)
{
	(void)events;
	cvmm_eventfd_drain(fd, NULL);
	blk_run(opaque);
}

static void blk_limit_timer(int fd, uint32_t events, void *opaque)
{
	struct cvmm_virtio_blk *b = opaque;

	(void)fd;
	(void)events;
	pthread_mutex_lock(&b->lock);
	cvmm_ratelimit_on_timer(b->rl);
	blk_process(b);
	pthread_mutex_unlock(&b->lock);
}

static const struct cvmm_virtio_device_ops blk_ops = {
    .config_read = blk_config_read,
    .activate = blk_activate,
    .reset = blk_reset,
    .queue_notify = blk_queue_notify,
};

static int blk_lock_image(int fd, bool ro, const char *path)
{
	struct flock fl = {
	    .l_type = ro ? F_RDLCK : F_WRLCK,
	    .l_whence = SEEK_SET,
	};

	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	if (errno == EAGAIN || errno == EACCES)
		return cvmm_err(EBUSY, "virtio-blk: %s is locked by another user of the image",
				path);
	return cvmm_err(errno, "virtio-blk: cannot lock %s: %m", path);
}

/* Open, lock and size an image: *fd and *sectors, or -errno with nothing open. */
static int blk_open_image(const char *path, bool ro, int *fd, uint64_t *sectors)
{
	off_t size = -1;
	int ret;

	*fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (*fd < 0)
		return cvmm_err(errno, "virtio-blk: cannot open %s: %m", path);
	ret = blk_lock_image(*fd, ro, path);
	if (ret == 0 && (size = lseek(*fd, 0, SEEK_END)) < 0)
		ret = cvmm_err(errno, "virtio-blk: cannot size %s: %m", path);
	if (ret < 0) {
		close(*fd);
		*fd = -1;
		return ret;
	}
	*sectors = (uint64_t)size / BLK_SECTOR;
	return 0;
}

static int blk_check_opts(const struct cvmm_virtio_blk_opts *o, uint16_t *qsz, unsigned int *reqs)
{
	if (!o || !o->path)
		return cvmm_err(EINVAL, "virtio-blk: no image path");
	if (!o->loop)
		return cvmm_err(EINVAL, "virtio-blk %s: no event loop", o->path);
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
	int ret;

	ret = blk_check_opts(o, &qsz, &nreqs);
	if (ret < 0)
		return ret;
	b = calloc(1, sizeof(*b));
	if (!b)
		return cvmm_err(ENOMEM, "virtio-blk: out of memory");
	b->fd = -1;
	b->efd = -1;
	b->kick_fd = -1;
	pthread_mutex_init(&b->lock, NULL);
	pthread_mutex_init(&b->cfg_lock, NULL);
	b->ro = o->read_only;
	b->engine =
	    o->engine == CVMM_VIRTIO_BLK_ENGINE_IO_URING ? &blk_engine_uring : &blk_engine_sync;
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
	ret = blk_open_image(o->path, b->ro, &b->fd, &b->capacity);
	if (ret < 0)
		goto fail;
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
	ret = cvmm_eventfd_open();
	if (ret < 0)
		goto fail;
	b->kick_fd = ret;
	ret = cvmm_loop_add(b->loop, b->kick_fd, EPOLLIN, blk_kick, b);
	if (ret < 0) {
		close(b->kick_fd);
		b->kick_fd = -1;
		goto fail;
	}
	if (o->limit) {
		ret = cvmm_ratelimit_create(&b->rl, o->limit);
		if (ret < 0)
			goto fail;
		ret = cvmm_loop_add(b->loop, cvmm_ratelimit_fd(b->rl), EPOLLIN, blk_limit_timer, b);
		if (ret < 0) {
			cvmm_ratelimit_destroy(b->rl);
			b->rl = NULL;
			goto fail;
		}
	}
	ret = b->engine->init(b);
	if (ret < 0)
		goto fail;
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

int cvmm_virtio_blk_set_limit(struct cvmm_virtio_blk *b, const struct cvmm_ratelimit_bucket *bytes,
			      const struct cvmm_ratelimit_bucket *ops)
{
	int ret;

	if (!b->rl)
		return cvmm_err(EINVAL, "virtio-blk %s: created without a rate limit", b->path);
	pthread_mutex_lock(&b->lock);
	ret = cvmm_ratelimit_update(b->rl, bytes, ops);
	pthread_mutex_unlock(&b->lock);
	return ret;
}

uint64_t cvmm_virtio_blk_capacity(const struct cvmm_virtio_blk *b)
{
	struct cvmm_virtio_blk *m = (struct cvmm_virtio_blk *)b; /* the lock only */
	uint64_t cap;

	pthread_mutex_lock(&m->cfg_lock);
	cap = b->capacity;
	pthread_mutex_unlock(&m->cfg_lock);
	return cap;
}

/* Whether a checked request's sectors lie within a capacity (FLUSH has none). */
static bool blk_req_fits(const struct blk_req *req, uint64_t sectors)
{
	switch (req->type) {
	case CVMM_VIRTIO_BLK_T_IN:
	case CVMM_VIRTIO_BLK_T_OUT:
		return req->off + req->len <= sectors * BLK_SECTOR;
	case CVMM_VIRTIO_BLK_T_DISCARD:
	case CVMM_VIRTIO_BLK_T_WRITE_ZEROES:
		for (unsigned int i = 0; i < req->nseg; i++)
			if (req->segs[i].sector > sectors ||
			    req->segs[i].num_sectors > sectors - req->segs[i].sector)
				return false;
		return true;
	default:
		return true;
	}
}

int cvmm_virtio_blk_swap_image(struct cvmm_virtio_blk *b, const char *path)
{
	char *new_path = strdup(path), *old_path;
	uint64_t sectors = 0;
	int fd = -1, old_fd, ret;

	if (!new_path)
		return cvmm_err(ENOMEM, "virtio-blk: out of memory");
	/* The new image is ready before the device is touched: a failure
	 * leaves the guest on the old one. */
	ret = blk_open_image(path, b->ro, &fd, &sectors);
	if (ret < 0) {
		free(new_path);
		return ret;
	}
	pthread_mutex_lock(&b->lock);
	if (b->t && b->engine->drain(b, true) < 0)
		blk_fail(b, cvmm_err_msg());
	if (b->dead) {
		ret = cvmm_err(EIO, "virtio-blk %s: lost track of in-flight I/O", b->path);
		pthread_mutex_unlock(&b->lock);
		close(fd);
		free(new_path);
		return ret;
	}
	/* A request waiting for the limiter was checked against the old capacity. */
	if (b->parked && !blk_req_fits(b->parked, sectors)) {
		blk_complete(b, b->parked, CVMM_VIRTIO_BLK_S_IOERR);
		b->parked = NULL;
	}
	old_fd = b->fd;
	old_path = b->path;
	b->fd = fd;
	b->path = new_path;
	/* The generation changes with the bytes, so a driver's two-part read
	 * of the capacity that straddles them is retried. */
	pthread_mutex_lock(&b->cfg_lock);
	b->capacity = sectors;
	blk_build_config(b);
	if (b->t)
		cvmm_virtio_config_changed(b->t);
	pthread_mutex_unlock(&b->cfg_lock);
	if (b->t) {
		cvmm_virtio_notify_used(b->t, 0);
		cvmm_eventfd_signal(b->kick_fd); /* requests that waited for the drain */
	}
	pthread_mutex_unlock(&b->lock);
	close(old_fd); /* also drops its lock */
	free(old_path);
	return 0;
}

int cvmm_virtio_blk_flush(struct cvmm_virtio_blk *b)
{
	bool dead;
	int ret = 0;

	pthread_mutex_lock(&b->lock);
	if (b->t) {
		if (b->engine->drain(b, true) < 0)
			blk_fail(b, cvmm_err_msg());
		cvmm_virtio_notify_used(b->t, 0);
	}
	dead = b->dead;
	/* Under the lock: a swap may replace the image otherwise. */
	if (b->fd >= 0 && !b->ro && fdatasync(b->fd) < 0)
		ret = cvmm_err(errno, "virtio-blk: fdatasync %s: %m", b->path);
	else if (dead)
		ret = cvmm_err(EIO, "virtio-blk %s: requests lost in flight", b->path);
	pthread_mutex_unlock(&b->lock);
	return ret;
}

void cvmm_virtio_blk_destroy(struct cvmm_virtio_blk *b)
{
	if (!b)
		return;
	if (b->fd >= 0)
		cvmm_virtio_blk_flush(b);
	if (b->engine)
		b->engine->fini(b);
	if (b->kick_fd >= 0) {
		cvmm_loop_del(b->loop, b->kick_fd);
		close(b->kick_fd);
	}
	if (b->rl) {
		cvmm_loop_del(b->loop, cvmm_ratelimit_fd(b->rl));
		cvmm_ratelimit_destroy(b->rl);
	}
	if (b->fd >= 0)
		close(b->fd); /* also drops the OFD lock */
	for (unsigned int i = 0; b->reqs && i < b->nreqs; i++)
		free(b->reqs[i].chain.iov);
	pthread_mutex_destroy(&b->lock);
	pthread_mutex_destroy(&b->cfg_lock);
	free(b->reqs);
	free(b->path);
	free(b);
}

void cvmm_virtio_blk_stats(const struct cvmm_virtio_blk *b, struct cvmm_virtio_blk_stats *out)
{
	struct cvmm_virtio_blk *m = (struct cvmm_virtio_blk *)b; /* atomics: loads only */

	*out = (struct cvmm_virtio_blk_stats){
	    .read_ops = atomic_load_explicit(&m->st_read_ops, memory_order_relaxed),
	    .read_bytes = atomic_load_explicit(&m->st_read_bytes, memory_order_relaxed),
	    .write_ops = atomic_load_explicit(&m->st_write_ops, memory_order_relaxed),
	    .write_bytes = atomic_load_explicit(&m->st_write_bytes, memory_order_relaxed),
	    .flush_ops = atomic_load_explicit(&m->st_flush_ops, memory_order_relaxed),
	    .other_ops = atomic_load_explicit(&m->st_other_ops, memory_order_relaxed),
	    .errors = atomic_load_explicit(&m->st_errors, memory_order_relaxed),
	};
}
