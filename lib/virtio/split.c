// SPDX-License-Identifier: Apache-2.0
/* Split virtqueue (virtio 1.x section 2.7), device side. */
#include "virtq_impl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define DESC_SIZE 16u

static int split_broken(struct cvmm_virtq *vq, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int split_broken(struct cvmm_virtq *vq, int err, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vq->broken = true;
	return cvmm_err(err, "virtqueue: %s", msg);
}

static int split_enable(struct cvmm_virtq *vq)
{
	uint64_t size = vq->size;
	uint64_t desc_len = DESC_SIZE * size;
	uint64_t avail_len = 6 + 2 * size; /* flags, idx, ring, used_event */
	uint64_t used_len = 6 + 8 * size;  /* flags, idx, ring, avail_event */

	if (vq->desc_gpa % 16 || vq->driver_gpa % 2 || vq->device_gpa % 4)
		return cvmm_err(
		    EINVAL, "virtqueue: misaligned ring (desc %#llx avail %#llx used %#llx)",
		    (unsigned long long)vq->desc_gpa, (unsigned long long)vq->driver_gpa,
		    (unsigned long long)vq->device_gpa);
	vq->desc = cvmm_mem_ptr(vq->mem, vq->desc_gpa, desc_len);
	vq->avail = cvmm_mem_ptr(vq->mem, vq->driver_gpa, avail_len);
	vq->used = cvmm_mem_ptr(vq->mem, vq->device_gpa, used_len);
	if (!vq->desc || !vq->avail || !vq->used)
		return cvmm_err(EFAULT,
				"virtqueue: ring outside guest RAM (desc %#llx avail %#llx used "
				"%#llx, size %u)",
				(unsigned long long)vq->desc_gpa,
				(unsigned long long)vq->driver_gpa,
				(unsigned long long)vq->device_gpa, vq->size);
	vq->used_event = &vq->avail->ring[size];
	vq->avail_event = (uint16_t *)&vq->used->ring[size];
	vq->last_avail = 0;
	vq->shadow_avail = 0;
	vq->used_idx = 0;
	vq->signalled = 0;
	return 0;
}

/* Read avail->idx (acquire: ring entries are read after it) and check that the
 * driver did not make more than size entries available. */
static int split_refresh_avail(struct cvmm_virtq *vq)
{
	uint16_t idx = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);

	if ((uint16_t)(idx - vq->last_avail) > vq->size)
		return split_broken(vq, EINVAL, "avail index %u is more than %u ahead of %u", idx,
				    vq->size, vq->last_avail);
	vq->shadow_avail = idx;
	return 0;
}

/* Copy one descriptor out of guest memory once, so later checks and uses see
 * the same values whatever the guest does meanwhile. */
static void split_read_desc(const struct split_desc *table, uint32_t i, struct split_desc *d)
{
	memcpy(d, &table[i], sizeof(*d));
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static int split_pop(struct cvmm_virtq *vq, struct cvmm_virtq_chain *c)
{
	const struct split_desc *table = vq->desc;
	uint32_t table_len = vq->size, seen = 0, max_segs;
	uint16_t head, i;
	bool indirect = false;
	int ret;

	if (vq->last_avail == vq->shadow_avail) {
		ret = split_refresh_avail(vq);
		if (ret < 0)
			return ret;
		if (vq->last_avail == vq->shadow_avail) {
			if (!vq->event_idx)
				return 0;
			/* Ask for a notification on the next buffer, then re-check
			 * so one published meanwhile is not missed. */
			__atomic_store_n(vq->avail_event, vq->last_avail, __ATOMIC_RELAXED);
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			ret = split_refresh_avail(vq);
			if (ret < 0)
				return ret;
			if (vq->last_avail == vq->shadow_avail)
				return 0;
		}
	}
	head = __atomic_load_n(&vq->avail->ring[vq->last_avail & (vq->size - 1)], __ATOMIC_RELAXED);
	if (head >= vq->size)
		return split_broken(vq, EINVAL, "avail ring entry %u: head %u >= size %u",
				    vq->last_avail, head, vq->size);
	vq->last_avail++;

	max_segs = c->iov_cap < vq->size ? c->iov_cap : vq->size;
	c->nr_readable = c->nr_writable = 0;
	c->readable_len = c->writable_len = 0;
	c->rd_seg = c->wr_seg = 0;
	c->rd_off = c->wr_off = 0;
	c->read = c->written = 0;
	c->id = head;
	c->ndesc = 0;
	i = head;
	for (;;) {
		struct split_desc d;
		void *p;

		split_read_desc(table, i, &d);
		if (++seen > table_len)
			return split_broken(vq, EINVAL,
					    "chain at head %u loops or exceeds %u descriptors",
					    head, table_len);
		if (!indirect)
			c->ndesc++;
		if (d.flags & CVMM_VIRTQ_DESC_F_INDIRECT) {
			if (indirect)
				return split_broken(vq, EINVAL,
						    "nested indirect descriptor (head %u)", head);
			if (d.flags & CVMM_VIRTQ_DESC_F_NEXT)
				return split_broken(
				    vq, EINVAL, "indirect descriptor with NEXT (head %u)", head);
			if (d.len == 0 || d.len % DESC_SIZE || d.len / DESC_SIZE > vq->size)
				return split_broken(vq, EINVAL,
						    "indirect table of %u bytes (head %u)", d.len,
						    head);
			table = cvmm_mem_ptr(vq->mem, d.addr, d.len);
			if (!table)
				return split_broken(vq, EFAULT,
						    "indirect table %#llx+%u outside RAM",
						    (unsigned long long)d.addr, d.len);
			table_len = d.len / DESC_SIZE;
			indirect = true;
			seen = 0;
			i = 0;
			continue;
		}
		if (d.flags & CVMM_VIRTQ_DESC_F_WRITE) {
			c->nr_writable += d.len != 0;
			c->writable_len += d.len;
		} else {
			if (c->nr_writable || c->writable_len)
				return split_broken(vq, EINVAL,
						    "readable descriptor after writable (head %u)",
						    head);
			c->nr_readable += d.len != 0;
			c->readable_len += d.len;
		}
		if (d.len) {
			uint32_t n = c->nr_readable + c->nr_writable;

			if (n > max_segs)
				return split_broken(vq, E2BIG,
						    "chain at head %u has more than %u buffers",
						    head, max_segs);
			p = cvmm_mem_ptr(vq->mem, d.addr, d.len);
			if (!p)
				return split_broken(vq, EFAULT,
						    "buffer %#llx+%u outside RAM (head %u)",
						    (unsigned long long)d.addr, d.len, head);
			c->iov[n - 1].iov_base = p;
			c->iov[n - 1].iov_len = d.len;
		}
		if (!(d.flags & CVMM_VIRTQ_DESC_F_NEXT))
			return 1;
		if (d.next >= table_len)
			return split_broken(vq, EINVAL, "next index %u >= %u (head %u)", d.next,
					    table_len, head);
		i = d.next;
	}
}

static int split_push(struct cvmm_virtq *vq, const struct cvmm_virtq_chain *c, uint32_t len)
{
	struct split_used_elem *e = &vq->used->ring[vq->used_idx & (vq->size - 1)];

	__atomic_store_n(&e->id, c->id, __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, len, __ATOMIC_RELAXED);
	vq->used_idx++;
	/* The element must be visible before the index that publishes it. */
	__atomic_store_n(&vq->used->idx, vq->used_idx, __ATOMIC_RELEASE);
	return 0;
}

static bool split_needs_notify(struct cvmm_virtq *vq)
{
	uint16_t old = vq->signalled, now = vq->used_idx;

	if (old == now)
		return false;
	vq->signalled = now;
	/* Order the used->idx store before reading the driver's suppression. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq->event_idx) {
		uint16_t event = __atomic_load_n(vq->used_event, __ATOMIC_RELAXED);

		/* Notify if used_event lies in [old, now). */
		return (uint16_t)(now - event - 1) < (uint16_t)(now - old);
	}
	return !(__atomic_load_n(&vq->avail->flags, __ATOMIC_RELAXED) &
		 CVMM_VIRTQ_AVAIL_F_NO_INTERRUPT);
}

const struct virtq_ops cvmm_virtq_split_ops = {
    .enable = split_enable,
    .pop = split_pop,
    .push = split_push,
    .needs_notify = split_needs_notify,
};
