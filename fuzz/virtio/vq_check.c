// SPDX-License-Identifier: Apache-2.0
/* Virtqueue contract checks for the fuzz targets (see vq_check.h). */
#include "vq_check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_QUEUES 16
#define MAX_IN_FLIGHT 1024
#define MAX_USED_BYTES (4 + 8 * 1024) /* flags, idx and ring of the largest fuzzed queue */

/* The real functions (--wrap) and their checked replacements. */
int __real_cvmm_virtq_pop(struct cvmm_virtq *vq, struct cvmm_virtq_chain *chain);
int __real_cvmm_virtq_push(struct cvmm_virtq *vq, const struct cvmm_virtq_chain *chain,
			   uint32_t len);
int __real_cvmm_virtq_enable(struct cvmm_virtq *vq, uint64_t features);
void __real_cvmm_virtq_disable(struct cvmm_virtq *vq);
void __real_cvmm_virtq_reset(struct cvmm_virtq *vq);
void __real_cvmm_virtq_destroy(struct cvmm_virtq *vq);
int __wrap_cvmm_virtq_pop(struct cvmm_virtq *vq, struct cvmm_virtq_chain *chain);
int __wrap_cvmm_virtq_push(struct cvmm_virtq *vq, const struct cvmm_virtq_chain *chain,
			   uint32_t len);
int __wrap_cvmm_virtq_enable(struct cvmm_virtq *vq, uint64_t features);
void __wrap_cvmm_virtq_disable(struct cvmm_virtq *vq);
void __wrap_cvmm_virtq_reset(struct cvmm_virtq *vq);
void __wrap_cvmm_virtq_destroy(struct cvmm_virtq *vq);

struct q_state {
	const struct cvmm_virtq *vq; /* NULL: free slot */
	uint32_t size;
	uint64_t used; /* used ring address */
	uint16_t pushes;
};

struct flight {
	const struct cvmm_virtq *vq;
	const struct cvmm_virtq_chain *chain;
	uint16_t id;
};

static const struct cvmm_mem *ram_mem;
static const uint8_t *ram;
static uint64_t ram_len;
static struct q_state queues[MAX_QUEUES];
static struct flight flights[MAX_IN_FLIGHT];
static unsigned int nr_flights;
static unsigned long pop_failures;

void vq_check_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "virtqueue invariant broken: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	__builtin_trap();
}

void vq_check_init(const struct cvmm_mem *mem, uint64_t ram_size)
{
	ram_mem = mem;
	ram = cvmm_mem_ptr(mem, 0, ram_size);
	ram_len = ram_size;
	if (!ram)
		vq_check_fail("guest RAM of %llu bytes not mapped", (unsigned long long)ram_size);
}

bool vq_check_in_ram(const void *p, uint64_t len)
{
	const uint8_t *b = p;

	return ram && b >= ram && b <= ram + ram_len && len <= (uint64_t)(ram + ram_len - b);
}

static struct q_state *find_queue(const struct cvmm_virtq *vq)
{
	for (unsigned int i = 0; i < MAX_QUEUES; i++)
		if (queues[i].vq == vq)
			return &queues[i];
	return NULL;
}

static struct flight *find_flight(const struct cvmm_virtq_chain *c)
{
	for (unsigned int i = 0; i < nr_flights; i++)
		if (flights[i].chain == c)
			return &flights[i];
	return NULL;
}

static void drop_flight(struct flight *f)
{
	*f = flights[--nr_flights];
}

static void drop_flights(const struct cvmm_virtq *vq)
{
	for (unsigned int i = 0; i < nr_flights;)
		if (flights[i].vq == vq)
			drop_flight(&flights[i]);
		else
			i++;
}

unsigned long vq_check_pop_failures(void)
{
	return pop_failures;
}

unsigned int vq_check_in_flight(const struct cvmm_virtq *vq)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < nr_flights; i++)
		n += flights[i].vq == vq;
	return n;
}

int __wrap_cvmm_virtq_enable(struct cvmm_virtq *vq, uint64_t features)
{
	int ret = __real_cvmm_virtq_enable(vq, features);
	struct q_state *st;
	uint64_t desc, driver;

	if (ret != 0 && ret != -EINVAL && ret != -EFAULT && ret != -EBUSY && ret != -ENOTSUP)
		vq_check_fail("enable returned %d", ret);
	if (ret != 0)
		return ret;
	st = find_queue(vq);
	if (!st)
		st = find_queue(NULL);
	if (!st)
		vq_check_fail("more than %u queues", MAX_QUEUES);
	drop_flights(vq);
	*st = (struct q_state){.vq = vq, .size = cvmm_virtq_size(vq)};
	cvmm_virtq_addr(vq, &desc, &driver, &st->used);
	if (4 + 8ull * st->size > MAX_USED_BYTES)
		vq_check_fail("queue of %u entries is larger than the checks allow", st->size);
	return 0;
}

void __wrap_cvmm_virtq_disable(struct cvmm_virtq *vq)
{
	drop_flights(vq);
	__real_cvmm_virtq_disable(vq);
}

void __wrap_cvmm_virtq_reset(struct cvmm_virtq *vq)
{
	drop_flights(vq);
	__real_cvmm_virtq_reset(vq);
}

void __wrap_cvmm_virtq_destroy(struct cvmm_virtq *vq)
{
	struct q_state *st = find_queue(vq);

	drop_flights(vq);
	if (st)
		st->vq = NULL;
	__real_cvmm_virtq_destroy(vq);
}

static void check_chain(const struct q_state *st, const struct cvmm_virtq_chain *c)
{
	uint32_t n = c->nr_readable + c->nr_writable;
	uint64_t rd = 0, wr = 0;

	if (c->id >= st->size)
		vq_check_fail("popped head %u of a queue of %u", c->id, st->size);
	if (n > c->iov_cap || n > st->size)
		vq_check_fail("chain of %u buffers (iov_cap %u, size %u)", n, c->iov_cap, st->size);
	for (uint32_t i = 0; i < n; i++) {
		if (c->iov[i].iov_len == 0)
			vq_check_fail("buffer %u of head %u is empty", i, c->id);
		if (!vq_check_in_ram(c->iov[i].iov_base, c->iov[i].iov_len))
			vq_check_fail("buffer %u of head %u (%zu bytes) outside guest RAM", i,
				      c->id, c->iov[i].iov_len);
		if (i < c->nr_readable)
			rd += c->iov[i].iov_len;
		else
			wr += c->iov[i].iov_len;
	}
	if (rd != c->readable_len || wr != c->writable_len)
		vq_check_fail("head %u: lengths %llu/%llu, buffers add up to %llu/%llu", c->id,
			      (unsigned long long)c->readable_len,
			      (unsigned long long)c->writable_len, (unsigned long long)rd,
			      (unsigned long long)wr);
	if (c->read || c->written)
		vq_check_fail("head %u: cursors not reset by pop", c->id);
}

int __wrap_cvmm_virtq_pop(struct cvmm_virtq *vq, struct cvmm_virtq_chain *chain)
{
	int ret = __real_cvmm_virtq_pop(vq, chain);
	struct q_state *st = find_queue(vq);

	if (ret < 0) {
		if (ret != -EINVAL && ret != -EFAULT && ret != -E2BIG && ret != -EIO)
			vq_check_fail("pop returned %d", ret);
		if (cvmm_virtq_ready(vq) && !cvmm_virtq_broken(vq))
			vq_check_fail("pop failed with %d but the queue is not broken", ret);
		pop_failures++;
		return ret;
	}
	if (ret == 0)
		return 0;
	if (ret != 1 || !st)
		vq_check_fail("pop returned %d from a queue %s", ret,
			      st ? "enabled" : "never enabled");
	check_chain(st, chain);
	if (find_flight(chain))
		vq_check_fail("head %u popped into a chain still in flight", chain->id);
	if (nr_flights == MAX_IN_FLIGHT)
		vq_check_fail("more than %u chains in flight", MAX_IN_FLIGHT);
	flights[nr_flights++] = (struct flight){.vq = vq, .chain = chain, .id = chain->id};
	return 1;
}

/* Whether a chain in flight other than skip may be written to by someone
 * else (the kernel doing a read) within [gpa, gpa + len). */
static bool others_may_write(const struct flight *skip, uint64_t gpa, uint64_t len)
{
	const uint8_t *lo = ram + gpa, *hi = lo + len;

	for (unsigned int i = 0; i < nr_flights; i++) {
		const struct cvmm_virtq_chain *c = flights[i].chain;

		if (&flights[i] == skip)
			continue;
		for (uint32_t j = c->nr_readable; j < c->nr_readable + c->nr_writable; j++) {
			const uint8_t *b = c->iov[j].iov_base;

			if (b < hi && b + c->iov[j].iov_len > lo)
				return true;
		}
	}
	return false;
}

int __wrap_cvmm_virtq_push(struct cvmm_virtq *vq, const struct cvmm_virtq_chain *chain,
			   uint32_t len)
{
	static uint8_t before[MAX_USED_BYTES];
	struct flight *f = find_flight(chain);
	struct q_state *st = find_queue(vq);
	uint64_t used_len;
	const uint8_t *used;
	bool exact;
	int ret;

	if (!f || f->vq != vq || f->id != chain->id || !st)
		vq_check_fail("push of head %u that is not in flight on this queue", chain->id);
	if (len > chain->writable_len)
		vq_check_fail("head %u: used len %u > %llu writable bytes", chain->id, len,
			      (unsigned long long)chain->writable_len);
	used_len = 4 + 8ull * st->size;
	used = cvmm_mem_ptr(ram_mem, st->used, used_len);
	if (!used)
		vq_check_fail("used ring %#llx outside RAM", (unsigned long long)st->used);
	/* Nothing else writes the used ring meanwhile: exact checks hold. */
	exact = !others_may_write(f, st->used, used_len);
	memcpy(before, used, used_len);
	ret = __real_cvmm_virtq_push(vq, chain, len);
	drop_flight(f);
	if (ret == 0) {
		uint16_t idx, slot = st->pushes & (st->size - 1);
		uint32_t id, elen;

		st->pushes++;
		if (!exact)
			return 0;
		memcpy(&idx, used + 2, 2);
		memcpy(&id, used + 4 + 8 * slot, 4);
		memcpy(&elen, used + 8 + 8 * slot, 4);
		if (idx != st->pushes)
			vq_check_fail("used idx %u after %u pushes", idx, st->pushes);
		if (id != chain->id || elen != len)
			vq_check_fail("used element (%u, %u), pushed (%u, %u)", id, elen, chain->id,
				      len);
		return 0;
	}
	if (ret != -EIO)
		vq_check_fail("push returned %d", ret);
	if (cvmm_virtq_ready(vq) && !cvmm_virtq_broken(vq))
		vq_check_fail("push refused on a healthy queue");
	if (exact && memcmp(before, used, used_len))
		vq_check_fail("a refused push changed the used ring");
	return ret;
}
