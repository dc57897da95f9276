// SPDX-License-Identifier: Apache-2.0
/* virtio-blk against a hostile or odd guest, on both engines: malformed
 * entries after valid ones in one notification, malformed rings, legal but
 * unusual request layouts, a full queue in one notification. */
#include "blkfx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TABLE 0x30000 /* indirect tables */
#define WATCHDOG_S 20

static const uint16_t N = CVMM_VIRTQ_DESC_F_NEXT, W = CVMM_VIRTQ_DESC_F_WRITE,
		      I = CVMM_VIRTQ_DESC_F_INDIRECT;

/* Reads slot s expects: sectors 8 * s .. 8 * s + 7. */
static uint16_t add_read(struct fx *f, unsigned int s)
{
	cvmm_mem_fill(f->mem, DATA + 0x2000ull * s, 0xa5, 4096);
	return add_req(f, s, CVMM_VIRTIO_BLK_T_IN, 8ull * s, 0, 4096);
}

/* A read in slot s completed correctly, or not at all: then its buffer is
 * untouched or fully read (the host owned the request until it finished),
 * never torn. */
static void check_read(struct fx *f, unsigned int s, bool completed, uint32_t len)
{
	uint64_t buf = DATA + 0x2000ull * s;
	const uint8_t *p = cvmm_mem_ptr(f->mem, buf, 4096);

	if (completed) {
		assert_int_equal(len, 4097);
		assert_int_equal(status_of(f, s), CVMM_VIRTIO_BLK_S_OK);
		assert_true(holds_image(f, buf, 8ull * s, 4096));
		return;
	}
	/* The host may have finished it after the queue broke, unpublished. */
	if (holds_image(f, buf, 8ull * s, 4096)) {
		assert_true(status_of(f, s) == 0xee || status_of(f, s) == CVMM_VIRTIO_BLK_S_OK);
		return;
	}
	assert_int_equal(status_of(f, s), 0xee);
	for (unsigned int i = 0; i < 4096; i++)
		if (p[i] != 0xa5)
			fail_msg("slot %u: byte %u is %#x: neither untouched nor the image", s, i,
				 p[i]);
}

enum malformed { BAD_HEAD, NO_STATUS };
enum ending { END_RESET, END_FLUSH, END_DESTROY };

#define NR_READS 3

/*
 * Regression: valid reads followed, in the same notification, by a malformed
 * entry (a head index >= the queue size, or a chain with no device-writable
 * byte). The io_uring engine used to queue the reads without submitting them,
 * so reset, flush and destroy then waited forever for their completions.
 */
static void read_then_malformed(void **state, enum malformed bad, enum ending end)
{
	struct fx *f = *state;
	bool done[NR_READS] = {false};
	uint32_t lens[NR_READS] = {0};
	uint16_t heads[NR_READS];
	uint32_t id, len;

	watchdog(WATCHDOG_S);
	for (unsigned int s = 0; s < NR_READS; s++)
		heads[s] = add_read(f, s);
	if (bad == BAD_HEAD) {
		vqdrv_publish(&f->drv, QSZ);
	} else {
		struct vqdrv_buf b = {HDR + 0x100ull * NR_READS, 16, false};
		uint32_t hdr[4] = {CVMM_VIRTIO_BLK_T_IN, 0, 0, 0};

		cvmm_mem_write(f->mem, b.gpa, hdr, sizeof(hdr));
		vqdrv_add(&f->drv, &b, 1);
	}
	kick(f);
	assert_true(wait_status(f, CVMM_VIRTIO_STATUS_NEEDS_RESET));

	switch (end) {
	case END_RESET:
		wr(f, 0x70, 0);
		assert_int_equal(rd(f, 0x70), 0);
		break;
	case END_FLUSH:
		assert_int_equal(cvmm_virtio_blk_flush(f->blk), 0);
		break;
	case END_DESTROY:
		break;
	}
	cvmm_virtio_mmio_destroy(f->m);
	f->m = NULL;
	cvmm_virtio_blk_destroy(f->blk);
	f->blk = NULL;

	/* Nothing can complete any more: look at what the guest got. */
	while (vqdrv_get_used(&f->drv, &id, &len)) {
		unsigned int s = 0;

		while (s < NR_READS && heads[s] != id)
			s++;
		if (s == NR_READS || done[s])
			fail_msg("used element for head %u (len %u)", id, len);
		done[s] = true;
		lens[s] = len;
	}
	for (unsigned int s = 0; s < NR_READS; s++)
		check_read(f, s, done[s], lens[s]);
	watchdog(0);
}

static void test_read_then_bad_head_reset(void **state)
{
	read_then_malformed(state, BAD_HEAD, END_RESET);
}

static void test_read_then_bad_head_flush(void **state)
{
	read_then_malformed(state, BAD_HEAD, END_FLUSH);
}

static void test_read_then_bad_head_destroy(void **state)
{
	read_then_malformed(state, BAD_HEAD, END_DESTROY);
}

static void test_read_then_no_status_reset(void **state)
{
	read_then_malformed(state, NO_STATUS, END_RESET);
}

static void test_read_then_no_status_flush(void **state)
{
	read_then_malformed(state, NO_STATUS, END_FLUSH);
}

static void test_read_then_no_status_destroy(void **state)
{
	read_then_malformed(state, NO_STATUS, END_DESTROY);
}

/* Malformed rings: the device goes to NEEDS_RESET, completes nothing more,
 * and works again after a reset. Each case lays out descriptor 0 (or the avail
 * ring) itself. */
struct bad_ring {
	const char *name;
	void (*make)(struct fx *f);
};

static void ring_bad_head(struct fx *f)
{
	vqdrv_publish(&f->drv, 0xffff);
}

static void ring_avail_idx(struct fx *f)
{
	vqdrv_set_avail_idx(&f->drv, (uint16_t)(f->drv.avail_idx + QSZ + 1));
}

static void ring_outside_ram(struct fx *f)
{
	vqdrv_desc(&f->drv, DESC, 0, HDR, 16, N, 1);
	vqdrv_desc(&f->drv, DESC, 1, RAM - 256, 4096, W, 2);
	vqdrv_desc(&f->drv, DESC, 2, STATUS, 1, W, 0);
	vqdrv_publish(&f->drv, 0);
}

static void ring_loop(struct fx *f)
{
	vqdrv_desc(&f->drv, DESC, 0, HDR, 16, N, 1);
	vqdrv_desc(&f->drv, DESC, 1, STATUS, 1, N | W, 0);
	vqdrv_publish(&f->drv, 0);
}

static void ring_read_after_write(struct fx *f)
{
	vqdrv_desc(&f->drv, DESC, 0, HDR, 16, N, 1);
	vqdrv_desc(&f->drv, DESC, 1, STATUS, 1, N | W, 2);
	vqdrv_desc(&f->drv, DESC, 2, DATA, 512, 0, 0);
	vqdrv_publish(&f->drv, 0);
}

static void ring_nested_indirect(struct fx *f)
{
	vqdrv_desc(&f->drv, DESC, 0, TABLE, 32, I, 0);
	vqdrv_desc(&f->drv, TABLE, 0, HDR, 16, N, 1);
	vqdrv_desc(&f->drv, TABLE, 1, TABLE + 0x100, 16, I, 0);
	vqdrv_publish(&f->drv, 0);
}

static void ring_indirect_too_big(struct fx *f)
{
	vqdrv_desc(&f->drv, DESC, 0, TABLE, 16 * (QSZ + 1), I, 0);
	vqdrv_publish(&f->drv, 0);
}

static void ring_no_status(struct fx *f)
{
	vqdrv_desc(&f->drv, DESC, 0, HDR, 16, N, 1);
	vqdrv_desc(&f->drv, DESC, 1, DATA, 512, 0, 0);
	vqdrv_publish(&f->drv, 0);
}

static const struct bad_ring bad_rings[] = {
    {"head", ring_bad_head},
    {"avail_idx", ring_avail_idx},
    {"outside_ram", ring_outside_ram},
    {"loop", ring_loop},
    {"read_after_write", ring_read_after_write},
    {"nested_indirect", ring_nested_indirect},
    {"indirect_too_big", ring_indirect_too_big},
    {"no_status", ring_no_status},
};

static void test_malformed_rings(void **state)
{
	struct fx *f = *state;
	uint32_t id, len;

	watchdog(WATCHDOG_S);
	for (size_t c = 0; c < sizeof(bad_rings) / sizeof(bad_rings[0]); c++) {
		uint32_t hdr[4] = {CVMM_VIRTIO_BLK_T_IN, 0, 0, 0};

		cvmm_mem_write(f->mem, HDR, hdr, sizeof(hdr));
		cvmm_mem_fill(f->mem, STATUS, 0xee, 1);
		bad_rings[c].make(f);
		kick(f);
		if (!wait_status(f, CVMM_VIRTIO_STATUS_NEEDS_RESET))
			fail_msg("case %s: no NEEDS_RESET", bad_rings[c].name);
		/* Stopped: a valid request after it is not served. */
		add_req(f, 1, CVMM_VIRTIO_BLK_T_IN, 0, 0, 512);
		kick(f);
		for (int i = 0; i < 5; i++)
			cvmm_loop_run_once(f->loop, 1);
		if (vqdrv_get_used(&f->drv, &id, &len))
			fail_msg("case %s: head %u completed after NEEDS_RESET", bad_rings[c].name,
				 id);
		assert_int_equal(status_of(f, 0), 0xee);
		/* A reset brings it back on the same transport. */
		wr(f, 0x70, 0);
		assert_int_equal(rd(f, 0x70), 0);
		assert_true(negotiate(f, QSZ, DESC, AVAIL, USED));
		assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_IN, 7, 0, 512, &len),
				 CVMM_VIRTIO_BLK_S_OK);
		assert_int_equal(len, 513);
		assert_true(holds_image(f, DATA, 7, 512));
	}
	watchdog(0);
}

/* Legal layouts a driver rarely uses: the header split over descriptors,
 * zero-length descriptors, data spread over odd-sized buffers, the status
 * byte at the end of the last data buffer, and all of it through an indirect
 * table. */
static void test_odd_layouts(void **state)
{
	struct fx *f = *state;
	uint32_t hdr[4] = {CVMM_VIRTIO_BLK_T_IN, 0, 9, 0};
	struct vqdrv_buf split[] = {
	    {HDR, 7, false},	      {HDR + 7, 0, false},	{HDR + 7, 9, false},
	    {DATA, 100, true},	      {DATA + 100, 0, true},	{DATA + 100, 412, true},
	    {DATA + 512, 1001, true}, {DATA + 1513, 536, true},
	};
	uint32_t id, len;
	uint8_t st;

	watchdog(WATCHDOG_S);
	cvmm_mem_write(f->mem, HDR, hdr, sizeof(hdr));
	cvmm_mem_fill(f->mem, DATA, 0xa5, 4096);
	vqdrv_add(&f->drv, split, sizeof(split) / sizeof(split[0]));
	kick(f);
	assert_int_equal(wait_used(f, &id, &len), 1);
	assert_int_equal(len, 2049);
	assert_true(holds_image(f, DATA, 9, 2048));
	cvmm_mem_read(f->mem, DATA + 2048, &st, 1);
	assert_int_equal(st, CVMM_VIRTIO_BLK_S_OK);

	hdr[2] = 11;
	cvmm_mem_write(f->mem, HDR, hdr, sizeof(hdr));
	cvmm_mem_fill(f->mem, DATA, 0xa5, 4096);
	vqdrv_add_indirect(&f->drv, TABLE, split, sizeof(split) / sizeof(split[0]));
	kick(f);
	assert_int_equal(wait_used(f, &id, &len), 1);
	assert_int_equal(len, 2049);
	assert_true(holds_image(f, DATA, 11, 2048));
	cvmm_mem_read(f->mem, DATA + 2048, &st, 1);
	assert_int_equal(st, CVMM_VIRTIO_BLK_S_OK);
	assert_int_equal(rd(f, 0x70) & CVMM_VIRTIO_STATUS_NEEDS_RESET, 0);
	watchdog(0);
}

/* A whole queue of reads (indirect, one descriptor each) in one
 * notification: more than the requests the io_uring engine keeps in flight.
 * All complete, each once, with the right data. */
static void test_full_queue(void **state)
{
	struct fx *f = *state;
	bool done[QSZ] = {false};
	unsigned int slot[QSZ];
	uint32_t id, len;

	watchdog(WATCHDOG_S);
	for (int round = 0; round < 3; round++) {
		memset(done, 0, sizeof(done));
		for (unsigned int s = 0; s < QSZ; s++) {
			struct vqdrv_buf b[3];
			unsigned int n = req_bufs(f, s, CVMM_VIRTIO_BLK_T_IN,
						  8ull * s + (unsigned int)round, 0, 4096, b);

			cvmm_mem_fill(f->mem, DATA + 0x2000ull * s, 0xa5, 4096);
			slot[vqdrv_add_indirect(&f->drv, TABLE + 0x40ull * s, b, n)] = s;
		}
		kick(f);
		for (unsigned int n = 0; n < QSZ; n++) {
			assert_int_equal(wait_used(f, &id, &len), 1);
			assert_true(id < QSZ);
			assert_false(done[slot[id]]);
			done[slot[id]] = true;
			assert_int_equal(len, 4097);
		}
		for (unsigned int s = 0; s < QSZ; s++) {
			assert_int_equal(status_of(f, s), CVMM_VIRTIO_BLK_S_OK);
			assert_true(holds_image(f, DATA + 0x2000ull * s,
						8ull * s + (unsigned int)round, 4096));
		}
	}
	watchdog(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    BOTH(test_read_then_bad_head_reset),
	    BOTH(test_read_then_bad_head_flush),
	    BOTH(test_read_then_bad_head_destroy),
	    BOTH(test_read_then_no_status_reset),
	    BOTH(test_read_then_no_status_flush),
	    BOTH(test_read_then_no_status_destroy),
	    BOTH(test_malformed_rings),
	    BOTH(test_odd_layouts),
	    BOTH(test_full_queue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
