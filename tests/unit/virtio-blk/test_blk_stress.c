// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-blk under concurrent register traffic, on both engines: a driver
 * thread (a vCPU running the guest's driver) writes and reads back data and
 * now and then resets the device, with or without requests in flight, and
 * brings it up again on another ring; other vCPU threads hammer the registers
 * meanwhile (InterruptStatus, Status, config space, InterruptACK, spurious
 * QueueNotify); the test's main thread is the device's I/O thread running
 * the loop. Bounded work; meant to run under ThreadSanitizer too.
 */
#include "blkfx.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define HAMMERS 3
#define EPOCHS 30
#define BATCHES 10
#define MAX_BATCH 8
#define CHUNK 4096u		/* bytes per request */
#define CHUNKS 128u		/* verified area: sectors 0..1023 */
#define SCRATCH_SECTOR 1024u	/* requests left in flight at a reset go here */
#define USED_SNAP (6 + 8 * QSZ) /* bytes of the largest used ring */
#define WATCHDOG_S 240

struct ring {
	uint16_t size;
	uint64_t desc, avail, used;
};

/* Epochs alternate between two rings, so the one a reset left behind stays
 * untouched for a whole epoch: the device must not write it any more. */
static const struct ring rings[2] = {
    {QSZ, DESC, AVAIL, USED},
    {32, 0x40000, 0x41000, 0x42000},
};

struct stress {
	struct fx *f;
	atomic_bool done;
	atomic_int failures;
	pthread_mutex_t msg_lock;
	char msg[256];
	unsigned int completed; /* requests the driver saw complete */
};

static void stress_fail(struct stress *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Record the first failure; cmocka asserts only work on the main thread. */
static void stress_fail(struct stress *st, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&st->msg_lock);
	if (atomic_fetch_add(&st->failures, 1) == 0) {
		va_start(ap, fmt);
		vsnprintf(st->msg, sizeof(st->msg), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&st->msg_lock);
	atomic_store(&st->done, true);
}

static uint32_t rng_next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static uint8_t pattern(uint32_t seed, unsigned int i)
{
	return (uint8_t)(seed + 7 * i + (i >> 8) + (seed >> 8));
}

struct req {
	unsigned int chunk;
	uint32_t seed;
	uint16_t head;
};

/* Wait for n used elements of the requests in reqs[0..n); each must be one
 * of them, once. A hang here is caught by the watchdog. */
static bool wait_batch(struct stress *st, struct req *reqs, unsigned int n, uint32_t want_len)
{
	struct fx *f = st->f;
	bool seen[MAX_BATCH] = {false};

	for (unsigned int got = 0; got < n && !atomic_load(&st->done);) {
		uint32_t id, len;
		unsigned int i = 0;

		if (!vqdrv_get_used(&f->drv, &id, &len)) {
			if (rd(f, 0x70) & CVMM_VIRTIO_STATUS_NEEDS_RESET) {
				stress_fail(st, "device needs reset during a valid batch");
				return false;
			}
			sched_yield();
			continue;
		}
		while (i < n && reqs[i].head != id)
			i++;
		if (i == n || seen[i]) {
			stress_fail(st, "used element for head %u: not in flight", id);
			return false;
		}
		if (len != want_len || status_of(f, i) != CVMM_VIRTIO_BLK_S_OK) {
			stress_fail(st, "head %u: len %u status %u", id, len, status_of(f, i));
			return false;
		}
		seen[i] = true;
		got++;
		st->completed++;
	}
	return !atomic_load(&st->done);
}

/* Write the batch, then read it back and compare. */
static bool write_read_batch(struct stress *st, struct req *reqs, unsigned int n)
{
	struct fx *f = st->f;

	for (unsigned int i = 0; i < n; i++) {
		uint8_t *p = cvmm_mem_ptr(f->mem, DATA + 0x2000ull * i, CHUNK);

		for (unsigned int j = 0; j < CHUNK; j++)
			p[j] = pattern(reqs[i].seed, j);
		reqs[i].head = add_req(f, i, CVMM_VIRTIO_BLK_T_OUT, reqs[i].chunk * 8ull, CHUNK, 0);
	}
	kick(f);
	if (!wait_batch(st, reqs, n, 1))
		return false;
	return true;
}

static bool read_check_batch(struct stress *st, struct req *reqs, unsigned int n)
{
	struct fx *f = st->f;

	for (unsigned int i = 0; i < n; i++) {
		cvmm_mem_fill(f->mem, DATA + 0x2000ull * i, 0, CHUNK);
		reqs[i].head = add_req(f, i, CVMM_VIRTIO_BLK_T_IN, reqs[i].chunk * 8ull, 0, CHUNK);
	}
	kick(f);
	if (!wait_batch(st, reqs, n, CHUNK + 1))
		return false;
	for (unsigned int i = 0; i < n; i++) {
		const uint8_t *p = cvmm_mem_ptr(f->mem, DATA + 0x2000ull * i, CHUNK);

		for (unsigned int j = 0; j < CHUNK; j++)
			if (p[j] != pattern(reqs[i].seed, j)) {
				stress_fail(st, "chunk %u byte %u: %#x, wrote %#x", reqs[i].chunk,
					    j, p[j], pattern(reqs[i].seed, j));
				return false;
			}
	}
	return true;
}

/* Publish writes to the scratch area and reads, notify, and do not wait:
 * the reset that follows finds them queued, running or done. */
static void leave_in_flight(struct stress *st, uint32_t *rs, uint16_t size)
{
	struct fx *f = st->f;
	unsigned int n = 1 + rng_next(rs) % (size / 3 < MAX_BATCH ? size / 3 : MAX_BATCH);

	for (unsigned int i = 0; i < n; i++) {
		uint64_t sector = SCRATCH_SECTOR + 8ull * (rng_next(rs) % 64);

		if (i % 2)
			add_req(f, i, CVMM_VIRTIO_BLK_T_IN, sector, 0, CHUNK);
		else
			add_req(f, i, CVMM_VIRTIO_BLK_T_OUT, sector, CHUNK, 0);
	}
	kick(f);
	for (unsigned int spin = rng_next(rs) % 3; spin; spin--)
		sched_yield();
}

/* The guest's driver, on its own vCPU thread. */
static void *driver_thread(void *opaque)
{
	struct stress *st = opaque;
	struct fx *f = st->f;
	struct req last[MAX_BATCH];
	uint8_t snap[USED_SNAP];
	unsigned int nlast = 0;
	uint32_t rs = 0x9e3779b9u;
	bool have_snap = false;

	for (unsigned int e = 0; e < EPOCHS && !atomic_load(&st->done); e++) {
		const struct ring *ring = &rings[e % 2], *old = &rings[(e + 1) % 2];
		unsigned int max = ring->size / 3 < MAX_BATCH ? ring->size / 3 : MAX_BATCH;

		if (e > 0) {
			if (e % 3 == 0)
				leave_in_flight(st, &rs, old->size);
			wr(f, 0x70, 0);
			if (rd(f, 0x70) != 0) {
				stress_fail(st, "status %#x after reset", rd(f, 0x70));
				break;
			}
			/* From here the device owns nothing of the old ring. */
			cvmm_mem_read(f->mem, old->used, snap, 6 + 8ull * old->size);
			have_snap = true;
			if (!negotiate(f, ring->size, ring->desc, ring->avail, ring->used)) {
				stress_fail(st, "epoch %u: device refused DRIVER_OK (status %#x)",
					    e, rd(f, 0x70));
				break;
			}
			/* What the previous epoch wrote survived the reset. */
			if (nlast && !read_check_batch(st, last, nlast))
				break;
		}
		for (unsigned int b = 0; b < BATCHES && !atomic_load(&st->done); b++) {
			unsigned int n = 1 + rng_next(&rs) % max;

			for (unsigned int i = 0; i < n; i++) {
				/* Distinct chunks within a batch. */
				last[i].chunk = ((e * BATCHES + b) * MAX_BATCH + i) % CHUNKS;
				last[i].seed = rng_next(&rs);
			}
			nlast = n;
			if (!write_read_batch(st, last, n) || !read_check_batch(st, last, n))
				break;
		}
		if (have_snap && memcmp(cvmm_mem_ptr(f->mem, old->used, 6 + 8ull * old->size), snap,
					6 + 8ull * old->size)) {
			stress_fail(st, "epoch %u: the device wrote the ring it had before reset",
				    e);
			break;
		}
	}
	atomic_store(&st->done, true);
	return NULL;
}

/* Another vCPU: register traffic that must neither disturb the driver nor
 * race with the device. */
static void *hammer_thread(void *opaque)
{
	struct stress *st = opaque;
	struct fx *f = st->f;
	uint32_t rs = (uint32_t)(uintptr_t)&rs | 1u;

	while (!atomic_load(&st->done)) {
		uint64_t cap = 0;
		uint32_t v;

		switch (rng_next(&rs) % 8) {
		case 0:
			v = rd(f, 0x60);
			if (v)
				wr(f, 0x64, v);
			break;
		case 1:
			v = rd(f, 0x70);
			if (v & ~0xffu)
				stress_fail(st, "status %#x", v);
			break;
		case 2:
			cvmm_virtio_mmio_read(f->m, CVMM_VIRTIO_MMIO_CONFIG, &cap, 8);
			if (cap != IMG_SECTORS)
				stress_fail(st, "capacity %llu", (unsigned long long)cap);
			break;
		case 3:
			cvmm_virtio_mmio_read(f->m, CVMM_VIRTIO_MMIO_CONFIG + 20, &v, 4);
			if (v != 512)
				stress_fail(st, "blk_size %u", v);
			break;
		case 4:
			kick(f); /* spurious: nothing new, or at any state */
			break;
		case 5:
			wr(f, CVMM_VIRTIO_MMIO_NOTIFY, 1 + rng_next(&rs) % 70); /* no such queue */
			break;
		case 6:
			if (rd(f, 0x00) != 0x74726976u || rd(f, 0x08) != CVMM_VIRTIO_ID_BLOCK)
				stress_fail(st, "identity registers changed");
			(void)rd(f, 0x34);
			(void)rd(f, 0x44);
			(void)rd(f, 0xfc);
			break;
		default:
			sched_yield();
			break;
		}
	}
	return NULL;
}

static void test_stress(void **state)
{
	struct fx *f = *state;
	struct stress st = {.f = f};
	pthread_t driver, hammers[HAMMERS];

	watchdog(WATCHDOG_S);
	pthread_mutex_init(&st.msg_lock, NULL);
	assert_int_equal(pthread_create(&driver, NULL, driver_thread, &st), 0);
	for (int i = 0; i < HAMMERS; i++)
		assert_int_equal(pthread_create(&hammers[i], NULL, hammer_thread, &st), 0);
	while (!atomic_load(&st.done))
		cvmm_loop_run_once(f->loop, 5);
	pthread_join(driver, NULL);
	for (int i = 0; i < HAMMERS; i++)
		pthread_join(hammers[i], NULL);
	pthread_mutex_destroy(&st.msg_lock);
	if (atomic_load(&st.failures))
		fail_msg("%s", st.msg);
	/* Every batch ran: each request was written and read back at least. */
	assert_true(st.completed >= 2 * EPOCHS * BATCHES);
	watchdog(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    BOTH(test_stress),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
