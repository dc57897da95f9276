// SPDX-License-Identifier: Apache-2.0
/* virtio-rng device: setup and device ops. */
#include "rng_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <unistd.h>

#define RNG_DEFAULT_QUEUE 256u

/* The transport requires this op; with config_size 0 it never calls it. */
static void rng_config_read(void *opaque, uint32_t off, void *data, uint32_t len)
{
	(void)opaque;
	(void)off;
	memset(data, 0, len);
}

static int rng_activate(void *opaque, struct cvmm_virtio_transport *t, uint64_t features,
			struct cvmm_virtq *const *queues, unsigned int nr)
{
	struct cvmm_virtio_rng *r = opaque;

	(void)features;
	(void)nr;
	pthread_mutex_lock(&r->lock);
	r->vq = queues[0];
	r->t = t;
	r->failed = false;
	/* Notifications before DRIVER_OK were dropped: look now (older Linux
	 * drivers publish a buffer before setting it). */
	cvmm_eventfd_signal(r->kick_fd);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static void rng_reset(void *opaque)
{
	struct cvmm_virtio_rng *r = opaque;

	atomic_store(&r->reset_pending, true);
	pthread_mutex_lock(&r->lock);
	r->t = NULL;
	r->vq = NULL;
	r->failed = false;
	r->parked = false;
	atomic_store(&r->reset_pending, false);
	pthread_mutex_unlock(&r->lock);
}

static void rng_run(struct cvmm_virtio_rng *r)
{
	pthread_mutex_lock(&r->lock);
	rng_process(r);
	pthread_mutex_unlock(&r->lock);
}

static void rng_limit_timer(int fd, uint32_t events, void *opaque)
{
	struct cvmm_virtio_rng *r = opaque;

	(void)fd;
	(void)events;
	pthread_mutex_lock(&r->lock);
	cvmm_ratelimit_on_timer(r->rl);
	rng_process(r);
	pthread_mutex_unlock(&r->lock);
}

static void rng_queue_notify(void *opaque, unsigned int q)
{
	(void)q;
	rng_run(opaque);
}

static void rng_kick(int fd, uint32_t events, void *opaque)
{
	(void)events;
	cvmm_eventfd_drain(fd, NULL);
	rng_run(opaque);
}

static const struct cvmm_virtio_device_ops rng_ops = {
    .config_read = rng_config_read,
    .activate = rng_activate,
    .reset = rng_reset,
    .queue_notify = rng_queue_notify,
};

static int rng_check_opts(const struct cvmm_virtio_rng_opts *o, uint16_t *qsz)
{
	uint8_t probe;

	if (!o || !o->loop)
		return cvmm_err(EINVAL, "virtio-rng: no event loop");
	*qsz = o->queue_size ? o->queue_size : RNG_DEFAULT_QUEUE;
	if (*qsz < 2 || *qsz > 1024 || (*qsz & (*qsz - 1)))
		return cvmm_err(EINVAL,
				"virtio-rng: queue size %u is not a power of two in 2..1024", *qsz);
	/* Fail here, not in the guest's first request, on a host without it.
	 * EAGAIN only means the CRNG is not seeded yet. */
	while (getrandom(&probe, 1, GRND_NONBLOCK) < 0 && errno != EAGAIN)
		if (errno != EINTR)
			return cvmm_err(errno, "virtio-rng: getrandom: %m");
	return 0;
}

int cvmm_virtio_rng_create(struct cvmm_virtio_rng **out, const struct cvmm_virtio_rng_opts *o)
{
	struct cvmm_virtio_rng *r;
	struct iovec *iov;
	uint16_t qsz = 0;
	int ret;

	ret = rng_check_opts(o, &qsz);
	if (ret < 0)
		return ret;
	r = calloc(1, sizeof(*r));
	iov = calloc(qsz, sizeof(*iov));
	if (!r || !iov) {
		free(r);
		free(iov);
		return cvmm_err(ENOMEM, "virtio-rng: out of memory");
	}
	/* A legal chain has at most queue-size buffers. */
	cvmm_virtq_chain_init(&r->chain, iov, qsz);
	pthread_mutex_init(&r->lock, NULL);
	r->loop = o->loop;
	r->dev = (struct cvmm_virtio_device){
	    .device_id = CVMM_VIRTIO_ID_RNG,
	    .features = CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_INDIRECT_DESC) |
			CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_EVENT_IDX),
	    .nr_queues = 1,
	    .queue_max_size = qsz,
	    .config_size = 0,
	    .ops = &rng_ops,
	    .opaque = r,
	};
	r->kick_fd = cvmm_eventfd_open();
	if (r->kick_fd < 0) {
		ret = r->kick_fd;
		goto fail;
	}
	ret = cvmm_loop_add(r->loop, r->kick_fd, EPOLLIN, rng_kick, r);
	if (ret < 0) {
		close(r->kick_fd);
		goto fail;
	}
	if (o->limit) {
		ret = cvmm_ratelimit_create(&r->rl, o->limit);
		if (ret == 0)
			ret = cvmm_loop_add(r->loop, cvmm_ratelimit_fd(r->rl), EPOLLIN,
					    rng_limit_timer, r);
		if (ret < 0) {
			cvmm_ratelimit_destroy(r->rl);
			cvmm_loop_del(r->loop, r->kick_fd);
			close(r->kick_fd);
			goto fail;
		}
	}
	*out = r;
	return 0;
fail:
	pthread_mutex_destroy(&r->lock);
	free(iov);
	free(r);
	return ret;
}

const struct cvmm_virtio_device *cvmm_virtio_rng_device(struct cvmm_virtio_rng *r)
{
	return &r->dev;
}

void cvmm_virtio_rng_destroy(struct cvmm_virtio_rng *r)
{
	if (!r)
		return;
	cvmm_loop_del(r->loop, r->kick_fd);
	close(r->kick_fd);
	if (r->rl) {
		cvmm_loop_del(r->loop, cvmm_ratelimit_fd(r->rl));
		cvmm_ratelimit_destroy(r->rl);
	}
	pthread_mutex_destroy(&r->lock);
	free(r->chain.iov);
	free(r);
}

void cvmm_virtio_rng_stats(const struct cvmm_virtio_rng *r, struct cvmm_virtio_rng_stats *out)
{
	out->requests = atomic_load_explicit(&r->requests, memory_order_relaxed);
	out->bytes = atomic_load_explicit(&r->bytes, memory_order_relaxed);
}
