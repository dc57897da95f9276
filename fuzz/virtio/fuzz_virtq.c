// SPDX-License-Identifier: Apache-2.0
/* Virtqueue processing over arbitrary guest memory: the input fills a small
 * guest RAM and its first bytes pick the queue size, ring addresses,
 * features and how the device holds chains. Chains are popped a few at a
 * time, read, written and pushed back in or out of order; vq_check.c traps on
 * any broken contract (buffers outside RAM, a head completed twice, a used
 * index that does not follow the pushes...). */
#include <cvmm/virtio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vq_check.h"

#define RAM (64u * 1024)
#define MAX_POPS 512
#define MAX_HELD 8
#define IOV_CAP 256

static struct cvmm_mem *mem;

static uint64_t pick(const uint8_t *d, unsigned int i)
{
	/* Mostly inside RAM, sometimes anywhere: both must be safe. */
	uint32_t v;

	memcpy(&v, d + i, 4);
	return (v & 0x80000000u) ? (uint64_t)v << 16 : v % RAM;
}

/* Each iovec chain_iov() returns lies within one writable buffer. */
static void check_iov(const struct cvmm_virtq_chain *c, const struct iovec *out, int n)
{
	for (int k = 0; k < n; k++) {
		const uint8_t *b = out[k].iov_base;
		bool inside = false;

		for (uint32_t j = c->nr_readable; j < c->nr_readable + c->nr_writable; j++) {
			const uint8_t *s = c->iov[j].iov_base;

			inside |= b >= s && out[k].iov_len <= c->iov[j].iov_len &&
				  (size_t)(b - s) <= c->iov[j].iov_len - out[k].iov_len;
		}
		if (!inside || out[k].iov_len == 0)
			vq_check_fail("chain_iov piece %d outside the writable buffers", k);
	}
}

/* What a device does with a chain before pushing it. */
static void consume(struct cvmm_virtq_chain *c, const uint8_t *data)
{
	uint8_t scratch[512];
	struct iovec out[8];
	uint64_t want = data[15] < c->writable_len ? data[15] : c->writable_len;
	int n;

	while (cvmm_virtq_chain_read(c, scratch, sizeof(scratch)))
		;
	if (c->read != c->readable_len)
		vq_check_fail("read %llu of %llu readable bytes", (unsigned long long)c->read,
			      (unsigned long long)c->readable_len);
	memset(scratch, data[14], sizeof(scratch));
	if (cvmm_virtq_chain_write(c, scratch, data[15]) != want || c->written != want)
		vq_check_fail("wrote %llu, want %llu", (unsigned long long)c->written,
			      (unsigned long long)want);
	n = cvmm_virtq_chain_iov(c, true, data[15] % 7, data[14], out, 8);
	if (n > 8 || (n < 0 && n != -ERANGE && n != -E2BIG))
		vq_check_fail("chain_iov returned %d", n);
	if (n > 0)
		check_iov(c, out, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct iovec iov[MAX_HELD][IOV_CAP];
	struct cvmm_virtq_chain c[MAX_HELD];
	struct cvmm_virtq *vq;
	unsigned int held, pops = 0;
	bool reverse;

	if (size < 16)
		return 0;
	if (!mem) {
		if (cvmm_mem_create(&mem, RAM, NULL) < 0)
			abort();
		vq_check_init(mem, RAM);
	}
	cvmm_mem_fill(mem, 0, 0, RAM);
	cvmm_mem_write(mem, 0, data + 16, size - 16 < RAM ? size - 16 : RAM);
	if (cvmm_virtq_create(&vq, mem, 256) < 0)
		abort();
	cvmm_virtq_set_size(vq, 1u << (data[0] % 10)); /* 1..512: some too big */
	cvmm_virtq_set_addr(vq, pick(data, 1), pick(data, 5), pick(data, 9));
	held = 1 + (data[13] >> 1) % MAX_HELD;
	reverse = data[13] & 0x10;
	for (unsigned int i = 0; i < MAX_HELD; i++)
		cvmm_virtq_chain_init(&c[i], iov[i], (data[14] & 1) ? IOV_CAP : 8);
	if (cvmm_virtq_enable(vq, (data[13] & 1) ? CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_EVENT_IDX) : 0) ==
	    0) {
		while (pops < MAX_POPS) {
			unsigned int n = 0;

			while (n < held && cvmm_virtq_pop(vq, &c[n]) == 1) {
				consume(&c[n], data);
				n++;
			}
			for (unsigned int i = 0; i < n; i++) {
				struct cvmm_virtq_chain *p = &c[reverse ? n - 1 - i : i];

				cvmm_virtq_push(vq, p, (uint32_t)p->written);
			}
			cvmm_virtq_needs_notify(vq);
			pops += n;
			if (n < held)
				break;
		}
		if (vq_check_in_flight(vq))
			vq_check_fail("%u chains left in flight", vq_check_in_flight(vq));
	}
	cvmm_virtq_destroy(vq);
	return 0;
}
