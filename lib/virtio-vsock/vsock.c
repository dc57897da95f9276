// SPDX-License-Identifier: Apache-2.0
/* virtio-vsock device: setup, device ops and loop callbacks. */
#include "vsock_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define VSOCK_DEFAULT_QUEUE 256u
#define VSOCK_DEFAULT_CONNS 256u
#define VSOCK_DEFAULT_BUF (256u * 1024)
#define VSOCK_DEFAULT_TIMEOUT_MS 5000u

static void vsock_config_read(void *opaque, uint32_t off, void *data, uint32_t len)
{
	struct cvmm_virtio_vsock *v = opaque;

	/* The transport checked off + len <= config_size (8). */
	memcpy(data, v->config + off, len);
}

/* Every connection is forgotten: sockets are closed on the loop thread. */
static void vsock_forget_all(struct cvmm_virtio_vsock *v)
{
	for (unsigned int i = 0; i < v->max_conns; i++)
		if (v->conns[i].state != CONN_FREE)
			v->conns[i].dead = true;
	v->list_head = v->list_tail = NULL;
	v->nr_orphans = 0;
	v->need_reap = true;
	cvmm_eventfd_signal(v->kick_fd);
}

static int vsock_activate(void *opaque, struct cvmm_virtio_transport *t, uint64_t features,
			  struct cvmm_virtq *const *queues, unsigned int nr)
{
	struct cvmm_virtio_vsock *v = opaque;
	int ret = 0;

	(void)nr;
	pthread_mutex_lock(&v->lock);
	for (unsigned int q = 0; q < 3; q++)
		v->vq[q] = queues[q];
	v->t = t;
	v->features = features;
	v->failed = false;
	v->rx_held = v->tx_held = false;
	if (v->vhost_mode)
		ret = vsock_vhost_start(v);
	if (ret < 0)
		v->t = NULL;
	else
		cvmm_eventfd_signal(v->kick_fd);
	pthread_mutex_unlock(&v->lock);
	return ret;
}

static void vsock_reset(void *opaque)
{
	struct cvmm_virtio_vsock *v = opaque;

	pthread_mutex_lock(&v->lock);
	if (v->vhost_mode)
		vsock_vhost_stop(v);
	v->t = NULL;
	memset(v->vq, 0, sizeof(v->vq));
	v->rx_held = v->tx_held = false;
	v->failed = false;
	vsock_forget_all(v);
	pthread_mutex_unlock(&v->lock);
}

static void vsock_queue_notify(void *opaque, unsigned int q)
{
	struct cvmm_virtio_vsock *v = opaque;

	pthread_mutex_lock(&v->lock);
	vsock_reap(v);
	if (q == VQ_TX)
		vsock_tx_run(v);
	/* rx buffers, or tx replies owed: either way the rx path may move. */
	vsock_rx_run(v);
	pthread_mutex_unlock(&v->lock);
}

static const struct cvmm_virtio_device_ops vsock_ops = {
    .config_read = vsock_config_read,
    .activate = vsock_activate,
    .reset = vsock_reset,
    .queue_notify = vsock_queue_notify,
};

static void vsock_kick(int fd, uint32_t events, void *opaque)
{
	struct cvmm_virtio_vsock *v = opaque;

	(void)events;
	cvmm_eventfd_drain(fd, NULL);
	pthread_mutex_lock(&v->lock);
	vsock_reap(v);
	vsock_tx_run(v);
	vsock_rx_run(v);
	pthread_mutex_unlock(&v->lock);
}

static void vsock_listen_cb(int fd, uint32_t events, void *opaque)
{
	struct cvmm_virtio_vsock *v = opaque;

	(void)fd;
	(void)events;
	pthread_mutex_lock(&v->lock);
	vsock_reap(v);
	vsock_accept(v);
	pthread_mutex_unlock(&v->lock);
}

static void vsock_timer_cb(int fd, uint32_t events, void *opaque)
{
	struct cvmm_virtio_vsock *v = opaque;

	(void)fd;
	(void)events;
	pthread_mutex_lock(&v->lock);
	vsock_reap(v);
	vsock_timers(v);
	vsock_rx_run(v);
	pthread_mutex_unlock(&v->lock);
}

static void vsock_limit_cb(int fd, uint32_t events, void *opaque)
{
	struct cvmm_virtio_vsock *v = opaque;

	(void)fd;
	(void)events;
	pthread_mutex_lock(&v->lock);
	cvmm_ratelimit_on_timer(v->rl);
	vsock_tx_run(v);
	vsock_rx_run(v);
	pthread_mutex_unlock(&v->lock);
}

static int vsock_check_opts(const struct cvmm_virtio_vsock_opts *o, uint16_t *qsz)
{
	if (!o || !o->loop)
		return cvmm_err(EINVAL, "virtio-vsock: no event loop");
	if (!cvmm_vsock_cid_valid(o->guest_cid))
		return cvmm_err(EINVAL,
				"guest_cid: %llu is reserved or out of range (3..4294967294)",
				(unsigned long long)o->guest_cid);
	*qsz = o->queue_size ? o->queue_size : VSOCK_DEFAULT_QUEUE;
	if (*qsz < 2 || *qsz > 1024 || (*qsz & (*qsz - 1)))
		return cvmm_err(EINVAL, "queue_size: %u is not a power of two in 2..1024", *qsz);
	if (o->buf_alloc && (o->buf_alloc < 4096 || o->buf_alloc > (64u << 20)))
		return cvmm_err(EINVAL, "buf_alloc: %u is not in 4 KiB..64 MiB", o->buf_alloc);
	if (o->vhost && o->limit)
		return cvmm_err(EINVAL, "vhost: rate limits need the userspace data path");
	if (o->vhost && !o->mem)
		return cvmm_err(EINVAL, "vhost: no guest memory");
	if (!o->vhost && (!o->uds_path || !o->uds_path[0]))
		return cvmm_err(EINVAL, "uds_path: required");
	return 0;
}

static int vsock_sub(struct cvmm_virtio_vsock *v, int fd, cvmm_loop_fn fn)
{
	return fd < 0 ? fd : cvmm_loop_add(v->loop, fd, EPOLLIN, fn, v);
}

int cvmm_virtio_vsock_create(struct cvmm_virtio_vsock **out, const struct cvmm_virtio_vsock_opts *o)
{
	struct cvmm_virtio_vsock *v;
	uint16_t qsz = 0;
	int ret;

	ret = vsock_check_opts(o, &qsz);
	if (ret < 0)
		return ret;
	v = calloc(1, sizeof(*v));
	if (!v)
		return cvmm_err(ENOMEM, "virtio-vsock: out of memory");
	pthread_mutex_init(&v->lock, NULL);
	v->loop = o->loop;
	v->guest_cid = o->guest_cid;
	memcpy(v->config, &v->guest_cid, sizeof(v->config)); /* le64 */
	v->listen_fd = v->kick_fd = v->timer_fd = v->call_fd = -1;
	v->max_conns = o->max_conns ? o->max_conns : VSOCK_DEFAULT_CONNS;
	v->buf_alloc = o->buf_alloc ? o->buf_alloc : VSOCK_DEFAULT_BUF;
	v->request_timeout_ns =
	    (uint64_t)(o->request_timeout_ms ? o->request_timeout_ms : VSOCK_DEFAULT_TIMEOUT_MS) *
	    1000000;
	v->shutdown_timeout_ns =
	    (uint64_t)(o->shutdown_timeout_ms ? o->shutdown_timeout_ms : VSOCK_DEFAULT_TIMEOUT_MS) *
	    1000000;
	v->next_host_port = 1u << 30;
	v->vhost_mode = o->vhost;
	v->mem = o->mem;
	v->conns = calloc(v->max_conns, sizeof(*v->conns));
	v->scratch = calloc(qsz, sizeof(*v->scratch));
	v->rx_chain.iov = calloc(qsz, sizeof(struct iovec));
	v->tx_chain.iov = calloc(qsz, sizeof(struct iovec));
	if (!v->conns || !v->scratch || !v->rx_chain.iov || !v->tx_chain.iov) {
		ret = cvmm_err(ENOMEM, "virtio-vsock: out of memory");
		goto fail;
	}
	for (unsigned int i = 0; i < v->max_conns; i++)
		v->conns[i] = (struct vconn){.v = v, .fd = -1};
	cvmm_virtq_chain_init(&v->rx_chain, v->rx_chain.iov, qsz);
	cvmm_virtq_chain_init(&v->tx_chain, v->tx_chain.iov, qsz);
	v->dev = (struct cvmm_virtio_device){
	    .device_id = CVMM_VIRTIO_ID_VSOCK,
	    .features = CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_INDIRECT_DESC) |
			CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_EVENT_IDX),
	    .nr_queues = 3,
	    .queue_max_size = qsz,
	    .config_size = sizeof(v->config),
	    .ops = &vsock_ops,
	    .opaque = v,
	};
	if (o->limit) {
		ret = cvmm_ratelimit_create(&v->rl, o->limit);
		if (ret < 0)
			goto fail;
		ret = vsock_sub(v, cvmm_ratelimit_fd(v->rl), vsock_limit_cb);
		if (ret < 0)
			goto fail;
	}
	v->kick_fd = cvmm_eventfd_open();
	ret = vsock_sub(v, v->kick_fd, vsock_kick);
	if (ret < 0)
		goto fail;
	v->timer_fd = cvmm_timerfd_open();
	ret = vsock_sub(v, v->timer_fd, vsock_timer_cb);
	if (ret < 0)
		goto fail;
	if (o->vhost) {
		ret = vsock_vhost_init(v, o->vhost_path ? o->vhost_path : "/dev/vhost-vsock");
		if (ret < 0)
			goto fail;
		v->dev.external_queues = (1u << VQ_RX) | (1u << VQ_TX);
		v->dev.features &=
		    cvmm_vhost_features(v->vhost) | ~(CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_INDIRECT_DESC) |
						      CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_EVENT_IDX));
		/* The kernel keeps message boundaries itself: offered when it can. */
		v->dev.features |=
		    cvmm_vhost_features(v->vhost) & CVMM_VIRTIO_BIT(CVMM_VSOCK_F_SEQPACKET);
	} else {
		/* Message boundaries kept here: see tx_rw_seq() and rx_seq(). */
		v->dev.features |= CVMM_VIRTIO_BIT(CVMM_VSOCK_F_SEQPACKET);
		ret = vsock_uds_listen(v, o->uds_path);
		if (ret < 0)
			goto fail;
		ret = vsock_sub(v, v->listen_fd, vsock_listen_cb);
		if (ret < 0)
			goto fail;
	}
	*out = v;
	return 0;
fail:
	cvmm_virtio_vsock_destroy(v);
	return ret;
}

const struct cvmm_virtio_device *cvmm_virtio_vsock_device(struct cvmm_virtio_vsock *v)
{
	return &v->dev;
}

int cvmm_virtio_vsock_transport_reset(struct cvmm_virtio_vsock *v)
{
	struct cvmm_virtq_chain ch;
	struct iovec iov[4];
	uint32_t id = CVMM_VSOCK_EVENT_TRANSPORT_RESET;
	int ret = -ENODEV;

	pthread_mutex_lock(&v->lock);
	if (v->t && cvmm_virtq_ready(v->vq[VQ_EVENT])) {
		vsock_forget_all(v);
		cvmm_virtq_chain_init(&ch, iov, 4);
		ret = cvmm_virtq_pop(v->vq[VQ_EVENT], &ch);
		if (ret == 1) {
			uint32_t n = (uint32_t)cvmm_virtq_chain_write(&ch, &id, sizeof(id));

			cvmm_virtq_push(v->vq[VQ_EVENT], &ch, n);
			cvmm_virtio_notify_used(v->t, VQ_EVENT);
			ret = 0;
		} else if (ret == 0) {
			ret = cvmm_err(ENOBUFS, "virtio-vsock: no event buffer posted");
		} else {
			cvmm_virtio_fail(v->t, "virtio-vsock: event queue: %s", cvmm_err_msg());
		}
	}
	pthread_mutex_unlock(&v->lock);
	return ret;
}

unsigned int cvmm_virtio_vsock_nr_conns(struct cvmm_virtio_vsock *v)
{
	unsigned int n;

	pthread_mutex_lock(&v->lock);
	n = v->nr_conns;
	pthread_mutex_unlock(&v->lock);
	return n;
}

void cvmm_virtio_vsock_stats(const struct cvmm_virtio_vsock *v, struct cvmm_virtio_vsock_stats *out)
{
	*out = (struct cvmm_virtio_vsock_stats){
	    .rx_packets = atomic_load_explicit(&v->cnt.rx_packets, memory_order_relaxed),
	    .rx_bytes = atomic_load_explicit(&v->cnt.rx_bytes, memory_order_relaxed),
	    .tx_packets = atomic_load_explicit(&v->cnt.tx_packets, memory_order_relaxed),
	    .tx_bytes = atomic_load_explicit(&v->cnt.tx_bytes, memory_order_relaxed),
	    .conns_opened = atomic_load_explicit(&v->cnt.conns_opened, memory_order_relaxed),
	    .conns_killed = atomic_load_explicit(&v->cnt.conns_killed, memory_order_relaxed),
	};
}

static void vsock_unsub(struct cvmm_virtio_vsock *v, int fd)
{
	if (fd >= 0) {
		cvmm_loop_del(v->loop, fd);
		close(fd);
	}
}

void cvmm_virtio_vsock_destroy(struct cvmm_virtio_vsock *v)
{
	if (!v)
		return;
	if (v->conns)
		vsock_drop_all(v);
	vsock_unsub(v, v->listen_fd);
	if (v->uds_path) {
		unlink(v->uds_path);
		free(v->uds_path);
	}
	vsock_unsub(v, v->kick_fd);
	vsock_unsub(v, v->timer_fd);
	if (v->rl) {
		cvmm_loop_del(v->loop, cvmm_ratelimit_fd(v->rl));
		cvmm_ratelimit_destroy(v->rl);
	}
	vsock_vhost_fini(v);
	pthread_mutex_destroy(&v->lock);
	free(v->conns);
	free(v->scratch);
	free(v->rx_chain.iov);
	free(v->tx_chain.iov);
	free(v);
}
