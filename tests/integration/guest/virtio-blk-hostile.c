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
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* virtio-mmio registers (virtio 1.2, section 4.2.2) */
#define R_MAGIC 0x000
#define R_VERSION 0x004
#define R_DEVICE_ID 0x008
#define R_DEV_FEATURES 0x010
#define R_DEV_FEATURES_SEL 0x014
#define R_DRV_FEATURES 0x020
#define R_DRV_FEATURES_SEL 0x024
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM 0x038
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_INT_STATUS 0x060
#define R_INT_ACK 0x064
#define R_STATUS 0x070
#define R_DESC_LO 0x080
#define R_DESC_HI 0x084
#define R_DRIVER_LO 0x090
#define R_DRIVER_HI 0x094
#define R_DEVICE_LO 0x0a0
#define R_DEVICE_HI 0x0a4

#define S_ACK 1u
#define S_DRIVER 2u
#define S_DRIVER_OK 4u
#define S_FEATURES_OK 8u
#define S_NEEDS_RESET 64u

#define D_NEXT 1u
#define D_WRITE 2u

#define QSIZE 8u
#define PAGE 4096u
#define SETTLE_MS 30000 /* bounded wait for the device to react */

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[QSIZE];
	uint16_t used_event;
};

struct used_elem {
	uint32_t id;
	uint32_t len;
};

struct used {
	uint16_t flags;
	uint16_t idx;
	struct used_elem ring[QSIZE];
	uint16_t avail_event;
};

struct blk_hdr {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
};

static volatile uint32_t *regs;
/* Page 0: rings. Page 1: data. Page 2: headers and status bytes. */
static uint8_t *dma;
static uint64_t dma_phys[3];
static struct desc *descs;
static volatile struct avail *avail;
static volatile struct used *used;
static uint16_t avail_idx;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	fputs("cvmm-test: hostile-", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("cvmm-test: hostile-error: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	exit(1);
}

static uint32_t rd(unsigned int off)
{
	return regs[off / 4];
}

static void wr(unsigned int off, uint32_t v)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	regs[off / 4] = v;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The platform device whose first iomem range starts at base, from /proc/iomem. */
static int device_name(unsigned long base, char *name, size_t len)
{
	FILE *f = fopen("/proc/iomem", "r");
	char line[256];
	int found = 0;

	if (!f)
		die("cannot open /proc/iomem: %s", strerror(errno));
	while (!found && fgets(line, sizeof(line), f)) {
		char *p = line, *colon;
		unsigned long start;

		while (*p == ' ')
			p++;
		if (sscanf(p, "%lx-", &start) != 1 || start != base)
			continue;
		colon = strstr(p, " : ");
		if (!colon)
			continue;
		snprintf(name, len, "%s", colon + 3);
		name[strcspn(name, "\n")] = '\0';
		found = 1;
	}
	fclose(f);
	return found;
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0)
		die("cannot open %s: %s", path, strerror(errno));
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		die("write %s to %s: %s", text, path, strerror(errno));
	close(fd);
}

/* Take the device away from the guest kernel's driver. */
static void unbind(unsigned long base)
{
	char name[128], path[256];

	if (!device_name(base, name, sizeof(name)))
		die("no /proc/iomem range starts at %#lx", base);
	snprintf(path, sizeof(path), "/sys/bus/platform/devices/%s/driver", name);
	if (access(path, F_OK) == 0)
		write_file("/sys/bus/platform/drivers/virtio-mmio/unbind", name);
	if (access(path, F_OK) == 0)
		die("%s is still bound to a driver", name);
	say("unbound=%s", name);
}

static uint64_t virt_to_phys(const void *p)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	uint64_t e = 0;
	off_t off = (off_t)((uintptr_t)p / PAGE * 8);

	if (fd < 0 || pread(fd, &e, 8, off) != 8)
		die("cannot read /proc/self/pagemap: %s", strerror(errno));
	close(fd);
	if (!(e & (1ULL << 63)) || (e & ((1ULL << 55) - 1)) == 0)
		die("page %p has no visible frame (pagemap entry %#llx)", p, (unsigned long long)e);
	return (e & ((1ULL << 55) - 1)) * PAGE;
}

static void map_all(unsigned long base)
{
	int fd = open("/dev/mem", O_RDWR | O_SYNC);
	void *p;

	if (fd < 0)
		die("cannot open /dev/mem: %s", strerror(errno));
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)(base & ~(PAGE - 1)));
	if (p == MAP_FAILED)
		die("cannot map %#lx from /dev/mem: %s", base, strerror(errno));
	close(fd);
	regs = (volatile uint32_t *)((uint8_t *)p + (base & (PAGE - 1)));
	if (rd(R_MAGIC) != 0x74726976u || rd(R_VERSION) != 2 || rd(R_DEVICE_ID) != 2)
		die("no virtio-mmio v2 block device at %#lx (magic %#x version %u id %u)", base,
		    rd(R_MAGIC), rd(R_VERSION), rd(R_DEVICE_ID));

	dma = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_LOCKED, -1, 0);
	if (dma == MAP_FAILED || mlock(dma, 3 * PAGE) < 0)
		die("cannot get locked memory: %s", strerror(errno));
	memset(dma, 0, 3 * PAGE);
	for (int i = 0; i < 3; i++)
		dma_phys[i] = virt_to_phys(dma + i * PAGE);
	descs = (struct desc *)dma;
	avail = (volatile struct avail *)(dma + 0x400);
	used = (volatile struct used *)(dma + 0x800);
}

static void reset(const char *what)
{
	wr(R_STATUS, 0);
	/* Reached only once the monitor has finished the reset. */
	if (rd(R_STATUS) != 0)
		die("%s: status %#x after reset", what, rd(R_STATUS));
	say("%s-reset=done", what);
}

static void device_init(void)
{
	uint32_t st, hi;

	reset("init");
	wr(R_STATUS, S_ACK);
	wr(R_STATUS, S_ACK | S_DRIVER);
	wr(R_DEV_FEATURES_SEL, 1);
	hi = rd(R_DEV_FEATURES);
	if (!(hi & 1))
		die("device does not offer VERSION_1 (features[63:32] %#x)", hi);
	wr(R_DRV_FEATURES_SEL, 1);
	wr(R_DRV_FEATURES, 1); /* VERSION_1 only */
	wr(R_DRV_FEATURES_SEL, 0);
	wr(R_DRV_FEATURES, 0);
	wr(R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	if (!(rd(R_STATUS) & S_FEATURES_OK))
		die("FEATURES_OK refused (status %#x)", rd(R_STATUS));

	memset(dma, 0, PAGE); /* fresh rings */
	avail_idx = 0;
	wr(R_QUEUE_SEL, 0);
	if (rd(R_QUEUE_NUM_MAX) < QSIZE)
		die("queue 0 max size %u < %u", rd(R_QUEUE_NUM_MAX), QSIZE);
	wr(R_QUEUE_NUM, QSIZE);
	wr(R_DESC_LO, (uint32_t)dma_phys[0]);
	wr(R_DESC_HI, (uint32_t)(dma_phys[0] >> 32));
	wr(R_DRIVER_LO, (uint32_t)(dma_phys[0] + 0x400));
	wr(R_DRIVER_HI, (uint32_t)((dma_phys[0] + 0x400) >> 32));
	wr(R_DEVICE_LO, (uint32_t)(dma_phys[0] + 0x800));
	wr(R_DEVICE_HI, (uint32_t)((dma_phys[0] + 0x800) >> 32));
	wr(R_QUEUE_READY, 1);
	if (rd(R_QUEUE_READY) != 1)
		die("queue 0 not ready");
	wr(R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	st = rd(R_STATUS);
	if (!(st & S_DRIVER_OK) || (st & S_NEEDS_RESET))
		die("DRIVER_OK not taken (status %#x)", st);
}

static struct blk_hdr *hdr(unsigned int slot)
{
	return (struct blk_hdr *)(dma + 2 * PAGE + slot * sizeof(struct blk_hdr));
}

static volatile uint8_t *status_byte(unsigned int slot)
{
	return dma + 2 * PAGE + 0x800 + slot;
}

/* descs[d..d+2]: read 4 KiB from sector 0 into the data page. */
static void read_chain(unsigned int d, unsigned int slot)
{
	*hdr(slot) = (struct blk_hdr){.type = 0 /* IN */, .sector = 0};
	*status_byte(slot) = 0xff;
	descs[d] = (struct desc){dma_phys[2] + slot * sizeof(struct blk_hdr),
				 sizeof(struct blk_hdr), D_NEXT, (uint16_t)(d + 1)};
	descs[d + 1] = (struct desc){dma_phys[1], PAGE, D_WRITE | D_NEXT, (uint16_t)(d + 2)};
	descs[d + 2] = (struct desc){dma_phys[2] + 0x800 + slot, 1, D_WRITE, 0};
}

/* descs[d..d+1]: a header and a readable buffer: nowhere to put a status. */
static void no_status_chain(unsigned int d, unsigned int slot)
{
	*hdr(slot) = (struct blk_hdr){.type = 0 /* IN */, .sector = 0};
	descs[d] = (struct desc){dma_phys[2] + slot * sizeof(struct blk_hdr),
				 sizeof(struct blk_hdr), D_NEXT, (uint16_t)(d + 1)};
	descs[d + 1] = (struct desc){dma_phys[1], PAGE, 0, 0};
}

/* Make heads available and notify once. */
static void publish(const uint16_t *heads, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		avail->ring[(avail_idx + i) % QSIZE] = heads[i];
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	avail_idx = (uint16_t)(avail_idx + n);
	avail->idx = avail_idx;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	wr(R_QUEUE_NOTIFY, 0);
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
	    (unsigned int)used->idx, (unsigned int)*status_byte(0));
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
	unbind(base);
	map_all(base);
	say("mapped=%#lx rings=%#llx", base, (unsigned long long)dma_phys[0]);

	device_init();
	read_chain(0, 0);
	publish(case1, 2);
	settle("case1");
	reset("case1");

	device_init();
	read_chain(0, 0);
	no_status_chain(3, 1);
	publish(case2, 2);
	settle("case2");
	reset("case2");

	/* The device must still work after the resets. */
	device_init();
	memset(dma + PAGE, 0, PAGE);
	read_chain(0, 0);
	publish(case3, 1);
	for (int ms = 0; ms < SETTLE_MS && used->idx != 1; ms += 10)
		sleep_ms(10);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (used->idx != 1)
		die("read after reset: not completed (used idx %u, status %#x)",
		    (unsigned int)used->idx, rd(R_STATUS));
	say("read used_len=%u status=%u", (unsigned int)used->ring[0].len,
	    (unsigned int)*status_byte(0));
	out = fopen(argv[2], "w");
	if (!out || fwrite(dma + PAGE, PAGE, 1, out) != 1 || fclose(out) != 0)
		die("cannot write %s", argv[2]);
	reset("final");
	say("done");
	return 0;
}
