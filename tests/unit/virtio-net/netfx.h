/* SPDX-License-Identifier: Apache-2.0 */
/* Fixture shared by the virtio-net tests: guest RAM, a loop, the device on a
 * virtio-mmio transport with a socketpair back end (frames are datagrams,
 * header first, as a TAP with IFF_VNET_HDR would exchange them), and a
 * simulated driver on each queue. */
#ifndef CVMM_TEST_NETFX_H
#define CVMM_TEST_NETFX_H

/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cvmm/virtio-net.h>
#include <stdbool.h>

#include "vqdrv.h"

#define RAM (8u << 20)
#define QSZ 64
#define RX_DESC 0x1000
#define RX_AVAIL 0x2000
#define RX_USED 0x3000
#define TX_DESC 0x5000
#define TX_AVAIL 0x6000
#define TX_USED 0x7000
#define RXBUF 0x100000 /* receive buffers from here */
#define TXBUF 0x400000 /* transmit buffers from here */

struct fx {
	struct cvmm_mem *mem;
	struct cvmm_loop *loop;
	int sock[2]; /* [0]: the device's back end, [1]: the peer (the test) */
	struct cvmm_virtio_net_backend be;
	unsigned int offload_calls;
	unsigned int offloads; /* last set_offload flags */
	bool send_fails;       /* the back end refuses frames */
	struct cvmm_virtio_net *net;
	struct cvmm_virtio_mmio *m;
	struct vqdrv rx, tx;
	uint64_t acked;
};

/* Device options used by setup_with(); tests may change them first. */
struct fx_opts {
	const uint8_t *mac;
	uint16_t mtu;
	const struct cvmm_ratelimit_cfg *rx_limit, *tx_limit;
	uint64_t drop_features; /* offered features the driver does not ack */
};

/* Build everything and negotiate (asserts). */
struct fx *fx_new(const struct fx_opts *o);
void fx_free(struct fx *f);
/* cmocka setups: default options (all features acked), or without MRG_RXBUF
 * and guest offloads (GUEST_CSUM included). */
int setup(void **state);
int setup_nomrg(void **state);
int teardown(void **state);

uint32_t rd(struct fx *f, uint64_t off);
void wr(struct fx *f, uint64_t off, uint32_t v);
/* Negotiate all offered features but drop, set up both queues, DRIVER_OK.
 * Returns whether the device took DRIVER_OK. */
bool negotiate(struct fx *f, uint64_t drop);
uint64_t offered(struct fx *f);

/* Post one RX chain of n writable buffers of len bytes each at gpa..
 * (consecutive); returns the head. */
uint16_t post_rx(struct fx *f, uint64_t gpa, uint32_t len, unsigned int n);
/* Notify queue q. */
void kick(struct fx *f, unsigned int q);
/* Drive the loop until a used element arrives on drv (bounded). */
int wait_used(struct fx *f, struct vqdrv *drv, uint32_t *id, uint32_t *len);
/* Drive the loop a few turns without waiting. */
void spin(struct fx *f);
/* Drive the loop until Status has all of bits (bounded). */
bool wait_status(struct fx *f, uint32_t bits);

/* The peer sends a frame: a 12-byte header (flags, gso) then len payload
 * bytes of pattern seed; returns the datagram length. */
size_t peer_send(struct fx *f, uint8_t flags, uint32_t len, uint8_t seed);
/* The peer receives a frame (bounded wait, driving the loop): its length, or
 * -1 if none came. */
ssize_t peer_recv(struct fx *f, uint8_t *buf, size_t cap);
/* Whether buf[0..len) holds pattern seed. */
bool is_pattern(const uint8_t *buf, size_t len, uint8_t seed, size_t start);
void fill_pattern(uint8_t *buf, size_t len, uint8_t seed, size_t start);

/* Add a TX chain: a header and then frame bytes, split into buffers of at
 * most split bytes each (0: one buffer for all). Returns the head. */
uint16_t add_tx(struct fx *f, const uint8_t hdr[12], uint32_t frame_len, uint8_t seed,
		uint32_t split);

struct cvmm_virtio_net_stats stats(struct fx *f);

#endif
