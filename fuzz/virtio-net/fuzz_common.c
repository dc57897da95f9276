// SPDX-License-Identifier: Apache-2.0
#include "fuzz_common.h"
#include "vq_check.h"

#include <cvmm/virtio.h>
#include <stdlib.h>

#include <string.h>

struct d16 {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

int walk_chain(const uint8_t *ram, uint64_t desc, uint32_t qsz, uint16_t head, struct buf *out,
	       int cap)
{
	uint64_t table = desc;
	uint32_t size = qsz, i = head;
	int n = 0;

	for (uint32_t steps = 0; steps <= 2 * qsz + 2; steps++) {
		struct d16 d;

		uint64_t at = table + 16ull * i;

		if (i >= size || at > RAM - sizeof(d))
			return -1;
		memcpy(&d, ram + at, sizeof(d));
		if (d.flags & CVMM_VIRTQ_DESC_F_INDIRECT) {
			if (table != desc || d.len % 16 || d.len == 0 || d.len / 16 > qsz)
				return -1;
			table = d.addr;
			size = d.len / 16;
			i = 0;
			continue;
		}
		if (d.len && (d.addr > RAM || d.len > RAM - d.addr))
			return -1;
		if (d.len && n < cap)
			out[n++] = (struct buf){d.addr, d.len, d.flags & CVMM_VIRTQ_DESC_F_WRITE};
		if (!(d.flags & CVMM_VIRTQ_DESC_F_NEXT))
			return n;
		i = d.next;
	}
	return -1;
}

struct net_fuzz fz;

static void quiet(void *o, const char *line)
{
	(void)o;
	(void)line;
}

void fz_init(const struct cvmm_virtio_net_backend_ops *ops)
{
	static struct cvmm_virtio_net_backend be;
	struct cvmm_virtio_mmio_opts mo = {.log = quiet};

	fz.be_fd = cvmm_eventfd_open();
	if (fz.be_fd < 0 || cvmm_mem_create(&fz.mem, RAM, NULL) < 0 ||
	    cvmm_loop_create(&fz.loop) < 0)
		abort();
	vq_check_init(fz.mem, RAM);
	fz.ram = cvmm_mem_ptr(fz.mem, 0, RAM);
	be = (struct cvmm_virtio_net_backend){.ops = ops, .fd = fz.be_fd};
	if (cvmm_virtio_net_create(&fz.net, &(struct cvmm_virtio_net_opts){.backend = &be,
									   .loop = fz.loop,
									   .queue_size = 64}) < 0)
		abort();
	mo.mem = fz.mem;
	mo.loop = fz.loop;
	mo.dev = cvmm_virtio_net_device(fz.net);
	if (cvmm_virtio_mmio_create(&fz.m, &mo) < 0)
		abort();
}

void fz_wr(uint64_t off, uint32_t v)
{
	cvmm_virtio_mmio_write(fz.m, off, &v, 4);
}

static void queue(unsigned int q, uint32_t qsz, uint64_t desc, uint64_t avail, uint64_t used)
{
	fz_wr(0x30, q);
	fz_wr(0x38, qsz);
	fz_wr(0x80, (uint32_t)desc);
	fz_wr(0x90, (uint32_t)avail);
	fz_wr(0xa0, (uint32_t)used);
	fz_wr(0x44, 1);
}

void fz_activate(uint64_t features, uint32_t rx_qsz, uint32_t tx_qsz)
{
	fz_wr(0x70, 1);
	fz_wr(0x70, 3);
	fz_wr(0x24, 1);
	fz_wr(0x20, (uint32_t)(features >> 32));
	fz_wr(0x24, 0);
	fz_wr(0x20, (uint32_t)features);
	fz_wr(0x70, 11);
	queue(0, rx_qsz, RX_DESC, RX_AVAIL, RX_USED);
	queue(1, tx_qsz, TX_DESC, TX_AVAIL, TX_USED);
	fz_wr(0x70, 15);
}
