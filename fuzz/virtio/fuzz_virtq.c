// SPDX-License-Identifier: Apache-2.0
/* Virtqueue processing over arbitrary guest memory: the input fills a small
 * guest RAM and its first bytes pick the queue size, ring addresses and
 * features. Every chain popped is read, written and pushed. */
#include <cvmm/virtio.h>
#include <stdlib.h>
#include <string.h>

#define RAM (64u * 1024)
#define MAX_POPS 512

static struct cvmm_mem *mem;

static uint64_t pick(const uint8_t *d, unsigned int i)
{
	/* Mostly inside RAM, sometimes anywhere: both must be safe. */
	uint32_t v;

	memcpy(&v, d + i, 4);
	return (v & 0x80000000u) ? (uint64_t)v << 16 : v % RAM;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct iovec iov[256];
	struct cvmm_virtq_chain c;
	struct cvmm_virtq *vq;
	uint8_t scratch[512];

	if (size < 16)
		return 0;
	if (!mem && cvmm_mem_create(&mem, RAM, NULL) < 0)
		abort();
	cvmm_mem_fill(mem, 0, 0, RAM);
	cvmm_mem_write(mem, 0, data + 16, size - 16 < RAM ? size - 16 : RAM);
	if (cvmm_virtq_create(&vq, mem, 256) < 0)
		abort();
	cvmm_virtq_set_size(vq, 1u << (data[0] % 10)); /* 1..512: some too big */
	cvmm_virtq_set_addr(vq, pick(data, 1), pick(data, 5), pick(data, 9));
	if (cvmm_virtq_enable(vq, (data[13] & 1) ? CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_EVENT_IDX) : 0) ==
	    0) {
		cvmm_virtq_chain_init(&c, iov, (data[14] & 1) ? 256 : 8);
		for (int i = 0; i < MAX_POPS && cvmm_virtq_pop(vq, &c) == 1; i++) {
			struct iovec out[8];

			while (cvmm_virtq_chain_read(&c, scratch, sizeof(scratch)))
				;
			cvmm_virtq_chain_write(&c, scratch, data[15]);
			cvmm_virtq_chain_iov(&c, true, data[15] % 7, data[14], out, 8);
			cvmm_virtq_push(vq, &c, (uint32_t)c.written);
			cvmm_virtq_needs_notify(vq);
		}
	}
	cvmm_virtq_destroy(vq);
	return 0;
}
