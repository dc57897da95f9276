// SPDX-License-Identifier: Apache-2.0
/* virtio-blk request handling, sync engine on a memfd image: the input
 * fills guest RAM holding a ring at fixed addresses; its first bytes pick the
 * queue size and how many chains the driver made available. */
#include <cvmm/virtio-blk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define RAM (64u * 1024)
#define IMG (64u * 1024)
#define DESC 0x0
#define AVAIL 0x1000
#define USED 0x2000

static struct cvmm_mem *mem;
static struct cvmm_virtio_blk *blk;
static struct cvmm_virtio_mmio *m;

static void wr(uint64_t off, uint32_t v)
{
	cvmm_virtio_mmio_write(m, off, &v, 4);
}

static void quiet(void *o, const char *line)
{
	(void)o;
	(void)line;
}

static void init(void)
{
	char path[64];
	int fd = memfd_create("cvmm-fuzz-img", MFD_CLOEXEC);
	struct cvmm_virtio_blk_opts bo = {.path = path,
					  .serial = "fuzz",
					  .queue_size = 64,
					  .cache = CVMM_VIRTIO_BLK_CACHE_UNSAFE};
	struct cvmm_virtio_mmio_opts mo = {.log = quiet};

	if (fd < 0 || ftruncate(fd, IMG) < 0 || cvmm_mem_create(&mem, RAM, NULL) < 0)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (cvmm_virtio_blk_create(&blk, &bo) < 0)
		abort();
	mo.mem = mem;
	mo.dev = cvmm_virtio_blk_device(blk);
	if (cvmm_virtio_mmio_create(&m, &mo) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint16_t idx;

	if (size < 4)
		return 0;
	if (!m)
		init();
	cvmm_mem_fill(mem, 0, 0, RAM);
	cvmm_mem_write(mem, 0, data + 4, size - 4 < RAM ? size - 4 : RAM);
	/* The avail index comes from the input header so it is usually sane. */
	idx = data[1] % 70;
	cvmm_mem_write(mem, AVAIL + 2, &idx, 2);
	wr(0x70, 0);
	wr(0x70, 1);
	wr(0x70, 3);
	wr(0x24, 1);
	wr(0x20, 1); /* VERSION_1 */
	wr(0x24, 0);
	wr(0x20, data[2] & 1 ? (1u << 29) | (1u << 28) : 0);
	wr(0x70, 11);
	wr(0x38, 1u << (data[0] % 7));
	wr(0x80, DESC);
	wr(0x90, AVAIL);
	wr(0xa0, USED);
	wr(0x44, 1);
	wr(0x70, 15);
	wr(0x50, 0);
	if (data[3] & 1)
		wr(0x50, 0);
	return 0;
}
