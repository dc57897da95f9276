/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvmm-ratelimit: a rate limiter for device I/O, made of two token buckets,
 * one counting bytes and one counting operations.
 *
 * A bucket holds up to `size` tokens and gains `size` tokens every
 * `refill_time_ms`, continuously, in exact integer arithmetic: the fraction
 * of a token earned between two calls is carried over, so no rounding error
 * accumulates however long the limiter runs. A one-time burst is an extra
 * allowance spent before the bucket and never refilled.
 *
 * A request of n tokens passes a bucket when the bucket is not in debt and
 * burst + tokens >= n. A request larger than the bucket (n - burst > size)
 * passes once the bucket is full, leaving the bucket in debt by the excess:
 * the next request waits until the refill has repaid it. So a request never
 * starves, and the long-run rate never exceeds size / refill_time_ms.
 *
 * A refused request blocks the whole limiter: every consume is refused until
 * the owner calls cvmm_ratelimit_on_timer(), and a timerfd is armed for the
 * moment the refused request could pass, but at least 10 ms ahead unless a
 * bucket would be full sooner: tokens keep accruing meanwhile, so the device
 * lets a batch through per wake-up rather than one request, at the same
 * rate. The owner watches that fd
 * (EPOLLIN, e.g. with cvmm_loop_add()), calls cvmm_ratelimit_on_timer() when
 * it is readable, and retries the request then, which keeps requests in
 * order.
 *
 * Errors follow <cvmm/sys.h>: negative errno and a message from
 * cvmm_err_msg(), except -EAGAIN (a refused request), which records nothing.
 *
 * Threading: a limiter has no lock. Call every function for one limiter from
 * one thread at a time (normally the thread that runs its device's queue);
 * different limiters are independent. cvmm_ratelimit_parse_bucket() is
 * reentrant.
 */
#ifndef CVMM_RATELIMIT_H
#define CVMM_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest refill_time_ms accepted (about 49.7 days); it keeps the refill
 * arithmetic within 128 bits. */
#define CVMM_RATELIMIT_REFILL_MAX_MS 0xffffffffULL

/* A bucket is disabled (never limits) when size or refill_time_ms is 0; its
 * one_time_burst must then be 0 too. */
struct cvmm_ratelimit_bucket {
	uint64_t size;		 /* capacity, and tokens gained per refill_time_ms */
	uint64_t one_time_burst; /* extra tokens spent first, never refilled */
	uint64_t refill_time_ms; /* at most CVMM_RATELIMIT_REFILL_MAX_MS */
};

struct cvmm_ratelimit_cfg {
	struct cvmm_ratelimit_bucket bytes;
	struct cvmm_ratelimit_bucket ops;
	/* Monotonic clock in nanoseconds; NULL means cvmm_now_ns(). The timerfd
	 * runs on CLOCK_MONOTONIC and is armed relative to this clock's now, so
	 * a replacement must advance at that rate outside of tests. */
	uint64_t (*clock)(void *opaque);
	void *clock_opaque;
};

struct cvmm_ratelimit;

/*
 * Create a limiter with full buckets and their whole bursts, and an unarmed
 * timerfd. cfg is copied. Returns 0, -EINVAL for a NULL argument or a bad
 * bucket (the message names the field, e.g. "ops.refill_time_ms"), -ENOMEM,
 * or -errno from the timerfd.
 */
int cvmm_ratelimit_create(struct cvmm_ratelimit **out, const struct cvmm_ratelimit_cfg *cfg);
/* Close the timerfd and free the limiter. NULL is ignored. */
void cvmm_ratelimit_destroy(struct cvmm_ratelimit *rl);

/*
 * Take `bytes` from the bytes bucket and `ops` from the ops bucket, both or
 * neither. A zero amount never waits on its bucket. Returns 0 if taken;
 * -EAGAIN if refused (the limiter is blocked, or the buckets lack tokens:
 * the limiter then becomes blocked and its timerfd is armed for the moment
 * this request could pass, or later as above); another -errno if the timer could not be armed
 * (nothing taken, the limiter is not blocked).
 */
int cvmm_ratelimit_consume(struct cvmm_ratelimit *rl, uint64_t bytes, uint64_t ops);
/*
 * Give back tokens taken for work that was not done (e.g. a request that
 * failed before reaching the disk). They repay any debt first, then return
 * to the bucket up to its size; the excess, and any burst the request spent,
 * is lost. A block stays until cvmm_ratelimit_on_timer().
 */
void cvmm_ratelimit_refund(struct cvmm_ratelimit *rl, uint64_t bytes, uint64_t ops);
/*
 * Nanoseconds from now until cvmm_ratelimit_consume(rl, bytes, ops) would
 * find enough tokens: 0 if it would now, UINT64_MAX if further away than
 * that. A block is not taken into account. Refills the buckets.
 */
uint64_t cvmm_ratelimit_wait_ns(struct cvmm_ratelimit *rl, uint64_t bytes, uint64_t ops);

/* Whether a refused request is waiting for cvmm_ratelimit_on_timer(). */
bool cvmm_ratelimit_blocked(const struct cvmm_ratelimit *rl);
/* The timerfd: readable (EPOLLIN) when a blocked limiter may be retried.
 * Owned by the limiter; valid until cvmm_ratelimit_destroy(). */
int cvmm_ratelimit_fd(const struct cvmm_ratelimit *rl);
/*
 * Acknowledge the timer and lift the block: call it when the fd is readable,
 * then retry the refused request. Calling it early is harmless: the timer is
 * disarmed and the retry blocks again if it is still too soon. Returns 0 or
 * -errno from reading or disarming the timerfd (the block is lifted anyway).
 */
int cvmm_ratelimit_on_timer(struct cvmm_ratelimit *rl);

/*
 * Replace the buckets' settings while running (NULL leaves that bucket as
 * it is). Both are checked before either changes: -EINVAL as for create.
 * The tokens earned up to now at the old rate are added first; then, for a
 * bucket that stays enabled, the tokens are clamped to the new size, a debt
 * is kept, the remaining burst is replaced by the new one_time_burst, and
 * the fraction of a token earned so far is kept. A bucket enabled by the
 * update starts full with its whole burst. A blocked limiter has its timer
 * fire at once, so that the refused request is retried under the new
 * settings; -errno if that fails (the settings are applied anyway).
 */
int cvmm_ratelimit_update(struct cvmm_ratelimit *rl, const struct cvmm_ratelimit_bucket *bytes,
			  const struct cvmm_ratelimit_bucket *ops);

/*
 * Parse a bucket from command-line text "RATE[/REFILL_MS][+BURST]": RATE
 * tokens every REFILL_MS milliseconds (default 1000, so "500" is 500 per
 * second), plus a one-time BURST. RATE and BURST are decimal integers with
 * an optional suffix K, M or G (x1024, x1024^2, x1024^3); REFILL_MS is a
 * decimal integer from 1 to CVMM_RATELIMIT_REFILL_MAX_MS. "0" alone gives a
 * disabled bucket (all fields 0). No signs, spaces or other characters.
 * Returns 0 and fills *out, or -EINVAL with a message naming the problem
 * (*out unchanged).
 */
int cvmm_ratelimit_parse_bucket(const char *text, struct cvmm_ratelimit_bucket *out);

#ifdef __cplusplus
}
#endif
#endif
