// SPDX-License-Identifier: Apache-2.0
/* virtio-net rate limits, on an injected clock: a blocked direction holds
 * its frame (RX: read but not pushed; TX: popped but not sent) and resumes
 * on the limiter's timer once tokens are due. */
#include "netfx.h"

#include <errno.h>
#include <sys/socket.h>

static uint64_t now_ns;

static uint64_t fake_clock(void *opaque)
{
	(void)opaque;
	return now_ns;
}

/* One frame per 100 ms, no burst. */
static const struct cvmm_ratelimit_cfg one_per_100ms = {
    .ops = {.size = 1, .refill_time_ms = 100},
    .clock = fake_clock,
};

static void test_rx_limit(void **state)
{
	struct fx *f;
	uint32_t id, len;

	(void)state;
	now_ns = 1000000000ULL;
	f = fx_new(&(struct fx_opts){.rx_limit = &one_per_100ms});
	for (unsigned int i = 0; i < 40; i++)
		post_rx(f, RXBUF + 2048ull * i, 2048, 1);
	peer_send(f, 0, 100, 1);
	peer_send(f, 0, 100, 2);
	kick(f, 0);
	assert_true(wait_used(f, &f->rx, &id, &len));
	assert_int_equal(len, 112);
	spin(f);
	/* The clock has not moved: no token for the second frame. */
	assert_false(vqdrv_get_used(&f->rx, &id, &len));
	assert_int_equal(stats(f).rx_frames, 1);
	now_ns += 1000000000ULL;
	assert_true(wait_used(f, &f->rx, &id, &len)); /* the timer fires, it passes */
	assert_int_equal(len, 112);
	assert_int_equal(stats(f).rx_frames, 2);
	fx_free(f);
}

/* One frame a second on TX, two frames queued: the first goes out (read into
 * out here), the second waits for the limiter. */
static struct fx *two_frames_one_sent(uint8_t *out, size_t size)
{
	uint8_t hdr[12] = {0};
	struct fx *f;

	now_ns = 1000000000ULL;
	f = fx_new(&(struct fx_opts){.tx_limit = &one_per_100ms});
	add_tx(f, hdr, 100, 1, 0);
	add_tx(f, hdr, 100, 2, 0);
	kick(f, 1);
	assert_int_equal(peer_recv(f, out, size), 112);
	return f;
}

static void test_tx_limit(void **state)
{
	struct fx *f;
	uint8_t out[256];
	uint32_t id, len;

	(void)state;
	f = two_frames_one_sent(out, sizeof(out));
	spin(f);
	assert_int_equal(recv(f->sock[1], out, sizeof(out), MSG_DONTWAIT), -1);
	assert_true(wait_used(f, &f->tx, &id, &len));
	assert_false(vqdrv_get_used(&f->tx, &id, &len)); /* the second is held */
	now_ns += 1000000000ULL;
	assert_int_equal(peer_recv(f, out, sizeof(out)), 112);
	assert_true(is_pattern(out + 12, 100, 2, 0));
	assert_true(wait_used(f, &f->tx, &id, &len));
	fx_free(f);
}

/* A reset while a frame is held drops it; the device works afterwards. */
static void test_reset_while_limited(void **state)
{
	struct fx *f;
	uint8_t hdr[12] = {0}, out[256];
	uint32_t id, len;

	(void)state;
	f = two_frames_one_sent(out, sizeof(out));
	wr(f, 0x70, 0);
	assert_true(negotiate(f, 0));
	now_ns += 1000000000ULL;
	add_tx(f, hdr, 100, 3, 0);
	kick(f, 1);
	assert_int_equal(peer_recv(f, out, sizeof(out)), 112);
	assert_true(is_pattern(out + 12, 100, 3, 0));
	assert_true(wait_used(f, &f->tx, &id, &len));
	fx_free(f);
}

/* New limits apply at once: a held frame goes out under them without the
 * clock moving; a direction created without a limit has none to change. */
static void test_set_limit(void **state)
{
	const struct cvmm_ratelimit_bucket off = {0};
	struct fx *f;
	uint8_t out[256];
	uint32_t id, len;

	(void)state;
	f = two_frames_one_sent(out, sizeof(out));
	spin(f);
	assert_int_equal(recv(f->sock[1], out, sizeof(out), MSG_DONTWAIT), -1);
	assert_int_equal(cvmm_virtio_net_set_limit(f->net, false, NULL, &off), 0);
	assert_int_equal(peer_recv(f, out, sizeof(out)), 112);
	assert_true(is_pattern(out + 12, 100, 2, 0));
	assert_true(wait_used(f, &f->tx, &id, &len));
	assert_int_equal(cvmm_virtio_net_set_limit(f->net, true, NULL, &off), -EINVAL);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rx_limit),
	    cmocka_unit_test(test_tx_limit),
	    cmocka_unit_test(test_reset_while_limited),
	    cmocka_unit_test(test_set_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
