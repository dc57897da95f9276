// SPDX-License-Identifier: Apache-2.0
#include <cvmm/memory.h>
#include <cvmm/sys.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MEM_PAGE 4096ULL
#define MEM_HUGE 0x200000ULL
#define MEM_MAX_REGIONS 2 /* below the hole, above 4 GiB */

struct mem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;
	int fd; /* memfd, or -1 */
};

struct cvmm_mem {
	struct mem_region regions[MEM_MAX_REGIONS];
	unsigned int nr_regions;
};

static int mem_map_region(struct mem_region *r, const struct cvmm_mem_opts *o)
{
	int flags = MAP_NORESERVE;
	void *p;

	r->fd = -1;
	if (o->backing == CVMM_MEM_MEMFD) {
		unsigned int mfd_flags = MFD_CLOEXEC | (o->hugetlb ? MFD_HUGETLB : 0);

		r->fd = memfd_create("cvmm-guest-ram", mfd_flags);
		if (r->fd < 0)
			return cvmm_err(errno, "memfd_create: %m");
		if (ftruncate(r->fd, (off_t)r->size) < 0) {
			int ret = cvmm_err(errno, "guest RAM: ftruncate %llu bytes: %m",
					   (unsigned long long)r->size);

			close(r->fd);
			r->fd = -1;
			return ret;
		}
		flags |= MAP_SHARED;
	} else {
		flags |= MAP_PRIVATE | MAP_ANONYMOUS | (o->hugetlb ? MAP_HUGETLB : 0);
	}
	p = mmap(NULL, r->size, PROT_READ | PROT_WRITE, flags, r->fd, 0);
	if (p == MAP_FAILED) {
		int ret =
		    cvmm_err(errno, "guest RAM: mmap %llu bytes: %m", (unsigned long long)r->size);

		if (r->fd >= 0)
			close(r->fd);
		r->fd = -1;
		return ret;
	}
	if (o->thp)
		madvise(p, r->size, MADV_HUGEPAGE); /* best effort: THP may be disabled */
	/* Guest RAM must not end up in host core dumps. */
	madvise(p, r->size, MADV_DONTDUMP);
	r->host = p;
	return 0;
}

int cvmm_mem_create(struct cvmm_mem **out, uint64_t ram_size, const struct cvmm_mem_opts *opts)
{
	static const struct cvmm_mem_opts defaults;
	const struct cvmm_mem_opts *o = opts ? opts : &defaults;
	uint64_t align = o->hugetlb ? MEM_HUGE : MEM_PAGE;
	uint64_t low = CVMM_MEM_HOLE_START;
	struct cvmm_mem *mem;
	int ret;

	if (ram_size == 0 || ram_size % align)
		return cvmm_err(EINVAL, "guest RAM size %llu is not a non-zero multiple of %llu",
				(unsigned long long)ram_size, (unsigned long long)align);
	if (ram_size > (1ULL << 46))
		return cvmm_err(EINVAL, "guest RAM size %llu is too large",
				(unsigned long long)ram_size);
	mem = calloc(1, sizeof(*mem));
	if (!mem)
		return cvmm_err(ENOMEM, "out of memory");
	mem->regions[0] = (struct mem_region){.gpa = 0, .size = ram_size < low ? ram_size : low};
	mem->nr_regions = 1;
	if (ram_size > low) {
		mem->regions[1] =
		    (struct mem_region){.gpa = CVMM_MEM_HOLE_END, .size = ram_size - low};
		mem->nr_regions = 2;
	}
	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		ret = mem_map_region(&mem->regions[i], o);
		if (ret < 0) {
			mem->nr_regions = i;
			cvmm_mem_destroy(mem);
			return ret;
		}
	}
	*out = mem;
	return 0;
}

void cvmm_mem_destroy(struct cvmm_mem *mem)
{
	if (!mem)
		return;
	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		munmap(mem->regions[i].host, mem->regions[i].size);
		if (mem->regions[i].fd >= 0)
			close(mem->regions[i].fd);
	}
	free(mem);
}

unsigned int cvmm_mem_nr_regions(const struct cvmm_mem *mem)
{
	return mem->nr_regions;
}

int cvmm_mem_region_get(const struct cvmm_mem *mem, unsigned int i,
			struct cvmm_mem_region_info *out)
{
	const struct mem_region *r;

	if (i >= mem->nr_regions)
		return cvmm_err(EINVAL, "guest RAM has no region %u (it has %u)", i,
				mem->nr_regions);
	r = &mem->regions[i];
	/* Each region has its own memfd, mapped from its start. */
	*out = (struct cvmm_mem_region_info){
	    .gpa = r->gpa, .size = r->size, .host = r->host, .fd = r->fd, .fd_offset = 0};
	return 0;
}

void *cvmm_mem_ptr(const struct cvmm_mem *mem, uint64_t gpa, uint64_t len)
{
	if (len == 0)
		len = 1;
	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		const struct mem_region *r = &mem->regions[i];

		/* Written so that no sum can overflow: gpa >= r->gpa first. */
		if (gpa >= r->gpa && gpa - r->gpa < r->size && len <= r->size - (gpa - r->gpa))
			return r->host + (gpa - r->gpa);
	}
	return NULL;
}

bool cvmm_mem_valid(const struct cvmm_mem *mem, uint64_t gpa, uint64_t len)
{
	return cvmm_mem_ptr(mem, gpa, len) != NULL;
}

int cvmm_mem_read(const struct cvmm_mem *mem, uint64_t gpa, void *dst, size_t len)
{
	const void *p = cvmm_mem_ptr(mem, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

int cvmm_mem_write(const struct cvmm_mem *mem, uint64_t gpa, const void *src, size_t len)
{
	void *p = cvmm_mem_ptr(mem, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}

int cvmm_mem_fill(const struct cvmm_mem *mem, uint64_t gpa, int byte, size_t len)
{
	void *p = cvmm_mem_ptr(mem, gpa, len);

	if (!p)
		return -EFAULT;
	memset(p, byte, len);
	return 0;
}

uint64_t cvmm_mem_end(const struct cvmm_mem *mem)
{
	const struct mem_region *last = &mem->regions[mem->nr_regions - 1];

	return last->gpa + last->size;
}
