// SPDX-License-Identifier: Apache-2.0
#include "blkfx.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
		kick(f);
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
	kick(f);
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
	kick(f);
	assert_true(wait_status(f, CVMM_VIRTIO_STATUS_NEEDS_RESET));
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

/* A second image of `sectors` sectors, each holding the byte fill. */
static void make_other_image(char path[64], unsigned int sectors, uint8_t fill)
{
	uint8_t buf[512];
	int fd;

	snprintf(path, 64, "/tmp/cvmm-blk-swap-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	memset(buf, fill, sizeof(buf));
	for (unsigned int s = 0; s < sectors; s++)
		assert_int_equal(pwrite(fd, buf, sizeof(buf), (off_t)s * 512), 512);
	close(fd);
}

static uint8_t file_byte(const char *path, off_t off)
{
	uint8_t byte = 0;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &byte, 1, off), 1);
	close(fd);
	return byte;
}

/* Another read-write device on path (f's loop), returned; f is unchanged. */
static struct cvmm_virtio_blk *second_blk(struct fx *f, const char *path, int *ret)
{
	struct cvmm_virtio_blk *keep = f->blk, *other = NULL;
	char saved[sizeof(f->path)];

	memcpy(saved, f->path, sizeof(saved));
	if (path != f->path)
		snprintf(f->path, sizeof(f->path), "%s", path);
	*ret = open_blk(f, false);
	if (*ret == 0)
		other = f->blk;
	memcpy(f->path, saved, sizeof(saved));
	f->blk = keep;
	return other;
}

/* Media change: requests the device took before the swap complete on the
 * old image, later ones use the new one; the driver sees the new capacity
 * with a config-change interrupt and a new generation; the old image is
 * unlocked and untouched afterwards; a failed swap changes nothing. */
static void test_swap_image(void **state)
{
	struct fx *f = *state;
	struct cvmm_virtio_blk *other;
	char path[64], path2[64];
	uint32_t gen, id, len;
	uint64_t cap = 0;
	unsigned int done = 0;
	uint8_t byte;
	int ret;

	make_other_image(path, 1024, 0xab);
	/* 20 reads; the first loop turn takes what the engine can have in
	 * flight: all of them with the sync engine, 8 with io_uring. */
	for (unsigned int s = 0; s < 20; s++)
		add_req(f, s, CVMM_VIRTIO_BLK_T_IN, 40 + s, 0, 512);
	kick(f);
	cvmm_loop_run_once(f->loop, 10);
	gen = rd(f, 0xfc);
	assert_int_equal(cvmm_virtio_blk_swap_image(f->blk, path), 0);
	assert_true(rd(f, 0x60) & 2); /* InterruptStatus: configuration change */
	assert_int_not_equal(rd(f, 0xfc), gen);
	cvmm_virtio_mmio_read(f->m, 0x100 + CVMM_VIRTIO_BLK_CFG_CAPACITY, &cap, 8);
	assert_int_equal(cap, 1024);
	assert_int_equal(cvmm_virtio_blk_capacity(f->blk), 1024);
	while (done < 20 && wait_used(f, &id, &len))
		done++;
	assert_int_equal(done, 20);
	for (unsigned int s = 0; s < 20; s++) {
		bool old = s < 8 || f->engine == CVMM_VIRTIO_BLK_ENGINE_SYNC;

		assert_int_equal(status_of(f, s), CVMM_VIRTIO_BLK_S_OK);
		cvmm_mem_read(f->mem, DATA + 0x2000ull * s + 511, &byte, 1);
		assert_int_equal(byte, old ? 40 + s : 0xab);
	}
	/* New requests use the new image, within its capacity. */
	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_IN, 1023, 0, 512, NULL), CVMM_VIRTIO_BLK_S_OK);
	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_IN, 1024, 0, 512, NULL),
			 CVMM_VIRTIO_BLK_S_IOERR);
	cvmm_mem_fill(f->mem, DATA, 0x5a, 512);
	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_OUT, 3, 512, 0, NULL), CVMM_VIRTIO_BLK_S_OK);
	assert_int_equal(file_byte(path, 3 * 512), 0x5a);
	assert_int_equal(file_byte(f->path, 3 * 512), 3);
	/* The old image is free for another read-write user now. */
	other = second_blk(f, f->path, &ret);
	assert_int_equal(ret, 0);
	cvmm_virtio_blk_destroy(other);
	/* Failures leave the device on the image it has. */
	assert_int_equal(cvmm_virtio_blk_swap_image(f->blk, "/nonexistent/cvmm.img"), -ENOENT);
	make_other_image(path2, 8, 0xcd);
	other = second_blk(f, path2, &ret);
	assert_int_equal(ret, 0);
	assert_int_equal(cvmm_virtio_blk_swap_image(f->blk, path2), -EBUSY);
	assert_int_equal(cvmm_virtio_blk_swap_image(f->blk, path), -EBUSY); /* its own lock */
	cvmm_virtio_blk_destroy(other);
	assert_int_equal(cvmm_virtio_blk_capacity(f->blk), 1024);
	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_IN, 1023, 0, 512, NULL), CVMM_VIRTIO_BLK_S_OK);
	unlink(path);
	unlink(path2);
}

/* A read-only device stays read-only on its new image. */
static void test_swap_image_read_only(void **state)
{
	struct fx *f = *state;
	char path[64];

	make_other_image(path, 16, 0x11);
	assert_int_equal(cvmm_virtio_blk_swap_image(f->blk, path), 0);
	cvmm_mem_fill(f->mem, DATA, 0x5a, 512);
	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_OUT, 0, 512, 0, NULL),
			 CVMM_VIRTIO_BLK_S_IOERR);
	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_IN, 15, 0, 512, NULL), CVMM_VIRTIO_BLK_S_OK);
	assert_int_equal(file_byte(path, 0), 0x11);
	unlink(path);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    BOTH(test_read_write_flush),
	    BOTH(test_bad_requests),
	    BOTH(test_get_id),
	    BOTH(test_discard_write_zeroes),
	    BOTH(test_many_in_flight),
	    BOTH(test_missing_status_needs_reset),
	    cmocka_unit_test_setup_teardown(test_read_only, setup_ro_sync, teardown),
	    cmocka_unit_test_setup_teardown(test_read_only, setup_ro_uring, teardown),
	    cmocka_unit_test_setup_teardown(test_config_space, setup_sync, teardown),
	    cmocka_unit_test_setup_teardown(test_lock_conflict, setup_sync, teardown),
	    cmocka_unit_test_setup_teardown(test_read_only_shares, setup_ro_sync, teardown),
	    BOTH(test_swap_image),
	    cmocka_unit_test_setup_teardown(test_swap_image_read_only, setup_ro_uring, teardown),
	    cmocka_unit_test(test_bad_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
