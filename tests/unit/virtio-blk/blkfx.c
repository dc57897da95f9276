// SPDX-License-Identifier: Apache-2.0
#include "blkfx.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Loop turns (10 ms waits at most) before a wait gives up. */
#define WAIT_TURNS 500

uint32_t rd(struct fx *f, uint64_t off)
{
	uint32_t v = 0;

	cvmm_virtio_mmio_read(f->m, off, &v, 4);
	return v;
}

void wr(struct fx *f, uint64_t off, uint32_t v)
{
	cvmm_virtio_mmio_write(f->m, off, &v, 4);
}

static void make_image(struct fx *f)
{
	uint8_t buf[512];
	int fd;

	snprintf(f->path, sizeof(f->path), "/tmp/cvmm-blk-test-XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	for (unsigned int s = 0; s < IMG_SECTORS; s++) {
		memset(buf, (int)(s & 0xff), sizeof(buf));
		assert_int_equal(pwrite(fd, buf, sizeof(buf), (off_t)s * 512), 512);
	}
	close(fd);
}

int open_blk(struct fx *f, bool ro)
{
	struct cvmm_virtio_blk_opts o = {
	    .path = f->path,
	    .read_only = ro,
	    .serial = "cvmm-serial-0123456789abcdef",
	    .engine = f->engine,
	    .loop = f->loop,
	    .queue_size = QSZ,
	    .max_inflight = 8,
	};

	return cvmm_virtio_blk_create(&f->blk, &o);
}

bool negotiate(struct fx *f, uint16_t qsz, uint64_t desc, uint64_t avail, uint64_t used)
{
	if (!vqdrv_mmio_negotiate(f->m, vqdrv_mmio_offered(f->m)))
		return false;
	vqdrv_mmio_queue(f->m, 0, &f->drv, f->mem, qsz, desc, avail, used);
	return vqdrv_mmio_driver_ok(f->m);
}

void attach(struct fx *f)
{
	struct cvmm_virtio_mmio_opts o = {.mem = f->mem,
					  .dev = cvmm_virtio_blk_device(f->blk),
					  .loop = f->loop,
					  .name = "blk-test"};

	assert_int_equal(cvmm_virtio_mmio_create(&f->m, &o), 0);
	assert_true(negotiate(f, QSZ, DESC, AVAIL, USED));
}

static int setup(void **state, enum cvmm_virtio_blk_engine engine, bool ro)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->engine = engine;
	make_image(f);
	assert_int_equal(cvmm_mem_create(&f->mem, RAM, NULL), 0);
	assert_int_equal(cvmm_loop_create(&f->loop), 0);
	assert_int_equal(open_blk(f, ro), 0);
	attach(f);
	*state = f;
	return 0;
}

int setup_sync(void **state)
{
	return setup(state, CVMM_VIRTIO_BLK_ENGINE_SYNC, false);
}

int setup_uring(void **state)
{
	return setup(state, CVMM_VIRTIO_BLK_ENGINE_IO_URING, false);
}

int setup_ro_sync(void **state)
{
	return setup(state, CVMM_VIRTIO_BLK_ENGINE_SYNC, true);
}

int setup_ro_uring(void **state)
{
	return setup(state, CVMM_VIRTIO_BLK_ENGINE_IO_URING, true);
}

int teardown(void **state)
{
	struct fx *f = *state;

	watchdog(0); /* a failed test may have left it armed */
	cvmm_virtio_mmio_destroy(f->m);
	cvmm_virtio_blk_destroy(f->blk);
	cvmm_loop_destroy(f->loop);
	cvmm_mem_destroy(f->mem);
	unlink(f->path);
	free(f);
	return 0;
}

unsigned int req_bufs(struct fx *f, unsigned int s, uint32_t type, uint64_t sector,
		      uint32_t out_len, uint32_t in_len, struct vqdrv_buf b[3])
{
	unsigned int n = 0;
	uint32_t hdr[4] = {type, 0, (uint32_t)sector, (uint32_t)(sector >> 32)};

	cvmm_mem_write(f->mem, HDR + 0x100ull * s, hdr, sizeof(hdr));
	cvmm_mem_fill(f->mem, STATUS + s, 0xee, 1);
	b[n++] = (struct vqdrv_buf){HDR + 0x100ull * s, 16, false};
	if (out_len)
		b[n++] = (struct vqdrv_buf){DATA + 0x2000ull * s, out_len, false};
	if (in_len)
		b[n++] = (struct vqdrv_buf){DATA + 0x2000ull * s, in_len, true};
	b[n++] = (struct vqdrv_buf){STATUS + s, 1, true};
	return n;
}

uint16_t add_req(struct fx *f, unsigned int s, uint32_t type, uint64_t sector, uint32_t out_len,
		 uint32_t in_len)
{
	struct vqdrv_buf b[3];
	unsigned int n = req_bufs(f, s, type, sector, out_len, in_len, b);

	return vqdrv_add(&f->drv, b, n);
}

void kick(struct fx *f)
{
	wr(f, CVMM_VIRTIO_MMIO_NOTIFY, 0);
}

int wait_used(struct fx *f, uint32_t *id, uint32_t *len)
{
	for (int i = 0; i < WAIT_TURNS; i++) {
		if (vqdrv_get_used(&f->drv, id, len))
			return 1;
		cvmm_loop_run_once(f->loop, 10);
	}
	return 0;
}

bool wait_status(struct fx *f, uint32_t bits)
{
	for (int i = 0; i < WAIT_TURNS; i++) {
		if ((rd(f, 0x70) & bits) == bits)
			return true;
		cvmm_loop_run_once(f->loop, 10);
	}
	return false;
}

uint8_t status_of(struct fx *f, unsigned int s)
{
	uint8_t st = 0;

	cvmm_mem_read(f->mem, STATUS + s, &st, 1);
	return st;
}

uint8_t do_req(struct fx *f, uint32_t type, uint64_t sector, uint32_t out_len, uint32_t in_len,
	       uint32_t *len)
{
	uint32_t id, l = 0;

	add_req(f, 0, type, sector, out_len, in_len);
	kick(f);
	assert_int_equal(wait_used(f, &id, &l), 1);
	if (len)
		*len = l;
	return status_of(f, 0);
}

bool holds_image(struct fx *f, uint64_t gpa, uint64_t first, uint32_t n)
{
	const uint8_t *p = cvmm_mem_ptr(f->mem, gpa, n);

	for (uint32_t i = 0; p && i < n; i++)
		if (p[i] != (uint8_t)(first + i / 512))
			return false;
	return p != NULL;
}

static void watchdog_fired(int sig)
{
	static const char msg[] = "watchdog: the test hung; failing it\n";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0) {
		/* nothing more to do: exiting anyway */
	}
	_exit(1);
}

void watchdog(unsigned int seconds)
{
	signal(SIGALRM, watchdog_fired);
	alarm(seconds);
}
