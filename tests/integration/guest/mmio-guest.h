// SPDX-License-Identifier: Apache-2.0
/*
 * Shared by the hostile guest programs (virtio-*-hostile.c): driving one
 * virtio-mmio (version 2) device from a root process in a test guest. The
 * guest kernel's driver is unbound from the device (sysfs), its register
 * window is mapped from /dev/mem, and rings and buffers live in locked pages
 * of the process whose guest-physical addresses come from /proc/self/pagemap.
 * Every queue uses one page: descriptors at 0, avail ring at 0x400, used ring
 * at 0x800. Progress goes to stdout as "cvmm-test: hostile-..." lines.
 */
#ifndef CVMM_TEST_MMIO_GUEST_H
#define CVMM_TEST_MMIO_GUEST_H

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

struct vq {
	struct desc *desc;
	volatile struct avail *avail;
	volatile struct used *used;
	uint16_t avail_idx;
	unsigned int q;
};

static volatile uint32_t *regs;

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

/* Take the device away from the guest kernel's driver. */
static void unbind(unsigned long base)
{
	char name[128], path[256];
	int fd;

	if (!device_name(base, name, sizeof(name)))
		die("no /proc/iomem range starts at %#lx", base);
	snprintf(path, sizeof(path), "/sys/bus/platform/devices/%s/driver", name);
	if (access(path, F_OK) == 0) {
		fd = open("/sys/bus/platform/drivers/virtio-mmio/unbind", O_WRONLY);
		if (fd < 0 || write(fd, name, strlen(name)) != (ssize_t)strlen(name))
			die("cannot unbind %s: %s", name, strerror(errno));
		close(fd);
	}
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

/* Unbind the device at base, map its registers, check it is device_id. */
static void take_device(unsigned long base, uint32_t device_id)
{
	int fd;
	void *p;

	unbind(base);
	fd = open("/dev/mem", O_RDWR | O_SYNC);
	if (fd < 0)
		die("cannot open /dev/mem: %s", strerror(errno));
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)(base & ~(PAGE - 1)));
	if (p == MAP_FAILED)
		die("cannot map %#lx from /dev/mem: %s", base, strerror(errno));
	close(fd);
	regs = (volatile uint32_t *)((uint8_t *)p + (base & (PAGE - 1)));
	if (rd(R_MAGIC) != 0x74726976u || rd(R_VERSION) != 2 || rd(R_DEVICE_ID) != device_id)
		die("no virtio-mmio v2 device %u at %#lx (magic %#x version %u id %u)", device_id,
		    base, rd(R_MAGIC), rd(R_VERSION), rd(R_DEVICE_ID));
}

/* n zeroed, locked pages; phys[i] is page i's guest-physical address. */
static uint8_t *dma_pages(unsigned int n, uint64_t *phys)
{
	uint8_t *dma = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_LOCKED, -1, 0);

	if (dma == MAP_FAILED || mlock(dma, n * PAGE) < 0)
		die("cannot get locked memory: %s", strerror(errno));
	memset(dma, 0, n * PAGE);
	for (unsigned int i = 0; i < n; i++)
		phys[i] = virt_to_phys(dma + i * PAGE);
	return dma;
}

static void reset(const char *what)
{
	wr(R_STATUS, 0);
	/* Reached only once the monitor has finished the reset. */
	if (rd(R_STATUS) != 0)
		die("%s: status %#x after reset", what, rd(R_STATUS));
	say("%s-reset=done", what);
}

/* Reset, then ACK, DRIVER, VERSION_1 plus features_lo, FEATURES_OK. */
static void negotiate(uint32_t features_lo)
{
	reset("init");
	wr(R_STATUS, S_ACK);
	wr(R_STATUS, S_ACK | S_DRIVER);
	wr(R_DEV_FEATURES_SEL, 1);
	if (!(rd(R_DEV_FEATURES) & 1))
		die("device does not offer VERSION_1 (features[63:32] %#x)", rd(R_DEV_FEATURES));
	wr(R_DRV_FEATURES_SEL, 1);
	wr(R_DRV_FEATURES, 1); /* VERSION_1 */
	wr(R_DRV_FEATURES_SEL, 0);
	wr(R_DRV_FEATURES, features_lo);
	wr(R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	if (!(rd(R_STATUS) & S_FEATURES_OK))
		die("FEATURES_OK refused (status %#x)", rd(R_STATUS));
}

/* Fresh, empty rings in page (at phys) for queue q, made ready. */
static void queue_init(struct vq *v, unsigned int q, uint8_t *page, uint64_t phys)
{
	memset(page, 0, PAGE);
	*v = (struct vq){.desc = (struct desc *)page,
			 .avail = (volatile struct avail *)(page + 0x400),
			 .used = (volatile struct used *)(page + 0x800),
			 .q = q};
	wr(R_QUEUE_SEL, q);
	if (rd(R_QUEUE_NUM_MAX) < QSIZE)
		die("queue %u max size %u < %u", q, rd(R_QUEUE_NUM_MAX), QSIZE);
	wr(R_QUEUE_NUM, QSIZE);
	wr(R_DESC_LO, (uint32_t)phys);
	wr(R_DESC_HI, (uint32_t)(phys >> 32));
	wr(R_DRIVER_LO, (uint32_t)(phys + 0x400));
	wr(R_DRIVER_HI, (uint32_t)((phys + 0x400) >> 32));
	wr(R_DEVICE_LO, (uint32_t)(phys + 0x800));
	wr(R_DEVICE_HI, (uint32_t)((phys + 0x800) >> 32));
	wr(R_QUEUE_READY, 1);
	if (rd(R_QUEUE_READY) != 1)
		die("queue %u not ready", q);
}

static void driver_ok(void)
{
	uint32_t st;

	wr(R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	st = rd(R_STATUS);
	if (!(st & S_DRIVER_OK) || (st & S_NEEDS_RESET))
		die("DRIVER_OK not taken (status %#x)", st);
}

/* Make heads available and notify once. */
static void publish(struct vq *v, const uint16_t *heads, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		v->avail->ring[(v->avail_idx + i) % QSIZE] = heads[i];
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	v->avail_idx = (uint16_t)(v->avail_idx + n);
	v->avail->idx = v->avail_idx;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	wr(R_QUEUE_NOTIFY, v->q);
}

#endif
