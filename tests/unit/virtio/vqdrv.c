// SPDX-License-Identifier: Apache-2.0
#include "vqdrv.h"

#include <cvmm/virtio.h>

static void put16(const struct cvmm_mem *mem, uint64_t gpa, uint16_t v)
{
	CVMM_MEM_PUT(mem, gpa, &v);
}

static uint16_t get16(const struct cvmm_mem *mem, uint64_t gpa)
{
	uint16_t v = 0;

	CVMM_MEM_GET(mem, gpa, &v);
	return v;
}

void vqdrv_init(struct vqdrv *d, const struct cvmm_mem *mem, uint16_t size, uint64_t desc,
		uint64_t avail, uint64_t used)
{
	*d = (struct vqdrv){.mem = mem, .size = size, .desc = desc, .avail = avail, .used = used};
	cvmm_mem_fill(mem, desc, 0, 16u * size);
	cvmm_mem_fill(mem, avail, 0, 6u + 2u * size);
	cvmm_mem_fill(mem, used, 0, 6u + 8u * size);
}

void vqdrv_desc(const struct vqdrv *d, uint64_t table_gpa, uint16_t i, uint64_t addr, uint32_t len,
		uint16_t flags, uint16_t next)
{
	uint64_t at = table_gpa + 16ull * i;

	CVMM_MEM_PUT(d->mem, at, &addr);
	CVMM_MEM_PUT(d->mem, at + 8, &len);
	put16(d->mem, at + 12, flags);
	put16(d->mem, at + 14, next);
}

void vqdrv_publish(struct vqdrv *d, uint16_t head)
{
	uint16_t *idx = cvmm_mem_ptr(d->mem, d->avail + 2, 2);

	put16(d->mem, d->avail + 4 + 2ull * (d->avail_idx % d->size), head);
	d->avail_idx++;
	__atomic_store_n(idx, d->avail_idx, __ATOMIC_RELEASE);
}

uint16_t vqdrv_add(struct vqdrv *d, const struct vqdrv_buf *bufs, unsigned int n)
{
	uint16_t head = d->next_desc;

	for (unsigned int i = 0; i < n; i++) {
		uint16_t cur = (uint16_t)((head + i) % d->size);
		uint16_t next = (uint16_t)((cur + 1) % d->size);
		uint16_t flags = (bufs[i].writable ? CVMM_VIRTQ_DESC_F_WRITE : 0) |
				 (i + 1 < n ? CVMM_VIRTQ_DESC_F_NEXT : 0);

		vqdrv_desc(d, d->desc, cur, bufs[i].gpa, bufs[i].len, flags, next);
	}
	d->next_desc = (uint16_t)((head + n) % d->size);
	vqdrv_publish(d, head);
	return head;
}

uint16_t vqdrv_add_indirect(struct vqdrv *d, uint64_t table_gpa, const struct vqdrv_buf *bufs,
			    unsigned int n)
{
	uint16_t head = d->next_desc;

	for (unsigned int i = 0; i < n; i++) {
		uint16_t flags = (bufs[i].writable ? CVMM_VIRTQ_DESC_F_WRITE : 0) |
				 (i + 1 < n ? CVMM_VIRTQ_DESC_F_NEXT : 0);

		vqdrv_desc(d, table_gpa, (uint16_t)i, bufs[i].gpa, bufs[i].len, flags,
			   (uint16_t)(i + 1));
	}
	vqdrv_desc(d, d->desc, head, table_gpa, 16u * n, CVMM_VIRTQ_DESC_F_INDIRECT, 0);
	d->next_desc = (uint16_t)((head + 1) % d->size);
	vqdrv_publish(d, head);
	return head;
}

int vqdrv_get_used(struct vqdrv *d, uint32_t *id, uint32_t *len)
{
	uint16_t *idxp = cvmm_mem_ptr(d->mem, d->used + 2, 2);
	uint64_t e;

	if (__atomic_load_n(idxp, __ATOMIC_ACQUIRE) == d->last_used)
		return 0;
	e = d->used + 4 + 8ull * (d->last_used % d->size);
	CVMM_MEM_GET(d->mem, e, id);
	CVMM_MEM_GET(d->mem, e + 4, len);
	d->last_used++;
	return 1;
}

void vqdrv_set_avail_flags(struct vqdrv *d, uint16_t flags)
{
	put16(d->mem, d->avail, flags);
}

void vqdrv_set_used_event(struct vqdrv *d, uint16_t v)
{
	put16(d->mem, d->avail + 4 + 2ull * d->size, v);
}

uint16_t vqdrv_avail_event(const struct vqdrv *d)
{
	return get16(d->mem, d->used + 4 + 8ull * d->size);
}

void vqdrv_set_avail_idx(struct vqdrv *d, uint16_t idx)
{
	put16(d->mem, d->avail + 2, idx);
}

static uint32_t mmio_rd(struct cvmm_virtio_mmio *m, uint64_t off)
{
	uint32_t v = 0;

	cvmm_virtio_mmio_read(m, off, &v, 4);
	return v;
}

static void mmio_wr(struct cvmm_virtio_mmio *m, uint64_t off, uint32_t v)
{
	cvmm_virtio_mmio_write(m, off, &v, 4);
}

uint64_t vqdrv_mmio_offered(struct cvmm_virtio_mmio *m)
{
	uint64_t feat;

	mmio_wr(m, 0x14, 0);
	feat = mmio_rd(m, 0x10);
	mmio_wr(m, 0x14, 1);
	return feat | (uint64_t)mmio_rd(m, 0x10) << 32;
}

#define FEATURES_DONE                                                                              \
	(CVMM_VIRTIO_STATUS_ACKNOWLEDGE | CVMM_VIRTIO_STATUS_DRIVER | CVMM_VIRTIO_STATUS_FEATURES_OK)

bool vqdrv_mmio_negotiate(struct cvmm_virtio_mmio *m, uint64_t features)
{
	mmio_wr(m, 0x70, 0);
	mmio_wr(m, 0x70, CVMM_VIRTIO_STATUS_ACKNOWLEDGE);
	mmio_wr(m, 0x70, CVMM_VIRTIO_STATUS_ACKNOWLEDGE | CVMM_VIRTIO_STATUS_DRIVER);
	mmio_wr(m, 0x24, 0);
	mmio_wr(m, 0x20, (uint32_t)features);
	mmio_wr(m, 0x24, 1);
	mmio_wr(m, 0x20, (uint32_t)(features >> 32));
	mmio_wr(m, 0x70, FEATURES_DONE);
	return mmio_rd(m, 0x70) == FEATURES_DONE;
}

void vqdrv_mmio_queue(struct cvmm_virtio_mmio *m, unsigned int q, struct vqdrv *d,
		      const struct cvmm_mem *mem, uint16_t size, uint64_t desc, uint64_t avail,
		      uint64_t used)
{
	vqdrv_init(d, mem, size, desc, avail, used);
	mmio_wr(m, 0x30, q);
	mmio_wr(m, 0x38, size);
	mmio_wr(m, 0x80, (uint32_t)desc);
	mmio_wr(m, 0x84, (uint32_t)(desc >> 32));
	mmio_wr(m, 0x90, (uint32_t)avail);
	mmio_wr(m, 0x94, (uint32_t)(avail >> 32));
	mmio_wr(m, 0xa0, (uint32_t)used);
	mmio_wr(m, 0xa4, (uint32_t)(used >> 32));
	mmio_wr(m, 0x44, 1);
}

bool vqdrv_mmio_driver_ok(struct cvmm_virtio_mmio *m)
{
	mmio_wr(m, 0x70, FEATURES_DONE | CVMM_VIRTIO_STATUS_DRIVER_OK);
	return mmio_rd(m, 0x70) == (FEATURES_DONE | CVMM_VIRTIO_STATUS_DRIVER_OK);
}
