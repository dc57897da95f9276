// SPDX-License-Identifier: Apache-2.0
#include <cvmm/bus.h>
#include <cvmm/sys.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bus_range {
	uint64_t base;
	uint64_t last; /* inclusive, so a range may end at 2^64 */
	struct cvmm_bus_ops ops;
	void *opaque;
};

struct cvmm_bus {
	pthread_rwlock_t lock;
	struct bus_range *ranges; /* sorted by base, non-overlapping */
	size_t nr, cap;
	char name[16];
};

int cvmm_bus_create(struct cvmm_bus **out, const char *name)
{
	pthread_rwlockattr_t attr;
	struct cvmm_bus *bus = calloc(1, sizeof(*bus));
	int ret;

	if (!bus)
		return cvmm_err(ENOMEM, "bus %s: out of memory", name);
	snprintf(bus->name, sizeof(bus->name), "%s", name);
	pthread_rwlockattr_init(&attr);
	/* Registration is rare; it must not starve behind a stream of vCPU exits. */
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	ret = pthread_rwlock_init(&bus->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	if (ret) {
		free(bus);
		return cvmm_err(ret, "bus %s: rwlock init failed", name);
	}
	*out = bus;
	return 0;
}

void cvmm_bus_destroy(struct cvmm_bus *bus)
{
	if (!bus)
		return;
	pthread_rwlock_destroy(&bus->lock);
	free(bus->ranges);
	free(bus);
}

/* Index of the first range whose base is > addr (0..nr). */
static size_t bus_upper(const struct cvmm_bus *bus, uint64_t addr)
{
	size_t lo = 0, hi = bus->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (bus->ranges[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int bus_insert(struct cvmm_bus *bus, const struct bus_range *r)
{
	size_t i = bus_upper(bus, r->base);

	if (i > 0 && bus->ranges[i - 1].last >= r->base)
		return cvmm_err(EEXIST, "bus %s: [%#llx, %#llx] overlaps [%#llx, %#llx]", bus->name,
				(unsigned long long)r->base, (unsigned long long)r->last,
				(unsigned long long)bus->ranges[i - 1].base,
				(unsigned long long)bus->ranges[i - 1].last);
	if (i < bus->nr && bus->ranges[i].base <= r->last)
		return cvmm_err(EEXIST, "bus %s: [%#llx, %#llx] overlaps [%#llx, %#llx]", bus->name,
				(unsigned long long)r->base, (unsigned long long)r->last,
				(unsigned long long)bus->ranges[i].base,
				(unsigned long long)bus->ranges[i].last);
	if (bus->nr == bus->cap) {
		size_t cap = bus->cap ? bus->cap * 2 : 16;
		struct bus_range *n = realloc(bus->ranges, cap * sizeof(*n));

		if (!n)
			return cvmm_err(ENOMEM, "bus %s: out of memory", bus->name);
		bus->ranges = n;
		bus->cap = cap;
	}
	memmove(&bus->ranges[i + 1], &bus->ranges[i], (bus->nr - i) * sizeof(*r));
	bus->ranges[i] = *r;
	bus->nr++;
	return 0;
}

int cvmm_bus_register(struct cvmm_bus *bus, uint64_t base, uint64_t length,
		      const struct cvmm_bus_ops *ops, void *opaque)
{
	struct bus_range r = {.base = base, .opaque = opaque};
	int ret;

	if (length == 0)
		return cvmm_err(EINVAL, "bus %s: empty range at %#llx", bus->name,
				(unsigned long long)base);
	if (length - 1 > UINT64_MAX - base)
		return cvmm_err(EINVAL, "bus %s: range %#llx+%#llx wraps", bus->name,
				(unsigned long long)base, (unsigned long long)length);
	if (!ops)
		return cvmm_err(EINVAL, "bus %s: range at %#llx has no ops", bus->name,
				(unsigned long long)base);
	r.last = base + (length - 1);
	r.ops = *ops;
	pthread_rwlock_wrlock(&bus->lock);
	ret = bus_insert(bus, &r);
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int cvmm_bus_unregister(struct cvmm_bus *bus, uint64_t base)
{
	size_t i;
	int ret = 0;

	pthread_rwlock_wrlock(&bus->lock);
	i = bus_upper(bus, base);
	if (i == 0 || bus->ranges[i - 1].base != base) {
		ret = cvmm_err(ENOENT, "bus %s: no range starts at %#llx", bus->name,
			       (unsigned long long)base);
	} else {
		memmove(&bus->ranges[i - 1], &bus->ranges[i],
			(bus->nr - i) * sizeof(bus->ranges[0]));
		bus->nr--;
	}
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

/* The range containing all of [addr, addr+len), or NULL. Call with the lock held. */
static const struct bus_range *bus_find(const struct cvmm_bus *bus, uint64_t addr, uint32_t len)
{
	size_t i = bus_upper(bus, addr);
	const struct bus_range *r;

	if (i == 0)
		return NULL;
	r = &bus->ranges[i - 1];
	/* addr >= r->base here; compare lengths so nothing can overflow. */
	if (addr > r->last || (uint64_t)len - 1 > r->last - addr)
		return NULL;
	return r;
}

static int bus_access(struct cvmm_bus *bus, uint64_t addr, void *rdata, const void *wdata,
		      uint32_t len)
{
	const struct bus_range *r;
	int ret = 0;

	if (len == 0)
		return cvmm_err(EINVAL, "bus %s: zero-length access at %#llx", bus->name,
				(unsigned long long)addr);
	pthread_rwlock_rdlock(&bus->lock);
	r = bus_find(bus, addr, len);
	if (!r) {
		/* Guests probe unclaimed ports all the time: no message, it would
		 * cost a formatted string per exit. */
		if (rdata)
			memset(rdata, 0xff, len);
		ret = -ENOENT;
	} else if (rdata) {
		if (r->ops.read)
			r->ops.read(r->opaque, addr - r->base, rdata, len);
		else
			memset(rdata, 0xff, len);
	} else if (r->ops.write) {
		r->ops.write(r->opaque, addr - r->base, wdata, len);
	}
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int cvmm_bus_read(struct cvmm_bus *bus, uint64_t addr, void *data, uint32_t len)
{
	return bus_access(bus, addr, data, NULL, len);
}

int cvmm_bus_write(struct cvmm_bus *bus, uint64_t addr, const void *data, uint32_t len)
{
	return bus_access(bus, addr, NULL, data, len);
}
