// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <cvmm/virtio-rng.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vqdrv.h"

#define RAM (8u << 20)
#define QSZ 64
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define ITABLE 0x4000
#define DATA 0x100000
#define GUARD 0xa5
#define NEEDS_RESET CVMM_VIRTIO_STATUS_NEEDS_RESET

struct fx {
	struct cvmm_mem *mem;
	struct cvmm_loop *loop;
	struct cvmm_virtio_rng *rng;
	struct cvmm_virtio_mmio *m;
	struct vqdrv drv;
};

static uint32_t rd(struct fx *f, uint64_t off)
{
	uint32_t v = 0;

	cvmm_virtio_mmio_read(f->m, off, &v, 4);
	return v;
}

static void wr(struct fx *f, uint64_t off, uint32_t v)
{
	cvmm_virtio_mmio_write(f->m, off, &v, 4);
}

/* A QueueNotify write only signals the queue's eventfd: run the loop, as the
 * monitor's main thread would, until the device has nothing left to do. */
static void notify(struct fx *f)
{
	wr(f, 0x50, 0);
	while (cvmm_loop_run_once(f->loop, 0) > 0)
		;
}

/* Driver initialisation accepting every offered feature, one queue. */
static void negotiate(struct fx *f)
{
	assert_true(vqdrv_mmio_negotiate(f->m, vqdrv_mmio_offered(f->m)));
	vqdrv_mmio_queue(f->m, 0, &f->drv, f->mem, QSZ, DESC, AVAIL, USED);
	assert_true(vqdrv_mmio_driver_ok(f->m));
}

static void quiet(void *opaque, const char *line)
{
	(void)opaque;
	(void)line;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct cvmm_virtio_rng_opts ro = {.queue_size = QSZ};
	struct cvmm_virtio_mmio_opts mo = {.name = "rng-test", .log = quiet};

	assert_non_null(f);
	assert_int_equal(cvmm_mem_create(&f->mem, RAM, NULL), 0);
	assert_int_equal(cvmm_loop_create(&f->loop), 0);
	ro.loop = f->loop;
	assert_int_equal(cvmm_virtio_rng_create(&f->rng, &ro), 0);
	mo.mem = f->mem;
	mo.dev = cvmm_virtio_rng_device(f->rng);
	mo.loop = f->loop;
	assert_int_equal(cvmm_virtio_mmio_create(&f->m, &mo), 0);
	negotiate(f);
	cvmm_mem_fill(f->mem, DATA, GUARD, RAM - DATA);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	cvmm_virtio_mmio_destroy(f->m);
	cvmm_virtio_rng_destroy(f->rng);
	cvmm_loop_destroy(f->loop);
	cvmm_mem_destroy(f->mem);
	free(f);
	return 0;
}

/* Bytes of [gpa, gpa+len) still holding the guard pattern. */
static size_t guarded(struct fx *f, uint64_t gpa, size_t len)
{
	const uint8_t *p = cvmm_mem_ptr(f->mem, gpa, len);
	size_t n = 0;

	assert_non_null(p);
	for (size_t i = 0; i < len; i++)
		n += p[i] == GUARD;
	return n;
}

/* Random bytes hold the guard value about once in 256. */
static void assert_random(struct fx *f, uint64_t gpa, size_t len)
{
	assert_true(guarded(f, gpa, len) <= len / 16 + 4);
}

static void assert_untouched(struct fx *f, uint64_t gpa, size_t len)
{
	assert_int_equal(guarded(f, gpa, len), len);
}

/* Publish bufs as one chain, notify, and return its used.len. */
static uint32_t request(struct fx *f, const struct vqdrv_buf *bufs, unsigned int n)
{
	uint32_t id = UINT32_MAX, len = UINT32_MAX;
	uint16_t head = vqdrv_add(&f->drv, bufs, n);

	notify(f);
	assert_int_equal(vqdrv_get_used(&f->drv, &id, &len), 1);
	assert_int_equal(id, head);
	assert_int_equal(vqdrv_get_used(&f->drv, &id, &len), 0);
	return len;
}

static void test_identity(void **state)
{
	struct fx *f = *state;

	assert_int_equal(rd(f, 0x08), CVMM_VIRTIO_ID_RNG);
	wr(f, 0x14, 0);
	assert_int_equal(rd(f, 0x10), CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_INDIRECT_DESC) |
					  CVMM_VIRTIO_BIT(CVMM_VIRTIO_F_EVENT_IDX));
	wr(f, 0x14, 1);
	assert_int_equal(rd(f, 0x10), 1); /* VERSION_1 */
	assert_int_equal(rd(f, 0x34), QSZ);
	assert_int_equal(rd(f, 0x100), 0); /* no config space */
}

static void test_fill(void **state)
{
	struct fx *f = *state;
	struct cvmm_virtio_rng_stats st;
	struct vqdrv_buf a = {DATA, 4096, true}, b = {DATA + 0x2000, 4096, true};

	assert_int_equal(request(f, &a, 1), 4096);
	assert_random(f, DATA, 4096);
	assert_untouched(f, DATA + 4096, 0x1000);
	assert_true(rd(f, 0x60) & 1); /* used-buffer interrupt */
	wr(f, 0x64, 1);
	assert_int_equal(request(f, &b, 1), 4096);
	assert_random(f, DATA + 0x2000, 4096);
	cvmm_virtio_rng_stats(f->rng, &st);
	assert_int_equal(st.requests, 2);
	assert_int_equal(st.bytes, 8192);
	assert_memory_not_equal(cvmm_mem_ptr(f->mem, DATA, 4096),
				cvmm_mem_ptr(f->mem, DATA + 0x2000, 4096), 4096);
	assert_int_equal(rd(f, 0x70) & NEEDS_RESET, 0);
}

static void test_split_buffers(void **state)
{
	struct fx *f = *state;
	const struct vqdrv_buf bufs[] = {
	    {DATA, 100, true},
	    {DATA + 0x1000, 1, true},
	    {DATA + 0x2000, 0, true}, /* skipped */
	    {DATA + 0x3000, 4000, true},
	};

	assert_int_equal(request(f, bufs, 4), 4101);
	assert_random(f, DATA, 100);
	assert_random(f, DATA + 0x3000, 4000);
	assert_untouched(f, DATA + 100, 0x1000 - 100);
	assert_untouched(f, DATA + 0x1001, 0x2000 - 1);
	assert_untouched(f, DATA + 0x3000 + 4000, 0x1000);
}

/* The spec forbids device-readable buffers; they are ignored, not failed. */
static void test_readable_ignored(void **state)
{
	struct fx *f = *state;
	const struct vqdrv_buf mixed[] = {{DATA, 64, false}, {DATA + 0x1000, 64, true}};
	const struct vqdrv_buf ro[] = {{DATA + 0x2000, 512, false}, {DATA + 0x3000, 8, false}};

	assert_int_equal(request(f, mixed, 2), 64);
	assert_untouched(f, DATA, 64);
	assert_random(f, DATA + 0x1000, 64);
	assert_int_equal(request(f, ro, 2), 0);
	assert_untouched(f, DATA + 0x2000, 0x2000);
	assert_int_equal(rd(f, 0x70) & NEEDS_RESET, 0);
	assert_int_equal(request(f, &mixed[1], 1), 64);
}

static void test_indirect(void **state)
{
	struct fx *f = *state;
	const struct vqdrv_buf bufs[] = {{DATA, 300, true}, {DATA + 0x1000, 700, true}};
	uint32_t id, len;

	vqdrv_add_indirect(&f->drv, ITABLE, bufs, 2);
	notify(f);
	assert_int_equal(vqdrv_get_used(&f->drv, &id, &len), 1);
	assert_int_equal(len, 1000);
	assert_random(f, DATA, 300);
	assert_random(f, DATA + 0x1000, 700);
	assert_untouched(f, DATA + 300, 0x1000 - 300);
}

/* A chain gets at most CHAIN_MAX bytes, in chain order. */
static void test_chain_cap(void **state)
{
	struct fx *f = *state;
	const uint32_t half = CVMM_VIRTIO_RNG_CHAIN_MAX / 2;
	const struct vqdrv_buf bufs[] = {
	    {DATA, half, true},
	    {DATA + 0x100000, CVMM_VIRTIO_RNG_CHAIN_MAX, true},
	    {DATA + 0x200000, 4096, true},
	};

	assert_int_equal(request(f, bufs, 3), CVMM_VIRTIO_RNG_CHAIN_MAX);
	assert_random(f, DATA, half);
	assert_random(f, DATA + 0x100000, half);
	assert_untouched(f, DATA + 0x100000 + half, half);
	assert_untouched(f, DATA + 0x200000, 4096);
}

static void test_reset_reactivate(void **state)
{
	struct fx *f = *state;
	struct vqdrv_buf b = {DATA, 256, true};

	assert_int_equal(request(f, &b, 1), 256);
	wr(f, 0x70, 0);
	assert_int_equal(rd(f, 0x70), 0);
	/* A notification after reset is dropped; nothing touches the ring. */
	b.gpa = DATA + 0x1000;
	vqdrv_add(&f->drv, &b, 1);
	notify(f);
	assert_untouched(f, DATA + 0x1000, 256);
	negotiate(f);
	assert_int_equal(request(f, &b, 1), 256);
	assert_random(f, DATA + 0x1000, 256);
}

static void test_malformed_needs_reset(void **state)
{
	struct fx *f = *state;
	struct vqdrv_buf b = {DATA, 128, true};
	uint32_t id, len;

	vqdrv_publish(&f->drv, QSZ + 3); /* head past the table */
	notify(f);
	assert_int_equal(rd(f, 0x70) & NEEDS_RESET, NEEDS_RESET);
	assert_true(rd(f, 0x60) & 2); /* config-change interrupt */
	vqdrv_add(&f->drv, &b, 1);
	notify(f);
	assert_int_equal(vqdrv_get_used(&f->drv, &id, &len), 0);
	assert_untouched(f, DATA, 128);

	wr(f, 0x70, 0);
	negotiate(f);
	assert_int_equal(request(f, &b, 1), 128);
	/* avail->idx more than a queue ahead */
	vqdrv_set_avail_idx(&f->drv, QSZ + 5);
	notify(f);
	assert_int_equal(rd(f, 0x70) & NEEDS_RESET, NEEDS_RESET);

	wr(f, 0x70, 0);
	negotiate(f);
	assert_int_equal(request(f, &b, 1), 128);
	assert_int_equal(rd(f, 0x70) & NEEDS_RESET, 0);
}

static unsigned int used_count(struct fx *f)
{
	unsigned int n = 0;
	uint32_t id, len;

	while (vqdrv_get_used(&f->drv, &id, &len)) {
		assert_int_equal(len, CVMM_VIRTIO_RNG_CHAIN_MAX);
		n++;
	}
	return n;
}

/* A full queue of CHAIN_MAX chains is more than BATCH_MAX bytes: each loop
 * turn serves one batch, then the device yields until the next turn. */
static void test_batch_bound(void **state)
{
	struct fx *f = *state;
	const unsigned int per_batch = CVMM_VIRTIO_RNG_BATCH_MAX / CVMM_VIRTIO_RNG_CHAIN_MAX;
	struct vqdrv_buf b = {DATA, CVMM_VIRTIO_RNG_CHAIN_MAX, true};
	unsigned int done = 0;

	/* Activation kicks the device once (it may have missed notifies). */
	while (cvmm_loop_run_once(f->loop, 0) > 0)
		;
	for (unsigned int i = 0; i < QSZ; i++)
		vqdrv_add(&f->drv, &b, 1);
	wr(f, 0x50, 0);
	while (done < QSZ) {
		assert_int_equal(cvmm_loop_run_once(f->loop, 0), 1);
		assert_int_equal(used_count(f), per_batch);
		done += per_batch;
	}
	/* The last full batch leaves a kick that finds the ring empty. */
	cvmm_loop_run_once(f->loop, 0);
	assert_int_equal(used_count(f), 0);
	assert_int_equal(cvmm_loop_run_once(f->loop, 0), 0);
}

static void test_bad_options(void **state)
{
	struct cvmm_virtio_rng_opts o = {0};
	struct cvmm_virtio_rng *r;
	struct cvmm_loop *loop;

	(void)state;
	assert_int_equal(cvmm_virtio_rng_create(&r, NULL), -EINVAL);
	assert_int_equal(cvmm_virtio_rng_create(&r, &o), -EINVAL);
	assert_int_equal(cvmm_loop_create(&loop), 0);
	o.loop = loop;
	o.queue_size = 100;
	assert_int_equal(cvmm_virtio_rng_create(&r, &o), -EINVAL);
	o.queue_size = 2048;
	assert_int_equal(cvmm_virtio_rng_create(&r, &o), -EINVAL);
	o.queue_size = 0;
	assert_int_equal(cvmm_virtio_rng_create(&r, &o), 0);
	assert_int_equal(cvmm_virtio_rng_device(r)->queue_max_size, 256);
	cvmm_virtio_rng_destroy(r);
	cvmm_virtio_rng_destroy(NULL);
	cvmm_loop_destroy(loop);
}

static uint64_t limit_now_ns;

static uint64_t limit_clock(void *opaque)
{
	(void)opaque;
	return limit_now_ns;
}

/* bw=4K per 20 ms on a frozen clock: the second 4 KiB chain waits, popped,
 * until the clock moves, and then gets its bytes. */
static void test_rate_limit(void **state)
{
	struct fx *f = *state;
	const struct cvmm_ratelimit_cfg limit = {
	    .bytes = {.size = 4096, .refill_time_ms = 20},
	    .clock = limit_clock,
	};
	struct cvmm_virtio_rng_opts ro = {.queue_size = QSZ, .limit = &limit};
	struct cvmm_virtio_mmio_opts mo = {.name = "rng-test", .log = quiet};
	struct vqdrv_buf a = {DATA, 4096, true}, b = {DATA + 0x2000, 4096, true};
	uint32_t id, len = 0;

	limit_now_ns = 1000000000ull;
	cvmm_virtio_mmio_destroy(f->m);
	cvmm_virtio_rng_destroy(f->rng);
	ro.loop = f->loop;
	assert_int_equal(cvmm_virtio_rng_create(&f->rng, &ro), 0);
	mo.mem = f->mem;
	mo.dev = cvmm_virtio_rng_device(f->rng);
	mo.loop = f->loop;
	assert_int_equal(cvmm_virtio_mmio_create(&f->m, &mo), 0);
	negotiate(f);
	assert_int_equal(request(f, &a, 1), 4096);
	vqdrv_add(&f->drv, &b, 1);
	notify(f);
	for (int i = 0; i < 5; i++)
		cvmm_loop_run_once(f->loop, 10);
	assert_int_equal(vqdrv_get_used(&f->drv, &id, &len), 0);
	assert_untouched(f, DATA + 0x2000, 4096);
	limit_now_ns += 20000000ull;
	for (int i = 0; i < 200 && !vqdrv_get_used(&f->drv, &id, &len); i++)
		cvmm_loop_run_once(f->loop, 10);
	assert_int_equal(len, 4096);
	assert_random(f, DATA + 0x2000, 4096);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fill, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_split_buffers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_readable_ignored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_indirect, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chain_cap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_reactivate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_needs_reset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batch_bound, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
	    cmocka_unit_test(test_bad_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
