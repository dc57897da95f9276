// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <cvmm/virtio.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vqdrv.h"

#define RAM (1u << 20)
#define QSZ 16
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define BUF 0x10000
#define TABLE 0x8000

struct fx {
	struct cvmm_mem *mem;
	struct cvmm_virtq *vq;
	struct vqdrv drv;
	struct cvmm_virtq_chain chain;
	struct iovec iov[QSZ];
};

static int fx_setup_features(void **state, uint64_t features)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(cvmm_mem_create(&f->mem, RAM, NULL), 0);
	assert_int_equal(cvmm_virtq_create(&f->vq, f->mem, QSZ), 0);
	vqdrv_init(&f->drv, f->mem, QSZ, DESC, AVAIL, USED);
	assert_int_equal(cvmm_virtq_set_addr(f->vq, DESC, AVAIL, USED), 0);
	assert_int_equal(cvmm_virtq_enable(f->vq, features), 0);
	cvmm_virtq_chain_init(&f->chain, f->iov, QSZ);
	*state = f;
	return 0;
}

static int fx_setup(void **state)
{
	return fx_setup_features(state, 0);
}

static int fx_setup_event_idx(void **state)
{
	return fx_setup_features(state, CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_EVENT_IDX));
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	cvmm_virtq_destroy(f->vq);
	cvmm_mem_destroy(f->mem);
	free(f);
	return 0;
}

static void test_normal_chain(void **state)
{
	struct fx *f = *state;
	struct vqdrv_buf bufs[] = {{BUF, 16, false},
				   {BUF + 0x100, 8, false},
				   {BUF + 0x200, 100, true},
				   {BUF + 0x300, 1, true}};
	uint8_t hdr[24], out[101];
	uint32_t id, len;
	uint16_t head;

	for (unsigned int i = 0; i < 24; i++)
		hdr[i] = (uint8_t)i;
	cvmm_mem_write(f->mem, BUF, hdr, 16);
	cvmm_mem_write(f->mem, BUF + 0x100, hdr + 16, 8);
	head = vqdrv_add(&f->drv, bufs, 4);

	assert_int_equal(cvmm_virtq_pop(f->vq, &f->chain), 1);
	assert_int_equal(f->chain.id, head);
	assert_int_equal(f->chain.nr_readable, 2);
	assert_int_equal(f->chain.nr_writable, 2);
	assert_int_equal(f->chain.readable_len, 24);
	assert_int_equal(f->chain.writable_len, 101);
	assert_ptr_equal(f->chain.iov[0].iov_base, cvmm_mem_ptr(f->mem, BUF, 16));

	memset(out, 0, sizeof(out));
	assert_int_equal(cvmm_virtq_chain_read(&f->chain, out, 10), 10);
	assert_int_equal(cvmm_virtq_chain_read(&f->chain, out + 10, 100), 14);
	assert_memory_equal(out, hdr, 24);
	memset(out, 0xab, sizeof(out));
	assert_int_equal(cvmm_virtq_chain_write(&f->chain, out, 200), 101);
	assert_int_equal(f->chain.written, 101);
	assert_int_equal(cvmm_virtq_push(f->vq, &f->chain, (uint32_t)f->chain.written), 0);

	assert_int_equal(vqdrv_get_used(&f->drv, &id, &len), 1);
	assert_int_equal(id, head);
	assert_int_equal(len, 101);
	cvmm_mem_read(f->mem, BUF + 0x300, out, 1);
	assert_int_equal(out[0], 0xab);
	assert_int_equal(cvmm_virtq_pop(f->vq, &f->chain), 0);
	assert_false(cvmm_virtq_broken(f->vq));
}

static void test_indirect_chain(void **state)
{
	struct fx *f = *state;
	struct vqdrv_buf bufs[] = {
	    {BUF, 16, false}, {BUF + 0x1000, 4096, true}, {BUF + 0x2000, 1, true}};
	uint16_t head = vqdrv_add_indirect(&f->drv, TABLE, bufs, 3);
	struct iovec iov[4];

	assert_int_equal(cvmm_virtq_pop(f->vq, &f->chain), 1);
	assert_int_equal(f->chain.id, head);
	assert_int_equal(f->chain.ndesc, 1);
	assert_int_equal(f->chain.nr_readable, 1);
	assert_int_equal(f->chain.nr_writable, 2);
	assert_int_equal(f->chain.writable_len, 4097);
	/* Data part of the writable buffers minus a trailing status byte. */
	assert_int_equal(cvmm_virtq_chain_iov(&f->chain, true, 0, 4096, iov, 4), 1);
	assert_int_equal(iov[0].iov_len, 4096);
	assert_int_equal(cvmm_virtq_chain_iov(&f->chain, true, 4000, 97, iov, 4), 2);
	assert_int_equal(iov[1].iov_len, 1);
	assert_int_equal(cvmm_virtq_chain_iov(&f->chain, true, 4000, 97, iov, 1), -E2BIG);
	assert_int_equal(cvmm_virtq_chain_iov(&f->chain, true, 4000, 98, iov, 4), -ERANGE);
	assert_int_equal(cvmm_virtq_chain_iov(&f->chain, false, 4, 12, iov, 4), 1);
	assert_ptr_equal(iov[0].iov_base, cvmm_mem_ptr(f->mem, BUF + 4, 12));
}

static void test_zero_length_buffers_skipped(void **state)
{
	struct fx *f = *state;
	struct vqdrv_buf bufs[] = {{BUF, 0, false}, {BUF, 8, false}, {0xffffffff0ull, 0, true}};

	vqdrv_add(&f->drv, bufs, 3);
	assert_int_equal(cvmm_virtq_pop(f->vq, &f->chain), 1);
	assert_int_equal(f->chain.nr_readable, 1);
	assert_int_equal(f->chain.nr_writable, 0);
}

static void test_wraparound(void **state)
{
	struct fx *f = *state;
	struct vqdrv_buf b = {BUF, 64, true};
	uint32_t id, len;

	for (unsigned int i = 0; i < 70000; i++) {
		uint16_t head = vqdrv_add(&f->drv, &b, 1);

		assert_int_equal(cvmm_virtq_pop(f->vq, &f->chain), 1);
		assert_int_equal(f->chain.id, head);
		assert_int_equal(cvmm_virtq_push(f->vq, &f->chain, 7), 0);
		assert_int_equal(vqdrv_get_used(&f->drv, &id, &len), 1);
		assert_int_equal(id, head);
	}
	assert_int_equal(cvmm_virtq_pop(f->vq, &f->chain), 0);
}

static void test_no_interrupt_flag(void **state)
{
	struct fx *f = *state;
	struct vqdrv_buf b = {BUF, 8, true};

	assert_false(cvmm_virtq_needs_notify(f->vq)); /* nothing pushed */
	vqdrv_add(&f->drv, &b, 1);
	assert_int_equal(cvmm_virtq_pop(f->vq, &f->chain), 1);
	cvmm_virtq_push(f->vq, &f->chain, 0);
	assert_true(cvmm_virtq_needs_notify(f->vq));
	assert_false(cvmm_virtq_needs_notify(f->vq));

	vqdrv_set_avail_flags(&f->drv, CVMM_VIRTQ_AVAIL_F_NO_INTERRUPT);
	vqdrv_add(&f->drv, &b, 1);
	assert_int_equal(cvmm_virtq_pop(f->vq, &f->chain), 1);
	cvmm_virtq_push(f->vq, &f->chain, 0);
	assert_false(cvmm_virtq_needs_notify(f->vq));
}

static void test_event_idx(void **state)
{
	struct fx *f = *state;
	struct vqdrv_buf b = {BUF, 8, true};

	/* An empty pop asks the driver to notify from index 0 on. */
	assert_int_equal(cvmm_virtq_pop(f->vq, &f->chain), 0);
	assert_int_equal(vqdrv_avail_event(&f->drv), 0);

	/* Driver wants an interrupt once used entry 2 is written (used_event 2). */
	vqdrv_set_used_event(&f->drv, 2);
	for (int i = 0; i < 4; i++)
		vqdrv_add(&f->drv, &b, 1);
	assert_int_equal(cvmm_virtq_pop(f->vq, &f->chain), 1);
	cvmm_virtq_push(f->vq, &f->chain, 0); /* used idx 1 */
	assert_false(cvmm_virtq_needs_notify(f->vq));
	assert_int_equal(cvmm_virtq_pop(f->vq, &f->chain), 1);
	cvmm_virtq_push(f->vq, &f->chain, 0); /* used idx 2: entry 1 written */
	assert_false(cvmm_virtq_needs_notify(f->vq));
	assert_int_equal(cvmm_virtq_pop(f->vq, &f->chain), 1);
	cvmm_virtq_push(f->vq, &f->chain, 0); /* used idx 3: entry 2 written */
	assert_true(cvmm_virtq_needs_notify(f->vq));
	assert_int_equal(cvmm_virtq_pop(f->vq, &f->chain), 1);
	cvmm_virtq_push(f->vq, &f->chain, 0);
	assert_false(cvmm_virtq_needs_notify(f->vq));

	/* Batch crossing the event in one go still notifies once. */
	vqdrv_set_used_event(&f->drv, 5);
	for (int i = 0; i < 3; i++) {
		vqdrv_add(&f->drv, &b, 1);
		assert_int_equal(cvmm_virtq_pop(f->vq, &f->chain), 1);
		cvmm_virtq_push(f->vq, &f->chain, 0);
	}
	assert_true(cvmm_virtq_needs_notify(f->vq));

	/* An empty pop publishes how far the device got. */
	assert_int_equal(cvmm_virtq_pop(f->vq, &f->chain), 0);
	assert_int_equal(vqdrv_avail_event(&f->drv), 7);
}

static void test_enable_validation(void **state)
{
	struct fx *f = *state;
	struct cvmm_virtq *vq;

	assert_int_equal(cvmm_virtq_create(&vq, f->mem, 12), -EINVAL);
	assert_int_equal(cvmm_virtq_create(&vq, f->mem, 0), -EINVAL);
	assert_int_equal(cvmm_virtq_create(&vq, f->mem, 256), 0);

	cvmm_virtq_set_addr(vq, DESC, AVAIL, USED);
	cvmm_virtq_set_size(vq, 24);
	assert_int_equal(cvmm_virtq_enable(vq, 0), -EINVAL);
	cvmm_virtq_set_size(vq, 512);
	assert_int_equal(cvmm_virtq_enable(vq, 0), -EINVAL);
	cvmm_virtq_set_size(vq, 0);
	assert_int_equal(cvmm_virtq_enable(vq, 0), -EINVAL);
	cvmm_virtq_set_size(vq, 256);
	cvmm_virtq_set_addr(vq, DESC + 8, AVAIL, USED);
	assert_int_equal(cvmm_virtq_enable(vq, 0), -EINVAL);
	cvmm_virtq_set_addr(vq, DESC, AVAIL + 1, USED);
	assert_int_equal(cvmm_virtq_enable(vq, 0), -EINVAL);
	cvmm_virtq_set_addr(vq, DESC, AVAIL, USED + 2);
	assert_int_equal(cvmm_virtq_enable(vq, 0), -EINVAL);
	/* Used ring whose avail_event would end past RAM. */
	cvmm_virtq_set_addr(vq, DESC, AVAIL, RAM - (4 + 8 * 256));
	assert_int_equal(cvmm_virtq_enable(vq, 0), -EFAULT);
	cvmm_virtq_set_addr(vq, DESC, UINT64_MAX - 1, USED);
	assert_int_equal(cvmm_virtq_enable(vq, 0), -EFAULT);
	assert_int_equal(cvmm_virtq_enable(vq, CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_RING_PACKED)),
			 -ENOTSUP);
	assert_false(cvmm_virtq_ready(vq));
	assert_true(cvmm_virtq_pop(vq, &f->chain) < 0);
	cvmm_virtq_set_addr(vq, DESC, AVAIL, USED);
	assert_int_equal(cvmm_virtq_enable(vq, 0), 0);
	assert_int_equal(cvmm_virtq_set_size(vq, 128), -EBUSY);
	assert_int_equal(cvmm_virtq_enable(vq, 0), -EBUSY);
	cvmm_virtq_reset(vq);
	assert_false(cvmm_virtq_ready(vq));
	assert_int_equal(cvmm_virtq_size(vq), 256);
	cvmm_virtq_destroy(vq);
}

/* Malformed rings: each case corrupts the ring in its own way; pop must fail
 * with the error the header documents for it, the queue is then broken, and
 * later pops and pushes fail with -EIO without touching the rings. */
struct bad_case {
	const char *name;
	int err;
	void (*make)(struct fx *f);
	bool publish; /* make wrote descriptor 0: publish it as the head */
};

static const uint16_t N = CVMM_VIRTQ_DESC_F_NEXT, W = CVMM_VIRTQ_DESC_F_WRITE,
		      I = CVMM_VIRTQ_DESC_F_INDIRECT;

static void bad_avail_idx(struct fx *f)
{
	vqdrv_set_avail_idx(&f->drv, QSZ + 1);
}

static void bad_avail_idx_behind(struct fx *f)
{
	/* 0xffff is 65535 entries "ahead" of 0: the driver went backwards. */
	vqdrv_set_avail_idx(&f->drv, 0xffff);
}

static void bad_head(struct fx *f)
{
	vqdrv_publish(&f->drv, QSZ);
}

static void bad_head_max(struct fx *f)
{
	vqdrv_publish(&f->drv, 0xffff);
}

static void bad_buf_outside_ram(struct fx *f)
{
	vqdrv_desc(&f->drv, DESC, 0, RAM - 4, 8, 0, 0);
}

static void bad_buf_wraps(struct fx *f)
{
	vqdrv_desc(&f->drv, DESC, 0, UINT64_MAX - 3, 8, 0, 0);
}

static void bad_writable_outside_ram(struct fx *f)
{
	vqdrv_desc(&f->drv, DESC, 0, BUF, 8, N, 1);
	vqdrv_desc(&f->drv, DESC, 1, RAM, 1, W, 0);
}

static void bad_loop(struct fx *f)
{
	vqdrv_desc(&f->drv, DESC, 0, BUF, 8, N, 1);
	vqdrv_desc(&f->drv, DESC, 1, BUF, 8, N, 0);
}

static void bad_self_loop(struct fx *f)
{
	vqdrv_desc(&f->drv, DESC, 0, BUF, 8, N | W, 0);
}

static void bad_next_range(struct fx *f)
{
	vqdrv_desc(&f->drv, DESC, 0, BUF, 8, N, QSZ);
}

static void bad_read_after_write(struct fx *f)
{
	vqdrv_desc(&f->drv, DESC, 0, BUF, 8, N | W, 1);
	vqdrv_desc(&f->drv, DESC, 1, BUF, 8, 0, 0);
}

static void bad_too_many_bufs(struct fx *f)
{
	/* A legal-length chain, but more buffers than the caller's iovecs. */
	for (uint16_t i = 0; i < 5; i++)
		vqdrv_desc(&f->drv, DESC, i, BUF, 8, i < 4 ? N : 0, (uint16_t)(i + 1));
	f->chain.iov_cap = 4;
}

static void bad_nested_indirect(struct fx *f)
{
	vqdrv_desc(&f->drv, DESC, 0, TABLE, 32, I, 0);
	vqdrv_desc(&f->drv, TABLE, 0, BUF, 8, N, 1);
	vqdrv_desc(&f->drv, TABLE, 1, TABLE + 0x100, 16, I, 0);
}

static void bad_indirect_next(struct fx *f)
{
	vqdrv_desc(&f->drv, DESC, 0, TABLE, 16, I | N, 1);
	vqdrv_desc(&f->drv, TABLE, 0, BUF, 8, 0, 0);
}

static void bad_indirect_zero(struct fx *f)
{
	vqdrv_desc(&f->drv, DESC, 0, TABLE, 0, I, 0);
}

static void bad_indirect_odd(struct fx *f)
{
	vqdrv_desc(&f->drv, DESC, 0, TABLE, 24, I, 0);
}

static void bad_indirect_too_big(struct fx *f)
{
	vqdrv_desc(&f->drv, DESC, 0, TABLE, 16 * (QSZ + 1), I, 0);
}

static void bad_indirect_outside(struct fx *f)
{
	vqdrv_desc(&f->drv, DESC, 0, RAM - 16, 32, I, 0);
}

static void bad_indirect_loop(struct fx *f)
{
	vqdrv_desc(&f->drv, DESC, 0, TABLE, 48, I, 0);
	vqdrv_desc(&f->drv, TABLE, 0, BUF, 8, N, 1);
	vqdrv_desc(&f->drv, TABLE, 1, BUF, 8, N, 2);
	vqdrv_desc(&f->drv, TABLE, 2, BUF, 8, N, 0);
}

static void bad_indirect_next_range(struct fx *f)
{
	vqdrv_desc(&f->drv, DESC, 0, TABLE, 32, I, 0);
	vqdrv_desc(&f->drv, TABLE, 0, BUF, 8, N, 2);
}

static void bad_indirect_buf_outside(struct fx *f)
{
	vqdrv_desc(&f->drv, DESC, 0, TABLE, 32, I, 0);
	vqdrv_desc(&f->drv, TABLE, 0, BUF, 8, N, 1);
	vqdrv_desc(&f->drv, TABLE, 1, RAM - 1, 2, W, 0);
}

static void bad_indirect_read_after_write(struct fx *f)
{
	vqdrv_desc(&f->drv, DESC, 0, TABLE, 32, I, 0);
	vqdrv_desc(&f->drv, TABLE, 0, BUF, 8, N | W, 1);
	vqdrv_desc(&f->drv, TABLE, 1, BUF, 8, 0, 0);
}

static void bad_indirect_too_many_bufs(struct fx *f)
{
	vqdrv_desc(&f->drv, DESC, 0, TABLE, 16 * 5, I, 0);
	for (uint16_t i = 0; i < 5; i++)
		vqdrv_desc(&f->drv, TABLE, i, BUF, 8, i < 4 ? N : 0, (uint16_t)(i + 1));
	f->chain.iov_cap = 4;
}

/* Expected errors: -EINVAL unless the header notes otherwise (-EFAULT for
 * memory outside guest RAM, -E2BIG for more buffers than iovecs). */
static const struct bad_case bad_cases[] = {
    {"avail_idx", EINVAL, bad_avail_idx, false},
    {"avail_idx_behind", EINVAL, bad_avail_idx_behind, false},
    {"head", EINVAL, bad_head, false},
    {"head_max", EINVAL, bad_head_max, false},
    {"buf_outside_ram", EFAULT, bad_buf_outside_ram, true},
    {"buf_wraps", EFAULT, bad_buf_wraps, true},
    {"writable_outside_ram", EFAULT, bad_writable_outside_ram, true},
    {"loop", EINVAL, bad_loop, true},
    {"self_loop", EINVAL, bad_self_loop, true},
    {"next_range", EINVAL, bad_next_range, true},
    {"read_after_write", EINVAL, bad_read_after_write, true},
    {"too_many_bufs", E2BIG, bad_too_many_bufs, true},
    {"nested_indirect", EINVAL, bad_nested_indirect, true},
    {"indirect_next", EINVAL, bad_indirect_next, true},
    {"indirect_zero", EINVAL, bad_indirect_zero, true},
    {"indirect_odd", EINVAL, bad_indirect_odd, true},
    {"indirect_too_big", EINVAL, bad_indirect_too_big, true},
    {"indirect_outside", EFAULT, bad_indirect_outside, true},
    {"indirect_loop", EINVAL, bad_indirect_loop, true},
    {"indirect_next_range", EINVAL, bad_indirect_next_range, true},
    {"indirect_buf_outside", EFAULT, bad_indirect_buf_outside, true},
    {"indirect_read_after_write", EINVAL, bad_indirect_read_after_write, true},
    {"indirect_too_many_bufs", E2BIG, bad_indirect_too_many_bufs, true},
};

static void test_malformed_rings(void **state)
{
	struct fx *f = *state;
	struct vqdrv_buf good = {BUF, 8, true};
	uint32_t id, len;

	for (size_t c = 0; c < sizeof(bad_cases) / sizeof(bad_cases[0]); c++) {
		const struct bad_case *bc = &bad_cases[c];
		int ret;

		fx_teardown(state);
		fx_setup(state);
		f = *state;
		bc->make(f);
		if (bc->publish)
			vqdrv_publish(&f->drv, 0);
		ret = cvmm_virtq_pop(f->vq, &f->chain);
		if (ret != -bc->err)
			fail_msg("case %s: pop returned %d, want %d", bc->name, ret, -bc->err);
		if (!cvmm_virtq_broken(f->vq))
			fail_msg("case %s: queue not broken", bc->name);
		assert_true(strlen(cvmm_err_msg()) > 0);
		/* Broken for good: a valid chain published now is not popped. */
		vqdrv_add(&f->drv, &good, 1);
		assert_int_equal(cvmm_virtq_pop(f->vq, &f->chain), -EIO);
		assert_int_equal(cvmm_virtq_pop(f->vq, &f->chain), -EIO);
		assert_int_equal(cvmm_virtq_push(f->vq, &f->chain, 0), -EIO);
		assert_false(cvmm_virtq_needs_notify(f->vq));
		assert_int_equal(vqdrv_get_used(&f->drv, &id, &len), 0);
		assert_true(cvmm_virtq_broken(f->vq));
	}
}

/* Reset clears the broken state; the re-enabled queue starts afresh. */
static void test_reset_after_broken(void **state)
{
	struct fx *f = *state;
	struct vqdrv_buf b[5] = {{BUF, 1, 0}, {BUF, 1, 0}, {BUF, 1, 0}, {BUF, 1, 0}, {BUF, 1, 0}};
	uint32_t id, len;

	bad_buf_outside_ram(f);
	vqdrv_publish(&f->drv, 0);
	assert_int_equal(cvmm_virtq_pop(f->vq, &f->chain), -EFAULT);
	cvmm_virtq_reset(f->vq);
	assert_false(cvmm_virtq_broken(f->vq));
	assert_false(cvmm_virtq_ready(f->vq));
	assert_int_equal(cvmm_virtq_pop(f->vq, &f->chain), -EIO); /* disabled */
	vqdrv_init(&f->drv, f->mem, QSZ, DESC, AVAIL, USED);
	assert_int_equal(cvmm_virtq_set_size(f->vq, QSZ), 0);
	assert_int_equal(cvmm_virtq_set_addr(f->vq, DESC, AVAIL, USED), 0);
	assert_int_equal(cvmm_virtq_enable(f->vq, 0), 0);
	vqdrv_add(&f->drv, b, 1);
	assert_int_equal(cvmm_virtq_pop(f->vq, &f->chain), 1);
	assert_int_equal(cvmm_virtq_push(f->vq, &f->chain, 0), 0);
	assert_int_equal(vqdrv_get_used(&f->drv, &id, &len), 1);
	assert_int_equal(id, 0);
	/* And it breaks again on the next malformed chain. */
	f->chain.iov_cap = 4;
	vqdrv_add(&f->drv, b, 5);
	assert_int_equal(cvmm_virtq_pop(f->vq, &f->chain), -E2BIG);
	assert_true(cvmm_virtq_broken(f->vq));
}

/* QueueReady = 0: processing stops, the driver's configuration stays, and
 * enabling again starts the ring afresh. */
static void test_disable(void **state)
{
	struct fx *f = *state;
	struct vqdrv_buf b = {BUF, 8, true};
	uint64_t a[3];
	uint32_t id, len;

	vqdrv_add(&f->drv, &b, 1);
	assert_int_equal(cvmm_virtq_pop(f->vq, &f->chain), 1);
	cvmm_virtq_disable(f->vq);
	assert_false(cvmm_virtq_ready(f->vq));
	assert_int_equal(cvmm_virtq_size(f->vq), QSZ);
	cvmm_virtq_addr(f->vq, &a[0], &a[1], &a[2]);
	assert_int_equal(a[0], DESC);
	assert_int_equal(a[1], AVAIL);
	assert_int_equal(a[2], USED);
	assert_int_equal(cvmm_virtq_push(f->vq, &f->chain, 0), -EIO);
	assert_int_equal(cvmm_virtq_pop(f->vq, &f->chain), -EIO);
	assert_false(cvmm_virtq_needs_notify(f->vq));
	assert_int_equal(vqdrv_get_used(&f->drv, &id, &len), 0);
	/* Configurable again while disabled. */
	assert_int_equal(cvmm_virtq_set_size(f->vq, QSZ / 2), 0);
	vqdrv_init(&f->drv, f->mem, QSZ / 2, DESC, AVAIL, USED);
	assert_int_equal(cvmm_virtq_enable(f->vq, 0), 0);
	vqdrv_add(&f->drv, &b, 1);
	assert_int_equal(cvmm_virtq_pop(f->vq, &f->chain), 1);
	assert_int_equal(f->chain.id, 0);
	assert_int_equal(cvmm_virtq_push(f->vq, &f->chain, 3), 0);
	assert_int_equal(vqdrv_get_used(&f->drv, &id, &len), 1);
	assert_int_equal(len, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_normal_chain, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_indirect_chain, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_zero_length_buffers_skipped, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_wraparound, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_no_interrupt_flag, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_event_idx, fx_setup_event_idx, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_enable_validation, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_rings, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_reset_after_broken, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_disable, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
