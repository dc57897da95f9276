// SPDX-License-Identifier: Apache-2.0
/* Filling chains from getrandom(2), one bounded batch per call. */
#include "rng_impl.h"

#include <errno.h>
#include <sys/random.h>

/* Write up to max random bytes into the chain's writable buffers, in chain
 * order; *done gets the bytes written. 0 or -errno (getrandom failed). */
static int rng_fill(struct cvmm_virtq_chain *c, size_t max, size_t *done)
{
	uint32_t end = c->nr_readable + c->nr_writable;

	*done = 0;
	for (uint32_t i = c->nr_readable; i < end && *done < max; i++) {
		uint8_t *p = c->iov[i].iov_base;
		size_t left = c->iov[i].iov_len < max - *done ? c->iov[i].iov_len : max - *done;

		while (left) {
			ssize_t n = getrandom(p, left, 0);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return cvmm_err(errno, "getrandom: %m");
			if (n == 0) /* never for left > 0; do not spin on it */
				return cvmm_err(EIO, "getrandom returned nothing");
			p += n;
			left -= (size_t)n;
			*done += (size_t)n;
		}
	}
	return 0;
}

static void rng_fail(struct cvmm_virtio_rng *r, const char *what)
{
	r->failed = true;
	cvmm_virtio_fail(r->t, "virtio-rng: %s", what);
}

/* Fill and push the popped chain, at most *bytes of it. False when the
 * limiter parked it (the timer resumes it) or the device failed. */
static bool rng_serve(struct cvmm_virtio_rng *r, size_t *bytes)
{
	size_t n = *bytes < CVMM_VIRTIO_RNG_CHAIN_MAX ? *bytes : CVMM_VIRTIO_RNG_CHAIN_MAX;
	size_t done;
	int ret;

	if (r->chain.writable_len < n)
		n = (size_t)r->chain.writable_len;
	ret = r->rl && n ? cvmm_ratelimit_consume(r->rl, n, 1) : 0;
	if (ret == -EAGAIN) {
		r->parked = true;
		return false;
	}
	if (ret < 0) /* the timer cannot be armed: give nothing rather than exceed */
		n = 0;
	ret = rng_fill(&r->chain, n, &done);
	*bytes -= done;
	/* What was written is the guest's either way. */
	cvmm_virtq_push(r->vq, &r->chain, (uint32_t)done);
	atomic_fetch_add_explicit(&r->requests, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->bytes, done, memory_order_relaxed);
	if (ret < 0) {
		rng_fail(r, cvmm_err_msg());
		return false;
	}
	return true;
}

/*
 * Take at most a queue's worth of chains and BATCH_MAX bytes, then yield:
 * the kick eventfd brings us back after the loop has served its other
 * sources. A chain with no writable byte goes back with used.len 0. A chain
 * the limiter refused waits, popped, and holds up the queue.
 */
void rng_process(struct cvmm_virtio_rng *r)
{
	size_t bytes = CVMM_VIRTIO_RNG_BATCH_MAX;
	uint32_t chains;

	if (!r->t || r->failed)
		return;
	chains = cvmm_virtq_size(r->vq);
	if (r->parked) {
		r->parked = false;
		if (!rng_serve(r, &bytes))
			goto out;
	}
	while (!atomic_load(&r->reset_pending)) {
		int ret;

		if (chains == 0 || bytes == 0) {
			cvmm_eventfd_signal(r->kick_fd);
			break;
		}
		ret = cvmm_virtq_pop(r->vq, &r->chain);
		if (ret == 0)
			break;
		if (ret < 0) {
			rng_fail(r, cvmm_err_msg());
			break;
		}
		chains--;
		if (!rng_serve(r, &bytes))
			break;
	}
out:
	cvmm_virtio_notify_used(r->t, 0);
}
