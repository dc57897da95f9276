// SPDX-License-Identifier: Apache-2.0
/*
 * Split-virtqueue throughput on one core: a simulated driver keeps the ring
 * full of 1-descriptor chains; the device pops each, pushes it as used and
 * asks whether to notify once per batch. Prints chains/s next to the target.
 * Usage: bench-virtqueue [seconds] (default 3).
 */
#include <cvmm/virtio.h>
#include <stdio.h>
#include <stdlib.h>

#define QSZ 256u
#define RAM (1u << 20)
#define DESC 0x1000
#define AVAIL 0x3000
#define USED 0x4000
#define BUFS 0x10000
#define TARGET 30e6

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 3.0;
	struct iovec iov[QSZ];
	struct cvmm_virtq_chain c;
	struct cvmm_virtq *vq;
	struct cvmm_mem *mem;
	uint16_t *avail_idx, *avail_ring, *used_idx;
	uint16_t drv_avail = 0;
	uint64_t chains = 0, start, now, notifies = 0;

	if (cvmm_mem_create(&mem, RAM, NULL) < 0 || cvmm_virtq_create(&vq, mem, QSZ) < 0) {
		fprintf(stderr, "setup: %s\n", cvmm_err_msg());
		return 1;
	}
	/* Descriptor i permanently describes a 64-byte device-writable buffer. */
	for (uint32_t i = 0; i < QSZ; i++) {
		uint64_t addr = BUFS + 64ull * i;
		uint32_t len = 64;
		uint16_t flags = CVMM_VIRTQ_DESC_F_WRITE, next = 0;

		CVMM_MEM_PUT(mem, DESC + 16ull * i, &addr);
		CVMM_MEM_PUT(mem, DESC + 16ull * i + 8, &len);
		CVMM_MEM_PUT(mem, DESC + 16ull * i + 12, &flags);
		CVMM_MEM_PUT(mem, DESC + 16ull * i + 14, &next);
	}
	avail_idx = cvmm_mem_ptr(mem, AVAIL + 2, 2);
	avail_ring = cvmm_mem_ptr(mem, AVAIL + 4, 2 * QSZ);
	used_idx = cvmm_mem_ptr(mem, USED + 2, 2);
	cvmm_virtq_set_addr(vq, DESC, AVAIL, USED);
	if (cvmm_virtq_enable(vq, 0) < 0) {
		fprintf(stderr, "enable: %s\n", cvmm_err_msg());
		return 1;
	}
	cvmm_virtq_chain_init(&c, iov, QSZ);
	start = cvmm_now_ns();
	do {
		for (int round = 0; round < 1000; round++) {
			/* Driver: refill every slot the device has returned. */
			uint16_t used = __atomic_load_n(used_idx, __ATOMIC_ACQUIRE);

			while ((uint16_t)(drv_avail - used) < QSZ) {
				avail_ring[drv_avail % QSZ] = drv_avail % QSZ;
				drv_avail++;
			}
			__atomic_store_n(avail_idx, drv_avail, __ATOMIC_RELEASE);
			/* Device: drain the ring. */
			while (cvmm_virtq_pop(vq, &c) == 1) {
				cvmm_virtq_push(vq, &c, 0);
				chains++;
			}
			notifies += cvmm_virtq_needs_notify(vq);
		}
		now = cvmm_now_ns();
	} while (now - start < (uint64_t)(seconds * 1e9));
	printf("virtqueue: %.1f M chains/s (target >= %.0f M/s) over %.2f s, %llu notifications\n",
	       chains / ((now - start) / 1e9) / 1e6, TARGET / 1e6, (now - start) / 1e9,
	       (unsigned long long)notifies);
	cvmm_virtq_destroy(vq);
	cvmm_mem_destroy(mem);
	return 0;
}
