// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <cvmm/ratelimit.h>
#include <cvmm/sys.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/timerfd.h>

#define MS 1000000ULL
#define SEC 1000000000ULL

static uint64_t fake_now;

static uint64_t fake_clock(void *opaque)
{
	(void)opaque;
	return fake_now;
}

static struct cvmm_ratelimit *limiter(struct cvmm_ratelimit_bucket bytes,
				      struct cvmm_ratelimit_bucket ops)
{
	struct cvmm_ratelimit_cfg cfg = {.bytes = bytes, .ops = ops, .clock = fake_clock};
	struct cvmm_ratelimit *rl;

	fake_now = 1000 * SEC;
	assert_int_equal(cvmm_ratelimit_create(&rl, &cfg), 0);
	return rl;
}

static struct cvmm_ratelimit_bucket bucket(uint64_t size, uint64_t refill_ms, uint64_t burst)
{
	return (struct cvmm_ratelimit_bucket){
	    .size = size, .refill_time_ms = refill_ms, .one_time_burst = burst};
}

static const struct cvmm_ratelimit_bucket off;

/* Time left on the limiter's timer, as the kernel reports it. */
static uint64_t timer_left_ns(struct cvmm_ratelimit *rl)
{
	struct itimerspec its;

	assert_int_equal(timerfd_gettime(cvmm_ratelimit_fd(rl), &its), 0);
	return (uint64_t)its.it_value.tv_sec * SEC + (uint64_t)its.it_value.tv_nsec;
}

/* The timer was armed to expected_ns: the kernel counts down from there. */
static void assert_timer(struct cvmm_ratelimit *rl, uint64_t expected_ns)
{
	uint64_t left = timer_left_ns(rl);

	assert_true(left <= expected_ns);
	assert_true(left + SEC / 2 > expected_ns);
}

/* The timer was armed to expected_ns at or after t0 (real time): what the
 * kernel has left, plus the time since t0, is at least that. */
static void assert_armed_since(struct cvmm_ratelimit *rl, uint64_t t0, uint64_t expected_ns)
{
	uint64_t left = timer_left_ns(rl);

	assert_true(left <= expected_ns);
	assert_true(left + (cvmm_now_ns() - t0) >= expected_ns);
}

/* Largest byte count that would pass now, up to hi. */
static uint64_t max_passing(struct cvmm_ratelimit *rl, uint64_t hi)
{
	uint64_t lo = 0;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo + 1) / 2;

		if (cvmm_ratelimit_wait_ns(rl, mid, 0) == 0)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

static void test_refill_exact_over_a_day(void **state)
{
	/* Odd figures so that every refill leaves a fraction of a token. */
	const uint64_t size = 1000003, refill_ms = 1001, burst = 12345;
	struct cvmm_ratelimit *rl = limiter(bucket(size, refill_ms, burst), off);
	uint64_t start = fake_now, total = 0, seed = 1, steps = 0, last;
	unsigned __int128 expected;

	(void)state;
	while (fake_now - start < 86400 * SEC) {
		uint64_t n = max_passing(rl, size + burst);

		assert_int_equal(cvmm_ratelimit_consume(rl, n, 0), 0);
		total += n;
		/* Irregular steps shorter than a refill: the bucket never fills
		 * up again, so everything it earns is taken. */
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		fake_now += 1 + (seed >> 33) % (1000 * MS);
		steps++;
	}
	last = max_passing(rl, size);
	assert_int_equal(cvmm_ratelimit_consume(rl, last, 0), 0);
	total += last;
	expected = (unsigned __int128)(fake_now - start) * size / (refill_ms * MS);
	assert_true(steps > 100000);
	assert_int_equal(total, size + burst + (uint64_t)expected);
	cvmm_ratelimit_destroy(rl);
}

static void test_burst_spent_first_and_never_refilled(void **state)
{
	struct cvmm_ratelimit *rl = limiter(bucket(100, 1000, 50), off);

	(void)state;
	assert_int_equal(cvmm_ratelimit_consume(rl, 50, 0), 0);
	/* The bucket itself is still full. */
	assert_int_equal(cvmm_ratelimit_consume(rl, 100, 0), 0);
	assert_int_equal(cvmm_ratelimit_wait_ns(rl, 1, 0), 10 * MS);
	fake_now += 3600 * SEC;
	assert_int_equal(cvmm_ratelimit_consume(rl, 100, 0), 0);
	assert_int_equal(cvmm_ratelimit_wait_ns(rl, 1, 0), 10 * MS);
	cvmm_ratelimit_destroy(rl);
}

static void test_oversized_request_then_block(void **state)
{
	struct cvmm_ratelimit *rl = limiter(bucket(1000, 1000, 0), off);

	(void)state;
	/* Three buckets' worth passes from a full bucket... */
	assert_int_equal(cvmm_ratelimit_consume(rl, 3000, 0), 0);
	assert_false(cvmm_ratelimit_blocked(rl));
	/* ...and the next byte waits for the 2000 overdrawn plus itself. */
	assert_int_equal(cvmm_ratelimit_wait_ns(rl, 1, 0), 2001 * MS);
	assert_int_equal(cvmm_ratelimit_consume(rl, 1, 0), -EAGAIN);
	assert_true(cvmm_ratelimit_blocked(rl));
	assert_timer(rl, 2001 * MS);

	/* Blocked until the timer is acknowledged, however long it takes. */
	fake_now += 2001 * MS - 1;
	assert_int_equal(cvmm_ratelimit_consume(rl, 1, 0), -EAGAIN);
	/* An early acknowledgement disarms the timer; the retry is 1 ns early. */
	assert_int_equal(cvmm_ratelimit_on_timer(rl), 0);
	assert_false(cvmm_ratelimit_blocked(rl));
	assert_int_equal(timer_left_ns(rl), 0);
	assert_int_equal(cvmm_ratelimit_consume(rl, 1, 0), -EAGAIN);
	fake_now += 1;
	assert_int_equal(cvmm_ratelimit_on_timer(rl), 0);
	assert_int_equal(cvmm_ratelimit_consume(rl, 1, 0), 0);
	cvmm_ratelimit_destroy(rl);
}

static void test_timer_fires_at_fractional_deadline(void **state)
{
	struct cvmm_ratelimit *rl = limiter(off, bucket(3, 1000, 0));
	struct pollfd pfd;

	(void)state;
	assert_int_equal(cvmm_ratelimit_consume(rl, 0, 3), 0);
	/* One op every 333.33 ms: the deadline is rounded up, never down. */
	assert_int_equal(cvmm_ratelimit_wait_ns(rl, 0, 1), 333333334);
	assert_int_equal(cvmm_ratelimit_consume(rl, 0, 1), -EAGAIN);
	assert_timer(rl, 333333334);
	pfd = (struct pollfd){.fd = cvmm_ratelimit_fd(rl), .events = POLLIN};
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	fake_now += 333333333;
	assert_int_equal(cvmm_ratelimit_wait_ns(rl, 0, 1), 1);
	fake_now += 1;
	assert_int_equal(cvmm_ratelimit_on_timer(rl), 0);
	assert_int_equal(cvmm_ratelimit_consume(rl, 0, 1), 0);
	cvmm_ratelimit_destroy(rl);
}

static void test_refused_waits_for_a_batch(void **state)
{
	struct cvmm_ratelimit *rl = limiter(bucket(4 << 20, 1000, 0), off);
	uint64_t t0;
	int passed = 0;

	(void)state;
	assert_int_equal(cvmm_ratelimit_consume(rl, 4 << 20, 0), 0);
	/* 4 KiB are earned in under 1 ms, but one wake-up per request would
	 * cap the rate at the wake-up rate: the timer waits 10 ms... */
	t0 = cvmm_now_ns();
	assert_int_equal(cvmm_ratelimit_consume(rl, 4096, 0), -EAGAIN);
	assert_armed_since(rl, t0, 10 * MS);
	/* ...and then lets through all that was earned, none of it lost. */
	fake_now += 10 * MS;
	assert_int_equal(cvmm_ratelimit_on_timer(rl), 0);
	while (cvmm_ratelimit_consume(rl, 4096, 0) == 0)
		passed++;
	assert_int_equal(passed, (10 * MS * (4 << 20) / SEC) / 4096);
	cvmm_ratelimit_destroy(rl);

	/* Not past the moment the bucket is full, though: refill would be lost. */
	rl = limiter(off, bucket(1000, 1, 0));
	assert_int_equal(cvmm_ratelimit_consume(rl, 0, 1000), 0);
	t0 = cvmm_now_ns();
	assert_int_equal(cvmm_ratelimit_consume(rl, 0, 1), -EAGAIN);
	assert_armed_since(rl, t0, 1 * MS);
	cvmm_ratelimit_destroy(rl);
}

static void test_both_buckets_or_neither(void **state)
{
	struct cvmm_ratelimit *rl = limiter(bucket(1000, 1000, 0), bucket(10, 1000, 0));

	(void)state;
	assert_int_equal(cvmm_ratelimit_consume(rl, 100, 10), 0);
	assert_int_equal(cvmm_ratelimit_consume(rl, 100, 1), -EAGAIN);
	/* The ops bucket decides the deadline. */
	assert_timer(rl, 100 * MS);
	assert_int_equal(cvmm_ratelimit_on_timer(rl), 0);
	/* No bytes were taken by the refused request. */
	assert_int_equal(cvmm_ratelimit_wait_ns(rl, 900, 0), 0);
	assert_int_equal(cvmm_ratelimit_wait_ns(rl, 901, 0), 1 * MS);
	/* A zero amount does not wait on its bucket. */
	assert_int_equal(cvmm_ratelimit_consume(rl, 900, 0), 0);
	assert_int_equal(cvmm_ratelimit_wait_ns(rl, 1, 1), 100 * MS);
	cvmm_ratelimit_destroy(rl);
}

static void test_refund(void **state)
{
	struct cvmm_ratelimit *rl = limiter(bucket(100, 1000, 0), off);

	(void)state;
	assert_int_equal(cvmm_ratelimit_consume(rl, 100, 0), 0);
	cvmm_ratelimit_refund(rl, 40, 0);
	assert_int_equal(cvmm_ratelimit_wait_ns(rl, 40, 0), 0);
	assert_int_equal(cvmm_ratelimit_wait_ns(rl, 41, 0), 10 * MS);
	/* Never more than a full bucket. */
	cvmm_ratelimit_refund(rl, 1000, 0);
	assert_int_equal(cvmm_ratelimit_consume(rl, 100, 0), 0);
	assert_int_equal(cvmm_ratelimit_wait_ns(rl, 1, 0), 10 * MS);
	/* A refund repays a debt first. */
	fake_now += SEC;
	assert_int_equal(cvmm_ratelimit_consume(rl, 300, 0), 0);
	cvmm_ratelimit_refund(rl, 250, 0);
	assert_int_equal(cvmm_ratelimit_wait_ns(rl, 50, 0), 0);
	assert_int_equal(cvmm_ratelimit_wait_ns(rl, 51, 0), 10 * MS);
	cvmm_ratelimit_destroy(rl);
}

static void test_update_live(void **state)
{
	struct cvmm_ratelimit *rl = limiter(bucket(100, 1000, 0), off);
	struct cvmm_ratelimit_bucket b;

	(void)state;
	assert_int_equal(cvmm_ratelimit_consume(rl, 60, 0), 0);
	fake_now += 100 * MS; /* earned at the old rate before the change: 50 */
	b = bucket(200, 1000, 5);
	assert_int_equal(cvmm_ratelimit_update(rl, &b, NULL), 0);
	assert_int_equal(cvmm_ratelimit_wait_ns(rl, 55, 0), 0);
	assert_int_equal(cvmm_ratelimit_wait_ns(rl, 56, 0), 5 * MS);
	/* Shrinking clamps the tokens; the new burst replaces the old. */
	b = bucket(20, 1000, 5);
	assert_int_equal(cvmm_ratelimit_update(rl, &b, NULL), 0);
	assert_int_equal(cvmm_ratelimit_consume(rl, 25, 0), 0);
	assert_int_equal(cvmm_ratelimit_wait_ns(rl, 1, 0), 50 * MS);
	/* A debt survives an update and is repaid at the new rate. */
	fake_now += SEC;
	assert_int_equal(cvmm_ratelimit_consume(rl, 120, 0), 0);
	b = bucket(50, 1000, 0);
	assert_int_equal(cvmm_ratelimit_update(rl, &b, NULL), 0);
	assert_int_equal(cvmm_ratelimit_wait_ns(rl, 1, 0), 2020 * MS);
	cvmm_ratelimit_destroy(rl);
}

static void test_update_keeps_fraction(void **state)
{
	struct cvmm_ratelimit *rl = limiter(bucket(3, 1000, 0), off);
	struct cvmm_ratelimit_bucket b = bucket(3, 2000, 0);

	(void)state;
	assert_int_equal(cvmm_ratelimit_consume(rl, 3, 0), 0);
	fake_now += 200 * MS; /* 0.6 of a token */
	assert_int_equal(cvmm_ratelimit_update(rl, &b, NULL), 0);
	/* 0.4 token left at 1.5 tokens/s: 266.67 ms, rounded up. */
	assert_int_equal(cvmm_ratelimit_wait_ns(rl, 1, 0), 266666667);
	cvmm_ratelimit_destroy(rl);
}

static void test_update_wakes_blocked_and_is_atomic(void **state)
{
	struct cvmm_ratelimit *rl = limiter(bucket(10, 1000, 0), off);
	struct cvmm_ratelimit_bucket b = bucket(1000, 1000, 0), bad = bucket(1, 1ULL << 32, 0);
	struct pollfd pfd = {.fd = cvmm_ratelimit_fd(rl), .events = POLLIN};

	(void)state;
	assert_int_equal(cvmm_ratelimit_consume(rl, 10, 0), 0);
	assert_int_equal(cvmm_ratelimit_consume(rl, 10, 0), -EAGAIN);
	assert_int_equal(cvmm_ratelimit_update(rl, &b, &bad), -EINVAL);
	assert_non_null(strstr(cvmm_err_msg(), "ops.refill_time_ms"));
	assert_timer(rl, SEC); /* the valid half was not applied either */
	assert_int_equal(cvmm_ratelimit_update(rl, &off, NULL), 0);
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(cvmm_ratelimit_on_timer(rl), 0);
	assert_int_equal(cvmm_ratelimit_consume(rl, UINT64_MAX, 0), 0);
	/* Enabled again: a fresh, full bucket. */
	assert_int_equal(cvmm_ratelimit_update(rl, &b, NULL), 0);
	assert_int_equal(cvmm_ratelimit_wait_ns(rl, 1000, 0), 0);
	assert_int_equal(cvmm_ratelimit_wait_ns(rl, 1001, 0), 0); /* full: oversized passes */
	assert_int_equal(cvmm_ratelimit_consume(rl, 1000, 0), 0);
	assert_int_equal(cvmm_ratelimit_wait_ns(rl, 1, 0), 1 * MS);
	cvmm_ratelimit_destroy(rl);
}

static void test_disabled_and_bad_config(void **state)
{
	struct cvmm_ratelimit_cfg cfg = {.bytes = bucket(0, 1000, 0), .ops = bucket(5, 0, 0)};
	struct cvmm_ratelimit *rl;

	(void)state;
	assert_int_equal(cvmm_ratelimit_create(&rl, &cfg), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(cvmm_ratelimit_consume(rl, UINT64_MAX, UINT64_MAX), 0);
	assert_int_equal(cvmm_ratelimit_wait_ns(rl, UINT64_MAX, UINT64_MAX), 0);
	cvmm_ratelimit_refund(rl, 1, 1);
	assert_false(cvmm_ratelimit_blocked(rl));
	cvmm_ratelimit_destroy(rl);
	cvmm_ratelimit_destroy(NULL);

	cfg.bytes = bucket(0, 1000, 7);
	assert_int_equal(cvmm_ratelimit_create(&rl, &cfg), -EINVAL);
	assert_non_null(strstr(cvmm_err_msg(), "bytes.one_time_burst"));
	cfg.bytes = bucket(1, CVMM_RATELIMIT_REFILL_MAX_MS + 1, 0);
	assert_int_equal(cvmm_ratelimit_create(&rl, &cfg), -EINVAL);
	assert_non_null(strstr(cvmm_err_msg(), "bytes.refill_time_ms"));
	assert_int_equal(cvmm_ratelimit_create(&rl, NULL), -EINVAL);
}

static void test_extremes_do_not_overflow(void **state)
{
	struct cvmm_ratelimit *rl =
	    limiter(bucket(UINT64_MAX, 1, 0), bucket(1, CVMM_RATELIMIT_REFILL_MAX_MS, 0));

	(void)state;
	assert_int_equal(cvmm_ratelimit_consume(rl, UINT64_MAX, 0), 0);
	assert_int_equal(cvmm_ratelimit_wait_ns(rl, UINT64_MAX, 0), 1 * MS);
	fake_now += UINT64_MAX / 2;
	assert_int_equal(cvmm_ratelimit_consume(rl, UINT64_MAX, 0), 0);
	/* A debt of 2^64 - 2 ops at one per 49.7 days: saturated wait. */
	assert_int_equal(cvmm_ratelimit_consume(rl, 0, UINT64_MAX), 0);
	assert_int_equal(cvmm_ratelimit_wait_ns(rl, 0, 1), UINT64_MAX);
	assert_int_equal(cvmm_ratelimit_consume(rl, 0, 1), -EAGAIN);
	assert_true(timer_left_ns(rl) > 100ULL * 365 * 86400 * SEC);
	cvmm_ratelimit_destroy(rl);
}

static void assert_parses(const char *text, uint64_t size, uint64_t refill_ms, uint64_t burst)
{
	struct cvmm_ratelimit_bucket b;

	assert_int_equal(cvmm_ratelimit_parse_bucket(text, &b), 0);
	assert_int_equal(b.size, size);
	assert_int_equal(b.refill_time_ms, refill_ms);
	assert_int_equal(b.one_time_burst, burst);
}

static void assert_refused(const char *text, const char *msg)
{
	struct cvmm_ratelimit_bucket b = bucket(1, 2, 3);

	assert_int_equal(cvmm_ratelimit_parse_bucket(text, &b), -EINVAL);
	if (!strstr(cvmm_err_msg(), msg))
		fail_msg("'%s': message '%s' lacks '%s'", text, cvmm_err_msg(), msg);
	assert_int_equal(b.size, 1); /* untouched */
}

static void test_parse_good(void **state)
{
	(void)state;
	assert_parses("500", 500, 1000, 0);
	assert_parses("1M", 1 << 20, 1000, 0);
	assert_parses("10K/100", 10 << 10, 100, 0);
	assert_parses("100+4K", 100, 1000, 4 << 10);
	assert_parses("2G/50+1G", 2ULL << 30, 50, 1ULL << 30);
	assert_parses("007/1", 7, 1, 0);
	assert_parses("1/4294967295", 1, CVMM_RATELIMIT_REFILL_MAX_MS, 0);
	assert_parses("18446744073709551615", UINT64_MAX, 1000, 0);
	assert_parses("17179869183G", UINT64_MAX - ((1ULL << 30) - 1), 1000, 0);
	assert_parses("1+0", 1, 1000, 0);
	assert_parses("0", 0, 0, 0);
}

static void test_parse_bad(void **state)
{
	struct cvmm_ratelimit_bucket b;

	(void)state;
	assert_refused("", "missing RATE");
	assert_refused("K", "missing RATE");
	assert_refused("/100", "missing RATE");
	assert_refused("+1", "missing RATE");
	assert_refused("-1", "missing RATE");
	assert_refused(" 1", "missing RATE");
	assert_refused("1 ", "unexpected ' '");
	assert_refused("1k", "unexpected 'k'");
	assert_refused("1KB", "unexpected 'B'");
	assert_refused("1/", "missing REFILL_MS");
	assert_refused("1/1K", "unexpected 'K'");
	assert_refused("1/0", "REFILL_MS must be 1 to");
	assert_refused("1/4294967296", "REFILL_MS must be 1 to");
	assert_refused("1/99999999999999999999", "REFILL_MS after '/' is too large");
	assert_refused("1+", "missing BURST");
	assert_refused("1+2/10", "unexpected '/10'");
	assert_refused("1/10/10", "unexpected '/10'");
	assert_refused("18446744073709551616", "RATE is too large");
	assert_refused("17179869184G", "RATE is too large");
	assert_refused("1+16777216T", "unexpected 'T'");
	assert_refused("1+17179869184G", "BURST after '+' is too large");
	assert_refused("0/100", "RATE of 0");
	assert_refused("0+1", "RATE of 0");
	assert_int_equal(cvmm_ratelimit_parse_bucket(NULL, &b), -EINVAL);
	assert_int_equal(cvmm_ratelimit_parse_bucket("1", NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refill_exact_over_a_day),
	    cmocka_unit_test(test_burst_spent_first_and_never_refilled),
	    cmocka_unit_test(test_oversized_request_then_block),
	    cmocka_unit_test(test_timer_fires_at_fractional_deadline),
	    cmocka_unit_test(test_refused_waits_for_a_batch),
	    cmocka_unit_test(test_both_buckets_or_neither),
	    cmocka_unit_test(test_refund),
	    cmocka_unit_test(test_update_live),
	    cmocka_unit_test(test_update_keeps_fraction),
	    cmocka_unit_test(test_update_wakes_blocked_and_is_atomic),
	    cmocka_unit_test(test_disabled_and_bad_config),
	    cmocka_unit_test(test_extremes_do_not_overflow),
	    cmocka_unit_test(test_parse_good),
	    cmocka_unit_test(test_parse_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
