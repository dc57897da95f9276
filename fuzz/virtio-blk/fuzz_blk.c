// SPDX-License-Identifier: Apache-2.0
/* virtio-blk request handling on memfd images, sync or io_uring engine: the
 * input fills guest RAM holding a ring at fixed addresses; its first bytes
 * pick the engine, the queue size and how many chains the driver made
 * available. The loop runs as the device's I/O thread would. vq_check.c traps
 * on a broken virtqueue contract (a buffer outside RAM, a head completed
 * twice or after reset, used len beyond the writable bytes, a used index
 * that does not follow the pushes); here the device must also go to
 * NEEDS_RESET when a pop fails, and every reset must return (a request the
 * engine queued but never submitted would hang it). */
#include <cvmm/virtio-blk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vq_check.h"

#define RAM (64u * 1024)
#define IMG (64u * 1024)
#define DESC 0x0
#define AVAIL 0x1000
#define USED 0x2000
#define LOOP_TURNS 16

static struct cvmm_mem *mem;
static struct cvmm_loop *loop;

struct disk {
	struct cvmm_virtio_blk *blk;
	struct cvmm_virtio_mmio *m;
};

static struct disk disks[2]; /* by engine */

static void quiet(void *o, const char *line)
{
	(void)o;
	(void)line;
}

static void wr(struct disk *d, uint64_t off, uint32_t v)
{
	cvmm_virtio_mmio_write(d->m, off, &v, 4);
}

static void open_disk(struct disk *d, enum cvmm_virtio_blk_engine engine)
{
	char path[64];
	int fd = memfd_create("cvmm-fuzz-img", MFD_CLOEXEC);
	struct cvmm_virtio_blk_opts bo = {.path = path,
					  .serial = "fuzz",
					  .engine = engine,
					  .loop = loop,
					  .queue_size = 64,
					  .max_inflight = 8,
					  .cache = CVMM_VIRTIO_BLK_CACHE_UNSAFE};
	struct cvmm_virtio_mmio_opts mo = {.mem = mem, .loop = loop, .log = quiet};

	if (fd < 0 || ftruncate(fd, IMG) < 0)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (cvmm_virtio_blk_create(&d->blk, &bo) < 0)
		abort();
	mo.dev = cvmm_virtio_blk_device(d->blk);
	if (cvmm_virtio_mmio_create(&d->m, &mo) < 0)
		abort();
}

static void init(void)
{
	if (cvmm_mem_create(&mem, RAM, NULL) < 0 || cvmm_loop_create(&loop) < 0)
		abort();
	vq_check_init(mem, RAM);
	open_disk(&disks[0], CVMM_VIRTIO_BLK_ENGINE_SYNC);
	open_disk(&disks[1], CVMM_VIRTIO_BLK_ENGINE_IO_URING);
}

/* Run what the notifications queued, as the device's I/O thread would. */
static void drive(void)
{
	for (int i = 0; i < LOOP_TURNS && cvmm_loop_run_once(loop, 0) > 0; i++)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned long failures;
	struct disk *d;
	uint16_t idx;

	if (size < 4)
		return 0;
	if (!loop)
		init();
	d = &disks[(data[3] >> 1) & 1];
	/* Reset both first (one device on the ring at a time): it waits for
	 * whatever the last input left in flight. */
	wr(&disks[0], 0x70, 0);
	wr(&disks[1], 0x70, 0);
	failures = vq_check_pop_failures();
	cvmm_mem_fill(mem, 0, 0, RAM);
	cvmm_mem_write(mem, 0, data + 4, size - 4 < RAM ? size - 4 : RAM);
	/* The avail index comes from the input header so it is usually sane. */
	idx = data[1] % 70;
	cvmm_mem_write(mem, AVAIL + 2, &idx, 2);
	wr(d, 0x70, 1);
	wr(d, 0x70, 3);
	wr(d, 0x24, 1);
	wr(d, 0x20, 1); /* VERSION_1 */
	wr(d, 0x24, 0);
	wr(d, 0x20, data[2] & 1 ? (1u << 29) | (1u << 28) : 0);
	wr(d, 0x70, 11);
	wr(d, 0x38, 1u << (data[0] % 7));
	wr(d, 0x80, DESC);
	wr(d, 0x90, AVAIL);
	wr(d, 0xa0, USED);
	wr(d, 0x44, 1);
	wr(d, 0x70, 15);
	wr(d, CVMM_VIRTIO_MMIO_NOTIFY, 0);
	drive();
	if (data[3] & 1) {
		wr(d, CVMM_VIRTIO_MMIO_NOTIFY, 0);
		drive();
	}
	/* A device that found the ring malformed asked for a reset. */
	if (vq_check_pop_failures() != failures &&
	    !(cvmm_virtio_mmio_status(d->m) & CVMM_VIRTIO_STATUS_NEEDS_RESET))
		vq_check_fail("a pop failed but the device did not ask for a reset");
	return 0;
}
