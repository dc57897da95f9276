// SPDX-License-Identifier: Apache-2.0
/* virtio-blk reset and re-activation on one transport, on both engines:
 * the driver resets (with requests in flight or not), negotiates again and
 * brings the queue up with another size and other ring addresses. */
#include "blkfx.h"

#include <stdlib.h>
#include <string.h>

#define WATCHDOG_S 20

struct ring {
	uint16_t size;
	uint64_t desc, avail, used;
};

/* Each differs in size and place from the one before. */
static const struct ring rings[] = {
    {QSZ, DESC, AVAIL, USED},	     {16, 0x40000, 0x41000, 0x42000},
    {32, 0x50000, 0x50800, 0x51004}, {4, 0x60010, 0x60102, 0x60204},
    {QSZ, DESC, AVAIL, USED},
};

static uint8_t pattern(unsigned int round, unsigned int i)
{
	return (uint8_t)(0x40 + 13 * round + i % 251);
}

/* Write 8 sectors of a round's pattern at sector 100 + 8 * round, then read
 * them back and every earlier round's too: what was written before a reset
 * is still there after it. Many small requests wrap the ring a few times. */
static void io_round(struct fx *f, unsigned int round)
{
	uint8_t buf[4096];

	for (unsigned int i = 0; i < sizeof(buf); i++)
		buf[i] = pattern(round, i);
	cvmm_mem_write(f->mem, DATA, buf, sizeof(buf));
	assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_OUT, 100 + 8 * round, 4096, 0, NULL),
			 CVMM_VIRTIO_BLK_S_OK);
	for (unsigned int r = 0; r <= round; r++) {
		uint32_t len;

		cvmm_mem_fill(f->mem, DATA, 0, sizeof(buf));
		assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_IN, 100 + 8 * r, 0, 4096, &len),
				 CVMM_VIRTIO_BLK_S_OK);
		assert_int_equal(len, 4097);
		cvmm_mem_read(f->mem, DATA, buf, sizeof(buf));
		for (unsigned int i = 0; i < sizeof(buf); i++)
			if (buf[i] != pattern(r, i))
				fail_msg("round %u: sector %u byte %u is %#x", round, 100 + 8 * r,
					 i, buf[i]);
	}
	for (unsigned int k = 0; k < 40; k++) {
		uint32_t len;

		assert_int_equal(do_req(f, CVMM_VIRTIO_BLK_T_IN, k, 0, 512, &len),
				 CVMM_VIRTIO_BLK_S_OK);
		assert_true(holds_image(f, DATA, k, 512));
	}
}

/* Requests in flight at the reset: reads in slots 1.., as many as the ring
 * holds (up to 4), notified; the loop may or may not have run them. */
static void leave_in_flight(struct fx *f, uint16_t size, bool run)
{
	for (unsigned int s = 1; s <= 4 && 3 * s <= size; s++) {
		cvmm_mem_fill(f->mem, DATA + 0x2000ull * s, 0xa5, 4096);
		add_req(f, s, CVMM_VIRTIO_BLK_T_IN, 8ull * s, 0, 4096);
	}
	kick(f);
	if (run)
		cvmm_loop_run_once(f->loop, 0);
}

/* Guest memory the requests left in flight may use: their data and status. */
static void snapshot_slots(struct fx *f, uint8_t *data, uint8_t *status)
{
	cvmm_mem_read(f->mem, DATA + 0x2000, data, 4 * 0x2000);
	cvmm_mem_read(f->mem, STATUS + 1, status, 4);
}

static void reset_reactivate(void **state, bool in_flight)
{
	struct fx *f = *state;
	const struct ring *prev = &rings[0];
	size_t nr = sizeof(rings) / sizeof(rings[0]);

	watchdog(WATCHDOG_S);
	io_round(f, 0);
	for (unsigned int r = 1; r < nr; r++) {
		const struct ring *ring = &rings[r];
		uint64_t used_bytes = 6 + 8ull * prev->size;
		uint8_t *old_used = malloc(used_bytes), *old_data = malloc(4 * 0x2000);
		uint8_t *now_data = malloc(4 * 0x2000), old_status[4], now_status[4];

		assert_non_null(old_used);
		assert_non_null(old_data);
		assert_non_null(now_data);
		if (in_flight)
			leave_in_flight(f, prev->size, r % 2);
		wr(f, 0x70, 0);
		assert_int_equal(rd(f, 0x70), 0);
		assert_int_equal(rd(f, 0x44), 0); /* QueueReady */
		/* After the reset the device owns nothing of the old ring. */
		cvmm_mem_read(f->mem, prev->used, old_used, used_bytes);
		snapshot_slots(f, old_data, old_status);
		assert_true(negotiate(f, ring->size, ring->desc, ring->avail, ring->used));
		wr(f, 0x30, 0);
		assert_int_equal(rd(f, 0x34), QSZ); /* QueueNumMax */
		io_round(f, r);
		if (ring->used != prev->used) {
			uint8_t *now = malloc(used_bytes);

			assert_non_null(now);
			cvmm_mem_read(f->mem, prev->used, now, used_bytes);
			assert_memory_equal(now, old_used, used_bytes);
			free(now);
		}
		snapshot_slots(f, now_data, now_status);
		assert_memory_equal(now_data, old_data, 4 * 0x2000);
		assert_memory_equal(now_status, old_status, 4);
		assert_int_equal(rd(f, 0x70) & CVMM_VIRTIO_STATUS_NEEDS_RESET, 0);
		free(old_used);
		free(old_data);
		free(now_data);
		prev = ring;
	}
	watchdog(0);
}

static void test_reset_reactivate(void **state)
{
	reset_reactivate(state, false);
}

static void test_reset_in_flight_reactivate(void **state)
{
	reset_reactivate(state, true);
}

/* A reset before DRIVER_OK, and resets in a row, are harmless. */
static void test_reset_idle(void **state)
{
	struct fx *f = *state;

	watchdog(WATCHDOG_S);
	wr(f, 0x70, 0);
	wr(f, 0x70, 0);
	wr(f, 0x70, CVMM_VIRTIO_STATUS_ACKNOWLEDGE);
	wr(f, 0x70, 0);
	assert_int_equal(rd(f, 0x70), 0);
	assert_true(negotiate(f, 8, 0x70000, 0x70080, 0x70100));
	io_round(f, 0);
	watchdog(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    BOTH(test_reset_reactivate),
	    BOTH(test_reset_in_flight_reactivate),
	    BOTH(test_reset_idle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
