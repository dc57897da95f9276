/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the loader sources; not installed. */
#ifndef CVMM_LOADER_INTERNAL_H
#define CVMM_LOADER_INTERNAL_H

#include <cvmm/loader.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOADER_PAGE 4096ULL

/* True if [off, off+len) lies inside a buffer of size bytes; no overflow. */
static inline bool loader_in_buf(uint64_t off, uint64_t len, size_t size)
{
	return off <= size && len <= size - off;
}

/* End of the guest RAM region that starts at 0 (below the 32-bit hole). */
static inline uint64_t loader_low_ram_end(const struct cvmm_mem *mem)
{
	struct cvmm_mem_region_info r;

	cvmm_mem_region_get(mem, 0, &r); /* region 0 always exists */
	return r.gpa + r.size;
}

/* Check the caller's boot description: command line and initrd inside RAM,
 * e820 entries (count, type, non-empty, no wrap). */
int loader_check_boot(const struct cvmm_mem *mem, const struct cvmm_loader_boot *boot);

#endif
