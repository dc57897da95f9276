// SPDX-License-Identifier: Apache-2.0
/* virtio-net: config space, features, offload mapping, RX placement (with and
 * without MRG_RXBUF), TX gathering, drops, backpressure, reset. */
#include "netfx.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define F(x) CVMM_VIRTIO_BIT(CVMM_VIRTIO_NET_F_##x)

static uint16_t hdr16(struct fx *f, uint64_t gpa, unsigned int off)
{
	uint16_t v = 0;

	cvmm_mem_read(f->mem, gpa + off, &v, 2);
	return v;
}

static void test_config_and_features(void **state)
{
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	struct fx *f = fx_new(&(struct fx_opts){.mac = mac, .mtu = 9000});
	uint64_t want = F(CSUM) | F(GUEST_CSUM) | F(GUEST_TSO4) | F(GUEST_TSO6) | F(GUEST_UFO) |
			F(HOST_TSO4) | F(HOST_TSO6) | F(HOST_UFO) | F(MRG_RXBUF) | F(STATUS) |
			F(MAC) | F(MTU) | CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_EVENT_IDX) |
			CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_VERSION_1);
	uint8_t cfg[12];

	(void)state;
	assert_int_equal(offered(f) & want, want);
	assert_int_equal(offered(f) & F(GUEST_ECN), 0);
	assert_int_equal(rd(f, 0x08), CVMM_VIRTIO_ID_NET);
	for (unsigned int i = 0; i < sizeof(cfg); i++)
		cvmm_virtio_mmio_read(f->m, 0x100 + i, &cfg[i], 1);
	assert_memory_equal(cfg, mac, 6);
	assert_int_equal(cfg[6] | cfg[7] << 8, CVMM_VIRTIO_NET_S_LINK_UP);
	assert_int_equal(cfg[8] | cfg[9] << 8, 1);
	assert_int_equal(cfg[10] | cfg[11] << 8, 9000);
	fx_free(f);
	/* Without mac= and mtu=: neither feature. */
	f = fx_new(&(struct fx_opts){0});
	assert_int_equal(offered(f) & (F(MAC) | F(MTU)), 0);
	fx_free(f);
}

static void test_offload_mapping(void **state)
{
	(void)state;
	assert_int_equal(cvmm_virtio_net_tun_offloads(0), 0);
	assert_int_equal(cvmm_virtio_net_tun_offloads(F(GUEST_CSUM)), TUN_F_CSUM);
	assert_int_equal(cvmm_virtio_net_tun_offloads(F(GUEST_CSUM) | F(GUEST_TSO4)),
			 TUN_F_CSUM | TUN_F_TSO4);
	assert_int_equal(
	    cvmm_virtio_net_tun_offloads(F(GUEST_CSUM) | F(GUEST_TSO6) | F(GUEST_UFO)),
	    TUN_F_CSUM | TUN_F_TSO6 | TUN_F_UFO);
	/* Segmentation without checksums is refused by the TAP driver: none. */
	assert_int_equal(cvmm_virtio_net_tun_offloads(F(GUEST_TSO4) | F(GUEST_TSO6)), 0);
	/* Host (TX) offloads do not change what the back end hands over. */
	assert_int_equal(cvmm_virtio_net_tun_offloads(F(HOST_TSO4) | F(CSUM)), 0);
}

/* set_offload follows the acked features at activation, and 0 after reset. */
static void test_offload_follows_ack(void **state)
{
	struct fx *f = *state;

	assert_int_equal(f->offloads, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_UFO);
	wr(f, 0x70, 0);
	assert_int_equal(f->offloads, 0);
	assert_true(negotiate(f, F(GUEST_TSO4) | F(GUEST_UFO)));
	assert_int_equal(f->offloads, TUN_F_CSUM | TUN_F_TSO6);
	wr(f, 0x70, 0);
	assert_true(negotiate(f, F(GUEST_CSUM)));
	assert_int_equal(f->offloads, 0);
}

/* With MRG_RXBUF a frame spans chains in order; num_buffers counts them. */
static void test_rx_mrg_spans_chains(void **state)
{
	struct fx *f = *state;
	uint8_t *buf = malloc(5000);
	uint32_t id, len, lens[3];
	uint16_t heads[40];

	for (unsigned int i = 0; i < 40; i++) /* 80 KiB >= 65562 */
		heads[i] = post_rx(f, RXBUF + 2048ull * i, 2048, 1);
	peer_send(f, 0, 4988, 3);
	kick(f, 0);
	for (unsigned int i = 0; i < 3; i++) {
		assert_true(wait_used(f, &f->rx, &id, &len));
		assert_int_equal(id, heads[i]);
		lens[i] = len;
	}
	assert_int_equal(lens[0], 2048);
	assert_int_equal(lens[1], 2048);
	assert_int_equal(lens[2], 5000 - 4096);
	assert_false(vqdrv_get_used(&f->rx, &id, &len));
	assert_int_equal(hdr16(f, RXBUF, 10), 3);
	assert_int_equal(cvmm_mem_read(f->mem, RXBUF, buf, 5000), 0);
	assert_true(is_pattern(buf + 12, 4988, 3, 0));
	/* The next frame starts in the fourth chain, with num_buffers 1. */
	peer_send(f, 0, 100, 4);
	assert_true(wait_used(f, &f->rx, &id, &len));
	assert_int_equal(id, heads[3]);
	assert_int_equal(len, 112);
	assert_int_equal(hdr16(f, RXBUF + 3 * 2048, 10), 1);
	assert_int_equal(stats(f).rx_frames, 2);
	assert_int_equal(stats(f).rx_bytes, 4988 + 100);
	free(buf);
}

/* A header split over two descriptors of one chain is filled in place. */
static void test_rx_header_split(void **state)
{
	struct fx *f = *state;
	struct vqdrv_buf b[2] = {{RXBUF, 4, true}, {RXBUF + 0x1000, 65558, true}};
	uint8_t data[100];
	uint32_t id, len;

	vqdrv_add(&f->rx, b, 2);
	peer_send(f, CVMM_VIRTIO_NET_HDR_F_DATA_VALID, 88, 9);
	kick(f, 0);
	assert_true(wait_used(f, &f->rx, &id, &len));
	assert_int_equal(len, 100);
	assert_int_equal(hdr16(f, RXBUF + 0x1000, 6), 1); /* num_buffers at offset 10 */
	/* GUEST_CSUM acked: DATA_VALID is passed on. */
	cvmm_mem_read(f->mem, RXBUF, data, 1);
	assert_int_equal(data[0], CVMM_VIRTIO_NET_HDR_F_DATA_VALID);
	cvmm_mem_read(f->mem, RXBUF + 0x1000 + 8, data, 88);
	assert_true(is_pattern(data, 88, 9, 0));
}

/* Without MRG_RXBUF: one chain per frame, at least 12 + 14 + 1500 bytes;
 * smaller ones come back empty; without GUEST_CSUM, flags are cleared. */
static void test_rx_nomrg_min_size(void **state)
{
	struct fx *f = *state;
	uint32_t id, len;
	uint16_t small, big;
	uint8_t flags = 0xff;

	small = post_rx(f, RXBUF, 1525, 1);
	big = post_rx(f, RXBUF + 0x1000, 1526, 1);
	peer_send(f, CVMM_VIRTIO_NET_HDR_F_DATA_VALID, 1514, 5);
	kick(f, 0);
	assert_true(wait_used(f, &f->rx, &id, &len));
	assert_int_equal(id, small);
	assert_int_equal(len, 0);
	assert_true(wait_used(f, &f->rx, &id, &len));
	assert_int_equal(id, big);
	assert_int_equal(len, 1526);
	assert_int_equal(hdr16(f, RXBUF + 0x1000, 10), 1);
	cvmm_mem_read(f->mem, RXBUF + 0x1000, &flags, 1);
	assert_int_equal(flags, 0);
	assert_int_equal(stats(f).rx_drop_bad_buffer, 1);
	assert_int_equal(f->offloads, 0);
}

/* A frame larger than the room is dropped; the chain takes the next one. */
static void test_rx_oversize(void **state)
{
	struct fx *f = *state;
	uint32_t id, len;
	uint16_t head;

	head = post_rx(f, RXBUF, 1600, 1);
	peer_send(f, 0, 3000, 1);
	peer_send(f, 0, 60, 2);
	kick(f, 0);
	assert_true(wait_used(f, &f->rx, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(len, 72);
	assert_int_equal(stats(f).rx_drop_oversize, 1);
	assert_int_equal(stats(f).rx_frames, 1);
}

/* No buffers: the back end is not read (the frame waits in it, and the loop
 * has nothing to run); posting buffers and notifying resumes. */
static void test_rx_backpressure(void **state)
{
	struct fx *f = *state;
	uint32_t id, len;

	peer_send(f, 0, 500, 6);
	spin(f);
	assert_int_equal(cvmm_loop_run_once(f->loop, 0), 0);
	assert_int_equal(recv(f->sock[0], NULL, 0, MSG_PEEK | MSG_DONTWAIT), 0);
	/* Too little room for a GSO-sized frame: still waiting. */
	post_rx(f, RXBUF, 4096, 1);
	kick(f, 0);
	spin(f);
	assert_false(vqdrv_get_used(&f->rx, &id, &len));
	assert_int_equal(cvmm_loop_run_once(f->loop, 0), 0);
	for (unsigned int i = 1; i < 20; i++)
		post_rx(f, RXBUF + 4096ull * i, 4096, 1);
	kick(f, 0);
	assert_true(wait_used(f, &f->rx, &id, &len));
	assert_int_equal(len, 512);
}

/* Every buffer of a small ring posted, fewer bytes than a GSO frame: frames
 * that fit are still taken (no stall). */
static void test_rx_whole_ring_small(void **state)
{
	struct fx *f = *state;
	uint32_t id, len;

	for (unsigned int i = 0; i < QSZ; i++)
		post_rx(f, RXBUF + 256ull * i, 256, 1); /* 16 KiB in all */
	peer_send(f, 0, 1000, 7);
	kick(f, 0);
	for (unsigned int i = 0; i < 4; i++) {
		assert_true(wait_used(f, &f->rx, &id, &len));
		assert_int_equal(len, i < 3 ? 256 : 1012 - 768);
	}
}

/* Chains the device cannot use: device-readable parts, smaller than the
 * header with MRG_RXBUF. Returned empty; later frames still land. */
static void test_rx_bad_chains(void **state)
{
	struct fx *f = *state;
	struct vqdrv_buf ro[2] = {{RXBUF, 64, false}, {RXBUF + 64, 4096, true}};
	uint32_t id, len;
	uint16_t h1, h2;

	h1 = vqdrv_add(&f->rx, ro, 2);
	h2 = post_rx(f, RXBUF + 0x2000, 8, 1);
	for (unsigned int i = 0; i < 20; i++)
		post_rx(f, RXBUF + 0x4000 + 4096ull * i, 4096, 1);
	peer_send(f, 0, 64, 1);
	kick(f, 0);
	assert_true(wait_used(f, &f->rx, &id, &len));
	assert_int_equal(id, h1);
	assert_int_equal(len, 0);
	assert_true(wait_used(f, &f->rx, &id, &len));
	assert_int_equal(id, h2);
	assert_int_equal(len, 0);
	assert_true(wait_used(f, &f->rx, &id, &len));
	assert_int_equal(len, 76);
	assert_int_equal(stats(f).rx_drop_bad_buffer, 2);
}

/* TX: header and frame gathered from any split, sent as one datagram. */
static void test_tx_gather(void **state)
{
	struct fx *f = *state;
	uint8_t hdr[12] = {0}, out[4096];
	uint32_t id, len;
	uint16_t head;

	head = add_tx(f, hdr, 100, 8, 5); /* header over 3 descriptors */
	kick(f, 1);
	assert_int_equal(peer_recv(f, out, sizeof(out)), 112);
	assert_memory_equal(out, hdr, 12);
	assert_true(is_pattern(out + 12, 100, 8, 0));
	assert_true(wait_used(f, &f->tx, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(len, 0);
	assert_int_equal(stats(f).tx_frames, 1);
	assert_int_equal(stats(f).tx_bytes, 100);
}

static void expect_tx_drop(struct fx *f, const uint8_t hdr[12], uint32_t frame_len)
{
	uint8_t ok[12] = {0}, out[256];
	uint32_t id, len;

	add_tx(f, hdr, frame_len, 1, 4096);
	kick(f, 1);
	assert_true(wait_used(f, &f->tx, &id, &len));
	assert_int_equal(len, 0);
	/* Still working: a good frame goes through, and only it. */
	add_tx(f, ok, 100, 2, 0);
	kick(f, 1);
	assert_int_equal(peer_recv(f, out, sizeof(out)), 112);
	assert_true(is_pattern(out + 12, 100, 2, 0));
	assert_true(wait_used(f, &f->tx, &id, &len));
}

static void test_tx_drops(void **state)
{
	struct fx *f = *state;
	uint8_t h[12] = {0};
	struct cvmm_virtio_net_stats s;

	expect_tx_drop(f, h, CVMM_VIRTIO_NET_MAX_FRAME - 12 + 1); /* oversize */
	expect_tx_drop(f, h, 13);				  /* shorter than Ethernet */
	h[0] = CVMM_VIRTIO_NET_HDR_F_DATA_VALID;		  /* not for TX */
	expect_tx_drop(f, h, 100);
	h[0] = CVMM_VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h[6] = 90; /* csum_start 90 + csum_offset 9 + 2 > 100 */
	h[8] = 9;
	expect_tx_drop(f, h, 100);
	memset(h, 0, sizeof(h));
	h[1] = CVMM_VIRTIO_NET_HDR_GSO_TCPV4 | CVMM_VIRTIO_NET_HDR_GSO_ECN;
	h[4] = 100;
	expect_tx_drop(f, h, 200);
	h[1] = CVMM_VIRTIO_NET_HDR_GSO_TCPV4;
	h[4] = 0; /* gso_size 0 */
	expect_tx_drop(f, h, 200);
	h[1] = 2; /* unknown GSO type */
	h[4] = 100;
	expect_tx_drop(f, h, 200);
	f->send_fails = true;
	h[1] = 0;
	add_tx(f, h, 100, 1, 0);
	kick(f, 1);
	{
		uint32_t id, len;

		assert_true(wait_used(f, &f->tx, &id, &len));
	}
	f->send_fails = false;
	s = stats(f);
	assert_int_equal(s.tx_drop_oversize, 1);
	assert_int_equal(s.tx_drop_short, 1);
	assert_int_equal(s.tx_drop_bad_header, 5);
	assert_int_equal(s.tx_drop_backend, 1);
	assert_int_equal(s.tx_frames, 7);
}

/* A GSO header is accepted only for the HOST_* features the driver acked. */
static void test_tx_gso_needs_feature(void **state)
{
	struct fx *f = *state;
	uint8_t h[12] = {CVMM_VIRTIO_NET_HDR_F_NEEDS_CSUM, CVMM_VIRTIO_NET_HDR_GSO_TCPV4, 54, 0,
			 0x5a, 0x05, 34, 0, 16, 0, 0, 0};
	uint8_t out[4096];

	add_tx(f, h, 3000, 3, 0);
	kick(f, 1);
	assert_int_equal(peer_recv(f, out, sizeof(out)), 3012);
	assert_memory_equal(out, h, 12);
	wr(f, 0x70, 0);
	assert_true(negotiate(f, F(HOST_TSO4)));
	expect_tx_drop(f, h, 3000);
	assert_int_equal(stats(f).tx_drop_bad_header, 1);
}

/* The guest resets with buffers held and a frame waiting for room; after
 * re-activation, on fresh rings, the frame arrives whole. */
static void test_reset_mid_frame(void **state)
{
	struct fx *f = *state;
	uint8_t buf[3012];
	uint32_t id, len;

	post_rx(f, RXBUF, 2048, 1);
	peer_send(f, 0, 3000, 4);
	kick(f, 0);
	spin(f);
	wr(f, 0x70, 0);
	assert_int_equal(rd(f, 0x70), 0);
	assert_true(negotiate(f, 0));
	for (unsigned int i = 0; i < 40; i++)
		post_rx(f, RXBUF + 0x10000 + 2048ull * i, 2048, 1);
	kick(f, 0);
	assert_true(wait_used(f, &f->rx, &id, &len));
	assert_int_equal(len, 2048);
	assert_true(wait_used(f, &f->rx, &id, &len));
	assert_int_equal(len, 3012 - 2048);
	cvmm_mem_read(f->mem, RXBUF + 0x10000, buf, sizeof(buf));
	assert_int_equal(buf[10] | buf[11] << 8, 2);
	assert_true(is_pattern(buf + 12, 3000, 4, 0));
}

/* A malformed RX ring: NEEDS_RESET; the TX queue and a reset recover. */
static void test_bad_ring(void **state)
{
	struct fx *f = *state;
	uint32_t id, len;

	vqdrv_desc(&f->rx, RX_DESC, 0, RAM - 16, 4096, CVMM_VIRTQ_DESC_F_WRITE, 0);
	vqdrv_publish(&f->rx, 0);
	kick(f, 0);
	assert_true(wait_status(f, CVMM_VIRTIO_STATUS_NEEDS_RESET));
	assert_true(negotiate(f, 0));
	post_rx(f, RXBUF, 65562, 1);
	peer_send(f, 0, 64, 1);
	kick(f, 0);
	assert_true(wait_used(f, &f->rx, &id, &len));
	assert_int_equal(len, 76);
}

static void test_bad_options(void **state)
{
	struct fx *f = *state;
	struct cvmm_virtio_net_opts o = {.backend = &f->be, .loop = f->loop, .mem = f->mem};
	struct cvmm_ratelimit_cfg lim = {.ops = {.size = 1, .refill_time_ms = 1000}};
	struct cvmm_virtio_net *n = NULL;

	o.mtu = 67;
	assert_int_equal(cvmm_virtio_net_create(&n, &o), -EINVAL);
	assert_non_null(strstr(cvmm_err_msg(), "mtu"));
	o.mtu = 0;
	o.queue_size = 1024;
	assert_int_equal(cvmm_virtio_net_create(&n, &o), -EINVAL);
	o.queue_size = 0;
	o.vhost_path = "/dev/cvmm-no-vhost";
	assert_int_equal(cvmm_virtio_net_create(&n, &o), -ENOENT);
	assert_non_null(strstr(cvmm_err_msg(), "/dev/cvmm-no-vhost"));
	o.rx_limit = &lim;
	assert_int_equal(cvmm_virtio_net_create(&n, &o), -EINVAL);
	assert_non_null(strstr(cvmm_err_msg(), "vhost"));
	assert_null(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config_and_features),
	    cmocka_unit_test(test_offload_mapping),
	    cmocka_unit_test_setup_teardown(test_offload_follows_ack, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_mrg_spans_chains, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_header_split, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_nomrg_min_size, setup_nomrg, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_oversize, setup_nomrg, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_backpressure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_whole_ring_small, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_bad_chains, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tx_gather, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tx_drops, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tx_gso_needs_feature, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_mid_frame, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_ring, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
