// SPDX-License-Identifier: Apache-2.0
/* virtio-mmio transport, version 2 (virtio 1.x section 4.2). */
#include "virtq_impl.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

enum {
	REG_MAGIC = 0x000,
	REG_VERSION = 0x004,
	REG_DEVICE_ID = 0x008,
	REG_VENDOR_ID = 0x00c,
	REG_DEVICE_FEATURES = 0x010,
	REG_DEVICE_FEATURES_SEL = 0x014,
	REG_DRIVER_FEATURES = 0x020,
	REG_DRIVER_FEATURES_SEL = 0x024,
	REG_QUEUE_SEL = 0x030,
	REG_QUEUE_NUM_MAX = 0x034,
	REG_QUEUE_NUM = 0x038,
	REG_QUEUE_READY = 0x044,
	REG_QUEUE_NOTIFY = 0x050,
	REG_INTERRUPT_STATUS = 0x060,
	REG_INTERRUPT_ACK = 0x064,
	REG_STATUS = 0x070,
	REG_QUEUE_DESC_LOW = 0x080,
	REG_QUEUE_DESC_HIGH = 0x084,
	REG_QUEUE_DRIVER_LOW = 0x090,
	REG_QUEUE_DRIVER_HIGH = 0x094,
	REG_QUEUE_DEVICE_LOW = 0x0a0,
	REG_QUEUE_DEVICE_HIGH = 0x0a4,
	REG_CONFIG_GENERATION = 0x0fc,
};

#define MMIO_MAGIC 0x74726976u /* "virt" */
#define MMIO_VERSION 2u
#define INT_USED 1u
#define INT_CONFIG 2u
#define LOG_INTERVAL_NS 1000000000ULL

struct mmio_notify {
	struct cvmm_virtio_mmio *m;
	unsigned int q;
	int fd;
	atomic_bool ready; /* mirrors cvmm_virtq_ready() for the loop thread */
};

/*
 * Locking: `lock` serialises register accesses and the device's control ops
 * (activate, reset, config). The fields the device's own thread or a vCPU's
 * interrupt handler touch are atomics, so neither waits for the other:
 * isr, status, needs_reset, active and config_gen. log_lock guards the
 * rate-limited logger only (a leaf lock).
 */
struct cvmm_virtio_mmio {
	struct cvmm_virtio_transport t; /* first: devices get &m->t */
	struct cvmm_virtio_device dev;
	struct cvmm_loop *loop;
	pthread_mutex_t lock;
	pthread_mutex_t log_lock;
	char name[48];
	cvmm_virtio_log_fn log;
	void *log_opaque;
	uint64_t log_last_ns;
	bool log_used;
	unsigned int log_suppressed;
	int irq_fd;
	struct mmio_notify *notify;
	struct cvmm_virtq **vqs;
	uint64_t offered;
	uint64_t driver_features;
	atomic_uint status;
	atomic_bool needs_reset;
	atomic_bool active;
	uint32_t dev_features_sel, drv_features_sel, queue_sel;
	atomic_uint isr;
	atomic_uint config_gen;
};

static void mmio_log(struct cvmm_virtio_mmio *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Guest-triggered messages: at most one line a second per device. */
static void mmio_log(struct cvmm_virtio_mmio *m, const char *fmt, ...)
{
	uint64_t now = cvmm_now_ns();
	char msg[256], line[352];
	va_list ap;

	pthread_mutex_lock(&m->log_lock);
	if (m->log_used && now - m->log_last_ns < LOG_INTERVAL_NS) {
		m->log_suppressed++;
		pthread_mutex_unlock(&m->log_lock);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (m->log_suppressed)
		snprintf(line, sizeof(line), "%s: %s (%u earlier messages suppressed)", m->name,
			 msg, m->log_suppressed);
	else
		snprintf(line, sizeof(line), "%s: %s", m->name, msg);
	m->log_used = true;
	m->log_last_ns = now;
	m->log_suppressed = 0;
	if (m->log)
		m->log(m->log_opaque, line);
	else
		fprintf(stderr, "%s\n", line);
	pthread_mutex_unlock(&m->log_lock);
}

static void mmio_interrupt(struct cvmm_virtio_mmio *m, uint32_t why)
{
	atomic_fetch_or(&m->isr, why);
	/* Only fails if the counter would overflow: an interrupt is pending anyway. */
	cvmm_eventfd_signal(m->irq_fd);
}

static int mmio_notify_used(struct cvmm_virtio_transport *t, unsigned int q)
{
	struct cvmm_virtio_mmio *m = (struct cvmm_virtio_mmio *)t;

	if (q >= m->dev.nr_queues)
		return cvmm_err(EINVAL, "%s: no queue %u", m->name, q);
	if (cvmm_virtq_needs_notify(m->vqs[q]))
		mmio_interrupt(m, INT_USED);
	return 0;
}

static int mmio_config_changed(struct cvmm_virtio_transport *t)
{
	struct cvmm_virtio_mmio *m = (struct cvmm_virtio_mmio *)t;

	atomic_fetch_add(&m->config_gen, 1);
	mmio_interrupt(m, INT_CONFIG);
	return 0;
}

static void mmio_fail(struct cvmm_virtio_transport *t, const char *msg)
{
	struct cvmm_virtio_mmio *m = (struct cvmm_virtio_mmio *)t;

	mmio_log(m, "device needs reset: %s", msg);
	if (atomic_exchange(&m->needs_reset, true))
		return;
	if (atomic_load(&m->status) & CVMM_VIRTIO_STATUS_DRIVER_OK)
		mmio_interrupt(m, INT_CONFIG);
}

static bool mmio_external(const struct cvmm_virtio_mmio *m, unsigned int q)
{
	return q < m->dev.nr_queues && (m->dev.external_queues & (1ULL << q));
}

static int mmio_queue_notify_fd(struct cvmm_virtio_transport *t, unsigned int q)
{
	struct cvmm_virtio_mmio *m = (struct cvmm_virtio_mmio *)t;

	if (!mmio_external(m, q))
		return cvmm_err(EINVAL, "%s: queue %u is not external", m->name, q);
	return m->notify[q].fd;
}

static void mmio_raise_used(struct cvmm_virtio_transport *t)
{
	mmio_interrupt((struct cvmm_virtio_mmio *)t, INT_USED);
}

static const struct virtio_transport_ops mmio_transport_ops = {
    .notify_used = mmio_notify_used,
    .config_changed = mmio_config_changed,
    .fail = mmio_fail,
    .queue_notify_fd = mmio_queue_notify_fd,
    .raise_used = mmio_raise_used,
};

/* Runs on the loop thread, without the register lock: the device checks
 * under its own lock that it is still active (a reset may race with this). */
static void mmio_notify_cb(int fd, uint32_t events, void *opaque)
{
	struct mmio_notify *n = opaque;

	(void)events;
	if (cvmm_eventfd_drain(fd, NULL) < 0)
		return;
	if (!atomic_load(&n->m->active) || atomic_load(&n->m->needs_reset) ||
	    !atomic_load(&n->ready))
		return;
	n->m->dev.ops->queue_notify(n->m->dev.opaque, n->q);
}

/* The device stops using the queues before they are forgotten. */
static void mmio_reset(struct cvmm_virtio_mmio *m)
{
	if (atomic_exchange(&m->active, false))
		m->dev.ops->reset(m->dev.opaque);
	for (unsigned int i = 0; i < m->dev.nr_queues; i++) {
		atomic_store(&m->notify[i].ready, false);
		cvmm_virtq_reset(m->vqs[i]);
	}
	m->driver_features = 0;
	atomic_store(&m->status, 0);
	atomic_store(&m->needs_reset, false);
	m->dev_features_sel = m->drv_features_sel = m->queue_sel = 0;
	atomic_store(&m->isr, 0);
}

static void mmio_activate(struct cvmm_virtio_mmio *m)
{
	int ret = m->dev.ops->activate(m->dev.opaque, &m->t, m->driver_features, m->vqs,
				       m->dev.nr_queues);

	if (ret < 0) {
		mmio_fail(&m->t, cvmm_err_msg());
		return;
	}
	atomic_store(&m->active, true);
}

static void mmio_set_status(struct cvmm_virtio_mmio *m, uint32_t v)
{
	const uint64_t v1 = CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_VERSION_1);
	uint32_t old = atomic_load(&m->status), added;

	if (v == 0) {
		mmio_reset(m);
		return;
	}
	/* Keep only the driver's bits the spec defines; NEEDS_RESET is ours. */
	v &= CVMM_VIRTIO_STATUS_ACKNOWLEDGE | CVMM_VIRTIO_STATUS_DRIVER |
	     CVMM_VIRTIO_STATUS_FEATURES_OK | CVMM_VIRTIO_STATUS_DRIVER_OK |
	     CVMM_VIRTIO_STATUS_FAILED;
	added = v & ~old;
	if ((v & old) != old) {
		mmio_log(m, "status %#x -> %#x clears bits without a reset; ignored", old, v);
		return;
	}
	if ((v & CVMM_VIRTIO_STATUS_DRIVER) && !(v & CVMM_VIRTIO_STATUS_ACKNOWLEDGE))
		return;
	if (added & CVMM_VIRTIO_STATUS_FEATURES_OK) {
		if (!(v & CVMM_VIRTIO_STATUS_DRIVER)) {
			v &= ~CVMM_VIRTIO_STATUS_FEATURES_OK;
		} else if (!(m->driver_features & v1)) {
			mmio_log(m, "driver did not accept VERSION_1; FEATURES_OK refused");
			v &= ~CVMM_VIRTIO_STATUS_FEATURES_OK;
		} else if (m->driver_features & ~m->offered) {
			mmio_log(m, "driver accepted unoffered features %#llx; FEATURES_OK refused",
				 (unsigned long long)(m->driver_features & ~m->offered));
			v &= ~CVMM_VIRTIO_STATUS_FEATURES_OK;
		}
	}
	if (!(v & CVMM_VIRTIO_STATUS_FEATURES_OK))
		v &= ~CVMM_VIRTIO_STATUS_DRIVER_OK;
	added = v & ~old;
	atomic_store(&m->status, v);
	if ((added & CVMM_VIRTIO_STATUS_DRIVER_OK) && !atomic_load(&m->needs_reset))
		mmio_activate(m);
}

static bool mmio_queue_setup_allowed(const struct cvmm_virtio_mmio *m)
{
	return m->queue_sel < m->dev.nr_queues &&
	       !(atomic_load(&m->status) & CVMM_VIRTIO_STATUS_DRIVER_OK);
}

static void mmio_queue_ready(struct cvmm_virtio_mmio *m, uint32_t v)
{
	struct cvmm_virtq *vq = m->vqs[m->queue_sel];
	int ret;

	if (!v) {
		atomic_store(&m->notify[m->queue_sel].ready, false);
		cvmm_virtq_disable(vq);
		return;
	}
	if (cvmm_virtq_ready(vq))
		return;
	if (!(atomic_load(&m->status) & CVMM_VIRTIO_STATUS_FEATURES_OK)) {
		mmio_log(m, "queue %u enabled before FEATURES_OK; ignored", m->queue_sel);
		return;
	}
	ret = cvmm_virtq_enable(vq, m->driver_features);
	if (ret < 0)
		mmio_log(m, "queue %u not enabled: %s", m->queue_sel, cvmm_err_msg());
	else
		atomic_store(&m->notify[m->queue_sel].ready, true);
}

/* Replace the low or high half of one of the three ring addresses. */
static void mmio_queue_addr(struct cvmm_virtio_mmio *m, unsigned int which, bool high, uint32_t v)
{
	struct cvmm_virtq *vq = m->vqs[m->queue_sel];
	uint64_t a[3];

	if (cvmm_virtq_ready(vq))
		return;
	cvmm_virtq_addr(vq, &a[0], &a[1], &a[2]);
	if (high)
		a[which] = (a[which] & 0xffffffffULL) | ((uint64_t)v << 32);
	else
		a[which] = (a[which] & ~0xffffffffULL) | v;
	cvmm_virtq_set_addr(vq, a[0], a[1], a[2]);
}

static uint32_t mmio_reg_read(struct cvmm_virtio_mmio *m, uint64_t off)
{
	struct cvmm_virtq *vq = m->queue_sel < m->dev.nr_queues ? m->vqs[m->queue_sel] : NULL;
	uint64_t a[3] = {0, 0, 0};

	if (vq)
		cvmm_virtq_addr(vq, &a[0], &a[1], &a[2]);
	switch (off) {
	case REG_MAGIC:
		return MMIO_MAGIC;
	case REG_VERSION:
		return MMIO_VERSION;
	case REG_DEVICE_ID:
		return m->dev.device_id;
	case REG_VENDOR_ID:
		return CVMM_VIRTIO_MMIO_VENDOR;
	case REG_DEVICE_FEATURES:
		if (m->dev_features_sel > 1)
			return 0;
		return (uint32_t)(m->offered >> (32 * m->dev_features_sel));
	case REG_QUEUE_NUM_MAX:
		return vq ? cvmm_virtq_max_size(vq) : 0;
	case REG_QUEUE_READY:
		return vq ? cvmm_virtq_ready(vq) : 0;
	case REG_INTERRUPT_STATUS:
		return atomic_load(&m->isr);
	case REG_STATUS:
		return cvmm_virtio_mmio_status(m);
	case REG_QUEUE_DESC_LOW:
		return (uint32_t)a[0];
	case REG_QUEUE_DESC_HIGH:
		return (uint32_t)(a[0] >> 32);
	case REG_QUEUE_DRIVER_LOW:
		return (uint32_t)a[1];
	case REG_QUEUE_DRIVER_HIGH:
		return (uint32_t)(a[1] >> 32);
	case REG_QUEUE_DEVICE_LOW:
		return (uint32_t)a[2];
	case REG_QUEUE_DEVICE_HIGH:
		return (uint32_t)(a[2] >> 32);
	case REG_CONFIG_GENERATION:
		return atomic_load(&m->config_gen);
	default:
		return 0;
	}
}

static void mmio_reg_write(struct cvmm_virtio_mmio *m, uint64_t off, uint32_t v)
{
	switch (off) {
	case REG_DEVICE_FEATURES_SEL:
		m->dev_features_sel = v;
		break;
	case REG_DRIVER_FEATURES:
		if (m->drv_features_sel > 1 ||
		    (atomic_load(&m->status) & CVMM_VIRTIO_STATUS_FEATURES_OK))
			break;
		if (m->drv_features_sel)
			m->driver_features =
			    (m->driver_features & 0xffffffffULL) | ((uint64_t)v << 32);
		else
			m->driver_features = (m->driver_features & ~0xffffffffULL) | v;
		break;
	case REG_DRIVER_FEATURES_SEL:
		m->drv_features_sel = v;
		break;
	case REG_QUEUE_SEL:
		m->queue_sel = v;
		break;
	case REG_QUEUE_NUM:
		if (mmio_queue_setup_allowed(m))
			cvmm_virtq_set_size(m->vqs[m->queue_sel], v);
		break;
	case REG_QUEUE_READY:
		if (mmio_queue_setup_allowed(m))
			mmio_queue_ready(m, v);
		break;
	case REG_QUEUE_NOTIFY:
		/* Device work never runs on a vCPU: hand it to the device's loop. */
		if (v < m->dev.nr_queues)
			cvmm_eventfd_signal(m->notify[v].fd);
		break;
	case REG_INTERRUPT_ACK:
		atomic_fetch_and(&m->isr, ~v);
		break;
	case REG_STATUS:
		mmio_set_status(m, v);
		break;
	case REG_QUEUE_DESC_LOW:
	case REG_QUEUE_DESC_HIGH:
	case REG_QUEUE_DRIVER_LOW:
	case REG_QUEUE_DRIVER_HIGH:
	case REG_QUEUE_DEVICE_LOW:
	case REG_QUEUE_DEVICE_HIGH:
		if (mmio_queue_setup_allowed(m))
			mmio_queue_addr(m, (unsigned int)(off - REG_QUEUE_DESC_LOW) / 0x10, off & 4,
					v);
		break;
	default:
		break;
	}
}

static bool mmio_config_range(const struct cvmm_virtio_mmio *m, uint64_t offset, uint32_t len)
{
	uint64_t off = offset - CVMM_VIRTIO_MMIO_CONFIG;

	if (len != 1 && len != 2 && len != 4 && len != 8)
		return false;
	return offset >= CVMM_VIRTIO_MMIO_CONFIG && off < m->dev.config_size &&
	       len <= m->dev.config_size - off;
}

void cvmm_virtio_mmio_read(struct cvmm_virtio_mmio *m, uint64_t offset, void *data, uint32_t len)
{
	uint32_t v;

	if (!data || len == 0)
		return;
	memset(data, 0, len);
	if (offset >= CVMM_VIRTIO_MMIO_SIZE)
		return;
	if (len == 4 && (offset == REG_INTERRUPT_STATUS || offset == REG_STATUS)) {
		/* An interrupt handler's reads never wait for the lock. */
		v = offset == REG_STATUS ? cvmm_virtio_mmio_status(m) : atomic_load(&m->isr);
		memcpy(data, &v, 4);
		return;
	}
	pthread_mutex_lock(&m->lock);
	if (offset >= CVMM_VIRTIO_MMIO_CONFIG) {
		if (mmio_config_range(m, offset, len))
			m->dev.ops->config_read(
			    m->dev.opaque, (uint32_t)(offset - CVMM_VIRTIO_MMIO_CONFIG), data, len);
	} else if (len == 4 && offset % 4 == 0) {
		v = mmio_reg_read(m, offset);
		memcpy(data, &v, 4);
	}
	pthread_mutex_unlock(&m->lock);
}

void cvmm_virtio_mmio_write(struct cvmm_virtio_mmio *m, uint64_t offset, const void *data,
			    uint32_t len)
{
	uint32_t v;

	if (!data || offset >= CVMM_VIRTIO_MMIO_SIZE)
		return;
	pthread_mutex_lock(&m->lock);
	if (offset >= CVMM_VIRTIO_MMIO_CONFIG) {
		if (mmio_config_range(m, offset, len) && m->dev.ops->config_write)
			m->dev.ops->config_write(
			    m->dev.opaque, (uint32_t)(offset - CVMM_VIRTIO_MMIO_CONFIG), data, len);
	} else if (len == 4 && offset % 4 == 0) {
		memcpy(&v, data, 4);
		mmio_reg_write(m, offset, v);
	}
	pthread_mutex_unlock(&m->lock);
}

static int mmio_check_device(const struct cvmm_virtio_device *d)
{
	const struct cvmm_virtio_device_ops *ops = d ? d->ops : NULL;

	if (!ops || !ops->config_read || !ops->activate || !ops->reset || !ops->queue_notify)
		return cvmm_err(EINVAL, "virtio-mmio: device ops incomplete");
	if (d->nr_queues == 0 || d->nr_queues > CVMM_VIRTIO_MAX_QUEUES)
		return cvmm_err(EINVAL, "virtio-mmio: %u queues (1..%u)", d->nr_queues,
				CVMM_VIRTIO_MAX_QUEUES);
	if (d->nr_queues < 64 && (d->external_queues >> d->nr_queues))
		return cvmm_err(EINVAL, "virtio-mmio: external queue beyond the %u queues",
				d->nr_queues);
	if (d->config_size > CVMM_VIRTIO_MMIO_SIZE - CVMM_VIRTIO_MMIO_CONFIG)
		return cvmm_err(EINVAL, "virtio-mmio: config space of %u bytes too large",
				d->config_size);
	return 0;
}

int cvmm_virtio_mmio_create(struct cvmm_virtio_mmio **out, const struct cvmm_virtio_mmio_opts *o)
{
	struct cvmm_virtio_mmio *m;
	int ret;

	if (!o || !o->mem)
		return cvmm_err(EINVAL, "virtio-mmio: no guest memory");
	if (!o->loop)
		return cvmm_err(EINVAL, "virtio-mmio: no event loop for queue notifications");
	ret = mmio_check_device(o->dev);
	if (ret < 0)
		return ret;
	m = calloc(1, sizeof(*m));
	if (!m)
		return cvmm_err(ENOMEM, "virtio-mmio: out of memory");
	m->t.ops = &mmio_transport_ops;
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->log_lock, NULL);
	m->dev = *o->dev;
	m->loop = o->loop;
	snprintf(m->name, sizeof(m->name), "%s", o->name ? o->name : "virtio-mmio");
	m->log = o->log;
	m->log_opaque = o->log_opaque;
	m->offered = m->dev.features | CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_VERSION_1);
	m->irq_fd = -1;
	m->notify = calloc(m->dev.nr_queues, sizeof(*m->notify));
	m->vqs = calloc(m->dev.nr_queues, sizeof(*m->vqs));
	if (!m->notify || !m->vqs) {
		ret = cvmm_err(ENOMEM, "virtio-mmio: out of memory");
		goto fail;
	}
	for (unsigned int i = 0; i < m->dev.nr_queues; i++)
		m->notify[i].fd = -1;
	ret = cvmm_eventfd_open();
	if (ret < 0)
		goto fail;
	m->irq_fd = ret;
	for (unsigned int i = 0; i < m->dev.nr_queues; i++) {
		ret = cvmm_virtq_create(&m->vqs[i], o->mem, m->dev.queue_max_size);
		if (ret < 0)
			goto fail;
		ret = cvmm_eventfd_open();
		if (ret < 0)
			goto fail;
		m->notify[i] = (struct mmio_notify){.m = m, .q = i, .fd = ret};
		if (mmio_external(m, i))
			continue; /* its worker watches the eventfd */
		ret =
		    cvmm_loop_add(m->loop, m->notify[i].fd, EPOLLIN, mmio_notify_cb, &m->notify[i]);
		if (ret < 0)
			goto fail;
	}
	*out = m;
	return 0;
fail:
	cvmm_virtio_mmio_destroy(m);
	return ret;
}

void cvmm_virtio_mmio_destroy(struct cvmm_virtio_mmio *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	if (atomic_exchange(&m->active, false))
		m->dev.ops->reset(m->dev.opaque);
	pthread_mutex_unlock(&m->lock);
	for (unsigned int i = 0; m->notify && i < m->dev.nr_queues; i++) {
		if (m->notify[i].fd < 0)
			continue;
		if (!mmio_external(m, i))
			cvmm_loop_del(m->loop, m->notify[i].fd);
		close(m->notify[i].fd);
	}
	for (unsigned int i = 0; m->vqs && i < m->dev.nr_queues; i++)
		cvmm_virtq_destroy(m->vqs[i]);
	if (m->irq_fd >= 0)
		close(m->irq_fd);
	pthread_mutex_destroy(&m->lock);
	pthread_mutex_destroy(&m->log_lock);
	free(m->notify);
	free(m->vqs);
	free(m);
}

int cvmm_virtio_mmio_irq_fd(const struct cvmm_virtio_mmio *m)
{
	return m->irq_fd;
}

int cvmm_virtio_mmio_notify_fd(const struct cvmm_virtio_mmio *m, unsigned int q)
{
	if (q >= m->dev.nr_queues)
		return cvmm_err(EINVAL, "virtio-mmio: no queue %u", q);
	return m->notify[q].fd;
}

uint32_t cvmm_virtio_mmio_status(struct cvmm_virtio_mmio *m)
{
	return atomic_load(&m->status) |
	       (atomic_load(&m->needs_reset) ? CVMM_VIRTIO_STATUS_NEEDS_RESET : 0);
}

struct cvmm_virtio_transport *cvmm_virtio_mmio_transport(struct cvmm_virtio_mmio *m)
{
	return &m->t;
}
