// SPDX-License-Identifier: Apache-2.0
/* vhost=on: the kernel runs both queues; we set it up and relay its calls. */
#include "net_impl.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

/* vhost's interrupt: set InterruptStatus and raise the irq (see the header). */
static void net_vhost_call(int fd, uint32_t events, void *opaque)
{
	struct cvmm_virtio_net *n = opaque;

	(void)events;
	cvmm_eventfd_drain(fd, NULL);
	pthread_mutex_lock(&n->lock);
	if (n->t)
		cvmm_virtio_raise_used(n->t);
	pthread_mutex_unlock(&n->lock);
}

int net_vhost_init(struct cvmm_virtio_net *n, const char *path)
{
	int ret = cvmm_vhost_open(&n->vhost, path);

	if (ret < 0)
		return ret;
	if (!(cvmm_vhost_features(n->vhost) & CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_VERSION_1)))
		return cvmm_err(ENOTSUP, "%s does not support VERSION_1", path);
	ret = cvmm_eventfd_open();
	if (ret < 0)
		return ret;
	n->call_fd = ret;
	ret = cvmm_loop_add(n->loop, n->call_fd, EPOLLIN, net_vhost_call, n);
	if (ret < 0) {
		close(n->call_fd);
		n->call_fd = -1;
	}
	return ret;
}

void net_vhost_fini(struct cvmm_virtio_net *n)
{
	if (n->call_fd >= 0) {
		cvmm_loop_del(n->loop, n->call_fd);
		close(n->call_fd);
	}
	cvmm_vhost_close(n->vhost);
}

void net_vhost_stop(struct cvmm_virtio_net *n)
{
	if (!n->vhost_running)
		return;
	/* Detaching waits for the kernel worker: nothing touches the rings after. */
	for (unsigned int q = 0; q < 2; q++) {
		cvmm_vhost_net_set_backend(n->vhost, q, -1);
		cvmm_vhost_vring_stop(n->vhost, q, NULL);
	}
	n->vhost_running = false;
}

int net_vhost_start(struct cvmm_virtio_net *n, struct cvmm_virtq *const *queues)
{
	int ret;

	for (unsigned int q = 0; q < 2; q++)
		if (!cvmm_virtq_ready(queues[q]))
			return cvmm_err(EINVAL, "virtio-net: queue %u not enabled by the driver", q);
	ret = cvmm_vhost_set_features(n->vhost, n->features);
	if (ret == 0)
		ret = cvmm_vhost_set_mem(n->vhost, n->mem);
	n->vhost_running = true; /* from here on, stop undoes what was done */
	for (unsigned int q = 0; ret == 0 && q < 2; q++) {
		struct cvmm_vhost_vring r = {
		    .size = (uint16_t)cvmm_virtq_size(queues[q]),
		    .kick_fd = cvmm_virtio_queue_notify_fd(n->t, q),
		    .call_fd = n->call_fd,
		};

		cvmm_virtq_addr(queues[q], &r.desc, &r.avail, &r.used);
		ret = cvmm_vhost_vring_start(n->vhost, q, &r);
		if (ret == 0)
			ret = cvmm_vhost_net_set_backend(n->vhost, q, n->be.fd);
	}
	if (ret < 0)
		net_vhost_stop(n);
	return ret;
}
