/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the virtio-net fuzz targets: guest RAM with the device on a
 * virtio-mmio transport, a scripted back end, and a walker that finds a
 * chain's buffers the way a pop does (for the invariant checks). */
#ifndef CVMM_FUZZ_NET_COMMON_H
#define CVMM_FUZZ_NET_COMMON_H

#include <cvmm/virtio-net.h>
#include <stdbool.h>
#include <stdint.h>

#define RAM (256u * 1024)
#define RX_DESC 0x0
#define RX_AVAIL 0x1000
#define RX_USED 0x2000
#define TX_DESC 0x3000
#define TX_AVAIL 0x4000
#define TX_USED 0x5000
#define RING_BYTES 0x1000 /* the input's ring image: [0, 0x6000) */

/* The device under test on a virtio-mmio transport, created once by
 * fz_init(); be_fd is the scripted back end's readiness eventfd. */
struct net_fuzz {
	struct cvmm_mem *mem;
	uint8_t *ram; /* the whole of it, for fast comparisons */
	struct cvmm_loop *loop;
	struct cvmm_virtio_net *net;
	struct cvmm_virtio_mmio *m;
	int be_fd;
};
extern struct net_fuzz fz;

void fz_init(const struct cvmm_virtio_net_backend_ops *ops);
void fz_wr(uint64_t off, uint32_t v);
/* The driver's handshake from reset: ack features, set up the rx and tx
 * queues with the given sizes, DRIVER_OK. */
void fz_activate(uint64_t features, uint32_t rx_qsz, uint32_t tx_qsz);

/* One buffer of a chain, in guest-physical terms. */
struct buf {
	uint64_t gpa;
	uint32_t len;
	bool writable;
};

/* The buffers of the chain at head of the table at desc (qsz entries) in
 * ram (a copy of guest RAM, RAM bytes), following NEXT and one level of
 * indirection as cvmm_virtq_pop() does; at most cap. Returns the count, or
 * -1 for a chain a pop would refuse. */
int walk_chain(const uint8_t *ram, uint64_t desc, uint32_t qsz, uint16_t head, struct buf *out,
	       int cap);

#endif
