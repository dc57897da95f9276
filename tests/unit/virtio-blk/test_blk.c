// SPDX-License-Identifier: Apache-2.0
#include "blkfx.h"

#include <errno.h>
#include <fcntl.h>
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
	    cmocka_unit_test(test_bad_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
