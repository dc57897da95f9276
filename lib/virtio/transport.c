// SPDX-License-Identifier: Apache-2.0
/* Device-to-transport calls, dispatched to the transport implementation. */
#include "virtq_impl.h"

#include <stdarg.h>
#include <stdio.h>

int cvmm_virtio_notify_used(struct cvmm_virtio_transport *t, unsigned int q)
{
	return t->ops->notify_used(t, q);
}

int cvmm_virtio_queue_notify_fd(struct cvmm_virtio_transport *t, unsigned int q)
{
	return t->ops->queue_notify_fd(t, q);
}

void cvmm_virtio_raise_used(struct cvmm_virtio_transport *t)
{
	t->ops->raise_used(t);
}

int cvmm_virtio_config_changed(struct cvmm_virtio_transport *t)
{
	return t->ops->config_changed(t);
}

void cvmm_virtio_fail(struct cvmm_virtio_transport *t, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	t->ops->fail(t, msg);
}
