// SPDX-License-Identifier: Apache-2.0
/* virtio-net device: options, config space, device ops and loop callbacks. */
#include "net_impl.h"

#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define NET_DEFAULT_QUEUE 256u
#define NET_MAX_QUEUE 512u

/* Ring features vhost must support too (it runs the rings). */
#define NET_RING_FEATURES                                                                          \
	(CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_EVENT_IDX) | CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_INDIRECT_DESC) |  \
	 CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_MRG_RXBUF))

void net_fail(struct cvmm_virtio_net *n, const char *what)
{
	n->failed = true;
	cvmm_virtio_fail(n->t, "virtio-net: %s", what);
}

static void net_config_read(void *opaque, uint32_t off, void *data, uint32_t len)
{
	struct cvmm_virtio_net *n = opaque;

	memcpy(data, n->config + off, len);
}

static void net_set_offload(struct cvmm_virtio_net *n, uint64_t features)
{
	/* A back end refusing offloads keeps sending plain frames: still correct. */
	if (n->be.ops->set_offload)
		n->be.ops->set_offload(n->be.opaque, cvmm_virtio_net_tun_offloads(features));
}

static int net_activate(void *opaque, struct cvmm_virtio_transport *t, uint64_t features,
			struct cvmm_virtq *const *queues, unsigned int nr)
{
	struct cvmm_virtio_net *n = opaque;
	int ret = 0;

	(void)nr;
	pthread_mutex_lock(&n->lock);
	n->t = t;
	n->features = features;
	n->failed = false;
	if (n->vhost) {
		ret = net_vhost_start(n, queues);
		if (ret < 0)
			n->t = NULL;
	} else {
		n->rxq = queues[CVMM_VIRTIO_NET_RXQ];
		n->txq = queues[CVMM_VIRTIO_NET_TXQ];
		n->rx_need = net_rx_need(features, n->mtu);
		net_rx_forget(n);
		/* The loop thread starts RX (it alone changes the fd's events). */
		cvmm_eventfd_signal(n->kick_fd);
	}
	if (ret == 0)
		net_set_offload(n, features);
	pthread_mutex_unlock(&n->lock);
	return ret;
}

/* Never returns while the device or vhost may still touch guest buffers:
 * the userspace data path runs under the lock; vhost is detached first. */
static void net_reset(void *opaque)
{
	struct cvmm_virtio_net *n = opaque;

	atomic_store(&n->reset_pending, true);
	pthread_mutex_lock(&n->lock);
	if (n->vhost)
		net_vhost_stop(n);
	n->t = NULL;
	n->rxq = NULL;
	n->txq = NULL;
	n->features = 0;
	n->failed = false;
	n->tx_parked = false;
	net_rx_forget(n);
	net_set_offload(n, 0);
	atomic_store(&n->reset_pending, false);
	pthread_mutex_unlock(&n->lock);
}

static void net_queue_notify(void *opaque, unsigned int q)
{
	struct cvmm_virtio_net *n = opaque;

	pthread_mutex_lock(&n->lock);
	if (q == CVMM_VIRTIO_NET_RXQ)
		net_rx_process(n);
	else
		net_tx_process(n);
	pthread_mutex_unlock(&n->lock);
}

static void net_kick(int fd, uint32_t events, void *opaque)
{
	struct cvmm_virtio_net *n = opaque;

	(void)events;
	cvmm_eventfd_drain(fd, NULL);
	pthread_mutex_lock(&n->lock);
	net_rx_process(n);
	net_tx_process(n);
	pthread_mutex_unlock(&n->lock);
}

static void net_backend_readable(int fd, uint32_t events, void *opaque)
{
	struct cvmm_virtio_net *n = opaque;

	(void)fd;
	(void)events;
	pthread_mutex_lock(&n->lock);
	net_rx_process(n);
	pthread_mutex_unlock(&n->lock);
}

static void net_rx_timer(int fd, uint32_t events, void *opaque)
{
	struct cvmm_virtio_net *n = opaque;

	(void)fd;
	(void)events;
	pthread_mutex_lock(&n->lock);
	cvmm_ratelimit_on_timer(n->rx_rl);
	net_rx_process(n);
	pthread_mutex_unlock(&n->lock);
}

static void net_tx_timer(int fd, uint32_t events, void *opaque)
{
	struct cvmm_virtio_net *n = opaque;

	(void)fd;
	(void)events;
	pthread_mutex_lock(&n->lock);
	cvmm_ratelimit_on_timer(n->tx_rl);
	net_tx_process(n);
	pthread_mutex_unlock(&n->lock);
}

static const struct cvmm_virtio_device_ops net_ops = {
    .config_read = net_config_read,
    .activate = net_activate,
    .reset = net_reset,
    .queue_notify = net_queue_notify,
};

static int net_check_opts(const struct cvmm_virtio_net_opts *o, uint16_t *qsz)
{
	const struct cvmm_virtio_net_backend *be = o ? o->backend : NULL;

	if (!be || !be->ops || be->fd < 0)
		return cvmm_err(EINVAL, "virtio-net: no back end");
	if (!o->loop)
		return cvmm_err(EINVAL, "virtio-net: no event loop");
	if (!o->vhost_path && (!be->ops->recv || !be->ops->send))
		return cvmm_err(EINVAL, "virtio-net: back end without recv/send");
	if (o->mtu && o->mtu < 68)
		return cvmm_err(EINVAL, "virtio-net: mtu %u is not in 68..65535", o->mtu);
	*qsz = o->queue_size ? o->queue_size : NET_DEFAULT_QUEUE;
	if (*qsz < 2 || *qsz > NET_MAX_QUEUE || (*qsz & (*qsz - 1)))
		return cvmm_err(EINVAL, "virtio-net: queue size %u is not a power of two in 2..%u",
				*qsz, NET_MAX_QUEUE);
	if (o->vhost_path && (o->rx_limit || o->tx_limit))
		return cvmm_err(EINVAL, "virtio-net: rate limits are not supported with vhost");
	if (o->vhost_path && !o->mem)
		return cvmm_err(EINVAL, "virtio-net: vhost needs the guest memory");
	return 0;
}

static void net_build_config(struct cvmm_virtio_net *n, const struct cvmm_virtio_net_opts *o)
{
	uint16_t v;

	if (o->mac)
		memcpy(n->config + CVMM_VIRTIO_NET_CFG_MAC, o->mac, 6);
	v = htole16(CVMM_VIRTIO_NET_S_LINK_UP);
	memcpy(n->config + CVMM_VIRTIO_NET_CFG_STATUS, &v, 2);
	v = htole16(1);
	memcpy(n->config + CVMM_VIRTIO_NET_CFG_MAX_PAIRS, &v, 2);
	v = htole16(o->mtu);
	memcpy(n->config + CVMM_VIRTIO_NET_CFG_MTU, &v, 2);
}

static uint64_t net_features(const struct cvmm_virtio_net_opts *o)
{
	uint64_t f = CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_CSUM) |
		     CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_GUEST_CSUM) |
		     CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_GUEST_TSO4) |
		     CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_GUEST_TSO6) |
		     CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_GUEST_UFO) |
		     CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_HOST_TSO4) |
		     CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_HOST_TSO6) |
		     CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_HOST_UFO) |
		     CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_STATUS) | NET_RING_FEATURES;

	if (o->mac)
		f |= CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_MAC);
	if (o->mtu)
		f |= CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_MTU);
	return f;
}

static int net_add_limit(struct cvmm_virtio_net *n, const struct cvmm_ratelimit_cfg *cfg,
			 struct cvmm_ratelimit **rl, cvmm_loop_fn fn)
{
	int ret;

	if (!cfg)
		return 0;
	ret = cvmm_ratelimit_create(rl, cfg);
	if (ret < 0)
		return ret;
	ret = cvmm_loop_add(n->loop, cvmm_ratelimit_fd(*rl), EPOLLIN, fn, n);
	if (ret < 0) {
		cvmm_ratelimit_destroy(*rl);
		*rl = NULL;
	}
	return ret;
}

static int net_alloc(struct cvmm_virtio_net *n)
{
	struct iovec *iov;

	n->rx = calloc(n->qsz, sizeof(*n->rx));
	/* Chains may use every descriptor of the ring: qsz iovecs each. Pages
	 * are touched only as far as chains reach. */
	iov = calloc((size_t)n->qsz * (n->qsz + 1u), sizeof(*iov));
	n->rx_iov = calloc(IOV_MAX, sizeof(*n->rx_iov));
	n->tx_out = calloc(n->qsz + 1u, sizeof(*n->tx_out));
	if (!n->rx || !iov || !n->rx_iov || !n->tx_out) {
		free(iov);
		return cvmm_err(ENOMEM, "virtio-net: out of memory");
	}
	for (unsigned int i = 0; i < n->qsz; i++)
		cvmm_virtq_chain_init(&n->rx[i], iov + (size_t)i * n->qsz, n->qsz);
	cvmm_virtq_chain_init(&n->tx, iov + (size_t)n->qsz * n->qsz, n->qsz);
	return 0;
}

int cvmm_virtio_net_create(struct cvmm_virtio_net **out, const struct cvmm_virtio_net_opts *o)
{
	struct cvmm_virtio_net *n;
	uint16_t qsz = 0;
	int ret;

	ret = net_check_opts(o, &qsz);
	if (ret < 0)
		return ret;
	n = calloc(1, sizeof(*n));
	if (!n)
		return cvmm_err(ENOMEM, "virtio-net: out of memory");
	n->kick_fd = -1;
	n->call_fd = -1;
	pthread_mutex_init(&n->lock, NULL);
	n->be = *o->backend;
	n->loop = o->loop;
	n->mem = o->mem;
	n->qsz = qsz;
	n->mtu = o->mtu;
	net_build_config(n, o);
	n->dev = (struct cvmm_virtio_device){
	    .device_id = CVMM_VIRTIO_ID_NET,
	    .features = net_features(o),
	    .nr_queues = 2,
	    .queue_max_size = qsz,
	    .config_size = CVMM_VIRTIO_NET_CFG_SIZE,
	    .ops = &net_ops,
	    .opaque = n,
	};
	ret = net_alloc(n);
	if (ret < 0)
		goto fail;
	if (o->vhost_path) {
		ret = net_vhost_init(n, o->vhost_path);
		if (ret < 0)
			goto fail;
		n->dev.external_queues = 3;
		n->dev.features &= ~(NET_RING_FEATURES & ~cvmm_vhost_features(n->vhost));
		*out = n;
		return 0;
	}
	ret = cvmm_eventfd_open();
	if (ret < 0)
		goto fail;
	n->kick_fd = ret;
	ret = cvmm_loop_add(n->loop, n->kick_fd, EPOLLIN, net_kick, n);
	if (ret < 0) {
		close(n->kick_fd);
		n->kick_fd = -1;
		goto fail;
	}
	/* Paused until the guest posts receive buffers. */
	ret = cvmm_loop_add(n->loop, n->be.fd, 0, net_backend_readable, n);
	if (ret < 0)
		goto fail;
	n->be_subscribed = true;
	ret = net_add_limit(n, o->rx_limit, &n->rx_rl, net_rx_timer);
	if (ret == 0)
		ret = net_add_limit(n, o->tx_limit, &n->tx_rl, net_tx_timer);
	if (ret < 0)
		goto fail;
	*out = n;
	return 0;
fail:
	cvmm_virtio_net_destroy(n);
	return ret;
}

const struct cvmm_virtio_device *cvmm_virtio_net_device(struct cvmm_virtio_net *n)
{
	return &n->dev;
}

int cvmm_virtio_net_set_limit(struct cvmm_virtio_net *n, bool rx,
			      const struct cvmm_ratelimit_bucket *bytes,
			      const struct cvmm_ratelimit_bucket *ops)
{
	struct cvmm_ratelimit *rl = rx ? n->rx_rl : n->tx_rl;
	int ret;

	if (!rl)
		return cvmm_err(EINVAL, "virtio-net: created without a %s rate limit",
				rx ? "rx" : "tx");
	pthread_mutex_lock(&n->lock);
	ret = cvmm_ratelimit_update(rl, bytes, ops);
	pthread_mutex_unlock(&n->lock);
	return ret;
}

void cvmm_virtio_net_stats(const struct cvmm_virtio_net *n, struct cvmm_virtio_net_stats *out)
{
	const struct net_counters *c = &n->cnt;

	*out = (struct cvmm_virtio_net_stats){
	    .rx_frames = atomic_load_explicit(&c->rx_frames, memory_order_relaxed),
	    .rx_bytes = atomic_load_explicit(&c->rx_bytes, memory_order_relaxed),
	    .tx_frames = atomic_load_explicit(&c->tx_frames, memory_order_relaxed),
	    .tx_bytes = atomic_load_explicit(&c->tx_bytes, memory_order_relaxed),
	    .rx_drop_oversize = atomic_load_explicit(&c->rx_drop_oversize, memory_order_relaxed),
	    .rx_drop_bad_buffer =
		atomic_load_explicit(&c->rx_drop_bad_buffer, memory_order_relaxed),
	    .rx_drop_backend = atomic_load_explicit(&c->rx_drop_backend, memory_order_relaxed),
	    .tx_drop_oversize = atomic_load_explicit(&c->tx_drop_oversize, memory_order_relaxed),
	    .tx_drop_short = atomic_load_explicit(&c->tx_drop_short, memory_order_relaxed),
	    .tx_drop_bad_header =
		atomic_load_explicit(&c->tx_drop_bad_header, memory_order_relaxed),
	    .tx_drop_backend = atomic_load_explicit(&c->tx_drop_backend, memory_order_relaxed),
	};
}

void cvmm_virtio_net_destroy(struct cvmm_virtio_net *n)
{
	if (!n)
		return;
	net_vhost_fini(n);
	if (n->kick_fd >= 0) {
		cvmm_loop_del(n->loop, n->kick_fd);
		close(n->kick_fd);
	}
	if (n->be_subscribed)
		cvmm_loop_del(n->loop, n->be.fd);
	if (n->rx_rl) {
		cvmm_loop_del(n->loop, cvmm_ratelimit_fd(n->rx_rl));
		cvmm_ratelimit_destroy(n->rx_rl);
	}
	if (n->tx_rl) {
		cvmm_loop_del(n->loop, cvmm_ratelimit_fd(n->tx_rl));
		cvmm_ratelimit_destroy(n->tx_rl);
	}
	if (n->rx)
		free(n->rx[0].iov);
	free(n->rx);
	free(n->rx_iov);
	free(n->tx_out);
	pthread_mutex_destroy(&n->lock);
	free(n);
}
