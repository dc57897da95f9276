// SPDX-License-Identifier: Apache-2.0
/* Validation of the caller's boot description, shared by zero page and PVH. */
#include "loader-internal.h"
#include <cvmm/sys.h>
#include <errno.h>

static int loader_check_e820(const struct cvmm_e820_entry *e820, size_t nr)
{
	if (nr > CVMM_BOOT_E820_MAX)
		return cvmm_err(E2BIG, "e820: %zu entries, at most %d", nr, CVMM_BOOT_E820_MAX);
	if (nr && !e820)
		return cvmm_err(EINVAL, "e820: %zu entries but no table", nr);
	for (size_t i = 0; i < nr; i++) {
		if (e820[i].type < CVMM_E820_RAM || e820[i].type > CVMM_E820_UNUSABLE)
			return cvmm_err(EINVAL, "e820: entry %zu has unknown type %d", i,
					(int)e820[i].type);
		if (e820[i].size == 0 || e820[i].addr > UINT64_MAX - e820[i].size)
			return cvmm_err(
			    EINVAL, "e820: entry %zu [0x%llx, +0x%llx) is empty or wraps", i,
			    (unsigned long long)e820[i].addr, (unsigned long long)e820[i].size);
	}
	return 0;
}

int loader_check_boot(const struct cvmm_mem *mem, const struct cvmm_loader_boot *boot)
{
	if (boot->cmdline_gpa &&
	    !cvmm_mem_valid(mem, boot->cmdline_gpa, (uint64_t)boot->cmdline_len + 1))
		return cvmm_err(EINVAL, "cmdline [0x%llx, +%u) is not in guest RAM",
				(unsigned long long)boot->cmdline_gpa, boot->cmdline_len + 1);
	if (boot->initrd_size && !cvmm_mem_valid(mem, boot->initrd_gpa, boot->initrd_size))
		return cvmm_err(EINVAL, "initrd [0x%llx, +0x%llx) is not in guest RAM",
				(unsigned long long)boot->initrd_gpa,
				(unsigned long long)boot->initrd_size);
	return loader_check_e820(boot->e820, boot->nr_e820);
}
