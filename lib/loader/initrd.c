// SPDX-License-Identifier: Apache-2.0
/* initrd placement: as high as allowed, above the kernel. */
#include "loader-internal.h"
#include <cvmm/sys.h>
#include <errno.h>

int cvmm_loader_place_initrd(const struct cvmm_mem *mem, const struct cvmm_loader_kernel *kernel,
			     const void *initrd, size_t size, uint64_t limit, uint64_t *gpa)
{
	uint64_t ceiling = loader_low_ram_end(mem), floor, addr;

	if (size == 0)
		return cvmm_err(EINVAL, "initrd: empty");
	/* initrd_addr_max is the highest byte address, hence the + 1. */
	if (kernel->initrd_addr_max < ceiling)
		ceiling = kernel->initrd_addr_max + 1;
	if (limit && limit < ceiling)
		ceiling = limit;
	if (kernel->end > UINT64_MAX - (LOADER_PAGE - 1))
		return cvmm_err(ENOMEM, "initrd: kernel end 0x%llx leaves no room",
				(unsigned long long)kernel->end);
	floor = (kernel->end + LOADER_PAGE - 1) & ~(LOADER_PAGE - 1);
	if (floor >= ceiling)
		return cvmm_err(ENOMEM,
				"initrd: no room between kernel end 0x%llx and limit 0x%llx",
				(unsigned long long)kernel->end, (unsigned long long)ceiling);
	if (size > ceiling - floor || ((ceiling - size) & ~(LOADER_PAGE - 1)) < floor)
		return cvmm_err(E2BIG, "initrd of %zu bytes does not fit in [0x%llx, 0x%llx)", size,
				(unsigned long long)floor, (unsigned long long)ceiling);
	addr = (ceiling - size) & ~(LOADER_PAGE - 1);
	if (cvmm_mem_write(mem, addr, initrd, size) < 0)
		return cvmm_err(EFAULT, "initrd: guest RAM write at 0x%llx failed",
				(unsigned long long)addr);
	*gpa = addr;
	return 0;
}
