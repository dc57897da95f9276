// SPDX-License-Identifier: Apache-2.0
/*
 * A hostile virtio-net driver, run as root inside a test guest (built static
 * on the host, put in the initramfs by test_net_hostile.sh):
 *
 *   virtio-net-hostile BASE
 *
 * BASE is the virtio-mmio window of a network device whose TAP the host keeps
 * busy with ARP requests. The guest kernel's driver is unbound from it first;
 * rings and buffers live in locked pages of this process (guest-physical
 * addresses from /proc/self/pagemap). Then:
 *   tx-bogus:  a TX descriptor of length 0xfffff000: the device must ask for
 *              a reset (NEEDS_RESET), and the reset must return.
 *   tx-drops:  TX chains shorter than a header, with a malformed header, and
 *              of 80 KiB (> 65562), then a good one: all four completed, the
 *              device still running.
 *   rx-small:  RX chains of 8 bytes (smaller than the 12-byte header):
 *              returned with length 0 when frames arrive.
 *   rx-reset:  with MRG_RXBUF and GUEST_TSO4 acked (65562 bytes of room
 *              wanted), 4 chains of 2 KiB the device holds while frames
 *              wait; a reset then; from then on the old buffers must stay
 *              untouched, and fresh buffers after re-initialisation receive
 *              frames.
 * Progress goes to stdout as "cvmm-test: hostile-..." lines; exit status 0
 * when every step did what the spec says.
 */
#include "mmio-guest.h"

/* virtio-net feature bits (virtio 1.2, section 5.1.3) */
#define F_GUEST_CSUM (1u << 1)
#define F_GUEST_TSO4 (1u << 7)
#define F_MRG_RXBUF (1u << 15)

#define NPAGES 8u /* 0: RX rings, 1: TX rings, 2..7: buffers */
#define CANARY 0xa5

static uint8_t *dma;
static uint64_t phys[NPAGES];
static struct vq rxq, txq;

static void device_init(uint32_t features_lo)
{
	negotiate(features_lo);
	queue_init(&rxq, 0, dma, phys[0]);
	queue_init(&txq, 1, dma + PAGE, phys[1]);
	driver_ok();
}

/* Wait (at most ms) until want used entries or NEEDS_RESET; returns used->idx. */
static unsigned int settle(struct vq *v, unsigned int want, int limit_ms)
{
	for (int ms = 0; ms < limit_ms; ms += 10) {
		if (v->used->idx >= want || (rd(R_STATUS) & S_NEEDS_RESET))
			break;
		sleep_ms(10);
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	wr(R_INT_ACK, rd(R_INT_STATUS));
	return v->used->idx;
}

/* A broadcast Ethernet frame of the local experimental ethertype 0x88b5. */
static void put_frame(uint8_t *p, uint32_t len)
{
	memset(p, 0, 12); /* virtio-net header: no offloads */
	memset(p + 12, 0xff, 6);
	memcpy(p + 18, "\x52\x54\x00\xee\xee\xee\x88\xb5", 8);
	memset(p + 26, 0x5a, len - 26);
}

static void tx_bogus(void)
{
	static const uint16_t head[] = {0};

	device_init(0);
	txq.desc[0] = (struct desc){phys[2], 0xfffff000u, 0, 0};
	publish(&txq, head, 1);
	settle(&txq, 1, SETTLE_MS);
	say("tx-bogus needs_reset=%u", !!(rd(R_STATUS) & S_NEEDS_RESET));
	reset("tx-bogus");
}

static void tx_drops(void)
{
	static const uint16_t heads[] = {0, 1, 2, 6};
	unsigned int used;

	device_init(0);
	/* 5 bytes: shorter than the header. */
	txq.desc[0] = (struct desc){phys[2], 5, 0, 0};
	/* A header with every flag bit set. */
	put_frame(dma + 3 * PAGE, 60);
	dma[3 * PAGE] = 0xff;
	txq.desc[1] = (struct desc){phys[3], 60, 0, 0};
	/* 4 x 20 KiB of guest RAM at 16 MiB (read only): 80 KiB, over 65562. */
	for (uint16_t i = 2; i < 6; i++)
		txq.desc[i] = (struct desc){0x1000000u + (i - 2) * 20480u, 20480,
					    i < 5 ? D_NEXT : 0, (uint16_t)(i + 1)};
	/* And a good one, after. */
	put_frame(dma + 5 * PAGE, 60);
	txq.desc[6] = (struct desc){phys[5], 60, 0, 0};
	publish(&txq, heads, 4);
	used = settle(&txq, 4, SETTLE_MS);
	say("tx-drops used=%u needs_reset=%u", used, !!(rd(R_STATUS) & S_NEEDS_RESET));
	reset("tx-drops");
}

static void rx_small(void)
{
	static const uint16_t heads[] = {0, 1};
	unsigned int used;

	device_init(0);
	rxq.desc[0] = (struct desc){phys[2], 8, D_WRITE, 0};
	rxq.desc[1] = (struct desc){phys[2] + 8, 8, D_WRITE, 0};
	publish(&rxq, heads, 2);
	used = settle(&rxq, 2, SETTLE_MS);
	say("rx-small used=%u lens=%u,%u needs_reset=%u", used, rxq.used->ring[0].len,
	    rxq.used->ring[1].len, !!(rd(R_STATUS) & S_NEEDS_RESET));
	reset("rx-small");
}

static void rx_reset(void)
{
	static const uint16_t heads[] = {0, 1, 2, 3};
	static uint8_t snap[2 * PAGE];
	unsigned int used, touched = 0;

	device_init(F_MRG_RXBUF | F_GUEST_CSUM | F_GUEST_TSO4);
	memset(dma + 2 * PAGE, CANARY, 2 * PAGE);
	for (uint16_t i = 0; i < 4; i++)
		rxq.desc[i] = (struct desc){phys[2 + i / 2] + (i % 2) * 2048u, 2048, D_WRITE, 0};
	publish(&rxq, heads, 4);
	/* 8 KiB posted of 65562 wanted: nothing lands (the host sends ARP
	 * requests every second). */
	used = settle(&rxq, 1, 3000);
	say("rx-held used=%u", used);
	reset("rx-reset");
	/* After the reset nothing may write into those buffers any more. */
	memcpy(snap, dma + 2 * PAGE, sizeof(snap));
	device_init(0);
	sleep_ms(3000);
	for (unsigned int i = 0; i < 2 * PAGE; i++)
		touched += dma[2 * PAGE + i] != snap[i];
	say("rx-old-buffers touched=%u", touched);
	rxq.desc[0] = (struct desc){phys[6], 2048, D_WRITE, 0};
	publish(&rxq, heads, 1);
	used = settle(&rxq, 1, SETTLE_MS);
	say("rx-after-reset used=%u len_ok=%u", used, used ? rxq.used->ring[0].len > 12 : 0);
	reset("final");
}

int main(int argc, char **argv)
{
	unsigned long base;

	if (argc != 2) {
		fprintf(stderr, "usage: %s BASE\n", argv[0]);
		return 2;
	}
	base = strtoul(argv[1], NULL, 0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	take_device(base, 1);
	dma = dma_pages(NPAGES, phys);
	tx_bogus();
	tx_drops();
	rx_small();
	rx_reset();
	say("done");
	return 0;
}
