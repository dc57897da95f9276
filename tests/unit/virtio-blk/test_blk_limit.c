// SPDX-License-Identifier: Apache-2.0
/* virtio-blk with a rate limit: a request over the limit waits, already
 * popped, and completes once the limiter's clock allows it. The limiter runs
 * on a frozen test clock, so only the test decides when time passes. */
#include "blkfx.h"

#include <errno.h>
#include <stdlib.h>

static uint64_t test_now_ns;

static uint64_t test_clock(void *opaque)
{
	(void)opaque;
	return test_now_ns;
}

/* Replace the fixture's device by one allowing one request per 20 ms. */
static void limit_device(struct fx *f)
{
	const struct cvmm_ratelimit_cfg limit = {
	    .ops = {.size = 1, .refill_time_ms = 20},
	    .clock = test_clock,
	};
	struct cvmm_virtio_blk_opts o = {
	    .path = f->path,
	    .engine = f->engine,
	    .loop = f->loop,
	    .queue_size = QSZ,
	    .max_inflight = 8,
	    .limit = &limit,
	};

	cvmm_virtio_mmio_destroy(f->m);
	cvmm_virtio_blk_destroy(f->blk);
	assert_int_equal(cvmm_virtio_blk_create(&f->blk, &o), 0);
	attach(f);
}

static void test_request_waits_for_the_limit(void **state)
{
	struct fx *f = *state;
	uint32_t id, len;

	test_now_ns = 1000000000ull;
	limit_device(f);
	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_IN, 8, 0, 512, &len), CVMM_VIRTIO_BLK_S_OK);
	/* The bucket is empty and the clock frozen: the second read waits,
	 * however often the loop runs and its timer fires. */
	add_req(f, 1, CVMM_VIRTIO_BLK_T_IN, 16, 0, 512);
	kick(f);
	for (int i = 0; i < 10; i++)
		cvmm_loop_run_once(f->loop, 10);
	assert_false(vqdrv_get_used(&f->drv, &id, &len));
	assert_int_equal(status_of(f, 1), 0xee);
	/* Time passes: the same request completes, with the right data. */
	test_now_ns += 20000000ull;
	assert_int_equal(wait_used(f, &id, &len), 1);
	assert_int_equal(len, 513);
	assert_int_equal(status_of(f, 1), CVMM_VIRTIO_BLK_S_OK);
	assert_true(holds_image(f, DATA + 0x2000ull, 16, 512));
}

static void test_live_update_releases_waiting_request(void **state)
{
	struct fx *f = *state;
	const struct cvmm_ratelimit_bucket off = {0};
	uint32_t id, len;

	test_now_ns = 1000000000ull;
	limit_device(f);
	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_IN, 8, 0, 512, &len), CVMM_VIRTIO_BLK_S_OK);
	add_req(f, 1, CVMM_VIRTIO_BLK_T_IN, 16, 0, 512);
	kick(f);
	for (int i = 0; i < 5; i++)
		cvmm_loop_run_once(f->loop, 10);
	assert_false(vqdrv_get_used(&f->drv, &id, &len));
	/* Lifting the ops limit lets the waiting request through at once. */
	assert_int_equal(cvmm_virtio_blk_set_limit(f->blk, NULL, &off), 0);
	assert_int_equal(wait_used(f, &id, &len), 1);
	assert_int_equal(status_of(f, 1), CVMM_VIRTIO_BLK_S_OK);
}

static void test_set_limit_without_limit(void **state)
{
	struct fx *f = *state;
	const struct cvmm_ratelimit_bucket b = {.size = 1, .refill_time_ms = 1};

	assert_int_equal(cvmm_virtio_blk_set_limit(f->blk, &b, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    BOTH(test_request_waits_for_the_limit),
	    BOTH(test_live_update_releases_waiting_request),
	    cmocka_unit_test_setup_teardown(test_set_limit_without_limit, setup_sync, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
