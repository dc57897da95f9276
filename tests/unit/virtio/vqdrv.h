/* SPDX-License-Identifier: Apache-2.0 */
/* A simulated virtio driver for tests: lays out a split ring in a cvmm_mem,
 * adds chains and collects used elements, like a guest would. */
#ifndef CVMM_TEST_VQDRV_H
#define CVMM_TEST_VQDRV_H

#include <cvmm/memory.h>
#include <stdbool.h>
#include <stdint.h>

struct vqdrv_buf {
	uint64_t gpa;
	uint32_t len;
	bool writable;
};

struct vqdrv {
	const struct cvmm_mem *mem;
	uint16_t size;
	uint64_t desc, avail, used;
	uint16_t next_desc; /* descriptors are handed out round-robin */
	uint16_t avail_idx;
	uint16_t last_used;
};

/* Rings at the given addresses, zeroed here. */
void vqdrv_init(struct vqdrv *d, const struct cvmm_mem *mem, uint16_t size, uint64_t desc,
		uint64_t avail, uint64_t used);
/* Write descriptor i of the table at table_gpa. */
void vqdrv_desc(const struct vqdrv *d, uint64_t table_gpa, uint16_t i, uint64_t addr, uint32_t len,
		uint16_t flags, uint16_t next);
/* Put head in the avail ring and publish it (release). */
void vqdrv_publish(struct vqdrv *d, uint16_t head);
/* Add and publish a direct chain of n buffers; returns the head. */
uint16_t vqdrv_add(struct vqdrv *d, const struct vqdrv_buf *bufs, unsigned int n);
/* Add and publish one indirect descriptor whose table (at table_gpa) holds the
 * n buffers; returns the head. */
uint16_t vqdrv_add_indirect(struct vqdrv *d, uint64_t table_gpa, const struct vqdrv_buf *bufs,
			    unsigned int n);
/* Take the next used element: 1 and fills id and len, or 0 if none. */
int vqdrv_get_used(struct vqdrv *d, uint32_t *id, uint32_t *len);
void vqdrv_set_avail_flags(struct vqdrv *d, uint16_t flags);
void vqdrv_set_used_event(struct vqdrv *d, uint16_t v);
uint16_t vqdrv_avail_event(const struct vqdrv *d);
/* Overwrite avail->idx (for malformed-ring tests). */
void vqdrv_set_avail_idx(struct vqdrv *d, uint16_t idx);

/* The driver's side of a virtio-mmio transport, as the guest kernel does it. */
struct cvmm_virtio_mmio;
/* Every feature the device offers. */
uint64_t vqdrv_mmio_offered(struct cvmm_virtio_mmio *m);
/* Reset, ACKNOWLEDGE, DRIVER, write features, FEATURES_OK: true if the
 * device kept FEATURES_OK. */
bool vqdrv_mmio_negotiate(struct cvmm_virtio_mmio *m, uint64_t features);
/* vqdrv_init(d, ...) and queue q's size, addresses and QueueReady. */
void vqdrv_mmio_queue(struct cvmm_virtio_mmio *m, unsigned int q, struct vqdrv *d,
		      const struct cvmm_mem *mem, uint16_t size, uint64_t desc, uint64_t avail,
		      uint64_t used);
/* Set DRIVER_OK: true if the device took it without NEEDS_RESET. */
bool vqdrv_mmio_driver_ok(struct cvmm_virtio_mmio *m);

#endif
