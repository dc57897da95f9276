/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvmm-memory: guest RAM and the only way to reach it from the host.
 *
 * RAM is laid out from guest-physical 0 up to CVMM_MEM_HOLE_START; what does
 * not fit continues at 4 GiB, leaving [CVMM_MEM_HOLE_START, 4 GiB) for MMIO.
 *
 * Every guest address goes through cvmm_mem_ptr()/cvmm_mem_read()/
 * cvmm_mem_write(): they check that [gpa, gpa+len) lies inside one RAM
 * region, without overflow, and fail otherwise. A guest controls gpa and len;
 * these functions guarantee no host access outside the mapped RAM.
 *
 * struct cvmm_mem is opaque: the host mappings are reachable only through
 * the checked accessors, and through cvmm_mem_region_get() for handing the
 * RAM to KVM or vhost.
 *
 * Errors: cvmm_mem_create() and cvmm_mem_region_get() record a message
 * (cvmm_err_msg()) when they fail. The accessors do not: a guest address
 * outside RAM is an expected outcome on device paths that the guest drives,
 * so cvmm_mem_ptr()/cvmm_mem_valid() just return NULL/false and
 * cvmm_mem_read()/cvmm_mem_write()/cvmm_mem_fill() just return -EFAULT,
 * leaving the thread's message alone; the caller names what it was
 * accessing.
 *
 * Threading: the layout is immutable after cvmm_mem_create(); the accessors
 * may be used from any thread. Concurrent guest writes are the caller's
 * concern (use barriers for shared rings).
 */
#ifndef CVMM_MEMORY_H
#define CVMM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CVMM_MEM_HOLE_START 0xC0000000ULL /* 3 GiB: start of the 32-bit MMIO hole */
#define CVMM_MEM_HOLE_END 0x100000000ULL  /* 4 GiB */

enum cvmm_mem_backing {
	CVMM_MEM_ANON = 0,  /* private anonymous mapping */
	CVMM_MEM_MEMFD = 1, /* shared memfd (can be handed to vhost-user) */
};

struct cvmm_mem_opts {
	enum cvmm_mem_backing backing;
	bool thp;     /* madvise(MADV_HUGEPAGE) */
	bool hugetlb; /* MAP_HUGETLB / MFD_HUGETLB (2 MiB pages) */
};

struct cvmm_mem;

/* Map ram_size bytes (a non-zero multiple of 4 KiB, of 2 MiB with hugetlb)
 * of guest RAM. opts may be NULL for defaults. Returns 0 or -errno (-EINVAL,
 * -ENOMEM, or what memfd_create/ftruncate/mmap failed with). */
int cvmm_mem_create(struct cvmm_mem **out, uint64_t ram_size, const struct cvmm_mem_opts *opts);
void cvmm_mem_destroy(struct cvmm_mem *mem);

/* One RAM region, as cvmm_mem_region_get() reports it. */
struct cvmm_mem_region_info {
	uint64_t gpa;	    /* guest-physical start */
	uint64_t size;	    /* bytes, page aligned */
	void *host;	    /* host mapping: see cvmm_mem_region_get() */
	int fd;		    /* memfd (CVMM_MEM_MEMFD), or -1 */
	uint64_t fd_offset; /* where the region starts in fd */
};

/* Number of RAM regions: 1, or 2 when RAM continues above the hole. */
unsigned int cvmm_mem_nr_regions(const struct cvmm_mem *mem);
/*
 * Describe region i (0 .. cvmm_mem_nr_regions() - 1), in ascending gpa order:
 * region 0 starts at 0 and ends at or below CVMM_MEM_HOLE_START, region 1
 * starts at CVMM_MEM_HOLE_END. host, fd and fd_offset are for registering the
 * memory with whatever maps it for the guest (KVM memory slots, vhost memory
 * tables); host code must never compute guest addresses from host: reach
 * guest RAM through the checked accessors below. The mapping and fd belong to
 * mem and live until cvmm_mem_destroy(). Returns 0 or -EINVAL (i out of
 * range).
 */
int cvmm_mem_region_get(const struct cvmm_mem *mem, unsigned int i,
			struct cvmm_mem_region_info *out);

/* Host pointer for [gpa, gpa+len) if it lies entirely inside one region,
 * else NULL. len == 0 is checked as len 1. */
void *cvmm_mem_ptr(const struct cvmm_mem *mem, uint64_t gpa, uint64_t len);
/* True if [gpa, gpa+len) is RAM. */
bool cvmm_mem_valid(const struct cvmm_mem *mem, uint64_t gpa, uint64_t len);
/* Copy between guest RAM and host buffers. -EFAULT unless the whole range
 * lies inside one region. */
int cvmm_mem_read(const struct cvmm_mem *mem, uint64_t gpa, void *dst, size_t len);
int cvmm_mem_write(const struct cvmm_mem *mem, uint64_t gpa, const void *src, size_t len);
int cvmm_mem_fill(const struct cvmm_mem *mem, uint64_t gpa, int byte, size_t len);

/* Read or write one object: CVMM_MEM_GET(mem, gpa, &obj). */
#define CVMM_MEM_GET(mem, gpa, objp) cvmm_mem_read((mem), (gpa), (objp), sizeof(*(objp)))
#define CVMM_MEM_PUT(mem, gpa, objp) cvmm_mem_write((mem), (gpa), (objp), sizeof(*(objp)))

/* Highest guest-physical address + 1 that is RAM. */
uint64_t cvmm_mem_end(const struct cvmm_mem *mem);

#ifdef __cplusplus
}
#endif
#endif
