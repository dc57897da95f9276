// SPDX-License-Identifier: Apache-2.0
/* PVH boot: hvm_start_info, module list and memory map. */
#include "loader-internal.h"
#include <cvmm/sys.h>
#include <errno.h>

int cvmm_loader_write_pvh(const struct cvmm_mem *mem, const struct cvmm_loader_pvh_layout *layout,
			  const struct cvmm_loader_boot *boot)
{
	struct cvmm_hvm_start_info si = {
	    .magic = CVMM_HVM_START_MAGIC,
	    .version = 1,
	    .cmdline_paddr = boot->cmdline_gpa,
	    .rsdp_paddr = boot->rsdp_gpa,
	};
	int ret;

	ret = loader_check_boot(mem, boot);
	if (ret < 0)
		return ret;
	if (boot->initrd_size) {
		struct cvmm_hvm_modlist_entry mod = {
		    .paddr = boot->initrd_gpa,
		    .size = boot->initrd_size,
		};

		if (CVMM_MEM_PUT(mem, layout->modlist_gpa, &mod) < 0)
			return cvmm_err(EFAULT, "PVH: module list at 0x%llx is not in guest RAM",
					(unsigned long long)layout->modlist_gpa);
		si.nr_modules = 1;
		si.modlist_paddr = layout->modlist_gpa;
	}
	if (boot->nr_e820) {
		/* One range check up front: per-entry addresses cannot wrap. */
		if (!cvmm_mem_valid(mem, layout->memmap_gpa,
				    boot->nr_e820 * sizeof(struct cvmm_hvm_memmap_entry)))
			return cvmm_err(EFAULT, "PVH: memory map at 0x%llx is not in guest RAM",
					(unsigned long long)layout->memmap_gpa);
		for (size_t i = 0; i < boot->nr_e820; i++) {
			struct cvmm_hvm_memmap_entry e = {
			    .addr = boot->e820[i].addr,
			    .size = boot->e820[i].size,
			    .type = boot->e820[i].type,
			};

			CVMM_MEM_PUT(mem, layout->memmap_gpa + i * sizeof(e), &e);
		}
		si.memmap_paddr = layout->memmap_gpa;
		si.memmap_entries = (uint32_t)boot->nr_e820;
	}
	if (CVMM_MEM_PUT(mem, layout->start_info_gpa, &si) < 0)
		return cvmm_err(EFAULT, "PVH: start info at 0x%llx is not in guest RAM",
				(unsigned long long)layout->start_info_gpa);
	return 0;
}
