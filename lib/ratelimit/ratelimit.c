// SPDX-License-Identifier: Apache-2.0
#include <cvmm/ratelimit.h>
#include <cvmm/sys.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define NS_PER_MS 1000000ULL

/* The shortest wait for a refused request unless a bucket fills up sooner:
 * each wake-up costs the device a loop turn and the guest an interrupt, so
 * one per request caps a fast limit at the wake-up rate; a batch per
 * wake-up does not. Tokens still accrue meanwhile, so the rate is the same. */
#define MIN_WAIT_NS (10 * NS_PER_MS)

typedef unsigned __int128 u128;

/*
 * Level = tokens - debt; at most one of them is non-zero. Tokens are earned
 * as (elapsed_ns * size + frac) / period_ns, and the remainder is kept in
 * frac, so that refilling in many small steps earns exactly what one step
 * would.
 */
struct bucket {
	uint64_t size; /* 0: disabled */
	uint64_t period_ns;
	uint64_t burst;
	uint64_t tokens;
	uint64_t debt;
	uint64_t frac; /* < period_ns */
	uint64_t last_ns;
};

struct cvmm_ratelimit {
	struct bucket bytes, ops;
	uint64_t (*clock)(void *opaque);
	void *clock_opaque;
	int timer_fd;
	bool blocked;
};

static uint64_t default_clock(void *opaque)
{
	(void)opaque;
	return cvmm_now_ns();
}

static int check_bucket(const struct cvmm_ratelimit_bucket *b, const char *name)
{
	if (b->refill_time_ms > CVMM_RATELIMIT_REFILL_MAX_MS)
		return cvmm_err(EINVAL, "%s.refill_time_ms %llu is over the maximum %llu", name,
				(unsigned long long)b->refill_time_ms,
				CVMM_RATELIMIT_REFILL_MAX_MS);
	if ((b->size == 0 || b->refill_time_ms == 0) && b->one_time_burst)
		return cvmm_err(EINVAL, "%s.one_time_burst set on a disabled bucket", name);
	return 0;
}

static void bucket_init(struct bucket *b, const struct cvmm_ratelimit_bucket *cfg, uint64_t now)
{
	bool on = cfg->size && cfg->refill_time_ms;

	*b = (struct bucket){.size = on ? cfg->size : 0,
			     .period_ns = cfg->refill_time_ms * NS_PER_MS,
			     .burst = cfg->one_time_burst,
			     .tokens = on ? cfg->size : 0,
			     .last_ns = now};
}

static void refill(struct bucket *b, uint64_t now)
{
	u128 acc, add, room;

	if (!b->size || now <= b->last_ns)
		return;
	/* < 2^128: both factors are below 2^64 and frac below 2^52. */
	acc = (u128)(now - b->last_ns) * b->size + b->frac;
	add = acc / b->period_ns;
	b->last_ns = now;
	room = (u128)b->debt + b->size - b->tokens;
	if (add >= room) {
		/* A full bucket earns nothing, not even a fraction. */
		b->debt = 0;
		b->tokens = b->size;
		b->frac = 0;
		return;
	}
	b->frac = (uint64_t)(acc % b->period_ns);
	if (add <= b->debt) {
		b->debt -= (uint64_t)add;
	} else {
		b->tokens += (uint64_t)add - b->debt;
		b->debt = 0;
	}
}

/* What the bucket must hold for n to pass: n past the burst, but at most a
 * full bucket, so that an oversized request passes once the bucket is full. */
static uint64_t target(const struct bucket *b, uint64_t n)
{
	uint64_t rest = n > b->burst ? n - b->burst : 0;

	return rest < b->size ? rest : b->size;
}

static bool can_take(const struct bucket *b, uint64_t n)
{
	return !b->size || !n || (!b->debt && b->tokens >= target(b, n));
}

/* Smallest t with (t * size + frac) / period_ns >= need (need > 0). need is
 * below 2^65 and period_ns below 2^52, so the product fits. */
static uint64_t earn_ns(const struct bucket *b, u128 need)
{
	u128 t = (need * b->period_ns - b->frac + b->size - 1) / b->size;

	return t > UINT64_MAX ? UINT64_MAX : (uint64_t)t;
}

static uint64_t bucket_wait_ns(const struct bucket *b, uint64_t n)
{
	if (can_take(b, n))
		return 0;
	return earn_ns(b, (u128)b->debt + target(b, n) - b->tokens);
}

/* Nanoseconds until the bucket is full (past that, refill is lost). */
static uint64_t bucket_full_ns(const struct bucket *b)
{
	u128 need = (u128)b->debt + b->size - b->tokens;

	if (!b->size)
		return UINT64_MAX;
	return need ? earn_ns(b, need) : 0;
}

static void take(struct bucket *b, uint64_t n)
{
	uint64_t from_burst;

	if (!b->size)
		return;
	from_burst = n < b->burst ? n : b->burst;
	b->burst -= from_burst;
	n -= from_burst;
	if (n <= b->tokens) {
		b->tokens -= n;
	} else {
		b->debt = n - b->tokens;
		b->tokens = 0;
	}
}

static void give_back(struct bucket *b, uint64_t n)
{
	if (!b->size)
		return;
	if (n <= b->debt) {
		b->debt -= n;
		return;
	}
	n -= b->debt;
	b->debt = 0;
	if (n >= b->size - b->tokens) {
		b->tokens = b->size;
		b->frac = 0;
	} else {
		b->tokens += n;
	}
}

static void bucket_update(struct bucket *b, const struct cvmm_ratelimit_bucket *cfg, uint64_t now)
{
	uint64_t period_ns = cfg->refill_time_ms * NS_PER_MS;

	if (!b->size || !cfg->size || !cfg->refill_time_ms) {
		bucket_init(b, cfg, now);
		return;
	}
	refill(b, now);
	/* The same fraction of a token, in units of the new period. */
	b->frac = (uint64_t)((u128)b->frac * period_ns / b->period_ns);
	b->period_ns = period_ns;
	b->size = cfg->size;
	b->burst = cfg->one_time_burst;
	if (b->tokens >= b->size) {
		b->tokens = b->size;
		b->frac = 0;
	}
}

int cvmm_ratelimit_create(struct cvmm_ratelimit **out, const struct cvmm_ratelimit_cfg *cfg)
{
	struct cvmm_ratelimit *rl;
	uint64_t now;
	int ret;

	if (!out || !cfg)
		return cvmm_err(EINVAL, "ratelimit: NULL argument");
	if ((ret = check_bucket(&cfg->bytes, "bytes")) < 0 ||
	    (ret = check_bucket(&cfg->ops, "ops")) < 0)
		return ret;
	rl = calloc(1, sizeof(*rl));
	if (!rl)
		return cvmm_err(ENOMEM, "ratelimit: out of memory");
	rl->timer_fd = cvmm_timerfd_open();
	if (rl->timer_fd < 0) {
		ret = rl->timer_fd;
		free(rl);
		return ret;
	}
	rl->clock = cfg->clock ? cfg->clock : default_clock;
	rl->clock_opaque = cfg->clock_opaque;
	now = rl->clock(rl->clock_opaque);
	bucket_init(&rl->bytes, &cfg->bytes, now);
	bucket_init(&rl->ops, &cfg->ops, now);
	*out = rl;
	return 0;
}

void cvmm_ratelimit_destroy(struct cvmm_ratelimit *rl)
{
	if (!rl)
		return;
	close(rl->timer_fd);
	free(rl);
}

uint64_t cvmm_ratelimit_wait_ns(struct cvmm_ratelimit *rl, uint64_t bytes, uint64_t ops)
{
	uint64_t now = rl->clock(rl->clock_opaque), wb, wo;

	refill(&rl->bytes, now);
	refill(&rl->ops, now);
	/* The buckets refill independently: the later of the two decides. */
	wb = bucket_wait_ns(&rl->bytes, bytes);
	wo = bucket_wait_ns(&rl->ops, ops);
	return wb > wo ? wb : wo;
}

int cvmm_ratelimit_consume(struct cvmm_ratelimit *rl, uint64_t bytes, uint64_t ops)
{
	uint64_t wait;
	int ret;

	/* Until the timer, so that the refused request goes first. */
	if (rl->blocked)
		return -EAGAIN;
	wait = cvmm_ratelimit_wait_ns(rl, bytes, ops);
	if (wait) {
		uint64_t least = MIN_WAIT_NS, full;

		if ((full = bucket_full_ns(&rl->bytes)) < least)
			least = full;
		if ((full = bucket_full_ns(&rl->ops)) < least)
			least = full;
		ret = cvmm_timerfd_arm(rl->timer_fd, wait > least ? wait : least, 0);
		if (ret < 0)
			return ret;
		rl->blocked = true;
		return -EAGAIN;
	}
	take(&rl->bytes, bytes);
	take(&rl->ops, ops);
	return 0;
}

void cvmm_ratelimit_refund(struct cvmm_ratelimit *rl, uint64_t bytes, uint64_t ops)
{
	uint64_t now = rl->clock(rl->clock_opaque);

	refill(&rl->bytes, now);
	refill(&rl->ops, now);
	give_back(&rl->bytes, bytes);
	give_back(&rl->ops, ops);
}

bool cvmm_ratelimit_blocked(const struct cvmm_ratelimit *rl)
{
	return rl->blocked;
}

int cvmm_ratelimit_fd(const struct cvmm_ratelimit *rl)
{
	return rl->timer_fd;
}

int cvmm_ratelimit_on_timer(struct cvmm_ratelimit *rl)
{
	uint64_t expirations;

	rl->blocked = false;
	if (read(rl->timer_fd, &expirations, sizeof(expirations)) == sizeof(expirations))
		return 0;
	if (errno != EAGAIN)
		return cvmm_err(errno, "ratelimit: timerfd read: %m");
	/* Called before the timer fired: it must not fire for a stale block. */
	return cvmm_timerfd_arm(rl->timer_fd, 0, 0);
}

int cvmm_ratelimit_update(struct cvmm_ratelimit *rl, const struct cvmm_ratelimit_bucket *bytes,
			  const struct cvmm_ratelimit_bucket *ops)
{
	uint64_t now;
	int ret;

	if ((bytes && (ret = check_bucket(bytes, "bytes")) < 0) ||
	    (ops && (ret = check_bucket(ops, "ops")) < 0))
		return ret;
	now = rl->clock(rl->clock_opaque);
	if (bytes)
		bucket_update(&rl->bytes, bytes, now);
	if (ops)
		bucket_update(&rl->ops, ops, now);
	/* 1 ns: an initial value of 0 would disarm the timer instead. */
	return rl->blocked ? cvmm_timerfd_arm(rl->timer_fd, 1, 0) : 0;
}
