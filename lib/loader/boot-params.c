// SPDX-License-Identifier: Apache-2.0
/* The Linux zero page (struct boot_params) for the 64-bit boot protocol. */
#include "loader-internal.h"
#include <cvmm/sys.h>
#include <errno.h>
#include <string.h>

/* Protocol version claimed in a header synthesized for an ELF kernel: the
 * newest whose fields we fill (acpi_rsdp_addr is 2.14). */
#define BOOT_ELF_VERSION 0x020f

static int boot_set_cmdline(struct cvmm_boot_params *bp, const struct cvmm_loader_kernel *k,
			    const struct cvmm_loader_boot *boot)
{
	if (!boot->cmdline_gpa)
		return 0;
	if (boot->cmdline_len > k->cmdline_max)
		return cvmm_err(E2BIG, "cmdline of %u bytes exceeds the kernel's limit of %u",
				boot->cmdline_len, k->cmdline_max);
	bp->hdr.cmd_line_ptr = (uint32_t)boot->cmdline_gpa;
	bp->ext_cmd_line_ptr = (uint32_t)(boot->cmdline_gpa >> 32);
	bp->hdr.cmdline_size = boot->cmdline_len;
	return 0;
}

static int boot_set_initrd(struct cvmm_boot_params *bp, const struct cvmm_loader_kernel *k,
			   const struct cvmm_loader_boot *boot)
{
	uint64_t last;

	if (!boot->initrd_size)
		return 0;
	last = boot->initrd_gpa + boot->initrd_size - 1; /* checked to be RAM */
	if (k->kind == CVMM_LOADER_BZIMAGE &&
	    !(k->hdr.xloadflags & CVMM_BOOT_XLF_CAN_BE_LOADED_ABOVE_4G) &&
	    last > k->initrd_addr_max)
		return cvmm_err(EINVAL, "initrd ends at 0x%llx, above initrd_addr_max 0x%llx",
				(unsigned long long)last, (unsigned long long)k->initrd_addr_max);
	bp->hdr.ramdisk_image = (uint32_t)boot->initrd_gpa;
	bp->ext_ramdisk_image = (uint32_t)(boot->initrd_gpa >> 32);
	bp->hdr.ramdisk_size = (uint32_t)boot->initrd_size;
	bp->ext_ramdisk_size = (uint32_t)(boot->initrd_size >> 32);
	return 0;
}

int cvmm_loader_write_boot_params(const struct cvmm_mem *mem, uint64_t gpa,
				  const struct cvmm_loader_kernel *kernel,
				  const struct cvmm_loader_boot *boot)
{
	struct cvmm_boot_params bp;
	int ret;

	ret = loader_check_boot(mem, boot);
	if (ret < 0)
		return ret;
	memset(&bp, 0, sizeof(bp));
	if (kernel->kind == CVMM_LOADER_BZIMAGE) {
		bp.hdr = kernel->hdr;
		/* Fields the loader owns: never pass the image's values on. */
		bp.hdr.ramdisk_image = 0;
		bp.hdr.ramdisk_size = 0;
		bp.hdr.cmd_line_ptr = 0;
		bp.hdr.setup_data = 0;
		bp.hdr.hardware_subarch = 0;
		bp.hdr.hardware_subarch_data = 0;
	} else {
		bp.hdr.boot_flag = CVMM_BOOT_FLAG_MAGIC;
		bp.hdr.header = CVMM_BOOT_HDR_MAGIC;
		bp.hdr.version = BOOT_ELF_VERSION;
		bp.hdr.loadflags = CVMM_BOOT_LOADED_HIGH;
	}
	bp.hdr.type_of_loader = CVMM_BOOT_LOADER_UNDEFINED;
	ret = boot_set_cmdline(&bp, kernel, boot);
	if (ret < 0)
		return ret;
	ret = boot_set_initrd(&bp, kernel, boot);
	if (ret < 0)
		return ret;
	bp.acpi_rsdp_addr = boot->rsdp_gpa;
	bp.e820_entries = (uint8_t)boot->nr_e820;
	for (size_t i = 0; i < boot->nr_e820; i++) {
		bp.e820_table[i].addr = boot->e820[i].addr;
		bp.e820_table[i].size = boot->e820[i].size;
		bp.e820_table[i].type = boot->e820[i].type;
	}
	if (CVMM_MEM_PUT(mem, gpa, &bp) < 0)
		return cvmm_err(EFAULT, "zero page [0x%llx, +0x%zx) is not in guest RAM",
				(unsigned long long)gpa, sizeof(bp));
	return 0;
}
