// SPDX-License-Identifier: Apache-2.0
/*
 * A hostile virtio-blk driver, run as root inside a test guest (built static
 * on the host, put in the initramfs by test_disk_hostile.sh):
 *
 *   virtio-blk-hostile BASE OUT
 *
 * BASE is the virtio-mmio (version 2) window of a block device, e.g.
 * 0xd0001000. The guest kernel's virtio-mmio driver is unbound from it first
 * (sysfs), so the device is ours and /dev/mem may map it. Rings and buffers
 * live in locked pages of this process, whose guest-physical addresses come
 * from /proc/self/pagemap. Then, each in ONE notify:
 *   case 1: a valid 4 KiB read chain, then an avail entry whose head index is
 *           >= the queue size; wait for NEEDS_RESET; reset the device.
 *   case 2: a valid 4 KiB read chain, then a chain with no device-writable
 *           descriptor (no status byte); wait for NEEDS_RESET; reset.
 *   case 3: a well-formed read of sector 0 (4 KiB), written to OUT; reset.
 * Progress goes to stdout as "cvmm-test: hostile-..." lines. A monitor that
 * blocks on a reset never lets the reset write return: the line after it
 * never appears. Exit status: 0 when every step did what the spec says.
 */
#include "mmio-guest.h"

struct blk_hdr {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
};

/* Page 0: rings. Page 1: data. Page 2: headers and status bytes. */
static uint8_t *dma;
static uint64_t dma_phys[3];
static struct vq vq;

static void device_init(void)
{
	negotiate(0);
	queue_init(&vq, 0, dma, dma_phys[0]);
	driver_ok();
}

static struct blk_hdr *hdr(unsigned int slot)
{
	return (struct blk_hdr *)(dma + 2 * PAGE + slot * sizeof(struct blk_hdr));
}

static volatile uint8_t *status_byte(unsigned int slot)
{
	return dma + 2 * PAGE + 0x800 + slot;
}

/* vq.desc[d..d+2]: read 4 KiB from sector 0 into the data page. */
static void read_chain(unsigned int d, unsigned int slot)
{
	*hdr(slot) = (struct blk_hdr){.type = 0 /* IN */, .sector = 0};
	*status_byte(slot) = 0xff;
	vq.desc[d] = (struct desc){dma_phys[2] + slot * sizeof(struct blk_hdr),
				   sizeof(struct blk_hdr), D_NEXT, (uint16_t)(d + 1)};
	vq.desc[d + 1] = (struct desc){dma_phys[1], PAGE, D_WRITE | D_NEXT, (uint16_t)(d + 2)};
	vq.desc[d + 2] = (struct desc){dma_phys[2] + 0x800 + slot, 1, D_WRITE, 0};
}

/* vq.desc[d..d+1]: a header and a readable buffer: nowhere to put a status. */
static void no_status_chain(unsigned int d, unsigned int slot)
{
	*hdr(slot) = (struct blk_hdr){.type = 0 /* IN */, .sector = 0};
	vq.desc[d] = (struct desc){dma_phys[2] + slot * sizeof(struct blk_hdr),
				   sizeof(struct blk_hdr), D_NEXT, (uint16_t)(d + 1)};
	vq.desc[d + 1] = (struct desc){dma_phys[1], PAGE, 0, 0};
}

/* Poll until the device sets NEEDS_RESET (bounded); report what it did. */
static void settle(const char *what)
{
	uint32_t st = 0;

	for (int ms = 0; ms < SETTLE_MS; ms += 10) {
		st = rd(R_STATUS);
		if (st & S_NEEDS_RESET)
			break;
		sleep_ms(10);
	}
	wr(R_INT_ACK, rd(R_INT_STATUS));
	say("%s needs_reset=%u used=%u read_status=%#x", what, !!(st & S_NEEDS_RESET),
	    (unsigned int)vq.used->idx, (unsigned int)*status_byte(0));
}

int main(int argc, char **argv)
{
	unsigned long base;
	const uint16_t case1[] = {0, QSIZE}; /* valid read, then head >= queue size */
	const uint16_t case2[] = {0, 3};     /* valid read, then no status byte */
	const uint16_t case3[] = {0};
	FILE *out;

	if (argc != 3) {
		fprintf(stderr, "usage: %s BASE OUT\n", argv[0]);
		return 2;
	}
	base = strtoul(argv[1], NULL, 0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	take_device(base, 2);
	dma = dma_pages(3, dma_phys);
	say("mapped=%#lx rings=%#llx", base, (unsigned long long)dma_phys[0]);

	device_init();
	read_chain(0, 0);
	publish(&vq, case1, 2);
	settle("case1");
	reset("case1");

	device_init();
	read_chain(0, 0);
	no_status_chain(3, 1);
	publish(&vq, case2, 2);
	settle("case2");
	reset("case2");

	/* The device must still work after the resets. */
	device_init();
	memset(dma + PAGE, 0, PAGE);
	read_chain(0, 0);
	publish(&vq, case3, 1);
	for (int ms = 0; ms < SETTLE_MS && vq.used->idx != 1; ms += 10)
		sleep_ms(10);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq.used->idx != 1)
		die("read after reset: not completed (used idx %u, status %#x)",
		    (unsigned int)vq.used->idx, rd(R_STATUS));
	say("read used_len=%u status=%u", (unsigned int)vq.used->ring[0].len,
	    (unsigned int)*status_byte(0));
	out = fopen(argv[2], "w");
	if (!out || fwrite(dma + PAGE, PAGE, 1, out) != 1 || fclose(out) != 0)
		die("cannot write %s", argv[2]);
	reset("final");
	say("done");
	return 0;
}
