// SPDX-License-Identifier: Apache-2.0
/* Format-independent virtqueue calls and chain cursors. */
#include "virtq_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

int cvmm_virtq_create(struct cvmm_virtq **out, const struct cvmm_mem *mem, uint16_t max_size)
{
	struct cvmm_virtq *vq;

	/* uint16_t cannot hold 65536, so max_size <= 32768 follows from pow2. */
	if (!mem || !is_pow2(max_size))
		return cvmm_err(EINVAL, "virtqueue: max size %u is not a power of two", max_size);
	vq = calloc(1, sizeof(*vq));
	if (!vq)
		return cvmm_err(ENOMEM, "virtqueue: out of memory");
	vq->mem = mem;
	vq->max_size = max_size;
	vq->size = max_size;
	*out = vq;
	return 0;
}

void cvmm_virtq_destroy(struct cvmm_virtq *vq)
{
	free(vq);
}

uint16_t cvmm_virtq_max_size(const struct cvmm_virtq *vq)
{
	return vq->max_size;
}

int cvmm_virtq_set_size(struct cvmm_virtq *vq, uint32_t size)
{
	if (vq->ops)
		return cvmm_err(EBUSY, "virtqueue: size changed while enabled");
	vq->size = size;
	return 0;
}

int cvmm_virtq_set_addr(struct cvmm_virtq *vq, uint64_t desc, uint64_t driver, uint64_t device)
{
	if (vq->ops)
		return cvmm_err(EBUSY, "virtqueue: addresses changed while enabled");
	vq->desc_gpa = desc;
	vq->driver_gpa = driver;
	vq->device_gpa = device;
	return 0;
}

uint32_t cvmm_virtq_size(const struct cvmm_virtq *vq)
{
	return vq->size;
}

void cvmm_virtq_addr(const struct cvmm_virtq *vq, uint64_t *desc, uint64_t *driver,
		     uint64_t *device)
{
	*desc = vq->desc_gpa;
	*driver = vq->driver_gpa;
	*device = vq->device_gpa;
}

int cvmm_virtq_enable(struct cvmm_virtq *vq, uint64_t features)
{
	int ret;

	if (vq->ops)
		return cvmm_err(EBUSY, "virtqueue: already enabled");
	if (features & CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_RING_PACKED))
		return cvmm_err(ENOTSUP, "virtqueue: packed ring not supported");
	if (!is_pow2(vq->size) || vq->size > vq->max_size)
		return cvmm_err(EINVAL, "virtqueue: size %u is not a power of two <= %u", vq->size,
				vq->max_size);
	vq->event_idx = features & CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_EVENT_IDX);
	ret = cvmm_virtq_split_ops.enable(vq);
	if (ret < 0)
		return ret;
	vq->broken = false;
	vq->ops = &cvmm_virtq_split_ops;
	return 0;
}

bool cvmm_virtq_ready(const struct cvmm_virtq *vq)
{
	return vq->ops != NULL;
}

bool cvmm_virtq_broken(const struct cvmm_virtq *vq)
{
	return vq->broken;
}

void cvmm_virtq_disable(struct cvmm_virtq *vq)
{
	vq->ops = NULL;
}

void cvmm_virtq_reset(struct cvmm_virtq *vq)
{
	const struct cvmm_mem *mem = vq->mem;
	uint16_t max = vq->max_size;

	memset(vq, 0, sizeof(*vq));
	vq->mem = mem;
	vq->max_size = max;
	vq->size = max;
}

void cvmm_virtq_chain_init(struct cvmm_virtq_chain *chain, struct iovec *iov, uint32_t iov_cap)
{
	memset(chain, 0, sizeof(*chain));
	chain->iov = iov;
	chain->iov_cap = iov_cap;
}

int cvmm_virtq_pop(struct cvmm_virtq *vq, struct cvmm_virtq_chain *chain)
{
	if (!vq->ops)
		return cvmm_err(EIO, "virtqueue: not enabled");
	if (vq->broken)
		return cvmm_err(EIO, "virtqueue: broken, needs reset");
	return vq->ops->pop(vq, chain);
}

int cvmm_virtq_push(struct cvmm_virtq *vq, const struct cvmm_virtq_chain *chain, uint32_t len)
{
	if (!vq->ops || vq->broken)
		return cvmm_err(EIO, "virtqueue: push to a disabled or broken queue");
	return vq->ops->push(vq, chain, len);
}

bool cvmm_virtq_needs_notify(struct cvmm_virtq *vq)
{
	return vq->ops && vq->ops->needs_notify(vq);
}

/* Copy between a cursor over segs[0..n) and buf. to_iov selects the direction. */
static size_t chain_copy(const struct iovec *segs, uint32_t n, uint32_t *seg, size_t *off,
			 void *buf, size_t len, bool to_iov)
{
	size_t done = 0;

	while (done < len && *seg < n) {
		const struct iovec *v = &segs[*seg];
		size_t chunk = v->iov_len - *off;

		if (chunk > len - done)
			chunk = len - done;
		if (to_iov)
			memcpy((uint8_t *)v->iov_base + *off, (uint8_t *)buf + done, chunk);
		else
			memcpy((uint8_t *)buf + done, (uint8_t *)v->iov_base + *off, chunk);
		done += chunk;
		*off += chunk;
		if (*off == v->iov_len) {
			(*seg)++;
			*off = 0;
		}
	}
	return done;
}

size_t cvmm_virtq_chain_read(struct cvmm_virtq_chain *chain, void *dst, size_t len)
{
	size_t n = chain_copy(chain->iov, chain->nr_readable, &chain->rd_seg, &chain->rd_off, dst,
			      len, false);

	chain->read += n;
	return n;
}

size_t cvmm_virtq_chain_write(struct cvmm_virtq_chain *chain, const void *src, size_t len)
{
	size_t n = chain_copy(chain->iov + chain->nr_readable, chain->nr_writable, &chain->wr_seg,
			      &chain->wr_off, (void *)src, len, true);

	chain->written += n;
	return n;
}

int cvmm_virtq_chain_iov(const struct cvmm_virtq_chain *chain, bool writable, uint64_t offset,
			 uint64_t len, struct iovec *iov, uint32_t cap)
{
	const struct iovec *segs = chain->iov + (writable ? chain->nr_readable : 0);
	uint32_t n = writable ? chain->nr_writable : chain->nr_readable;
	uint64_t total = writable ? chain->writable_len : chain->readable_len;
	uint32_t out = 0;

	if (offset > total || len > total - offset)
		return cvmm_err(ERANGE, "virtqueue: bytes %llu+%llu outside the %s buffers (%llu)",
				(unsigned long long)offset, (unsigned long long)len,
				writable ? "writable" : "readable", (unsigned long long)total);
	for (uint32_t i = 0; i < n && len; i++) {
		uint64_t seg_len = segs[i].iov_len;
		uint64_t take;

		if (offset >= seg_len) {
			offset -= seg_len;
			continue;
		}
		if (out == cap)
			return cvmm_err(E2BIG, "virtqueue: range needs more than %u iovecs", cap);
		take = seg_len - offset < len ? seg_len - offset : len;
		iov[out].iov_base = (uint8_t *)segs[i].iov_base + offset;
		iov[out].iov_len = take;
		out++;
		len -= take;
		offset = 0;
	}
	return (int)out;
}
