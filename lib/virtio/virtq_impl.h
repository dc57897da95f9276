/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to cvmm-virtio: virtqueue state and the ring-format ops table. */
#ifndef CVMM_VIRTIO_VIRTQ_IMPL_H
#define CVMM_VIRTIO_VIRTQ_IMPL_H

#include <cvmm/virtio.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "cvmm-virtio supports little-endian hosts only"
#endif

/* One ring format (split today, packed later) behind the public calls. */
struct virtq_ops {
	int (*enable)(struct cvmm_virtq *vq);
	int (*pop)(struct cvmm_virtq *vq, struct cvmm_virtq_chain *c);
	int (*push)(struct cvmm_virtq *vq, const struct cvmm_virtq_chain *c, uint32_t len);
	bool (*needs_notify)(struct cvmm_virtq *vq);
};

struct split_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct split_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[]; /* size entries, then used_event */
};

struct split_used_elem {
	uint32_t id;
	uint32_t len;
};

struct split_used {
	uint16_t flags;
	uint16_t idx;
	struct split_used_elem ring[]; /* size entries, then avail_event */
};

struct cvmm_virtq {
	const struct virtq_ops *ops; /* NULL while disabled */
	const struct cvmm_mem *mem;
	uint16_t max_size;
	uint32_t size;
	uint64_t desc_gpa, driver_gpa, device_gpa;
	bool broken;
	bool event_idx;
	/* Split ring: host views validated by enable. */
	struct split_desc *desc;
	struct split_avail *avail;
	struct split_used *used;
	uint16_t *used_event;  /* in the avail ring */
	uint16_t *avail_event; /* in the used ring */
	uint16_t last_avail;   /* next avail entry to consume */
	uint16_t shadow_avail; /* last avail->idx read */
	uint16_t used_idx;     /* next used entry to fill */
	uint16_t signalled;    /* used_idx at the last needs_notify */
};

extern const struct virtq_ops cvmm_virtq_split_ops __attribute__((visibility("hidden")));

/* What a transport implements for its devices. */
struct virtio_transport_ops {
	int (*notify_used)(struct cvmm_virtio_transport *t, unsigned int q);
	int (*config_changed)(struct cvmm_virtio_transport *t);
	void (*fail)(struct cvmm_virtio_transport *t, const char *msg);
	int (*queue_notify_fd)(struct cvmm_virtio_transport *t, unsigned int q);
	void (*raise_used)(struct cvmm_virtio_transport *t);
};

struct cvmm_virtio_transport {
	const struct virtio_transport_ops *ops;
};

#endif
