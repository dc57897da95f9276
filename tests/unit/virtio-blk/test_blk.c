// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <cvmm/virtio-blk.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vqdrv.h"

#define RAM (4u << 20)
#define QSZ 64
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define HDR 0x10000 /* per request slot: HDR + 0x100 * slot */
#define STATUS 0x20000
#define DATA 0x100000	  /* per request slot: DATA + 0x2000 * slot */
#define IMG_SECTORS 2048u /* 1 MiB image */

struct fx {
	enum cvmm_virtio_blk_engine engine;
	char path[64];
	struct cvmm_mem *mem;
	struct cvmm_loop *loop;
	struct cvmm_virtio_blk *blk;
	struct cvmm_virtio_mmio *m;
	struct vqdrv drv;
};

static uint32_t rd(struct fx *f, uint64_t off)
{
	uint32_t v = 0;

	cvmm_virtio_mmio_read(f->m, off, &v, 4);
	return v;
}

/* A QueueNotify write only signals the queue's eventfd: run the loop as the
 * device's I/O thread would. */
static void wr(struct fx *f, uint64_t off, uint32_t v)
{
	cvmm_virtio_mmio_write(f->m, off, &v, 4);
	if (off == 0x50)
		while (cvmm_loop_run_once(f->loop, 0) > 0)
			;
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

static int open_blk(struct fx *f, bool ro)
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

static void attach(struct fx *f)
{
	struct cvmm_virtio_mmio_opts o = {.mem = f->mem,
					  .dev = cvmm_virtio_blk_device(f->blk),
					  .loop = f->loop,
					  .name = "blk-test"};
	const uint32_t ok = CVMM_VIRTIO_STATUS_ACKNOWLEDGE | CVMM_VIRTIO_STATUS_DRIVER |
			    CVMM_VIRTIO_STATUS_FEATURES_OK;
	uint64_t feat;

	assert_int_equal(cvmm_virtio_mmio_create(&f->m, &o), 0);
	wr(f, 0x14, 0);
	feat = rd(f, 0x10);
	wr(f, 0x14, 1);
	feat |= (uint64_t)rd(f, 0x10) << 32;
	wr(f, 0x70, CVMM_VIRTIO_STATUS_ACKNOWLEDGE);
	wr(f, 0x70, CVMM_VIRTIO_STATUS_ACKNOWLEDGE | CVMM_VIRTIO_STATUS_DRIVER);
	wr(f, 0x24, 0);
	wr(f, 0x20, (uint32_t)feat);
	wr(f, 0x24, 1);
	wr(f, 0x20, (uint32_t)(feat >> 32));
	wr(f, 0x70, ok);
	assert_int_equal(rd(f, 0x70), ok);
	vqdrv_init(&f->drv, f->mem, QSZ, DESC, AVAIL, USED);
	wr(f, 0x30, 0);
	wr(f, 0x38, QSZ);
	wr(f, 0x80, DESC);
	wr(f, 0x90, AVAIL);
	wr(f, 0xa0, USED);
	wr(f, 0x44, 1);
	wr(f, 0x70, ok | CVMM_VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(rd(f, 0x70), ok | CVMM_VIRTIO_STATUS_DRIVER_OK);
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

static int setup_sync(void **state)
{
	return setup(state, CVMM_VIRTIO_BLK_ENGINE_SYNC, false);
}

static int setup_uring(void **state)
{
	return setup(state, CVMM_VIRTIO_BLK_ENGINE_IO_URING, false);
}

static int setup_ro(void **state)
{
	return setup(state, CVMM_VIRTIO_BLK_ENGINE_SYNC, true);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	cvmm_virtio_mmio_destroy(f->m);
	cvmm_virtio_blk_destroy(f->blk);
	cvmm_loop_destroy(f->loop);
	cvmm_mem_destroy(f->mem);
	unlink(f->path);
	free(f);
	return 0;
}

/* Queue one request in slot s: header, then out_len readable bytes at the
 * slot's data area, or in_len writable bytes there, then the status byte. */
static void add_req(struct fx *f, unsigned int s, uint32_t type, uint64_t sector, uint32_t out_len,
		    uint32_t in_len)
{
	struct vqdrv_buf b[3];
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
	vqdrv_add(&f->drv, b, n);
}

/* Wait for one used element (driving the loop for io_uring). */
static int wait_used(struct fx *f, uint32_t *id, uint32_t *len)
{
	for (int i = 0; i < 200; i++) {
		if (vqdrv_get_used(&f->drv, id, len))
			return 1;
		cvmm_loop_run_once(f->loop, 10);
	}
	return 0;
}

static uint8_t status_of(struct fx *f, unsigned int s)
{
	uint8_t st = 0;

	cvmm_mem_read(f->mem, STATUS + s, &st, 1);
	return st;
}

/* Submit one request in slot 0 and return its status; *len gets used len. */
static uint8_t do_req(struct fx *f, uint32_t type, uint64_t sector, uint32_t out_len,
		      uint32_t in_len, uint32_t *len)
{
	uint32_t id, l = 0;

	add_req(f, 0, type, sector, out_len, in_len);
	wr(f, 0x50, 0);
	assert_int_equal(wait_used(f, &id, &l), 1);
	if (len)
		*len = l;
	return status_of(f, 0);
}

static void test_read_write_flush(void **state)
{
	struct fx *f = *state;
	uint8_t buf[4096], exp[4096];
	uint32_t len;
	int fd;

	assert_int_equal(cvmm_virtio_blk_capacity(f->blk), IMG_SECTORS);
	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_IN, 3, 0, 4096, &len), CVMM_VIRTIO_BLK_S_OK);
	assert_int_equal(len, 4097);
	cvmm_mem_read(f->mem, DATA, buf, sizeof(buf));
	for (unsigned int i = 0; i < 8; i++) {
		memset(exp, (int)(3 + i), 512);
		assert_memory_equal(buf + 512 * i, exp, 512);
	}
	memset(buf, 0x5a, sizeof(buf));
	cvmm_mem_write(f->mem, DATA, buf, 1024);
	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_OUT, 100, 1024, 0, NULL),
			 CVMM_VIRTIO_BLK_S_OK);
	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_FLUSH, 0, 0, 0, NULL), CVMM_VIRTIO_BLK_S_OK);
	fd = open(f->path, O_RDONLY);
	assert_int_equal(pread(fd, exp, 1024, 100 * 512), 1024);
	close(fd);
	assert_memory_equal(exp, buf, 1024);
	/* Last sector is fine, one past is not. */
	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_IN, IMG_SECTORS - 1, 0, 512, NULL),
			 CVMM_VIRTIO_BLK_S_OK);
	assert_int_equal(cvmm_virtio_blk_flush(f->blk), 0);
}

static void test_bad_requests(void **state)
{
	struct fx *f = *state;
	uint32_t len;

	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_IN, IMG_SECTORS, 0, 512, &len),
			 CVMM_VIRTIO_BLK_S_IOERR);
	assert_int_equal(len, 1);
	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_IN, IMG_SECTORS - 1, 0, 1024, NULL),
			 CVMM_VIRTIO_BLK_S_IOERR);
	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_OUT, UINT64_MAX, 512, 0, NULL),
			 CVMM_VIRTIO_BLK_S_IOERR);
	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_IN, 0, 0, 500, NULL), CVMM_VIRTIO_BLK_S_IOERR);
	assert_int_equal(do_req(f, 77, 0, 0, 512, NULL), CVMM_VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_DISCARD, 0, 15, 0, NULL),
			 CVMM_VIRTIO_BLK_S_IOERR);
	/* Short header: 8 bytes then status. */
	{
		struct vqdrv_buf b[2] = {{HDR, 8, false}, {STATUS, 1, true}};
		uint32_t id;

		vqdrv_add(&f->drv, b, 2);
		wr(f, 0x50, 0);
		assert_int_equal(wait_used(f, &id, &len), 1);
		assert_int_equal(status_of(f, 0), CVMM_VIRTIO_BLK_S_IOERR);
	}
	assert_int_equal(rd(f, 0x70) & CVMM_VIRTIO_STATUS_NEEDS_RESET, 0);
}

static void test_get_id(void **state)
{
	struct fx *f = *state;
	char id[21] = {0};
	uint32_t len;

	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_GET_ID, 0, 0, 20, &len), CVMM_VIRTIO_BLK_S_OK);
	assert_int_equal(len, 21);
	cvmm_mem_read(f->mem, DATA, id, 20);
	assert_string_equal(id, "cvmm-serial-01234567");
}

static void test_discard_write_zeroes(void **state)
{
	struct fx *f = *state;
	uint32_t seg[4] = {8, 0, 8, 0}; /* sector 8, 8 sectors, flags 0 */
	uint8_t buf[4096], zero[4096] = {0};

	cvmm_mem_write(f->mem, DATA, seg, sizeof(seg));
	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, 0, NULL),
			 CVMM_VIRTIO_BLK_S_OK);
	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_IN, 8, 0, 4096, NULL), CVMM_VIRTIO_BLK_S_OK);
	cvmm_mem_read(f->mem, DATA, buf, sizeof(buf));
	assert_memory_equal(buf, zero, sizeof(buf));
	seg[0] = 64;
	seg[3] = CVMM_VIRTIO_BLK_WZ_F_UNMAP;
	cvmm_mem_write(f->mem, DATA, seg, sizeof(seg));
	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, 0, NULL),
			 CVMM_VIRTIO_BLK_S_OK);
	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_IN, 64, 0, 4096, NULL), CVMM_VIRTIO_BLK_S_OK);
	cvmm_mem_read(f->mem, DATA, buf, sizeof(buf));
	assert_memory_equal(buf, zero, sizeof(buf));
	/* Discard with the unmap flag, or unknown flags: unsupported. */
	cvmm_mem_write(f->mem, DATA, seg, sizeof(seg));
	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_DISCARD, 0, 16, 0, NULL),
			 CVMM_VIRTIO_BLK_S_UNSUPP);
	seg[3] = 0;
	cvmm_mem_write(f->mem, DATA, seg, sizeof(seg));
	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_DISCARD, 0, 16, 0, NULL),
			 CVMM_VIRTIO_BLK_S_OK);
	seg[0] = IMG_SECTORS - 4;
	cvmm_mem_write(f->mem, DATA, seg, sizeof(seg));
	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_DISCARD, 0, 16, 0, NULL),
			 CVMM_VIRTIO_BLK_S_IOERR);
}

static void test_many_in_flight(void **state)
{
	struct fx *f = *state;
	unsigned int done = 0;
	uint32_t id, len;

	for (unsigned int s = 0; s < 20; s++)
		add_req(f, s, CVMM_VIRTIO_BLK_T_IN, s, 0, 4096);
	wr(f, 0x50, 0);
	while (done < 20 && wait_used(f, &id, &len)) {
		assert_int_equal(len, 4097);
		done++;
	}
	assert_int_equal(done, 20);
	for (unsigned int s = 0; s < 20; s++) {
		uint8_t b = 0;

		assert_int_equal(status_of(f, s), CVMM_VIRTIO_BLK_S_OK);
		cvmm_mem_read(f->mem, DATA + 0x2000ull * s + 4095, &b, 1);
		assert_int_equal(b, s + 7);
	}
}

static void test_missing_status_needs_reset(void **state)
{
	struct fx *f = *state;
	struct vqdrv_buf b = {HDR, 16, false};

	vqdrv_add(&f->drv, &b, 1);
	wr(f, 0x50, 0);
	assert_int_equal(rd(f, 0x70) & CVMM_VIRTIO_STATUS_NEEDS_RESET,
			 CVMM_VIRTIO_STATUS_NEEDS_RESET);
	/* A reset brings the device back. */
	wr(f, 0x70, 0);
	cvmm_virtio_mmio_destroy(f->m);
	attach(f);
	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_IN, 0, 0, 512, NULL), CVMM_VIRTIO_BLK_S_OK);
}

static void test_read_only(void **state)
{
	struct fx *f = *state;
	uint32_t feat;

	wr(f, 0x14, 0);
	feat = rd(f, 0x10);
	assert_true(feat & (1u << CVMM_VIRTIO_BLK_F_RO));
	assert_false(feat & (1u << CVMM_VIRTIO_BLK_F_DISCARD));
	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_OUT, 0, 512, 0, NULL),
			 CVMM_VIRTIO_BLK_S_IOERR);
	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, 0, NULL),
			 CVMM_VIRTIO_BLK_S_IOERR);
	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_IN, 0, 0, 512, NULL), CVMM_VIRTIO_BLK_S_OK);
	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_FLUSH, 0, 0, 0, NULL), CVMM_VIRTIO_BLK_S_OK);
}

static void test_config_space(void **state)
{
	struct fx *f = *state;
	uint64_t cap = 0;
	uint32_t v;

	cvmm_virtio_mmio_read(f->m, 0x100 + CVMM_VIRTIO_BLK_CFG_CAPACITY, &cap, 8);
	assert_int_equal(cap, IMG_SECTORS);
	v = rd(f, 0x100 + CVMM_VIRTIO_BLK_CFG_SEG_MAX);
	assert_int_equal(v, QSZ - 2);
	assert_int_equal(rd(f, 0x100 + CVMM_VIRTIO_BLK_CFG_BLK_SIZE), 512);
	assert_int_equal(rd(f, 0x100 + CVMM_VIRTIO_BLK_CFG_MAX_DISCARD_SEG), 16);
	assert_int_equal(rd(f, 0x100 + 60), 0); /* past the end */
}

static void test_lock_conflict(void **state)
{
	struct fx *f = *state;
	struct cvmm_virtio_blk *keep = f->blk;

	assert_int_equal(open_blk(f, false), -EBUSY);
	assert_non_null(strstr(cvmm_err_msg(), f->path));
	assert_int_equal(open_blk(f, true), -EBUSY);
	f->blk = keep;
}

static void test_read_only_shares(void **state)
{
	struct fx *f = *state;
	struct cvmm_virtio_blk *keep = f->blk, *second;

	assert_int_equal(open_blk(f, true), 0);
	second = f->blk;
	f->blk = keep;
	assert_int_equal(open_blk(f, false), -EBUSY);
	f->blk = keep;
	cvmm_virtio_blk_destroy(second);
}

static void test_bad_options(void **state)
{
	struct cvmm_virtio_blk_opts o = {.path = "/nonexistent/cvmm.img"};
	struct cvmm_virtio_blk *b;
	struct cvmm_loop *loop;

	(void)state;
	assert_int_equal(cvmm_loop_create(&loop), 0);
	assert_int_equal(cvmm_virtio_blk_create(&b, &o), -EINVAL); /* no loop */
	o.loop = loop;
	assert_int_equal(cvmm_virtio_blk_create(&b, &o), -ENOENT);
	o.queue_size = 100;
	assert_int_equal(cvmm_virtio_blk_create(&b, &o), -EINVAL);
	o.queue_size = 0;
	o.engine = CVMM_VIRTIO_BLK_ENGINE_IO_URING;
	o.path = "/dev/null";
	o.loop = NULL;
	assert_int_equal(cvmm_virtio_blk_create(&b, &o), -EINVAL); /* no loop */
	cvmm_loop_destroy(loop);
}

#define BOTH(t)                                                                                    \
	cmocka_unit_test_setup_teardown(t, setup_sync, teardown),                                  \
	    cmocka_unit_test_setup_teardown(t, setup_uring, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    BOTH(test_read_write_flush),
	    BOTH(test_bad_requests),
	    BOTH(test_get_id),
	    BOTH(test_discard_write_zeroes),
	    BOTH(test_many_in_flight),
	    BOTH(test_missing_status_needs_reset),
	    cmocka_unit_test_setup_teardown(test_read_only, setup_ro, teardown),
	    cmocka_unit_test_setup_teardown(test_config_space, setup_sync, teardown),
	    cmocka_unit_test_setup_teardown(test_lock_conflict, setup_sync, teardown),
	    cmocka_unit_test_setup_teardown(test_read_only_shares, setup_ro, teardown),
	    cmocka_unit_test(test_bad_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
