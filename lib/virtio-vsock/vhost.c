// SPDX-License-Identifier: Apache-2.0
/* vhost=on: the kernel runs rx and tx; we set it up and relay its calls. */
#include "vsock_impl.h"

#include <errno.h>
#include <linux/vhost.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

static void vsock_vhost_call(int fd, uint32_t events, void *opaque)
{
	struct cvmm_virtio_vsock *v = opaque;

	(void)events;
	cvmm_eventfd_drain(fd, NULL);
	pthread_mutex_lock(&v->lock);
	if (v->t)
		cvmm_virtio_raise_used(v->t);
	pthread_mutex_unlock(&v->lock);
}

int vsock_vhost_init(struct cvmm_virtio_vsock *v, const char *path)
{
	uint64_t cid = v->guest_cid;
	int ret = cvmm_vhost_open(&v->vhost, path);

	if (ret < 0)
		return cvmm_err(-ret, "vhost: %s", cvmm_err_msg());
	if (!(cvmm_vhost_features(v->vhost) & CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_VERSION_1)))
		return cvmm_err(ENOTSUP, "vhost: %s does not support VERSION_1", path);
	if (ioctl(cvmm_vhost_fd(v->vhost), VHOST_VSOCK_SET_GUEST_CID, &cid) < 0)
		return cvmm_err(errno, "vhost: %s: VHOST_VSOCK_SET_GUEST_CID %llu: %m", path,
				(unsigned long long)cid);
	v->call_fd = cvmm_eventfd_open();
	if (v->call_fd < 0)
		return v->call_fd;
	return cvmm_loop_add(v->loop, v->call_fd, EPOLLIN, vsock_vhost_call, v);
}

void vsock_vhost_fini(struct cvmm_virtio_vsock *v)
{
	if (v->call_fd >= 0) {
		cvmm_loop_del(v->loop, v->call_fd);
		close(v->call_fd);
		v->call_fd = -1;
	}
	cvmm_vhost_close(v->vhost);
	v->vhost = NULL;
}

static void vsock_vhost_running(struct cvmm_virtio_vsock *v, int on)
{
	ioctl(cvmm_vhost_fd(v->vhost), VHOST_VSOCK_SET_RUNNING, &on);
}

void vsock_vhost_stop(struct cvmm_virtio_vsock *v)
{
	if (!v->vhost_running)
		return;
	/* Stopping waits for the kernel worker: nothing touches the rings after. */
	vsock_vhost_running(v, 0);
	for (unsigned int q = 0; q < 2; q++)
		cvmm_vhost_vring_stop(v->vhost, q, NULL);
	v->vhost_running = false;
}

int vsock_vhost_start(struct cvmm_virtio_vsock *v)
{
	int on = 1, ret;

	for (unsigned int q = 0; q < 2; q++)
		if (!cvmm_virtq_ready(v->vq[q]))
			return cvmm_err(EINVAL, "virtio-vsock: queue %u not enabled by the driver",
					q);
	ret = cvmm_vhost_set_features(v->vhost, v->features);
	if (ret == 0)
		ret = cvmm_vhost_set_mem(v->vhost, v->mem);
	v->vhost_running = true; /* from here on, stop undoes what was done */
	for (unsigned int q = 0; ret == 0 && q < 2; q++) {
		struct cvmm_vhost_vring r = {
		    .size = (uint16_t)cvmm_virtq_size(v->vq[q]),
		    .kick_fd = cvmm_virtio_queue_notify_fd(v->t, q),
		    .call_fd = v->call_fd,
		};

		cvmm_virtq_addr(v->vq[q], &r.desc, &r.avail, &r.used);
		ret = cvmm_vhost_vring_start(v->vhost, q, &r);
	}
	if (ret == 0 && ioctl(cvmm_vhost_fd(v->vhost), VHOST_VSOCK_SET_RUNNING, &on) < 0)
		ret = cvmm_err(errno, "vhost: VHOST_VSOCK_SET_RUNNING: %m");
	if (ret < 0)
		vsock_vhost_stop(v);
	return ret;
}
